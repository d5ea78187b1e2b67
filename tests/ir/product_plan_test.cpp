// tests/ir/product_plan_test.cpp — products planned whole (ir/product_plan.h).
//
// Every factor of a product is an operand of one plan: the groups that sum,
// the free factors, scalars. The counts are pinned by hand for the issue's
// examples and, for random products of tensors and scalars, compared with
// an independent enumeration of every pairwise order (the brute force
// below shares no code with the planner); the operands' uses (divisors,
// inversions, pre-reductions) and which plans run in one pass are checked
// on small cases.
#include "ir/product_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ir/cost_model.h"
#include "ir/expr_builders.h"
#include "lower_helper.h"

namespace einc::ir {
namespace {

using testing::lower;

Program lowered(const std::string& text) {
  auto r = lower(text);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors.front()) << "\n" << text;
  return std::move(r.program);
}

std::int64_t flops_of(const Program& program, std::size_t statement) {
  return program.evaluate(analyze_cost(program).statements.at(statement).flops);
}

// The outermost product of a statement's value.
const Expr* root_product(const Statement& statement) {
  std::vector<const Expr*> stack{statement.value.get()};
  while (!stack.empty()) {
    const Expr* e = stack.front();
    stack.erase(stack.begin());
    if (is_product(statement, *e)) return e;
    for (const ExprPtr& a : e->args) stack.push_back(a.get());
  }
  return nullptr;
}

int index_id(const Statement& statement, const std::string& name) {
  for (std::size_t id = 0; id < statement.indices.size(); ++id)
    if (statement.indices[id].name == name) return static_cast<int>(id);
  return -1;
}

ProductPlan plan_of(const Program& program, std::size_t statement) {
  const Statement& s = program.statements.at(statement);
  const Expr* root = root_product(s);
  EXPECT_NE(root, nullptr);
  return plan_product(program, s, *root);
}

// ----------------------------------------------------------- brute force --

using IndexSet = std::set<int>;

std::int64_t elements(const IndexSet& indices, const std::vector<std::int64_t>& extents) {
  std::int64_t n = 1;
  for (int k : indices) n *= extents[static_cast<std::size_t>(k)];
  return n;
}

// The cheapest FLOPs of any pairwise order of `list`: a step that leaves out
// an index (sums it) costs 2 per point of its operands' indices, any other
// one per element of its result.
std::int64_t cheapest_order(const std::vector<IndexSet>& list, const IndexSet& kept,
                            const std::vector<std::int64_t>& extents) {
  if (list.size() <= 1) return 0;
  std::int64_t best = std::numeric_limits<std::int64_t>::max();
  for (std::size_t x = 0; x < list.size(); ++x) {
    for (std::size_t y = x + 1; y < list.size(); ++y) {
      IndexSet both = list[x];
      both.insert(list[y].begin(), list[y].end());
      IndexSet needed = kept;
      std::vector<IndexSet> rest;
      for (std::size_t z = 0; z < list.size(); ++z) {
        if (z == x || z == y) continue;
        needed.insert(list[z].begin(), list[z].end());
        rest.push_back(list[z]);
      }
      IndexSet result;
      for (int k : both)
        if (needed.count(k)) result.insert(k);
      const std::int64_t step = result == both ? elements(result, extents) : 2 * elements(both, extents);
      rest.push_back(result);
      best = std::min(best, step + cheapest_order(rest, kept, extents));
    }
  }
  return best;
}

// The cheapest FLOPs of a product of operands with these indices: an index
// not kept and held by one operand is summed inside it first (one FLOP per
// element), then the cheapest pairwise order.
std::int64_t cheapest_product(std::vector<IndexSet> operands, const IndexSet& kept,
                              const std::vector<std::int64_t>& extents) {
  std::int64_t flops = 0;
  for (IndexSet& operand : operands) {
    IndexSet alone;
    for (int k : operand) {
      if (kept.count(k)) continue;
      int holders = 0;
      for (const IndexSet& other : operands) holders += other.count(k) ? 1 : 0;
      if (holders == 1) alone.insert(k);
    }
    if (alone.empty()) continue;
    flops += elements(operand, extents);
    for (int k : alone) operand.erase(k);
  }
  return flops + cheapest_order(operands, kept, extents);
}

// -------------------------------------------------------------- the issue --

TEST(ProductPlan, FreeFactorsAreOrderedWithTheRest) {
  // (A*B)*C: 6 + 24 FLOPs, not one loop's 2 * 24.
  Program p = lowered(
      "dim a = 2, b = 3, c = 4\ninput A[a], B[a, b], C[a, b, c]\nR = einsum(\"a,ab,abc->abc\", A, B, C)\n"
      "R2[i, j, k] = A[i] * B[i, j] * C[i, j, k]\nR3[i, j, k] = C[i, j, k] * A[i] * B[i, j]\n");
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(flops_of(p, s), 30) << s;
    EXPECT_EQ(analyze_cost(p).statements[s].kind, StatementKind::elementwise);
    EXPECT_TRUE(analyze_cost(p).statements[s].macs.is_zero());
    EXPECT_FALSE(runs_in_one_pass(plan_of(p, s)));
  }
}

TEST(ProductPlan, AnOuterProductOfGroupsTakesItsBestOrder) {
  // ab,cd,ef,fg (implicit output abcdeg): (A*B) * (C*D summed over f).
  Program p = lowered(
      "dim a = 5, b = 6, c = 7, d = 8, e = 9, f = 10, g = 11\ninput A[a, b], B[c, d], C[e, f], D[f, g]\n"
      "R = einsum(\"ab,cd,ef,fg\", A, B, C, D)\nR2[a, b, c, d, e, g] = A[a, b] * B[c, d] * C[e, f] * D[f, g]\n");
  const std::int64_t best =
      cheapest_product({{0, 1}, {2, 3}, {4, 5}, {5, 6}}, {0, 1, 2, 3, 4, 6}, {5, 6, 7, 8, 9, 10, 11});
  EXPECT_EQ(best, 5 * 6 * 7 * 8 * 9 * 11 + 5 * 6 * 7 * 8 + 2 * 9 * 10 * 11);
  for (std::size_t s = 0; s < 2; ++s) {
    const StatementCost c = analyze_cost(p).statements[s];
    EXPECT_EQ(p.evaluate(c.flops), best);
    EXPECT_EQ(p.evaluate(c.macs), 9 * 10 * 11);
    ASSERT_EQ(c.contractions.size(), 1u);
    EXPECT_EQ(c.contractions[0].operands.size(), 4u);
  }
}

TEST(ProductPlan, AScalarIsAppliedWhereItIsCheapest) {
  // T > E: dividing Q (T*H*E) beats dividing the scores (H*T*T).
  Program p = lowered(
      "dim T = 20, H = 2, E = 8\ninput Q[T, H, E], K[T, H, E]\nS[h, i, j] = Q[i, h, e] * K[j, h, e] / sqrt(E)\n");
  ProductPlan plan = plan_of(p, 0);
  ASSERT_EQ(plan.operands.size(), 3u);
  EXPECT_EQ(plan.operands[2].use, FactorUse::divide);
  EXPECT_EQ(flops_of(p, 0), 2 * 2 * 20 * 20 * 8 + 20 * 2 * 8);
  EXPECT_EQ(analyze_cost(p).statements[0].contractions.at(0).order, "(K[j, h, e]*(Q[i, h, e]/sqrt(E)))");
  EXPECT_FALSE(runs_in_one_pass(plan));
  // T < E: the scores are cheapest.
  p = lowered(
      "dim T = 4, H = 2, E = 8\ninput Q[T, H, E], K[T, H, E]\nS[h, i, j] = Q[i, h, e] * K[j, h, e] / sqrt(E)\n");
  EXPECT_EQ(flops_of(p, 0), 2 * 2 * 4 * 4 * 8 + 2 * 4 * 4);
  EXPECT_EQ(analyze_cost(p).statements[0].contractions.at(0).order, "((Q[i, h, e]*K[j, h, e])/sqrt(E))");
  // Scalars meet each other first: one FLOP, then one per element.
  p = lowered("dim N = 10\ninput x[N], s\ny[i] = 2 * x[i] * s * 3\n");
  EXPECT_EQ(flops_of(p, 0), 2 + 10);
}

TEST(ProductPlan, DivisorsInversionsAndPreReductions) {
  Program p = lowered(
      "dim I = 3, J = 4, K = 5\ninput A[I, J], v[J], w[J, K], u[J]\n"
      "a[i] = A[i, j] / v[j]\n"                // a divisor meeting a tensor: sum(j: A / v)
      "b[i] = sum(j, k: A[i, j] / w[j, k])\n"  // k only in w: 1/w summed over k first
      "c[i] = A[i, j] / v[j] / u[j]\n"         // two divisors share j: both inverted
      "d[i] = A[i, j] / v[j] * 2\n"            // a divisor and a scalar
      "e[i] = 1 / A[i, j] / v[j] / 2\n");      // (1/A) * (1/v) summed: A and v inverted, 1/2 a divisor
  ProductPlan a = plan_of(p, 0);
  EXPECT_EQ(a.operands[1].use, FactorUse::divide);
  EXPECT_TRUE(runs_in_one_pass(a));
  EXPECT_EQ(flops_of(p, 0), 2 * 3 * 4);
  ProductPlan b = plan_of(p, 1);
  EXPECT_EQ(b.operands[1].use, FactorUse::invert);
  EXPECT_EQ(b.operands[1].pre_reduced, std::vector<int>{index_id(p.statements[1], "k")});
  EXPECT_FALSE(runs_in_one_pass(b));
  EXPECT_EQ(flops_of(p, 1), 4 * 5 + 4 * 5 + 2 * 3 * 4);
  ProductPlan c = plan_of(p, 2);
  EXPECT_EQ(c.operands[1].use, FactorUse::invert);
  EXPECT_EQ(c.operands[2].use, FactorUse::invert);
  for (const ProductStep& step : c.steps) EXPECT_FALSE(step.divisor() && !step.over.empty());
  ProductPlan d = plan_of(p, 3);
  EXPECT_EQ(d.operands[1].use, FactorUse::divide);
  EXPECT_EQ(d.operands[2].use, FactorUse::multiply);
  ProductPlan e = plan_of(p, 4);
  EXPECT_EQ(e.operands[1].use, FactorUse::invert);
  EXPECT_EQ(e.operands[2].use, FactorUse::invert);
  EXPECT_EQ(e.operands[3].use, FactorUse::divide);
}

TEST(ProductPlan, AProductOfDivisorsIsInvertedOnce) {
  Program p = lowered("dim N = 6\ninput x[N], y[N]\nq[i] = 1 / x[i] / y[i]\nr[i] = x[i] / y[i]\n");
  // 1 * (1/x) * (1/y): x*y (N), 1/(xy) (N), 1 * that... all N each.
  EXPECT_EQ(flops_of(p, 0), 2 * 6);
  EXPECT_EQ(flops_of(p, 1), 6);  // one divide per element, as written
  EXPECT_TRUE(runs_in_one_pass(plan_of(p, 1)));
}

TEST(ProductPlan, WhichPlansRunInOnePass) {
  Program p = lowered(
      "dim N = 8, M = 5\ninput x[N], y[N], A[N, M], s\n"
      "h[i] = x[i] * y[i] * x[i]\n"        // elementwise over the result at every step
      "m[i] = A[i, k] * A[i, k]\n"         // one step
      "o[i, k] = x[i] * A[i, k] * y[i]\n"  // x*y is smaller than the result
      "t[i] = sum(k: A[i, k] * 2)\n");     // summed inside A first
  EXPECT_TRUE(runs_in_one_pass(plan_of(p, 0)));
  EXPECT_TRUE(steps_are_elementwise(plan_of(p, 0)));
  EXPECT_TRUE(runs_in_one_pass(plan_of(p, 1)));
  EXPECT_FALSE(runs_in_one_pass(plan_of(p, 2)));
  EXPECT_FALSE(runs_in_one_pass(plan_of(p, 3)));
  EXPECT_EQ(flops_of(p, 3), 8 * 5 + 8);
}

TEST(ProductPlan, IntegerProductsThatDivideAreNotPlanned) {
  Program p = lowered("dim N = 4, K = 3\ninput A[N, K], b[K] : i32\ny[i] = A[i, k] / b[k]\nz[i] = A[i, k] * b[k]\n");
  EXPECT_EQ(root_product(p.statements[0]), nullptr);
  const StatementCost y = analyze_cost(p).statements[0];
  EXPECT_EQ(y.kind, StatementKind::reduction);
  EXPECT_EQ(p.evaluate(y.flops), 4 * 3 + 4 * 3);  // a divide per point, then the sum
  EXPECT_NE(root_product(p.statements[1]), nullptr);
  EXPECT_EQ(analyze_cost(p).statements[1].kind, StatementKind::contraction);
}

TEST(ProductPlan, SumsThatReuseAnIndexNameStayApart) {
  // Two explicit sums over k: opening both would sum their product over k.
  Program p = lowered(
      "dim I = 3, K = 4\ninput A[I, K], B[I, K], u[K]\n"
      "r[i] = sum(k: A[i, k] * u[k]) * sum(k: B[i, k] * u[k])\n");
  ProductPlan plan = plan_of(p, 0);
  ASSERT_EQ(plan.operands.size(), 2u);
  EXPECT_TRUE(plan.summed.empty());
  EXPECT_EQ(flops_of(p, 0), 2 * (2 * 3 * 4) + 3);
}

// ------------------------------------------------------------- randomized --

// Random products of tensors over a few indices, constants, dims, 0-d
// inputs and calls on them, in random order, some indices summed: the
// reported FLOPs are the cheapest order's, exactly.
TEST(ProductPlan, RandomMixedProductsMatchBruteForce) {
  std::mt19937_64 rng(0x70d0c7);
  const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
  int with_scalars = 0, with_sums = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int index_count = std::uniform_int_distribution<int>(1, 5)(rng);
    std::vector<std::int64_t> extents;
    std::string dims = "dim ";
    for (int k = 0; k < index_count; ++k) {
      extents.push_back(std::uniform_int_distribution<int>(1, 6)(rng));
      dims += (k ? ", D" : "D") + names[static_cast<std::size_t>(k)] + " = " + std::to_string(extents.back());
    }
    const int operand_count = std::uniform_int_distribution<int>(2, 6)(rng);
    std::string declarations, factors;
    std::vector<IndexSet> operands;
    IndexSet used;
    bool scalar = false;
    bool folds = true;  // numbers and dims only: one scalar fixed at bind time, free
    for (int o = 0; o < operand_count; ++o) {
      std::string factor;
      IndexSet indices;
      if (std::bernoulli_distribution(0.3)(rng)) {
        static const char* const kScalars[] = {"0.5", "s", "Da", "sqrt(Da)", "(2 + s)"};
        factor = kScalars[std::uniform_int_distribution<int>(0, 4)(rng)];
        scalar = true;
        folds = folds && (factor == "0.5" || factor == "Da" || factor == "sqrt(Da)");
      } else {
        folds = false;
        for (int k = 0; k < index_count; ++k)
          if (std::bernoulli_distribution(0.5)(rng)) indices.insert(k);
        std::string shape, subscripts;
        for (int k : indices) {
          shape += (shape.empty() ? "" : ", ") + std::string("D") + names[static_cast<std::size_t>(k)];
          subscripts += (subscripts.empty() ? "" : ", ") + names[static_cast<std::size_t>(k)];
        }
        const std::string tensor = "T" + std::to_string(o);
        declarations += "input " + tensor + "[" + shape + "]\n";
        factor = tensor + "[" + subscripts + "]";
      }
      factors += (o ? " * " : "") + factor;
      operands.push_back(indices);
      used.insert(indices.begin(), indices.end());
    }
    IndexSet kept;
    std::string lhs;
    for (int k : used)
      if (std::bernoulli_distribution(0.5)(rng)) {
        kept.insert(k);
        lhs += (lhs.empty() ? "" : ", ") + names[static_cast<std::size_t>(k)];
      }
    const std::string script =
        dims + "\ninput s\n" + declarations + "R" + (lhs.empty() ? "" : "[" + lhs + "]") + " = " + factors + "\n";
    SCOPED_TRACE(script);
    Program p = lowered(script);
    ASSERT_EQ(p.statements.size(), 1u);
    // Scalars' own work: `(2 + s)` adds once.
    const std::int64_t own = std::count(factors.begin(), factors.end(), '+');
    EXPECT_EQ(flops_of(p, 0), folds ? 0 : cheapest_product(operands, kept, extents) + own);
    with_scalars += scalar ? 1 : 0;
    with_sums += kept.size() < used.size() ? 1 : 0;
  }
  EXPECT_GT(with_scalars, 50);
  EXPECT_GT(with_sums, 50);
}

}  // namespace
}  // namespace einc::ir
