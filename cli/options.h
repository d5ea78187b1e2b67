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

namespace einc::cli {

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

}  // namespace einc::cli
