// backends/cpu/product_steps.cpp — see product_steps.h.
#include "backends/cpu/product_steps.h"

#include "einc/internal_error.h"
#include "ir/product_split.h"

namespace einc::cpu {

std::optional<ProductSteps> plan_product_steps(const ir::Program& program, const ir::Statement& statement) {
  if (statement.dtype != DType::f32) return std::nullopt;
  try {
    const ir::Expr* product = ir::find_product_to_split(program, statement);
    if (!product) return std::nullopt;
    return ProductSteps{product, ir::plan_product(program, statement, *product)};
  } catch (const ir::UnboundDimError&) {
    return std::nullopt;  // decided at run time
  }
}

void run_product_steps(const ir::Program& program, const ir::Statement& statement, const ProductSteps& steps,
                       std::vector<Tensor>& tensors, const StatementRunner& run) {
  const ir::ProductSplit split = ir::split_product(program, statement, *steps.product, DType::f32);
  std::vector<Tensor> step_tensors = tensors;  // shares every buffer, the target's included
  for (int id : split.temporaries) {
    EINC_CHECK(step_tensors.size() == static_cast<std::size_t>(id), "product steps: temporaries out of order");
    step_tensors.push_back(Tensor::empty(DType::f32, ir::evaluated_shape(split.program, id)));
  }
  for (const ir::Statement& s : split.statements) run(split.program, s, step_tensors);
}

std::string describe_product_steps(const ProductSteps& steps) {
  return std::to_string(steps.plan.operands.size()) + " operands in " + std::to_string(steps.plan.steps.size()) +
         " pairwise steps";
}

}  // namespace einc::cpu
