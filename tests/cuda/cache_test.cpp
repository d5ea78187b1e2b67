// tests/cuda/cache_test.cpp — the kernel cache (runtime/kernel_cache.h)
// and NVRTC images through it (backends/cuda/nvrtc_cache.h): keys, memory
// and disk hits, the default directory, entries that must not be trusted
// (truncated, corrupt, another key's, trailing bytes), disk failures, and
// two threads and several processes filling one directory at once.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include "backends/cuda/nvrtc_cache.h"
#include "backends/cuda/source_util.h"

namespace {

namespace fs = std::filesystem;
using einc::cuda::ImageKind;
using einc::cuda::KernelCache;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ =
        fs::temp_directory_path() / ("einc_cache_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string key_of(int i) { return einc::cuda::hash128_hex("key " + std::to_string(i)); }

// A payload that depends on the key (large enough that a write is not one
// atomic page).
std::string payload_of(const std::string& key, std::size_t size = 200000) {
  std::string out;
  out.reserve(size);
  std::uint64_t h = einc::cuda::fnv1a64(key);
  while (out.size() < size) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    out.push_back(static_cast<char>(h >> 56));
  }
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const fs::path& p, const std::string& data) { std::ofstream(p, std::ios::binary | std::ios::trunc) << data; }

TEST(KernelCache, KeyCoversSourceOptionsVersionArchAndKind) {
  const std::string base = einc::cuda::nvrtc_cache_key("src", {"-a", "-b"}, "13.0", "sm_80", ImageKind::cubin);
  EXPECT_EQ(base.size(), 32u);
  EXPECT_EQ(base, einc::cuda::nvrtc_cache_key("src", {"-a", "-b"}, "13.0", "sm_80", ImageKind::cubin));
  std::set<std::string> keys = {
      base,
      einc::cuda::nvrtc_cache_key("src2", {"-a", "-b"}, "13.0", "sm_80", ImageKind::cubin),
      einc::cuda::nvrtc_cache_key("src", {"-a"}, "13.0", "sm_80", ImageKind::cubin),
      einc::cuda::nvrtc_cache_key("src", {"-a-b"}, "13.0", "sm_80", ImageKind::cubin),
      einc::cuda::nvrtc_cache_key("src", {"-a", "-b"}, "13.1", "sm_80", ImageKind::cubin),
      einc::cuda::nvrtc_cache_key("src", {"-a", "-b"}, "13.0", "sm_90a", ImageKind::cubin),
      einc::cuda::nvrtc_cache_key("src", {"-a", "-b"}, "13.0", "sm_80", ImageKind::ptx),
  };
  EXPECT_EQ(keys.size(), 7u);
}

class ScopedEnv {
 public:
  explicit ScopedEnv(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  void set(const char* v) { v ? ::setenv(name_, v, 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(KernelCache, DefaultDirectory) {
  ScopedEnv dir("EINC_CACHE_DIR"), xdg("XDG_CACHE_HOME"), home("HOME");
  dir.set("/tmp/explicit");
  EXPECT_EQ(KernelCache::default_dir(), fs::path("/tmp/explicit"));
  dir.set("off");
  EXPECT_TRUE(KernelCache::default_dir().empty());
  dir.set(nullptr);
  xdg.set("/tmp/xdg");
  EXPECT_EQ(KernelCache::default_dir(), fs::path("/tmp/xdg/einc"));
  xdg.set("");
  home.set("/tmp/home");
  EXPECT_EQ(KernelCache::default_dir(), fs::path("/tmp/home/.cache/einc"));
  home.set(nullptr);
  EXPECT_TRUE(KernelCache::default_dir().empty());
}

TEST(KernelCache, MemoryThenDisk) {
  TempDir dir;
  int compiles = 0;
  auto compile = [&] {
    ++compiles;
    return std::string("image\0with a NUL", 16);
  };
  const std::string key = key_of(1);
  KernelCache::Outcome outcome;
  {
    KernelCache cache(dir.path());
    EXPECT_EQ(cache.get(key, compile, &outcome), std::string("image\0with a NUL", 16));
    EXPECT_EQ(outcome, KernelCache::Outcome::compiled);
    cache.get(key, compile, &outcome);
    EXPECT_EQ(outcome, KernelCache::Outcome::memory_hit);
    EXPECT_TRUE(fs::exists(cache.entry_path(key)));
  }
  KernelCache fresh(dir.path());  // another process, in effect
  EXPECT_EQ(fresh.get(key, compile, &outcome), std::string("image\0with a NUL", 16));
  EXPECT_EQ(outcome, KernelCache::Outcome::disk_hit);
  EXPECT_EQ(compiles, 1);
  EXPECT_EQ(fresh.stats().disk_hits, 1u);
  for (const auto& entry : fs::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().extension(), ".einc-kernel") << "temporary file left: " << entry.path();
}

TEST(KernelCache, MemoryOnlyWithoutADirectory) {
  KernelCache cache;
  int compiles = 0;
  auto compile = [&] { return std::to_string(++compiles); };
  EXPECT_EQ(cache.get(key_of(2), compile), "1");
  EXPECT_EQ(cache.get(key_of(2), compile), "1");
  EXPECT_FALSE(cache.write_entry(key_of(2), "x"));
}

TEST(KernelCache, NvrtcThroughTheCache) {
  TempDir dir;
  const std::string source = "extern \"C\" __global__ void twice(float* x) { x[threadIdx.x] *= 2.0f; }\n";
  KernelCache::Outcome outcome;
  KernelCache first(dir.path());
  std::string ptx = einc::cuda::nvrtc_compile_cached(first, source, "twice.cu", "sm_80", ImageKind::ptx, &outcome);
  EXPECT_EQ(outcome, KernelCache::Outcome::compiled);
  EXPECT_NE(ptx.find(".entry twice"), std::string::npos);
  KernelCache second(dir.path());
  EXPECT_EQ(einc::cuda::nvrtc_compile_cached(second, source, "twice.cu", "sm_80", ImageKind::ptx, &outcome), ptx);
  EXPECT_EQ(outcome, KernelCache::Outcome::disk_hit);
  einc::cuda::nvrtc_compile_cached(second, source, "twice.cu", "sm_90a", ImageKind::ptx, &outcome);
  EXPECT_EQ(outcome, KernelCache::Outcome::compiled);  // another arch, another key
}

// Each damaged entry is rejected (never returned) and recompiled, and the
// rewritten entry is good.
TEST(KernelCache, DamagedEntriesAreRecompiled) {
  TempDir dir;
  const std::string key = key_of(3), other = key_of(4);
  const std::string good_payload = payload_of(key, 5000);
  KernelCache writer(dir.path());
  ASSERT_TRUE(writer.write_entry(key, good_payload));
  ASSERT_TRUE(writer.write_entry(other, payload_of(other, 5000)));
  const std::string good = read(writer.entry_path(key));
  ASSERT_EQ(good.size(), 56 + good_payload.size());

  struct Damage {
    const char* what;
    std::string bytes;
  };
  std::string flipped = good;
  flipped[100] = static_cast<char>(flipped[100] ^ 0x40);
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  std::string bad_length = good;
  bad_length[40] = static_cast<char>(bad_length[40] + 1);
  const std::vector<Damage> damages = {
      {"truncated to half", good.substr(0, good.size() / 2)},
      {"truncated by one byte", good.substr(0, good.size() - 1)},
      {"header only", good.substr(0, 56)},
      {"shorter than a header", good.substr(0, 20)},
      {"empty", ""},
      {"a flipped payload byte", flipped},
      {"a wrong magic", bad_magic},
      {"a wrong length", bad_length},
      {"trailing bytes", good + "junk"},
      {"another key's entry", read(writer.entry_path(other))},
  };
  for (const Damage& d : damages) {
    write(writer.entry_path(key), d.bytes);
    KernelCache cache(dir.path());
    EXPECT_FALSE(cache.read_entry(key).has_value()) << d.what;
    EXPECT_EQ(cache.stats().rejected_entries, 1u) << d.what;
    int compiles = 0;
    KernelCache::Outcome outcome;
    EXPECT_EQ(cache.get(
                  key,
                  [&] {
                    ++compiles;
                    return good_payload;
                  },
                  &outcome),
              good_payload)
        << d.what;
    EXPECT_EQ(outcome, KernelCache::Outcome::compiled) << d.what;
    EXPECT_EQ(compiles, 1) << d.what;
    EXPECT_EQ(read(writer.entry_path(key)), good) << d.what << ": the entry was not rewritten";
  }
}

TEST(KernelCache, ACompileErrorStoresNothing) {
  TempDir dir;
  KernelCache cache(dir.path());
  EXPECT_THROW(cache.get(key_of(5), []() -> std::string { throw std::runtime_error("nvrtc says no"); }),
               std::runtime_error);
  EXPECT_FALSE(fs::exists(cache.entry_path(key_of(5))));
  KernelCache::Outcome outcome;
  EXPECT_EQ(cache.get(
                key_of(5), [] { return std::string("ok"); }, &outcome),
            "ok");
  EXPECT_EQ(outcome, KernelCache::Outcome::compiled);
}

TEST(KernelCache, AnUnwritableDirectoryFallsBackToMemory) {
  KernelCache cache("/proc/einc-cannot-be-created/cache");
  KernelCache::Outcome outcome;
  EXPECT_EQ(cache.get(
                key_of(6), [] { return std::string("image"); }, &outcome),
            "image");
  EXPECT_EQ(outcome, KernelCache::Outcome::compiled);
  EXPECT_EQ(cache.get(
                key_of(6), [] { return std::string("other"); }, &outcome),
            "image");
  EXPECT_EQ(outcome, KernelCache::Outcome::memory_hit);
  EXPECT_GE(cache.stats().write_failures, 1u);
}

// Two threads, each with its own cache object on one directory, fill the
// same keys at once; every value either returns is right, and the entries
// left are all valid.
TEST(KernelCache, TwoThreadsFillingOneDirectory) {
  TempDir dir;
  constexpr int kKeys = 40;
  std::atomic<int> wrong{0};
  auto fill = [&](int rounds) {
    for (int r = 0; r < rounds; ++r) {
      KernelCache cache(dir.path());  // fresh memory: every round goes to disk
      for (int i = 0; i < kKeys; ++i) {
        const std::string key = key_of(100 + i);
        if (cache.get(key, [&] { return payload_of(key); }) != payload_of(key)) ++wrong;
      }
    }
  };
  std::thread a(fill, 4), b(fill, 4);
  a.join();
  b.join();
  EXPECT_EQ(wrong.load(), 0);
  KernelCache check(dir.path());
  for (int i = 0; i < kKeys; ++i) {
    auto entry = check.read_entry(key_of(100 + i));
    ASSERT_TRUE(entry.has_value()) << i;
    EXPECT_EQ(*entry, payload_of(key_of(100 + i)));
  }
  EXPECT_EQ(check.stats().rejected_entries, 0u);
}

// Four processes rewrite the same entries over and over (each write_entry
// replaces the file) while each also reads them back: a reader must never
// get a damaged entry accepted, nor a wrong payload.
TEST(KernelCache, ProcessesWritingAndReadingAtOnce) {
  TempDir dir;
  constexpr int kProcesses = 4, kKeys = 8, kRounds = 25;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int status = 0;
      for (int r = 0; r < kRounds; ++r) {
        KernelCache cache(dir.path());
        for (int i = 0; i < kKeys; ++i) {
          const std::string key = key_of(200 + i);
          if (!cache.write_entry(key, payload_of(key))) status |= 1;
          auto back = cache.read_entry(key_of(200 + (i + p) % kKeys));
          if (back && *back != payload_of(key_of(200 + (i + p) % kKeys))) status |= 2;
        }
        if (cache.stats().rejected_entries != 0) status |= 4;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "bit 1: a write failed, 2: a wrong payload was read, 4: a damaged entry was seen";
  }
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(entry.path().extension(), ".einc-kernel") << "temporary file left: " << entry.path();
  }
  EXPECT_EQ(files, static_cast<std::size_t>(kKeys));
}

}  // namespace
