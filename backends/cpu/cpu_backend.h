// backends/cpu/cpu_backend.h — the `cpu` backend.
//
// Each statement runs on the path its plan names (statement_plan.h: a JIT
// GETT with its epilogue, a JIT loop kernel, pairwise product steps, or the
// reference interpreter; f16/bf16 statements in f32 on widened copies);
// describe_plan() there is what `einc emit` prints of the same decisions.
#pragma once

#include <memory>
#include <vector>

#include "backends/cpu/plan_cache.h"
#include "backends/cpu/statement_plan.h"
#include "runtime/executor.h"

namespace einc::cpu {

class CpuBackend : public runtime::StatementBackend {
 public:
  // `plans` (may be null): the plan cache of the program this backend runs
  // (plan_cache.h), kept by the program from one run to the next.
  explicit CpuBackend(int threads, std::shared_ptr<PlanCache> plans = nullptr);
  const char* name() const override { return "cpu"; }
  void execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) override;

 private:
  // execute() with `plans` (may be null) the cache that serves `program`'s
  // statements: the program's own, or a plan's nested_plans for the
  // statements it made.
  void execute_with(PlanCache* plans, const ir::Program& program, const ir::Statement& statement,
                    std::vector<Tensor>& tensors);
  // Runs the statement on the path `plan` names (for a widened statement:
  // the f32 statement on the widened copies).
  void run_plan(const ir::Program& program, const ir::Statement& statement, const StatementPlan& plan,
                std::vector<Tensor>& tensors);

  int threads_;
  std::shared_ptr<PlanCache> plans_;
};

}  // namespace einc::cpu
