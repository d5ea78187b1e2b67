// backends/cpu/i8_gemv_gen.h — LLVM IR for the i8 GEMV kernels (a decode
// of i8 operands, i8_gemv.h), which read the i8 weights in place and
// multiply them as i16 pairs with pmaddwd, summing in i32.
//
//   void einc_gemv_i8p_<isa>_<2VL>(i64 pairs, i64 m, const i8* w, const i64* row_off,
//                                  const i32* x_pairs, i32* y)
//     y[0:m] += sum_p lo(x_pairs[p]) * w[row_off[2p] + 0:m]
//                   + hi(x_pairs[p]) * w[row_off[2p + 1] + 0:m]
//     W unit-stride along m (rows of W streamed into y). Two rows at a time
//     are interleaved byte by byte in registers (punpck), sign-extended to
//     i16 and multiplied by their two x values (an i32 word holding two
//     i16) with one pmaddwd per VL columns: eight rows per pass over y.
//
//   void einc_dotgemv_i8p_<isa>_<VL>(i64 kc, i64 rows, const i8* w, const i64* row_off,
//                                    const i16* x, i32* y, const i64* y_off)
//     y[y_off[r]] = sum_k w[row_off[r] + k] * x[k]: W unit-stride along K
//     (stored [out, in]), whose neighbours along K are already the pairs
//     pmaddwd multiplies: sign-extended to i16, one pmaddwd per 2 VL
//     weights, eight rows at a time sharing each vector of x.
//
// Exact, in any order: a product of i8 values is at most 2^14, a pair's
// sum at most 2^15, and i32 sums wrap as the reference's do
// (docs/semantics.md), so every cut of K and every thread count gives the
// same bits. Against widening each weight to f32 (sign extension,
// conversion, FMA: three instructions per VL weights), this is three per
// 2 VL and needs no cuts of K to stay exact. Where the ISA has no pmaddwd
// the same arithmetic is written out (multiply_i16_pairs).
#pragma once

#include <memory>
#include <string>

#include "backends/cpu/kernel_gen.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace einc::cpu {

// The symbols of the two kernels for `shape`'s ISA.
std::string i8_gemv_name(const KernelShape& shape);
std::string i8_dot_gemv_name(const KernelShape& shape);

// A module defining einc_gemv_i8p (dot == false) or einc_dotgemv_i8p
// (dot == true) as `symbol`.
std::unique_ptr<llvm::Module> generate_i8_gemv_module(llvm::LLVMContext& context, const KernelShape& shape, bool dot,
                                                      const std::string& symbol);

}  // namespace einc::cpu
