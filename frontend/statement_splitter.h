// frontend/statement_splitter.h — cuts a script into logical statements.
//
// A statement ends at a newline or `;` unless the newline is inside `( )` or
// `[ ]`. Splitting before parsing gives the parser its error recovery for
// free (a syntax error costs one statement, the next one is parsed afresh),
// lets an unclosed bracket be reported at its opener, and bounds bracket
// nesting before any recursive descent can overflow the stack.
#pragma once

#include <vector>

#include "frontend/diagnostics.h"
#include "frontend/source.h"

namespace einc::frontend {

// Deeper bracket nesting than this is refused ("too deep").
inline constexpr int kMaxNesting = 64;

// Spans of the statements with any text other than blanks and comments.
// Lexical errors (unclosed bracket, unterminated string, nesting too deep)
// are reported to `sink` and the statement that holds them is dropped.
std::vector<Span> split_statements(const SourceFile& source, DiagnosticSink& sink);

}  // namespace einc::frontend
