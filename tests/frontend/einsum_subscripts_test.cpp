// tests/frontend/einsum_subscripts_test.cpp — numpy.einsum subscripts parsing.
//
// Each accepted case checks every operand's and the output's dimensions
// against what numpy.einsum would do with the same string and ranks; each
// rejected case checks the byte offset the caret will point at and the gist
// of numpy's message.
#include "frontend/einsum_subscripts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace einc::frontend {
namespace {

// Dimensions as text: a label is itself, broadcast dim k is the digit k.
std::string dims_text(const std::vector<EinsumDim>& dims) {
  std::string text;
  for (const EinsumDim& dim : dims) {
    text += dim.is_ellipsis() ? static_cast<char>('0' + dim.ellipsis_dim) : dim.label;
  }
  return text;
}

EinsumSubscripts parse_ok(std::string_view spec, const std::vector<std::size_t>& ranks) {
  auto parsed = parse_einsum_subscripts(spec, ranks);
  if (const auto* error = std::get_if<EinsumError>(&parsed)) {
    ADD_FAILURE() << "'" << spec << "' rejected at " << error->offset << ": " << error->message;
    return {};
  }
  return std::get<EinsumSubscripts>(parsed);
}

EinsumError parse_error(std::string_view spec, const std::vector<std::size_t>& ranks) {
  auto parsed = parse_einsum_subscripts(spec, ranks);
  if (!std::holds_alternative<EinsumError>(parsed)) {
    ADD_FAILURE() << "'" << spec << "' was accepted";
    return {};
  }
  return std::get<EinsumError>(parsed);
}

void expect_error(std::string_view spec, const std::vector<std::size_t>& ranks, int offset,
                  const std::string& message_part) {
  const EinsumError error = parse_error(spec, ranks);
  EXPECT_EQ(error.offset, offset) << "'" << spec << "': " << error.message;
  EXPECT_NE(error.message.find(message_part), std::string::npos) << "'" << spec << "': message was: " << error.message;
}

// ------------------------------------------------------------- accepted --

TEST(EinsumSubscripts, ExplicitMatmul) {
  const EinsumSubscripts s = parse_ok("ij,jk->ik", {2, 2});
  ASSERT_EQ(s.operands.size(), 2u);
  EXPECT_EQ(dims_text(s.operands[0]), "ij");
  EXPECT_EQ(dims_text(s.operands[1]), "jk");
  EXPECT_EQ(dims_text(s.output), "ik");
  EXPECT_TRUE(s.explicit_output);
  EXPECT_EQ(s.ellipsis_rank, 0);
}

TEST(EinsumSubscripts, ImplicitMatmul) {
  const EinsumSubscripts s = parse_ok("ij,jk", {2, 2});
  EXPECT_EQ(dims_text(s.output), "ik");
  EXPECT_FALSE(s.explicit_output);
}

TEST(EinsumSubscripts, DiagonalAndTrace) {
  const EinsumSubscripts diagonal = parse_ok("ii->i", {2});
  EXPECT_EQ(dims_text(diagonal.operands[0]), "ii");
  EXPECT_EQ(dims_text(diagonal.output), "i");

  // Implicit: 'i' is used twice, so it is summed: the trace.
  const EinsumSubscripts trace = parse_ok("ii", {2});
  EXPECT_EQ(dims_text(trace.operands[0]), "ii");
  EXPECT_EQ(dims_text(trace.output), "");
  EXPECT_FALSE(trace.explicit_output);

  const EinsumSubscripts explicit_trace = parse_ok("ii->", {2});
  EXPECT_EQ(dims_text(explicit_trace.output), "");
  EXPECT_TRUE(explicit_trace.explicit_output);
}

TEST(EinsumSubscripts, ImplicitOutputIsSorted) {
  EXPECT_EQ(dims_text(parse_ok("ba", {2}).output), "ab");
  EXPECT_EQ(dims_text(parse_ok("zA", {2}).output), "Az");
}

TEST(EinsumSubscripts, ImplicitOutputPutsUppercaseFirst) {
  const EinsumSubscripts s = parse_ok("Ab,bc", {2, 2});
  EXPECT_EQ(dims_text(s.operands[0]), "Ab");
  EXPECT_EQ(dims_text(s.output), "Ac");
  EXPECT_EQ(dims_text(parse_ok("c,bB,a", {1, 2, 1}).output), "Babc");
}

TEST(EinsumSubscripts, ExplicitOutputKeepsWrittenOrder) {
  EXPECT_EQ(dims_text(parse_ok("ij->ji", {2}).output), "ji");
  EXPECT_EQ(dims_text(parse_ok("ij,jk->ki", {2, 2}).output), "ki");
}

TEST(EinsumSubscripts, BroadcastDimsAreRightAligned) {
  const EinsumSubscripts s = parse_ok("...ij,...jk->...ik", {4, 3});
  EXPECT_EQ(s.ellipsis_rank, 2);
  EXPECT_EQ(dims_text(s.operands[0]), "01ij");
  EXPECT_EQ(dims_text(s.operands[1]), "1jk");
  EXPECT_EQ(dims_text(s.output), "01ik");
  EXPECT_EQ(s.operands[1][0], (EinsumDim{0, 1}));
}

TEST(EinsumSubscripts, BareEllipsesOfDifferentRanks) {
  const EinsumSubscripts s = parse_ok("...,...", {2, 4});
  EXPECT_EQ(s.ellipsis_rank, 4);
  EXPECT_EQ(dims_text(s.operands[0]), "23");
  EXPECT_EQ(dims_text(s.operands[1]), "0123");
  EXPECT_EQ(dims_text(s.output), "0123");
}

TEST(EinsumSubscripts, TrailingEllipsisImplicit) {
  const EinsumSubscripts s = parse_ok("i...,i...", {3, 2});
  EXPECT_EQ(s.ellipsis_rank, 2);
  EXPECT_EQ(dims_text(s.operands[0]), "i01");
  EXPECT_EQ(dims_text(s.operands[1]), "i1");
  // Broadcast dims first; 'i' is used twice, so it is summed.
  EXPECT_EQ(dims_text(s.output), "01");
}

TEST(EinsumSubscripts, EllipsisInTheMiddle) {
  const EinsumSubscripts s = parse_ok("a...b", {4});
  EXPECT_EQ(dims_text(s.operands[0]), "a01b");
  EXPECT_EQ(dims_text(s.output), "01ab");

  const EinsumSubscripts empty_ellipsis = parse_ok("a...b", {2});
  EXPECT_EQ(empty_ellipsis.ellipsis_rank, 0);
  EXPECT_EQ(dims_text(empty_ellipsis.operands[0]), "ab");
  EXPECT_EQ(dims_text(empty_ellipsis.output), "ab");

  EXPECT_EQ(dims_text(parse_ok("a...b->b...a", {3}).output), "b0a");
}

TEST(EinsumSubscripts, OutputEllipsisWithoutBroadcastDims) {
  EXPECT_EQ(dims_text(parse_ok("ij->...ji", {2}).output), "ji");
  EXPECT_EQ(dims_text(parse_ok("...i->", {1}).output), "");
}

TEST(EinsumSubscripts, SpacesAreIgnored) {
  const EinsumSubscripts s = parse_ok("  i j , j k -> i k  ", {2, 2});
  EXPECT_EQ(dims_text(s.operands[0]), "ij");
  EXPECT_EQ(dims_text(s.operands[1]), "jk");
  EXPECT_EQ(dims_text(s.output), "ik");
  EXPECT_TRUE(s.explicit_output);
  EXPECT_EQ(dims_text(parse_ok(" ... i ,i->... ", {3, 1}).output), "01");
}

TEST(EinsumSubscripts, ScalarOperands) {
  // numpy accepts an empty term for a 0-d operand: einsum("", 3.0) == 3.0.
  const EinsumSubscripts scalar = parse_ok("", {0});
  ASSERT_EQ(scalar.operands.size(), 1u);
  EXPECT_TRUE(scalar.operands[0].empty());
  EXPECT_TRUE(scalar.output.empty());
  EXPECT_EQ(dims_text(parse_ok(",ij->ji", {0, 2}).output), "ji");
  EXPECT_EQ(dims_text(parse_ok("...,...", {0, 0}).output), "");
}

// -------------------------------------------------------------- rejected --

TEST(EinsumSubscriptsErrors, InvalidCharacter) {
  expect_error("ij,j2->i", {2, 2}, 4, "invalid subscript '2'");
  expect_error("ij->i_", {2}, 5, "invalid subscript '_'");
  expect_error("i\tj", {2}, 1, "invalid subscript byte 0x09");
  expect_error("i,j->i,j", {1, 1}, 6, "invalid subscript ','");
}

TEST(EinsumSubscriptsErrors, DotNotPartOfEllipsis) {
  expect_error("i..j", {3}, 1, "'.' that is not part of an ellipsis ('...') in operand 0");
  expect_error("ij,jk..", {2, 2}, 5, "in operand 1");
  expect_error(". ..", {1}, 0, "not part of an ellipsis");
  expect_error("....ij", {3}, 3, "not part of an ellipsis");
  expect_error("i->i..", {1}, 4, "not part of an ellipsis ('...') in the output");
}

TEST(EinsumSubscriptsErrors, TwoEllipsesInOneTerm) {
  expect_error("...i...", {3}, 4, "more than one ellipsis ('...') in operand 0");
  expect_error("......", {3}, 3, "more than one ellipsis");
  expect_error("...i->......", {3}, 9, "more than one ellipsis ('...') in the output");
}

TEST(EinsumSubscriptsErrors, MoreTermsThanOperands) {
  // The ',' that opens the first term without an operand.
  expect_error("ij,jk,kl->il", {2, 2}, 5,
               "fewer operands provided to einstein sum function than specified in the subscripts string");
}

TEST(EinsumSubscriptsErrors, FewerTermsThanOperands) {
  expect_error("ij->i", {2, 2}, 2,
               "more operands provided to einstein sum function than specified in the subscripts string");
  expect_error("ij", {2, 2}, 1, "more operands provided");
  expect_error("", {0, 0}, 0, "more operands provided");
}

TEST(EinsumSubscriptsErrors, NoOperands) { expect_error("ij", {}, 0, "not enough operands"); }

TEST(EinsumSubscriptsErrors, TooManySubscripts) {
  expect_error("ijk", {2}, 2, "too many subscripts for operand 0");
  expect_error("ij,jkl->il", {2, 2}, 5, "too many subscripts for operand 1");
  expect_error("i...jk", {2}, 5, "too many subscripts for operand 0");
}

TEST(EinsumSubscriptsErrors, TooFewSubscriptsWithoutEllipsis) {
  const std::string message =
      "operand has more dimensions than subscripts given in einstein sum, but no '...' ellipsis provided to "
      "broadcast the extra dimensions.";
  expect_error("ij,j->i", {2, 2}, 3, message);
  expect_error("ij, ->i", {2, 1}, 3, message);  // a blank term: where it starts
  expect_error("ij,", {2, 1}, 2, message);      // ... kept inside the string
  expect_error("", {2}, 0, message);            // an empty spec for a matrix
}

TEST(EinsumSubscriptsErrors, OutputLabelRepeated) {
  expect_error("ij->iji", {2}, 6, "includes output subscript 'i' multiple times");
}

TEST(EinsumSubscriptsErrors, OutputLabelNotInInputs) {
  expect_error("ij,jk->ikl", {2, 2}, 9, "output subscript 'l' which never appeared in an input");
}

TEST(EinsumSubscriptsErrors, OutputWithoutEllipsisButBroadcastDims) {
  const std::string message =
      "output has more dimensions than subscripts given in einstein sum, but no '...' ellipsis provided to "
      "broadcast the extra dimensions.";
  expect_error("...i->i", {2}, 6, message);
  expect_error("...i->", {2}, 4, message);  // blank output: the '-' of "->"
  expect_error("...ij,jk-> k i", {3, 2}, 11, message);
}

TEST(EinsumSubscriptsErrors, MalformedArrow) {
  expect_error("i->i->i", {1}, 4, "'->' more than once");
  expect_error("i-j", {1}, 1, "'-' that is not part of '->'");
  expect_error("ij-", {2}, 2, "'-' that is not part of '->'");
  expect_error("i>j", {1}, 1, "'>' that is not part of '->'");
  expect_error("i- >i", {1}, 1, "'-' that is not part of '->'");
}

TEST(EinsumSubscriptsErrors, LeftmostLexicalErrorWins) {
  // The lexical error in operand 1 is reported before operand 0's rank error.
  expect_error("ijk,j$", {2, 1}, 5, "invalid subscript '$'");
}

}  // namespace
}  // namespace einc::frontend
