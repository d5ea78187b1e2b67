// backends/cuda/source_util.cpp — see source_util.h.
#include "backends/cuda/source_util.h"

#include "ir/real_to_integer.h"

#include <cmath>
#include <cstdio>

namespace einc::cuda {

std::string ll(std::int64_t value) { return std::to_string(value) + "LL"; }

namespace {

std::string hexfloat(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%a", value);
  return buffer;
}

std::string decimal(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
  return buffer;
}

}  // namespace

std::string float_literal(float value) {
  if (std::isnan(value)) return "__int_as_float(0x7fc00000)";
  if (std::isinf(value)) return value > 0 ? "einc_inf_f()" : "(-einc_inf_f())";
  return "(" + hexfloat(value) + "f /* " + decimal(value, 9) + " */)";
}

std::string double_literal(double value) {
  if (std::isnan(value)) return "__longlong_as_double(0x7ff8000000000000LL)";
  if (std::isinf(value)) return value > 0 ? "einc_inf_d()" : "(-einc_inf_d())";
  return "(" + hexfloat(value) + " /* " + decimal(value, 17) + " */)";
}

const char* storage_ctype(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::f32:
      return "float";
    case ir::DType::f64:
      return "double";
    case ir::DType::f16:
      return "__half";
    case ir::DType::bf16:
      return "__nv_bfloat16";
    case ir::DType::i8:
      return "signed char";
    case ir::DType::i32:
      return "int";
  }
  return "float";
}

bool needs_fp16_header(ir::DType dtype) { return is_half(dtype); }

std::string device_prelude(bool fp16) {
  std::string out = R"(// ---- einc device prelude (backends/cuda/source_util.cpp) ----
)";
  if (fp16) out += "#include <cuda_fp16.h>\n#include <cuda_bf16.h>\n";
  out += R"(#define EINC_DEV __device__ __forceinline__
#define EINC_DEVM __device__ __forceinline__

// Math in the compute type (float for f32/f16/bf16, double for f64 and for
// functions of integers), with the formulas of docs/semantics.md.
EINC_DEV float einc_exp(float x) { return expf(x); }
EINC_DEV double einc_exp(double x) { return exp(x); }
EINC_DEV float einc_log(float x) { return logf(x); }
EINC_DEV double einc_log(double x) { return log(x); }
EINC_DEV float einc_sqrt(float x) { return sqrtf(x); }
EINC_DEV double einc_sqrt(double x) { return sqrt(x); }
EINC_DEV float einc_rsqrt(float x) { return 1.0f / sqrtf(x); }
EINC_DEV double einc_rsqrt(double x) { return 1.0 / sqrt(x); }
EINC_DEV float einc_abs(float x) { return fabsf(x); }
EINC_DEV double einc_abs(double x) { return fabs(x); }
EINC_DEV float einc_tanh(float x) { return tanhf(x); }
EINC_DEV double einc_tanh(double x) { return tanh(x); }
EINC_DEV float einc_erf(float x) { return erff(x); }
EINC_DEV double einc_erf(double x) { return erf(x); }
EINC_DEV float einc_pow(float x, float y) { return powf(x, y); }
EINC_DEV double einc_pow(double x, double y) { return pow(x, y); }
template <class T> EINC_DEV bool einc_isnan(T x) { return x != x; }
template <class T> EINC_DEV bool einc_isfinite(T x) { return x - x == T(0); }
EINC_DEV float einc_inf_f() { return __int_as_float(0x7f800000); }
EINC_DEV double einc_inf_d() { return __longlong_as_double(0x7ff0000000000000LL); }
template <class T> EINC_DEV T einc_sigmoid(T x) {
  return x >= T(0) ? T(1) / (T(1) + einc_exp(-x)) : einc_exp(x) / (T(1) + einc_exp(x));
}
template <class T> EINC_DEV T einc_relu(T x) { return x > T(0) ? x : (einc_isnan(x) ? x : T(0)); }
template <class T> EINC_DEV T einc_gelu(T x) { return T(0.5) * x * (T(1) + einc_erf(x / einc_sqrt(T(2)))); }
template <class T> EINC_DEV T einc_silu(T x) { return x * einc_sigmoid(x); }
template <class T> EINC_DEV T einc_max(T a, T b) { return einc_isnan(a) || a > b ? a : b; }
template <class T> EINC_DEV T einc_min(T a, T b) { return einc_isnan(a) || a < b ? a : b; }

// Integer statements compute in int64 and wrap (two's complement).
EINC_DEV long long einc_add(long long a, long long b) { return (long long)((unsigned long long)a + (unsigned long long)b); }
EINC_DEV long long einc_sub(long long a, long long b) { return (long long)((unsigned long long)a - (unsigned long long)b); }
EINC_DEV long long einc_mul(long long a, long long b) { return (long long)((unsigned long long)a * (unsigned long long)b); }
EINC_DEV long long einc_neg(long long a) { return (long long)(0ull - (unsigned long long)a); }
// Division truncates toward zero; by zero it sets bit 0 of *status (the
// host turns that into an error) and yields 0.
EINC_DEV long long einc_idiv(long long a, long long b, unsigned int* status) {
  if (b == 0) { atomicOr(status, 1u); return 0; }
  if (b == -1) return einc_neg(a);
  return a / b;
}
// A lookup's id, or status bit 2 (and 0) when it is outside the extent it indexes.
EINC_DEV long long einc_lookup(long long id, long long extent, unsigned int* status) {
  if (id < 0 || id >= extent) { atomicOr(status, 2u); return 0; }
  return id;
}
// A double to int64, toward zero; NaN, infinities and magnitudes past the
// limit give 0 (ir/real_to_integer.h).
#define EINC_REAL_TO_INTEGER_LIMIT )" +
         double_literal(ir::kRealToIntegerLimit) + R"(
EINC_DEV long long einc_d2ll(double v) {
  return (v != v || v >= EINC_REAL_TO_INTEGER_LIMIT || v <= -EINC_REAL_TO_INTEGER_LIMIT) ? 0 : (long long)v;
}

// Conversions to an integer dtype of range [lo, hi]: a real value rounded
// to nearest (ties to even) and saturated, NaN giving 0; an integer one
// saturated.
EINC_DEV long long einc_quantise(double r, long long lo, long long hi) {
  if (r != r) return 0;
  const double n = rint(r);
  return n <= (double)lo ? lo : n >= (double)hi ? hi : (long long)n;
}
EINC_DEV long long einc_saturate(long long v, long long lo, long long hi) { return v < lo ? lo : v > hi ? hi : v; }

// Combiners of reductions (associative; NaN handling as in the reference).
struct EincAdd {
  EINC_DEVM float operator()(float a, float b) const { return a + b; }
  EINC_DEVM double operator()(double a, double b) const { return a + b; }
  EINC_DEVM long long operator()(long long a, long long b) const { return einc_add(a, b); }
};
struct EincMul {
  EINC_DEVM float operator()(float a, float b) const { return a * b; }
  EINC_DEVM double operator()(double a, double b) const { return a * b; }
  EINC_DEVM long long operator()(long long a, long long b) const { return einc_mul(a, b); }
};
// max/min of a reduction: once a NaN is seen the result is NaN.
struct EincMaxNaN {
  template <class T> EINC_DEVM T operator()(T a, T b) const { return einc_isnan(a) ? a : (einc_isnan(b) || b > a ? b : a); }
};
struct EincMinNaN {
  template <class T> EINC_DEVM T operator()(T a, T b) const { return einc_isnan(a) ? a : (einc_isnan(b) || b < a ? b : a); }
};
// The row maximum of softmax/logsumexp: NaNs are skipped (std::max(m, x)).
struct EincMaxSkipNaN {
  template <class T> EINC_DEVM T operator()(T a, T b) const { return a < b ? b : a; }
};

// Every thread of the block gets the combination of every thread's `v`, in
// a fixed order (deterministic). Needs blockDim.x a multiple of 32 (<= 1024)
// and all threads of the block to call it; `smem` holds 32 values.
template <class T, class Op>
EINC_DEV T einc_block_reduce(T v, Op op, T* smem) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int warp = (int)(threadIdx.x >> 5), lane = (int)(threadIdx.x & 31u);
  __syncthreads();  // smem may still be read by the previous reduction
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  T r = smem[0];
  for (int w = 1; w < (int)(blockDim.x >> 5); ++w) r = op(r, smem[w]);
  return r;
}

// Asynchronous 4-byte global->shared copies (sm_80+: cp.async with zero
// fill when `pred` is false; older targets: a plain guarded load).
EINC_DEV void einc_cp_async_f32(float* smem, const float* gmem, bool pred) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned int s = (unsigned int)__cvta_generic_to_shared(smem);
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(s), "l"(gmem), "r"(pred ? 4 : 0) : "memory");
#else
  *smem = pred ? *gmem : 0.0f;
#endif
}
EINC_DEV void einc_cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}
// Waits until at most one committed group is still in flight.
EINC_DEV void einc_cp_async_wait_one() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group 1;\n" ::: "memory");
#endif
}
EINC_DEV void einc_cp_async_wait_all() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group 0;\n" ::: "memory");
#endif
}
// ---- end of prelude ----

)";
  return out;
}

std::string finish_kernel_source(std::string& source, const std::string& prefix) {
  const std::string name = prefix + "_" + hex64(fnv1a64(source), 12);
  const std::string placeholder = kKernelNamePlaceholder;
  for (std::size_t at = source.find(placeholder); at != std::string::npos;
       at = source.find(placeholder, at + name.size()))
    source.replace(at, placeholder.size(), name);
  return name;
}

void CodeWriter::line(const std::string& text) {
  text_.append(static_cast<std::size_t>(indent_) * 2, ' ');
  text_ += text;
  text_ += '\n';
}

void CodeWriter::open(const std::string& text) {
  line(text.empty() ? "{" : text + " {");
  ++indent_;
}

void CodeWriter::close(const std::string& tail) {
  --indent_;
  line("}" + tail);
}

std::string CodeWriter::fresh(const std::string& prefix) { return prefix + std::to_string(counter_++); }

}  // namespace einc::cuda
