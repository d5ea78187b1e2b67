// einc/internal_error.h — a broken invariant inside einc: a bug, never bad input.
//
// User errors travel as diagnostics (CompileError) or RunError and say what
// to change in the script or the data. An InternalError says that einc itself
// went wrong: the CLI prints "internal error — please report" and exits with
// code 3, and the API never rewraps it as a user error. Inside einc, state an
// invariant with EINC_CHECK, which records where it failed:
//
//   EINC_CHECK(slot < slots.size(), "loop kernel: operand slot out of range");
//   EINC_FAIL("loop kernel: unknown node");   // a path that must not be reached
#pragma once

#include <stdexcept>
#include <string>

namespace einc {

class InternalError : public std::logic_error {
 public:
  // what(): "FILE:LINE: MESSAGE" (FILE relative to the source tree).
  InternalError(const char* file, int line, const std::string& message)
      : std::logic_error(std::string(trim(file)) + ":" + std::to_string(line) + ": " + message) {}

 private:
  static const char* trim(const char* file) {
    // The path below the repository root, whatever the build machine's layout.
    static constexpr const char* kLayers[] = {"/frontend/", "/ir/",  "/runtime/", "/backends/",
                                              "/api/",      "/cli/", "/include/"};
    const char* best = nullptr;
    for (const char* layer : kLayers)
      for (const char* p = file; *p; ++p) {
        const char* a = p;
        const char* b = layer;
        while (*b && *a == *b) ++a, ++b;
        if (!*b) best = p + 1;
      }
    return best ? best : file;
  }
};

[[noreturn]] inline void throw_internal_error(const char* file, int line, const std::string& message) {
  throw InternalError(file, line, message);
}

}  // namespace einc

// Throws einc::InternalError with this file and line when `condition` is false.
#define EINC_CHECK(condition, message)                                           \
  do {                                                                           \
    if (!(condition)) ::einc::throw_internal_error(__FILE__, __LINE__, message); \
  } while (false)

// Throws einc::InternalError: a path that the code above rules out.
#define EINC_FAIL(message) ::einc::throw_internal_error(__FILE__, __LINE__, message)
