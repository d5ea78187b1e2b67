// backends/cuda/driver.h — the CUDA driver API, loaded at run time with
// dlopen("libcuda.so.1"): einc never links libcuda, so a binary built with
// the CUDA backend starts (and reports the backend unavailable) on a machine
// without a driver or GPU. cuda.h is used for the types and signatures only.
#pragma once

#include <cuda.h>

#include <stdexcept>
#include <string>

#include "backends/cuda/kernel_source.h"

namespace einc::cuda {

// The entry points einc uses (versioned symbols where cuda.h maps a name to
// one: cuMemAlloc -> cuMemAlloc_v2, ...).
struct DriverApi {
  decltype(&::cuGetErrorName) get_error_name = nullptr;
  decltype(&::cuGetErrorString) get_error_string = nullptr;
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDriverGetVersion) driver_get_version = nullptr;
  decltype(&::cuDeviceGetCount) device_get_count = nullptr;
  decltype(&::cuDeviceGet) device_get = nullptr;
  decltype(&::cuDeviceGetName) device_get_name = nullptr;
  decltype(&::cuDeviceGetAttribute) device_get_attribute = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) primary_ctx_retain = nullptr;
  decltype(&::cuCtxSetCurrent) ctx_set_current = nullptr;
  decltype(&::cuModuleLoadData) module_load_data = nullptr;
  decltype(&::cuModuleGetFunction) module_get_function = nullptr;
  decltype(&::cuLaunchKernel) launch_kernel = nullptr;
  decltype(&::cuMemAlloc) mem_alloc = nullptr;
  decltype(&::cuMemFree) mem_free = nullptr;
  decltype(&::cuMemcpyHtoDAsync) memcpy_htod_async = nullptr;
  decltype(&::cuMemcpyDtoHAsync) memcpy_dtoh_async = nullptr;
  decltype(&::cuMemcpyDtoDAsync) memcpy_dtod_async = nullptr;
  decltype(&::cuMemsetD8Async) memset_d8_async = nullptr;
  decltype(&::cuStreamCreate) stream_create = nullptr;
  decltype(&::cuStreamDestroy) stream_destroy = nullptr;
  decltype(&::cuStreamSynchronize) stream_synchronize = nullptr;
  decltype(&::cuEventCreate) event_create = nullptr;
  decltype(&::cuEventDestroy) event_destroy = nullptr;
  decltype(&::cuEventRecord) event_record = nullptr;
  decltype(&::cuEventSynchronize) event_synchronize = nullptr;
  decltype(&::cuEventElapsedTime) event_elapsed_time = nullptr;
};

class DriverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The process-wide driver, loaded and initialised (cuInit) once with at
// least one device; nullptr when that failed, with the reason in *why:
// "no CUDA driver/device found (libcuda.so.1: <dlerror>)", or (cuInit: ...),
// or (no device).
const DriverApi* driver_api(std::string* why = nullptr);
bool cuda_available(std::string* why = nullptr);

// Throws DriverError("<what>: CUDA_ERROR_... (<description>)") unless
// result == CUDA_SUCCESS.
void check(CUresult result, const char* what);

// Device 0 and its primary context.
struct Device {
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::string name;
  int major = 0, minor = 0;
  std::string arch;  // "sm_90": what NVRTC compiles for
};
// Throws DriverError (or std::runtime_error when no driver) on failure.
const Device& default_device();
// Makes the primary context current on the calling thread.
void make_current(const Device& device);

// The kernel's function in the primary context: compiled to cubin for the
// device's arch through KernelCache::global(), the module loaded once per
// process (thread-safe).
CUfunction load_kernel(const Device& device, const GeneratedKernel& kernel);

}  // namespace einc::cuda
