// frontend/einsum_subscripts.h — parses a numpy.einsum subscripts string.
//
// `C = einsum("ij,jk->ik", A, B)` has exactly numpy.einsum's meaning
// (docs/language.md, "The einsum form"). This module is the pure, string-level
// half of that: given the subscripts and the rank of each operand, it says
// which label (or which broadcast dimension) every operand dimension and
// every output dimension stands for, following numpy's C parser
// (numpy/core/src/multiarray/einsum.c.src) rule for rule, and rejects what
// numpy rejects. Extents, and numpy's broadcasting of an extent of 1, are the
// caller's job. Errors are returned as values with the 0-based byte offset of
// the offending character so the caller can point a caret at it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace einc::frontend {

// One dimension of an operand or of the output: either a letter label
// (a-z, A-Z) or the k-th broadcast (ellipsis) dimension. Exactly one is set.
struct EinsumDim {
  char label = 0;         // the letter, or 0 for a broadcast dimension
  int ellipsis_dim = -1;  // 0 .. ellipsis_rank-1, or -1 for a label

  bool is_ellipsis() const { return ellipsis_dim >= 0; }
  friend bool operator==(const EinsumDim&, const EinsumDim&) = default;
};

struct EinsumSubscripts {
  std::vector<std::vector<EinsumDim>> operands;  // one entry per operand dimension, in order
  std::vector<EinsumDim> output;                 // the output's dimensions, in order
  int ellipsis_rank = 0;                         // number of broadcast dims (max over operands)
  bool explicit_output = false;                  // "->" present
};

struct EinsumError {
  int offset = 0;  // 0-based byte offset into the subscripts string
  std::string message;
};

// Parses `spec` for operands of the given ranks (one rank per operand).
//
// Broadcast dimensions are right-aligned as in numpy: ellipsis_rank is the
// largest number of dimensions any operand's "..." covers, and an operand
// whose "..." covers r dimensions gets ellipsis dims ellipsis_rank-r ..
// ellipsis_rank-1. Implicit output (no "->"): the ellipsis dims, then each
// label used exactly once over all operands, in ASCII order.
//
// Error offsets: the offending character where there is one; for a term with
// too few subscripts and no "...", the term's first non-space character; for
// an output without "..." while broadcast dims exist, the output term's first
// non-space character (or the '-' of "->" when the output term is blank). An
// offset is always inside the string when the string is non-empty, and 0
// when it is empty.
std::variant<EinsumSubscripts, EinsumError> parse_einsum_subscripts(std::string_view spec,
                                                                    const std::vector<std::size_t>& operand_ranks);

}  // namespace einc::frontend
