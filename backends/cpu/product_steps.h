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
// divided nor pre-reduced; f32 throughout. Anything else returns false
// and the statement runs as before.
#pragma once

#include <functional>
#include <vector>

#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::cpu {

using StatementRunner =
    std::function<void(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors)>;

// Runs the statement as pairwise steps through `run` and returns true, or
// returns false (nothing done) when it has no such product.
bool run_product_steps(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors,
                       const StatementRunner& run);

// "3 operands in 2 pairwise steps" for describe_plan, or "" when the
// statement has no such product.
std::string describe_product_steps(const ir::Program& program, const ir::Statement& statement);

}  // namespace einc::cpu
