// python/src/interruptible.cpp — see bindings.h (run_interruptible).
//
// Python runs its signal handlers in the main thread only, when that thread
// holds the GIL and looks (PyErr_CheckSignals): a run there does neither
// until it returns. So for a run on the main thread, while Python's SIGINT handler is its
// default (the one that raises KeyboardInterrupt), a C-level SIGINT handler
// is put in front of Python's for the run's duration: it sets the run's
// cancel flag (einc::RunOptions::cancel) and passes the signal on to
// Python's own handler, which notes it as usual. The run stops at its next
// check, and PyErr_CheckSignals then raises the KeyboardInterrupt.
//
// Why not run the work on a helper thread while the main thread polls
// PyErr_CheckSignals: starting that thread doubled the cost of a small run
// (about 100 us on top of 100 us, measured on the project's two-core VM).
// The hook costs two sigaction calls and a look at Python's handler.
//
// Other threads' runs get no hook: no Python handler runs there. Nor does a
// run while the caller has a SIGINT handler of its own (it may not raise):
// that run is not cancelled, and the handler runs when it returns.
#include <signal.h>

#include <atomic>

#include "python/src/bindings.h"

namespace einc::python {

namespace {

// Only the main thread installs the hook, one run at a time: one flag and
// one saved action serve every run.
std::atomic<bool> sigint_seen{false};
struct sigaction python_action {};  // what the hook passes the signal on to

void on_sigint(int signal_number, siginfo_t* info, void* context) {
  sigint_seen.store(true);
  if (python_action.sa_flags & SA_SIGINFO)
    python_action.sa_sigaction(signal_number, info, context);
  else
    python_action.sa_handler(signal_number);
}

// The main thread's id, read once (it never changes).
bool on_main_thread() {
  static const unsigned long main_thread =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  return main_thread == PyThread_get_thread_ident();
}

// From _signal, the C module under `signal`: its getsignal returns the
// handler as it is, without signal's enum conversions (a few microseconds
// a call). The objects are kept for the process's life (never released:
// they must outlive every run, and the interpreter's teardown too).
bool sigint_raises_keyboard_interrupt() {
  static const py::object* getsignal = new py::object(py::module_::import("_signal").attr("getsignal"));
  static const py::object* default_handler = new py::object(py::module_::import("_signal").attr("default_int_handler"));
  return (*getsignal)(SIGINT).is(*default_handler);
}

// The hook, in place while it lives (called with the GIL held).
class SigintHook {
 public:
  SigintHook() {
    if (!on_main_thread() || !sigint_raises_keyboard_interrupt()) return;
    // The saved action is read before the hook goes in: a SIGINT in between
    // finds it complete.
    if (sigaction(SIGINT, nullptr, &python_action) != 0) return;
    if (!(python_action.sa_flags & SA_SIGINFO) &&
        (python_action.sa_handler == SIG_DFL || python_action.sa_handler == SIG_IGN))
      return;  // Python's handler is not installed at the C level (an embedding that disabled it)
    struct sigaction hook = python_action;
    hook.sa_flags |= SA_SIGINFO;
    hook.sa_sigaction = on_sigint;
    sigint_seen.store(false);
    installed_ = sigaction(SIGINT, &hook, nullptr) == 0;
  }
  ~SigintHook() {
    if (installed_) sigaction(SIGINT, &python_action, nullptr);
  }
  SigintHook(const SigintHook&) = delete;
  SigintHook& operator=(const SigintHook&) = delete;

  const std::atomic<bool>* flag() const { return installed_ ? &sigint_seen : nullptr; }

 private:
  bool installed_ = false;
};

}  // namespace

void run_interruptible(const std::function<void(const std::atomic<bool>* cancel)>& work) {
  try {
    const SigintHook hook;
    py::gil_scoped_release unlocked;
    work(hook.flag());
  } catch (const RunCancelled&) {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();  // KeyboardInterrupt
    throw;
  }
  // A Ctrl-C that came after the run's last check (or during a run the
  // hook could not cancel) is raised now, the outputs discarded.
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

}  // namespace einc::python
