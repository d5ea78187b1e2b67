// runtime/cancel.h — cooperative cancellation of a run (RunOptions::cancel).
//
// A run's cancel flag is installed as the calling thread's *current* flag
// for the run's duration (CancelScope, set up by execute_program) instead
// of being threaded through every backend's signature: the executor checks
// it between statements, the reference interpreter every few ten thousand
// points of its loops, and runtime::parallel_for between tasks (its workers
// get the caller's flag with the job, stop taking tasks once it is set, and
// the caller throws after they have joined). A kernel already running is
// never interrupted, so a cancelled run stops within one task or one chunk
// of interpreted points.
//
// The flag is only read, relaxed: whoever sets it (another thread, a signal
// handler: std::atomic<bool> is lock-free) needs no other synchronisation.
#pragma once

#include <atomic>
#include <exception>

namespace einc::runtime {

// Thrown by a check that finds the current flag set; the API turns it into
// einc::RunCancelled.
class Cancelled : public std::exception {
 public:
  const char* what() const noexcept override { return "run cancelled"; }
};

// Makes `flag` (may be null: never cancelled) this thread's current flag
// until the scope ends, then restores the previous one.
class CancelScope {
 public:
  explicit CancelScope(const std::atomic<bool>* flag);
  ~CancelScope();
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

// This thread's current flag (null outside a CancelScope).
const std::atomic<bool>* current_cancel_flag();

inline bool cancel_requested(const std::atomic<bool>* flag) {
  return flag != nullptr && flag->load(std::memory_order_relaxed);
}

// Throws Cancelled when this thread's current flag is set.
void poll_cancel();

}  // namespace einc::runtime
