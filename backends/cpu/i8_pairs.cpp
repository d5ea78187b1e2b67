// backends/cpu/i8_pairs.cpp — see i8_pairs.h.
#include "backends/cpu/i8_pairs.h"

#include <cstdint>
#include <vector>

#include "backends/cpu/driver_util.h"
#include "einc/internal_error.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

// The strides of a C-order buffer over `dims`, each times `inner` (the
// size of what one position holds).
std::vector<std::int64_t> packed_strides(const std::vector<GettDim>& dims, std::int64_t inner) {
  std::vector<std::int64_t> strides(dims.size());
  for (std::size_t d = dims.size(); d-- > 0;) {
    strides[d] = inner;
    inner *= dims[d].extent;
  }
  return strides;
}

// One operand's copy (`which` 0: A, 1: B): the element offsets of its
// batch, row and K positions, and how the copy is laid out:
// [batch][rows][K rounded up to even] (K innermost: each word holds the
// values at k and k + 1 of a row), or, when its rows are one element apart
// and K is not (B[k, j] of a row-major B), [batch][K / 2][rows] with the
// words of consecutive rows next to each other: that copy reads and writes
// whole rows, and the GETT packs it with whole vectors instead of
// transposing words.
struct PairLayout {
  std::vector<std::int64_t> batch, rows, ks;
  bool unit_k = true;  // k one element apart
  bool rows_inner = false;
  std::int64_t pairs = 0;
  std::int64_t row_count() const { return static_cast<std::int64_t>(rows.size()); }
};

PairLayout pair_layout(const GettCall& call, int which) {
  auto table = [which](const std::vector<GettDim>& dims) {
    return offsets(dims, [&dims, which](std::size_t d) { return which == 0 ? dims[d].stride_a : dims[d].stride_b; });
  };
  PairLayout layout;
  layout.batch = table(call.batch);
  layout.rows = table(which == 0 ? call.m : call.n);
  layout.ks = table(call.k);
  layout.pairs = (static_cast<std::int64_t>(layout.ks.size()) + 1) / 2;
  for (std::size_t i = 0; i < layout.ks.size() && layout.unit_k; ++i)
    layout.unit_k = layout.ks[i] == static_cast<std::int64_t>(i);
  bool unit_rows = layout.rows.size() > 1;
  for (std::size_t i = 1; i < layout.rows.size() && unit_rows; ++i)
    unit_rows = layout.rows[i] == layout.rows[0] + static_cast<std::int64_t>(i);
  layout.rows_inner = unit_rows && !layout.unit_k;
  return layout;
}

// The zero point of each row of each batch element ([batch][rows]) of
// operand `which` (0: A, 1: B): the number plus the per-row i8 tensor's
// value where the call has one (GettCall::a_zero_points).
std::vector<std::int16_t> zero_points(const GettCall& call, const PairLayout& layout, int which) {
  const std::int32_t number = which == 0 ? call.a_zero_point : call.b_zero_point;
  const ZeroPoints& table = which == 0 ? call.a_zero_points : call.b_zero_points;
  std::vector<std::int16_t> out(layout.batch.size() * layout.rows.size(), static_cast<std::int16_t>(number));
  if (!table.data) return out;
  const std::vector<std::int64_t> b = offsets_along(call.batch, table.batch_strides),
                                  r = offsets_along(which == 0 ? call.m : call.n, table.row_strides);
  for (std::size_t i = 0; i < b.size(); ++i)
    for (std::size_t j = 0; j < r.size(); ++j)
      out[i * r.size() + j] = static_cast<std::int16_t>(out[i * r.size() + j] + table.data[b[i] + r[j]]);
  return out;
}

// Copies the operand at `src` into `dst` (16-bit values, two per word) as
// `layout` says, each value made by `value(x, z)` from the source element
// and its row's zero point (`zeros`, [batch][rows]: for i8, asymmetric
// quantisation, x - z), zero past K (no zero point subtracted there: the
// padding adds nothing).
template <typename Src, typename Value>
void copy_rows(const Src* src, std::uint16_t* dst, const PairLayout& layout, const std::vector<std::int16_t>& zeros,
               Value value, int threads) {
  const std::vector<std::int64_t>&batch = layout.batch, &rows = layout.rows, &ks = layout.ks;
  const auto k = static_cast<std::int64_t>(ks.size()), row_count = layout.row_count(), k_padded = 2 * layout.pairs;
  if (layout.rows_inner) {
    // Per (batch, pair): rows k and k + 1 (the second zero past K),
    // interleaved. Rows one element apart: loops the compiler vectorises.
    runtime::parallel_for(static_cast<std::int64_t>(batch.size()) * layout.pairs, threads, [&](std::int64_t task) {
      const std::int64_t pair = task % layout.pairs, k0 = 2 * pair, b = task / layout.pairs;
      const Src* base = src + batch[static_cast<std::size_t>(b)] + rows.front();
      const std::int16_t* z = zeros.data() + b * row_count;
      const Src* first = base + ks[static_cast<std::size_t>(k0)];
      std::uint16_t* out = dst + task * 2 * row_count;
      if (k0 + 1 < k) {
        const Src* second = base + ks[static_cast<std::size_t>(k0 + 1)];
        for (std::int64_t r = 0; r < row_count; ++r)
          out[2 * r] = value(first[r], z[r]), out[2 * r + 1] = value(second[r], z[r]);
      } else {
        for (std::int64_t r = 0; r < row_count; ++r) out[2 * r] = value(first[r], z[r]), out[2 * r + 1] = 0;
      }
    });
    return;
  }
  runtime::parallel_for(static_cast<std::int64_t>(batch.size()) * row_count, threads, [&](std::int64_t task) {
    const Src* in =
        src + batch[static_cast<std::size_t>(task / row_count)] + rows[static_cast<std::size_t>(task % row_count)];
    std::uint16_t* out = dst + task * k_padded;
    const std::int16_t z = zeros[static_cast<std::size_t>(task)];
    if (layout.unit_k)  // a loop the compiler vectorises
      for (std::int64_t i = 0; i < k; ++i) out[i] = value(in[i], z);
    else
      for (std::int64_t i = 0; i < k; ++i) out[i] = value(in[ks[static_cast<std::size_t>(i)]], z);
    for (std::int64_t i = k; i < k_padded; ++i) out[i] = 0;
  });
}

// `call` on the copies of its A and B laid out as `a` and `b` (K: pairs).
GettCall paired_call(const GettCall& call, const PairLayout& a, const PairLayout& b, const PairCopies& copies) {
  const std::int64_t pairs = a.pairs;
  GettCall out = call;  // C, its strides, the epilogue terms and the scale as they are
  out.a = copies.a.data();
  out.b = copies.b.data();
  const std::vector<std::int64_t> batch_a = packed_strides(call.batch, a.row_count() * pairs),
                                  batch_b = packed_strides(call.batch, b.row_count() * pairs);
  // Within a batch element: rows, then pairs ([rows][pairs]), or pairs,
  // then rows ([pairs][rows]).
  const std::vector<std::int64_t> m_a = packed_strides(call.m, a.rows_inner ? 1 : pairs),
                                  n_b = packed_strides(call.n, b.rows_inner ? 1 : pairs);
  for (std::size_t d = 0; d < out.batch.size(); ++d) {
    out.batch[d].stride_a = batch_a[d];
    out.batch[d].stride_b = batch_b[d];
  }
  for (std::size_t d = 0; d < out.m.size(); ++d) out.m[d].stride_a = m_a[d], out.m[d].stride_b = 0;
  for (std::size_t d = 0; d < out.n.size(); ++d) out.n[d].stride_b = n_b[d], out.n[d].stride_a = 0;
  GettDim k;
  k.index = call.k.empty() ? -1 : call.k.front().index;
  k.extent = pairs;
  k.stride_a = a.rows_inner ? a.row_count() : 1;
  k.stride_b = b.rows_inner ? b.row_count() : 1;
  k.stride_c = 0;
  out.k = {k};
  return out;
}

// Word buffers for the pair copies of operands laid out as `a` and `b`.
void allocate(PairCopies& copies, const GettCall& call, const PairLayout& a, const PairLayout& b) {
  const std::int64_t batches = product(call.batch);
  copies.a = Tensor::empty(DType::i32, {batches * a.row_count() * a.pairs});  // 32-bit words, each a pair
  copies.b = Tensor::empty(DType::i32, {batches * b.row_count() * b.pairs});
}

}  // namespace

GettCall i16_pair_call(const GettCall& call, PairCopies& copies, int threads) {
  if (call.dtype != DType::i32 || call.i16_pairs || call.a_half || call.mask || (call.activation && !call.dequantise))
    EINC_FAIL("cpu backend: an i16-pair GETT of a call that is not a plain i32 one");
  const PairLayout a = pair_layout(call, 0), b = pair_layout(call, 1);
  allocate(copies, call, a, b);
  auto less_zero_point = [](std::int8_t x, std::int16_t z) {
    return static_cast<std::uint16_t>(static_cast<std::int16_t>(x - z));
  };
  copy_rows(static_cast<const std::int8_t*>(call.a), copies.a.data_as<std::uint16_t>(), a, zero_points(call, a, 0),
            less_zero_point, threads);
  copy_rows(static_cast<const std::int8_t*>(call.b), copies.b.data_as<std::uint16_t>(), b, zero_points(call, b, 1),
            less_zero_point, threads);
  GettCall out = paired_call(call, a, b, copies);
  out.i16_pairs = true;
  out.a_zero_point = out.b_zero_point = 0;  // (subtracted in the copies)
  out.a_zero_points = out.b_zero_points = {};
  return out;
}

GettCall bf16_pair_call(const GettCall& call, PairCopies& copies, int threads) {
  if (call.dtype != DType::f32 || call.i16_pairs || call.bf16_pairs || call.mask ||
      call.scale_at != ir::ScaleAt::result || (call.a_half && call.a_dtype != DType::bf16))
    EINC_FAIL("cpu backend: a bf16-pair GETT of a call that is not a plain f32 one on bf16 operands");
  const PairLayout a = pair_layout(call, 0), b = pair_layout(call, 1);
  allocate(copies, call, a, b);
  auto as_is = [](std::uint16_t x, std::int16_t) { return x; };
  const std::vector<std::int16_t> none_a(a.batch.size() * a.rows.size(), 0), none_b(b.batch.size() * b.rows.size(), 0);
  const auto* source_a = call.a_half ? call.a_half : static_cast<const std::uint16_t*>(call.a);
  copy_rows(source_a, copies.a.data_as<std::uint16_t>(), a, none_a, as_is, threads);
  copy_rows(static_cast<const std::uint16_t*>(call.b), copies.b.data_as<std::uint16_t>(), b, none_b, as_is, threads);
  GettCall out = paired_call(call, a, b, copies);
  out.bf16_pairs = true;
  out.a_half = nullptr;
  out.a_dtype = DType::f32;
  return out;
}

}  // namespace einc::cpu
