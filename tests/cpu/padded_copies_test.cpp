// tests/cpu/padded_copies_test.cpp — statements that read through
// padded(...) on the cpu backend (backends/cpu/access_copies.h, padded_copies.h): the copies'
// margins, the plan they make possible (a "same" or strided convolution as
// a JIT GETT), and the results against the reference on strided caller
// memory, half precision and pooling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/access_copies.h"
#include "backends/cpu/statement_plan.h"
#include "einc/einc.h"
#include "ir/lower.h"

namespace {

using einc::Tensor;

einc::ir::Program lowered(const std::string& text) {
  einc::frontend::SourceFile source("t.ein", text);
  einc::frontend::DiagnosticSink sink(source, [](const auto&, const auto& d) { ADD_FAILURE() << d.message; });
  return einc::ir::lower(source, nullptr, sink, {}).program;
}

TEST(CpuPaddedCopies, MarginsCoverEveryPositionAndTheViewStartsAtTheCopy) {
  einc::ir::Program p = lowered(
      "dim C = 2, H = 9, W = 8, F = 3\ninput X[C, H, W]\nparam K[F, C, 3, 3]\noutput Y[F, 5, 4]\n"
      "Y[f, p, q] = padded(X[c, 2*p + r - 1, 2*q + s - 1]) * K[f, c, r, s]\n");
  einc::cpu::CopiedStatement padded = einc::cpu::copy_accesses(p, p.statements[0]);
  ASSERT_EQ(padded.copies.size(), 1u);
  const einc::cpu::AccessCopy& c = padded.copies[0];
  EXPECT_EQ(c.kind, einc::cpu::AccessCopy::Kind::padded);
  EXPECT_EQ(c.low, (std::vector<std::int64_t>{0, 1, 1}));
  // Rows reach 2*4 + 2 - 1 = 9 (one past H), columns 2*3 + 2 - 1 = 7 (inside W).
  EXPECT_EQ(c.shape, (std::vector<std::int64_t>{2, 11, 9}));
  EXPECT_EQ(print_expr(padded.program, padded.statement, *padded.statement.value),
            "sum(c, r, s: X'padded[c, 2*p + r, 2*q + s] * K[f, c, r, s])");
  const std::vector<std::string> plan = einc::cpu::describe_plan(p);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_NE(plan[0].find("JIT GETT"), std::string::npos) << plan[0];
  EXPECT_NE(plan[0].find("on zero-padded copies of X (low margins 0,1,1)"), std::string::npos) << plan[0];
}

void expect_matches_reference(const std::string& script, const einc::TensorMap& given = {}) {
  SCOPED_TRACE(script);
  einc::Program p = einc::compile(script);
  einc::TensorMap in = einc::random_inputs(p, 5, given);  // (the ones not given)
  in.insert(given.begin(), given.end());
  const einc::TensorMap want = p.run(in, {.backend = einc::Backend::reference});
  for (int threads : {1, 2}) {
    const einc::TensorMap got = p.run(in, {.backend = einc::Backend::cpu, .threads = threads});
    for (const auto& [name, w] : want) {
      const Tensor& g = got.at(name);
      ASSERT_EQ(g.shape(), w.shape()) << name;
      double scale = 1;
      for (std::int64_t i = 0; i < w.numel(); ++i) scale = std::max(scale, std::fabs(w.get_flat(i)));
      const double tolerance = w.dtype() == einc::DType::f32 ? 1e-5 : 1e-2;
      for (std::int64_t i = 0; i < w.numel(); ++i)
        ASSERT_NEAR(g.get_flat(i), w.get_flat(i), tolerance * scale) << name << " at " << i;
    }
  }
}

TEST(CpuPaddedCopies, SameAndStridedConvolutionsMatchTheReference) {
  expect_matches_reference(
      "dim N = 2, C = 5, H = 17, W = 13, F = 7\ninput X[N, C, H, W]\nparam K[F, C, 3, 3], b[F]\n"
      "output Y[N, F, H, W]\nY[n, f, p, q] = relu(padded(X[n, c, p + r - 1, q + s - 1]) * K[f, c, r, s] + b[f])\n");
  expect_matches_reference(
      "dim N = 1, C = 3, H = 16, W = 15, F = 4\ninput X[N, H, W, C]\nparam K[F, C, 7, 7]\n"
      "output Y[N, F, 8, 8]\nY[n, f, p, q] = padded(X[n, 2*p + r - 3, 2*q + s - 3, c]) * K[f, c, r, s]\n");
}

TEST(CpuPaddedCopies, PoolingHalfPrecisionAndStridedInputs) {
  expect_matches_reference(
      "dim C = 4, H = 11, W = 10\ninput X[C, H, W]\noutput M[C, 6, 5]\n"
      "M[c, p, q] = max(r < 3, s < 3: padded(X[c, 2*p + r - 1, 2*q + s - 1]))\n");
  expect_matches_reference(
      "dim C = 3, H = 9, F = 2\ninput X[C, H] : bf16\nparam K[F, C, 3] : bf16\noutput Y[F, H] : bf16\n"
      "Y[f, p] = padded(X[c, p + r - 1]) * K[f, c, r]\n");
  // X as a transposed view of the caller's memory.
  std::vector<float> memory(9 * 3);
  for (std::size_t i = 0; i < memory.size(); ++i) memory[i] = static_cast<float>(i % 7) - 3;
  Tensor x = Tensor::view(einc::DType::f32, memory.data(), {3, 9}, {1, 3});
  expect_matches_reference(
      "dim C = 3, H = 9, F = 2\ninput X[C, H]\nparam K[F, C, 3]\noutput Y[F, H]\n"
      "Y[f, p] = padded(X[c, p + r - 1]) * K[f, c, r]\n",
      {{"X", x}});
}

}  // namespace
