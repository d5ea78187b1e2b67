// bench/fma_peak.cpp — see fma_peak.h.
#include "fma_peak.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace einc::bench {

namespace {

using std::int64_t;

constexpr int64_t kPeakIters = 20'000'000;  // per thread per trial: ~40-80 ms at full rate

#define EINC_ACC16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define EINC_ACC12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

// 16 independent zmm chains: two FMA pipes x 4-cycle latency needs >= 8 in
// flight per core (12+ to be safe). acc = acc * m + a converges, so no
// denormals or infinities slow it down. Returns FLOPs done.
__attribute__((target("avx512f"))) double fma_loop_avx512(int64_t iters, float* sink) {
  const __m512 m = _mm512_set1_ps(0.999999f);
  const __m512 a = _mm512_set1_ps(1e-7f);
#define EINC_DECL(i) __m512 acc##i = _mm512_set1_ps(static_cast<float>(i));
  EINC_ACC16(EINC_DECL)
#undef EINC_DECL
  for (int64_t it = 0; it < iters; ++it) {
#define EINC_STEP(i) acc##i = _mm512_fmadd_ps(acc##i, m, a);
    EINC_ACC16(EINC_STEP)
#undef EINC_STEP
  }
  __m512 s = _mm512_setzero_ps();
#define EINC_SUM(i) s = _mm512_add_ps(s, acc##i);
  EINC_ACC16(EINC_SUM)
#undef EINC_SUM
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float t = 0;
  for (float x : lanes) t += x;
  *sink = t;
  return static_cast<double>(iters) * 16 /*accumulators*/ * 16 /*lanes*/ * 2;
}

__attribute__((target("avx2,fma"))) double fma_loop_avx2(int64_t iters, float* sink) {
  const __m256 m = _mm256_set1_ps(0.999999f);
  const __m256 a = _mm256_set1_ps(1e-7f);
#define EINC_DECL(i) __m256 acc##i = _mm256_set1_ps(static_cast<float>(i));
  EINC_ACC12(EINC_DECL)
#undef EINC_DECL
  for (int64_t it = 0; it < iters; ++it) {
#define EINC_STEP(i) acc##i = _mm256_fmadd_ps(acc##i, m, a);
    EINC_ACC12(EINC_STEP)
#undef EINC_STEP
  }
  __m256 s = _mm256_setzero_ps();
#define EINC_SUM(i) s = _mm256_add_ps(s, acc##i);
  EINC_ACC12(EINC_SUM)
#undef EINC_SUM
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float t = 0;
  for (float x : lanes) t += x;
  *sink = t;
  return static_cast<double>(iters) * 12 * 8 * 2;
}

}  // namespace

// Best of 3 trials; each runs the loop on `threads` threads started together
// and divides all their FLOPs by the wall time until the last one finishes.
Peak measure_peak(int threads, bool smoke) {
  Peak peak;
  __builtin_cpu_init();
  double (*loop)(int64_t, float*) = nullptr;
  if (__builtin_cpu_supports("avx512f")) {
    loop = fma_loop_avx512;
    peak.isa = "AVX-512 (16 zmm accumulators)";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    loop = fma_loop_avx2;
    peak.isa = "AVX2 (12 ymm accumulators)";
  } else {
    peak.isa = "none (no AVX2/FMA)";
    return peak;
  }
  const int64_t iters = smoke ? kPeakIters / 8 : kPeakIters;
  loop(iters / 10, std::vector<float>(1).data());  // wake the clocks up
  for (int trial = 0; trial < 3; ++trial) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> flops(static_cast<std::size_t>(threads), 0.0);
    std::vector<float> sinks(static_cast<std::size_t>(threads), 0.0f);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) {
        }
        flops[static_cast<std::size_t>(t)] = loop(iters, &sinks[static_cast<std::size_t>(t)]);
      });
    while (ready.load() < threads) {
    }
    auto t0 = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    for (std::thread& th : pool) th.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double total = 0;
    for (double f : flops) total += f;
    peak.gflops = std::max(peak.gflops, total / seconds / 1e9);
    benchmark::DoNotOptimize(sinks.data());
  }
  return peak;
}

}  // namespace einc::bench
