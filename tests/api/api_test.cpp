// tests/api/api_test.cpp — the embedding API: compile, diagnostics through
// the callback (never stderr), binding dims, reports as data, overflow.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "einc/einc.h"

namespace {

const char* kAttention =
    "dim T, H = 4, E = 16\n"
    "input Q[T, H, E], K[T, H, E]\n"
    "S[h, i, j] = Q[i, h, e] * K[j, h, e] / sqrt(E)\n";

TEST(Api, CompileBindAndReport) {
  einc::Program p = einc::compile(kAttention, {.filename = "attn.ein"});
  EXPECT_EQ(p.file(), "attn.ein");
  ASSERT_EQ(p.dims().size(), 3u);
  EXPECT_FALSE(p.dims()[0].bound);
  einc::Program bound = p.bind({{"T", 100}});
  einc::Report r = bound.report();
  ASSERT_EQ(r.statements.size(), 1u);
  EXPECT_EQ(r.statements[0].macs.value, 4 * 100 * 100 * 16);
  EXPECT_EQ(r.statements[0].macs.formula, "T*T*H*E");
  EXPECT_EQ(r.statements[0].shape, (std::vector<std::int64_t>{4, 100, 100}));
  EXPECT_EQ(r.totals.macs.value, r.statements[0].macs.value);
  // The original is untouched.
  EXPECT_THROW(p.report(), einc::CompileError);
}

TEST(Api, DiagnosticsGoToTheCallback) {
  std::vector<einc::Diagnostic> seen;
  einc::CompileOptions options;
  options.filename = "bad.ein";
  options.on_diagnostic = [&](const einc::Diagnostic& d) { seen.push_back(d); };
  try {
    einc::compile("input A[3]\nB[i] = A[i] * C[i]\nD = (\n", options);
    FAIL() << "expected a CompileError";
  } catch (const einc::CompileError& e) {
    EXPECT_EQ(e.diagnostics().size(), seen.size());
  }
  // The syntax error on line 3 does not stop sema from reporting line 2's
  // unknown tensor; they come in source order.
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].line, 2);
  EXPECT_EQ(seen[0].message, "unknown tensor 'C'");
  EXPECT_EQ(seen[1].line, 3);
  EXPECT_EQ(seen[1].rendered.rfind("bad.ein:3:5: error: ", 0), 0u);
}

TEST(Api, ASyntaxErrorLeavesTheOtherStatementsChecked) {
  std::vector<einc::Diagnostic> seen;
  einc::CompileOptions options;
  options.filename = "two.ein";
  options.on_diagnostic = [&](const einc::Diagnostic& d) { seen.push_back(d); };
  // Line 3 does not parse; line 4 has a shape conflict; line 5 uses the
  // tensor line 3 would have made, and line 6 outputs it: no more errors.
  EXPECT_THROW(einc::compile("dim N = 4, M = 5\n"
                             "input A[N], B[M]\n"
                             "C[i] = A[i] * * 2\n"
                             "D[i] = A[i] + B[i]\n"
                             "E[i] = C[i] + A[i]\n"
                             "output C, D, E\n",
                             options),
               einc::CompileError);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].line, 3);
  EXPECT_EQ(seen[0].column, 15);
  EXPECT_EQ(seen[1].line, 4);
  EXPECT_NE(seen[1].message.find("index 'i' has extent"), std::string::npos) << seen[1].rendered;
}

// run() with a dim nothing binds: a CompileError whose diagnostic is at the
// dim's declaration and says how to bind it; the handler sees it too. The
// same message as report() and random_inputs(), each with its alternative.
TEST(Api, RunWithAnUnboundDimNamesItsDeclaration) {
  std::vector<einc::Diagnostic> seen;
  einc::CompileOptions options;
  options.filename = "u.ein";
  options.on_diagnostic = [&](const einc::Diagnostic& d) { seen.push_back(d); };
  einc::Program p = einc::compile("dim N = 2\ndim T\ndim U = 2 * T\ninput X[U, N]\nY[u, n] = X[u, n]\n", options);
  const std::string base = "dim 'T' has no value; bind it (einc --dim T=N, or Program::bind)";
  auto diagnostic_of = [&](auto&& call) -> einc::Diagnostic {
    seen.clear();
    try {
      call();
    } catch (const einc::CompileError& e) {
      EXPECT_EQ(e.diagnostics().size(), 1u);
      EXPECT_EQ(seen.size(), 1u);
      if (e.diagnostics().empty()) return {};
      const einc::Diagnostic& d = e.diagnostics().front();
      EXPECT_EQ(d.line, 2);  // T, not U (computed from T)
      EXPECT_EQ(d.column, 5);
      EXPECT_EQ(d.rendered.rfind("u.ein:2:5: error: " + d.message + "\n  dim T\n      ^\n", 0), 0u) << d.rendered;
      return d;
    }
    ADD_FAILURE() << "expected a CompileError";
    return {};
  };
  einc::RunOptions reference{.backend = einc::Backend::reference};
  EXPECT_EQ(diagnostic_of([&] { (void)p.run({}, reference); }).message,
            base + ", or give an input whose shape sets it");
  einc::TensorMap outputs;
  EXPECT_EQ(diagnostic_of([&] { p.run_into({}, outputs, reference); }).message,
            base + ", or give an input whose shape sets it");
  EXPECT_EQ(diagnostic_of([&] { (void)einc::random_inputs(p, 1); }).message,
            base + ", or give 'X' (its random data needs it)");
  EXPECT_EQ(diagnostic_of([&] { (void)p.report(); }).message, base);
  // Bound, it runs.
  einc::Program bound = p.bind({{"T", 3}});
  EXPECT_EQ(bound.run(einc::random_inputs(bound, 1), reference).at("Y").shape(), (std::vector<std::int64_t>{6, 2}));
}

// A warning is delivered once, by compile, which succeeds; binding dims,
// running (which binds T from the inputs) and dump_after lower the script
// again without delivering it twice.
TEST(Api, WarningsAreDeliveredOnceAndDoNotFail) {
  std::vector<einc::Diagnostic> seen;
  einc::CompileOptions options;
  options.filename = "ffn.ein";
  options.on_diagnostic = [&](const einc::Diagnostic& d) { seen.push_back(d); };
  einc::Program p = einc::compile(
      "dim T, D = 4, F = 3\ninput x[T, D], wg[D, F], wu[D, F]\n"
      "g[t, f] = silu(x[t, d] * wg[d, f]) * (x[t, d] * wu[d, f])\n",
      options);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].severity, einc::Severity::warning);
  EXPECT_EQ(seen[0].line, 3);
  EXPECT_EQ(seen[0].column, 11);
  EXPECT_EQ(seen[0].message.rfind("index 'd' is summed outside silu(...)", 0), 0u) << seen[0].message;
  EXPECT_EQ(seen[0].rendered.rfind("ffn.ein:3:11: warning: ", 0), 0u) << seen[0].rendered;
  einc::Program bound = p.bind({{"T", 2}});
  (void)bound.report();
  (void)bound.dump_after(einc::LoweringPass::einstein);
  einc::TensorMap inputs = einc::random_inputs(bound, 1);
  (void)p.run(inputs, {.backend = einc::Backend::reference});
  EXPECT_EQ(seen.size(), 1u);
}

TEST(Api, RepeatMultipliesTotals) {
  einc::Program p = einc::compile("dim N = 10\ninput A[N, N]\nB[i, j] = A[i, k] * A[k, j]\nparam W[N]\n");
  einc::Report once = p.report();
  einc::Report thrice = p.report({.repeat = 3});
  EXPECT_EQ(thrice.totals.macs.value, 3 * once.totals.macs.value);
  EXPECT_EQ(thrice.totals.params.value, 30);
  EXPECT_THROW(p.report({.repeat = 0}), einc::CompileError);
}

// Statements of a repeat block carry the block (its line, index and count);
// their counts are already × count, the others' have no block.
TEST(Api, StatementsOfARepeatBlockCarryIt) {
  einc::Program p = einc::compile(
      "dim T = 5, D = 4, L\ninput x0[T, D]\nparam w[L, D, D]\n"
      "x[t, d] = x0[t, d]\n"
      "repeat l < L {\n  x[t, d] += x[t, e] * w[l, e, d]\n}\n"
      "y[t] = x[t, d]\noutput y\n");
  einc::Report r = p.bind({{"L", 3}}).report();
  ASSERT_EQ(r.statements.size(), 3u);
  EXPECT_FALSE(r.statements[0].repeat_block.has_value());
  ASSERT_TRUE(r.statements[1].repeat_block.has_value());
  const einc::RepeatBlockReport& block = *r.statements[1].repeat_block;
  EXPECT_EQ(block.line, 5);
  EXPECT_EQ(block.index, "l");
  EXPECT_EQ(block.count, 3);
  EXPECT_EQ(block.count_formula, "L");
  EXPECT_EQ(r.statements[1].macs.value, 3 * 5 * 4 * 4);
  EXPECT_FALSE(r.statements[2].repeat_block.has_value());
  EXPECT_EQ(p.bind({{"L", 7}}).report().statements[1].repeat_block->count, 7);
}

TEST(Api, OverflowIsAnErrorNeverAWrongNumber) {
  // N^3 = 2.16e38 > 2^127 - 1.
  einc::Program p = einc::compile("dim N = 6000000000000\ninput A[N, N], B[N, N]\nC[i, j] = A[i, k] * B[k, j]\n");
  try {
    p.report();
    FAIL() << "expected an overflow error";
  } catch (const einc::CompileError& e) {
    ASSERT_FALSE(e.diagnostics().empty());
    EXPECT_NE(e.diagnostics()[0].message.find("overflows the signed 128-bit range"), std::string::npos);
    EXPECT_EQ(e.diagnostics()[0].line, 3);
  }
}

TEST(Api, CountsPastInt64AreExact) {
  // N^3 = 6.4e19 is past int64; with --repeat 10^12 the totals pass 2^64 by far.
  einc::Program p = einc::compile("dim N = 4000000\ninput A[N, N], B[N, N]\nC[i, j] = A[i, k] * B[k, j]\n");
  const einc::CountValue n = 4000000;
  einc::Report r = p.report({.repeat = 1000000000000});
  EXPECT_TRUE(r.statements[0].macs.value == n * n * n);
  EXPECT_EQ(einc::to_string(r.statements[0].macs.value), "64000000000000000000");
  EXPECT_TRUE(r.totals.macs.value == n * n * n * 1000000000000);
  EXPECT_EQ(einc::to_string(r.totals.flops.value), "128000000000000000000000000000000");
  EXPECT_EQ(r.totals.flops.formula, "2000000000000*N*N*N");
  einc::SweepReport s = einc::sweep(p, "N", {4000000, 8000000});
  EXPECT_TRUE(s.rows[1].second.macs.value == 8 * n * n * n);
}

TEST(Api, BindingRevealsConflictsAndUnknownDims) {
  einc::Program p = einc::compile("dim A, B\ninput X[A], Y[B]\nZ[i] = X[i] + Y[i]\n", {}).bind({{"A", 3}});
  EXPECT_THROW(p.bind({{"B", 4}}), einc::CompileError);
  EXPECT_NO_THROW(p.bind({{"B", 3}}).report());
  EXPECT_THROW(p.bind({{"Nope", 3}}), einc::CompileError);
}

TEST(Api, SweepGivesTotalsPerValue) {
  einc::Program p = einc::compile(kAttention);
  einc::SweepReport s = einc::sweep(p, "T", {1, 128, 1024});
  ASSERT_EQ(s.rows.size(), 3u);
  EXPECT_EQ(s.rows[1].second.macs.value, 4 * 128 * 128 * 16);
}

TEST(Api, UnreadableFileIsACompileError) { EXPECT_THROW(einc::compile_file("/nonexistent/x.ein"), einc::CompileError); }

TEST(Api, TransformerBlockCostsByHand) {
  // T=1000, D=4096: the MLP's first projection is T*D*4D MACs.
  einc::Program p = einc::compile_file(EINC_SOURCE_DIR "/examples/05_transformer_block.ein");
  einc::Report r = p.report();
  auto find = [&](const std::string& target) {
    for (const auto& s : r.statements)
      if (s.target == target) return s;
    return einc::StatementReport{};
  };
  EXPECT_EQ(find("U").macs.value, 1000LL * 4096 * 16384);
  EXPECT_EQ(find("S").macs.value, 32LL * 1000 * 1000 * 128);
  EXPECT_EQ(find("X1").macs.value, 1000LL * 32 * 128 * 4096);
  EXPECT_EQ(r.totals.params.value, 4LL * 4096 * 4096 + 2LL * 4096 * 16384 + 5 * 4096 + 16384);
}

}  // namespace
