// backends/cpu/product_steps.h — a statement whose product no fused path
// computes at its plan's cost, run as the pairwise steps of that plan.
//
// The cost report and the reference interpreter compute every product in
// the order ir::plan_product chooses (ir/product_plan.h). A JIT loop kernel
// evaluates the written form, which is the same work only when the plan
// runs in one pass (ir::runs_in_one_pass); a GETT does the work of its plan
// when ir::match_gett accepts it. Any other product is split into
// statements (ir/product_split.h): each step but the last assigns a
// temporary tensor, and the last replaces the product inside the original
// statement (so a scale, bias or activation around it stays the last
// GETT's epilogue). Every such statement then runs like any other (GETT,
// loop kernel, steps again for the statement's next product, or the
// interpreter), so each step gets the fast path it matches. Temporaries
// live only for the statement.
//
// Handled: f32 statements (and widened f16/bf16 ones, which run in f32);
// other dtypes are interpreted, which follows the same plan.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "einc/tensor.h"
#include "ir/product_plan.h"
#include "ir/product_split.h"
#include "ir/program.h"

namespace einc::cpu {

using StatementRunner =
    std::function<void(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors)>;

// The statement's first product (from the root down) that does not run in
// one pass, and its plan.
struct ProductSteps {
  const ir::Expr* product = nullptr;  // inside the statement's value
  ir::ProductPlan plan;
  std::shared_ptr<const ir::ProductSplit> split;  // the statements of its steps, made with the plan
};

// The product steps of the statement, or nullopt when every product runs
// in one pass (or a dim it needs is unbound: decided by a run).
std::optional<ProductSteps> plan_product_steps(const ir::Program& program, const ir::Statement& statement);

// Runs the statement as the statements of `steps` (planned for this
// statement: steps.split), each through `run`.
void run_product_steps(const ProductSteps& steps, std::vector<Tensor>& tensors, const StatementRunner& run);

// "3 operands in 2 pairwise steps".
std::string describe_product_steps(const ProductSteps& steps);

// Runs `statements` of `program` (the statement's program plus
// `temporaries`, allocated here in their dtypes for the duration) through `run`, on
// the run's tensors: what both product steps and hoisted contractions
// (ir/contraction_hoist.h) do.
void run_with_temporaries(const ir::Program& program, const std::vector<int>& temporaries,
                          const std::vector<ir::Statement>& statements, std::vector<Tensor>& tensors,
                          const StatementRunner& run);

}  // namespace einc::cpu
