// ir/temporaries.h — a statement split into several: the temporary tensors
// its parts are assigned to first (product steps, ir/product_split.h;
// hoisted contractions, ir/contraction_hoist.h).
#pragma once

#include <vector>

#include "ir/dtype.h"
#include "ir/program.h"

namespace einc::ir {

// Declares in `program` a temporary over `indices` (the extents they have in
// `statement`, dtype `dtype`, named after the statement's line), appends to
// `statements` the statement assigning it `value` (a copy of `statement`
// with that target, those indices and `=`) and to `temporaries` its id, and
// returns the access `T[indices]` that reads it, at `span`.
ExprPtr assign_temporary(Program& program, const Statement& statement, Span span, const std::vector<int>& indices,
                         ExprPtr value, DType dtype, std::vector<Statement>& statements, std::vector<int>& temporaries);

}  // namespace einc::ir
