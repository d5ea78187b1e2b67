// ir/tensor_uses.cpp — see tensor_uses.h.
#include "ir/tensor_uses.h"

namespace einc::ir {

TensorUses tensor_uses(const Program& program) {
  TensorUses uses;
  uses.last_read.assign(program.tensors.size(), -1);
  uses.last_write.assign(program.tensors.size(), -1);
  for (std::size_t s = 0; s < program.statements.size(); ++s) {
    const Statement& statement = program.statements[s];
    for (int t : tensors_read(*statement.value)) uses.last_read[static_cast<std::size_t>(t)] = static_cast<int>(s);
    uses.last_write[static_cast<std::size_t>(statement.target)] = static_cast<int>(s);
  }
  return uses;
}

std::vector<std::vector<int>> releasable_after(const Program& program) {
  const TensorUses uses = tensor_uses(program);
  std::vector<std::vector<int>> out(program.statements.size());
  for (std::size_t t = 0; t < program.tensors.size(); ++t) {
    const Tensor& info = program.tensors[t];
    const int last = uses.last_use(static_cast<int>(t));
    if (last >= 0 && info.role == TensorRole::intermediate && !info.is_output)
      out[static_cast<std::size_t>(last)].push_back(static_cast<int>(t));
  }
  return out;
}

namespace {

void note_lookups(const Program& program, const Expr& e, std::vector<std::optional<std::int64_t>>& ranges) {
  for (const ExprPtr& a : e.args) note_lookups(program, *a, ranges);
  if (e.kind != ExprKind::access) return;
  for (std::size_t d = 0; d < e.subscripts.size(); ++d) {
    const Subscript& s = e.subscripts[d];
    if (!s.is_lookup()) continue;
    std::optional<std::int64_t> extent = program.try_evaluate(program.tensors.at(e.tensor).shape.at(d));
    if (!extent) continue;
    std::optional<std::int64_t>& range = ranges.at(static_cast<std::size_t>(s.lookup));
    range = range ? std::min(*range, *extent) : *extent;
  }
}

}  // namespace

std::vector<std::optional<std::int64_t>> lookup_ranges(const Program& program) {
  std::vector<std::optional<std::int64_t>> ranges(program.tensors.size());
  for (const Statement& s : program.statements) note_lookups(program, *s.value, ranges);
  return ranges;
}

}  // namespace einc::ir
