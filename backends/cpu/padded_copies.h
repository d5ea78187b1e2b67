// backends/cpu/padded_copies.h — the temporaries of `padded(...)` accesses
// (access_copies.h): zero-padded copies of the tensors they read.
//
// A zero-padded access (docs/language.md, "Index expressions") runs on a
// copy of its tensor with zero margins wide enough for every position the
// access reaches, read with its offsets shifted by the low margins: an
// ordinary strided view. A "same" or strided convolution
// (`padded(X[c, 2*p + r - 1, ...])`) then becomes a view that starts at the
// copy's first element, which is the GETT form: the convolution runs as an
// implicit GEMM. The copy costs one pass over the input, small next to the
// convolution's work (docs/performance.md).
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/access_copies.h"

namespace einc::cpu {

// The margins and shape of the copy `access` reads (index extents as
// ir::index_extents gives them), with `subscripts` set to the access's
// positions in the copy.
void plan_padded_copy(const ir::Program& program, const std::vector<std::int64_t>& extents, const ir::Expr& access,
                      AccessCopy& copy, std::vector<ir::Subscript>& subscripts);

// The zero-padded copy of `source` (named `name` in errors).
Tensor make_padded_copy(const AccessCopy& copy, const Tensor& source, const std::string& name, int threads);

}  // namespace einc::cpu
