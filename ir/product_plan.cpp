// ir/product_plan.cpp — see product_plan.h.
#include "ir/product_plan.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <map>
#include <set>

#include "einc/internal_error.h"
#include "ir/expr_builders.h"

namespace einc::ir {

namespace {

bool is_integer(DType dtype) { return dtype == DType::i8 || dtype == DType::i32; }

// A reduce(sum) whose body, through nested sums, is a multiply.
bool is_sum_over_product(const Expr& e) {
  if (e.kind != ExprKind::reduce || e.reduce_op != ReduceOp::sum) return false;
  const Expr& body = *e.args[0];
  return body.kind == ExprKind::multiply || is_sum_over_product(body);
}

struct Leaf {
  const Expr* factor = nullptr;
  bool divided = false;
};

// The product's factors with every `*` multiply and sum over a product
// opened, in written order. A sum whose index another opened sum also binds
// (two explicit reductions reusing a name) stays closed: it is a factor.
class Flattening {
 public:
  explicit Flattening(const Expr& root) : root_(root) {
    // Each pass closes the sums that bind an index twice; at most one pass
    // per sum.
    while (true) {
      leaves_.clear();
      summed_.clear();
      sums_.clear();
      open_root();
      std::map<int, int> binders;
      for (const auto& [node, over] : sums_)
        for (int k : over) ++binders[k];
      bool closed_any = false;
      for (const auto& [node, over] : sums_) {
        if (node == &root_) continue;
        for (int k : over)
          if (binders[k] > 1) {
            closed_any = closed_.insert(node).second || closed_any;
            break;
          }
      }
      if (!closed_any) break;
    }
    std::sort(summed_.begin(), summed_.end());
    summed_.erase(std::unique(summed_.begin(), summed_.end()), summed_.end());
  }

  const std::vector<Leaf>& leaves() const { return leaves_; }
  const std::vector<int>& summed() const { return summed_; }

 private:
  void open_root() {
    if (root_.kind == ExprKind::multiply)
      open_multiply(root_);
    else
      open_sum(root_);
  }

  void open_sum(const Expr& sum) {
    sums_.emplace_back(&sum, sum.over);
    summed_.insert(summed_.end(), sum.over.begin(), sum.over.end());
    const Expr& body = *sum.args[0];
    if (body.kind == ExprKind::multiply)
      open_multiply(body);
    else
      open_sum(body);
  }

  void open_multiply(const Expr& product) {
    for (std::size_t k = 0; k < product.args.size(); ++k) {
      const Expr& factor = *product.args[k];
      const bool divided = product.ops[k] == '/';
      if (!divided && factor.kind == ExprKind::multiply) {
        open_multiply(factor);
      } else if (!divided && is_sum_over_product(factor) && !closed_.count(&factor)) {
        open_sum(factor);
      } else {
        leaves_.push_back({&factor, divided});
      }
    }
  }

  const Expr& root_;
  std::set<const Expr*> closed_;
  std::vector<Leaf> leaves_;
  std::vector<int> summed_;
  std::vector<std::pair<const Expr*, std::vector<int>>> sums_;
};

std::vector<int> sorted_union(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

std::vector<int> difference(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

bool holds(const std::vector<int>& sorted, int index) {
  return std::binary_search(sorted.begin(), sorted.end(), index);
}

// The operands with their uses, pre-reductions and remaining indices.
std::vector<ProductOperand> make_operands(const Flattening& flat) {
  std::vector<ProductOperand> operands;
  for (const Leaf& leaf : flat.leaves()) {
    ProductOperand operand;
    operand.factor = leaf.factor;
    operand.use = leaf.divided ? FactorUse::divide : FactorUse::multiply;
    operand.indices = leaf.factor->free;
    operands.push_back(std::move(operand));
  }
  // The operands holding each summed index (a product may have very many
  // operands: one pass over their indices).
  std::map<int, std::vector<std::size_t>> holders;
  for (int k : flat.summed()) holders[k];
  for (std::size_t o = 0; o < operands.size(); ++o)
    for (int k : operands[o].factor->free)
      if (auto it = holders.find(k); it != holders.end()) it->second.push_back(o);
  for (const auto& [k, holding] : holders) {
    const auto divisors = std::count_if(holding.begin(), holding.end(),
                                        [&](std::size_t o) { return operands[o].use != FactorUse::multiply; });
    for (std::size_t o : holding) {
      ProductOperand& operand = operands[o];
      // sum(k: 1/x) and sum(k: 1/x * 1/y) need the reciprocals themselves.
      if (operand.use != FactorUse::multiply && (holding.size() == 1 || divisors > 1)) operand.use = FactorUse::invert;
      if (holding.size() == 1) {
        operand.pre_reduced.push_back(k);
        operand.indices.erase(std::find(operand.indices.begin(), operand.indices.end(), k));
      }
    }
  }
  return operands;
}

// Fills each step's `over` and divisor flags by replaying the list.
void replay(ProductPlan& plan) {
  std::deque<std::vector<int>> indices;
  std::deque<bool> divisor;
  for (const ProductOperand& operand : plan.operands) {
    indices.push_back(operand.indices);
    divisor.push_back(operand.use == FactorUse::divide);
  }
  for (ProductStep& step : plan.steps) {
    const auto lhs = static_cast<std::size_t>(step.lhs), rhs = static_cast<std::size_t>(step.rhs);
    EINC_CHECK(step.lhs < step.rhs && rhs < indices.size(), "product plan: a step names no pair of entries");
    step.over = difference(sorted_union(indices[lhs], indices[rhs]), step.result);
    step.lhs_divisor = divisor[lhs];
    step.rhs_divisor = divisor[rhs];
    EINC_CHECK(!step.divisor() || step.over.empty(), "product plan: a step sums over two divisors");
    for (std::size_t position : {rhs, lhs}) {
      indices.erase(indices.begin() + static_cast<std::ptrdiff_t>(position));
      divisor.erase(divisor.begin() + static_cast<std::ptrdiff_t>(position));
    }
    indices.push_back(step.result);
    divisor.push_back(step.divisor());
  }
  EINC_CHECK(indices.size() == 1 && indices.front() == plan.kept, "product plan: the steps do not end at the result");
  plan.result_divisor = divisor.front();
}

}  // namespace

bool is_product(const Statement& statement, const Expr& e) {
  if (e.kind != ExprKind::multiply && !is_sum_over_product(e)) return false;
  if (!is_integer(statement.dtype)) return true;
  const Flattening flat(e);
  return std::none_of(flat.leaves().begin(), flat.leaves().end(), [](const Leaf& leaf) { return leaf.divided; });
}

ProductPlan plan_product(const Program& program, const Statement& statement, const Expr& root) {
  EINC_CHECK(is_product(statement, root), "plan_product: the node is not a product");
  const Flattening flat(root);
  ProductPlan plan;
  plan.root = &root;
  plan.kept = root.free;
  plan.summed = flat.summed();
  plan.operands = make_operands(flat);
  for (int k : plan.summed) EINC_CHECK(!holds(plan.kept, k), "product plan: a summed index is also kept");

  const std::size_t n = plan.operands.size();
  if (n == 2) {
    ProductStep step;
    step.lhs = 0;
    step.rhs = 1;
    step.result = plan.kept;
    plan.steps.push_back(std::move(step));
  } else if (n > 2) {
    ContractionProblem problem;
    for (const ProductOperand& operand : plan.operands) problem.operands.push_back(operand.indices);
    problem.kept = plan.kept;
    problem.extents = index_extents(program, statement);
    ContractionPlan chosen = plan_contraction(problem);
    for (ContractionStep& s : chosen.steps) {
      ProductStep step;
      step.lhs = s.lhs;
      step.rhs = s.rhs;
      step.result = std::move(s.result);
      plan.steps.push_back(std::move(step));
    }
    plan.exact = chosen.exact;
  }
  replay(plan);
  return plan;
}

bool steps_are_elementwise(const ProductPlan& plan) {
  for (const ProductOperand& operand : plan.operands)
    if (operand.use == FactorUse::invert || !operand.pre_reduced.empty()) return false;
  return std::all_of(plan.steps.begin(), plan.steps.end(),
                     [&](const ProductStep& step) { return step.over.empty() && step.result == plan.kept; });
}

bool runs_in_one_pass(const ProductPlan& plan) {
  const std::size_t n = plan.operands.size();
  if (n <= 1) return true;
  bool all_divisors = true;
  for (const ProductOperand& operand : plan.operands) {
    if (operand.use == FactorUse::invert || !operand.pre_reduced.empty()) return false;
    all_divisors = all_divisors && operand.use == FactorUse::divide;
  }
  // Written as `1/x * y`, a fused evaluation would invert x first.
  if (plan.operands.front().use == FactorUse::divide && !all_divisors) return false;
  return plan.steps.size() == 1 || steps_are_elementwise(plan);
}

}  // namespace einc::ir
