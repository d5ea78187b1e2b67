// ir/condition.h — conditions on indices (`j <= i` in `where(j <= i, a, b)`):
// their text, their value at a point, and how many points satisfy them.
//
// A condition compares two distinct indices of the same extent N. Seen as
// a relation between the two, it holds on a union of the three classes
// lhs < rhs, lhs == rhs and lhs > rhs, which have N*(N-1)/2, N and
// N*(N-1)/2 points: so every count is an exact polynomial in N (T*(T+1)/2
// for a causal mask), and conditions on the same pair intersect by their
// classes. Conditions in one statement that share exactly one index are
// refused by sema (their count is not a product of pair counts).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ir/program.h"

namespace einc::ir {

const char* compare_op_name(CompareOp op);  // "<=", ...
// The op mirrored (a < b is b > a) and negated (not a < b is a >= b).
CompareOp mirrored(CompareOp op);
Condition negated(const Condition& condition);
// Whether two conditions hold at the same points (`j <= i` and `i >= j`).
bool equivalent(const Condition& a, const Condition& b);
// Whether `a` holding implies `b` holding at every point: both compare the
// same two indices, and a's classes (lt, eq, gt) are among b's (`j < i`
// implies `j <= i` and `i != j`).
bool implies(const Condition& a, const Condition& b);

// `sum(j: where(c, x * y, 0))` or `sum(j: where(c, 0, x * y))`: a sum that
// adds a product (a multiply of two or more factors) only where a condition
// holds. `condition` is where the product is taken (c, or not c when the
// product is written second).
struct MaskedSum {
  const Expr* product = nullptr;
  Condition condition;
  bool written_second = false;
};
std::optional<MaskedSum> masked_sum(const Expr& e);

inline bool compare(CompareOp op, std::int64_t a, std::int64_t b) {
  switch (op) {
    case CompareOp::lt:
      return a < b;
    case CompareOp::le:
      return a <= b;
    case CompareOp::gt:
      return a > b;
    case CompareOp::ge:
      return a >= b;
    case CompareOp::eq:
      return a == b;
    case CompareOp::ne:
      return a != b;
  }
  return false;
}

// The value of the condition at a point (`values` by index id).
inline bool condition_holds(const Condition& c, const std::vector<std::int64_t>& values) {
  return compare(c.op, values[static_cast<std::size_t>(c.lhs)], values[static_cast<std::size_t>(c.rhs)]);
}

// The number of points of the grid over `ids` (each index over its extent
// in `statement`) at which every condition in `conditions` whose two
// indices are in `ids` holds. Conditions over indices outside `ids` do not
// restrict it (what they guard is computed for every point of `ids`).
Poly points_where(const Statement& statement, const std::vector<int>& ids, const std::vector<Condition>& conditions);

}  // namespace einc::ir
