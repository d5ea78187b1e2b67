// ir/expr_builders.h — constructors for IR expression nodes.
//
// The only way nodes are made: each builder computes the node's `free`
// index set from its children, so the invariant of program.h holds by
// construction.
#pragma once

#include <functional>
#include <vector>

#include "ir/program.h"

namespace einc::ir {

ExprPtr make_access(Span span, int tensor, std::vector<Subscript> subscripts, bool zero_padded = false);
// An access whose positions are the given indices, one each (`T[i, j]`).
ExprPtr make_index_access(Span span, int tensor, const std::vector<int>& indices);
ExprPtr make_constant(Span span, double value);
ExprPtr make_dim_value(Span span, int dim);
ExprPtr make_negate(Span span, ExprPtr operand);
ExprPtr make_call(Span span, Func func, std::vector<ExprPtr> args);  // not Func::convert:
ExprPtr make_convert(Span span, DType to, DType from, ExprPtr operand);
// kind is add ('+'/'-' ops) or multiply ('*'/'/' ops); one op per arg.
ExprPtr make_nary(ExprKind kind, Span span, std::vector<ExprPtr> args, std::vector<char> ops);
ExprPtr make_reduce(Span span, ReduceOp op, std::vector<int> over, ExprPtr body, bool implicit);
ExprPtr make_normalize(Span span, NormOp op, std::vector<int> over, ExprPtr body);
// `where(condition, then_value, else_value)`: varies with both compared indices.
ExprPtr make_select(Span span, Condition condition, ExprPtr then_value, ExprPtr else_value);
// The same node over new operands (a leaf is returned as it is), with its
// free indices recomputed: what a pass that rewrites children calls.
ExprPtr with_args(const ExprPtr& node, std::vector<ExprPtr> args);

// The expression with each access `replace` returns a node for replaced by
// it (nullptr: kept); nodes above a replacement are copied, the rest shared.
// `replace` must keep an access's free indices.
ExprPtr replace_accesses(const ExprPtr& expr, const std::function<ExprPtr(const Expr&)>& replace);

// Whether some access in the expression satisfies `pred`.
bool any_access(const Expr& expr, const std::function<bool(const Expr&)>& pred);

bool contains_index(const Expr& expr, int index);
// A reduce(sum) over a product of two or more factors.
bool is_contraction(const Expr& expr);

}  // namespace einc::ir
