// ir/statement_lowering.cpp — one assignment: names, extents, dtypes, sums.
#include "ir/statement_lowering.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "ir/checked_math.h"
#include "ir/expr_builders.h"

namespace einc::ir {

namespace {

using frontend::Note;

std::optional<Func> lookup_function(const std::string& name) {
  static constexpr Func all[] = {Func::exp,  Func::log,  Func::sqrt, Func::rsqrt, Func::abs, Func::tanh, Func::sigmoid,
                                 Func::relu, Func::gelu, Func::silu, Func::max,   Func::min, Func::pow};
  for (Func f : all)
    if (name == func_name(f)) return f;
  return std::nullopt;
}

std::optional<ReduceOp> lookup_reduce(const std::string& name) {
  static constexpr ReduceOp all[] = {ReduceOp::sum,  ReduceOp::max,  ReduceOp::min,
                                     ReduceOp::prod, ReduceOp::mean, ReduceOp::logsumexp};
  for (ReduceOp op : all)
    if (name == reduce_op_name(op)) return op;
  return std::nullopt;
}

std::optional<NormOp> lookup_norm(const std::string& name) {
  static constexpr NormOp all[] = {NormOp::softmax, NormOp::layernorm, NormOp::rmsnorm};
  for (NormOp op : all)
    if (name == norm_op_name(op)) return op;
  return std::nullopt;
}

// The einsum(...) that is the whole value (inside brackets and empty sign
// prefixes, as the parser wraps it), else nullptr.
const ast::Einsum* whole_einsum(const ast::Operand& value) {
  const ast::Chain* chain = ast::as_chain(value);
  if (!chain || !chain->rest.empty()) return nullptr;
  const ast::Operand* inner = &chain->first;
  while (true) {
    if (const ast::Unary* unary = ast::as_unary(*inner)) {
      if (!unary->signs.empty()) return nullptr;
      inner = &unary->operand;
    } else if (const ast::Chain* sub = ast::as_chain(*inner)) {
      if (!sub->rest.empty()) return nullptr;
      inner = &sub->first;
    } else if (const ast::Einsum* einsum = ast::as_einsum(*inner)) {
      return einsum;
    } else {
      return nullptr;
    }
  }
}

}  // namespace

// --- indices and extents ------------------------------------------------------

int StatementLowering::index_id(const ast::Identifier& name) {
  auto it = index_by_name_.find(name.name);
  if (it != index_by_name_.end()) return it->second;
  if (is_layer_index(name.name)) {
    sink_.error(name.span, "the layer index '" + name.name +
                               "' selects each layer's part of a tensor: it is allowed only as the first position of "
                               "an access (w[" +
                               name.name + ", d, f])");
    failed_ = true;
  }
  int id = static_cast<int>(indices_.size());
  indices_.push_back(IndexVar{name.name, Poly(), Span{}});
  has_extent_.push_back(false);
  index_by_name_[name.name] = id;
  return id;
}

// Extents that involve an unbound dim cannot be compared yet: they are
// checked again when the dims are bound (Program::bind re-runs sema), so
// only a provable difference is a conflict here.
bool StatementLowering::same_extent(const Poly& a, const Poly& b) const {
  if (a == b) return true;
  try {
    return program_.evaluate(a) == program_.evaluate(b);
  } catch (const UnboundDimError&) {
    return true;
  } catch (const OverflowError&) {
    return false;
  }
}

std::string StatementLowering::describe_extent(const Poly& extent) const {
  std::optional<std::int64_t> value = program_.try_evaluate(extent);
  return value ? std::to_string(*value) : program_.formula(extent);
}

std::string StatementLowering::position(Span span) const {
  auto lc = sink_.source().line_col(span.begin);
  return std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

void StatementLowering::learn_extent(int index, const Poly& extent, Span where) {
  IndexVar& var = indices_[index];
  if (!has_extent_[index]) {
    var.extent = extent;
    var.span = where;
    has_extent_[index] = true;
    return;
  }
  if (same_extent(var.extent, extent)) return;
  sink_.error(where,
              "index '" + var.name + "' has extent " + describe_extent(extent) + " here but " +
                  describe_extent(var.extent) + " at " + position(var.span),
              {Note{var.span, "'" + var.name + "' gets extent " + describe_extent(var.extent) + " here"}});
  failed_ = true;
}

void StatementLowering::note_dtype(int tensor, Span where) {
  note_dtype(program_.tensors[tensor].dtype, "'" + program_.tensors[tensor].name + "'", where);
}

void StatementLowering::note_dtype(DType dtype, const std::string& source, Span where) {
  if (!dtype_) {
    dtype_ = dtype;
    dtype_source_ = source;
    dtype_span_ = where;
    return;
  }
  if (*dtype_ == dtype) return;
  sink_.error(where,
              "dtype mismatch: " + source + " is " + dtype_name(dtype) + " but " + dtype_source_ + " is " +
                  dtype_name(*dtype_) + " (one statement has one dtype: convert one of them, with " +
                  dtype_name(*dtype_) + "(...) or " + dtype_name(dtype) + "(...))",
              {Note{dtype_span_, dtype_source_ + " used here"}});
  failed_ = true;
}

// --- explicit reductions ------------------------------------------------------

void StatementLowering::collect_explicit_reductions(const ast::Operand& operand) {
  struct Visitor {
    StatementLowering& self;
    void operator()(const ast::Nil&) const {}
    void operator()(const ast::Number&) const {}
    void operator()(const ast::Access&) const {}
    void operator()(const ast::Call& call) const {
      for (const auto& a : call.args) self.collect_explicit_reductions(a);
    }
    void operator()(const ast::Reduction& r) const {
      if (lookup_reduce(r.op.name))
        for (const ast::ReducedIndex& i : r.indices) self.reduced_.emplace(i.name.name, r.op.span);
      self.collect_explicit_reductions(r.body);
    }
    void operator()(const ast::Einsum&) const {}
    void operator()(const ast::Select& s) const {
      self.collect_explicit_reductions(s.then_value);
      self.collect_explicit_reductions(s.else_value);
    }
    void operator()(const ast::Unary& u) const { self.collect_explicit_reductions(u.operand); }
    void operator()(const ast::Chain& c) const {
      self.collect_explicit_reductions(c.first);
      for (const auto& link : c.rest) self.collect_explicit_reductions(link.operand);
    }
  };
  ast::visit(operand, Visitor{*this});
}

// --- expressions ----------------------------------------------------------------

ExprPtr StatementLowering::lower_operand(const ast::Operand& operand) {
  struct Visitor {
    StatementLowering& self;
    ExprPtr operator()(const ast::Nil&) const { return nullptr; }
    ExprPtr operator()(const ast::Number& n) const { return self.lower_number(n); }
    ExprPtr operator()(const ast::Access& a) const {
      if (!a.indices && a.name.name == "inf") return self.lower_infinity(a);
      return self.lower_access(a, false, a.span);
    }
    ExprPtr operator()(const ast::Call& c) const { return self.lower_call(c); }
    ExprPtr operator()(const ast::Reduction& r) const { return self.lower_reduction(r); }
    ExprPtr operator()(const ast::Einsum& e) const {
      self.sink_.error(e.span, "einsum(...) must be the whole right-hand side: write C = einsum(\"...\", A, B)");
      self.failed_ = true;
      return nullptr;
    }
    ExprPtr operator()(const ast::Unary& u) const { return self.lower_unary(u); }
    ExprPtr operator()(const ast::Chain& c) const { return self.lower_chain(c); }
    ExprPtr operator()(const ast::Select& s) const { return self.lower_select(s); }
  };
  return ast::visit(operand, Visitor{*this});
}

ExprPtr StatementLowering::lower_number(const ast::Number& number) {
  const char* begin = number.text.c_str();
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  if (end != begin + number.text.size() || !std::isfinite(value)) {
    sink_.error(number.span, end != begin + number.text.size() ? "malformed number '" + number.text + "'"
                                                               : "number '" + number.text + "' is out of range");
    failed_ = true;
    return nullptr;
  }
  return make_constant(number.span, value);
}

// An index may not be used outside the explicit reduction that binds it.
bool StatementLowering::check_index_scope(const ast::Identifier& index) {
  auto reduced = reduced_.find(index.name);
  if (reduced == reduced_.end() ||
      std::find(active_reduced_.begin(), active_reduced_.end(), index.name) != active_reduced_.end())
    return true;
  sink_.error(index.span,
              "index '" + index.name + "' is reduced by an explicit reduction and cannot be used outside it",
              {Note{reduced->second, "reduced here"}});
  failed_ = true;
  return true;  // lowering goes on, so later errors are reported too
}

ExprPtr StatementLowering::lower_call(const ast::Call& call) {
  const std::string& name = call.function.name;
  if (int t = program_.find_tensor(name); t >= 0) {
    sink_.error(call.function.span, "'" + name + "' names a tensor and cannot be called",
                {Note{program_.tensors[t].span, "declared here"}});
    failed_ = true;
    return nullptr;
  }
  if (name == "padded") return lower_padded(call);
  if (std::optional<DType> to = parse_dtype(name)) return lower_conversion(call, *to);
  std::optional<Func> func = lookup_function(name);
  if (!func) {
    if (lookup_reduce(name) || lookup_norm(name))
      sink_.error(call.function.span, "'" + name + "' needs the indices it works over: " + name + "(i: ...)");
    else
      sink_.error(call.function.span, "unknown function '" + name + "'");
    failed_ = true;
    return nullptr;
  }
  int arity = func_arity(*func);
  if (static_cast<int>(call.args.size()) != arity) {
    std::string hint =
        (*func == Func::max || *func == Func::min) ? "; to reduce over an index write " + name + "(i: ...)" : "";
    sink_.error(call.span, "'" + name + "' takes " + std::to_string(arity) + " argument" + (arity > 1 ? "s" : "") +
                               ", not " + std::to_string(call.args.size()) + hint);
    failed_ = true;
    return nullptr;
  }
  std::vector<ExprPtr> args;
  for (const ast::Operand& a : call.args) args.push_back(lower_operand(a));
  for (const ExprPtr& a : args)
    if (!a) return nullptr;
  return make_call(call.span, *func, std::move(args));
}

ExprPtr StatementLowering::lower_conversion(const ast::Call& call, DType to) {
  const std::string& name = call.function.name;
  if (call.args.size() != 1) {
    sink_.error(call.span, "'" + name + "' (a conversion to " + name + ") takes 1 argument, not " +
                               std::to_string(call.args.size()));
    failed_ = true;
    return nullptr;
  }
  // The argument is typed on its own: its operands share one dtype (i8
  // products and sums give i32), whatever the rest of the statement's.
  const std::optional<DType> outer_dtype = dtype_;
  const std::string outer_source = dtype_source_;
  const Span outer_span = dtype_span_;
  const bool outer_product = has_product_or_sum_;
  dtype_.reset();
  has_product_or_sum_ = false;
  ExprPtr operand = lower_operand(call.args[0]);
  DType from = dtype_.value_or(DType::f32);  // only numbers and dims: a real number
  if (from == DType::i8 && has_product_or_sum_) from = DType::i32;
  dtype_ = outer_dtype;
  dtype_source_ = outer_source;
  dtype_span_ = outer_span;
  has_product_or_sum_ = outer_product;
  if (!operand) return nullptr;
  note_dtype(to, name + "(...)", call.function.span);
  return make_convert(call.span, to, from, std::move(operand));
}

ExprPtr StatementLowering::lower_reduction(const ast::Reduction& reduction) {
  const std::string& name = reduction.op.name;
  std::optional<ReduceOp> reduce = lookup_reduce(name);
  std::optional<NormOp> norm = lookup_norm(name);
  if (!reduce && !norm) {
    sink_.error(reduction.op.span, "'" + name +
                                       "' is not a reduction or normalisation; expected one of sum, max, "
                                       "min, prod, mean, logsumexp, softmax, layernorm, rmsnorm");
    failed_ = true;
    return nullptr;
  }
  std::vector<std::string> names;
  for (const ast::ReducedIndex& listed : reduction.indices) {
    const ast::Identifier& i = listed.name;
    if (std::find(names.begin(), names.end(), i.name) != names.end()) {
      sink_.error(i.span, "index '" + i.name + "' is listed twice");
      failed_ = true;
      return nullptr;
    }
    names.push_back(i.name);
    if (listed.extent && !learn_given_extent(i, *listed.extent)) return nullptr;
  }
  if (reduce)
    for (const std::string& n : names) active_reduced_.push_back(n);
  ExprPtr body = lower_operand(reduction.body);
  if (reduce) active_reduced_.resize(active_reduced_.size() - names.size());
  if (!body) return nullptr;
  std::vector<int> over;
  for (const ast::ReducedIndex& listed : reduction.indices) {
    const ast::Identifier& i = listed.name;
    auto it = index_by_name_.find(i.name);
    if (it == index_by_name_.end() || !contains_index(*body, it->second)) {
      sink_.error(i.span, "index '" + i.name + "' does not appear in the body of " + name);
      failed_ = true;
      return nullptr;
    }
    over.push_back(it->second);
  }
  // Only sum and prod have a value over nothing (0 and 1).
  if (norm || (*reduce != ReduceOp::sum && *reduce != ReduceOp::prod))
    for (std::size_t k = 0; k < over.size(); ++k)
      if (!check_non_empty(name, over[k], reduction.indices[k].name.span)) return nullptr;
  if (reduce) {
    if (*reduce == ReduceOp::sum || *reduce == ReduceOp::prod || *reduce == ReduceOp::mean) has_product_or_sum_ = true;
    return make_reduce(reduction.span, *reduce, std::move(over), std::move(body), false);
  }
  return make_normalize(reduction.span, *norm, std::move(over), std::move(body));
}

// `r < 3` in a reduction's list: the extent is dims and integers (a
// window's size, where no tensor gives it).
bool StatementLowering::learn_given_extent(const ast::Identifier& index, const ast::Operand& extent) {
  std::optional<Subscript> value = lower_position(extent, false);
  if (!value) return false;
  if (!value->terms.empty()) {
    sink_.error(ast::span_of(extent), "an index's extent is made of dims and integers, not indices");
    failed_ = true;
    return false;
  }
  if (program_.try_evaluate(value->offset).value_or(0) < 0) {
    sink_.error(ast::span_of(extent), "extent of '" + index.name + "' is negative (" +
                                          std::to_string(*program_.try_evaluate(value->offset)) + ")");
    failed_ = true;
    return false;
  }
  learn_extent(index_id(index), value->offset, ast::span_of(extent));
  return !failed_;
}

// An extent inferred from index arithmetic is known only after the whole
// statement is read: the check waits for it (pending_non_empty_).
bool StatementLowering::check_non_empty(const std::string& op, int index, Span span) {
  if (!has_extent_[index]) {
    pending_non_empty_.push_back({op, index, span});
    return true;
  }
  // (unbound: checked when the dims are bound)
  if (program_.try_evaluate(indices_[index].extent).value_or(1) != 0) return true;
  sink_.error(span, op + " over an empty index: '" + indices_[index].name +
                        "' has extent 0 (only sum and prod are defined over no elements)");
  failed_ = true;
  return false;
}

ExprPtr StatementLowering::lower_unary(const ast::Unary& unary) {
  ExprPtr operand = lower_operand(unary.operand);
  if (!operand) return nullptr;
  std::size_t minus = std::count(unary.signs.begin(), unary.signs.end(), '-');
  return minus % 2 ? make_negate(unary.span, std::move(operand)) : operand;
}

ExprPtr StatementLowering::lower_chain(const ast::Chain& chain) {
  ExprPtr first = lower_operand(chain.first);
  if (chain.rest.empty()) return first;
  std::vector<ExprPtr> args{first};
  bool additive = chain.rest.front().op == '+' || chain.rest.front().op == '-';
  std::vector<char> ops{additive ? '+' : '*'};
  for (const ast::ChainLink& link : chain.rest) {
    args.push_back(lower_operand(link.operand));
    ops.push_back(link.op);
  }
  for (const ExprPtr& a : args)
    if (!a) return nullptr;
  if (!additive) has_product_or_sum_ = true;
  return make_nary(additive ? ExprKind::add : ExprKind::multiply, chain.span, std::move(args), std::move(ops));
}

// --- the statement ------------------------------------------------------------

bool StatementLowering::check_target(const ast::Assignment& assignment, bool is_einsum) {
  const ast::Identifier& name = assignment.target.name;
  bool accumulate = assignment.op == "+=";
  if (program_.find_dim(name.name) >= 0) {
    sink_.error(name.span, "'" + name.name + "' is a dim and cannot be assigned");
    return false;
  }
  int id = program_.find_tensor(name.name);
  if (id >= 0) {
    const Tensor& t = program_.tensors[id];
    if (t.role != TensorRole::intermediate) {
      sink_.error(
          name.span,
          "cannot assign to " + std::string(t.role == TensorRole::param ? "param" : "input") + " '" + t.name + "'",
          {Note{t.span, "declared here"}});
      return false;
    }
    if (t.defined_by >= 0 && !accumulate && block_id_ >= 0 &&
        t.defined_by < program_.blocks[static_cast<std::size_t>(block_id_)].first) {
      sink_.error(name.span,
                  "'" + t.name +
                      "' is defined before the repeat block; a block carries state from layer to layer with += "
                      "(" +
                      t.name + "[...] += ...), keeping its shape",
                  {Note{program_.statements[t.defined_by].span, "defined here"}});
      return false;
    }
    if (t.defined_by >= 0 && !accumulate) {
      sink_.error(name.span,
                  "tensor '" + t.name +
                      "' is already defined; each tensor is assigned once (use += to "
                      "accumulate)",
                  {Note{program_.statements[t.defined_by].span, "defined here"}});
      return false;
    }
  }
  if (accumulate && id >= 0 && program_.tensors[id].defined_by == kBrokenDefinition) return false;
  if (accumulate && id < 0 && broken_names_.count(name.name)) return false;  // its declaration failed
  if (accumulate && (id < 0 || program_.tensors[id].defined_by < 0)) {
    sink_.error(name.span, "'+=' needs an existing tensor, but '" + name.name +
                               "' has no value yet; define it "
                               "with '=' first");
    return false;
  }
  if (is_einsum && assignment.target.indices) {
    sink_.error(assignment.target.span, "the einsum form assigns a whole tensor: write " + name.name +
                                            " = einsum(...), without indices on the left");
    return false;
  }
  if (id < 0 && name.name == "inf") {
    sink_.error(name.span, "'inf' is reserved: it is infinity in expressions");
    return false;
  }
  if (id < 0) {
    Tensor t;
    t.name = name.name;
    t.span = name.span;
    t.role = TensorRole::intermediate;
    id = program_.add_tensor(std::move(t));
  }
  target_ = id;
  target_is_new_ = !accumulate;
  return true;
}

bool StatementLowering::lower(const ast::Assignment& assignment, Statement& out) {
  const ast::Einsum* einsum = whole_einsum(assignment.value);
  if (!check_target(assignment, einsum != nullptr)) return false;
  Tensor* target = &program_.tensors[target_];
  bool accumulate = assignment.op == "+=";
  bool shape_known = accumulate || target->shape_declared;
  collect_explicit_reductions(assignment.value);

  // The left-hand side.
  std::vector<int> lhs;
  ExprPtr value;
  if (einsum) {
    value = lower_einsum(*einsum, lhs);
    if (!value) return false;
  } else {
    std::vector<ast::Identifier> names;
    for (const ast::Operand& position : assignment.target.indices.value_or(std::vector<ast::Operand>{})) {
      const ast::Identifier* name = ast::as_bare_name(position);
      if (!name) {
        sink_.error(ast::span_of(position),
                    "the left-hand side takes index names; index arithmetic belongs on the right (Y[h] = X[2*h])");
        return false;
      }
      names.push_back(*name);
    }
    for (const ast::Identifier& n : names) {
      if (index_by_name_.count(n.name)) {
        sink_.error(n.span, "index '" + n.name + "' appears twice on the left");
        return false;
      }
      if (auto r = reduced_.find(n.name); r != reduced_.end()) {
        sink_.error(n.span, "index '" + n.name + "' is reduced on the right, so it cannot appear on the left",
                    {Note{r->second, "reduced here"}});
        return false;
      }
      lhs.push_back(index_id(n));
    }
  }
  if (shape_known && !einsum) {
    if (lhs.size() != target->shape.size()) {
      sink_.error(assignment.target.span,
                  "tensor '" + target->name + "' has rank " + std::to_string(target->shape.size()) +
                      " but the left-hand side has " + std::to_string(lhs.size()) + " indices",
                  {Note{target->span, "shape given here"}});
      return false;
    }
    for (std::size_t d = 0; d < lhs.size(); ++d)
      learn_extent(lhs[d], target->shape[d], ast::span_of((*assignment.target.indices)[d]));
  }
  if (einsum && shape_known) {
    if (lhs.size() != target->shape.size()) {
      sink_.error(assignment.target.span,
                  "tensor '" + target->name + "' has rank " + std::to_string(target->shape.size()) +
                      " but the einsum gives rank " + std::to_string(lhs.size()),
                  {Note{target->span, "shape given here"}});
      return false;
    }
    for (std::size_t d = 0; d < lhs.size(); ++d) learn_extent(lhs[d], target->shape[d], assignment.target.span);
  }
  if (!einsum) value = lower_operand(assignment.value);
  if (!value || failed_ || !resolve_affine_extents() || !check_affine_bounds() || !check_conditions()) return false;
  for (const PendingNonEmpty& p : pending_non_empty_)
    if (!check_non_empty(p.op, p.index, p.span)) return false;
  target = &program_.tensors[target_];

  // Every left index needs an extent; the right side broadcasts along the others.
  for (std::size_t d = 0; d < lhs.size(); ++d) {
    if (has_extent_[lhs[d]]) continue;
    Span span = einsum ? assignment.target.span : ast::span_of((*assignment.target.indices)[d]);
    sink_.error(span, "index '" + indices_[lhs[d]].name +
                          "' on the left appears nowhere on the right, so it has no "
                          "extent (declare the shape: output " +
                          target->name + "[...])");
    return false;
  }
  std::vector<int> sorted_lhs = lhs;
  std::sort(sorted_lhs.begin(), sorted_lhs.end());
  std::vector<int> summed;
  for (int i : value->free)
    if (!std::binary_search(sorted_lhs.begin(), sorted_lhs.end(), i)) summed.push_back(i);
  // (the Einstein pass, ir/einstein_sums.h, wraps them in reduce(sum) after sema)
  if (!summed.empty() && !einsum) has_product_or_sum_ = true;

  // The dtype: the operands', except that products and sums of i8 give i32.
  DType dtype = dtype_.value_or(target->dtype_declared || accumulate ? target->dtype : DType::f32);
  if (dtype == DType::i8 && (has_product_or_sum_ || (einsum && !summed.empty()))) dtype = DType::i32;
  if ((target->dtype_declared || accumulate) && target->dtype != dtype) {
    std::string value_dtype = dtype_name(dtype), target_dtype = dtype_name(target->dtype);
    std::string article = value_dtype[0] == 'i' || value_dtype[0] == 'f' ? "an " : "a ";
    sink_.error(
        assignment.target.name.span,
        accumulate
            ? "'+=' of " + article + value_dtype + " value into '" + target->name + "', which is " + target_dtype
            : "the right-hand side is " + value_dtype + " but '" + target->name + "' is declared " + target_dtype,
        {Note{target->span, "dtype given here"}});
    return false;
  }

  target->dtype = dtype;
  if (!accumulate) {
    std::vector<Poly> shape;
    for (int i : lhs) shape.push_back(indices_[i].extent);
    target->shape = std::move(shape);
    target->defined_by = statement_index_;
  }
  out.target = target_;
  out.lhs = std::move(lhs);
  out.accumulate = accumulate;
  out.value = std::move(value);
  out.indices = std::move(indices_);
  out.dtype = dtype;
  return true;
}

}  // namespace einc::ir
