// backends/cpu/gemv_gen.h — LLVM IR for the CPU GEMV kernels, which the
// GEMV driver (gemv.h) runs for a GETT with no N index (decode), streaming
// the weights in place. Generated with IRBuilder for one ISA (KernelShape):
//
//   void einc_gemv_f32_<isa>_<B>(i64 kc, i64 m, const float* w, const i64* w_koff,
//                                const float* x, const i64* x_koff, float* y)
//     y[0:m] += sum_k x[x_koff[k]] * w[w_koff[k] + 0:m]: a GETT with no N
//     index (decode), streaming w in place row by row.
//
//   void einc_dotgemv_f32_<isa>_4x<VL>(i64 kc, i64 rows, const float* w, const i64* row_off,
//                                       const float* x, float* y, const i64* y_off)
//     y[y_off[r]] = sum_k w[row_off[r] + k] * x[k]: the GEMV whose matrix
//     runs along K (W stored [out, in]), as dot products, four rows at a time.
//
//   The two GEMV kernels also come reading f16 or bf16 weights in place
//   (w: const u16*, widened to f32 in registers; x and y stay f32), for a
//   decode whose weights are half precision: generate_half_gemv_module.
//   (i8 decodes have kernels of their own: i8_gemv_gen.h.)
//
// The f32 kernels are GETT functions (GettFunction::Kind::gemv, dot_gemv in
// kernel_gen.h), generated with the others; the 16-bit ones on demand.
#pragma once

#include <memory>
#include <string>

#include "backends/cpu/kernel_gen.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace einc::cpu {

// Defines einc_gemv (`name`) in `m`, reading w of `weights` (f32, f16, bf16).
void generate_gemv(llvm::Module& m, const KernelShape& shape, DType weights, const std::string& name);

// Defines einc_dotgemv (`name`) in `m`, reading w of `weights`.
void generate_dot_gemv(llvm::Module& m, const KernelShape& shape, DType weights, const std::string& name);

// void <symbol>(...): einc_gemv_f32 (dot == false) or einc_dotgemv_f32
// (dot == true) with w of `weights` (f16, bf16) in place of f32.
// Compiled on demand for half-precision decodes (not part of
// gett_functions).
std::unique_ptr<llvm::Module> generate_half_gemv_module(llvm::LLVMContext& context, const KernelShape& shape,
                                                        DType weights, bool dot, const std::string& symbol);

}  // namespace einc::cpu
