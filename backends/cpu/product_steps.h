// backends/cpu/product_steps.h — a product of three or more tensors, run as
// the pairwise steps of its plan.
//
// The cost report and the reference interpreter compute a multi-operand
// contraction as the pairwise steps ir::plan_product chooses
// (ir/product_plan.h). The cpu backend does the same, step by step: each
// step but the last becomes a statement `T_s[result] = sum(over: x * y)`
// into a temporary tensor, and the last replaces the contraction inside
// the original statement (so a scale, bias or activation around it stays
// the last GETT's epilogue). Every such statement then runs like any other
// (GETT, loop kernel or interpreter), so each step gets the fast path it
// matches. Temporaries live only for the statement.
//
// Handled: the first contraction of three or more factors found in the
// statement (depth first) whose factors are all tensor accesses, neither
// divided nor pre-reduced; f32 throughout. Anything else has no steps
// and the statement takes another path.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "einc/tensor.h"
#include "ir/product_plan.h"
#include "ir/program.h"

namespace einc::cpu {

using StatementRunner =
    std::function<void(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors)>;

// The statement's first product of three or more tensors (depth first)
// and the plan that computes it pairwise.
struct ProductSteps {
  const ir::Expr* product = nullptr;  // inside the statement's value
  ir::ProductPlan plan;
};

// The product steps of the statement, or nullopt when it has no such
// product (or a dim it needs is unbound: decided by a run).
std::optional<ProductSteps> plan_product_steps(const ir::Program& program, const ir::Statement& statement);

// Runs the statement as the pairwise steps of `steps` (planned for this
// statement), each through `run`.
void run_product_steps(const ir::Program& program, const ir::Statement& statement, const ProductSteps& steps,
                       std::vector<Tensor>& tensors, const StatementRunner& run);

// "3 operands in 2 pairwise steps".
std::string describe_product_steps(const ProductSteps& steps);

}  // namespace einc::cpu
