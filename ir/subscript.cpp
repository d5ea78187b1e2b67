// ir/subscript.cpp — see subscript.h.
#include "ir/subscript.h"

#include <algorithm>

#include "ir/checked_math.h"

namespace einc::ir {

std::optional<int> Subscript::as_index() const {
  if (!is_lookup() && terms.size() == 1 && terms[0].coeff == 1 && offset.is_zero()) return terms[0].index;
  return std::nullopt;
}

std::int64_t Subscript::coeff(int index) const {
  for (const AffineTerm& t : terms)
    if (t.index == index) return t.coeff;
  return 0;
}

bool has_lookup(const std::vector<Subscript>& subscripts) {
  return std::any_of(subscripts.begin(), subscripts.end(), [](const Subscript& s) { return s.is_lookup(); });
}

std::vector<int> subscript_indices(const std::vector<Subscript>& subscripts) {
  std::vector<int> ids;
  for (const Subscript& s : subscripts) {
    for (const AffineTerm& t : s.terms) ids.push_back(t.index);
    for (int index : subscript_indices(s.lookup_subscripts)) ids.push_back(index);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::string subscripts_key(const std::vector<Subscript>& subscripts) {
  std::string key;
  for (const Subscript& s : subscripts) {
    for (const AffineTerm& t : s.terms) key += std::to_string(t.coeff) + "*i" + std::to_string(t.index) + "+";
    key += s.offset.str([](int dim) { return "d" + std::to_string(dim); });
    if (s.is_lookup()) key += "@t" + std::to_string(s.lookup) + "[" + subscripts_key(s.lookup_subscripts) + "]";
    key += ",";
  }
  return key;
}

std::int64_t access_stride(const std::vector<std::int64_t>& strides, const std::vector<Subscript>& subscripts,
                           int index) {
  std::int64_t stride = 0;
  for (std::size_t d = 0; d < subscripts.size(); ++d)
    if (std::int64_t c = subscripts[d].coeff(index)) stride = checked_add(stride, checked_mul(strides[d], c));
  return stride;
}

std::int64_t index_stride(const std::vector<std::int64_t>& strides, const std::vector<int>& indices, int index) {
  std::int64_t stride = 0;
  for (std::size_t d = 0; d < indices.size(); ++d)
    if (indices[d] == index) stride = checked_add(stride, strides[d]);
  return stride;
}

std::int64_t access_offset(const std::vector<std::int64_t>& strides, const std::vector<Subscript>& subscripts,
                           const std::function<std::int64_t(const Poly&)>& evaluate) {
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < subscripts.size(); ++d)
    if (!subscripts[d].offset.is_zero())
      offset = checked_add(offset, checked_mul(strides[d], evaluate(subscripts[d].offset)));
  return offset;
}

}  // namespace einc::ir
