// ir/cost_model.cpp — see cost_model.h; the rules per node are listed in
// docs/cost-model.md and mirrored by the comments below.
#include "ir/cost_model.h"

#include <algorithm>
#include <set>

#include "ir/contraction_order.h"
#include "ir/expr_builders.h"

namespace einc::ir {

const char* statement_kind_name(StatementKind kind) {
  switch (kind) {
    case StatementKind::elementwise: return "elementwise";
    case StatementKind::reduction: return "reduction";
    case StatementKind::normalization: return "normalization";
    case StatementKind::contraction: return "contraction";
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
      : program_(program), statement_(statement), cost_(cost) {}

  void run() {
    cost_.reduction_length = Poly::constant(1);
    visit(*statement_.value);
    const Tensor& target = program_.tensors[statement_.target];
    cost_.outputs = tensor_elements(target);
    if (statement_.accumulate) cost_.flops += cost_.outputs;  // the += itself
    count_bytes(target);
  }

 private:
  Poly extent_product(const std::vector<int>& ids) const {
    Poly p = Poly::constant(1);
    for (int id : ids) p *= statement_.indices[id].extent;
    return p;
  }
  Poly domain(const Expr& e) const { return extent_product(e.free); }

  void raise_kind(StatementKind kind) { cost_.kind = std::max(cost_.kind, kind); }

  void visit(const Expr& e) {
    switch (e.kind) {
      case ExprKind::access:
      case ExprKind::constant:
      case ExprKind::dim_value: return;
      case ExprKind::negate:
        visit(*e.args[0]);
        cost_.flops += domain(e);  // one negation per element
        return;
      case ExprKind::call:
        for (const ExprPtr& a : e.args) visit(*a);
        // exp, log, sqrt, ... count as transcendentals; abs, relu, max, min as FLOPs.
        (func_is_transcendental(e.func) ? cost_.transcendentals : cost_.flops) += domain(e);
        return;
      case ExprKind::add:
      case ExprKind::multiply: {
        for (const ExprPtr& a : e.args) visit(*a);
        // One FLOP per operator per element; a leading '/' or '-' is one more.
        std::int64_t ops = static_cast<std::int64_t>(e.args.size()) - 1;
        if (e.ops[0] == '/' || e.ops[0] == '-') ++ops;
        cost_.flops += times(ops, domain(e));
        return;
      }
      case ExprKind::reduce:
        cost_.reduction_length *= extent_product(e.over);
        if (is_contraction(e)) return visit_contraction(e);
        visit_reduction(e);
        return;
      case ExprKind::normalize: visit_normalization(e); return;
    }
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
      case ReduceOp::prod: cost_.flops += n; break;
      case ReduceOp::mean: cost_.flops += n + out; break;
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

  void visit_contraction(const Expr& e) {
    raise_kind(StatementKind::contraction);
    const Expr& product = *e.args[0];
    ContractionCost term;
    term.node = &e;
    term.summed = e.over;
    std::vector<std::vector<int>> operand_indices;
    for (std::size_t f = 0; f < product.args.size(); ++f) {
      const Expr& factor = *product.args[f];
      visit(factor);
      if (product.ops[f] == '/') cost_.flops += domain(factor);  // reciprocal
      term.operands.push_back(&factor);
      operand_indices.push_back(factor.free);
    }
    // A summed index held by one factor only is reduced inside it first.
    for (int k : e.over) {
      int holders = 0;
      std::size_t holder = 0;
      for (std::size_t f = 0; f < operand_indices.size(); ++f)
        if (std::binary_search(operand_indices[f].begin(), operand_indices[f].end(), k)) ++holders, holder = f;
      if (holders != 1) continue;
      cost_.flops += extent_product(operand_indices[holder]);
      auto& ids = operand_indices[holder];
      ids.erase(std::find(ids.begin(), ids.end(), k));
    }
    std::vector<int> all;
    for (const auto& ids : operand_indices) all.insert(all.end(), ids.begin(), ids.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());

    term.dot_products = domain(e);
    term.reduction_length = extent_product(e.over);
    term.naive_macs = extent_product(all);
    plan(e, operand_indices, term);
    term.flops = times(2, term.macs) + term.flops;  // term.flops held the outer-step elements
    if (operand_indices.size() == 2) term.naive_macs = term.macs;

    cost_.dot_products += term.dot_products;
    cost_.macs += term.macs;
    cost_.naive_macs += term.naive_macs;
    cost_.flops += term.flops;
    cost_.contractions.push_back(std::move(term));
  }

  // Chooses the pairwise order and turns its steps into polynomials.
  void plan(const Expr& e, const std::vector<std::vector<int>>& operand_indices, ContractionCost& term) {
    std::vector<std::string> names;
    for (const Expr* f : term.operands) {
      std::string text = print_expr(program_, statement_, *f);
      names.push_back(f->kind == ExprKind::access ? text : "(" + text + ")");
    }
    ContractionProblem problem;
    problem.operands = operand_indices;
    problem.kept = e.free;
    problem.extents.resize(statement_.indices.size(), 1);
    std::vector<ContractionStep> steps;
    if (operand_indices.size() == 2) {
      ContractionStep step;
      step.lhs = 0;
      step.rhs = 1;
      step.result = e.free;
      steps.push_back(step);
    } else {
      for (std::size_t i = 0; i < statement_.indices.size(); ++i)
        problem.extents[i] = program_.evaluate(statement_.indices[i].extent);
      ContractionPlan chosen = plan_contraction(problem);
      term.exact = chosen.exact;
      steps = chosen.steps;
    }
    std::vector<std::vector<int>> current = operand_indices;
    std::vector<std::string> labels = names;
    term.macs = Poly();
    term.flops = Poly();
    for (const ContractionStep& step : steps) {
      std::vector<int> both = current[step.lhs];
      both.insert(both.end(), current[step.rhs].begin(), current[step.rhs].end());
      std::sort(both.begin(), both.end());
      both.erase(std::unique(both.begin(), both.end()), both.end());
      bool sums = both.size() != step.result.size();
      if (sums)
        term.macs += extent_product(both);
      else
        term.flops += extent_product(step.result);
      std::string label = "(" + labels[step.lhs] + "*" + labels[step.rhs] + ")";
      term.path.emplace_back(step.lhs, step.rhs);
      for (int pos : {step.rhs, step.lhs}) {
        current.erase(current.begin() + pos);
        labels.erase(labels.begin() + pos);
      }
      current.push_back(step.result);
      labels.push_back(label);
    }
    term.order = labels.empty() ? "" : labels.back();
  }

  void count_bytes(const Tensor& target) {
    std::set<int> read;
    collect_reads(*statement_.value, read);
    Poly bytes;
    for (int id : read) {
      const Tensor& t = program_.tensors[id];
      bytes += times(dtype_size(t.dtype), tensor_elements(t));
      if (t.role == TensorRole::param) cost_.params += tensor_elements(t);
    }
    std::int64_t writes = statement_.accumulate && !read.count(statement_.target) ? 2 : 1;
    bytes += times(writes * dtype_size(target.dtype), tensor_elements(target));
    cost_.bytes = bytes;
  }

  static void collect_reads(const Expr& e, std::set<int>& out) {
    if (e.kind == ExprKind::access) out.insert(e.tensor);
    for (const ExprPtr& a : e.args) collect_reads(*a, out);
  }

  const Program& program_;
  const Statement& statement_;
  StatementCost& cost_;
};

}  // namespace

ProgramCost analyze_cost(const Program& program) {
  ProgramCost cost;
  for (const Statement& statement : program.statements) {
    cost.statements.emplace_back();
    StatementCounter(program, statement, cost.statements.back()).run();
  }
  for (const Tensor& t : program.tensors)
    if (t.role == TensorRole::param) cost.params += tensor_elements(t);
  return cost;
}

}  // namespace einc::ir
