// backends/cpu/kernel_gen.h — LLVM IR for the CPU GETT kernels.
//
// The functions, generated with IRBuilder for one ISA:
//
//   void einc_ukr_f32_<isa>_<MR>x<NR>(i64 kc, const float* a, const float* b, float* c,
//                                     i64 ldc, i64 accumulate)
//     The register-blocked micro-kernel: c[i + j*ldc] (+)= sum_k a[k*MR + i] * b[k*NR + j]
//     over packed panels, MR = VL * MV lanes in MV vector registers, NR
//     broadcast columns, one fused multiply-add per (vector, column) per k:
//     MV*NR accumulators live in registers for the whole k loop and are
//     stored once; with accumulate == 0 (beta == 0) C is never read.
//
//   void einc_pack_f32_<isa>_<R>_<mode>(const float* src, float* dst, i64 rows, i64 kc,
//                                       const i64* row_off, const i64* k_off,
//                                       const u8* panel_contiguous)
//     Packs rows x kc elements read at src[row_off[r] + k_off[k]] (any
//     strides, diagonals, broadcasts: the offsets come from the tensors'
//     strides, and may be negative) into panels of R rows: dst[p*kc*R + k*R + r].
//     A row offset of INT64_MIN is padding and packs zeros, so the micro-kernel only ever sees
//     full panels. One routine per mode (PackMode), each compiled on first
//     use, since a contraction mostly needs one or two of them: `vector`:
//     panels flagged contiguous load R consecutive floats as vectors, the
//     others gather; `transpose`: each VL-aligned chunk of k is contiguous
//     (k runs along the rows, possibly in several runs), VL x VL blocks are
//     transposed in registers, the k tail gathered; `gather`: element by element.
//
//   void einc_dotgemv_f32_<isa>_4x<VL>(i64 kc, i64 rows, const float* w, const i64* row_off,
//                                       const float* x, float* y, const i64* y_off)
//     y[y_off[r]] = sum_k w[row_off[r] + k] * x[k]: the GEMV whose matrix
//     runs along K (W stored [out, in]), as dot products, four rows at a time.
//
//   void einc_transpose_f32_<isa>_<VL>(const float** rows, float* dst, i64 stride, i64 width)
//     The VL x VL in-register transpose the `transpose` pack routines call.
//
//   void einc_gemv_f32_<isa>_<B>(i64 kc, i64 m, const float* w, const i64* w_koff,
//                                const float* x, const i64* x_koff, float* y)
//     y[0:m] += sum_k x[x_koff[k]] * w[w_koff[k] + 0:m]: a GETT with no N
//     index (decode), streaming w in place row by row.
//
//   The two GEMV kernels also come reading f16 or bf16 weights in place
//   (w: const u16*, widened to f32 in registers; x and y stay f32), for a
//   decode whose weights are half precision: generate_half_gemv_module.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/program.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace einc::cpu {

// How a pack routine reads its panels (see einc_pack_f32_* above).
enum class PackMode : int { vector = 0, transpose = 1, gather = 2 };
constexpr PackMode kPackModes[] = {PackMode::vector, PackMode::transpose, PackMode::gather};

// The instruction set a kernel targets and its register blocking.
struct KernelShape {
  std::string isa;  // "avx512", "avx2", "generic"
  int vector_lanes = 4;
  int mr_vectors = 2;
  int nr = 4;
  int mr() const { return vector_lanes * mr_vectors; }
  std::string ukr_name() const;
  std::string pack_name(int rows, PackMode mode) const;
  std::string gemv_name(DType weights = DType::f32) const;
  std::string dot_gemv_name(DType weights = DType::f32) const;
};

// The micro-kernel shapes for the host's features (avx512f / avx2+fma /
// other), the default first. The others have a different MR for an M that
// the default's MR would pad a lot (M = 32 with MR = 48 computes 48 rows):
// avx512 48x8 and 32x12, avx2 16x6 and 24x4, portable 8x4.
std::vector<KernelShape> shapes_for_features(bool avx512f, bool avx2_fma);

// One generated function. Each lives in a module of its own, so that the
// JIT compiles only the functions a run calls (compiling is lazy, per module).
struct GettFunction {
  enum class Kind { micro_kernel, pack, transpose, gemv, dot_gemv };
  Kind kind = Kind::micro_kernel;
  KernelShape shape;
  int pack_rows = 0;                     // pack
  PackMode pack_mode = PackMode::vector;  // pack
  std::string name() const;
};

// The GETT functions for these shapes, each once: the transpose the pack
// routines call, per shape its micro-kernel and the pack routines (each
// mode) for its MR and NR, and the GEMV kernels (of the first shape's ISA).
std::vector<GettFunction> gett_functions(const std::vector<KernelShape>& shapes);

// A module defining `function` (declaring what it calls).
std::unique_ptr<llvm::Module> generate_gett_function(llvm::LLVMContext& context, const GettFunction& function);

// The GETT epilogue applied by a micro-kernel to the tile in registers on
// the last KC block: C = act(scale * C + bias_m[i] + bias_n[j]) +
// sign * residual[i + j * ldr]. What is baked into the code: the activation
// and whether there is a residual; the rest comes at run time in
// UkrEpilogueArgs (bias_m: MR floats, bias_n: NR floats, both gathered by
// the driver for the tile). The kernel takes the args as a 7th parameter:
//   void (i64 kc, const float* a, const float* b, float* c, i64 ldc, i64 accumulate,
//         const UkrEpilogueArgs* e)
struct UkrEpilogue {
  std::optional<ir::Func> activation;
  bool residual = false;
  std::string tag() const;  // "gelu_residual", "none", ...
};
struct UkrEpilogueArgs {
  const float* bias_m = nullptr;
  const float* bias_n = nullptr;
  const float* residual = nullptr;
  std::int64_t ldr = 0;
  float scale = 1.0f;
  float residual_sign = 1.0f;
};
std::unique_ptr<llvm::Module> generate_epilogue_ukr_module(llvm::LLVMContext& context, const KernelShape& shape,
                                                           const UkrEpilogue& epilogue, const std::string& symbol);

// void <symbol>(float* x, i64 n): x[i] = func(x[i]) for i < n, a unary
// function of the language (vector_math.h) on whole vectors and a scalar
// tail: the activation of the GETT epilogue.
std::unique_ptr<llvm::Module> generate_activation_module(llvm::LLVMContext& context, const KernelShape& shape,
                                                         ir::Func func, const std::string& symbol);

// void <symbol>(...): einc_gemv_f32 (dot == false) or einc_dotgemv_f32
// (dot == true) with w of `weights` (f16 or bf16) in place of f32. Compiled
// on demand for half-precision decodes (not part of gett_functions).
std::unique_ptr<llvm::Module> generate_half_gemv_module(llvm::LLVMContext& context, const KernelShape& shape,
                                                         DType weights, bool dot, const std::string& symbol);

// All of gett_functions(shapes) in one module (what `einc emit` prints).
std::unique_ptr<llvm::Module> generate_gett_module(llvm::LLVMContext& context, const std::vector<KernelShape>& shapes);

}  // namespace einc::cpu
