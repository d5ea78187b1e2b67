// tests/cpu/differential_test.cpp — the cpu backend against the reference
// interpreter (the oracle, docs/semantics.md) on random contraction scripts
// from tests/common/random_contractions.h, plus the generator's own checks.
//
// Environment (all optional):
//   EINC_DIFF_CASES=N      RandomContractions runs seeds 0..N-1 (default 400)
//   EINC_DIFF_SECONDS=S    ... and stops after S seconds (default 60)
//   EINC_DIFF_SEED=S       run only seed S (reproduces a reported failure)
//   EINC_DIFF_BACKEND=B    the backend under test (default "cpu"); with
//                          "reference" the harness and the generator are
//                          checked against the oracle itself (all must pass)
//
// Without the backend in einc::available_backends() every CpuDifferential
// test is skipped, or fails once kRequireCpuBackend is true.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "einc/einc.h"
#include "tests/common/random_contractions.h"
#include "tests/common/random_convolutions.h"
#include "tests/common/random_masks.h"
#include "tests/common/tensor_text.h"

namespace {

// Flip to true once the cpu backend is in the build: a build that lost it
// then fails these tests instead of skipping them.
constexpr bool kRequireCpuBackend = true;  // tests/cpu is built only with EINC_WITH_LLVM

using einc::DType;
using einc::Tensor;
using einc::TensorMap;
using einc_test::RandomCase;

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string backend_under_test() { return env("EINC_DIFF_BACKEND").value_or("cpu"); }

bool backend_available(const std::string& name) {
  for (einc::Backend b : einc::available_backends())
    if (einc::backend_name(b) == name) return true;
  return false;
}

std::string available_list() {
  std::string out;
  for (einc::Backend b : einc::available_backends())
    out += (out.empty() ? "" : ", ") + std::string(einc::backend_name(b));
  return out;
}

// Returns from the test (skip or failure) when the backend under test is not
// in this build.
#define EINC_REQUIRE_BACKEND_UNDER_TEST()                                                                          \
  do {                                                                                                             \
    if (!backend_available(backend_under_test())) {                                                                \
      if (kRequireCpuBackend)                                                                                      \
        FAIL() << "backend '" << backend_under_test() << "' is not in this build (available: " << available_list() \
               << ") and kRequireCpuBackend is set";                                                               \
      else                                                                                                         \
        GTEST_SKIP() << "backend '" << backend_under_test()                                                        \
                     << "' is not in this build yet (available: " << available_list()                              \
                     << "); set kRequireCpuBackend once it lands";                                                 \
    }                                                                                                              \
  } while (0)

// --- tolerance ----------------------------------------------------------------
//
// An element `got` of the backend's output matches the reference's `ref` when
//
//     |got - ref| <= atol + rtol * sqrt(L) * max(1, |ref|),   L = max(1, reduction_length)
//
// with, by the output's dtype (eps = the dtype's machine epsilon),
//     f32:  rtol = 4 * eps = 4 * 1.19e-7,   atol = 1e-5  * sqrt(L)
//     f64:  rtol = 4 * eps = 4 * 2.22e-16,  atol = 2e-14 * sqrt(L)
// NaN matches only NaN, and an infinity only the same infinity.
//
// Why: the reference accumulates in double and rounds once into the dtype,
// so it is within half an ulp of the exact value. A backend that accumulates
// the L products of inputs in [-1, 1) in the dtype (partial sums ~ sqrt(j/9))
// gathers a rounding error with a standard deviation of about u * L / 7
// (u = eps / 2) even in the worst, sequential order; the generator caps L at
// 16384 (kMaxReductionLength), where that is 1.3e-4 against an atol of
// 1.3e-3. Epilogues (scale, bias, activations with slope <= 1.13, residual)
// add a few ulps of the result, covered by the rtol term. A wrong index, a
// lost or doubled term or a wrong epilogue changes an element by roughly the
// size of one product (~0.1 to 1), far beyond the bound: 1e-5 at L = 1,
// 8e-5 at L = 64, 1.3e-3 at L = 16384 (when |ref| <= 1).
//
// f16 and bf16 outputs: both sides round once into the dtype, the reference
// from double, the backend from an f32 accumulation (docs/language.md); the two
// values rounded differ by the f32 bound above, so the results differ by at
// most one ulp of the dtype more: the bound adds ulp * |ref|, ulp = the
// dtype's epsilon (2^-10 for f16, 2^-7 for bf16; one ulp of x is at most
// eps * |x|). bf16 cannot tell a lost product of ~0.1 from rounding once
// |ref| exceeds ~10: that is the dtype's resolution, not the test's.
struct Tolerance {
  double rtol = 0;
  double atol = 0;
  double sqrt_l = 1;
  double ulp = 0;
  double bound(double ref) const { return atol + rtol * sqrt_l * std::max(1.0, std::fabs(ref)) + ulp * std::fabs(ref); }
};

Tolerance tolerance_for(DType dtype, std::int64_t reduction_length) {
  Tolerance t;
  t.sqrt_l = std::sqrt(static_cast<double>(std::max<std::int64_t>(1, reduction_length)));
  if (dtype == DType::i32 || dtype == DType::i8) return t;  // integers: exact (wrapping is defined)
  if (dtype == DType::f64) {
    t.rtol = 4 * std::numeric_limits<double>::epsilon();
    t.atol = 2e-14 * t.sqrt_l;
  } else {
    t.rtol = 4 * static_cast<double>(std::numeric_limits<float>::epsilon());
    t.atol = 1e-5 * t.sqrt_l;
    if (dtype == DType::f16) t.ulp = std::ldexp(1.0, -10);
    if (dtype == DType::bf16) t.ulp = std::ldexp(1.0, -7);
  }
  return t;
}

bool close_enough(double ref, double got, const Tolerance& tol) {
  if (std::isnan(ref) || std::isnan(got)) return std::isnan(ref) && std::isnan(got);
  if (std::isinf(ref) || std::isinf(got)) return ref == got;
  return std::fabs(got - ref) <= tol.bound(ref);
}

using einc_test::shape_text;
using einc_test::unflatten;

// Compares every output of `got` with `ref`; returns an empty string when
// all match, else what differs first (and how many elements do).
std::string compare_outputs(const TensorMap& ref, const TensorMap& got, std::int64_t reduction_length) {
  std::ostringstream out;
  out.precision(9);
  for (const auto& [name, r] : ref) {
    auto it = got.find(name);
    if (it == got.end()) return "output '" + name + "' is missing";
    const Tensor& g = it->second;
    if (g.dtype() != r.dtype())
      return "output '" + name + "' is " + einc::dtype_name(g.dtype()) + ", reference " + einc::dtype_name(r.dtype());
    if (g.shape() != r.shape())
      return "output '" + name + "' has shape " + shape_text(g.shape()) + ", reference " + shape_text(r.shape());
    Tolerance tol = tolerance_for(r.dtype(), reduction_length);
    std::int64_t bad = 0, first = -1;
    for (std::int64_t i = 0; i < r.numel(); ++i)
      if (!close_enough(r.get_flat(i), g.get_flat(i), tol)) {
        if (first < 0) first = i;
        ++bad;
      }
    if (bad) {
      double rv = r.get_flat(first), gv = g.get_flat(first);
      out << "output '" << name << "' " << shape_text(r.shape()) << ": " << bad << " of " << r.numel()
          << " elements differ; first at index " << shape_text(unflatten(first, r.shape())) << ": reference " << rv
          << ", got " << gv << ", |diff| " << std::fabs(gv - rv) << " > bound " << tol.bound(rv) << " (rtol "
          << tol.rtol << ", atol " << tol.atol << ", reduction_length " << reduction_length << ")";
      return out.str();
    }
  }
  for (const auto& [name, g] : got)
    if (!ref.count(name)) return "unexpected output '" + name + "'";
  return "";
}

// Bitwise equality of two runs' outputs (same names, dtypes and shapes).
std::string compare_bitwise(const TensorMap& a, const TensorMap& b) {
  if (a.size() != b.size()) return "different numbers of outputs";
  for (const auto& [name, x] : a) {
    auto it = b.find(name);
    if (it == b.end()) return "output '" + name + "' is missing";
    Tensor cx = x.clone(), cy = it->second.clone();
    if (cx.dtype() != cy.dtype() || cx.shape() != cy.shape()) return "output '" + name + "' differs in dtype or shape";
    std::size_t size = einc::dtype_size(cx.dtype());
    const auto* px = static_cast<const unsigned char*>(cx.data());
    const auto* py = static_cast<const unsigned char*>(cy.data());
    for (std::int64_t i = 0; i < cx.numel(); ++i)
      if (std::memcmp(px + static_cast<std::size_t>(i) * size, py + static_cast<std::size_t>(i) * size, size) != 0) {
        std::ostringstream out;
        out.precision(17);
        out << "output '" << name << "' differs at index " << shape_text(unflatten(i, cx.shape())) << ": "
            << cx.get_flat(i) << " vs " << cy.get_flat(i);
        return out.str();
      }
  }
  return "";
}

// A long message (a dump of generated code) cut to its first lines.
std::string clip(const std::string& message) {
  constexpr std::size_t kMax = 1500;
  return message.size() <= kMax
             ? message
             : message.substr(0, kMax) + "\n  [... " + std::to_string(message.size() - kMax) + " more characters]";
}

std::string reproduce(const RandomCase& c, std::uint64_t seed) {
  return "\n  " + c.description + "\n  reproduce: EINC_DIFF_SEED=" + std::to_string(seed) +
         " EINC_DIFF_BACKEND=" + backend_under_test() + "\n--- script ---\n" + c.script + "--------------";
}

// Runs `program` on `o.backend`; an exception becomes a failure naming the
// case, and nullopt.
std::optional<TensorMap> try_run(const einc::Program& program, const TensorMap& inputs, const einc::RunOptions& o,
                                 const RandomCase& c, std::uint64_t seed) {
  try {
    return program.run(inputs, o);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "backend '" << einc::backend_name(o.backend) << "' (threads=" << o.threads
                  << ") threw: " << clip(e.what()) << reproduce(c, seed);
    return std::nullopt;
  }
}

// The failures recorded so far in the current test (to tell which case failed).
int failure_parts() { return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count(); }

einc::RunOptions options(const std::string& backend, int threads = 0) {
  einc::RunOptions o;
  o.backend = einc::backend_from_name(backend).value();
  o.threads = threads;
  return o;
}

std::int64_t env_int(const char* name, std::int64_t fallback) {
  auto v = env(name);
  return v ? std::stoll(*v) : fallback;
}

// The naive MACs of a compiled case (its size, to pick cases big enough to
// be split across threads).
std::int64_t case_work(const einc::Program& program) {
  einc::Report r = program.report();
  std::int64_t outputs = 0, length = 1;
  for (const auto& s : r.statements) {
    outputs += static_cast<std::int64_t>(s.outputs.value);
    length = std::max(length, static_cast<std::int64_t>(s.reduction_length.value));
  }
  return outputs * length;
}

// --- the generator ------------------------------------------------------------

TEST(RandomContractionGenerator, ScriptsCompileAndMatchTheReport) {
  // Every script compiles, has one statement assigning C, and the report
  // agrees with the generator's reduction_length and work cap.
  const std::uint64_t seeds = 2000;
  std::map<std::string, int> seen;
  for (std::uint64_t seed = 0; seed < seeds; ++seed) {
    RandomCase c = einc_test::random_contraction(seed);
    einc::Program program = [&] {
      try {
        return einc::compile(c.script);
      } catch (const einc::CompileError& e) {
        std::string diagnostics;
        for (const auto& d : e.diagnostics()) diagnostics += d.rendered;
        ADD_FAILURE() << "does not compile:\n" << diagnostics << reproduce(c, seed);
        throw;
      }
    }();
    ASSERT_EQ(program.outputs(), std::vector<std::string>{"C"}) << reproduce(c, seed);
    einc::Report report = program.report();
    ASSERT_EQ(report.statements.size(), 1u) << reproduce(c, seed);
    const einc::StatementReport& s = report.statements[0];
    EXPECT_EQ(s.target, "C");
    EXPECT_EQ(s.reduction_length.value, c.reduction_length) << reproduce(c, seed);
    EXPECT_LE(c.reduction_length, einc_test::kMaxReductionLength) << reproduce(c, seed);
    std::int64_t work = 1;
    for (const auto& [name, value] : report.dims) work *= std::max<std::int64_t>(1, value);
    EXPECT_LE(work, einc_test::kMaxWork) << reproduce(c, seed);
    EXPECT_LE(s.naive_macs.value, einc_test::kMaxWork) << reproduce(c, seed);
    EXPECT_EQ(s.dtype, c.script.find(": f64") != std::string::npos ? "f64" : "f32");
    // Feature counts for the coverage check below.
    const std::string& d = c.description;
    auto has = [&](const std::string& what) { return d.find(what) != std::string::npos; };
    seen["3 operands"] += has("3 operands");
    seen["f64"] += has("f64;");
    seen["einsum"] += has("einsum(\"");
    seen["einsum implicit"] += has("einsum(implicit)");
    seen["diagonal"] += has("(diag)");
    seen["zero-dim"] += has("zero-dim");
    seen["scalar operand"] += has(":0");
    seen["rank-4 operand"] += has(":4");
    seen["batch"] += has("(batch)");
    seen["M"] += has("(M)");
    seen["N"] += has("(N)");
    seen["K"] += has("(K)");
    seen["solo"] += has("(solo)");
    seen["scale"] += has("scale(");
    seen["scale sqrt"] += has("scale(/sqrt");
    seen["bias"] += has("bias[");
    seen["residual"] += has("residual");
    seen["free factor"] += has("free factor F[");
    seen["0-d scalar factor"] += has("scalar s");
    for (const char* act : {"relu", "gelu", "tanh", "silu", "sigmoid"})
      seen[act] += has(std::string(", ") + act) || has(std::string(": ") + act);
    seen["scalar output"] += has("C = ") && !has("einsum(\"");
    seen["extent 1"] += has("=1(");
    seen["extent > 32"] += [&] {
      for (std::size_t p = d.find('='); p != std::string::npos; p = d.find('=', p + 1)) {
        char* end = nullptr;
        long v = std::strtol(d.c_str() + p + 1, &end, 10);
        if (end && *end == '(' && v > 32) return true;
      }
      return false;
    }();
    seen["reduction_length > 1024"] += c.reduction_length > 1024;
  }
  std::string summary;
  for (const auto& [what, count] : seen) {
    summary += "  " + what + ": " + std::to_string(count) + "\n";
    EXPECT_GE(count, 10) << "the generator rarely makes '" << what << "'";
  }
  std::cout << "features in " << seeds << " cases:\n" << summary;
}

TEST(RandomContractionGenerator, IsDeterministic) {
  for (std::uint64_t seed : {0ull, 1ull, 77ull, 123456789ull}) {
    RandomCase a = einc_test::random_contraction(seed), b = einc_test::random_contraction(seed);
    EXPECT_EQ(a.script, b.script);
    EXPECT_EQ(a.description, b.description);
    EXPECT_EQ(a.reduction_length, b.reduction_length);
  }
  EXPECT_NE(einc_test::random_contraction(1).script, einc_test::random_contraction(2).script);
}

// --- the backend against the reference -----------------------------------------

// Runs the generator's cases on the backend under test and the reference
// and compares them (the seeds and time budget from the environment).
void compare_generated_cases(RandomCase (*generate)(std::uint64_t), std::int64_t default_cases) {
  const std::string backend = backend_under_test();
  std::vector<std::uint64_t> seeds;
  if (auto one = env("EINC_DIFF_SEED")) {
    seeds.push_back(std::stoull(*one));
  } else {
    std::int64_t n = env_int("EINC_DIFF_CASES", default_cases);
    for (std::int64_t s = 0; s < n; ++s) seeds.push_back(static_cast<std::uint64_t>(s));
  }
  const double budget_s = env("EINC_DIFF_SECONDS") ? std::stod(*env("EINC_DIFF_SECONDS")) : 60.0;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

  int ran = 0, failures = 0;
  for (std::uint64_t seed : seeds) {
    if (elapsed() > budget_s) break;
    RandomCase c = generate(seed);
    std::string failure;
    try {
      einc::Program program = einc::compile(c.script);
      TensorMap inputs = einc::random_inputs(program, seed);
      TensorMap ref = program.run(inputs, options("reference"));
      TensorMap got;
      try {
        got = program.run(inputs, options(backend));
      } catch (const std::exception& e) {
        failure = std::string("backend '") + backend + "' threw: " + clip(e.what());
      }
      if (failure.empty()) failure = compare_outputs(ref, got, c.reduction_length);
    } catch (const std::exception& e) {
      failure = std::string("the reference side failed (a generator or harness bug): ") + clip(e.what());
    }
    ++ran;
    if (!failure.empty()) {
      ADD_FAILURE() << failure << reproduce(c, seed);
      if (++failures >= 5) {
        ADD_FAILURE() << "stopping after 5 failing cases";
        break;
      }
    }
  }
  std::cout << "compared " << ran << " of " << seeds.size() << " cases on '" << backend << "' in " << elapsed()
            << " s\n";
  EXPECT_GT(ran, 0);
}

TEST(CpuDifferential, RandomContractions) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  compare_generated_cases(einc_test::random_contraction, 400);
}

// Index arithmetic: random strides, dilations, paddings, layouts and odd
// sizes (tests/common/random_convolutions.h).
TEST(CpuDifferential, RandomConvolutions) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  compare_generated_cases(einc_test::random_convolution, 200);
}

// Conditions: causal and other masks on scores, sums, maxima and selects
// (tests/common/random_masks.h).
TEST(CpuDifferential, RandomMasks) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  compare_generated_cases(einc_test::random_masked, 150);
}

// `+=` onto a contraction's target: the generator's f32 statement `C[...] =
// e` (not an einsum) as `C[...] = e` then `C[...] += e`, so the old values
// are varied and the GETT's accumulation (a copy of C added last) is
// checked with every epilogue; then a `+=` that reads its own target, which
// must not run in place.
RandomCase accumulating_contraction(std::uint64_t seed) {
  for (std::uint64_t s = 7000 + seed * 7;; ++s) {
    RandomCase c = einc_test::random_contraction(s);
    const auto at = c.script.rfind("\nC");
    if (c.script.find("einsum(") != std::string::npos || c.script.find("f64") != std::string::npos ||
        at == std::string::npos)
      continue;
    const std::string statement = c.script.substr(at + 1);  // "C[...] = e\n"
    const auto equals = statement.find(" = ");
    c.script += statement.substr(0, equals) + " += " + statement.substr(equals + 3);
    c.description = "accumulating: " + c.description;
    c.reduction_length = std::max<std::int64_t>(2 * c.reduction_length, 2);
    return c;
  }
}

TEST(CpuDifferential, AccumulatingContractions) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  compare_generated_cases(accumulating_contraction, 120);
  const std::string script =
      "dim N = 40, K = 24\ninput A[N, K], B[K, N], W[N, N], v[N]\nC[i, j] = A[i, k] * B[k, j]\n"
      "C[i, j] += C[i, k] * W[k, j] + v[j]\noutput C\n";
  einc::Program program = einc::compile(script);
  TensorMap inputs = einc::random_inputs(program, 5);
  EXPECT_EQ(compare_outputs(program.run(inputs, options("reference")),
                            program.run(inputs, options(backend_under_test(), 2)), 2 * 40 * 24),
            "");
}

// Masked GETTs (causal scores and P V): random comparisons, layouts and
// sizes across tiles and KC blocks (tests/common/random_masks.h), and the
// plan's claim that they run as GETTs, with the same bits for any threads.
TEST(CpuDifferential, RandomMaskedGetts) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  compare_generated_cases(einc_test::random_masked_gett, 120);
  int masked = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    RandomCase c = einc_test::random_masked_gett(seed);
    einc::Program program = einc::compile(c.script);
    const std::string plan = program.emit(einc::EmitStage::plan);
    if (plan.find("JIT GETT") == std::string::npos) continue;
    EXPECT_NE(plan.find("where"), std::string::npos) << plan;
    ++masked;
    TensorMap inputs = einc::random_inputs(program, seed);
    TensorMap one = program.run(inputs, options(backend_under_test(), 1));
    EXPECT_EQ(compare_bitwise(one, program.run(inputs, options(backend_under_test(), 3))), "") << c.description;
  }
  EXPECT_GT(masked, 30);  // nearly every case is a masked GETT
}

// The same masked GETTs with every tensor f64 (f64 GETTs take masks too).
RandomCase masked_gett_in_f64(std::uint64_t seed) {
  RandomCase c = einc_test::random_masked_gett(seed);
  std::string script;
  std::istringstream lines(c.script);
  for (std::string line; std::getline(lines, line);) {
    const bool declaration = line.rfind("input ", 0) == 0 || line.rfind("param ", 0) == 0;
    script += line + (declaration && line.find(':') == std::string::npos ? " : f64" : "") + "\n";
  }
  c.script = script;
  c.description = "f64: " + c.description;
  return c;
}

TEST(CpuDifferential, RandomMaskedGettsInF64) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  compare_generated_cases(masked_gett_in_f64, 60);
  int masked = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    einc::Program program = einc::compile(masked_gett_in_f64(seed).script);
    const std::string plan = program.emit(einc::EmitStage::plan);
    masked += plan.find("JIT GETT") != std::string::npos && plan.find("where") != std::string::npos;
  }
  EXPECT_GT(masked, 15);  // nearly every case is a masked f64 GETT
}

// The generator's script with every tensor declared `dtype` (its inputs are
// the only declarations; any f32/f64 suffix is replaced).
std::string with_dtype(const std::string& script, const std::string& dtype) {
  std::istringstream lines(script);
  std::string out, line;
  while (std::getline(lines, line)) {
    if (line.rfind("input ", 0) == 0) {
      for (const char* suffix : {" : f32", " : f64"})
        if (auto at = line.find(suffix); at != std::string::npos) line.erase(at);
      line += " : " + dtype;
    }
    out += line + "\n";
  }
  return out;
}

// A masked sum never multiplies what its mask leaves out: an inf and a NaN
// in V past the diagonal do not reach the rows before them (the masked
// GETT's zeroed copies would make 0 * inf there; it takes its exact loop),
// in f32 and in f64.
TEST(CpuDifferential, MaskedSumsIgnoreWhatTheMaskLeavesOut) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  for (const bool v_holds_i : {false, true})
    for (const std::string dtype : {"f32", "f64"}) {
      const std::string script = with_dtype(
          v_holds_i
              ? "dim T = 70, E = 20\ninput p[T, T], v[T, E]\no[e, j] = where(j <= i, v[i, e] * p[j, i], 0)\noutput o\n"
              : "dim T = 70, E = 20\ninput p[T, T], v[T, E]\no[i, e] = where(j <= i, p[i, j] * v[j, e], 0)\noutput o\n",
          dtype);
      einc::Program program = einc::compile(script);
      ASSERT_NE(program.emit(einc::EmitStage::plan).find("sum only where"), std::string::npos);
      TensorMap inputs = einc::random_inputs(program, 9);
      const Tensor& v = inputs.at("v");
      v.set({33, 3}, std::numeric_limits<double>::infinity());
      v.set({50, 7}, std::numeric_limits<double>::quiet_NaN());
      TensorMap ref = program.run(inputs, options("reference"));
      TensorMap got = program.run(inputs, options(backend_under_test(), 2));
      EXPECT_EQ(compare_outputs(ref, got, 70), "") << script;
    }
}

// What compare_retyped_cases compared: the cases run, and how many of
// them were planned as JIT GETTs.
struct RetypedRun {
  int ran = 0, getts = 0, loops = 0;  // loops: cases run as JIT loop kernels (dot products, elementwise)
};

// The generator's contractions from seed `first_seed` on, case i with every
// tensor made `dtype_of(i)`, on the backend under test (2 threads) and the
// reference, within 30 s; stops after 5 failures. With
// `reference_may_refuse`, a case the reference refuses with a RunError (an
// integer division by zero) must be refused by the backend too.
RetypedRun compare_retyped_cases(std::int64_t n, std::uint64_t first_seed,
                                 const std::function<std::string(std::int64_t)>& dtype_of, bool reference_may_refuse) {
  const std::string backend = backend_under_test();
  const auto start = std::chrono::steady_clock::now();
  RetypedRun run;
  int failures = 0;
  for (std::int64_t i = 0; i < n && failures < 5; ++i) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > 30.0) break;
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(i);
    RandomCase c = einc_test::random_contraction(seed);
    c.script = with_dtype(c.script, dtype_of(i));
    einc::Program program = einc::compile(c.script);
    const std::string plan = program.emit(einc::EmitStage::plan);
    run.getts += plan.find("JIT GETT") != std::string::npos;
    run.loops += plan.find("JIT loop") != std::string::npos;
    TensorMap inputs = einc::random_inputs(program, seed);
    TensorMap ref;
    try {
      ref = program.run(inputs, options("reference"));
    } catch (const einc::RunError&) {
      if (!reference_may_refuse) throw;
      EXPECT_THROW(program.run(inputs, options(backend, 2)), einc::RunError) << reproduce(c, seed);
      continue;
    }
    std::optional<TensorMap> got = try_run(program, inputs, options(backend, 2), c, seed);
    ++run.ran;
    if (!got) {
      ++failures;
      continue;
    }
    if (std::string failure = compare_outputs(ref, *got, c.reduction_length); !failure.empty()) {
      ADD_FAILURE() << failure << reproduce(c, seed);
      ++failures;
    }
  }
  return run;
}

// f16 and bf16 statements (run in f32 on widened copies, rounded once into
// the target) against the reference, on the generator's contractions with
// every tensor made f16 or bf16 (alternately).
TEST(CpuDifferential, HalfPrecisionContractions) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const RetypedRun run = compare_retyped_cases(
      env_int("EINC_DIFF_HALF_CASES", 120), 5000, [](std::int64_t i) { return i % 2 ? "f16" : "bf16"; }, false);
  std::cout << "compared " << run.ran << " f16/bf16 cases on '" << backend_under_test() << "'\n";
  EXPECT_GT(run.ran, 0);
}

// `+=` (the target widened first), a statement reading its own target, a
// reduction and an elementwise statement, in bf16 and f16.
TEST(CpuDifferential, HalfPrecisionAccumulationAndSelfReads) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  for (const std::string dtype : {"bf16", "f16"}) {
    const std::string script = "dim N = 100, K = 64\ninput A[N, K], B[K, N], v[N] : " + dtype +
                               "\nC[i, j] = A[i, k] * B[k, j]\nC[i, j] += v[j] * 2\nC[i, j] += C[j, i]\n"
                               "s[i] = v[i]\ns[i] += sum(j: C[i, j])\noutput C, s\n";
    einc::Program program = einc::compile(script);
    TensorMap inputs = einc::random_inputs(program, 3);
    TensorMap ref = program.run(inputs, options("reference"));
    TensorMap got = program.run(inputs, options(backend_under_test(), 2));
    EXPECT_EQ(got.at("C").dtype(), dtype == "bf16" ? DType::bf16 : DType::f16);
    // s sums 100 elements of C, each a sum of 64 products: L = 6400 bounds both
    EXPECT_EQ(compare_outputs(ref, got, 6400), "") << dtype;
  }
}

// f64, i32 and i8 statements (JIT GETTs of their own element type where
// the form allows, products of i8 tensors on i32 copies; docs/cpu-backend.md)
// against the reference, on the generator's contractions with every
// tensor made f64, i32 or i8 in turn: f64 within its tolerance, integers
// exactly. Where the reference refuses a case (an integer division by
// zero), the backend must refuse it too.
TEST(CpuDifferential, Float64AndIntegerContractions) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const RetypedRun run = compare_retyped_cases(
      env_int("EINC_DIFF_NATIVE_CASES", 160), 9000,
      [](std::int64_t i) { return i % 3 == 0   ? "f64"
                                  : i % 3 == 1 ? "i32"
                                               : "i8"; }, true);
  std::cout << "compared " << run.ran << " f64/i32/i8 cases on '" << backend_under_test() << "', " << run.getts
            << " of them JIT GETTs, " << run.loops << " JIT loop kernels\n";
  EXPECT_GT(run.ran, 0);
  // The GETT path is what is under test; the integer dot products (no M
  // or N index) run as loop kernels, as f32 and f64 ones do.
  EXPECT_GT(run.getts, run.ran / 5);
  EXPECT_GT(run.loops, 0);
}

// An f64, an i32 and an i8 GETT large enough for several KC, MC and NC blocks,
// with odd sizes, a transposed operand, a bias, a residual and `+=`: as
// JIT GETTs (the plan says so), equal to the reference (i32 bit for bit,
// also where the sums wrap past 2^31), and bitwise the same for 1 and 3 threads.
TEST(CpuDifferential, Float64AndIntegerGetts) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  for (const std::string dtype : {"f64", "i32"}) {
    const std::string scale = dtype == "f64" ? " / 3" : "";
    const std::string script = "dim M = 203, K = 1100, N = 131\ninput A[M, K], B[N, K], R[M, N], v[N] : " + dtype +
                               "\nC[i, j] = A[i, k] * B[j, k]" + scale +
                               " + v[j]\nC[i, j] += A[i, k] * B[j, k] - R[i, j]\n"
                               "output C\n";
    einc::Program program = einc::compile(script);
    const std::string plan = program.emit(einc::EmitStage::plan);
    EXPECT_EQ(plan.find("interpreted"), std::string::npos) << plan;
    TensorMap inputs = einc::random_inputs(program, 11);
    if (dtype == "i32") {  // values whose products and sums wrap
      const Tensor& a = inputs.at("A");
      for (std::int64_t i = 0; i < a.numel(); i += 7) a.set(unflatten(i, a.shape()), 2147483000.0 - i);
    }
    TensorMap ref = program.run(inputs, options("reference"));
    TensorMap one = program.run(inputs, options(backend_under_test(), 1));
    EXPECT_EQ(compare_outputs(ref, one, 2 * 1100), "") << dtype;
    EXPECT_EQ(compare_bitwise(one, program.run(inputs, options(backend_under_test(), 3))), "") << dtype;
  }
  // Products of i8 tensors (dtype i32): on i16 pairs (`=`, `+=`, the output
  // transposed: D[j, i]), and with an i8 bias term on i32 copies (E).
  const std::string script =
      "dim M = 203, K = 1101, N = 131\ninput A[M, K], B[N, K], v[N] : i8\nC[i, j] = A[i, k] * B[j, k]\n"
      "C[i, j] += A[i, k] * B[j, k]\nD[j, i] = A[i, k] * B[j, k]\nE[i, j] = A[i, k] * B[j, k] + v[j]\n"
      "output C, D, E\n";
  einc::Program program = einc::compile(script);
  const std::string plan = program.emit(einc::EmitStage::plan);
  EXPECT_NE(plan.find("C = JIT GETT (batch -; M j; N i; K k), on i8 operands as i16 pairs"), std::string::npos) << plan;
  EXPECT_NE(plan.find("E = JIT GETT (batch -; M j; N i; K k), epilogue: bias, in i32 on i8 operands widened"),
            std::string::npos)
      << plan;
  EXPECT_EQ(plan.find("interpreted"), std::string::npos) << plan;
  TensorMap inputs = einc::random_inputs(program, 12);
  for (const char* name : {"A", "B"}) {  // the extremes: (-128)^2 + (-128)^2 = 2^15 in one pmaddwd lane
    const Tensor& t = inputs.at(name);
    for (std::int64_t i = 0; i < t.numel(); i += 3) t.set(unflatten(i, t.shape()), i % 2 ? 127.0 : -128.0);
  }
  TensorMap ref = program.run(inputs, options("reference"));
  TensorMap one = program.run(inputs, options(backend_under_test(), 1));
  EXPECT_EQ(compare_outputs(ref, one, 2 * 1100), "");
  EXPECT_EQ(compare_bitwise(one, program.run(inputs, options(backend_under_test(), 3))), "");
}

// i8 products whose operands lie with their rows one element apart and K
// strided (A[k, i], B[k, j], a batch, a two-index row group): their i16
// pairs are copied pair-major ([K / 2][rows], i8_pairs.cpp), K odd so the
// last pair's second half is the zero padding; G meets a K-major copy. Bit for bit against the
// reference with the extremes -128 and 127, and the same for 1 and 3
// threads.
TEST(CpuDifferential, Int8ProductsWithRowsInnerOperands) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const std::string script =
      "dim M = 37, K = 301, N = 45, B = 3, P = 5, Q = 7\n"
      "input A[K, M], W[K, N], X[B, K, M], Y[B, K, N], Z[K, P, Q], V[N, K] : i8\n"
      "C[i, j] = A[k, i] * W[k, j]\n"           // both operands rows-inner
      "D[b, i, j] = X[b, k, i] * Y[b, k, j]\n"  // with a batch
      "E[i, p, q] = A[k, i] * Z[k, p, q]\n"     // a two-index row group, contiguous
      "F[j, i] = A[k, i] * W[k, j]\n"           // C transposed: the roles swap
      "G[i, j] = A[k, i] * V[j, k]\n"           // one of each layout
      "output C, D, E, F, G\n";
  einc::Program program = einc::compile(script);
  const std::string plan = program.emit(einc::EmitStage::plan);
  EXPECT_EQ(plan.find("interpreted"), std::string::npos) << plan;
  for (const char* target : {"C = ", "D = ", "E = ", "F = ", "G = "})
    EXPECT_NE(plan.find(std::string(target) + "JIT GETT"), std::string::npos) << target << "\n" << plan;
  EXPECT_NE(plan.find("as i16 pairs"), std::string::npos) << plan;
  TensorMap inputs = einc::random_inputs(program, 13);
  for (const char* name : {"A", "W", "X", "Y", "Z", "V"}) {
    const Tensor& t = inputs.at(name);
    for (std::int64_t i = 0; i < t.numel(); i += 3) t.set(unflatten(i, t.shape()), i % 2 ? 127.0 : -128.0);
  }
  TensorMap ref = program.run(inputs, options("reference"));
  TensorMap one = program.run(inputs, options(backend_under_test(), 1));
  EXPECT_EQ(compare_outputs(ref, one, 301), "");
  EXPECT_EQ(compare_bitwise(one, program.run(inputs, options(backend_under_test(), 3))), "");
}

// An i8 decode (one token: a GEMV) reads its i8 weights in place, in both
// layouts (W[k, n]: rows streamed, two at a time as i16 pairs; W[n, k]: dot
// products), with K cut among the threads: bit-exact with the extremes
// -128 and 127, and the same for 1 and 3 threads. The shapes cover an odd
// K (the last row paired with itself), N below one vector and past one
// chunk of y (8192), vector and scalar tails, and an x read with a stride.
// A `+=` decode takes the i16 pairs instead.
TEST(CpuDifferential, Int8DecodeReadsItsWeightsInPlace) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  for (const auto& [k, n] : std::vector<std::pair<int, int>>{{4100, 517}, {4101, 45}, {7, 3}, {301, 8243}})
    for (const std::string weights : {"W[K, N]", "W[N, K]"}) {
      const std::string access = weights == "W[K, N]" ? "W[k, n]" : "W[n, k]";
      const std::string script = "dim K = " + std::to_string(k) + ", N = " + std::to_string(n) +
                                 "\ninput x[1, K], xs[K, 3], " + weights + " : i8\ny[i, n] = x[i, k] * " + access +
                                 "\nys[n] = xs[k, 1] * " + access + "\nz[i, n] = x[i, k] * " + access +
                                 "\nz[i, n] += x[i, k] * " + access + "\noutput y, ys, z\n";
      const std::string where = std::to_string(k) + "x" + std::to_string(n) + " " + weights;
      einc::Program program = einc::compile(script);
      const std::string plan = program.emit(einc::EmitStage::plan);
      EXPECT_NE(
          plan.find(
              "y = JIT GETT (batch -; M n; N i; K k), a GEMV reading the i8 weights in place (as i16 pairs, pmaddwd)"),
          std::string::npos)
          << where << "\n"
          << plan;
      EXPECT_NE(
          plan.find(
              "ys = JIT GETT (batch -; M n; N -; K k), a GEMV reading the i8 weights in place (as i16 pairs, pmaddwd)"),
          std::string::npos)
          << where << "\n"
          << plan;
      EXPECT_NE(plan.find("epilogue: accumulate, on i8 operands as i16 pairs"), std::string::npos) << plan;
      TensorMap inputs = einc::random_inputs(program, 21);
      for (const char* name : {"x", "xs", "W"}) {
        const Tensor& t = inputs.at(name);
        for (std::int64_t i = 0; i < t.numel(); i += 2) t.set(unflatten(i, t.shape()), i % 4 ? 127.0 : -128.0);
      }
      TensorMap ref = program.run(inputs, options("reference"));
      TensorMap one = program.run(inputs, options(backend_under_test(), 1));
      EXPECT_EQ(compare_outputs(ref, one, k), "") << where;
      EXPECT_EQ(compare_bitwise(one, program.run(inputs, options(backend_under_test(), 3))), "") << where;
    }
}

// A quantised linear layer in the language: activations quantised with
// i8(...), the i8 product summed in i32 under f32(...) and dequantised with
// per-tensor and per-channel scales. The dequantising statement is one
// i16-pair GETT whose epilogue converts, scales and adds the bias (a decode,
// T = 1, hoists the contraction: the GEMV reading the i8 weights in place,
// then a loop kernel); the quantisation is a loop kernel, and so is the
// requantising step of z after its hoisted GETT.
TEST(CpuDifferential, QuantisedLinearLayers) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  for (const auto& [t, d, f] : std::vector<std::array<int, 3>>{{1, 64, 8}, {5, 33, 17}, {37, 300, 65}, {64, 257, 96}}) {
    const std::string script = "dim T = " + std::to_string(t) + ", D = " + std::to_string(d) +
                               ", F = " + std::to_string(f) +
                               "\ninput x[T, D]\ninput sx\nparam wq[F, D] : i8\nparam sw[F], b[F]\n"
                               "xq[t, e] = i8(x[t, e] / sx)\n"
                               "y[t, f] = f32(xq[t, e] * wq[f, e]) * sx * sw[f] + b[f]\n"
                               "z[t, f] = i8(f32(sum(e: xq[t, e] * wq[f, e])) * sw[f])\n"
                               "output y, z\n";
    einc::Program program = einc::compile(script);
    const std::string plan = program.emit(einc::EmitStage::plan);
    EXPECT_NE(plan.find(t == 1 ? "y = contractions hoisted into temporaries: JIT GETT"
                               : "y = JIT GETT (batch -; M f; N t; K e), epilogue: to f32 scale channel scales bias"),
              std::string::npos)
        << plan;
    EXPECT_NE(plan.find("z = contractions hoisted into temporaries: JIT GETT"), std::string::npos) << plan;
    EXPECT_NE(plan.find("xq = JIT loop (elementwise)"), std::string::npos) << plan;
    TensorMap inputs = einc::random_inputs(program, 5);
    inputs.at("sx").set({}, 1.0 / 100);  // x in [-1, 1) to [-100, 100]
    const Tensor& sw = inputs.at("sw");  // per-channel scales, small and positive
    for (std::int64_t i = 0; i < sw.numel(); ++i) sw.set_flat(i, 0.001 + 0.0001 * static_cast<double>(i));
    const TensorMap ref = program.run(inputs, options("reference"));
    for (int threads : {1, 2}) {
      const TensorMap got = program.run(inputs, options(backend_under_test(), threads));
      // z: integer sums and a rounding both sides do alike, bit for bit; y:
      // its f32 steps against the reference's double.
      EXPECT_EQ(compare_bitwise({{"z", ref.at("z")}}, {{"z", got.at("z")}}), "") << t << "x" << d << "x" << f;
      EXPECT_EQ(compare_outputs({{"y", ref.at("y")}}, {{"y", got.at("y")}}, 4), "") << t << "x" << d << "x" << f;
    }
  }
}

// The dequantising GETT (gett_dequantise.h) in every form it takes:
// channel scales along M, along N and along both, a transposed target (the
// roles of A and B swap), a divided scale, a 2-D bias subtracted, a batch,
// a bare conversion, an activation after it (gelu on the vectorised
// columns, relu element by element); K empty, short, and over several KC blocks; full-range
// i8 values (sums past 2^24, rounded to f32); odd extents (partial tiles).
// Against the reference, and bit for bit across thread counts.
TEST(CpuDifferential, DequantisingGettConvertsScalesAndBiasesItsTiles) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  for (int d : {0, 1, 301, 3001}) {
    const std::string script =
        "dim G = 2, T = 37, F = 53, D = " + std::to_string(d) +
        "\ninput x[T, D] : i8\nparam w[F, D] : i8\ninput xb[G, T, D] : i8\nparam wb[G, F, D] : i8\n"
        "input sx, sz\nparam sw[F], st[T], b[F], c[T, F], bb[G, F]\n"
        "y[t, f] = f32(sum(d: x[t, d] * w[f, d])) * sx * sw[f] + b[f]\n"
        "yt[f, t] = f32(x[t, d] * w[f, d]) * sw[f] / sz - c[t, f] + b[f]\n"
        "ys[t, f] = f32(sum(d: x[t, d] * w[f, d])) * st[t] * sw[f]\n"
        "yb[g, t, f] = f32(sum(d: xb[g, t, d] * wb[g, f, d])) * sw[f] + bb[g, f]\n"
        "yp[t, f] = f32(sum(d: x[t, d] * w[f, d]))\n"
        "ya[t, f] = gelu(f32(sum(d: x[t, d] * w[f, d])) * sx * sw[f] + b[f])\n"
        "yr[f, t] = relu(f32(x[t, d] * w[f, d]) * sw[f] - c[t, f])\n"
        "output y, yt, ys, yb, yp, ya, yr\n";
    einc::Program program = einc::compile(script);
    const std::string plan = program.emit(einc::EmitStage::plan);
    for (const char* line :
         {"y = JIT GETT (batch -; M f; N t; K d), epilogue: to f32 scale channel scales bias, on i8 operands",
          "yt = JIT GETT (batch -; M t; N f; K d), epilogue: to f32 scale channel scales bias, on i8 operands",
          "ys = JIT GETT (batch -; M f; N t; K d), epilogue: to f32 channel scales, on i8 operands",
          "yb = JIT GETT (batch g; M f; N t; K d), epilogue: to f32 channel scales bias, on i8 operands",
          "yp = JIT GETT (batch -; M f; N t; K d), epilogue: to f32, on i8 operands",
          "ya = JIT GETT (batch -; M f; N t; K d), epilogue: to f32 scale channel scales bias gelu, on i8 operands",
          "yr = JIT GETT (batch -; M t; N f; K d), epilogue: to f32 channel scales bias relu, on i8 operands"})
      EXPECT_NE(plan.find(line), std::string::npos) << line << "\n" << plan;
    TensorMap inputs = einc::random_inputs(program, 11);
    for (const char* name : {"x", "w", "xb", "wb"}) {
      const Tensor& t = inputs.at(name);
      for (std::int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, i % 3 ? 127.0 : i % 2 ? -128.0 : t.get_flat(i));
    }
    inputs.at("sx").set({}, 0.0123);
    inputs.at("sz").set({}, 3.0);
    const TensorMap ref = program.run(inputs, options("reference"));
    const TensorMap one = program.run(inputs, options(backend_under_test(), 1));
    EXPECT_EQ(compare_outputs(ref, one, std::max(d, 1)), "") << "D = " << d;
    for (int threads : {2, 3})
      EXPECT_EQ(compare_bitwise(one, program.run(inputs, options(backend_under_test(), threads))), "")
          << "D = " << d << ", " << threads << " threads";
  }
}

// Zero points (asymmetric quantisation): `(x - z) * w` of i8 tensors runs
// as the i16-pair GETT with z subtracted as the pairs are made, for a zero
// point on A, on B or on both, an i8 0-d tensor or a number (large ones
// too: x - 32000 still fits in 16 bits), both layouts of the pair copies
// (w[f, d] K-major, v[d, f] and xt[d, t] rows inner), odd K (the padding pair must
// stay 0, not -z), per-row zero points (per token zt[t], per channel
// zc[f], per batch and channel zb[k, f]), a batch, a decode (T = 1: no
// in-place GEMV then), and
// under the dequantising f32(...). i32 results bit for bit the
// reference's, f32 ones within its tolerance; 1 and 3 threads.
TEST(CpuDifferential, ZeroPointsAreSubtractedAsThePairsAreMade) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  for (int t : {1, 37})
    for (int d : {1, 301, 2049}) {
      const std::string script =
          "dim G = 2, T = " + std::to_string(t) + ", F = 53, D = " + std::to_string(d) +
          "\ninput x[T, D] : i8\ninput xt[D, T] : i8\ninput zx : i8\ninput zw : i8\nparam w[F, D] : i8\n"
          "param v[D, F] : i8\n"
          "input xb[G, T, D] : i8\nparam wb[G, F, D] : i8\ninput sx\nparam sw[F], b[F]\n"
          "input zt[T] : i8\nparam zc[F] : i8\nparam zb[G, F] : i8\n"
          "a[t, f] = sum(d: (x[t, d] - zx) * w[f, d])\n"
          "c[t, f] = sum(d: x[t, d] * (v[d, f] - zw))\n"
          "e[t, f] = sum(d: (x[t, d] - 32000) * (v[d, f] - zw))\n"
          "h[t, f] = sum(d: (xt[d, t] - zx) * (v[d, f] - zw))\n"
          "g[k, t, f] = sum(d: (xb[k, t, d] - 5) * wb[k, f, d])\n"
          "p[t, f] = sum(d: (x[t, d] - zt[t]) * (w[f, d] - zc[f]))\n"
          "q[t, f] = sum(d: (xt[d, t] - zt[t]) * (v[d, f] - zc[f]))\n"
          "r[k, t, f] = sum(d: xb[k, t, d] * (wb[k, f, d] - zb[k, f]))\n"
          "y[t, f] = f32(sum(d: (x[t, d] - zx) * w[f, d])) * sx * sw[f] + b[f]\n"
          "output a, c, e, g, h, p, q, r, y\n";
      einc::Program program = einc::compile(script);
      const std::string plan = program.emit(einc::EmitStage::plan);
      const std::string where = "T = " + std::to_string(t) + ", D = " + std::to_string(d);
      for (const char* line : {"a = JIT GETT", "c = JIT GETT", "e = JIT GETT", "g = JIT GETT", "h = JIT GETT",
                               "p = JIT GETT", "q = JIT GETT", "r = JIT GETT"})
        EXPECT_NE(plan.find(line), std::string::npos) << line << " " << where << "\n" << plan;
      EXPECT_NE(plan.find("less zero points of A and B"), std::string::npos) << where << "\n" << plan;
      EXPECT_NE(plan.find(t == 1 ? "y = contractions hoisted into temporaries: JIT GETT"
                                 : "y = JIT GETT (batch -; M f; N t; K d), less zero points of B, epilogue: to f32"),
                std::string::npos)
          << where << "\n"
          << plan;
      EXPECT_EQ(plan.find("a GEMV reading the i8 weights in place"), std::string::npos) << where << "\n" << plan;
      TensorMap inputs = einc::random_inputs(program, 13);
      for (const char* name : {"x", "xt", "w", "v", "xb", "wb", "zt", "zc", "zb"}) {
        const Tensor& m = inputs.at(name);
        for (std::int64_t i = 0; i < m.numel(); ++i) m.set_flat(i, i % 3 ? 127.0 : i % 2 ? -128.0 : m.get_flat(i));
      }
      inputs.at("zx").set({}, -128.0);
      inputs.at("zw").set({}, 127.0);
      const TensorMap ref = program.run(inputs, options("reference"));
      for (int threads : {1, 3}) {
        const TensorMap got = program.run(inputs, options(backend_under_test(), threads));
        for (const char* name : {"a", "c", "e", "g", "h", "p", "q", "r"})
          EXPECT_EQ(compare_bitwise({{name, ref.at(name)}}, {{name, got.at(name)}}), "") << name << " " << where;
        EXPECT_EQ(compare_outputs({{"y", ref.at("y")}}, {{"y", got.at("y")}}, d), "") << where;
      }
    }
  // A zero point along K (one per summed position) is no GETT's: computed
  // as written, and right.
  einc::Program program = einc::compile(
      "dim T = 5, F = 7, D = 9\ninput x[T, D] : i8\nparam w[F, D] : i8\ninput zd[D] : i8\n"
      "s[t, f] = sum(d: (x[t, d] - zd[d]) * w[f, d])\n");
  EXPECT_EQ(program.emit(einc::EmitStage::plan).find("JIT GETT"), std::string::npos)
      << program.emit(einc::EmitStage::plan);
  const TensorMap inputs = einc::random_inputs(program, 4);
  EXPECT_EQ(
      compare_bitwise(program.run(inputs, options("reference")), program.run(inputs, options(backend_under_test()))),
      "");
}

// Conversions in loop kernels, on the values where they differ most: ties
// (rounded to even), the ends of the ranges (saturated), NaN and infinities
// (NaN gives 0); contiguous, strided and vector-tail accesses. Bit for bit
// the reference's.
TEST(CpuDifferential, ConversionsInLoopKernelsRoundAndSaturateAsTheReference) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const std::string script =
      "dim M = 7, N = 19\ninput x[M, N]\ninput a[M, N] : i32\ninput b[M, N] : i8\ninput z : i8\n"
      "q[i, j] = i8(x[i, j] * 64)\n"
      "qt[j, i] = i8(x[i, j] * 2)\n"
      "r[i, j] = i32(x[i, j] * 4294967296.0)\n"
      "d[i, j] = f32(a[i, j]) * 0.5 + f32(a[i, 0])\n"
      "e[i, j] = i8(x[i, j] * 64 + f32(z))\n"
      "f[j, i] = f32(b[i, j]) * 0.5 - f32(z)\n"
      "output q, qt, r, d, e, f\n";
  einc::Program program = einc::compile(script);
  const std::string plan = program.emit(einc::EmitStage::plan);
  for (const char* line :
       {"q = JIT loop", "qt = JIT loop", "r = JIT loop", "d = JIT loop", "e = JIT loop", "f = JIT loop"})
    EXPECT_NE(plan.find(line), std::string::npos) << line << "\n" << plan;
  TensorMap inputs = einc::random_inputs(program, 3);
  const double specials[] = {0.5 / 64, 1.5 / 64,   2.5 / 64, -0.5 / 64,    -2.5 / 64, 1.9921875, -2.0,           2.1,
                             -2.1,     127.5 / 64, 0.75,     std::nan(""), INFINITY,  -INFINITY, 0.49999997 / 64};
  const Tensor& x = inputs.at("x");
  for (std::int64_t i = 0; i < x.numel(); i += 3)
    x.set_flat(i, specials[static_cast<std::size_t>(i / 3) % (sizeof specials / sizeof specials[0])]);
  const Tensor& a = inputs.at("a");
  for (std::int64_t i = 0; i < a.numel(); i += 2) a.set_flat(i, i % 4 ? 16777217.0 : -2147483647.0);
  const Tensor& b = inputs.at("b");
  for (std::int64_t i = 0; i < b.numel(); i += 3) b.set_flat(i, i % 2 ? 127.0 : -128.0);
  inputs.at("z").set({}, -3.0);
  const TensorMap ref = program.run(inputs, options("reference"));
  for (int threads : {1, 2})
    EXPECT_EQ(compare_bitwise(ref, program.run(inputs, options(backend_under_test(), threads))), "") << threads;
}

// bf16 GETTs on hosts with AVX512-BF16 (the avx512 ISA not narrowed): A
// and B copied as bf16 pairs along K, multiplied by vdpbf16ps into the f32
// C (i8_pairs.h), against the reference within the bf16 tolerance: both
// pair layouts (B row-major: its rows inside the pairs; transposed
// operands: K inside), an odd K (the padding), a K of several KC blocks,
// a batch, the epilogue (scale, bias, activation, residual, `+=`; a scale
// the plan puts on an operand moves there), odd M and N; bitwise the same on 1 and 3 threads. Elsewhere the same
// statements run on widened copies, and the test checks that instead.
TEST(CpuDifferential, Bf16GettsOnBf16Pairs) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const char* isa = std::getenv("EINC_CPU_ISA");
  const bool narrowed = isa && *isa && std::string(isa) != "avx512";
  const bool pairs_expected = __builtin_cpu_supports("avx512bf16") && !narrowed;
  const std::string script =
      "dim M = 67, N = 45, K = 301, B = 3, L = 1201, S = 33, F = 200\n"
      "input A[M, K], At[K, M], W[K, N], Wt[N, K], bias[N], R[M, N] : bf16\n"
      "input X[B, M, K], Y[B, K, N], P[M, L], Q[L, N], U[M, S], V[S, F] : bf16\n"
      "C1[i, j] = A[i, k] * W[k, j]\n"
      "C2[i, j] = At[k, i] * Wt[j, k] / sqrt(K)\n"
      "C3[i, j] = gelu(A[i, k] * W[k, j] + bias[j]) + R[i, j]\n"
      "C4[b, i, j] = X[b, i, k] * Y[b, k, j]\n"
      "C5[i, j] = P[i, l] * Q[l, j]\n"
      "C6[i, j] = R[i, j]\n"
      "C6[i, j] += A[i, k] * W[k, j] * 2\n"
      "C7[i, f] = U[i, s] * V[s, f] * 3\n"  // the plan scales U first: moved to the epilogue
      "output C1, C2, C3, C4, C5, C6, C7\n";
  einc::Program program = einc::compile(script);
  const std::string plan = program.emit(einc::EmitStage::plan);
  std::istringstream lines(plan);
  int getts = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("JIT GETT") == std::string::npos) continue;
    ++getts;
    EXPECT_NE(line.find(pairs_expected ? "as bf16 pairs (vdpbf16ps)" : "operands widened"), std::string::npos) << line;
  }
  EXPECT_EQ(getts, 7) << plan;
  std::cout << (pairs_expected ? "bf16 pairs (vdpbf16ps)" : "widened copies (no AVX512-BF16 here)") << "\n";
  const TensorMap inputs = einc::random_inputs(program, 21);
  const TensorMap ref = program.run(inputs, options("reference"));
  const TensorMap one = program.run(inputs, options(backend_under_test(), 1));
  EXPECT_EQ(compare_outputs(ref, one, 1201), "");
  EXPECT_EQ(compare_bitwise(one, program.run(inputs, options(backend_under_test(), 3))), "");
}

// f16 and bf16 in loop kernels: statements of those dtypes (their tensors
// widened as loaded, the f32 value rounded once as stored, no copies) and
// conversions between f32, f16, bf16 and from i32 (to nearest even, via
// f32 as the reference converts), on the values where rounding differs
// most: ties, the ends of each range, subnormals, NaN and infinities;
// contiguous, transposed and vector-tail accesses, `+=`. The conversions
// and exact arithmetic bit for bit the reference's; the rest within one
// unit in the last place of the dtype. f16 needs F16C: under
// EINC_CPU_ISA=generic its statements stay on the widened copies, or
// (conversions) on the interpreter.
TEST(CpuDifferential, HalfPrecisionLoopKernelsAndConversions) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const char* isa = std::getenv("EINC_CPU_ISA");
  const bool f16c = !(isa && std::string(isa) == "generic");
  const std::string script =
      "dim M = 7, N = 19\ninput x[M, N]\ninput a[M, N] : i32\ninput h[M, N] : bf16\ninput g[M, N] : f16\n"
      "input u[M, N], hb[N] : bf16\ninput v[M, N] : f16\n"
      // conversions, exact: bit for bit
      "xb[i, j] = bf16(x[i, j])\n"
      "xh[j, i] = f16(x[i, j] * 2)\n"
      "hg[i, j] = f16(h[i, j])\n"
      "gh[i, j] = bf16(g[i, j])\n"
      "ab[i, j] = bf16(a[i, j])\n"
      "wf[i, j] = f32(h[i, j]) * x[i, j]\n"
      "sq[i, j] = f32(h[i, j] * h[i, j]) + f32(g[i, 0] * 2)\n"
      "q[i, j] = i8(h[i, j] * 8)\n"
      "mix[i, j] = h[i, j] + bf16(x[i, j] * 2)\n"
      // half statements (on ordinary values: an f32 statement too overflows where
      // the reference's doubles do not), rounded once
      "e[i, j] = gelu(u[i, j]) * 3 + hb[j]\n"
      "s[i] = sum(j: u[i, j])\n"
      "p[i, j] = softmax(j: v[i, j])\n"
      "n[i, j] = layernorm(j: u[i, j])\n"
      "t[j, i] = v[i, j] / 4\n"
      "t[j, i] += v[i, j]\n"
      "output xb, xh, hg, gh, ab, wf, sq, q, mix, e, s, p, n, t\n";
  einc::Program program = einc::compile(script);
  const std::string plan = program.emit(einc::EmitStage::plan);
  const std::set<std::string> uses_f16 = {"xh", "hg", "gh", "sq", "p", "t"};
  std::istringstream lines(plan);
  int planned = 0;
  for (std::string line; std::getline(lines, line);) {
    const std::size_t colon = line.find(": "), equals = line.find(" = ");
    if (colon == std::string::npos || equals == std::string::npos) continue;
    ++planned;
    if (!f16c && uses_f16.count(line.substr(colon + 2, equals - colon - 2))) continue;  // (widened or interpreted)
    EXPECT_NE(line.find("JIT loop"), std::string::npos) << line;
    EXPECT_EQ(line.find("widened"), std::string::npos) << line;
  }
  EXPECT_EQ(planned, 15) << plan;
  TensorMap inputs = einc::random_inputs(program, 5);
  const double specials[] = {1.0 + std::ldexp(1.0, -8),      // a bf16 tie, to even (down)
                             1.0 + 3 * std::ldexp(1.0, -8),  // a bf16 tie, to even (up)
                             1.0 + std::ldexp(1.0, -11),     // an f16 tie
                             -(1.0 + 3 * std::ldexp(1.0, -11)),
                             65519.0,                   // f16: 65504
                             65520.0,                   // f16: inf
                             3.3961e38,                 // bf16: inf
                             std::ldexp(1.0, -25),      // f16: half its least subnormal, to even (0)
                             3 * std::ldexp(1.0, -25),  // ... (up)
                             std::ldexp(1.0, -130),     // an f32 subnormal
                             -0.0,
                             std::nan(""),
                             INFINITY,
                             -INFINITY,
                             0.3,
                             std::bit_cast<double>(0xfffc000000000000ull)};  // a NaN with a payload, negative
  const std::size_t n_specials = sizeof specials / sizeof specials[0];
  const Tensor& x = inputs.at("x");
  for (std::int64_t i = 0; i < x.numel(); i += 2) x.set_flat(i, specials[static_cast<std::size_t>(i / 2) % n_specials]);
  const Tensor& a = inputs.at("a");
  for (std::int64_t i = 0; i < a.numel(); i += 2) a.set_flat(i, i % 4 ? 16843009.0 : -2147483647.0);
  for (const char* half : {"h", "g"}) {
    const Tensor& t = inputs.at(half);
    for (std::int64_t i = 0; i < t.numel(); i += 5)
      t.set_flat(i, specials[static_cast<std::size_t>(i / 5 + 4) % n_specials]);
  }
  const TensorMap ref = program.run(inputs, options("reference"));
  for (int threads : {1, 2}) {
    const TensorMap got = program.run(inputs, options(backend_under_test(), threads));
    for (const char* name : {"xb", "xh", "hg", "gh", "ab", "wf", "q", "mix"})
      EXPECT_EQ(compare_bitwise({{name, ref.at(name)}}, {{name, got.at(name)}}), "") << name << ", " << threads;
    for (const char* name : {"sq", "e", "s", "p", "n", "t"})
      EXPECT_EQ(compare_outputs({{name, ref.at(name)}}, {{name, got.at(name)}}, 19), "") << name << ", " << threads;
  }
}

// Dot products (a GETT shape with neither M nor N indices) run on the loop
// kernels' reduction, f32 and f64 alike: every form against the reference,
// odd lengths (vector tails), a strided operand, several threads.
TEST(CpuDifferential, DotProductsRunOnTheLoopKernels) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  for (const char* dtype : {"f32", "f64"}) {
    const std::string t = std::string(" : ") + dtype;
    const std::string script = "dim B = 37, J = 1031\ninput x[B, J]" + t + "\ninput y[B, J]" + t + "\ninput v[J]" + t +
                               "\nr[b] = x[b, j] * y[b, j]\n"  // one dot product per row
                               "d = v[j] * v[j]\n"             // one dot product
                               "f = x[b, j] * y[b, j]\n"       // over both indices
                               "c[j] = x[b, j] * y[b, j]\n"    // along the strided index
                               "output r, d, f, c\n";
    einc::Program program = einc::compile(script);
    const std::string plan = program.emit(einc::EmitStage::plan);
    for (const char* line : {"r = JIT", "d = JIT", "f = JIT"})
      EXPECT_NE(plan.find(std::string(line) + " loop"), std::string::npos) << line << "\n" << plan;
    const TensorMap inputs = einc::random_inputs(program, 9);
    const TensorMap ref = program.run(inputs, options("reference"));
    for (int threads : {1, 2, 3})
      EXPECT_EQ(compare_outputs(ref, program.run(inputs, options(backend_under_test(), threads)), 37 * 1031), "")
          << dtype << " " << threads;
  }
}

// Statements of the forms the planner routes differently by dtype and
// shape — GEMV-shaped products (a dim of 1), masks, `+=` into an operand
// (`h += h * W`), softmax of a product, layers repeated with `+=`,
// quantised products — in every dtype (f32, f64, f16, bf16; i8 and i32
// products), with random extents from 1 to 33, against the reference on 1
// and 2 threads. A sweep of such scripts through the CLI found two bugs
// this covers: a masked one-column f16 product planned as the in-place
// GEMV ("internal error") and `h += h * W` in bf16 overwriting h while the
// GEMV still read it (a silently wrong answer).
TEST(CpuDifferential, RandomStatementsInEveryDtype) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  struct Template {
    const char* decls;  // `%` stands for the dtype
    const char* statements;
    bool integer;  // i8/i32 tensors (else float)
  };
  const std::vector<Template> templates = {
      {"input A[N, K] : %\ninput B[K, M] : %\n", "C[i, j] = A[i, k] * B[k, j]\noutput C\n", false},
      {"input A[N, K] : %\ninput B[K, M] : %\ninput b[M] : %\n", "C[i, j] = gelu(A[i, k] * B[k, j] + b[j])\noutput C\n",
       false},
      {"input S[N, N] : %\ninput B[N, M] : %\n", "C[i, e] = where(j <= i, S[i, j] * B[j, e], 0)\noutput C\n", false},
      {"input X[N, K] : %\ninput W[K, K] : %\n", "h[t, d] = X[t, d]\nh[t, d] += h[t, e] * W[e, d]\noutput h\n", false},
      {"input A[N, K] : %\ninput B[K, M] : %\n", "C[i, j] = softmax(j: A[i, k] * B[k, j])\noutput C\n", false},
      {"input A[N, K] : %\n", "s[i, j] = where(j <= i, A[i, k] * A[j, k] / sqrt(K), -inf)\noutput s\n", false},
      {"input S[N, N] : %\n", "c = sum(i, j: S[i, j] * S[j, i])\noutput c\n", false},
      {"input W[M, K] : %\ninput x[K] : %\n", "y[j] = W[j, k] * x[k]\noutput y\n", false},
      {"input V[K, M] : %\ninput x[K] : %\n", "y[j] = x[k] * V[k, j] * 0.5\noutput y\n", false},
      {"input A[N, K] : %\ninput B[K, M] : %\n",
       "C[i, j] = A[i, k] * B[k, j]\nC[i, j] += A[i, k] * B[k, j] * 0.5\noutput C\n", false},
      {"input S[N, N] : %\n", "C[i, j] = layernorm(j: S[i, j]) + S[j, i]\noutput C\n", false},
      {"input X[N, K] : %\nparam W[L, K, K] : %\n",
       "h[t, d] = X[t, d]\nrepeat l < L {\n  h[t, d] += tanh(h[t, e] * W[l, e, d] * 0.5)\n}\noutput h\n", false},
      {"input P[N, K] : %\ninput Q[K, M] : %\n", "C[i, j] = P[i, k] * Q[k, j]\noutput C\n", true},
      {"input P[N, K] : %\ninput Q[M, K] : %\n", "y[j] = Q[j, k] * P[0, k]\noutput y\n", true},
      {"input P[N, K] : i8\ninput Q[M, K] : i8\ninput sw[M]\n",
       "y[t, f] = f32(sum(d: P[t, d] * Q[f, d])) * sw[f]\noutput y\n", true},
  };
  const std::vector<std::int64_t> extents = {1, 2, 5, 16, 33};
  int ran = 0;
  for (std::uint64_t seed = 0; seed < 240; ++seed) {
    einc_test::random_contraction_detail::Rng rng(seed);
    const Template& t = templates[static_cast<std::size_t>(seed % templates.size())];
    const std::vector<std::string> dtypes =
        t.integer ? std::vector<std::string>{"i8", "i32"} : std::vector<std::string>{"f32", "f64", "f16", "bf16"};
    const std::string dtype =
        dtypes[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(dtypes.size()) - 1))];
    auto extent = [&] { return extents[static_cast<std::size_t>(rng.uniform(0, 4))]; };
    const std::int64_t n = extent(), k = extent(), m = extent(), l = rng.uniform(1, 3);
    std::string decls = t.decls;
    for (std::size_t at; (at = decls.find('%')) != std::string::npos;) decls.replace(at, 1, dtype);
    const std::string script = "dim N = " + std::to_string(n) + ", K = " + std::to_string(k) +
                               ", M = " + std::to_string(m) + ", L = " + std::to_string(l) + "\n" + decls +
                               t.statements;
    SCOPED_TRACE("seed " + std::to_string(seed) + ":\n" + script);
    einc::Program program = einc::compile(script);
    const TensorMap inputs = einc::random_inputs(program, seed);
    const TensorMap ref = program.run(inputs, options("reference"));
    for (int threads : {1, 2})
      EXPECT_EQ(compare_outputs(ref, program.run(inputs, options(backend_under_test(), threads)), n * n * k), "")
          << threads << " threads";
    ++ran;
  }
  EXPECT_EQ(ran, 240);
}

TEST(CpuDifferential, ThreadsAgree) {
  // The backend's reduction order does not depend on its thread count, so
  // every thread count gives the same bits. Cases with some work (>= 20000
  // naive MACs) so that there is something to split.
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const std::string backend = backend_under_test();
  int checked = 0, failed_cases = 0;
  for (std::uint64_t seed = 100000; checked < 20 && seed < 110000; ++seed) {
    RandomCase c = einc_test::random_contraction(seed);
    einc::Program program = einc::compile(c.script);
    if (case_work(program) < 20000) continue;
    ++checked;
    const int parts_before = failure_parts();
    TensorMap inputs = einc::random_inputs(program, seed);
    auto one = try_run(program, inputs, options(backend, 1), c, seed);
    if (!one) continue;
    for (int threads : {2, 3}) {
      auto more = try_run(program, inputs, options(backend, threads), c, seed);
      if (!more) continue;
      std::string diff = compare_bitwise(*one, *more);
      EXPECT_EQ(diff, "") << "threads=1 vs threads=" << threads << reproduce(c, seed);
    }
    if (failure_parts() > parts_before && ++failed_cases >= 5) break;
  }
  if (failed_cases < 5) {
    EXPECT_EQ(checked, 20);
  }
}

// A view of fresh caller memory with the same logical contents as `t`: the
// dims laid out in a random order, each padded by 0-3 elements, the start
// shifted off 64-byte alignment, one dim in four reversed (negative stride)
// and, one dim in eight, broadcast (stride 0: that view reads one slice, so
// compare against its own clone, not `t`). `buffers` owns the memory.
Tensor strided_copy(const Tensor& t, std::uint64_t seed, std::vector<std::vector<unsigned char>>& buffers) {
  std::mt19937_64 rng(seed);
  const std::size_t rank = t.rank();
  const std::vector<std::int64_t>& shape = t.shape();
  std::vector<std::size_t> order(rank);
  for (std::size_t d = 0; d < rank; ++d) order[d] = d;
  for (std::size_t i = rank; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  // Physical strides: the last of `order` innermost, each dim padded.
  std::vector<std::int64_t> strides(rank, 0);
  std::int64_t span = 1;
  for (std::size_t q = rank; q-- > 0;) {
    std::size_t d = order[q];
    strides[d] = span;
    span *= shape[d] + static_cast<std::int64_t>(rng() % 4);
  }
  std::int64_t shift = 1 + static_cast<std::int64_t>(rng() % 3);
  std::int64_t base = shift;
  for (std::size_t d = 0; d < rank; ++d) {
    if (rng() % 8 == 0) {
      strides[d] = 0;
    } else if (rng() % 4 == 0 && shape[d] > 0) {
      base += (shape[d] - 1) * strides[d];
      strides[d] = -strides[d];
    }
  }
  std::size_t size = einc::dtype_size(t.dtype());
  buffers.emplace_back(static_cast<std::size_t>(span + shift + 1) * size, 0);
  unsigned char* data = buffers.back().data() + static_cast<std::size_t>(base) * size;
  Tensor view = Tensor::view(t.dtype(), data, shape, strides);
  for (std::int64_t i = 0; i < t.numel(); ++i) view.set(unflatten(i, shape), t.get_flat(i));
  return view;
}

TEST(CpuDifferential, StridedCallerMemory) {
  // Inputs given as views of caller memory with transposed, padded, reversed
  // and broadcast strides give what contiguous copies of them give (within
  // the tolerance: a backend may pick a different loop order for other
  // strides), and match the reference.
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const std::string backend = backend_under_test();
  int checked = 0, failed_cases = 0;
  for (std::uint64_t seed = 200000; checked < 30 && seed < 210000; ++seed) {
    RandomCase c = einc_test::random_contraction(seed);
    einc::Program program = einc::compile(c.script);
    bool has_rank_2 = false;
    for (const auto& info : program.inputs()) has_rank_2 |= info.shape.size() >= 2;
    if (!has_rank_2) continue;
    ++checked;
    const int parts_before = failure_parts();
    TensorMap inputs = einc::random_inputs(program, seed);
    std::vector<std::vector<unsigned char>> buffers;
    TensorMap views, copies;
    std::string layouts;
    std::uint64_t k = 0;
    for (const auto& [name, t] : inputs) {
      Tensor v = strided_copy(t, seed * 31 + k++, buffers);
      layouts += "\n  " + name + ": " + v.describe() + " strides " + shape_text(v.strides());
      views.emplace(name, v);
      copies.emplace(name, v.clone());
      ASSERT_TRUE(copies.at(name).is_contiguous());
    }
    TensorMap ref = program.run(copies, options("reference"));
    auto from_views = try_run(program, views, options(backend), c, seed);
    auto from_copies = try_run(program, copies, options(backend), c, seed);
    if (from_views && from_copies) {
      EXPECT_EQ(compare_outputs(*from_copies, *from_views, c.reduction_length), "")
          << "strided views vs contiguous copies" << layouts << reproduce(c, seed);
      EXPECT_EQ(compare_outputs(ref, *from_views, c.reduction_length), "")
          << "strided views vs the reference" << layouts << reproduce(c, seed);
    }
    if (failure_parts() > parts_before && ++failed_cases >= 5) break;
  }
  if (failed_cases < 5) {
    EXPECT_EQ(checked, 30);
  }
}

}  // namespace

namespace {

std::string read_example(const std::string& name) {
  std::ifstream in(std::string(EINC_SOURCE_DIR) + "/examples/" + name + ".ein");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

// The whole-model examples run end to end at small dims, against the reference.
TEST(CpuDifferential, ModelExamples) {
  EINC_REQUIRE_BACKEND_UNDER_TEST();
  const std::pair<const char*, einc::DimBindings> examples[] = {
      {"09_gpt2", {{"T", 9}, {"V", 37}, {"P", 12}, {"D", 24}, {"H", 3}, {"L", 2}}},
      {"10_llama_block", {{"T", 9}, {"D", 48}, {"G", 2}, {"R", 2}, {"F", 20}}},
      {"11_resnet_bottleneck", {{"C", 8}, {"H", 10}, {"W", 10}, {"M", 6}, {"O", 12}}},
      {"12_quantised_mlp", {{"T", 9}, {"D", 33}, {"F", 20}}},
  };
  for (const auto& [name, dims] : examples) {
    SCOPED_TRACE(name);
    einc::CompileOptions compile_options;
    compile_options.dims = dims;
    einc::Program program = einc::compile(read_example(name), compile_options);
    TensorMap inputs = einc::random_inputs(program, 3);
    TensorMap ref = program.run(inputs, options("reference"));
    TensorMap got = program.run(inputs, options(backend_under_test()));
    // (several statements in a row: the slack of a long chain)
    EXPECT_EQ(compare_outputs(ref, got, 64 * 48), "");
  }
}
