// frontend/statement_splitter.cpp — see statement_splitter.h.
#include "frontend/statement_splitter.h"

#include <cstdio>
#include <string>
#include <string_view>

namespace einc::frontend {

bool is_stray_control(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F; }

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// "U+001B (ESC)": the code point and its ASCII name.
std::string describe_control(unsigned char c) {
  static const char* const kNames[32] = {"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS",  "HT",  "LF",
                                         "VT",  "FF",  "CR",  "SO",  "SI",  "DLE", "DC1", "DC2", "DC3", "DC4", "NAK",
                                         "SYN", "ETB", "CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US"};
  char code[8];
  std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
  return std::string(code) + " (" + (c == 0x7F ? "DEL" : kNames[c]) + ")";
}

class Splitter {
 public:
  Splitter(const SourceFile& source, DiagnosticSink& sink) : text_(source.text()), sink_(sink) {}

  std::vector<StatementText> run() {
    std::uint32_t n = static_cast<std::uint32_t>(text_.size());
    for (std::uint32_t i = 0; i < n; ++i) {
      char c = text_[i];
      if (is_stray_control(static_cast<unsigned char>(c))) {
        i = stray_run(i, true);
      } else if (c == '#') {
        while (i + 1 < n && text_[i + 1] != '\n') {
          ++i;
          if (is_stray_control(static_cast<unsigned char>(text_[i]))) i = stray_run(i, false);
        }
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
        has_text_ = true;
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
  // Reports the run of stray control bytes that starts at `at` (one error,
  // spanning the run, at its first byte) and returns the offset of its last
  // byte. A run stops at the end of a comment's line when `in_code` is
  // false. `in_code`: the run is in code or a string, which the parser reads.
  std::uint32_t stray_run(std::uint32_t at, bool in_code) {
    std::uint32_t end = at + 1;
    while (end < text_.size() && is_stray_control(static_cast<unsigned char>(text_[end]))) ++end;
    const unsigned char first = static_cast<unsigned char>(text_[at]);
    std::string message = "stray control character " + describe_control(first) + " in the script";
    if (end - at > 1) message += " (and " + std::to_string(end - at - 1) + " more after it)";
    sink_.error({at, end}, message);
    if (in_code && !stray_) {
      stray_ = true;
      first_stray_ = at;
    }
    return end - 1;
  }

  // Returns the offset of the closing quote, or of the end of the line.
  std::uint32_t skip_string(std::uint32_t open) {
    has_text_ = true;
    std::uint32_t i = open + 1;
    while (i < text_.size() && text_[i] != '"' && text_[i] != '\n') {
      if (is_stray_control(static_cast<unsigned char>(text_[i]))) i = stray_run(i, true);
      ++i;
    }
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
    if (has_text_) {
      StatementText statement;
      statement.span = {start_, end};
      if (broken_) {
        statement.reported = StatementText::Reported::lexical_error;
      } else if (stray_) {
        statement.reported = StatementText::Reported::stray_byte;
        statement.first_stray = first_stray_;
      }
      statements_.push_back(statement);
    }
    open_.clear();
    has_text_ = false;
    broken_ = false;
    stray_ = false;
  }

  const std::string& text_;
  DiagnosticSink& sink_;
  std::vector<StatementText> statements_;
  std::vector<std::uint32_t> open_;
  std::uint32_t start_ = 0;
  bool has_text_ = false;
  bool broken_ = false;
  bool stray_ = false;  // a stray control byte in code or a string
  std::uint32_t first_stray_ = 0;
};

}  // namespace

std::vector<StatementText> split_statements(const SourceFile& source, DiagnosticSink& sink) {
  return Splitter(source, sink).run();
}

}  // namespace einc::frontend
