// runtime/stable_hash.cpp — see stable_hash.h.
#include "runtime/stable_hash.h"

namespace einc::runtime {

std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t seed) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::uint64_t h = seed;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= bytes[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex64(std::uint64_t value, int digits) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 15u];
  return out;
}

std::string hash128_hex(const std::string& text) {
  return hex64(fnv1a64(text)) + hex64(fnv1a64(text, 0x84222325cbf29ce4ull ^ text.size()));
}

}  // namespace einc::runtime
