// ir/product_plan.h — how one product is computed: its factors, what is
// done to each first, and the order of the pairwise steps.
//
// A product is planned whole. Sema's Einstein rule leaves a product as a
// `multiply` chain whose factors are tensors, the sums over the factors that
// share summed indices (`reduce(sum)` over a product), scalars and any other
// expressions (einstein_sums.h); `C[i,j,k] = a[i] * B[i,j] * D[i,j,k]` sums
// nothing and `sum(e: Q*K) / sqrt(E)` is one sum and a scalar. The planner
// opens every `*` factor that is itself a multiply or a sum over a product,
// so the product's operands are all its factors at once (the groups' own
// factors, the free factors, the scalars), its summed indices those of every
// sum it opened, and plan_contraction (contraction_order.h) chooses the
// pairwise order over all of them under the documented cost (a step that
// sums costs 2 x the product of its extents, one that does not its result's
// elements; docs/language.md, "Cost model"). The IR is not rewritten: the
// cost model counts this plan and every backend executes it (the reference
// step by step, the cpu and cuda backends as the statements of
// product_split.h where one kernel would not do the plan's work), so the
// report describes exactly what runs. Only the Einstein rule's placement
// decides which factors a sum covers in the IR; distributivity makes the
// opened form equal (in exact arithmetic) to the written one.
//
// Rules, each chosen so that a fused evaluation of the written form costs
// the same when runs_in_one_pass() says it may be used:
//  - a summed index held by one operand only is summed inside it first
//    (`pre_reduced`: one FLOP per element of the operand);
//  - a `/` factor is a divisor: a step that meets it divides instead of
//    multiplying, at the same cost; two divisors meeting multiply and the
//    result stays a divisor; a divisor left at the end is inverted (one FLOP
//    per element of the result). A divisor that holds a summed index no
//    other operand holds, or one that another divisor holds, is inverted
//    first instead (FactorUse::invert: one FLOP per element), so no step
//    ever sums over two divisors (sum(1/x * 1/y) is no division);
//  - a scalar (a constant, a dim's value, a 0-d tensor, a call on those) is
//    an operand without indices: it costs one FLOP per element of whatever
//    it meets, and the search applies it where that is cheapest.
// Integer products that divide are not planned (is_product is false): `/`
// truncates, so only the written order is right, and such a chain is
// computed as written, each sum in it planned on its own.
#pragma once

#include <vector>

#include "ir/contraction_order.h"
#include "ir/program.h"

namespace einc::ir {

enum class FactorUse {
  multiply,  // a `*` factor
  divide,    // a `/` factor, divided by where a step meets it
  invert,    // a `/` factor replaced by its reciprocal before anything else
};

struct ProductOperand {
  const Expr* factor = nullptr;
  FactorUse use = FactorUse::multiply;
  std::vector<int> pre_reduced;  // summed indices only this factor holds
  std::vector<int> indices;      // the factor's free indices minus those
};

// One pairwise step (contraction_order.h's list convention): the entries at
// lhs < rhs are replaced by the step's value, appended at the end. An entry
// is a divisor when it stands for the reciprocal of its value. The step
// computes sum(over: x * y) when both or neither entry is a divisor (the
// result is a divisor when both are), else sum(over: x / y) with y the
// divisor.
struct ProductStep {
  int lhs = 0, rhs = 0;
  std::vector<int> result;  // index ids of the step's value (sorted)
  std::vector<int> over;    // index ids it sums (sorted)
  bool lhs_divisor = false, rhs_divisor = false;
  bool divisor() const { return lhs_divisor && rhs_divisor; }
};

struct ProductPlan {
  const Expr* root = nullptr;
  std::vector<ProductOperand> operands;  // in the order they are written
  std::vector<int> kept;                 // the product's result indices (root->free)
  std::vector<int> summed;               // every index the product sums (sorted)
  std::vector<ProductStep> steps;        // operands.size() - 1 of them
  bool result_divisor = false;           // the last value is a divisor: inverted at the end
  bool exact = true;                     // order found by the exact search
};

// A node where a product starts: a multiply, or a sum over a product (a
// `reduce(sum)` whose body, through nested sums, is a multiply), except an
// integer statement's product that divides. Callers walk the expression
// from the root down and plan the first such node they meet, then continue
// inside its operands' factors only.
bool is_product(const Statement& statement, const Expr& e);

// The plan of the product rooted at `root` (is_product(statement, *root)).
// With three or more operands the extents must be bound (UnboundDimError
// otherwise); with fewer there is no choice to make.
ProductPlan plan_product(const Program& program, const Statement& statement, const Expr& root);

// Whether the product may be computed by evaluating its written form in one
// pass over the points of each node, at exactly the plan's cost: a single
// operand, or operands used as written (nothing inverted or pre-reduced,
// the first one not a divisor unless all are) in one step, or in steps that
// are each elementwise over the product's whole result. Every other plan
// needs its steps materialised (product_split.h).
bool runs_in_one_pass(const ProductPlan& plan);

// Whether every step is elementwise over the product's whole result (no
// sum, nothing inverted or pre-reduced first): in any order, every step
// then costs one FLOP per element of the result.
bool steps_are_elementwise(const ProductPlan& plan);

}  // namespace einc::ir
