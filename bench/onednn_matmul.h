// bench/onednn_matmul.h — cpu_bench's second anchor: one case as a chain of
// oneDNN matmuls (dnnl::matmul, f32), each on plain strided views of the
// case's buffers, batched cases as 3-D matmuls.
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

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace einc::bench {

// An f32 tensor as oneDNN sees it: dims and strides in elements.
struct StridedView {
  float* data = nullptr;
  std::vector<std::int64_t> dims, strides;
};

// A view of contiguous (C-order) data.
inline StridedView contiguous_view(const float* data, std::vector<std::int64_t> dims) {
  std::vector<std::int64_t> strides(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return {const_cast<float*>(data), std::move(dims), std::move(strides)};
}

// dst = src x weights: [M, K] x [K, N], or [B, M, K] x [B, K, N] batched.
struct MatmulStep {
  StridedView src, weights, dst;
};

class OnednnMatmul {
 public:
  // Creates each step's primitive and reorders its weights; throws
  // dnnl::error (a std::exception) when oneDNN cannot.
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
