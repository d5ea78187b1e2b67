// ir/lower.h — the whole lowering of a script, in order, in one function.
//
// Read lower() in lower.cpp to see every step a script goes through before
// a backend runs it:
//   1. parse     text → ast::Module (frontend/parser.h; Spirit X3)
//   2. sema      names, dims (with the caller's bindings), ranks, extents
//                and dtypes, one statement at a time → ir::Program, implicit
//                sums still pending (lower_ast.h)
//   3. einstein  every summed index wrapped in reduce(sum) over the smallest
//                subexpression holding it, with a warning where that sum
//                runs over a non-linear function of the index
//                (einstein_sums.h)
//   4. products  the pairwise order of each product, planned whole
//                (product_plan.h, contraction_order.h) and
//   5. cost      the symbolic counts (cost_model.h): analyses of the final
//                program, which report() and the backends compute from it
//                where they need them, so lower() runs them only for a
//                caller that asks to see them.
// After a syntax error sema still runs, over the statements that parsed
// (the names the others would define are known but broken: no cascade), so
// the errors of both passes are reported, in source order (lower() holds
// them until the end and sorts them by position); then the pipeline stops.
// A sema error stops it after sema. In builds with
// EINC_VERIFY_IR (Debug, and the test suite's sanitizer build) the IR
// verifier (verify.h) checks the program after steps 2 and 3.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "frontend/source.h"
#include "ir/lower_ast.h"
#include "ir/program.h"

namespace einc::ir {

enum class Pass { parse, sema, einstein, products, cost };

const char* pass_name(Pass pass);
std::optional<Pass> pass_from_name(std::string_view name);
// "parse, sema, einstein, products, cost", for messages.
std::string pass_names();

// A request to see the result of one pass (`einc check --dump-after PASS`):
// lower() fills `text` when it gets there (and leaves it empty if an error
// stops the pipeline before).
struct PassDump {
  Pass after = Pass::einstein;
  std::string text;
};

struct Lowering {
  std::shared_ptr<const ast::Module> module;  // null when parsing failed
  Program program;                            // meaningful when the sink counted no error
};

// Lowers `source`. `parsed`: the module of an earlier lowering of the same
// source, to lower again with other dim bindings without parsing again
// (null: parse). Every problem goes to `sink`.
Lowering lower(const frontend::SourceFile& source, std::shared_ptr<const ast::Module> parsed,
               frontend::DiagnosticSink& sink, const LowerOptions& options, PassDump* dump = nullptr);

}  // namespace einc::ir
