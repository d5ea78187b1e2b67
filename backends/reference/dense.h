// backends/reference/dense.h — dense values over index variables, and the
// one loop the reference interpreter uses for everything.
//
// A Dense<T> holds a value for every point of the product space of its
// indices (sorted index ids, row-major). for_each_point walks a product
// space keeping one linear offset per operand (stride 0 where an operand
// does not vary with an index), which expresses broadcasting, reductions,
// diagonals and pairwise contractions alike. Simple and obviously correct.
//
// Every loop of the interpreter ticks a CancelPoll once per point, so a
// cancelled run (runtime/cancel.h) stops within a few ten thousand points.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "runtime/cancel.h"

namespace einc::reference {

// Checks the run's cancel flag once every kPointsPerPoll ticks (a counter
// in the loop, a thread-local read only now and then).
class CancelPoll {
 public:
  void tick() {
    if (--left_ > 0) return;
    left_ = kPointsPerPoll;
    runtime::poll_cancel();
  }

 private:
  static constexpr std::int64_t kPointsPerPoll = std::int64_t{1} << 15;
  std::int64_t left_ = kPointsPerPoll;
};

template <typename T>
struct Dense {
  std::vector<int> indices;           // sorted index ids
  std::vector<std::int64_t> extents;  // parallel to indices
  std::vector<T> data;

  std::int64_t size() const { return static_cast<std::int64_t>(data.size()); }
  // Row-major stride of each index of `space` in this value (0 if absent).
  std::vector<std::int64_t> strides_in(const std::vector<int>& space) const {
    std::vector<std::int64_t> own(indices.size(), 1);
    for (std::size_t d = indices.size(); d-- > 1;) own[d - 1] = own[d] * extents[d];
    std::vector<std::int64_t> out(space.size(), 0);
    for (std::size_t s = 0; s < space.size(); ++s) {
      auto it = std::find(indices.begin(), indices.end(), space[s]);
      if (it != indices.end()) out[s] = own[it - indices.begin()];
    }
    return out;
  }
};

// Calls f(offsets) at every point of the space; offsets[k] is the linear
// offset of the point in operand k (sum of index * strides[k][d]).
template <std::size_t K, typename F>
void for_each_point(const std::vector<std::int64_t>& extents, const std::array<std::vector<std::int64_t>, K>& strides,
                    F&& f) {
  for (std::int64_t e : extents)
    if (e == 0) return;
  std::size_t rank = extents.size();
  std::vector<std::int64_t> index(rank, 0);
  std::array<std::int64_t, K> offsets{};
  CancelPoll poll;
  while (true) {
    f(offsets);
    poll.tick();
    std::size_t d = rank;
    while (d > 0) {
      --d;
      for (std::size_t k = 0; k < K; ++k) offsets[k] += strides[k][d];
      if (++index[d] < extents[d]) break;
      for (std::size_t k = 0; k < K; ++k) offsets[k] -= strides[k][d] * extents[d];
      index[d] = 0;
      if (d == 0) return;
    }
    if (rank == 0) return;
  }
}

}  // namespace einc::reference
