// backends/cpu/i8_pairs.h — a GETT of i8 operands (a product of i8
// tensors, whose dtype is i32) run as the i32 GETT on i16 pairs; and (at
// the end) a GETT of bf16 operands on bf16 pairs, in the same layouts.
//
// A and B are copied, widened to i16, into buffers of 32-bit words, each
// holding the values at k and k + 1 of one row: laid out
// [batch][rows][K / 2 rounded up], K innermost, or, for an operand whose
// rows are one element apart while K is not (a row-major B[k, j]),
// [batch][K / 2][rows], so that the copy reads whole rows and the GETT
// packs whole vectors (1.07-1.28x faster on the Zen 3 host than copying
// such an operand K-major). The i32 GETT
// (GettCall::i16_pairs) packs those words as it packs i32 elements, and
// its micro-kernel multiplies and adds each pair of pairs with one pmaddwd
// (KernelShape::i16_pairs): twice the products of an i32 multiply per
// instruction, and on AVX2 a cheaper instruction than vpmulld. Exact: a
// product of i8 values is at most 2^14, a pair's sum at most 2^15, and the
// i32 sums wrap as the reference's do (docs/semantics.md). An operand less
// a zero point (`x - z`, GettCall::a_zero_point) has z subtracted as it
// is copied (|x - z| < 2^15 by ir::kMaxZeroPoint; the padding past an odd
// K stays 0); the products then reach 2^30 and a pair's sum wraps as
// the i32 sums do. The copies are
// one pass over A and B; the bias and residual terms of the call (i32)
// are read in place.
#pragma once

#include "backends/cpu/gett.h"
#include "einc/tensor.h"

namespace einc::cpu {

// The pair copies a pair call reads (pooled memory).
struct PairCopies {
  Tensor a, b;
};

// `call`: an i32 GETT whose A and B point at i8 data (strides in
// elements). Returns the same GETT on i16 pairs, reading `copies`, which
// must outlive it.
GettCall i16_pair_call(const GettCall& call, PairCopies& copies, int threads);

// bf16 pairs, on hosts with AVX512-BF16 (Jit::multiplies_bf16_pairs): the
// f32 GETT of a bf16 statement whose A and B are left bf16 (A as
// `a_half`, B at `b`; strides in elements) has them copied as they are
// into words of two bf16 values along K, in the layouts above (zero past
// an odd K: +0 times +0 adds nothing), and its micro-kernel multiplies
// and adds each pair of pairs into the f32 accumulators with one
// vdpbf16ps (GettCall::bf16_pairs): twice an FMA's products per
// instruction, and copies of half the bytes of the f32 widening ones.
// vdpbf16ps rounds each of its two steps to f32 and treats bf16
// subnormals as zero (docs/cpu-backend.md). The scale is the epilogue's
// (the plan moves one it put on an operand's packs there).
GettCall bf16_pair_call(const GettCall& call, PairCopies& copies, int threads);

}  // namespace einc::cpu
