// ir/subscript.h — one position of a tensor access: an affine form of the
// statement's indices.
//
// `A[i, k]` has two positions that are each one index; `I[2*h + r - 1, 0]`
// has a position 2·h + 1·r + (−1) and a literal position 0. Every position
// is Σ coeff·index + offset with integer coefficients and an offset that is
// an integer polynomial in the dims (`d + D`), so an access is always a
// strided view of its tensor: the stride of an index is the sum over the
// positions of position stride × coefficient, and the view starts at the
// sum of position stride × offset (access_stride, access_offset). The
// backends read accesses only through these two, and so run affine and
// literal positions on the same paths as plain indices. What may go out of
// bounds is decided by sema (docs/language.md, "Index expressions").
//
// A position may instead be read from an integer tensor, a lookup
// (`wte[ids[t], d]`): then it has no terms and no offset, and `lookup`
// names the tensor read at `lookup_subscripts`. Such an access is not a
// strided view (has_lookup): a backend gathers it or says it cannot.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/poly.h"

namespace einc::ir {

struct AffineTerm {
  int index = -1;
  std::int64_t coeff = 1;  // never 0
  bool operator==(const AffineTerm& o) const { return index == o.index && coeff == o.coeff; }
};

struct Subscript {
  std::vector<AffineTerm> terms;             // sorted by index, each index once
  Poly offset;                               // the constant part, in the dims
  int lookup = -1;                           // a lookup: the integer tensor the position is read from
  std::vector<Subscript> lookup_subscripts;  // a lookup: where it is read (no lookups inside)

  static Subscript of_index(int index) { return Subscript{{AffineTerm{index, 1}}, Poly()}; }
  static Subscript literal(std::int64_t value) { return Subscript{{}, Poly::constant(value)}; }
  // The index when the position is exactly one index (`i`), else nullopt.
  std::optional<int> as_index() const;
  // The coefficient of `index` (0 when it does not occur).
  std::int64_t coeff(int index) const;
  bool is_lookup() const { return lookup >= 0; }
  bool operator==(const Subscript& o) const {
    return terms == o.terms && offset == o.offset && lookup == o.lookup && lookup_subscripts == o.lookup_subscripts;
  }
  bool operator!=(const Subscript& o) const { return !(*this == o); }
};

// The value of an affine position at index values `at` (by index id);
// `offset` is the value of s.offset (evaluated once by the caller).
inline std::int64_t position_at(const Subscript& s, std::int64_t offset, const std::vector<std::int64_t>& at) {
  for (const AffineTerm& t : s.terms) offset += t.coeff * at[static_cast<std::size_t>(t.index)];
  return offset;
}

// Whether any position is a lookup.
bool has_lookup(const std::vector<Subscript>& subscripts);
// The indices of the positions (lookups' included), sorted, each once.
std::vector<int> subscript_indices(const std::vector<Subscript>& subscripts);

// A text that is equal for two accesses exactly when their subscripts are
// (for deduplicating loads).
std::string subscripts_key(const std::vector<Subscript>& subscripts);

// The stride of `index` in an access of a tensor with `strides`: the sum over
// positions of stride × coefficient (overflow: OverflowError). Lookup
// positions contribute nothing: their part of the address is data.
std::int64_t access_stride(const std::vector<std::int64_t>& strides, const std::vector<Subscript>& subscripts,
                           int index);
// The same for positions that are one index each (a statement's lhs).
std::int64_t index_stride(const std::vector<std::int64_t>& strides, const std::vector<int>& indices, int index);
// The element where the view starts: the sum over positions of stride ×
// offset, each offset evaluated by `evaluate` (a Program's; OverflowError).
std::int64_t access_offset(const std::vector<std::int64_t>& strides, const std::vector<Subscript>& subscripts,
                           const std::function<std::int64_t(const Poly&)>& evaluate);

}  // namespace einc::ir
