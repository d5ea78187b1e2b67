// runtime/tensor.cpp — einc::Tensor: aligned owned buffers, strided views,
// element conversion for every dtype (f16/bf16 as 16-bit patterns).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "einc/tensor.h"
#include "ir/program.h"
#include "ir/real_to_integer.h"
#include "runtime/buffer_pool.h"

namespace einc {

std::uint16_t float_to_half(float value) {
  std::uint32_t x;
  std::memcpy(&x, &value, 4);
  std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<std::uint16_t>(sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {                                                    // subnormal half (or zero)
    float f;
    std::memcpy(&f, &abs, 4);
    // Scale so the half subnormal unit (2^-24) becomes 1, round to even.
    float scaled = f * 16777216.0f;
    auto q = static_cast<std::uint32_t>(std::nearbyint(scaled));
    return static_cast<std::uint16_t>(sign | q);
  }
  std::uint32_t mant = abs & 0x7fffffu;
  std::uint32_t exp = (abs >> 23) - 112;  // rebias 127 -> 15
  std::uint32_t h = (exp << 10) | (mant >> 13);
  std::uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // carries into the exponent correctly
  return static_cast<std::uint16_t>(sign | h);
}

float half_to_float(std::uint16_t bits) {
  std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  std::uint32_t exp = (bits >> 10) & 0x1fu;
  std::uint32_t mant = bits & 0x3ffu;
  float out;
  if (exp == 0) {
    out = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -out : out;
  }
  std::uint32_t x = exp == 31 ? (sign | 0x7f800000u | (mant << 13)) : (sign | ((exp + 112) << 23) | (mant << 13));
  std::memcpy(&out, &x, 4);
  return out;
}

void store_element(DType dtype, void* where, double value) {
  switch (dtype) {
    case DType::f32: {
      float v = static_cast<float>(value);
      std::memcpy(where, &v, 4);
      return;
    }
    case DType::f64:
      std::memcpy(where, &value, 8);
      return;
    case DType::f16: {
      auto v = float_to_half(static_cast<float>(value));
      std::memcpy(where, &v, 2);
      return;
    }
    case DType::bf16: {
      auto v = float_to_bf16(static_cast<float>(value));
      std::memcpy(where, &v, 2);
      return;
    }
    case DType::i8:
    case DType::i32: {
      // Integers wrap (two's complement) like numpy's astype; NaN/inf store 0.
      std::int64_t wide = ir::real_to_int64(value);
      if (dtype == DType::i8) {
        auto v = static_cast<std::int8_t>(static_cast<std::uint8_t>(static_cast<std::uint64_t>(wide)));
        std::memcpy(where, &v, 1);
      } else {
        auto v = static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(wide)));
        std::memcpy(where, &v, 4);
      }
      return;
    }
  }
}

double load_element(DType dtype, const void* where) {
  switch (dtype) {
    case DType::f32: {
      float v;
      std::memcpy(&v, where, 4);
      return v;
    }
    case DType::f64: {
      double v;
      std::memcpy(&v, where, 8);
      return v;
    }
    case DType::f16: {
      std::uint16_t v;
      std::memcpy(&v, where, 2);
      return half_to_float(v);
    }
    case DType::bf16: {
      std::uint16_t v;
      std::memcpy(&v, where, 2);
      return bf16_to_float(v);
    }
    case DType::i8: {
      std::int8_t v;
      std::memcpy(&v, where, 1);
      return v;
    }
    case DType::i32: {
      std::int32_t v;
      std::memcpy(&v, where, 4);
      return v;
    }
  }
  return 0;
}

namespace {

std::int64_t checked_numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t e : shape) {
    if (e < 0) throw std::invalid_argument("negative extent " + std::to_string(e));
    if (__builtin_mul_overflow(n, e, &n)) throw std::length_error("tensor size overflows int64");
  }
  return n;
}

}  // namespace

Tensor Tensor::zeros(DType dtype, std::vector<std::int64_t> shape) {
  Tensor t = empty(dtype, std::move(shape));
  std::memset(t.data_, 0, (t.nbytes() + 63) / 64 * 64);
  return t;
}

Tensor Tensor::empty(DType dtype, std::vector<std::int64_t> shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = checked_numel(shape);
  std::int64_t bytes;
  if (__builtin_mul_overflow(t.numel_, static_cast<std::int64_t>(dtype_size(dtype)), &bytes) ||
      bytes > std::numeric_limits<std::int64_t>::max() - 64)
    throw std::length_error("tensor of " + std::to_string(t.numel_) + " elements is too large");
  std::size_t size = (static_cast<std::size_t>(bytes) + 63) / 64 * 64;
  if (size == 0) size = 64;
  if (size >= runtime::kPooledMinBytes) {  // reused between runs (runtime/buffer_pool.h)
    t.storage_ = runtime::pooled_buffer(size);
  } else {
    void* p = std::aligned_alloc(64, size);
    if (!p) throw std::bad_alloc();
    t.storage_ = std::shared_ptr<void>(p, std::free);
  }
  t.data_ = t.storage_.get();
  t.strides_ = ir::contiguous_strides(shape);
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::view(DType dtype, void* data, std::vector<std::int64_t> shape, std::vector<std::int64_t> strides) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = checked_numel(shape);
  if (strides.empty()) strides = ir::contiguous_strides(shape);
  if (strides.size() != shape.size())
    throw std::invalid_argument("view: " + std::to_string(strides.size()) + " strides for rank " +
                                std::to_string(shape.size()));
  if (!data && t.numel_ > 0) throw std::invalid_argument("view: null data");
  t.data_ = data;
  t.shape_ = std::move(shape);
  t.strides_ = std::move(strides);
  return t;
}

bool Tensor::is_contiguous() const { return strides_ == ir::contiguous_strides(shape_); }

std::int64_t Tensor::offset_of_flat(std::int64_t i) const {
  std::int64_t offset = 0;
  for (std::size_t d = shape_.size(); d-- > 0;) {
    std::int64_t extent = shape_[d];
    offset += (i % extent) * strides_[d];
    i /= extent;
  }
  return offset;
}

double Tensor::get(const std::vector<std::int64_t>& index) const {
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < index.size(); ++d) offset += index[d] * strides_[d];
  return load_element(dtype_, static_cast<const char*>(data_) + offset * static_cast<std::int64_t>(dtype_size(dtype_)));
}

void Tensor::set(const std::vector<std::int64_t>& index, double value) const {
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < index.size(); ++d) offset += index[d] * strides_[d];
  store_element(dtype_, static_cast<char*>(data_) + offset * static_cast<std::int64_t>(dtype_size(dtype_)), value);
}

double Tensor::get_flat(std::int64_t i) const {
  return load_element(
      dtype_, static_cast<const char*>(data_) + offset_of_flat(i) * static_cast<std::int64_t>(dtype_size(dtype_)));
}

void Tensor::set_flat(std::int64_t i, double value) const {
  store_element(dtype_, static_cast<char*>(data_) + offset_of_flat(i) * static_cast<std::int64_t>(dtype_size(dtype_)),
                value);
}

Tensor Tensor::clone() const {
  Tensor out = zeros(dtype_, shape_);
  if (is_contiguous()) {
    if (numel_ > 0) std::memcpy(out.data_, data_, nbytes());
    return out;
  }
  std::size_t size = dtype_size(dtype_);
  for (std::int64_t i = 0; i < numel_; ++i)
    std::memcpy(static_cast<char*>(out.data_) + i * static_cast<std::int64_t>(size),
                static_cast<const char*>(data_) + offset_of_flat(i) * static_cast<std::int64_t>(size), size);
  return out;
}

void Tensor::copy_from(const Tensor& source) const {
  if (source.dtype_ != dtype_ || source.shape_ != shape_)
    throw std::invalid_argument("copy_from: " + source.describe() + " into " + describe());
  if (is_contiguous() && source.is_contiguous()) {
    if (numel_ > 0) std::memmove(data_, source.data_, nbytes());
    return;
  }
  std::size_t size = dtype_size(dtype_);
  for (std::int64_t i = 0; i < numel_; ++i)
    std::memmove(static_cast<char*>(data_) + offset_of_flat(i) * static_cast<std::int64_t>(size),
                 static_cast<const char*>(source.data_) + source.offset_of_flat(i) * static_cast<std::int64_t>(size),
                 size);
}

std::string Tensor::describe() const {
  std::string out = std::string(dtype_name(dtype_)) + "[";
  for (std::size_t d = 0; d < shape_.size(); ++d) out += (d ? ", " : "") + std::to_string(shape_[d]);
  return out + "]";
}

}  // namespace einc
