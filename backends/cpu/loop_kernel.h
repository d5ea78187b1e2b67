// backends/cpu/loop_kernel.h — running a statement as a JIT loop kernel.
//
// The path of the cpu backend for statements that are not GETTs:
// elementwise expressions, reductions and normalisations (loop_graph.h says
// which compile). For one run: the loop graph, the spec for the tensors'
// strides (loop_lowering.h), the kernel from the JIT's cache (compiled on
// first use, loop_gen.h), its arguments, and a parallel split of the
// outermost output loop over the backend's threads. Each output element is
// computed by one task in an order that does not depend on the split, so
// results are identical for any thread count. A reduction over everything
// (a 0-d sum, a dot product) is cut into chunks fixed by the shape
// (loop_lowering.h, ReductionChunks): the chunks' partials are the tasks.
//
// Environment (for tests and measurements):
//   EINC_LOOP_LANES=1|2|4|8|16  vector width instead of the ISA's (1: scalar code)
//   EINC_LOOP_TRACE=1           print each compiled kernel's decisions and compile time to stderr
//   EINC_LOOP_TRACE=ir          ... and its LLVM IR
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/loop_graph.h"
#include "backends/cpu/tensor_layouts.h"
#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::cpu {

// The loop graph the statement runs as on tensors laid out as `layouts`,
// or nullopt when it does not compile as a loop kernel for them (then
// *reason, when given, says why, if the statement's form is the cause):
// the caller interprets it. That includes the error cases (a max over an
// empty index), which the interpreter reports. The graph's summary says
// what it computes: "elementwise", "reduction: sum over k",
// "normalization: softmax over j".
std::optional<LoopGraph> plan_loop_kernel(const ir::Program& program, const ir::Statement& statement,
                                          const TensorLayouts& layouts, std::string* reason = nullptr);

// Runs the statement as the loop kernel of `graph` (from plan_loop_kernel
// on these tensors).
void run_loop_kernel(const ir::Program& program, const ir::Statement& statement, LoopGraph graph,
                     std::vector<Tensor>& tensors, int threads);

// The LLVM IR of the statement's loop kernel for C-order tensors and the
// host's vector width (what `einc emit` could show next to the GETT
// kernels), or nullopt when it does not compile as one or a dim is unbound.
std::optional<std::string> emit_loop_kernel(const ir::Program& program, const ir::Statement& statement);

}  // namespace einc::cpu
