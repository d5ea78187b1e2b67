// backends/cpu/cpu_backend.h — the `cpu` backend.
//
// Each statement runs on the path its plan names (statement_plan.h: a JIT
// GETT with its epilogue, a JIT loop kernel, pairwise product steps, or the
// reference interpreter; f16/bf16 statements in f32 on widened copies);
// describe_plan() there is what `einc emit` prints of the same decisions.
#pragma once

#include <vector>

#include "backends/cpu/statement_plan.h"
#include "runtime/executor.h"

namespace einc::cpu {

class CpuBackend : public runtime::StatementBackend {
 public:
  explicit CpuBackend(int threads);
  const char* name() const override { return "cpu"; }
  void execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) override;

 private:
  // Runs the statement on the path `plan` names (for a widened statement:
  // the f32 statement on the widened copies).
  void run_plan(const ir::Program& program, const ir::Statement& statement, StatementPlan plan,
                std::vector<Tensor>& tensors);

  int threads_;
};

}  // namespace einc::cpu
