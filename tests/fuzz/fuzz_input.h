// tests/fuzz/fuzz_input.h — run one arbitrary input through the whole public
// pipeline and check the invariants every input must keep (docs/language.md,
// "Diagnostics": never crash or hang, however malformed the input).
//
// Shared by the libFuzzer target (parser_fuzz_target.cpp) and the bounded
// random-input GoogleTest (fuzz_test.cpp). Header-only on purpose: the
// libFuzzer build and the test build compile it with different flags.
//
// Invariants checked (anything else — a crash, a sanitizer report, a hang —
// is caught by the harness around this function):
//   - only einc::CompileError escapes compile(), report(), bind();
//   - a CompileError carries at least one error diagnostic;
//   - a diagnostic with a position has line >= 1 and column >= 1
//     (line == 0 && column == 0 means "no position");
//   - `rendered` starts with the file name;
//   - format_report never throws, in every format.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "einc/einc.h"
#include "einc/report.h"

namespace einc_fuzz {

inline constexpr const char* kFuzzFileName = "fuzz.ein";

inline constexpr einc::ReportFormat kAllFormats[] = {einc::ReportFormat::table, einc::ReportFormat::json,
                                                     einc::ReportFormat::csv, einc::ReportFormat::markdown};

// What one input did, for statistics; `problems` is empty when every
// invariant held.
struct Outcome {
  bool compiled = false;
  bool reported = false;  // a report was produced (possibly after binding symbolic dims)
  std::size_t diagnostics = 0;
  std::vector<std::string> problems;
};

namespace detail {

inline void check_diagnostic(const einc::Diagnostic& d, const std::string& where, const std::string& file,
                             Outcome& out) {
  ++out.diagnostics;
  bool positioned = d.line != 0 || d.column != 0;
  if (positioned && (d.line < 1 || d.column < 1))
    out.problems.push_back(where + ": diagnostic at line " + std::to_string(d.line) + ", column " +
                           std::to_string(d.column) + " (must be >= 1): " + d.message);
  if (d.rendered.rfind(file, 0) != 0)
    out.problems.push_back(where + ": rendered diagnostic does not start with the file name '" + file +
                           "': " + d.rendered.substr(0, 200));
}

inline void check_error(const einc::CompileError& e, const std::string& where, const std::string& file, Outcome& out) {
  bool has_error = false;
  for (const einc::Diagnostic& d : e.diagnostics()) {
    check_diagnostic(d, where, file, out);
    has_error = has_error || d.severity == einc::Severity::error;
  }
  if (!has_error) out.problems.push_back(where + ": CompileError without an error diagnostic");
}

// Reports `program` and formats the report in every format.
inline void report_all(const einc::Program& program, const std::string& where, const std::string& file, Outcome& out) {
  einc::Report report;
  try {
    report = program.report();
  } catch (const einc::CompileError& e) {
    check_error(e, where + " report()", file, out);
    return;
  }
  out.reported = true;
  for (einc::ReportFormat format : kAllFormats) {
    std::string text = einc::format_report(report, format);
    if (text.empty())
      out.problems.push_back(where + ": format_report(" + std::to_string(static_cast<int>(format)) + ") is empty");
  }
}

}  // namespace detail

// Compiles `text`, and if it compiles: dumps the IR, reports it and formats
// the report in every format; then binds every symbolic dim to a small value
// and does it again. Never throws.
inline Outcome run_one(std::string_view text, const std::string& file = kFuzzFileName) {
  Outcome out;
  std::string stage = "compile()";
  try {
    einc::CompileOptions options;
    options.filename = file;
    options.on_diagnostic = [&](const einc::Diagnostic& d) { detail::check_diagnostic(d, "on_diagnostic", file, out); };
    einc::Program program = [&] {
      try {
        return einc::compile(text, options);
      } catch (const einc::CompileError& e) {
        detail::check_error(e, "compile()", file, out);
        throw;
      }
    }();
    out.compiled = true;

    stage = "dump_ir()";
    (void)program.dump_ir();
    stage = "report()";
    detail::report_all(program, "report", file, out);

    // Bind what is still symbolic, so the cost model sees the statements
    // even of scripts that leave dims open.
    einc::DimBindings bindings;
    for (const einc::Program::DimInfo& dim : program.dims())
      if (!dim.bound) bindings.emplace_back(dim.name, 3);
    if (!bindings.empty()) {
      stage = "bind()";
      einc::Program bound = [&]() -> einc::Program {
        try {
          return program.bind(bindings);
        } catch (const einc::CompileError& e) {
          detail::check_error(e, "bind()", file, out);
          throw;
        }
      }();
      stage = "report() after bind()";
      detail::report_all(bound, "report after bind", file, out);
    }
  } catch (const einc::CompileError&) {
    // expected for most inputs; already checked where it was thrown
  } catch (const std::exception& e) {
    out.problems.push_back(stage + " threw a " + std::string(typeid(e).name()) +
                           " that is not einc::CompileError: " + e.what());
  } catch (...) {
    out.problems.push_back(stage + " threw a non-std exception");
  }
  return out;
}

// A printable rendering of an input for failure messages: escapes control
// and high bytes, elides the middle of long inputs.
inline std::string escape(std::string_view bytes, std::size_t max = 400) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  auto put = [&](unsigned char c) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\\')
      out += "\\\\";
    else if (c < 0x20 || c >= 0x7f)
      out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    else
      out += static_cast<char>(c);
  };
  if (bytes.size() <= max) {
    for (unsigned char c : bytes) put(c);
  } else {
    for (unsigned char c : bytes.substr(0, max / 2)) put(c);
    out += "...<" + std::to_string(bytes.size() - max) + " bytes>...";
    for (unsigned char c : bytes.substr(bytes.size() - max / 2)) put(c);
  }
  return out;
}

}  // namespace einc_fuzz
