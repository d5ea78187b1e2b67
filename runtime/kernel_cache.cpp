// runtime/kernel_cache.cpp — see kernel_cache.h.
#include "runtime/kernel_cache.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/atomic_file.h"
#include "runtime/stable_hash.h"

namespace einc::runtime {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'E', 'I', 'N', 'C', 'K', 'C', '1', '\n'};
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kHeaderSize = 8 + kKeySize + 8 + 8;

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

std::uint64_t get_u64(const std::string& in, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
  return v;
}

bool valid_key(const std::string& key) {
  if (key.size() != kKeySize) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

KernelCache::KernelCache(fs::path dir) : dir_(std::move(dir)) {}

fs::path KernelCache::default_dir() {
  std::string explicit_dir = env("EINC_CACHE_DIR");
  if (explicit_dir == "off") return {};
  if (!explicit_dir.empty()) return explicit_dir;
  std::string xdg = env("XDG_CACHE_HOME");
  if (!xdg.empty()) return fs::path(xdg) / "einc";
  std::string home = env("HOME");
  if (!home.empty()) return fs::path(home) / ".cache" / "einc";
  return {};
}

KernelCache& KernelCache::global() {
  static KernelCache cache(default_dir());
  return cache;
}

fs::path KernelCache::entry_path(const std::string& key) const { return dir_ / (key + ".einc-kernel"); }

std::optional<std::string> KernelCache::read_entry(const std::string& key) {
  if (dir_.empty() || !valid_key(key)) return std::nullopt;
  std::ifstream in(entry_path(key), std::ios::binary);
  if (!in) return std::nullopt;  // no entry: not a rejection
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  auto reject = [&]() -> std::optional<std::string> {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.rejected_entries;
    return std::nullopt;
  };
  if (data.size() < kHeaderSize || std::memcmp(data.data(), kMagic, 8) != 0) return reject();
  if (data.compare(8, kKeySize, key) != 0) return reject();
  const std::uint64_t length = get_u64(data, 8 + kKeySize);
  if (length != data.size() - kHeaderSize) return reject();
  std::string payload = data.substr(kHeaderSize);
  if (fnv1a64(payload) != get_u64(data, 8 + kKeySize + 8)) return reject();
  return payload;
}

bool KernelCache::write_entry(const std::string& key, const std::string& image) {
  if (dir_.empty() || !valid_key(key)) return false;
  std::string entry(kMagic, 8);
  entry += key;
  put_u64(entry, image.size());
  put_u64(entry, fnv1a64(image));
  entry += image;
  std::error_code ec;
  fs::create_directories(dir_, ec);  // an existing directory is fine; any other problem fails the write below
  try {
    // Readers verify the checksum, so an entry torn by a crash is only recompiled: no fsync.
    write_file_atomically(entry_path(key).string(), entry, {.temp_prefix = key + ".tmp-", .flush = false});
    return true;
  } catch (const FileWriteError&) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.write_failures;
    return false;
  }
}

std::string KernelCache::get(const std::string& key, const std::function<std::string()>& compile, Outcome* outcome) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = memory_.find(key);
    if (it != memory_.end()) {
      ++stats_.memory_hits;
      if (outcome) *outcome = Outcome::memory_hit;
      return it->second;
    }
  }
  if (auto disk = read_entry(key)) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.disk_hits;
    memory_.emplace(key, *disk);
    if (outcome) *outcome = Outcome::disk_hit;
    return *disk;
  }
  std::string image = compile();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.compiles;
    memory_.emplace(key, image);
  }
  write_entry(key, image);
  if (outcome) *outcome = Outcome::compiled;
  return image;
}

void KernelCache::clear_memory() {
  std::lock_guard<std::mutex> lock(mutex_);
  memory_.clear();
}

KernelCache::Stats KernelCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace einc::runtime
