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

#include "frontend/source.h"

namespace einc::frontend {

enum class Severity { error, warning, note };

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
  DiagnosticSink(const SourceFile& source, Callback callback) : source_(source), callback_(std::move(callback)) {}

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
  int errors_ = 0;
};

// `file:line:col: error: message`, the source line, a caret under the span
// (`^~~~`), then each note the same way.
std::string render_diagnostic(const SourceFile& source, const Diagnostic& diagnostic);

}  // namespace einc::frontend
