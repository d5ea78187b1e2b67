// tests/scripts/fail_scripts_test.cpp — the must-fail scripts tier.
//
// Every tests/scripts/fail/*.ein is one test, named after the file. A script
// carries its expected diagnostics inline, Wren-style:
//
//   # expect error 7:24: index 'e' has extent 128 here but 64
//   # expect note 7:12: 'e' gets extent 64 here
//   # expect-at report
//
// `expect error L:C: TEXT` — an error must be reported at exactly line L,
// column C (1-based bytes) with a message containing TEXT. Each expectation
// consumes one error; an error that no expectation consumes fails the test
// (notes and warnings are free). `expect note L:C: TEXT` — some error's
// rendered text must carry a note at L:C containing TEXT. `expect-at report`
// — the script must compile; the errors are expected from Program::report().
// A script without any `# expect error` line is itself a failure: a must-fail
// script that states nothing tests nothing.
//
// Besides the positions, every error's rendered text is checked to be
// clang-style: `FILE:L:C: error: MESSAGE`, the source line, and a caret
// under column C (a control byte in the line is shown as two characters,
// `^[`, and none reaches the text raw), and the errors to come in source
// order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "einc/einc.h"

namespace {

namespace fs = std::filesystem;

const fs::path kScriptDir = fs::path(EINC_SOURCE_DIR) / "tests" / "scripts" / "fail";

struct Expectation {
  bool note = false;
  int line = 0;
  int column = 0;
  std::string text;
  int script_line = 0;  // where the expectation is written, for messages
};

struct Script {
  std::string name;  // file name, e.g. unknown_tensor.ein
  std::string text;
  std::vector<Expectation> expected;
  bool at_report = false;
  std::vector<std::string> malformed;  // `# expect` lines that do not parse
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Script load_script(const fs::path& path) {
  Script s;
  s.name = path.filename().string();
  s.text = read_file(path);
  static const std::regex expect_re(R"(#\s*expect\s+(error|note)\s+(\d+):(\d+):\s?(.*?)\s*$)");
  static const std::regex report_re(R"(#\s*expect-at\s+report\s*$)");
  std::istringstream lines(s.text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::smatch m;
    if (std::regex_search(line, m, expect_re)) {
      Expectation e;
      e.note = m[1] == "note";
      e.line = std::stoi(m[2]);
      e.column = std::stoi(m[3]);
      e.text = m[4];
      e.script_line = number;
      s.expected.push_back(e);
    } else if (std::regex_search(line, report_re)) {
      s.at_report = true;
    } else if (line.find("# expect") != std::string::npos) {
      s.malformed.push_back(std::to_string(number) + ": " + line);
    }
  }
  return s;
}

std::vector<fs::path> script_paths() {
  std::vector<fs::path> out;
  if (!fs::is_directory(kScriptDir)) return out;
  for (const auto& entry : fs::directory_iterator(kScriptDir))
    if (entry.is_regular_file() && entry.path().extension() == ".ein") out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const einc::Diagnostic& d) {
  return std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message;
}

std::string describe_all(const std::vector<einc::Diagnostic>& diagnostics) {
  std::string out;
  for (const einc::Diagnostic& d : diagnostics) out += d.rendered;
  return out.empty() ? "(none)\n" : out;
}

// How wide the bytes of line `line` before `column` are shown: one character
// each, two for a control byte other than a tab (caret notation).
std::size_t shown_width(const std::string& text, int line, int column) {
  std::size_t at = 0;
  for (int l = 1; l < line; ++l) {
    at = text.find('\n', at);
    if (at == std::string::npos) return 0;
    ++at;
  }
  std::size_t width = 0;
  for (int c = 1; c < column && at < text.size(); ++c, ++at) {
    const auto byte = static_cast<unsigned char>(text[at]);
    width += (byte < 0x20 && byte != '\t') || byte == 0x7F ? 2 : 1;
  }
  return width;
}

// The rendered text of an error: header, source line, caret under the column.
void check_rendered(const Script& script, const einc::Diagnostic& d) {
  const std::string header = d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": error: ";
  EXPECT_EQ(d.file, script.name) << describe(d);
  EXPECT_EQ(d.rendered.rfind(header, 0), 0u) << "rendered text does not start with '" << header << "':\n" << d.rendered;
  std::vector<std::string> lines;
  std::istringstream in(d.rendered);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_GE(lines.size(), 3u) << "no source line and caret:\n" << d.rendered;
  const std::string& caret = lines[2];
  const std::size_t at = caret.find('^');
  ASSERT_NE(at, std::string::npos) << "no caret line:\n" << d.rendered;
  EXPECT_EQ(caret.find_first_not_of(" \t"), at) << "caret line has text before the caret:\n" << d.rendered;
  // Two spaces of indent, then one character per byte before the column,
  // two for a control byte (shown in caret notation, `^[`).
  EXPECT_EQ(at, 2u + shown_width(script.text, d.line, d.column)) << "caret is not under column " << d.column << ":\n"
                                                                 << d.rendered;
  // Nothing unprintable reaches the user: control bytes are shown, not sent.
  for (char c : d.rendered) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_FALSE((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7F)
        << "raw control byte " << static_cast<int>(byte) << " in:\n"
        << d.rendered;
  }
}

class FailScript : public testing::TestWithParam<fs::path> {};

TEST_P(FailScript, ReportsExpectedErrors) {
  const Script script = load_script(GetParam());
  ASSERT_TRUE(script.malformed.empty()) << "malformed expectation lines:\n" << script.malformed.front();
  const bool states_errors =
      std::any_of(script.expected.begin(), script.expected.end(), [](const Expectation& e) { return !e.note; });
  ASSERT_TRUE(states_errors) << script.name << " has no '# expect error L:C: message' line";

  std::vector<einc::Diagnostic> delivered;  // what the handler saw
  std::vector<einc::Diagnostic> diagnostics;
  bool failed = false;
  einc::CompileOptions options;
  options.filename = script.name;
  options.on_diagnostic = [&](const einc::Diagnostic& d) { delivered.push_back(d); };
  try {
    einc::Program program = einc::compile(script.text, options);
    if (script.at_report) {
      try {
        (void)program.report();
      } catch (const einc::CompileError& e) {
        failed = true;
        diagnostics = e.diagnostics();
      }
    }
  } catch (const einc::CompileError& e) {
    failed = true;
    diagnostics = e.diagnostics();
    EXPECT_FALSE(script.at_report) << "expected to compile and fail at report(), but compile failed:\n"
                                   << describe_all(diagnostics);
  } catch (const std::exception& e) {
    FAIL() << "einc threw something other than CompileError: " << e.what();
  }
  ASSERT_TRUE(failed) << script.name << " was accepted" << (script.at_report ? " (report() succeeded)" : "");

  // The handler sees exactly what the exception carries.
  ASSERT_EQ(delivered.size(), diagnostics.size()) << "handler saw:\n"
                                                  << describe_all(delivered) << "exception carries:\n"
                                                  << describe_all(diagnostics);

  // EINC_SCRIPT_DUMP=1 prints everything einc reported, to write expectations.
  if (std::getenv("EINC_SCRIPT_DUMP")) std::cout << describe_all(diagnostics);

  std::vector<const einc::Diagnostic*> errors;
  for (const einc::Diagnostic& d : diagnostics)
    if (d.severity == einc::Severity::error) errors.push_back(&d);
  for (const einc::Diagnostic* d : errors) {
    SCOPED_TRACE(describe(*d));
    if (d->line > 0) check_rendered(script, *d);
  }
  // In source order, whichever pass found each (positioned ones first).
  for (std::size_t i = 1; i < errors.size(); ++i) {
    auto key = [](const einc::Diagnostic* d) { return std::make_pair(d->line == 0 ? INT_MAX : d->line, d->column); };
    EXPECT_LE(key(errors[i - 1]), key(errors[i])) << "errors out of source order:\n" << describe_all(diagnostics);
  }

  std::vector<bool> used(errors.size(), false);
  for (const Expectation& e : script.expected) {
    const std::string where = std::to_string(e.line) + ":" + std::to_string(e.column);
    if (e.note) {
      const std::string header = script.name + ":" + where + ": note: ";
      bool found = false;
      for (const einc::Diagnostic* d : errors) {
        for (std::size_t at = d->rendered.find(header); at != std::string::npos && !found;
             at = d->rendered.find(header, at + 1)) {
          const std::size_t eol = d->rendered.find('\n', at);
          found = d->rendered.substr(at, eol - at).find(e.text) != std::string::npos;
        }
      }
      EXPECT_TRUE(found) << "missing note " << where << ": " << e.text << " (line " << e.script_line
                         << " of the script); got:\n"
                         << describe_all(diagnostics);
      continue;
    }
    bool found = false;
    for (std::size_t i = 0; i < errors.size() && !found; ++i) {
      if (used[i] || errors[i]->line != e.line || errors[i]->column != e.column) continue;
      if (errors[i]->message.find(e.text) == std::string::npos) continue;
      used[i] = found = true;
    }
    EXPECT_TRUE(found) << "missing error " << where << ": " << e.text << " (line " << e.script_line
                       << " of the script); got:\n"
                       << describe_all(diagnostics);
  }
  for (std::size_t i = 0; i < errors.size(); ++i) EXPECT_TRUE(used[i]) << "unexpected error:\n" << errors[i]->rendered;
}

std::string test_name(const testing::TestParamInfo<fs::path>& info) {
  std::string name = info.param.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Scripts, FailScript, testing::ValuesIn(script_paths()), test_name);

// The tier must not silently shrink to nothing (a wrong path would pass).
TEST(FailScripts, DirectoryHasScripts) { EXPECT_GE(script_paths().size(), 30u) << kScriptDir; }

}  // namespace
