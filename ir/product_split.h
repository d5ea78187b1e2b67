// ir/product_split.h — a statement whose product one kernel would not
// compute at its plan's cost, as the statements of the plan's steps.
//
// A fused kernel (a cpu loop kernel, a cuda row or elementwise kernel)
// evaluates an expression as written, once per point of each node; a
// product whose plan does something else (a scalar applied to one operand
// before a contraction, `a[i] * B[i,j] * C[i,j,k]` in two steps of
// different sizes, a sum inside one operand) would then cost more than the
// report says. Such a statement is split: every step but the last becomes a
// statement assigning a temporary tensor (`T[result] = sum(over: x * y)`,
// or `x / y` when y is a divisor), an operand that is inverted or
// pre-reduced first becomes one too, and the last step replaces the
// product inside the statement, so whatever surrounds the product (a
// scale, a bias, an activation, `+=`) stays with it. Each statement is then
// planned like any other, by the backend that runs it. The cpu backend
// (backends/cpu/product_steps.h) and the cuda backend
// (backends/cuda/kernel_plan.h) share this, so both run the order the
// report counts.
#pragma once

#include <vector>

#include "ir/dtype.h"
#include "ir/product_plan.h"
#include "ir/program.h"

namespace einc::ir {

// The first product of the statement's value (from the root down) that
// does not run in one pass (runs_in_one_pass), or null. Throws
// UnboundDimError when a product's order needs a dim that has no value.
const Expr* find_product_to_split(const Program& program, const Statement& statement);

struct ProductSplit {
  const Expr* product = nullptr;      // inside the statement's value
  ProductPlan plan;                   // its plan
  Program program;                    // the program plus the temporaries
  std::vector<int> temporaries;       // their tensor ids in `program`, in order of assignment
  std::vector<Statement> statements;  // in order; the last assigns the statement's target
};

// Splits the statement at `product` (from find_product_to_split). The
// temporaries have dtype `temporaries` and the statement's index extents.
ProductSplit split_product(const Program& program, const Statement& statement, const Expr& product, DType temporaries);

}  // namespace einc::ir
