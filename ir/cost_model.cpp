// ir/cost_model.cpp — see cost_model.h; the rules per node are listed in
// docs/cost-model.md and mirrored by the comments below.
#include "ir/cost_model.h"

#include <algorithm>
#include <deque>
#include <set>

#include "ir/condition.h"
#include "ir/expr_builders.h"
#include "ir/product_plan.h"

namespace einc::ir {

const char* statement_kind_name(StatementKind kind) {
  switch (kind) {
    case StatementKind::elementwise:
      return "elementwise";
    case StatementKind::reduction:
      return "reduction";
    case StatementKind::normalization:
      return "normalization";
    case StatementKind::contraction:
      return "contraction";
  }
  return "?";
}

Poly tensor_elements(const Tensor& tensor) {
  Poly n = Poly::constant(1);
  for (const Poly& extent : tensor.shape) n *= extent;
  return n;
}

namespace {

Poly times(std::int64_t k, const Poly& p) { return Poly::constant(k) * p; }

class StatementCounter {
 public:
  StatementCounter(const Program& program, const Statement& statement, StatementCost& cost)
      : program_(program), statement_(&statement), cost_(cost) {}

  void run() {
    cost_.reduction_length = Poly::constant(1);
    visit(*statement_->value);
    const Tensor& target = program_.tensors[statement_->target];
    cost_.outputs = tensor_elements(target);
    if (statement_->accumulate) cost_.flops += cost_.outputs;  // the += itself
    count_bytes(target);
  }

 private:
  // The points of the grid over `ids` that the enclosing conditions keep
  // (every extent's product when no condition compares two of them).
  Poly extent_product(const std::vector<int>& ids) const { return points_where(*statement_, ids, active_); }
  Poly domain(const Expr& e) const { return extent_product(e.free); }

  void raise_kind(StatementKind kind) { cost_.kind = std::max(cost_.kind, kind); }

  void visit(const Expr& e) {
    // Numbers and dims only (`sqrt(E)`, `2 * D`): one scalar per run, fixed
    // when the dims are bound: nothing per element. Applying it to an
    // operand still counts where that happens (a step of the product).
    if (e.folds) return;
    // A product is counted whole, as its plan computes it (product_plan.h).
    if (is_product(*statement_, e)) return visit_product(e);
    switch (e.kind) {
      case ExprKind::access:
      case ExprKind::constant:
      case ExprKind::dim_value:
        return;
      case ExprKind::negate:
        visit(*e.args[0]);
        cost_.flops += domain(e);  // one negation per element
        return;
      case ExprKind::call:
        if (e.func == Func::convert) {  // the argument counted as it computes (in its own dtype)
          const Statement as_argument = statement_for_argument(*statement_, e);
          const Statement* const outer = statement_;
          statement_ = &as_argument;
          visit(*e.args[0]);
          statement_ = outer;
          return;
        }
        for (const ExprPtr& a : e.args) visit(*a);
        // exp, log, sqrt, ... count as transcendentals; abs, relu, max, min as
        // FLOPs; a dtype conversion (above) is no arithmetic and counts nothing.
        (func_is_transcendental(e.func) ? cost_.transcendentals : cost_.flops) += domain(e);
        return;
      case ExprKind::add:
      case ExprKind::multiply: {
        // Sums, and integer products that divide (not planned: computed as
        // written).
        for (const ExprPtr& a : e.args) visit(*a);
        // One FLOP per operator per element; a leading '/' or '-' is one more.
        std::int64_t ops = static_cast<std::int64_t>(e.args.size()) - 1;
        if (e.ops[0] == '/' || e.ops[0] == '-') ++ops;
        cost_.flops += times(ops, domain(e));
        return;
      }
      case ExprKind::reduce:
        if (const std::optional<MaskedSum> sum = masked_contraction(e)) return visit_masked_contraction(e, *sum);
        cost_.reduction_length *= extent_product(e.over);
        visit_reduction(e);
        return;
      case ExprKind::normalize:
        visit_normalization(e);
        return;
      case ExprKind::select:
        // The select itself costs nothing; each operand is counted only on
        // the points where it is taken.
        with_condition(e.condition, [&] { visit(*e.args[0]); });
        with_condition(negated(e.condition), [&] { visit(*e.args[1]); });
        return;
    }
  }

  template <typename Body>
  void with_condition(const Condition& condition, Body&& body) {
    active_.push_back(condition);
    body();
    active_.pop_back();
  }

  // sum(j: where(j <= i, A[i, j] * B[j, d], 0)), or the same written
  // where(j > i, 0, A[i, j] * B[j, d]), the condition comparing a summed
  // index: a contraction over the points the condition keeps (a causal
  // P*V), as the backends run it. The product of two factors and the
  // condition that keeps it, or nullopt.
  static std::optional<MaskedSum> masked_contraction(const Expr& e) {
    std::optional<MaskedSum> sum = masked_sum(e);
    if (!sum) return std::nullopt;
    const Condition& c = sum->condition;
    const bool sums_compared = std::binary_search(e.over.begin(), e.over.end(), c.lhs) ||
                               std::binary_search(e.over.begin(), e.over.end(), c.rhs);
    const Expr& kept = *sum->product;
    if (!sums_compared || kept.args.size() != 2 || kept.ops[0] != '*' || kept.ops[1] != '*') return std::nullopt;
    return sum;
  }

  void visit_masked_contraction(const Expr& e, const MaskedSum& sum) {
    const Expr& product = *sum.product;
    raise_kind(StatementKind::contraction);
    ContractionCost term;
    term.node = &e;
    term.summed = e.over;
    with_condition(sum.condition, [&] {
      std::vector<std::string> labels;
      for (const ExprPtr& factor : product.args) {
        visit(*factor);
        term.operands.push_back(factor.get());
        labels.push_back(label_of(program_, *statement_, *factor));
      }
      term.macs = extent_product(product.free);
      term.order = "(" + labels[0] + "*" + labels[1] + ")";
    });
    term.path.emplace_back(0, 1);
    term.naive_macs = term.macs;
    term.flops = times(2, term.macs);
    term.dot_products = domain(e);
    term.reduction_length = extent_product(e.over);
    cost_.reduction_length *= term.reduction_length;
    cost_.dot_products += term.dot_products;
    cost_.macs += term.macs;
    cost_.naive_macs += term.naive_macs;
    cost_.flops += term.flops;
    cost_.contractions.push_back(std::move(term));
  }

  // sum/max/min/prod: 1 FLOP per element reduced; mean adds a divide per
  // result; logsumexp: max, subtract, sum (3 per element) and an add per
  // result, with an exp per element and a log per result.
  void visit_reduction(const Expr& e) {
    raise_kind(StatementKind::reduction);
    visit(*e.args[0]);
    Poly n = domain(*e.args[0]);
    Poly out = domain(e);
    switch (e.reduce_op) {
      case ReduceOp::sum:
      case ReduceOp::max:
      case ReduceOp::min:
      case ReduceOp::prod:
        cost_.flops += n;
        break;
      case ReduceOp::mean:
        cost_.flops += n + out;
        break;
      case ReduceOp::logsumexp:
        cost_.flops += times(3, n) + out;
        cost_.transcendentals += n + out;
        break;
    }
  }

  // softmax: max, subtract, sum, divide (4 per element), an exp per element.
  // layernorm: mean, center, square, sum, scale (5 per element), 3 per row
  // (two divides, + eps) and an rsqrt per row. rmsnorm: square, sum, scale
  // (3 per element), 2 per row and an rsqrt per row.
  void visit_normalization(const Expr& e) {
    raise_kind(StatementKind::normalization);
    visit(*e.args[0]);
    Poly n = domain(e);
    std::vector<int> row_indices;
    for (int i : e.free)
      if (!std::binary_search(e.over.begin(), e.over.end(), i)) row_indices.push_back(i);
    Poly rows = extent_product(row_indices);
    switch (e.norm_op) {
      case NormOp::softmax:
        cost_.flops += times(4, n);
        cost_.transcendentals += n;
        break;
      case NormOp::layernorm:
        cost_.flops += times(5, n) + times(3, rows);
        cost_.transcendentals += rows;
        break;
      case NormOp::rmsnorm:
        cost_.flops += times(3, n) + times(2, rows);
        cost_.transcendentals += rows;
        break;
    }
  }

  static std::string label_of(const Program& program, const Statement& statement, const Expr& factor) {
    std::string text = print_expr(program, statement, factor);
    const bool atom = factor.kind == ExprKind::access || factor.kind == ExprKind::constant ||
                      factor.kind == ExprKind::dim_value || factor.kind == ExprKind::call;
    return atom ? text : "(" + text + ")";
  }

  // Every operand is counted on its own first (an inverted one costs one
  // FLOP per element for its reciprocal, a pre-reduced one one per element
  // summed); then the steps are replayed as polynomials: a step that sums
  // costs 2 per point of its operands' extents (MACs), one that does not
  // one per element of its result, and a divisor left at the end one per
  // element of the result. A product that sums is a contraction term.
  // The order is spelled out for a contraction term of at most this many
  // operands (the text grows with every step's operands).
  static constexpr std::size_t kMaxSpelledOperands = 64;

  void visit_product(const Expr& e) {
    const ProductPlan plan = plan_product(program_, *statement_, e);
    ContractionCost term;
    term.node = &e;
    term.summed = plan.summed;
    term.exact = plan.exact;
    const bool spelled = !plan.summed.empty() && plan.operands.size() <= kMaxSpelledOperands;
    std::deque<std::vector<int>> current;  // a deque: steps remove entries at both ends
    std::deque<std::string> labels;
    std::vector<int> all;
    for (const ProductOperand& operand : plan.operands) {
      visit(*operand.factor);
      if (operand.use == FactorUse::invert) cost_.flops += domain(*operand.factor);
      if (!operand.pre_reduced.empty()) cost_.flops += domain(*operand.factor);
      term.operands.push_back(operand.factor);
      current.push_back(operand.indices);
      all.insert(all.end(), operand.indices.begin(), operand.indices.end());
      std::string label = spelled ? label_of(program_, *statement_, *operand.factor) : "";
      labels.push_back(operand.use == FactorUse::invert ? "(1/" + label + ")" : label);
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());

    Poly outer_elements;
    for (const ProductStep& step : plan.steps) {
      if (!step.over.empty())
        term.macs += extent_product(sorted_union(current[step.lhs], current[step.rhs]));
      else
        outer_elements += extent_product(step.result);
      const std::string& l = labels[step.lhs];
      const std::string& r = labels[step.rhs];
      std::string label = !spelled                               ? ""
                          : step.lhs_divisor == step.rhs_divisor ? "(" + l + "*" + r + ")"
                          : step.rhs_divisor                     ? "(" + l + "/" + r + ")"
                                                                 : "(" + r + "/" + l + ")";
      term.path.emplace_back(step.lhs, step.rhs);
      for (int pos : {step.rhs, step.lhs}) {
        current.erase(current.begin() + pos);
        labels.erase(labels.begin() + pos);
      }
      current.push_back(step.result);
      labels.push_back(label);
    }
    if (plan.result_divisor) outer_elements += domain(e);  // the final reciprocal
    term.order = !spelled ? "(" + std::to_string(plan.operands.size()) + " operands in " +
                                std::to_string(plan.steps.size()) + " pairwise steps)"
                 : plan.result_divisor ? "(1/" + labels.back() + ")"
                                       : labels.back();
    term.flops = times(2, term.macs) + outer_elements;
    cost_.reduction_length *= extent_product(plan.summed);
    if (plan.summed.empty() || plan.operands.size() < 2) {
      if (!plan.summed.empty()) raise_kind(StatementKind::reduction);
      cost_.flops += term.flops;
      return;
    }
    raise_kind(StatementKind::contraction);
    term.dot_products = domain(e);
    term.reduction_length = extent_product(plan.summed);
    term.naive_macs = plan.operands.size() == 2 ? term.macs : extent_product(all);
    cost_.dot_products += term.dot_products;
    cost_.macs += term.macs;
    cost_.naive_macs += term.naive_macs;
    cost_.flops += term.flops;
    cost_.contractions.push_back(std::move(term));
  }

  static std::vector<int> sorted_union(std::vector<int> a, const std::vector<int>& b) {
    a.insert(a.end(), b.begin(), b.end());
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    return a;
  }

  void count_bytes(const Tensor& target) {
    const std::set<int> read = tensors_read(*statement_->value);
    Poly bytes;
    for (int id : read) {
      const Tensor& t = program_.tensors[id];
      bytes += times(static_cast<std::int64_t>(dtype_size(t.dtype)), tensor_elements(t));
      const bool param_layer = t.role == TensorRole::layer &&
                               program_.tensors[static_cast<std::size_t>(t.layer_of)].role == TensorRole::param;
      if (t.role == TensorRole::param || param_layer) cost_.params += tensor_elements(t);
    }
    std::int64_t writes = statement_->accumulate && !read.count(statement_->target) ? 2 : 1;
    bytes += times(writes * static_cast<std::int64_t>(dtype_size(target.dtype)), tensor_elements(target));
    cost_.bytes = bytes;
  }

  const Program& program_;
  const Statement* statement_;  // the statement, or as a conversion's argument computes (visit)
  StatementCost& cost_;
  std::vector<Condition> active_;  // the conditions of the selects around the node being counted
};

// A statement of a repeat block runs `layers` times: every count (the
// reduction length is per dot product, so it stays).
void scale(StatementCost& cost, const Poly& layers) {
  for (Poly* p : {&cost.outputs, &cost.dot_products, &cost.macs, &cost.naive_macs, &cost.flops, &cost.transcendentals,
                  &cost.bytes, &cost.params})
    *p *= layers;
  for (ContractionCost& term : cost.contractions)
    for (Poly* p : {&term.dot_products, &term.macs, &term.naive_macs, &term.flops}) *p *= layers;
}

}  // namespace

ProgramCost analyze_cost(const Program& program) {
  ProgramCost cost;
  for (const Statement& statement : program.statements) {
    cost.statements.emplace_back();
    StatementCounter(program, statement, cost.statements.back()).run();
    if (statement.block >= 0)
      scale(cost.statements.back(), program.blocks.at(static_cast<std::size_t>(statement.block)).count);
  }
  for (const Tensor& t : program.tensors)
    if (t.role == TensorRole::param) cost.params += tensor_elements(t);
  return cost;
}

}  // namespace einc::ir
