// bench/memory_bandwidth.cpp — see memory_bandwidth.h.
#include "memory_bandwidth.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <utility>
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

// Threads that each run job(t) for their t, started together and waited
// for; the caller is thread 0. Workers sleep between jobs.
class Crew {
 public:
  explicit Crew(int threads) {
    for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ~Crew() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& w : workers_) w.join();
  }
  void run(const std::function<void(int)>& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &job;
      pending_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    job(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
  }

 private:
  void work(int t) {
    std::uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      (*job)(t);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace

struct ReadProbe::State {
  State(std::size_t bytes, int threads) : threads(std::max(threads, 1)), crew(this->threads) {
    const std::size_t block = 4 * kStreams;  // words: whole 256-bit loads of every stream
    words = bytes / sizeof(std::uint64_t) / (block * static_cast<std::size_t>(this->threads)) * block *
            static_cast<std::size_t>(this->threads);
    const std::size_t allocated =
        std::max<std::size_t>((words * sizeof(std::uint64_t) + kHugePage - 1) / kHugePage, 1) * kHugePage;
    memory.reset(std::aligned_alloc(kHugePage, allocated));
    if (!memory) throw std::bad_alloc();
    madvise(memory.get(), allocated, MADV_HUGEPAGE);
    crew.run([&](int t) {  // first touch: each part's pages where its reader runs
      auto [first, last] = part(t);
      std::fill(first, last, static_cast<std::uint64_t>(t) + 1);
    });
  }
  std::pair<std::uint64_t*, std::uint64_t*> part(int t) const {
    auto* buffer = static_cast<std::uint64_t*>(memory.get());
    const std::size_t each = words / static_cast<std::size_t>(threads);
    return {buffer + each * static_cast<std::size_t>(t), buffer + each * static_cast<std::size_t>(t + 1)};
  }

  int threads;
  std::size_t words = 0;
  std::unique_ptr<void, decltype(&std::free)> memory{nullptr, &std::free};
  Crew crew;
};

bool ReadProbe::available() { return __builtin_cpu_supports("avx2"); }

ReadProbe::ReadProbe(std::size_t bytes, int threads) : state_(std::make_unique<State>(bytes, threads)) {}
ReadProbe::~ReadProbe() = default;

void ReadProbe::read() {
  state_->crew.run([&](int t) {
    auto [first, last] = state_->part(t);
    benchmark::DoNotOptimize(sum_words(first, last));
  });
}

std::size_t ReadProbe::bytes() const { return state_->words * sizeof(std::uint64_t); }

double measure_read_bandwidth(int threads, bool smoke) {
  if (!ReadProbe::available()) return 0;
  ReadProbe probe(smoke ? kBytes / 8 : kBytes, threads);
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    const auto start = std::chrono::steady_clock::now();
    probe.read();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(probe.bytes()) / seconds / 1e9);
  }
  return best;
}

}  // namespace einc::bench
