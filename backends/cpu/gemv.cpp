// backends/cpu/gemv.cpp — see gemv.h.
#include "backends/cpu/gemv.h"

#include <algorithm>

#include "backends/cpu/driver_util.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

// Whether a group's offsets along `stride` run 0, 1, 2, ... (last index fastest).
bool unit_stride(const std::vector<GettDim>& dims, std::int64_t GettDim::*stride) {
  if (product(dims) == 0) return true;
  std::int64_t expected = 1;
  for (auto d = dims.rbegin(); d != dims.rend(); ++d) {
    if (d->extent == 1) continue;
    if ((*d).*stride != expected) return false;
    expected *= d->extent;
  }
  return true;
}

// One GEMV call, over the GETT driver's offset tables (the same names as
// its members in gett.cpp).
class GemvDriver {
 public:
  GemvDriver(Jit& jit, const GettCall& call, const GemvOffsets& offsets, std::int64_t m, std::int64_t k)
      : jit_(jit),
        call_(call),
        m_(m),
        kk_(k),
        a_b_(offsets.a_b),
        b_b_(offsets.b_b),
        c_b_(offsets.c_b),
        a_m_(offsets.a_m),
        c_m_(offsets.c_m),
        b_n_(offsets.b_n),
        c_n_(offsets.c_n),
        a_k_(offsets.a_k),
        b_k_(offsets.b_k) {}

  void run(GemvKind kind, int threads) {
    if (kind == GemvKind::dot)
      dot_gemv(threads);
    else
      gemv(threads);
  }

 private:
  // One contiguous run of rows per thread, each row one dot product in a
  // fixed order: results do not depend on the threads. Each thread then
  // streams one region of W, which the hardware prefetchers follow from row
  // to row; chunks of 64 rows handed out dynamically (interleaved regions)
  // read W from DRAM ~25 % slower on the Zen 1 host (docs/cpu-backend.md).
  void dot_gemv(int threads) {
    if (call_.a_half)
      dot_gemv_with(jit_.half_dot_gemv_kernel(call_.a_dtype), call_.a_half, threads);
    else
      dot_gemv_with(jit_.dot_gemv_kernel(), static_cast<const float*>(call_.a), threads);
  }

  template <typename Kernel, typename Weight>
  void dot_gemv_with(Kernel kernel, const Weight* a, int threads) {
    const Weight* w = a + a_b_[0] + a_k_[0];
    const float* x = static_cast<const float*>(call_.b) + b_b_[0] + b_n_[0] + b_k_[0];
    float* y = static_cast<float*>(call_.c) + c_b_[0] + c_n_[0];
    const GemvRowParts cut = dot_gemv_row_parts(m_, kk_, threads);
    runtime::parallel_for_fixed(cut.parts, threads, [&](std::int64_t part) {
      std::int64_t r0 = part * cut.rows, rows = std::min(cut.rows, m_ - r0);
      if (rows > 0) kernel(kk_, rows, w, a_m_.data() + r0, x, y, c_m_.data() + r0);
    });
  }

  // Tasks are (K slice, M chunk) pairs. M is cut into chunks of at most
  // kGemvChunk floats, whose y stays in L1 while the rows of w stream past;
  // K is cut into slices of kGemvSlice rows, so that each thread reads
  // whole rows of w, one after the other (a single sequential stream, which
  // the hardware prefetchers follow best), into its slice's partial y. The
  // partials are then summed in slice order. Both cuts depend only on the
  // shape, never on the threads, so every thread count gives the same bits.
  static constexpr std::int64_t kGemvChunk = 4096, kGemvSlice = 512;

  void gemv(int threads) {
    if (call_.a_half)
      gemv_with(jit_.half_gemv_kernel(call_.a_dtype), call_.a_half, threads);
    else
      gemv_with(jit_.gemv_kernel(), static_cast<const float*>(call_.a), threads);
  }

  template <typename Kernel, typename Weight>
  void gemv_with(Kernel kernel, const Weight* a, int threads) {
    const Weight* w = a + a_b_[0] + a_m_[0];
    const float* x = static_cast<const float*>(call_.b) + b_b_[0] + b_n_[0];
    float* y = static_cast<float*>(call_.c) + c_b_[0] + c_m_[0] + c_n_[0];
    const std::int64_t chunks = ceil_div(m_, kGemvChunk);
    const std::int64_t slices = std::max<std::int64_t>(1, std::min<std::int64_t>(kk_ / kGemvSlice, 16));
    const std::int64_t chunk_size = ceil_div(m_, chunks);
    // Reused between calls: a fresh 128 KB+ block each call went back and
    // forth through brk, costing page faults and a TLB shootdown per call.
    // (A pointer, not the thread_local itself, goes into the tasks: in a
    // worker the name would mean that worker's own buffer.)
    thread_local AlignedFloats scratch;
    if (slices > 1) scratch.reserve(static_cast<std::size_t>(slices * m_));
    float* const partial = scratch.data;
    runtime::parallel_for_fixed(slices * chunks, threads, [&](std::int64_t task) {
      std::int64_t slice = task / chunks, chunk = task % chunks;
      std::int64_t m0 = chunk * chunk_size, m1 = std::min(m_, m0 + chunk_size);
      std::int64_t k0 = kk_ * slice / slices, k1 = kk_ * (slice + 1) / slices;
      float* out = slices > 1 ? partial + slice * m_ + m0 : y + m0;
      std::fill(out, out + (m1 - m0), 0.0f);  // beta == 0: C is not read
      kernel(k1 - k0, m1 - m0, w + m0, a_k_.data() + k0, x, b_k_.data() + k0, out);
    });
    if (slices == 1) return;
    runtime::parallel_for(chunks, threads, [&](std::int64_t chunk) {
      std::int64_t m0 = chunk * chunk_size, m1 = std::min(m_, m0 + chunk_size);
      for (std::int64_t i = m0; i < m1; ++i) {
        float sum = partial[i];
        for (std::int64_t s = 1; s < slices; ++s) sum += partial[s * m_ + i];
        y[i] = sum;
      }
    });
  }

  Jit& jit_;
  const GettCall& call_;
  std::int64_t m_, kk_;
  const std::vector<std::int64_t>& a_b_;
  const std::vector<std::int64_t>& b_b_;
  const std::vector<std::int64_t>& c_b_;
  const std::vector<std::int64_t>& a_m_;
  const std::vector<std::int64_t>& c_m_;
  const std::vector<std::int64_t>& b_n_;
  const std::vector<std::int64_t>& c_n_;
  const std::vector<std::int64_t>& a_k_;
  const std::vector<std::int64_t>& b_k_;
};

}  // namespace

namespace {

GemvKind kind_of(const std::vector<GettDim>& batch, const std::vector<GettDim>& m, const std::vector<GettDim>& n,
                 const std::vector<GettDim>& k, bool x_in_place) {
  if (product(n) != 1 || product(batch) != 1 || product(k) == 0) return GemvKind::none;
  if (unit_stride(k, &GettDim::stride_a) && (!x_in_place || unit_stride(k, &GettDim::stride_b))) return GemvKind::dot;
  if (unit_stride(m, &GettDim::stride_a) && unit_stride(m, &GettDim::stride_c)) return GemvKind::axpy;
  return GemvKind::none;
}

}  // namespace

GemvRowParts dot_gemv_row_parts(std::int64_t m, std::int64_t k, int threads) {
  constexpr std::int64_t kRowGroup = 8;  // the kernels' rows per pass (gemv_gen.cpp, i8_gemv_gen.cpp)
  GemvRowParts cut;
  cut.parts = std::max<std::int64_t>(
      1, std::min({static_cast<std::int64_t>(threads), ceil_div(m, kRowGroup), m * k / kGemvMinWeightsPerPart}));
  cut.rows = round_up(ceil_div(m, cut.parts), kRowGroup);
  return cut;
}

GemvKind gemv_kind(const std::vector<GettDim>& batch, const std::vector<GettDim>& m, const std::vector<GettDim>& n,
                   const std::vector<GettDim>& k) {
  return kind_of(batch, m, n, k, true);
}

GemvKind gemv_kind_copying_x(const std::vector<GettDim>& batch, const std::vector<GettDim>& m,
                             const std::vector<GettDim>& n, const std::vector<GettDim>& k) {
  return kind_of(batch, m, n, k, false);
}

void run_gemv(Jit& jit, const GettCall& call, GemvKind kind, const GemvOffsets& offsets, std::int64_t m, std::int64_t k,
              int threads) {
  GemvDriver(jit, call, offsets, m, k).run(kind, threads);
}

}  // namespace einc::cpu
