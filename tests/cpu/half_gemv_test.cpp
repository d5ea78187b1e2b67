// tests/cpu/half_gemv_test.cpp — f16/bf16 decodes whose GEMV reads the
// weights in place (backends/cpu/cpu_backend.cpp, run_half_gemv): both GEMV
// forms (W stored [in, out]: axpy; [out, in]: dot products), odd sizes, an
// epilogue, weights in strided caller memory. Each result must be
// bit-identical to the same statement run in f32 on the widened values
// and rounded once (what widening every operand computed before: the kernels
// widen W in registers exactly), equal for 1 and 2 threads, and within the
// dtype's rounding of the reference. The plan must say that W is read in place.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "einc/einc.h"

namespace {

using einc::DType;
using einc::Tensor;
using einc::TensorMap;

einc::RunOptions on(const std::string& backend, int threads = 2) {
  einc::RunOptions options;
  options.backend = einc::backend_from_name(backend).value();
  options.threads = threads;
  return options;
}

// `t`'s values as an f32 tensor (exact for f16/bf16).
Tensor as_f32(const Tensor& t) {
  Tensor out = Tensor::empty(DType::f32, t.shape());
  for (std::int64_t i = 0; i < t.numel(); ++i) out.set_flat(i, t.get_flat(i));
  return out;
}

// The f32 result rounded once into `dtype`.
Tensor rounded(const Tensor& wide, DType dtype) {
  Tensor out = Tensor::empty(dtype, wide.shape());
  for (std::int64_t i = 0; i < wide.numel(); ++i) out.set_flat(i, wide.get_flat(i));
  return out;
}

std::string first_difference(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return "dtype or shape differ";
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    double x = a.get_flat(i), y = b.get_flat(i);
    if (std::memcmp(&x, &y, sizeof x) != 0)
      return "element " + std::to_string(i) + ": " + std::to_string(x) + " vs " + std::to_string(y);
  }
  return "";
}

struct Case {
  std::string name;
  std::string body;  // the script after its declarations' dtype is filled in
  std::int64_t reduction_length;
};

// `%` in the text stands for the dtype.
std::string with_dtype(std::string text, const std::string& dtype) {
  for (std::size_t at; (at = text.find('%')) != std::string::npos;) text.replace(at, 1, dtype);
  return text;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"decode, W[K, N]",
       "dim K = 1037, N = 67\ninput A[1, K] : %\ninput B[K, N] : %\n"
       "C[i, j] = A[i, k] * B[k, j]\noutput C\n",
       1037},
      {"decode, W[N, K]",
       "dim K = 1037, N = 67\ninput x[K] : %\nparam W[N, K] : %\n"
       "y[j] = W[j, k] * x[k]\noutput y\n",
       1037},
      {"wide decode with bias and gelu",
       "dim K = 600, N = 4103\ninput A[1, K] : %\nparam B[K, N], b[N] : %\n"
       "C[i, j] = gelu(A[i, k] * B[k, j] + b[j])\noutput C\n",
       600},
      {"dot decode, K not a multiple of the vector",
       "dim K = 13, N = 5\ninput x[K] : %\nparam W[N, K] : %\n"
       "y[j] = 0.5 * W[j, k] * x[k]\noutput y\n",
       13},
      // GEMV-shaped (one column) but masked: no GEMV runs a mask, so every
      // operand is widened (the in-place weights' path said "internal error").
      {"masked, one column",
       "dim N = 17, E = 1\ninput S[N, N] : %\ninput A[N, E] : %\n"
       "o[i, e] = where(j <= i, S[i, j] * A[j, e], 0)\noutput o\n",
       17},
      // A decode accumulating into its own input: not the in-place GEMV,
      // which would overwrite h while it still reads it (it did).
      {"h += h * W, one row",
       "dim K = 17\ninput X[1, K] : %\nparam W[K, K] : %\n"
       "h[t, d] = X[t, d]\nh[t, d] += h[t, e] * W[e, d]\noutput h\n",
       17},
  };
  return all;
}

TEST(CpuHalfGemv, MatchesTheWidenedStatementBitForBitAndTheReference) {
  for (const std::string dtype_name : {"bf16", "f16"}) {
    const DType dtype = dtype_name == "bf16" ? DType::bf16 : DType::f16;
    for (const Case& c : cases()) {
      SCOPED_TRACE(c.name + " in " + dtype_name);
      einc::Program half = einc::compile(with_dtype(c.body, dtype_name));
      einc::Program wide = einc::compile(with_dtype(c.body, "f32"));
      TensorMap inputs = einc::random_inputs(half, 7);
      TensorMap wide_inputs;
      for (const auto& [name, t] : inputs) wide_inputs[name] = as_f32(t);
      TensorMap got = half.run(inputs, on("cpu", 2));
      TensorMap one_thread = half.run(inputs, on("cpu", 1));
      TensorMap expected = wide.run(wide_inputs, on("cpu", 2));
      TensorMap ref = half.run(inputs, on("reference"));
      const double ulp = dtype == DType::bf16 ? std::ldexp(1.0, -7) : std::ldexp(1.0, -10);
      for (const auto& [name, r] : ref) {
        const Tensor& g = got.at(name);
        ASSERT_EQ(g.dtype(), dtype);
        EXPECT_EQ(first_difference(g, rounded(expected.at(name), dtype)), "") << name;
        EXPECT_EQ(first_difference(g, one_thread.at(name)), "") << name << ", 2 threads against 1";
        const double bound_l = 1e-5 * std::sqrt(static_cast<double>(c.reduction_length));
        for (std::int64_t i = 0; i < r.numel(); ++i) {
          double rv = r.get_flat(i);
          ASSERT_LE(std::fabs(g.get_flat(i) - rv), bound_l + ulp * std::fabs(rv) + 1e-6 * std::fabs(rv))
              << name << " element " << i;
        }
      }
    }
  }
}

TEST(CpuHalfGemv, ReadsStridedWeightsInPlace) {
  // W[N, K] and B[K, N] in caller memory with padded rows.
  for (const std::string dtype_name : {"bf16", "f16"}) {
    const DType dtype = dtype_name == "bf16" ? DType::bf16 : DType::f16;
    const std::int64_t pad = 9;
    for (const bool dot : {true, false}) {
      SCOPED_TRACE(std::string(dot ? "W[N, K]" : "B[K, N]") + " in " + dtype_name);
      const std::string script =
          dot ? with_dtype("dim K = 300, N = 70\ninput x[K] : %\ninput W[N, K] : %\ny[j] = W[j, k] * x[k]\noutput y\n",
                           dtype_name)
              : with_dtype(
                    "dim K = 300, N = 70\ninput x[1, K] : %\ninput W[K, N] : %\n"
                    "y[i, j] = x[i, k] * W[k, j]\noutput y\n",
                    dtype_name);
      einc::Program program = einc::compile(script);
      TensorMap inputs = einc::random_inputs(program, 11);
      const Tensor& dense = inputs.at("W");
      const std::int64_t rows = dense.shape()[0], cols = dense.shape()[1];
      std::vector<std::uint16_t> memory(static_cast<std::size_t>(rows * (cols + pad)), 0xffff);  // NaN padding
      Tensor strided = Tensor::view(dtype, memory.data(), {rows, cols}, {cols + pad, 1});
      strided.copy_from(dense);
      TensorMap strided_inputs = inputs;
      strided_inputs["W"] = strided;
      TensorMap got = program.run(strided_inputs, on("cpu", 2));
      TensorMap dense_got = program.run(inputs, on("cpu", 2));
      EXPECT_EQ(first_difference(got.at("y"), dense_got.at("y")), "");
    }
  }
}

TEST(CpuHalfGemv, ThePlanSaysTheWeightsAreReadInPlace) {
  einc::Program program = einc::compile(
      "dim K = 64, N = 32\ninput x[1, K] : bf16\nparam W[K, N] : bf16\ny[i, j] = x[i, k] * W[k, j]\noutput y\n");
  const std::string emitted = program.emit(einc::EmitStage::llvm_ir);
  EXPECT_NE(emitted.find("W read in place by the GEMV"), std::string::npos) << emitted.substr(0, 2000);
  // A GEMM is not a GEMV: every operand is widened.
  einc::Program gemm = einc::compile(
      "dim M = 8, K = 64, N = 32\ninput x[M, K] : bf16\nparam W[K, N] : bf16\ny[i, j] = x[i, k] * W[k, j]\noutput y\n");
  EXPECT_EQ(gemm.emit(einc::EmitStage::llvm_ir).find("read in place"), std::string::npos);
}

}  // namespace
