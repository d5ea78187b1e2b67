// tests/ir/contraction_hoist_test.cpp — ir/contraction_hoist.h: which
// contractions leave their statement for a temporary, under which mask,
// and the statement that reads them.
#include "ir/contraction_hoist.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/ir/lower_helper.h"

namespace einc::ir {
namespace {

std::string printed(const HoistedContractions& h, std::size_t i) {
  const Statement& s = h.statements.at(i);
  return h.program.tensors.at(static_cast<std::size_t>(s.target)).name.substr(0, 10) + " = " +
         print_expr(h.program, s, *s.value);
}

TEST(ContractionHoist, TwoMaskedContractionsBecomeMaskedTemporaries) {
  testing::Lowered l = testing::lower(
      "dim T = 6, E = 4\ninput qa[T, E], ka[T, E], qb[T, E], kb[T, E]\n"
      "s[i, j] = where(j <= i, (qa[i, c] * ka[j, c] + qb[i, c2] * kb[j, c2]) / sqrt(E), -inf)\noutput s\n");
  ASSERT_TRUE(l.errors.empty());
  const auto h = hoist_contractions(l.program, l.program.statements[0], DType::f32);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->temporaries.size(), 2u);
  ASSERT_EQ(h->statements.size(), 3u);
  EXPECT_EQ(printed(*h, 0), "(temporary = where(j <= i, sum(c: qa[i, c] * ka[j, c]), 0)");
  EXPECT_EQ(printed(*h, 1), "(temporary = where(j <= i, sum(c2: qb[i, c2] * kb[j, c2]), 0)");
  const Statement& last = h->statements[2];
  EXPECT_EQ(last.target, l.program.statements[0].target);
  EXPECT_EQ(print_expr(h->program, last, *last.value).find("sum("), std::string::npos);
  // A temporary's statement is already in hoisted form: hoisting it again
  // would give it back (and a backend planning by hoisting would recurse).
  EXPECT_FALSE(hoist_contractions(h->program, h->statements[0], DType::f32));
  EXPECT_FALSE(hoist_contractions(h->program, h->statements[1], DType::f32));
}

TEST(ContractionHoist, AConditionOnAnotherIndexDoesNotMaskIt) {
  // The contraction has no j: the condition does not restrict it.
  testing::Lowered l = testing::lower(
      "dim T = 6, E = 4\ninput a[T, E], b[E], c[T, T]\n"
      "s[i, j] = where(j <= i, c[i, j] + a[i, e] * b[e], 0)\noutput s\n");
  ASSERT_TRUE(l.errors.empty());
  const auto h = hoist_contractions(l.program, l.program.statements[0], DType::f32);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->temporaries.size(), 1u);
  EXPECT_EQ(printed(*h, 0), "(temporary = sum(e: a[i, e] * b[e])");
}

TEST(ContractionHoist, NothingToHoist) {
  // A statement that is a contraction, a factor of a product, and no contraction at all.
  for (const char* statement :
       {"s[i, j] = a[i, e] * b[j, e]", "s[i, j] = c[i, j] * (a[i, e] * b[j, e])", "s[i, j] = c[i, j] + 1"}) {
    testing::Lowered l =
        testing::lower(std::string("dim T = 6, E = 4\ninput a[T, E], b[T, E], c[T, T]\n") + statement + "\noutput s\n");
    ASSERT_TRUE(l.errors.empty()) << statement;
    EXPECT_FALSE(hoist_contractions(l.program, l.program.statements[0], DType::f32)) << statement;
  }
}

}  // namespace
}  // namespace einc::ir
