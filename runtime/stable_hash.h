// runtime/stable_hash.h — hashes that are the same on every machine and in
// every run (std::hash is neither): kernel names and on-disk cache keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace einc::runtime {

// 64-bit FNV-1a.
std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t seed = 0xcbf29ce484222325ull);
inline std::uint64_t fnv1a64(const std::string& text, std::uint64_t seed = 0xcbf29ce484222325ull) {
  return fnv1a64(text.data(), text.size(), seed);
}
// 128 bits as 32 lowercase hex digits (two FNV-1a passes with different seeds).
std::string hash128_hex(const std::string& text);
std::string hex64(std::uint64_t value, int digits = 16);

}  // namespace einc::runtime
