// ir/product_plan.cpp — see product_plan.h.
#include "ir/product_plan.h"

#include <algorithm>

#include "ir/expr_builders.h"

namespace einc::ir {

ProductPlan plan_product(const Program& program, const Statement& statement, const Expr& contraction) {
  const Expr& product = *contraction.args[0];
  ProductPlan plan;
  plan.kept = contraction.free;
  for (std::size_t f = 0; f < product.args.size(); ++f) {
    ProductOperand operand;
    operand.factor = product.args[f].get();
    operand.reciprocal = product.ops[f] == '/';
    operand.indices = operand.factor->free;
    plan.operands.push_back(std::move(operand));
  }
  for (int k : contraction.over) {
    int holders = 0;
    std::size_t holder = 0;
    for (std::size_t f = 0; f < plan.operands.size(); ++f)
      if (contains_index(*plan.operands[f].factor, k)) ++holders, holder = f;
    if (holders != 1) continue;
    auto& operand = plan.operands[holder];
    operand.pre_reduced.push_back(k);
    operand.indices.erase(std::find(operand.indices.begin(), operand.indices.end(), k));
  }
  if (plan.operands.size() == 2) {
    ContractionStep step;
    step.lhs = 0;
    step.rhs = 1;
    step.result = plan.kept;
    plan.steps.push_back(step);
    return plan;
  }
  ContractionProblem problem;
  for (const auto& operand : plan.operands) problem.operands.push_back(operand.indices);
  problem.kept = plan.kept;
  problem.extents = index_extents(program, statement);
  ContractionPlan chosen = plan_contraction(problem);
  plan.steps = std::move(chosen.steps);
  plan.exact = chosen.exact;
  return plan;
}

}  // namespace einc::ir
