// ir/tensor_uses.h — where each tensor is last read and last written, and
// which intermediates a runner may free after each statement.
//
// Why one place: the executor and the CUDA backend both free an
// intermediate once no later statement uses it, and sema names the implicit
// outputs (tensors no statement reads after their last write); all three
// read these tables instead of each scanning the statements.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "ir/program.h"

namespace einc::ir {

struct TensorUses {
  std::vector<int> last_read;   // by tensor id: the last statement that reads it, -1: none
  std::vector<int> last_write;  // by tensor id: the last statement that assigns it, -1: none

  // The last statement that reads or writes `tensor` (-1: none).
  int last_use(int tensor) const {
    return std::max(last_read.at(static_cast<std::size_t>(tensor)), last_write.at(static_cast<std::size_t>(tensor)));
  }
};

TensorUses tensor_uses(const Program& program);

// By statement index: the intermediates (neither inputs, params nor
// outputs) that no later statement reads or writes, in ascending id order:
// what a runner may release once that statement has run.
std::vector<std::vector<int>> releasable_after(const Program& program);

// By tensor id: the smallest extent the tensor's values index where a
// lookup reads it (`wte[ids[t], d]`: ids -> wte's first extent), nullopt
// for tensors no lookup reads. Unbound extents are skipped (throws nothing).
// random_inputs draws such tensors' values inside that range.
std::vector<std::optional<std::int64_t>> lookup_ranges(const Program& program);

}  // namespace einc::ir
