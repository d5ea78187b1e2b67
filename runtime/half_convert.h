// runtime/half_convert.h — f16 <-> f32 over whole arrays, fast.
//
// The element conversions (einc::half_to_float / float_to_half, tensor.h)
// are written bit by bit and do not vectorise: widening a decode's f16
// weights with them took longer than the GEMV that needed them
// (docs/performance.md, "Costs the runtime is built around"). These use
// the F16C instructions (8 values per instruction) where the CPU has them,
// chosen at run time, and give exactly the element functions' bits for
// every input, NaNs included (a block holding a NaN is redone element by
// element: F16C quiets signalling NaNs and keeps payloads that
// float_to_half does not).
#pragma once

#include <cstdint>

namespace einc::runtime {

void halves_to_floats(const std::uint16_t* in, float* out, std::int64_t n);
void floats_to_halves(const float* in, std::uint16_t* out, std::int64_t n);

}  // namespace einc::runtime
