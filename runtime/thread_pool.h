// runtime/thread_pool.h — a small persistent pool for parallel loops.
//
// parallel_for(n, threads, body) runs body(task) for task in [0, n) on up to
// `threads` threads (the caller is one of them) and returns when all are
// done. Tasks are handed out dynamically. Workers are created once per
// process and sleep between jobs; concurrent callers take turns (one job at
// a time), so a Program may run from several threads safely. Exceptions in
// a task are rethrown in the caller (the first one).
#pragma once

#include <cstdint>
#include <functional>

namespace einc::runtime {

// Hardware threads available to this process (at least 1).
int hardware_threads();

void parallel_for(std::int64_t tasks, int threads, const std::function<void(std::int64_t)>& body);

}  // namespace einc::runtime
