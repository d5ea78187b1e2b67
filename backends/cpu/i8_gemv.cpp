// backends/cpu/i8_gemv.cpp — see i8_gemv.h.
#include "backends/cpu/i8_gemv.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/cpu/driver_util.h"
#include "backends/cpu/gemv.h"
#include "einc/internal_error.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

// Columns of y per task of the axpy form: its i32 chunk (32 KB) stays in
// L1 or L2 while the rows of W stream past, and a chunk as wide as the
// row makes each thread's part of W one contiguous region, which the
// hardware prefetchers follow best (half rows of 4 KB, one page each,
// read 0.8x as fast on the Zen 3 host).
constexpr std::int64_t kAxpyChunk = 8192;

}  // namespace

bool runs_as_i8_gemv(const GettCall& call) {
  return call.dtype == DType::i32 && !call.i16_pairs && !call.mask && !call.activation && call.bias.empty() &&
         call.residual.empty() && call.scale == 1.0 &&
         gemv_kind_copying_x(call.batch, call.m, call.n, call.k) != GemvKind::none;
}

void run_i8_gemv(Jit& jit, const GettCall& call, int threads) {
  if (!runs_as_i8_gemv(call)) EINC_FAIL("cpu backend: an i8 GEMV of a call that is not one");
  const GemvKind kind = gemv_kind_copying_x(call.batch, call.m, call.n, call.k);
  auto along = [](const std::vector<GettDim>& dims, std::int64_t GettDim::*stride) {
    return offsets(dims, [&](std::size_t d) { return dims[d].*stride; });
  };
  const std::vector<std::int64_t> a_m = along(call.m, &GettDim::stride_a), c_m = along(call.m, &GettDim::stride_c),
                                  a_k = along(call.k, &GettDim::stride_a), b_k = along(call.k, &GettDim::stride_b);
  const std::int64_t base_a = along(call.batch, &GettDim::stride_a)[0],
                     base_b = along(call.batch, &GettDim::stride_b)[0] + along(call.n, &GettDim::stride_b)[0],
                     base_c = along(call.batch, &GettDim::stride_c)[0] + along(call.n, &GettDim::stride_c)[0];
  const auto m = static_cast<std::int64_t>(a_m.size()), k = static_cast<std::int64_t>(a_k.size());
  if (m == 0) return;
  const auto* w = static_cast<const std::int8_t*>(call.a) + base_a;
  const auto* x8 = static_cast<const std::int8_t*>(call.b) + base_b;
  auto* c = static_cast<std::int32_t*>(call.c) + base_c;
  auto x_at = [&](std::int64_t i) { return static_cast<std::int16_t>(x8[b_k[static_cast<std::size_t>(i)]]); };

  if (kind == GemvKind::dot) {  // W unit-stride along K: one dot product per row, rows split among threads
    std::vector<std::int16_t> x(static_cast<std::size_t>(k));  // K values: the copy costs nothing next to W
    for (std::int64_t i = 0; i < k; ++i) x[static_cast<std::size_t>(i)] = x_at(i);
    const GemvRowParts cut = dot_gemv_row_parts(m, k, threads);
    const GettKernels::I8DotGemv kernel = jit.i8_dot_gemv_kernel();
    runtime::parallel_for_fixed(cut.parts, threads, [&](std::int64_t part) {
      const std::int64_t r0 = part * cut.rows, rows = std::min(cut.rows, m - r0);
      if (rows > 0) kernel(k, rows, w + a_k[0], a_m.data() + r0, x.data(), c, c_m.data() + r0);
    });
    return;
  }

  // W unit-stride along M: rows of W streamed into y, two rows (one pair
  // of x values) at a time. An odd K's last row pairs with itself and an x
  // of 0.
  const std::int64_t pairs = ceil_div(k, 2);
  std::vector<std::int64_t> row_off(static_cast<std::size_t>(2 * pairs));
  std::vector<std::int32_t> x_pairs(static_cast<std::size_t>(pairs));
  for (std::int64_t p = 0; p < pairs; ++p) {
    const std::int64_t r0 = 2 * p, r1 = std::min(r0 + 1, k - 1);
    row_off[static_cast<std::size_t>(r0)] = a_k[static_cast<std::size_t>(r0)];
    row_off[static_cast<std::size_t>(r0 + 1)] = a_k[static_cast<std::size_t>(r1)];
    const std::int16_t hi = r1 > r0 ? x_at(r1) : 0;
    x_pairs[static_cast<std::size_t>(p)] =
        static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint16_t>(x_at(r0))) |
                                  static_cast<std::uint32_t>(static_cast<std::uint16_t>(hi)) << 16);
  }
  // Tasks are (chunk of M, part of K) pairs, each part one contiguous run
  // of pairs into its own partial y, summed at the end: with as many parts
  // as threads, thread t reads part t of every chunk (round robin).
  const std::int64_t chunks = ceil_div(m, kAxpyChunk), chunk = ceil_div(m, chunks);
  const std::int64_t parts =
      std::max<std::int64_t>(1, std::min({static_cast<std::int64_t>(threads), pairs, m * k / kGemvMinWeightsPerPart}));
  // Reused between calls, as the f32 GEMV's partial sums are (gemv.cpp).
  thread_local AlignedBuffer<std::int32_t> scratch;
  scratch.reserve(static_cast<std::size_t>(parts * m));
  std::int32_t* const partial = scratch.data;
  const GettKernels::I8Gemv kernel = jit.i8_gemv_kernel();
  runtime::parallel_for_fixed(chunks * parts, threads, [&](std::int64_t task) {
    const std::int64_t part = task % parts, m0 = task / parts * chunk, m1 = std::min(m, m0 + chunk);
    const std::int64_t p0 = pairs * part / parts, p1 = pairs * (part + 1) / parts;
    std::int32_t* y = partial + part * m + m0;
    std::fill(y, y + (m1 - m0), 0);
    kernel(p1 - p0, m1 - m0, w + a_m[0] + m0, row_off.data() + 2 * p0, x_pairs.data() + p0, y);
  });
  runtime::parallel_for(chunks, threads, [&](std::int64_t t) {
    for (std::int64_t i = t * chunk; i < std::min(m, (t + 1) * chunk); ++i) {
      std::uint32_t sum = 0;  // wraps, as i32 sums do
      for (std::int64_t s = 0; s < parts; ++s) sum += static_cast<std::uint32_t>(partial[s * m + i]);
      c[c_m[static_cast<std::size_t>(i)]] = static_cast<std::int32_t>(sum);
    }
  });
}

}  // namespace einc::cpu
