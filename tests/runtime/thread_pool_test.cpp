// tests/runtime/thread_pool_test.cpp — runtime::parallel_for and
// parallel_for_fixed: every task runs exactly once whatever the thread
// count; the fixed schedule gives thread i of P the tasks i, i + P, ... (the
// caller is thread 0) and keeps that assignment from one call to the next;
// an exception in a task reaches the caller and the pool stays usable.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "runtime/thread_pool.h"

namespace {

using einc::runtime::parallel_for;
using einc::runtime::parallel_for_fixed;

// Which thread ran each task, and how many times each task ran.
struct Record {
  std::vector<std::thread::id> thread;
  std::vector<std::atomic<int>> runs;
  explicit Record(std::int64_t tasks)
      : thread(static_cast<std::size_t>(tasks)), runs(static_cast<std::size_t>(tasks)) {}
  void note(std::int64_t task) {
    thread[static_cast<std::size_t>(task)] = std::this_thread::get_id();  // each slot written by one task only
    runs[static_cast<std::size_t>(task)].fetch_add(1);
  }
};

TEST(ThreadPool, EveryTaskRunsExactlyOnce) {
  for (bool fixed : {false, true}) {
    for (int threads : {1, 2, 3, 8}) {
      for (std::int64_t tasks : {0, 1, 2, 5, 64, 1001}) {
        Record record(tasks);
        auto body = [&](std::int64_t task) { record.note(task); };
        if (fixed)
          parallel_for_fixed(tasks, threads, body);
        else
          parallel_for(tasks, threads, body);
        for (std::int64_t t = 0; t < tasks; ++t)
          ASSERT_EQ(record.runs[static_cast<std::size_t>(t)].load(), 1)
              << "task " << t << " of " << tasks << ", threads " << threads << ", fixed " << fixed;
      }
    }
  }
}

TEST(ThreadPool, FixedScheduleGivesThreadIEveryPthTaskAndKeepsIt) {
  constexpr int kThreads = 3;
  constexpr std::int64_t kTasks = 40;
  std::vector<std::thread::id> first;
  for (int call = 0; call < 5; ++call) {
    Record record(kTasks);
    parallel_for_fixed(kTasks, kThreads, [&](std::int64_t task) { record.note(task); });
    EXPECT_EQ(record.thread[0], std::this_thread::get_id());  // the caller is thread 0
    for (std::int64_t t = kThreads; t < kTasks; ++t)
      EXPECT_EQ(record.thread[static_cast<std::size_t>(t)], record.thread[static_cast<std::size_t>(t - kThreads)])
          << "task " << t;
    for (int i = 0; i < kThreads; ++i)
      for (int j = i + 1; j < kThreads; ++j)
        EXPECT_NE(record.thread[static_cast<std::size_t>(i)], record.thread[static_cast<std::size_t>(j)]);
    if (call == 0)
      first = record.thread;
    else
      EXPECT_EQ(record.thread, first) << "call " << call;  // same task, same thread, every call
  }
}

TEST(ThreadPool, AnExceptionInATaskReachesTheCallerAndThePoolGoesOn) {
  for (bool fixed : {false, true}) {
    auto throwing = [](std::int64_t task) {
      if (task == 7) throw std::runtime_error("task 7 failed");
    };
    try {
      if (fixed)
        parallel_for_fixed(100, 2, throwing);
      else
        parallel_for(100, 2, throwing);
      FAIL() << "no exception, fixed " << fixed;
    } catch (const std::runtime_error& error) {
      EXPECT_STREQ(error.what(), "task 7 failed");
    }
    std::atomic<std::int64_t> sum{0};
    parallel_for_fixed(100, 2, [&](std::int64_t task) { sum += task; });
    EXPECT_EQ(sum.load(), 99 * 100 / 2);
  }
}

}  // namespace
