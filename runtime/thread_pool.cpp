// runtime/thread_pool.cpp — see thread_pool.h.
#include "runtime/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/cancel.h"

namespace einc::runtime {

namespace {

// Workers and the caller spin for a short while before they block on a
// condition variable: a GETT issues a few parallel loops per call, and
// waking a sleeping thread costs tens of microseconds on a VM, as much as a
// 256^3 GEMM's whole compute. The spin yields the CPU now and then, so an
// oversubscribed machine still makes progress.
constexpr int kSpinRounds = 20000;  // ~ a few hundred microseconds

inline void relax(int round) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
  if (round % 64 == 63) std::this_thread::yield();
}

class Pool {
 public:
  static Pool& instance() {
    static Pool pool;
    return pool;
  }

  void run(std::int64_t tasks, int threads, bool fixed, const std::function<void(std::int64_t)>& body,
           const std::atomic<bool>* cancel) {
    std::lock_guard<std::mutex> job_lock(job_mutex_);  // one job at a time
    ensure_workers(
        std::min<int>(threads - 1, static_cast<int>(kWorkerMask)));  // the job word counts at most kWorkerMask
    int workers = std::min<int>(threads - 1, static_cast<int>(workers_.size()));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      tasks_ = tasks;
      fixed_ = fixed;
      cancel_ = cancel;
      // Handed out dynamically, tasks go in runs of `grain_` per atomic
      // step: a copy of one small row per task (3,584 tasks for a padded
      // 64x56x56 image) spent ~0.5 ms of a 4.5 ms convolution on the
      // counter's cache line going back and forth between the cores. Runs
      // of at most 1/64 of a participant's share keep the load balanced,
      // and leave a loop of up to 64 tasks per participant (a GETT's
      // rectangles, uneven under a causal mask) one task per step.
      grain_ = fixed ? 1 : std::max<std::int64_t>(1, tasks / (64 * (workers + 1)));
      next_.store(0);
      pending_.store(workers);
      error_ = nullptr;
      ++generation_;
      job_.store(generation_ << kWorkerBits | static_cast<std::uint64_t>(workers), std::memory_order_release);
    }
    wake_.notify_all();  // no system call when every worker is still spinning
    work(0);
    for (int round = 0; round < kSpinRounds && pending_.load(std::memory_order_acquire) != 0; ++round) relax(round);
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return pending_.load() == 0; });
    }
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

 private:
  void ensure_workers(int count) {
    while (static_cast<int>(workers_.size()) < count) {
      int index = static_cast<int>(workers_.size());
      workers_.emplace_back([this, index] { worker_loop(index); });
    }
  }

  // Runs tasks as participant `index` (the caller is 0, worker w is w + 1):
  // handed out dynamically, or, when fixed_, tasks index, index + P, ...;
  // none once the caller's run is cancelled.
  void work(int index) {
    // The caller and the job's workers (the job word is this job's here:
    // set by this caller, or acquired by this worker).
    const auto participants = static_cast<std::int64_t>(job_.load(std::memory_order_relaxed) & kWorkerMask) + 1;
    std::int64_t fixed_task = index;
    while (true) {
      const std::int64_t first = fixed_ ? fixed_task : next_.fetch_add(grain_);
      fixed_task += participants;
      if (first >= tasks_ || (fixed_ && next_.load(std::memory_order_relaxed) >= tasks_)) return;
      const std::int64_t last = std::min(tasks_, first + (fixed_ ? 1 : grain_));
      for (std::int64_t task = first; task < last; ++task) {
        if (cancel_requested(cancel_)) return;
        try {
          (*body_)(task);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex_);
          if (!error_) error_ = std::current_exception();
          next_.store(tasks_);  // stop handing out tasks
          return;
        }
      }
    }
  }

  // Whether job word `job` is a job not yet seen that worker `index` takes
  // part in. The generation and the count of workers come from one load:
  // read apart, a worker left out of one job could pair its generation
  // with the next job's count, run that job and then run it again as new.
  static bool has_job(std::uint64_t job, std::uint64_t seen, int index) {
    return job >> kWorkerBits != seen && static_cast<std::uint64_t>(index) < (job & kWorkerMask);
  }

  void worker_loop(int index) {
    std::uint64_t seen = 0;  // the last generation this worker ran
    while (true) {
      std::uint64_t job = 0;
      auto ready = [&] { return has_job(job = job_.load(std::memory_order_acquire), seen, index); };
      bool found = false;
      for (int round = 0; round < kSpinRounds && !(found = ready()); ++round) relax(round);
      if (!found) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || ready(); });
        if (stop_) return;
      }
      seen = job >> kWorkerBits;
      work(index + 1);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // the caller checks pending_ under the mutex
        done_.notify_all();
      }
    }
  }

  std::mutex job_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(std::int64_t)>* body_ = nullptr;
  std::int64_t tasks_ = 0;
  std::int64_t grain_ = 1;  // tasks per step of next_ (dynamic hand-out)
  bool fixed_ = false;      // tasks go to the participants round-robin, not on demand
  // The caller's cancel flag (runtime/cancel.h), null if none.
  const std::atomic<bool>* cancel_ = nullptr;
  std::atomic<std::int64_t> next_{0};
  std::atomic<int> pending_{0};
  // The current job: its generation << kWorkerBits | how many workers take
  // part (workers 0 .. count-1). Written under mutex_, after the job's other fields.
  static constexpr int kWorkerBits = 16;
  static constexpr std::uint64_t kWorkerMask = (std::uint64_t{1} << kWorkerBits) - 1;
  std::uint64_t generation_ = 0;  // under mutex_
  std::atomic<std::uint64_t> job_{0};
  std::exception_ptr error_;
  bool stop_ = false;
};

}  // namespace

int hardware_threads() {
  // Read once: a run with threads = 0 asks on every call, and the system
  // call was a visible part of a small run's cost.
  static const int count = [] {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }();
  return count;
}

namespace {

// A cancelled run (runtime/cancel.h) starts no more tasks and throws
// Cancelled once the ones running have finished.
void run_tasks(std::int64_t tasks, int threads, bool fixed, const std::function<void(std::int64_t)>& body) {
  if (tasks <= 0) return;
  const std::atomic<bool>* cancel = current_cancel_flag();
  if (threads <= 1 || tasks == 1) {
    for (std::int64_t t = 0; t < tasks; ++t) {
      if (cancel_requested(cancel)) throw Cancelled();
      body(t);
    }
    return;
  }
  Pool::instance().run(tasks, static_cast<int>(std::min<std::int64_t>(threads, tasks)), fixed, body, cancel);
  if (cancel_requested(cancel)) throw Cancelled();
}

}  // namespace

void parallel_for(std::int64_t tasks, int threads, const std::function<void(std::int64_t)>& body) {
  run_tasks(tasks, threads, false, body);
}

void parallel_for_fixed(std::int64_t tasks, int threads, const std::function<void(std::int64_t)>& body) {
  run_tasks(tasks, threads, true, body);
}

}  // namespace einc::runtime
