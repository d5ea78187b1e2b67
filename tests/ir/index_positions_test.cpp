// tests/ir/index_positions_test.cpp — sema of index arithmetic in positions
// (ir/access_lowering.cpp): what each position lowers to, the extents
// inferred for indices that appear only in arithmetic (the valid range,
// symbolic where it can be), and bounds decided only once dims are bound.
// Errors are covered by the must-fail scripts (tests/scripts/fail/position_*).
#include <gtest/gtest.h>

#include "ir/program.h"
#include "lower_helper.h"

namespace einc::ir {
namespace {

using testing::lower;

struct Result {
  std::string program;               // print_program, or the first error
  std::vector<std::string> extents;  // the last statement's index extents, as formulas
};

Result lowered(const std::string& text, std::vector<DimBinding> dims = {}) {
  auto r = lower(text, std::move(dims));
  if (!r.errors.empty()) return {"error: " + r.errors.front(), {}};
  Result out{print_program(r.program), {}};
  for (const IndexVar& v : r.program.statements.back().indices)
    out.extents.push_back(v.name + "=" + r.program.formula(v.extent));
  return out;
}

using Extents = std::vector<std::string>;

TEST(IndexPositions, AValidConvolutionGetsSymbolicExtents) {
  Result r = lowered("dim H, W, R, S\ninput I[H, W], K[R, S]\nO[i, j] = I[i + r, j + s] * K[r, s]\n");
  EXPECT_EQ(r.program, "O[i, j] = sum(r, s: I[i + r, j + s] * K[r, s])\n");
  EXPECT_EQ(r.extents, (Extents{"i=H - R + 1", "j=W - S + 1", "r=R", "s=S"}));
}

TEST(IndexPositions, DilationAndOffsetsByDims) {
  Result r = lowered("dim H, R\ninput I[H], K[R]\nO[i] = I[i + 2*r] * K[r]\n");
  EXPECT_EQ(r.extents, (Extents{"i=H - 2*R + 2", "r=R"}));
  r = lowered("dim T, D\ninput X[T, 2*D]\nhi[t, d] = X[t, d + D]\n");
  EXPECT_EQ(r.program, "hi[t, d] = X[t, d + D]\n");
  EXPECT_EQ(r.extents, (Extents{"t=T", "d=D"}));
}

TEST(IndexPositions, AStrideNeedsTheDimsValues) {
  // ⌊(10 - 3) / 2⌋ + 1 = 4 positions of a stride-2 window of 3 over 10.
  Result r = lowered("dim H = 10, R = 3\ninput I[H], K[R]\nO[i] = I[2*i + r] * K[r]\n");
  EXPECT_EQ(r.extents, (Extents{"i=4", "r=R"}));
  r = lowered("dim H, R = 3\ninput I[H], K[R]\nO[i] = I[2*i + r] * K[r]\n", {{"H", 11}});
  EXPECT_EQ(r.extents, (Extents{"i=5", "r=R"}));
}

TEST(IndexPositions, TheTightestPositionBoundsAnIndex) {
  Result r = lowered("dim H = 10, W = 7\ninput A[H], B[W]\nO[i] = A[i + 2] * B[i]\n");
  EXPECT_EQ(r.extents, (Extents{"i=W"}));  // i alone in B: 7, and 7 + 2 <= 10
  r = lowered("dim H = 10\ninput A[H], B[H]\nO[i] = A[i + 2] * B[2*i]\n");
  EXPECT_EQ(r.extents, (Extents{"i=5"}));  // min(8, 5)
}

TEST(IndexPositions, APoolingWindowTakesItsExtentFromTheReduction) {
  Result r = lowered("dim C, H = 8, W = 6\ninput X[C, H, W]\nP[c, p, q] = max(r < 2, s < 2: X[c, 2*p + r, 2*q + s])\n");
  EXPECT_EQ(r.program, "P[c, p, q] = max(r, s: X[c, 2*p + r, 2*q + s])\n");
  EXPECT_EQ(r.extents, (Extents{"c=C", "p=4", "q=3", "r=2", "s=2"}));
}

TEST(IndexPositions, LookupsReadPositionsFromIntegerTensors) {
  Result r =
      lowered("dim T, V, D\ninput ids[T] : i32\nparam wte[V, D], wpe[T, D]\nx[t, d] = wte[ids[t], d] + wpe[t, d]\n");
  EXPECT_EQ(r.program, "x[t, d] = wte[ids[t], d] + wpe[t, d]\n");
  EXPECT_EQ(r.extents, (Extents{"t=T", "d=D"}));
  // The ids' own positions may hold arithmetic (the previous token).
  r = lowered("dim T, V\ninput ids[T] : i32\nparam w[V]\ny[t] = w[ids[t + 1]]\n");
  EXPECT_EQ(r.extents, (Extents{"t=T - 1"}));
}

TEST(IndexPositions, LiteralPositionsSliceATensor) {
  Result r = lowered("dim T = 4, D = 8\ninput qkv[T, 3, D]\nk[t, d] = qkv[t, 1, d]\n");
  EXPECT_EQ(r.program, "k[t, d] = qkv[t, 1, d]\n");
  EXPECT_EQ(r.extents, (Extents{"t=T", "d=D"}));
}

TEST(IndexPositions, PaddedAccessesTakeTheDeclaredShape) {
  Result r = lowered("dim H = 8, R = 3\ninput I[H], K[R]\noutput O[H]\nO[i] = padded(I[i + r - 1]) * K[r]\n");
  EXPECT_EQ(r.program, "O[i] = sum(r: padded(I[i + r - 1]) * K[r])\n");
  EXPECT_EQ(r.extents, (Extents{"i=H", "r=R"}));
}

TEST(IndexPositions, BoundsWaitForTheDimsAndAreCheckedWhenBound) {
  const std::string text = "dim H, R\ninput I[H], K[R]\noutput O[H]\nO[i] = I[i + r] * K[r]\n";
  EXPECT_EQ(lowered(text).program, "O[i] = sum(r: I[i + r] * K[r])\n");  // symbolic: not provably out of bounds
  EXPECT_NE(lowered(text, {{"H", 6}, {"R", 3}}).program.find("ranges over 0..7"), std::string::npos);
  EXPECT_EQ(lowered(text, {{"H", 6}, {"R", 1}}).program, "O[i] = sum(r: I[i + r] * K[r])\n");
}

TEST(IndexPositions, NegativeCoefficientsFlipAWindow) {
  Result r = lowered("dim H = 6, R = 3\ninput I[H], K[R]\noutput O[4]\nO[i] = I[i - r + 2] * K[r]\n");
  EXPECT_EQ(r.program, "O[i] = sum(r: I[i - r + 2] * K[r])\n");
}

}  // namespace
}  // namespace einc::ir
