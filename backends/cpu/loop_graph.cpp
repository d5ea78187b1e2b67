// backends/cpu/loop_graph.cpp — see loop_graph.h.
#include "backends/cpu/loop_graph.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "backends/reference/interpreter.h"
#include "ir/condition.h"
#include "ir/expr_builders.h"
#include "ir/known_fill.h"
#include "ir/product_plan.h"

namespace einc::cpu {

namespace {

constexpr std::size_t kMaxNodes = 512;  // bounds the generated code (and its compile time)

std::vector<int> sorted_union(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

std::vector<int> intersection(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<int> difference(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

bool subset(const std::vector<int>& a, const std::vector<int>& b) {
  return std::includes(b.begin(), b.end(), a.begin(), a.end());
}

std::string ids(const std::vector<int>& v) {
  std::string out;
  for (int x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

std::string hex_double(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  std::ostringstream out;
  out << std::hex << bits;
  return out.str();
}

// `select`'s condition (empty for other nodes): part of the interning key and the signature.
std::string condition_key(const LoopNode& n) {
  if (n.op != LoopOp::select) return "";
  return std::to_string(n.condition.lhs) + ir::compare_op_name(n.condition.op) + std::to_string(n.condition.rhs);
}

class GraphBuilder {
 public:
  GraphBuilder(const ir::Program& program, const ir::Statement& statement)
      : program_(program), statement_(statement), computes_as_(statement) {}

  LoopGraphResult build() {
    const ir::Tensor& target = program_.tensors.at(statement_.target);
    const ir::Expr* value = statement_.value.get();
    // `q = i8(f32 value)`: the value, rounded and saturated as it is stored
    // (an f16/bf16 value rounded to its dtype first).
    std::optional<DType> rounded_first;
    if (value->kind == ir::ExprKind::call && value->func == ir::Func::convert &&
        (value->convert_from == DType::f32 || is_half(value->convert_from)) &&
        (value->convert_to == DType::i8 || value->convert_to == DType::i32) && !statement_.accumulate) {
      graph_.target_dtype = value->convert_to;
      computes_as_ = ir::statement_for_argument(statement_, *value);
      if (is_half(value->convert_from)) rounded_first = value->convert_from;
      value = value->args[0].get();
    }
    // An f64 statement computes in f64 throughout (its tensors, its target).
    if (statement_.dtype == DType::f64 && graph_.target_dtype == DType::f32)
      graph_.element = graph_.target_dtype = DType::f64;
    // An f16/bf16 statement computes in f32, rounded once as it is stored.
    if (is_half(statement_.dtype) && graph_.target_dtype == DType::f32) graph_.target_dtype = statement_.dtype;
    // An integer statement computes in 64-bit integers (LoopGraph::element).
    if ((statement_.dtype == DType::i8 || statement_.dtype == DType::i32) && graph_.target_dtype == DType::f32) {
      graph_.element = DType::i32;
      graph_.target_dtype = statement_.dtype;
    }
    if (target.dtype != graph_.target_dtype ||
        (graph_.target_dtype == graph_.element && statement_.dtype != graph_.element))
      return fail("not f32, f64 or an integer statement");
    graph_.lhs = statement_.lhs;
    int root = lower(*value);
    if (rounded_first) root = round(root, *rounded_first);
    if (!reason_.empty()) return fail(reason_);
    // (the store rounds a half target: `y = bf16(x)` needs no round node)
    const LoopNode& top = graph_.nodes[static_cast<std::size_t>(root)];
    if (top.op == LoopOp::round && top.round_to == graph_.target_dtype) root = top.args[0];
    if (graph_.nodes.size() > kMaxNodes) return fail("too many operations for one loop kernel");
    graph_.root = root;
    split_loops();
    if (!place_reductions()) return fail(reason_);
    std::string kind = has_normalize_ ? "normalization" : has_reduce_ ? "reduction" : "elementwise";
    if (!graph_.splits.empty()) parts_.push_back("loops split where " + condition_text(graph_.splits[0].condition));
    std::string parts;
    for (const std::string& p : parts_) parts += (parts.empty() ? "" : "; ") + p;
    graph_.summary = parts.empty() ? kind : kind + ": " + parts;
    LoopGraphResult result;
    result.graph = std::move(graph_);
    return result;
  }

 private:
  LoopGraphResult fail(const std::string& why) {
    LoopGraphResult r;
    r.reason = why;
    return r;
  }

  bool integer() const { return graph_.element == DType::i32; }

  // What integer loop kernels do not compute yet: the statement is
  // interpreted, with this reason.
  int refuse_in_integer_statement(const std::string& what) {
    if (reason_.empty())
      reason_ =
          what +
          " in an integer statement (integer loop kernels do + - * /, functions, where, sum, prod, max, min and mean)";
    return 0;
  }

  // A number or dim expression of an integer statement, folded as the
  // reference folds it (wrapping int64, `/` truncating), into a scalar
  // slot; the slots are doubles, exact up to 2^53.
  int integer_scalar(const ir::Expr& e) {
    const std::int64_t value = reference::fold_integer(program_, statement_, e);
    constexpr std::int64_t kExact = std::int64_t{1} << 53;
    if (value > kExact || value < -kExact) return refuse_in_integer_statement("a constant past 2^53");
    LoopScalar s;
    s.number = static_cast<double>(value);
    return scalar(std::move(s));
  }

  int add(LoopNode n) {
    if (!reason_.empty()) return 0;  // failed already: the graph is abandoned
    std::ostringstream key;
    key << static_cast<int>(n.op) << '|' << ids(n.args) << '|' << n.slot << '|' << hex_double(n.constant) << '|'
        << static_cast<int>(n.func) << '|' << static_cast<int>(n.reduce) << '|' << ids(n.over) << '|'
        << condition_key(n) << '|' << static_cast<int>(n.round_to);
    auto [it, fresh] = interned_.emplace(key.str(), static_cast<int>(graph_.nodes.size()));
    if (!fresh) return it->second;
    switch (n.op) {
      case LoopOp::load:
        n.free = graph_.accesses[static_cast<std::size_t>(n.slot)].free;
        break;
      case LoopOp::scalar:
      case LoopOp::constant:
        n.free.clear();
        break;
      case LoopOp::reduce:
        n.free = difference(free_of(n.args[0]), n.over);
        break;
      case LoopOp::select:
        n.free = sorted_union(sorted_union(free_of(n.args[0]), free_of(n.args[1])),
                              sorted_union({n.condition.lhs}, {n.condition.rhs}));
        break;
      default:
        n.free.clear();
        for (int a : n.args) n.free = sorted_union(n.free, free_of(a));
    }
    graph_.nodes.push_back(std::move(n));
    return it->second;
  }

  const std::vector<int>& free_of(int node) const {
    static const std::vector<int> none;
    return reason_.empty() ? graph_.nodes.at(static_cast<std::size_t>(node)).free : none;
  }

  int op(LoopOp kind, std::vector<int> args) {
    LoopNode n;
    n.op = kind;
    n.args = std::move(args);
    return add(std::move(n));
  }

  int constant(double value) {
    LoopNode n;
    n.op = LoopOp::constant;
    n.constant = value;
    return add(std::move(n));
  }

  int scalar(LoopScalar s) {
    std::ostringstream key;
    key << static_cast<int>(s.kind) << '|' << hex_double(s.number) << '|' << s.dim << '|' << ids(s.indices);
    auto [it, fresh] = scalar_slots_.emplace(key.str(), static_cast<int>(graph_.scalars.size()));
    if (fresh) graph_.scalars.push_back(std::move(s));
    LoopNode n;
    n.op = LoopOp::scalar;
    n.slot = it->second;
    return add(std::move(n));
  }

  int count(const std::vector<int>& indices) {
    LoopScalar s;
    s.kind = LoopScalar::Kind::count;
    s.indices = indices;
    return scalar(std::move(s));
  }

  int call(ir::Func f, std::vector<int> args) {
    LoopNode n;
    n.op = LoopOp::call;
    n.func = f;
    n.args = std::move(args);
    if (f == ir::Func::pow) graph_.uses_pow = true;
    return add(std::move(n));
  }

  int reduce(LoopReduce r, const std::vector<int>& over, int body) {
    LoopNode n;
    n.op = LoopOp::reduce;
    n.reduce = r;
    n.over = intersection(over, free_of(body));
    n.args = {body};
    return add(std::move(n));
  }

  std::string names(const std::vector<int>& indices) const {
    std::string out;
    for (int id : indices) out += (out.empty() ? "" : ",") + statement_.indices[static_cast<std::size_t>(id)].name;
    return out;
  }

  // A tensor access loaded as `dtype` (the graph's element type, or i32
  // under f32(...)).
  int access(const ir::Expr& e, DType dtype) {
    if (integer()) {  // i8 and i32 tensors alike, sign-extended as loaded
      dtype = program_.tensors.at(e.tensor).dtype;
      if (dtype != DType::i8 && dtype != DType::i32) {
        reason_ = "an operand of an integer statement is not i8 or i32";
        return 0;
      }
    }
    if (program_.tensors.at(e.tensor).dtype != dtype) {
      reason_ = std::string("an operand is not ") + dtype_name(dtype);
      return 0;
    }
    if (e.tensor == statement_.target) {
      reason_ = "+= reads its own target";
      return 0;
    }
    if (e.zero_padded) {
      reason_ = "a zero-padded access";
      return 0;
    }
    if (ir::has_lookup(e.subscripts)) {
      reason_ = "a lookup";
      return 0;
    }
    std::string key = std::to_string(e.tensor) + ":" + ir::subscripts_key(e.subscripts);
    auto [it, fresh] = access_slots_.emplace(key, static_cast<int>(graph_.accesses.size()));
    if (fresh) graph_.accesses.push_back({e.tensor, dtype, e.subscripts, e.free});
    LoopNode n;
    n.op = LoopOp::load;
    n.slot = it->second;
    const int load = add(std::move(n));
    return dtype == graph_.element && !integer() ? with_known_fill(e, load) : load;
  }

  // A read of a tensor known to hold a fill outside a condition
  // (ir/known_fill.h) is `where(condition, the read, fill)`: the same value,
  // written so that the loops can be split there.
  int with_known_fill(const ir::Expr& e, int load) {
    const std::optional<ir::KnownFill> fill = ir::known_fill(program_, statement_, e);
    if (!fill) return load;
    LoopScalar value;
    try {
      value.number = reference::fold_real(program_, *fill->writer, *fill->value);
    } catch (const ir::UnboundDimError&) {
      return load;
    }
    LoopNode n;
    n.op = LoopOp::select;
    n.condition = fill->condition;
    n.args = {load, scalar(std::move(value))};
    return add(std::move(n));
  }

  // A conversion in an f32 kernel, to f32, f16 or bf16, as the reference
  // converts (reference/conversion.h): the argument's value in f32 — an
  // i32/i8 tensor loaded converted (sitofp rounds to nearest, as the
  // reference's conversion through f32 does; i8 is exact), an f16/bf16
  // tensor loaded widened (exact), any other argument computed as its own
  // statement would (computes_as_) and rounded to its dtype where that is
  // f16/bf16 — then rounded to the target dtype where that is f16/bf16.
  // f32(...) of an f32 value (f64 of f64) is that value.
  int conversion(const ir::Expr& e) {
    if (integer()) return refuse_in_integer_statement("a conversion");
    const ir::Expr& arg = *e.args[0];
    const DType from = e.convert_from, to = e.convert_to;
    if (to == graph_.element && from == graph_.element) return lower(arg);
    const bool integer_from = from == DType::i32 || from == DType::i8;
    if (graph_.element != DType::f32 || !(to == DType::f32 || is_half(to)) ||
        !(from == DType::f32 || is_half(from) || (integer_from && arg.kind == ir::ExprKind::access))) {
      reason_ = "a conversion other than between f32, f16 and bf16 values or of an i32 or i8 tensor to them";
      return 0;
    }
    int x = 0;
    if (arg.kind == ir::ExprKind::access && from != DType::f32) {
      x = access(arg, from);
    } else {
      const ir::Statement outer = computes_as_;
      computes_as_ = ir::statement_for_argument(outer, e);
      x = lower(arg);
      computes_as_ = outer;
      if (is_half(from)) x = round(x, from);
    }
    return is_half(to) ? round(x, to) : x;
  }

  // x rounded to f16/bf16 `to` (to nearest, ties to even), as an f32 value.
  int round(int x, DType to) {
    if (!reason_.empty()) return 0;
    const LoopNode& node = graph_.nodes.at(static_cast<std::size_t>(x));
    // (a load of a tensor of that dtype, or a value rounded to it already, is exact)
    if ((node.op == LoopOp::load && graph_.accesses.at(static_cast<std::size_t>(node.slot)).dtype == to) ||
        (node.op == LoopOp::round && node.round_to == to))
      return x;
    LoopNode n;
    n.op = LoopOp::round;
    n.round_to = to;
    n.args = {x};
    return add(std::move(n));
  }

  // The dtype a tensor read in the current (sub)statement is loaded as:
  // the kernel's element type, or the f16/bf16 of the statement computed.
  DType operand_dtype() const { return is_half(computes_as_.dtype) ? computes_as_.dtype : graph_.element; }

  int lower(const ir::Expr& e) {
    if (!reason_.empty()) return 0;
    if (integer() && e.folds && e.kind != ir::ExprKind::dim_value) {
      try {
        return integer_scalar(e);
      } catch (const ir::UnboundDimError&) {
      } catch (const reference::ExecutionError&) {  // (a division by zero: the interpreter reports it)
        return refuse_in_integer_statement("a constant expression that does not fold");
      }
    }
    if (e.folds && e.kind != ir::ExprKind::constant && e.kind != ir::ExprKind::dim_value) {
      // Numbers and dims only (`sqrt(E)`): computed here, once, as the
      // reference computes it, and read from a scalar slot like a number.
      // Left to the code below while a dim it needs is unbound (no run).
      try {
        LoopScalar s;
        s.number = reference::fold_real(program_, statement_, e);
        return scalar(std::move(s));
      } catch (const ir::UnboundDimError&) {
      }
    }
    if (ir::is_product(computes_as_, e)) return lower_product(e);
    switch (e.kind) {
      case ir::ExprKind::access:
        return access(e, operand_dtype());
      case ir::ExprKind::constant: {
        LoopScalar s;
        s.number = e.constant;
        return scalar(std::move(s));
      }
      case ir::ExprKind::dim_value: {
        LoopScalar s;
        s.kind = LoopScalar::Kind::dim;
        s.dim = e.dim;
        return scalar(std::move(s));
      }
      case ir::ExprKind::negate:
        return op(LoopOp::neg, {lower(*e.args[0])});
      case ir::ExprKind::call: {
        if (e.func == ir::Func::convert) return conversion(e);
        std::vector<int> args;
        for (const auto& a : e.args) args.push_back(lower(*a));
        return call(e.func, std::move(args));
      }
      case ir::ExprKind::add:
      case ir::ExprKind::multiply: {
        bool additive = e.kind == ir::ExprKind::add;
        int acc = -1;
        for (std::size_t k = 0; k < e.args.size(); ++k) {
          int x = lower(*e.args[k]);
          char o = e.ops[k];
          if (acc < 0) {
            acc = o == '-' ? op(LoopOp::neg, {x}) : o == '/' ? op(LoopOp::div, {constant(1.0), x}) : x;
          } else if (additive) {
            acc = op(o == '+' ? LoopOp::add : LoopOp::sub, {acc, x});
          } else {
            acc = op(o == '*' ? LoopOp::mul : LoopOp::div, {acc, x});
          }
        }
        return acc;
      }
      case ir::ExprKind::reduce:
        return lower_reduce(e);
      case ir::ExprKind::normalize:
        return lower_normalize(e);
      case ir::ExprKind::select: {
        LoopNode n;
        n.op = LoopOp::select;
        n.condition = e.condition;
        n.args = {lower(*e.args[0]), lower(*e.args[1])};
        return add(std::move(n));
      }
    }
    reason_ = "unknown IR node";
    return 0;
  }

  // A product is computed as its plan says (ir/product_plan.h): each
  // operand (a reciprocal, a sum inside it), then the steps, each a
  // multiply or divide node and a sum node for what it sums. That is the
  // plan's work when every node runs once per point of its indices: a plan
  // of one step (the sums are reduce nodes, placed exactly), or of steps
  // that are each elementwise over the product's whole result. Other plans
  // run as product steps. A product that sums is a loop nest over every
  // index of its step: fine when one operand holds every index (no pairwise
  // order can do less than reading it), not for matmul-like products.
  int lower_product(const ir::Expr& e) {
    ir::ProductPlan plan;
    try {
      plan = ir::plan_product(program_, computes_as_, e);
    } catch (const ir::UnboundDimError&) {
      reason_ = "a dim is unbound";
      return 0;
    }
    if (plan.steps.size() > 1 && !ir::steps_are_elementwise(plan)) {
      reason_ = "a product computed in pairwise steps";
      return 0;
    }
    if (!plan.summed.empty()) {
      std::vector<int> all;
      for (const ir::ProductOperand& operand : plan.operands) all = sorted_union(all, operand.factor->free);
      bool dense = false;
      for (const ir::ProductOperand& operand : plan.operands) dense = dense || operand.factor->free == all;
      if (!dense) {
        reason_ = "contraction";
        return 0;
      }
      has_reduce_ = true;
      parts_.push_back("sum over " + names(plan.summed));
    }
    std::deque<int> list;  // a deque: steps remove entries at both ends
    for (const ir::ProductOperand& operand : plan.operands) {
      int x = lower(*operand.factor);
      if (operand.use == ir::FactorUse::invert) x = op(LoopOp::div, {constant(1.0), x});
      if (!operand.pre_reduced.empty()) x = reduce(LoopReduce::sum, operand.pre_reduced, x);
      list.push_back(x);
    }
    for (const ir::ProductStep& step : plan.steps) {
      const int a = list.at(static_cast<std::size_t>(step.lhs)), b = list.at(static_cast<std::size_t>(step.rhs));
      int value = step.lhs_divisor == step.rhs_divisor ? op(LoopOp::mul, {a, b})
                  : step.rhs_divisor                   ? op(LoopOp::div, {a, b})
                                                       : op(LoopOp::div, {b, a});
      if (!step.over.empty()) value = reduce(LoopReduce::sum, step.over, value);
      list.erase(list.begin() + step.rhs);
      list.erase(list.begin() + step.lhs);
      list.push_back(value);
    }
    if (!reason_.empty()) return 0;
    return plan.result_divisor ? op(LoopOp::div, {constant(1.0), list.back()}) : list.back();
  }

  int lower_reduce(const ir::Expr& e) {
    // (An integer mean is the int64 sum divided by the count, truncating,
    // as the reference's; logsumexp computes in double there.)
    if (integer() && e.reduce_op == ir::ReduceOp::logsumexp)
      return refuse_in_integer_statement(std::string(ir::reduce_op_name(e.reduce_op)));
    has_reduce_ = true;
    parts_.push_back(std::string(ir::reduce_op_name(e.reduce_op)) + " over " + names(e.over));
    int body = lower(*e.args[0]);
    if (!reason_.empty()) return 0;
    switch (e.reduce_op) {
      case ir::ReduceOp::sum:
        return reduce(LoopReduce::sum, e.over, body);
      case ir::ReduceOp::prod:
        return reduce(LoopReduce::prod, e.over, body);
      case ir::ReduceOp::max:
      case ir::ReduceOp::min:
        graph_.must_be_nonempty.push_back(e.over);
        return reduce(e.reduce_op == ir::ReduceOp::max ? LoopReduce::max : LoopReduce::min, e.over, body);
      case ir::ReduceOp::mean:
        graph_.must_be_nonempty.push_back(e.over);
        return op(LoopOp::div, {reduce(LoopReduce::sum, e.over, body), count(e.over)});
      case ir::ReduceOp::logsumexp: {
        graph_.must_be_nonempty.push_back(e.over);
        int m = reduce(LoopReduce::max_skip_nan, e.over, body);
        int s = reduce(LoopReduce::sum, e.over, call(ir::Func::exp, {op(LoopOp::sub, {body, m})}));
        return op(LoopOp::lse_final, {m, s});
      }
    }
    reason_ = "unknown reduction";
    return 0;
  }

  int lower_normalize(const ir::Expr& e) {
    if (integer()) return refuse_in_integer_statement("a normalization");
    has_normalize_ = true;
    parts_.push_back(std::string(ir::norm_op_name(e.norm_op)) + " over " + names(e.over));
    int body = lower(*e.args[0]);
    if (!reason_.empty()) return 0;
    std::vector<int> axes = intersection(e.over, free_of(body));
    graph_.must_be_nonempty.push_back(axes);
    auto inverse_sqrt = [&](int x) {
      return op(LoopOp::div, {constant(1.0), call(ir::Func::sqrt, {op(LoopOp::add, {x, constant(1e-5)})})});
    };
    switch (e.norm_op) {
      case ir::NormOp::softmax: {
        int m = reduce(LoopReduce::max_skip_nan, axes, body);
        int ex = call(ir::Func::exp, {op(LoopOp::sub, {body, m})});
        int s = reduce(LoopReduce::sum, axes, ex);
        return op(LoopOp::mul, {ex, op(LoopOp::div, {constant(1.0), s})});
      }
      case ir::NormOp::layernorm: {
        int n = count(axes);
        int mean = op(LoopOp::div, {reduce(LoopReduce::sum, axes, body), n});
        int d = op(LoopOp::sub, {body, mean});
        int var = op(LoopOp::div, {reduce(LoopReduce::sum, axes, op(LoopOp::mul, {d, d})), n});
        return op(LoopOp::mul, {d, inverse_sqrt(var)});
      }
      case ir::NormOp::rmsnorm: {
        int ms = op(LoopOp::div, {reduce(LoopReduce::sum, axes, op(LoopOp::mul, {body, body})), count(axes)});
        return op(LoopOp::mul, {body, inverse_sqrt(ms)});
      }
    }
    reason_ = "unknown normalization";
    return 0;
  }

  // --- loops split at a condition (loop_graph.h) ------------------------------

  std::string condition_text(const ir::Condition& c) const {
    return names({c.lhs}) + " " + ir::compare_op_name(c.op) + " " + names({c.rhs});
  }

  // The first select in `value` on an ordering of two indices, one of them
  // a loop of the nest (`loops`), not looking inside reductions (nests of
  // their own).
  std::optional<ir::Condition> first_condition(int value, const std::vector<int>& loops, std::set<int>& seen) const {
    if (!seen.insert(value).second) return std::nullopt;
    const LoopNode& node = graph_.nodes[static_cast<std::size_t>(value)];
    if (node.op == LoopOp::reduce) return std::nullopt;
    const ir::Condition& c = node.condition;
    if (node.op == LoopOp::select && c.op != ir::CompareOp::eq && c.op != ir::CompareOp::ne &&
        (std::count(loops.begin(), loops.end(), c.lhs) || std::count(loops.begin(), loops.end(), c.rhs)))
      return c;
    for (int a : node.args)
      if (auto found = first_condition(a, loops, seen)) return found;
    return std::nullopt;
  }

  // `value` where `condition` holds (or does not): each select on it (or on
  // its negation) replaced by the branch it takes there.
  int version(int value, const ir::Condition& condition, bool holds, std::map<int, int>& memo) {
    if (auto it = memo.find(value); it != memo.end()) return it->second;
    LoopNode node = graph_.nodes[static_cast<std::size_t>(value)];  // (a copy: add() grows the list)
    int result = value;
    if (node.op == LoopOp::select && ir::equivalent(node.condition, condition)) {
      result = version(node.args[holds ? 0 : 1], condition, holds, memo);
    } else if (node.op == LoopOp::select && ir::equivalent(node.condition, ir::negated(condition))) {
      result = version(node.args[holds ? 1 : 0], condition, holds, memo);
    } else if (node.op != LoopOp::reduce && !node.args.empty()) {
      std::vector<int> args;
      for (int a : node.args) args.push_back(version(a, condition, holds, memo));
      if (args != node.args) {
        node.args = std::move(args);
        result = add(std::move(node));
      }
    }
    memo[value] = result;
    return result;
  }

  void split_nest(int nest, int value, const std::vector<int>& loops) {
    std::set<int> seen;
    const std::optional<ir::Condition> condition = first_condition(value, loops, seen);
    if (!condition) return;
    std::map<int, int> inside_memo, outside_memo;
    LoopSplit split;
    split.nest = nest;
    split.condition = *condition;
    split.inside = version(value, *condition, true, inside_memo);
    split.outside = version(value, *condition, false, outside_memo);
    graph_.splits.push_back(split);
  }

  void split_loops() {
    if (graph_.nodes.size() > kMaxNodes / 2) return;  // each version may copy the nest's nodes
    // Both operands of a `where` are computed, as in the reference: a
    // division by 0 in the one not taken is still an error
    // (docs/language.md), which a split loop would never compute.
    if (divides_by_what_may_be_zero(graph_)) return;
    const std::size_t original = graph_.nodes.size();
    split_nest(-1, graph_.root, graph_.lhs);
    for (std::size_t n = 0; n < original; ++n) {
      const LoopNode& node = graph_.nodes[n];
      if (node.op == LoopOp::reduce) split_nest(static_cast<int>(n), node.args[0], std::vector<int>(node.over));
    }
  }

  // --- exact placement -------------------------------------------------------
  //
  // A nest is the output nest (-1, the lhs indices) or a reduce node (its
  // `over`). A reduce node referenced inside nests ctx[0..] is placed in the
  // deepest one that binds one of its free indices; it is computed once per
  // point of its free set when (1) its free indices in that nest form a
  // prefix of the nest's order, recorded here as a constraint, and (2) the
  // enclosing reduce (if the nest is one) varies only with indices the node
  // varies with too.

  const std::vector<int>& nest_indices(int nest) const {
    return nest < 0 ? graph_.lhs : graph_.nodes[static_cast<std::size_t>(nest)].over;
  }

  void visit(int n, const std::vector<int>& ctx) {
    if (!reason_.empty()) return;
    std::string key = std::to_string(n) + "@" + ids(ctx);
    if (!visited_.insert(key).second) return;
    const LoopNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    if (node.op != LoopOp::reduce) {
      for (int a : node.args) visit(a, ctx);
      return;
    }
    std::vector<int> body_ctx;
    for (std::size_t k = ctx.size(); k-- > 0;) {
      std::vector<int> f = intersection(node.free, sorted(nest_indices(ctx[k])));
      if (f.empty()) continue;
      if (ctx[k] >= 0 && !subset(graph_.nodes[static_cast<std::size_t>(ctx[k])].free, node.free)) {
        reason_ = "a reduction inside another reduction's loop would be recomputed for indices it does not use";
        return;
      }
      constraints_[ctx[k]].insert(f);
      body_ctx.assign(ctx.begin(), ctx.begin() + static_cast<std::ptrdiff_t>(k) + 1);
      break;
    }
    body_ctx.push_back(n);
    visit(node.args[0], body_ctx);
  }

  static std::vector<int> sorted(std::vector<int> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  // The constraint sets of one nest as ordered groups, or false.
  bool groups_for(int nest, std::vector<std::vector<int>>& groups) {
    std::vector<std::vector<int>> sets(constraints_[nest].begin(), constraints_[nest].end());
    std::sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) { return a.size() < b.size(); });
    std::vector<int> done;
    for (const auto& s : sets) {
      if (!subset(done, s)) {
        reason_ = "reductions over index sets that no one loop order nests";
        return false;
      }
      std::vector<int> g = difference(s, done);
      if (!g.empty()) groups.push_back(g);
      done = s;
    }
    std::vector<int> rest = difference(sorted(nest_indices(nest)), done);
    if (!rest.empty()) groups.push_back(rest);
    return true;
  }

  bool place_reductions() {
    visit(graph_.root, {-1});
    if (!reason_.empty()) return false;
    if (!groups_for(-1, graph_.output_groups)) return false;
    graph_.reduce_groups.assign(graph_.nodes.size(), {});
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n)
      if (graph_.nodes[n].op == LoopOp::reduce && !groups_for(static_cast<int>(n), graph_.reduce_groups[n]))
        return false;
    return true;
  }

  const ir::Program& program_;
  const ir::Statement& statement_;
  // The statement whose dtype the value computes in: `statement_`, or for
  // `q = i8(f32 value)` the value's (ir::statement_for_argument), which
  // decides how its products are planned, as the reference plans them.
  ir::Statement computes_as_;
  LoopGraph graph_;
  std::string reason_;
  std::map<std::string, int> interned_, access_slots_, scalar_slots_;
  std::set<std::string> visited_;
  std::map<int, std::set<std::vector<int>>> constraints_;
  std::vector<std::string> parts_;
  bool has_reduce_ = false, has_normalize_ = false;
};

const char* op_name(LoopOp op) {
  switch (op) {
    case LoopOp::load:
      return "load";
    case LoopOp::scalar:
      return "scalar";
    case LoopOp::constant:
      return "const";
    case LoopOp::neg:
      return "neg";
    case LoopOp::add:
      return "add";
    case LoopOp::sub:
      return "sub";
    case LoopOp::mul:
      return "mul";
    case LoopOp::div:
      return "div";
    case LoopOp::call:
      return "call";
    case LoopOp::reduce:
      return "reduce";
    case LoopOp::lse_final:
      return "lse";
    case LoopOp::select:
      return "select";
    case LoopOp::round:
      return "round";
  }
  return "?";
}

}  // namespace

bool nonzero_number(const LoopGraph& graph, int n) {
  const LoopNode& node = graph.nodes.at(static_cast<std::size_t>(n));
  if (node.op == LoopOp::constant) return node.constant != 0;
  if (node.op != LoopOp::scalar) return false;
  const LoopScalar& slot = graph.scalars.at(static_cast<std::size_t>(node.slot));
  return slot.kind == LoopScalar::Kind::number && slot.number != 0;
}

bool uses_dtype(const LoopGraph& graph, DType dtype) {
  if (graph.target_dtype == dtype) return true;
  for (const LoopAccess& a : graph.accesses)
    if (a.dtype == dtype) return true;
  for (const LoopNode& n : graph.nodes)
    if (n.op == LoopOp::round && n.round_to == dtype) return true;
  return false;
}

bool divides_by_what_may_be_zero(const LoopGraph& graph) {
  if (graph.element != DType::i32) return false;
  for (const LoopNode& node : graph.nodes)
    if (node.op == LoopOp::div && !nonzero_number(graph, node.args.at(1))) return true;
  return false;
}

LoopGraphResult build_loop_graph(const ir::Program& program, const ir::Statement& statement) {
  return GraphBuilder(program, statement).build();
}

std::set<int> nodes_under(const LoopGraph& graph, int n) {
  std::set<int> seen;
  std::vector<int> stack{n};
  while (!stack.empty()) {
    const int m = stack.back();
    stack.pop_back();
    if (!seen.insert(m).second) continue;
    const std::vector<int>& args = graph.nodes[static_cast<std::size_t>(m)].args;
    stack.insert(stack.end(), args.begin(), args.end());
  }
  return seen;
}

bool uses_a_reduction(const LoopGraph& graph, int n) {
  const std::set<int> under = nodes_under(graph, n);
  return std::any_of(under.begin(), under.end(),
                     [&](int m) { return graph.nodes[static_cast<std::size_t>(m)].op == LoopOp::reduce; });
}

std::string loop_graph_signature(const LoopGraph& graph) {
  std::ostringstream out;
  out << "lhs " << ids(graph.lhs) << " root " << graph.root << (graph.uses_pow ? " pow" : "") << "\n";
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const LoopNode& n = graph.nodes[i];
    out << i << ' ' << op_name(n.op) << " (" << ids(n.args) << ") free " << ids(n.free);
    if (n.op == LoopOp::load || n.op == LoopOp::scalar) out << " slot " << n.slot;
    if (n.op == LoopOp::constant) out << " " << hex_double(n.constant);
    if (n.op == LoopOp::call) out << " " << ir::func_name(n.func);
    if (n.op == LoopOp::reduce) out << " r" << static_cast<int>(n.reduce) << " over " << ids(n.over);
    if (n.op == LoopOp::select) out << " if " << condition_key(n);
    if (n.op == LoopOp::round) out << " to " << dtype_name(n.round_to);
    out << "\n";
  }
  for (const LoopSplit& split : graph.splits)
    out << "split " << split.nest << " at " << split.condition.lhs << ir::compare_op_name(split.condition.op)
        << split.condition.rhs << " " << split.inside << " " << split.outside << "\n";
  if (graph.outside_unread) out << "outside unread\n";
  if (graph.element != DType::f32) out << "element " << dtype_name(graph.element) << "\n";
  if (graph.target_dtype != graph.element) out << "store " << dtype_name(graph.target_dtype) << "\n";
  for (std::size_t slot = 0; slot < graph.accesses.size(); ++slot)
    if (graph.accesses[slot].dtype != graph.element)
      out << "slot " << slot << " " << dtype_name(graph.accesses[slot].dtype) << "\n";
  return out.str();
}

}  // namespace einc::cpu
