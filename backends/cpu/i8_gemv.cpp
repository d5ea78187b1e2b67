// backends/cpu/i8_gemv.cpp — see i8_gemv.h.
#include "backends/cpu/i8_gemv.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "backends/cpu/driver_util.h"
#include "backends/cpu/gemv.h"
#include "einc/internal_error.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

// Rows of K per slice: f32 holds every sum of 1024 products of i8 values.
constexpr std::int64_t kExactRows = 1024;
// Columns of y per task of the axpy form (its chunk of y stays in L1), and
// rows per task of the dot form.
constexpr std::int64_t kAxpyChunk = 4096, kDotRows = 64;

}  // namespace

bool runs_as_i8_gemv(const GettCall& call) {
  return call.dtype == DType::i32 && !call.i16_pairs && !call.mask && !call.activation && call.bias.empty() &&
         call.residual.empty() && call.scale == 1.0 && gemv_kind(call.batch, call.m, call.n, call.k) != GemvKind::none;
}

void run_i8_gemv(Jit& jit, const GettCall& call, int threads) {
  if (!runs_as_i8_gemv(call)) EINC_FAIL("cpu backend: an i8 GEMV of a call that is not one");
  const GemvKind kind = gemv_kind(call.batch, call.m, call.n, call.k);
  auto along = [](const std::vector<GettDim>& dims, std::int64_t GettDim::*stride) {
    return offsets(dims, [&](std::size_t d) { return dims[d].*stride; });
  };
  const std::vector<std::int64_t> a_m = along(call.m, &GettDim::stride_a), c_m = along(call.m, &GettDim::stride_c),
                                  a_k = along(call.k, &GettDim::stride_a), b_k = along(call.k, &GettDim::stride_b);
  const std::int64_t base_a = along(call.batch, &GettDim::stride_a)[0],
                     base_b = along(call.batch, &GettDim::stride_b)[0] + along(call.n, &GettDim::stride_b)[0],
                     base_c = along(call.batch, &GettDim::stride_c)[0] + along(call.n, &GettDim::stride_c)[0];
  const auto m = static_cast<std::int64_t>(a_m.size()), k = static_cast<std::int64_t>(a_k.size());
  const auto* w = static_cast<const std::int8_t*>(call.a) + base_a;
  const auto* x8 = static_cast<const std::int8_t*>(call.b) + base_b;
  auto* c = static_cast<std::int32_t*>(call.c) + base_c;

  std::vector<float> x(static_cast<std::size_t>(k));  // K values: the copy costs nothing next to W
  for (std::int64_t i = 0; i < k; ++i) x[static_cast<std::size_t>(i)] = x8[b_k[static_cast<std::size_t>(i)]];
  const std::int64_t slices = std::max<std::int64_t>(1, ceil_div(k, kExactRows));
  std::vector<float> partial(static_cast<std::size_t>(slices * m));
  auto slice_rows = [&](std::int64_t s) { return std::pair{k * s / slices, k * (s + 1) / slices}; };

  if (kind == GemvKind::axpy) {  // W unit-stride along M: rows of W streamed into y
    const GettKernels::HalfGemv kernel = jit.half_gemv_kernel(DType::i8);
    std::vector<std::int64_t> x_koff(static_cast<std::size_t>(k));
    std::iota(x_koff.begin(), x_koff.end(), 0);
    const std::int64_t chunks = ceil_div(m, kAxpyChunk), chunk = ceil_div(m, chunks);
    runtime::parallel_for_fixed(slices * chunks, threads, [&](std::int64_t task) {
      const auto [k0, k1] = slice_rows(task / chunks);
      const std::int64_t m0 = task % chunks * chunk, m1 = std::min(m, m0 + chunk);
      float* y = partial.data() + task / chunks * m + m0;
      std::fill(y, y + (m1 - m0), 0.0f);
      kernel(k1 - k0, m1 - m0, w + a_m[0] + m0, a_k.data() + k0, x.data(), x_koff.data() + k0, y);
    });
  } else {  // W unit-stride along K: dot products, a slice of K at a time
    const GettKernels::HalfDotGemv kernel = jit.half_dot_gemv_kernel(DType::i8);
    std::vector<std::int64_t> y_off(static_cast<std::size_t>(m));
    std::iota(y_off.begin(), y_off.end(), 0);
    const std::int64_t tasks = ceil_div(m, kDotRows);
    runtime::parallel_for(slices * tasks, threads, [&](std::int64_t task) {
      const auto [k0, k1] = slice_rows(task / tasks);
      const std::int64_t r0 = task % tasks * kDotRows, rows = std::min(kDotRows, m - r0);
      kernel(k1 - k0, rows, w + a_k[0] + k0, a_m.data() + r0, x.data() + k0, partial.data() + task / tasks * m,
             y_off.data() + r0);
    });
  }
  runtime::parallel_for(ceil_div(m, kAxpyChunk), threads, [&](std::int64_t t) {
    for (std::int64_t i = t * kAxpyChunk; i < std::min(m, (t + 1) * kAxpyChunk); ++i) {
      std::uint32_t sum = 0;  // wraps, as i32 sums do
      for (std::int64_t s = 0; s < slices; ++s)
        sum += static_cast<std::uint32_t>(static_cast<std::int32_t>(partial[static_cast<std::size_t>(s * m + i)]));
      c[c_m[static_cast<std::size_t>(i)]] = static_cast<std::int32_t>(sum);
    }
  });
}

}  // namespace einc::cpu
