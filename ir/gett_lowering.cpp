// ir/gett_lowering.cpp — see gett_lowering.h.
#include "ir/gett_lowering.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <functional>

#include "einc/internal_error.h"
#include "ir/condition.h"
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

// An access the GETT kernels read as a strided view: not zero-padded, no
// lookup (an offset moves the view's start).
bool strided_view(const Expr& e) { return e.kind == ExprKind::access && !e.zero_padded && !has_lookup(e.subscripts); }

bool has_offset(const std::vector<Subscript>& subscripts) {
  return std::any_of(subscripts.begin(), subscripts.end(), [](const Subscript& s) { return !s.offset.is_zero(); });
}

// `x - z`, an i8 access less a zero point (GettStatement::a_zero_point):
// {x, z}; any other factor: {factor, null}. Null access: `x - z` of
// another form.
std::pair<const Expr*, ExprPtr> split_zero_point(const Program& program, const Expr& factor) {
  if (factor.kind != ExprKind::add) return {&factor, nullptr};
  if (factor.args.size() != 2 || factor.ops[0] != '+' || factor.ops[1] != '-') return {nullptr, nullptr};
  const Expr& x = *factor.args[0];
  const ExprPtr& z = factor.args[1];
  if (x.kind != ExprKind::access || program.tensors[x.tensor].dtype != DType::i8) return {nullptr, nullptr};
  // (an i8 access of x's indices: one zero point per row, a channel's; the
  // matcher checks that none of them is summed)
  const bool i8_rows = z->kind == ExprKind::access && strided_view(*z) &&
                       program.tensors[z->tensor].dtype == DType::i8 &&
                       std::all_of(z->free.begin(), z->free.end(), [&](int i) { return contains_index(x, i); });
  const bool small_integer = z->kind == ExprKind::constant && z->constant == std::trunc(z->constant) &&
                             std::fabs(z->constant) <= kMaxZeroPoint;
  if (!i8_rows && !small_integer) return {nullptr, nullptr};
  return {&x, z};
}

// An access whose indices are all output indices: a bias or residual term.
std::optional<GettOperand> output_access(const Expr& e, const std::vector<int>& out) {
  if (!strided_view(e)) return std::nullopt;
  for (int i : e.free)
    if (std::find(out.begin(), out.end(), i) == out.end()) return std::nullopt;
  return GettOperand{e.tensor, e.subscripts};
}

class Matcher {
 public:
  Matcher(const Program& p, const Statement& s) : program_(p), statement_(s) {}

  std::optional<GettStatement> run(const std::vector<std::int64_t>& c_strides) {
    const DType dtype = statement_.dtype;
    if (dtype != DType::f32 && dtype != DType::f64 && dtype != DType::i32) return std::nullopt;
    result_.accumulate = statement_.accumulate;
    out_ = statement_.lhs;
    const Expr* root = statement_.value.get();
    // A select on the result with `+=` would add the fill: not this form.
    if (root->kind == ExprKind::select && (statement_.accumulate || !(root = split_select(*root)))) return std::nullopt;
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
    if (!contraction) return std::nullopt;
    const Expr* product_ptr = masked_product(*contraction);
    if (!product_ptr && is_contraction(*contraction)) product_ptr = contraction->args[0].get();
    if (!product_ptr) return std::nullopt;
    const std::optional<std::pair<Operand, Operand>> operands = operands_of(*product_ptr, *contraction);
    if (!operands) return std::nullopt;
    const auto& [x, y] = *operands;
    for (const Operand& f : {x, y})
      if (const DType f_dtype = program_.tensors[f.access->tensor].dtype;
          f_dtype != dtype && !(dtype == DType::i32 && f_dtype == DType::i8))  // a product of i8 tensors is i32
        return std::nullopt;
    // A masked sum's plan is the contraction over the kept points, its
    // scalars applied to the result.
    const bool masked_sum = result_.mask && result_.mask->on_sum;
    if (!masked_sum && !plan_is_gett(*main, *x.factor, *y.factor)) return std::nullopt;
    return assign_roles(x, y, contraction->over, c_strides);
  }

  // match_dequantised_gett.
  std::optional<GettStatement> run_dequantised(const std::vector<std::int64_t>& c_strides) {
    if (statement_.dtype != DType::f32 || statement_.accumulate) return std::nullopt;
    out_ = statement_.lhs;
    const Expr* pre = statement_.value.get();
    if (pre->kind == ExprKind::call && pre->func != Func::convert && pre->args.size() == 1 && !pre->free.empty()) {
      result_.activation = pre->func;  // act(dequantised + bias)
      pre = pre->args[0].get();
    }
    const Expr* main = split_sum(*pre, result_.bias, true);
    if (!main) return std::nullopt;
    // main = f32(contraction), times (or over) scalars, times channel scales.
    const Expr* converted = main;
    if (main->kind == ExprKind::multiply) {
      converted = nullptr;
      for (std::size_t i = 0; i < main->args.size(); ++i) {
        const Expr& factor = *main->args[i];
        const bool times = main->ops[i] == '*';
        if (scalar_only(factor)) {
          result_.scale_factors.push_back(main->args[i]);
          result_.scale_divides.push_back(!times);
        } else if (factor.kind == ExprKind::call && factor.func == Func::convert && times && !converted) {
          converted = &factor;
        } else if (std::optional<GettOperand> scales = output_access(factor, out_); scales && times) {
          result_.channel_scales.push_back(std::move(*scales));
        } else {
          return std::nullopt;
        }
      }
    }
    if (!converted || converted->kind != ExprKind::call || converted->func != Func::convert ||
        converted->convert_to != DType::f32 || converted->convert_from != DType::i32)
      return std::nullopt;
    const Expr& contraction = *converted->args[0];
    if (!is_contraction(contraction) || contraction.reduce_op != ReduceOp::sum) return std::nullopt;
    const std::optional<std::pair<Operand, Operand>> operands = operands_of(*contraction.args[0], contraction);
    if (!operands) return std::nullopt;
    const auto& [x, y] = *operands;
    for (const Operand& f : {x, y})
      if (program_.tensors[f.access->tensor].dtype != DType::i8) return std::nullopt;
    for (int i : contraction.over)
      if (!contains_index(*x.access, i) || !contains_index(*y.access, i)) return std::nullopt;
    result_.dequantise = true;
    return assign_roles(x, y, contraction.over, c_strides);
  }

 private:
  // A factor of the product: the node itself (`x - z` with a zero point),
  // the access it reads, and the zero point (null without one). Null
  // access: not a GETT operand.
  struct Operand {
    const Expr* factor = nullptr;
    const Expr* access = nullptr;
    ExprPtr zero_point;
  };
  Operand operand(const Expr& factor) const {
    auto [access, zero_point] = split_zero_point(program_, factor);
    return {&factor, access, std::move(zero_point)};
  }

  // The two operands of `product`, the product inside `contraction`: each
  // a strided view (maybe less a zero point), and the contraction giving
  // every output index and no other (no broadcast target); else nullopt.
  std::optional<std::pair<Operand, Operand>> operands_of(const Expr& product, const Expr& contraction) const {
    if (product.args.size() != 2 || product.ops[0] != '*' || product.ops[1] != '*') return std::nullopt;
    Operand x = operand(*product.args[0]), y = operand(*product.args[1]);
    if (!x.access || !y.access || !strided_view(*x.access) || !strided_view(*y.access)) return std::nullopt;
    for (int i : out_)
      if (!contains_index(contraction, i)) return std::nullopt;
    if (contraction.free.size() != out_.size()) return std::nullopt;
    return std::pair{std::move(x), std::move(y)};
  }

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
  // the scalars meeting each other and then one of A, B or the result (the
  // pack of that operand, or the epilogue, applies their product once:
  // result_.scale_at).
  bool plan_is_gett(const Expr& root, const Expr& a, const Expr& b) {
    if (!is_product(statement_, root)) return false;  // an integer product that divides: computed as written
    ProductPlan plan;
    try {
      plan = plan_product(program_, statement_, root);
    } catch (const UnboundDimError&) {
      return false;
    }
    // What each entry of the step list holds: which of the two tensors
    // (bit 1: a, bit 2: b; 0: scalars only) and whether scalars met it.
    struct Entry {
      int tensors = 0;
      bool scaled = false;
    };
    std::deque<Entry> list;
    for (const ProductOperand& operand : plan.operands) {
      if (operand.use == FactorUse::invert || !operand.pre_reduced.empty()) return false;
      const int tensors = operand.factor == &a ? 1 : operand.factor == &b ? 2 : 0;
      list.push_back({tensors, tensors == 0});
    }
    for (const ProductStep& step : plan.steps) {
      const Entry l = list[static_cast<std::size_t>(step.lhs)], r = list[static_cast<std::size_t>(step.rhs)];
      if ((l.tensors | r.tensors) == 3) {
        const bool a_scaled = (l.tensors == 1 ? l : r).scaled, b_scaled = (l.tensors == 2 ? l : r).scaled;
        if (a_scaled && b_scaled) return false;
        scaled_factor_ = a_scaled ? &a : b_scaled ? &b : nullptr;
        return true;
      }
      list.erase(list.begin() + step.rhs);
      list.erase(list.begin() + step.lhs);
      list.push_back({l.tensors | r.tensors, l.scaled || r.scaled});
    }
    return false;
  }

  bool is_output(int index) const { return std::find(out_.begin(), out_.end(), index) != out_.end(); }

  // `where(c, x, fill)` or `where(c, fill, x)` with `fill` a scalar and c
  // on two output indices: records the mask, returns x.
  const Expr* split_select(const Expr& e) {
    const bool fill_second = scalar_only(*e.args[1]) && !scalar_only(*e.args[0]);
    const bool fill_first = scalar_only(*e.args[0]) && !scalar_only(*e.args[1]);
    if (!fill_second && !fill_first) return nullptr;
    const Condition c = fill_second ? e.condition : negated(e.condition);
    if (!is_output(c.lhs) || !is_output(c.rhs)) return nullptr;
    result_.mask = GettMask{c, false, fill_second ? e.args[1] : e.args[0]};
    return (fill_second ? e.args[0] : e.args[1]).get();
  }

  // `sum(k: where(c, A * B, 0))` (or `where(c, 0, A * B)`, ir::masked_sum)
  // with c on an output index and a summed one: records the mask, returns
  // the product.
  const Expr* masked_product(const Expr& e) {
    if (result_.mask) return nullptr;  // one mask at most
    const std::optional<MaskedSum> sum = masked_sum(e);
    if (!sum || sum->product->args.size() != 2) return nullptr;
    const Condition& c = sum->condition;
    auto summed = [&](int i) { return std::find(e.over.begin(), e.over.end(), i) != e.over.end(); };
    if (!((is_output(c.lhs) && summed(c.rhs)) || (summed(c.lhs) && is_output(c.rhs)))) return nullptr;
    result_.mask = GettMask{c, true, nullptr};
    return sum->product;
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

  std::optional<GettStatement> assign_roles(const Operand& x_operand, const Operand& y_operand,
                                            const std::vector<int>& summed,
                                            const std::vector<std::int64_t>& c_strides) {
    const Expr &x = *x_operand.access, &y = *y_operand.access;
    for (const Operand* o : {&x_operand, &y_operand})  // a zero point is one per row: not along K
      if (o->zero_point)
        for (int i : o->zero_point->free)
          if (std::find(summed.begin(), summed.end(), i) != summed.end()) return std::nullopt;
    // A holds the output index with the smallest output stride.
    int smallest = -1;
    std::int64_t best = 0;
    for (std::size_t d = 0; d < out_.size(); ++d) {
      std::int64_t s = std::llabs(c_strides[d]);
      bool batch = contains_index(x, out_[d]) && contains_index(y, out_[d]);
      if (!batch && (smallest < 0 || s < best)) smallest = static_cast<int>(d), best = s;
    }
    bool x_is_a = smallest < 0 || contains_index(x, out_[smallest]);
    const Operand& a_operand = x_is_a ? x_operand : y_operand;
    const Operand& b_operand = x_is_a ? y_operand : x_operand;
    const Expr& a = *a_operand.access;
    const Expr& b = *b_operand.access;
    result_.a = {a.tensor, a.subscripts};
    result_.b = {b.tensor, b.subscripts};
    result_.a_zero_point = a_operand.zero_point;
    result_.b_zero_point = b_operand.zero_point;
    if (scaled_factor_) result_.scale_at = scaled_factor_ == a_operand.factor ? ScaleAt::a : ScaleAt::b;
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
  const Expr* scaled_factor_ = nullptr;  // the factor the plan scales before the contraction, if any
};

}  // namespace

std::optional<GettStatement> match_gett(const Program& program, const Statement& statement,
                                        const std::vector<std::int64_t>& c_strides) {
  if (contains_conversion(*statement.value)) return std::nullopt;  // (a statement of several dtypes)
  return Matcher(program, statement).run(c_strides);
}

std::optional<GettStatement> match_dequantised_gett(const Program& program, const Statement& statement,
                                                    const std::vector<std::int64_t>& c_strides) {
  return Matcher(program, statement).run_dequantised(c_strides);
}

GettSpec make_gett_spec(const Program& program, const Statement& statement, const GettStatement& gett,
                        const std::function<const std::vector<std::int64_t>&(int)>& strides_of, bool swap) {
  GettSpec spec;
  spec.a = swap ? gett.b : gett.a;
  spec.b = swap ? gett.a : gett.b;
  spec.a_zero_point = swap ? gett.b_zero_point : gett.a_zero_point;
  spec.b_zero_point = swap ? gett.a_zero_point : gett.b_zero_point;
  const std::vector<std::int64_t>& sa = strides_of(spec.a.tensor);
  const std::vector<std::int64_t>& sb = strides_of(spec.b.tensor);
  const std::vector<std::int64_t>& sc = strides_of(statement.target);
  auto evaluate = [&](const Poly& p) { return program.evaluate(p); };
  spec.a_offset = access_offset(sa, spec.a.subscripts, evaluate);
  spec.b_offset = access_offset(sb, spec.b.subscripts, evaluate);
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
    e.offset = access_offset(st, t.access.subscripts, evaluate);
    for (const GettDimSpec& d : spec.batch) e.batch_strides.push_back(access_stride(st, t.access.subscripts, d.index));
    for (const GettDimSpec& d : spec.m) e.m_strides.push_back(access_stride(st, t.access.subscripts, d.index));
    for (const GettDimSpec& d : spec.n) e.n_strides.push_back(access_stride(st, t.access.subscripts, d.index));
    return e;
  };
  for (const GettTerm& t : gett.bias) spec.bias.push_back(term(t));
  for (const GettTerm& t : gett.residual) spec.residual.push_back(term(t));
  for (const GettOperand& s : gett.channel_scales) spec.channel_scales.push_back(term(GettTerm{s, false}));
  auto zero_points = [&](const ExprPtr& z) {
    return z && z->kind == ExprKind::access ? term(GettTerm{GettOperand{z->tensor, z->subscripts}, false})
                                            : GettTermSpec{};
  };
  spec.a_zero_points = zero_points(spec.a_zero_point);
  spec.b_zero_points = zero_points(spec.b_zero_point);
  return spec;
}

bool reads_with_offsets(const GettStatement& gett) {
  bool any = has_offset(gett.a.subscripts) || has_offset(gett.b.subscripts);
  for (const auto* terms : {&gett.bias, &gett.residual})
    for (const GettTerm& t : *terms) any = any || has_offset(t.access.subscripts);
  for (const GettOperand& s : gett.channel_scales) any = any || has_offset(s.subscripts);
  return any;
}

double evaluate_gett_scale(const Program& program, const GettStatement& gett,
                           const std::function<double(int)>& load_scalar) {
  double scale = 1.0;
  for (std::size_t i = 0; i < gett.scale_factors.size(); ++i) {
    const double v = evaluate_scalar(program, *gett.scale_factors[i], load_scalar);
    scale = gett.scale_divides[i] ? scale / v : scale * v;
  }
  return scale;
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
        case Func::convert:  // (match_gett refuses statements with conversions)
          EINC_FAIL("evaluate_scalar: a conversion");
      }
      return a;
    }
    default:
      return 0.0;
  }
}

}  // namespace einc::ir
