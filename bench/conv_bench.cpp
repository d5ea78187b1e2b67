// conv_bench — einc's CPU backend on convolutions against two anchors, in
// one run, on ResNet-50 shapes (docs/performance.md, "Convolutions"):
//
//   oneDNN     dnnl::convolution_forward (direct), src/weights/dst in the
//              formats oneDNN picks (format_tag::any): its best case. X and
//              K are reordered into those formats once, before timing, and
//              its dst is reordered back to NCHW only for the check: the
//              timed region is the convolution primitive alone, what a
//              network kept in oneDNN's blocked formats runs per layer.
//   im2col     per image, a plain im2col of X into a buffer (one thread,
//              Caffe's im2col_cpu loop order; skipped for a 1x1 stride-1
//              convolution, whose im2col is X itself), then one cblas_sgemm
//              [F, C*R*S] x [C*R*S, P*Q] straight into Y (NCHW): both timed.
//
// einc runs the convolution as written in its language, with NCHW X,
// OIHW K and NCHW Y, e.g.
//
//   Y[n, f, p, q] = padded(X[n, c, 2*p + r - 1, 2*q + s - 1]) * K[f, c, r, s]
//
// Run it with OpenBLAS's environment traps removed (OPENBLAS_CORETYPE=Haswell
// halves OpenBLAS on this machine):
//
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/bench/conv_bench
//
// Flags (before or among Google Benchmark's own --benchmark_* flags):
//   --threads=N    threads for einc, oneDNN (OpenMP) and OpenBLAS (env EINC_BENCH_THREADS; default 2)
//   --rounds=R     interleaved rounds per case (default 5; smoke 1)
//   --backend=NAME einc backend to time (env EINC_BENCH_BACKEND; default cpu)
//   --smoke        channels and image sides / 16, brief timing (env EINC_BENCH_SMOKE=1)
//
// Same rules as cpu_bench: each case's script is compiled once with its dims
// baked in, its inputs made once (einc::random_inputs), and every side reads
// those buffers. Before einc is timed its output is checked against both
// anchors' (max |diff| / max |anchor|); a wrong answer is not timed. The
// sides run in interleaved rounds (oneDNN, im2col+sgemm, einc, oneDNN, ...),
// and the table at the end (ratio_table.h) gives each side's median, the
// median of the per-round ratios einc / anchor with their range next to
// the targets, einc's fraction of the FMA peak and how busy the
// machine was. FLOPs are 2 x N*F*P*Q*C*R*S for every side (padded positions
// included, as einc's report counts them).
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench_common.h"
#include "einc/einc.h"
#include "fma_peak.h"
#include "onednn_info.h"
#include "ratio_table.h"

namespace {

using einc::bench::AnchorColumn;
using einc::bench::backend_available;
using einc::bench::BusyMeter;
using einc::bench::check_result;
using einc::bench::Config;
using einc::bench::cpu_identity;
using einc::bench::format_of;
using einc::bench::kEinc;
using einc::bench::kOnednn;
using einc::bench::Peak;
using einc::bench::quiesce;
using einc::bench::side_key;
using einc::bench::TableReporter;
using einc::bench::TableRow;
using einc::bench::time_side;
using std::int64_t;

constexpr const char* kIm2col = "im2col";

// The targets (15, "Running it, fast"): einc / anchor.
constexpr double kTargetOnednn = 0.8;
constexpr double kTargetIm2col = 1.0;

// ---------------------------------------------------------------- config

Config g_cfg;

constexpr const char* kHelp =
    "conv_bench: einc's convolutions against oneDNN and im2col + OpenBLAS sgemm (docs/performance.md)\n"
    "  --threads=N     threads for every side (env EINC_BENCH_THREADS, default 2)\n"
    "  --rounds=R      interleaved rounds of oneDNN, im2col+sgemm and einc per case (default 5; smoke 1)\n"
    "  --backend=NAME  einc backend to time (env EINC_BENCH_BACKEND, default cpu)\n"
    "  --smoke         channels and image sides / 16, brief timing (env EINC_BENCH_SMOKE=1)\n"
    "Run as: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/bench/conv_bench\n\n";

// ---------------------------------------------------------------- cases

// A 2-D convolution, NCHW input, OIHW weights, NCHW output, symmetric zero
// padding, no bias.
struct ConvShape {
  int64_t n, c, h, w, f, r, s, stride, pad;
  int64_t p() const { return (h + 2 * pad - r) / stride + 1; }
  int64_t q() const { return (w + 2 * pad - s) / stride + 1; }
  double flops() const { return 2.0 * static_cast<double>(n * f * p() * q() * c * r * s); }
  bool is_1x1() const { return r == 1 && s == 1 && stride == 1 && pad == 0; }
};

// "2*p + r - 1": the input position of output index `out` and window index
// `win`.
std::string position(const char* out, const char* win, int64_t stride, int64_t pad) {
  std::string s = (stride == 1 ? "" : std::to_string(stride) + "*") + out + " + " + win;
  if (pad != 0) s += " - " + std::to_string(pad);
  return s;
}

// The convolution in einc's language, dims baked in. A 1x1 convolution
// reads X[n, c, p, q] and K[f, c, 0, 0] (no window, no padding).
std::string conv_script(const ConvShape& c) {
  auto d = [](int64_t v) { return std::to_string(v); };
  std::string s = "dim N = " + d(c.n) + ", C = " + d(c.c) + ", H = " + d(c.h) + ", W = " + d(c.w) + ", F = " + d(c.f) +
                  ", P = " + d(c.p()) + ", Q = " + d(c.q()) + "\n";
  s += "input X[N, C, H, W]\nparam K[F, C, " + d(c.r) + ", " + d(c.s) + "]\noutput Y[N, F, P, Q]\n";
  if (c.is_1x1()) return s + "Y[n, f, p, q] = X[n, c, p, q] * K[f, c, 0, 0]\n";
  std::string x = "X[n, c, " + position("p", "r", c.stride, c.pad) + ", " + position("q", "s", c.stride, c.pad) + "]";
  if (c.pad != 0) x = "padded(" + x + ")";
  return s + "Y[n, f, p, q] = " + x + " * K[f, c, r, s]\n";
}

struct Case {
  std::string name;
  ConvShape shape;
  std::string script;
};

std::vector<Case> make_cases() {
  // Smoke: channels and image sides / 16; the window, stride, padding and
  // batch stay.
  auto d = [](int64_t v) { return g_cfg.smoke ? std::max<int64_t>(1, v / 16) : v; };
  struct Spec {
    const char* name;
    int64_t c, hw, f, rs, stride, pad;
  };
  // ResNet-50: a conv2_x 3x3, the stride-2 3x3 that opens conv3_x (v1.5),
  // and a conv2_x 1x1 reduction.
  const Spec specs[] = {
      {"conv3x3_s1_56_64to64", 64, 56, 64, 3, 1, 1},
      {"conv3x3_s2_56_128to128", 128, 56, 128, 3, 2, 1},
      {"conv1x1_56_256to64", 256, 56, 64, 1, 1, 0},
  };
  std::vector<Case> cases;
  for (const Spec& sp : specs)
    for (int64_t n : {1, 8}) {
      ConvShape sh{n, d(sp.c), d(sp.hw), d(sp.hw), d(sp.f), sp.rs, sp.rs, sp.stride, sp.pad};
      cases.push_back({std::string(sp.name) + "_n" + std::to_string(n), sh, conv_script(sh)});
    }
  return cases;
}

const float* f32(const einc::TensorMap& inputs, const std::string& name) {
  const einc::Tensor& t = inputs.at(name);
  if (t.dtype() != einc::DType::f32 || !t.is_contiguous())
    throw std::runtime_error("input '" + name + "' is not a contiguous f32 tensor");
  return t.data_as<const float>();
}

// ---------------------------------------------------------------- anchors

// An anchor reads the einc inputs in place and leaves its result, NCHW like
// einc's, in `result` (after `finish`, untimed).
struct Anchor {
  virtual ~Anchor() = default;
  virtual void run() = 0;
  virtual void finish() {}
  einc::Tensor result;
};

// dnnl::convolution_forward in the formats oneDNN picks.
struct OnednnConv : Anchor {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::convolution_forward conv;
  dnnl::memory src, weights, dst, dst_nchw;
  std::unordered_map<int, dnnl::memory> args;
  std::string impl;  // which implementation and formats oneDNN chose

  OnednnConv(const einc::TensorMap& in, const ConvShape& c) {
    using dnnl::memory;
    using tag = memory::format_tag;
    const memory::data_type f32t = memory::data_type::f32;
    const memory::dims src_dims{c.n, c.c, c.h, c.w}, wei_dims{c.f, c.c, c.r, c.s}, dst_dims{c.n, c.f, c.p(), c.q()};
    const memory::dims strides{c.stride, c.stride}, padding{c.pad, c.pad};
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                         memory::desc(src_dims, f32t, tag::any), memory::desc(wei_dims, f32t, tag::any),
                                         memory::desc(dst_dims, f32t, tag::any), strides, padding, padding);
    dnnl::convolution_forward::primitive_desc pd(desc, engine);
    impl = std::string(pd.impl_info_str()) + ": src " + format_of(pd.src_desc()) + ", weights " +
           format_of(pd.weights_desc()) + ", dst " + format_of(pd.dst_desc());

    // The user's NCHW / OIHW buffers (einc's inputs), reordered once.
    memory x_user({src_dims, f32t, tag::nchw}, engine, const_cast<float*>(f32(in, "X")));
    memory k_user({wei_dims, f32t, tag::oihw}, engine, const_cast<float*>(f32(in, "K")));
    src = memory(pd.src_desc(), engine);
    weights = memory(pd.weights_desc(), engine);
    dst = memory(pd.dst_desc(), engine);
    dnnl::reorder(x_user, src).execute(stream, x_user, src);
    dnnl::reorder(k_user, weights).execute(stream, k_user, weights);
    stream.wait();

    result = einc::Tensor::zeros(einc::DType::f32, {c.n, c.f, c.p(), c.q()});
    dst_nchw = memory({dst_dims, f32t, tag::nchw}, engine, result.data_as<float>());
    conv = dnnl::convolution_forward(pd);
    args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  }
  void run() override {
    conv.execute(stream, args);
    stream.wait();
  }
  void finish() override {
    dnnl::reorder(dst, dst_nchw).execute(stream, dst, dst_nchw);
    stream.wait();
  }
};

// Per image: im2col into `col` ([C*R*S, P*Q], row (c, r, s) holds the input
// each output position reads at that window offset, 0 in the padding), then
// Y[n] = K [F, C*R*S] x col. A 1x1 stride-1 convolution multiplies by X[n]
// directly.
struct Im2colConv : Anchor {
  ConvShape c;
  const float *x, *k;
  einc::Tensor col;

  Im2colConv(const einc::TensorMap& in, const ConvShape& c_) : c(c_) {
    x = f32(in, "X");
    k = f32(in, "K");
    if (!c.is_1x1()) col = einc::Tensor::zeros(einc::DType::f32, {c.c * c.r * c.s, c.p() * c.q()});
    result = einc::Tensor::zeros(einc::DType::f32, {c.n, c.f, c.p(), c.q()});
  }

  void im2col(const float* xn, float* out) const {
    const int64_t P = c.p(), Q = c.q();
    for (int64_t ch = 0; ch < c.c; ++ch)
      for (int64_t r = 0; r < c.r; ++r)
        for (int64_t s = 0; s < c.s; ++s) {
          float* row = out + ((ch * c.r + r) * c.s + s) * P * Q;
          // Output columns q whose input column q*stride + s - pad is inside X.
          const int64_t off = s - c.pad;
          const int64_t q0 = std::min(Q, std::max<int64_t>(0, (-off + c.stride - 1) / c.stride));
          const int64_t q1 = std::max(q0, std::min(Q, (c.w - off + c.stride - 1) / c.stride));
          for (int64_t p = 0; p < P; ++p) {
            float* dst = row + p * Q;
            const int64_t ih = p * c.stride + r - c.pad;
            if (ih < 0 || ih >= c.h) {
              std::memset(dst, 0, static_cast<std::size_t>(Q) * sizeof(float));
              continue;
            }
            const float* src = xn + (ch * c.h + ih) * c.w + off;
            for (int64_t q = 0; q < q0; ++q) dst[q] = 0;
            if (c.stride == 1)
              std::memcpy(dst + q0, src + q0, static_cast<std::size_t>(q1 - q0) * sizeof(float));
            else
              for (int64_t q = q0; q < q1; ++q) dst[q] = src[q * c.stride];
            for (int64_t q = q1; q < Q; ++q) dst[q] = 0;
          }
        }
  }

  void run() override {
    const int64_t PQ = c.p() * c.q(), CRS = c.c * c.r * c.s;
    float* y = result.data_as<float>();
    for (int64_t img = 0; img < c.n; ++img) {
      const float* xn = x + img * c.c * c.h * c.w;
      const float* b = xn;
      if (!c.is_1x1()) {
        im2col(xn, col.data_as<float>());
        b = col.data_as<const float>();
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(c.f), static_cast<int>(PQ),
                  static_cast<int>(CRS), 1.0f, k, static_cast<int>(CRS), b, static_cast<int>(PQ), 0.0f,
                  y + img * c.f * PQ, static_cast<int>(PQ));
    }
  }
};

// ---------------------------------------------------------------- state

// Made on first use and kept: the compiled program, its inputs (shared by
// every side), the anchors, and the result of einc's check.
struct CaseState {
  bool prepared = false;
  std::string error;  // compile / input / anchor setup error: no side can run
  std::optional<einc::Program> program;
  einc::TensorMap inputs;
  einc::TensorMap outputs;                                 // einc's output buffers, reused (Program::run_into)
  std::map<std::string, std::unique_ptr<Anchor>> anchors;  // by side
  std::map<std::string, bool> anchor_ran;
  bool checked = false;
  std::string check_error;
  double check_rel_err = 0;  // the worse of the two checks
};

std::map<std::string, CaseState> g_states;
std::map<std::string, std::string> g_onednn_impl;  // case -> oneDNN's choice, for the notes

CaseState& prepare(const Case& c) {
  CaseState& s = g_states[c.name];
  if (s.prepared) return s;
  s.prepared = true;
  try {
    s.program = einc::compile(c.script, {.filename = c.name + ".ein"});
    s.inputs = einc::random_inputs(*s.program, 1);
    auto onednn = std::make_unique<OnednnConv>(s.inputs, c.shape);
    g_onednn_impl[c.name] = onednn->impl;
    s.anchors[kOnednn] = std::move(onednn);
    s.anchors[kIm2col] = std::make_unique<Im2colConv>(s.inputs, c.shape);
  } catch (const einc::CompileError& e) {
    s.error = "compile failed: ";
    for (const einc::Diagnostic& d : e.diagnostics()) s.error += d.message + "; ";
  } catch (const dnnl::error& e) {
    s.error = std::string("oneDNN setup failed: ") + e.what();
  } catch (const std::exception& e) {
    s.error = std::string("setup failed: ") + e.what();
  }
  return s;
}

// Runs an anchor once, untimed, and puts its result in NCHW: its warm-up,
// and what einc is checked against.
void warm_anchor(CaseState& s, const char* side) {
  if (s.anchor_ran[side]) return;
  s.anchors.at(side)->run();
  s.anchors.at(side)->finish();
  s.anchor_ran[side] = true;
}

BusyMeter g_busy;

void bench_anchor(benchmark::State& state, const Case* c, const char* side) {
  CaseState& s = prepare(*c);
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  quiesce(side, g_cfg.smoke);
  Anchor& anchor = *s.anchors.at(side);
  try {
    warm_anchor(s, side);
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("run failed: ") + e.what()).c_str());
    return;
  }
  time_side(state, g_busy, side_key(c->name, side), c->shape.flops(), [&] { anchor.run(); });
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
      s.program->run_into(s.inputs, s.outputs, options);  // also the warm-up (JIT, caches)
      auto it = s.outputs.find("Y");
      if (it == s.outputs.end()) s.check_error = "no output 'Y'";
      for (const auto& [side, label] : {std::pair{kOnednn, "oneDNN"}, std::pair{kIm2col, "im2col+sgemm"}}) {
        if (!s.check_error.empty()) break;
        warm_anchor(s, side);
        double err = 0;
        s.check_error = check_result(it->second, s.anchors.at(side)->result, label, &err);
        s.check_rel_err = std::max(s.check_rel_err, err);
      }
    } catch (const std::exception& e) {
      s.check_error = std::string("run failed: ") + e.what();
    }
  }
  if (!s.check_error.empty()) {
    state.SkipWithError(s.check_error.c_str());
    return;
  }
  if (!time_side(state, g_busy, side_key(c->name, kEinc), c->shape.flops(),
                 [&] { s.program->run_into(s.inputs, s.outputs, options); }))
    return;
  char label[64];
  std::snprintf(label, sizeof label, "checked, rel err %.1e", s.check_rel_err);
  state.SetLabel(label);
}

// ---------------------------------------------------------------- environment

void print_environment() {
  std::printf("CPU: %s, %u logical CPUs\n", cpu_identity().c_str(), std::thread::hardware_concurrency());
  std::printf("%s\n", einc::bench::onednn_identity().c_str());
  std::printf("OpenBLAS: core %s, config \"%s\", %d thread%s\n", openblas_get_corename(), openblas_get_config(),
              openblas_get_num_threads(), openblas_get_num_threads() == 1 ? "" : "s");
  einc::bench::print_einc_and_warnings(g_cfg, "conv_bench");
}

void print_notes(const std::vector<Case>& cases) {
  std::printf(
      "oneDNN: convolution_forward (forward_inference, convolution_direct), format_tag::any for src, weights\n"
      "  and dst; X and K reordered into its formats once, before timing; dst reordered back to NCHW only\n"
      "  for the check, untimed: its timed region is the primitive alone (its best case). einc reads NCHW X,\n"
      "  OIHW K and writes NCHW Y, and its time includes all of that (and its zero-padded copy of X).\n"
      "im2col+sgemm: per image, im2col into a buffer (one thread; none for a 1x1 stride-1 convolution) and\n"
      "  one cblas_sgemm writing NCHW Y, all timed. Targets (issue 15): einc >= 0.80x oneDNN, >= 1.00x im2col+sgemm.\n"
      "oneDNN's choice per case:\n");
  for (const Case& c : cases)
    if (auto it = g_onednn_impl.find(c.name); it != g_onednn_impl.end())
      std::printf("  %-30s %s\n", c.name.c_str(), it->second.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  g_cfg = einc::bench::parse_config(&argc, argv, "conv_bench", kHelp);
  openblas_set_num_threads(g_cfg.threads);
  omp_set_num_threads(g_cfg.threads);  // oneDNN (Debian's build: OpenMP runtime, libgomp)
  print_environment();

  Peak peak = einc::bench::measure_peak(g_cfg.threads, g_cfg.smoke);

  const std::vector<Case> cases = make_cases();
  if (g_cfg.smoke) g_cfg.rounds = 1;
  // Registration order is run order: per case, oneDNN, im2col+sgemm and
  // einc alternate for g_cfg.rounds rounds.
  const std::vector<const char*> sides = {kOnednn, kIm2col, kEinc};
  for (const Case& c : cases)
    einc::bench::register_rounds(c.name, sides, g_cfg, [&c](benchmark::State& state, const char* side) {
      side == kEinc ? bench_einc(state, &c) : bench_anchor(state, &c, side);
    });

  const std::unique_ptr<TableReporter> reporter = einc::bench::run_benchmarks(&argc, argv);
  if (!reporter) return 1;
  peak = einc::bench::remeasure_peak(peak, g_cfg.threads, g_cfg.smoke);
  einc::bench::print_anchor_table(
      "convolutions: einc vs oneDNN and im2col + OpenBLAS sgemm",
      einc::bench::busy_rows(cases, {kOnednn, kIm2col, kEinc}, g_busy), *reporter, peak,
      {g_cfg.backend, g_cfg.threads, g_cfg.rounds, g_cfg.smoke, "channels and image sides / 16"},
      {{kOnednn, "oneDNN", kTargetOnednn}, {kIm2col, "im2col+sgemm", kTargetIm2col}}, false);
  print_notes(cases);
  print_environment();  // again, so the warning is next to the numbers
  return 0;
}
