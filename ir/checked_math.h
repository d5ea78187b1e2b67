// ir/checked_math.h — signed 64- and 128-bit arithmetic that refuses to
// overflow.
//
// Extents (shapes, loop bounds, positions) live in int64; counts (outputs,
// MACs, FLOPs, bytes, ...) and the coefficients of polynomials in 128-bit
// integers (Int128), so training-scale totals (6·N·D ≈ 10^24) stay exact.
// An operation that would leave its range throws OverflowError, which the
// caller turns into a diagnostic. Nothing wraps, nothing rounds.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace einc::ir {

// The 128-bit integers of counts and coefficients (`__extension__`: GCC and
// Clang have them, ISO C++ does not name them, -Wpedantic stays quiet).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

inline constexpr Int128 kInt128Max = static_cast<Int128>(~UInt128{0} >> 1);
inline constexpr Int128 kInt128Min = -kInt128Max - 1;

// `bits`: the range that was left, 64 (an extent, a position, a dim) or 128
// (a count or a coefficient).
class OverflowError : public std::runtime_error {
 public:
  explicit OverflowError(int bits = 64)
      : std::runtime_error(bits == 128 ? "count exceeds the signed 128-bit range (2^127-1)"
                                       : "value exceeds the signed 64-bit range (2^63-1)"),
        bits(bits) {}
  int bits;
};

inline std::int64_t checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw OverflowError(64);
  return r;
}

inline std::int64_t checked_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) throw OverflowError(64);
  return r;
}

inline std::int64_t checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw OverflowError(64);
  return r;
}

inline Int128 checked_add(Int128 a, Int128 b) {
  Int128 r;
  if (__builtin_add_overflow(a, b, &r)) throw OverflowError(128);
  return r;
}

inline Int128 checked_sub(Int128 a, Int128 b) {
  Int128 r;
  if (__builtin_sub_overflow(a, b, &r)) throw OverflowError(128);
  return r;
}

inline Int128 checked_mul(Int128 a, Int128 b) {
  Int128 r;
  if (__builtin_mul_overflow(a, b, &r)) throw OverflowError(128);
  return r;
}

// The value as int64, or OverflowError(64) when it does not fit.
inline std::int64_t narrow_to_int64(Int128 value) {
  if (value < INT64_MIN || value > INT64_MAX) throw OverflowError(64);
  return static_cast<std::int64_t>(value);
}

// Exact decimal text of a 128-bit integer ("-170141183460469231731687303715884105728" too).
inline std::string int128_to_string(Int128 value) {
  UInt128 magnitude = value < 0 ? UInt128{0} - static_cast<UInt128>(value) : static_cast<UInt128>(value);
  char buffer[48];
  char* end = buffer + sizeof buffer;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) *--p = '-';
  return std::string(p, end);
}

}  // namespace einc::ir
