// api/program_impl.h — what a compiled Program holds (internal to api/).
#pragma once

#include <memory>

#include "einc/einc.h"
#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "frontend/source.h"
#include "ir/program.h"

namespace einc {

struct Program::Impl {
  std::shared_ptr<const frontend::SourceFile> source;
  std::shared_ptr<const ast::Module> module;
  CompileOptions options;
  ir::Program program;
};

namespace detail {

// Collects diagnostics, renders them, forwards them to the host's handler.
class DiagnosticCollector {
 public:
  explicit DiagnosticCollector(DiagnosticHandler handler) : handler_(std::move(handler)) {}
  void operator()(const frontend::SourceFile& source, const frontend::Diagnostic& diagnostic);
  // Throws CompileError if any error was collected.
  void throw_if_errors();
  std::vector<Diagnostic> take() { return std::move(diagnostics_); }

 private:
  DiagnosticHandler handler_;
  std::vector<Diagnostic> diagnostics_;
  int errors_ = 0;
};

}  // namespace detail
}  // namespace einc
