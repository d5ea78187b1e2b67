// tests/common/tensor_text.h — small helpers the differential tests share
// for their failure messages: a shape as text, a C-order position as an index.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace einc_test {

// "[2, 3]"
inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t d = 0; d < shape.size(); ++d) out += (d ? ", " : "") + std::to_string(shape[d]);
  return out + "]";
}

// The multi-index of C-order position `flat`.
inline std::vector<std::int64_t> unflatten(std::int64_t flat, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

}  // namespace einc_test
