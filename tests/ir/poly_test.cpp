// tests/ir/poly_test.cpp — polynomials in the dims: arithmetic, printing,
// checked evaluation.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "ir/checked_math.h"
#include "ir/poly.h"

namespace einc::ir {
namespace {

std::string name(int id) { return std::string(1, "TDHE"[id]); }
std::optional<std::int64_t> values(int id) {
  static const std::int64_t v[] = {1000, 4096, 32, 128};
  return v[id];
}

TEST(Poly, PrintsLikeTheReport) {
  Poly t = Poly::dim(0), d = Poly::dim(1);
  EXPECT_EQ((t * d * d).str(name), "T*D*D");
  EXPECT_EQ((Poly::constant(2) * t * d + t).str(name), "2*T*D + T");
  EXPECT_EQ((t - Poly::constant(1)).str(name), "T - 1");
  EXPECT_EQ(Poly().str(name), "0");
  EXPECT_EQ(Poly::constant(7).str(name), "7");
}

TEST(Poly, CancelsAndCompares) {
  Poly t = Poly::dim(0);
  EXPECT_TRUE((t - t).is_zero());
  EXPECT_EQ(t * Poly::dim(1), Poly::dim(1) * t);
  EXPECT_EQ((t + t).str(name), "2*T");
}

TEST(Poly, Evaluates) {
  Poly p = Poly::dim(0) * Poly::dim(2) * Poly::dim(0) * Poly::dim(3);
  EXPECT_EQ(p.evaluate(values), 4096000000);
}

TEST(Poly, UnboundDimThrows) {
  Poly p = Poly::dim(0);
  EXPECT_THROW(p.evaluate([](int) { return std::optional<std::int64_t>(); }), UnboundDimError);
}

TEST(Poly, OverflowIsAnErrorNeverAWrappedNumber) {
  Poly big = Poly::dim(0);
  auto huge = [](int) { return std::optional<std::int64_t>(std::int64_t{1} << 32); };
  EXPECT_EQ(big.evaluate(huge), std::int64_t{1} << 32);
  EXPECT_THROW((big * big).evaluate(huge), OverflowError);
  EXPECT_THROW((Poly::constant(std::numeric_limits<std::int64_t>::max()) + Poly::constant(1)), OverflowError);
  auto edge = [](int) { return std::optional<std::int64_t>(std::numeric_limits<std::int64_t>::max()); };
  EXPECT_EQ(big.evaluate(edge), std::numeric_limits<std::int64_t>::max());
  EXPECT_THROW((big + Poly::constant(1)).evaluate(edge), OverflowError);
}

}  // namespace
}  // namespace einc::ir
