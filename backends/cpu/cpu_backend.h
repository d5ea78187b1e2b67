// backends/cpu/cpu_backend.h — the `cpu` backend.
//
// A statement of the GETT form (ir/gett_lowering.h) runs as one JIT-compiled
// GETT with its epilogue fused into the tile stores, reading its operands in
// place through their strides. Every other statement — and dtypes other
// than f32 — is evaluated by the reference interpreter for now; statement
// kinds that run that way are listed by describe_plan() (and `einc emit`).
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

// One line per statement: "line 7: S = GETT (batch h; M j; N i; K e) + epilogue: scale"
// or "line 9: P = interpreted (normalization)".
std::vector<std::string> describe_plan(const ir::Program& program);

}  // namespace einc::cpu
