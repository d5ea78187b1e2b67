// backends/cpu/cpu_backend.h — the `cpu` backend.
//
// Each statement takes the first path that accepts it:
//   1. a statement of the GETT form (ir/gett_lowering.h) runs as one
//      JIT-compiled GETT with its epilogue (scale, bias, activation,
//      residual), reading its operands in place through their strides;
//   2. elementwise expressions, reductions and normalisations (softmax,
//      layernorm, rmsnorm, logsumexp, ...) run as one JIT-compiled,
//      vectorised loop kernel (loop_kernel.h), in parallel over the outer
//      output loop;
//   3. a product of three or more tensors runs as the pairwise steps of
//      its plan, each step a statement of its own through this same list
//      (product_steps.h);
//   4. everything else — loop nests that would recompute a reduction,
//      divided or pre-reduced factors, dtypes other than f32 — is
//      evaluated by the reference interpreter.
// describe_plan() (and `einc emit`) says which path each statement takes.
#pragma once

#include <string>
#include <vector>

#include "runtime/executor.h"

namespace einc::cpu {

class CpuBackend : public runtime::StatementBackend {
 public:
  explicit CpuBackend(int threads);
  const char* name() const override { return "cpu"; }
  void execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) override;

 private:
  int threads_;
};

// One line per statement: "line 7: S = JIT GETT (batch h; M j; N i; K e), epilogue: scale",
// "line 9: P = JIT loop (normalization: softmax over j)" or
// "line 5: y = interpreted (contraction)".
std::vector<std::string> describe_plan(const ir::Program& program);

}  // namespace einc::cpu
