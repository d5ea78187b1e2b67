// backends/cuda/nvrtc_compiler.h — CUDA C++ source to PTX or cubin with
// NVRTC (no GPU and no driver needed).
//
// Options: --gpu-architecture=<arch>, -I<CUDA include dir> (cuda_fp16.h,
// cuda_bf16.h), --std=c++17, -default-device. NVRTC has no -O3 (it
// optimises by default; passing -O3 fails the whole compile). A failed
// compile throws NvrtcError carrying NVRTC's whole program log.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace einc::cuda {

enum class ImageKind { ptx, cubin };
const char* image_kind_name(ImageKind kind);

class NvrtcError : public std::runtime_error {
 public:
  NvrtcError(const std::string& what, std::string log) : std::runtime_error(what), log_(std::move(log)) {}
  const std::string& log() const { return log_; }

 private:
  std::string log_;
};

struct NvrtcResult {
  std::string image;        // PTX text, or the cubin's bytes
  std::string log;          // NVRTC's program log (warnings), possibly empty
  double milliseconds = 0;  // nvrtcCreateProgram .. nvrtcGet{PTX,CUBIN}
};

// "13.0".
std::string nvrtc_version();
// The include directory passed with -I (CUDAToolkit_INCLUDE_DIRS at build time).
std::string cuda_include_dir();

// `arch` is a real architecture such as "sm_80", "sm_90a". For PTX the
// virtual architecture of the same name is used (compute_80, compute_90a).
// Throws std::invalid_argument for a malformed arch.
std::vector<std::string> nvrtc_options(const std::string& arch, ImageKind kind);

// Compiles `source` (`name` appears in NVRTC's messages). Throws NvrtcError.
NvrtcResult nvrtc_compile(const std::string& source, const std::string& name, const std::string& arch, ImageKind kind);

}  // namespace einc::cuda
