// ir/verify.h — the IR's invariants, checked between the passes.
//
// A pass that breaks one is a bug in einc, so a failure is an
// InternalError naming the pass and the statement, never a diagnostic.
// ir::lower runs the verifier after each pass in builds configured with
// EINC_VERIFY_IR (on in Debug builds and in the sanitizer build of the test
// suite); tests may call it directly.
//
// Checked: every id in range (dims of each Poly, tensors, index ids, outputs,
// the name tables); an access has one subscript per dimension of its
// tensor; each node's arity and `ops`; each node's free-index set is what
// its children give; reduce/normalize `over` sorted, unique and within the
// free set below; a statement's left-hand side unique indices; after the
// Einstein rule, no index is free in a value but absent from its left side.
#pragma once

#include "ir/program.h"

namespace einc::ir {

enum class IrStage {
  sema,      // implicit sums still pending
  einstein,  // every summed index inside a reduce
};

// Throws InternalError (einc/internal_error.h) at the first broken invariant.
void verify_program(const Program& program, IrStage stage, const char* after_pass);

}  // namespace einc::ir
