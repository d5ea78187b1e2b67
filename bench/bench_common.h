// bench/bench_common.h — what cpu_bench and conv_bench share besides the
// table (ratio_table.h) and the peak (fma_peak.h): which CPU ran them, the
// busy meter (how much of the machine other processes took while a side was
// timed), and the check of einc's output against an anchor's.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "einc/einc.h"

namespace einc::bench {

// "AuthenticAMD family 0x19 model 0x11 (Zen 4): AMD EPYC" — the machine
// kind's hosts differ (Zen 4 has half of Zen 5's FMA throughput per core),
// so every run says which one it measured.
std::string cpu_identity();

// What else ran on the machine while a benchmark was timed: the CPU time of
// all processes (/proc/stat, steal included) minus this process's own
// (getrusage: every thread, the anchors' and einc's included), per second of
// wall time, in cores. On a 2-core machine anything well above 0 means the
// figures understate both sides.
struct CpuSample {
  double all_busy = 0;  // seconds, whole machine
  double own = 0;       // seconds, this process
  std::chrono::steady_clock::time_point when;
  bool valid = false;
};
CpuSample cpu_sample();

struct BusyTotal {
  double other_core_seconds = 0;
  double wall_seconds = 0;
  // -1 when the runs were too short for /proc/stat's 10 ms ticks to tell.
  double cores() const;
};

// Busy totals by side_key ("case/side").
class BusyMeter {
 public:
  void add(const std::string& key, const CpuSample& before, const CpuSample& after);
  // That side's cores, or -1 when it has none (filtered out, too short).
  double cores(const std::string& key) const;

 private:
  std::map<std::string, BusyTotal> totals_;
};

// max |got - want| / max |want|; +inf on a shape or dtype mismatch or a NaN.
double rel_error(const einc::Tensor& got, const einc::Tensor& want);

}  // namespace einc::bench
