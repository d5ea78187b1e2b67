// ir/dtype.h — element types of .ein tensors and their properties.
#pragma once

#include <optional>
#include <string_view>

namespace einc::ir {

enum class DType { f32, f64, f16, bf16, i8, i32 };

std::optional<DType> parse_dtype(std::string_view name);
const char* dtype_name(DType dtype);
int dtype_size(DType dtype);  // bytes per element
bool is_floating(DType dtype);

}  // namespace einc::ir
