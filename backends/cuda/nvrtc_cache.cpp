// backends/cuda/nvrtc_cache.cpp — see nvrtc_cache.h.
#include "backends/cuda/nvrtc_cache.h"

#include "backends/cuda/source_util.h"

namespace einc::cuda {

std::string nvrtc_cache_key(const std::string& source, const std::vector<std::string>& options,
                            const std::string& nvrtc_version, const std::string& arch, ImageKind kind) {
  // Length-prefixed fields, so that no two different tuples give one text.
  std::string text;
  auto field = [&](const std::string& f) { text += std::to_string(f.size()) + ":" + f + ";"; };
  field("einc kernel cache v1");
  field(nvrtc_version);
  field(arch);
  field(image_kind_name(kind));
  for (const std::string& o : options) field(o);
  field(source);
  return hash128_hex(text);
}

std::string nvrtc_compile_cached(KernelCache& cache, const std::string& source, const std::string& name,
                                 const std::string& arch, ImageKind kind, KernelCache::Outcome* outcome) {
  const std::string key = nvrtc_cache_key(source, nvrtc_options(arch, kind), nvrtc_version(), arch, kind);
  return cache.get(
      key, [&] { return nvrtc_compile(source, name, arch, kind).image; }, outcome);
}

}  // namespace einc::cuda
