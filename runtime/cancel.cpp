// runtime/cancel.cpp — see cancel.h.
#include "runtime/cancel.h"

namespace einc::runtime {

namespace {

thread_local const std::atomic<bool>* current_flag = nullptr;

}  // namespace

CancelScope::CancelScope(const std::atomic<bool>* flag) : previous_(current_flag) { current_flag = flag; }

CancelScope::~CancelScope() { current_flag = previous_; }

const std::atomic<bool>* current_cancel_flag() { return current_flag; }

void poll_cancel() {
  if (cancel_requested(current_flag)) throw Cancelled();
}

}  // namespace einc::runtime
