// mask_bench — causal attention on einc's CPU backend against the same
// statements unmasked, in one run (docs/performance.md, "Causal masks").
//
// A causal mask keeps T*(T+1)/2 of the T*T scores, and einc's report counts
// exactly that work; the masked GETTs (docs/cpu-backend.md, "Masked GETTs")
// should then take about half the time of the unmasked statements. Each
// case runs both scripts on the same inputs:
//
//   masked     s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e] / sqrt(E), -inf)
//   unmasked   s[h, i, j] = q[h, i, e] * k[h, j, e] / sqrt(E)
//
// for the scores, the P V sum (`where(j <= i, p * v, 0)`), and the whole
// attention (scores, softmax, P V). Both sides are timed with the unmasked
// script's FLOPs (einc's report of it), so the ratio masked / unmasked in
// the table is the speedup; the target (15) is 1.6.
//
// Flags (before or among Google Benchmark's own --benchmark_* flags):
//   --threads=N    threads for einc (env EINC_BENCH_THREADS; default 2)
//   --rounds=R     interleaved rounds per case (default 5; smoke 1)
//   --backend=NAME einc backend to time (env EINC_BENCH_BACKEND; default cpu)
//   --smoke        T / 8, brief timing (env EINC_BENCH_SMOKE=1)
//
// Same rules as cpu_bench: each script is compiled once with its dims
// baked in, the inputs made once (einc::random_inputs; P is a causal
// softmax's output, zero past the diagonal) and shared by both sides,
// outputs written into buffers kept across runs (Program::run_into). Before
// a case is timed, its masked script is run at T / 8 on the backend and on
// the reference interpreter and compared; a wrong answer is not timed.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "einc/einc.h"
#include "fma_peak.h"
#include "ratio_table.h"

namespace {

using einc::bench::BusyMeter;
using einc::bench::kEinc;
using einc::bench::Peak;
using einc::bench::quiesce;
using einc::bench::side_key;
using einc::bench::TableReporter;
using einc::bench::TableRow;
using einc::bench::time_side;
using std::int64_t;

constexpr const char* kUnmasked = "unmasked";
constexpr double kTargetSpeedup = 1.6;  // issue 15: causal attention >= 1.6x faster than unmasked

constexpr const char* kHelp =
    "mask_bench: causal attention against the same statements unmasked, einc on both sides (docs/performance.md)\n"
    "  --threads=N     einc's threads (env EINC_BENCH_THREADS, default 2)\n"
    "  --rounds=R      interleaved rounds of unmasked and masked per case (default 5; smoke 1)\n"
    "  --backend=NAME  einc backend to time (env EINC_BENCH_BACKEND, default cpu)\n"
    "  --smoke         T / 8, brief timing (env EINC_BENCH_SMOKE=1)\n\n";

einc::bench::Config g_cfg;

// ---------------------------------------------------------------- cases

struct Case {
  std::string name;
  int64_t h, t, e;
  std::string statements_masked, statements_unmasked;  // the scripts' statements, output `o`
  std::string inputs;                                  // the scripts' input declarations
};

std::string script(const Case& c, int64_t t, const std::string& statements) {
  return "dim H = " + std::to_string(c.h) + ", T = " + std::to_string(t) + ", E = " + std::to_string(c.e) + "\n" +
         c.inputs + statements + "output o\n";
}

std::vector<Case> make_cases() {
  const std::string scores_masked = "o[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e] / sqrt(E), -inf)\n";
  const std::string scores = "o[h, i, j] = q[h, i, e] * k[h, j, e] / sqrt(E)\n";
  const std::string pv_masked = "o[i, h, e] = where(j <= i, p[h, i, j] * v[j, h, e], 0)\n";
  const std::string pv = "o[i, h, e] = p[h, i, j] * v[j, h, e]\n";
  const std::string attention_masked =
      "s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e] / sqrt(E), -inf)\n"
      "a[h, i, j] = softmax(j: s[h, i, j])\n"
      "o[i, h, e] = where(j <= i, a[h, i, j] * v[j, h, e], 0)\n";
  const std::string attention =
      "s[h, i, j] = q[h, i, e] * k[h, j, e] / sqrt(E)\n"
      "a[h, i, j] = softmax(j: s[h, i, j])\n"
      "o[i, h, e] = a[h, i, j] * v[j, h, e]\n";
  const std::string qk = "input q[H, T, E], k[H, T, E]\n", pv_in = "input p[H, T, T], v[T, H, E]\n",
                    qkv = "input q[H, T, E], k[H, T, E], v[T, H, E]\n";
  std::vector<Case> cases;
  // GPT-2 small's heads (12 x 64) at T = 1024; a LLaMA-7B-like head width
  // (128) at T = 2048, 8 heads.
  for (auto [h, t, e] : {std::tuple<int64_t, int64_t, int64_t>{12, 1024, 64}, {8, 2048, 128}}) {
    if (g_cfg.smoke) t /= 8;
    const std::string dims = std::to_string(h) + "h_T" + std::to_string(t) + "_E" + std::to_string(e);
    cases.push_back({"scores_" + dims, h, t, e, scores_masked, scores, qk});
    cases.push_back({"pv_" + dims, h, t, e, pv_masked, pv, pv_in});
    cases.push_back({"attention_" + dims, h, t, e, attention_masked, attention, qkv});
  }
  return cases;
}

// P as a causal softmax leaves it: rows that sum to 1 over j <= i, 0 past
// the diagonal (so both sides multiply what attention would).
void make_causal_probabilities(einc::TensorMap& inputs) {
  auto it = inputs.find("p");
  if (it == inputs.end()) return;
  einc::Tensor& p = it->second;
  const int64_t heads = p.shape()[0], t = p.shape()[1];
  float* data = p.data_as<float>();
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < t; ++i) {
      float* row = data + (h * t + i) * t;
      for (int64_t j = 0; j < t; ++j) row[j] = j <= i ? 1.0f / static_cast<float>(i + 1) + 0.01f * row[j] : 0.0f;
    }
}

// ---------------------------------------------------------------- state

struct Side {
  std::optional<einc::Program> program;
  einc::TensorMap outputs;  // kept across runs (Program::run_into)
};

struct CaseState {
  bool prepared = false;
  std::string error;  // no side can run
  std::map<std::string, Side> sides;
  einc::TensorMap inputs;
  double flops = 0;  // the unmasked script's, from einc's report
  double check_rel_err = 0;
};

std::map<std::string, CaseState> g_states;

einc::RunOptions run_options(const std::string& backend) {
  return {.backend = *einc::backend_from_name(backend), .threads = g_cfg.threads};
}

// The masked script at T / 8 on the backend against the reference.
std::string check_small(const Case& c, double& rel_err) {
  const int64_t t = std::max<int64_t>(8, c.t / 8);
  einc::Program program = einc::compile(script(c, t, c.statements_masked), {.filename = c.name + "_check.ein"});
  einc::TensorMap inputs = einc::random_inputs(program, 2);
  make_causal_probabilities(inputs);
  const einc::TensorMap want = program.run(inputs, run_options("reference"));
  const einc::TensorMap got = program.run(inputs, run_options(g_cfg.backend));
  const std::string against = "the reference at T = " + std::to_string(t);
  return einc::bench::check_result(got.at("o"), want.at("o"), against.c_str(), &rel_err);
}

CaseState& prepare(const Case& c) {
  CaseState& s = g_states[c.name];
  if (s.prepared) return s;
  s.prepared = true;
  try {
    s.sides[kEinc].program = einc::compile(script(c, c.t, c.statements_masked), {.filename = c.name + ".ein"});
    s.sides[kUnmasked].program =
        einc::compile(script(c, c.t, c.statements_unmasked), {.filename = c.name + "_unmasked.ein"});
    s.inputs = einc::random_inputs(*s.sides[kEinc].program, 1);
    make_causal_probabilities(s.inputs);
    s.flops = static_cast<double>(s.sides[kUnmasked].program->report().totals.flops.value);
    s.error = check_small(c, s.check_rel_err);
  } catch (const einc::CompileError& e) {
    s.error = "compile failed: ";
    for (const einc::Diagnostic& d : e.diagnostics()) s.error += d.message + "; ";
  } catch (const std::exception& e) {
    s.error = std::string("setup failed: ") + e.what();
  }
  return s;
}

BusyMeter g_busy;

void bench_side(benchmark::State& state, const Case* c, const char* side) {
  if (!einc::bench::backend_available(g_cfg.backend)) {
    state.SkipWithError((g_cfg.backend + " backend not available").c_str());
    return;
  }
  CaseState& s = prepare(*c);
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  Side& run = s.sides.at(side);
  const einc::RunOptions options = run_options(g_cfg.backend);
  quiesce(side, g_cfg.smoke);
  try {
    run.program->run_into(s.inputs, run.outputs, options);  // warm-up: JIT, caches, output buffers
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("run failed: ") + e.what()).c_str());
    return;
  }
  if (!time_side(state, g_busy, side_key(c->name, side), s.flops,
                 [&] { run.program->run_into(s.inputs, run.outputs, options); }))
    return;
  if (side == kEinc) {
    char label[64];
    std::snprintf(label, sizeof label, "checked, rel err %.1e", s.check_rel_err);
    state.SetLabel(label);
  }
}

void print_environment() {
  std::printf("CPU: %s, %u logical CPUs\n", einc::bench::cpu_identity().c_str(), std::thread::hardware_concurrency());
  einc::bench::print_einc_and_warnings(g_cfg, "mask_bench");
}

}  // namespace

int main(int argc, char** argv) {
  g_cfg = einc::bench::parse_config(&argc, argv, "mask_bench", kHelp);
  print_environment();
  Peak peak = einc::bench::measure_peak(g_cfg.threads, g_cfg.smoke);
  const std::vector<Case> cases = make_cases();
  if (g_cfg.smoke) g_cfg.rounds = 1;
  // Registration order is run order: per case, unmasked and masked alternate.
  for (const Case& c : cases)
    einc::bench::register_rounds(c.name, {kUnmasked, kEinc}, g_cfg,
                                 [&c](benchmark::State& state, const char* side) { bench_side(state, &c, side); });
  const std::unique_ptr<TableReporter> reporter = einc::bench::run_benchmarks(&argc, argv);
  if (!reporter) return 1;
  peak = einc::bench::remeasure_peak(peak, g_cfg.threads, g_cfg.smoke);
  einc::bench::print_anchor_table("causal masks: einc masked vs the same statements unmasked",
                                  einc::bench::busy_rows(cases, {kUnmasked, kEinc}, g_busy), *reporter, peak,
                                  {g_cfg.backend, g_cfg.threads, g_cfg.rounds, g_cfg.smoke, "T / 8"},
                                  {{kUnmasked, "unmasked", kTargetSpeedup}}, false);
  std::printf(
      "Both sides are counted with the unmasked script's FLOPs, so einc/unmasked is the speedup of the\n"
      "masked statements, and einc%%pk that effective rate's fraction of the peak. P is a causal softmax's\n"
      "output (zero past the diagonal) on both sides.\n");
  print_environment();  // again, next to the numbers
  return 0;
}
