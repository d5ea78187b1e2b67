// ir/poly.cpp — checked rational polynomial arithmetic, exact evaluation and
// printing.
#include "ir/poly.h"

#include <algorithm>

#include "einc/internal_error.h"

namespace einc::ir {

namespace {

UInt128 magnitude(Int128 v) { return v < 0 ? UInt128{0} - static_cast<UInt128>(v) : static_cast<UInt128>(v); }

UInt128 gcd(UInt128 a, UInt128 b) {
  while (b != 0) {
    UInt128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// Floor division and the matching remainder in [0, d), for d > 0.
Int128 floor_div(Int128 n, Int128 d) {
  Int128 q = n / d;
  return n % d < 0 ? q - 1 : q;
}
Int128 floor_mod(Int128 n, Int128 d) {
  Int128 r = n % d;
  return r < 0 ? r + d : r;
}

}  // namespace

Poly Poly::constant(std::int64_t value) { return from_term({}, value); }

Poly Poly::dim(int id) { return from_term({id}, 1); }

Poly Poly::from_term(Monomial mono, Int128 numerator) {
  Poly p;
  if (numerator != 0) p.terms_[std::move(mono)] = numerator;
  return p;
}

void Poly::normalize() {
  for (auto it = terms_.begin(); it != terms_.end();) it = it->second == 0 ? terms_.erase(it) : std::next(it);
  if (terms_.empty()) den_ = 1;
  if (den_ == 1) return;
  UInt128 g = static_cast<UInt128>(den_);
  for (const auto& term : terms_) g = gcd(g, magnitude(term.second));
  if (g == 1) return;
  const Int128 divisor = static_cast<Int128>(g);
  den_ /= divisor;
  for (auto& term : terms_) term.second /= divisor;
}

Poly Poly::operator+(const Poly& other) const {
  if (other.terms_.empty()) return *this;
  if (terms_.empty()) return other;
  // Over the least common denominator.
  const Int128 g = static_cast<Int128>(gcd(static_cast<UInt128>(den_), static_cast<UInt128>(other.den_)));
  const Int128 mine = other.den_ / g, theirs = den_ / g;
  Poly sum = *this;
  if (mine != 1) {
    for (auto& term : sum.terms_) term.second = checked_mul(term.second, mine);
    sum.den_ = checked_mul(den_, mine);
  }
  for (const auto& [mono, coeff] : other.terms_) {
    Int128& c = sum.terms_[mono];
    c = checked_add(c, theirs == 1 ? coeff : checked_mul(coeff, theirs));
  }
  sum.normalize();
  return sum;
}

Poly Poly::operator-(const Poly& other) const { return *this + other * constant(-1); }

Poly Poly::operator*(const Poly& other) const {
  Poly product;
  if (terms_.empty() || other.terms_.empty()) return product;
  for (const auto& [ma, ca] : terms_) {
    for (const auto& [mb, cb] : other.terms_) {
      Monomial m;
      m.reserve(ma.size() + mb.size());
      std::merge(ma.begin(), ma.end(), mb.begin(), mb.end(), std::back_inserter(m));
      Int128& c = product.terms_[std::move(m)];
      c = checked_add(c, checked_mul(ca, cb));
    }
  }
  product.den_ = checked_mul(den_, other.den_);
  product.normalize();
  return product;
}

Poly Poly::divided_by(std::int64_t divisor) const {
  if (divisor <= 0)
    throw std::invalid_argument("Poly::divided_by: the divisor must be positive, not " + std::to_string(divisor));
  Poly quotient = *this;
  if (divisor == 1 || terms_.empty()) return quotient;
  quotient.den_ = checked_mul(den_, Int128{divisor});
  quotient.normalize();
  return quotient;
}

std::optional<std::int64_t> Poly::as_constant() const {
  if (terms_.empty()) return 0;
  if (terms_.size() != 1 || !terms_.begin()->first.empty() || den_ != 1) return std::nullopt;
  const Int128 value = terms_.begin()->second;
  if (value < INT64_MIN || value > INT64_MAX) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

std::vector<int> Poly::dims_used() const {
  std::vector<int> ids;
  for (const auto& term : terms_) ids.insert(ids.end(), term.first.begin(), term.first.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::optional<int> Poly::as_single_dim() const {
  if (den_ == 1 && terms_.size() == 1 && terms_.begin()->first.size() == 1 && terms_.begin()->second == 1)
    return terms_.begin()->first[0];
  return std::nullopt;
}

Int128 Poly::evaluate_count(const ValueOf& value_of) const {
  // The value as whole + fraction/den_ with 0 <= fraction < den_: each term
  // num·Πv/den_ is carried as (w, r) = its floor and remainder, so no
  // intermediate grows past the term's own value (times den_ at most in r).
  Int128 whole = 0, fraction = 0;
  std::vector<std::int64_t> values;
  for (const auto& [mono, numerator] : terms_) {
    values.clear();
    bool zero = false;
    for (int id : mono) {
      std::optional<std::int64_t> v = value_of(id);
      if (!v) throw UnboundDimError(id);
      values.push_back(*v);
      zero = zero || *v == 0;
    }
    if (zero) continue;
    if (den_ == 1) {
      Int128 term = numerator;
      for (std::int64_t v : values) term = checked_mul(term, Int128{v});
      whole = checked_add(whole, term);
      continue;
    }
    Int128 w = floor_div(numerator, den_), r = floor_mod(numerator, den_);
    for (std::int64_t v : values) {
      const Int128 rv = checked_mul(r, Int128{v});
      w = checked_add(checked_mul(w, Int128{v}), floor_div(rv, den_));
      r = floor_mod(rv, den_);
    }
    whole = checked_add(whole, w);
    if (r >= den_ - fraction) {
      fraction = r - (den_ - fraction);
      whole = checked_add(whole, Int128{1});
    } else {
      fraction += r;
    }
  }
  if (fraction != 0)
    EINC_FAIL("a count's polynomial (" + str([](int id) { return "d" + std::to_string(id); }) +
              ") evaluated to a number that is not an integer (" + int128_to_string(whole) + " + " +
              int128_to_string(fraction) + "/" + int128_to_string(den_) + ")");
  return whole;
}

std::int64_t Poly::evaluate(const ValueOf& value_of) const {
  try {
    return narrow_to_int64(evaluate_count(value_of));
  } catch (const OverflowError&) {
    throw OverflowError(64);
  }
}

std::string Poly::str(const std::function<std::string(int)>& name_of) const {
  if (terms_.empty()) return "0";
  std::vector<std::pair<Monomial, Int128>> ordered(terms_.begin(), terms_.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  std::string out;
  for (std::size_t t = 0; t < ordered.size(); ++t) {
    const auto& [mono, coeff] = ordered[t];
    // The first term carries its own sign, the others print " - magnitude".
    const bool negative = coeff < 0;
    std::string digits = int128_to_string(coeff);
    if (t > 0) {
      out += negative ? " - " : " + ";
      if (negative) digits.erase(0, 1);
    }
    const bool unit = magnitude(coeff) == 1;
    std::string factors;
    for (int id : mono) factors += (factors.empty() ? "" : "*") + name_of(id);
    if (mono.empty())
      out += digits;
    else if (unit)
      out += (t == 0 && negative ? "-" : "") + factors;
    else
      out += digits + "*" + factors;
  }
  if (den_ == 1) return out;
  const std::string denominator = "/" + int128_to_string(den_);
  return terms_.size() == 1 ? out + denominator : "(" + out + ")" + denominator;
}

}  // namespace einc::ir
