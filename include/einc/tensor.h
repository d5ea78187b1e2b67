// einc/tensor.h — an n-dimensional array: dtype, shape, strides, data.
//
// A Tensor either owns a 64-byte-aligned buffer (Tensor::zeros, C order) or
// views the caller's memory with any strides (Tensor::view), which einc
// never frees. Strides are in elements, may be zero (broadcast) and, for a
// view, negative. Copies of a Tensor share the buffer (like a shared_ptr);
// use clone() for a deep, contiguous copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "einc/dtype.h"

namespace einc {

// IEEE half and bfloat16 conversions (round to nearest even; NaN kept).
// The bfloat16 ones are inline, so that loops over tensors vectorise.
std::uint16_t float_to_half(float value);
float half_to_float(std::uint16_t bits);

inline std::uint16_t float_to_bf16(float value) {
  std::uint32_t x;
  std::memcpy(&x, &value, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  std::uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>((x + rounding) >> 16);
}

inline float bf16_to_float(std::uint16_t bits) {
  std::uint32_t x = static_cast<std::uint32_t>(bits) << 16;
  float out;
  std::memcpy(&out, &x, 4);
  return out;
}

class Tensor {
 public:
  Tensor() = default;

  // An owned, zero-filled, C-ordered tensor. Throws std::invalid_argument on
  // a negative extent and std::length_error when the size overflows.
  static Tensor zeros(DType dtype, std::vector<std::int64_t> shape);
  // The same, not filled: for a buffer about to be overwritten completely.
  static Tensor empty(DType dtype, std::vector<std::int64_t> shape);
  // A view of caller memory; strides in elements (default: C order).
  static Tensor view(DType dtype, void* data, std::vector<std::int64_t> shape, std::vector<std::int64_t> strides = {});

  // False for a default-constructed Tensor; a zero-size tensor (some extent
  // 0) is defined without data.
  bool defined() const { return data_ != nullptr || (numel_ == 0 && !shape_.empty()); }
  DType dtype() const { return dtype_; }
  const std::vector<std::int64_t>& shape() const { return shape_; }
  const std::vector<std::int64_t>& strides() const { return strides_; }
  std::size_t rank() const { return shape_.size(); }
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  bool owns_memory() const { return storage_ != nullptr; }
  bool is_contiguous() const;  // C order, no gaps

  void* data() const { return data_; }
  template <typename T>
  T* data_as() const {
    return static_cast<T*>(data_);
  }

  // Element access by multi-index, converted to or from double (any dtype).
  double get(const std::vector<std::int64_t>& index) const;
  void set(const std::vector<std::int64_t>& index, double value) const;
  // Element access by linear C-order position (0 <= i < numel()).
  double get_flat(std::int64_t i) const;
  void set_flat(std::int64_t i, double value) const;

  // A contiguous owned copy.
  Tensor clone() const;
  // Copies `source` (same dtype and shape, any strides) into this tensor's
  // elements, through this tensor's strides. Throws std::invalid_argument
  // on a dtype or shape mismatch.
  void copy_from(const Tensor& source) const;
  std::string describe() const;  // "f32[512, 128]"

 private:
  std::int64_t offset_of_flat(std::int64_t i) const;

  DType dtype_ = DType::f32;
  std::vector<std::int64_t> shape_;
  std::vector<std::int64_t> strides_;
  std::int64_t numel_ = 0;
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
};

// Stores `value` into one element of type `dtype` at `where` (rounding to
// the dtype; integers wrap like two's complement) and loads it back.
void store_element(DType dtype, void* where, double value);
double load_element(DType dtype, const void* where);

}  // namespace einc
