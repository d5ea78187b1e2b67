// ir/lower.cpp — see lower.h.
#include "ir/lower.h"

#include <cstdlib>

#include "einc/internal_error.h"
#include "frontend/ast_printer.h"
#include "frontend/parser.h"
#include "ir/checked_math.h"
#include "ir/cost_model.h"
#include "ir/einstein_sums.h"
#include "ir/enum_names.h"
#include "ir/verify.h"

namespace einc::ir {

namespace {

constexpr const char* kPassNames[] = {"parse", "sema", "einstein", "products", "cost"};

// Testing hook: EINC_INJECT_INTERNAL_ERROR=PASS breaks an internal check
// right after PASS, so the tests can see an internal error reach the user
// as one (tests/cli: exit code 3, "internal error").
void injected_failure(Pass pass) {
  const char* wanted = std::getenv("EINC_INJECT_INTERNAL_ERROR");
  if (wanted && pass_from_name(wanted) == pass)
    EINC_FAIL(std::string("injected after pass '") + pass_name(pass) + "' (EINC_INJECT_INTERNAL_ERROR)");
}

void verify(const Program& program, IrStage stage, Pass pass) {
#ifdef EINC_VERIFY_IR
  verify_program(program, stage, pass_name(pass));
#else
  (void)program, (void)stage, (void)pass;
#endif
}

std::string products_text(const Program& program, const ProgramCost& cost) {
  std::string out;
  for (std::size_t i = 0; i < program.statements.size(); ++i) {
    const Statement& s = program.statements[i];
    for (const ContractionCost& c : cost.statements[i].contractions) {
      std::string path;
      for (const auto& [lhs, rhs] : c.path)
        path += (path.empty() ? "" : ", ") + std::string("(") + std::to_string(lhs) + ", " + std::to_string(rhs) + ")";
      out += "line " + std::to_string(s.line) + ": " + program.tensors[s.target].name + ": " + c.order + ", path [" +
             path + "], MACs " + program.formula(c.macs) + " (naive " + program.formula(c.naive_macs) + ")" +
             (c.exact ? "" : ", greedy") + "\n";
    }
  }
  return out.empty() ? "(no contractions)\n" : out;
}

std::string cost_text(const Program& program, const ProgramCost& cost) {
  std::string out;
  for (std::size_t i = 0; i < program.statements.size(); ++i) {
    const Statement& s = program.statements[i];
    const StatementCost& c = cost.statements[i];
    out += "line " + std::to_string(s.line) + ": " + program.tensors[s.target].name + " (" +
           statement_kind_name(c.kind) + "): outputs " + program.formula(c.outputs) + ", MACs " +
           program.formula(c.macs) + ", FLOPs " + program.formula(c.flops) + ", transcendentals " +
           program.formula(c.transcendentals) + ", bytes " + program.formula(c.bytes) + "\n";
  }
  return out + "params " + program.formula(cost.params) + "\n";
}

}  // namespace

const char* pass_name(Pass pass) { return enum_name(kPassNames, pass); }

std::optional<Pass> pass_from_name(std::string_view name) { return enum_from_name<Pass>(kPassNames, name); }

std::string pass_names() {
  std::string out;
  for (const char* name : kPassNames) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

namespace {

Lowering lower_in_order(const frontend::SourceFile& source, std::shared_ptr<const ast::Module> parsed,
                        frontend::DiagnosticSink& sink, const LowerOptions& options, PassDump* dump) {
  auto wants = [&](Pass pass) { return dump && dump->after == pass; };
  Lowering out;

  // 1. parse. After a syntax error sema still checks the statements that
  // parsed (the module lists the others, for sema not to cascade on the
  // names they define); the pipeline stops after it.
  std::shared_ptr<const ast::Module> module = std::move(parsed);
  if (!module) module = std::make_shared<const ast::Module>(frontend::parse_module(source, sink));
  const bool parsed_whole = sink.error_count() == 0;
  if (parsed_whole) {
    out.module = module;
    injected_failure(Pass::parse);
    if (wants(Pass::parse)) dump->text = ast::print_ast(*out.module, source);
  }

  // 2. sema: the program with its checks, implicit sums pending.
  out.program = lower_ast(*module, sink, options);
  if (sink.error_count() > 0) return out;
  verify(out.program, IrStage::sema, Pass::sema);
  injected_failure(Pass::sema);
  if (wants(Pass::sema)) dump->text = print_program(out.program);

  // 3. einstein: sums made explicit; a warning where one runs over a
  // non-linear function of its index.
  make_sums_explicit(out.program);
  warn_nonlinear_sums(out.program, sink);
  verify(out.program, IrStage::einstein, Pass::einstein);
  injected_failure(Pass::einstein);
  if (wants(Pass::einstein)) dump->text = print_program(out.program);

  // 4, 5. products and cost: analyses, only for a caller that shows them.
  if (wants(Pass::products) || wants(Pass::cost)) {
    std::string text;
    try {
      ProgramCost cost = analyze_cost(out.program);
      text = wants(Pass::products) ? products_text(out.program, cost) : cost_text(out.program, cost);
    } catch (const UnboundDimError& e) {
      text = "(not computed: the order of a product of three or more factors needs dim '" +
             out.program.dims.at(static_cast<std::size_t>(e.dim)).name + "' bound)\n";
    } catch (const OverflowError& e) {
      text = e.bits == 128 ? "(not computed: a count exceeds the signed 128-bit range)\n"
                           : "(not computed: an extent exceeds the signed 64-bit range)\n";
    }
    dump->text = std::move(text);
  }
  return out;
}

}  // namespace

Lowering lower(const frontend::SourceFile& source, std::shared_ptr<const ast::Module> parsed,
               frontend::DiagnosticSink& target, const LowerOptions& options, PassDump* dump) {
  // Parse and sema report through one buffer, passed on in source order.
  frontend::SourceOrder ordered(target);
  Lowering out = lower_in_order(source, std::move(parsed), ordered.sink(), options, dump);
  ordered.flush();
  return out;
}

}  // namespace einc::ir
