// ir/contraction_order.cpp — exact, greedy and brute-force contraction orders.
//
// Index ids are renumbered densely and index sets are bitsets, so a step's
// cost is a few word operations. Three searches share one step-cost rule:
//  - exact (small n): the result of merging a subset S of the operands
//    depends only on S, so a table holds it for every subset; an "inside"
//    pass (best cost of building each subset of the current list) and an
//    "outside" pass (best cost of the rest of a plan that builds it) give,
//    for every pair of list entries, the best total of a plan that merges
//    that pair first. The lexicographically smallest pair reaching the
//    minimum becomes the next step, and the passes run again on the new
//    list: the result is the lexicographically smallest optimal sequence;
//  - greedy (large n): cheapest step first;
//  - brute force (tests): every sequence, in lexicographic order.
// All counts saturate at INT64_MAX.
#include "ir/contraction_order.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <deque>
#include <limits>

namespace einc::ir {
namespace {

constexpr PlanCount kSaturated = kInt128Max;
constexpr std::size_t kMaxBruteForceOperands = 8;

// Both arguments are >= 0.
PlanCount saturating_add(PlanCount a, PlanCount b) { return a > kSaturated - b ? kSaturated : a + b; }

PlanCount saturating_mul(PlanCount a, PlanCount b) {
  if (a == 0 || b == 0) return 0;
  return a > kSaturated / b ? kSaturated : a * b;
}

// What a plan (or part of one) costs, compared as (cost, macs).
struct Score {
  PlanCount cost = 0;
  PlanCount macs = 0;
  friend auto operator<=>(const Score&, const Score&) = default;
};

Score operator+(Score a, Score b) { return Score{saturating_add(a.cost, b.cost), saturating_add(a.macs, b.macs)}; }

// ------------------------------------------------------------ index sets --

// A set of dense index positions: bit k of word k/64 is position k. Every
// set of one problem has the same number of words.
using IndexSet = std::vector<std::uint64_t>;

bool contains(const IndexSet& set, int index) { return (set[index / 64] >> (index % 64)) & 1u; }

void insert(IndexSet& set, int index) { set[index / 64] |= std::uint64_t{1} << (index % 64); }

IndexSet set_union(const IndexSet& a, const IndexSet& b) {
  IndexSet out(a.size());
  for (std::size_t w = 0; w < a.size(); ++w) out[w] = a[w] | b[w];
  return out;
}

IndexSet set_intersection(const IndexSet& a, const IndexSet& b) {
  IndexSet out(a.size());
  for (std::size_t w = 0; w < a.size(); ++w) out[w] = a[w] & b[w];
  return out;
}

bool union_equals(const IndexSet& a, const IndexSet& b, const IndexSet& expected) {
  for (std::size_t w = 0; w < a.size(); ++w) {
    if ((a[w] | b[w]) != expected[w]) return false;
  }
  return true;
}

// Calls visit(position) for each position of the word-wise OR of the given
// sets' words, in ascending order.
template <typename WordOf, typename Visit>
void for_each_position(std::size_t words, WordOf word_of, Visit visit) {
  for (std::size_t w = 0; w < words; ++w) {
    for (std::uint64_t bits = word_of(w); bits != 0; bits &= bits - 1) {
      visit(static_cast<int>(w * 64) + std::countr_zero(bits));
    }
  }
}

template <typename Visit>
void for_each_index(const IndexSet& set, Visit visit) {
  for_each_position(
      set.size(), [&](std::size_t w) { return set[w]; }, visit);
}

// ----------------------------------------------------- the dense problem --

struct DenseProblem {
  std::vector<int> ids;               // dense position -> index id, ascending
  std::vector<std::int64_t> extents;  // dense position -> extent
  std::vector<IndexSet> operands;
  IndexSet kept;

  IndexSet empty_set() const { return IndexSet(std::max<std::size_t>(1, (ids.size() + 63) / 64), 0); }
};

std::int64_t extent_of(const ContractionProblem& problem, int id) {
  if (id < 0 || static_cast<std::size_t>(id) >= problem.extents.size()) return 1;
  const std::int64_t extent = problem.extents[static_cast<std::size_t>(id)];
  return extent < 0 ? 1 : extent;
}

std::vector<int> distinct_ids(const ContractionProblem& problem) {
  std::vector<int> ids(problem.kept);
  for (const std::vector<int>& operand : problem.operands) ids.insert(ids.end(), operand.begin(), operand.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

IndexSet dense_set(const DenseProblem& dense, const std::vector<int>& ids) {
  IndexSet set = dense.empty_set();
  for (int id : ids) {
    const auto position = std::lower_bound(dense.ids.begin(), dense.ids.end(), id) - dense.ids.begin();
    insert(set, static_cast<int>(position));
  }
  return set;
}

DenseProblem make_dense(const ContractionProblem& problem) {
  DenseProblem dense;
  dense.ids = distinct_ids(problem);
  for (int id : dense.ids) dense.extents.push_back(extent_of(problem, id));
  for (const std::vector<int>& operand : problem.operands) dense.operands.push_back(dense_set(dense, operand));
  dense.kept = dense_set(dense, problem.kept);
  return dense;
}

PlanCount product_of(const IndexSet& set, const std::vector<std::int64_t>& extents) {
  PlanCount product = 1;
  for_each_index(set, [&](int k) { product = saturating_mul(product, extents[k]); });
  return product;
}

PlanCount product_of_union(const IndexSet& a, const IndexSet& b, const std::vector<std::int64_t>& extents) {
  PlanCount product = 1;
  for_each_position(
      a.size(), [&](std::size_t w) { return a[w] | b[w]; },
      [&](int k) { product = saturating_mul(product, extents[k]); });
  return product;
}

std::vector<int> ids_of(const IndexSet& set, const DenseProblem& dense) {
  std::vector<int> ids;
  for_each_index(set, [&](int k) { ids.push_back(dense.ids[k]); });
  return ids;
}

// ------------------------------------------------------------------ steps --

struct StepCost {
  bool sums = false;
  PlanCount macs = 0;
  PlanCount outer_elements = 0;

  Score score() const { return Score{saturating_add(saturating_mul(2, macs), outer_elements), macs}; }
};

// The cost of merging operands with index sets lhs and rhs into `result`.
StepCost step_cost(const IndexSet& lhs, const IndexSet& rhs, const IndexSet& result,
                   const std::vector<std::int64_t>& extents) {
  StepCost cost;
  cost.sums = !union_equals(lhs, rhs, result);
  if (cost.sums) {
    cost.macs = product_of_union(lhs, rhs, extents);
  } else {
    cost.outer_elements = product_of(result, extents);
  }
  return cost;
}

ContractionStep make_step(int lhs, int rhs, const IndexSet& result, const StepCost& cost, const DenseProblem& dense) {
  ContractionStep step;
  step.lhs = lhs;
  step.rhs = rhs;
  step.result = ids_of(result, dense);
  step.sums = cost.sums;
  step.macs = cost.macs;
  step.outer_elements = cost.outer_elements;
  return step;
}

void append_step(ContractionPlan& plan, ContractionStep step) {
  const Score score = StepCost{step.sums, step.macs, step.outer_elements}.score();
  plan.cost = saturating_add(plan.cost, score.cost);
  plan.macs = saturating_add(plan.macs, score.macs);
  plan.steps.push_back(std::move(step));
}

// The current operand list of a greedy or brute-force search: each entry's
// indices, and for each index how many entries hold it.
class OperandList {
 public:
  explicit OperandList(const DenseProblem& dense) : dense_(&dense), entries_(dense.operands) {
    holders_.assign(dense.ids.size(), 0);
    for (const IndexSet& entry : entries_) count_holders(entry, +1);
  }

  int size() const { return static_cast<int>(entries_.size()); }

  // The indices of entries lhs and rhs that are kept or held by another entry.
  IndexSet merged_result(int lhs, int rhs) const {
    const IndexSet& a = entries_[static_cast<std::size_t>(lhs)];
    const IndexSet& b = entries_[static_cast<std::size_t>(rhs)];
    IndexSet result = dense_->empty_set();
    for_each_position(
        a.size(), [&](std::size_t w) { return a[w] | b[w]; },
        [&](int k) {
          const int elsewhere = holders_[static_cast<std::size_t>(k)] - contains(a, k) - contains(b, k);
          if (elsewhere > 0 || contains(dense_->kept, k)) insert(result, k);
        });
    return result;
  }

  StepCost cost_of(int lhs, int rhs, const IndexSet& result) const {
    return step_cost(entries_[static_cast<std::size_t>(lhs)], entries_[static_cast<std::size_t>(rhs)], result,
                     dense_->extents);
  }

  // Removes entries lhs < rhs and appends `result`.
  void merge(int lhs, int rhs, IndexSet result) {
    count_holders(entries_[static_cast<std::size_t>(lhs)], -1);
    count_holders(entries_[static_cast<std::size_t>(rhs)], -1);
    count_holders(result, +1);
    entries_.erase(entries_.begin() + rhs);
    entries_.erase(entries_.begin() + lhs);
    entries_.push_back(std::move(result));
  }

 private:
  void count_holders(const IndexSet& entry, int delta) {
    for_each_index(entry, [&](int k) { holders_[static_cast<std::size_t>(k)] += delta; });
  }

  const DenseProblem* dense_;
  std::vector<IndexSet> entries_;
  std::vector<int> holders_;
};

// ----------------------------------------------------------------- greedy --

struct GreedyCandidate {
  int lhs = 0, rhs = 0;
  IndexSet result;
  StepCost cost;
  PlanCount result_elements = 0;

  // Smaller is better; candidates are visited in (lhs, rhs) order.
  bool beats(const GreedyCandidate& other) const {
    const PlanCount mine = cost.score().cost, theirs = other.cost.score().cost;
    if (mine != theirs) return mine < theirs;
    return result_elements < other.result_elements;
  }
};

GreedyCandidate cheapest_pair(const OperandList& list, const DenseProblem& dense) {
  GreedyCandidate best;
  bool found = false;
  for (int lhs = 0; lhs < list.size(); ++lhs) {
    for (int rhs = lhs + 1; rhs < list.size(); ++rhs) {
      GreedyCandidate candidate{lhs, rhs, list.merged_result(lhs, rhs), {}, 0};
      candidate.cost = list.cost_of(lhs, rhs, candidate.result);
      candidate.result_elements = product_of(candidate.result, dense.extents);
      if (!found || candidate.beats(best)) best = std::move(candidate);
      found = true;
    }
  }
  return best;
}

ContractionPlan greedy_plan(const DenseProblem& dense) {
  ContractionPlan plan;
  OperandList list(dense);
  while (list.size() > 1) {
    GreedyCandidate choice = cheapest_pair(list, dense);
    append_step(plan, make_step(choice.lhs, choice.rhs, choice.result, choice.cost, dense));
    list.merge(choice.lhs, choice.rhs, std::move(choice.result));
  }
  return plan;
}

// For products too large even for the greedy search (O(n^3)): always merge
// the first two entries, appending the result (a balanced pairing). The
// list is then a queue, so each step costs O(indices), not O(n).
ContractionPlan sequential_plan(const DenseProblem& dense) {
  ContractionPlan plan;
  std::deque<IndexSet> entries(dense.operands.begin(), dense.operands.end());
  std::vector<int> holders(dense.ids.size(), 0);
  auto count = [&](const IndexSet& entry, int delta) {
    for_each_index(entry, [&](int k) { holders[static_cast<std::size_t>(k)] += delta; });
  };
  for (const IndexSet& entry : entries) count(entry, +1);
  while (entries.size() > 1) {
    IndexSet a = std::move(entries.front());
    entries.pop_front();
    IndexSet b = std::move(entries.front());
    entries.pop_front();
    count(a, -1);
    count(b, -1);
    IndexSet result = dense.empty_set();
    for_each_position(
        a.size(), [&](std::size_t w) { return a[w] | b[w]; },
        [&](int k) {
          if (holders[static_cast<std::size_t>(k)] > 0 || contains(dense.kept, k)) insert(result, k);
        });
    append_step(plan, make_step(0, 1, result, step_cost(a, b, result, dense.extents), dense));
    count(result, +1);
    entries.push_back(std::move(result));
  }
  return plan;
}

// ------------------------------------------------------------ brute force --

class BruteForceSearch {
 public:
  explicit BruteForceSearch(const DenseProblem& dense) : dense_(dense) {}

  ContractionPlan run() {
    explore(OperandList(dense_), Score{});
    ContractionPlan plan;
    for (ContractionStep& step : best_path_) append_step(plan, std::move(step));
    plan.exact = true;
    return plan;
  }

 private:
  // Visits sequences in lexicographic (lhs, rhs) order and keeps the first
  // best one, so ties go to the lexicographically smallest sequence.
  void explore(const OperandList& list, Score score) {
    if (list.size() == 1) {
      if (!found_ || score < best_score_) {
        found_ = true;
        best_score_ = score;
        best_path_ = path_;
      }
      return;
    }
    for (int lhs = 0; lhs < list.size(); ++lhs) {
      for (int rhs = lhs + 1; rhs < list.size(); ++rhs) explore_merge(list, score, lhs, rhs);
    }
  }

  void explore_merge(const OperandList& list, Score score, int lhs, int rhs) {
    IndexSet result = list.merged_result(lhs, rhs);
    const StepCost cost = list.cost_of(lhs, rhs, result);
    path_.push_back(make_step(lhs, rhs, result, cost, dense_));
    OperandList next = list;
    next.merge(lhs, rhs, std::move(result));
    explore(next, score + cost.score());
    path_.pop_back();
  }

  const DenseProblem& dense_;
  std::vector<ContractionStep> path_;
  std::vector<ContractionStep> best_path_;
  Score best_score_;
  bool found_ = false;
};

// ------------------------------------------------------------------ exact --

using Subset = std::uint32_t;  // bit k: original operand k, or list entry k

// The result indices of merging each subset of the original operands: those
// of its operands that are kept or held by an operand outside it.
class SubsetResults {
 public:
  explicit SubsetResults(const DenseProblem& dense) : dense_(&dense) {
    const std::size_t count = std::size_t{1} << dense.operands.size();
    const Subset full = static_cast<Subset>(count - 1);
    std::vector<IndexSet> held(count, dense.empty_set());
    for (Subset s = 1; s <= full; ++s) {
      held[s] = set_union(held[s & (s - 1)], dense.operands[static_cast<std::size_t>(std::countr_zero(s))]);
    }
    results_.reserve(count);
    for (Subset s = 0; s <= full; ++s) {
      results_.push_back(set_intersection(held[s], set_union(dense.kept, held[full ^ s])));
    }
  }

  const IndexSet& result(Subset operands) const { return results_[operands]; }

  StepCost step(Subset a, Subset b) const {
    return step_cost(results_[a], results_[b], results_[a | b], dense_->extents);
  }

 private:
  const DenseProblem* dense_;
  std::vector<IndexSet> results_;
};

// Inside-outside values over the subsets of the current list's entries
// (bit k of an index into these vectors: entry k).
struct ListValues {
  std::vector<Subset> operands;  // the original operands a subset of entries covers
  std::vector<Score> inside;     // best cost of merging the subset's entries into one
  std::vector<Score> outside;    // best cost of the rest of a plan that builds the subset
  std::vector<bool> has_outside;
};

void fill_operands(ListValues& values, const std::vector<Subset>& entries) {
  values.operands.assign(std::size_t{1} << entries.size(), 0);
  for (std::size_t s = 1; s < values.operands.size(); ++s) {
    values.operands[s] = values.operands[s & (s - 1)] | entries[static_cast<std::size_t>(std::countr_zero(s))];
  }
}

// Calls visit(a, b) for each split of s into two non-empty parts, once per
// unordered split (a holds the lowest entry of s).
template <typename Visit>
void for_each_split(Subset s, Visit visit) {
  const Subset lowest = s & (~s + 1);
  for (Subset a = (s - 1) & s; a != 0; a = (a - 1) & s) {
    if (a & lowest) visit(a, s ^ a);
  }
}

Score split_step_score(const SubsetResults& subsets, const ListValues& values, Subset a, Subset b) {
  return subsets.step(values.operands[a], values.operands[b]).score();
}

void fill_inside(ListValues& values, const SubsetResults& subsets) {
  values.inside.assign(values.operands.size(), Score{});
  for (Subset s = 1; s < values.operands.size(); ++s) {
    if (std::has_single_bit(s)) continue;
    bool found = false;
    for_each_split(s, [&](Subset a, Subset b) {
      const Score total = values.inside[a] + values.inside[b] + split_step_score(subsets, values, a, b);
      if (!found || total < values.inside[s]) values.inside[s] = total;
      found = true;
    });
  }
}

void relax_outside(ListValues& values, Subset s, Score candidate) {
  if (!values.has_outside[s] || candidate < values.outside[s]) values.outside[s] = candidate;
  values.has_outside[s] = true;
}

// Supersets have larger numbers, so visiting subsets from the full one down
// settles each subset's outside value before it is propagated.
void fill_outside(ListValues& values, const SubsetResults& subsets) {
  const Subset full = static_cast<Subset>(values.operands.size() - 1);
  values.outside.assign(values.operands.size(), Score{});
  values.has_outside.assign(values.operands.size(), false);
  values.has_outside[full] = true;
  for (Subset s = full; s != 0; --s) {
    if (!values.has_outside[s] || std::has_single_bit(s)) continue;
    for_each_split(s, [&](Subset a, Subset b) {
      const Score above = values.outside[s] + split_step_score(subsets, values, a, b);
      relax_outside(values, a, above + values.inside[b]);
      relax_outside(values, b, above + values.inside[a]);
    });
  }
}

ListValues evaluate_list(const SubsetResults& subsets, const std::vector<Subset>& entries) {
  ListValues values;
  fill_operands(values, entries);
  fill_inside(values, subsets);
  fill_outside(values, subsets);
  return values;
}

struct Pair {
  int lhs = 0, rhs = 0;
};

// The lexicographically smallest pair of entries whose merge starts a
// cheapest plan for the rest.
Pair best_first_pair(const ListValues& values, int entry_count) {
  Pair best;
  Score best_total;
  bool found = false;
  for (int lhs = 0; lhs < entry_count; ++lhs) {
    for (int rhs = lhs + 1; rhs < entry_count; ++rhs) {
      const Subset pair = (Subset{1} << lhs) | (Subset{1} << rhs);
      const Score total = values.inside[pair] + values.outside[pair];
      if (!found || total < best_total) {
        best = Pair{lhs, rhs};
        best_total = total;
      }
      found = true;
    }
  }
  return best;
}

ContractionPlan exact_plan(const DenseProblem& dense) {
  const SubsetResults subsets(dense);
  std::vector<Subset> entries;
  for (std::size_t k = 0; k < dense.operands.size(); ++k) entries.push_back(Subset{1} << k);

  ContractionPlan plan;
  plan.exact = true;
  while (entries.size() > 1) {
    const ListValues values = evaluate_list(subsets, entries);
    const auto [lhs, rhs] = best_first_pair(values, static_cast<int>(entries.size()));
    const Subset a = entries[static_cast<std::size_t>(lhs)], b = entries[static_cast<std::size_t>(rhs)];
    append_step(plan, make_step(lhs, rhs, subsets.result(a | b), subsets.step(a, b), dense));
    entries.erase(entries.begin() + rhs);
    entries.erase(entries.begin() + lhs);
    entries.push_back(a | b);
  }
  return plan;
}

ContractionPlan trivial_plan() {
  ContractionPlan plan;
  plan.exact = true;
  return plan;
}

}  // namespace

ContractionPlan plan_contraction(const ContractionProblem& problem, int exact_limit) {
  const std::size_t n = problem.operands.size();
  if (n < 2) return trivial_plan();
  const DenseProblem dense = make_dense(problem);
  const int limit = std::min(exact_limit, kMaxExactContractionOperands);
  if (n == 2 || static_cast<long long>(n) <= limit) return exact_plan(dense);
  if (n <= kMaxGreedyContractionOperands) return greedy_plan(dense);
  return sequential_plan(dense);
}

ContractionPlan brute_force_contraction(const ContractionProblem& problem) {
  const std::size_t n = problem.operands.size();
  if (n < 2) return trivial_plan();
  if (n > kMaxBruteForceOperands) return ContractionPlan{};
  return BruteForceSearch(make_dense(problem)).run();
}

}  // namespace einc::ir
