// ir/known_fill.cpp — see known_fill.h.
#include "ir/known_fill.h"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

#include "ir/condition.h"

namespace einc::ir {

namespace {

// The position of `index` in a target's lhs when it occurs there exactly once.
std::optional<std::size_t> position_of(const std::vector<int>& lhs, int index) {
  if (std::count(lhs.begin(), lhs.end(), index) != 1) return std::nullopt;
  return static_cast<std::size_t>(std::find(lhs.begin(), lhs.end(), index) - lhs.begin());
}

// The statement assigning `tensor` when the facts hold for `reader`: an
// intermediate assigned by exactly one `=` statement, not `reader`, in the
// same repeat block; else null.
const Statement* sole_writer(const Program& program, const Statement& reader, int tensor) {
  if (program.tensors.at(static_cast<std::size_t>(tensor)).role != TensorRole::intermediate) return nullptr;
  const Statement* writer = nullptr;
  for (const Statement& s : program.statements) {
    if (s.target != tensor) continue;
    if (writer) return nullptr;  // assigned twice
    writer = &s;
  }
  // (Sema refuses a read before the tensor's first assignment, so a reader
  // that is not the writer runs after it.)
  if (!writer || reader.target == tensor || writer->accumulate || writer->block != reader.block) return nullptr;
  return writer;
}

// `condition` (over `writer`'s indices) at `access` of its target: the
// comparison of the indices the access takes at the two compared positions.
std::optional<Condition> condition_at(const Statement& writer, const Condition& condition, const Expr& access) {
  if (access.zero_padded || has_lookup(access.subscripts)) return std::nullopt;
  const auto lhs_at = position_of(writer.lhs, condition.lhs);
  const auto rhs_at = position_of(writer.lhs, condition.rhs);
  if (!lhs_at || !rhs_at || *lhs_at >= access.subscripts.size() || *rhs_at >= access.subscripts.size())
    return std::nullopt;
  const std::optional<int> a = access.subscripts[*lhs_at].as_index();
  const std::optional<int> b = access.subscripts[*rhs_at].as_index();
  if (!a || !b || *a == *b) return std::nullopt;
  return Condition{condition.op, *a, *b};
}

}  // namespace

std::optional<KnownFill> known_fill(const Program& program, const Statement& reader, const Expr& access) {
  if (access.kind != ExprKind::access) return std::nullopt;
  const Statement* writer = sole_writer(program, reader, access.tensor);
  if (!writer) return std::nullopt;
  const Expr& value = *writer->value;
  if (value.kind != ExprKind::select || !value.args[1]->folds) return std::nullopt;
  const std::optional<Condition> at = condition_at(*writer, value.condition, access);
  if (!at) return std::nullopt;
  return KnownFill{*at, writer, value.args[1].get()};
}

bool reads_only_where(const Program& program, const Statement& reader, const Statement& writer,
                      const Condition& condition) {
  if (sole_writer(program, reader, writer.target) != &writer) return false;
  std::vector<Condition> holding;  // the conditions of the branches enclosing the expression visited
  std::function<bool(const Expr&)> inside = [&](const Expr& e) {
    if (e.kind == ExprKind::access) {
      for (const Subscript& s : e.subscripts)
        if (s.lookup == writer.target) return false;  // (an id read from it: not an index pair)
      if (e.tensor == writer.target) {
        const std::optional<Condition> needed = condition_at(writer, condition, e);
        if (!needed ||
            std::none_of(holding.begin(), holding.end(), [&](const Condition& c) { return implies(c, *needed); }))
          return false;
      }
    }
    if (e.kind == ExprKind::reduce || e.kind == ExprKind::normalize) {
      // Below a sum (or a softmax) over j, a condition on j from outside
      // says nothing: the body is read at every j.
      const std::vector<Condition> outside = holding;
      std::erase_if(holding, [&](const Condition& c) {
        return std::count(e.over.begin(), e.over.end(), c.lhs) || std::count(e.over.begin(), e.over.end(), c.rhs);
      });
      const bool body_inside = std::all_of(e.args.begin(), e.args.end(), [&](const ExprPtr& a) { return inside(*a); });
      holding = outside;
      return body_inside;
    }
    if (e.kind == ExprKind::select) {
      holding.push_back(e.condition);
      const bool then_inside = inside(*e.args[0]);
      holding.back() = negated(e.condition);
      const bool else_inside = then_inside && inside(*e.args[1]);
      holding.pop_back();
      return else_inside;
    }
    return std::all_of(e.args.begin(), e.args.end(), [&](const ExprPtr& a) { return inside(*a); });
  };
  return inside(*reader.value);
}

}  // namespace einc::ir
