// frontend/ast.cpp — small queries on the syntax tree, and its accessors.
#include "frontend/ast.h"

namespace einc::ast {

namespace {
struct SpanVisitor {
  Span operator()(const Nil&) const { return {}; }
  template <typename T>
  Span operator()(const x3::forward_ast<T>& node) const {
    return node.get().span;
  }
  template <typename T>
  Span operator()(const T& node) const {
    return node.span;
  }
};
}  // namespace

Span span_of(const Operand& operand) { return boost::apply_visitor(SpanVisitor{}, operand); }

const Number* as_number(const Operand& operand) { return boost::get<Number>(&operand); }
const Access* as_access(const Operand& operand) { return boost::get<Access>(&operand); }

namespace {
template <typename T>
const T* as_forwarded(const Operand& operand) {
  auto* node = boost::get<x3::forward_ast<T>>(&operand);
  return node ? &node->get() : nullptr;
}
}  // namespace

const Call* as_call(const Operand& operand) { return as_forwarded<Call>(operand); }
const Reduction* as_reduction(const Operand& operand) { return as_forwarded<Reduction>(operand); }
const Einsum* as_einsum(const Operand& operand) { return as_forwarded<Einsum>(operand); }
const Unary* as_unary(const Operand& operand) { return as_forwarded<Unary>(operand); }
const Chain* as_chain(const Operand& operand) { return as_forwarded<Chain>(operand); }
const Select* as_select(const Operand& operand) { return as_forwarded<Select>(operand); }

const Operand& unwrapped(const Operand& operand) {
  const Operand* inner = &operand;
  while (true) {
    if (const Chain* chain = as_chain(*inner); chain && chain->rest.empty()) {
      inner = &chain->first;
    } else if (const Unary* unary = as_unary(*inner); unary && unary->signs.empty()) {
      inner = &unary->operand;
    } else {
      return *inner;
    }
  }
}

const Identifier* as_bare_name(const Operand& operand) {
  const Access* access = as_access(unwrapped(operand));
  return access && !access->indices ? &access->name : nullptr;
}

const DimDecl* as_dim_decl(const Statement& statement) { return boost::get<DimDecl>(&statement); }
const TensorDecl* as_tensor_decl(const Statement& statement) { return boost::get<TensorDecl>(&statement); }
const Assignment* as_assignment(const Statement& statement) { return boost::get<Assignment>(&statement); }
const RepeatOpen* as_repeat_open(const Statement& statement) { return boost::get<RepeatOpen>(&statement); }
const BlockClose* as_block_close(const Statement& statement) { return boost::get<BlockClose>(&statement); }

Span span_of(const Statement& statement) { return boost::apply_visitor(SpanVisitor{}, statement); }

}  // namespace einc::ast
