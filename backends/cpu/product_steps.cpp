// backends/cpu/product_steps.cpp — see product_steps.h.
#include "backends/cpu/product_steps.h"

#include <algorithm>

#include "ir/expr_builders.h"
#include "ir/product_plan.h"

namespace einc::cpu {

namespace {

// The first contraction of three or more factors, depth first, or null.
const ir::Expr* find_product(const ir::Expr& e) {
  if (ir::is_contraction(e) && e.args[0]->args.size() >= 3) return &e;
  for (const ir::ExprPtr& a : e.args)
    if (const ir::Expr* found = find_product(*a)) return found;
  return nullptr;
}

// A plan whose operands are plain accesses (not divided, not pre-reduced),
// all f32, or nullopt.
std::optional<ir::ProductPlan> plan_for(const ir::Program& program, const ir::Statement& statement,
                                        const ir::Expr& product) {
  if (statement.dtype != DType::f32) return std::nullopt;
  ir::ProductPlan plan;
  try {
    plan = ir::plan_product(program, statement, product);
  } catch (const ir::UnboundDimError&) {
    return std::nullopt;  // decided at run time
  }
  for (const ir::ProductOperand& op : plan.operands)
    if (op.factor->kind != ir::ExprKind::access || op.reciprocal || !op.pre_reduced.empty() ||
        program.tensors[static_cast<std::size_t>(op.factor->tensor)].dtype != DType::f32)
      return std::nullopt;
  return plan;
}

// `node` with `from` (somewhere below it) replaced by `to`.
ir::ExprPtr replace(const ir::ExprPtr& node, const ir::Expr* from, const ir::ExprPtr& to) {
  if (node.get() == from) return to;
  std::vector<ir::ExprPtr> args;
  bool changed = false;
  for (const ir::ExprPtr& a : node->args) {
    args.push_back(replace(a, from, to));
    changed = changed || args.back() != a;
  }
  if (!changed) return node;
  const ir::Expr& e = *node;
  switch (e.kind) {
    case ir::ExprKind::negate:
      return ir::make_negate(e.span, args[0]);
    case ir::ExprKind::call:
      return ir::make_call(e.span, e.func, std::move(args));
    case ir::ExprKind::add:
    case ir::ExprKind::multiply:
      return ir::make_nary(e.kind, e.span, std::move(args), e.ops);
    case ir::ExprKind::reduce:
      return ir::make_reduce(e.span, e.reduce_op, e.over, args[0], e.implicit);
    case ir::ExprKind::normalize:
      return ir::make_normalize(e.span, e.norm_op, e.over, args[0]);
    default:
      return node;  // leaves have no args
  }
}

// sum(over: x * y) with `result` kept.
ir::ExprPtr pairwise(const ir::Expr& where, const ir::ExprPtr& x, const ir::ExprPtr& y,
                     const std::vector<int>& result) {
  ir::ExprPtr body = ir::make_nary(ir::ExprKind::multiply, where.span, {x, y}, {'*', '*'});
  std::vector<int> over;
  for (int id : body->free)
    if (!std::binary_search(result.begin(), result.end(), id)) over.push_back(id);
  if (over.empty()) return body;
  return ir::make_reduce(where.span, ir::ReduceOp::sum, std::move(over), body, true);
}

}  // namespace

std::optional<ProductSteps> plan_product_steps(const ir::Program& program, const ir::Statement& statement) {
  const ir::Expr* product = find_product(*statement.value);
  if (!product) return std::nullopt;
  std::optional<ir::ProductPlan> plan = plan_for(program, statement, *product);
  if (!plan || plan->steps.empty()) return std::nullopt;
  return ProductSteps{product, std::move(*plan)};
}

void run_product_steps(const ir::Program& program, const ir::Statement& statement, const ProductSteps& steps,
                       std::vector<Tensor>& tensors, const StatementRunner& run) {
  const ir::Expr* product = steps.product;
  const ir::ProductPlan* plan = &steps.plan;
  ir::Program steps_program = program;         // plus one temporary tensor per step but the last
  std::vector<Tensor> step_tensors = tensors;  // shares every buffer, the target's included
  std::vector<ir::ExprPtr> operands;
  for (const ir::ProductOperand& op : plan->operands)
    for (const ir::ExprPtr& factor : product->args[0]->args)
      if (factor.get() == op.factor) {
        operands.push_back(factor);
        break;
      }
  for (std::size_t s = 0; s < plan->steps.size(); ++s) {
    const ir::ContractionStep& step = plan->steps[s];
    ir::ExprPtr x = operands.at(static_cast<std::size_t>(step.lhs)),
                y = operands.at(static_cast<std::size_t>(step.rhs));
    ir::ExprPtr value = pairwise(*product, x, y, step.result);
    ir::Statement next = statement;
    if (s + 1 == plan->steps.size()) {
      next.value = replace(statement.value, product, value);
      run(steps_program, next, step_tensors);
      return;
    }
    ir::Tensor temporary;
    temporary.name = "(step " + std::to_string(s + 1) + " of line " + std::to_string(statement.line) + ")";
    temporary.span = statement.span;
    for (int id : step.result) temporary.shape.push_back(statement.indices[static_cast<std::size_t>(id)].extent);
    int id = steps_program.add_tensor(std::move(temporary));
    step_tensors.push_back(Tensor::empty(DType::f32, ir::evaluated_shape(steps_program, id)));
    next.target = id;
    next.lhs = step.result;
    next.accumulate = false;
    next.value = value;
    run(steps_program, next, step_tensors);
    operands.erase(operands.begin() + step.rhs);
    operands.erase(operands.begin() + step.lhs);
    operands.push_back(ir::make_index_access(product->span, id, step.result));
  }
}

std::string describe_product_steps(const ProductSteps& steps) {
  return std::to_string(steps.plan.operands.size()) + " operands in " + std::to_string(steps.plan.steps.size()) +
         " pairwise steps";
}

}  // namespace einc::cpu
