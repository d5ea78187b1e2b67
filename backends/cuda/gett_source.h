// backends/cuda/gett_source.h — a GETT statement (ir/gett_lowering.h) as one
// CUDA kernel: C = act(scale * sum_K(A*B) + bias) + residual.
//
// The spec bakes everything in: each index group (batch, M, N, K) is a list
// of dims, outermost first, with the dim's extent and its stride (elements)
// in A, B and C; every epilogue term has its own strides per group. The
// kernel reads A, B and the terms in place through those strides (a group
// of several dims is decoded with div/mod by constants): no transposed or
// packed copies of whole tensors.
//
// Kernel shape (f32, SIMT; see docs/cuda.md):
//   - 256 threads per block, a BM x BN block tile of C, a TM x TN register
//     tile per thread (128x128 with 8x8, or 64x64 with 4x4 for small M or N);
//   - K in tiles of BK (8 or 16): A and B tiles staged in shared memory,
//     double-buffered, filled with 4-byte cp.async (sm_80+; zero-filled
//     outside the tensor) while the other buffer is consumed; plain guarded
//     loads on older targets;
//   - each operand's tile is loaded with consecutive threads along its
//     smaller-stride direction (K or M for A, K or N for B) for coalescing;
//   - the epilogue (scale, bias terms, activation, residual terms) is applied
//     to the registers before the single store of C; edges are guarded.
//   - grid: x = N tiles, y = M tiles, z = batch, each a grid-stride loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/kernel_source.h"
#include "backends/cuda/source_util.h"
#include "ir/gett_lowering.h"
#include "ir/program.h"

namespace einc::cuda {

struct CudaGettDim {
  std::string name;  // the index, for comments
  std::int64_t extent = 1;
  std::int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};

// A bias or residual term: its tensor slot (tensor id) and its strides along
// each group's dims.
using CudaEpilogueTerm = ir::GettTermSpec;

struct CudaGettTile {
  int bm = 128, bn = 128, bk = 8;  // block tile
  int tm = 8, tn = 8;              // per-thread register tile; (bm/tm) * (bn/tn) == 256 threads
};

struct CudaGettSpec {
  ir::DType dtype = ir::DType::f32;  // f32 only: kernel_plan.h gives other dtypes another kernel
  int a_tensor = -1, b_tensor = -1, c_tensor = -1;
  std::vector<CudaGettDim> batch, m, n, k;  // each group outermost first
  float scale = 1.0f;
  bool runtime_scale = false;          // the scale reads 0-d tensors: a `float scale` kernel parameter
  std::vector<CudaEpilogueTerm> bias;  // added before the activation
  std::optional<ir::Func> activation;
  std::vector<CudaEpilogueTerm> residual;  // added after it
  CudaGettTile tile;
};

std::int64_t group_extent(const std::vector<CudaGettDim>& group);

// The spec of a matched statement. `strides` holds every tensor's strides
// (elements); each group is ordered by stride, largest first (batch, M, N by
// their C stride, K by its B stride), like the cpu backend. Operands are
// oriented so that N holds the output's smallest-stride index (A and B, M
// and N swapped relative to `gett` where needed: C^T = B^T A^T). The scale
// is evaluated here unless it reads a tensor (then runtime_scale is set).
CudaGettSpec make_cuda_gett_spec(const ir::Program& program, const ir::Statement& statement,
                                 const ir::GettStatement& gett, const TensorStrides& strides);

// The tile for the problem size: 128x128x8 (8x8 per thread), or 64x64x16
// (4x4) when M or N is below 128.
CudaGettTile choose_gett_tile(std::int64_t m, std::int64_t n);

// `einc_gett_f32_128x128x8_<hash>`.
std::string generate_gett_source(const CudaGettSpec& spec);

// Source, name, parameters (C, A, B, bias terms, residual terms, [scale])
// and launch shape.
GeneratedKernel generate_gett_kernel(const CudaGettSpec& spec);

}  // namespace einc::cuda
