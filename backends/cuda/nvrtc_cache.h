// backends/cuda/nvrtc_cache.h — NVRTC images through the kernel cache
// (runtime/kernel_cache.h), so that a second run compiles nothing: the key
// of an NVRTC image and compiling through the cache. The CUDA counterpart
// of the CPU backend's backends/cpu/object_cache.h.
#pragma once

#include <string>
#include <vector>

#include "backends/cuda/nvrtc_compiler.h"
#include "runtime/kernel_cache.h"

namespace einc::cuda {

using runtime::KernelCache;

// (source, NVRTC options, NVRTC version, arch, image kind) -> 32 hex digits.
std::string nvrtc_cache_key(const std::string& source, const std::vector<std::string>& options,
                            const std::string& nvrtc_version, const std::string& arch, ImageKind kind);

// nvrtc_compile through `cache`: the PTX text or cubin bytes.
std::string nvrtc_compile_cached(KernelCache& cache, const std::string& source, const std::string& name,
                                 const std::string& arch, ImageKind kind, KernelCache::Outcome* outcome = nullptr);

}  // namespace einc::cuda
