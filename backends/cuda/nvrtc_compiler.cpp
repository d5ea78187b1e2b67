// backends/cuda/nvrtc_compiler.cpp — see nvrtc_compiler.h.
#include "backends/cuda/nvrtc_compiler.h"

#include <nvrtc.h>

#include <chrono>
#include <memory>

#ifndef EINC_CUDA_INCLUDE_DIR
#define EINC_CUDA_INCLUDE_DIR "/usr/local/cuda/include"
#endif

namespace einc::cuda {

namespace {

void check(nvrtcResult result, const char* what) {
  if (result != NVRTC_SUCCESS)
    throw NvrtcError(std::string("NVRTC: ") + what + " failed: " + nvrtcGetErrorString(result), "");
}

std::string program_log(nvrtcProgram program) {
  std::size_t size = 0;
  if (nvrtcGetProgramLogSize(program, &size) != NVRTC_SUCCESS || size <= 1) return "";
  std::string log(size, '\0');
  if (nvrtcGetProgramLog(program, log.data()) != NVRTC_SUCCESS) return "";
  log.resize(size - 1);  // the terminating NUL
  return log;
}

bool valid_arch(const std::string& arch) {
  if (arch.size() < 5 || arch.compare(0, 3, "sm_") != 0) return false;
  std::size_t i = 3, digits = 0;
  while (i < arch.size() && arch[i] >= '0' && arch[i] <= '9') ++i, ++digits;
  if (digits < 2) return false;
  return i == arch.size() || (i + 1 == arch.size() && (arch[i] == 'a' || arch[i] == 'f'));
}

}  // namespace

const char* image_kind_name(ImageKind kind) { return kind == ImageKind::ptx ? "ptx" : "cubin"; }

std::string nvrtc_version() {
  int major = 0, minor = 0;
  check(nvrtcVersion(&major, &minor), "nvrtcVersion");
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string cuda_include_dir() { return EINC_CUDA_INCLUDE_DIR; }

std::vector<std::string> nvrtc_options(const std::string& arch, ImageKind kind) {
  if (!valid_arch(arch))
    throw std::invalid_argument("CUDA architecture '" + arch + "' is not of the form sm_NN, sm_NNa or sm_NNf");
  std::string target = kind == ImageKind::ptx ? "compute_" + arch.substr(3) : arch;
  return {"--gpu-architecture=" + target, "-I" + cuda_include_dir(), "--std=c++17", "-default-device"};
}

NvrtcResult nvrtc_compile(const std::string& source, const std::string& name, const std::string& arch, ImageKind kind) {
  const std::vector<std::string> options = nvrtc_options(arch, kind);
  auto start = std::chrono::steady_clock::now();
  nvrtcProgram raw = nullptr;
  check(nvrtcCreateProgram(&raw, source.c_str(), name.c_str(), 0, nullptr, nullptr), "nvrtcCreateProgram");
  std::unique_ptr<nvrtcProgram, void (*)(nvrtcProgram*)> program(&raw, [](nvrtcProgram* p) { nvrtcDestroyProgram(p); });
  std::vector<const char*> argv;
  for (const std::string& o : options) argv.push_back(o.c_str());
  nvrtcResult compiled = nvrtcCompileProgram(raw, static_cast<int>(argv.size()), argv.data());
  NvrtcResult result;
  result.log = program_log(raw);
  if (compiled != NVRTC_SUCCESS) {
    std::string what = "NVRTC " + nvrtc_version() + " could not compile " + name + " for " + arch + " (" +
                       nvrtcGetErrorString(compiled) + ")";
    for (const std::string& o : options) what += " " + o;
    what += "\n--- NVRTC log ---\n" + (result.log.empty() ? std::string("(empty)\n") : result.log);
    throw NvrtcError(what, result.log);
  }
  std::size_t size = 0;
  if (kind == ImageKind::ptx) {
    check(nvrtcGetPTXSize(raw, &size), "nvrtcGetPTXSize");
    result.image.assign(size, '\0');
    check(nvrtcGetPTX(raw, result.image.data()), "nvrtcGetPTX");
    if (!result.image.empty() && result.image.back() == '\0') result.image.pop_back();
  } else {
    check(nvrtcGetCUBINSize(raw, &size), "nvrtcGetCUBINSize");
    result.image.assign(size, '\0');
    check(nvrtcGetCUBIN(raw, result.image.data()), "nvrtcGetCUBIN");
  }
  result.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace einc::cuda
