// runtime/kernel_cache.h — compiled kernels (CUDA PTX or cubin, CPU object
// files), in memory and on disk, shared by the backends.
//
// Key: a 128-bit hash (32 hex digits, runtime/stable_hash.h) of everything
// the compiled bytes depend on (for CUDA: source, NVRTC options and version,
// arch, image kind; for the CPU: the LLVM module, target, CPU features, LLVM
// version). On disk, under dir(), one file per key,
// `<key>.einc-kernel`:
//
//   bytes 0-7    magic "EINCKC1\n"
//   bytes 8-39   the key (32 hex digits)
//   bytes 40-47  payload length, little-endian u64
//   bytes 48-55  FNV-1a 64 of the payload, little-endian
//   bytes 56-    the payload (exactly `length` bytes: the file ends there)
//
// An entry is trusted only if all of that checks out; anything else (a
// truncated or corrupt file, another key) counts as a rejected entry and is
// recompiled and rewritten. Writers write a uniquely named temporary file in
// the same directory and rename() it over the entry (runtime/atomic_file.h),
// so a reader sees either no entry or a whole one, and two processes filling
// the cache at once at worst both compile and the last rename wins (both
// entries are valid).
// Disk problems (unwritable directory, full disk) never fail a compile:
// the cache then works from memory only.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace einc::runtime {

class KernelCache {
 public:
  enum class Outcome { memory_hit, disk_hit, compiled };
  struct Stats {
    std::size_t memory_hits = 0, disk_hits = 0, compiles = 0;
    std::size_t rejected_entries = 0;  // on disk but truncated, corrupt or for another key
    std::size_t write_failures = 0;
  };

  // `dir` empty: memory only. The directory is created when first written.
  explicit KernelCache(std::filesystem::path dir = {});

  // $EINC_CACHE_DIR (the value "off" disables the disk cache), else
  // $XDG_CACHE_HOME/einc, else $HOME/.cache/einc; empty if none applies.
  static std::filesystem::path default_dir();
  // The process-wide cache the backend and emit_cuda use (default_dir()).
  static KernelCache& global();

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path entry_path(const std::string& key) const;

  // The image for `key`: from memory, else a verified disk entry, else
  // compile() (whose result is stored in both). Exceptions of compile()
  // propagate and nothing is stored.
  std::string get(const std::string& key, const std::function<std::string()>& compile, Outcome* outcome = nullptr);

  // The disk entry for `key` if present and valid (counts a rejection).
  std::optional<std::string> read_entry(const std::string& key);
  // Writes the disk entry (temporary file + rename); false on failure.
  bool write_entry(const std::string& key, const std::string& image);
  void clear_memory();
  Stats stats() const;

 private:
  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> memory_;
  Stats stats_;
};

}  // namespace einc::runtime
