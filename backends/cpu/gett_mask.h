// backends/cpu/gett_mask.h — where a masked GETT's condition holds, by
// blocks: what lets the driver skip the work outside a causal mask.
//
// A mask (ir::GettMask) compares two of the GETT's indices. Each lives in
// one group (batch, M, N or K), so its value at a linear position of that
// group is a digit of the position (a value table, built like the driver's
// offset tables). Over a box of positions — a batch element, a range of
// rows, of columns and of K — each side takes values in [lo, hi], and the
// comparison of two intervals says whether the condition holds everywhere
// in the box, nowhere, or in part (classify). The driver asks at three
// levels: a packed block (skip its packing), a micro-tile (skip it), and,
// for a masked sum, each run of K positions within a tile (the micro-kernel
// on the runs where it holds for every element of the tile, an exact
// element-by-element loop on the few positions where it holds for some).
// Every answer depends on the box alone, never on the threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ir/condition.h"
#include "ir/gett_lowering.h"

namespace einc::cpu {

// The mask as a GETT call carries it: the comparison of two index ids of
// the call's groups, and the value a select writes where it fails.
struct GettMaskCall {
  ir::CompareOp op = ir::CompareOp::le;
  int lhs = -1, rhs = -1;  // index ids
  bool on_sum = false;     // a masked sum (one index in K), else a select on C
  double fill = 0.0;       // select: C where the condition fails (rounded once to the GETT's dtype)
  bool write_fill = true;  // select: false when no one reads the fill from memory (StatementPlan::fill_unread)
};

enum class MaskClass { nowhere, everywhere, partly };

// Linear positions [first, last) of each group; batch is one element. Only
// the ranges of the groups that hold the two indices are read.
struct MaskBox {
  std::int64_t batch = 0, m0 = 0, m1 = 0, n0 = 0, n1 = 0, k0 = 0, k1 = 0;
};

class GettMaskTables {
 public:
  // `batch`, `m`, `n`, `k`: the call's groups (GettDimSpec lists).
  GettMaskTables(const GettMaskCall& mask, const std::vector<ir::GettDimSpec>& batch,
                 const std::vector<ir::GettDimSpec>& m, const std::vector<ir::GettDimSpec>& n,
                 const std::vector<ir::GettDimSpec>& k);

  MaskClass classify(const MaskBox& box) const;
  bool holds(std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k) const {
    return ir::compare(mask_.op, lhs_.at(batch, m, n, k), rhs_.at(batch, m, n, k));
  }
  // Calls run(cls, k0, k1) for runs of K positions covering [box.k0,
  // box.k1) in order, each with one class over the box's other ranges.
  // Where the K side's values rise with the position (the compared index
  // alone in K, or outermost) and the other side is not in K, the class can
  // change only where the K values cross the other side's bounds over the
  // box: a handful of classifications (k_cuts). Otherwise by bisection
  // (`partly` runs of at most a few positions).
  template <typename Run>
  void for_each_k_run(const MaskBox& box, Run run) const {
    std::int64_t start = box.k0;
    MaskClass current = MaskClass::nowhere;
    auto emit = [&](MaskClass cls, std::int64_t k0, std::int64_t) {
      if (k0 > start && cls != current) {
        run(current, start, k0);
        start = k0;
      }
      current = cls;
    };
    std::int64_t cuts[6];
    if (const int count = k_cuts(box, cuts)) {
      MaskBox part = box;
      for (int i = 0; i + 1 < count; ++i) {
        part.k0 = cuts[i];
        part.k1 = cuts[i + 1];
        if (part.k1 > part.k0) emit(classify(part), part.k0, part.k1);
      }
    } else {
      bisect(box, box.k0, box.k1, emit);
    }
    if (box.k1 > box.k0) run(current, start, box.k1);
  }

  // Calls span(first, last, holds) for consecutive spans covering rows
  // [m0, m1) of column n in batch element `batch`, the condition holding in
  // all of a span or in none (a select's causal mask: at most three spans
  // per column).
  template <typename Span>
  void for_each_m_span(std::int64_t batch, std::int64_t n, std::int64_t m0, std::int64_t m1, Span span) const {
    spans_along(Group::m, {batch, 0, 0, n, n + 1, 0, 1}, m0, m1, span);
  }

  // The same along K positions [k0, k1) at row m and column n (a masked
  // sum's diagonal run: at most three spans per row).
  template <typename Span>
  void for_each_k_span(std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k0, std::int64_t k1,
                       Span span) const {
    spans_along(Group::k, {batch, m, m + 1, n, n + 1, 0, 1}, k0, k1, span);
  }

  const GettMaskCall& mask() const { return mask_; }
  // Whether the condition's value changes along M (one index is in M).
  bool varies_along_m() const { return side_in(Group::m) != nullptr; }

 private:
  enum class Group { batch, m, n, k };

  // The spans of positions [first, last) of `group` at the point `at` (its
  // other groups' first positions), as for_each_m_span says. Where one side
  // lies in `group` with rising values and the other does not, by binary
  // search: below the first value >= w (the other side's value), the values
  // equal to w, above them. Otherwise one span per position.
  template <typename Span>
  void spans_along(Group group, MaskBox at, std::int64_t first, std::int64_t last, Span span) const {
    const Side* along = side_in(group);
    const Side* other = along == &lhs_ ? &rhs_ : &lhs_;
    if (!along || !along->rising || other->group == group) {
      for (std::int64_t p = first; p < last; ++p) {
        MaskBox one = at;
        (group == Group::m ? one.m0 : one.k0) = p;
        span(p, p + 1, holds(one.batch, one.m0, one.n0, one.k0));
      }
      return;
    }
    const ir::CompareOp op = along == &lhs_ ? mask_.op : ir::mirrored(mask_.op);  // along op w
    const std::int64_t w = other->at(at.batch, at.m0, at.n0, at.k0);
    const std::int64_t lower = along->lower_bound(first, last, w), upper = along->upper_bound(lower, last, w);
    if (first < lower) span(first, lower, ir::compare(op, 0, 1));
    if (lower < upper) span(lower, upper, ir::compare(op, 0, 0));
    if (upper < last) span(upper, last, ir::compare(op, 1, 0));
  }

  // The positions where a K run's class can change (for_each_k_run), from
  // box.k0 to box.k1 in order, in `cuts`; their count, or 0 where K is not
  // analysable so.
  int k_cuts(const MaskBox& box, std::int64_t cuts[6]) const;

  template <typename Emit>
  void bisect(MaskBox box, std::int64_t k0, std::int64_t k1, Emit& emit) const {
    box.k0 = k0;
    box.k1 = k1;
    const MaskClass cls = classify(box);
    if (cls != MaskClass::partly || k1 - k0 <= kShortestRun) {
      emit(cls, k0, k1);
      return;
    }
    const std::int64_t mid = k0 + (k1 - k0) / 2;
    bisect(box, k0, mid, emit);
    bisect(box, mid, k1, emit);
  }
  static constexpr std::int64_t kShortestRun = 4;

  struct Side {
    Group group = Group::batch;
    std::vector<std::int64_t> values;  // the index's value at each linear position of its group
    bool rising = false;               // values never decrease: a range's bounds are its ends
    bool consecutive = false;          // values[p] == values[0] + p (the index alone in its group)
    std::int64_t at(std::int64_t b, std::int64_t m, std::int64_t n, std::int64_t k) const {
      const std::int64_t p = group == Group::batch ? b : group == Group::m ? m : group == Group::n ? n : k;
      return values[static_cast<std::size_t>(p)];
    }
    // The values over the box's range of this side's group; false if that range is empty.
    bool bounds(const MaskBox& box, std::int64_t& lo, std::int64_t& hi) const;
    // (rising) The first position in [first, last) whose value is >= w
    // (lower) or > w (upper), or last: by arithmetic where consecutive.
    std::int64_t lower_bound(std::int64_t first, std::int64_t last, std::int64_t w) const {
      if (consecutive) return std::clamp(w - values.front(), first, last);
      return std::lower_bound(values.begin() + first, values.begin() + last, w) - values.begin();
    }
    std::int64_t upper_bound(std::int64_t first, std::int64_t last, std::int64_t w) const {
      if (consecutive) return std::clamp(w - values.front() + 1, first, last);
      return std::upper_bound(values.begin() + first, values.begin() + last, w) - values.begin();
    }
  };
  // The side whose index lies in `group` (the left one if both), or null.
  const Side* side_in(Group group) const { return lhs_.group == group ? &lhs_ : rhs_.group == group ? &rhs_ : nullptr; }
  Side side(int index, const std::vector<ir::GettDimSpec>& batch, const std::vector<ir::GettDimSpec>& m,
            const std::vector<ir::GettDimSpec>& n, const std::vector<ir::GettDimSpec>& k) const;

  GettMaskCall mask_;
  Side lhs_, rhs_;
};

}  // namespace einc::cpu
