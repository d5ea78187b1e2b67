// backends/cpu/kernel_gen.h — LLVM IR for the CPU GETT kernels.
//
// Two kinds of function, generated with IRBuilder for one ISA:
//
//   void einc_ukr_f32_<isa>_<MR>x<NR>(i64 kc, const float* a, const float* b, float* c,
//                                     i64 ldc, i64 accumulate)
//     The register-blocked micro-kernel: c[i + j*ldc] (+)= sum_k a[k*MR + i] * b[k*NR + j]
//     over packed panels, MR = VL * MV lanes in MV vector registers, NR
//     broadcast columns, one fused multiply-add per (vector, column) per k:
//     MV*NR accumulators live in registers for the whole k loop and are
//     stored once; with accumulate == 0 (beta == 0) C is never read.
//
//   void einc_pack_f32_<isa>_<R>(const float* src, float* dst, i64 rows, i64 kc,
//                                const i64* row_off, const i64* k_off,
//                                const u8* panel_contiguous, i64 mode)
//     Packs rows x kc elements read at src[row_off[r] + k_off[k]] (any
//     strides, diagonals, broadcasts: the offsets come from the tensors'
//     strides, and may be negative) into panels of R rows: dst[p*kc*R + k*R + r].
//     A row offset of INT64_MIN is padding and packs zeros, so the micro-kernel only ever sees
//     full panels. mode 0: panels flagged contiguous load R consecutive
//     floats as one vector; mode 1: each VL-aligned chunk of k is contiguous
//     (k runs along the rows, possibly in several runs), VL x VL blocks are
//     transposed in registers; mode 2: general gather.
//
//   void einc_gemv_f32_<isa>_<B>(i64 kc, i64 m, const float* w, const i64* w_koff,
//                                const float* x, const i64* x_koff, float* y)
//     y[0:m] += sum_k x[x_koff[k]] * w[w_koff[k] + 0:m]: a GETT with no N
//     index (decode), streaming w in place row by row.
#pragma once

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace einc::cpu {

// The instruction set a kernel targets and its register blocking.
struct KernelShape {
  std::string isa;  // "avx512", "avx2", "generic"
  int vector_lanes = 4;
  int mr_vectors = 2;
  int nr = 4;
  int mr() const { return vector_lanes * mr_vectors; }
  std::string ukr_name() const;
  std::string pack_name(int rows) const;
  std::string gemv_name() const;
};

// The blocking for the host's features (avx512f / avx2+fma / other).
KernelShape shape_for_features(bool avx512f, bool avx2_fma);

// A module holding the micro-kernel and the pack routines for MR and NR.
std::unique_ptr<llvm::Module> generate_gett_module(llvm::LLVMContext& context, const KernelShape& shape);

}  // namespace einc::cpu
