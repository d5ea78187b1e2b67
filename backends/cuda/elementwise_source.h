// backends/cuda/elementwise_source.h — the elementwise/broadcast kernel: one
// thread per output element (grid-stride loop), the statement's expression
// evaluated at that element.
//
// It takes every statement: reductions and normalisations inside it run as
// serial loops in each thread (softmax recomputes its row statistics per
// element), so it is also the fallback for statements that neither the GETT
// nor the row generator takes — correct, not fast.
#pragma once

#include "backends/cuda/kernel_source.h"
#include "backends/cuda/source_util.h"
#include "ir/program.h"

namespace einc::cuda {

// Throws reference::ExecutionError for a reduction over an empty index
// that needs elements (max, min, mean, logsumexp, normalisations).
GeneratedKernel generate_elementwise_kernel(const ir::Program& program, const ir::Statement& statement,
                                            const TensorStrides& strides);

}  // namespace einc::cuda
