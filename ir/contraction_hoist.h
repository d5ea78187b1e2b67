// ir/contraction_hoist.h — a statement with contractions inside another
// expression, as statements the fast paths run: each such contraction
// assigned to a temporary first, then the statement reading them.
//
// `s = where(j <= i, (sum(c: qa*ka) + sum(c2: qb*kb)) / sqrt(E), -inf)`
// (LLaMA's rotary scores) is no GETT (a sum of two contractions) and no loop
// kernel (a loop nest would compute each contraction point by point, more
// work than its pairwise plan): the interpreter would run it. Hoisted, each
// contraction is its own statement `T[free] = sum(...)`, a GETT, and what
// is left (`where(j <= i, (T1 + T2) / sqrt(E), -inf)`) is elementwise.
//
// A contraction inside `where(c, ...)` is hoisted as `where(c, sum(...), 0)`
// (the other side: `where(c, 0, sum(...))`) when c compares two of its
// indices: a masked GETT that computes only the points the select takes, as
// the cost model counts them; its other points hold 0 and are never read.
// Under a condition on an index it lacks it is computed whole (the
// condition does not restrict it, nor its count). Not hoisted: a
// contraction under two conditions that both compare its indices, and one
// that is a factor of a product (the product's plan, ir/product_plan.h,
// decides its order: product steps run that).
//
// A contraction inside a conversion is hoisted in the dtype it converts
// from: `y = f32(sum(d: xq[t, d] * wq[d, f])) * s[f]` (a quantised linear
// layer) becomes the i32 contraction of i8 tensors `T = sum(d: xq * wq)`,
// which the cpu backend runs as a GETT, and `y = f32(T) * s[f]`.
#pragma once

#include <optional>
#include <vector>

#include "ir/dtype.h"
#include "ir/program.h"

namespace einc::ir {

struct HoistedContractions {
  Program program;                    // the program plus the temporaries
  std::vector<int> temporaries;       // their tensor ids, in order of assignment
  std::vector<Statement> statements;  // each temporary's, then the statement reading them (last)
};

// nullopt when no contraction inside the statement's value can be hoisted
// (a value that is itself a contraction is not hoisted, nor one already in
// the form a masked contraction is hoisted as, `where(c, sum(...), 0)`). `temporaries`:
// the dtype of those outside conversions.
std::optional<HoistedContractions> hoist_contractions(const Program& program, const Statement& statement,
                                                      DType temporaries);

}  // namespace einc::ir
