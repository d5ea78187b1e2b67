// tests/ir/sema_test.cpp — sema: where the Einstein rule puts each sum, the
// einsum form, dims, outputs and dtypes. Errors are covered in depth by the
// must-fail scripts (tests/scripts/fail); here only a few positions.
#include <gtest/gtest.h>

#include "ir/program.h"
#include "lower_helper.h"

namespace einc::ir {
namespace {

using testing::lower;

// The lowered statements as text (sums explicit), after a preamble.
std::string lowered(const std::string& statements) {
  auto r = lower(
      "dim I = 3, J = 4, K = 5, L = 6, E = 8\n"
      "input A[I, K], B[K, J], v[J], u[I], S[I, J], V[J, E], T3[I, K, L], w[K], C4[I, L], x[L], M[I, I]\n" +
      statements);
  if (!r.errors.empty()) return "error: " + r.errors.front();
  return print_program(r.program);
}

TEST(EinsteinRule, MatmulSumsOverTheProduct) {
  EXPECT_EQ(lowered("C[i, j] = A[i, k] * B[k, j]"), "C[i, j] = sum(k: A[i, k] * B[k, j])\n");
}

TEST(EinsteinRule, FactorsWithoutTheSummedIndexStayOutside) {
  EXPECT_EQ(lowered("C[i, j] = A[i, k] * B[k, j] / sqrt(E)"), "C[i, j] = sum(k: A[i, k] * B[k, j]) / sqrt(E)\n");
  EXPECT_EQ(lowered("C[i, j] = u[i] * A[i, k] * B[k, j]"), "C[i, j] = u[i] * sum(k: A[i, k] * B[k, j])\n");
}

TEST(EinsteinRule, SumInsideAFunctionArgument) {
  EXPECT_EQ(lowered("Y[i, j] = relu(A[i, k] * B[k, j]) + v[j]"), "Y[i, j] = relu(sum(k: A[i, k] * B[k, j])) + v[j]\n");
}

TEST(EinsteinRule, SumOverAnElementwiseFactor) {
  EXPECT_EQ(lowered("O[i, e] = exp(S[i, j]) * V[j, e]"), "O[i, e] = sum(j: exp(S[i, j]) * V[j, e])\n");
}

TEST(EinsteinRule, IndexInOneOperandIsReducedInsideIt) {
  EXPECT_EQ(lowered("C[i] = T3[i, k, l] * w[k]"), "C[i] = sum(k: sum(l: T3[i, k, l]) * w[k])\n");
}

TEST(EinsteinRule, ThreeOperandChainIsOneContraction) {
  EXPECT_EQ(lowered("y[i] = A[i, k] * B[k, j] * v[j]"), "y[i] = sum(k, j: A[i, k] * B[k, j] * v[j])\n");
}

TEST(EinsteinRule, DisconnectedSumsSplit) {
  EXPECT_EQ(lowered("z[i] = A[i, k] * w[k] * C4[i, l] * x[l]"),
            "z[i] = sum(k: A[i, k] * w[k]) * sum(l: C4[i, l] * x[l])\n");
}

TEST(EinsteinRule, SumOverASumCoversTheWholeSum) {
  EXPECT_EQ(lowered("c[i] = A[i, k] + w[k]"), "c[i] = sum(k: A[i, k] + w[k])\n");
}

TEST(EinsteinRule, TraceAndDiagonal) {
  EXPECT_EQ(lowered("t = M[i, i]"), "t = sum(i: M[i, i])\n");
  EXPECT_EQ(lowered("d[i] = M[i, i]"), "d[i] = M[i, i]\n");
}

TEST(EinsteinRule, NormalisationKeepsItsIndex) {
  EXPECT_EQ(lowered("P[i, j] = softmax(j: S[i, j])"), "P[i, j] = softmax(j: S[i, j])\n");
  EXPECT_EQ(lowered("o[i, e] = softmax(j: S[i, j]) * V[j, e]"), "o[i, e] = sum(j: softmax(j: S[i, j]) * V[j, e])\n");
}

TEST(EinsteinRule, ExplicitReductionBindsItsIndex) {
  EXPECT_EQ(lowered("m[i] = max(j: S[i, j])"), "m[i] = max(j: S[i, j])\n");
  EXPECT_EQ(lowered("m[i] = max(j: S[i, j]) + min(j: S[i, j])"), "m[i] = max(j: S[i, j]) + min(j: S[i, j])\n");
}

TEST(EinsumForm, ImplicitAndExplicitOutputs) {
  EXPECT_EQ(lowered("C = einsum(\"ij,jk\", A, B)"), "C[i, k] = sum(j: A[i, j] * B[j, k])\n");
  EXPECT_EQ(lowered("t = einsum(\"ii\", M)"), "t = sum(i: M[i, i])\n");
  EXPECT_EQ(lowered("d = einsum(\"ii->i\", M)"), "d[i] = M[i, i]\n");
  EXPECT_EQ(lowered("T = einsum(\"ba\", A)"), "T[a, b] = A[b, a]\n");
}

TEST(EinsumForm, ExtentOneBroadcastsLikeNumpy) {
  auto r = lower("input A[1, 3], B[4, 3]\nC = einsum(\"ij,ij->ij\", A, B)\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(print_program(r.program), "C[i, j] = A[0, j] * B[i, j]\n");
  EXPECT_EQ(r.program.evaluate(r.program.tensors[2].shape[0]), 4);
}

TEST(EinsumForm, EllipsisBroadcastsBatchDims) {
  auto r = lower("input A[2, 3, 4, 5], B[3, 5, 6]\nC = einsum(\"...ij,...jk->...ik\", A, B)\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(print_program(r.program), "C[_0, _1, i, k] = sum(j: A[_0, _1, i, j] * B[_1, j, k])\n");
}

TEST(EinsumForm, ExtentMismatchPointsIntoTheString) {
  auto r = lower("input A[2, 3], B[4, 5]\nC = einsum(\"ij,jk->ik\", A, B)\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].substr(0, 5), "2:14:");
  EXPECT_NE(r.errors[0].find("label 'j'"), std::string::npos);
}

TEST(Dims, DerivedAndBound) {
  auto r = lower("dim D = 4096, H = 32\ndim E = D / H\ndim T\n", {{"T", 7}, {"D", 64}});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(*r.program.dims[2].value, 2);
  EXPECT_EQ(*r.program.dims[3].value, 7);
}

TEST(Dims, InexactDivisionIsAnError) {
  auto r = lower("dim D = 100, H = 3\ndim E = D / H\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].substr(0, 4), "2:9:");
  EXPECT_NE(r.errors[0].find("not exact"), std::string::npos);
}

TEST(Sema, ExtentConflictNamesBothPlaces) {
  auto r =
      lower("dim T = 4, H = 2, E = 128, F = 64\ninput Q[T, H, E], K[T, H, F]\nS[h, i, j] = Q[i, h, e] * K[j, h, e]\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "3:35: index 'e' has extent 64 here but 128 at 3:22");
}

TEST(Sema, DefaultOutputsAreTheUnreadResults) {
  auto r = lower("input A[3]\nB[i] = A[i]\nC[i] = B[i] * 2\nD[i] = A[i] + 1\n");
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.program.outputs.size(), 2u);
  EXPECT_EQ(r.program.tensors[r.program.outputs[0]].name, "C");
  EXPECT_EQ(r.program.tensors[r.program.outputs[1]].name, "D");
}

TEST(Sema, Int8ProductsAccumulateInInt32) {
  auto r = lower("input A[2, 3], B[3, 4] : i8\nC[i, j] = A[i, k] * B[k, j]\nD[i, k] = A[i, k]\n");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.program.statements[0].dtype, DType::i32);
  EXPECT_EQ(r.program.statements[1].dtype, DType::i8);
}

TEST(Sema, BroadcastIntoADeclaredShape) {
  auto r = lower("dim M = 2, N = 3\ninput b[N]\noutput C[M, N]\nC[i, j] = b[j]\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.program.evaluate(r.program.tensors[1].shape[0]), 2);
}

TEST(Sema, NoCascadeAfterABrokenDefinition) {
  auto r = lower("input A[3]\nB[i] = A[i] * nope[i]\nC[i] = B[i] + 1\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("unknown tensor 'nope'"), std::string::npos);
}

}  // namespace
}  // namespace einc::ir
