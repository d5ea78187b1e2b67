// tests/cli/run_cli_test.cpp — `einc run` end to end: outputs equal the
// embedding API's on the same random inputs, .npy inputs and outputs, and
// every data error exits 1 with the tensor named and no file left behind; a
// Ctrl-C cancels the run (exit 130, no file).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "einc/einc.h"
#include "einc/npy.h"
#include "run_process.h"

namespace {

namespace fs = std::filesystem;
using einc_test::ProcessResult;
using einc_test::run_process;

const std::string kEinc = EINC_BINARY_DIR "/bin/einc";
const std::string kExamples = EINC_SOURCE_DIR "/examples/";

bool has_backend(einc::Backend backend) {
  const std::vector<einc::Backend> available = einc::available_backends();
  return std::find(available.begin(), available.end(), backend) != available.end();
}

class RunCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("einc_run_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ProcessResult einc(std::vector<std::string> args) { return run_process(kEinc, args); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write_script(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  std::size_t files_in(const fs::path& dir) const {
    if (!fs::exists(dir)) return 0;
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }

  fs::path dir_;
};

// The small dims each example runs with (the reference backend is simple).
einc::DimBindings small_dims(const std::string& example) {
  if (example == "03_attention") return {{"T", 12}, {"H", 2}, {"E", 8}};
  if (example == "04_mlp") return {{"T", 6}, {"D", 16}, {"F", 32}};
  if (example == "05_transformer_block") return {{"T", 6}, {"D", 32}, {"H", 4}};
  if (example == "07_chain_order") return {{"N", 64}};
  return {};
}

TEST_F(RunCli, ExamplesMatchTheEmbeddingApi) {
  for (const char* example : {"01_matmul", "02_batched_matmul", "03_attention", "04_mlp", "05_transformer_block",
                              "06_einsum_cheatsheet", "07_chain_order"}) {
    SCOPED_TRACE(example);
    std::string script = kExamples + example + ".ein";
    einc::DimBindings dims = small_dims(example);
    std::vector<std::string> args = {"run",      script, "--backend",    "reference",
                                     "--random", "5",    "--output-dir", path(example)};
    for (const auto& [name, value] : dims) args.insert(args.end(), {"--dim", name + "=" + std::to_string(value)});
    ProcessResult r = einc(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;

    einc::CompileOptions options;
    options.dims = dims;
    einc::Program program = einc::compile_file(script, options);
    einc::TensorMap expected = program.run(einc::random_inputs(program, 5), {.backend = einc::Backend::reference});
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(files_in(path(example)), expected.size());
    for (const auto& [name, tensor] : expected) {
      einc::Tensor written = einc::read_npy(path(example) + "/" + name + ".npy");
      ASSERT_EQ(written.shape(), tensor.shape()) << name;
      ASSERT_EQ(written.dtype(), tensor.dtype()) << name;
      for (std::int64_t i = 0; i < tensor.numel(); ++i) ASSERT_EQ(written.get_flat(i), tensor.get_flat(i)) << name;
      EXPECT_NE(r.out.find(name + " "), std::string::npos) << r.out;
    }
  }
}

TEST_F(RunCli, NpyInputsBindSymbolicDims) {
  std::string script = write_script("s.ein", "dim T, D = 2\ninput X[T, D]\nY[t] = sum(d: X[t, d])\n");
  einc::Tensor x = einc::Tensor::zeros(einc::DType::f32, {3, 2});
  for (int i = 0; i < 6; ++i) x.set_flat(i, i);
  einc::write_npy(path("x.npy"), x);
  ProcessResult r =
      einc({"run", script, "--backend", "reference", "--input", "X=" + path("x.npy"), "--output-dir", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  einc::Tensor y = einc::read_npy(path("out/Y.npy"));
  EXPECT_EQ(y.shape(), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(y.get({2}), 9.0);
}

TEST_F(RunCli, BenchPrintsMedianAndGflops) {
  ProcessResult r =
      einc({"run", kExamples + "01_matmul.ein", "--backend", "reference", "--random", "1", "--bench", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("median"), std::string::npos);
  EXPECT_NE(r.out.find("GFLOP/s"), std::string::npos);
}

TEST_F(RunCli, DataErrorsExitOneNameTheTensorAndLeaveNoFile) {
  std::string script = write_script("m.ein", "input A[2, 3]\ninput B[3] : i32\nC[i] = sum(j: A[i, j])\n");
  einc::write_npy(path("a_f64.npy"), einc::Tensor::zeros(einc::DType::f64, {2, 3}));
  einc::write_npy(path("a_shape.npy"), einc::Tensor::zeros(einc::DType::f32, {3, 2}));
  einc::write_npy(path("a_ok.npy"), einc::Tensor::zeros(einc::DType::f32, {2, 3}));
  einc::write_npy(path("b_ok.npy"), einc::Tensor::zeros(einc::DType::i32, {3}));
  std::string good = einc::serialize_npy(einc::Tensor::zeros(einc::DType::f32, {2, 3}));
  std::ofstream(path("a_truncated.npy"), std::ios::binary) << good.substr(0, good.size() - 3);
  std::ofstream(path("a_garbage.npy"), std::ios::binary) << "not a numpy file";

  struct Case {
    std::vector<std::string> inputs;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{"A=" + path("a_f64.npy"), "B=" + path("b_ok.npy")}, "'A' is f64 but the script declares f32"},
      {{"A=" + path("a_shape.npy"), "B=" + path("b_ok.npy")}, "'A' has shape [3, 2]"},
      {{"B=" + path("b_ok.npy")}, "input 'A' is missing"},
      {{"A=" + path("a_truncated.npy"), "B=" + path("b_ok.npy")}, "--input A:"},
      {{"A=" + path("a_garbage.npy"), "B=" + path("b_ok.npy")}, "--input A:"},
      {{"A=" + path("missing.npy"), "B=" + path("b_ok.npy")}, "missing.npy"},
      {{"A=" + path("a_ok.npy"), "B=" + path("b_ok.npy"), "Z=" + path("a_ok.npy")}, "'Z' is not an input"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"run", script, "--backend", "reference", "--output-dir", path("out")};
    for (const std::string& in : c.inputs) args.insert(args.end(), {"--input", in});
    ProcessResult r = einc(args);
    EXPECT_EQ(r.exit_code, 1) << c.expect << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(files_in(path("out")), 0u) << c.expect;
  }
}

// einc's SIGINT handler goes in once the command starts (after the dynamic
// loader's work): a signal before that ends it by SIGINT's default action,
// so the signal is sent later and later until it finds the handler. The
// run alone (2048^3 interpreted points) would take a minute or more.
TEST_F(RunCli, CtrlCCancelsTheRunExits130AndWritesNoFile) {
  std::ofstream(path("long.ein")) << "dim M = 2048, K = 2048, N = 2048\ninput A[M, K]\ninput B[K, N]\n"
                                     "C[i, j] = A[i, k] * B[k, j]\noutput C\n";
  for (double delay : {0.3, 1.0, 3.0}) {
    ProcessResult r = run_process(
        kEinc, {"run", path("long.ein"), "--backend", "reference", "--random", "1", "--output-dir", path("out")}, "",
        30.0, delay);
    if (r.signal == SIGINT) continue;  // too early: the handler was not in place yet
    EXPECT_FALSE(r.timed_out) << "the run went on after the signal";
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_EQ(r.err, "einc: run cancelled (interrupt)\n");
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(path("out"))) << "the output directory was made";
    return;
  }
  FAIL() << "SIGINT's default action ended einc every time: its handler was never in place";
}

TEST_F(RunCli, BackendsNotBuiltSaySo) {
  for (const char* backend : {"cpu", "cuda"}) {
    if (has_backend(*einc::backend_from_name(backend))) continue;
    ProcessResult r = einc({"run", kExamples + "01_matmul.ein", "--backend", backend, "--random", "1"});
    EXPECT_EQ(r.exit_code, 1);
    bool said_why = r.err.find("not available in this build") != std::string::npos ||
                    r.err.find("no CUDA driver/device found") != std::string::npos;
    EXPECT_TRUE(said_why) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  ProcessResult r = einc({"run", kExamples + "01_matmul.ein", "--backend", "gpu"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(RunCli, CpuBackendMatchesReference) {
  if (!has_backend(einc::Backend::cpu)) GTEST_SKIP() << "no cpu backend";
  for (const char* backend : {"cpu", "reference"}) {
    ProcessResult r = einc(
        {"run", kExamples + "01_matmul.ein", "--backend", backend, "--random", "3", "--output-dir", path(backend)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  einc::Tensor cpu = einc::read_npy(path("cpu/C.npy")), ref = einc::read_npy(path("reference/C.npy"));
  ASSERT_EQ(cpu.shape(), ref.shape());
  for (std::int64_t i = 0; i < cpu.numel(); ++i) ASSERT_NEAR(cpu.get_flat(i), ref.get_flat(i), 1e-4);
  ProcessResult r = einc({"run", kExamples + "01_matmul.ein", "--random", "3"});  // default backend: cpu
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ProcessResult emitted = einc({"emit", kExamples + "03_attention.ein", "--target", "llvm-ir"});
  EXPECT_EQ(emitted.exit_code, 0) << emitted.err;
  EXPECT_NE(emitted.out.find("define void @einc_ukr_f32_"), std::string::npos);
  EXPECT_NE(emitted.out.find("JIT GETT"), std::string::npos);
  EXPECT_NE(emitted.out.find("P = JIT loop (normalization: softmax over j)"), std::string::npos);
  emitted = einc({"emit", kExamples + "03_attention.ein", "--target", "asm"});
  EXPECT_EQ(emitted.exit_code, 0);
  EXPECT_NE(emitted.out.find("einc_ukr_f32_"), std::string::npos);
}

TEST_F(RunCli, EveryExampleOnCpuMatchesReference) {
  // Whole scripts on `cpu` (GETTs, loop kernels for the softmax and
  // layernorm statements, the interpreter for the rest) against the
  // reference: within 2e-4 of the output's scale (f32 GETT sums and the
  // layernorms' 1/sigma amplify rounding; a wrong element is off by ~1).
  if (!has_backend(einc::Backend::cpu)) GTEST_SKIP() << "no cpu backend";
  for (const char* example : {"01_matmul", "02_batched_matmul", "03_attention", "04_mlp", "05_transformer_block",
                              "06_einsum_cheatsheet", "07_chain_order"}) {
    SCOPED_TRACE(example);
    std::string out = path(example);
    for (const char* backend : {"cpu", "reference"}) {
      std::vector<std::string> args = {
          "run",          kExamples + example + ".ein", "--backend", backend, "--random", "7",
          "--output-dir", out + "/" + backend};
      for (const auto& [name, value] : small_dims(example))
        args.insert(args.end(), {"--dim", name + "=" + std::to_string(value)});
      ProcessResult r = einc(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    ASSERT_GT(files_in(out + "/reference"), 0u);
    for (const auto& entry : fs::directory_iterator(out + "/reference")) {
      std::string name = entry.path().filename().string();
      einc::Tensor ref = einc::read_npy(entry.path().string()), cpu = einc::read_npy(out + "/cpu/" + name);
      ASSERT_EQ(cpu.shape(), ref.shape()) << name;
      double scale = 1;
      for (std::int64_t i = 0; i < ref.numel(); ++i) scale = std::max(scale, std::fabs(ref.get_flat(i)));
      for (std::int64_t i = 0; i < ref.numel(); ++i)
        ASSERT_NEAR(cpu.get_flat(i), ref.get_flat(i), 2e-4 * scale) << name;
    }
  }
}

TEST_F(RunCli, MalformedInputOptionIsAUsageError) {
  ProcessResult r = einc({"run", kExamples + "01_matmul.ein", "--backend", "reference", "--input", "A"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--input"), std::string::npos);
}

TEST_F(RunCli, UnboundDimWithoutDataIsAClearError) {
  std::string script = write_script("u.ein", "dim T\ninput X[T]\nY[t] = X[t] * 2\n");
  ProcessResult r = einc({"run", script, "--backend", "reference", "--random", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'X'"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

// A dim that nothing binds is reported at its declaration, file:line:col with
// the source line and a caret, by every command that needs its value, with
// one message that says how to bind it.
TEST_F(RunCli, UnboundDimIsReportedAtItsDeclarationByEveryCommand) {
  std::string script = write_script("u.ein", "dim D = 2\n  dim T\ninput X[T, D]\nY[t, d] = X[t, d] * 2\n");
  const std::string header = script + ":2:7: error: dim 'T' has no value; bind it (einc --dim T=N, or Program::bind)";
  struct Case {
    std::vector<std::string> args;
    std::string alternative;  // what the message adds after the binding
  };
  std::vector<Case> cases = {
      {{"run", script, "--backend", "reference"}, ", or give an input whose shape sets it"},
      {{"run", script, "--backend", "reference", "--random", "3"}, ", or give 'X' (its random data needs it)"},
      {{"report", script}, ""},
  };
  // (The CUDA source needs no GPU, only a build with the cuda backend.)
  if (einc({"emit", script, "--target", "cuda"}).err.find("not in this build") == std::string::npos)
    cases.push_back({{"emit", script, "--target", "cuda"}, ""});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.args.back());
    ProcessResult r = einc(c.args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(r.err, header + c.alternative + "\n    dim T\n        ^\n");
  }
  // Bound from the command line, or from an input's shape, it runs.
  ProcessResult bound = einc({"run", script, "--backend", "reference", "--random", "3", "--dim", "T=3"});
  EXPECT_EQ(bound.exit_code, 0) << bound.err;
  einc::write_npy(path("x.npy"), einc::Tensor::zeros(einc::DType::f32, {3, 2}));
  ProcessResult given = einc({"run", script, "--backend", "reference", "--input", "X=" + path("x.npy")});
  EXPECT_EQ(given.exit_code, 0) << given.err;
}

// The JIT's objects go to the kernel cache on disk ($EINC_CACHE_DIR), so a
// second process compiles nothing; a corrupt entry is recompiled, and "off"
// writes nothing. `einc emit`'s second line says where each kernel came from.
TEST_F(RunCli, SecondProcessLoadsTheCpuKernelsFromTheDiskCache) {
  if (!has_backend(einc::Backend::cpu)) GTEST_SKIP() << "no cpu backend";
  std::string script = write_script("mm.ein", "dim N = 8\ninput A[N, N], B[N, N]\nC[i, j] = A[i, k] * B[k, j]\n");
  fs::path cache = dir_ / "cache";
  auto emit = [&](const std::string& cache_dir) {
    ProcessResult r =
        run_process("/usr/bin/env", {"EINC_CACHE_DIR=" + cache_dir, kEinc, "emit", script, "--target", "llvm-ir"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string second_line = r.out.substr(0, r.out.find('\n', r.out.find('\n') + 1));
    return second_line.substr(second_line.find('\n') + 1);
  };
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  std::string first = emit(cache.string());
  EXPECT_EQ(count(first, "(disk cache)"), 0u) << first;
  std::size_t functions = count(first, "einc_");
  ASSERT_GT(functions, 3u) << first;
  EXPECT_GT(files_in(cache), 3u);
  std::string second = emit(cache.string());
  EXPECT_EQ(count(second, "(disk cache)"), functions) << second;
  for (const auto& entry : fs::directory_iterator(cache)) std::ofstream(entry.path(), std::ios::trunc) << "garbage";
  std::string third = emit(cache.string());
  EXPECT_EQ(count(third, "(disk cache)"), 0u) << third;
  EXPECT_EQ(count(emit(cache.string()), "(disk cache)"), functions);  // rewritten whole
  EXPECT_EQ(count(emit("off"), "(disk cache)"), 0u);                  // the cache is off: nothing read
}

// EINC_CPU_ISA may only narrow the host's ISA: an unknown or wider one is
// a clear error (exit 1), never an illegal instruction.
TEST_F(RunCli, UnknownCpuIsaIsAClearError) {
  if (!has_backend(einc::Backend::cpu)) GTEST_SKIP() << "no cpu backend";
  ProcessResult r = run_process("/usr/bin/env", {"EINC_CPU_ISA=sse", kEinc, "run", kExamples + "01_matmul.ein",
                                                 "--random", "1", "--output-dir", path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("EINC_CPU_ISA=sse is not one this host can run"), std::string::npos) << r.err;
  EXPECT_EQ(files_in(dir_ / "out"), 0u);
}

}  // namespace
