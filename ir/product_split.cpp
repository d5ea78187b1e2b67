// ir/product_split.cpp — see product_split.h.
#include "ir/product_split.h"

#include <deque>
#include <map>
#include <string>

#include "einc/internal_error.h"
#include "ir/expr_builders.h"
#include "ir/temporaries.h"

namespace einc::ir {

namespace {

// (Not inside a conversion: its argument computes in another dtype than
// the statement's, which the temporaries would not have; the backends run
// a product there as written.)
const Expr* find_in(const Statement& statement, const Program& program, const Expr& e) {
  if (e.kind == ExprKind::call && e.func == Func::convert) return nullptr;
  if (is_product(statement, e)) {
    const ProductPlan plan = plan_product(program, statement, e);
    if (!runs_in_one_pass(plan)) return &e;
    for (const ProductOperand& operand : plan.operands)
      if (const Expr* found = find_in(statement, program, *operand.factor)) return found;
    return nullptr;
  }
  for (const ExprPtr& a : e.args)
    if (const Expr* found = find_in(statement, program, *a)) return found;
  return nullptr;
}

// Every node below `node` by address, to turn the plan's factors back into
// shared pointers.
void collect(const ExprPtr& node, std::map<const Expr*, ExprPtr>& out) {
  out.emplace(node.get(), node);
  for (const ExprPtr& a : node->args) collect(a, out);
}

// `node` with `from` (somewhere below it) replaced by `to`.
ExprPtr replace(const ExprPtr& node, const Expr* from, const ExprPtr& to) {
  if (node.get() == from) return to;
  std::vector<ExprPtr> args;
  bool changed = false;
  for (const ExprPtr& a : node->args) {
    args.push_back(replace(a, from, to));
    changed = changed || args.back() != a;
  }
  if (!changed) return node;
  return with_args(node, std::move(args));
}

// sum(over: x * y), with y the divisor when exactly one of them is.
ExprPtr pairwise(Span span, const ExprPtr& x, bool x_divisor, const ExprPtr& y, bool y_divisor,
                 const std::vector<int>& over) {
  ExprPtr body = x_divisor == y_divisor ? make_nary(ExprKind::multiply, span, {x, y}, {'*', '*'})
                 : y_divisor            ? make_nary(ExprKind::multiply, span, {x, y}, {'*', '/'})
                                        : make_nary(ExprKind::multiply, span, {y, x}, {'*', '/'});
  if (over.empty()) return body;
  return make_reduce(span, ReduceOp::sum, over, body, true);
}

}  // namespace

const Expr* find_product_to_split(const Program& program, const Statement& statement) {
  return find_in(statement, program, *statement.value);
}

ProductSplit split_product(const Program& program, const Statement& statement, const Expr& product, DType temporaries) {
  ProductSplit out;
  out.product = &product;
  out.plan = plan_product(program, statement, product);
  out.program = program;
  EINC_CHECK(!out.plan.steps.empty(), "product split: a product of one operand has no steps");
  std::map<const Expr*, ExprPtr> nodes;
  collect(statement.value, nodes);
  EINC_CHECK(nodes.count(&product), "product split: the product is not in the statement");
  const Span span = product.span;

  auto assign = [&](const std::vector<int>& indices, const ExprPtr& value) {
    return assign_temporary(out.program, statement, span, indices, value, temporaries, out.statements, out.temporaries);
  };

  std::deque<ExprPtr> entries;  // deques: steps remove entries at both ends
  std::deque<bool> divisor;
  for (const ProductOperand& operand : out.plan.operands) {
    auto found = nodes.find(operand.factor);
    EINC_CHECK(found != nodes.end(), "product split: a factor is not in the statement");
    ExprPtr entry = found->second;
    if (operand.use == FactorUse::invert || !operand.pre_reduced.empty()) {
      ExprPtr value = entry;
      if (operand.use == FactorUse::invert) value = make_nary(ExprKind::multiply, span, {value}, {'/'});
      if (!operand.pre_reduced.empty()) value = make_reduce(span, ReduceOp::sum, operand.pre_reduced, value, true);
      entry = assign(operand.indices, value);
    }
    entries.push_back(std::move(entry));
    divisor.push_back(operand.use == FactorUse::divide);
  }
  for (std::size_t s = 0; s < out.plan.steps.size(); ++s) {
    const ProductStep& step = out.plan.steps[s];
    const auto lhs = static_cast<std::size_t>(step.lhs), rhs = static_cast<std::size_t>(step.rhs);
    ExprPtr value = pairwise(span, entries.at(lhs), divisor.at(lhs), entries.at(rhs), divisor.at(rhs), step.over);
    if (s + 1 == out.plan.steps.size()) {
      if (out.plan.result_divisor) value = make_nary(ExprKind::multiply, span, {value}, {'/'});
      EINC_CHECK(value->free == product.free, "product split: the last step does not give the product's indices");
      Statement last = statement;
      last.value = replace(statement.value, &product, value);
      out.statements.push_back(std::move(last));
      break;
    }
    ExprPtr result = assign(step.result, value);
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(rhs));
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(lhs));
    divisor.erase(divisor.begin() + static_cast<std::ptrdiff_t>(rhs));
    divisor.erase(divisor.begin() + static_cast<std::ptrdiff_t>(lhs));
    entries.push_back(std::move(result));
    divisor.push_back(step.divisor());
  }
  return out;
}

}  // namespace einc::ir
