// backends/cpu/gett_mask.cpp — see gett_mask.h.
#include "backends/cpu/gett_mask.h"

#include <algorithm>

#include "einc/internal_error.h"

namespace einc::cpu {

namespace {

// The index's value at each linear position of `dims` (mixed radix, last
// fastest, as the driver's offset tables).
std::vector<std::int64_t> value_table(const std::vector<ir::GettDimSpec>& dims, int index) {
  std::vector<std::int64_t> table{0};
  for (const ir::GettDimSpec& d : dims) {
    std::vector<std::int64_t> next;
    next.reserve(table.size() * static_cast<std::size_t>(d.extent));
    for (std::int64_t base : table)
      for (std::int64_t i = 0; i < d.extent; ++i) next.push_back(d.index == index ? i : base);
    table = std::move(next);
  }
  return table;
}

bool holds_index(const std::vector<ir::GettDimSpec>& dims, int index) {
  return std::any_of(dims.begin(), dims.end(), [&](const ir::GettDimSpec& d) { return d.index == index; });
}

// Whether `a op b` holds for every, no or some a in [a0, a1], b in [b0, b1].
MaskClass compare_intervals(ir::CompareOp op, std::int64_t a0, std::int64_t a1, std::int64_t b0, std::int64_t b1) {
  auto cls = [](bool all, bool none) {
    return all ? MaskClass::everywhere : none ? MaskClass::nowhere : MaskClass::partly;
  };
  const bool single = a0 == a1 && b0 == b1 && a0 == b0, apart = a1 < b0 || b1 < a0;
  switch (op) {
    case ir::CompareOp::lt:
      return cls(a1 < b0, a0 >= b1);
    case ir::CompareOp::le:
      return cls(a1 <= b0, a0 > b1);
    case ir::CompareOp::gt:
      return cls(a0 > b1, a1 <= b0);
    case ir::CompareOp::ge:
      return cls(a0 >= b1, a1 < b0);
    case ir::CompareOp::eq:
      return cls(single, apart);
    case ir::CompareOp::ne:
      return cls(apart, single);
  }
  return MaskClass::partly;
}

}  // namespace

bool GettMaskTables::Side::bounds(const MaskBox& box, std::int64_t& lo, std::int64_t& hi) const {
  std::int64_t first = box.batch, last = box.batch + 1;
  if (group == Group::m) first = box.m0, last = box.m1;
  if (group == Group::n) first = box.n0, last = box.n1;
  if (group == Group::k) first = box.k0, last = box.k1;
  if (last <= first) return false;
  if (rising) {
    lo = values[static_cast<std::size_t>(first)];
    hi = values[static_cast<std::size_t>(last - 1)];
    return true;
  }
  const auto begin = values.begin() + first, end = values.begin() + last;
  const auto [min, max] = std::minmax_element(begin, end);
  lo = *min;
  hi = *max;
  return true;
}

GettMaskTables::Side GettMaskTables::side(int index, const std::vector<ir::GettDimSpec>& batch,
                                          const std::vector<ir::GettDimSpec>& m, const std::vector<ir::GettDimSpec>& n,
                                          const std::vector<ir::GettDimSpec>& k) const {
  Side s;
  const std::vector<ir::GettDimSpec>* dims = nullptr;
  if (holds_index(batch, index)) s.group = Group::batch, dims = &batch;
  if (holds_index(m, index)) s.group = Group::m, dims = &m;
  if (holds_index(n, index)) s.group = Group::n, dims = &n;
  if (holds_index(k, index)) s.group = Group::k, dims = &k;
  if (!dims) EINC_FAIL("cpu GETT: a mask's index is in none of the kernel's groups");
  s.values = value_table(*dims, index);
  s.rising = std::is_sorted(s.values.begin(), s.values.end());
  s.consecutive = !s.values.empty();
  for (std::size_t p = 1; p < s.values.size() && s.consecutive; ++p) s.consecutive = s.values[p] == s.values[p - 1] + 1;
  return s;
}

GettMaskTables::GettMaskTables(const GettMaskCall& mask, const std::vector<ir::GettDimSpec>& batch,
                               const std::vector<ir::GettDimSpec>& m, const std::vector<ir::GettDimSpec>& n,
                               const std::vector<ir::GettDimSpec>& k)
    : mask_(mask), lhs_(side(mask.lhs, batch, m, n, k)), rhs_(side(mask.rhs, batch, m, n, k)) {}

int GettMaskTables::k_cuts(const MaskBox& box, std::int64_t cuts[6]) const {
  const Side* along = side_in(Group::k);
  const Side* other = along == &lhs_ ? &rhs_ : &lhs_;
  std::int64_t lo = 0, hi = 0;
  if (!along || !along->rising || other->group == Group::k || !other->bounds(box, lo, hi)) return 0;
  int count = 0;
  cuts[count++] = box.k0;
  for (std::int64_t w : {lo, hi}) {
    cuts[count++] = along->lower_bound(box.k0, box.k1, w);
    cuts[count++] = along->upper_bound(box.k0, box.k1, w);
  }
  cuts[count++] = box.k1;
  std::sort(cuts, cuts + count);
  return static_cast<int>(std::unique(cuts, cuts + count) - cuts);
}

MaskClass GettMaskTables::classify(const MaskBox& box) const {
  std::int64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  if (!lhs_.bounds(box, a0, a1) || !rhs_.bounds(box, b0, b1)) return MaskClass::nowhere;  // an empty range
  return compare_intervals(mask_.op, a0, a1, b0, b1);
}

}  // namespace einc::cpu
