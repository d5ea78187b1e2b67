// api/program_impl.h — what a compiled Program holds (internal to einc:
// not installed with the public headers).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "einc/einc.h"
#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "frontend/source.h"
#include "ir/program.h"
#include "runtime/recent_cache.h"

namespace einc {

namespace cpu {
class PlanCache;  // backends/cpu/plan_cache.h
}

namespace detail {

// What a program keeps from one run for the next (api/run.cpp), so that
// running it again costs only the run: the programs bound to the dims its
// inputs set (Program::bind re-lowers the script; inputs of a few shapes
// each keep theirs), and the cpu backend's plans of its statements (made by
// the first cpu run, under `mutex`). Runs on several threads share it.
struct RunCache {
  runtime::RecentCache<DimBindings, Program> bound{8};
  std::mutex mutex;
  std::shared_ptr<cpu::PlanCache> cpu_plans;
};

}  // namespace detail

struct Program::Impl {
  std::shared_ptr<const frontend::SourceFile> source;
  std::shared_ptr<const ast::Module> module;
  CompileOptions options;
  ir::Program program;
  std::vector<TensorInfo> inputs;  // Program::inputs(), made with the program
  mutable detail::RunCache run_cache;
};

namespace detail {

// The one way past Program's public face: einc's api/ layer and its tests
// reach the compiled IR through here.
struct ProgramAccess {
  using Impl = Program::Impl;
  static const Impl& impl(const Program& program) { return *program.impl_; }
  static const ir::Program& ir(const Program& program) { return program.impl_->program; }
  static Program make(std::shared_ptr<const Impl> impl) { return Program(std::move(impl)); }
};
using ProgramImpl = ProgramAccess::Impl;

// Collects diagnostics, renders them, forwards them to the host's handler.
class DiagnosticCollector {
 public:
  // `keep_warnings` false: warnings are dropped (a re-lowering of a program
  // whose compile delivered them already: they do not depend on the dims).
  explicit DiagnosticCollector(DiagnosticHandler handler, bool keep_warnings = true)
      : handler_(std::move(handler)), keep_warnings_(keep_warnings) {}
  void operator()(const frontend::SourceFile& source, const frontend::Diagnostic& diagnostic);
  // Throws CompileError if any error was collected.
  void throw_if_errors();
  std::vector<Diagnostic> take() { return std::move(diagnostics_); }

 private:
  DiagnosticHandler handler_;
  std::vector<Diagnostic> diagnostics_;
  int errors_ = 0;
  bool keep_warnings_ = true;
};

// The tensors a run of `program` needs, as Program::inputs() lists them
// (api/run.cpp; made once per program, by compile and bind).
std::vector<Program::TensorInfo> describe_inputs(const ir::Program& program);

// "dim 'T' has no value; bind it (einc --dim T=N, or Program::bind)", then
// ", or " and `alternative` when it is not empty: the one message for a
// symbolic dim that report(), run(), random_inputs() and emit() need bound.
std::string unbound_dim_message(const std::string& dim, const std::string& alternative = "");

// A dim something needs a value of, and what else the user could do than
// bind it (unbound_dim_message's `alternative`).
struct DimNeed {
  int dim = -1;
  std::string alternative;
};

// Reports each symbolic dim without a value that a needed dim waits for
// (itself, or for a derived dim the dims it is computed from), at its
// declaration (file:line:col, with the caret), through the program's
// diagnostic handler, and throws CompileError; returns when every needed
// dim has a value.
void require_bound_dims(const ProgramImpl& impl, const std::vector<DimNeed>& needs);
// The same with every dim of the program needed.
void require_bound_dims(const ProgramImpl& impl, const std::string& alternative = "");

}  // namespace detail
}  // namespace einc
