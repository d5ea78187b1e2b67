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
  float fill = 0.0f;       // select: C where the condition fails
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
  // box.k1) in order, each with one class over the box's other ranges (a
  // `partly` run is at most a few positions, where the class changes).
  // Bisects, so a K side whose values rise with the position (the compared
  // index outermost in K, or alone) costs a few classifications per change.
  template <typename Run>
  void for_each_k_run(const MaskBox& box, Run run) const {
    std::int64_t start = box.k0;
    MaskClass current = MaskClass::nowhere;
    auto emit = [&](MaskClass cls, std::int64_t k0, std::int64_t k1) {
      if (k0 > start && cls != current) {
        run(current, start, k0);
        start = k0;
      }
      current = cls;
      (void)k1;
    };
    bisect(box, box.k0, box.k1, emit);
    if (box.k1 > box.k0) run(current, start, box.k1);
  }
  const GettMaskCall& mask() const { return mask_; }
  // Whether the condition's value changes along M (one index is in M).
  bool varies_along_m() const { return lhs_.group == Group::m || rhs_.group == Group::m; }

 private:
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

  enum class Group { batch, m, n, k };
  struct Side {
    Group group = Group::batch;
    std::vector<std::int64_t> values;  // the index's value at each linear position of its group
    bool rising = false;               // values never decrease: a range's bounds are its ends
    std::int64_t at(std::int64_t b, std::int64_t m, std::int64_t n, std::int64_t k) const {
      const std::int64_t p = group == Group::batch ? b : group == Group::m ? m : group == Group::n ? n : k;
      return values[static_cast<std::size_t>(p)];
    }
    // The values over the box's range of this side's group; false if that range is empty.
    bool bounds(const MaskBox& box, std::int64_t& lo, std::int64_t& hi) const;
  };
  Side side(int index, const std::vector<ir::GettDimSpec>& batch, const std::vector<ir::GettDimSpec>& m,
            const std::vector<ir::GettDimSpec>& n, const std::vector<ir::GettDimSpec>& k) const;

  GettMaskCall mask_;
  Side lhs_, rhs_;
};

}  // namespace einc::cpu
