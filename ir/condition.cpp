// ir/condition.cpp — see condition.h.
#include "ir/condition.h"

#include <algorithm>
#include <map>
#include <utility>

namespace einc::ir {

const char* compare_op_name(CompareOp op) {
  switch (op) {
    case CompareOp::lt:
      return "<";
    case CompareOp::le:
      return "<=";
    case CompareOp::gt:
      return ">";
    case CompareOp::ge:
      return ">=";
    case CompareOp::eq:
      return "==";
    case CompareOp::ne:
      return "!=";
  }
  return "?";
}

CompareOp mirrored(CompareOp op) {
  switch (op) {
    case CompareOp::lt:
      return CompareOp::gt;
    case CompareOp::le:
      return CompareOp::ge;
    case CompareOp::gt:
      return CompareOp::lt;
    case CompareOp::ge:
      return CompareOp::le;
    default:
      return op;
  }
}

Condition negated(const Condition& c) {
  static constexpr CompareOp kNot[] = {CompareOp::ge, CompareOp::gt, CompareOp::le,
                                       CompareOp::lt, CompareOp::ne, CompareOp::eq};
  return {kNot[static_cast<int>(c.op)], c.lhs, c.rhs};
}

bool equivalent(const Condition& a, const Condition& b) {
  return a == b || (a.op == mirrored(b.op) && a.lhs == b.rhs && a.rhs == b.lhs);
}

std::optional<MaskedSum> masked_sum(const Expr& e) {
  if (e.kind != ExprKind::reduce || e.reduce_op != ReduceOp::sum || e.args[0]->kind != ExprKind::select)
    return std::nullopt;
  const Expr& select = *e.args[0];
  auto zero = [](const Expr& x) { return x.kind == ExprKind::constant && x.constant == 0.0; };
  auto product = [](const Expr& x) { return x.kind == ExprKind::multiply && x.args.size() >= 2; };
  if (product(*select.args[0]) && zero(*select.args[1]))
    return MaskedSum{select.args[0].get(), select.condition, false};
  if (zero(*select.args[0]) && product(*select.args[1]))
    return MaskedSum{select.args[1].get(), negated(select.condition), true};
  return std::nullopt;
}

namespace {

// The classes of (a, b) where `a op b` holds: bit 0 a < b, bit 1 a == b, bit 2 a > b.
unsigned classes(CompareOp op) {
  switch (op) {
    case CompareOp::lt:
      return 1;
    case CompareOp::le:
      return 3;
    case CompareOp::gt:
      return 4;
    case CompareOp::ge:
      return 6;
    case CompareOp::eq:
      return 2;
    case CompareOp::ne:
      return 5;
  }
  return 7;
}

}  // namespace

bool implies(const Condition& a, const Condition& b) {
  CompareOp b_op = b.op;  // b as a comparison of a's lhs with a's rhs
  if (b.lhs == a.rhs && b.rhs == a.lhs)
    b_op = mirrored(b.op);
  else if (b.lhs != a.lhs || b.rhs != a.rhs)
    return false;
  return (classes(a.op) & ~classes(b_op)) == 0;
}

Poly points_where(const Statement& statement, const std::vector<int>& ids, const std::vector<Condition>& conditions) {
  auto in_ids = [&](int id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  // Per unordered pair (lower id first): the classes every condition allows.
  std::map<std::pair<int, int>, unsigned> pairs;
  for (const Condition& c : conditions) {
    if (!in_ids(c.lhs) || !in_ids(c.rhs)) continue;
    const bool swap = c.lhs > c.rhs;
    const std::pair<int, int> key = swap ? std::make_pair(c.rhs, c.lhs) : std::make_pair(c.lhs, c.rhs);
    auto [it, fresh] = pairs.emplace(key, 7u);
    it->second &= classes(swap ? mirrored(c.op) : c.op);
  }
  Poly count = Poly::constant(1);
  std::vector<int> paired;
  for (const auto& [pair, allowed] : pairs) {
    const Poly& n = statement.indices.at(static_cast<std::size_t>(pair.first)).extent;
    const Poly off_diagonal = (n * n - n).divided_by(2);  // a < b, and as many a > b
    Poly here;
    if (allowed & 1u) here += off_diagonal;
    if (allowed & 2u) here += n;
    if (allowed & 4u) here += off_diagonal;
    count *= here;
    paired.push_back(pair.first);
    paired.push_back(pair.second);
  }
  for (int id : ids)
    if (std::find(paired.begin(), paired.end(), id) == paired.end())
      count *= statement.indices.at(static_cast<std::size_t>(id)).extent;
  return count;
}

}  // namespace einc::ir
