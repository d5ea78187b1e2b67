// tests/ir/sema_test.cpp — sema: where the Einstein rule puts each sum, the
// einsum form, dims, outputs and dtypes. Errors are covered in depth by the
// must-fail scripts (tests/scripts/fail); here only a few positions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// The warnings of a statement after the preamble (line 3), "line:col: message".
std::vector<std::string> warnings(const std::string& statement) {
  auto r = lower(
      "dim T = 4, D = 8, F = 16, J = 5\n"
      "input n[T, D], wg[D, F], wu[D, F], S[T, J, D], b[D], w[T, D], x[T]\n" +
      statement);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  return r.warnings;
}

TEST(NonlinearSums, SumOutsideAFunctionOfTheIndexWarnsAtTheCall) {
  std::vector<std::string> w = warnings("g[t, f] = silu(n[t, d]*wg[d, f]) * (n[t, d]*wu[d, f])");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "3:11: index 'd' is summed outside silu(...): the sum runs over the whole product, silu included. If you "
            "meant silu of the sum, write silu(sum(d: n[t, d]*wg[d, f])) or compute the sum in its own statement; if "
            "you meant the sum of silu terms, write sum(d: ...) explicitly to silence this warning");
  // The same where the call is the whole sum, and for each function.
  w = warnings("y[t] = relu(n[t, d]) + b[d]");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("3:8: index 'd' is summed outside relu(...): the sum runs over the whole expression"),
            std::string::npos);
  for (const char* f : {"exp", "log", "sqrt", "rsqrt", "abs", "tanh", "sigmoid", "relu", "gelu", "silu"}) {
    w = warnings("y[t] = " + std::string(f) + "(n[t, d]) * b[d]");
    ASSERT_EQ(w.size(), 1u) << f;
    EXPECT_NE(w[0].find("3:8: index 'd' is summed outside " + std::string(f) + "(...)"), std::string::npos) << w[0];
  }
  // Two arguments: the sum goes inside the one that holds the index.
  w = warnings("y[t] = max(n[t, d], 0) * b[d]");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("write max(sum(d: n[t, d]), 0)"), std::string::npos) << w[0];
  w = warnings("y[t] = pow(n[t, d], b[d]) * w[t, d]");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("write pow(sum(d: n[t, d]), sum(d: b[d]))"), std::string::npos) << w[0];
}

TEST(NonlinearSums, ExplicitAndInsideSumsAreSilent) {
  for (const char* statement : {
           "g[t, f] = silu(sum(d: n[t, d]*wg[d, f])) * sum(d: n[t, d]*wu[d, f])",  // silu of the sum
           "g[t, f] = sum(d: silu(n[t, d]*wg[d, f]) * (n[t, d]*wu[d, f]))",        // the sum of silu terms
           "u[t, f] = gelu(n[t, d]*wg[d, f] + b[d])",                              // the rule sums inside gelu
           "z[t] = exp(n[t, d])",                                                  // ... inside exp
           "y[t] = n[t, d] * n[t, d]",                                             // products are linear
           "y[t] = -n[t, d] + b[d] * 2",                                           // so are sums and negation
           "y[t] = n[t, d] / D + n[t, d] / x[t]",                                  // a divisor without the index
           "y[t] = sum(j: S[t, j, d]) * b[d] + mean(j: S[t, j, d]) * b[d]",        // linear reductions
           "o[t] = softmax(d: n[t, d]) * b[d]",  // normalised along the summed index: the sum must be outside
           "o[t] = softmax(d: exp(n[t, d])) * b[d]",
           "y[t] = silu(x[t]) * n[t, d] * b[d]",  // the function does not hold the index
           "y[t] = n[t, d] * b[d] / sqrt(D)",
       }) {
    EXPECT_EQ(warnings(statement), std::vector<std::string>{}) << statement;
  }
}

TEST(NonlinearSums, ReductionsNormalisationsAndDivisors) {
  std::vector<std::string> w = warnings("m[t] = max(j: S[t, j, d]) * b[d]");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rfind("3:8: index 'd' is summed outside max(j: ...): the sum runs over the whole product", 0), 0u)
      << w[0];
  EXPECT_NE(w[0].find("write max(j: sum(d: S[t, j, d]))"), std::string::npos) << w[0];
  for (const char* op : {"min", "prod", "logsumexp"}) {
    w = warnings("m[t] = " + std::string(op) + "(j: S[t, j, d]) * b[d]");
    ASSERT_EQ(w.size(), 1u) << op;
    EXPECT_NE(w[0].find("outside " + std::string(op) + "(j: ...)"), std::string::npos) << w[0];
  }
  // A normalisation over another index than the one summed.
  w = warnings("p[t, j] = softmax(j: S[t, j, d]) * b[d]");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("3:11: index 'd' is summed outside softmax(j: ...)"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("write softmax(j: sum(d: S[t, j, d]))"), std::string::npos) << w[0];
  // A divisor is a factor of the contraction, not a trap; a function in it is.
  EXPECT_EQ(warnings("q[t] = n[t, d] / w[t, d]"), std::vector<std::string>{});
  w = warnings("q[t] = n[t, d] / sqrt(w[t, d])");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rfind("3:18: index 'd' is summed outside sqrt(...)", 0), 0u) << w[0];
  // Several indices summed by one sum are named together; nested calls warn once, at the outermost.
  w = warnings("y = exp(tanh(n[t, d])) * w[t, d]");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rfind("3:5: indices 't', 'd' are summed outside exp(...)", 0), 0u) << w[0];
  EXPECT_NE(w[0].find("write exp(sum(t, d: tanh(n[t, d])))"), std::string::npos) << w[0];
  // Two offending calls, two warnings.
  w = warnings("g[t, f] = silu(n[t, d]*wg[d, f]) * tanh(n[t, d]*wu[d, f])");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1].rfind("3:36: index 'd' is summed outside tanh(...)", 0), 0u) << w[1];
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
