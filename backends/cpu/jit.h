// backends/cpu/jit.h — LLVM ORC LLJIT for the CPU backend, and its kernel cache.
//
// One JIT per process, created on first use for the host: the ISA is chosen
// from sys::getHostCPUFeatures() (avx512f, avx2+fma), not from the CPU name
// (LLVM 14 calls Zen 5 "generic"). Generated modules are compiled as they
// are (see optimise() in jit.cpp for why no IR passes run). Compiled kernels are
// cached in memory by name (dtype, ISA, tile in the name), so a kernel is
// compiled at most once per process; lookups are thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "backends/cpu/kernel_gen.h"

namespace einc::cpu {

struct GettKernels {
  using MicroKernel = void (*)(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc,
                               std::int64_t accumulate);
  using Pack = void (*)(const float* src, float* dst, std::int64_t rows, std::int64_t kc, const std::int64_t* row_off,
                        const std::int64_t* k_off, const std::uint8_t* panel_contiguous, std::int64_t mode);
  KernelShape shape;
  MicroKernel micro_kernel = nullptr;
  Pack pack_a = nullptr;  // panels of MR rows
  Pack pack_b = nullptr;  // panels of NR rows
  using Gemv = void (*)(std::int64_t kc, std::int64_t m, const float* w, const std::int64_t* w_koff, const float* x,
                        const std::int64_t* x_koff, float* y);
  Gemv gemv = nullptr;
  double compile_ms = 0;  // time to generate, optimise and compile
};

enum class EmitTarget { llvm_ir, assembly };

class Jit {
 public:
  static Jit& instance();

  // The f32 GETT kernels for the host (compiled on first call).
  const GettKernels& gett_f32();
  // The optimised module (IR) or the host assembly of the GETT kernels.
  std::string emit_gett_f32(EmitTarget target);
  // "avx512, LLVM 14.0.6, features +avx512f,..." for --version and reports.
  std::string description() const;
  const KernelShape& shape() const { return shape_; }

 private:
  Jit();
  struct State;
  State* state_;  // never freed: lives as long as the process
  KernelShape shape_;
  std::mutex mutex_;
  bool compiled_ = false;
  GettKernels gett_;
};

}  // namespace einc::cpu
