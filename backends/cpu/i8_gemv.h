// backends/cpu/i8_gemv.h — a decode of i8 operands (a product of i8
// tensors with no N index: one token through a layer) reading its i8
// weights in place.
//
// Such a GEMV costs the stream of its weights, so the i16-pair copies of
// i8_pairs.h (two bytes written and read per weight) would triple it.
// Instead the JIT's GEMV kernels read the i8 weights in place, widened to
// f32 in registers (gemv_gen.h), with x (K values) copied to f32 and f32
// sums. Exact: K is cut into slices of at most 1024 rows, whose sums are
// integers of magnitude at most 1024 * 2^14 = 2^24, all of which f32
// holds; each slice's sums are converted and added in i32, wrapping as the
// reference does (docs/semantics.md). The cuts depend only on the shape,
// so every thread count gives the same results.
#pragma once

#include "backends/cpu/gett.h"
#include "backends/cpu/jit.h"

namespace einc::cpu {

// Whether `call` (an i32 GETT whose A and B point at i8 data) runs here:
// a GEMV (gemv_kind: no N index, one batch element) with no epilogue.
bool runs_as_i8_gemv(const GettCall& call);

void run_i8_gemv(Jit& jit, const GettCall& call, int threads);

}  // namespace einc::cpu
