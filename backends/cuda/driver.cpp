// backends/cuda/driver.cpp — see driver.h.
#include "backends/cuda/driver.h"

#include <dlfcn.h>

#include <map>
#include <mutex>

#include "backends/cuda/nvrtc_cache.h"

namespace einc::cuda {

namespace {

struct Loaded {
  DriverApi api;
  bool ok = false;
  std::string why;
};

template <typename F>
bool resolve(void* lib, F& slot, std::initializer_list<const char*> names, std::string& missing) {
  for (const char* name : names)
    if (void* p = dlsym(lib, name)) {
      slot = reinterpret_cast<F>(p);
      return true;
    }
  missing += (missing.empty() ? "" : ", ") + std::string(*names.begin());
  return false;
}

Loaded load() {
  Loaded out;
  const std::string prefix = "no CUDA driver/device found (";
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* error = dlerror();
    std::string text = error ? error : "cannot be loaded";
    // dlerror() usually names the library already.
    out.why = prefix + (text.rfind("libcuda.so.1", 0) == 0 ? text : "libcuda.so.1: " + text) + ")";
    return out;
  }
  DriverApi& a = out.api;
  std::string missing;
  resolve(lib, a.get_error_name, {"cuGetErrorName"}, missing);
  resolve(lib, a.get_error_string, {"cuGetErrorString"}, missing);
  resolve(lib, a.init, {"cuInit"}, missing);
  resolve(lib, a.driver_get_version, {"cuDriverGetVersion"}, missing);
  resolve(lib, a.device_get_count, {"cuDeviceGetCount"}, missing);
  resolve(lib, a.device_get, {"cuDeviceGet"}, missing);
  resolve(lib, a.device_get_name, {"cuDeviceGetName"}, missing);
  resolve(lib, a.device_get_attribute, {"cuDeviceGetAttribute"}, missing);
  resolve(lib, a.primary_ctx_retain, {"cuDevicePrimaryCtxRetain"}, missing);
  resolve(lib, a.ctx_set_current, {"cuCtxSetCurrent"}, missing);
  resolve(lib, a.module_load_data, {"cuModuleLoadData"}, missing);
  resolve(lib, a.module_get_function, {"cuModuleGetFunction"}, missing);
  resolve(lib, a.launch_kernel, {"cuLaunchKernel"}, missing);
  resolve(lib, a.mem_alloc, {"cuMemAlloc_v2"}, missing);
  resolve(lib, a.mem_free, {"cuMemFree_v2"}, missing);
  resolve(lib, a.memcpy_htod_async, {"cuMemcpyHtoDAsync_v2"}, missing);
  resolve(lib, a.memcpy_dtoh_async, {"cuMemcpyDtoHAsync_v2"}, missing);
  resolve(lib, a.memcpy_dtod_async, {"cuMemcpyDtoDAsync_v2"}, missing);
  resolve(lib, a.memset_d8_async, {"cuMemsetD8Async"}, missing);
  resolve(lib, a.stream_create, {"cuStreamCreate"}, missing);
  resolve(lib, a.stream_destroy, {"cuStreamDestroy_v2"}, missing);
  resolve(lib, a.stream_synchronize, {"cuStreamSynchronize"}, missing);
  resolve(lib, a.event_create, {"cuEventCreate"}, missing);
  resolve(lib, a.event_destroy, {"cuEventDestroy_v2"}, missing);
  resolve(lib, a.event_record, {"cuEventRecord"}, missing);
  resolve(lib, a.event_synchronize, {"cuEventSynchronize"}, missing);
  resolve(lib, a.event_elapsed_time, {"cuEventElapsedTime_v2", "cuEventElapsedTime"}, missing);
  if (!missing.empty()) {
    out.why = prefix + "libcuda.so.1 lacks " + missing + ")";
    return out;
  }
  if (CUresult r = a.init(0); r != CUDA_SUCCESS) {
    const char* name = nullptr;
    a.get_error_name(r, &name);
    out.why = prefix + "cuInit: " + (name ? name : std::to_string(static_cast<int>(r))) + ")";
    return out;
  }
  int count = 0;
  if (a.device_get_count(&count) != CUDA_SUCCESS || count == 0) {
    out.why = prefix + "libcuda.so.1 loaded, but there is no device)";
    return out;
  }
  out.ok = true;  // the library stays loaded for the life of the process
  return out;
}

const Loaded& loaded() {
  static const Loaded instance = load();
  return instance;
}

const DriverApi& api() {
  const Loaded& l = loaded();
  if (!l.ok) throw std::runtime_error(l.why);
  return l.api;
}

}  // namespace

const DriverApi* driver_api(std::string* why) {
  const Loaded& l = loaded();
  if (!l.ok && why) *why = l.why;
  return l.ok ? &l.api : nullptr;
}

bool cuda_available(std::string* why) { return driver_api(why) != nullptr; }

void check(CUresult result, const char* what) {
  if (result == CUDA_SUCCESS) return;
  const DriverApi& a = api();
  const char* name = nullptr;
  const char* text = nullptr;
  a.get_error_name(result, &name);
  a.get_error_string(result, &text);
  throw DriverError(std::string(what) + ": " + (name ? name : std::to_string(static_cast<int>(result))) + " (" +
                    (text ? text : "no description") + ")");
}

const Device& default_device() {
  static const Device device = [] {
    const DriverApi& a = api();
    Device d;
    check(a.device_get(&d.device, 0), "cuDeviceGet");
    char name[256] = {};
    check(a.device_get_name(name, sizeof name, d.device), "cuDeviceGetName");
    d.name = name;
    check(a.device_get_attribute(&d.major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d.device),
          "cuDeviceGetAttribute(major)");
    check(a.device_get_attribute(&d.minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d.device),
          "cuDeviceGetAttribute(minor)");
    d.arch = "sm_" + std::to_string(d.major) + std::to_string(d.minor);
    check(a.primary_ctx_retain(&d.context, d.device), "cuDevicePrimaryCtxRetain");  // held for the process
    return d;
  }();
  return device;
}

void make_current(const Device& device) { check(api().ctx_set_current(device.context), "cuCtxSetCurrent"); }

CUfunction load_kernel(const Device& device, const GeneratedKernel& kernel) {
  static std::mutex mutex;
  static std::map<std::string, CUfunction> functions;  // by kernel name (the name carries the source's hash)
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = functions.find(kernel.name); it != functions.end()) return it->second;
  const std::string cubin =
      nvrtc_compile_cached(KernelCache::global(), kernel.source, kernel.name + ".cu", device.arch, ImageKind::cubin);
  make_current(device);
  CUmodule module = nullptr;
  check(api().module_load_data(&module, cubin.data()), "cuModuleLoadData");  // kept for the process
  CUfunction function = nullptr;
  check(api().module_get_function(&function, module, kernel.name.c_str()), "cuModuleGetFunction");
  functions.emplace(kernel.name, function);
  return function;
}

}  // namespace einc::cuda
