// backends/cuda/expr_codegen.cpp — see expr_codegen.h.
#include "backends/cuda/expr_codegen.h"

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "backends/reference/interpreter.h"
#include "ir/condition.h"
#include "ir/real_to_integer.h"

namespace einc::cuda {

namespace {

bool is_integer(ir::DType d) { return d == ir::DType::i8 || d == ir::DType::i32; }

}  // namespace

const char* function_helper(ir::Func f) {
  switch (f) {
    case ir::Func::exp:
      return "einc_exp";
    case ir::Func::log:
      return "einc_log";
    case ir::Func::sqrt:
      return "einc_sqrt";
    case ir::Func::rsqrt:
      return "einc_rsqrt";
    case ir::Func::abs:
      return "einc_abs";
    case ir::Func::tanh:
      return "einc_tanh";
    case ir::Func::sigmoid:
      return "einc_sigmoid";
    case ir::Func::relu:
      return "einc_relu";
    case ir::Func::gelu:
      return "einc_gelu";
    case ir::Func::silu:
      return "einc_silu";
    case ir::Func::max:
      return "einc_max";
    case ir::Func::min:
      return "einc_min";
    case ir::Func::pow:
      return "einc_pow";
    case ir::Func::convert:  // (ExprEmitter::conversion)
      break;
  }
  throw std::runtime_error(std::string("cuda: no device function for ") + ir::func_name(f));
}

namespace {

// The dtype each binder computes in: `dtype` (the statement's), or below a
// conversion its argument's.
void collect_binder_dtypes(const ir::Expr& e, ir::DType dtype, std::map<const ir::Expr*, ir::DType>& out) {
  if (e.kind == ir::ExprKind::reduce || e.kind == ir::ExprKind::normalize) out[&e] = dtype;
  if (e.kind == ir::ExprKind::call && e.func == ir::Func::convert) dtype = e.convert_from;
  for (const ir::ExprPtr& a : e.args) collect_binder_dtypes(*a, dtype, out);
}

// `v` (of a float compute type) rounded to float dtype `dtype`'s
// precision, to nearest (ties to even), as a value of its compute type.
std::string rounded(const std::string& v, ir::DType dtype) {
  switch (dtype) {
    case ir::DType::f64:
      return "(double)(" + v + ")";
    case ir::DType::f16:
      return "__half2float(__float2half_rn((float)(" + v + ")))";
    case ir::DType::bf16:
      return "__bfloat162float(__float2bfloat16_rn((float)(" + v + ")))";
    default:
      return "(float)(" + v + ")";
  }
}

// An int64 value wrapped to integer dtype `dtype`'s width (two's complement).
std::string wrapped(const std::string& v, ir::DType dtype) {
  return std::string(dtype == ir::DType::i8 ? "(long long)(signed char)(unsigned char)"
                                            : "(long long)(int)(unsigned int)") +
         "(unsigned long long)(" + v + ")";
}

// The range of integer dtype `dtype`, as "lo, hi" arguments.
std::string integer_range(ir::DType dtype) {
  return dtype == ir::DType::i8 ? "-128LL, 127LL" : "(-2147483647LL - 1), 2147483647LL";
}

void collect_binders(const ir::Expr& e, bool inside, std::vector<const ir::Expr*>& out, bool* nested) {
  bool binder = e.kind == ir::ExprKind::reduce || e.kind == ir::ExprKind::normalize;
  if (binder) {
    if (inside) *nested = true;
    out.push_back(&e);
  }
  for (const ir::ExprPtr& a : e.args) collect_binders(*a, inside || binder, out, nested);
}

}  // namespace

std::vector<const ir::Expr*> find_binders(const ir::Expr& e, bool* nested) {
  std::vector<const ir::Expr*> out;
  bool dummy = false;
  collect_binders(e, false, out, nested ? nested : &dummy);
  return out;
}

ExprEmitter::ExprEmitter(const ir::Program& program, const ir::Statement& statement, const TensorStrides& strides)
    : program_(program), statement_(statement), strides_(strides) {
  extents_ = ir::index_extents(program, statement);
  set_compute_type(statement.dtype);
  collect_binder_dtypes(*statement.value, statement.dtype, binder_dtypes_);
  const ir::Tensor& target = program.tensors.at(static_cast<std::size_t>(statement.target));
  fp16_ = needs_fp16_header(target.dtype);
  KernelParam out;
  out.tensor = statement.target;
  out.written = true;
  out.name = "out";
  out.ctype = std::string(storage_ctype(target.dtype)) + "*";
  params_.push_back(out);
  // Binders that need elements: fail now, as the reference does.
  for (const ir::Expr* b : find_binders(*statement.value, nullptr)) {
    bool needs = b->kind == ir::ExprKind::normalize || b->reduce_op == ir::ReduceOp::max ||
                 b->reduce_op == ir::ReduceOp::min || b->reduce_op == ir::ReduceOp::mean ||
                 b->reduce_op == ir::ReduceOp::logsumexp;
    if (needs && count(b->over) == 0)
      throw reference::ExecutionError(
          std::string(b->kind == ir::ExprKind::normalize ? ir::norm_op_name(b->norm_op)
                                                         : ir::reduce_op_name(b->reduce_op)) +
          " over an empty index in the statement at line " + std::to_string(statement.line));
  }
}

void ExprEmitter::set_compute_type(ir::DType dtype) {
  integer_ = is_integer(dtype);
  t_ = integer_ ? "long long" : dtype == ir::DType::f64 ? "double" : "float";
  s_ = t_ == "float" ? "float" : "double";
}

void throw_on_kernel_status(unsigned int bits, int line) {
  if (bits & 1u)
    throw reference::ExecutionError("integer division by zero in the statement at line " + std::to_string(line));
  if (bits & 2u)
    throw reference::ExecutionError("lookup out of range in the statement at line " + std::to_string(line) +
                                    ": an id outside the extent of the dim it indexes (the reference and cpu "
                                    "backends name the id and where it was read)");
}

std::int64_t ExprEmitter::count(const std::vector<int>& indices) const {
  std::int64_t n = 1;
  for (int i : indices) n *= extent(i);
  return n;
}

std::string ExprEmitter::index_name(int index) const {
  return statement_.indices.at(static_cast<std::size_t>(index)).name;
}

std::string ExprEmitter::parameter_list() const {
  std::string out;
  for (const KernelParam& p : params_) out += (out.empty() ? "" : ", ") + p.ctype + " " + p.name;
  return out;
}

std::string ExprEmitter::input(int tensor) {
  auto it = inputs_.find(tensor);
  if (it != inputs_.end()) return it->second;
  const ir::Tensor& t = program_.tensors.at(static_cast<std::size_t>(tensor));
  fp16_ = fp16_ || needs_fp16_header(t.dtype);
  KernelParam p;
  p.tensor = tensor;
  p.snapshot = tensor == statement_.target;  // `+=` reading its own target
  p.name = p.snapshot ? "snapshot" : "t" + std::to_string(tensor);
  p.ctype = std::string("const ") + storage_ctype(t.dtype) + "* __restrict__";
  params_.push_back(p);
  inputs_[tensor] = p.name;
  return p.name;
}

std::string ExprEmitter::status() {
  for (const KernelParam& p : params_)
    if (p.kind == KernelParam::Kind::status) return p.name;
  KernelParam p;
  p.kind = KernelParam::Kind::status;
  p.name = "status";
  p.ctype = "unsigned int*";
  params_.push_back(p);
  return p.name;
}

// `c0 * x + c1 * y + c`: a linear form of the index variables.
std::string ExprEmitter::linear(const std::vector<std::pair<int, std::int64_t>>& terms, std::int64_t constant) const {
  std::string out;
  for (const auto& [index, c] : terms) {
    if (c == 0) continue;
    out += (out.empty() ? "" : " + ") + (c == 1 ? var(index) : var(index) + " * " + ll(c));
  }
  if (constant != 0 || out.empty()) out += (out.empty() ? "" : " + ") + ll(constant);
  return out;
}

// The element an access of `tensor` at `subscripts` reads: a strided view
// (ir/subscript.h), plus stride × id for each lookup position (`ids`: the
// variable holding that position's id, or "").
std::string ExprEmitter::offset(int tensor, const std::vector<ir::Subscript>& subscripts,
                                const std::vector<std::string>& ids) const {
  const auto& strides = strides_.at(static_cast<std::size_t>(tensor));
  std::vector<std::pair<int, std::int64_t>> terms;
  for (int index : ir::subscript_indices(subscripts))
    terms.emplace_back(index, ir::access_stride(strides, subscripts, index));
  std::string out = linear(terms, ir::access_offset(strides, subscripts, evaluate()));
  for (std::size_t d = 0; d < ids.size(); ++d)
    if (!ids[d].empty()) out += " + " + ids[d] + " * " + ll(strides[d]);
  return out;
}

// The ids of an access's lookup positions, each read and checked against
// the extent it indexes (einc_lookup sets status bit 2 when it is outside).
std::vector<std::string> ExprEmitter::lookup_ids(const ir::Expr& access, CodeWriter& w) {
  std::vector<std::string> ids(access.subscripts.size());
  const std::vector<std::int64_t> shape = ir::evaluated_shape(program_, access.tensor);
  for (std::size_t d = 0; d < ids.size(); ++d) {
    const ir::Subscript& s = access.subscripts[d];
    if (!s.is_lookup()) continue;
    const std::string raw = input(s.lookup) + "[" + offset(s.lookup, s.lookup_subscripts, {}) + "]";
    ids[d] = w.fresh("id");
    w.line("const long long " + ids[d] + " = einc_lookup((long long)" + raw + ", " + ll(shape[d]) + ", " + status() +
           ");");
  }
  return ids;
}

std::function<std::int64_t(const ir::Poly&)> ExprEmitter::evaluate() const {
  return [this](const ir::Poly& p) { return program_.evaluate(p); };
}

std::string ExprEmitter::to_compute(const std::string& raw, ir::DType dtype) const {
  std::string value = raw;
  if (dtype == ir::DType::f16) value = "__half2float(" + raw + ")";
  if (dtype == ir::DType::bf16) value = "__bfloat162float(" + raw + ")";
  if (integer_) return is_integer(dtype) ? "(long long)" + value : "einc_d2ll((double)" + value + ")";
  return "(" + t_ + ")" + value;
}

// A zero-padded access reads only where every position is inside the tensor.
std::string ExprEmitter::load(const ir::Expr& access, const std::string& pointer,
                              const std::vector<std::string>& ids) const {
  ir::DType dtype = program_.tensors.at(static_cast<std::size_t>(access.tensor)).dtype;
  std::string value = to_compute(pointer + "[" + offset(access.tensor, access.subscripts, ids) + "]", dtype);
  if (!access.zero_padded) return value;
  const std::vector<std::int64_t> shape = ir::evaluated_shape(program_, access.tensor);
  std::string inside;
  for (std::size_t d = 0; d < access.subscripts.size(); ++d) {
    const ir::Subscript& s = access.subscripts[d];
    std::vector<std::pair<int, std::int64_t>> terms;
    for (const ir::AffineTerm& t : s.terms) terms.emplace_back(t.index, t.coeff);
    std::string position = "(" + linear(terms, program_.evaluate(s.offset)) + ")";
    inside += (inside.empty() ? "" : " && ") + position + " >= 0LL && " + position + " < " + ll(shape[d]);
  }
  return "((" + inside + ") ? " + value + " : " + literal(0.0) + ")";
}

std::string ExprEmitter::literal(double value) const {
  if (integer_) return "(" + ll(ir::real_to_int64(value)) + ")";
  if (t_ == "float") return float_literal(static_cast<float>(value));
  return double_literal(value);
}

// Numbers and dims only (`sqrt(E)`): computed here, once, as the reference
// computes it, and embedded like a number. An integer division by zero in
// it is left to the kernel, which reports it when it runs.
std::optional<std::string> ExprEmitter::folded(const ir::Expr& e) const {
  if (!e.folds || e.kind == ir::ExprKind::constant || e.kind == ir::ExprKind::dim_value) return std::nullopt;
  try {
    if (!integer_) return literal(reference::fold_real(program_, statement_, e));
    const std::int64_t v = reference::fold_integer(program_, statement_, e);
    return v == std::numeric_limits<std::int64_t>::min() ? "(-9223372036854775807LL - 1)" : "(" + ll(v) + ")";
  } catch (const reference::ExecutionError&) {
    return std::nullopt;
  } catch (const ir::UnboundDimError&) {
    return std::nullopt;
  }
}

std::string ExprEmitter::value(const ir::Expr& e, CodeWriter& w) {
  auto define = [&](const std::string& expr) {
    std::string v = w.fresh("v");
    w.line("const " + t_ + " " + v + " = " + expr + ";");
    return v;
  };
  if (std::optional<std::string> v = folded(e)) return *v;
  switch (e.kind) {
    case ir::ExprKind::access:
      // A statement with `=` sees its target as zeros (the executor zeroes
      // it before the statement runs); `+=` reads a snapshot of the target.
      if (e.tensor == statement_.target && !statement_.accumulate) return literal(0.0);
      return define(load(e, input(e.tensor), lookup_ids(e, w)));
    case ir::ExprKind::constant:
      return literal(e.constant);
    case ir::ExprKind::dim_value:
      return literal(static_cast<double>(*program_.dims.at(static_cast<std::size_t>(e.dim)).value));
    case ir::ExprKind::negate: {
      std::string a = value(*e.args[0], w);
      return define(integer_ ? "einc_neg(" + a + ")" : "-" + a);
    }
    case ir::ExprKind::call: {
      if (e.func == ir::Func::convert) return conversion(e, w);
      std::vector<std::string> args;
      for (const ir::ExprPtr& a : e.args) args.push_back(value(*a, w));
      std::string call = std::string(function_helper(e.func)) + "(";
      for (std::size_t i = 0; i < args.size(); ++i)
        call += (i ? ", " : "") + (integer_ ? "(double)" + args[i] : args[i]);
      call += ")";
      return define(integer_ ? "einc_d2ll(" + call + ")" : call);
    }
    case ir::ExprKind::add:
    case ir::ExprKind::multiply: {
      std::string acc;
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        std::string x = value(*e.args[i], w);
        char op = e.ops[i];
        std::string next;
        if (i == 0) {
          if (op == '-')
            next = integer_ ? "einc_neg(" + x + ")" : "-" + x;
          else if (op == '/')
            next = integer_ ? "einc_idiv(1LL, " + x + ", " + status() + ")" : literal(1.0) + " / " + x;
          else
            next = x;
        } else if (integer_) {
          const char* f = op == '+' ? "einc_add" : op == '-' ? "einc_sub" : op == '*' ? "einc_mul" : "einc_idiv";
          next = std::string(f) + "(" + acc + ", " + x + (op == '/' ? ", " + status() : "") + ")";
        } else {
          next = acc + " " + op + " " + x;
        }
        acc = define(next);
      }
      return acc;
    }
    case ir::ExprKind::reduce:
    case ir::ExprKind::normalize:
      return binder(e, w);
    case ir::ExprKind::select: {
      // Both operands are computed, as the reference does; the condition
      // compares the two index variables.
      std::string a = value(*e.args[0], w);
      std::string b = value(*e.args[1], w);
      return define("(" + var(e.condition.lhs) + " " + ir::compare_op_name(e.condition.op) + " " +
                    var(e.condition.rhs) + ") ? " + a + " : " + b);
    }
  }
  throw std::runtime_error("cuda: unknown IR node");
}

// A conversion (reference/conversion.h): the argument computed as a
// statement of its dtype computes it and rounded once to that dtype (a
// float to its precision, an integer wrapped to its width), then
// converted: to a float dtype rounded to nearest (ties to even), to an
// integer dtype rounded so and saturated, NaN giving 0 (einc_quantise).
std::string ExprEmitter::conversion(const ir::Expr& e, CodeWriter& w) {
  const ir::DType from = e.convert_from, to = e.convert_to;
  const std::string x = with_dtype(from, [&] { return value(*e.args[0], w); });
  fp16_ = fp16_ || needs_fp16_header(from) || needs_fp16_header(to);
  std::string converted;
  if (is_integer(from)) {
    const std::string exact = wrapped(x, from);
    converted =
        is_integer(to) ? "einc_saturate(" + exact + ", " + integer_range(to) + ")" : rounded("(double)" + exact, to);
  } else {
    const std::string r = rounded(x, from);
    converted = is_integer(to) ? "einc_quantise((double)" + r + ", " + integer_range(to) + ")" : rounded(r, to);
  }
  const std::string v = w.fresh("v");
  w.line("const " + t_ + " " + v + " = (" + t_ + ")(" + converted + ");  // " + ir::call_name(e) + "(...)");
  return v;
}

std::vector<StatPass> ExprEmitter::passes(const ir::Expr& b) const {
  const std::string T = t_, S = s_;
  const std::string s_inf = S == "float" ? "einc_inf_f()" : "einc_inf_d()";
  auto as_s = [S](const std::string& x) { return "(" + S + ")" + x; };
  const std::string n = S == "float" ? float_literal(static_cast<float>(count(b.over)))
                                     : double_literal(static_cast<double>(count(b.over)));
  auto ident = [&](double v) { return literal(v); };
  auto x_only = [](const std::string& x, const std::vector<std::string>&) { return x; };
  if (b.kind == ir::ExprKind::reduce) {
    switch (b.reduce_op) {
      case ir::ReduceOp::sum:
      case ir::ReduceOp::mean:
        return {{T, ident(0), "EincAdd", x_only}};
      case ir::ReduceOp::prod:
        return {{T, ident(1), "EincMul", x_only}};
      case ir::ReduceOp::max:
        return {{T,
                 integer_ ? "(-9223372036854775807LL - 1)"
                          : "-" + std::string(T == "float" ? "einc_inf_f()" : "einc_inf_d()"),
                 "EincMaxNaN", x_only}};
      case ir::ReduceOp::min:
        return {{T, integer_ ? "9223372036854775807LL" : std::string(T == "float" ? "einc_inf_f()" : "einc_inf_d()"),
                 "EincMinNaN", x_only}};
      case ir::ReduceOp::logsumexp:
        return {{S, "-" + s_inf, "EincMaxSkipNaN", [as_s](const std::string& x, const auto&) { return as_s(x); }},
                {S, "(" + S + ")0", "EincAdd", [as_s, S](const std::string& x, const std::vector<std::string>& e) {
                   return "(einc_isfinite(" + e[0] + ") ? einc_exp(" + as_s(x) + " - " + e[0] + ") : (" + S + ")0)";
                 }}};
    }
  }
  switch (b.norm_op) {
    case ir::NormOp::softmax:
      return {{S, "-" + s_inf, "EincMaxSkipNaN", [as_s](const std::string& x, const auto&) { return as_s(x); }},
              {S, "(" + S + ")0", "EincAdd", [as_s](const std::string& x, const std::vector<std::string>& e) {
                 return "einc_exp(" + as_s(x) + " - " + e[0] + ")";
               }}};
    case ir::NormOp::layernorm:
      return {{S, "(" + S + ")0", "EincAdd", [as_s](const std::string& x, const auto&) { return as_s(x); }},
              {S, "(" + S + ")0", "EincAdd", [as_s, n](const std::string& x, const std::vector<std::string>& e) {
                 std::string d = "(" + as_s(x) + " - " + e[0] + " / " + n + ")";
                 return d + " * " + d;
               }}};
    case ir::NormOp::rmsnorm:
      return {{S, "(" + S + ")0", "EincAdd",
               [as_s](const std::string& x, const auto&) { return as_s(x) + " * " + as_s(x); }}};
  }
  return {};
}

std::string ExprEmitter::finish(const ir::Expr& b, const std::vector<std::string>& st, const std::string& x) const {
  const std::string S = s_;
  const std::int64_t count_value = count(b.over);
  const std::string n =
      S == "float" ? float_literal(static_cast<float>(count_value)) : double_literal(static_cast<double>(count_value));
  const std::string eps = S == "float" ? float_literal(1e-5f) : double_literal(1e-5);
  auto from_s = [&](const std::string& v) { return integer_ ? "einc_d2ll(" + v + ")" : "(" + t_ + ")(" + v + ")"; };
  auto as_s = [&](const std::string& v) { return "(" + S + ")" + v; };
  if (b.kind == ir::ExprKind::reduce) {
    switch (b.reduce_op) {
      case ir::ReduceOp::sum:
      case ir::ReduceOp::prod:
      case ir::ReduceOp::max:
      case ir::ReduceOp::min:
        return st[0];
      case ir::ReduceOp::mean:
        return integer_ ? "(" + st[0] + " / " + ll(count_value) + ")"
                        : "(" + st[0] + " / " + literal(static_cast<double>(count_value)) + ")";
      case ir::ReduceOp::logsumexp:
        return from_s("einc_isfinite(" + st[0] + ") ? " + st[0] + " + einc_log(" + st[1] + ") : " + st[0]);
    }
  }
  switch (b.norm_op) {
    case ir::NormOp::softmax:
      return from_s("einc_exp(" + as_s(x) + " - " + st[0] + ") / " + st[1]);
    case ir::NormOp::layernorm:
      return from_s("(" + as_s(x) + " - " + st[0] + " / " + n + ") / einc_sqrt(" + st[1] + " / " + n + " + " + eps +
                    ")");
    case ir::NormOp::rmsnorm:
      return from_s(as_s(x) + " / einc_sqrt(" + st[0] + " / " + n + " + " + eps + ")");
  }
  return st[0];
}

std::string ExprEmitter::binder(const ir::Expr& e, CodeWriter& w) {
  const ir::Expr& arg = *e.args[0];
  std::string what = e.kind == ir::ExprKind::reduce ? ir::reduce_op_name(e.reduce_op) : ir::norm_op_name(e.norm_op);
  std::string over;
  for (int i : e.over) over += (over.empty() ? "" : ", ") + index_name(i);
  std::vector<std::string> stats;
  if (auto it = stats_.find(&e); it != stats_.end()) {
    stats = it->second;
  } else {
    // Inline: one serial loop nest per pass (the loop variables shadow the
    // point's own values of the normalized indices).
    for (const StatPass& pass : passes(e)) {
      std::string result = w.fresh("st");
      w.line(pass.type + " " + result + ";");
      w.open("");  // a scope for the pass
      w.line("// " + what + " over " + over + ": pass " + std::to_string(stats.size() + 1));
      w.line(pass.type + " acc = " + pass.identity + ";");
      open_loops(e.over, w);
      std::string x = value(arg, w);
      w.line("acc = " + pass.combine + "()(acc, " + pass.element(x, stats) + ");");
      close_loops(e.over, w);
      w.line(result + " = acc;");
      w.close();
      stats.push_back(result);
    }
  }
  std::string x = e.kind == ir::ExprKind::normalize ? value(arg, w) : "";
  std::string v = w.fresh("v");
  w.line("const " + t_ + " " + v + " = " + finish(e, stats, x) + ";  // " + what + " over " + over);
  return v;
}

void ExprEmitter::store(const std::string& v, CodeWriter& w) {
  const ir::Tensor& target = program_.tensors.at(static_cast<std::size_t>(statement_.target));
  const auto& strides = strides_.at(static_cast<std::size_t>(statement_.target));
  std::vector<std::pair<int, std::int64_t>> terms;
  for (std::size_t d = 0; d < statement_.lhs.size(); ++d) terms.emplace_back(statement_.lhs[d], strides[d]);
  std::string at = "out[" + linear(terms, 0) + "]";
  std::string value = v;
  if (statement_.accumulate) {
    std::string old = to_compute(at, target.dtype);
    value = integer_ ? "einc_add(" + v + ", " + old + ")" : v + " + " + old;
  }
  std::string stored;
  switch (target.dtype) {
    case ir::DType::f32:
      stored = "(float)(" + value + ")";
      break;
    case ir::DType::f64:
      stored = "(double)(" + value + ")";
      break;
    case ir::DType::f16:
      stored = "__float2half_rn((float)(" + value + "))";
      break;
    case ir::DType::bf16:
      stored = "__float2bfloat16_rn((float)(" + value + "))";
      break;
    case ir::DType::i8:
    case ir::DType::i32: {
      std::string wide = integer_ ? value : "einc_d2ll((double)(" + value + "))";
      stored = std::string(target.dtype == ir::DType::i8 ? "(signed char)(unsigned char)" : "(int)(unsigned int)") +
               "(unsigned long long)(" + wide + ")";
      break;
    }
  }
  w.line(at + " = " + stored + ";");
}

void ExprEmitter::open_loops(const std::vector<int>& indices, CodeWriter& w) const {
  for (int i : indices)
    w.open("for (long long " + var(i) + " = 0; " + var(i) + " < " + ll(extent(i)) + "; ++" + var(i) + ")");
}

void ExprEmitter::close_loops(const std::vector<int>& indices, CodeWriter& w) const {
  for (std::size_t k = 0; k < indices.size(); ++k) w.close();
}

void ExprEmitter::decode(const std::vector<int>& indices, const std::string& linear, CodeWriter& w) const {
  if (indices.empty()) return;
  if (indices.size() == 1) {
    w.line("const long long " + var(indices[0]) + " = " + linear + ";  // " + index_name(indices[0]));
    return;
  }
  std::string rest = w.fresh("rest");
  w.line("long long " + rest + " = " + linear + ";");
  for (std::size_t k = indices.size(); k-- > 1;) {
    int i = indices[k];
    w.line("const long long " + var(i) + " = " + rest + " % " + ll(extent(i)) + ";  // " + index_name(i));
    w.line(rest + " /= " + ll(extent(i)) + ";");
  }
  w.line("const long long " + var(indices[0]) + " = " + rest + ";  // " + index_name(indices[0]));
}

}  // namespace einc::cuda
