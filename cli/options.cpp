// cli/options.cpp — see options.h.
#include "cli/options.h"

#include <charconv>
#include <iostream>

namespace einc::cli {

namespace {

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::int64_t parse_extent(const std::string& text, const std::string& option) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw UsageError(option + ": '" + text + "' is not an integer in the signed 64-bit range");
  if (value < 0) throw UsageError(option + ": extents are >= 0, not " + text);
  return value;
}

std::pair<std::string, std::string> split_assignment(const std::string& text, const std::string& option) {
  auto eq = text.find('=');
  if (eq == std::string::npos) throw UsageError(option + " " + text + ": expected NAME=VALUE");
  std::string name = text.substr(0, eq);
  if (!is_identifier(name)) throw UsageError(option + " " + text + ": '" + name + "' is not a name");
  return {name, text.substr(eq + 1)};
}

}  // namespace

std::pair<std::string, std::int64_t> parse_dim_binding(const std::string& text) {
  auto [name, value] = split_assignment(text, "--dim");
  return {name, parse_extent(value, "--dim " + text)};
}

std::pair<std::string, std::string> parse_input_binding(const std::string& text) {
  auto [name, path] = split_assignment(text, "--input");
  if (path.empty()) throw UsageError("--input " + text + ": expected NAME=PATH.npy");
  return {name, path};
}

Program compile_script(const CommonOptions& options) {
  CompileOptions compile_options;
  for (const std::string& d : options.dims) compile_options.dims.push_back(parse_dim_binding(d));
  compile_options.on_diagnostic = [](const Diagnostic& d) { std::cerr << d.rendered; };
  return compile_file(options.file, compile_options);
}

Sweep parse_sweep(const std::string& text) {
  auto [name, list] = split_assignment(text, "--sweep");
  Sweep sweep{name, {}};
  std::size_t start = 0;
  while (true) {
    std::size_t comma = list.find(',', start);
    sweep.values.push_back(parse_extent(list.substr(start, comma - start), "--sweep " + text));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return sweep;
}

}  // namespace einc::cli
