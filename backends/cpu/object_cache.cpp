// backends/cpu/object_cache.cpp — see object_cache.h.
#include "backends/cpu/object_cache.h"

#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>

#include "runtime/kernel_cache.h"
#include "runtime/stable_hash.h"

namespace einc::cpu {

std::unique_ptr<llvm::MemoryBuffer> ObjectDiskCache::getObject(const llvm::Module* module) {
  // The key is taken from the IR before the compiler sees it (code
  // generation may change the module), and kept for notifyObjectCompiled.
  std::string ir;
  llvm::raw_string_ostream stream(ir);
  module->print(stream, nullptr);
  std::string key = runtime::hash128_hex("einc cpu object v1;" + target_ + ";" + stream.str());
  runtime::KernelCache& cache = runtime::KernelCache::global();
  if (std::optional<std::string> object = cache.read_entry(key)) {
    std::lock_guard<std::mutex> lock(mutex_);
    loaded_.insert(module->getModuleIdentifier());
    return llvm::MemoryBuffer::getMemBufferCopy(*object, module->getModuleIdentifier());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  pending_[module] = key;
  return nullptr;
}

void ObjectDiskCache::notifyObjectCompiled(const llvm::Module* module, llvm::MemoryBufferRef object) {
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pending_.find(module);
    if (it == pending_.end()) return;
    key = std::move(it->second);
    pending_.erase(it);
  }
  runtime::KernelCache::global().write_entry(key, object.getBuffer().str());
}

bool ObjectDiskCache::loaded_from_disk(const std::string& module_name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return loaded_.count(module_name) != 0;
}

}  // namespace einc::cpu
