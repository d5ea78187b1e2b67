// ir/expr_builders.cpp — node constructors that maintain `free`.
#include "ir/expr_builders.h"

#include <algorithm>

namespace einc::ir {

namespace {

std::vector<int> sorted_unique(std::vector<int> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<int> union_of_args(const std::vector<ExprPtr>& args) {
  std::vector<int> all;
  for (const ExprPtr& a : args) all.insert(all.end(), a->free.begin(), a->free.end());
  return sorted_unique(std::move(all));
}

bool all_fold(const std::vector<ExprPtr>& args) {
  return !args.empty() && std::all_of(args.begin(), args.end(), [](const ExprPtr& a) { return a->folds; });
}

std::shared_ptr<Expr> node(ExprKind kind, Span span) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->span = span;
  return e;
}

}  // namespace

ExprPtr make_access(Span span, int tensor, std::vector<Subscript> subscripts, bool zero_padded) {
  auto e = node(ExprKind::access, span);
  e->tensor = tensor;
  e->free = subscript_indices(subscripts);
  e->subscripts = std::move(subscripts);
  e->zero_padded = zero_padded;
  return e;
}

ExprPtr make_index_access(Span span, int tensor, const std::vector<int>& indices) {
  std::vector<Subscript> subscripts;
  for (int index : indices) subscripts.push_back(Subscript::of_index(index));
  return make_access(span, tensor, std::move(subscripts));
}

ExprPtr make_constant(Span span, double value) {
  auto e = node(ExprKind::constant, span);
  e->constant = value;
  e->folds = true;
  return e;
}

ExprPtr make_dim_value(Span span, int dim) {
  auto e = node(ExprKind::dim_value, span);
  e->dim = dim;
  e->folds = true;
  return e;
}

ExprPtr make_negate(Span span, ExprPtr operand) {
  auto e = node(ExprKind::negate, span);
  e->free = operand->free;
  e->folds = operand->folds;
  e->args = {std::move(operand)};
  return e;
}

ExprPtr make_call(Span span, Func func, std::vector<ExprPtr> args) {
  auto e = node(ExprKind::call, span);
  e->func = func;
  e->free = union_of_args(args);
  e->folds = all_fold(args);
  e->args = std::move(args);
  return e;
}

ExprPtr make_nary(ExprKind kind, Span span, std::vector<ExprPtr> args, std::vector<char> ops) {
  auto e = node(kind, span);
  e->free = union_of_args(args);
  e->folds = all_fold(args);
  e->args = std::move(args);
  e->ops = std::move(ops);
  return e;
}

ExprPtr make_reduce(Span span, ReduceOp op, std::vector<int> over, ExprPtr body, bool implicit) {
  auto e = node(ExprKind::reduce, span);
  e->reduce_op = op;
  e->implicit = implicit;
  e->over = sorted_unique(std::move(over));
  for (int i : body->free)
    if (!std::binary_search(e->over.begin(), e->over.end(), i)) e->free.push_back(i);
  e->args = {std::move(body)};
  return e;
}

ExprPtr make_normalize(Span span, NormOp op, std::vector<int> over, ExprPtr body) {
  auto e = node(ExprKind::normalize, span);
  e->norm_op = op;
  e->over = sorted_unique(std::move(over));
  e->free = body->free;
  e->args = {std::move(body)};
  return e;
}

ExprPtr make_convert(Span span, DType to, DType from, ExprPtr operand) {
  auto e = node(ExprKind::call, span);
  e->func = Func::convert;
  e->convert_to = to;
  e->convert_from = from;
  e->free = operand->free;
  e->folds = operand->folds;
  e->args = {std::move(operand)};
  return e;
}

ExprPtr make_select(Span span, Condition condition, ExprPtr then_value, ExprPtr else_value) {
  auto e = node(ExprKind::select, span);
  e->condition = condition;
  std::vector<int> free = union_of_args({then_value, else_value});
  free.push_back(condition.lhs);
  free.push_back(condition.rhs);
  e->free = sorted_unique(std::move(free));
  e->args = {std::move(then_value), std::move(else_value)};
  return e;
}

ExprPtr with_args(const ExprPtr& node, std::vector<ExprPtr> args) {
  const Expr& e = *node;
  switch (e.kind) {
    case ExprKind::negate:
      return make_negate(e.span, std::move(args.at(0)));
    case ExprKind::call:
      return e.func == Func::convert ? make_convert(e.span, e.convert_to, e.convert_from, std::move(args.at(0)))
                                     : make_call(e.span, e.func, std::move(args));
    case ExprKind::add:
    case ExprKind::multiply:
      return make_nary(e.kind, e.span, std::move(args), e.ops);
    case ExprKind::reduce:
      return make_reduce(e.span, e.reduce_op, e.over, std::move(args.at(0)), e.implicit);
    case ExprKind::normalize:
      return make_normalize(e.span, e.norm_op, e.over, std::move(args.at(0)));
    case ExprKind::select:
      return make_select(e.span, e.condition, std::move(args.at(0)), std::move(args.at(1)));
    case ExprKind::access:
    case ExprKind::constant:
    case ExprKind::dim_value:
      break;
  }
  return node;  // leaves have no args
}

ExprPtr replace_accesses(const ExprPtr& expr, const std::function<ExprPtr(const Expr&)>& replace) {
  if (expr->kind == ExprKind::access) {
    ExprPtr replaced = replace(*expr);
    return replaced ? replaced : expr;
  }
  std::vector<ExprPtr> args;
  bool changed = false;
  for (const ExprPtr& a : expr->args) {
    args.push_back(replace_accesses(a, replace));
    changed |= args.back() != a;
  }
  if (!changed) return expr;
  auto node = std::make_shared<Expr>(*expr);
  node->args = std::move(args);
  return node;
}

bool any_access(const Expr& expr, const std::function<bool(const Expr&)>& pred) {
  if (expr.kind == ExprKind::access) return pred(expr);
  return std::any_of(expr.args.begin(), expr.args.end(), [&](const ExprPtr& a) { return any_access(*a, pred); });
}

bool contains_index(const Expr& expr, int index) {
  return std::binary_search(expr.free.begin(), expr.free.end(), index);
}

bool is_contraction(const Expr& expr) {
  return expr.kind == ExprKind::reduce && expr.reduce_op == ReduceOp::sum && expr.args[0]->kind == ExprKind::multiply &&
         expr.args[0]->args.size() >= 2;
}

}  // namespace einc::ir
