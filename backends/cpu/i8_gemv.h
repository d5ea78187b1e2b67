// backends/cpu/i8_gemv.h — a decode of i8 operands (a product of i8
// tensors with no N index: one token through a layer) reading its i8
// weights in place.
//
// Such a GEMV costs the stream of its weights, so the i16-pair copies of
// i8_pairs.h (two bytes written and read per weight) would triple it.
// Instead the JIT's i8 GEMV kernels (i8_gemv_gen.h) read the i8 weights in
// place and multiply them as i16 pairs with pmaddwd, summing in i32: exact
// in any order (i32 sums wrap as the reference's do, docs/semantics.md),
// so every thread count gives the same bits. x (K values) is copied as
// i16, or as pairs of i16 in 32-bit words for the axpy form.
#pragma once

#include "backends/cpu/gett.h"
#include "backends/cpu/jit.h"

namespace einc::cpu {

// Whether `call` (an i32 GETT whose A and B point at i8 data) runs here:
// a GEMV (gemv_kind: no N index, one batch element) with no epilogue.
bool runs_as_i8_gemv(const GettCall& call);

void run_i8_gemv(Jit& jit, const GettCall& call, int threads);

}  // namespace einc::cpu
