// einc/dtype.h — element types of einc tensors (the .ein dtypes).
//
// f16 and bf16 elements are stored as their 16-bit patterns (uint16_t);
// einc/tensor.h converts them to and from float with round-to-nearest-even.
#pragma once

#include <cstddef>

namespace einc {

enum class DType { f32, f64, f16, bf16, i8, i32 };

const char* dtype_name(DType dtype);  // "f32", ...
std::size_t dtype_size(DType dtype);  // bytes per element

// f16 or bf16: stored in 16 bits, computed in f32.
inline bool is_half(DType dtype) { return dtype == DType::f16 || dtype == DType::bf16; }

}  // namespace einc
