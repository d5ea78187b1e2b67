// backends/cpu/gathered_lookups.cpp — see gathered_lookups.h.
#include "backends/cpu/gathered_lookups.h"

#include <algorithm>
#include <cstring>

#include "backends/reference/interpreter.h"
#include "ir/expr_builders.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

Tensor gather_access(const AccessCopy& copy, const ir::Program& program, const ir::Statement& statement,
                     const std::vector<Tensor>& tensors, int threads) {
  const std::vector<std::int64_t> extents = ir::index_extents(program, statement);
  const ir::Expr& a = *copy.access;
  const Tensor& source = tensors.at(static_cast<std::size_t>(a.tensor));
  Tensor out = Tensor::empty(source.dtype(), copy.shape);
  const auto size = static_cast<std::int64_t>(dtype_size(source.dtype()));
  const std::size_t rank = a.free.size();
  if (out.numel() == 0) return out;
  // The innermost index is copied as a row when no lookup reads it.
  const int inner = rank ? a.free.back() : -1;
  bool row_copy = rank > 0;
  for (const ir::Subscript& s : a.subscripts)
    if (s.is_lookup())
      for (int index : ir::subscript_indices(s.lookup_subscripts)) row_copy &= index != inner;
  const std::int64_t row_length = row_copy ? extents[static_cast<std::size_t>(inner)] : 1;
  const std::int64_t inner_stride = row_copy ? ir::access_stride(source.strides(), a.subscripts, inner) : 0;
  const std::int64_t rows = out.numel() / row_length;
  const auto* from = static_cast<const char*>(source.data());
  auto* to = static_cast<char*>(out.data());
  std::vector<std::int64_t> offsets;
  for (const ir::Subscript& s : a.subscripts) offsets.push_back(program.evaluate(s.offset));
  runtime::parallel_for(rows, out.numel() >= (1 << 16) ? threads : 1, [&](std::int64_t row) {
    std::vector<std::int64_t> at(statement.indices.size(), 0);
    for (std::size_t f = row_copy ? rank - 1 : rank, rest = static_cast<std::size_t>(row); f-- > 0;) {
      const auto e = static_cast<std::size_t>(extents[static_cast<std::size_t>(a.free[f])]);
      at[static_cast<std::size_t>(a.free[f])] = static_cast<std::int64_t>(rest % e);
      rest /= e;
    }
    std::int64_t element = 0;
    for (std::size_t d = 0; d < a.subscripts.size(); ++d) {
      const ir::Subscript& s = a.subscripts[d];
      const std::int64_t p = s.is_lookup() ? reference::read_lookup_id(program, statement, a, d, tensors, at)
                                           : ir::position_at(s, offsets[d], at);
      element += p * source.strides()[d];
    }
    char* dst = to + row * row_length * size;
    if (inner_stride == 1) {
      std::memcpy(dst, from + element * size, static_cast<std::size_t>(row_length * size));
      return;
    }
    for (std::int64_t k = 0; k < row_length; ++k)
      std::memcpy(dst + k * size, from + (element + k * inner_stride) * size, static_cast<std::size_t>(size));
  });
  return out;
}

}  // namespace einc::cpu
