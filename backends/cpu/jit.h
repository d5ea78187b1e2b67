// backends/cpu/jit.h — LLVM ORC LLJIT for the CPU backend, and its kernel cache.
//
// One JIT per process, created on first use for the host: the ISA is chosen
// from sys::getHostCPUFeatures() (avx512f, avx2+fma), not from the CPU name
// (LLVM 14 calls Zen 5 "generic"). Generated modules are compiled as they
// are (see optimise() in jit.cpp for why no IR passes run). Every generated
// function is its own module, added to LLJIT up front and compiled when it
// is first looked up, so a run compiles only the kernels it calls; compiled
// kernels stay in memory by name (dtype, ISA, tile in the name), at most one
// compile per process; lookups are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "backends/cpu/kernel_gen.h"

namespace einc::cpu {

// The GETT kernels of one micro-kernel shape (its dtype: f32, f64 or i32;
// the pointers are to that type).
struct GettKernels {
  using MicroKernel = void (*)(std::int64_t kc, const void* a, const void* b, void* c, std::int64_t ldc,
                               std::int64_t accumulate);
  using Pack = void (*)(const void* src, void* dst, std::int64_t rows, std::int64_t kc, const std::int64_t* row_off,
                        const std::int64_t* k_off, const std::uint8_t* panel_contiguous);
  using Gemv = void (*)(std::int64_t kc, std::int64_t m, const float* w, const std::int64_t* w_koff, const float* x,
                        const std::int64_t* x_koff, float* y);
  using DotGemv = void (*)(std::int64_t kc, std::int64_t rows, const float* w, const std::int64_t* row_off,
                           const float* x, float* y, const std::int64_t* y_off);
  // The same, reading f16 or bf16 weights in place (gemv_gen.h; w:
  // const u16*).
  using HalfGemv = void (*)(std::int64_t kc, std::int64_t m, const void* w, const std::int64_t* w_koff, const float* x,
                            const std::int64_t* x_koff, float* y);
  using HalfDotGemv = void (*)(std::int64_t kc, std::int64_t rows, const void* w, const std::int64_t* row_off,
                               const float* x, float* y, const std::int64_t* y_off);
  // The i8 GEMVs on i16 pairs (i8_gemv_gen.h).
  using I8Gemv = void (*)(std::int64_t pairs, std::int64_t m, const std::int8_t* w, const std::int64_t* row_off,
                          const std::int32_t* x_pairs, std::int32_t* y);
  using I8DotGemv = void (*)(std::int64_t kc, std::int64_t rows, const std::int8_t* w, const std::int64_t* row_off,
                             const std::int16_t* x, std::int32_t* y, const std::int64_t* y_off);
  KernelShape shape;
  MicroKernel micro_kernel = nullptr;
  // Pack routines by panel (0: MR rows, 1: NR rows) and PackMode: each is
  // compiled on its first use (Jit::pack_kernel), as most contractions
  // need only one or two of the six. Atomic: the driver asks for one per
  // pack call, from every thread, without taking the JIT's lock once set.
  std::atomic<Pack> pack[2][3] = {};
};

enum class EmitTarget { llvm_ir, assembly };

class Jit {
 public:
  static Jit& instance();

  // Whether there are GETT kernels for `dtype` (f32, f64, i32).
  static bool has_gett(DType dtype);
  // The GETT micro-kernel shapes for the host and `dtype`, the default first.
  const std::vector<KernelShape>& gett_shapes(DType dtype = DType::f32) const { return gett_set(dtype).shapes; }
  // The micro-kernel of gett_shapes(dtype)[index], compiled on first use
  // (`i16_pairs`: the i32 one on i16 pairs, KernelShape::i16_pairs; its
  // pack routines are the i32 ones). The f32 functions are added to the
  // JIT when it starts, the others' with the first use of their dtype.
  const GettKernels& gett_kernels(std::size_t index, DType dtype = DType::f32, bool i16_pairs = false,
                                  bool bf16_pairs = false);
  // Whether the host multiplies bf16 pairs (AVX512-BF16, the avx512 ISA not
  // narrowed): the f32 GETT on bf16 pairs (KernelShape::bf16_pairs) runs.
  bool multiplies_bf16_pairs() const;
  // Its pack routine for panels of MR (panel 0) or NR (panel 1) rows in
  // `mode`, compiled on first use. Thread-safe; lock-free once compiled.
  GettKernels::Pack pack_kernel(std::size_t index, int panel, PackMode mode, DType dtype = DType::f32);
  // The GEMV kernel, compiled on first use.
  GettKernels::Gemv gemv_kernel();
  // The dot-product GEMV kernel, compiled on first use.
  GettKernels::DotGemv dot_gemv_kernel();
  // Whether the GEMV kernels can read `weights` (f16, bf16) in place here:
  // bf16 always; f16 where the kernels may use F16C (avx2, avx512).
  bool reads_half_weights(DType weights) const;
  // Those kernels, compiled on first use (through compile_cached).
  GettKernels::HalfGemv half_gemv_kernel(DType weights);
  GettKernels::HalfDotGemv half_dot_gemv_kernel(DType weights);
  // The i8 GEMV kernels (i8_gemv_gen.h), compiled on first use.
  GettKernels::I8Gemv i8_gemv_kernel();
  GettKernels::I8DotGemv i8_dot_gemv_kernel();
  // x[0:n] = func(x[0:n]) in place, vectorised (the epilogue's activation),
  // compiled on first use.
  using Activation = void (*)(float* x, std::int64_t n);
  Activation activation_kernel(ir::Func func);
  // A variant of the micro-kernel of gett_shapes(dtype)[index] (an epilogue
  // fused into its stores, f32 only; B read in place: `b` points to NR
  // column pointers), compiled on first use.
  using MicroKernelVariant = void (*)(std::int64_t kc, const void* a, const void* b, void* c, std::int64_t ldc,
                                      std::int64_t accumulate, const UkrEpilogueArgs* args);
  MicroKernelVariant micro_kernel_variant(std::size_t index, DType dtype, const UkrVariant& variant,
                                          bool bf16_pairs = false);
  // What getting each GETT function took (compiling it, or loading its
  // object from the disk cache), in order; compiles every one not compiled
  // yet (for `einc emit`).
  struct Compiled {
    std::string name;
    double ms = 0;
    bool from_disk = false;
  };
  std::vector<Compiled> compile_all_gett();
  // The optimised module (IR) or the host assembly of the GETT kernels of
  // one set (f32 by default; f64, i32, or i32 on i16 pairs).
  std::string emit_gett(EmitTarget target, DType dtype = DType::f32, bool i16_pairs = false);
  // "avx512 32x12, 48x8 micro-kernels, LLVM 14.0.6 (+avx512f,...)" for --version and reports.
  std::string description() const;
  // The default micro-kernel shape (ISA, vector width).
  const KernelShape& shape() const { return shapes_[0]; }

  // Generic kernels (the loop kernels): compiles the module `generate`
  // builds, which must define a function named `symbol`, and returns that
  // function's address. Cached in memory by `key`, which must name
  // everything the generated code bakes in (the caller's structure and
  // decisions, the ISA); a cached key returns at once, with *compile_ms = 0.
  // Objects also go to the disk cache like every module. Thread-safe; one
  // compile at a time.
  using ModuleGenerator =
      std::function<std::unique_ptr<llvm::Module>(llvm::LLVMContext& context, const std::string& symbol)>;
  std::uint64_t compile_cached(const std::string& key, const ModuleGenerator& generate, double* compile_ms = nullptr);

 private:
  Jit();
  std::uint64_t lookup(const std::string& name);  // compiles the function's module on first use; locked
  // The kernels of one dtype: the shapes, per shape its kernels (filled on
  // first use), and whether its functions were added to the JIT yet.
  struct GettSet {
    std::vector<KernelShape> shapes;
    std::vector<GettKernels> kernels;  // parallel to shapes
    bool added = false;
  };
  GettSet& gett_set(DType dtype, bool i16_pairs = false, bool bf16_pairs = false);
  const GettSet& gett_set(DType dtype, bool i16_pairs = false, bool bf16_pairs = false) const;
  void add_gett_functions(GettSet& set);  // locked
  struct State;
  State* state_;                     // never freed: lives as long as the process
  std::vector<KernelShape> shapes_;  // f32's: gett_sets_[0].shapes
  bool f16c_ = false;                // the kernels may convert f16 with F16C
  bool bf16_pairs_ = false;          // multiplies_bf16_pairs()
  std::mutex mutex_;
  GettSet gett_sets_[5];  // f32, f64, i32, i32 on i16 pairs, f32 on bf16 pairs (kGettSets in jit.cpp)
  GettKernels::Gemv gemv_ = nullptr;
  GettKernels::DotGemv dot_gemv_ = nullptr;
  std::vector<Compiled> compile_ms_;  // per function, once compiled
  std::mutex cached_mutex_;           // compile_cached
  std::unordered_map<std::string, std::uint64_t> cached_;
  std::unordered_set<std::string> cached_symbols_;
};

}  // namespace einc::cpu
