// ir/poly.h — integer polynomials in the dims, for extents and counts.
//
// Extents (`T`, `D*2`) and every count of the cost model (`2*T*D*F + T*F`)
// are kept as polynomials over dim ids with int64 coefficients, so a report
// can print the formula and evaluate it for any binding of the dims.
// Arithmetic on coefficients is checked (OverflowError); evaluation is
// checked too and needs every dim it mentions to have a value.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

  Poly() = default;
  static Poly constant(std::int64_t value);
  static Poly dim(int id);

  Poly operator+(const Poly& other) const;
  Poly operator-(const Poly& other) const;
  Poly operator*(const Poly& other) const;
  Poly& operator+=(const Poly& other) { return *this = *this + other; }
  Poly& operator*=(const Poly& other) { return *this = *this * other; }
  bool operator==(const Poly& other) const { return terms_ == other.terms_; }
  bool operator!=(const Poly& other) const { return !(*this == other); }

  bool is_zero() const { return terms_.empty(); }
  std::optional<std::int64_t> as_constant() const;
  // The ids of the dims it uses, sorted, each once.
  std::vector<int> dims_used() const;
  // The dim id if this polynomial is exactly one dim (`T`), else nullopt.
  std::optional<int> as_single_dim() const;
  // Value with every dim replaced by value_of(id) (nullopt: unbound).
  std::int64_t evaluate(const std::function<std::optional<std::int64_t>(int)>& value_of) const;
  // `2*T*D*F + T*F`; dims printed by name, highest degree first.
  std::string str(const std::function<std::string(int)>& name_of) const;

 private:
  static Poly from_term(Monomial mono, std::int64_t coeff);
  std::map<Monomial, std::int64_t> terms_;  // no zero coefficients
};

}  // namespace einc::ir
