// backends/cpu/product_steps.cpp — see product_steps.h.
#include "backends/cpu/product_steps.h"

#include "einc/internal_error.h"
#include "ir/product_split.h"

namespace einc::cpu {

std::optional<ProductSteps> plan_product_steps(const ir::Program& program, const ir::Statement& statement) {
  if (statement.dtype != DType::f32 && statement.dtype != DType::f64) return std::nullopt;
  try {
    const ir::Expr* product = ir::find_product_to_split(program, statement);
    if (!product) return std::nullopt;
    return ProductSteps{
        product, ir::plan_product(program, statement, *product),
        std::make_shared<const ir::ProductSplit>(ir::split_product(program, statement, *product, statement.dtype))};
  } catch (const ir::UnboundDimError&) {
    return std::nullopt;  // decided at run time
  }
}

void run_product_steps(const ProductSteps& steps, std::vector<Tensor>& tensors, const StatementRunner& run) {
  const ir::ProductSplit& split = *steps.split;
  run_with_temporaries(split.program, split.temporaries, split.statements, tensors, run);
}

void run_with_temporaries(const ir::Program& program, const std::vector<int>& temporaries,
                          const std::vector<ir::Statement>& statements, std::vector<Tensor>& tensors,
                          const StatementRunner& run) {
  std::vector<Tensor> with_temporaries = tensors;  // shares every buffer, the target's included
  for (int id : temporaries) {
    EINC_CHECK(with_temporaries.size() == static_cast<std::size_t>(id), "temporaries out of order");
    with_temporaries.push_back(
        Tensor::empty(program.tensors[static_cast<std::size_t>(id)].dtype, ir::evaluated_shape(program, id)));
  }
  for (const ir::Statement& s : statements) run(program, s, with_temporaries);
}

std::string describe_product_steps(const ProductSteps& steps) {
  return std::to_string(steps.plan.operands.size()) + " operands in " + std::to_string(steps.plan.steps.size()) +
         " pairwise steps";
}

}  // namespace einc::cpu
