// ir/known_fill.cpp — see known_fill.h.
#include "ir/known_fill.h"

#include <algorithm>
#include <cstddef>

namespace einc::ir {

namespace {

// The position of `index` in a target's lhs when it occurs there exactly once.
std::optional<std::size_t> position_of(const std::vector<int>& lhs, int index) {
  if (std::count(lhs.begin(), lhs.end(), index) != 1) return std::nullopt;
  return static_cast<std::size_t>(std::find(lhs.begin(), lhs.end(), index) - lhs.begin());
}

}  // namespace

std::optional<KnownFill> known_fill(const Program& program, const Statement& reader, const Expr& access) {
  if (access.kind != ExprKind::access || access.zero_padded || has_lookup(access.subscripts)) return std::nullopt;
  const Tensor& tensor = program.tensors.at(static_cast<std::size_t>(access.tensor));
  if (tensor.role != TensorRole::intermediate) return std::nullopt;
  std::ptrdiff_t writer_at = -1;
  for (std::size_t k = 0; k < program.statements.size(); ++k) {
    if (program.statements[k].target != access.tensor) continue;
    if (writer_at >= 0) return std::nullopt;  // assigned twice
    writer_at = static_cast<std::ptrdiff_t>(k);
  }
  // (Sema refuses a read before the tensor's first assignment, so a reader
  // that is not the writer runs after it.)
  if (writer_at < 0 || reader.target == access.tensor) return std::nullopt;
  const Statement& writer = program.statements[static_cast<std::size_t>(writer_at)];
  if (writer.accumulate || writer.block != reader.block) return std::nullopt;
  const Expr& value = *writer.value;
  if (value.kind != ExprKind::select || !value.args[1]->folds) return std::nullopt;
  const auto lhs_at = position_of(writer.lhs, value.condition.lhs);
  const auto rhs_at = position_of(writer.lhs, value.condition.rhs);
  if (!lhs_at || !rhs_at || *lhs_at >= access.subscripts.size() || *rhs_at >= access.subscripts.size())
    return std::nullopt;
  const std::optional<int> a = access.subscripts[*lhs_at].as_index();
  const std::optional<int> b = access.subscripts[*rhs_at].as_index();
  if (!a || !b || *a == *b) return std::nullopt;
  return KnownFill{Condition{value.condition.op, *a, *b}, &writer, value.args[1].get()};
}

}  // namespace einc::ir
