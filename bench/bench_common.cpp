// bench/bench_common.cpp — see bench_common.h.
#include "bench_common.h"

#include <cpuid.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "ratio_table.h"

namespace einc::bench {

namespace {

bool env_true(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

int parse_count(const char* program, const std::string& text, const char* what) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || v < 1 || v > 1024) {
    std::fprintf(stderr, "%s: bad %s '%s' (expected an integer from 1 to 1024)\n", program, what, text.c_str());
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

Config parse_config(int* argc, char** argv, const char* program, const char* help) {
  Config cfg;
  if (const char* t = std::getenv("EINC_BENCH_THREADS"); t != nullptr && *t != '\0')
    cfg.threads = parse_count(program, t, "thread count");
  if (const char* b = std::getenv("EINC_BENCH_BACKEND"); b != nullptr && *b != '\0') cfg.backend = b;
  cfg.smoke = env_true("EINC_BENCH_SMOKE");
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string a = argv[i];
    auto value_of = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < *argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (auto v = value_of("--threads")) {
      cfg.threads = parse_count(program, *v, "thread count");
    } else if (auto r = value_of("--rounds")) {
      cfg.rounds = parse_count(program, *r, "round count");
    } else if (auto bk = value_of("--backend")) {
      cfg.backend = *bk;
    } else if (a == "--smoke") {
      cfg.smoke = true;
    } else {
      if (a == "--help" || a == "-h") std::fputs(help, stdout);
      if (a.rfind("--benchmark_repetitions", 0) == 0) cfg.user_repetitions = true;
      if (a.rfind("--benchmark_min_time", 0) == 0) cfg.user_min_time = true;
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
  return cfg;
}

void register_rounds(const std::string& case_name, const std::vector<const char*>& sides, const Config& cfg,
                     const std::function<void(benchmark::State&, const char*)>& run) {
  for (int round = 0; round < cfg.rounds; ++round)
    for (const char* side : sides) {
      const std::string name = side_key(case_name, side) + std::string(kRoundTag) + std::to_string(round);
      benchmark::internal::Benchmark* b =
          benchmark::RegisterBenchmark(name.c_str(), [run, side](benchmark::State& state) { run(state, side); });
      b->UseRealTime()->Unit(cfg.smoke ? benchmark::kMicrosecond : benchmark::kMillisecond);
      if (!cfg.user_repetitions) b->Repetitions(1);
      if (!cfg.user_min_time && cfg.smoke) b->MinTime(0.02);
    }
}

std::unique_ptr<TableReporter> run_benchmarks(int* argc, char** argv) {
  benchmark::Initialize(argc, argv);
  if (benchmark::ReportUnrecognizedArguments(*argc, argv)) return nullptr;
  auto reporter = std::make_unique<TableReporter>(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                                                                        : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(reporter.get());
  benchmark::Shutdown();
  return reporter;
}

void print_einc_and_warnings(const Config& cfg, const char* program) {
  std::printf("einc %s: backend '%s' (available:", einc::version().c_str(), cfg.backend.c_str());
  for (einc::Backend b : einc::available_backends()) std::printf(" %s", einc::backend_name(b));
  std::printf("), %d thread%s\n", cfg.threads, cfg.threads == 1 ? "" : "s");
  for (const char* var : {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA"}) {
    if (const char* val = std::getenv(var)) {
      const char* bar = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";
      std::fprintf(stderr,
                   "%s\n!!! WARNING: %s=%s is set in the environment: an anchor may not run at its best.\n"
                   "!!! (OPENBLAS_CORETYPE=Haswell halves OpenBLAS on this machine.) Rerun as\n"
                   "!!!   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/bench/%s\n%s\n",
                   bar, var, val, program, bar);
    }
  }
  std::fflush(stdout);
}

bool backend_available(const std::string& name) {
  for (einc::Backend b : einc::available_backends())
    if (einc::backend_name(b) == name) return true;
  return false;
}

void quiesce(const char* side, bool smoke) {
  static const char* last_side = nullptr;
  if (last_side != side) std::this_thread::sleep_for(std::chrono::milliseconds(smoke ? 20 : 300));
  last_side = side;
}

Peak remeasure_peak(const Peak& before, int threads, bool smoke) {
  Peak after = measure_peak(threads, smoke);
  if (std::fabs(after.gflops - before.gflops) > 0.05 * std::max(before.gflops, after.gflops))
    std::printf("\nnote: FMA peak measured %.1f before and %.1f GFLOP/s after the benchmarks; using the higher\n",
                before.gflops, after.gflops);
  return after.gflops > before.gflops ? after : before;
}

std::string cpu_identity() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return "unknown CPU";
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  __get_cpuid(1, &a, &b, &c, &d);
  unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
  if (family == 0xf) family += (a >> 20) & 0xff;
  if (family >= 6) model += ((a >> 16) & 0xf) << 4;
  char brand[49] = {};
  for (unsigned leaf = 0; leaf < 3; ++leaf) {
    unsigned r[4] = {};
    if (!__get_cpuid(0x80000002 + leaf, &r[0], &r[1], &r[2], &r[3])) break;
    std::memcpy(brand + 16 * leaf, r, 16);
  }
  std::string uarch;
  if (std::strcmp(vendor, "AuthenticAMD") == 0) {
    if (family == 0x1a) uarch = " (Zen 5)";
    if (family == 0x19)
      uarch = (model >= 0x10 && model <= 0x1f) || (model >= 0x60 && model <= 0x7f) || (model >= 0xa0 && model <= 0xaf)
                  ? " (Zen 4)"
                  : " (Zen 3)";
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s family 0x%x model 0x%x%s: %s", vendor, family, model, uarch.c_str(), brand);
  return buf;
}

CpuSample cpu_sample() {
  CpuSample s;
  s.when = std::chrono::steady_clock::now();
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu") return s;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.all_busy = (user + nice + system + irq + softirq + steal) / tick;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  s.own = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
          static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  s.valid = true;
  return s;
}

double BusyTotal::cores() const { return wall_seconds >= 0.25 ? std::max(0.0, other_core_seconds / wall_seconds) : -1; }

void BusyMeter::add(const std::string& key, const CpuSample& before, const CpuSample& after) {
  if (!before.valid || !after.valid) return;
  BusyTotal& t = totals_[key];
  t.other_core_seconds += (after.all_busy - before.all_busy) - (after.own - before.own);
  t.wall_seconds += std::chrono::duration<double>(after.when - before.when).count();
}

double BusyMeter::cores(const std::string& key) const {
  auto it = totals_.find(key);
  return it == totals_.end() ? -1 : it->second.cores();
}

double rel_error(const einc::Tensor& got, const einc::Tensor& want) {
  if (got.shape() != want.shape() || got.dtype() != want.dtype()) return INFINITY;
  double diff = 0, scale = 0;
  for (std::int64_t i = 0; i < want.numel(); ++i) {
    const double g = got.get_flat(i), w = want.get_flat(i);
    if (g == w) {  // equal infinities too (a causal mask's -inf): no difference
      if (std::isfinite(w)) scale = std::max(scale, std::fabs(w));
      continue;
    }
    const double d = std::fabs(g - w);
    if (!std::isfinite(d)) return INFINITY;  // a NaN, or an infinity where the anchor has none
    diff = std::max(diff, d);
    scale = std::max(scale, std::fabs(w));
  }
  return diff / std::max(scale, 1e-30);
}

double tolerance_for(einc::DType dtype) {
  switch (dtype) {
    case einc::DType::i8:
    case einc::DType::i32:
      return 0.0;
    case einc::DType::bf16:
      return std::ldexp(1.0, -7);
    case einc::DType::f16:
      return std::ldexp(1.0, -10);
    case einc::DType::f32:
    case einc::DType::f64:
      break;
  }
  return kTolerance;
}

std::string check_result(const einc::Tensor& got, const einc::Tensor& want, const char* against, double* error) {
  *error = rel_error(got, want);
  if (*error <= tolerance_for(want.dtype())) return "";
  char buf[200];
  std::snprintf(buf, sizeof buf, "wrong result: max rel err %.3g vs %s (%s vs %s)", *error, against,
                got.describe().c_str(), want.describe().c_str());
  return buf;
}

bool time_side(benchmark::State& state, BusyMeter& busy, const std::string& key, double flops,
               const std::function<void()>& run) {
  try {
    const CpuSample before = cpu_sample();
    for (auto _ : state) {
      run();
      benchmark::ClobberMemory();
    }
    busy.add(key, before, cpu_sample());
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("run failed: ") + e.what()).c_str());
    return false;
  }
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  return true;
}

}  // namespace einc::bench
