// tests/cpu/loop_kernel_test.cpp — the cpu backend's JIT loop kernels
// (elementwise statements, reductions, normalisations) against the
// reference interpreter, through the public API.
//
// Each case runs a script on "reference" and on "cpu" with the same inputs
// and compares every output element: NaN matches NaN, an infinity the same
// infinity, and a finite value when |cpu - ref| <= atol + rtol |ref|, with
// the tolerances of docs/cpu-backend.md ("Loop kernels: accuracy"). Cases
// also check that the plan (`Program::emit`) says "JIT loop" where the
// kernel is meant to compile, and "interpreted" where it must fall back.
//
// Environment (optional): EINC_LOOP_RANDOM_CASES=N (default 300) and
// EINC_LOOP_RANDOM_SECONDS=S (default 60) bound the randomized test;
// EINC_LOOP_RANDOM_SEED=S runs that one case.
#include "backends/cpu/loop_kernel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api/program_impl.h"
#include "backends/cpu/loop_graph.h"
#include "backends/cpu/loop_lowering.h"
#include "einc/einc.h"
#include "tests/common/tensor_text.h"

namespace {

using einc::DType;
using einc::Tensor;
using einc::TensorMap;

// --- helpers ---------------------------------------------------------------------

struct Tolerance {
  double rtol = 2e-6;
  double atol = 2e-6;  // absolute, times max(1, the largest finite |ref| of the output)
  double floor = 0;    // absolute, as is
  double bound(double ref, double scale) const { return floor + atol * scale + rtol * std::fabs(ref); }
};

// EINC_LOOP_LANES for the scope of one object (the cpu backend reads it on
// every run and keys its kernels by it).
class LanesOverride {
 public:
  explicit LanesOverride(int lanes) {
    if (lanes > 0) setenv("EINC_LOOP_LANES", std::to_string(lanes).c_str(), 1);
  }
  ~LanesOverride() { unsetenv("EINC_LOOP_LANES"); }
  LanesOverride(const LanesOverride&) = delete;
  LanesOverride& operator=(const LanesOverride&) = delete;
};

einc::RunOptions on(const std::string& backend, int threads = 0) {
  einc::RunOptions o;
  o.backend = einc::backend_from_name(backend).value();
  o.threads = threads;
  return o;
}

using einc_test::shape_text;
using einc_test::unflatten;

// "" when every output matches, else the first difference.
std::string compare(const TensorMap& ref, const TensorMap& got, const Tolerance& tol) {
  std::ostringstream out;
  out.precision(9);
  for (const auto& [name, r] : ref) {
    auto it = got.find(name);
    if (it == got.end()) return "output '" + name + "' is missing";
    const Tensor& g = it->second;
    if (g.shape() != r.shape()) return "output '" + name + "' has shape " + shape_text(g.shape());
    double scale = 1;
    for (std::int64_t i = 0; i < r.numel(); ++i)
      if (std::isfinite(r.get_flat(i))) scale = std::max(scale, std::fabs(r.get_flat(i)));
    std::int64_t bad = 0, first = -1;
    for (std::int64_t i = 0; i < r.numel(); ++i) {
      double rv = r.get_flat(i), gv = g.get_flat(i);
      bool ok = std::isnan(rv) || std::isnan(gv)   ? std::isnan(rv) && std::isnan(gv)
                : std::isinf(rv) || std::isinf(gv) ? rv == gv
                                                   : std::fabs(gv - rv) <= tol.bound(rv, scale);
      if (!ok && bad++ == 0) first = i;
    }
    if (bad) {
      double rv = r.get_flat(first), gv = g.get_flat(first);
      out << "output '" << name << "' " << shape_text(r.shape()) << ": " << bad << " of " << r.numel()
          << " elements differ; first at " << shape_text(unflatten(first, r.shape())) << ": reference " << rv
          << ", cpu " << gv << " (|diff| " << std::fabs(gv - rv) << ", bound " << tol.bound(rv, scale) << ")";
      return out.str();
    }
  }
  return "";
}

std::string compare_bitwise(const TensorMap& a, const TensorMap& b) {
  for (const auto& [name, x] : a) {
    Tensor cx = x.clone(), cy = b.at(name).clone();
    if (cx.shape() != cy.shape()) return "output '" + name + "' differs in shape";
    if (std::memcmp(cx.data(), cy.data(), cx.nbytes()) != 0) return "output '" + name + "' differs";
  }
  return "";
}

// The plan lines of `einc emit`, one per statement.
std::vector<std::string> plan(const einc::Program& program) {
  std::vector<std::string> lines;
  std::istringstream in(program.emit(einc::EmitStage::llvm_ir));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("; line ", 0) == 0) lines.push_back(line);
  return lines;
}

enum class Expect { jit, last_interpreted };

// Compiles `script`, runs it on both backends and compares. Expect::jit:
// the plan must say "JIT loop" for every statement that is not a GETT;
// last_interpreted: "interpreted" for the last statement.
void check_script(const std::string& script, Expect expect = Expect::jit, Tolerance tol = {},
                  const TensorMap& given = {}, std::uint64_t seed = 1) {
  SCOPED_TRACE("script:\n" + script);
  einc::Program program = einc::compile(script);
  std::vector<std::string> lines = plan(program);
  for (const std::string& line : lines) {
    if (expect == Expect::jit && line.find("JIT GETT") == std::string::npos) {
      EXPECT_NE(line.find("JIT loop"), std::string::npos) << line;
    }
  }
  if (expect == Expect::last_interpreted && !lines.empty()) {
    EXPECT_NE(lines.back().find("interpreted"), std::string::npos) << lines.back();
  }
  TensorMap inputs = einc::random_inputs(program, seed, given);
  for (const auto& [name, t] : given) inputs.emplace(name, t);
  TensorMap ref = program.run(inputs, on("reference"));
  TensorMap got = program.run(inputs, on("cpu"));
  EXPECT_EQ(compare(ref, got, tol), "");
}

// Runs `program` on the cpu backend on 1 thread and on `threads`: the
// first must match the reference within `tol`, the second bit for bit.
void check_values_and_threads(const einc::Program& program, std::uint64_t seed, const Tolerance& tol, int threads) {
  TensorMap inputs = einc::random_inputs(program, seed);
  TensorMap one = program.run(inputs, on("cpu", 1));
  EXPECT_EQ(compare(program.run(inputs, on("reference")), one, tol), "");
  EXPECT_EQ(compare_bitwise(one, program.run(inputs, on("cpu", threads))), "") << threads << " threads";
}

Tensor tensor_from(const std::vector<std::int64_t>& shape, const std::vector<float>& values) {
  Tensor t = Tensor::zeros(DType::f32, shape);
  for (std::size_t i = 0; i < values.size(); ++i) t.set_flat(static_cast<std::int64_t>(i), values[i]);
  return t;
}

const std::vector<int> kOddSizes = {1, 7, 17, 33, 67};

// --- functions -------------------------------------------------------------------

TEST(LoopKernel, EveryFunctionAtOddSizes) {
  for (int n : kOddSizes) {
    std::string script = "dim N = " + std::to_string(n) + ", M = 3\n" +
                         "input X[N, M], Yt[M, N]\n"
                         "Fexp[i, j] = exp(X[i, j] * 4)\n"
                         "Flog[i, j] = log(abs(X[i, j]) + 0.001)\n"
                         "Fsqrt[i, j] = sqrt(abs(X[i, j]))\n"
                         "Frsqrt[i, j] = rsqrt(abs(X[i, j]) + 0.01)\n"
                         "Fabs[i, j] = abs(X[i, j])\n"
                         "Ftanh[i, j] = tanh(X[i, j] * 3)\n"
                         "Fsigmoid[i, j] = sigmoid(X[i, j] * 10)\n"
                         "Frelu[i, j] = relu(X[i, j])\n"
                         "Fgelu[i, j] = gelu(X[i, j] * 5)\n"
                         "Fsilu[i, j] = silu(X[i, j] * 5)\n"
                         "Fmax[i, j] = max(X[i, j], Yt[j, i])\n"
                         "Fmin[i, j] = min(X[i, j], Yt[j, i])\n"
                         "Fpow[i, j] = pow(abs(X[i, j]) + 0.1, Yt[j, i] * 3)\n"
                         "Fmix[i, j] = -X[i, j] / (2 + Yt[j, i]) - 3 * X[i, j] + N\n";
    check_script(script, Expect::jit, {2e-6, 1e-6});
  }
}

// The ulp error of each function over a dense sweep (and the special
// values), against the reference rounded to f32. The bounds are the ones
// docs/cpu-backend.md states.
TEST(LoopKernel, FunctionAccuracyOverSweeps) {
  struct Case {
    const char* name;
    const char* expr;  // of x (and y)
    double lo, hi;
    double max_ulp;      // relative to the reference's f32 result
    double max_abs = 0;  // ... or within this absolute error
  };
  const std::vector<Case> cases = {
      {"exp", "exp(X[i])", -103, 88, 2},        {"log", "log(X[i])", 1e-30, 1e6, 2},
      {"log near 1", "log(X[i])", 0.5, 2, 2},   {"sqrt", "sqrt(X[i])", 0, 1e4, 0.5},
      {"rsqrt", "rsqrt(X[i])", 1e-6, 1e4, 1.5}, {"tanh", "tanh(X[i])", -12, 12, 3},
      {"sigmoid", "sigmoid(X[i])", -80, 30, 3}, {"gelu", "gelu(X[i])", -12, 12, 4, 1e-6},
      {"silu", "silu(X[i])", -80, 30, 4},       {"pow", "pow(X[i], 2.5)", 0, 100, 0.5},
  };
  const std::int64_t n = 100003;
  std::cout << "function: max ulp (max abs where an absolute bound applies)\n";
  for (const Case& c : cases) {
    std::string script = "dim N = " + std::to_string(n) + "\ninput X[N]\nY[i] = " + c.expr + "\n";
    einc::Program program = einc::compile(script);
    Tensor x = Tensor::zeros(DType::f32, {n});
    const bool log_spaced = c.lo > 0 && c.hi / c.lo > 100;
    for (std::int64_t i = 0; i < n; ++i) {
      double t = static_cast<double>(i) / static_cast<double>(n - 1);
      x.set_flat(i, log_spaced ? c.lo * std::pow(c.hi / c.lo, t) : c.lo + (c.hi - c.lo) * t);
    }
    TensorMap inputs{{"X", x}};
    Tensor ref = program.run(inputs, on("reference")).at("Y");
    Tensor got = program.run(inputs, on("cpu")).at("Y");
    double worst = 0, at = 0, worst_abs = 0, at_abs = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      auto r = static_cast<float>(ref.get_flat(i));
      auto g = static_cast<float>(got.get_flat(i));
      if (std::isnan(r) || std::isnan(g)) {
        EXPECT_TRUE(std::isnan(r) && std::isnan(g)) << c.name << " at x = " << x.get_flat(i);
        continue;
      }
      double ulp = std::fabs(static_cast<double>(std::nextafter(std::fabs(r), INFINITY)) - std::fabs(r));
      double err = std::fabs(static_cast<double>(g) - r);
      if (err > worst_abs) {
        worst_abs = err;
        at_abs = x.get_flat(i);
      }
      if (c.max_abs > 0 && err <= c.max_abs) continue;
      if (err / ulp > worst) {
        worst = err / ulp;
        at = x.get_flat(i);
      }
    }
    std::cout << "  " << c.name << " on [" << c.lo << ", " << c.hi << "]: " << worst << " ulp (at x = " << at
              << "); largest |diff| " << worst_abs << " (at x = " << at_abs << ")\n";
    EXPECT_LE(worst, c.max_ulp) << c.name << " at x = " << at;
  }
}

// f64 exp (Cephes' double exp), sigmoid and silu on it, tanh and log, against the
// reference's libm, in double ulps over sweeps down to the denormals and
// past overflow, and the special values.
TEST(LoopKernel, F64FunctionAccuracyOverSweeps) {
  struct Case {
    const char* name;
    const char* expr;
    double lo, hi, max_ulp;
  };
  const std::vector<Case> cases = {
      {"exp", "exp(X[i])", -750, 712, 2},
      {"exp near 0", "exp(X[i])", -1, 1, 2},
      {"sigmoid", "sigmoid(X[i])", -760, 40, 3},
      // (not below -700: there sigmoid(x) is a denormal, one denormal ulp
      // apart on either side, and x * sigmoid(x) makes that hundreds of ulps
      // of the product; the reference loses the same)
      {"silu", "silu(X[i])", -700, 40, 3},
      {"tanh", "tanh(X[i])", -30, 30, 2},
      {"tanh near 0", "tanh(X[i])", -0.7, 0.7, 2},
      {"log", "log(X[i])", 1e-300, 1e300, 2},  // (log-spaced, as below)
      {"log near 1", "log(X[i])", 0.5, 2, 2},
      {"log of denormals", "log(X[i])", 1e-322, 2.2e-308, 2},
  };
  const std::int64_t n = 100003;
  std::cout << "f64 function: max ulp\n";
  for (const Case& c : cases) {
    einc::Program program =
        einc::compile("dim N = " + std::to_string(n) + "\ninput X[N] : f64\nY[i] = " + c.expr + "\n");
    Tensor x = Tensor::zeros(DType::f64, {n});
    const bool log_spaced = c.lo > 0 && c.hi / c.lo > 100;
    for (std::int64_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / static_cast<double>(n - 1);
      x.set_flat(i, log_spaced ? c.lo * std::pow(c.hi / c.lo, t) : c.lo + (c.hi - c.lo) * t);
    }
    for (std::int64_t i = 0; i < 6; ++i)
      x.set_flat(i, std::array<double, 6>{INFINITY, -INFINITY, NAN, 0.0, -0.0, 709.78}[static_cast<std::size_t>(i)]);
    TensorMap inputs{{"X", x}};
    Tensor ref = program.run(inputs, on("reference")).at("Y");
    Tensor got = program.run(inputs, on("cpu")).at("Y");
    double worst = 0, at = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double r = ref.get_flat(i), g = got.get_flat(i);
      if (std::isnan(r) || std::isnan(g) || std::isinf(r) || std::isinf(g)) {
        EXPECT_TRUE(std::isnan(r) ? std::isnan(g) : r == g) << c.name << " at x = " << x.get_flat(i) << ": " << g;
        continue;
      }
      const double ulp = std::nextafter(std::fabs(r), INFINITY) - std::fabs(r);
      const double err = std::fabs(g - r) / ulp;
      if (err > worst) {
        worst = err;
        at = x.get_flat(i);
      }
    }
    std::cout << "  " << c.name << " on [" << c.lo << ", " << c.hi << "]: " << worst << " ulp (at x = " << at << ")\n";
    EXPECT_LE(worst, c.max_ulp) << c.name << " at x = " << at;
  }
}

TEST(LoopKernel, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> xs = {0.0f,  -0.0f,  inf,     -inf,    nan,    1e-40f,  -1e-40f, 1e30f, -1e30f, 88.7f,
                                 89.0f, -87.0f, -100.0f, -104.0f, 0.625f, -0.625f, 4.0f,    1.0f,  -1.0f};
  const auto n = static_cast<std::int64_t>(xs.size());
  std::string script = "dim N = " + std::to_string(n) +
                       "\ninput X[N], Y[N]\n"
                       "Fexp[i] = exp(X[i])\nFlog[i] = log(X[i])\nFsqrt[i] = sqrt(X[i])\nFrsqrt[i] = rsqrt(X[i])\n"
                       "Fabs[i] = abs(X[i])\nFtanh[i] = tanh(X[i])\nFsigmoid[i] = sigmoid(X[i])\n"
                       "Frelu[i] = relu(X[i])\nFsilu[i] = silu(X[i])\nFmax[i] = max(X[i], Y[i])\n"
                       "Fmin[i] = min(Y[i], X[i])\nFpow[i] = pow(X[i], Y[i])\n";
  std::vector<float> ys(xs.rbegin(), xs.rend());
  // Relative bounds, and an absolute floor for results in the denormals
  // (silu(-100): its f32 sigmoid is a denormal with few digits left).
  check_script(script, Expect::jit, {4e-7, 0, 1e-40}, {{"X", tensor_from({n}, xs)}, {"Y", tensor_from({n}, ys)}});
}

// --- reductions ------------------------------------------------------------------

TEST(LoopKernel, EveryReductionOverEachAxisAndBoth) {
  for (int n : kOddSizes) {
    for (int m : {1, 17}) {
      std::string dims = "dim N = " + std::to_string(n) + ", M = " + std::to_string(m) + "\ninput X[N, M]\n";
      for (const char* op : {"sum", "max", "min", "prod", "mean", "logsumexp"}) {
        std::string body = std::string(op) == "prod" ? "(1 + X[i, j] * 0.1)" : "X[i, j] * 3";
        std::string script = dims + "Rlast[i] = " + op + "(j: " + body + ")\n" +  //
                             "Rfirst[j] = " + op + "(i: " + body + ")\n" +        //
                             "Rboth = " + op + "(i, j: " + body + ")\n" +         //
                             "Rmix[i, j] = X[i, j] - " + op + "(k: X[i, k])\n";
        check_script(script, Expect::jit, {1e-5, 2e-6 * std::sqrt(n * m)});
      }
    }
  }
}

TEST(LoopKernel, ReductionsOfExpressionsAndDenseProducts) {
  check_script(
      "dim N = 33, M = 67, K = 7\n"
      "input X[N, M], W[M], Z[K, N, M], Q[M, M]\n"
      "Sq[i] = sum(j: X[i, j] * X[i, j])\n"              // a product with one factor holding every index
      "Wt[i] = sum(j: X[i, j] * (W[j] + 2))\n"           // ... (GETT takes it, or the loop kernel)
      "Sc[i] = sum(j: X[i, j] * 2)\n"                    // summed inside X first, then scaled (the plan)
      "Mx[k, i] = max(j: exp(Z[k, i, j]) - W[j])\n"      // reduction over the last axis of a 3-d tensor
      "Mid[k, j] = sum(i: Z[k, i, j])\n"                 // over the middle axis
      "Lse[k] = logsumexp(i, j: Z[k, i, j] * 10)\n"      // two axes
      "Nest[i] = sum(j: Q[i, j] + max(j: Q[j, i]))\n");  // the inner j is another loop
}

TEST(LoopKernel, ZeroSizeExtents) {
  check_script(
      "dim N = 0, M = 5\ninput X[N, M]\nE[i, j] = exp(X[i, j])\nS[j] = sum(i: X[i, j])\n"
      "P[j] = prod(i: X[i, j])\nT = sum(i, j: X[i, j])\n");
  check_script("dim N = 5, M = 0\ninput X[N, M]\nS[i] = sum(j: X[i, j])\nP[i] = prod(j: X[i, j]) + 1\n");
  // Empty max / softmax / mean are errors, the same on both backends (at
  // run time: M is bound by the input's shape).
  for (const char* s :
       {"M1[i] = max(j: X[i, j])\n", "Sm[i, j] = softmax(j: X[i, j])\n", "Mn = mean(i, j: X[i, j])\n"}) {
    einc::Program program = einc::compile(std::string("dim N = 5, M\ninput X[N, M]\n") + s);
    TensorMap inputs{{"X", Tensor::zeros(DType::f32, {5, 0})}};
    std::string ref_error, cpu_error;  // (a CompileError when binding M = 0 shows it)
    try {
      program.run(inputs, on("reference"));
    } catch (const std::exception& e) {
      ref_error = e.what();
    }
    try {
      program.run(inputs, on("cpu"));
    } catch (const std::exception& e) {
      cpu_error = e.what();
    }
    EXPECT_FALSE(ref_error.empty()) << s;
    EXPECT_EQ(cpu_error, ref_error) << s;
  }
}

TEST(LoopKernel, ScalarTargets) {
  check_script(
      "dim N = 67\n"
      "input X[N, N], a, b[]\n"
      "s = a * 2 + exp(b)\n"
      "t = sum(i: X[i, i])\n"
      "m = max(i, j: X[i, j] * a)\n"
      "l = logsumexp(i: X[i, i] * 5)\n");
}

// A subexpression of numbers and dims (`sqrt(E)`) is computed once, by the
// reference's rules, and read from a scalar slot: no call node in the
// kernel, the same kernel for every E, and the reference's numbers.
TEST(LoopKernel, ScalarsOfDimsAndNumbersAreFoldedOnce) {
  const std::string script =
      "dim N = 67, E = 128\ninput x[N]\n"
      "y[i] = x[i] / sqrt(E) + exp(-E / 64) * x[i] - max(3, E) + pow(2, E / 32)\n";
  check_script(script);
  einc::Program program = einc::compile(script);
  const einc::ir::Program& ir = einc::detail::ProgramAccess::ir(program);
  einc::cpu::LoopGraphResult built = einc::cpu::build_loop_graph(ir, ir.statements.at(0));
  ASSERT_TRUE(built.graph.has_value()) << built.reason;
  for (const einc::cpu::LoopNode& n : built.graph->nodes) EXPECT_NE(n.op, einc::cpu::LoopOp::call);
  std::set<double> numbers;
  for (const einc::cpu::LoopScalar& s : built.graph->scalars) {
    EXPECT_EQ(s.kind, einc::cpu::LoopScalar::Kind::number);
    numbers.insert(s.number);
  }
  EXPECT_EQ(numbers, (std::set<double>{std::sqrt(128.0), std::exp(-2.0), 128.0, 16.0}));
  // Another E: other numbers, the same kernel.
  einc::Program other = program.bind({{"E", 32}});
  const einc::ir::Program& other_ir = einc::detail::ProgramAccess::ir(other);
  einc::cpu::LoopGraphResult rebuilt = einc::cpu::build_loop_graph(other_ir, other_ir.statements.at(0));
  ASSERT_TRUE(rebuilt.graph.has_value());
  EXPECT_EQ(einc::cpu::loop_graph_signature(*rebuilt.graph), einc::cpu::loop_graph_signature(*built.graph));
  EXPECT_EQ(rebuilt.graph->scalars.at(0).number, std::sqrt(32.0));
}

// --- normalisations --------------------------------------------------------------

TEST(LoopKernel, NormalizationsOverLastNonLastAndTwoAxes) {
  for (int n : kOddSizes) {
    std::string dims =
        "dim T = " + std::to_string(n) + ", D = 67, H = 3\ninput X[T, D], Z[H, T, D]\nparam g[D], b[D]\n";
    for (const char* op : {"softmax", "layernorm", "rmsnorm"}) {
      bool softmax = std::string(op) == "softmax";
      std::string script = dims +                                                       //
                           "Last[t, d] = " + op + "(d: X[t, d] * 2) * g[d] + b[d]\n" +  //
                           "First[t, d] = " + op + "(t: X[t, d] * 2)\n" +               //
                           "Both[h, t, d] = " + op + "(t, d: Z[h, t, d])\n" +           //
                           "Middle[h, t, d] = " + op + "(t: Z[h, t, d] + X[t, d])\n" +  //
                           "Outer[t, h, d] = " + op + "(h: Z[h, t, d])\n";              //
      // softmax values are small (1/67): tight absolute bounds; the norms
      // are O(1) and amplify the rounding of x - mean by up to 1/sqrt(1e-5).
      Tolerance tol = softmax ? Tolerance{1e-5, 2e-7} : Tolerance{1e-5, 2e-5};
      check_script(script, Expect::jit, tol);
    }
  }
}

TEST(LoopKernel, TransformerPieces) {
  check_script(
      "dim T = 33, D = 64, H = 4\n"
      "input S[H, T, T], X[T, D], mask[T, T]\n"
      "param g[D], be[D]\n"
      "P[h, i, j] = softmax(j: S[h, i, j] * 8 + mask[i, j])\n"
      "N1[t, d] = layernorm(d: X[t, d]) * g[d] + be[d]\n"
      "R[t, d] = rmsnorm(d: X[t, d]) * g[d]\n"
      "G[t, d] = gelu(X[t, d] * g[d] + be[d])\n",
      Expect::jit, {1e-5, 2e-5});
}

TEST(LoopKernel, SoftmaxWithMaskedEntries) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> mask(7 * 7, 0.0f);
  for (int i = 0; i < 7; ++i)
    for (int j = i + 1; j < 7; ++j) mask[static_cast<std::size_t>(i * 7 + j)] = -inf;  // causal
  for (int j = 0; j < 7; ++j) mask[static_cast<std::size_t>(5 * 7 + j)] = -inf;        // row 5: nothing (NaN, -inf)
  check_script(
      "dim T = 7\ninput S[T, T], M[T, T]\nP[i, j] = softmax(j: S[i, j] + M[i, j])\n"
      "L[i] = logsumexp(j: S[i, j] + M[i, j])\nC[j] = logsumexp(i: M[i, j])\n",
      Expect::jit, {1e-5, 1e-9}, {{"M", tensor_from({7, 7}, mask)}});
}

// --- layouts ------------------------------------------------------------------

TEST(LoopKernel, BroadcastsTransposesDiagonalsAndEinsum) {
  check_script(
      "dim N = 17, M = 33\n"
      "input A[N, N], X[N, M], u[N], v[M], B1[N, 1]\n"
      "T[j, i] = X[i, j] * 2 + u[i]\n"  // transposed read, broadcast along j
      "D[i] = A[i, i] + u[i]\n"         // diagonal
      "O[i, j] = u[i] * v[j]\n"         // outer product
      "Tr = A[i, i]\n"                  // trace (implicit sum)
      "C[j] = sum(i: X[i, j] * u[i] + v[j])\n"
      "E = einsum(\"ij,ij->ij\", B1, X)\n"  // an extent-1 broadcast subscript
      "F = einsum(\"ij->ji\", X)\n"
      "Cs = einsum(\"ij->j\", X)\n");
}

// An operand read across its rows by the vector loop (a transpose, a
// permute) has its unit-stride index strip-mined into tiles of kTileRows
// run inside the vector loop (loop_lowering.cpp, choose_tile): values as
// the reference's at sizes that cut tiles and vectors short, with the tile
// index outermost (cut among the threads) or inner (after a flattened
// batch of 1), and the same bits on 1 and 3 threads. The lowering tiles
// exactly where an operand's rows cross the vector loop.
TEST(LoopKernel, TransposedOperandsRunInTiles) {
  einc::Program program = einc::compile(
      "dim N = 37, M = 45, B = 1, C = 19, H = 5, W = 23\n"
      "input A[N, M], S[M, N], X[B, H, W, C], u[M], Sq[N, N]\n"
      "T[j, i] = A[i, j]\n"                       // a transpose: i tiled, outermost
      "P[i, j] = A[i, j] + S[j, i] * u[j]\n"      // one operand across, one along
      "Y[b, c, h, w] = exp(X[b, h, w, c])\n"      // NHWC -> NCHW: c tiled, inner
      "Z[b, w, c, h] = X[b, h, w, c] - 1\n"       // h's tile inside c's vector loop
      "Q[j, i] = where(i <= j, Sq[i, j], 0)\n");  // a select: split, not tiled
  for (const std::string& line : plan(program)) EXPECT_NE(line.find("JIT loop"), std::string::npos) << line;
  check_values_and_threads(program, 9, {1e-6, 1e-7}, 3);

  const einc::ir::Program& ir = einc::detail::ProgramAccess::ir(program);
  auto tile_of = [&](std::size_t statement, bool transposed) {
    einc::cpu::LoopGraphResult built = einc::cpu::build_loop_graph(ir, ir.statements.at(statement));
    EXPECT_TRUE(built.graph.has_value()) << built.reason;
    const einc::cpu::LoopGraph& graph = *built.graph;
    // C[i, j] = A[j, i] (or A[i, j]), 64 x 64, row-major.
    einc::cpu::LoopShape shape;
    shape.extents.assign(8, 64);
    shape.target_strides = {64, 1};
    const int i = graph.lhs.at(0);
    for (const einc::cpu::LoopAccess& access : graph.accesses) {
      std::vector<std::int64_t> strides;
      for (int x : access.free) strides.push_back((x == i) == transposed ? 1 : 64);
      shape.access_strides.push_back(strides);
    }
    einc::cpu::LoopSpec spec = einc::cpu::lower_loop(graph, shape, false, 8, "avx2");
    return std::pair{spec.output.tile_index, i};
  };
  auto [tiled, first] = tile_of(0, true);
  EXPECT_EQ(tiled, first);                 // A read across its rows: i tiled
  EXPECT_EQ(tile_of(0, false).first, -1);  // A read along its rows: nothing to tile

  // Y[b, c, h, w] = exp(X[b, h, w, c]) with B = 1: c is tiled and moved in
  // front of b, so that the parallel loop cuts c's tiles, not a batch of 1.
  einc::cpu::LoopGraphResult built = einc::cpu::build_loop_graph(ir, ir.statements.at(2));
  ASSERT_TRUE(built.graph.has_value()) << built.reason;
  const einc::cpu::LoopGraph& graph = *built.graph;
  const int b = graph.lhs.at(0), c = graph.lhs.at(1), h = graph.lhs.at(2), w = graph.lhs.at(3);
  const std::map<int, std::int64_t> extent{{b, 1}, {c, 19}, {h, 5}, {w, 23}};
  const std::map<int, std::int64_t> x_stride{{b, 5 * 23 * 19}, {h, 23 * 19}, {w, 19}, {c, 1}};
  einc::cpu::LoopShape shape;
  shape.extents.assign(8, 1);
  for (const auto& [index, e] : extent) shape.extents.at(static_cast<std::size_t>(index)) = e;
  shape.target_strides = {19 * 5 * 23, 5 * 23, 23, 1};
  for (const einc::cpu::LoopAccess& access : graph.accesses) {
    std::vector<std::int64_t> strides;
    for (int x : access.free) strides.push_back(x_stride.at(x));
    shape.access_strides.push_back(strides);
  }
  einc::cpu::LoopSpec spec = einc::cpu::lower_loop(graph, shape, false, 8, "avx2");
  EXPECT_EQ(spec.output.tile_index, c);
  EXPECT_EQ(spec.output.indices.front(), c);
  EXPECT_EQ(spec.parallel_levels, 1);

  // Two tiled reduction nests at the function level (a 0-d logsumexp of a
  // diagonal read across: its max, then its sum): the extents and pointers
  // the first nest's tile loop needs are the second's too, so they are
  // emitted before that loop, not in its body (the random test's seed 1122
  // gave invalid IR, "Instruction does not dominate all uses").
  einc::Program totals =
      einc::compile("dim D = 33\ninput X3[D, D, D], x[D]\nR = logsumexp(k0, k1: X3[k0, k0, k1] + x[k0])\n");
  for (const std::string& line : plan(totals)) EXPECT_NE(line.find("JIT loop"), std::string::npos) << line;
  check_values_and_threads(totals, 9, {1e-6, 1e-6}, 3);
}

// f64 statements run as loop kernels computing in double (LoopGraph::
// element): arithmetic in <VL/2 x double> vectors, the exact functions
// alike, the others through the reference's own double formulas lane by
// lane; so values agree with the reference up to the order of a sum's
// terms. Every function, reductions and normalisations, a select, a
// transposed operand (tiled), accesses at an offset, a chunked total, +=
// and threads; vector and scalar code.
TEST(LoopKernel, F64StatementsComputeInDouble) {
  const std::string script =
      "dim N = 67, M = 45, L = 70001\n"
      "input X[N, M] : f64\ninput Yt[M, N] : f64\ninput v[L] : f64\ninput S[N, N] : f64\n"
      "Fexp[i, j] = exp(X[i, j] * 4) + log(abs(X[i, j]) + 0.001) + sqrt(abs(X[i, j]))\n"
      "Frsqrt[i, j] = rsqrt(abs(X[i, j]) + 0.01) - abs(X[i, j]) * tanh(X[i, j] * 3)\n"
      "Fsig[i, j] = sigmoid(X[i, j] * 10) + relu(X[i, j]) + gelu(X[i, j] * 5) + silu(X[i, j] * 5)\n"
      "Fmax[i, j] = max(X[i, j], Yt[j, i]) - min(X[i, j], Yt[j, i]) + pow(abs(X[i, j]) + 0.1, Yt[j, i] * 3)\n"
      "Fmix[i, j] = -X[i, j] / (2 + Yt[j, i]) - 3 * X[i, j] + N\n"
      "Rows[i] = sum(j: X[i, j] * Yt[j, i]) + max(j: X[i, j]) - min(j: X[i, j])\n"
      "Cols[j] = mean(i: X[i, j])\n"
      "Soft[i, j] = softmax(j: X[i, j] * 3)\n"
      "Norm[i, j] = layernorm(j: X[i, j]) + rmsnorm(j: X[i, j])\n"
      "Lse[i] = logsumexp(j: X[i, j])\n"
      "Causal[i, k] = softmax(k: where(k <= i, S[i, k] * 2, -inf))\n"
      "T[j, i] = X[i, j]\n"
      "Shift[i] = X[i, 2] * v[i + 3]\n"  // accesses at an offset
      "Total = sum(k: v[k] * v[k])\n"
      "Total += max(k: v[k])\n";
  for (int lanes : {0, 1}) {
    LanesOverride override(lanes);
    SCOPED_TRACE("lanes " + std::to_string(lanes));
    einc::Program program = einc::compile(script);
    for (const std::string& line : plan(program)) EXPECT_NE(line.find("JIT loop"), std::string::npos) << line;
    check_values_and_threads(program, 4, {1e-13, 1e-13}, 3);
  }
  // Products of three in pairwise steps, and a contraction hoisted out of
  // a softmax: f64 GETTs and f64 loop kernels; a causal mask on a product,
  // a masked f64 GETT.
  einc::Program products = einc::compile(
      "dim N = 64, M = 48, K = 40, L = 24\n"
      "input A[N, K] : f64\ninput B[K, M] : f64\ninput C[M, L] : f64\ninput Q[N, K] : f64\n"
      "D[i, l] = A[i, j] * B[j, k] * C[k, l]\n"
      "Y[i, j] = softmax(j: A[i, k] * B[k, j])\n"
      "S[i, j] = where(j <= i, Q[i, k] * A[j, k] / sqrt(K), -inf)\n");
  const std::vector<std::string> lines = plan(products);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("pairwise steps"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("hoisted into temporaries: JIT GETT"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("JIT GETT"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("where j <= i"), std::string::npos) << lines[2];
  check_values_and_threads(products, 6, {1e-13, 1e-13}, 3);
}

// Integer statements of + - * /, where and sum/prod/max/min
// run as loop kernels computing in 64-bit integers, bit for bit the
// reference's: i8 operands sign-extended, products and sums that overflow
// i32 wrapped as stored (a max taken on the int64 values, before the
// wrap), i8 targets wrapped to 8 bits, numbers folded as integers and
// truncated toward zero (`(7 / 2) * 2` is 6, `2.7` is 2), division
// truncating (by negative numbers and -1 too, by i32 and i8 tensors and
// by a dim), dims, a transposed write, loops split at `where`, `+=`, a
// total over everything; on values at the ends of each dtype's range.
// What they do not compute yet (logsumexp, a constant that does not fold)
// is interpreted, saying why.
TEST(LoopKernel, IntegerStatementsWrapAsTheReference) {
  const std::string script =
      "dim M = 37, N = 19, L = 70001\n"
      "input x[M, N] : i32\ninput b[N] : i32\ninput q[N, M] : i8\ninput s[M, M] : i32\ninput v[L] : i8\n"
      "input dv[M, N] : i32\ninput dq[N] : i8\n"
      "y[i, j] = x[i, j] * 3 + b[j]\n"
      "w[i, j] = x[i, j] * x[i, j] * x[i, j] * 1000000 - b[j]\n"
      "c[i, j] = q[j, i] * 2.7 + (7 / 2) * 2 + N - 5000000000\n"
      "d[i, j] = where(j <= i, s[i, j] * s[j, i], -s[i, j])\n"
      "e[i, j] = -x[i, j] * b[j] + 5000000000\n"
      "g[i, j] = q[j, i] * q[j, i] * 3\n"
      "g[i, j] += q[j, i] * 100\n"
      "t[j, i] = x[i, j] - 7\n"
      "z[j, i] = q[j, i] + q[j, i] * 3 + 100\n"
      "u[k] = v[k] * 2 - v[k] + 120\n"
      "r1[i] = sum(j: x[i, j] * x[i, j])\n"
      "r2[i] = max(j: x[i, j] * b[j]) - min(j: x[i, j] * 3)\n"
      "r3[j] = prod(i: q[j, i]) + sum(i: q[j, i] * q[j, i])\n"
      "r4[i] = sum(k: where(k <= i, s[i, k] * 5, s[k, i]))\n"
      "r5 = sum(k: v[k] * 3) + max(k: v[k] * v[k])\n"
      "r6[i, j] = x[i, j] * sum(e: x[i, e])\n"
      "h[i, j] = x[i, j] / 3 - x[i, j] * 5 / (-7) + b[j] / (-1) + 100 / 7 + x[i, j] * x[i, j] / 1000003\n"
      "k[i, j] = x[i, j] / dv[i, j] + x[i, j] * x[i, j] / dv[i, j] - 1000 / dv[i, j] + x[i, j] / N\n"
      "k8[j, i] = q[j, i] / dq[j] * 3 + 100 / dq[j] - q[j, i] * q[j, i] / dq[j]\n"
      "r7[i] = sum(j: x[i, j] / dv[i, j]) + max(j: dv[i, j] / (dv[i, j] * 2 + 1))\n"
      "f1[i, j] = abs(x[i, j]) + relu(b[j] - x[i, j]) + max(x[i, j], b[j]) - min(x[i, j], 7)\n"
      "f2[i, j] = sqrt(x[i, j]) / 3 + pow(b[j], 2) / 1000 + exp(x[i, j] / 50000000) + log(abs(b[j]) + 1) * 1000\n"
      "f3[i] = sum(j: rsqrt(abs(x[i, j]) + 1) + tanh(x[i, j]) * 3 + sigmoid(b[j]) + gelu(x[i, j] / 1000000) +"
      " silu(b[j] / 1000000) + pow(x[i, j], 3) / 1000 + pow(2, b[j] / 100000000))\n"
      "f4[j, i] = abs(q[j, i]) + max(q[j, i], -3) * 2\n"
      "m1[i] = mean(j: x[i, j] * 3) - mean(k: s[i, k])\n"
      "m2 = mean(k: v[k] * v[k] * v[k])\n";
  for (int lanes : {0, 1}) {
    LanesOverride override(lanes);
    SCOPED_TRACE("lanes " + std::to_string(lanes));
    einc::Program program = einc::compile(script);
    for (const std::string& line : plan(program)) EXPECT_NE(line.find("JIT loop"), std::string::npos) << line;
    TensorMap inputs = einc::random_inputs(program, 8);
    for (const char* name : {"x", "b", "s", "q", "v", "dv", "dq"}) {
      const Tensor& t = inputs.at(name);
      const bool i8 = t.dtype() == DType::i8;
      for (std::int64_t i = 0; i < t.numel(); i += 3)  // the ends of the range, and far from 0
        t.set_flat(i, i % 2 ? (i8 ? 127.0 : 2147483647.0 - static_cast<double>(i)) : (i8 ? -128.0 : -2147483647.0));
    }
    for (const char* name : {"dv", "dq"}) {  // divisors: no 0, some -1
      const Tensor& t = inputs.at(name);
      for (std::int64_t i = 0; i < t.numel(); ++i)
        if (t.get_flat(i) == 0 || i % 5 == 1) t.set_flat(i, -1);
    }
    const TensorMap ref = program.run(inputs, on("reference"));
    const TensorMap one = program.run(inputs, on("cpu", 1));
    EXPECT_EQ(compare_bitwise(ref, one), "");
    EXPECT_EQ(compare_bitwise(one, program.run(inputs, on("cpu", 3))), "");
  }
  for (const char* statement : {"r[i] = logsumexp(j: x[i, j])", "h[i, j] = x[i, j] * (1 / 0)"}) {
    einc::Program program =
        einc::compile(std::string("dim M = 5, N = 3\ninput x[M, N] : i32\ninput b[N] : i32\n") + statement + "\n");
    const std::vector<std::string> lines = plan(program);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("interpreted"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("in an integer statement"), std::string::npos) << lines[0];
  }
}

// An integer division by a tensor's element that is 0, in a loop kernel:
// the run fails with the interpreter's error (the kernel stores 0 there
// and sets its run's flag), whether the 0 is met by a vector or the
// scalar tail, on one thread or several, in a reduction chunked over
// everything, or in the operand of a `where` that is not selected (the
// reference computes both).
TEST(LoopKernel, IntegerDivisionByZeroIsTheInterpretersError) {
  struct Case {
    const char* statement;
    const char* zero_in;
    std::int64_t at;
  };
  for (const Case& c :
       {Case{"h[i, j] = x[i, j] / d[i, j]", "d", 0}, Case{"h[i, j] = x[i, j] / d[i, j]", "d", 37 * 37 - 1},
        Case{"h[i, j] = where(j <= i, 0, x[i, j] / d[i, j])", "d", 3 * 37 + 1}, Case{"h[i, j] = x[i, j] / 0", "", 0},
        Case{"r = sum(k: v[k] / w[k])", "w", 70000}, Case{"r = sum(k: v[k] / w[k])", "w", 12345}}) {
    einc::Program program =
        einc::compile(std::string("dim M = 37, N = 37, L = 70001\ninput x[M, N] : i32\ninput d[M, N] : i32\n"
                                  "input v[L] : i32\ninput w[L] : i32\n") +
                      c.statement + "\n");
    for (const std::string& line : plan(program)) EXPECT_NE(line.find("JIT loop"), std::string::npos) << line;
    TensorMap inputs = einc::random_inputs(program, 3);
    for (const char* name : {"d", "w"}) {
      const Tensor& t = inputs.at(name);
      for (std::int64_t i = 0; i < t.numel(); ++i)
        if (t.get_flat(i) == 0) t.set_flat(i, 7);
    }
    const std::string want = "integer division by zero in the statement at line 6";
    auto message = [&](const char* backend, int threads) {
      try {
        program.run(inputs, on(backend, threads));
      } catch (const einc::RunError& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    if (*c.zero_in) {
      EXPECT_EQ(message("reference", 1), "no error") << c.statement;
      EXPECT_EQ(message("cpu", 2), "no error") << c.statement;
      inputs.at(c.zero_in).set_flat(c.at, 0);
    }
    for (const char* backend : {"reference", "cpu"})
      for (int threads : {1, 3}) EXPECT_NE(message(backend, threads).find(want), std::string::npos) << c.statement;
  }
}

// A reduction over everything (loop_lowering.h, ReductionChunks): its
// outermost loop cut into chunks fixed by the shape, computed as tasks and
// combined in order; then the rest of the statement with the total as a
// scalar. The trace of a product is also a tiled reduction (Bt read across
// its rows).
TEST(LoopKernel, ReductionsOverEverythingRunInChunks) {
  einc::Program program = einc::compile(
      "dim N = 301, M = 517, L = 200003\n"
      "input A[N, M], Bt[M, N], a[L], b[L]\n"
      "trace = sum(i, j: A[i, j] * Bt[j, i])\n"
      "dot = a[k] * b[k]\n"  // the chunked index is the vector one
      "top = max(i, j: A[i, j])\n"
      "bottom = min(i, j: A[i, j] - Bt[j, i])\n"
      "mu = mean(i, j: A[i, j])\n"                     // the total divided afterwards
      "share[i] = exp(A[i, 0]) / sum(k: exp(a[k]))\n"  // the total under an output loop
      "acc = 2\n"
      "acc += sum(k: a[k] * a[k])\n");
  for (const std::string& line : plan(program)) EXPECT_NE(line.find("JIT loop"), std::string::npos) << line;
  check_values_and_threads(program, 5, {1e-5, 1e-5}, 3);

  // The decisions, at these sizes: the trace cut along its outer loop, a
  // tenth of it left whole.
  const einc::ir::Program& ir = einc::detail::ProgramAccess::ir(program);
  auto chunks_of = [&](std::int64_t n, std::int64_t m) {
    einc::cpu::LoopGraphResult built = einc::cpu::build_loop_graph(ir, ir.statements.at(0));
    EXPECT_TRUE(built.graph.has_value()) << built.reason;
    einc::cpu::LoopShape shape;
    const einc::cpu::LoopAccess& a = built.graph->accesses.at(0);  // A[i, j] (the first factor)
    const int i = *a.subscripts.at(0).as_index(), j = *a.subscripts.at(1).as_index();
    shape.extents.assign(8, 1);
    shape.extents.at(static_cast<std::size_t>(i)) = n;
    shape.extents.at(static_cast<std::size_t>(j)) = m;
    for (const einc::cpu::LoopAccess& access : built.graph->accesses) {  // C order
      const std::vector<std::int64_t> strides{
          shape.extents.at(static_cast<std::size_t>(*access.subscripts.at(1).as_index())), 1};
      std::vector<std::int64_t> free_strides;
      for (int x : access.free) free_strides.push_back(einc::ir::access_stride(strides, access.subscripts, x));
      shape.access_strides.push_back(free_strides);
    }
    einc::cpu::LoopSpec spec = einc::cpu::lower_loop(*built.graph, shape, false, 8, "avx2");
    return std::pair{spec.chunks, spec};
  };
  auto [chunks, spec] = chunks_of(301, 517);
  ASSERT_TRUE(chunks.has_value());
  EXPECT_EQ(chunks->node, spec.graph.root);
  EXPECT_EQ(chunks->index, spec.reductions.at(spec.graph.root).indices.front());
  EXPECT_EQ(chunks->chunks, 301 * 517 / 32768);
  EXPECT_GE(spec.reductions.at(spec.graph.root).tile_index, 0);  // Bt read across its rows: tiled
  EXPECT_FALSE(chunks_of(30, 517).first.has_value());

  // NaN in the last chunk only: max and min still propagate it.
  einc::Program nan_program = einc::compile(
      "dim L = 200003\n"
      "input v[L]\n"
      "top = max(k: v[k])\n"
      "bottom = min(k: v[k] * 2)\n");
  TensorMap inputs = einc::random_inputs(nan_program, 3);
  inputs.at("v").set_flat(199990, std::numeric_limits<float>::quiet_NaN());
  for (int threads : {1, 3}) {
    TensorMap got = nan_program.run(inputs, on("cpu", threads));
    EXPECT_TRUE(std::isnan(got.at("top").get_flat(0))) << threads << " threads";
    EXPECT_TRUE(std::isnan(got.at("bottom").get_flat(0))) << threads << " threads";
  }
}

TEST(LoopKernel, TargetIndicesTheValueDoesNotUse) {
  // Declared output shapes: j (and i in Z) only broadcast the value.
  check_script(
      "dim N = 17, M = 7\n"
      "input X[N]\n"
      "output Y[N, M], Z[M, N]\n"
      "Y[i, j] = exp(X[i])\n"
      "Z[j, i] = sum(k: X[k]) + X[i]\n",
      Expect::jit, {2e-6, 2e-6});
}

// A view of `t`'s values in fresh memory: dims in a random order, padded,
// shifted off alignment, one dim in three reversed (negative stride).
Tensor strided_view(const Tensor& t, std::uint64_t seed, std::vector<std::vector<float>>& buffers) {
  std::mt19937_64 rng(seed);
  const std::size_t rank = t.rank();
  std::vector<std::size_t> order(rank);
  for (std::size_t d = 0; d < rank; ++d) order[d] = d;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::int64_t> strides(rank, 0);
  std::int64_t span = 1;
  for (std::size_t q = rank; q-- > 0;) {
    strides[order[q]] = span;
    span *= t.shape()[order[q]] + static_cast<std::int64_t>(rng() % 3);
  }
  std::int64_t base = 1 + static_cast<std::int64_t>(rng() % 3);
  for (std::size_t d = 0; d < rank; ++d)
    if (rng() % 3 == 0 && t.shape()[d] > 0) {
      base += (t.shape()[d] - 1) * strides[d];
      strides[d] = -strides[d];
    }
  buffers.emplace_back(static_cast<std::size_t>(span + base + 2), 0.0f);
  Tensor view = Tensor::view(DType::f32, buffers.back().data() + base, t.shape(), strides);
  for (std::int64_t i = 0; i < t.numel(); ++i) view.set(unflatten(i, t.shape()), t.get_flat(i));
  return view;
}

TEST(LoopKernel, StridedAndBroadcastCallerViews) {
  einc::Program program = einc::compile(
      "dim N = 33, M = 17\n"
      "input X[N, M], Y[M, N], w[M]\n"
      "E[i, j] = exp(X[i, j]) * Y[j, i] + w[j]\n"
      "S[i, j] = softmax(j: X[i, j] + w[j])\n"
      "L[i, j] = layernorm(i: X[i, j] * Y[j, i])\n"
      "R[i] = sum(j: X[i, j] * w[j] + Y[j, i])\n"
      "M2[j] = max(i: X[i, j])\n");
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    TensorMap inputs = einc::random_inputs(program, seed);
    std::vector<std::vector<float>> buffers;
    TensorMap views;
    for (const auto& [name, t] : inputs) views.emplace(name, strided_view(t, seed * 7 + name.size(), buffers));
    // A broadcast (stride 0) view: every row of X the same.
    Tensor x = inputs.at("X");  // (owns the memory the broadcast view reads)
    if (seed % 3 == 0) {
      views["X"] = Tensor::view(DType::f32, x.data(), x.shape(), {0, 1});
      inputs["X"] = views["X"].clone();
    }
    TensorMap ref = program.run(inputs, on("reference"));
    TensorMap got = program.run(views, on("cpu"));
    EXPECT_EQ(compare(ref, got, {1e-5, 2e-5}), "") << "seed " << seed;
  }
}

// --- accumulate, fallbacks -----------------------------------------------------

TEST(LoopKernel, AccumulateStatements) {
  check_script(
      "dim N = 33, M = 17\n"
      "input X[N, M]\n"
      "Y[i, j] = X[i, j] * 2\n"
      "Y[i, j] += exp(X[i, j])\n"
      "Z[i] = sum(j: X[i, j])\n"
      "Z[i] += max(j: X[i, j])\n"
      "output Y, Z\n");
}

TEST(LoopKernel, FallsBackWhereItMust) {
  // += reading its own target; a reduction that would be recomputed per
  // point of an index it does not use; reductions whose free sets do not
  // nest (t outside d for one, d outside t for the other); an i32 statement
  // that takes a logsumexp.
  for (const char* script : {
           "dim N = 17\ninput X[N, N]\nY[i, j] = X[i, j]\nY[i, j] += Y[j, i]\noutput Y\n",
           "dim N = 17, M = 7\ninput X[M, N]\nY[j] = sum(i: softmax(j: X[i, j]))\n",
           "dim T = 17, D = 7\ninput X[T, D]\nY[t, d] = X[t, d] * sum(e: X[t, e]) * max(s: X[s, d])\n",
           "dim N = 17\ninput X[N, N] : i32\nY[i] = logsumexp(j: X[i, j] + X[j, i])\n",
       }) {
    check_script(script, Expect::last_interpreted, {1e-12, 1e-12});
  }
}

TEST(LoopKernel, NestedNormalizationsCompileWhenTheirStatisticsNest) {
  check_script(
      "dim T = 17, D = 33\n"
      "input X[T, D]\n"
      "A[t, d] = softmax(d: layernorm(d: X[t, d]) * 3)\n"
      "B[t, d] = layernorm(d: X[t, d] - max(e: X[t, e]))\n"
      "C[t, d] = rmsnorm(d: softmax(d: X[t, d]) + X[t, d])\n",
      Expect::jit, {2e-5, 2e-5});
}

// --- threads and vector widths ---------------------------------------------------

TEST(LoopKernel, ThreadCountsGiveIdenticalBits) {
  einc::Program program = einc::compile(
      "dim T = 301, D = 517\n"
      "input X[T, D]\nparam g[D]\n"
      "S[t, d] = softmax(d: X[t, d])\n"
      "L[t, d] = layernorm(t: X[t, d]) * g[d]\n"
      "G[t, d] = X[t, d] / sum(a, b: X[a, b] * X[a, b])\n"
      "E[d] = sum(t: exp(X[t, d]))\n"
      "R[t] = max(d: X[t, d])\n"
      "F[t, d] = gelu(X[t, d])\n");
  TensorMap inputs = einc::random_inputs(program, 3);
  TensorMap one = program.run(inputs, on("cpu", 1));
  for (int threads : {2, 3, 5}) EXPECT_EQ(compare_bitwise(one, program.run(inputs, on("cpu", threads))), "") << threads;
  EXPECT_EQ(compare(program.run(inputs, on("reference")), one, {1e-5, 2e-5}), "");
}

TEST(LoopKernel, LeadingLoopsOfOneAreFlattenedForThreads) {
  // A batch of 1 in front: the parallel loop spans b, h and i (flattened),
  // with the same bits for any thread count.
  einc::Program program = einc::compile(
      "dim B = 1, H = 3, T = 67\n"
      "input S[B, H, T, T]\n"
      "P[b, h, i, j] = softmax(j: S[b, h, i, j] * 4)\n"
      "E[b, h, i, j] = exp(S[b, h, j, i])\n"
      "M[b, h, i] = max(j: S[b, h, i, j]) + sum(j: S[b, h, i, j]) / T\n");
  TensorMap inputs = einc::random_inputs(program, 5);
  TensorMap one = program.run(inputs, on("cpu", 1));
  for (int threads : {2, 3}) EXPECT_EQ(compare_bitwise(one, program.run(inputs, on("cpu", threads))), "") << threads;
  EXPECT_EQ(compare(program.run(inputs, on("reference")), one, {1e-5, 1e-7}), "");
}

TEST(LoopKernel, EveryVectorWidth) {
  const std::string script =
      "dim N = 37, M = 19\n"
      "input X[N, M], w[M]\n"
      "E[i, j] = tanh(X[i, j]) * w[j]\n"
      "S[i, j] = softmax(j: X[i, j])\n"
      "F[i, j] = layernorm(i: X[i, j])\n"
      "R[i] = sum(j: X[i, j])\n"
      "C[j] = min(i: X[i, j])\n"
      "A = prod(i, j: 1 + X[i, j] * 0.01)\n";
  for (int lanes : {1, 2, 4, 8, 16}) {
    SCOPED_TRACE("lanes " + std::to_string(lanes));
    LanesOverride override_lanes(lanes);
    check_script(script, Expect::jit, {1e-5, 2e-5});
  }
}

// --- loops split at a condition (loop_graph.h) ---------------------------------

// Every comparison, written either way round, with fills that make the
// piece past the boundary 0, NaN (an infinity), or a plain number; rows
// where the condition holds nowhere (j < i at i = 0: a softmax of nothing
// but -inf is NaN); vector widths 1 and the ISA's; a transposed target;
// a reduction over the other index (its outputs are a vector: not split).
// The plan must say the loops split, the values match the reference and
// the bits do not depend on the threads.
TEST(LoopKernel, LoopsSplitAtAConditionMatchTheReference) {
  for (const char* condition : {"j <= i", "j < i", "j > i", "j >= i", "i >= j", "i < j"})
    for (const char* fill : {"-inf", "0", "inf", "2.5"})
      for (int lanes : {1, 0}) {
        const std::string where = std::string("where(") + condition + ", X[h, i, j], " + fill + ")";
        const std::string script =
            "dim H = 2, T = 37\ninput X[H, T, T]\n"
            "P[h, i, j] = softmax(j: " +
            where +
            ")\n"
            "Q[h, j, i] = softmax(j: " +
            where +
            ")\n"
            "L[h, i] = logsumexp(j: " +
            where + ") + mean(j: " + where +
            ")\n"
            "S[h, i] = sum(j: " +
            where + " * 2) + max(j: " + where + ") - min(j: " + where +
            ")\n"
            "R[h, i] = prod(j: 1 + " +
            where +
            " * 0.01)\n"
            "C[h, j] = sum(i: " +
            where +
            ")\n"
            "E[h, i, j] = " +
            where + " * 3 + 1\n";
        SCOPED_TRACE(std::string(condition) + ", fill " + fill + ", lanes " + std::to_string(lanes));
        LanesOverride override_lanes(lanes);
        einc::Program program = einc::compile(script);
        const std::vector<std::string> lines = plan(program);
        ASSERT_EQ(lines.size(), 7u);
        for (std::size_t line : {0u, 2u, 3u, 6u})
          EXPECT_NE(lines[line].find("loops split where"), std::string::npos) << lines[line];
        check_values_and_threads(program, 7, {1e-5, 2e-6}, 3);
      }
}

// A softmax of scores a masked GETT wrote (-inf past the diagonal: a known
// fill, ir/known_fill.h) splits its loops; one of a tensor assigned twice
// does not. Causal attention end to end against the reference.
TEST(LoopKernel, ReadsOfAKnownFillSplitTheLoops) {
  einc::Program program = einc::compile(
      "dim H = 3, T = 45, E = 16\n"
      "input q[H, T, E], k[H, T, E], v[T, H, E]\n"
      "s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e] / sqrt(E), -inf)\n"
      "a[h, i, j] = softmax(j: s[h, i, j])\n"
      "o[i, h, e] = where(j <= i, a[h, i, j] * v[j, h, e], 0)\n"
      "u[h, i, j] = exp(s[h, j, i])\n"
      "t[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e], -inf)\n"
      "t[h, i, j] += 1\n"
      "b[h, i, j] = softmax(j: t[h, i, j])\n"
      "output o, a, u, b\n");
  const std::vector<std::string> lines = plan(program);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_NE(lines[1].find("softmax over j; loops split where j <= i"), std::string::npos) << lines[1];
  EXPECT_NE(lines[3].find("loops split where i <= j"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[6].find("split"), std::string::npos) << lines[6];
  check_values_and_threads(program, 11, {1e-5, 1e-6}, 2);
}

// A softmax's sum stores its terms exp(x - max) into the target and the
// output loop reads them back (loop_gen.cpp, "a sum's terms kept in the
// target"): over the last axis, two axes, times more factors, inside a
// split, next to forms that must not use it (a transposed target, a sum
// over another axis, a sum over every index: it spans the parallel loop,
// whose tasks each compute a part of the target); every vector width,
// thread counts alike.
TEST(LoopKernel, SoftmaxTermsKeptInTheTargetMatchTheReference) {
  const std::string script =
      "dim H = 3, T = 29, D = 45, P = 181, Q = 200\n"
      "input X[H, T, D], Y[H, T, T], W[P, Q]\n"
      "A[h, t, d] = softmax(d: X[h, t, d])\n"
      "B[h, t, d] = softmax(t, d: X[h, t, d] * 0.5)\n"
      "Z[a, b] = softmax(a, b: W[a, b])\n"  // over every index: the sum spans the parallel loop
      "C[h, t, d] = softmax(d: X[h, t, d]) * X[h, t, d] + 1\n"
      "E[h, i, j] = softmax(j: where(j < i, Y[h, i, j], -inf))\n"
      "F[h, d, t] = softmax(d: X[h, t, d])\n"
      "G[h, t, d] = exp(X[h, t, d]) / sum(s: exp(X[h, s, d]))\n";
  for (int lanes : {1, 4, 8, 16}) {
    SCOPED_TRACE("lanes " + std::to_string(lanes));
    LanesOverride override_lanes(lanes);
    check_values_and_threads(einc::compile(script), 13, {1e-5, 1e-6}, 3);
  }
}

// When every statement reading a select GETT's target is a loop kernel
// that knows the fill, the GETT leaves the fill unwritten (statement_plan.h,
// StatementPlan::fill_unread): the values stay the reference's, whatever
// the unwritten half holds (a pooled buffer of an earlier run's values, a
// fresh one of zeros: a read of either instead of the fill would change a
// softmax). A tensor also read by a GETT (here all of it: -inf times v
// sums to infinities and NaN, which a read of the unwritten half would not
// give), or by a statement writing an output, is filled.
TEST(LoopKernel, AFillNoStatementReadsIsNotWritten) {
  // The scores by a masked GETT, or by a loop kernel (its piece past the
  // diagonal not stored).
  for (const std::string scores : {"s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e] / sqrt(E), -inf)\n",
                                   "s[h, i, j] = where(j <= i, w[h, i, j] * 3, -inf)\n"}) {
    const std::string head =
        "dim H = 3, T = 45, E = 16\n"
        "input q[H, T, E], k[H, T, E], v[T, H, E], w[H, T, T]\n" +
        scores +
        "a[h, i, j] = softmax(j: s[h, i, j])\n"
        "u[h, i, j] = exp(s[h, j, i]) * 2\n";
    const std::string unread = head +
                               "o[i, h, e] = where(j <= i, a[h, i, j] * v[j, h, e], 0)\n"
                               "r[h, i, j] = u[h, i, j] + a[h, i, j]\n"
                               "output o, r\n";
    const std::string read_by_a_gett = head +
                                       "o[i, h, e] = s[h, i, j] * v[j, h, e]\n"
                                       "r[h, i, j] = u[h, i, j] + a[h, i, j]\n"
                                       "output o, r\n";
    const std::string read_into_an_output = head + "output a, u\n";
    for (const auto& [script, unwritten] :
         {std::pair{unread, true}, std::pair{read_by_a_gett, false}, std::pair{read_into_an_output, false}}) {
      SCOPED_TRACE(script);
      einc::Program program = einc::compile(script);
      const std::vector<std::string> lines = plan(program);
      ASSERT_GE(lines.size(), 1u);
      const bool says = lines[0].find("not filled") != std::string::npos ||
                        lines[0].find("not stored past the split") != std::string::npos;
      EXPECT_EQ(says, unwritten) << lines[0];
      TensorMap inputs = einc::random_inputs(program, 17);
      const TensorMap want = program.run(inputs, on("reference"));
      for (int round = 0; round < 2; ++round) {  // the second run on the first's pooled buffers
        TensorMap got = program.run(inputs, on("cpu", 1 + round));
        EXPECT_EQ(compare(want, got, {1e-5, 1e-6}), "") << "round " << round;
      }
    }
  }
}

// A softmax of causal scores read only under its mask (ir::reads_only_where),
// by every path a guarded reader takes, leaves its zeros past the diagonal
// unwritten, in f32 and f64; read also by an unmasked sum, it writes them.
// Each run takes buffers that held NaN (the pool hands a freed buffer of
// the size out again: s and a are over its 1 MB threshold), so a read of
// an unwritten part would turn the output to NaN.
TEST(LoopKernel, ASoftmaxReadOnlyUnderItsMaskLeavesThePastDiagonalUnwritten) {
  for (const DType dtype : {DType::f32, DType::f64}) {
    SCOPED_TRACE(einc::dtype_name(dtype));
    const std::string head = std::string("dim H = 3, T = 300, E = 16\n") +
                             "input q[H, T, E], k[H, T, E], v[T, H, E], w[T] : " + einc::dtype_name(dtype) + "\n" +
                             "s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e] / sqrt(E), -inf)\n"
                             "a[h, i, j] = softmax(j: s[h, i, j])\n";
    // Guarded readers, by every path they take: a masked GETT, product
    // steps, hoisted contractions, loop kernels (a select, a masked sum).
    std::vector<std::pair<std::string, bool>> cases;
    for (const char* reader : {
             "o[i, h, e] = where(j <= i, a[h, i, j] * v[j, h, e], 0)",
             "o[i, h, e] = where(j < i, a[h, i, j] * v[j, h, e], 0)",
             "o[i, h, e] = where(j <= i, a[h, i, j] * v[j, h, e] * w[j], 0)",
             "o[i, h, e] = where(j <= i, a[h, i, j] * v[j, h, e], 0) * 2 + v[i, h, e]",
             "o[i, h] = where(j <= i, a[h, i, j] * a[h, i, j], 0)",
             "o[h, i, j] = where(j <= i, a[h, i, j] * 3, 0)",
             "o[i, h] = sum(j: where(j <= i, exp(a[h, i, j]), 0))",
         })
      cases.emplace_back(head + reader + "\noutput o\n", true);
    cases.emplace_back(head + "o[i, h, e] = a[h, i, j] * v[j, h, e]\noutput o\n", false);
    auto poison_pool = [dtype] {
      std::vector<Tensor> held;
      for (int i = 0; i < 3; ++i) {
        held.push_back(Tensor::empty(dtype, {3, 300, 300}));
        if (dtype == DType::f64)
          std::fill_n(held.back().data_as<double>(), held.back().numel(), std::numeric_limits<double>::quiet_NaN());
        else
          std::fill_n(held.back().data_as<float>(), held.back().numel(), std::numeric_limits<float>::quiet_NaN());
      }
    };  // (given back to the pool here)
    for (const auto& [script, unwritten] : cases) {
      SCOPED_TRACE(script);
      einc::Program program = einc::compile(script);
      const std::vector<std::string> lines = plan(program);
      ASSERT_EQ(lines.size(), 3u);
      EXPECT_EQ(lines[1].find("not stored past the split") != std::string::npos, unwritten) << lines[1];
      TensorMap inputs = einc::random_inputs(program, 5);
      const TensorMap want = program.run(inputs, on("reference"));
      for (int threads : {1, 2}) {
        poison_pool();
        EXPECT_EQ(compare(want, program.run(inputs, on("cpu", threads)), {1e-5, 1e-6}), "") << threads << " threads";
      }
    }
  }
}

// --- the examples --------------------------------------------------------------

TEST(LoopKernel, ExamplesRunEveryNonContractionAsAJitLoop) {
  namespace fs = std::filesystem;
  int scripts = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(EINC_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".ein") continue;
    ++scripts;
    SCOPED_TRACE(entry.path().filename().string());
    einc::Program program = einc::compile_file(entry.path().string());
    einc::Report report = program.report();
    std::vector<std::string> lines = plan(program);
    ASSERT_EQ(lines.size(), report.statements.size());
    for (std::size_t s = 0; s < lines.size(); ++s) {
      if (report.statements[s].kind == "contraction") continue;
      EXPECT_NE(lines[s].find("JIT loop"), std::string::npos) << lines[s];
    }
  }
  EXPECT_GE(scripts, 7);
}

TEST(LoopKernel, EmitsTheKernelOfALoopStatement) {
  // The IR `einc emit` can show for a loop statement (internal API).
  einc::Program program = einc::compile_file(EINC_SOURCE_DIR "/examples/03_attention.ein");
  const einc::ir::Program& ir = einc::detail::ProgramAccess::ir(program);
  auto softmax = einc::cpu::emit_loop_kernel(ir, ir.statements.at(1));
  ASSERT_TRUE(softmax.has_value());
  EXPECT_NE(softmax->find("define void @einc_loop_line6("), std::string::npos);
  EXPECT_NE(softmax->find("llvm.fmuladd"), std::string::npos);  // the exp polynomial
  EXPECT_NE(softmax->find("phi <"), std::string::npos);         // vector accumulators
  einc::Program chain = einc::compile_file(EINC_SOURCE_DIR "/examples/07_chain_order.ein");
  const einc::ir::Program& chain_ir = einc::detail::ProgramAccess::ir(chain);
  EXPECT_FALSE(einc::cpu::emit_loop_kernel(chain_ir, chain_ir.statements.at(0)).has_value());
}

// A reduction along its vectorised index prefetches the next row on its
// first pass over a row (loop_gen.cpp, prefetch_next_row): a softmax's max
// pass does, as a row max alone does, and its sum and output passes, which
// read the row again from cache, do not (nor a layernorm's variance); an
// elementwise kernel never does.
TEST(LoopKernel, TheFirstPassOverARowPrefetchesTheNext) {
  auto prefetches = [](const std::string& statement) {
    einc::Program program = einc::compile("dim T = 37, D = 45\ninput x[T, D]\n" + statement + "\noutput y\n");
    const einc::ir::Program& ir = einc::detail::ProgramAccess::ir(program);
    const std::optional<std::string> kernel = einc::cpu::emit_loop_kernel(ir, ir.statements.at(0));
    EXPECT_TRUE(kernel.has_value()) << statement;
    std::size_t count = 0;
    for (std::size_t at = kernel ? kernel->find("call void @llvm.prefetch") : std::string::npos;
         at != std::string::npos; at = kernel->find("call void @llvm.prefetch", at + 1))
      ++count;
    return count;
  };
  LanesOverride override_lanes(8);
  const std::size_t row_max = prefetches("y[t] = max(d: x[t, d])");
  EXPECT_GT(row_max, 0u);
  EXPECT_EQ(prefetches("y[t, d] = softmax(d: x[t, d])"), row_max);
  EXPECT_EQ(prefetches("y[t, d] = layernorm(d: x[t, d])"), row_max);
  EXPECT_EQ(prefetches("y[t, d] = exp(x[t, d]) * 2"), 0u);
}

// --- randomized -------------------------------------------------------------------

// Random statements of elementwise functions, reductions and normalisations
// over random index sets and layouts (transposed reads, broadcasts,
// diagonals), with a select on two indices now and then, kept in the functions' domains and bounded (|values| stay
// below ~50), so that f32 rounding stays far below the size of a wrong
// element. Every tensor of `dtype` (f32 or f64).
class RandomStatements {
 public:
  explicit RandomStatements(std::uint64_t seed, const std::string& dtype = "f32") : rng_(seed), dtype_(dtype) {}

  std::string script() {
    static const std::vector<int> extents = {1, 2, 3, 5, 7, 16, 17, 33};
    int outputs = static_cast<int>(pick(4));  // 0..3 output indices
    std::vector<std::string> lhs;
    for (int k = 0; k < outputs; ++k) {
      // Now and then two output indices of one extent, which a select can compare.
      const bool same = k == 1 && chance(40);
      lhs.push_back(fresh_index(same ? index_extent_.at(lhs[0]) : extents[pick(extents.size())]));
    }
    std::string value = expr(lhs, lhs, 3);  // uses every output index (else it would have no extent)
    std::string out = "";
    for (const auto& [name, extent] : dims_) out += "dim " + name + " = " + std::to_string(extent) + "\n";
    for (const std::string& decl : inputs_) out += decl + " : " + dtype_ + "\n";
    out += "R";
    if (!lhs.empty()) {
      out += "[";
      for (std::size_t k = 0; k < lhs.size(); ++k) out += (k ? ", " : "") + lhs[k];
      out += "]";
    }
    return out + " = " + value + "\noutput R\n";
  }

 private:
  std::uint64_t pick(std::size_t n) { return rng_() % n; }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }

  // A new index; small once the statement's loops would get long (the
  // reference is slow).
  std::string fresh_index(int extent) {
    if (work_ * extent > 100000) extent = 1 + static_cast<int>(pick(3));
    work_ *= extent;
    std::string name = "k" + std::to_string(index_extent_.size());  // ("i8" is a dtype)
    index_extent_[name] = extent;
    return name;
  }

  std::string dim_for(int extent) {
    std::string name = "D" + std::to_string(extent);
    dims_[name] = extent;
    return name;
  }

  // A new input read at `indices` (shuffled: transposes), sometimes with an
  // index twice (a diagonal) or a 0-d input for no indices.
  std::string access(std::vector<std::string> indices) {
    std::shuffle(indices.begin(), indices.end(), rng_);
    if (!indices.empty() && chance(10))
      indices.insert(indices.begin() + static_cast<std::ptrdiff_t>(pick(indices.size() + 1)),
                     indices[pick(indices.size())]);
    std::string name = "X" + std::to_string(inputs_.size());
    std::string decl = "input " + name, sub;
    if (!indices.empty()) {
      decl += "[";
      sub = "[";
      for (std::size_t k = 0; k < indices.size(); ++k) {
        decl += (k ? ", " : "") + dim_for(index_extent_.at(indices[k]));
        sub += (k ? ", " : "") + indices[k];
      }
      decl += "]";
      sub += "]";
    }
    inputs_.push_back(decl);
    return name + sub;
  }

  // `a < b` (or <=, >, >=) on two indices of `available` with one extent,
  // or "" when there are none; one condition per statement (sema refuses
  // two that share exactly one index).
  std::string random_condition(const std::vector<std::string>& available) {
    if (has_condition_) return "";
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const std::string& a : available)
      for (const std::string& b : available)
        if (a != b && index_extent_.at(a) == index_extent_.at(b)) pairs.emplace_back(a, b);
    if (pairs.empty()) return "";
    has_condition_ = true;
    static const std::vector<std::string> ops = {"<", "<=", ">", ">="};
    const auto& [a, b] = pairs[pick(pairs.size())];
    return a + " " + ops[pick(ops.size())] + " " + b;
  }

  // where(condition, a, a fill or b) on a random_condition, or "".
  std::string random_select(const std::vector<std::string>& available, const std::string& a, const std::string& b,
                            const std::vector<std::string>& fills) {
    const std::string condition = random_condition(available);
    if (condition.empty()) return "";
    return "where(" + condition + ", " + a + ", " + (chance(50) ? fills[pick(fills.size())] : b) + ")";
  }

  std::vector<std::string> subset(const std::vector<std::string>& from) {
    std::vector<std::string> out;
    for (const std::string& i : from)
      if (chance(60)) out.push_back(i);
    return out;
  }

  // The same for an integer statement: + - *, where and sum/max/min/prod
  // over accesses and small integers (integer loop kernels).
  std::string integer_expr(const std::vector<std::string>& available, const std::vector<std::string>& must, int depth) {
    switch (depth <= 0 ? 0 : static_cast<int>(pick(8))) {
      case 0:
      case 1: {  // a leaf
        std::vector<std::string> idx = subset(available);
        for (const std::string& m : must)
          if (std::find(idx.begin(), idx.end(), m) == idx.end()) idx.push_back(m);
        if (idx.empty() && chance(30)) return "(" + std::to_string(static_cast<int>(pick(9)) - 4) + ")";
        return access(idx);
      }
      case 2:
      case 3:
      case 4: {  // arithmetic
        std::string a = integer_expr(available, must, depth - 1), b = integer_expr(available, {}, depth - 1);
        switch (pick(4)) {
          case 3:
            if (std::string select = random_select(available, a, b, {"-3", "0", "7"}); !select.empty()) return select;
            [[fallthrough]];
          case 0:
            return "(" + a + " + " + b + ")";
          case 1:
            return "(" + a + " - " + b + ")";
          default:
            return "(" + a + " * " + b + ")";
        }
      }
      default: {  // a reduction over fresh indices
        std::vector<std::string> over;
        static const std::vector<int> extents = {1, 3, 7, 16, 17, 33};
        for (int k = 0, count = 1 + static_cast<int>(pick(2)); k < count; ++k)
          over.push_back(fresh_index(extents[pick(extents.size())]));
        std::vector<std::string> inner = available, inner_must = must;
        inner.insert(inner.end(), over.begin(), over.end());
        inner_must.insert(inner_must.end(), over.begin(), over.end());
        std::string list;
        for (std::size_t k = 0; k < over.size(); ++k) list += (k ? ", " : "") + over[k];
        static const std::vector<std::string> ops = {"sum", "max", "min", "prod"};
        return ops[pick(ops.size())] + "(" + list + ": " + integer_expr(inner, inner_must, depth - 1) + ")";
      }
    }
  }

  // An expression over (a subset of) `available`, which must use every index of `must`.
  std::string expr(const std::vector<std::string>& available, const std::vector<std::string>& must, int depth) {
    if (dtype_ == "i32") return integer_expr(available, must, depth);
    int kind = depth <= 0 ? 0 : static_cast<int>(pick(10));
    switch (kind) {
      case 0:
      case 1: {  // a leaf
        std::vector<std::string> idx = subset(available);
        for (const std::string& m : must)
          if (std::find(idx.begin(), idx.end(), m) == idx.end()) idx.push_back(m);
        if (idx.empty() && chance(30)) return std::to_string(pick(5) + 1) + ".5";
        return access(idx);
      }
      case 2:
      case 3: {                                                            // a function, in its domain
        std::string a = "tanh(" + expr(available, must, depth - 1) + ")";  // in (-1, 1)
        switch (pick(12)) {
          case 0:
            return "exp(" + a + " * 2)";
          case 1:
            return "log(abs(" + a + ") + 0.25)";
          case 2:
            return "sqrt(abs(" + a + "))";
          case 3:
            return "rsqrt(abs(" + a + ") + 0.25)";
          case 4:
            return "sigmoid(" + a + " * 6)";
          case 5:
            return "relu(" + a + ")";
          case 6:
            return "gelu(" + a + " * 3)";
          case 7:
            return "silu(" + a + " * 3)";
          case 8:
            return "max(" + a + ", " + expr(available, {}, depth - 1) + ")";
          case 9:
            return "min(" + expr(available, {}, depth - 1) + ", " + a + ")";
          case 10:
            return "pow(abs(" + a + ") + 0.5, " + a + ")";
          default:
            return "abs(" + a + ")";
        }
      }
      case 4:
      case 5: {  // arithmetic
        std::string a = expr(available, must, depth - 1), b = expr(available, {}, depth - 1);
        switch (pick(5)) {
          case 4:  // a select on two indices of one extent (loops split there: loop_graph.h)
            if (std::string select = random_select(available, a, b, {"-1.5", "0", "2.5"}); !select.empty())
              return select;
            [[fallthrough]];
          case 0:
            return "(" + a + " + " + b + ")";
          case 1:
            return "(" + a + " - " + b + ")";
          case 2:
            return "tanh(" + a + ") * " + b;
          default:
            return a + " / (1.5 + tanh(" + b + "))";
        }
      }
      case 6:
      case 7:
      case 8: {  // a reduction over fresh indices
        std::vector<std::string> over;
        int count = 1 + static_cast<int>(pick(2));
        static const std::vector<int> extents = {1, 3, 7, 16, 17, 33};
        for (int k = 0; k < count; ++k) over.push_back(fresh_index(extents[pick(extents.size())]));
        std::vector<std::string> inner = available;
        inner.insert(inner.end(), over.begin(), over.end());
        std::vector<std::string> inner_must = must;
        inner_must.insert(inner_must.end(), over.begin(), over.end());
        std::string body = "tanh(" + expr(inner, inner_must, depth - 1) + ")";
        std::string list;
        for (std::size_t k = 0; k < over.size(); ++k) list += (k ? ", " : "") + over[k];
        static const std::vector<std::string> ops = {"sum", "max", "min", "prod", "mean", "logsumexp"};
        std::string op = ops[pick(ops.size())];
        if (op == "prod") body = "(1 + 0.05 * " + body + ")";
        std::string r = op + "(" + list + ": " + body + ")";
        return op == "sum" || op == "logsumexp" ? "tanh(" + r + " * 0.1)" : r;
      }
      default: {  // a normalisation over indices the expression keeps
        std::vector<std::string> axes = subset(must.empty() ? available : must);
        if (axes.empty()) return expr(available, must, depth - 1);
        std::vector<std::string> body_must = must;
        for (const std::string& a : axes)
          if (std::find(body_must.begin(), body_must.end(), a) == body_must.end()) body_must.push_back(a);
        std::string body = "tanh(" + expr(available, body_must, depth - 1) + ") * 2";
        std::string list;
        for (std::size_t k = 0; k < axes.size(); ++k) list += (k ? ", " : "") + axes[k];
        static const std::vector<std::string> ops = {"softmax", "layernorm", "rmsnorm"};
        return ops[pick(ops.size())] + "(" + list + ": " + body + ")";
      }
    }
  }

  std::mt19937_64 rng_;
  std::string dtype_;
  bool has_condition_ = false;
  std::int64_t work_ = 1;
  std::map<std::string, int> index_extent_, dims_;
  std::vector<std::string> inputs_;
};

TEST(LoopKernel, RandomStatementsMatchTheReference) {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  std::vector<std::uint64_t> seeds;
  if (!env("EINC_LOOP_RANDOM_SEED").empty()) {
    seeds.push_back(std::stoull(env("EINC_LOOP_RANDOM_SEED")));
  } else {
    std::uint64_t n = env("EINC_LOOP_RANDOM_CASES").empty() ? 300 : std::stoull(env("EINC_LOOP_RANDOM_CASES"));
    for (std::uint64_t s = 0; s < n; ++s) seeds.push_back(s);
  }
  const double budget = env("EINC_LOOP_RANDOM_SECONDS").empty() ? 60 : std::stod(env("EINC_LOOP_RANDOM_SECONDS"));
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  int ran = 0, compiled = 0, split = 0, failures = 0;
  for (std::uint64_t seed : seeds) {
    if (elapsed() > budget) break;
    // A fifth of them integer statements (compared bit for bit), a third of
    // the rest f64, and one in seven of those left f16 or bf16 (computed in
    // f32 as the widened statement would be, rounded once as stored:
    // within an ulp or two of the dtype of the reference's value).
    const bool integer = seed % 5 == 4;
    const char* dtype = integer ? "i32" : seed % 3 == 2 ? "f64" : seed % 7 == 1 ? (seed % 2 ? "bf16" : "f16") : "f32";
    const Tolerance tolerance = std::string(dtype) == "bf16"  ? Tolerance{1e-2, 1e-2}
                                : std::string(dtype) == "f16" ? Tolerance{2e-3, 2e-3}
                                                              : Tolerance{1e-5, 1e-4};
    std::string script = RandomStatements(seed, dtype).script();
    std::string failure;
    try {
      einc::Program program = einc::compile(script);
      std::vector<std::string> lines = plan(program);
      bool jit = !lines.empty() && lines[0].find("JIT loop") != std::string::npos;
      compiled += jit;
      split += jit && lines[0].find("loops split") != std::string::npos;
      if (!jit) std::cout << "interpreted: " << (lines.empty() ? "?" : lines[0]) << "\n";
      TensorMap inputs = einc::random_inputs(program, seed);
      TensorMap ref = program.run(inputs, on("reference"));
      // Cycle the vector width and thread count; every width must agree
      // with the reference.
      LanesOverride lanes(seed % 4 == 0 ? 1 : seed % 4 == 1 ? 4 : 0);
      TensorMap got = program.run(inputs, on("cpu", seed % 2 == 0 ? 1 : 2));
      failure = integer ? compare_bitwise(ref, got) : compare(ref, got, tolerance);
      if (failure.empty() && seed % 8 == 3) failure = compare_bitwise(got, program.run(inputs, on("cpu", 1)));
    } catch (const std::exception& e) {
      failure = std::string("threw: ") + e.what();
    }
    ++ran;
    if (!failure.empty()) {
      ADD_FAILURE() << failure << "\n  reproduce: EINC_LOOP_RANDOM_SEED=" << seed << "\n--- script ---\n" << script;
      if (++failures >= 5) break;
    }
  }
  std::cout << "random statements: " << ran << " run, " << compiled << " as JIT loops (" << split
            << " with split loops), in " << elapsed() << " s\n";
  EXPECT_GT(ran, 0);
  if (ran >= 100) {
    EXPECT_GT(split, 0) << "no random statement split its loops at a condition";
  }
  EXPECT_GE(compiled * 10, ran * 8) << "fewer than 80% of the random statements compile as loop kernels";
}

}  // namespace
