// ir/dtype.cpp — dtype names and sizes.
#include "ir/dtype.h"

namespace einc::ir {

std::optional<DType> parse_dtype(std::string_view name) {
  if (name == "f32") return DType::f32;
  if (name == "f64") return DType::f64;
  if (name == "f16") return DType::f16;
  if (name == "bf16") return DType::bf16;
  if (name == "i8") return DType::i8;
  if (name == "i32") return DType::i32;
  return std::nullopt;
}

}  // namespace einc::ir

// The public names and sizes (einc/dtype.h) live in the lowest layer that
// knows dtypes, so the IR and the runtime share one table.
namespace einc {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::f16:
      return "f16";
    case DType::bf16:
      return "bf16";
    case DType::i8:
      return "i8";
    case DType::i32:
      return "i32";
  }
  return "?";
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return 8;
    case DType::f32:
    case DType::i32:
      return 4;
    case DType::f16:
    case DType::bf16:
      return 2;
    case DType::i8:
      return 1;
  }
  return 4;
}

}  // namespace einc

namespace einc::ir {

bool is_floating(DType dtype) { return dtype != DType::i8 && dtype != DType::i32; }

}  // namespace einc::ir
