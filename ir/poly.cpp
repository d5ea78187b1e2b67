// ir/poly.cpp — checked polynomial arithmetic, evaluation and printing.
#include "ir/poly.h"

#include <algorithm>

#include "ir/checked_math.h"

namespace einc::ir {

Poly Poly::constant(std::int64_t value) {
  Poly p;
  if (value != 0) p.terms_[{}] = value;
  return p;
}

Poly Poly::dim(int id) {
  Poly p;
  p.terms_[{id}] = 1;
  return p;
}

Poly Poly::operator+(const Poly& other) const {
  Poly sum = *this;
  for (const auto& [mono, coeff] : other.terms_) {
    std::int64_t c = checked_add(sum.terms_[mono], coeff);
    if (c == 0)
      sum.terms_.erase(mono);
    else
      sum.terms_[mono] = c;
  }
  return sum;
}

Poly Poly::operator-(const Poly& other) const { return *this + other * constant(-1); }

Poly Poly::operator*(const Poly& other) const {
  Poly product;
  for (const auto& [ma, ca] : terms_) {
    for (const auto& [mb, cb] : other.terms_) {
      Monomial m;
      m.reserve(ma.size() + mb.size());
      std::merge(ma.begin(), ma.end(), mb.begin(), mb.end(), std::back_inserter(m));
      product += Poly::from_term(std::move(m), checked_mul(ca, cb));
    }
  }
  return product;
}

Poly Poly::from_term(Monomial mono, std::int64_t coeff) {
  Poly p;
  if (coeff != 0) p.terms_[std::move(mono)] = coeff;
  return p;
}

std::optional<std::int64_t> Poly::as_constant() const {
  if (terms_.empty()) return 0;
  if (terms_.size() == 1 && terms_.begin()->first.empty()) return terms_.begin()->second;
  return std::nullopt;
}

std::vector<int> Poly::dims_used() const {
  std::vector<int> ids;
  for (const auto& term : terms_) ids.insert(ids.end(), term.first.begin(), term.first.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::optional<int> Poly::as_single_dim() const {
  if (terms_.size() == 1 && terms_.begin()->first.size() == 1 && terms_.begin()->second == 1)
    return terms_.begin()->first[0];
  return std::nullopt;
}

std::int64_t Poly::evaluate(const std::function<std::optional<std::int64_t>(int)>& value_of) const {
  std::int64_t total = 0;
  for (const auto& [mono, coeff] : terms_) {
    std::int64_t term = coeff;
    for (int id : mono) {
      std::optional<std::int64_t> v = value_of(id);
      if (!v) throw UnboundDimError(id);
      term = checked_mul(term, *v);
    }
    total = checked_add(total, term);
  }
  return total;
}

std::string Poly::str(const std::function<std::string(int)>& name_of) const {
  if (terms_.empty()) return "0";
  std::vector<std::pair<Monomial, std::int64_t>> ordered(terms_.begin(), terms_.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  std::string out;
  for (std::size_t t = 0; t < ordered.size(); ++t) {
    const auto& [mono, coeff] = ordered[t];
    std::int64_t magnitude = coeff;
    if (t > 0) {
      out += coeff < 0 ? " - " : " + ";
      if (coeff < 0 && coeff != INT64_MIN) magnitude = -coeff;
    }
    std::string factors;
    for (int id : mono) factors += (factors.empty() ? "" : "*") + name_of(id);
    if (mono.empty())
      out += std::to_string(magnitude);
    else if (magnitude == 1)
      out += factors;
    else if (magnitude == -1)
      out += "-" + factors;
    else
      out += std::to_string(magnitude) + "*" + factors;
  }
  return out;
}

}  // namespace einc::ir
