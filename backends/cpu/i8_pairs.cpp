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

// Copies the i8 operand at `src` (one of the call's A or B: `which` 0 or 1)
// into `dst`: [batch][rows][k_padded] i16, zero past K.
void copy_rows(const std::int8_t* src, std::int16_t* dst, const GettCall& call, int which, std::int64_t k_padded,
               int threads) {
  const std::vector<GettDim>& row_dims = which == 0 ? call.m : call.n;
  auto stride = [&](const std::vector<GettDim>& dims) {
    return [&dims, which](std::size_t d) { return which == 0 ? dims[d].stride_a : dims[d].stride_b; };
  };
  const std::vector<std::int64_t> batch = offsets(call.batch, stride(call.batch));
  const std::vector<std::int64_t> rows = offsets(row_dims, stride(row_dims));
  const std::vector<std::int64_t> ks = offsets(call.k, stride(call.k));
  const auto k = static_cast<std::int64_t>(ks.size()), row_count = static_cast<std::int64_t>(rows.size());
  bool unit_k = true;  // k one element apart: a loop the compiler vectorises
  for (std::int64_t i = 0; i < k && unit_k; ++i) unit_k = ks[static_cast<std::size_t>(i)] == i;
  runtime::parallel_for(static_cast<std::int64_t>(batch.size()) * row_count, threads, [&](std::int64_t task) {
    const std::int8_t* in =
        src + batch[static_cast<std::size_t>(task / row_count)] + rows[static_cast<std::size_t>(task % row_count)];
    std::int16_t* out = dst + task * k_padded;
    if (unit_k)
      for (std::int64_t i = 0; i < k; ++i) out[i] = in[i];
    else
      for (std::int64_t i = 0; i < k; ++i) out[i] = in[ks[static_cast<std::size_t>(i)]];
    for (std::int64_t i = k; i < k_padded; ++i) out[i] = 0;
  });
}

}  // namespace

GettCall i16_pair_call(const GettCall& call, I16PairCopies& copies, int threads) {
  if (call.dtype != DType::i32 || call.i16_pairs || call.a_half || call.mask || call.activation)
    EINC_FAIL("cpu backend: an i16-pair GETT of a call that is not a plain i32 one");
  const std::int64_t batches = product(call.batch), m = product(call.m), n = product(call.n);
  const std::int64_t pairs = (product(call.k) + 1) / 2;
  copies.a = Tensor::empty(DType::i32, {batches * m * pairs});  // i32 words, each an i16 pair
  copies.b = Tensor::empty(DType::i32, {batches * n * pairs});
  copy_rows(static_cast<const std::int8_t*>(call.a), copies.a.data_as<std::int16_t>(), call, 0, 2 * pairs, threads);
  copy_rows(static_cast<const std::int8_t*>(call.b), copies.b.data_as<std::int16_t>(), call, 1, 2 * pairs, threads);

  GettCall out = call;  // C, its strides, the epilogue terms and the scale as they are
  out.i16_pairs = true;
  out.a = copies.a.data();
  out.b = copies.b.data();
  const std::vector<std::int64_t> batch_a = packed_strides(call.batch, m * pairs),
                                  batch_b = packed_strides(call.batch, n * pairs);
  const std::vector<std::int64_t> m_a = packed_strides(call.m, pairs), n_b = packed_strides(call.n, pairs);
  for (std::size_t d = 0; d < out.batch.size(); ++d) {
    out.batch[d].stride_a = batch_a[d];
    out.batch[d].stride_b = batch_b[d];
  }
  for (std::size_t d = 0; d < out.m.size(); ++d) out.m[d].stride_a = m_a[d], out.m[d].stride_b = 0;
  for (std::size_t d = 0; d < out.n.size(); ++d) out.n[d].stride_b = n_b[d], out.n[d].stride_a = 0;
  GettDim k;
  k.index = call.k.empty() ? -1 : call.k.front().index;
  k.extent = pairs;
  k.stride_a = k.stride_b = 1;
  k.stride_c = 0;
  out.k = {k};
  return out;
}

}  // namespace einc::cpu
