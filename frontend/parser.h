// frontend/parser.h — .ein text → ast::Module (syntax only).
//
// Re-entrant: no global state; all grammar objects are constants. Errors go
// to the sink, one per broken statement, and parsing resumes at the next
// statement, so several errors in one file are all reported.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "frontend/source.h"

namespace einc::frontend {

ast::Module parse_module(const SourceFile& source, DiagnosticSink& sink);

}  // namespace einc::frontend
