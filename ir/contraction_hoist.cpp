// ir/contraction_hoist.cpp — see contraction_hoist.h.
#include "ir/contraction_hoist.h"

#include "ir/condition.h"
#include "ir/expr_builders.h"
#include "ir/temporaries.h"

namespace einc::ir {

namespace {

// A sum over a product of two or more factors, or a masked sum
// (`sum(j: where(c, x * y, 0))`).
bool is_hoistable_contraction(const Expr& e) { return is_contraction(e) || masked_sum(e).has_value(); }

class Hoister {
 public:
  Hoister(const Program& program, const Statement& statement, HoistedContractions& out)
      : statement_(statement), out_(out) {
    out_.program = program;
  }

  // `node` with its hoistable contractions replaced by temporaries;
  // `conditions`: those of the selects above it, each on the side it is in;
  // `dtype`: the node's (the temporaries', or inside a conversion the dtype
  // it converts from: `f32(sum(d: xq * wq))` hoists an i32 contraction).
  ExprPtr rewrite(const ExprPtr& node, std::vector<Condition>& conditions, bool factor, DType dtype) {
    if (node != statement_.value && !factor && is_hoistable_contraction(*node)) {
      if (ExprPtr hoisted = hoist(node, conditions, dtype)) return hoisted;
    }
    const bool conversion = node->kind == ExprKind::call && node->func == Func::convert;
    std::vector<ExprPtr> args;
    bool changed = false;
    for (std::size_t i = 0; i < node->args.size(); ++i) {
      const bool select = node->kind == ExprKind::select;
      if (select) conditions.push_back(i == 0 ? node->condition : negated(node->condition));
      args.push_back(rewrite(node->args[i], conditions, node->kind == ExprKind::multiply,
                             conversion ? node->convert_from : dtype));
      if (select) conditions.pop_back();
      changed = changed || args.back() != node->args[i];
    }
    return changed ? with_args(node, std::move(args)) : node;
  }

 private:
  // `T[free] = contraction` (or `where(c, contraction, 0)`), and T's access.
  ExprPtr hoist(const ExprPtr& contraction, const std::vector<Condition>& conditions, DType dtype) {
    std::vector<const Condition*> applying;
    for (const Condition& c : conditions)
      if (contains_index(*contraction, c.lhs) && contains_index(*contraction, c.rhs)) applying.push_back(&c);
    if (applying.size() > 1) return nullptr;
    ExprPtr value = applying.empty() ? contraction
                                     : make_select(contraction->span, *applying[0], contraction,
                                                   make_constant(contraction->span, 0.0));
    return assign_temporary(out_.program, statement_, contraction->span, contraction->free, std::move(value), dtype,
                            out_.statements, out_.temporaries);
  }

  const Statement& statement_;
  HoistedContractions& out_;
};

}  // namespace

// The form hoist() gives a masked contraction: `where(c, contraction,
// fill)` (or the sides swapped), c on two of its indices, the fill numbers
// and dims only. Hoisting such a value again would give the same statement
// back: where no masked GETT runs it (an f64 one), planning would recurse.
bool is_hoisted_form(const Expr& value) {
  if (value.kind != ExprKind::select) return false;
  for (std::size_t side = 0; side < 2; ++side) {
    const Expr& x = *value.args[side];
    if (is_hoistable_contraction(x) && value.args[1 - side]->folds && contains_index(x, value.condition.lhs) &&
        contains_index(x, value.condition.rhs))
      return true;
  }
  return false;
}

std::optional<HoistedContractions> hoist_contractions(const Program& program, const Statement& statement,
                                                      DType temporaries) {
  if (is_hoisted_form(*statement.value)) return std::nullopt;
  HoistedContractions out;
  Hoister hoister(program, statement, out);
  std::vector<Condition> conditions;
  ExprPtr value = hoister.rewrite(statement.value, conditions, false, temporaries);
  if (out.temporaries.empty()) return std::nullopt;
  Statement last = statement;
  last.value = std::move(value);
  out.statements.push_back(std::move(last));
  return out;
}

}  // namespace einc::ir
