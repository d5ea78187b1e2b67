// tests/runtime/half_convert_test.cpp — runtime::halves_to_floats and
// floats_to_halves give exactly the bits of the element conversions
// (half_to_float, float_to_half) for every f16 value, and for f32 values
// around every f16 rounding boundary, the subnormal range, overflow, infinities and NaNs;
// lengths that are not multiples of the vector width.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "einc/tensor.h"
#include "runtime/half_convert.h"

namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

float float_of(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

TEST(HalfConvert, EveryHalfWidensToTheElementConversionsBits) {
  std::vector<std::uint16_t> halves(65536 + 5);  // + 5: a tail shorter than a vector
  for (std::size_t i = 0; i < halves.size(); ++i) halves[i] = static_cast<std::uint16_t>(i);
  std::vector<float> floats(halves.size());
  einc::runtime::halves_to_floats(halves.data(), floats.data(), static_cast<std::int64_t>(halves.size()));
  for (std::size_t i = 0; i < halves.size(); ++i)
    ASSERT_EQ(bits_of(floats[i]), bits_of(einc::half_to_float(halves[i]))) << "half 0x" << std::hex << halves[i];
}

TEST(HalfConvert, FloatsNarrowToTheElementConversionsBits) {
  std::vector<float> floats;
  // Every f16 value, and the f32 values just below, at and just above each
  // halfway point between neighbouring f16 values (ties round to even).
  for (std::uint32_t h = 0; h < 65536; ++h) {
    float v = einc::half_to_float(static_cast<std::uint16_t>(h));
    float next = einc::half_to_float(static_cast<std::uint16_t>(h + 1));
    floats.push_back(v);
    if (std::isfinite(v) && std::isfinite(next) && (h & 0x7fffu) != 0x7bffu && (h & 0x7fffu) != 0x7fffu) {
      float mid = (v + next) / 2;  // exact in f32
      floats.push_back(mid);
      floats.push_back(std::nextafter(mid, v));
      floats.push_back(std::nextafter(mid, next));
    }
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float f : {65504.0f, 65519.99f, 65520.0f, 1e9f, inf, -inf, 1e-10f, -1e-30f, 5.96e-8f, 2.98e-8f, 2.99e-8f})
    floats.push_back(f);
  for (std::uint32_t nan : {0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7fbfffffu}) floats.push_back(float_of(nan));
  std::mt19937 random(42);
  for (int i = 0; i < 100000; ++i) floats.push_back(float_of(static_cast<std::uint32_t>(random())));
  floats.resize(floats.size() / 8 * 8 + 3);  // a tail
  std::vector<std::uint16_t> halves(floats.size());
  einc::runtime::floats_to_halves(floats.data(), halves.data(), static_cast<std::int64_t>(floats.size()));
  for (std::size_t i = 0; i < floats.size(); ++i)
    ASSERT_EQ(halves[i], einc::float_to_half(floats[i])) << "float bits 0x" << std::hex << bits_of(floats[i]);
}

}  // namespace
