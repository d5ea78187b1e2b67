// ir/known_fill.h — what a tensor is known to hold where its only
// assignment's condition fails.
//
// `s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e] / sqrt(E), -inf)`
// assigns s once, whole: every later read of s at a point with j > i reads
// -inf. A statement reading s may use that to skip work there: the CPU
// loop kernels split a softmax's loops at the diagonal instead of
// computing exp(-inf - max) for half the row (docs/cpu-backend.md, "Loops
// split at a condition"). The fact is exact, so using it never changes a
// value: the reader sees what the tensor holds.
//
// It holds when the tensor is an intermediate that exactly one statement
// assigns (`=`, not `+=`), in the same repeat block as the reader (or
// neither in one; sema refuses a read before the assignment, so the reader
// runs after it); that statement's value is a `where` whose
// condition compares two of its target's indices and whose other branch is
// numbers and dims only (Expr::folds); and the read takes both compared
// positions as plain, distinct indices.
#pragma once

#include <optional>

#include "ir/program.h"

namespace einc::ir {

struct KnownFill {
  Condition condition;  // in the reader's index ids: where the read is not the fill
  const Statement* writer = nullptr;
  const Expr* value = nullptr;  // the fill, an expression of numbers and dims in `writer`
};

// The fill of `access` (an access in `reader`, a statement of `program` or
// a copy of one), or nullopt when nothing is known.
std::optional<KnownFill> known_fill(const Program& program, const Statement& reader, const Expr& access);

}  // namespace einc::ir
