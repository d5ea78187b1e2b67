// backends/cpu/widened.h — f16 and bf16 statements on the cpu backend, run
// as f32 statements; products of i8 tensors, run on i32 copies.
//
// docs/language.md: products of f16/bf16 accumulate in f32 and are rounded once,
// when stored. The cpu backend's kernels (GETT, loop kernels) are f32, so a
// statement whose dtype is f16 or bf16 runs as the same statement on f32
// copies of the tensors it reads and writes (widening is exact), and the
// f32 result is then rounded once into the target (round to nearest even,
// like every einc store). The f32 statement takes whatever path it matches
// (a JIT GETT with its epilogue, a loop kernel, pairwise product steps).
// The copies are passes over memory, small next to a contraction's work;
// a GEMV, whose work is one pass over its weights, would pay about three,
// so a GEMV reads its weights in place instead (its kernels widen them in
// registers) and only the small operands are copied. Like
// every large tensor they live in pooled memory (runtime/buffer_pool.h),
// reused between runs instead of faulted in afresh each time.
//
// A product of i8 tensors has dtype i32 (docs/language.md): it runs as the
// i32 GETT on i32 copies of its i8 operands. Widening is exact and the
// i32 kernel's sums wrap as the reference's do, so the result is the
// reference's, bit for bit; its target is i32 already and is written in
// place. Only a GETT pays for these copies (statement_plan.cpp); any other
// i32 statement of i8 operands runs as it is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/product_steps.h"
#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::cpu {

// The dtype `statement` runs in when widened: f32 for an f16/bf16
// statement, i32 for an i32 statement that reads i8 tensors; nullopt for
// any other (it runs as it is).
std::optional<DType> widened_dtype(const ir::Program& program, const ir::Statement& statement);

// Runs the statement as one of its widened dtype through `run` (which
// must not call back here for it: the statement it gets is f32). The
// tensors in `keep` (never the target) are passed to `run` as they are,
// not widened, though the program `run` gets declares them f32: the GEMV
// that reads half-precision weights in place, the bf16-pair GETT's
// operands (cpu_backend.cpp).
void run_widened(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors,
                 const StatementRunner& run, int threads, const std::vector<int>& keep = {});

// The program and statement as run_widened runs them: every tensor the
// statement touches declared of the widened dtype, the statement too (for
// describe_plan).
ir::Program widened_program(const ir::Program& program, const ir::Statement& statement);

}  // namespace einc::cpu
