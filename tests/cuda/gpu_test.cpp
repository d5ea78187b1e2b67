// tests/cuda/gpu_test.cpp — the CUDA backend on a real device, against the
// reference interpreter. Every test skips, saying why, when
// cuda_backend_available() is false (no driver or no GPU, as on the
// development machine); on the GPU machine they run everything the
// emulation tests run, through the driver.
//
// Environment: EINC_CUDA_GPU_CASES=N random contraction seeds (default 400).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "backends/cuda/cuda_backend.h"
#include "tests/common/random_contractions.h"
#include "tests/cuda/cuda_test_util.h"

namespace {

using namespace einc_cuda_test;

#define EINC_REQUIRE_GPU()                                              \
  do {                                                                  \
    std::string why;                                                    \
    if (!einc::cuda::cuda_backend_available(&why)) GTEST_SKIP() << why; \
  } while (0)

std::string run_both(const einc::ir::Program& p, std::int64_t reduction_length, double slack, std::uint64_t seed) {
  std::vector<einc::Tensor> inputs = random_inputs(p, seed);
  ReferenceBackend reference;
  std::vector<einc::Tensor> want, got;
  std::string want_error, got_error;
  try {
    want = einc::runtime::execute_program(p, inputs, reference);
  } catch (const einc::reference::ExecutionError& e) {
    want_error = e.what();
  }
  try {
    auto backend = einc::cuda::make_cuda_backend();
    got = einc::runtime::execute_program(p, inputs, *backend);
  } catch (const einc::reference::ExecutionError& e) {
    got_error = e.what();
  }
  if (want_error != got_error) return "reference error '" + want_error + "', cuda error '" + got_error + "'";
  if (!want_error.empty()) return "";
  return compare_outputs(p, got, want, std::max(reduction_length, max_reduction_length(p)), slack);
}

TEST(CudaGpu, Examples) {
  EINC_REQUIRE_GPU();
  for (const std::string& name : example_names()) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(run_both(compile_example(name, true), 1, 64.0, 7), "") << name << " (small dims)";
    EXPECT_EQ(run_both(compile_example(name, false), 1, 64.0, 7), "") << name << " (its own dims)";
    std::cout << "[gpu] " << name << ": "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
  }
}

TEST(CudaGpu, RandomContractions) {
  EINC_REQUIRE_GPU();
  const int cases = case_count("EINC_CUDA_GPU_CASES", 400, 100);
  int failures = 0;
  for (int seed = 0; seed < cases; ++seed) {
    einc_test::RandomCase rc = einc_test::random_contraction(static_cast<std::uint64_t>(seed));
    std::string diff = run_both(compile_script(rc.script), rc.reduction_length, 1.0, static_cast<std::uint64_t>(seed));
    if (!diff.empty() && ++failures <= 10) ADD_FAILURE() << diff << "\n" << rc.description << "\n" << rc.script;
  }
  EXPECT_EQ(failures, 0);
}

TEST(CudaGpu, StridedInputsAreCopiedContiguously) {
  EINC_REQUIRE_GPU();
  einc::ir::Program p =
      compile_script("dim I = 130, J = 70, K = 45\ninput A[I, K], B[K, J]\nC[i, j] = A[i, k] * B[k, j]\noutput C\n");
  std::vector<einc::Tensor> inputs = random_inputs(p, 3);
  // A as a transposed view of a [K, I] buffer.
  einc::Tensor storage = einc::runtime::random_tensor(einc::DType::f32, {45, 130}, 11);
  int a = p.find_tensor("A");
  inputs[static_cast<std::size_t>(a)] = einc::Tensor::view(einc::DType::f32, storage.data(), {130, 45}, {1, 130});
  ReferenceBackend reference;
  auto want = einc::runtime::execute_program(p, inputs, reference);
  auto backend = einc::cuda::make_cuda_backend();
  auto got = einc::runtime::execute_program(p, inputs, *backend);
  EXPECT_EQ(compare_outputs(p, got, want, 45), "");
}

TEST(CudaGpu, IntegerDivisionByZeroIsAnError) {
  EINC_REQUIRE_GPU();
  einc::ir::Program p = compile_script("dim I = 40\ninput A[I] : i32\nD[i] = A[i] / (A[i] - A[i])\noutput D\n");
  std::vector<einc::Tensor> inputs = random_inputs(p, 1);
  auto backend = einc::cuda::make_cuda_backend();
  EXPECT_THROW(einc::runtime::execute_program(p, inputs, *backend), einc::reference::ExecutionError);
}

TEST(CudaGpu, HandwrittenScripts) {  // f16/bf16 included: the host emulation cannot run those
  EINC_REQUIRE_GPU();
  for (const auto& [name, text] : handwritten()) EXPECT_EQ(run_both(compile_script(text), 1, 16.0, 7), "") << name;
}

}  // namespace
