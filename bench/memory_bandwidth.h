// bench/memory_bandwidth.h — the machine's DRAM read bandwidth, measured
// in-process, so that cpu_bench can say what fraction of it a decode (a
// GEMV whose weights do not fit the caches) reads its weights at: issue
// 16 asks the bf16 and int8 decodes for >= 90 % of it. Like the FMA peak
// (fma_peak.h) it is this VM's figure at this moment, not a data sheet's.
//
// A buffer several times the last-level cache is written once (first
// touch, by the thread that will read it), then every thread sums its own
// contiguous part as 8 streams read side by side with 256-bit loads (as
// einc's GEMV reads 8 rows of weights at once), all threads started together;
// bytes over the wall time until the last one finishes. Best of 3 trials;
// 0 on a host without AVX2 (not measured).
#pragma once

namespace einc::bench {

// GB/s (1e9 bytes) read on `threads` threads; `smoke`: a smaller buffer.
double measure_read_bandwidth(int threads, bool smoke);

}  // namespace einc::bench
