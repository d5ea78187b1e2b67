// backends/cpu/padded_copies.cpp — see padded_copies.h.
#include "backends/cpu/padded_copies.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

#include "backends/reference/interpreter.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

void plan_padded_copy(const ir::Program& program, const std::vector<std::int64_t>& extents, const ir::Expr& access,
                      AccessCopy& copy, std::vector<ir::Subscript>& subscripts) {
  const std::vector<std::int64_t> shape = ir::evaluated_shape(program, access.tensor);
  bool empty = false;
  for (int index : access.free) empty |= extents[static_cast<std::size_t>(index)] == 0;
  subscripts = access.subscripts;
  for (std::size_t d = 0; d < subscripts.size(); ++d) {
    // The lowest and highest position the access reaches in this dim.
    std::int64_t low = program.evaluate(subscripts[d].offset), high = low;
    for (const ir::AffineTerm& t : subscripts[d].terms) {
      const std::int64_t reach = t.coeff * (extents[static_cast<std::size_t>(t.index)] - 1);
      (reach < 0 ? low : high) += reach;
    }
    if (empty) low = 0, high = 0;
    copy.low.push_back(std::max<std::int64_t>(0, -low));
    copy.shape.push_back(copy.low.back() + std::max(shape[d], high + 1));
    subscripts[d].offset = subscripts[d].offset + ir::Poly::constant(copy.low.back());
  }
}

Tensor make_padded_copy(const AccessCopy& c, const Tensor& source, const std::string& name, int threads) {
  Tensor copy;
  try {
    copy = Tensor::empty(source.dtype(), c.shape);
  } catch (const std::bad_alloc&) {
    throw reference::ExecutionError("the zero-padded copy of '" + name +
                                    "' that padded(...) reads does not fit in memory");
  } catch (const std::length_error&) {
    throw reference::ExecutionError("the zero-padded copy of '" + name + "' that padded(...) reads is too large");
  }
  const std::size_t rank = c.shape.size();
  if (copy.numel() == 0) return copy;  // (rank >= 1: a padded access has a position)
  const auto size = static_cast<std::int64_t>(dtype_size(source.dtype()));
  // One task per row (every dim but the last) of the copy, which writes all
  // of it: zeros where the row lies in the margin, else the low margin's
  // zeros, the source row, the high margin's zeros. (The whole copy zeroed
  // first, then the rows copied in, was a serial memset: ~2 % of a 3x3
  // convolution, perf.)
  const std::int64_t row_length = c.shape[rank - 1], rows = copy.numel() / row_length;
  const std::int64_t source_length = source.shape()[rank - 1], low = c.low[rank - 1];
  const bool source_empty = source.numel() == 0;
  const auto* from = static_cast<const char*>(source.data());
  auto* to = static_cast<char*>(copy.data());
  runtime::parallel_for(rows, copy.numel() >= (1 << 16) ? threads : 1, [&](std::int64_t row) {
    char* out = to + row * row_length * size;  // the copy is contiguous
    std::int64_t in = 0;
    bool margin = source_empty;
    for (std::size_t d = rank - 1, rest = static_cast<std::size_t>(row); d-- > 0 && !margin;) {
      const auto extent = static_cast<std::size_t>(c.shape[d]);
      const auto i = static_cast<std::int64_t>(rest % extent) - c.low[d];
      rest /= extent;
      margin = i < 0 || i >= source.shape()[d];
      in += i * source.strides()[d];
    }
    if (margin) {
      std::memset(out, 0, static_cast<std::size_t>(row_length * size));
      return;
    }
    std::memset(out, 0, static_cast<std::size_t>(low * size));
    const std::int64_t step = source.strides()[rank - 1];
    if (step == 1) {
      std::memcpy(out + low * size, from + in * size, static_cast<std::size_t>(source_length * size));
    } else {
      for (std::int64_t k = 0; k < source_length; ++k)
        std::memcpy(out + (low + k) * size, from + (in + k * step) * size, static_cast<std::size_t>(size));
    }
    std::memset(out + (low + source_length) * size, 0,
                static_cast<std::size_t>((row_length - low - source_length) * size));
  });
  return copy;
}

}  // namespace einc::cpu
