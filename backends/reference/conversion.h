// backends/reference/conversion.h — what a conversion (`f32(...)`,
// `i8(...)`, docs/language.md "Conversions") does to one value.
//
// The argument is computed as a statement of its own dtype would compute
// it and rounded once to that dtype (a float argument to its precision, an
// integer one wrapped to its width); then
//   to a float dtype:   rounded to nearest (ties to even);
//   to an integer dtype: rounded to nearest (ties to even) and saturated to
//                        the dtype's range, NaN giving 0 (quantisation
//                        clamps instead of wrapping).
// The interpreter holds float values as double and integer ones as int64,
// so each function takes and gives those.
#pragma once

#include <cstdint>

#include "ir/dtype.h"

namespace einc::reference {

// A float argument value `v` of dtype `from`, converted to float dtype `to`.
double convert_real_to_real(double v, DType from, DType to);
// ... to integer dtype `to`.
std::int64_t convert_real_to_integer(double v, DType from, DType to);
// An integer argument value `v` of dtype `from`, converted to float dtype `to`.
double convert_integer_to_real(std::int64_t v, DType from, DType to);
// ... to integer dtype `to`.
std::int64_t convert_integer_to_integer(std::int64_t v, DType from, DType to);

}  // namespace einc::reference
