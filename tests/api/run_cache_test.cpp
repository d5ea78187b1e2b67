// tests/api/run_cache_test.cpp — what a Program keeps from one run for the
// next (the programs bound to its inputs' dims, the cpu backend's plans,
// einsum's compiled programs) never changes a result: runs that alternate
// shapes, strides and threads each agree with the reference interpreter.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "api/program_impl.h"
#include "einc/einc.h"

namespace {

using einc::DType;
using einc::Tensor;
using einc::TensorMap;

bool has_cpu_backend() {
  const std::vector<einc::Backend> backends = einc::available_backends();
  return std::find(backends.begin(), backends.end(), einc::Backend::cpu) != backends.end();
}

// A C-order tensor of `shape` with deterministic values in [-1, 1).
Tensor values_tensor(std::vector<std::int64_t> shape, int seed, DType dtype = DType::f32) {
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, std::sin(0.37 * static_cast<double>(i + 11 * seed)));
  return t;
}

double max_difference(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double worst = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(a.get_flat(i) - b.get_flat(i)));
  return worst;
}

const char* kLayer =
    "dim M, K, N\n"
    "input A[M, K], B[K, N], bias[N]\n"
    "C[i, j] = A[i, k] * B[k, j] + bias[j]\n"
    "D[i, j] = relu(C[i, j]) * 2\n"
    "output D\n";

struct Case {
  std::int64_t m, k, n;
  bool transposed_a;  // A read through a transposed (column-major) view
};

struct CaseInputs {
  TensorMap tensors;
  Tensor storage;  // the memory a transposed A views
};

CaseInputs case_inputs(const Case& c, int seed) {
  CaseInputs in;
  Tensor a = values_tensor({c.m, c.k}, seed);
  if (c.transposed_a) {
    // The same values laid out column-major, read through swapped strides.
    in.storage = Tensor::zeros(DType::f32, {c.k, c.m});
    for (std::int64_t i = 0; i < c.m; ++i)
      for (std::int64_t j = 0; j < c.k; ++j) in.storage.set({j, i}, a.get({i, j}));
    a = Tensor::view(DType::f32, in.storage.data(), {c.m, c.k}, {1, c.m});
  }
  in.tensors = {{"A", a}, {"B", values_tensor({c.k, c.n}, seed + 1)}, {"bias", values_tensor({c.n}, seed + 2)}};
  return in;
}

TEST(RunCache, RunsAlternatingShapesAndLayoutsAgreeWithTheReference) {
  if (!has_cpu_backend()) GTEST_SKIP() << "no cpu backend in this build";
  const einc::Program program = einc::compile(kLayer);
  const std::vector<Case> cases = {{3, 5, 4, false}, {6, 2, 7, false},    {3, 5, 4, true}, {3, 5, 4, false},
                                   {6, 2, 7, true},  {40, 33, 17, false}, {3, 5, 4, true}, {40, 33, 17, true}};
  int seed = 0;
  for (int pass = 0; pass < 2; ++pass)
    for (const Case& c : cases) {
      const CaseInputs inputs = case_inputs(c, ++seed);
      const TensorMap& in = inputs.tensors;
      const Tensor expect = program.run(in, {.backend = einc::Backend::reference}).at("D");
      for (int threads : {1, 2}) {
        const Tensor got = program.run(in, {.backend = einc::Backend::cpu, .threads = threads}).at("D");
        EXPECT_LT(max_difference(got, expect), 1e-4)
            << c.m << "x" << c.k << "x" << c.n << (c.transposed_a ? " (A transposed)" : "") << ", " << threads
            << " threads, pass " << pass;
      }
    }
}

// Whether a half-precision GEMV reads its weights in place depends on their
// strides (unit along K): a plan made for C-order weights must not serve a
// strided view of them.
TEST(RunCache, APlanServesOnlyTheStridesItWasMadeFor) {
  if (!has_cpu_backend()) GTEST_SKIP() << "no cpu backend in this build";
  const einc::Program program = einc::compile(
      "dim N = 24, K = 64\n"
      "input W[N, K] : bf16\n"
      "input x[K] : bf16\n"
      "y[n] = W[n, k] * x[k]\n"
      "output y\n");
  const Tensor w_storage = values_tensor({24, 128}, 1, DType::bf16), x16 = values_tensor({64}, 2, DType::bf16);
  const Tensor c_order = values_tensor({24, 64}, 1, DType::bf16);
  const Tensor strided = Tensor::view(DType::bf16, w_storage.data(), {24, 64}, {128, 2});  // every other column
  for (const Tensor& w : {c_order, strided, c_order, strided}) {
    const TensorMap in{{"W", w}, {"x", x16}};
    const Tensor expect = program.run(in, {.backend = einc::Backend::reference}).at("y");
    const Tensor got = program.run(in, {.backend = einc::Backend::cpu}).at("y");
    EXPECT_LT(max_difference(got, expect), 0.1) << (w.is_contiguous() ? "C-order W" : "strided W");
  }
}

// Product steps and hoisted contractions run statements of programs their
// plan made; those are planned through the plan's own cache. Runs that
// alternate the inputs' layouts (a transposed view changes which GETT
// groups a step gets) each agree with the reference.
TEST(RunCache, StatementsThePlansMakeAreKeptPerLayoutToo) {
  if (!has_cpu_backend()) GTEST_SKIP() << "no cpu backend in this build";
  const einc::Program program = einc::compile(
      "dim M = 9, K = 33, N = 5, L = 17\n"
      "input A[M, K], B[K, N], C[N, L], D[K, L]\n"
      "chain[i, l] = A[i, k] * B[k, n] * C[n, l]\n"                              // product steps
      "two[i, l] = sum(k: A[i, k] * D[k, l]) + sum(n: A[i, n] * D[n, l])\n"  // hoisted contractions
      "output chain, two\n");
  const std::string plan = program.emit(einc::EmitStage::plan);
  ASSERT_NE(plan.find("chain = product in pairwise steps"), std::string::npos) << plan;
  ASSERT_NE(plan.find("two = contractions hoisted"), std::string::npos) << plan;
  const Tensor a = values_tensor({9, 33}, 1);
  Tensor a_stored = Tensor::zeros(DType::f32, {33, 9});
  for (std::int64_t i = 0; i < 9; ++i)
    for (std::int64_t k = 0; k < 33; ++k) a_stored.set({k, i}, a.get({i, k}));
  const Tensor a_transposed = Tensor::view(DType::f32, a_stored.data(), {9, 33}, {1, 9});
  for (int pass = 0; pass < 3; ++pass)
    for (const Tensor& view : {a, a_transposed}) {
      const TensorMap in{{"A", view},
                         {"B", values_tensor({33, 5}, 2 + pass)},
                         {"C", values_tensor({5, 17}, 3)},
                         {"D", values_tensor({33, 17}, 4)}};
      const TensorMap expect = program.run(in, {.backend = einc::Backend::reference});
      const TensorMap got = program.run(in, {.backend = einc::Backend::cpu});
      for (const char* name : {"chain", "two"})
        EXPECT_LT(max_difference(got.at(name), expect.at(name)), 1e-4)
            << name << ", pass " << pass << (view.is_contiguous() ? "" : ", A transposed");
    }
}

TEST(RunCache, ProgramsBoundToTheInputsDimsAreKept) {
  const einc::Program program = einc::compile(kLayer);
  const TensorMap small = case_inputs({3, 5, 4, false}, 1).tensors, large = case_inputs({6, 2, 7, false}, 2).tensors;
  const einc::Program first = program.bind_inputs(small);
  const einc::Program other = program.bind_inputs(large);
  // The same dims: the kept program (its IR, not a re-lowering of it).
  EXPECT_EQ(&einc::detail::ProgramAccess::ir(program.bind_inputs(small)), &einc::detail::ProgramAccess::ir(first));
  EXPECT_NE(&einc::detail::ProgramAccess::ir(other), &einc::detail::ProgramAccess::ir(first));
  EXPECT_EQ(first.report().statements.size(), 2u);
  // A conflict between the inputs is still found on every run.
  TensorMap conflicting = small;
  conflicting["bias"] = values_tensor({9}, 3);
  EXPECT_THROW(program.bind_inputs(conflicting), einc::RunError);
  EXPECT_THROW(program.bind_inputs(conflicting), einc::RunError);
}

TEST(RunCache, OneProgramOnSeveralThreadsWithOtherShapesEach) {
  if (!has_cpu_backend()) GTEST_SKIP() << "no cpu backend in this build";
  const einc::Program program = einc::compile(kLayer);
  const std::vector<Case> cases = {{3, 5, 4, false}, {6, 2, 7, true}, {40, 33, 17, false}, {9, 64, 3, true}};
  std::vector<CaseInputs> inputs;
  std::vector<Tensor> expected;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    inputs.push_back(case_inputs(cases[c], static_cast<int>(c)));
    expected.push_back(program.run(inputs.back().tensors, {.backend = einc::Backend::reference}).at("D"));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < cases.size(); ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 20; ++r) {
        const std::size_t c = (t + static_cast<std::size_t>(r)) % cases.size();
        const Tensor got = program.run(inputs[c].tensors, {.backend = einc::Backend::cpu, .threads = 1}).at("D");
        if (max_difference(got, expected[c]) > 1e-4) ++wrong;
      }
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(RunCache, EinsumProgramsAreCompiledOncePerSubscriptsDtypesAndShapes) {
  const einc::Program first = einc::compile_einsum("ij,jk->ik", {{DType::f32, {2, 3}}, {DType::f32, {3, 4}}});
  const einc::Program again = einc::compile_einsum("ij,jk->ik", {{DType::f32, {2, 3}}, {DType::f32, {3, 4}}});
  EXPECT_EQ(&einc::detail::ProgramAccess::ir(first), &einc::detail::ProgramAccess::ir(again));
  for (const einc::Program& other : {einc::compile_einsum("ij,jk->ik", {{DType::f32, {2, 3}}, {DType::f32, {3, 5}}}),
                                     einc::compile_einsum("ij,jk->ik", {{DType::f64, {2, 3}}, {DType::f64, {3, 4}}}),
                                     einc::compile_einsum("ij,jk->ki", {{DType::f32, {2, 3}}, {DType::f32, {3, 4}}})})
    EXPECT_NE(&einc::detail::ProgramAccess::ir(other), &einc::detail::ProgramAccess::ir(first));
  // Errors are not kept: each call reports its own.
  EXPECT_THROW(einc::compile_einsum("ij,jk->ik", {{DType::f32, {2, 3}}, {DType::f32, {4, 4}}}), einc::CompileError);
  EXPECT_THROW(einc::compile_einsum("ij,jk->ik", {{DType::f32, {2, 3}}, {DType::f32, {4, 4}}}), einc::CompileError);
  // einsum() in a loop over alternating shapes: each result right.
  for (int r = 0; r < 6; ++r) {
    const std::int64_t n = r % 2 ? 3 : 5;
    const Tensor a = values_tensor({4, n}, r), b = values_tensor({n, 2}, r + 1);
    const Tensor c = einc::einsum("ij,jk->ik", {a, b});
    for (std::int64_t i = 0; i < 4; ++i)
      for (std::int64_t k = 0; k < 2; ++k) {
        double sum = 0;
        for (std::int64_t j = 0; j < n; ++j) sum += a.get({i, j}) * b.get({j, k});
        EXPECT_NEAR(c.get({i, k}), sum, 1e-5);
      }
  }
}

}  // namespace
