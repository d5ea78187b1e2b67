// tests/cpu/product_steps_test.cpp — products whose plan no fused path
// computes, on the cpu backend (backends/cpu/product_steps.h): run as the
// pairwise steps of their plan, each step on its own fast path, against the
// reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "einc/einc.h"

namespace {

using einc::Tensor;

void expect_matches_reference(const std::string& script, const std::string& output, std::uint64_t seed = 1) {
  SCOPED_TRACE(script);
  einc::Program p = einc::compile(script);
  einc::TensorMap in = einc::random_inputs(p, seed);
  Tensor want = p.run(in, {.backend = einc::Backend::reference}).at(output);
  Tensor one = p.run(in, {.backend = einc::Backend::cpu, .threads = 1}).at(output);
  Tensor two = p.run(in, {.backend = einc::Backend::cpu, .threads = 2}).at(output);
  double scale = 1;
  for (std::int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(want.get_flat(i)));
  for (std::int64_t i = 0; i < want.numel(); ++i) ASSERT_NEAR(one.get_flat(i), want.get_flat(i), 1e-5 * scale) << i;
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.nbytes()), 0);
}

TEST(CpuProductSteps, ChainsRunAsPairwiseStepsAndMatchTheReference) {
  expect_matches_reference("dim N = 67\ninput A[N, N], B[N, N], v[N]\ny[i] = A[i, j] * B[j, k] * v[k]\n", "y");
  expect_matches_reference(
      "dim P = 13, Q = 40, R = 7, S = 33\ninput A[P, Q], B[Q, R], C[R, S], D[S, P]\n"
      "T[p, s] = A[p, q] * B[q, r] * C[r, s]\nt = A[p, q] * B[q, r] * C[r, s] * D[s, p]\n",
      "t");
  // Batched, transposed operands, an outer index kept from each.
  expect_matches_reference(
      "dim Bt = 3, M = 21, K = 17, N = 19\ninput X[K, Bt, M], W[Bt, K, N], u[N], g[M]\n"
      "Y[b, m] = X[k, b, m] * W[b, k, n] * u[n] * g[m]\n",
      "Y");
}

TEST(CpuProductSteps, TheLastStepKeepsTheEpilogueAndAccumulates) {
  const std::string script =
      "dim N = 50, M = 30\ninput A[N, M], B[M, M], C[M, N], b[N], R[N, N]\n"
      "Y[i, j] = gelu(A[i, k] * B[k, l] * C[l, j] / sqrt(M) + b[j]) + R[i, j]\n"
      "Y[i, j] += A[i, k] * B[k, l] * C[l, j]\n";
  expect_matches_reference(script, "Y");
  einc::Program p = einc::compile(script);
  std::string plan = p.emit(einc::EmitStage::llvm_ir);
  // sqrt(M) is the product's fourth operand (applied to B, the smallest).
  EXPECT_NE(plan.find("; line 3: Y = product in pairwise steps (4 operands in 3 pairwise steps)"), std::string::npos)
      << plan.substr(0, 600);
}

// A divisor is divided by where the plan meets it; one that holds a summed
// index no other factor holds is inverted and summed first.
TEST(CpuProductSteps, DividedFactorsRunAsDivisionSteps) {
  const std::string script =
      "dim N = 9, M = 5\ninput A[N, N], B[N, N], v[N], w[N, M]\ny[i] = A[i, j] * B[j, k] / v[k]\n"
      "z[i] = sum(j, k, m: A[i, j] * B[j, k] / w[k, m])\n";
  einc::Program p = einc::compile(script);
  std::string plan = p.emit(einc::EmitStage::llvm_ir);
  EXPECT_NE(plan.find("; line 3: y = product in pairwise steps"), std::string::npos) << plan.substr(0, 600);
  EXPECT_NE(plan.find("; line 4: z = product in pairwise steps"), std::string::npos) << plan.substr(0, 600);
  expect_matches_reference(script, "y");
  expect_matches_reference(script, "z");
}

// Free factors and scalars are operands of the product: `a[i] * B[i, j] *
// C[i, j, k]` runs as a*B, then times C; `u[i] * X[i, k] * W[k, n] * 0.5`
// scales the smallest operand first.
TEST(CpuProductSteps, FreeFactorsAndScalarsAreOperands) {
  const std::string script =
      "dim I = 7, J = 9, K = 33, N = 40\ninput a[I], B[I, J], C[I, J, K], X[I, K], W[K, N], u[I], s\n"
      "R[i, j, k] = a[i] * B[i, j] * C[i, j, k]\n"
      "Y[i, n] = u[i] * X[i, k] * W[k, n] * 0.5 * s\n"
      "Z[i, j, n] = B[i, j] * X[i, k] * W[k, n] / s\n";
  einc::Program p = einc::compile(script);
  std::string plan = p.emit(einc::EmitStage::llvm_ir);
  EXPECT_NE(plan.find("; line 3: R = product in pairwise steps (3 operands in 2 pairwise steps)"), std::string::npos)
      << plan.substr(0, 800);
  expect_matches_reference(script, "R");
  expect_matches_reference(script, "Y");
  expect_matches_reference(script, "Z");
}

}  // namespace
