// backends/cuda/kernel_plan.h — which generated kernel computes each
// statement, shared by `emit_cuda` and the CUDA backend so that what is
// emitted is exactly what runs.
//
// A statement that is not a GETT and holds a product whose plan does not
// run in one pass (ir::runs_in_one_pass) runs as several kernels: the
// statements of that product's pairwise steps (ir/product_split.h), each
// planned again like a statement of its own (for_each_kernel_statement),
// so the kernels do the work of the plan the report counts. Every other
// statement is one kernel:
//
//   1. a GETT statement (ir::match_gett on the target's strides, every
//      operand and term f32, none of them the target itself) -> the GETT kernel;
//   2. else, when every reduction/normalisation reduces over one index set
//      R (not nested) and R has at least 32 points -> the row kernel;
//   3. else -> the elementwise kernel (reductions as serial loops per thread).
#pragma once

#include <functional>
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

// Calls visit(program, statement, strides) for each statement that runs as
// one kernel, in order: `statement` itself, or the statements of its
// product steps (recursively), with the program that holds their temporary
// tensors and that program's C-contiguous strides. Temporaries are f64 in
// f64 statements, i32 in integer ones and f32 otherwise; a temporary's id
// is only used by the statements of one split. Throws ir::UnboundDimError
// when a dim has no value.
using KernelStatementVisitor =
    std::function<void(const ir::Program& program, const ir::Statement& statement, const TensorStrides& strides)>;
void for_each_kernel_statement(const ir::Program& program, const ir::Statement& statement, const TensorStrides& strides,
                               const KernelStatementVisitor& visit);

// The row size from which the row kernel is used instead of serial loops.
inline constexpr std::int64_t kRowKernelMinimum = 32;

}  // namespace einc::cuda
