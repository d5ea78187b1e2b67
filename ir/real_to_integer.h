// ir/real_to_integer.h — the one rule by which a real value becomes an integer.
//
// Wherever einc turns a double into an integer — a constant, a dim or a
// function's value in an integer statement, a real stored into an i8/i32
// tensor — the value is truncated toward zero, and NaN, infinities and
// magnitudes of at least kRealToIntegerLimit give 0. The limit is below
// 2^63, so every value that passes fits an int64 (C++'s conversion is
// undefined and LLVM's fptosi poison beyond it). The interpreter, the
// runtime's stores, the CPU loop kernels (loop_gen.cpp) and the CUDA
// prelude and code generator (source_util.cpp, expr_codegen.cpp) all take
// the rule from here, so they agree bit for bit.
#pragma once

#include <cmath>
#include <cstdint>

namespace einc::ir {

inline constexpr double kRealToIntegerLimit = 9.2e18;

inline std::int64_t real_to_int64(double v) {
  if (!std::isfinite(v) || std::fabs(v) >= kRealToIntegerLimit) return 0;
  return static_cast<std::int64_t>(v);  // toward zero
}

}  // namespace einc::ir
