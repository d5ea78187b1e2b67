// frontend/ast.cpp — small queries on the syntax tree.
#include "frontend/ast.h"

namespace einc::ast {

namespace {
struct SpanVisitor {
  Span operator()(const Nil&) const { return {}; }
  template <typename T>
  Span operator()(const x3::forward_ast<T>& node) const { return node.get().span; }
  template <typename T>
  Span operator()(const T& node) const { return node.span; }
};
}  // namespace

Span span_of(const Operand& operand) { return boost::apply_visitor(SpanVisitor{}, operand); }

}  // namespace einc::ast
