// tests/ir/cost_model_test.cpp — the cost model against hand-computed counts.
#include <gtest/gtest.h>

#include "ir/cost_model.h"
#include "lower_helper.h"

namespace einc::ir {
namespace {

using testing::lower;

struct Costed {
  Program program;
  ProgramCost cost;
  std::int64_t eval(const Poly& p) const { return program.evaluate(p); }
  const StatementCost& at(std::size_t i) const { return cost.statements.at(i); }
};

Costed cost_of(const std::string& text) {
  auto r = lower(text);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors.front());
  Costed c{std::move(r.program), {}};
  c.cost = analyze_cost(c.program);
  return c;
}

TEST(CostModel, Matmul) {
  auto c = cost_of("dim M = 512, K = 256, N = 128\ninput A[M, K], B[K, N]\nC[i, j] = A[i, k] * B[k, j]\n");
  const StatementCost& s = c.at(0);
  EXPECT_EQ(s.kind, StatementKind::contraction);
  EXPECT_EQ(c.eval(s.outputs), 512 * 128);
  EXPECT_EQ(c.eval(s.dot_products), 512 * 128);
  EXPECT_EQ(c.eval(s.reduction_length), 256);
  EXPECT_EQ(c.eval(s.macs), 512LL * 128 * 256);
  EXPECT_EQ(c.eval(s.flops), 2LL * 512 * 128 * 256);
  EXPECT_EQ(c.eval(s.bytes), 4LL * (512 * 256 + 256 * 128 + 512 * 128));
  EXPECT_EQ(c.program.formula(s.macs), "M*K*N");
  ASSERT_EQ(s.contractions.size(), 1u);
  EXPECT_EQ(c.eval(s.contractions[0].naive_macs), 512LL * 128 * 256);
}

TEST(CostModel, OuterAndHadamardProductsHaveNoMacs) {
  auto c =
      cost_of("dim I = 30, J = 40\ninput u[I], v[J], A[I, J]\nO[i, j] = u[i] * v[j]\nH[i, j] = A[i, j] * A[i, j]\n");
  EXPECT_EQ(c.at(0).kind, StatementKind::elementwise);
  EXPECT_TRUE(c.at(0).macs.is_zero());
  EXPECT_EQ(c.eval(c.at(0).flops), 30 * 40);
  EXPECT_TRUE(c.at(1).macs.is_zero());
  EXPECT_EQ(c.eval(c.at(1).flops), 30 * 40);
}

TEST(CostModel, ScaledAttentionScores) {
  // S = Q K^T / sqrt(E): H*T*T*E MACs, one divide per score; sqrt(E) is
  // computed once, when E is bound: no transcendental.
  auto c = cost_of(
      "dim T = 10, H = 2, E = 16\ninput Q[T, H, E], K[T, H, E]\n"
      "S[h, i, j] = Q[i, h, e] * K[j, h, e] / sqrt(E)\n");
  const StatementCost& s = c.at(0);
  EXPECT_EQ(c.eval(s.macs), 2 * 10 * 10 * 16);
  EXPECT_EQ(c.eval(s.flops), 2 * (2 * 10 * 10 * 16) + 2 * 10 * 10);
  EXPECT_EQ(c.eval(s.transcendentals), 0);
}

TEST(CostModel, ScalarsOfDimsAndNumbersCostNothingPerElement) {
  auto c = cost_of(
      "dim N = 10, E = 16\ninput x[N], s\n"
      "a[i] = x[i] / sqrt(E)\n"                     // one divide per element, no sqrt
      "b[i] = x[i] + exp(-2 * E / (E + 1))\n"       // one add per element
      "c = sqrt(E) * log(2) + E\n"                  // nothing at all
      "d[i] = x[i] * sqrt(s)\n"                     // a 0-d tensor is read at run time: one sqrt
      "e[i] = max(x[i], 1 / E) + 2 * E * x[i]\n");  // the max, the add, and the plan's one scale
  EXPECT_EQ(c.eval(c.at(0).flops), 10);
  EXPECT_EQ(c.eval(c.at(0).transcendentals), 0);
  EXPECT_EQ(c.eval(c.at(1).flops), 10);
  EXPECT_EQ(c.eval(c.at(1).transcendentals), 0);
  EXPECT_EQ(c.eval(c.at(2).flops), 0);
  EXPECT_EQ(c.eval(c.at(2).transcendentals), 0);
  EXPECT_EQ(c.eval(c.at(3).flops), 10);
  EXPECT_EQ(c.eval(c.at(3).transcendentals), 1);
  // 2 * E * x[i] is one product of three operands: (2*E) once, then 10 scales.
  EXPECT_EQ(c.eval(c.at(4).flops), 10 + 10 + 1 + 10);
  EXPECT_EQ(c.eval(c.at(4).transcendentals), 0);
}

TEST(CostModel, SoftmaxAndLayernorm) {
  auto c = cost_of(
      "dim R = 6, C = 10\ninput X[R, C]\nP[r, c] = softmax(c: X[r, c])\nN[r, c] = layernorm(c: X[r, c])\n"
      "Z[r, c] = rmsnorm(c: X[r, c])\nL[r] = logsumexp(c: X[r, c])\nm[r] = mean(c: X[r, c])\n");
  EXPECT_EQ(c.at(0).kind, StatementKind::normalization);
  EXPECT_EQ(c.eval(c.at(0).flops), 4 * 60);
  EXPECT_EQ(c.eval(c.at(0).transcendentals), 60);
  EXPECT_EQ(c.eval(c.at(1).flops), 5 * 60 + 3 * 6);
  EXPECT_EQ(c.eval(c.at(1).transcendentals), 6);
  EXPECT_EQ(c.eval(c.at(2).flops), 3 * 60 + 2 * 6);
  EXPECT_EQ(c.at(3).kind, StatementKind::reduction);
  EXPECT_EQ(c.eval(c.at(3).flops), 3 * 60 + 6);
  EXPECT_EQ(c.eval(c.at(3).transcendentals), 60 + 6);
  EXPECT_EQ(c.eval(c.at(4).flops), 60 + 6);
  EXPECT_EQ(c.eval(c.at(4).reduction_length), 10);
}

TEST(CostModel, ChainOrderIsChosen) {
  // (A*B)*v: N^3 + N^2 MACs; A*(B*v): 2 N^2.
  auto c = cost_of("dim N = 100\ninput A[N, N], B[N, N], v[N]\ny[i] = A[i, j] * B[j, k] * v[k]\n");
  const ContractionCost& t = c.at(0).contractions.at(0);
  EXPECT_EQ(c.eval(t.macs), 2 * 100 * 100);
  EXPECT_EQ(c.eval(t.naive_macs), 100 * 100 * 100);
  EXPECT_EQ(c.program.formula(t.macs), "2*N*N");
  EXPECT_EQ(t.order, "(A[i, j]*(B[j, k]*v[k]))");
  EXPECT_EQ(c.eval(c.at(0).reduction_length), 100 * 100);
}

TEST(CostModel, AccumulateAddsOneFlopPerOutput) {
  auto c = cost_of("dim N = 8\ninput A[N]\nB[i] = A[i] * 2\nB[i] += A[i]\n");
  EXPECT_EQ(c.eval(c.at(1).flops), 8);
  EXPECT_EQ(c.eval(c.at(1).bytes), 4 * 8 + 2 * 4 * 8);
}

TEST(CostModel, ParamsAndDtypeSizes) {
  auto c = cost_of("dim D = 16, F = 32\ninput X[D] : bf16\nparam W[D, F] : bf16\nY[f] = X[d] * W[d, f]\n");
  EXPECT_EQ(c.eval(c.cost.params), 16 * 32);
  EXPECT_EQ(c.eval(c.at(0).params), 16 * 32);
  EXPECT_EQ(c.eval(c.at(0).bytes), 2 * (16 + 16 * 32 + 32));
}

TEST(CostModel, ReductionInsideOneOperandIsAReductionNotMacs) {
  auto c = cost_of("dim I = 3, K = 5, L = 7\ninput T[I, K, L], w[K]\nC[i] = T[i, k, l] * w[k]\n");
  const StatementCost& s = c.at(0);
  EXPECT_EQ(c.eval(s.macs), 3 * 5);
  EXPECT_EQ(c.eval(s.flops), 3 * 5 * 7 + 2 * 3 * 5);
  EXPECT_EQ(c.eval(s.reduction_length), 5 * 7);
}

TEST(CostModel, ZeroSizedDims) {
  auto c = cost_of("dim N = 0, K = 4\ninput A[N, K], B[K, N]\nC[i, j] = A[i, k] * B[k, j]\n");
  EXPECT_EQ(c.eval(c.at(0).macs), 0);
  EXPECT_EQ(c.eval(c.at(0).bytes), 0);
}

}  // namespace
}  // namespace einc::ir

namespace einc::ir {
namespace {

// Causal attention counts the points j <= i only: T*(T+1)/2 per head.
TEST(CostModel, CausalMasksCountTheKeptPointsExactly) {
  auto c = cost_of(
      "dim H = 3, T = 9, E = 4\ninput q[H, T, E], k[H, T, E], v[H, T, E]\n"
      "s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e], -inf)\n"
      "o[h, i, e] = where(j <= i, s[h, i, j] * v[h, j, e], 0)\n"
      "u[h, i, e] = where(i < j, s[h, i, j] * v[h, j, e], 0)\n"
      "d[h, i, e] = where(i == j, s[h, i, j] * v[h, j, e], 0)\n"
      "x[h, i, j] = where(j != i, exp(s[h, i, j]), s[h, i, j] * 2)\n");
  const std::int64_t kept = 9 * 10 / 2, strict = 9 * 8 / 2;
  EXPECT_EQ(c.eval(c.at(0).macs), 3 * 4 * kept);
  EXPECT_EQ(c.eval(c.at(0).dot_products), 3 * kept);
  EXPECT_EQ(c.program.formula(c.at(0).macs), "(H*T*T*E + H*T*E)/2");
  EXPECT_EQ(c.eval(c.at(0).outputs), 3 * 9 * 9);  // every element is written
  EXPECT_EQ(c.at(1).kind, StatementKind::contraction);
  EXPECT_EQ(c.eval(c.at(1).macs), 3 * 4 * kept);
  EXPECT_EQ(c.eval(c.at(1).flops), 2 * 3 * 4 * kept);
  EXPECT_EQ(c.eval(c.at(1).dot_products), 3 * 9 * 4);
  EXPECT_EQ(c.eval(c.at(2).macs), 3 * 4 * strict);
  EXPECT_EQ(c.eval(c.at(3).macs), 3 * 4 * 9);
  // exp off the diagonal, a multiply on it.
  EXPECT_EQ(c.eval(c.at(4).transcendentals), 3 * 9 * 8);
  EXPECT_EQ(c.eval(c.at(4).flops), 3 * 9);
}

// A masked sum counts alike whichever side of the `where` holds the product
// (the backends run both as the same masked contraction).
TEST(CostModel, MaskedSumsCountAlikeWhicheverSideHoldsTheProduct) {
  auto c = cost_of(
      "dim T = 9, E = 4\ninput p[T, T], v[T, E]\n"
      "o[i, e] = where(j <= i, p[i, j] * v[j, e], 0)\n"
      "r[i, e] = where(j > i, 0, p[i, j] * v[j, e])\n");
  for (std::size_t s : {0, 1}) {
    EXPECT_EQ(c.at(s).kind, StatementKind::contraction) << s;
    EXPECT_EQ(c.eval(c.at(s).macs), 4 * 9 * 10 / 2) << s;
    EXPECT_EQ(c.eval(c.at(s).flops), 2 * 4 * 9 * 10 / 2) << s;
    EXPECT_EQ(c.program.formula(c.at(s).macs), "(T*T*E + T*E)/2") << s;
  }
}

}  // namespace
}  // namespace einc::ir
