// backends/cuda/kernel_plan.h — which generated kernel computes each
// statement, shared by `emit_cuda` and the CUDA backend so that what is
// emitted is exactly what runs.
//
//   1. a GETT statement (ir::match_gett on the target's strides, every
//      operand and term f32, none of them the target itself) -> the GETT kernel;
//   2. else, when every reduction/normalisation reduces over one index set
//      R (not nested) and R has at least 32 points -> the row kernel;
//   3. else -> the elementwise kernel (reductions as serial loops per thread).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/gett_source.h"
#include "backends/cuda/kernel_source.h"
#include "backends/cuda/source_util.h"
#include "ir/gett_lowering.h"
#include "ir/program.h"

namespace einc::cuda {

struct StatementKernel {
  GeneratedKernel kernel;
  std::optional<ir::GettStatement> gett;  // kind == gett: to evaluate a runtime scale
  std::optional<CudaGettSpec> spec;       // kind == gett
};

// `strides`: every tensor's strides as the kernel will see them (the
// backend's device tensors are C-contiguous: contiguous_strides()).
// Throws reference::ExecutionError for a reduction over an empty index that
// needs elements, ir::UnboundDimError when a dim has no value.
StatementKernel plan_statement_kernel(const ir::Program& program, const ir::Statement& statement,
                                      const TensorStrides& strides);

// The row size from which the row kernel is used instead of serial loops.
inline constexpr std::int64_t kRowKernelMinimum = 32;

}  // namespace einc::cuda
