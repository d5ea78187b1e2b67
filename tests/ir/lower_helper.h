// tests/ir/lower_helper.h — parse and lower a script for IR-level tests.
#pragma once

#include <string>
#include <vector>

#include "frontend/parser.h"
#include "ir/lower_ast.h"

namespace einc::ir::testing {

struct Lowered {
  Program program;
  std::vector<std::string> errors;  // "line:col: message"
};

inline Lowered lower(const std::string& text, std::vector<DimBinding> dims = {}) {
  frontend::SourceFile source("t.ein", text);
  Lowered out;
  frontend::DiagnosticSink sink(source, [&](const frontend::SourceFile& s, const frontend::Diagnostic& d) {
    auto lc = s.line_col(d.span ? d.span->begin : 0);
    out.errors.push_back(std::to_string(lc.line) + ":" + std::to_string(lc.column) + ": " + d.message);
  });
  ast::Module module = frontend::parse_module(source, sink);
  if (out.errors.empty()) out.program = lower_ast(module, sink, LowerOptions{std::move(dims)});
  return out;
}

}  // namespace einc::ir::testing
