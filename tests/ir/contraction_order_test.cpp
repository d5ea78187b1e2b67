// tests/ir/contraction_order_test.cpp — pairwise contraction orders.
//
// Hand-computed plans pin the cost model (MACs for summing steps, one FLOP
// per element for outer steps, cost = 2*MACs + outer FLOPs) and the
// opt_einsum list convention; a randomized comparison with brute force
// checks that the exact search finds the optimum and the same tie-broken
// sequence; every plan is replayed by an independent, set-based model of the
// step semantics.
#include "ir/contraction_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace einc::ir {
namespace {

using Path = std::vector<std::pair<int, int>>;

Path path_of(const ContractionPlan& plan) {
  Path path;
  for (const ContractionStep& step : plan.steps) path.emplace_back(step.lhs, step.rhs);
  return path;
}

// ----------------------------------------------------- independent replay --

struct ReplayEntry {
  std::set<int> originals;  // original operands merged into this entry
  std::set<int> indices;
};

struct ReplayResult {
  std::vector<ContractionStep> steps;  // lhs, rhs and the recomputed fields
  std::set<int> final_indices;
  std::int64_t macs = 0;
  std::int64_t outer = 0;
  bool valid = true;  // every (lhs, rhs) was a valid pair of positions
};

std::int64_t product(const std::set<int>& indices, const ContractionProblem& problem) {
  std::int64_t p = 1;
  for (int index : indices) p *= problem.extents[static_cast<std::size_t>(index)];
  return p;
}

// Recomputes every step of `path` from the definition: the result of merging
// S is the indices of S's operands that are kept or used outside S.
ReplayResult replay(const ContractionProblem& problem, const Path& path) {
  ReplayResult out;
  std::vector<ReplayEntry> list;
  for (std::size_t k = 0; k < problem.operands.size(); ++k) {
    list.push_back({{static_cast<int>(k)}, {problem.operands[k].begin(), problem.operands[k].end()}});
  }
  for (const auto& [lhs, rhs] : path) {
    if (lhs < 0 || lhs >= rhs || rhs >= static_cast<int>(list.size())) {
      out.valid = false;
      return out;
    }
    ReplayEntry merged;
    std::set<int> inputs;
    for (int position : {lhs, rhs}) {
      const ReplayEntry& entry = list[static_cast<std::size_t>(position)];
      merged.originals.insert(entry.originals.begin(), entry.originals.end());
      inputs.insert(entry.indices.begin(), entry.indices.end());
    }
    std::set<int> needed(problem.kept.begin(), problem.kept.end());
    for (std::size_t k = 0; k < problem.operands.size(); ++k) {
      if (!merged.originals.count(static_cast<int>(k)))
        needed.insert(problem.operands[k].begin(), problem.operands[k].end());
    }
    for (int original : merged.originals) {
      for (int index : problem.operands[static_cast<std::size_t>(original)]) {
        if (needed.count(index)) merged.indices.insert(index);
      }
    }
    ContractionStep step;
    step.lhs = lhs;
    step.rhs = rhs;
    step.result.assign(merged.indices.begin(), merged.indices.end());
    step.sums = inputs != merged.indices;
    step.macs = step.sums ? product(inputs, problem) : 0;
    step.outer_elements = step.sums ? 0 : product(merged.indices, problem);
    out.macs += step.macs;
    out.outer += step.outer_elements;
    out.steps.push_back(step);
    list.erase(list.begin() + rhs);
    list.erase(list.begin() + lhs);
    list.push_back(std::move(merged));
  }
  if (list.size() == 1) out.final_indices = list.front().indices;
  return out;
}

// The plan's steps match the definition, end with the kept indices, and its
// totals add up.
void expect_consistent(const ContractionProblem& problem, const ContractionPlan& plan) {
  ASSERT_EQ(plan.steps.size(), problem.operands.size() - 1);
  const ReplayResult replayed = replay(problem, path_of(plan));
  ASSERT_TRUE(replayed.valid);
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    const ContractionStep& got = plan.steps[s];
    const ContractionStep& want = replayed.steps[s];
    EXPECT_EQ(got.result, want.result) << "step " << s;
    EXPECT_EQ(got.sums, want.sums) << "step " << s;
    EXPECT_EQ(got.macs, want.macs) << "step " << s;
    EXPECT_EQ(got.outer_elements, want.outer_elements) << "step " << s;
  }
  EXPECT_EQ(replayed.final_indices, std::set<int>(problem.kept.begin(), problem.kept.end()));
  EXPECT_EQ(plan.macs, replayed.macs);
  EXPECT_EQ(plan.cost, 2 * replayed.macs + replayed.outer);
}

std::int64_t cost_of_path(const ContractionProblem& problem, const Path& path) {
  const ReplayResult replayed = replay(problem, path);
  return 2 * replayed.macs + replayed.outer;
}

// ------------------------------------------------------------ hand cases --

// A[i,j] B[j,k] C[k,l] -> [i,l]; ids i=0, j=1, k=2, l=3.
ContractionProblem matrix_chain(std::int64_t i, std::int64_t j, std::int64_t k, std::int64_t l) {
  return ContractionProblem{{{0, 1}, {1, 2}, {2, 3}}, {0, 3}, {i, j, k, l}};
}

TEST(ContractionOrder, MatrixChainLeftFirst) {
  // (AB)C: i*j*k + i*k*l = 5000 + 2500 = 7500 MACs.
  // A(BC): j*k*l + i*j*l = 25000 + 50000 = 75000 MACs.
  const ContractionProblem problem = matrix_chain(10, 100, 5, 50);
  const ContractionPlan plan = plan_contraction(problem);
  EXPECT_TRUE(plan.exact);
  EXPECT_EQ(path_of(plan), (Path{{0, 1}, {0, 1}}));
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_EQ(plan.steps[0].result, (std::vector<int>{0, 2}));
  EXPECT_TRUE(plan.steps[0].sums);
  EXPECT_EQ(plan.steps[0].macs, 5000);
  EXPECT_EQ(plan.steps[1].result, (std::vector<int>{0, 3}));
  EXPECT_EQ(plan.steps[1].macs, 2500);
  EXPECT_EQ(plan.macs, 7500);
  EXPECT_EQ(plan.cost, 15000);
  EXPECT_EQ(cost_of_path(problem, {{1, 2}, {0, 1}}), 150000);
  expect_consistent(problem, plan);
}

TEST(ContractionOrder, MatrixChainRightFirst) {
  // Mirrored extents: (AB)C costs 50*5*100 + 50*100*10 = 75000 MACs,
  // A(BC) costs 5*100*10 + 50*5*10 = 7500 MACs.
  const ContractionProblem problem = matrix_chain(50, 5, 100, 10);
  const ContractionPlan plan = plan_contraction(problem);
  EXPECT_EQ(path_of(plan), (Path{{1, 2}, {0, 1}}));
  EXPECT_EQ(plan.steps[0].result, (std::vector<int>{1, 3}));
  EXPECT_EQ(plan.steps[0].macs, 5000);
  EXPECT_EQ(plan.steps[1].macs, 2500);
  EXPECT_EQ(plan.macs, 7500);
  EXPECT_EQ(plan.cost, 15000);
  EXPECT_EQ(cost_of_path(problem, {{0, 1}, {0, 1}}), 150000);
  expect_consistent(problem, plan);
}

TEST(ContractionOrder, OuterProductStepWins) {
  // a[i] b[j] C[i,j,x] -> [x], i = j = 2, x = 10.
  //   (a b) outer: 4 FLOPs, then with C: 2*2*10 = 40 MACs -> cost 4 + 80 = 84;
  //   (a C) first: 40 MACs, then with b: 2*10 = 20 MACs -> cost 120; (b C) alike.
  const ContractionProblem problem{{{0}, {1}, {0, 1, 2}}, {2}, {2, 2, 10}};
  const ContractionPlan plan = plan_contraction(problem);
  EXPECT_EQ(path_of(plan), (Path{{0, 1}, {0, 1}}));
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_FALSE(plan.steps[0].sums);
  EXPECT_EQ(plan.steps[0].macs, 0);
  EXPECT_EQ(plan.steps[0].outer_elements, 4);
  EXPECT_EQ(plan.steps[0].result, (std::vector<int>{0, 1}));
  EXPECT_TRUE(plan.steps[1].sums);
  EXPECT_EQ(plan.steps[1].macs, 40);
  EXPECT_EQ(plan.macs, 40);
  EXPECT_EQ(plan.cost, 84);
  EXPECT_EQ(cost_of_path(problem, {{0, 2}, {0, 1}}), 120);
  EXPECT_EQ(cost_of_path(problem, {{1, 2}, {0, 1}}), 120);
  expect_consistent(problem, plan);
}

TEST(ContractionOrder, TwoOperands) {
  const ContractionProblem matmul{{{0, 1}, {1, 2}}, {0, 2}, {3, 4, 5}};
  const ContractionPlan plan = plan_contraction(matmul);
  EXPECT_TRUE(plan.exact);
  EXPECT_EQ(path_of(plan), (Path{{0, 1}}));
  EXPECT_TRUE(plan.steps[0].sums);
  EXPECT_EQ(plan.steps[0].macs, 60);
  EXPECT_EQ(plan.cost, 120);
  expect_consistent(matmul, plan);

  // A Hadamard product sums nothing: 1 FLOP per element, no MACs.
  const ContractionProblem hadamard{{{0}, {0}}, {0}, {7}};
  const ContractionPlan elementwise = plan_contraction(hadamard, /*exact_limit=*/0);
  EXPECT_TRUE(elementwise.exact);
  EXPECT_FALSE(elementwise.steps[0].sums);
  EXPECT_EQ(elementwise.steps[0].outer_elements, 7);
  EXPECT_EQ(elementwise.macs, 0);
  EXPECT_EQ(elementwise.cost, 7);
}

TEST(ContractionOrder, ZeroExtent) {
  // j = 0: (AB)C still costs 10*5*50 MACs in its second step, but A(BC) and
  // the outer (AC) then B both cost 0; the lexicographically smallest free
  // sequence starts with (0, 2).
  const ContractionProblem problem = matrix_chain(10, 0, 5, 50);
  const ContractionPlan plan = plan_contraction(problem);
  EXPECT_EQ(plan.cost, 0);
  EXPECT_EQ(plan.macs, 0);
  EXPECT_EQ(path_of(plan), (Path{{0, 2}, {0, 1}}));
  EXPECT_EQ(cost_of_path(problem, {{0, 1}, {0, 1}}), 5000);
  expect_consistent(problem, plan);
  EXPECT_EQ(path_of(brute_force_contraction(problem)), path_of(plan));
}

TEST(ContractionOrder, SparseIndexIdsAndScalars) {
  // Ids need not be dense; an operand may be a scalar.
  ContractionProblem problem{{{5, 17}, {}, {17, 40}}, {5, 40}, {}};
  problem.extents.assign(41, 1);
  problem.extents[5] = 3;
  problem.extents[17] = 4;
  problem.extents[40] = 6;
  const ContractionPlan plan = plan_contraction(problem);
  expect_consistent(problem, plan);
  const ContractionPlan brute = brute_force_contraction(problem);
  EXPECT_EQ(plan.cost, brute.cost);
  EXPECT_EQ(plan.macs, brute.macs);
}

TEST(ContractionOrder, FewerThanTwoOperandsHaveNoSteps) {
  EXPECT_TRUE(plan_contraction(ContractionProblem{{{0}}, {0}, {3}}).steps.empty());
  EXPECT_TRUE(plan_contraction(ContractionProblem{}).steps.empty());
}

// ------------------------------------------------------------- randomized --

// A random valid problem: every index not kept is in at least two operands.
ContractionProblem random_problem(std::mt19937_64& rng, int operand_count, int index_count) {
  std::uniform_int_distribution<int> extent(1, 9);
  std::bernoulli_distribution coin(0.5), keep(0.3);
  std::uniform_int_distribution<int> pick_operand(0, operand_count - 1);

  std::vector<std::set<int>> operands(static_cast<std::size_t>(operand_count));
  std::set<int> kept;
  ContractionProblem problem;
  for (int index = 0; index < index_count; ++index) {
    problem.extents.push_back(extent(rng));
    for (auto& operand : operands) {
      if (coin(rng)) operand.insert(index);
    }
    if (keep(rng)) kept.insert(index);
  }
  for (int index = 0; index < index_count; ++index) {
    const auto holders = std::count_if(operands.begin(), operands.end(),
                                       [&](const std::set<int>& operand) { return operand.count(index) > 0; });
    if (holders == 0) {
      kept.erase(index);  // unused index
    } else if (holders == 1 && !kept.count(index)) {
      if (coin(rng)) {
        kept.insert(index);
      } else {
        int other = pick_operand(rng);
        while (operands[static_cast<std::size_t>(other)].count(index)) other = pick_operand(rng);
        operands[static_cast<std::size_t>(other)].insert(index);
      }
    }
  }
  for (const auto& operand : operands) problem.operands.emplace_back(operand.begin(), operand.end());
  problem.kept.assign(kept.begin(), kept.end());
  return problem;
}

TEST(ContractionOrder, ExactMatchesBruteForce) {
  std::mt19937_64 rng(0x5eed'e1c0);
  std::uniform_int_distribution<int> operand_count(3, 6), index_count(1, 6);
  int outer_steps_chosen = 0;
  for (int trial = 0; trial < 500; ++trial) {
    const ContractionProblem problem = random_problem(rng, operand_count(rng), index_count(rng));
    SCOPED_TRACE("trial " + std::to_string(trial));
    const ContractionPlan plan = plan_contraction(problem);
    const ContractionPlan brute = brute_force_contraction(problem);
    EXPECT_TRUE(plan.exact);
    EXPECT_EQ(plan.cost, brute.cost);
    EXPECT_EQ(plan.macs, brute.macs);
    // Same tie-breaks, so the very same sequence.
    EXPECT_EQ(path_of(plan), path_of(brute));
    expect_consistent(problem, plan);
    expect_consistent(problem, brute);
    for (const ContractionStep& step : plan.steps) outer_steps_chosen += step.sums ? 0 : 1;

    const ContractionPlan greedy = plan_contraction(problem, /*exact_limit=*/2);
    EXPECT_FALSE(greedy.exact);
    EXPECT_GE(greedy.cost, plan.cost);
    expect_consistent(problem, greedy);
  }
  EXPECT_GT(outer_steps_chosen, 0);  // the generator exercises outer steps
}

// Whole products (ir/product_plan.h) give the search scalars: operands
// without indices, one FLOP per element of whatever they meet.
TEST(ContractionOrder, ScalarOperandsMatchBruteForce) {
  std::mt19937_64 rng(0x5ca1a7);
  std::uniform_int_distribution<int> operand_count(2, 5), index_count(1, 5), scalars(1, 2);
  int scalar_first = 0;
  for (int trial = 0; trial < 300; ++trial) {
    ContractionProblem problem = random_problem(rng, operand_count(rng), index_count(rng));
    for (int s = scalars(rng); s > 0; --s) {
      std::uniform_int_distribution<std::size_t> at(0, problem.operands.size());
      problem.operands.insert(problem.operands.begin() + static_cast<std::ptrdiff_t>(at(rng)), std::vector<int>{});
    }
    SCOPED_TRACE("trial " + std::to_string(trial));
    const ContractionPlan plan = plan_contraction(problem);
    const ContractionPlan brute = brute_force_contraction(problem);
    EXPECT_EQ(plan.cost, brute.cost);
    EXPECT_EQ(plan.macs, brute.macs);
    EXPECT_EQ(path_of(plan), path_of(brute));
    expect_consistent(problem, plan);
    const ContractionStep& first = plan.steps.front();
    scalar_first += problem.operands[static_cast<std::size_t>(first.lhs)].empty() ||
                            problem.operands[static_cast<std::size_t>(first.rhs)].empty()
                        ? 1
                        : 0;
  }
  EXPECT_GT(scalar_first, 0);  // a scalar is applied before the end in some plans
}

// --------------------------------------------------------------- large n --

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(ContractionOrder, GreedyForManyOperands) {
  // A 14-matrix chain with a few extra shared indices, over the exact limit.
  std::mt19937_64 rng(14);
  std::uniform_int_distribution<int> extent(2, 64);
  ContractionProblem problem;
  for (int k = 0; k <= 14; ++k) problem.extents.push_back(extent(rng));
  problem.extents.push_back(3);  // index 15: a batch index shared by all
  for (int k = 0; k < 14; ++k) problem.operands.push_back({k, k + 1, 15});
  problem.kept = {0, 14, 15};

  const auto start = std::chrono::steady_clock::now();
  const ContractionPlan plan = plan_contraction(problem);
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_FALSE(plan.exact);
  expect_consistent(problem, plan);
}

TEST(ContractionOrder, ExactLimitIsClamped) {
  std::mt19937_64 rng(12);
  const ContractionProblem problem = random_problem(rng, kMaxExactContractionOperands, 10);
  const auto start = std::chrono::steady_clock::now();
  const ContractionPlan plan = plan_contraction(problem, /*exact_limit=*/1000);
  EXPECT_LT(seconds_since(start), 5.0);
  EXPECT_TRUE(plan.exact);
  expect_consistent(problem, plan);
  EXPECT_LE(plan.cost, plan_contraction(problem, /*exact_limit=*/0).cost);

  const ContractionProblem larger = random_problem(rng, kMaxExactContractionOperands + 1, 10);
  EXPECT_FALSE(plan_contraction(larger, /*exact_limit=*/1000).exact);
}

// ------------------------------------------------------------ saturation --

TEST(ContractionOrder, HugeExtentsSaturateInsteadOfWrapping) {
  constexpr PlanCount kMax = kInt128Max;
  constexpr std::int64_t kHuge = std::int64_t{1} << 50;
  // A[i,j] B[j,k] C[k,i] -> scalar: every step touches 2^150 elements.
  const ContractionProblem ring{{{0, 1}, {1, 2}, {2, 0}}, {}, {kHuge, kHuge, kHuge}};
  for (const ContractionPlan& plan :
       {plan_contraction(ring), plan_contraction(ring, /*exact_limit=*/0), brute_force_contraction(ring)}) {
    ASSERT_EQ(plan.steps.size(), 2u);
    EXPECT_TRUE(plan.macs == kMax);
    EXPECT_TRUE(plan.cost == kMax);
    for (const ContractionStep& step : plan.steps) {
      EXPECT_TRUE(step.macs >= 0);
      EXPECT_TRUE(step.outer_elements >= 0);
    }
  }

  const ContractionProblem matmul{{{0, 1}, {1, 2}}, {0, 2}, {kHuge, kHuge, kHuge}};
  const ContractionPlan plan = plan_contraction(matmul);
  EXPECT_TRUE(plan.steps[0].macs == kMax);
  EXPECT_TRUE(plan.cost == kMax);

  const ContractionProblem outer{{{0}, {1}, {2}}, {0, 1, 2}, {kHuge, kHuge, kHuge}};
  EXPECT_TRUE(plan_contraction(outer).steps[1].outer_elements == kMax);
  EXPECT_TRUE(plan_contraction(outer).cost == kMax);
}

TEST(ContractionOrder, CountsPastInt64AreExact) {
  // The ring's first step touches 2^120 elements, its second 2^80: past
  // int64, exact in 128 bits.
  constexpr std::int64_t kBig = std::int64_t{1} << 40;
  const ContractionProblem ring{{{0, 1}, {1, 2}, {2, 0}}, {}, {kBig, kBig, kBig}};
  const PlanCount macs = (PlanCount{1} << 120) + (PlanCount{1} << 80);
  for (const ContractionPlan& plan :
       {plan_contraction(ring), plan_contraction(ring, /*exact_limit=*/0), brute_force_contraction(ring)}) {
    ASSERT_EQ(plan.steps.size(), 2u);
    EXPECT_TRUE(plan.steps[0].macs == PlanCount{1} << 120);
    EXPECT_TRUE(plan.macs == macs);
    EXPECT_TRUE(plan.cost == 2 * macs);
  }
  // Where every order costs more than int64 holds, the order still follows
  // the extents (saturated int64 costs would tie and take (0, 1) first):
  // A[i,j] B[j,k] C[k,l] -> [i,l] with j = 2 is cheapest as A*(B*C),
  // 2*2^80 MACs per step, against 2^81 + 2^120 for (A*B)*C.
  const ContractionProblem chain{{{0, 1}, {1, 2}, {2, 3}}, {0, 3}, {kBig, 2, kBig, kBig}};
  for (const ContractionPlan& best : {plan_contraction(chain), brute_force_contraction(chain)}) {
    EXPECT_EQ(best.steps[0].lhs, 1);
    EXPECT_EQ(best.steps[0].rhs, 2);
    EXPECT_TRUE(best.macs == PlanCount{4} * kBig * kBig);
  }
}

}  // namespace
}  // namespace einc::ir
