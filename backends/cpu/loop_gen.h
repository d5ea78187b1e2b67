// backends/cpu/loop_gen.h — LLVM IR for a loop kernel (one LoopSpec).
//
//   void <symbol>(float* const* ptrs, const int64_t* ints, const double* scalars,
//                 void* const* fns, int64_t begin, int64_t end)
//
// ptrs[0] is the target, ptrs[1 + slot] each access's tensor (cast to its
// dtype's pointer at its use); `ints` holds extents and strides as
// LoopSpec lays them out; `scalars` the graph's scalar slots, in double
// (rounded once to f32 in an f32 kernel); fns[0] the C library's pow (f32
// pow), fns[1] `double f(int64_t func, double a, double b)`, the
// reference's formula of each function (f64 kernels), fns[2] an int32
// flag the kernel sets to 1 when an integer division's divisor is 0 (the
// run then reports the interpreter's error; the quotient stored is 0). The
// kernel computes the output points whose index in the parallel loop (the
// first LoopSpec::parallel_levels output loops, flattened) lies in
// [begin, end) (a 0-d target: its one point), so threads split that loop.
//
// How. Loops are emitted from the spec's orders, outermost first; a
// vectorised loop runs whole vectors, then the rest as one masked vector
// (masked loads, stores and gathers: no element beyond the tensors is ever
// touched). Every node is evaluated at the innermost loop its value varies
// with and cached there: an expression of outer indices is computed in the
// outer loop's body (hoisted into the block that starts it), so row
// statistics are computed once per row and reused by every element. A
// reduce node is a loop nest carrying its accumulator in phi nodes: one
// vector of outputs at once inside a vectorised output loop, or vector
// accumulators along its own vectorised index and one horizontal
// reduction (a fixed tree) at the end. Values are the graph's element type
// (f32 or f64), scalars or <lanes x element> vectors; a scalar meeting a
// vector is splatted. Clean SSA, no allocas, so the JIT
// runs no IR passes on it. Results depend only on the spec: each output
// element is computed in the same order whatever `begin` and `end` are.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backends/cpu/loop_lowering.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace einc::cpu {

// The kernels' `fns` array: what each entry points to (above).
enum LoopLibrary : int { kLibraryPow = 0, kLibraryDoubleFunction = 1, kLibraryDivisionByZero = 2, kLibraryEntries = 3 };

using LoopKernel = void (*)(float* const* ptrs, const std::int64_t* ints, const double* scalars, void* const* fns,
                            std::int64_t begin, std::int64_t end);

std::unique_ptr<llvm::Module> generate_loop_module(llvm::LLVMContext& context, const LoopSpec& spec,
                                                   const std::string& symbol);

}  // namespace einc::cpu
