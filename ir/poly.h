// ir/poly.h — polynomials in the dims with rational coefficients, for
// extents and counts.
//
// Extents (`T`, `D*2`) and every count of the cost model (`2*T*D*F + T*F`,
// `(T*T + T)/2` for a masked sum) are kept as polynomials over dim ids, so a
// report can print the formula and evaluate it for any binding of the dims.
//
// Coefficients are exact rationals: each term holds a 128-bit integer
// numerator and the whole Poly one common positive denominator, kept in
// lowest terms (the gcd of every numerator and the denominator is 1; the
// zero Poly and every integral Poly have denominator 1), so two equal
// polynomials have equal representations and `==` compares them exactly.
// Arithmetic is checked: a numerator or denominator that would leave the
// signed 128-bit range throws OverflowError(128).
//
// Evaluation needs every dim it mentions to have a value (UnboundDimError)
// and computes exactly: `evaluate_count` gives the 128-bit value of a count
// (OverflowError(128) past it), `evaluate` the int64 value of an extent
// (OverflowError(64) past it; intermediate products may exceed int64 as long
// as the value fits). A Poly with a denominator evaluates to an integer when
// its exact value is one; a value that is not an integer is a bug in whoever
// built the Poly (counts are integers) and throws einc::InternalError.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/checked_math.h"

namespace einc::ir {

// Raised by Poly::evaluate when a dim it needs has no value.
class UnboundDimError : public std::runtime_error {
 public:
  explicit UnboundDimError(int dim) : std::runtime_error("unbound dim"), dim(dim) {}
  int dim;
};

class Poly {
 public:
  using Monomial = std::vector<int>;  // sorted dim ids, repeated for powers
  using ValueOf = std::function<std::optional<std::int64_t>(int)>;

  Poly() = default;
  static Poly constant(std::int64_t value);
  static Poly dim(int id);

  Poly operator+(const Poly& other) const;
  Poly operator-(const Poly& other) const;
  Poly operator*(const Poly& other) const;
  Poly& operator+=(const Poly& other) { return *this = *this + other; }
  Poly& operator*=(const Poly& other) { return *this = *this * other; }
  bool operator==(const Poly& other) const { return den_ == other.den_ && terms_ == other.terms_; }
  bool operator!=(const Poly& other) const { return !(*this == other); }

  // Exact rational division: (T*T + T).divided_by(2) is T*T/2 + T/2.
  // Throws std::invalid_argument unless divisor > 0.
  Poly divided_by(std::int64_t divisor) const;

  bool is_zero() const { return terms_.empty(); }
  // Every coefficient is an integer (the denominator is 1).
  bool is_integral() const { return den_ == 1; }
  // The value of a constant polynomial as int64; nullopt when it mentions a
  // dim, when the constant is not an integer (1/2), or when it leaves int64.
  std::optional<std::int64_t> as_constant() const;
  // The ids of the dims it uses, sorted, each once.
  std::vector<int> dims_used() const;
  // The dim id if this polynomial is exactly one dim (`T`), else nullopt.
  std::optional<int> as_single_dim() const;
  // Value with every dim replaced by value_of(id) (nullopt: unbound), as an
  // extent: OverflowError(64) when the value leaves int64.
  std::int64_t evaluate(const ValueOf& value_of) const;
  // The same as a count: OverflowError(128) only when the value leaves the
  // signed 128-bit range.
  Int128 evaluate_count(const ValueOf& value_of) const;
  // `2*T*D*F + T*F`; dims printed by name, highest degree first. With a
  // denominator the numerator is printed the same way and divided once:
  // `T*T/2` for one term, `(T*T + T)/2` for several.
  std::string str(const std::function<std::string(int)>& name_of) const;

 private:
  static Poly from_term(Monomial mono, Int128 numerator);
  // Restores lowest terms after an operation (and drops zero terms).
  void normalize();
  std::map<Monomial, Int128> terms_;  // numerators; no zero entries
  Int128 den_ = 1;                    // > 0
};

}  // namespace einc::ir
