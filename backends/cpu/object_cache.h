// backends/cpu/object_cache.h — compiled JIT objects on disk, so that a
// second run of a script (a second process) compiles nothing.
//
// An llvm::ObjectCache for LLJIT's compiler: before a module is compiled,
// getObject() looks for its object file in the kernel cache
// (runtime/kernel_cache.h: $EINC_CACHE_DIR, else ~/.cache/einc; "off"
// disables it); after a compile, notifyObjectCompiled() stores it. The key
// is a 128-bit hash of the module's IR text and of the target: triple, CPU
// name and features, LLVM version and codegen level, so a changed kernel
// generator, another CPU or another LLVM never reads a stale object. Entries
// are written atomically and checksummed by the kernel cache; a corrupt one
// is recompiled. Disk problems never fail a compile.
#pragma once

#include <llvm/ExecutionEngine/ObjectCache.h>

#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace einc::cpu {

class ObjectDiskCache : public llvm::ObjectCache {
 public:
  // `target`: everything besides the IR that the object depends on.
  explicit ObjectDiskCache(std::string target) : target_(std::move(target)) {}

  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module* module) override;
  void notifyObjectCompiled(const llvm::Module* module, llvm::MemoryBufferRef object) override;

  // Whether the module of this name was loaded from disk (not compiled).
  bool loaded_from_disk(const std::string& module_name) const;

 private:
  std::string target_;
  mutable std::mutex mutex_;
  std::unordered_map<const llvm::Module*, std::string> pending_;  // key of each module being compiled
  std::set<std::string> loaded_;
};

}  // namespace einc::cpu
