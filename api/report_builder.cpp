// api/report_builder.cpp — Program::report() and sweep(): evaluates the IR's
// symbolic cost model (ir/cost_model.h) under the bound dims.
//
// Every count goes through checked evaluation, exact in 128 bits
// (Program::evaluate_count), and every extent through int64 evaluation; an
// overflow becomes a diagnostic on the statement (or the totals) that names
// the formula, never a wrapped number. A dim without a value is reported at
// its declaration. A statement inside a `repeat` block carries the block
// (index, count and its formula) so every format can say that its counts
// are per-layer × count.
#include <cmath>
#include <set>

#include "api/program_impl.h"
#include "frontend/diagnostics.h"
#include "ir/checked_math.h"
#include "ir/cost_model.h"

namespace einc {

namespace {

class ReportBuilder {
 public:
  ReportBuilder(const detail::ProgramImpl& impl, detail::DiagnosticCollector& collector)
      : impl_(impl), p_(impl.program), sink_(*impl.source, std::ref(collector)) {}

  Report build(const ReportOptions& options) {
    Report report;
    report.file = impl_.options.filename;
    report.repeat = options.repeat;
    if (!check_dims_bound()) return report;
    for (const ir::Dim& d : p_.dims) report.dims.emplace_back(d.name, *d.value);
    ir::ProgramCost cost;
    try {
      cost = ir::analyze_cost(p_);
    } catch (const ir::OverflowError&) {
      sink_.error("a count's formula overflows the signed 128-bit range");
      return report;
    }
    for (std::size_t t = 0; t < p_.tensors.size(); ++t) report.tensors.push_back(tensor(static_cast<int>(t)));
    for (std::size_t s = 0; s < p_.statements.size(); ++s)
      report.statements.push_back(statement(p_.statements[s], cost.statements[s]));
    report.totals = totals(cost, options.repeat);
    return report;
  }

 private:
  bool check_dims_bound() {
    bool ok = true;
    for (const ir::Dim& d : p_.dims) {
      if (d.value) continue;
      if (d.kind == ir::Dim::Kind::symbolic) sink_.error(d.span, detail::unbound_dim_message(d.name));
      ok = false;
    }
    return ok;
  }

  Count count(const ir::Poly& poly, std::optional<frontend::Span> span, const std::string& what) {
    Count c;
    c.formula = p_.formula(poly);
    try {
      c.value = p_.evaluate_count(poly);
    } catch (const ir::OverflowError&) {
      overflow(span, "the " + what + " count", c.formula, 128);
    }
    return c;
  }

  // An extent (shapes stay int64, like every extent a runner iterates).
  std::int64_t extent(const ir::Poly& poly, frontend::Span span) {
    try {
      return p_.evaluate(poly);
    } catch (const ir::OverflowError&) {
      overflow(span, "an extent", p_.formula(poly), 64);
      return 0;
    }
  }

  void overflow(std::optional<frontend::Span> span, const std::string& what, const std::string& full_formula,
                int bits) {
    // One error per statement (its first overflowing count); totals only
    // when no statement overflowed, since a statement's overflow implies it.
    std::uint32_t key = span ? span->begin : UINT32_MAX;
    if (reported_.count(key) || (!span && !reported_.empty())) return;
    reported_.insert(key);
    std::string formula = full_formula.size() > 120 ? full_formula.substr(0, 117) + "..." : full_formula;
    std::string message = what + " overflows the signed " + std::to_string(bits) + "-bit range (" + formula + ")";
    if (span)
      sink_.error(*span, message);
    else
      sink_.error(message);
  }

  std::vector<std::int64_t> values(const std::vector<ir::Poly>& shape, frontend::Span span) {
    std::vector<std::int64_t> out;
    for (const ir::Poly& e : shape) out.push_back(extent(e, span));
    return out;
  }
  std::vector<std::string> formulas(const std::vector<ir::Poly>& shape) {
    std::vector<std::string> out;
    for (const ir::Poly& e : shape) out.push_back(p_.formula(e));
    return out;
  }

  TensorReport tensor(int id) {
    const ir::Tensor& t = p_.tensors[id];
    TensorReport r;
    r.name = t.name;
    r.role = t.role == ir::TensorRole::input   ? "input"
             : t.role == ir::TensorRole::param ? "param"
             : t.role == ir::TensorRole::layer ? "layer"
             : t.is_output                     ? "output"
                                               : "intermediate";
    r.dtype = ir::dtype_name(t.dtype);
    r.shape = values(t.shape, t.span);
    r.shape_formula = formulas(t.shape);
    r.elements = count(ir::tensor_elements(t), t.span, "element");
    r.bytes = count(ir::Poly::constant(static_cast<std::int64_t>(ir::dtype_size(t.dtype))) * ir::tensor_elements(t),
                    t.span, "byte");
    return r;
  }

  StatementReport statement(const ir::Statement& s, const ir::StatementCost& c) {
    const ir::Tensor& target = p_.tensors[s.target];
    StatementReport r;
    auto lc = impl_.source->line_col(s.span.begin);
    r.line = lc.line;
    r.column = lc.column;
    r.source = s.text;
    r.target = target.name;
    r.accumulate = s.accumulate;
    r.kind = ir::statement_kind_name(c.kind);
    r.shape = values(target.shape, s.span);
    r.shape_formula = formulas(target.shape);
    r.dtype = ir::dtype_name(s.dtype);
    r.outputs = count(c.outputs, s.span, "output");
    r.dot_products = count(c.dot_products, s.span, "dot-product");
    r.reduction_length = count(c.reduction_length, s.span, "reduction-length");
    r.macs = count(c.macs, s.span, "MAC");
    r.naive_macs = count(c.naive_macs, s.span, "naive MAC");
    r.flops = count(c.flops, s.span, "FLOP");
    r.transcendentals = count(c.transcendentals, s.span, "transcendental");
    r.bytes = count(c.bytes, s.span, "byte");
    r.params = count(c.params, s.span, "param");
    r.intensity = r.bytes.value > 0 ? static_cast<double>(r.flops.value) / static_cast<double>(r.bytes.value) : 0.0;
    for (const ir::ContractionCost& term : c.contractions) {
      ContractionReport t;
      t.expression = ir::print_expr(p_, s, *term.node);
      for (const ir::Expr* operand : term.operands) t.operands.push_back(ir::print_expr(p_, s, *operand));
      for (int k : term.summed) t.summed.push_back(s.indices[k].name);
      t.dot_products = count(term.dot_products, s.span, "dot-product");
      t.reduction_length = count(term.reduction_length, s.span, "reduction-length");
      t.macs = count(term.macs, s.span, "MAC");
      t.naive_macs = count(term.naive_macs, s.span, "naive MAC");
      t.flops = count(term.flops, s.span, "FLOP");
      t.path = term.path;
      t.order = term.order;
      r.contractions.push_back(std::move(t));
    }
    if (s.block >= 0) r.repeat_block = repeat_block(p_.blocks.at(static_cast<std::size_t>(s.block)), s.span);
    return r;
  }

  // The block a statement runs in; its counts above already include `count`
  // (ir/cost_model.h scales them), so this only says under what.
  RepeatBlockReport repeat_block(const ir::RepeatBlock& block, frontend::Span statement_span) {
    RepeatBlockReport r;
    r.line = impl_.source->line_col(block.span.begin).line;
    r.index = block.index;
    r.count = extent(block.count, statement_span);
    r.count_formula = p_.formula(block.count);
    return r;
  }

  TotalsReport totals(const ir::ProgramCost& cost, std::int64_t repeat) {
    ir::Poly outputs, dot_products, macs, naive, flops, transcendentals, bytes;
    for (const ir::StatementCost& c : cost.statements) {
      outputs += c.outputs;
      dot_products += c.dot_products;
      macs += c.macs;
      naive += c.naive_macs;
      flops += c.flops;
      transcendentals += c.transcendentals;
      bytes += c.bytes;
    }
    const ir::Poly& params = cost.params;
    ir::Poly n = ir::Poly::constant(repeat);
    TotalsReport t;
    t.outputs = count(n * outputs, std::nullopt, "total output");
    t.dot_products = count(n * dot_products, std::nullopt, "total dot-product");
    t.macs = count(n * macs, std::nullopt, "total MAC");
    t.naive_macs = count(n * naive, std::nullopt, "total naive MAC");
    t.flops = count(n * flops, std::nullopt, "total FLOP");
    t.transcendentals = count(n * transcendentals, std::nullopt, "total transcendental");
    t.bytes = count(n * bytes, std::nullopt, "total byte");
    t.params = count(n * params, std::nullopt, "total param");
    t.intensity = t.bytes.value > 0 ? static_cast<double>(t.flops.value) / static_cast<double>(t.bytes.value) : 0.0;
    return t;
  }

  const detail::ProgramImpl& impl_;
  const ir::Program& p_;
  frontend::DiagnosticSink sink_;
  std::set<std::uint32_t> reported_;  // statements (by span start) with an overflow reported
};

}  // namespace

Report Program::report(const ReportOptions& options) const {
  detail::DiagnosticCollector collector(impl_->options.on_diagnostic);
  if (options.repeat < 1) {
    Diagnostic d;
    d.file = impl_->options.filename;
    d.message = "--repeat must be at least 1, not " + std::to_string(options.repeat);
    d.rendered = d.file + ": error: " + d.message + "\n";
    if (impl_->options.on_diagnostic) impl_->options.on_diagnostic(d);
    throw CompileError({d});
  }
  Report report;
  try {
    report = ReportBuilder(*impl_, collector).build(options);
  } catch (const ir::UnboundDimError& e) {
    frontend::DiagnosticSink sink(*impl_->source, std::ref(collector));
    const ir::Dim& d = impl_->program.dims.at(e.dim);
    sink.error(d.span, detail::unbound_dim_message(d.name));
  } catch (const ir::OverflowError& e) {
    frontend::DiagnosticSink sink(*impl_->source, std::ref(collector));
    sink.error(e.bits == 128 ? "a count overflows the signed 128-bit range"
                             : "a value overflows the signed 64-bit range");
  }
  collector.throw_if_errors();
  return report;
}

SweepReport sweep(const Program& program, const std::string& dim, const std::vector<std::int64_t>& values,
                  const ReportOptions& options) {
  bool declared = false;
  for (const auto& d : program.dims()) declared = declared || d.name == dim;
  if (!declared) {
    Diagnostic d;
    d.file = program.file();
    d.message = "cannot sweep '" + dim + "': the script declares no dim '" + dim + "'";
    d.rendered = d.file + ": error: " + d.message + "\n";
    if (const DiagnosticHandler& handler = detail::ProgramAccess::impl(program).options.on_diagnostic) handler(d);
    throw CompileError({d});
  }
  SweepReport out;
  out.file = program.file();
  out.dim = dim;
  out.repeat = options.repeat;
  for (std::int64_t v : values) out.rows.emplace_back(v, program.bind({{dim, v}}).report(options).totals);
  return out;
}

}  // namespace einc
