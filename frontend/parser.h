// frontend/parser.h — .ein text → ast::Module (syntax only).
//
// Re-entrant: no global state; all grammar objects are constants. Errors go
// to the sink, one per broken statement (a stray control byte is reported
// by the splitter, and a syntax error it may have caused is not reported
// again), and parsing resumes at the next statement, so several errors in
// one file are all reported. The module holds the statements that parsed;
// each one that did not is in `unparsed`, with the names it would have
// declared or assigned, for sema to check the rest without cascading.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "frontend/source.h"

namespace einc::frontend {

ast::Module parse_module(const SourceFile& source, DiagnosticSink& sink);

}  // namespace einc::frontend
