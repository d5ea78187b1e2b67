// bench/bench_common.h — what cpu_bench and conv_bench share besides the
// table (ratio_table.h) and the peak (fma_peak.h): their flags, which CPU
// ran them, the busy meter (how much of the machine other processes took
// while a side was timed), the pause between sides, and the check of einc's
// output against an anchor's.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "einc/einc.h"
#include "fma_peak.h"
#include "ratio_table.h"

namespace einc::bench {

// The flags every benchmark program takes, before or among Google
// Benchmark's own --benchmark_* flags.
struct Config {
  int threads = 2;                // --threads=N, env EINC_BENCH_THREADS: every side's threads
  bool smoke = false;             // --smoke, env EINC_BENCH_SMOKE=1: small sizes, brief timing
  std::string backend = "cpu";    // --backend=NAME, env EINC_BENCH_BACKEND: the einc backend timed
  int rounds = 5;                 // --rounds=R: interleaved rounds per case
  bool user_repetitions = false;  // --benchmark_repetitions given: do not override
  bool user_min_time = false;     // --benchmark_min_time given: do not override
};

// Reads the environment, then takes the flags above out of argv (Google
// Benchmark rejects unknown ones) and leaves the rest. A bad count exits 2
// with `program` in the message; on --help, `help` is printed before Google
// Benchmark's own help.
Config parse_config(int* argc, char** argv, const char* program, const char* help);

// Registers the rounds of one case: per round, one benchmark per side in
// `sides`, in that order (registration order is run order), named
// "<case>/<side>/round:<r>" (side_key, kRoundTag in ratio_table.h), timed
// by the wall clock, calling run(state, side); one repetition and, with
// --smoke, a brief minimum time unless the user's flags say otherwise.
void register_rounds(const std::string& case_name, const std::vector<const char*>& sides, const Config& cfg,
                     const std::function<void(benchmark::State&, const char*)>& run);

class TableReporter;  // ratio_table.h

// Initializes Google Benchmark with the flags left in argv and runs the
// registered benchmarks through a TableReporter (colour on a terminal);
// nullptr when a flag is unknown (Google Benchmark has said which).
std::unique_ptr<TableReporter> run_benchmarks(int* argc, char** argv);

// The line about einc (version, the backend timed, those available, the
// thread count), then, on stderr, a loud warning for each environment
// variable that keeps an anchor from its best (OPENBLAS_CORETYPE=Haswell
// halves OpenBLAS here; oneDNN's ISA caps), with how to rerun `program`.
void print_einc_and_warnings(const Config& cfg, const char* program);

// Whether this build of einc has the backend `name`.
bool backend_available(const std::string& name);

// Lets the previous side's worker threads (OpenBLAS and OpenMP spin for a
// while after a call) go idle before another side is timed: sleeps when the
// benchmark before this one ran another side (not when Google Benchmark
// calls the same one again to find its iteration count).
void quiesce(const char* side, bool smoke);

// The FMA peak measured again after the benchmarks: a burst of other work
// during the first measurement would otherwise inflate every "% of peak".
// Returns the higher of the two and notes a difference past 5%.
Peak remeasure_peak(const Peak& before, int threads, bool smoke);

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

// One table row per case (anything with a `name`): the worst of the busy
// figures of its `sides`.
template <typename Cases>
std::vector<TableRow> busy_rows(const Cases& cases, const std::vector<const char*>& sides, const BusyMeter& busy) {
  std::vector<TableRow> rows;
  for (const auto& c : cases) {
    double other = -1;
    for (const char* side : sides) other = std::max(other, busy.cores(side_key(c.name, side)));
    rows.push_back({c.name, other});
  }
  return rows;
}

// max |got - want| / max |want|, any dtype (both the same, any strides);
// +inf on a shape or dtype mismatch or a NaN.
double rel_error(const einc::Tensor& got, const einc::Tensor& want);

// The tolerance of the check of a floating-point result: relative to
// max |want|; f32, any summation order. An f16/bf16 result is rounded once
// from f32 sums that differ by their order: two right answers may be an
// ulp of the largest value apart (bf16 2^-7, f16 2^-10).
inline constexpr double kTolerance = 1e-4;
double tolerance_for(einc::DType dtype);

// The check of one side's output: "" when rel_error(got, want) (stored in
// *error) is within tolerance_for its dtype, or 0 for an integer dtype (i32 sums are
// exact, in any order), else "wrong result: max rel err 0.03 vs <against>
// (<got> vs <want>)", the reason that side is not timed.
std::string check_result(const einc::Tensor& got, const einc::Tensor& want, const char* against, double* error);

// Times run() in the benchmark's loop (ClobberMemory after each call), adds
// the machine's busy figures to `busy` under `key` and sets the FLOP/s
// counter to `flops` per call; an exception skips the benchmark with "run
// failed: ...". Returns whether it ran.
bool time_side(benchmark::State& state, BusyMeter& busy, const std::string& key, double flops,
               const std::function<void()>& run);

}  // namespace einc::bench
