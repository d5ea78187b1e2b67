// cli/interrupt.h — Ctrl-C during `einc run`: a SIGINT handler that sets
// the run's cancel flag (einc::RunOptions::cancel), so that the run stops
// at its next check and the command exits 130 ("run cancelled") without
// writing an output file.
//
// The handler only stores to a lock-free atomic (async-signal-safe) and is
// installed with SA_RESETHAND: a second Ctrl-C, while the run winds down or
// if it does not, gets SIGINT's default action and ends the process. Where
// SIGINT was ignored when the command started, it stays ignored.
#pragma once

#include <atomic>
#include <csignal>

namespace einc::cli {

// Installs the handler for its lifetime; restores the previous action.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // Set by the first SIGINT while the scope lives.
  const std::atomic<bool>* flag() const;
  bool interrupted() const { return flag()->load(); }

 private:
  struct sigaction previous_ {};
  bool installed_ = false;
};

// The exit status of a command ended by SIGINT, as a shell reports it.
inline constexpr int kInterruptedExitCode = 128 + SIGINT;

}  // namespace einc::cli
