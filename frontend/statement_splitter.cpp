// frontend/statement_splitter.cpp — see statement_splitter.h.
#include "frontend/statement_splitter.h"

#include <string>
#include <string_view>

namespace einc::frontend {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

class Splitter {
 public:
  Splitter(const SourceFile& source, DiagnosticSink& sink) : text_(source.text()), sink_(sink) {}

  std::vector<Span> run() {
    std::uint32_t n = static_cast<std::uint32_t>(text_.size());
    for (std::uint32_t i = 0; i < n; ++i) {
      char c = text_[i];
      if (c == '#') {
        while (i + 1 < n && text_[i + 1] != '\n') ++i;
      } else if (c == '"') {
        i = skip_string(i);
      } else if (c == '(' || c == '[') {
        open_.push_back(i);
        if (static_cast<int>(open_.size()) == kMaxNesting + 1 && !broken_) {
          sink_.error({i, i + 1}, "brackets nested too deep (more than " + std::to_string(kMaxNesting) + " levels)");
          broken_ = true;
        }
      } else if (c == ')' || c == ']') {
        if (!open_.empty()) {
          std::uint32_t opener = open_.back();
          bool matches = (text_[opener] == '(') == (c == ')');
          if (!matches && !broken_) {
            sink_.error({opener, opener + 1}, std::string("'") + text_[opener] + "' is not closed: expected '" +
                                                  (text_[opener] == '(' ? ")" : "]") + "' before '" + c + "'");
            broken_ = true;
          }
          open_.pop_back();
        }
      } else if (c == '\n' && !open_.empty() && next_line_declares(i + 1)) {
        // An unclosed bracket before a declaration: almost surely a typo,
        // not a continuation; report it here so the rest still parses.
        finish(i);
        start_ = i + 1;
      } else if (c == ';' || (c == '\n' && open_.empty())) {
        finish(i);
        start_ = i + 1;
      } else if (!is_blank(c) && c != '\n') {
        has_text_ = true;
      }
    }
    finish(n);
    return std::move(statements_);
  }

 private:
  // Returns the offset of the closing quote, or of the end of the line.
  std::uint32_t skip_string(std::uint32_t open) {
    has_text_ = true;
    std::uint32_t i = open + 1;
    while (i < text_.size() && text_[i] != '"' && text_[i] != '\n') ++i;
    if (i >= text_.size() || text_[i] == '\n') {
      if (!broken_) sink_.error({open, open + 1}, "unterminated string literal");
      broken_ = true;
      return i >= text_.size() ? i : i - 1;  // let the newline end the statement
    }
    return i;
  }

  bool next_line_declares(std::uint32_t at) const {
    while (at < text_.size() && is_blank(text_[at])) ++at;
    for (std::string_view word : {"dim", "input", "param", "output"}) {
      if (text_.compare(at, word.size(), word) != 0) continue;
      std::uint32_t after = at + static_cast<std::uint32_t>(word.size());
      if (after >= text_.size() || is_blank(text_[after])) return true;
    }
    return false;
  }

  void finish(std::uint32_t end) {
    if (!open_.empty() && !broken_) {
      std::uint32_t at = open_.front();
      char opener = text_[at];
      sink_.error({at, at + 1}, std::string("unclosed '") + opener + "': expected '" + (opener == '(' ? ")" : "]") +
                                    "' before the end of the statement");
      broken_ = true;
    }
    if (has_text_ && !broken_) statements_.push_back({start_, end});
    open_.clear();
    has_text_ = false;
    broken_ = false;
  }

  const std::string& text_;
  DiagnosticSink& sink_;
  std::vector<Span> statements_;
  std::vector<std::uint32_t> open_;
  std::uint32_t start_ = 0;
  bool has_text_ = false;
  bool broken_ = false;
};

}  // namespace

std::vector<Span> split_statements(const SourceFile& source, DiagnosticSink& sink) {
  return Splitter(source, sink).run();
}

}  // namespace einc::frontend
