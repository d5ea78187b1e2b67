// tests/cuda/emulation_test.cpp — the generated kernels, run on the host
// (host_emulation.h, emulated_backend.h), against the reference interpreter:
// every example script with small dims (01_matmul also at its own size, for
// the 128x128 tile), random contraction scripts, and hand-written scripts
// for the row and elementwise kernels (every reduction and normalisation,
// integers, f64, `+=`, broadcast targets, nested reductions).
//
// This checks the kernels' indexing, tiling, edge guards, block reductions
// and epilogues without a GPU; what it cannot check (cp.async, real warps,
// the driver) is listed in docs/cuda.md.
//
// Environment: EINC_CUDA_EMU_CASES=N random contraction seeds (default 160;
// 40 in the sanitizer build), EINC_CUDA_EMU_CONV_CASES=N random convolutions
// (default 24; 8 there).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "tests/common/random_contractions.h"
#include "tests/common/random_convolutions.h"
#include "tests/common/random_masks.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/emulated_backend.h"

namespace {

using namespace einc_cuda_test;
using einc::cuda::KernelKind;

struct Case {
  std::string name;
  einc::ir::Program program;
  std::int64_t reduction_length = 1;
  double slack = 1.0;  // tolerance multiplier (multi-statement programs)
  bool emulated = true;
};

struct Suite {
  std::vector<Case> cases;
  EmulatedKernels kernels;
  double build_seconds = 0;
};

int random_case_count() { return case_count("EINC_CUDA_EMU_CASES", 160, 40); }
int convolution_case_count() { return case_count("EINC_CUDA_EMU_CONV_CASES", 24, 8); }
int masked_case_count() { return case_count("EINC_CUDA_EMU_MASK_CASES", 24, 8); }

// Everything is planned and compiled once for the whole suite.
Suite& suite() {
  static std::unique_ptr<Suite> instance = [] {
    auto s = std::make_unique<Suite>();
    for (const std::string& name : example_names()) {
      s->cases.push_back({name, compile_example(name, true), 1, 64.0});
      if (name == "01_matmul") s->cases.push_back({name + "_full", compile_example(name, false), 1, 1.0});
    }
    for (const auto& [name, text] : handwritten()) s->cases.push_back({name, compile_script(text), 1, 16.0});
    for (int seed = 0; seed < random_case_count(); ++seed) {
      einc_test::RandomCase rc = einc_test::random_contraction(static_cast<std::uint64_t>(seed));
      s->cases.push_back({"seed " + std::to_string(seed), compile_script(rc.script), rc.reduction_length, 1.0});
    }
    for (int seed = 0; seed < convolution_case_count(); ++seed) {
      einc_test::RandomCase rc = einc_test::random_convolution(static_cast<std::uint64_t>(seed));
      s->cases.push_back({"conv " + std::to_string(seed), compile_script(rc.script), rc.reduction_length, 1.0});
    }
    for (int seed = 0; seed < masked_case_count(); ++seed) {
      einc_test::RandomCase rc = einc_test::random_masked(static_cast<std::uint64_t>(seed));
      s->cases.push_back({"mask " + std::to_string(seed), compile_script(rc.script), rc.reduction_length, 4.0});
    }
    for (Case& c : s->cases) {
      c.reduction_length = std::max(c.reduction_length, max_reduction_length(c.program));
      c.emulated = s->kernels.collect(c.program);
    }
    auto start = std::chrono::steady_clock::now();
    s->kernels.build(2);
    s->build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "[emulation] " << s->kernels.size() << " distinct kernels compiled for the host in "
              << s->build_seconds << " s\n";
    return s;
  }();
  return *instance;
}

// Runs one case both ways; returns "" or what differs.
std::string run_case(const Case& c, std::map<KernelKind, int>* kinds = nullptr) {
  std::vector<einc::Tensor> inputs = random_inputs(c.program, 7);
  ReferenceBackend reference;
  EmulatedBackend emulated(suite().kernels);
  std::vector<einc::Tensor> want, got;
  std::string want_error, got_error;
  try {
    want = einc::runtime::execute_program(c.program, inputs, reference);
  } catch (const einc::reference::ExecutionError& e) {
    want_error = e.what();
  }
  try {
    got = einc::runtime::execute_program(c.program, inputs, emulated);
  } catch (const einc::reference::ExecutionError& e) {
    got_error = e.what();
  }
  if (kinds)
    for (auto [k, n] : emulated.launched()) (*kinds)[k] += n;
  if (want_error != got_error) return "reference error '" + want_error + "', emulated error '" + got_error + "'";
  if (!want_error.empty()) return "";
  return compare_outputs(c.program, got, want, c.reduction_length, c.slack);
}

TEST(CudaEmulation, Examples) {
  int checked = 0;
  std::map<KernelKind, int> kinds;
  for (const Case& c : suite().cases) {
    if (c.name.rfind("seed ", 0) == 0 || !c.emulated) continue;
    bool example = c.name.size() > 2 && std::isdigit(static_cast<unsigned char>(c.name[0]));
    if (!example) continue;
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(run_case(c, &kinds), "") << c.name;
    std::cout << "[emulation] " << c.name << ": "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
    ++checked;
  }
  EXPECT_GE(checked, 8);
  EXPECT_GT(kinds[KernelKind::gett], 0);
  EXPECT_GT(kinds[KernelKind::row], 0);
  EXPECT_GT(kinds[KernelKind::elementwise], 0);
}

TEST(CudaEmulation, HandwrittenScripts) {
  std::map<KernelKind, int> kinds;
  for (const Case& c : suite().cases) {
    bool listed = false;
    for (const auto& [name, text] : handwritten()) listed |= name == c.name;
    if (!listed) continue;
    if (!c.emulated) {  // f16/bf16 need cuda_fp16.h: checked by NVRTC and on the GPU only
      EXPECT_EQ(c.name.rfind("f16", 0), 0u) << c.name;
      continue;
    }
    EXPECT_EQ(run_case(c, &kinds), "") << c.name;
  }
  EXPECT_GT(kinds[KernelKind::row], 10);
  EXPECT_GT(kinds[KernelKind::elementwise], 10);
}

TEST(CudaEmulation, IntegerDivisionByZeroIsAnError) {
  einc::ir::Program p = compile_script("dim I = 40\ninput A[I] : i32\nD[i] = A[i] / (A[i] - A[i])\noutput D\n");
  EmulatedKernels kernels;
  kernels.collect(p);
  kernels.build(1);
  EmulatedBackend backend(kernels);
  std::vector<einc::Tensor> inputs = random_inputs(p, 1);
  try {
    einc::runtime::execute_program(p, inputs, backend);
    FAIL() << "no error";
  } catch (const einc::reference::ExecutionError& e) {
    EXPECT_NE(std::string(e.what()).find("integer division by zero"), std::string::npos) << e.what();
  }
}

TEST(CudaEmulation, LookupOutOfRangeIsAnError) {
  einc::ir::Program p =
      compile_script("dim T = 6, V = 5\ninput ids[T] : i32\nparam w[V]\nx[t] = w[ids[t]]\noutput x\n");
  EmulatedKernels kernels;
  kernels.collect(p);
  kernels.build(1);
  EmulatedBackend backend(kernels);
  std::vector<einc::Tensor> inputs = random_inputs(p, 1);
  einc::runtime::execute_program(p, inputs, backend);  // random ids are in range
  inputs[static_cast<std::size_t>(p.find_tensor("ids"))].set_flat(3, 5);
  try {
    einc::runtime::execute_program(p, inputs, backend);
    FAIL() << "no error";
  } catch (const einc::reference::ExecutionError& e) {
    EXPECT_NE(std::string(e.what()).find("lookup out of range in the statement at line 4"), std::string::npos)
        << e.what();
  }
}

// The generated cases named `prefix` + seed, each against the reference.
void check_generated(const std::string& prefix, einc_test::RandomCase (*generate)(std::uint64_t), int expected) {
  int checked = 0, failures = 0;
  for (const Case& c : suite().cases) {
    if (c.name.rfind(prefix, 0) != 0) continue;
    ASSERT_TRUE(c.emulated) << c.name;
    std::string diff = run_case(c, nullptr);
    if (!diff.empty() && ++failures <= 10) {
      std::uint64_t seed = std::stoull(c.name.substr(prefix.size()));
      ADD_FAILURE() << c.name << ": " << diff << "\n" << generate(seed).description << "\n" << generate(seed).script;
    }
    ++checked;
  }
  EXPECT_EQ(checked, expected);
}

// Index arithmetic (strided views, offsets, zero padding) in the generated
// kernels: tests/common/random_convolutions.h.
TEST(CudaEmulation, RandomConvolutions) {
  check_generated("conv ", einc_test::random_convolution, convolution_case_count());
}

// Conditions (`where`) in the generated kernels: tests/common/random_masks.h.
TEST(CudaEmulation, RandomMasks) { check_generated("mask ", einc_test::random_masked, masked_case_count()); }

TEST(CudaEmulation, RandomContractions) {
  int checked = 0, failures = 0;
  std::map<KernelKind, int> kinds;
  auto start = std::chrono::steady_clock::now();
  for (const Case& c : suite().cases) {
    if (c.name.rfind("seed ", 0) != 0) continue;
    ASSERT_TRUE(c.emulated) << c.name;
    std::string diff = run_case(c, &kinds);
    if (!diff.empty() && ++failures <= 10) {
      std::uint64_t seed = std::stoull(c.name.substr(5));
      ADD_FAILURE() << c.name << ": " << diff << "\n"
                    << einc_test::random_contraction(seed).description << "\n"
                    << einc_test::random_contraction(seed).script;
    }
    ++checked;
  }
  std::cout << "[emulation] " << checked << " random contractions (" << kinds[KernelKind::gett] << " GETT, "
            << kinds[KernelKind::row] << " row, " << kinds[KernelKind::elementwise] << " elementwise launches) in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(checked, random_case_count());
  if (checked >= 100) {
    EXPECT_GT(kinds[KernelKind::gett], checked / 3);  // f64, three-operand and pre-reduced cases are not GETT
  }
}

}  // namespace
