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

#include "ir/program.h"

namespace einc::ir {

ExprPtr insert_implicit_sums(const ExprPtr& root, const std::vector<int>& summed);

// The pass (ir/lower.h, after sema): in every statement, each index free in
// the value but absent from the left side is summed this way.
void make_sums_explicit(Program& program);

}  // namespace einc::ir
