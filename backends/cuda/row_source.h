// backends/cuda/row_source.h — the row kernel: reductions and
// normalisations (sum, max, mean, logsumexp, softmax, layernorm, rmsnorm,
// and contractions that are not GETT statements) with one thread block per
// row.
//
// A statement qualifies when every binder (reduce or normalize node) of its
// expression reduces over the same set R of indices and no binder sits
// inside another. Then each block takes one point of the outer indices
// (lhs minus R): its threads stride over the R-space, each pass of each
// binder's statistics is combined in registers, then across the block with
// warp shuffles and a 32-slot shared array (einc_block_reduce: fixed order,
// deterministic); finally the threads stride over the output elements of
// the row (lhs ∩ R) and evaluate the expression with the statistics.
#pragma once

#include <optional>

#include "backends/cuda/kernel_source.h"
#include "backends/cuda/source_util.h"
#include "ir/program.h"

namespace einc::cuda {

// The shared reduced index set R of a statement, or nullopt when it does not
// qualify (no binder, binders over different sets, nested binders).
std::optional<std::vector<int>> row_indices(const ir::Statement& statement);

// Requires row_indices(statement). Throws reference::ExecutionError like
// generate_elementwise_kernel.
GeneratedKernel generate_row_kernel(const ir::Program& program, const ir::Statement& statement,
                                    const TensorStrides& strides);

}  // namespace einc::cuda
