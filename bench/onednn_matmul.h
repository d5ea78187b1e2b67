// bench/onednn_matmul.h — cpu_bench's second anchor: one case as a chain of
// oneDNN matmuls (dnnl::matmul), each on plain strided views of the case's
// buffers, batched cases as 3-D matmuls. Each operand's data type is its
// view's einc dtype (f32 for the float cases; i8 x i8 -> i32 for the int8
// ones, oneDNN's s8 x s8 -> s32); one oneDNN has no type for (f64 in 2.6)
// makes the constructor throw, with that reason.
//
// Its best case, as issue 16 asks: each step's weights (the right operand)
// are reordered once, at construction, into the blocked format oneDNN picks
// for them (format_tag::any); the primitives are created there too. run()
// is the primitives alone, what a model that keeps its weights in oneDNN's
// format runs per call. Sources and destinations stay in the caller's
// layout (einc's inputs and an output laid out like einc's), which is what
// einc reads and writes.
//
// This header does not include oneDNN, so a case can describe its steps in
// a build without it; the class is defined (onednn_matmul.cpp) only when
// oneDNN is found (bench/CMakeLists.txt, EINC_BENCH_ONEDNN).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "einc/tensor.h"

namespace einc::bench {

// dst = src x weights: [M, K] x [K, N], or [B, M, K] x [B, K, N] batched.
// Each operand is an einc tensor or a view of one (einc::Tensor::view, any
// strides): its data, dtype, dims and strides are what oneDNN is given; the
// memory stays the caller's and must outlive the OnednnMatmul.
// `scales` (optional, f32 [N]): oneDNN's per-column output scales, dst =
// scales[n] * (src x weights) — a dequantising int8 matmul.
struct MatmulStep {
  einc::Tensor src, weights, dst;
  einc::Tensor scales = {};
};

class OnednnMatmul {
 public:
  // Creates each step's primitive and reorders its weights; throws
  // dnnl::error (a std::exception) when oneDNN cannot, and
  // std::invalid_argument for a dtype oneDNN has no type for.
  explicit OnednnMatmul(const std::vector<MatmulStep>& steps);
  ~OnednnMatmul();
  OnednnMatmul(const OnednnMatmul&) = delete;
  OnednnMatmul& operator=(const OnednnMatmul&) = delete;

  // Executes the steps in order and waits for them.
  void run();

  // What oneDNN chose, per step: "brg:avx512_core, weights BA16a64b".
  const std::string& choice() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace einc::bench
