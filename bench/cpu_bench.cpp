// cpu_bench — einc's CPU backend against OpenBLAS, in one run, on the cases
// of docs/performance.md: square GEMMs, a projection, per-head attention as
// batched contractions over strided layouts, a non-GEMM contraction
// (abcd,dbe->ace), a batched matmul, and decode: one GEMV on a 64 MiB
// weight (partly served from the last-level cache when repeated) and a
// chain of four (256 MiB of weights, read from DRAM each call).
//
// Run it with OpenBLAS's environment traps removed (OPENBLAS_CORETYPE=Haswell
// halves OpenBLAS on this machine):
//
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/bench/cpu_bench
//
// Flags (before or among Google Benchmark's own --benchmark_* flags):
//   --threads=N    threads for both einc and OpenBLAS (env EINC_BENCH_THREADS; default 2)
//   --backend=NAME einc backend to time (env EINC_BENCH_BACKEND; default cpu)
//   --smoke        shrink every extent 16x and time briefly (env EINC_BENCH_SMOKE=1);
//                  with --backend=reference it checks the harness in seconds
//
// For each case the einc script is compiled once, with the dims baked in, and
// its inputs are made once (einc::random_inputs); OpenBLAS reads the same
// input buffers. Before einc is timed its output is checked against
// OpenBLAS's (max |diff| / max |OpenBLAS|); a wrong answer is not timed.
// Each benchmark reports FLOP/s as a counter. The two sides of a case run in
// interleaved rounds (OpenBLAS, einc, OpenBLAS, einc, ...: 5 rounds by
// default), so that the drift of this VM's speed between seconds hits both
// alike; the table printed at the end (ratio_table.h) gives each side's
// median over the rounds and the median of the per-round ratios, with their
// spread, and the fraction of the FMA peak measured in-process on the same
// number of threads (fma_peak.h).
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "einc/einc.h"
#include "fma_peak.h"
#include "ratio_table.h"

namespace {

using einc::bench::backend_available;
using einc::bench::BusyMeter;
using einc::bench::Config;
using einc::bench::cpu_identity;
using einc::bench::cpu_sample;
using einc::bench::CpuSample;
using einc::bench::kEinc;
using einc::bench::kOpenblas;
using einc::bench::kRoundTag;
using einc::bench::Peak;
using einc::bench::quiesce;
using einc::bench::rel_error;
using einc::bench::side_key;
using einc::bench::TableReporter;
using einc::bench::TableRow;
using std::int64_t;

// ---------------------------------------------------------------- config

Config g_cfg;

int64_t dim(int64_t n) { return g_cfg.smoke ? std::max<int64_t>(1, n / 16) : n; }

constexpr const char* kHelp =
    "cpu_bench: einc's CPU backend against OpenBLAS (docs/performance.md)\n"
    "  --threads=N     threads for einc and OpenBLAS (env EINC_BENCH_THREADS, default 2)\n"
    "  --rounds=R      interleaved rounds of OpenBLAS and einc per case (default 5; smoke 1)\n"
    "  --backend=NAME  einc backend to time (env EINC_BENCH_BACKEND, default cpu)\n"
    "  --smoke         every extent / 16, brief timing (env EINC_BENCH_SMOKE=1)\n"
    "Run as: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/bench/cpu_bench\n\n";

// ---------------------------------------------------------------- cases

// The OpenBLAS side of a case: reads the einc inputs in place and writes its
// result, laid out like einc's output (C order), into `result`.
struct Baseline {
  virtual ~Baseline() = default;
  virtual void run() = 0;
  einc::Tensor result;
};

const float* f32(const einc::TensorMap& inputs, const std::string& name) {
  const einc::Tensor& t = inputs.at(name);
  if (t.dtype() != einc::DType::f32 || !t.is_contiguous())
    throw std::runtime_error("input '" + name + "' is not a contiguous f32 tensor");
  return t.data_as<const float>();
}

float* out_ptr(const einc::Tensor& t) { return t.data_as<float>(); }

int blas_int(int64_t v) { return static_cast<int>(v); }

// C[M,N] = A[M,K] B[K,N], all row-major and contiguous.
struct GemmBaseline : Baseline {
  int64_t m, n, k;
  const float *a, *b;
  GemmBaseline(const einc::TensorMap& in, int64_t m_, int64_t k_, int64_t n_) : m(m_), n(n_), k(k_) {
    a = f32(in, "A");
    b = f32(in, "B");
    result = einc::Tensor::zeros(einc::DType::f32, {m, n});
  }
  void run() override {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(m), blas_int(n), blas_int(k), 1.0f, a, blas_int(k),
                b, blas_int(n), 0.0f, out_ptr(result), blas_int(n));
  }
};

// y[1,N] = x[1,K] W[K,N]: y = W^T x with W row-major [K,N].
struct GemvBaseline : Baseline {
  int64_t n, k;
  const float *x, *w;
  GemvBaseline(const einc::TensorMap& in, int64_t k_, int64_t n_) : n(n_), k(k_) {
    x = f32(in, "A");
    w = f32(in, "B");
    result = einc::Tensor::zeros(einc::DType::f32, {1, n});
  }
  void run() override {
    cblas_sgemv(CblasRowMajor, CblasTrans, blas_int(k), blas_int(n), 1.0f, w, blas_int(n), x, 1, 0.0f, out_ptr(result),
                1);
  }
};

// Decode through a chain of layers: h1 = x W1, h2 = h1 W2, ..., C = h_{L-1}
// W_L, one sgemv per layer (weights "B1".."BL", row-major [K,N], K = N).
struct GemvChainBaseline : Baseline {
  int64_t n;
  const float* x;
  std::vector<const float*> w;
  std::vector<float> h0, h1;
  GemvChainBaseline(const einc::TensorMap& in, int64_t n_, int layers) : n(n_), h0(n_), h1(n_) {
    x = f32(in, "A");
    for (int l = 1; l <= layers; ++l) w.push_back(f32(in, "B" + std::to_string(l)));
    result = einc::Tensor::zeros(einc::DType::f32, {1, n});
  }
  void run() override {
    const float* in = x;
    for (std::size_t l = 0; l < w.size(); ++l) {
      float* out = l + 1 == w.size() ? out_ptr(result) : (l % 2 == 0 ? h0.data() : h1.data());
      cblas_sgemv(CblasRowMajor, CblasTrans, blas_int(n), blas_int(n), 1.0f, w[l], blas_int(n), in, 1, 0.0f, out, 1);
      in = out;
    }
  }
};

// S[h,i,j] = sum_e Q[i,h,e] K[j,h,e]: per head one sgemm on the strided
// [T,E] slices of Q and K (lda = ldb = H*E), no copies.
struct ScoresBaseline : Baseline {
  int64_t t, h, e;
  const float *q, *kk;
  ScoresBaseline(const einc::TensorMap& in, int64_t t_, int64_t h_, int64_t e_) : t(t_), h(h_), e(e_) {
    q = f32(in, "Q");
    kk = f32(in, "K");
    result = einc::Tensor::zeros(einc::DType::f32, {h, t, t});
  }
  void run() override {
    float* s = out_ptr(result);
    for (int64_t head = 0; head < h; ++head)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(t), blas_int(t), blas_int(e), 1.0f, q + head * e,
                  blas_int(h * e), kk + head * e, blas_int(h * e), 0.0f, s + head * t * t, blas_int(t));
  }
};

// O[i,h,e] = sum_j P[h,i,j] V[j,h,e]: per head one sgemm; V's slice and O's
// slice are strided (ldb = ldc = H*E), no copies.
struct ValuesBaseline : Baseline {
  int64_t t, h, e;
  const float *p, *v;
  ValuesBaseline(const einc::TensorMap& in, int64_t t_, int64_t h_, int64_t e_) : t(t_), h(h_), e(e_) {
    p = f32(in, "P");
    v = f32(in, "V");
    result = einc::Tensor::zeros(einc::DType::f32, {t, h, e});
  }
  void run() override {
    float* o = out_ptr(result);
    for (int64_t head = 0; head < h; ++head)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(t), blas_int(e), blas_int(t), 1.0f,
                  p + head * t * t, blas_int(t), v + head * e, blas_int(h * e), 0.0f, o + head * e, blas_int(h * e));
  }
};

// C[a,c,e] = sum_{b,d} A[a,b,c,d] B[d,b,e] the way a BLAS user must: permute
// A to Ap[a,c,b,d] (rows (a,c), cols (b,d)) and B to Bp[b,d,e], then one
// sgemm [(a,c), (b,d)] x [(b,d), e]. The permutes (memcpy of contiguous
// d- and e-runs, one thread) are inside the timed region.
struct AbcdBaseline : Baseline {
  int64_t n;
  const float *a, *b;
  einc::Tensor ap, bp;
  AbcdBaseline(const einc::TensorMap& in, int64_t n_) : n(n_) {
    a = f32(in, "A");
    b = f32(in, "B");
    ap = einc::Tensor::zeros(einc::DType::f32, {n, n, n, n});
    bp = einc::Tensor::zeros(einc::DType::f32, {n, n, n});
    result = einc::Tensor::zeros(einc::DType::f32, {n, n, n});
  }
  void run() override {
    float* pa = out_ptr(ap);
    float* pb = out_ptr(bp);
    const std::size_t run_bytes = static_cast<std::size_t>(n) * sizeof(float);
    for (int64_t ia = 0; ia < n; ++ia)
      for (int64_t ic = 0; ic < n; ++ic)
        for (int64_t ib = 0; ib < n; ++ib)
          std::memcpy(pa + ((ia * n + ic) * n + ib) * n, a + ((ia * n + ib) * n + ic) * n, run_bytes);
    for (int64_t ib = 0; ib < n; ++ib)
      for (int64_t id = 0; id < n; ++id) std::memcpy(pb + (ib * n + id) * n, b + (id * n + ib) * n, run_bytes);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(n * n), blas_int(n), blas_int(n * n), 1.0f, pa,
                blas_int(n * n), pb, blas_int(n), 0.0f, out_ptr(result), blas_int(n));
  }
};

// C[b,i,k] = A[b,i,j] B[b,j,k]: one sgemm per batch.
struct BatchedBaseline : Baseline {
  int64_t batch, n;
  const float *a, *b;
  BatchedBaseline(const einc::TensorMap& in, int64_t batch_, int64_t n_) : batch(batch_), n(n_) {
    a = f32(in, "A");
    b = f32(in, "B");
    result = einc::Tensor::zeros(einc::DType::f32, {batch, n, n});
  }
  void run() override {
    float* c = out_ptr(result);
    const int64_t step = n * n;
    for (int64_t i = 0; i < batch; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(n), blas_int(n), blas_int(n), 1.0f, a + i * step,
                  blas_int(n), b + i * step, blas_int(n), 0.0f, c + i * step, blas_int(n));
  }
};

struct Case {
  std::string name;
  std::string anchor;  // what OpenBLAS runs, for the table
  std::string script;  // dims baked in
  std::string output;
  double flops = 0;
  std::function<std::unique_ptr<Baseline>(const einc::TensorMap&)> make_baseline;
};

std::string matmul_script(int64_t m, int64_t k, int64_t n) {
  return "dim M = " + std::to_string(m) + ", K = " + std::to_string(k) + ", N = " + std::to_string(n) +
         "\ninput A[M, K]\ninput B[K, N]\nC[i, j] = A[i, k] * B[k, j]\noutput C\n";
}

std::vector<Case> make_cases() {
  std::vector<Case> cases;
  auto gemm_case = [&](std::string name, int64_t m, int64_t k, int64_t n) {
    cases.push_back({std::move(name), "sgemm", matmul_script(m, k, n), "C", 2.0 * m * k * n,
                     [=](const einc::TensorMap& in) { return std::make_unique<GemmBaseline>(in, m, k, n); }});
  };
  for (int64_t s : {256, 512, 1024, 2048}) gemm_case("square_" + std::to_string(s), dim(s), dim(s), dim(s));
  gemm_case("projection_1000x4096x4096", dim(1000), dim(4096), dim(4096));

  {
    const int64_t t = dim(1000), h = dim(32), e = dim(128);
    const std::string dims =
        "dim T = " + std::to_string(t) + ", H = " + std::to_string(h) + ", E = " + std::to_string(e) + "\n";
    cases.push_back({"attn_scores_32h_1000x1000x128", "sgemm per head, strided",
                     dims + "input Q[T, H, E]\ninput K[T, H, E]\nS[h, i, j] = Q[i, h, e] * K[j, h, e]\noutput S\n", "S",
                     2.0 * h * t * t * e,
                     [=](const einc::TensorMap& in) { return std::make_unique<ScoresBaseline>(in, t, h, e); }});
    cases.push_back({"attn_values_32h_1000x128x1000", "sgemm per head, strided",
                     dims + "input P[H, T, T]\ninput V[T, H, E]\nO[i, h, e] = P[h, i, j] * V[j, h, e]\noutput O\n", "O",
                     2.0 * h * t * e * t,
                     [=](const einc::TensorMap& in) { return std::make_unique<ValuesBaseline>(in, t, h, e); }});
  }
  {
    const int64_t n = dim(48);
    const std::string d = std::to_string(n);
    cases.push_back({"abcd_dbe_ace_48", "permute A,B + sgemm",
                     "dim N = " + d + "\ninput A[N, N, N, N]\ninput B[N, N, N]\n" +
                         "C[a, c, e] = A[a, b, c, d] * B[d, b, e]\noutput C\n",
                     "C", 2.0 * n * n * n * n * n,
                     [=](const einc::TensorMap& in) { return std::make_unique<AbcdBaseline>(in, n); }});
  }
  {
    const int64_t b = dim(32), n = dim(128);
    cases.push_back({"batched_bij_bjk_32x128", "sgemm per batch",
                     "dim Bt = " + std::to_string(b) + ", N = " + std::to_string(n) +
                         "\ninput A[Bt, N, N]\ninput B[Bt, N, N]\nC[b, i, k] = A[b, i, j] * B[b, j, k]\noutput C\n",
                     "C", 2.0 * b * n * n * n,
                     [=](const einc::TensorMap& in) { return std::make_unique<BatchedBaseline>(in, b, n); }});
  }
  {
    const int64_t k = dim(4096), n = dim(4096);
    cases.push_back({"decode_1x4096x4096", "sgemv", matmul_script(1, k, n), "C", 2.0 * k * n,
                     [=](const einc::TensorMap& in) { return std::make_unique<GemvBaseline>(in, k, n); }});
  }
  {
    // Four layers' weights (256 MiB) are more than the caches hold, so every
    // call reads them from DRAM, as decoding through a real model does; the
    // single-layer case above re-reads the same 64 MiB and is partly served
    // from the last-level caches.
    const int64_t n = dim(4096);
    constexpr int kLayers = 4;
    std::string script = "dim N = " + std::to_string(n) + "\ninput A[1, N]\n";
    for (int l = 1; l <= kLayers; ++l) script += "input B" + std::to_string(l) + "[N, N]\n";
    for (int l = 1; l <= kLayers; ++l) {
      std::string in = l == 1 ? "A" : "H" + std::to_string(l - 1), out = l == kLayers ? "C" : "H" + std::to_string(l);
      script += out + "[i, j] = " + in + "[i, k] * B" + std::to_string(l) + "[k, j]\n";
    }
    script += "output C\n";
    cases.push_back({"decode_4_layers_4096", "sgemv per layer", script, "C", 2.0 * kLayers * n * n,
                     [=](const einc::TensorMap& in) { return std::make_unique<GemvChainBaseline>(in, n, kLayers); }});
  }
  return cases;
}

// ---------------------------------------------------------------- busy meter

// How busy the machine was while each side was timed (bench_common.h).
BusyMeter g_busy;

// The table's rows: each case with the worse of its two sides' busy figures.
std::vector<TableRow> table_rows(const std::vector<Case>& cases) {
  std::vector<TableRow> rows;
  for (const Case& c : cases) {
    double other = -1;
    for (const char* side : {kEinc, kOpenblas}) other = std::max(other, g_busy.cores(side_key(c.name, side)));
    rows.push_back({c.name, c.anchor, other});
  }
  return rows;
}

// ---------------------------------------------------------------- state

// Made on first use and kept: the compiled program, its inputs (shared by
// both sides), OpenBLAS's baseline, and the result of einc's check.
struct CaseState {
  bool prepared = false;
  std::string error;  // compile / input error: neither side can run
  std::optional<einc::Program> program;
  einc::TensorMap inputs;
  einc::TensorMap outputs;  // einc's output buffers, made by the first run and reused (Program::run_into)
  std::unique_ptr<Baseline> baseline;
  bool baseline_ran = false;
  bool checked = false;
  std::string check_error;  // einc ran wrong or failed
  double check_rel_err = 0;
};

std::map<std::string, CaseState> g_states;

CaseState& prepare(const Case& c) {
  CaseState& s = g_states[c.name];
  if (s.prepared) return s;
  s.prepared = true;
  try {
    s.program = einc::compile(c.script, {.filename = c.name + ".ein"});
    s.inputs = einc::random_inputs(*s.program, 1);
    s.baseline = c.make_baseline(s.inputs);
  } catch (const einc::CompileError& e) {
    s.error = "compile failed: ";
    for (const einc::Diagnostic& d : e.diagnostics()) s.error += d.message + "; ";
  } catch (const std::exception& e) {
    s.error = std::string("setup failed: ") + e.what();
  }
  return s;
}

constexpr double kTolerance = 1e-4;  // relative to max |OpenBLAS|; f32, any summation order

void set_flops(benchmark::State& state, const Case& c) {
  state.counters["FLOP/s"] = benchmark::Counter(c.flops, benchmark::Counter::kIsIterationInvariantRate);
}

void bench_openblas(benchmark::State& state, const Case* c) {
  CaseState& s = prepare(*c);
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  quiesce(kOpenblas, g_cfg.smoke);
  if (!s.baseline_ran) {
    s.baseline->run();
    s.baseline_ran = true;
  }
  const CpuSample before = cpu_sample();
  for (auto _ : state) {
    s.baseline->run();
    benchmark::ClobberMemory();
  }
  g_busy.add(side_key(c->name, kOpenblas), before, cpu_sample());
  set_flops(state, *c);
}

void bench_einc(benchmark::State& state, const Case* c) {
  if (!backend_available(g_cfg.backend)) {
    state.SkipWithError((g_cfg.backend + " backend not available").c_str());
    return;
  }
  CaseState& s = prepare(*c);
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  const einc::RunOptions options{.backend = *einc::backend_from_name(g_cfg.backend), .threads = g_cfg.threads};
  quiesce(kEinc, g_cfg.smoke);
  if (!s.checked) {
    s.checked = true;
    try {
      if (!s.baseline_ran) {
        s.baseline->run();
        s.baseline_ran = true;
      }
      s.program->run_into(s.inputs, s.outputs, options);  // also the warm-up (JIT, caches)
      auto it = s.outputs.find(c->output);
      if (it == s.outputs.end()) {
        s.check_error = "no output '" + c->output + "'";
      } else {
        s.check_rel_err = rel_error(it->second, s.baseline->result);
        if (!(s.check_rel_err <= kTolerance)) {
          char buf[160];
          std::snprintf(buf, sizeof buf, "wrong result: max rel err %.3g vs OpenBLAS (%s vs %s)", s.check_rel_err,
                        it->second.describe().c_str(), s.baseline->result.describe().c_str());
          s.check_error = buf;
        }
      }
    } catch (const std::exception& e) {
      s.check_error = std::string("run failed: ") + e.what();
    }
  }
  if (!s.check_error.empty()) {
    state.SkipWithError(s.check_error.c_str());
    return;
  }
  const CpuSample before = cpu_sample();
  try {
    for (auto _ : state) {
      s.program->run_into(s.inputs, s.outputs, options);
      benchmark::ClobberMemory();
    }
    g_busy.add(side_key(c->name, kEinc), before, cpu_sample());
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("run failed: ") + e.what()).c_str());
    return;
  }
  set_flops(state, *c);
  char label[64];
  std::snprintf(label, sizeof label, "checked, rel err %.1e", s.check_rel_err);
  state.SetLabel(label);
}

// ---------------------------------------------------------------- environment

void print_environment() {
  std::printf("CPU: %s, %u logical CPUs\n", cpu_identity().c_str(), std::thread::hardware_concurrency());
  std::printf("OpenBLAS: core %s, config \"%s\", %d thread%s\n", openblas_get_corename(), openblas_get_config(),
              openblas_get_num_threads(), openblas_get_num_threads() == 1 ? "" : "s");
  std::printf("einc %s: backend '%s' (available:", einc::version().c_str(), g_cfg.backend.c_str());
  for (einc::Backend b : einc::available_backends()) std::printf(" %s", einc::backend_name(b));
  std::printf("), %d thread%s\n", g_cfg.threads, g_cfg.threads == 1 ? "" : "s");
  for (const char* var : {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}) {
    if (const char* v = std::getenv(var)) {
      const char* bar = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";
      std::fprintf(stderr,
                   "%s\n!!! WARNING: %s=%s is set in the environment.\n"
                   "!!! OPENBLAS_CORETYPE=Haswell halves OpenBLAS on this machine (AVX2 kernels): the anchor\n"
                   "!!! is not OpenBLAS at its best. Rerun as\n"
                   "!!!   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/bench/cpu_bench\n%s\n",
                   bar, var, v, bar);
    }
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  g_cfg = einc::bench::parse_config(&argc, argv, "cpu_bench", kHelp);
  openblas_set_num_threads(g_cfg.threads);
  print_environment();

  Peak peak = einc::bench::measure_peak(g_cfg.threads, g_cfg.smoke);

  const std::vector<Case> cases = make_cases();
  if (g_cfg.smoke) g_cfg.rounds = 1;
  // Registration order is run order: per case, OpenBLAS and einc alternate
  // for g_cfg.rounds rounds.
  for (const Case& c : cases)
    for (int round = 0; round < g_cfg.rounds; ++round)
      for (const char* side : {kOpenblas, kEinc}) {
        std::string name = side_key(c.name, side) + std::string(kRoundTag) + std::to_string(round);
        benchmark::internal::Benchmark* b =
            benchmark::RegisterBenchmark(name.c_str(), side == kEinc ? bench_einc : bench_openblas, &c);
        b->UseRealTime()->Unit(g_cfg.smoke ? benchmark::kMicrosecond : benchmark::kMillisecond);
        if (!g_cfg.user_repetitions) b->Repetitions(1);
        if (!g_cfg.user_min_time && g_cfg.smoke) b->MinTime(0.02);
      }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  TableReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                                               : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  peak = einc::bench::remeasure_peak(peak, g_cfg.threads, g_cfg.smoke);
  einc::bench::print_table(table_rows(cases), reporter, peak,
                           {g_cfg.backend, g_cfg.threads, g_cfg.rounds, g_cfg.smoke});
  print_environment();  // again, so the warning is next to the numbers
  return 0;
}
