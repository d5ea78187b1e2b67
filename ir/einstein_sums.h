// ir/einstein_sums.h — makes implicit summation explicit.
//
// docs/language.md: an index that appears on the right but not on the left is
// summed over the smallest subexpression that contains all of its
// occurrences. This pass finds that subexpression for each summed index and
// wraps it in reduce(sum). Inside a product, the reduce covers the factors
// linked by shared summed indices (a connected component) and leaves the
// other factors outside — equal by distributivity, and it is what makes
// `A[i,k] * B[k,j] / sqrt(E)` the product `sum(k: A*B) / sqrt(E)`. This
// fixes where each sum sits in the IR, not the order of the computation:
// product_plan.h opens the sums of a product again and plans all its
// factors together.
#pragma once

#include <vector>

#include "frontend/diagnostics.h"
#include "ir/program.h"

namespace einc::ir {

ExprPtr insert_implicit_sums(const ExprPtr& root, const std::vector<int>& summed);

// The pass (ir/lower.h, after sema): in every statement, each index free in
// the value but absent from the left side is summed this way.
void make_sums_explicit(Program& program);

// After make_sums_explicit: a warning wherever a sum the Einstein rule
// placed runs over a non-linear function of its own index, which is almost
// never what was meant (`silu(x[t, d] * w[d, f]) * ...` sums silu's
// results, not silu's argument). Non-linear: a function call, an explicit
// reduction other than sum and mean, and a normalisation over other
// indices (one over the summed index itself needs it: `softmax(j: S) *
// V[j, e]`). Products and divisors are not: `A[i, k] / v[k]` is the
// contraction with 1/v it reads as (the project's own tests are full of
// them), and an index only the divisor holds is summed inside it by the
// rule (`c[i, k] / c[i, j]` divides by the row's sum). The warning is at
// the node, names the index and shows how to write each meaning; an
// explicit `sum(d: ...)` never warns. Warnings only: the program is
// unchanged and compiles.
void warn_nonlinear_sums(const Program& program, frontend::DiagnosticSink& sink);

}  // namespace einc::ir
