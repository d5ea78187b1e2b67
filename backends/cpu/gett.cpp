// backends/cpu/gett.cpp — see gett.h.
#include "backends/cpu/gett.h"

#include <unistd.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include "backends/cpu/driver_util.h"
#include "backends/cpu/gemv.h"
#include "backends/cpu/gett_dequantise.h"
#include "einc/internal_error.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

// For each K position p of an offset table, how many positions from p on
// lie one element apart (offsets[p + i] == offsets[p] + i): the pack's
// mode asks whether every vector-wide chunk of a block is contiguous, once
// per panel of a masked sum, so the answer is read, not recounted.
std::vector<std::int64_t> contiguous_runs(const std::vector<std::int64_t>& offsets) {
  std::vector<std::int64_t> runs(offsets.size(), 1);
  for (std::size_t p = offsets.size(); p-- > 1;)
    if (offsets[p] == offsets[p - 1] + 1) runs[p - 1] = runs[p] + 1;
  return runs;
}

// x + y, x - y, x * y in T: for i32 wrapping (two's complement), as the
// kernels compute and docs/semantics.md defines integer arithmetic.
template <typename T>
T add(T x, T y) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(x) + static_cast<std::make_unsigned_t<T>>(y));
  else
    return x + y;
}
template <typename T>
T sub(T x, T y) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(x) - static_cast<std::make_unsigned_t<T>>(y));
  else
    return x - y;
}
template <typename T>
T mul(T x, T y) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(x) * static_cast<std::make_unsigned_t<T>>(y));
  else
    return x * y;
}
// Whether x[0, n) holds no inf or NaN (an integer always does): by the
// exponent bits, without a branch per element, so that the loop vectorises
// (a masked sum asks it of an operand's slice on every tile of the diagonal).
template <typename T>
bool all_finite(const T* x, std::int64_t n) {
  if constexpr (std::is_integral_v<T>) {
    return true;
  } else {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    constexpr Bits exponent = static_cast<Bits>(sizeof(T) == 4 ? 0x7f800000u : 0x7ff0000000000000u);
    Bits any = 0;  // 1 once an element's exponent is all ones: inf or NaN
    for (std::int64_t i = 0; i < n; ++i) {
      Bits bits;
      std::memcpy(&bits, x + i, sizeof bits);
      any |= static_cast<Bits>((bits & exponent) == exponent);
    }
    return any == 0;
  }
}

// The micro-kernel shape for M rows on `threads` threads: the default
// (the fastest per row) unless another computes at least 10 % fewer rows on
// the busiest thread, padding included: M = 32 or 64 take 32x12 (48x8 would
// compute 48 or 96 rows), and so does M = 512 cut among 2 threads (11
// panels of 48, 6 on one thread, against 8 + 8 of 32); M = 2048 keeps 48x8.
// When the threads split the columns instead (split_columns), each
// computes all of M: `threads` is 1 here.
std::size_t shape_for(const std::vector<KernelShape>& shapes, std::int64_t m, int threads) {
  auto cost = [&](std::size_t i) {
    const std::int64_t mr = shapes[i].mr(), panels = ceil_div(m, mr);
    const std::int64_t busiest = panels >= 4 * threads ? ceil_div(panels, threads) : panels;
    return static_cast<double>(busiest * mr) * (i == 0 ? 1.0 : 1.1);
  };
  std::size_t best = 0;
  for (std::size_t i = 1; i < shapes.size(); ++i)
    if (cost(i) < cost(best)) best = i;
  return best;
}

constexpr std::int64_t kPadding = INT64_MIN;     // a padding row in the pack routines
constexpr int kFusedVariant = 2, kBInPlace = 1;  // Driver::variants_
// The widest micro-kernel's NR (an in-place B's column pointers), and the
// most row panels of M under which B is read in place (plan_b_in_place).
constexpr int kMaxNr = 16;
constexpr std::int64_t kMaxRowPanelsForBInPlace = 8;

// Whether each thread runs whole batch elements on its own (its own packed
// B, no barrier between blocks): many batch elements, so that every thread
// is equally busy.
bool split_batches(std::int64_t batches, int threads) {
  return threads > 1 && batches >= threads && (batches % threads == 0 || batches >= 8 * threads);
}

// The data cache sizes, read once: glibc's sysconf runs cpuid for them on
// every call, which under a hypervisor is a VM exit (microseconds).
std::int64_t cache_bytes(int name, std::int64_t fallback) {
  long v = sysconf(name);
  return v > 0 ? v : fallback;
}
std::int64_t l1_bytes() {
  static const std::int64_t bytes = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 * 1024);
  return bytes;
}
std::int64_t l2_bytes() {
  static const std::int64_t bytes = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 512 * 1024);
  return bytes;
}

// Whether the threads split the columns of C (N) among them, each running
// whole column blocks alone with a B block packed for itself, rather than
// sharing every packed B block and cutting its rows (M) among them. Each
// thread then packs all of A (as many times as it has column blocks) and
// only its own B, and nothing is shared between cores: no barrier after
// packing B, and no cache lines of B written by one core and read by the
// other (the measured gains are in docs/cpu-backend.md). The price is
// packing A once per thread, which pays when each thread has many columns
// to spread it over (>= 256) or A is small enough to sit in L2 (>= 64
// columns then); with a large A and few columns per thread the threads
// share B instead.
bool split_columns(std::int64_t batches, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t element_bytes,
                   int threads) {
  if (threads <= 1 || split_batches(batches, threads)) return false;
  const std::int64_t columns = n / threads;
  const bool a_in_l2 = m * k * element_bytes <= l2_bytes();
  return columns >= 256 || (columns >= 64 && a_in_l2);
}

template <typename T>
class Driver {
  static constexpr bool kF32 = std::is_same_v<T, float>;

 public:
  Driver(Jit& jit, const GettCall& call, int threads)
      : jit_(jit),
        threads_(threads),
        split_columns_(split_columns(product(call.batch), product(call.m), product(call.n), product(call.k),
                                     static_cast<std::int64_t>(sizeof(T)), threads)),
        shape_index_(call.mask ? 0
                               : shape_for(jit.gett_shapes(call.dtype), product(call.m), split_columns_ ? 1 : threads)),
        v_(jit.gett_kernels(shape_index_, call.dtype, call.i16_pairs, call.bf16_pairs)),
        call_(call) {
    batches_ = product(call.batch);
    m_ = product(call.m);
    n_ = product(call.n);
    kk_ = product(call.k);
    blocking_ = blocking_for(jit.gett_shapes(call.dtype), shape_index_, kk_, n_);
    if (split_columns_) {  // a multiple of the threads' count of equal column blocks
      std::int64_t blocks = round_up(ceil_div(n_, blocking_.nc), threads);
      blocking_.nc = round_up(ceil_div(n_, blocks), v_.shape.nr);
    }
    a_b_ = offsets(call.batch, [&](std::size_t d) { return call.batch[d].stride_a; });
    b_b_ = offsets(call.batch, [&](std::size_t d) { return call.batch[d].stride_b; });
    c_b_ = offsets(call.batch, [&](std::size_t d) { return call.batch[d].stride_c; });
    a_m_ = offsets(call.m, [&](std::size_t d) { return call.m[d].stride_a; });
    c_m_ = offsets(call.m, [&](std::size_t d) { return call.m[d].stride_c; });
    b_n_ = offsets(call.n, [&](std::size_t d) { return call.n[d].stride_b; });
    c_n_ = offsets(call.n, [&](std::size_t d) { return call.n[d].stride_c; });
    a_k_ = offsets(call.k, [&](std::size_t d) { return call.k[d].stride_a; });
    b_k_ = offsets(call.k, [&](std::size_t d) { return call.k[d].stride_b; });
    a_k_runs_ = contiguous_runs(a_k_);
    b_k_runs_ = contiguous_runs(b_k_);
    if (call.dequantise) {  // its scale and terms are f32, applied by the dequantising epilogue
      if (!std::is_same_v<T, std::int32_t> || !call.i16_pairs || call.mask || !call.residual.empty())
        EINC_FAIL("cpu backend: a dequantising GETT that is not a plain i32 one on i16 pairs");
      dequantise_.emplace(call, call.activation ? jit.activation_kernel(*call.activation) : nullptr);
    } else {
      for (const EpilogueTerm& t : call.bias) bias_.push_back(term_tables<T>(call, t));
      for (const EpilogueTerm& t : call.residual) residual_.push_back(term_tables<T>(call, t));
    }
    if (call.mask) mask_.emplace(*call.mask, call.batch, call.m, call.n, call.k);
    masked_sum_ = call.mask && call.mask->on_sum;
    if (((call.activation && !call.dequantise) || call.a_half || (call.mask && !std::is_floating_point_v<T>)) && !kF32)
      EINC_FAIL("cpu backend: an activation or an f16/bf16 A in a GETT outside f32, or a mask in an integer one");
    gemv_path_ = call.mask || !kF32 || call.bf16_pairs ? GemvKind::none : gemv_kind(call.batch, call.m, call.n, call.k);
    if (call.bf16_pairs && (call.mask || call.scale_at != ir::ScaleAt::result || call.a_half))
      EINC_FAIL("cpu backend: a bf16-pair GETT with a mask, a scale in its packs or an f16/bf16 A");
    // The scale rounded once to T: f32 rounds the double the plan computed.
    scale_ = call.dequantise ? T(1) : static_cast<T>(call.scale);
    if (scale_ != T(1) && call.scale_at != ir::ScaleAt::result && gemv_path_ == GemvKind::none) {
      pack_scale_ = call.scale_at;
      epilogue_scale_ = T(1);
    } else {
      epilogue_scale_ = scale_;
    }
    has_epilogue_ = epilogue_scale_ != T(1) || !bias_.empty() || !residual_.empty() || call.activation;
    if constexpr (kF32)
      if (call.activation) activation_ = jit.activation_kernel(*call.activation);
    m_blocks_ = ceil_div(m_, blocking_.mc);
    if (gemv_path_ == GemvKind::none) {  // the tiles' tables: a GEMV reads none of them
      direct_tiles();
      plan_b_in_place();
      classify_epilogue();
      m_unit_stride_ = true;
      for (std::int64_t i = 1; i < m_ && m_unit_stride_; ++i)
        m_unit_stride_ = c_m_[static_cast<std::size_t>(i)] == c_m_[static_cast<std::size_t>(i - 1)] + 1;
    }
    if (masked_sum_) fusable_ = false;  // a tile's last contribution may come from the exact loop
    if (!kF32) fusable_ = false;        // the fused epilogue is generated for f32 only
  }

  void run() {
    const int threads = threads_;
    if (batches_ == 0 || m_ == 0 || n_ == 0) return;
    if (call_.a_half && gemv_path_ == GemvKind::none) EINC_FAIL("cpu backend: an f16/bf16 A outside a GEMV");
    const bool dot = gemv_path_ == GemvKind::dot, axpy = gemv_path_ == GemvKind::axpy;
    fused_ = fusable_ && !dot && !axpy && kk_ > 0;
    if (!dot && !axpy && kk_ > 0) compile_variants();  // (an empty sum runs no micro-kernel)
    if (dot || axpy) {
      run_gemv(jit_, call_, gemv_path_, {a_b_, b_b_, c_b_, a_m_, c_m_, b_n_, c_n_, a_k_, b_k_}, m_, kk_, threads);
    } else {
      if (kk_ == 0 || masked_sum_)  // C = 0: the empty sum, or where a masked sum starts
        runtime::parallel_for(batches_ * m_blocks_, threads, [&](std::int64_t t) { zero_block(t); });
      if (kk_ > 0) run_blocks(threads);
    }
    if (dequantise_ && kk_ == 0)  // (else each tile is dequantised as its last KC block stores it)
      runtime::parallel_for(batches_ * m_blocks_, threads, [&](std::int64_t t) { dequantise_block(t); });
    if (has_epilogue_ && !fused_)
      runtime::parallel_for(batches_ * m_blocks_, threads, [&](std::int64_t t) { epilogue_block(t); });
    if (writes_fill() && !filled_)
      runtime::parallel_for(batches_ * m_blocks_, threads, [&](std::int64_t t) { fill_block(t); });
  }

 private:
  // A select's fill is written after the product, unless no one reads it.
  bool writes_fill() const { return mask_ && !masked_sum_ && mask_->mask().write_fill; }

  const T* a_data() const { return static_cast<const T*>(call_.a); }
  const T* b_data() const { return static_cast<const T*>(call_.b); }
  T* c_data() const { return static_cast<T*>(call_.c); }

  // Every block of C, the threads sharing them as split_batches and
  // split_columns decide.
  void run_blocks(int threads) {
    if (split_batches(batches_, threads)) {
      // A select's fill right after each batch element, when no second
      // epilogue pass must come first: one thread's stores then overlap
      // another's arithmetic instead of all threads storing at the end.
      filled_ = writes_fill() && (!has_epilogue_ || fused_);
      runtime::parallel_for(batches_, threads, [&](std::int64_t batch) {
        for (std::int64_t j0 = 0; j0 < n_; j0 += blocking_.nc) column_block(batch, j0);
        if (filled_)
          for (std::int64_t ib = 0; ib < m_blocks_; ++ib) fill_block(batch * m_blocks_ + ib);
      });
    } else if (split_columns_) {
      const std::int64_t blocks = ceil_div(n_, blocking_.nc);
      runtime::parallel_for(batches_ * blocks, threads,
                            [&](std::int64_t t) { column_block(t / blocks, t % blocks * blocking_.nc); });
    } else {
      for (std::int64_t batch = 0; batch < batches_; ++batch)
        for (std::int64_t j0 = 0; j0 < n_; j0 += blocking_.nc)
          for (std::int64_t p0 = 0; p0 < kk_; p0 += blocking_.kc) block(threads, batch, j0, p0);
    }
  }

  // How the threads share one (batch, NC block, KC block): a grid of
  // m_parts x n_parts rectangles of C, each task packing its own slice of A.
  // M is cut into parts of at most MC rows, as many as a multiple of the
  // threads so that no thread idles at the end (even when M fits in one MC
  // block, as long as each part keeps 4 micro-panels); when M is thinner
  // than that (a thin or batched GETT), the NC columns are cut instead, and
  // each task packs the same slice of A. Parts are whole micro-panels, as
  // equal as they can be (43 panels in 16 parts: 11 of 3 and 5 of 2, never
  // 15 of 3 that leave one thread a part behind).
  // The cuts never split K, so results do not depend on the threads.
  struct Partition {
    std::int64_t m_parts = 0, m_panels = 0, n_parts = 0, n_panels = 0;
    int mr = 0, nr = 0;

    // Rows [first, last) of part i (clipped to M by compute()).
    std::pair<std::int64_t, std::int64_t> rows(std::int64_t i) const {
      return {mr * (m_panels * i / m_parts), mr * (m_panels * (i + 1) / m_parts)};
    }
    // Columns [first, last) of the NC block for part j, clipped to nc.
    std::pair<std::int64_t, std::int64_t> columns(std::int64_t j, std::int64_t nc) const {
      return {std::min(nc, nr * (n_panels * j / n_parts)), std::min(nc, nr * (n_panels * (j + 1) / n_parts))};
    }
  };

  Partition partition(std::int64_t nc, int threads) const {
    Partition p;
    p.mr = v_.shape.mr();
    p.nr = v_.shape.nr;
    p.m_panels = ceil_div(m_, p.mr);
    p.n_panels = ceil_div(nc, p.nr);
    p.m_parts = ceil_div(m_, blocking_.mc);
    p.n_parts = 1;
    if (threads > 1) {
      if (p.m_parts >= threads || p.m_panels >= threads * 4)  // enough rows: cut M only (A is packed once)
        p.m_parts = round_up(p.m_parts, threads);
      else
        p.n_parts = std::min<std::int64_t>(ceil_div(threads, p.m_parts), p.n_panels);
    }
    p.m_parts = std::min(p.m_parts, p.m_panels);
    return p;
  }

  // Columns [j0, j0 + NC) of one batch element, every KC block, by the
  // calling thread alone, with a B block packed for itself.
  void column_block(std::int64_t batch, std::int64_t j0) {
    thread_local AlignedBuffer<T> b_pack;
    const std::int64_t nc = std::min(blocking_.nc, n_ - j0), nc_padded = round_up(nc, v_.shape.nr);
    const Partition part = partition(nc, 1);
    for (std::int64_t p0 = 0; p0 < kk_; p0 += blocking_.kc) {
      std::int64_t kc = std::min(blocking_.kc, kk_ - p0);
      if (masked_out({batch, 0, m_, j0, j0 + nc, p0, p0 + kc})) continue;
      b_pack.reserve(static_cast<std::size_t>(nc_padded * kc));
      pack_b(batch, j0, nc, 0, nc_padded / v_.shape.nr, p0, kc, b_pack.data);
      for (std::int64_t ib = 0; ib < part.m_parts; ++ib) {
        auto [first, last] = part.rows(ib);
        compute(batch, first, last - first, j0, 0, nc, p0, kc, b_pack.data);
      }
    }
  }

  // Which MR x NR tiles the micro-kernel may write straight into C: C is
  // unit-stride along the panel's M rows and evenly strided along its N
  // columns (ldc). Others go through a tile buffer.
  void direct_tiles() {
    const int mr = v_.shape.mr(), nr = v_.shape.nr;
    m_direct_.assign(static_cast<std::size_t>(ceil_div(m_, mr)), 0);
    for (std::size_t p = 0; p < m_direct_.size(); ++p) {
      std::int64_t m0 = static_cast<std::int64_t>(p) * mr;
      bool ok = m0 + mr <= m_;
      for (int i = 1; i < mr && ok; ++i)
        ok = c_m_[static_cast<std::size_t>(m0 + i)] == c_m_[static_cast<std::size_t>(m0)] + i;
      m_direct_[p] = ok;
    }
    n_ldc_.assign(static_cast<std::size_t>(ceil_div(n_, nr)), 0);
    for (std::size_t p = 0; p < n_ldc_.size(); ++p) {
      std::int64_t n0 = static_cast<std::int64_t>(p) * nr;
      if (n0 + nr > n_) continue;
      std::int64_t ldc = nr > 1 ? c_n_[static_cast<std::size_t>(n0 + 1)] - c_n_[static_cast<std::size_t>(n0)] : 1;
      bool ok = true;
      for (int j = 1; j < nr && ok; ++j)
        ok = c_n_[static_cast<std::size_t>(n0 + j)] == c_n_[static_cast<std::size_t>(n0)] + j * ldc;
      n_ldc_[p] = ok ? ldc : 0;
    }
  }

  // One (batch, NC block, KC block): pack B once (in parallel), then the
  // partition's rectangles of C in parallel.
  void block(int threads, std::int64_t batch, std::int64_t j0, std::int64_t p0) {
    const int nr = v_.shape.nr;
    std::int64_t nc = std::min(blocking_.nc, n_ - j0), kc = std::min(blocking_.kc, kk_ - p0);
    std::int64_t nc_padded = round_up(nc, nr);
    if (masked_out({batch, 0, m_, j0, j0 + nc, p0, p0 + kc})) return;
    // The calling thread's buffer, kept for its next GETT; the workers read
    // it through this pointer (a thread_local named in the lambdas would be
    // each worker's own) and finish before this returns.
    thread_local AlignedBuffer<T> callers_b_pack;
    callers_b_pack.reserve(static_cast<std::size_t>(nc_padded * kc));
    T* const shared_b_pack = callers_b_pack.data;
    std::int64_t b_panels = nc_padded / nr;
    std::int64_t chunks = std::min<std::int64_t>(b_panels, threads * 4);
    runtime::parallel_for(chunks, threads, [&](std::int64_t chunk) {
      pack_b(batch, j0, nc, b_panels * chunk / chunks, b_panels * (chunk + 1) / chunks, p0, kc, shared_b_pack);
    });
    Partition part = partition(nc, threads);
    runtime::parallel_for(part.m_parts * part.n_parts, threads, [&](std::int64_t t) {
      auto [first, last] = part.rows(t / part.n_parts);
      auto [jr0, jr1] = part.columns(t % part.n_parts, nc);
      compute(batch, first, last - first, j0, jr0, jr1, p0, kc, shared_b_pack);
    });
  }

  // Rows [i0, i0 + rows) (clipped to M) x columns [j0 + jr0, j0 + jr1) of C
  // for one KC block: packs that slice of A, then runs the micro-kernel
  // over the packed B panels (b_pack holds the whole NC block).
  void compute(std::int64_t batch, std::int64_t i0, std::int64_t rows, std::int64_t j0, std::int64_t jr0,
               std::int64_t jr1, std::int64_t p0, std::int64_t kc, const T* b_pack) {
    const int mr = v_.shape.mr(), nr = v_.shape.nr;
    bool first_k = p0 == 0 && !masked_sum_, last_k = p0 + kc >= kk_;  // a masked sum adds to a zeroed C
    std::int64_t mc = std::min(rows, m_ - i0);
    if (mc <= 0 || masked_out({batch, i0, i0 + mc, j0 + jr0, j0 + jr1, p0, p0 + kc})) return;
    std::int64_t mc_padded = round_up(mc, mr);
    thread_local AlignedBuffer<T> a_pack, tile;
    a_pack.reserve(static_cast<std::size_t>(mc_padded * kc));
    tile.reserve(static_cast<std::size_t>(mr * nr));
    pack_used(0, a_data(), a_pack.data, batch, a_b_[static_cast<std::size_t>(batch)], a_m_, i0, mc, mc_padded, mr, a_k_,
              p0, kc);
    T* c = c_data() + c_b_[static_cast<std::size_t>(batch)];
    // A masked sum whose condition does not involve M: its K runs, and the
    // masked copies of B's slices, are the same for every row tile of a
    // column panel (PanelRuns).
    const bool panel_runs = masked_sum_ && !mask_->varies_along_m();
    thread_local PanelRuns runs;
    for (std::int64_t jr = jr0; jr < jr1; jr += nr) {
      std::int64_t n0 = j0 + jr;
      std::int64_t ldc = n_ldc_[static_cast<std::size_t>(n0 / nr)];
      const std::int64_t n1 = n0 + std::min<std::int64_t>(nr, jr1 - jr);
      // B's columns where they are (reads_b_in_place), else its packed panel.
      const bool b_in_place = reads_b_in_place(n0, p0, kc);
      std::array<const T*, kMaxNr> b_columns;  // (no {}: zeroing it per panel was a `rep stos`, 10 % of compute())
      if (b_in_place)
        for (int j = 0; j < nr; ++j)
          b_columns[static_cast<std::size_t>(j)] = b_data() + b_b_[static_cast<std::size_t>(batch)] +
                                                   b_n_[static_cast<std::size_t>(n0 + j)] +
                                                   b_k_[static_cast<std::size_t>(p0)];
      const T* const* const columns = b_in_place ? b_columns.data() : nullptr;
      if (panel_runs) runs.prepare(*mask_, {batch, i0, i0 + 1, n0, n1, p0, p0 + kc}, b_pack + jr * kc, columns, nr);
      // A select's mask over the whole column panel: its tiles are
      // classified one by one only where it holds partly (near a causal
      // mask's diagonal), not across the rest of the panel.
      MaskClass select_class = MaskClass::everywhere;
      if (mask_ && !masked_sum_) select_class = mask_->classify({batch, i0, i0 + mc, n0, n1, p0, p0 + kc});
      if (select_class == MaskClass::nowhere) continue;  // fill_block writes it
      for (std::int64_t ir = 0; ir < mc; ir += mr) {
        std::int64_t m0 = i0 + ir;
        const T* a = a_pack.data + ir * kc;
        const T* b = b_pack + jr * kc;  // (packed; in place, the kernel reads `columns`)
        auto kernel = [&](T* out, std::int64_t ld, int accumulate, const UkrEpilogueArgs* args) {
          micro_kernel(kc, a, b, columns, out, ld, accumulate, args);
        };
        const bool direct = ldc != 0 && m_direct_[static_cast<std::size_t>(m0 / mr)];
        const std::int64_t mr_eff = std::min<std::int64_t>(mr, mc - ir), nr_eff = std::min<std::int64_t>(nr, jr1 - jr);
        if (mask_) {
          const MaskBox box{batch, m0, m0 + mr_eff, n0, n0 + nr_eff, p0, p0 + kc};
          if (panel_runs) {
            masked_sum_panel_tile(box, runs, a, b, columns, c, direct ? ldc : 0, tile.data);
            continue;
          }
          if (masked_sum_) {
            masked_sum_tile(box, a, b, c, direct ? ldc : 0, tile.data);
            continue;
          }
          if (select_class == MaskClass::partly && mask_->classify(box) == MaskClass::nowhere) continue;
        }
        if (direct) {
          T* out = c + c_m_[static_cast<std::size_t>(m0)] + c_n_[static_cast<std::size_t>(n0)];
          if (fused_ && last_k) {
            if constexpr (kF32) {
              UkrEpilogueArgs args = epilogue_args(batch, m0, n0);
              kernel(out, ldc, first_k ? 0 : 1, &args);
            }
          } else {
            kernel(out, ldc, first_k ? 0 : 1, nullptr);
          }
        } else {
          kernel(tile.data, mr, 0, nullptr);
          store_tile(tile.data, c, m0, mr_eff, n0, nr_eff, first_k);
          if (fused_ && last_k) epilogue_rect(batch, m0, m0 + mr_eff, n0, n0 + nr_eff);
        }
        if (dequantise_ && last_k) dequantise_->apply(c, c_m_, c_n_, batch, m0, m0 + mr_eff, n0, n0 + nr_eff);
      }
    }
  }

  // The micro-kernel on the packed panels a and b, or its variant reading
  // B's columns in place (`columns` not null) or with the fused epilogue
  // (`args` not null); variants_ holds those the call may run.
  void micro_kernel(std::int64_t kc, const T* a, const T* b, const T* const* columns, T* out, std::int64_t ld,
                    int accumulate, const UkrEpilogueArgs* args) const {
    const int which = (columns ? kBInPlace : 0) | (args ? kFusedVariant : 0);
    if (which == 0)
      v_.micro_kernel(kc, a, b, out, ld, accumulate);
    else
      variants_[static_cast<std::size_t>(which)](kc, a, columns ? static_cast<const void*>(columns) : b, out, ld,
                                                 accumulate, args);
  }

  // The micro-kernel variants this call may run (compute()'s kernel): with
  // the fused epilogue, and with B read in place where it may be.
  void compile_variants() {
    for (int which = 1; which < 4; ++which) {
      const bool fused = which & kFusedVariant, b = which & kBInPlace;
      if ((fused && !fused_) || (b && !reads_b_in_place_)) continue;
      UkrVariant variant;
      if (fused) variant.epilogue = UkrEpilogue{call_.activation, !residual_.empty()};
      variant.b_in_place = b;
      variants_[static_cast<std::size_t>(which)] =
          jit_.micro_kernel_variant(shape_index_, call_.dtype, variant, call_.bf16_pairs);
    }
  }

  // Whether the micro-kernel reads B's columns in place rather than
  // packed, where K runs one element apart along them (as along a
  // row-major B's rows: P . V's P[h, i, j], the batched A[b, i, j] of
  // bij,bjk): the transposing pack such a B needs otherwise costs the most
  // where its panels are reused least, under a thin M (at most 8 row
  // panels per column panel: P . V 4-9 % faster, the batched 32 x 128^3
  // 3-4 %; at M = 256 and 512 no faster, measured in interleaved rounds,
  // docs/cpu-backend.md). A masked sum whose condition does not involve M
  // (causal P . V) reads B in place on its K runs where the mask holds
  // everywhere and makes its masked copies from the columns; one whose
  // condition does (masked_sum_tile) packs. Not for a scale applied to B
  // as it is packed, or i16 pairs.
  void plan_b_in_place() {
    if ((masked_sum_ && mask_->varies_along_m()) || pack_scale_ == ir::ScaleAt::b || call_.i16_pairs ||
        call_.bf16_pairs || v_.shape.nr > kMaxNr)
      return;
    // EINC_GETT_PACK_B=1 packs every B (the tests compare the two paths:
    // the same products in the same order, so the same bits).
    const char* pack_b = std::getenv("EINC_GETT_PACK_B");
    if (pack_b && std::strcmp(pack_b, "1") == 0) return;
    reads_b_in_place_ = ceil_div(m_, v_.shape.mr()) <= kMaxRowPanelsForBInPlace;
  }

  // Whether the panel of B at column n0 is read in place for the KC block
  // [p0, p0 + kc): a whole panel (a partial one is packed, padded with
  // zeros) whose K is one run there.
  bool reads_b_in_place(std::int64_t n0, std::int64_t p0, std::int64_t kc) const {
    return reads_b_in_place_ && n0 + v_.shape.nr <= n_ && b_k_runs_[static_cast<std::size_t>(p0)] >= kc;
  }

  // Packs the column panels [first, last) of B's NC block at column j0
  // (nc columns) for the KC block at p0, into their places in `dst` (the
  // block's packed panels), but for those the micro-kernel reads in place:
  // runs of packed panels, one pack call each.
  void pack_b(std::int64_t batch, std::int64_t j0, std::int64_t nc, std::int64_t first, std::int64_t last,
              std::int64_t p0, std::int64_t kc, T* dst) const {
    const int nr = v_.shape.nr;
    while (first < last) {
      while (first < last && reads_b_in_place(j0 + first * nr, p0, kc)) ++first;
      std::int64_t end = first;
      while (end < last && !reads_b_in_place(j0 + end * nr, p0, kc)) ++end;
      if (end > first) {
        const std::int64_t r0 = first * nr, count = std::min(end * nr, nc) - r0;
        pack_used(1, b_data(), dst + r0 * kc, batch, b_b_[static_cast<std::size_t>(batch)], b_n_, j0 + r0,
                  std::max<std::int64_t>(count, 0), (end - first) * nr, nr, b_k_, p0, kc);
      }
      first = end;
    }
  }

  // pack(), for a masked sum only the K positions each panel's products
  // use: panel by panel, from the first to the last position of the block
  // where the mask holds for some of its rows (`which` 0: the rows are M
  // positions, 1: N positions) in batch element `batch`; the rest of the
  // block is left unwritten (masked_sum_tile never reads it).
  void pack_used(int which, const T* src, T* dst, std::int64_t batch, std::int64_t base,
                 const std::vector<std::int64_t>& rows, std::int64_t r0, std::int64_t count, std::int64_t padded,
                 int panel, const std::vector<std::int64_t>& ks, std::int64_t p0, std::int64_t kc) const {
    if (!masked_sum_) {
      pack(which, src, dst, base, rows, r0, count, padded, panel, ks, p0, kc);
      return;
    }
    for (std::int64_t first = 0; first < padded; first += panel) {
      const std::int64_t real = std::clamp<std::int64_t>(count - first, 0, panel);
      if (real == 0) continue;
      MaskBox box{batch, 0, m_, 0, n_, p0, p0 + kc};
      (which == 0 ? box.m0 : box.n0) = r0 + first;
      (which == 0 ? box.m1 : box.n1) = r0 + first + real;
      std::int64_t k0 = p0 + kc, k1 = p0;
      mask_->for_each_k_run(box, [&](MaskClass cls, std::int64_t a, std::int64_t b) {
        if (cls != MaskClass::nowhere) k0 = std::min(k0, a), k1 = std::max(k1, b);
      });
      if (k1 > k0)
        pack(which, src, dst + first * kc + (k0 - p0) * panel, base, rows, r0 + first, real, panel, panel, ks, k0,
             k1 - k0);
    }
  }

  // Packs rows [r0, r0 + count) (padded to `padded`) x k in [p0, p0 + kc).
  // Packs with the routine for `which` panel (0: A's MR rows, 1: B's NR
  // rows; `panel` is that width) in the mode these rows and k need, scaled
  // by the plan's scalars where it applies them to that operand.
  void pack(int which, const T* src, T* dst, std::int64_t base, const std::vector<std::int64_t>& rows, std::int64_t r0,
            std::int64_t count, std::int64_t padded, int panel, const std::vector<std::int64_t>& ks, std::int64_t p0,
            std::int64_t kc) const {
    const std::int64_t vector_lanes = v_.shape.vector_lanes;
    thread_local std::vector<std::int64_t> row_off;
    thread_local std::vector<std::uint8_t> panel_flags;  // the vector mode's, per panel
    row_off.assign(static_cast<std::size_t>(padded), kPadding);
    for (std::int64_t r = 0; r < count; ++r)
      row_off[static_cast<std::size_t>(r)] = base + rows[static_cast<std::size_t>(r0 + r)];
    const std::int64_t* const k_off = ks.data() + p0;
    std::int64_t panels = padded / panel;
    panel_flags.assign(static_cast<std::size_t>(panels), 0);
    bool any_fast_panel = false;
    for (std::int64_t p = 0; p < panels; ++p) {
      // The panel's rows as runs `step` elements apart: how many from the
      // first row on (`panel`: all of them), and whether the rest is one
      // more such run (a convolution's output positions wrapping to the
      // next image row mid-panel).
      struct Runs {
        int first = 0;
        bool second = false;
      };
      const std::int64_t* const row = row_off.data() + p * panel;
      auto runs = [&](int step) {
        Runs r;
        if (row[0] == kPadding) return r;
        while (r.first < panel && row[r.first] == row[0] + r.first * step) ++r.first;
        if (r.first == panel) return r;
        const std::int64_t start = row[r.first];
        r.second = start != kPadding;
        for (int i = r.first + 1; i < panel && r.second; ++i) r.second = row[i] == start + (i - r.first) * step;
        return r;
      };
      const Runs one = runs(1), two = runs(2);
      std::uint8_t flag = 0;  // gathered
      if (one.first == panel)
        flag = kPanelContiguous;
      else if (two.first == panel)
        flag = kPanelStride2;
      else if (one.second && one.first < kTwoRunsStartLimit)
        flag = two_runs_flag(one.first, 1);
      else if (two.second && two.first < kTwoRunsStartLimit)
        flag = two_runs_flag(two.first, 2);
      panel_flags[static_cast<std::size_t>(p)] = flag;
      any_fast_panel = any_fast_panel || flag != 0;
    }
    // Transpose when every vector-wide chunk of k is contiguous (k runs along
    // the rows, maybe in several runs: `abcd,dbe` has runs of d).
    const std::vector<std::int64_t>& k_runs = which == 0 ? a_k_runs_ : b_k_runs_;
    bool k_chunks_contiguous = true;
    if (kc > 0 && k_runs[static_cast<std::size_t>(p0)] < kc)  // (else one run: every chunk is contiguous)
      for (std::int64_t t = p0; t + vector_lanes <= p0 + kc && k_chunks_contiguous; t += vector_lanes)
        k_chunks_contiguous = k_runs[static_cast<std::size_t>(t)] >= vector_lanes;
    PackMode mode = any_fast_panel ? PackMode::vector : k_chunks_contiguous ? PackMode::transpose : PackMode::gather;
    jit_.pack_kernel(shape_index_, which, mode, call_.dtype)(src, dst, padded, kc, row_off.data(), k_off,
                                                             panel_flags.data());
    // The plan's scalars, where it applies them to this operand.
    if (pack_scale_ == (which == 0 ? ir::ScaleAt::a : ir::ScaleAt::b)) {
      for (std::int64_t i = 0; i < padded * kc; ++i) dst[i] = mul(dst[i], scale_);
    }
  }

  // Whether the mask holds nowhere in the box: its packing and tiles are
  // skipped (a select's fill is written by fill_block, a masked sum adds
  // nothing).
  bool masked_out(const MaskBox& box) const { return mask_ && mask_->classify(box) == MaskClass::nowhere; }

  // A masked sum's K runs over one column panel of one KC block (`box`: the
  // panel's columns; its rows do not matter, the condition not involving
  // M), and for each run where the mask holds partly, a copy of B's packed
  // slice with the entries of the masked (k, column) pairs zeroed: what
  // every row tile of the panel needs, worked out once (compute()).
  struct PanelRuns {
    struct Run {
      MaskClass cls = MaskClass::nowhere;
      std::int64_t k0 = 0, k1 = 0;
      std::size_t masked_b = 0;  // partly: where its copy starts in masked_b
    };
    std::vector<Run> runs;
    AlignedBuffer<T> masked_b;

    // `b`: the panel's packed slice, or where B is read in place
    // (`columns` not null), its NR column pointers at box.k0.
    void prepare(const GettMaskTables& mask, const MaskBox& box, const T* b, const T* const* columns, int nr) {
      runs.clear();
      std::size_t total = 0;
      mask.for_each_k_run(box, [&](MaskClass cls, std::int64_t k0, std::int64_t k1) {
        runs.push_back({cls, k0, k1, total});
        if (cls == MaskClass::partly) total += static_cast<std::size_t>((k1 - k0) * nr);
      });
      masked_b.reserve(total);
      for (const Run& run : runs) {
        if (run.cls != MaskClass::partly) continue;
        T* copy = masked_b.data + run.masked_b;
        if (columns) {
          for (std::int64_t k = run.k0; k < run.k1; ++k)
            for (int col = 0; col < nr; ++col) copy[(k - run.k0) * nr + col] = columns[col][k - box.k0];
        } else {
          std::copy_n(b + (run.k0 - box.k0) * nr, (run.k1 - run.k0) * nr, copy);
        }
        for (std::int64_t col = 0; col < box.n1 - box.n0; ++col)
          mask.for_each_k_span(box.batch, box.m0, box.n0 + col, run.k0, run.k1,
                               [&](std::int64_t first, std::int64_t last, bool holds) {
                                 if (!holds)
                                   for (std::int64_t k = first; k < last; ++k) copy[(k - run.k0) * nr + col] = T(0);
                               });
      }
    }
  };

  // The micro-kernel adding one tile's products over `kc` positions of
  // packed panels into C (directly where `ldc` is not 0); with `columns`,
  // B's columns read in place from there instead of the packed `bk`.
  auto tile_adder(const MaskBox& box, T* c, std::int64_t ldc, T* tile) const {
    return [this, &box, c, ldc, tile](std::int64_t kc, const T* ak, const T* bk, const T* const* columns = nullptr) {
      const int mr = v_.shape.mr();
      T* const out =
          ldc != 0 ? c + c_m_[static_cast<std::size_t>(box.m0)] + c_n_[static_cast<std::size_t>(box.n0)] : tile;
      micro_kernel(kc, ak, bk, columns, out, ldc != 0 ? ldc : mr, ldc != 0 ? 1 : 0, nullptr);
      if (ldc == 0) store_tile(tile, c, box.m0, box.m1 - box.m0, box.n0, box.n1 - box.n0, false);
    };
  }

  // One row tile of a column panel whose K runs `runs` holds (the
  // condition does not involve M): the micro-kernel on each run where the
  // mask holds everywhere, and on the panel's masked copy of B where it
  // holds partly (exact, unless A's slice is not finite: masked_run).
  // `columns`: B's NR column pointers at box.k0 where B is read in place
  // (else null, and `b` is its packed panel).
  void masked_sum_panel_tile(const MaskBox& box, const PanelRuns& runs, const T* a, const T* b, const T* const* columns,
                             T* c, std::int64_t ldc, T* tile) const {
    const int mr = v_.shape.mr(), nr = v_.shape.nr;
    auto kernel = tile_adder(box, c, ldc, tile);
    for (const typename PanelRuns::Run& run : runs.runs) {
      const std::int64_t len = run.k1 - run.k0;
      const T* ak = a + (run.k0 - box.k0) * mr;
      if (run.cls == MaskClass::everywhere) {
        if (columns) {
          std::array<const T*, kMaxNr> at;
          for (int j = 0; j < nr; ++j) at[static_cast<std::size_t>(j)] = columns[j] + (run.k0 - box.k0);
          kernel(len, ak, nullptr, at.data());
        } else {
          kernel(len, ak, b + (run.k0 - box.k0) * nr);
        }
      }
      if (run.cls != MaskClass::partly) continue;
      // The masked copy holds B's values wherever the mask holds: all that
      // the exact loop reads.
      const T* masked = runs.masked_b.data + run.masked_b;
      if (all_finite(ak, len * mr))
        kernel(len, ak, masked);
      else
        exact_sum(box, run.k0, run.k1, ak, masked, c);
    }
  }

  // One tile of a masked sum for one KC block, adding into C (zeroed before
  // the first block): the micro-kernel on the runs of K where the mask holds
  // for the whole tile, nothing where it holds nowhere, and on the short
  // runs where it holds for some elements, the micro-kernel on copies of
  // the run's panels with the masked-out entries of the operand holding the
  // compared output index zeroed (masked_run). Into C directly where `ldc`
  // != 0 (beta == 1), else through `tile`. `a`, `b`: the tile's packed
  // panels for the block starting at box.k0.
  void masked_sum_tile(const MaskBox& box, const T* a, const T* b, T* c, std::int64_t ldc, T* tile) const {
    const int mr = v_.shape.mr(), nr = v_.shape.nr;
    const std::int64_t p0 = box.k0;
    auto kernel = tile_adder(box, c, ldc, tile);
    mask_->for_each_k_run(box, [&](MaskClass cls, std::int64_t k0, std::int64_t k1) {
      const T* ak = a + (k0 - p0) * mr;
      const T* bk = b + (k0 - p0) * nr;
      if (cls == MaskClass::everywhere) kernel(k1 - k0, ak, bk);
      if (cls == MaskClass::partly) masked_run(box, k0, k1, ak, bk, c, kernel);
    });
  }

  // The products of one tile over K positions [k0, k1) where the mask
  // holds for some elements. It compares a K index with an index of M or N
  // (the tile's rows or columns), so masking the entries of that side's
  // panel (A's rows or B's columns) at each k masks every product they
  // meet: the micro-kernel runs on copies with those entries zeroed. That
  // adds 0 * x for the masked products, which is 0 where x is finite; where
  // the other side's slice holds an inf or NaN, an exact loop adds only the
  // products inside instead (the reference never multiplies the others).
  template <typename Kernel>
  void masked_run(const MaskBox& box, std::int64_t k0, std::int64_t k1, const T* ak, const T* bk, T* c,
                  Kernel& kernel) const {
    const int mr = v_.shape.mr(), nr = v_.shape.nr;
    const std::int64_t len = k1 - k0, rows = box.m1 - box.m0, cols = box.n1 - box.n0;
    thread_local AlignedBuffer<T> a_copy, b_copy;
    a_copy.reserve(static_cast<std::size_t>(len * mr));
    b_copy.reserve(static_cast<std::size_t>(len * nr));
    std::copy_n(ak, len * mr, a_copy.data);
    std::copy_n(bk, len * nr, b_copy.data);
    const bool along_m = mask_->varies_along_m();
    T* masked = along_m ? a_copy.data : b_copy.data;
    const int width = along_m ? mr : nr;
    const std::int64_t count = along_m ? rows : cols;
    for (std::int64_t r = 0; r < count; ++r)
      mask_->for_each_k_span(box.batch, box.m0 + (along_m ? r : 0), box.n0 + (along_m ? 0 : r), k0, k1,
                             [&](std::int64_t first, std::int64_t last, bool holds) {
                               if (!holds)
                                 for (std::int64_t k = first; k < last; ++k) masked[(k - k0) * width + r] = 0.0f;
                             });
    const T* other = along_m ? b_copy.data : a_copy.data;
    const bool finite = all_finite(other, len * (along_m ? nr : mr));
    if (finite) {
      kernel(len, a_copy.data, b_copy.data);
      return;
    }
    exact_sum(box, k0, k1, ak, bk, c);
  }

  // The products of one tile over K positions [k0, k1) where the mask
  // holds, one by one, added into C: where a masked product would be
  // 0 * inf (NaN) in the micro-kernel.
  void exact_sum(const MaskBox& box, std::int64_t k0, std::int64_t k1, const T* ak, const T* bk, T* c) const {
    const int mr = v_.shape.mr(), nr = v_.shape.nr;
    const std::int64_t rows = box.m1 - box.m0, cols = box.n1 - box.n0;
    for (std::int64_t j = 0; j < cols; ++j) {
      T* column = c + c_n_[static_cast<std::size_t>(box.n0 + j)];
      for (std::int64_t i = 0; i < rows; ++i) {
        T sum = 0;
        for (std::int64_t k = k0; k < k1; ++k)
          if (mask_->holds(box.batch, box.m0 + i, box.n0 + j, k))
            sum = add(sum, mul(ak[(k - k0) * mr + i], bk[(k - k0) * nr + j]));
        T& out = column[c_m_[static_cast<std::size_t>(box.m0 + i)]];
        out = add(out, sum);
      }
    }
  }

  // A select mask's fill over one MC block of one batch element, after the
  // epilogue, a column at a time: the spans of rows where the mask fails
  // (for_each_m_span) are filled, contiguous rows with one fill_n.
  void fill_block(std::int64_t t) const {
    const std::int64_t ib = t % m_blocks_, batch = t / m_blocks_;
    const std::int64_t i0 = ib * blocking_.mc, i1 = std::min(m_, i0 + blocking_.mc);
    const T fill = static_cast<T>(mask_->mask().fill);
    T* c = c_data() + c_b_[static_cast<std::size_t>(batch)];
    for (std::int64_t n = 0; n < n_; ++n) {
      T* column = c + c_n_[static_cast<std::size_t>(n)];
      mask_->for_each_m_span(batch, n, i0, i1, [&](std::int64_t first, std::int64_t last, bool holds) {
        if (holds) return;
        if (m_unit_stride_) {
          fill_streaming(column + c_m_[static_cast<std::size_t>(first)], last - first, fill);
          return;
        }
        for (std::int64_t m = first; m < last; ++m) column[c_m_[static_cast<std::size_t>(m)]] = fill;
      });
    }
#if defined(__SSE__)
    _mm_sfence();  // the streaming stores are visible before the block is done
#endif
  }

  // `count` copies of `value` from `out`, aligned 16-byte groups with
  // streaming stores where the ISA has them: the fill is the larger part of
  // a causal mask's output, written once and read by the next statement, so
  // it goes to memory without first reading every line into the cache.
  static void fill_streaming(T* out, std::int64_t count, T value) {
#if defined(__SSE__)
    if constexpr (kF32) {
      std::int64_t i = 0;
      for (; i < count && (reinterpret_cast<std::uintptr_t>(out + i) & 15) != 0; ++i) out[i] = value;
      const __m128 v = _mm_set1_ps(value);
      for (; i + 4 <= count; i += 4) _mm_stream_ps(out + i, v);
      for (; i < count; ++i) out[i] = value;
    } else {
      std::fill_n(out, count, value);
    }
#else
    std::fill_n(out, count, value);
#endif
  }

  // The terms at (batch, m, n) added to (or subtracted from) value.
  static T add_terms(T value, const std::vector<TermTables<T>>& terms, std::int64_t batch, std::int64_t m,
                     std::int64_t n) {
    for (const TermTables<T>& t : terms) {
      const T x = t.at(batch, m, n);
      value = t.negate ? sub(value, x) : add(value, x);
    }
    return value;
  }

  void store_tile(const T* tile, T* c, std::int64_t m0, std::int64_t mr_eff, std::int64_t n0, std::int64_t nr_eff,
                  bool first_k) const {
    const int mr = v_.shape.mr();
    for (std::int64_t j = 0; j < nr_eff; ++j) {
      std::int64_t cn = c_n_[static_cast<std::size_t>(n0 + j)];
      for (std::int64_t i = 0; i < mr_eff; ++i) {
        T* out = c + c_m_[static_cast<std::size_t>(m0 + i)] + cn;
        T v = tile[j * mr + i];
        *out = first_k ? v : add(*out, v);  // beta == 0 on the first block: never read C
      }
    }
  }

  // K is empty (an extent 0): C is all zeros. One MC block of one batch element.
  void zero_block(std::int64_t t) const {
    std::int64_t ib = t % m_blocks_, batch = t / m_blocks_;
    std::int64_t i0 = ib * blocking_.mc, i1 = std::min(m_, i0 + blocking_.mc);
    T* c = c_data() + c_b_[static_cast<std::size_t>(batch)];
    for (std::int64_t n = 0; n < n_; ++n) {
      T* column = c + c_n_[static_cast<std::size_t>(n)];
      if (m_unit_stride_) {
        std::fill_n(column + c_m_[static_cast<std::size_t>(i0)], i1 - i0, 0.0f);
        continue;
      }
      for (std::int64_t m = i0; m < i1; ++m) column[c_m_[static_cast<std::size_t>(m)]] = 0.0f;
    }
  }

  // An empty sum's dequantisation (C zeroed first) over one MC block of one
  // batch element.
  void dequantise_block(std::int64_t t) const {
    std::int64_t ib = t % m_blocks_, batch = t / m_blocks_;
    std::int64_t i0 = ib * blocking_.mc;
    dequantise_->apply(c_data() + c_b_[static_cast<std::size_t>(batch)], c_m_, c_n_, batch, i0,
                       std::min(m_, i0 + blocking_.mc), 0, n_);
  }

  // C = act(scale * C + bias terms) + residual terms over one MC block of
  // one batch element (the second pass, when the epilogue is not fused).
  void epilogue_block(std::int64_t t) const {
    std::int64_t ib = t % m_blocks_, batch = t / m_blocks_;
    std::int64_t i0 = ib * blocking_.mc;
    epilogue_rect(batch, i0, std::min(m_, i0 + blocking_.mc), 0, n_);
  }

  // The epilogue over rows [i0, i1) x columns [n0, n1) of one batch
  // element, a column at a time: the column is gathered into a contiguous
  // buffer with scale and bias, the activation runs over it as one
  // vectorised JIT call, and the residual terms are added on the way back.
  void epilogue_rect(std::int64_t batch, std::int64_t i0, std::int64_t i1, std::int64_t n0, std::int64_t n1) const {
    T* c = c_data() + c_b_[static_cast<std::size_t>(batch)];
    thread_local std::vector<T> column;
    column.resize(static_cast<std::size_t>(i1 - i0));
    for (std::int64_t n = n0; n < n1; ++n) {
      T* c_n = c + c_n_[static_cast<std::size_t>(n)];
      for (std::int64_t m = i0; m < i1; ++m)
        column[static_cast<std::size_t>(m - i0)] =
            add_terms(mul(c_n[c_m_[static_cast<std::size_t>(m)]], epilogue_scale_), bias_, batch, m, n);
      if constexpr (kF32)
        if (activation_) activation_(column.data(), i1 - i0);
      for (std::int64_t m = i0; m < i1; ++m)
        c_n[c_m_[static_cast<std::size_t>(m)]] =
            add_terms(column[static_cast<std::size_t>(m - i0)], residual_, batch, m, n);
    }
  }

  // Whether the epilogue can be fused into the micro-kernel's stores: each
  // bias term varies along M only (gathered per tile into bias_m) or along
  // N only (bias_n), and there is at most one residual term, laid out
  // like a tile (unit stride along M, even stride along N).
  void classify_epilogue() {
    fusable_ = has_epilogue_ && residual_.size() <= 1;
    for (const TermTables<T>& t : bias_) {
      if (t.same_along_n())
        bias_m_terms_.push_back(&t);
      else if (t.same_along_m())
        bias_n_terms_.push_back(&t);
      else
        fusable_ = false;
    }
    if (residual_.size() == 1) {
      const TermTables<T>& r = residual_[0];
      residual_ldr_ = n_ > 1 ? r.n[1] - r.n[0] : 0;
      for (std::int64_t i = 0; i < m_ && fusable_; ++i) fusable_ = r.m[static_cast<std::size_t>(i)] == r.m[0] + i;
      for (std::int64_t j = 0; j < n_ && fusable_; ++j)
        fusable_ = r.n[static_cast<std::size_t>(j)] == r.n[0] + j * residual_ldr_;
    }
  }

  // The fused epilogue's operands for the tile at (m0, n0): the M-only
  // terms summed per row, the N-only terms per column (thread-local
  // buffers), and the residual tile's start.
  UkrEpilogueArgs epilogue_args(std::int64_t batch, std::int64_t m0, std::int64_t n0) const {
    static_assert(kF32, "the fused epilogue is f32 only");
    const int mr = v_.shape.mr(), nr = v_.shape.nr;
    thread_local AlignedBuffer<T> bias_m, bias_n;
    bias_m.reserve(static_cast<std::size_t>(mr));
    bias_n.reserve(static_cast<std::size_t>(nr));
    auto b = static_cast<std::size_t>(batch);
    for (int i = 0; i < mr; ++i) {
      T sum = 0;
      for (const TermTables<T>* t : bias_m_terms_) {
        const T x = t->at(batch, m0 + i, 0);
        sum = t->negate ? sum - x : sum + x;
      }
      bias_m.data[i] = sum;
    }
    for (int j = 0; j < nr; ++j) {
      T sum = 0;
      for (const TermTables<T>* t : bias_n_terms_) {
        const T x = t->at(batch, 0, n0 + j);
        sum = t->negate ? sum - x : sum + x;
      }
      bias_n.data[j] = sum;
    }
    UkrEpilogueArgs args;
    args.bias_m = bias_m.data;
    args.bias_n = bias_n.data;
    args.scale = epilogue_scale_;
    if (!residual_.empty()) {
      const TermTables<T>& r = residual_[0];
      args.residual = r.data + r.b[b] + r.m[static_cast<std::size_t>(m0)] + r.n[static_cast<std::size_t>(n0)];
      args.ldr = residual_ldr_;
      args.residual_sign = r.negate ? -1.0f : 1.0f;
    }
    return args;
  }

  Jit& jit_;
  int threads_;
  bool split_columns_;       // split_columns()
  std::size_t shape_index_;  // into jit_.gett_shapes(), chosen for threads_
  const GettKernels& v_;
  const GettCall& call_;
  Blocking blocking_;
  std::int64_t batches_ = 0, m_ = 0, n_ = 0, kk_ = 0, m_blocks_ = 0;
  GemvKind gemv_path_ = GemvKind::none;
  std::optional<GettMaskTables> mask_;
  bool masked_sum_ = false;
  bool m_unit_stride_ = false;  // C's rows (M) one element apart: fill_block's and zero_block's runs are contiguous
  bool filled_ = false;         // the select's fill was written with each batch element (run_blocks)
  ir::ScaleAt pack_scale_ = ir::ScaleAt::result;  // the operand whose packs carry the scale, if not the epilogue
  T scale_ = T(1);                                // the plan's scalars, in T
  T epilogue_scale_ = T(1);                       // the scale the epilogue applies
  bool has_epilogue_ = false;
  std::optional<DequantisingEpilogue> dequantise_;  // call_.dequantise
  Jit::Activation activation_ = nullptr;
  bool fusable_ = false, fused_ = false;  // the epilogue in the micro-kernel's stores (classify_epilogue)
  // The micro-kernel's variants by kFusedVariant | kBInPlace (0:
  // v_.micro_kernel), those the call may run (compile_variants).
  std::array<Jit::MicroKernelVariant, 4> variants_{};
  bool reads_b_in_place_ = false;  // plan_b_in_place
  std::vector<const TermTables<T>*> bias_m_terms_, bias_n_terms_;
  std::int64_t residual_ldr_ = 0;
  std::vector<std::int64_t> a_b_, b_b_, c_b_, a_m_, c_m_, b_n_, c_n_, a_k_, b_k_;
  std::vector<std::int64_t> a_k_runs_, b_k_runs_;  // contiguous_runs of a_k_ and b_k_ (pack's mode)
  std::vector<std::uint8_t> m_direct_;
  std::vector<std::int64_t> n_ldc_;
  std::vector<TermTables<T>> bias_, residual_;
};

}  // namespace

Blocking blocking_for(const std::vector<KernelShape>& shapes, std::size_t index, std::int64_t k, std::int64_t n) {
  const KernelShape& shape = shapes[index];
  const std::int64_t mr = shape.mr(), nr = shape.nr, bytes = static_cast<std::int64_t>(dtype_size(shape.dtype));
  const std::int64_t l1 = l1_bytes(), l2 = l2_bytes();
  Blocking b;
  // B's micro-panel (KC x NR) stays in half of L1 while A's panels stream.
  // KC comes from the default shape's NR whichever shape runs: the shape
  // depends on the threads (shape_for), and KC decides how C's sums are
  // grouped, so every thread count must block K alike to give the same bits.
  b.kc = std::clamp<std::int64_t>(l1 / 2 / (shapes[0].nr * bytes) / 8 * 8, 64, 1024);
  // Equal KC blocks, each a multiple of 16 (whole vectors for the mode-1
  // transposes): K = 1024 runs as 2 x 512, not 768 + 256 (a last block
  // that reads and writes C for a third of the work). K alone decides them.
  if (k > b.kc) b.kc = round_up(ceil_div(k, ceil_div(k, b.kc)), 16);
  // A's block (MC x KC, for the KC actually used) fills about half of L2,
  // to the nearest whole number of micro-panels.
  b.mc = std::clamp<std::int64_t>((l2 / 2 / (b.kc * bytes) + mr / 2) / mr * mr, mr, 4096 / mr * mr);
  // B's block (KC x NC) is reused for every MC block and shared by the
  // threads in L3: a few MB (each NC block packs all of A again). Equal NC
  // blocks, like KC: N = 2048 runs as one block or 2 x 1024, not 1520 + 528.
  b.nc = std::clamp<std::int64_t>(4 * 1024 * 1024 / (b.kc * bytes) / nr * nr, nr, 8192 / nr * nr);
  if (n > b.nc) b.nc = round_up(ceil_div(n, ceil_div(n, b.nc)), nr);
  return b;
}

void run_gett(Jit& jit, const GettCall& call, int threads) {
  switch (call.dtype) {
    case DType::f32:
      Driver<float>(jit, call, threads).run();
      return;
    case DType::f64:
      Driver<double>(jit, call, threads).run();
      return;
    case DType::i32:
      Driver<std::int32_t>(jit, call, threads).run();
      return;
    default:
      EINC_FAIL("cpu backend: no GETT for " + std::string(dtype_name(call.dtype)));
  }
}

}  // namespace einc::cpu
