// ir/product_plan.h — how one contraction is computed: pre-reductions and
// the pairwise order.
//
// A contraction is a reduce(sum) over a product of factors (program.h). A
// summed index held by a single factor is reduced inside that factor first
// (the smallest-subexpression rule); the rest is a sequence of pairwise
// steps chosen by plan_contraction (contraction_order.h). The cost model
// counts this plan and the backends execute it, so the report describes
// exactly what runs.
#pragma once

#include <vector>

#include "ir/contraction_order.h"
#include "ir/program.h"

namespace einc::ir {

struct ProductOperand {
  const Expr* factor = nullptr;
  bool reciprocal = false;       // the factor is divided ('/')
  std::vector<int> pre_reduced;  // summed indices only this factor holds
  std::vector<int> indices;      // the factor's free indices minus those
};

struct ProductPlan {
  std::vector<ProductOperand> operands;
  std::vector<int> kept;               // the contraction's result indices
  std::vector<ContractionStep> steps;  // opt_einsum convention; `result` filled
  bool exact = true;
};

// `contraction` must satisfy is_contraction(). With three or more operands
// the extents must be bound (UnboundDimError otherwise).
ProductPlan plan_product(const Program& program, const Statement& statement, const Expr& contraction);

}  // namespace einc::ir
