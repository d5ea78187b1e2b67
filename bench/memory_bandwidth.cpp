// bench/memory_bandwidth.cpp — see memory_bandwidth.h.
#include "memory_bandwidth.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace einc::bench {

namespace {

constexpr std::size_t kBytes = std::size_t{512} << 20;  // 16 x a 32 MiB L3
constexpr std::size_t kHugePage = std::size_t{2} << 20;

constexpr std::size_t kStreams = 8;  // per thread, as einc's GEMV reads 8 rows of weights at once

// Sums words [first, last) (a multiple of 4 * kStreams words, 32-byte
// aligned) as kStreams equal parts read side by side, one 256-bit load from
// each per step into its own sum (AVX2, which every host einc runs fast on
// has). One sequential stream per core is bounded by how far the hardware
// prefetcher runs ahead (on the Zen 3 host ~28 GB/s on 2 threads, while
// einc's 8-row GEMV read 42): several streams measure what the memory
// system can deliver.
__attribute__((target("avx2"))) std::uint64_t sum_words(const std::uint64_t* first, const std::uint64_t* last) {
  const std::size_t step = static_cast<std::size_t>(last - first) / kStreams;
  __m256i sums[kStreams];
  for (__m256i& sum : sums) sum = _mm256_setzero_si256();
  for (std::size_t i = 0; i < step; i += 4)
    for (std::size_t s = 0; s < kStreams; ++s)
      sums[s] = _mm256_add_epi64(sums[s], _mm256_load_si256(reinterpret_cast<const __m256i*>(first + s * step + i)));
  __m256i total = _mm256_setzero_si256();
  for (const __m256i& sum : sums) total = _mm256_add_epi64(total, sum);
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), total);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

}  // namespace

double measure_read_bandwidth(int threads, bool smoke) {
  threads = std::max(threads, 1);
  if (!__builtin_cpu_supports("avx2")) return 0;
  const std::size_t bytes = smoke ? kBytes / 8 : kBytes, words = bytes / sizeof(std::uint64_t);
  // 2 MiB-aligned and advised as huge pages, as einc's large buffers are
  // (runtime/buffer_pool.h): 4 KiB pages would measure TLB misses too.
  const std::unique_ptr<void, decltype(&std::free)> memory(std::aligned_alloc(kHugePage, bytes), &std::free);
  if (!memory) return 0;
  madvise(memory.get(), bytes, MADV_HUGEPAGE);
  auto* buffer = static_cast<std::uint64_t*>(memory.get());
  auto part = [&](int t) {  // whole blocks of 4 words per stream per thread
    const std::size_t block = 4 * kStreams, blocks = words / block;
    return std::pair{buffer + block * (blocks * static_cast<std::size_t>(t) / static_cast<std::size_t>(threads)),
                     buffer + block * (blocks * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(threads))};
  };
  auto on_threads = [&](auto work) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
    for (std::thread& th : pool) th.join();
  };
  on_threads([&](int t) {  // first touch: each part's pages where its reader runs
    auto [first, last] = part(t);
    std::fill(first, last, static_cast<std::uint64_t>(t) + 1);
  });
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::chrono::steady_clock::time_point start;
    on_threads([&](int t) {
      ready.fetch_add(1);
      if (t == 0) {
        while (ready.load() < threads) {
        }
        start = std::chrono::steady_clock::now();
        go.store(true);
      }
      while (!go.load()) {
      }
      auto [first, last] = part(t);
      benchmark::DoNotOptimize(sum_words(first, last));
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(bytes) / seconds / 1e9);
  }
  return best;
}

}  // namespace einc::bench
