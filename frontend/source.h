// frontend/source.h — a source file held in memory, and byte spans into it.
//
// Every AST node and IR statement carries a Span (byte offsets), never a
// line/column pair: positions are cheap to copy and are turned into
// `line:col` only when a diagnostic is rendered. A UTF-8 byte-order mark is
// dropped on load so that columns count from the first visible character.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace einc::frontend {

struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;  // one past the last byte
  bool empty() const { return end <= begin; }
};

struct LineCol {
  int line = 1;    // 1-based
  int column = 1;  // 1-based byte offset within the line
};

class SourceFile {
 public:
  SourceFile(std::string name, std::string text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  LineCol line_col(std::uint32_t offset) const;
  // The text of a 1-based line, without its line end (CRLF or LF).
  std::string_view line_text(int line) const;
  int line_count() const { return static_cast<int>(line_starts_.size()); }

 private:
  std::string name_;
  std::string text_;
  std::vector<std::uint32_t> line_starts_;
};

}  // namespace einc::frontend
