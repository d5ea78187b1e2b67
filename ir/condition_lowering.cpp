// ir/condition_lowering.cpp — sema of `where(j <= i, a, b)` and `inf`
// (docs/language.md, "Conditions").
//
// A condition compares two index names. Both must be indices of the
// statement (not dims, not tensors), distinct, with the same extent once
// the statement is read (an index that appears only in a condition has
// none); two conditions of one statement either compare the same pair or
// share no index. These rules are what makes every count over a condition
// an exact polynomial (ir/condition.h).
#include <cmath>
#include <limits>

#include "ir/expr_builders.h"
#include "ir/statement_lowering.h"

namespace einc::ir {

using frontend::Note;

namespace {

std::optional<CompareOp> parse_compare_op(const std::string& op) {
  if (op == "<") return CompareOp::lt;
  if (op == "<=") return CompareOp::le;
  if (op == ">") return CompareOp::gt;
  if (op == ">=") return CompareOp::ge;
  if (op == "==") return CompareOp::eq;
  if (op == "!=") return CompareOp::ne;
  return std::nullopt;
}

constexpr const char* kConditionHelp =
    "a condition compares two index names (where(j <= i, a, b)); index arithmetic, dims and tensors are not allowed "
    "in it";

}  // namespace

ExprPtr StatementLowering::lower_infinity(const ast::Access& access) {
  // `inf` is reserved (lower_ast.cpp refuses it as a name), so it is never a tensor or dim.
  return make_constant(access.span, std::numeric_limits<double>::infinity());
}

std::optional<Condition> StatementLowering::lower_condition(const ast::Comparison& comparison) {
  auto side = [&](const ast::Operand& operand) -> int {
    const ast::Identifier* name = ast::as_bare_name(operand);
    Span span = ast::span_of(operand);
    if (!name) {
      sink_.error(span, kConditionHelp);
      failed_ = true;
      return -1;
    }
    std::string what;
    if (program_.find_tensor(name->name) >= 0) what = "a tensor";
    if (program_.find_dim(name->name) >= 0) what = "a dim";
    if (name->name == "inf") what = "infinity";
    if (!what.empty()) {
      sink_.error(span, "a condition compares indices, but '" + name->name + "' is " + what + "; " + kConditionHelp);
      failed_ = true;
      return -1;
    }
    check_index_scope(*name);
    return index_id(*name);
  };
  int lhs = side(comparison.lhs);
  int rhs = side(comparison.rhs);
  std::optional<CompareOp> op = parse_compare_op(comparison.op);
  if (lhs < 0 || rhs < 0 || !op) return std::nullopt;
  if (lhs == rhs) {
    sink_.error(comparison.span, "this condition compares index '" + indices_[lhs].name + "' with itself");
    failed_ = true;
    return std::nullopt;
  }
  Condition c{*op, lhs, rhs};
  conditions_.push_back({c, comparison.span, ast::span_of(comparison.lhs), ast::span_of(comparison.rhs)});
  return c;
}

ExprPtr StatementLowering::lower_select(const ast::Select& select) {
  std::optional<Condition> condition = lower_condition(select.condition);
  ExprPtr then_value = lower_operand(select.then_value);
  ExprPtr else_value = lower_operand(select.else_value);
  if (!condition || !then_value || !else_value) return nullptr;
  return make_select(select.span, *condition, std::move(then_value), std::move(else_value));
}

bool StatementLowering::check_conditions() {
  for (std::size_t k = 0; k < conditions_.size(); ++k) {
    const ConditionUse& use = conditions_[k];
    for (auto [index, span] : {std::pair{use.condition.lhs, use.lhs_span}, std::pair{use.condition.rhs, use.rhs_span}})
      if (!has_extent_[index]) {
        sink_.error(span, "index '" + indices_[index].name +
                              "' appears only in a condition, so it has no extent (use it in an access too)");
        failed_ = true;
        return false;
      }
    const IndexVar& a = indices_[use.condition.lhs];
    const IndexVar& b = indices_[use.condition.rhs];
    if (!same_extent(a.extent, b.extent)) {
      sink_.error(use.span,
                  "a condition compares indices of the same extent, but '" + a.name + "' has extent " +
                      describe_extent(a.extent) + " and '" + b.name + "' " + describe_extent(b.extent) +
                      " (einc counts the points of a condition exactly only over a square)",
                  {Note{a.span, "'" + a.name + "' gets its extent here"}, Note{b.span, "'" + b.name + "' here"}});
      failed_ = true;
      return false;
    }
    for (std::size_t earlier = 0; earlier < k; ++earlier) {
      const Condition& o = conditions_[earlier].condition;
      const int shared = (o.lhs == use.condition.lhs || o.lhs == use.condition.rhs) +
                         (o.rhs == use.condition.lhs || o.rhs == use.condition.rhs);
      if (shared != 1) continue;
      sink_.error(use.span,
                  "two conditions of one statement share one index; einc counts conditions exactly when they compare "
                  "the same two indices or share none (split the statement)",
                  {Note{conditions_[earlier].span, "the other condition"}});
      failed_ = true;
      return false;
    }
  }
  return true;
}

}  // namespace einc::ir
