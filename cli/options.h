// cli/options.h — parsing of the CLI's structured option values.
//
// `--dim K=V` and `--sweep K=v1,v2,...` are validated here, so a malformed
// value is a usage error (exit 2) that names the argument, before any file
// is read.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "einc/einc.h"

namespace einc::cli {

// FILE and --dim, shared by every command.
struct CommonOptions {
  std::string file;
  std::vector<std::string> dims;
};

// Compiles FILE with the --dim bindings, printing diagnostics on stderr.
// Throws UsageError (a malformed --dim) or einc::CompileError.
Program compile_script(const CommonOptions& options);

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "T=128" → {"T", 128}; throws UsageError.
std::pair<std::string, std::int64_t> parse_dim_binding(const std::string& text);

struct Sweep {
  std::string dim;
  std::vector<std::int64_t> values;
};
// "T=1,128,1024" → {"T", {1, 128, 1024}}; throws UsageError.
Sweep parse_sweep(const std::string& text);

// "A=path/a.npy" → {"A", "path/a.npy"}; throws UsageError.
std::pair<std::string, std::string> parse_input_binding(const std::string& text);

}  // namespace einc::cli
