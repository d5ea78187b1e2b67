// ir/checked_math.h — signed 64-bit arithmetic that refuses to overflow.
//
// Every count einc reports is exact: an operation that would leave int64
// throws OverflowError, which the caller turns into a diagnostic. Nothing
// wraps, nothing rounds.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace einc::ir {

class OverflowError : public std::runtime_error {
 public:
  OverflowError() : std::runtime_error("count exceeds the signed 64-bit range (2^63-1)") {}
};

inline std::int64_t checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw OverflowError();
  return r;
}

inline std::int64_t checked_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) throw OverflowError();
  return r;
}

inline std::int64_t checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw OverflowError();
  return r;
}

}  // namespace einc::ir
