// api/compile.cpp — compile(), bind(), and the diagnostics bridge.
//
// Compiling is ir::lower (ir/lower.h: parse, sema, the Einstein rule).
// Program keeps the AST so bind() can lower it again with new dim values:
// extent checks depend on the values, so a binding can reveal a conflict.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/program_impl.h"
#include "ir/lower.h"

namespace einc {

CompileError::CompileError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(diagnostics.empty() ? std::string("compilation failed") : diagnostics.front().rendered),
      diagnostics_(std::move(diagnostics)) {}

namespace detail {

void DiagnosticCollector::operator()(const frontend::SourceFile& source, const frontend::Diagnostic& d) {
  if (d.severity == frontend::Severity::warning && !keep_warnings_) return;
  Diagnostic out;
  out.severity = d.severity;
  out.file = source.name();
  if (d.span) {
    auto lc = source.line_col(d.span->begin);
    out.line = lc.line;
    out.column = lc.column;
  }
  out.message = d.message;
  out.rendered = frontend::render_diagnostic(source, d);
  if (out.severity == Severity::error) ++errors_;
  if (handler_) handler_(out);
  diagnostics_.push_back(std::move(out));
}

void DiagnosticCollector::throw_if_errors() {
  if (errors_ > 0) throw CompileError(take());
}

std::string unbound_dim_message(const std::string& dim, const std::string& alternative) {
  return "dim '" + dim + "' has no value; bind it (einc --dim " + dim + "=N, or Program::bind)" +
         (alternative.empty() ? "" : ", or " + alternative);
}

void require_bound_dims(const ProgramImpl& impl, const std::vector<DimNeed>& needs) {
  const ir::Program& p = impl.program;
  // For each dim without a value that a need waits for: the first need's
  // alternative. A derived dim waits for the dims its definition uses.
  std::vector<const std::string*> missing(p.dims.size(), nullptr);
  for (const DimNeed& need : needs) {
    std::vector<int> pending{need.dim};
    std::vector<bool> seen(p.dims.size(), false);
    while (!pending.empty()) {
      const int id = pending.back();
      pending.pop_back();
      if (seen[id] || p.dims[id].value) continue;
      seen[id] = true;
      const ir::Dim& dim = p.dims[id];
      if (dim.kind == ir::Dim::Kind::symbolic || !dim.definition) {
        if (!missing[id]) missing[id] = &need.alternative;
        continue;
      }
      std::vector<const ir::DimExpr*> parts{dim.definition.get()};
      while (!parts.empty()) {
        const ir::DimExpr* e = parts.back();
        parts.pop_back();
        if (e->op == ir::DimExpr::Op::dim) pending.push_back(e->dim);
        for (const auto& term : e->terms) parts.push_back(term.second.get());
      }
    }
  }
  DiagnosticCollector collector(impl.options.on_diagnostic);
  frontend::DiagnosticSink sink(*impl.source, std::ref(collector));
  for (std::size_t id = 0; id < p.dims.size(); ++id)
    if (missing[id]) sink.error(p.dims[id].span, unbound_dim_message(p.dims[id].name, *missing[id]));
  collector.throw_if_errors();
}

void require_bound_dims(const ProgramImpl& impl, const std::string& alternative) {
  if (std::all_of(impl.program.dims.begin(), impl.program.dims.end(), [](const ir::Dim& d) { return d.value; }))
    return;  // (every run of a bound program: no need list to build)
  std::vector<DimNeed> needs;
  for (std::size_t id = 0; id < impl.program.dims.size(); ++id) needs.push_back({static_cast<int>(id), alternative});
  require_bound_dims(impl, needs);
}

}  // namespace detail

namespace {

// Lowers the source (parsing it unless `module` is given: a re-binding) with
// the options' dims; throws CompileError after delivering the diagnostics.
std::shared_ptr<const detail::ProgramImpl> analyze(std::shared_ptr<const frontend::SourceFile> source,
                                                   std::shared_ptr<const ast::Module> module, CompileOptions options,
                                                   ir::PassDump* dump = nullptr) {
  // A re-lowering (bind, dump_after) repeats no warning: the compile that
  // parsed the module delivered them, and they do not depend on the dims.
  detail::DiagnosticCollector collector(options.on_diagnostic, /*keep_warnings=*/module == nullptr);
  frontend::DiagnosticSink sink(*source, std::ref(collector));
  ir::LowerOptions lower_options;
  for (const auto& [name, value] : options.dims) lower_options.dims.push_back({name, value});
  ir::Lowering lowered = ir::lower(*source, std::move(module), sink, lower_options, dump);
  collector.throw_if_errors();
  auto impl = std::make_shared<detail::ProgramImpl>();
  impl->program = std::move(lowered.program);
  impl->inputs = detail::describe_inputs(impl->program);
  impl->source = std::move(source);
  impl->module = std::move(lowered.module);
  impl->options = std::move(options);
  return impl;
}

}  // namespace

Program compile(std::string_view text, const CompileOptions& options) {
  auto source = std::make_shared<frontend::SourceFile>(options.filename, std::string(text));
  return detail::ProgramAccess::make(analyze(std::move(source), nullptr, options));
}

Program compile_file(const std::string& path, CompileOptions options) {
  if (options.filename == "<input>") options.filename = path;
  std::error_code ec;
  bool directory = std::filesystem::is_directory(path, ec);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in && !directory) text << in.rdbuf();
  if (directory || !in || in.bad()) {
    Diagnostic d;
    d.file = path;
    d.message = directory ? "'" + path + "' is a directory, not a script" : "cannot read '" + path + "'";
    d.rendered = path + ": error: " + d.message + "\n";
    if (options.on_diagnostic) options.on_diagnostic(d);
    throw CompileError({d});
  }
  return compile(text.str(), options);
}

const std::string& Program::file() const { return impl_->options.filename; }

std::vector<Program::DimInfo> Program::dims() const {
  std::vector<DimInfo> out;
  for (const ir::Dim& d : impl_->program.dims) {
    const char* kind = d.kind == ir::Dim::Kind::given     ? "given"
                       : d.kind == ir::Dim::Kind::derived ? "derived"
                                                          : "symbolic";
    out.push_back({d.name, d.value.has_value(), d.value.value_or(0), kind});
  }
  return out;
}

std::vector<std::string> Program::outputs() const {
  std::vector<std::string> out;
  for (int id : impl_->program.outputs) out.push_back(impl_->program.tensors[id].name);
  return out;
}

Program Program::bind(const DimBindings& dims) const {
  CompileOptions options = impl_->options;
  for (const auto& [name, value] : dims) {
    bool replaced = false;
    for (auto& binding : options.dims)
      if (binding.first == name) binding.second = value, replaced = true;
    if (!replaced) options.dims.emplace_back(name, value);
  }
  return detail::ProgramAccess::make(analyze(impl_->source, impl_->module, std::move(options)));
}

std::string Program::dump_ir() const { return ir::print_program(impl_->program); }

std::string Program::dump_after(LoweringPass pass) const {
  ir::PassDump dump;
  dump.after = static_cast<ir::Pass>(pass);
  analyze(impl_->source, impl_->module, impl_->options, &dump);
  return dump.text;
}

// LoweringPass mirrors ir::Pass, value for value.
static_assert(static_cast<int>(ir::Pass::parse) == static_cast<int>(LoweringPass::parse) &&
              static_cast<int>(ir::Pass::cost) == static_cast<int>(LoweringPass::cost));

const char* lowering_pass_name(LoweringPass pass) { return ir::pass_name(static_cast<ir::Pass>(pass)); }

std::optional<LoweringPass> lowering_pass_from_name(std::string_view name) {
  std::optional<ir::Pass> pass = ir::pass_from_name(name);
  return pass ? std::optional<LoweringPass>(static_cast<LoweringPass>(*pass)) : std::nullopt;
}

std::string version() { return EINC_VERSION; }

}  // namespace einc
