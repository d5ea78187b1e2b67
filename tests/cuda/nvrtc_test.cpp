// tests/cuda/nvrtc_test.cpp — NVRTC compiles every generated kernel for
// sm_80 and sm_90a (to cubin, so ptxas checks them too): the kernels of
// every example script (small dims), of the handwritten scripts of
// cuda_test_util.h (f16/bf16, integers, f64, every reduction) and of random
// contraction scripts until 200 GETT statements have been seen (their other
// statements' row and elementwise kernels included). Each distinct source is compiled once per
// arch, without the cache; two threads share the work.
//
// Environment: EINC_CUDA_NVRTC_GETT=N GETT specs to collect (default 200;
// 20 in the sanitizer build).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/kernel_plan.h"
#include "backends/cuda/nvrtc_compiler.h"
#include "tests/common/random_contractions.h"
#include "tests/cuda/cuda_test_util.h"

namespace {

using namespace einc_cuda_test;
using einc::cuda::ImageKind;
using einc::cuda::KernelKind;

TEST(Nvrtc, ReportsItsVersion) {
  std::string v = einc::cuda::nvrtc_version();
  EXPECT_TRUE(std::regex_match(v, std::regex("[0-9]+\\.[0-9]+"))) << v;
  std::cout << "[nvrtc] NVRTC " << v << ", include dir " << einc::cuda::cuda_include_dir() << "\n";
}

TEST(Nvrtc, OptionsForAnArch) {
  auto o = einc::cuda::nvrtc_options("sm_90a", ImageKind::cubin);
  EXPECT_EQ(o.at(0), "--gpu-architecture=sm_90a");
  EXPECT_EQ(o.at(1), "-I" + einc::cuda::cuda_include_dir());
  EXPECT_EQ(einc::cuda::nvrtc_options("sm_90a", ImageKind::ptx).at(0), "--gpu-architecture=compute_90a");
  for (const std::string& option : o) EXPECT_NE(option, "-O3");  // NVRTC rejects it
  EXPECT_THROW(einc::cuda::nvrtc_options("sm_8", ImageKind::ptx), std::invalid_argument);
  EXPECT_THROW(einc::cuda::nvrtc_options("compute_80", ImageKind::ptx), std::invalid_argument);
}

TEST(Nvrtc, AFailedCompileCarriesTheWholeLog) {
  const std::string source =
      "extern \"C\" __global__ void broken(float* x) {\n  x[0] = first_undefined_name;\n  x[1] = "
      "second_undefined_name;\n}\n";
  try {
    einc::cuda::nvrtc_compile(source, "broken.cu", "sm_80", ImageKind::ptx);
    FAIL() << "compiled";
  } catch (const einc::cuda::NvrtcError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("first_undefined_name"), std::string::npos) << what;
    EXPECT_NE(what.find("second_undefined_name"), std::string::npos) << what;
    EXPECT_NE(what.find("broken.cu"), std::string::npos) << what;
    EXPECT_NE(what.find("--gpu-architecture=compute_80"), std::string::npos) << what;
    EXPECT_NE(e.log().find("second_undefined_name"), std::string::npos);
  }
}

TEST(Nvrtc, AnArchNvrtcDoesNotKnowFailsWithItsLog) {
  try {
    einc::cuda::nvrtc_compile("extern \"C\" __global__ void k() {}\n", "k.cu", "sm_10", ImageKind::cubin);
    FAIL() << "compiled";
  } catch (const einc::cuda::NvrtcError& e) {
    EXPECT_NE(std::string(e.what()).find("--- NVRTC log ---"), std::string::npos) << e.what();
  }
}

TEST(Nvrtc, GettPtxUsesCpAsyncOnSm80AndLater) {
  einc::ir::Program p = compile_example("01_matmul", false);
  auto plan = einc::cuda::plan_statement_kernel(p, p.statements.at(0), einc::cuda::contiguous_strides(p));
  ASSERT_EQ(plan.kernel.kind, KernelKind::gett);
  for (const char* arch : {"sm_80", "sm_90a"}) {
    auto r = einc::cuda::nvrtc_compile(plan.kernel.source, plan.kernel.name + ".cu", arch, ImageKind::ptx);
    EXPECT_NE(r.image.find(".entry " + plan.kernel.name), std::string::npos) << arch;
    EXPECT_NE(r.image.find("cp.async.ca.shared.global"), std::string::npos) << arch;
    EXPECT_NE(r.image.find("cp.async.wait_group"), std::string::npos) << arch;
    EXPECT_NE(r.image.find(std::string(".target ") + (std::string(arch) == "sm_80" ? "sm_80" : "sm_90a")),
              std::string::npos)
        << arch;
    std::cout << "[nvrtc] " << plan.kernel.name << " -> PTX for " << arch << " in " << r.milliseconds << " ms\n";
  }
}

TEST(Nvrtc, EmitPtxNeedsNoGpu) {
  einc::ir::Program p = compile_example("03_attention", true);
  std::string ptx = einc::cuda::emit_cuda(p, true, "sm_80");
  EXPECT_NE(ptx.find("PTX for sm_80"), std::string::npos);
  EXPECT_NE(ptx.find(".visible .entry einc_gett_f32_"), std::string::npos);
  EXPECT_NE(ptx.find(".visible .entry einc_row_f32_"), std::string::npos);
}

int gett_wanted() { return case_count("EINC_CUDA_NVRTC_GETT", 200, 20); }

TEST(Nvrtc, EveryGeneratedKernelCompilesForSm80AndSm90a) {
  std::map<std::string, einc::cuda::GeneratedKernel> kernels;  // by name: each distinct source once
  std::map<KernelKind, int> kinds;
  auto add_program = [&](const einc::ir::Program& p) {
    int gett = 0;
    const auto strides = einc::cuda::contiguous_strides(p);
    // Every kernel that runs: one per statement, or per step of a product.
    for (const einc::ir::Statement& statement : p.statements)
      einc::cuda::for_each_kernel_statement(
          p, statement, strides,
          [&](const einc::ir::Program& program, const einc::ir::Statement& s, const einc::cuda::TensorStrides& st) {
            einc::cuda::StatementKernel plan;
            try {
              plan = einc::cuda::plan_statement_kernel(program, s, st);
            } catch (const einc::reference::ExecutionError&) {
              return;  // a reduction over nothing: nothing to compile
            }
            gett += plan.kernel.kind == KernelKind::gett;
            if (kernels.emplace(plan.kernel.name, plan.kernel).second) ++kinds[plan.kernel.kind];
          });
    return gett;
  };
  for (const std::string& name : example_names()) add_program(compile_example(name, true));
  for (const auto& [name, text] : handwritten()) add_program(compile_script(text));
  const std::size_t example_kernels = kernels.size();
  int gett_statements = 0, seeds = 0;
  for (std::uint64_t seed = 0; gett_statements < gett_wanted() && seed < 5000; ++seed, ++seeds)
    gett_statements += add_program(compile_script(einc_test::random_contraction(seed).script));
  EXPECT_GE(gett_statements, gett_wanted());

  std::vector<const einc::cuda::GeneratedKernel*> list;
  for (const auto& [name, k] : kernels) list.push_back(&k);
  const std::vector<std::string> archs = {"sm_80", "sm_90a"};
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::vector<std::string> failures;
  std::map<KernelKind, double> milliseconds;
  auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (std::size_t i; (i = next++) < list.size() * archs.size();) {
      const einc::cuda::GeneratedKernel& k = *list[i / archs.size()];
      const std::string& arch = archs[i % archs.size()];
      try {
        auto r = einc::cuda::nvrtc_compile(k.source, k.name + ".cu", arch, ImageKind::cubin);
        std::lock_guard<std::mutex> lock(mutex);
        milliseconds[k.kind] += r.milliseconds;
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        failures.push_back(k.name + " for " + arch + ": " + e.what() + "\n--- source ---\n" + k.source);
      }
    }
  };
  std::thread second(worker);
  worker();
  second.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (std::size_t f = 0; f < failures.size() && f < 3; ++f) ADD_FAILURE() << failures[f];
  EXPECT_TRUE(failures.empty()) << failures.size() << " compiles failed";
  std::cout << "[nvrtc] " << kernels.size() << " distinct kernels (" << example_kernels
            << " from the examples and handwritten scripts; " << gett_statements << " GETT statements from " << seeds
            << " random scripts) x " << archs.size() << " archs: " << kinds[KernelKind::gett] << " gett ("
            << milliseconds[KernelKind::gett] / 1000 << " s), " << kinds[KernelKind::row] << " row ("
            << milliseconds[KernelKind::row] / 1000 << " s), " << kinds[KernelKind::elementwise] << " elementwise ("
            << milliseconds[KernelKind::elementwise] / 1000 << " s) of NVRTC time; " << seconds
            << " s wall on 2 threads\n";
  RecordProperty("kernels", static_cast<int>(kernels.size()));
  RecordProperty("wall_seconds", std::to_string(seconds));
}

}  // namespace
