// ir/known_fill.h — what a tensor is known to hold where its only
// assignment's condition fails, and which readers never look there.
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
//
// The converse question (reads_only_where): does a reader look at the
// tensor where a condition on its writer's indices fails at all? The
// causal attention's `o[i, h, e] = where(j <= i, a[h, i, j] * v[j, h, e],
// 0)` reads the softmax `a` only under `j <= i`; past the diagonal the
// select takes 0 whatever `a` holds, so a writer whose every reader is
// such need not store that part (the CPU backend's unread fills:
// backends/cpu/statement_plan.h, StatementPlan::fill_unread).
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

// Whether every read of `writer`'s target in `reader` (both statements of
// `program`) lies where `condition` (over `writer`'s indices, both at
// positions of its target) holds: the writer is the target's only
// assignment as above, and each access of the target takes the two
// compared positions as plain, distinct indices and lies in a branch of a
// `where` whose condition (negated in the second branch) implies
// `condition` there. Then the reader's value does not depend on what the
// target holds where the condition fails.
bool reads_only_where(const Program& program, const Statement& reader, const Statement& writer,
                      const Condition& condition);

}  // namespace einc::ir
