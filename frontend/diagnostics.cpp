// frontend/diagnostics.cpp — the sink and the clang-style renderer.
#include "frontend/diagnostics.h"

#include <algorithm>

namespace einc::frontend {

void DiagnosticSink::report(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::error) {
    if (++errors_ > kMaxErrors) return;
    if (errors_ == kMaxErrors) {
      if (callback_) callback_(source_, diagnostic);
      diagnostic = {
          Severity::error, std::nullopt, "too many errors (" + std::to_string(kMaxErrors) + "); stopping here", {}};
    }
  }
  if (callback_) callback_(source_, diagnostic);
}

void DiagnosticSink::error(Span span, std::string message, std::vector<Note> notes) {
  report({Severity::error, span, std::move(message), std::move(notes)});
}

void DiagnosticSink::warning(Span span, std::string message, std::vector<Note> notes) {
  report({Severity::warning, span, std::move(message), std::move(notes)});
}

void DiagnosticSink::error(std::string message) { report({Severity::error, std::nullopt, std::move(message), {}}); }

namespace {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    case Severity::note:
      return "note";
  }
  return "error";
}

// Appends the located header line, the source line and the caret line.
void render_one(std::string& out, const SourceFile& source, const std::optional<Span>& span, Severity severity,
                const std::string& message) {
  if (!span) {
    out += source.name() + ": " + severity_name(severity) + ": " + message + "\n";
    return;
  }
  LineCol pos = source.line_col(span->begin);
  out += source.name() + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
         severity_name(severity) + ": " + message + "\n";
  std::string_view line = source.line_text(pos.line);
  std::size_t col = static_cast<std::size_t>(pos.column - 1);
  // A very long line is shown as a window around the caret.
  constexpr std::size_t kWidth = 160, kBefore = 60;
  std::string prefix;
  if (line.size() > kWidth) {
    std::size_t start = col > kBefore ? col - kBefore : 0;
    if (start > 0) prefix = "...";
    line = line.substr(start, kWidth);
    col = col - start + prefix.size();
  }
  out += "  " + prefix;
  out += line;
  out += "\n  ";
  // Pad to the caret, keeping tabs so it lines up under tabbed text.
  for (std::size_t i = 0; i < col; ++i) {
    std::size_t at = i - std::min(i, prefix.size());
    out += i >= prefix.size() && at < line.size() && line[at] == '\t' ? '\t' : ' ';
  }
  out += '^';
  // Underline the rest of the span while it stays on this line.
  std::size_t span_len = span->end > span->begin ? span->end - span->begin : 1;
  std::size_t shown = line.size() + prefix.size();
  std::size_t room = shown > col ? shown - col : 1;
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
