// backends/reference/conversion.cpp — see conversion.h.
#include "backends/reference/conversion.h"

#include <cmath>
#include <limits>

#include "einc/internal_error.h"
#include "einc/tensor.h"

namespace einc::reference {

namespace {

// `v` rounded to float dtype `dtype`'s precision (to nearest, ties to even).
double rounded(double v, DType dtype) {
  switch (dtype) {
    case DType::f64:
      return v;
    case DType::f32:
      return static_cast<double>(static_cast<float>(v));
    case DType::f16:
      return static_cast<double>(half_to_float(float_to_half(static_cast<float>(v))));
    case DType::bf16:
      return static_cast<double>(bf16_to_float(float_to_bf16(static_cast<float>(v))));
    case DType::i8:
    case DType::i32:
      break;
  }
  EINC_FAIL(std::string("reference: rounding to ") + dtype_name(dtype) + ", which is not a float dtype");
}

std::int64_t lowest(DType dtype) { return dtype == DType::i8 ? -128 : std::numeric_limits<std::int32_t>::min(); }
std::int64_t highest(DType dtype) { return dtype == DType::i8 ? 127 : std::numeric_limits<std::int32_t>::max(); }

// `v` wrapped to integer dtype `dtype`'s width (two's complement).
std::int64_t wrapped(std::int64_t v, DType dtype) {
  if (dtype == DType::i8) return static_cast<std::int8_t>(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v)));
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
}

}  // namespace

double convert_real_to_real(double v, DType from, DType to) { return rounded(rounded(v, from), to); }

std::int64_t convert_real_to_integer(double v, DType from, DType to) {
  const double r = rounded(v, from);
  if (std::isnan(r)) return 0;
  const double nearest = std::nearbyint(r);  // the default mode: to nearest, ties to even
  if (nearest <= static_cast<double>(lowest(to))) return lowest(to);
  if (nearest >= static_cast<double>(highest(to))) return highest(to);
  return static_cast<std::int64_t>(nearest);
}

double convert_integer_to_real(std::int64_t v, DType from, DType to) {
  return rounded(static_cast<double>(wrapped(v, from)), to);
}

std::int64_t convert_integer_to_integer(std::int64_t v, DType from, DType to) {
  const std::int64_t w = wrapped(v, from);
  return w < lowest(to) ? lowest(to) : w > highest(to) ? highest(to) : w;
}

}  // namespace einc::reference
