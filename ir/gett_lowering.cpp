// ir/gett_lowering.cpp — see gett_lowering.h.
#include "ir/gett_lowering.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <functional>

#include "ir/expr_builders.h"
#include "ir/product_plan.h"

namespace einc::ir {

namespace {

bool scalar_only(const Expr& e) {
  if (!e.free.empty()) return false;
  if (e.kind == ExprKind::reduce || e.kind == ExprKind::normalize) return false;
  for (const ExprPtr& a : e.args)
    if (!scalar_only(*a)) return false;
  return true;
}

// An access the GETT kernels read as a strided view from the tensor's first
// element: not zero-padded, no lookup, no position offset.
bool view_from_start(const Expr& e) {
  return e.kind == ExprKind::access && !e.zero_padded && !has_lookup(e.subscripts) &&
         std::all_of(e.subscripts.begin(), e.subscripts.end(), [](const Subscript& s) { return s.offset.is_zero(); });
}

// An access whose indices are all output indices: a bias or residual term.
std::optional<GettOperand> output_access(const Expr& e, const std::vector<int>& out) {
  if (!view_from_start(e)) return std::nullopt;
  for (int i : e.free)
    if (std::find(out.begin(), out.end(), i) == out.end()) return std::nullopt;
  return GettOperand{e.tensor, e.subscripts};
}

class Matcher {
 public:
  Matcher(const Program& p, const Statement& s) : program_(p), statement_(s) {}

  std::optional<GettStatement> run(const std::vector<std::int64_t>& c_strides) {
    if (statement_.accumulate || statement_.dtype != DType::f32) return std::nullopt;
    out_ = statement_.lhs;
    const Expr* root = statement_.value.get();
    // residual terms: root = act_part (+/-) residual accesses
    const Expr* act_part = split_sum(*root, result_.residual, /*allow_main=*/true);
    if (!act_part) return std::nullopt;
    const Expr* pre = act_part;
    if (act_part->kind == ExprKind::call && act_part->args.size() == 1 && !act_part->free.empty()) {
      result_.activation = act_part->func;
      pre = act_part->args[0].get();
    } else if (!result_.residual.empty()) {
      // Without an activation, every additive term is a bias.
      result_.bias = std::move(result_.residual);
      result_.residual.clear();
    }
    const Expr* main = split_sum(*pre, result_.bias, true);
    if (!main) return std::nullopt;
    const Expr* contraction = split_scale(*main);
    if (!contraction || !is_contraction(*contraction)) return std::nullopt;
    const Expr& product = *contraction->args[0];
    if (product.args.size() != 2 || product.ops[0] != '*' || product.ops[1] != '*') return std::nullopt;
    if (!view_from_start(*product.args[0]) || !view_from_start(*product.args[1])) return std::nullopt;
    // Every output index must come from the contraction (no broadcast target).
    for (int i : out_)
      if (!contains_index(*contraction, i)) return std::nullopt;
    if (contraction->free.size() != out_.size()) return std::nullopt;
    for (const ExprPtr& f : product.args)
      if (program_.tensors[f->tensor].dtype != DType::f32) return std::nullopt;
    if (!plan_is_gett(*main, *product.args[0], *product.args[1])) return std::nullopt;
    return assign_roles(*product.args[0], *product.args[1], contraction->over, c_strides);
  }

 private:
  // `e` = main + or - output accesses (in any order); returns main, or
  // nullptr if `e` is a sum of another shape. Not a sum: `e` is the main.
  const Expr* split_sum(const Expr& e, std::vector<GettTerm>& terms, bool) {
    if (e.kind != ExprKind::add) return &e;
    const Expr* main = nullptr;
    std::vector<GettTerm> found;
    for (std::size_t i = 0; i < e.args.size(); ++i) {
      if (auto access = output_access(*e.args[i], out_)) {
        found.push_back({*access, e.ops[i] == '-'});
        continue;
      }
      if (main || e.ops[i] == '-') return nullptr;
      main = e.args[i].get();
    }
    if (!main) return nullptr;
    terms.insert(terms.end(), found.begin(), found.end());
    return main;
  }

  // Whether the plan of the product at `root` (the contraction times its
  // scalars) is what the kernel computes: A and B contracted with each
  // other, every summed index held by both (none summed inside one first),
  // so the scalars meet only each other (folded into `scale` once) and the
  // result (the epilogue's one multiply per element).
  bool plan_is_gett(const Expr& root, const Expr& a, const Expr& b) const {
    ProductPlan plan;
    try {
      plan = plan_product(program_, statement_, root);
    } catch (const UnboundDimError&) {
      return false;
    }
    std::deque<int> list;  // original operand per entry, -1 for step results
    for (std::size_t k = 0; k < plan.operands.size(); ++k) {
      const ProductOperand& operand = plan.operands[k];
      if (operand.use == FactorUse::invert || !operand.pre_reduced.empty()) return false;
      const bool tensor = operand.factor == &a || operand.factor == &b;
      list.push_back(tensor ? static_cast<int>(k) : -2);
    }
    for (const ProductStep& step : plan.steps) {
      const int l = list[static_cast<std::size_t>(step.lhs)], r = list[static_cast<std::size_t>(step.rhs)];
      if (l >= 0 && r >= 0) return true;
      list.erase(list.begin() + step.rhs);
      list.erase(list.begin() + step.lhs);
      list.push_back(-1);
    }
    return false;
  }

  // `e` = contraction (* or /) scalars; returns the contraction.
  const Expr* split_scale(const Expr& e) {
    if (e.kind != ExprKind::multiply) return &e;
    const Expr* main = nullptr;
    for (std::size_t i = 0; i < e.args.size(); ++i) {
      if (scalar_only(*e.args[i])) {
        result_.scale_factors.push_back(e.args[i]);
        result_.scale_divides.push_back(e.ops[i] == '/');
        continue;
      }
      if (main || e.ops[i] != '*') return nullptr;
      main = e.args[i].get();
    }
    return main;
  }

  std::optional<GettStatement> assign_roles(const Expr& x, const Expr& y, const std::vector<int>& summed,
                                            const std::vector<std::int64_t>& c_strides) {
    // A holds the output index with the smallest output stride.
    int smallest = -1;
    std::int64_t best = 0;
    for (std::size_t d = 0; d < out_.size(); ++d) {
      std::int64_t s = std::llabs(c_strides[d]);
      bool batch = contains_index(x, out_[d]) && contains_index(y, out_[d]);
      if (!batch && (smallest < 0 || s < best)) smallest = static_cast<int>(d), best = s;
    }
    bool x_is_a = smallest < 0 || contains_index(x, out_[smallest]);
    const Expr& a = x_is_a ? x : y;
    const Expr& b = x_is_a ? y : x;
    result_.a = {a.tensor, a.subscripts};
    result_.b = {b.tensor, b.subscripts};
    // Output groups, ordered by output stride, largest first.
    std::vector<std::size_t> order(out_.size());
    for (std::size_t d = 0; d < order.size(); ++d) order[d] = d;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t l, std::size_t r) { return std::llabs(c_strides[l]) > std::llabs(c_strides[r]); });
    for (std::size_t d : order) {
      int i = out_[d];
      bool in_a = contains_index(a, i), in_b = contains_index(b, i);
      (in_a && in_b ? result_.batch : in_a ? result_.m : result_.n).push_back(i);
    }
    // K: the summed indices (a backend orders them by the actual strides).
    std::vector<int> k = summed;
    result_.k = k;
    return result_;
  }

  const Program& program_;
  const Statement& statement_;
  std::vector<int> out_;
  GettStatement result_;
};

}  // namespace

std::optional<GettStatement> match_gett(const Program& program, const Statement& statement,
                                        const std::vector<std::int64_t>& c_strides) {
  return Matcher(program, statement).run(c_strides);
}

GettSpec make_gett_spec(const Program& program, const Statement& statement, const GettStatement& gett,
                        const std::function<const std::vector<std::int64_t>&(int)>& strides_of, bool swap) {
  GettSpec spec;
  spec.a = swap ? gett.b : gett.a;
  spec.b = swap ? gett.a : gett.b;
  const std::vector<std::int64_t>& sa = strides_of(spec.a.tensor);
  const std::vector<std::int64_t>& sb = strides_of(spec.b.tensor);
  const std::vector<std::int64_t>& sc = strides_of(statement.target);
  auto dim = [&](int index) {
    GettDimSpec d;
    d.index = index;
    d.extent = program.evaluate(statement.indices.at(static_cast<std::size_t>(index)).extent);
    d.stride_a = access_stride(sa, spec.a.subscripts, index);
    d.stride_b = access_stride(sb, spec.b.subscripts, index);
    d.stride_c = index_stride(sc, statement.lhs, index);
    return d;
  };
  auto group = [&](const std::vector<int>& ids, bool by_b) {
    std::vector<GettDimSpec> dims;
    for (int id : ids) dims.push_back(dim(id));
    std::stable_sort(dims.begin(), dims.end(), [&](const GettDimSpec& l, const GettDimSpec& r) {
      return by_b ? std::llabs(l.stride_b) > std::llabs(r.stride_b) : std::llabs(l.stride_c) > std::llabs(r.stride_c);
    });
    return dims;
  };
  spec.batch = group(gett.batch, false);
  spec.m = group(swap ? gett.n : gett.m, false);
  spec.n = group(swap ? gett.m : gett.n, false);
  spec.k = group(gett.k, true);
  auto term = [&](const GettTerm& t) {
    GettTermSpec e;
    e.tensor = t.access.tensor;
    e.negate = t.negate;
    const std::vector<std::int64_t>& st = strides_of(t.access.tensor);
    for (const GettDimSpec& d : spec.batch) e.batch_strides.push_back(access_stride(st, t.access.subscripts, d.index));
    for (const GettDimSpec& d : spec.m) e.m_strides.push_back(access_stride(st, t.access.subscripts, d.index));
    for (const GettDimSpec& d : spec.n) e.n_strides.push_back(access_stride(st, t.access.subscripts, d.index));
    return e;
  };
  for (const GettTerm& t : gett.bias) spec.bias.push_back(term(t));
  for (const GettTerm& t : gett.residual) spec.residual.push_back(term(t));
  return spec;
}

double evaluate_scalar(const Program& program, const Expr& e, const std::function<double(int)>& load_scalar) {
  auto arg = [&](std::size_t i) { return evaluate_scalar(program, *e.args[i], load_scalar); };
  switch (e.kind) {
    case ExprKind::constant:
      return e.constant;
    case ExprKind::dim_value:
      return static_cast<double>(*program.dims[e.dim].value);
    case ExprKind::access:
      return load_scalar(e.tensor);
    case ExprKind::negate:
      return -arg(0);
    case ExprKind::add:
    case ExprKind::multiply: {
      double acc = e.kind == ExprKind::add ? 0.0 : 1.0;
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        double v = arg(i);
        switch (e.ops[i]) {
          case '+':
            acc += v;
            break;
          case '-':
            acc -= v;
            break;
          case '*':
            acc *= v;
            break;
          default:
            acc /= v;
            break;
        }
      }
      return acc;
    }
    case ExprKind::call: {
      double a = arg(0), b = e.args.size() > 1 ? arg(1) : 0.0;
      switch (e.func) {
        case Func::exp:
          return std::exp(a);
        case Func::log:
          return std::log(a);
        case Func::sqrt:
          return std::sqrt(a);
        case Func::rsqrt:
          return 1.0 / std::sqrt(a);
        case Func::abs:
          return std::fabs(a);
        case Func::tanh:
          return std::tanh(a);
        case Func::sigmoid:
          return 1.0 / (1.0 + std::exp(-a));
        case Func::relu:
          return a > 0 ? a : 0.0;
        case Func::gelu:
          return 0.5 * a * (1.0 + std::erf(a / std::sqrt(2.0)));
        case Func::silu:
          return a / (1.0 + std::exp(-a));
        case Func::max:
          return a > b ? a : b;
        case Func::min:
          return a < b ? a : b;
        case Func::pow:
          return std::pow(a, b);
      }
      return a;
    }
    default:
      return 0.0;
  }
}

}  // namespace einc::ir
