// ir/dtype.h — element types of .ein tensors and their properties.
#pragma once

#include <optional>
#include <string_view>

#include "einc/dtype.h"

namespace einc::ir {

// One enum for the IR and the public API (include/einc/dtype.h).
using DType = einc::DType;

std::optional<DType> parse_dtype(std::string_view name);
using einc::dtype_name;
using einc::dtype_size;
bool is_floating(DType dtype);

}  // namespace einc::ir
