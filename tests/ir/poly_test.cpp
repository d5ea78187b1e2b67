// tests/ir/poly_test.cpp — polynomials in the dims: arithmetic, printing,
// checked evaluation.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

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
  // As an extent past int64: an error; as a count: exact.
  EXPECT_THROW((big * big).evaluate(huge), OverflowError);
  EXPECT_TRUE((big * big).evaluate_count(huge) == Int128{1} << 64);
  auto edge = [](int) { return std::optional<std::int64_t>(std::numeric_limits<std::int64_t>::max()); };
  EXPECT_EQ(big.evaluate(edge), std::numeric_limits<std::int64_t>::max());
  EXPECT_THROW((big + Poly::constant(1)).evaluate(edge), OverflowError);
  EXPECT_TRUE((big + Poly::constant(1)).evaluate_count(edge) == Int128{1} << 63);
  try {
    (big + Poly::constant(1)).evaluate(edge);
  } catch (const OverflowError& e) {
    EXPECT_EQ(e.bits, 64);
  }
  // An extent whose intermediate products leave int64 but whose value does not is fine.
  EXPECT_EQ((big * big - big * Poly::dim(1) + big).evaluate(edge), std::numeric_limits<std::int64_t>::max());
}

TEST(Poly, CountsAreExactUpTo2To127) {
  const Poly t = Poly::dim(0);
  auto two_to = [](int bits) { return [bits](int) { return std::optional<std::int64_t>(std::int64_t{1} << bits); }; };
  // 2^42 cubed is 2^126, twice that 2^127 - 1 + 1: one past the range.
  EXPECT_TRUE((t * t * t).evaluate_count(two_to(42)) == Int128{1} << 126);
  EXPECT_TRUE((t * t * t * Poly::constant(2) - Poly::constant(1)).evaluate_count(two_to(41)) == (Int128{1} << 124) - 1);
  try {
    (Poly::constant(2) * t * t * t).evaluate_count(two_to(42));
    FAIL() << "expected an overflow at 2^127";
  } catch (const OverflowError& e) {
    EXPECT_EQ(e.bits, 128);
    EXPECT_NE(std::string(e.what()).find("128-bit"), std::string::npos);
  }
  EXPECT_THROW((t * t * t * t).evaluate_count(two_to(32)), OverflowError);  // 2^128
  // A factor of 0 makes the term 0 whatever the others.
  EXPECT_TRUE((t * t * t * t * t * Poly::dim(1)).evaluate_count([](int id) {
    return std::optional<std::int64_t>(id == 0 ? std::numeric_limits<std::int64_t>::max() : 0);
  }) == 0);
  // Coefficient arithmetic is checked at 128 bits too.
  Poly c = Poly::constant(std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE((c * c).evaluate_count(values) ==
              Int128{std::numeric_limits<std::int64_t>::max()} * std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE((c + Poly::constant(1)).as_constant().has_value());  // a constant past int64
  EXPECT_THROW(c * c * Poly::constant(4), OverflowError);
}

TEST(Poly, RationalArithmeticIsExact) {
  const Poly a = Poly::dim(0), t = Poly::dim(1);
  const Poly half = a.divided_by(2);
  EXPECT_FALSE(half.is_integral());
  EXPECT_EQ(half + half, a);
  EXPECT_TRUE((half + half).is_integral());
  EXPECT_EQ(half * Poly::constant(2), a);
  EXPECT_EQ(a.divided_by(6) + a.divided_by(3), half);  // 1/6 + 1/3 = 1/2, reduced
  EXPECT_EQ(a.divided_by(4).divided_by(3), a.divided_by(12));
  EXPECT_EQ(half - half, Poly());
  EXPECT_TRUE((half - half).is_integral());
  EXPECT_EQ(Poly().divided_by(7), Poly());
  EXPECT_EQ(a.divided_by(1), a);
  EXPECT_EQ((Poly::constant(4) * t).divided_by(2), Poly::constant(2) * t);
  EXPECT_TRUE((Poly::constant(4) * t).divided_by(2).is_integral());
  EXPECT_THROW(a.divided_by(0), std::invalid_argument);
  EXPECT_THROW(a.divided_by(-2), std::invalid_argument);

  // T*(T+1)/2: the masked (causal) sum's count.
  const Poly tri = (t * (t + Poly::constant(1))).divided_by(2);
  auto at = [](std::int64_t v) { return [v](int) { return std::optional<std::int64_t>(v); }; };
  EXPECT_TRUE(tri.evaluate_count(at(4)) == 10);
  EXPECT_EQ(tri.evaluate(at(4)), 10);
  EXPECT_TRUE(tri.evaluate_count(at(1)) == 1);
  EXPECT_TRUE(tri.evaluate_count(at(0)) == 0);
  EXPECT_TRUE(tri.evaluate_count(at(-3)) == 3);  // (-3)(-2)/2
  // At the edge of int64: T*T/2 + T/2 is exact where T*T alone needs 126 bits.
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  EXPECT_TRUE(tri.evaluate_count(at(big)) == Int128{big} * (Int128{big} + 1) / 2);
  // Sums and products of rational polys keep their exact value.
  const Poly six = (t * (t + Poly::constant(1)) * (Poly::constant(2) * t + Poly::constant(1))).divided_by(6);
  EXPECT_TRUE(six.evaluate_count(at(10)) == 385);  // 1 + 4 + ... + 100
  EXPECT_TRUE((six + tri).evaluate_count(at(10)) == 385 + 55);
  EXPECT_TRUE((six * tri).evaluate_count(at(10)) == 385 * 55);
  EXPECT_FALSE(tri.as_constant().has_value());
  EXPECT_FALSE(Poly::constant(1).divided_by(2).as_constant().has_value());  // not an integer
  EXPECT_EQ(Poly::constant(6).divided_by(2).as_constant().value_or(-1), 3);
  EXPECT_FALSE(t.divided_by(2).as_single_dim().has_value());
  EXPECT_EQ(t.divided_by(2).dims_used(), std::vector<int>{1});
}

TEST(Poly, ANonIntegerValueIsAnInternalError) {
  const Poly half = Poly::dim(0).divided_by(2);
  auto three = [](int) { return std::optional<std::int64_t>(3); };
  EXPECT_THROW(half.evaluate_count(three), std::logic_error);
  EXPECT_THROW(half.evaluate(three), std::logic_error);
  try {
    half.evaluate_count(three);
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("not an integer"), std::string::npos) << e.what();
  }
  EXPECT_EQ(half.evaluate([](int) { return std::optional<std::int64_t>(8); }), 4);
  EXPECT_THROW(half.evaluate([](int) { return std::optional<std::int64_t>(); }), UnboundDimError);
}

TEST(Poly, PrintsFractionsOnceOverTheCommonDenominator) {
  const Poly t = Poly::dim(0), h = Poly::dim(2);
  EXPECT_EQ((t * (t + Poly::constant(1))).divided_by(2).str(name), "(T*T + T)/2");
  EXPECT_EQ((h * t * (t + Poly::constant(1))).divided_by(2).str(name), "(T*T*H + T*H)/2");
  EXPECT_EQ((t * t).divided_by(2).str(name), "T*T/2");
  EXPECT_EQ((Poly::constant(3) * t).divided_by(2).str(name), "3*T/2");
  EXPECT_EQ((Poly() - t).divided_by(2).str(name), "-T/2");
  EXPECT_EQ(Poly::constant(1).divided_by(2).str(name), "1/2");
  EXPECT_EQ((t - Poly::constant(1)).divided_by(3).str(name), "(T - 1)/3");
  EXPECT_EQ((t.divided_by(2) + t.divided_by(3)).str(name), "5*T/6");
  // Integral polys print as always, also after a division that cancels.
  EXPECT_EQ((Poly::constant(2) * t * t + Poly::constant(4) * t).divided_by(2).str(name), "T*T + 2*T");
}

TEST(Poly, PrintsCoefficientsPastInt64) {
  const Poly big = Poly::constant(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ((big * big * Poly::dim(0)).str(name), "85070591730234615847396907784232501249*T");
  EXPECT_EQ((Poly() - big * big).str(name), "-85070591730234615847396907784232501249");
  EXPECT_EQ((Poly::dim(0) - big * big).str(name), "T - 85070591730234615847396907784232501249");
}

}  // namespace
}  // namespace einc::ir
