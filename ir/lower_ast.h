// ir/lower_ast.h — semantic analysis: ast::Module → ir::Program.
//
// Resolves names, evaluates dims (with the caller's bindings), infers and
// checks every index extent, rank and dtype, applies the Einstein rule and
// the einsum form, and reports each problem with its span. The returned
// program is meaningful only when the sink counted no error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "ir/program.h"

namespace einc::ir {

struct DimBinding {
  std::string name;
  std::int64_t value = 0;
};

struct LowerOptions {
  std::vector<DimBinding> dims;  // override a given dim or bind a symbolic one
};

Program lower_ast(const ast::Module& module, frontend::DiagnosticSink& sink, const LowerOptions& options);

}  // namespace einc::ir
