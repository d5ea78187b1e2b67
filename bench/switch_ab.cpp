// bench/switch_ab.cpp — einc against itself with one of its run-time
// switches (an environment variable the backend reads on every call, such
// as EINC_GETT_PACK_B) unset and set to 1, in one process, in interleaved
// rounds, so that a noisy host's drift hits both sides alike. Prints each
// round's medians and their ratio, then the median ratio and its range:
//
//   switch_ab SCRIPT VARIABLE [--runs N] [--rounds R] [--threads T]
//
// (docs/performance.md quotes it for the in-place B of the GETT:
// `switch_ab pv.ein EINC_GETT_PACK_B --runs 8 --rounds 9`). Inputs are
// einc::random_inputs(program, 1); the outputs are kept across runs
// (Program::run_into). Not part of the test suite.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "einc/einc.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int usage() {
  std::fprintf(stderr, "usage: switch_ab SCRIPT VARIABLE [--runs N] [--rounds R] [--threads T]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const char* script = argv[1];
  const char* variable = argv[2];
  int runs = 20, rounds = 9, threads = 2;
  for (int i = 3; i + 1 < argc; i += 2) {
    const int value = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--runs") == 0)
      runs = value;
    else if (std::strcmp(argv[i], "--rounds") == 0)
      rounds = value;
    else if (std::strcmp(argv[i], "--threads") == 0)
      threads = value;
    else
      return usage();
  }
  if (runs < 1 || rounds < 1 || threads < 1) return usage();
  try {
    einc::Program program = einc::compile_file(script);
    const einc::TensorMap inputs = einc::random_inputs(program, 1);
    einc::TensorMap outputs;
    einc::RunOptions options;
    options.threads = threads;
    // The median of `runs` calls with the variable unset (set == false) or 1.
    auto time = [&](bool set) {
      if (set)
        setenv(variable, "1", 1);
      else
        unsetenv(variable);
      program.run_into(inputs, outputs, options);  // warm-up: JIT, caches
      std::vector<double> ms;
      for (int r = 0; r < runs; ++r) {
        const auto start = std::chrono::steady_clock::now();
        program.run_into(inputs, outputs, options);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      }
      return median(ms);
    };
    std::vector<double> ratios;
    for (int round = 0; round < rounds; ++round) {
      const double unset = time(false), set = time(true);
      ratios.push_back(set / unset);
      std::printf("round %d: %s unset %.3f ms, =1 %.3f ms, =1 / unset %.3f\n", round, variable, unset, set,
                  set / unset);
    }
    std::sort(ratios.begin(), ratios.end());
    std::printf("%s: time with =1 / time unset, median of %d rounds %.3f (%.3f-%.3f); > 1: unset is faster\n", variable,
                rounds, ratios[ratios.size() / 2], ratios.front(), ratios.back());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switch_ab: %s\n", e.what());
    return 1;
  }
  return 0;
}
