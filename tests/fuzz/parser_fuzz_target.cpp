// tests/fuzz/parser_fuzz_target.cpp — libFuzzer entry point: every input is
// compiled, and if it compiles, dumped, reported and formatted in every
// format (fuzz_input.h). Built only with clang and -DEINC_FUZZ=ON:
//
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEINC_FUZZ=ON -DEINC_WERROR=OFF
//   ninja -C build-fuzz parser_fuzz
//   mkdir -p build-fuzz/corpus
//   build-fuzz/tests/fuzz/parser_fuzz -dict=tests/fuzz/ein.dict -max_total_time=60 \
//       build-fuzz/corpus examples        # new inputs go to the first directory
//
// or `ninja -C build-fuzz run_parser_fuzz` (60 s). A broken invariant aborts
// with the reason, so libFuzzer saves the input as crash-<sha1>.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  einc_fuzz::Outcome outcome = einc_fuzz::run_one(text);
  if (!outcome.problems.empty()) {
    for (const std::string& problem : outcome.problems) std::fprintf(stderr, "einc fuzz: %s\n", problem.c_str());
    std::fprintf(stderr, "einc fuzz: input: \"%s\"\n", einc_fuzz::escape(text).c_str());
    std::abort();
  }
  return 0;
}
