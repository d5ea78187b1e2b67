// backends/cpu/emit_cpu.h — what the cpu backend compiles for a program, as
// text: `einc emit --target plan|llvm-ir|asm` (beside cuda::emit_cuda).
//
// `plan` is one line per statement saying which path it runs on
// (statement_plan.h). `llvm-ir` and `asm` start with the JIT's target and
// compile times and the same plan as comments, then the GETT kernels (the
// micro-kernels, pack routines and transposes every f32 contraction uses)
// and, for `llvm-ir`, the loop kernel of each statement that has one, for
// C-order tensors of the bound shapes.
#pragma once

#include <string>

#include "ir/program.h"

namespace einc::cpu {

enum class CpuEmitTarget { plan, llvm_ir, assembly };

std::string emit_cpu(const ir::Program& program, CpuEmitTarget target);

}  // namespace einc::cpu
