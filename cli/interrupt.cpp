// cli/interrupt.cpp — see interrupt.h.
#include "cli/interrupt.h"

namespace einc::cli {

namespace {

std::atomic<bool> sigint_seen{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT handler stores to it");

void on_interrupt(int) { sigint_seen.store(true); }

}  // namespace

InterruptScope::InterruptScope() {
  sigint_seen.store(false);
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  installed_ = sigaction(SIGINT, &action, &previous_) == 0;
  // A command started with SIGINT ignored (a shell's background job) keeps
  // it ignored, as the shell intended.
  if (installed_ && previous_.sa_handler == SIG_IGN) {
    sigaction(SIGINT, &previous_, nullptr);
    installed_ = false;
  }
}

InterruptScope::~InterruptScope() {
  if (installed_) sigaction(SIGINT, &previous_, nullptr);
}

const std::atomic<bool>* InterruptScope::flag() const { return &sigint_seen; }

}  // namespace einc::cli
