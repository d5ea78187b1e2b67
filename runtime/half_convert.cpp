// runtime/half_convert.cpp — see half_convert.h.
#include "runtime/half_convert.h"

#include "einc/tensor.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace einc::runtime {

namespace {

void halves_to_floats_scalar(const std::uint16_t* in, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = half_to_float(in[i]);
}

void floats_to_halves_scalar(const float* in, std::uint16_t* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}

#if defined(__x86_64__)
bool has_f16c() {
  static const bool yes = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
  return yes;
}

__attribute__((target("avx,f16c"))) void halves_to_floats_f16c(const std::uint16_t* in, float* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0)
      halves_to_floats_scalar(in + i, out + i, 8);
    else
      _mm256_storeu_ps(out + i, v);
  }
  halves_to_floats_scalar(in + i, out + i, n - i);
}

__attribute__((target("avx,f16c"))) void floats_to_halves_f16c(const float* in, std::uint16_t* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(in + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0)
      floats_to_halves_scalar(in + i, out + i, 8);
    else  // round to nearest even, as float_to_half
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  floats_to_halves_scalar(in + i, out + i, n - i);
}
#endif

}  // namespace

void halves_to_floats(const std::uint16_t* in, float* out, std::int64_t n) {
#if defined(__x86_64__)
  if (has_f16c()) return halves_to_floats_f16c(in, out, n);
#endif
  halves_to_floats_scalar(in, out, n);
}

void floats_to_halves(const float* in, std::uint16_t* out, std::int64_t n) {
#if defined(__x86_64__)
  if (has_f16c()) return floats_to_halves_f16c(in, out, n);
#endif
  floats_to_halves_scalar(in, out, n);
}

}  // namespace einc::runtime
