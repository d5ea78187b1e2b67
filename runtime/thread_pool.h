// runtime/thread_pool.h — a small persistent pool for parallel loops.
//
// parallel_for(n, threads, body) runs body(task) for task in [0, n) on up to
// `threads` threads (the caller is one of them) and returns when all are
// done. Tasks are handed out dynamically, in runs of consecutive tasks
// when there are many (a participant takes at most 1/64 of its share at
// once; by parallel_for_fixed: round robin, one at a time). Workers are created once per process and sleep between
// jobs; concurrent callers take turns (one job at a time), so a Program may run from several threads safely. Exceptions
// in a task are rethrown in the caller (the first one). Once the calling thread's run is cancelled (runtime/cancel.h),
// no more tasks start, and the caller throws runtime::Cancelled when the running ones are done.
#pragma once

#include <cstdint>
#include <functional>

namespace einc::runtime {

// Hardware threads available to this process (at least 1), as its CPU
// affinity was on the first call.
int hardware_threads();

void parallel_for(std::int64_t tasks, int threads, const std::function<void(std::int64_t)>& body);

// As parallel_for, but thread i of P runs tasks i, i + P, i + 2P, ... (the
// caller is thread 0 and the pool's workers keep their numbers between
// calls): a loop that reads the same memory call after call finds each
// task's data in the cache of the core that read it last time.
void parallel_for_fixed(std::int64_t tasks, int threads, const std::function<void(std::int64_t)>& body);

}  // namespace einc::runtime
