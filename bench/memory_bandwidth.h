// bench/memory_bandwidth.h — the machine's read bandwidth, measured
// in-process, so that cpu_bench can say what fraction of it a decode (a
// GEMV whose weights do not fit the caches) reads its weights at: issue
// 16 asks the bf16 and int8 decodes for >= 90 % of it. Like the FMA peak
// (fma_peak.h) it is this VM's figure at this moment, not a data sheet's.
//
// A ReadProbe holds a buffer (2 MiB-aligned and advised as huge pages, as
// einc's large buffers are, runtime/buffer_pool.h; each thread's part
// first touched by that thread) and reads it on a fixed set of threads,
// each summing its own contiguous part as 8 streams side by side with
// 256-bit loads (as einc's GEMVs read 8 rows of weights at once). Its
// threads are kept between reads and sleep in between, so that a read can
// be timed as a side of a benchmark, round by round beside einc (the
// host's bandwidth moves by a third within minutes: a figure taken once
// says little about a case timed later).
#pragma once

#include <cstddef>
#include <memory>

namespace einc::bench {

class ReadProbe {
 public:
  // Whether this host can run the probe (AVX2).
  static bool available();
  // `bytes` rounded down to whole blocks of the streams; `threads` >= 1.
  ReadProbe(std::size_t bytes, int threads);
  ~ReadProbe();
  ReadProbe(const ReadProbe&) = delete;
  ReadProbe& operator=(const ReadProbe&) = delete;

  // One pass over the buffer on every thread; returns when all are done.
  void read();
  std::size_t bytes() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// GB/s (1e9 bytes) read from DRAM on `threads` threads: a buffer 16 times
// a 32 MiB last-level cache (`smoke`: 2 times), the best of 3 reads; 0 on
// a host without AVX2 (not measured).
double measure_read_bandwidth(int threads, bool smoke);

}  // namespace einc::bench
