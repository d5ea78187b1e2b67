// frontend/diagnostics.cpp — the sink and the clang-style renderer.
#include "frontend/diagnostics.h"

#include <algorithm>

namespace einc::frontend {

void DiagnosticSink::report(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::error) ++errors_;
  if (callback_) callback_(source_, diagnostic);
}

void DiagnosticSink::error(Span span, std::string message, std::vector<Note> notes) {
  report({Severity::error, span, std::move(message), std::move(notes)});
}

void DiagnosticSink::error(std::string message) {
  report({Severity::error, std::nullopt, std::move(message), {}});
}

namespace {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::note: return "note";
  }
  return "error";
}

// Appends the located header line, the source line and the caret line.
void render_one(std::string& out, const SourceFile& source, const std::optional<Span>& span,
                Severity severity, const std::string& message) {
  if (!span) {
    out += source.name() + ": " + severity_name(severity) + ": " + message + "\n";
    return;
  }
  LineCol pos = source.line_col(span->begin);
  out += source.name() + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
         severity_name(severity) + ": " + message + "\n";
  std::string_view line = source.line_text(pos.line);
  out += "  ";
  out += line;
  out += "\n  ";
  std::size_t col = static_cast<std::size_t>(pos.column - 1);
  for (std::size_t i = 0; i < col && i < line.size(); ++i) out += line[i] == '\t' ? '\t' : ' ';
  out += '^';
  // Underline the rest of the span while it stays on this line.
  std::size_t span_len = span->end > span->begin ? span->end - span->begin : 1;
  std::size_t room = line.size() > col ? line.size() - col : 1;
  for (std::size_t i = 1; i < std::min(span_len, room); ++i) out += '~';
  out += "\n";
}

}  // namespace

std::string render_diagnostic(const SourceFile& source, const Diagnostic& diagnostic) {
  std::string out;
  render_one(out, source, diagnostic.span, diagnostic.severity, diagnostic.message);
  for (const Note& note : diagnostic.notes) render_one(out, source, note.span, Severity::note, note.message);
  return out;
}

}  // namespace einc::frontend
