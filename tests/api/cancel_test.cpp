// tests/api/cancel_test.cpp — RunOptions::cancel: a long run on another
// thread, its flag set after ~50 ms, stops with RunCancelled within a
// bound (reference: inside the interpreter's loops; cpu: between the
// GETT's parallel tasks), a run whose flag is set before it starts runs
// nothing, and a run whose flag is never set completes with the results of
// a run without one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "einc/einc.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string matmul(std::int64_t m, std::int64_t k, std::int64_t n) {
  return "dim M = " + std::to_string(m) + ", K = " + std::to_string(k) + ", N = " + std::to_string(n) +
         "\ninput A[M, K]\ninput B[K, N]\nC[i, j] = A[i, k] * B[k, j]\noutput C\n";
}

bool has(einc::Backend backend) {
  for (einc::Backend b : einc::available_backends())
    if (b == backend) return true;
  return false;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Runs `program` on its own thread, sets the flag after 50 ms and expects
// RunCancelled within `bound` seconds of that.
void expect_cancelled_promptly(const einc::Program& program, const einc::TensorMap& inputs, einc::RunOptions options,
                               double bound) {
  std::atomic<bool> cancel{false};
  options.cancel = &cancel;
  auto run = std::async(std::launch::async, [&] { return program.run(inputs, options); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(run.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the run finished within 50 ms: too short to cancel";
  const Clock::time_point set = Clock::now();
  cancel.store(true);
  const bool stopped = run.wait_for(std::chrono::duration<double>(bound)) == std::future_status::ready;
  const double took = seconds_since(set);
  EXPECT_TRUE(stopped) << "still running " << bound << " s after the flag was set";
  try {
    run.get();  // waits for the end of a run that did not stop in time
    ADD_FAILURE() << "the run completed (" << seconds_since(set) << " s after the flag was set)";
  } catch (const einc::RunCancelled& e) {
    EXPECT_STREQ(e.what(), "run cancelled");
    EXPECT_LT(took, bound);
  }
}

TEST(Cancel, ReferenceStopsInsideALongContraction) {
  // 512^3 points of one pairwise product: seconds on the interpreter.
  einc::Program p = einc::compile(matmul(512, 512, 512));
  einc::RunOptions options;
  options.backend = einc::Backend::reference;
  expect_cancelled_promptly(p, einc::random_inputs(p, 1), options, 2.0);
}

TEST(Cancel, CpuStopsBetweenTheTasksOfALongGett) {
  if (!has(einc::Backend::cpu)) GTEST_SKIP() << "no cpu backend in this build";
  einc::RunOptions options;
  options.backend = einc::Backend::cpu;
  options.threads = 2;
  // The smallest square GEMM that runs for over 0.25 s on two threads here
  // (warmed up first: the first run also JIT-compiles its kernel).
  for (std::int64_t n = 1024;; n *= 2) {
    einc::Program p = einc::compile(matmul(n, n, n));
    einc::TensorMap inputs = einc::random_inputs(p, 1);
    p.run(inputs, options);
    const Clock::time_point start = Clock::now();
    p.run(inputs, options);
    if (seconds_since(start) > 0.25) {
      expect_cancelled_promptly(p, inputs, options, 2.0);
      return;
    }
    if (n >= 8192) GTEST_SKIP() << "an 8192^3 GEMM takes under 0.25 s here: too fast to cancel midway";
  }
}

TEST(Cancel, AFlagSetBeforehandRunsNothing) {
  std::atomic<bool> cancel{true};
  for (einc::Backend backend : einc::available_backends()) {
    einc::Program p = einc::compile(matmul(8, 8, 8));
    einc::TensorMap inputs = einc::random_inputs(p, 1), outputs;
    einc::RunOptions options;
    options.backend = backend;
    options.cancel = &cancel;
    EXPECT_THROW(p.run_into(inputs, outputs, options), einc::RunCancelled) << einc::backend_name(backend);
    EXPECT_TRUE(outputs.empty()) << "a cancelled run adds no output";
    EXPECT_THROW(einc::einsum("ij,jk->ik", {inputs.at("A"), inputs.at("B")}, options), einc::RunCancelled);
  }
}

TEST(Cancel, AFlagNeverSetChangesNothing) {
  std::atomic<bool> cancel{false};
  for (einc::Backend backend : einc::available_backends()) {
    einc::Program p = einc::compile(matmul(33, 47, 29));
    einc::TensorMap inputs = einc::random_inputs(p, 2);
    einc::RunOptions plain;
    plain.backend = backend;
    einc::RunOptions cancellable = plain;
    cancellable.cancel = &cancel;
    const einc::Tensor want = p.run(inputs, plain).at("C"), got = p.run(inputs, cancellable).at("C");
    ASSERT_EQ(got.numel(), want.numel());
    for (std::int64_t i = 0; i < want.numel(); ++i) ASSERT_EQ(got.get_flat(i), want.get_flat(i)) << i;
  }
}

}  // namespace
