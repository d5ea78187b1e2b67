// frontend/diagnostics.h — errors, warnings and notes with source spans, and a sink.
//
// Passes never print: they report into a DiagnosticSink, which the embedding
// API forwards to the host's callback and the CLI prints clang-style. A
// user error is a Diagnostic; a broken invariant inside einc is an
// einc::InternalError (einc/internal_error.h), so the two never mix.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "einc/severity.h"
#include "frontend/source.h"

namespace einc::frontend {

using ::einc::Severity;

struct Note {
  std::optional<Span> span;
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::error;
  std::optional<Span> span;  // absent: a whole-file or whole-program diagnostic
  std::string message;
  std::vector<Note> notes;
};

// Collects diagnostics for one source file and forwards each to a callback.
class DiagnosticSink {
 public:
  // After this many errors the rest are dropped (one last error says so).
  static constexpr int kMaxErrors = 50;

  using Callback = std::function<void(const SourceFile&, const Diagnostic&)>;
  // `max_errors`: the cap above (a sink that only holds diagnostics for
  // another one, like SourceOrder's, passes a larger one).
  DiagnosticSink(const SourceFile& source, Callback callback, int max_errors = kMaxErrors)
      : source_(source), callback_(std::move(callback)), max_errors_(max_errors) {}

  void report(Diagnostic diagnostic);
  void error(Span span, std::string message, std::vector<Note> notes = {});
  void error(std::string message);
  // A warning never stops the pipeline and is not counted as an error.
  void warning(Span span, std::string message, std::vector<Note> notes = {});
  int error_count() const { return errors_; }
  const SourceFile& source() const { return source_; }

 private:
  const SourceFile& source_;
  Callback callback_;
  int max_errors_;
  int errors_ = 0;
};

// Holds what is reported to sink() and passes it on to `target` in source
// order (by the position of each diagnostic, stable; those without one
// last) when flushed. The lowering reports through one (ir/lower.cpp), so
// that a syntax error, a stray byte found while splitting and a semantic
// error of another statement reach the user in the order of the lines
// they are on, not in the order of the passes that found them.
class SourceOrder {
 public:
  explicit SourceOrder(DiagnosticSink& target);
  DiagnosticSink& sink() { return held_sink_; }
  // Passes everything held on to the target (whose cap then applies).
  void flush();

 private:
  DiagnosticSink& target_;
  std::vector<Diagnostic> held_;
  DiagnosticSink held_sink_;
};

// `file:line:col: error: message`, the source line, a caret under the span
// (`^~~~`), then each note the same way. A control byte in the shown line
// (NUL, ESC, a carriage return inside the line, DEL, ...) is printed in
// caret notation, two characters (`^@`, `^[`, `^M`, `^?`, as `cat -v` does),
// with the caret line padded to match, so the text stays printable and the
// caret stays under its column; a tab stays a tab on both lines.
std::string render_diagnostic(const SourceFile& source, const Diagnostic& diagnostic);

}  // namespace einc::frontend
