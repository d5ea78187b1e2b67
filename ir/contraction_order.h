// ir/contraction_order.h — the pairwise order of a product of n operands.
//
// A product of three or more operands (tensors, scalars, any factor: the
// whole product, product_plan.h) is evaluated as a sequence of pairwise
// steps (like opt_einsum.contract_path), and its reported counts are the
// chosen order's (docs/language.md, "Cost model"). This module picks that
// order: an exact search over subsets for small n, a greedy one beyond, and
// for very many operands a plain pairing. It is pure and deterministic: the
// same problem always gives the same plan. An operand may have no indices
// (a scalar): it costs one FLOP per element of whatever it meets.
//
// Steps follow opt_einsum's list convention: the operand list starts as the
// n operands in order; a step names two positions lhs < rhs in the current
// list, both are removed, and the step's result is appended at the end.
//
// A step merging operand sets S1 and S2 (each an original operand or an
// earlier result) yields the indices of S1 ∪ S2 that are kept or still used
// by an operand outside S1 ∪ S2. It sums iff one of its operands' indices is
// not in its result; then it costs MACs = the product of the extents of
// every index of both operands, else (an outer or Hadamard step) one FLOP
// per result element. The objective is cost = 2*MACs + outer FLOPs, ties
// broken by fewer MACs, then by the lexicographically smallest sequence of
// (lhs, rhs) pairs. Counts are 128-bit like every count (PlanCount) and
// saturate at 2^127-1 (they never wrap), so a plan whose counts overflow
// merely loses; the caller re-evaluates the chosen plan with checked
// arithmetic.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/checked_math.h"

namespace einc::ir {

using PlanCount = Int128;

struct ContractionProblem {
  std::vector<std::vector<int>> operands;  // index ids of each operand (sorted, unique)
  std::vector<int> kept;                   // index ids of the result (sorted, unique)
  std::vector<std::int64_t> extents;       // extent of each index id (>= 0)
};

struct ContractionStep {
  int lhs = 0, rhs = 0;          // positions in the current operand list, lhs < rhs
  std::vector<int> result;       // index ids of the step's result (sorted)
  bool sums = false;             // the step sums at least one index
  PlanCount macs = 0;            // product of the extents of every index of both operands if sums, else 0
  PlanCount outer_elements = 0;  // elements of the result if !sums (1 FLOP each), else 0
};

struct ContractionPlan {
  std::vector<ContractionStep> steps;  // n-1 steps
  PlanCount macs = 0;                  // sum of step macs
  PlanCount cost = 0;                  // 2*macs + sum of outer_elements: the objective
  bool exact = false;                  // found by the exact search
};

// The exact search handles at most this many operands, whatever
// exact_limit says (its time grows as 3^n).
inline constexpr int kMaxExactContractionOperands = 12;
// Beyond this many operands the greedy search (O(n^3)) gives way to pairing
// the first two entries each step; no real script comes near it.
inline constexpr int kMaxGreedyContractionOperands = 64;

// Chooses the order of a product of problem.operands.size() operands.
//
// n <= min(exact_limit, kMaxExactContractionOperands) (and always n == 2):
// exact. Dynamic programming over subsets of operands gives the optimal
// (cost, macs); the steps are then fixed one at a time, each time taking the
// lexicographically smallest (lhs, rhs) pair from which an optimal
// completion exists (an inside-outside pass over the current list finds
// those pairs), so the plan is exactly the one brute_force_contraction
// returns. Otherwise greedy: repeatedly merge the pair with the smallest
// step cost (ties: fewer result elements, then the lowest (lhs, rhs));
// exact = false. With fewer than two operands the plan has no steps.
//
// Preconditions: n >= 2; every index not in `kept` appears in at least two
// operands; every index id is a valid position in `extents` (an id outside
// it, or a negative extent, is treated as extent 1).
ContractionPlan plan_contraction(const ContractionProblem& problem, int exact_limit = 10);

// Enumerates every pairwise order and keeps the best by the same objective
// and tie-breaks; for tests only. n <= 8 (more returns an empty plan).
ContractionPlan brute_force_contraction(const ContractionProblem& problem);

}  // namespace einc::ir
