// frontend/statement_splitter.h — cuts a script into logical statements.
//
// A statement ends at a newline or `;` unless the newline is inside `( )` or
// `[ ]`. Splitting before parsing gives the parser its error recovery for
// free (a syntax error costs one statement, the next one is parsed afresh),
// lets an unclosed bracket be reported at its opener, and bounds bracket
// nesting before any recursive descent can overflow the stack.
//
// The splitter is also where stray control bytes are found: every byte of
// the file passes through it, comments and strings included, so a NUL, an
// ESC, a form feed or a DEL (any C0 control but tab, newline and carriage
// return, and DEL) is reported at its own line:column wherever it is.
// Consecutive stray bytes are one error whose span covers them all.
#pragma once

#include <cstdint>
#include <vector>

#include "frontend/diagnostics.h"
#include "frontend/source.h"

namespace einc::frontend {

// Deeper bracket nesting than this is refused ("too deep").
inline constexpr int kMaxNesting = 64;

// A byte that has no place in a script: C0 controls but tab, newline and
// carriage return, and DEL.
bool is_stray_control(unsigned char c);

// One statement: its text and what the splitter already reported in it.
struct StatementText {
  enum class Reported {
    nothing,
    // A stray control byte in its code or strings, the first at
    // `first_stray`: the parser reads every stray byte as a blank, and a
    // syntax error at or after the first one is not reported again.
    stray_byte,
    // An unclosed bracket, an unterminated string or nesting too deep: the
    // statement is not parsed (the parser only reads which names it would
    // have declared or assigned).
    lexical_error,
  };
  Span span;
  Reported reported = Reported::nothing;
  std::uint32_t first_stray = 0;
};

// The statements with any text other than blanks, comments and stray
// bytes, in source order. Lexical errors (unclosed bracket, unterminated
// string, nesting too deep, stray control bytes) are reported to `sink`.
std::vector<StatementText> split_statements(const SourceFile& source, DiagnosticSink& sink);

}  // namespace einc::frontend
