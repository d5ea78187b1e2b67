// tests/runtime/thread_pool_test.cpp — runtime::parallel_for and
// parallel_for_fixed: every task runs exactly once whatever the thread
// count, many of them in runs of consecutive tasks; the fixed schedule gives thread i of P the tasks i, i + P, ... (the
// caller is thread 0) and keeps that assignment from one call to the next;
// an exception in a task reaches the caller and the pool stays usable; a
// cancelled run (runtime/cancel.h) starts no more tasks and throws.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "runtime/cancel.h"
#include "runtime/thread_pool.h"

namespace {

using einc::runtime::Cancelled;
using einc::runtime::CancelScope;
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
      for (std::int64_t tasks : {0, 1, 2, 5, 64, 1001, 100003}) {
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

// Many small tasks go out in runs of consecutive tasks (at most 1/64 of a
// participant's share per step of the shared counter), not one by one: a
// padded copy's 3,584 one-row tasks spent a tenth of a convolution on that
// counter. In task order, the thread changes at most once per run.
TEST(ThreadPool, ManyTasksGoOutInRunsOfConsecutiveTasks) {
  constexpr std::int64_t kTasks = 20000;
  Record record(kTasks);
  std::atomic<std::int64_t> sink{0};
  parallel_for(kTasks, 2, [&](std::int64_t task) {
    auto x = static_cast<std::uint64_t>(task);  // unsigned: the steps wrap by design
    for (int i = 0; i < 200; ++i) x = x * 6364136223846793005u + 1442695040888963407u;  // a little work
    sink += x & 1;
    record.note(task);
  });
  int changes = 0;
  for (std::int64_t t = 1; t < kTasks; ++t)
    changes += record.thread[static_cast<std::size_t>(t)] != record.thread[static_cast<std::size_t>(t - 1)];
  EXPECT_LE(changes, 2 * 64 + 2) << "tasks handed out one by one";
  for (std::int64_t t = 0; t < kTasks; ++t) ASSERT_EQ(record.runs[static_cast<std::size_t>(t)].load(), 1) << t;
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

TEST(ThreadPool, ACancelledRunStartsNoMoreTasksAndThrows) {
  constexpr std::int64_t kTasks = 100000, kCancelAt = 10;
  for (bool fixed : {false, true}) {
    for (int threads : {1, 2, 4}) {
      std::atomic<bool> cancel{false};
      std::atomic<std::int64_t> ran{0};
      auto body = [&](std::int64_t) {
        if (ran.fetch_add(1) == kCancelAt) cancel.store(true);
      };
      {
        CancelScope scope(&cancel);
        if (fixed)
          EXPECT_THROW(parallel_for_fixed(kTasks, threads, body), Cancelled);
        else
          EXPECT_THROW(parallel_for(kTasks, threads, body), Cancelled);
      }
      // Each participant may have started one task as the flag was set.
      EXPECT_LE(ran.load(), kCancelAt + 1 + threads) << "fixed " << fixed << ", threads " << threads;
      // Outside the scope (the flag still set) and with a fresh flag, every task runs.
      ran.store(0);
      parallel_for(kTasks, threads, [&](std::int64_t) { ran.fetch_add(1); });
      EXPECT_EQ(ran.load(), kTasks);
      std::atomic<bool> fresh{false};
      CancelScope scope(&fresh);
      ran.store(0);
      parallel_for_fixed(kTasks, threads, [&](std::int64_t) { ran.fetch_add(1); });
      EXPECT_EQ(ran.load(), kTasks);
    }
  }
}

TEST(ThreadPool, CancelScopesNestAndRestore) {
  std::atomic<bool> outer{false}, inner{true};
  EXPECT_EQ(einc::runtime::current_cancel_flag(), nullptr);
  {
    CancelScope a(&outer);
    EXPECT_NO_THROW(einc::runtime::poll_cancel());
    {
      CancelScope b(&inner);
      EXPECT_THROW(einc::runtime::poll_cancel(), Cancelled);
    }
    EXPECT_EQ(einc::runtime::current_cancel_flag(), &outer);
  }
  EXPECT_EQ(einc::runtime::current_cancel_flag(), nullptr);
}

}  // namespace
