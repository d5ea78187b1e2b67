// tests/ir/lower_helper.h — parse and lower a script (ir::lower: the
// whole pipeline) for IR-level tests.
#pragma once

#include <string>
#include <vector>

#include "ir/lower.h"

namespace einc::ir::testing {

struct Lowered {
  Program program;
  std::vector<std::string> errors;    // "line:col: message"
  std::vector<std::string> warnings;  // the same, for warnings
};

inline Lowered lower(const std::string& text, std::vector<DimBinding> dims = {}) {
  frontend::SourceFile source("t.ein", text);
  Lowered out;
  frontend::DiagnosticSink sink(source, [&](const frontend::SourceFile& s, const frontend::Diagnostic& d) {
    auto lc = s.line_col(d.span ? d.span->begin : 0);
    std::string line = std::to_string(lc.line) + ":" + std::to_string(lc.column) + ": " + d.message;
    (d.severity == frontend::Severity::warning ? out.warnings : out.errors).push_back(std::move(line));
  });
  out.program = ir::lower(source, nullptr, sink, LowerOptions{std::move(dims)}).program;
  return out;
}

}  // namespace einc::ir::testing
