// backends/reference/reference_backend.h — the reference interpreter as a
// runtime::StatementBackend, so that runtime::execute_program can run a
// whole program on it.
//
// Why a header of its own: the API (`backend = "reference"`) and the CUDA
// tests (which check every kernel against the oracle) run programs through
// the same adapter; it lives beside the interpreter it adapts.
#pragma once

#include <vector>

#include "backends/reference/interpreter.h"
#include "runtime/executor.h"

namespace einc::reference {

class ReferenceBackend : public runtime::StatementBackend {
 public:
  const char* name() const override { return "reference"; }
  void execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) override {
    execute_statement(program, statement, tensors);
  }
};

}  // namespace einc::reference
