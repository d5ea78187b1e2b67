// cli/run_command.h — `einc run`: execute a script on a backend, reading
// inputs from .npy files or a seeded generator, writing outputs as .npy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"

namespace einc::cli {

struct RunArguments {
  CommonOptions common;
  Backend backend = default_backend();
  std::vector<std::string> inputs;  // NAME=PATH.npy
  std::optional<std::uint64_t> random_seed;
  std::string output_dir;
  int bench = 0;
  int threads = 0;  // 0: one per core
};

// Returns the exit code (0, or 1 for a user error, already printed).
// Throws UsageError for a malformed --input.
int run_command(const RunArguments& arguments);

}  // namespace einc::cli
