// frontend/diagnostics.cpp — the sink, the clang-style renderer, and einc::severity_name.
#include "frontend/diagnostics.h"

#include <algorithm>
#include <limits>

namespace einc::frontend {

void DiagnosticSink::report(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::error) {
    if (++errors_ > max_errors_) return;
    if (errors_ == max_errors_) {
      if (callback_) callback_(source_, diagnostic);
      diagnostic = {
          Severity::error, std::nullopt, "too many errors (" + std::to_string(max_errors_) + "); stopping here", {}};
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

SourceOrder::SourceOrder(DiagnosticSink& target)
    : target_(target),
      held_sink_(
          target.source(), [this](const SourceFile&, const Diagnostic& d) { held_.push_back(d); },
          std::numeric_limits<int>::max()) {}

void SourceOrder::flush() {
  auto key = [](const Diagnostic& d) { return d.span ? d.span->begin : std::numeric_limits<std::uint32_t>::max(); };
  std::stable_sort(held_.begin(), held_.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  for (Diagnostic& d : held_) target_.report(std::move(d));
  held_.clear();
}

namespace {

// A byte of the shown line as printed: a control byte (other than a tab) in
// caret notation, two characters; any other byte as itself.
std::string visible(unsigned char c) {
  if (c == 0x7F) return "^?";
  if (c < 0x20 && c != '\t') return std::string("^") + static_cast<char>(c + 0x40);
  return std::string(1, static_cast<char>(c));
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
  std::size_t col = static_cast<std::size_t>(pos.column - 1);  // a byte offset into `line`
  // A very long line is shown as a window around the caret.
  constexpr std::size_t kWidth = 160, kBefore = 60;
  std::string prefix;
  if (line.size() > kWidth) {
    std::size_t start = col > kBefore ? col - kBefore : 0;
    if (start > 0) prefix = "...";
    line = line.substr(start, kWidth);
    col -= start;
  }
  // The shown line and the caret line, byte by byte: the caret line pads
  // each byte before the column with as many blanks as the byte is shown
  // wide (a tab with a tab), then underlines the span while it stays on
  // this line.
  std::string shown = "  " + prefix, marks = "  " + std::string(prefix.size(), ' ');
  const std::size_t span_len = span->end > span->begin ? span->end - span->begin : 1;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    const std::string glyph = visible(c);
    shown += glyph;
    if (i < col) {
      marks += c == '\t' ? std::string("\t") : std::string(glyph.size(), ' ');
    } else if (i - col < span_len) {
      marks += i == col ? '^' : '~';
      marks += std::string(glyph.size() - 1, '~');
    }
  }
  if (col >= line.size()) marks += std::string(col - line.size(), ' ') + "^";  // at the line's end
  out += shown + "\n" + marks + "\n";
}

}  // namespace

std::string render_diagnostic(const SourceFile& source, const Diagnostic& diagnostic) {
  std::string out;
  render_one(out, source, diagnostic.span, diagnostic.severity, diagnostic.message);
  for (const Note& note : diagnostic.notes) render_one(out, source, note.span, Severity::note, note.message);
  return out;
}

}  // namespace einc::frontend

namespace einc {

const char* severity_name(Severity severity) {
  switch (severity) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    case Severity::note:
      return "note";
  }
  return "error";
}

}  // namespace einc
