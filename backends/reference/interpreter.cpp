// backends/reference/interpreter.cpp — see interpreter.h.
//
// Evaluator<T> computes every IR node as a Dense<T> over the node's free
// indices, bottom-up, with T = double for float statements and int64 for
// integer ones. Integer arithmetic wraps (two's complement, through
// unsigned) instead of overflowing; division by zero is an ExecutionError.
// A subexpression of numbers and dims (ir::Expr::folds, `sqrt(E)`) is a
// 0-d Dense, computed once per statement; fold_real / fold_integer give
// the other backends that same value.
#include "backends/reference/interpreter.h"

#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <string>

#include "backends/reference/conversion.h"
#include "backends/reference/dense.h"
#include "einc/internal_error.h"
#include "ir/condition.h"
#include "ir/expr_builders.h"
#include "ir/product_plan.h"
#include "ir/real_to_integer.h"

namespace einc::reference {

namespace {

using ir::Expr;
using ir::ExprKind;

// --- scalar arithmetic per accumulation type ------------------------------

template <typename T>
struct Arith;

template <>
struct Arith<double> {
  static double add(double a, double b) { return a + b; }
  static double sub(double a, double b) { return a - b; }
  static double mul(double a, double b) { return a * b; }
  static double div(double a, double b, int) { return a / b; }
  static double neg(double a) { return -a; }
  static double from_double(double v) { return v; }
};

template <>
struct Arith<std::int64_t> {
  using U = std::uint64_t;
  static std::int64_t add(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(U(a) + U(b)); }
  static std::int64_t sub(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(U(a) - U(b)); }
  static std::int64_t mul(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(U(a) * U(b)); }
  static std::int64_t div(std::int64_t a, std::int64_t b, int line) {
    if (b == 0) throw ExecutionError("integer division by zero in the statement at line " + std::to_string(line));
    if (a == std::numeric_limits<std::int64_t>::min() && b == -1) return a;
    return a / b;
  }
  static std::int64_t neg(std::int64_t a) { return static_cast<std::int64_t>(U(0) - U(a)); }
  static std::int64_t from_double(double v) { return ir::real_to_int64(v); }
};

template <typename T>
bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(x);
  else
    return false;
}

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

}  // namespace

double apply_function(ir::Func f, double a, double b) {
  switch (f) {
    case ir::Func::exp:
      return std::exp(a);
    case ir::Func::log:
      return std::log(a);
    case ir::Func::sqrt:
      return std::sqrt(a);
    case ir::Func::rsqrt:
      return 1.0 / std::sqrt(a);
    case ir::Func::abs:
      return std::fabs(a);
    case ir::Func::tanh:
      return std::tanh(a);
    case ir::Func::sigmoid:
      return sigmoid(a);
    case ir::Func::relu:
      return a > 0 ? a : (std::isnan(a) ? a : 0.0);
    case ir::Func::gelu:
      return 0.5 * a * (1.0 + std::erf(a / std::sqrt(2.0)));
    case ir::Func::silu:
      return a * sigmoid(a);
    case ir::Func::max:
      return std::isnan(a) || a > b ? a : b;
    case ir::Func::min:
      return std::isnan(a) || a < b ? a : b;
    case ir::Func::pow:
      return std::pow(a, b);
    case ir::Func::convert:  // (Evaluator::convert: needs the dtypes)
      break;
  }
  EINC_FAIL(std::string("reference: apply_function of ") + ir::func_name(f));
}

namespace {

template <typename T>
class Evaluator {
 public:
  Evaluator(const ir::Program& program, const ir::Statement& statement, const std::vector<Tensor>& tensors)
      : program_(program),
        statement_(statement),
        tensors_(tensors),
        extents_(ir::index_extents(program, statement)),
        evaluate_([&program](const ir::Poly& p) { return program.evaluate(p); }) {}

  Dense<T> eval(const Expr& e) {
    if (ir::is_product(statement_, e)) return product(e);
    switch (e.kind) {
      case ExprKind::access:
        return access(e);
      case ExprKind::constant:
        return scalar(Arith<T>::from_double(e.constant));
      case ExprKind::dim_value:
        return scalar(Arith<T>::from_double(static_cast<double>(*program_.dims[e.dim].value)));
      case ExprKind::negate: {
        Dense<T> v = eval(*e.args[0]);
        for (T& x : v.data) x = Arith<T>::neg(x);
        return v;
      }
      case ExprKind::call:
        return call(e);
      case ExprKind::add:
      case ExprKind::multiply:
        return nary(e);
      case ExprKind::reduce:
        return reduce(e);
      case ExprKind::normalize:
        return normalize(e);
      case ExprKind::select:
        return select(e);
    }
    throw ExecutionError("unknown IR node");
  }

  std::int64_t extent(int index) const { return extents_[index]; }

 private:
  std::vector<std::int64_t> extents_of(const std::vector<int>& ids) const {
    std::vector<std::int64_t> out;
    for (int id : ids) out.push_back(extents_[id]);
    return out;
  }

  Dense<T> make(const std::vector<int>& indices) const {
    Dense<T> v;
    v.indices = indices;
    v.extents = extents_of(indices);
    std::int64_t n = 1;
    for (std::int64_t e : v.extents) n *= e;
    v.data.assign(static_cast<std::size_t>(n), T(0));
    return v;
  }

  Dense<T> scalar(T value) const {
    Dense<T> v = make({});
    v.data[0] = value;
    return v;
  }

  static std::vector<int> sorted_union(std::vector<int> a, const std::vector<int>& b) {
    a.insert(a.end(), b.begin(), b.end());
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    return a;
  }

  // An access is a strided view (ir/subscript.h): one stride per free
  // index, starting at the offsets' element.
  Dense<T> access(const Expr& e) const {
    if (e.zero_padded || ir::has_lookup(e.subscripts)) return pointwise_access(e);
    const Tensor& t = tensors_.at(e.tensor);
    Dense<T> v = make(e.free);
    std::vector<std::int64_t> tensor_strides;
    for (int index : e.free) tensor_strides.push_back(ir::access_stride(t.strides(), e.subscripts, index));
    const std::int64_t start = ir::access_offset(t.strides(), e.subscripts, evaluate_);
    const char* base = static_cast<const char*>(t.data());
    auto size = static_cast<std::int64_t>(dtype_size(t.dtype()));
    DType dtype = t.dtype();
    for_each_point<2>(v.extents, {v.strides_in(e.free), tensor_strides}, [&](const auto& o) {
      v.data[o[0]] = Arith<T>::from_double(load_element(dtype, base + (start + o[1]) * size));
    });
    return v;
  }

  // `padded(X[...])` and lookups (`wte[ids[t], d]`): each position is
  // computed point by point. Outside the tensor a padded access reads 0; a
  // lookup's id outside it is an error naming the id and where it was read.
  Dense<T> pointwise_access(const Expr& e) const {
    const Tensor& t = tensors_.at(e.tensor);
    Dense<T> v = make(e.free);
    const std::size_t rank = e.subscripts.size();
    const char* base = static_cast<const char*>(t.data());
    auto size = static_cast<std::int64_t>(dtype_size(t.dtype()));
    std::vector<std::int64_t> offsets;
    for (const ir::Subscript& s : e.subscripts) offsets.push_back(evaluate_(s.offset));
    std::vector<std::int64_t> value(statement_.indices.size(), 0);
    CancelPoll poll;
    for (std::int64_t flat = 0; flat < v.size(); ++flat, poll.tick()) {
      for (std::size_t f = e.free.size(), rest = static_cast<std::size_t>(flat); f-- > 0;) {
        value[e.free[f]] = static_cast<std::int64_t>(rest % static_cast<std::size_t>(v.extents[f]));
        rest /= static_cast<std::size_t>(v.extents[f]);
      }
      std::int64_t element = 0;
      bool inside = true;
      for (std::size_t d = 0; d < rank && inside; ++d) {
        const ir::Subscript& s = e.subscripts[d];
        std::int64_t position = s.is_lookup() ? read_lookup_id(program_, statement_, e, d, tensors_, value)
                                              : ir::position_at(s, offsets[d], value);
        inside = position >= 0 && position < t.shape()[d];
        element += position * t.strides()[d];
      }
      v.data[flat] = inside ? Arith<T>::from_double(load_element(t.dtype(), base + element * size)) : T(0);
    }
    return v;
  }

  // Broadcasts `v` onto `space` (a superset of its indices).
  Dense<T> broadcast(const Dense<T>& v, const std::vector<int>& space) const {
    if (v.indices == space) return v;
    Dense<T> out = make(space);
    for_each_point<2>(out.extents, {out.strides_in(space), v.strides_in(space)},
                      [&](const auto& o) { out.data[o[0]] = v.data[o[1]]; });
    return out;
  }

  Dense<T> call(const Expr& e) {
    if (e.func == ir::Func::convert) return convert(e);
    std::vector<Dense<T>> args;
    for (const auto& a : e.args) args.push_back(broadcast(eval(*a), e.free));
    Dense<T> out = std::move(args[0]);
    CancelPoll poll;
    for (std::size_t i = 0; i < out.data.size(); ++i, poll.tick()) {
      double a = static_cast<double>(out.data[i]);
      double b = args.size() > 1 ? static_cast<double>(args[1].data[i]) : 0.0;
      out.data[i] = Arith<T>::from_double(apply_function(e.func, a, b));
    }
    return out;
  }

  // f32(...), i8(...): the argument evaluated in its own dtype's domain
  // (an Evaluator of that type over the statement as the argument computes:
  // ir::statement_for_argument), then each value converted (conversion.h).
  Dense<T> convert(const Expr& e) {
    const Expr& arg = *e.args[0];
    const ir::Statement as_argument = ir::statement_for_argument(statement_, e);
    if (ir::is_floating(e.convert_from))
      return converted(Evaluator<double>(program_, as_argument, tensors_).eval(arg), e);
    return converted(Evaluator<std::int64_t>(program_, as_argument, tensors_).eval(arg), e);
  }

  template <typename U>
  Dense<T> converted(const Dense<U>& value, const Expr& e) const {
    Dense<T> out;
    out.indices = value.indices;
    out.extents = value.extents;
    out.data.resize(value.data.size());
    const bool to_real = ir::is_floating(e.convert_to);
    if (to_real != std::is_floating_point_v<T>)
      EINC_FAIL("reference: a conversion to " + std::string(dtype_name(e.convert_to)) + " in a statement of " +
                dtype_name(statement_.dtype));
    for (std::size_t i = 0; i < value.data.size(); ++i) {
      if constexpr (std::is_floating_point_v<T> && std::is_floating_point_v<U>)
        out.data[i] = convert_real_to_real(value.data[i], e.convert_from, e.convert_to);
      else if constexpr (std::is_floating_point_v<T>)
        out.data[i] = convert_integer_to_real(value.data[i], e.convert_from, e.convert_to);
      else if constexpr (std::is_floating_point_v<U>)
        out.data[i] = convert_real_to_integer(value.data[i], e.convert_from, e.convert_to);
      else
        out.data[i] = convert_integer_to_integer(value.data[i], e.convert_from, e.convert_to);
    }
    return out;
  }

  // where(c, a, b): both operands over the node's indices, then the
  // condition on the two compared indices picks one per point.
  Dense<T> select(const Expr& e) {
    Dense<T> out = broadcast(eval(*e.args[0]), e.free);
    const Dense<T> other = broadcast(eval(*e.args[1]), e.free);
    auto position = [&](int id) {
      return static_cast<std::size_t>(std::find(e.free.begin(), e.free.end(), id) - e.free.begin());
    };
    const std::vector<std::int64_t> strides = out.strides_in(e.free);
    const std::size_t lhs = position(e.condition.lhs), rhs = position(e.condition.rhs);
    CancelPoll poll;
    for (std::int64_t flat = 0; flat < out.size(); ++flat, poll.tick()) {
      const std::int64_t a = flat / strides[lhs] % out.extents[lhs];
      const std::int64_t b = flat / strides[rhs] % out.extents[rhs];
      if (!ir::compare(e.condition.op, a, b)) out.data[flat] = other.data[flat];
    }
    return out;
  }

  Dense<T> nary(const Expr& e) {
    bool additive = e.kind == ExprKind::add;
    Dense<T> out = make(e.free);
    std::vector<std::int64_t> own = out.strides_in(e.free);
    for (std::size_t k = 0; k < e.args.size(); ++k) {
      Dense<T> v = eval(*e.args[k]);
      char op = e.ops[k];
      bool first = k == 0;
      int line = statement_.line;
      for_each_point<2>(out.extents, {own, v.strides_in(e.free)}, [&](const auto& o) {
        T& acc = out.data[o[0]];
        T x = v.data[o[1]];
        if (first) {
          acc = op == '-' ? Arith<T>::neg(x) : op == '/' ? Arith<T>::div(T(1), x, line) : x;
        } else if (additive) {
          acc = op == '+' ? Arith<T>::add(acc, x) : Arith<T>::sub(acc, x);
        } else {
          acc = op == '*' ? Arith<T>::mul(acc, x) : Arith<T>::div(acc, x, line);
        }
      });
    }
    return out;
  }

  // Sums `v` over `over` (a subset of its indices).
  Dense<T> sum_over(const Dense<T>& v, const std::vector<int>& over) const {
    std::vector<int> kept;
    for (int id : v.indices)
      if (std::find(over.begin(), over.end(), id) == over.end()) kept.push_back(id);
    Dense<T> out = make(kept);
    for_each_point<2>(v.extents, {v.strides_in(v.indices), out.strides_in(v.indices)},
                      [&](const auto& o) { out.data[o[1]] = Arith<T>::add(out.data[o[1]], v.data[o[0]]); });
    return out;
  }

  Dense<T> reciprocal(Dense<T> v) const {
    for (T& x : v.data) x = Arith<T>::div(T(1), x, statement_.line);
    return v;
  }

  // The product's plan, step by step (ir/product_plan.h): each operand on
  // its own (inverted, pre-reduced), then each step multiplies two entries,
  // or divides by the one that is a divisor, summing what it sums.
  Dense<T> product(const Expr& e) {
    const ir::ProductPlan plan = ir::plan_product(program_, statement_, e);
    std::deque<Dense<T>> list;  // a deque: steps remove entries at both ends
    for (const ir::ProductOperand& operand : plan.operands) {
      Dense<T> v = eval(*operand.factor);
      if (operand.use == ir::FactorUse::invert) v = reciprocal(std::move(v));
      if (!operand.pre_reduced.empty()) v = sum_over(v, operand.pre_reduced);
      list.push_back(std::move(v));
    }
    const int line = statement_.line;
    for (const ir::ProductStep& step : plan.steps) {
      const bool divides = step.lhs_divisor != step.rhs_divisor;
      const bool sums = !step.over.empty();
      const Dense<T>& x = step.lhs_divisor && divides ? list[step.rhs] : list[step.lhs];
      const Dense<T>& y = step.lhs_divisor && divides ? list[step.lhs] : list[step.rhs];
      std::vector<int> space = sorted_union(x.indices, y.indices);
      Dense<T> r = make(step.result);
      for_each_point<3>(
          extents_of(space), {x.strides_in(space), y.strides_in(space), r.strides_in(space)}, [&](const auto& o) {
            T term =
                divides ? Arith<T>::div(x.data[o[0]], y.data[o[1]], line) : Arith<T>::mul(x.data[o[0]], y.data[o[1]]);
            r.data[o[2]] = sums ? Arith<T>::add(r.data[o[2]], term) : term;
          });
      list.erase(list.begin() + step.rhs);
      list.erase(list.begin() + step.lhs);
      list.push_back(std::move(r));
    }
    Dense<T> value = plan.result_divisor ? reciprocal(std::move(list.back())) : std::move(list.back());
    return broadcast(value, e.free);
  }

  void require_elements(std::int64_t count, const char* what) const {
    if (count > 0) return;
    throw ExecutionError(std::string(what) + " over an empty index in the statement at line " +
                         std::to_string(statement_.line));
  }

  Dense<T> reduce(const Expr& e) {
    Dense<T> body = eval(*e.args[0]);
    Dense<T> out = make(e.free);
    std::int64_t n = 1;
    for (int id : e.over) n *= extents_[id];
    auto space = body.indices;
    std::array<std::vector<std::int64_t>, 2> strides{body.strides_in(space), out.strides_in(space)};
    switch (e.reduce_op) {
      case ir::ReduceOp::sum:
      case ir::ReduceOp::mean:
        for_each_point<2>(body.extents, strides,
                          [&](const auto& o) { out.data[o[1]] = Arith<T>::add(out.data[o[1]], body.data[o[0]]); });
        if (e.reduce_op == ir::ReduceOp::mean) {
          require_elements(n, "mean");
          for (T& x : out.data) x = Arith<T>::div(x, static_cast<T>(n), statement_.line);
        }
        return out;
      case ir::ReduceOp::prod:
        std::fill(out.data.begin(), out.data.end(), T(1));
        for_each_point<2>(body.extents, strides,
                          [&](const auto& o) { out.data[o[1]] = Arith<T>::mul(out.data[o[1]], body.data[o[0]]); });
        return out;
      case ir::ReduceOp::max:
      case ir::ReduceOp::min: {
        require_elements(n, ir::reduce_op_name(e.reduce_op));
        bool is_max = e.reduce_op == ir::ReduceOp::max;
        std::vector<char> seen(out.data.size(), 0);
        for_each_point<2>(body.extents, strides, [&](const auto& o) {
          T x = body.data[o[0]];
          T& acc = out.data[o[1]];
          if (!seen[o[1]]) {
            acc = x;
            seen[o[1]] = 1;
          } else if (!is_nan(acc) && (is_nan(x) || (is_max ? x > acc : x < acc))) {
            acc = x;  // once NaN, stays NaN (like numpy)
          }
        });
        return out;
      }
      case ir::ReduceOp::logsumexp: {
        require_elements(n, "logsumexp");
        std::vector<double> m(out.data.size(), -std::numeric_limits<double>::infinity());
        std::vector<double> s(out.data.size(), 0.0);
        for_each_point<2>(body.extents, strides,
                          [&](const auto& o) { m[o[1]] = std::max(m[o[1]], static_cast<double>(body.data[o[0]])); });
        for_each_point<2>(body.extents, strides, [&](const auto& o) {
          if (std::isfinite(m[o[1]])) s[o[1]] += std::exp(static_cast<double>(body.data[o[0]]) - m[o[1]]);
        });
        for (std::size_t i = 0; i < out.data.size(); ++i)
          out.data[i] = Arith<T>::from_double(std::isfinite(m[i]) ? m[i] + std::log(s[i]) : m[i]);
        return out;
      }
    }
    return out;
  }

  // softmax: exp(x - max) / sum; layernorm: (x - mean) / sqrt(var + 1e-5);
  // rmsnorm: x / sqrt(mean(x^2) + 1e-5); statistics in double.
  Dense<T> normalize(const Expr& e) {
    Dense<T> body = broadcast(eval(*e.args[0]), e.free);
    std::vector<int> rows;
    std::int64_t n = 1;
    for (int id : e.free) {
      if (std::find(e.over.begin(), e.over.end(), id) == e.over.end())
        rows.push_back(id);
      else
        n *= extents_[id];
    }
    require_elements(n, ir::norm_op_name(e.norm_op));
    std::int64_t row_count = 1;
    for (int id : rows) row_count *= extents_[id];
    std::vector<double> a(static_cast<std::size_t>(row_count), 0.0), b(a.size(), 0.0);
    Dense<T> out = make(e.free);
    std::array<std::vector<std::int64_t>, 2> strides{body.strides_in(e.free),
                                                     Dense<T>{rows, extents_of(rows), {}}.strides_in(e.free)};
    auto x = [&](const auto& o) { return static_cast<double>(body.data[o[0]]); };
    auto dn = static_cast<double>(n);
    switch (e.norm_op) {
      case ir::NormOp::softmax:
        std::fill(a.begin(), a.end(), -std::numeric_limits<double>::infinity());
        for_each_point<2>(body.extents, strides, [&](const auto& o) { a[o[1]] = std::max(a[o[1]], x(o)); });
        for_each_point<2>(body.extents, strides, [&](const auto& o) { b[o[1]] += std::exp(x(o) - a[o[1]]); });
        for_each_point<2>(body.extents, strides, [&](const auto& o) {
          out.data[o[0]] = Arith<T>::from_double(std::exp(x(o) - a[o[1]]) / b[o[1]]);
        });
        return out;
      case ir::NormOp::layernorm:
        for_each_point<2>(body.extents, strides, [&](const auto& o) { a[o[1]] += x(o); });
        for (double& mean : a) mean /= dn;
        for_each_point<2>(body.extents, strides,
                          [&](const auto& o) { b[o[1]] += (x(o) - a[o[1]]) * (x(o) - a[o[1]]); });
        for_each_point<2>(body.extents, strides, [&](const auto& o) {
          out.data[o[0]] = Arith<T>::from_double((x(o) - a[o[1]]) / std::sqrt(b[o[1]] / dn + 1e-5));
        });
        return out;
      case ir::NormOp::rmsnorm:
        for_each_point<2>(body.extents, strides, [&](const auto& o) { a[o[1]] += x(o) * x(o); });
        for_each_point<2>(body.extents, strides, [&](const auto& o) {
          out.data[o[0]] = Arith<T>::from_double(x(o) / std::sqrt(a[o[1]] / dn + 1e-5));
        });
        return out;
    }
    return out;
  }

  const ir::Program& program_;
  const ir::Statement& statement_;
  const std::vector<Tensor>& tensors_;
  std::vector<std::int64_t> extents_;
  std::function<std::int64_t(const ir::Poly&)> evaluate_;
};

void store_wrapped_int(DType dtype, void* where, std::int64_t value) {
  auto u = static_cast<std::uint64_t>(value);
  if (dtype == DType::i8) {
    auto v = static_cast<std::int8_t>(static_cast<std::uint8_t>(u));
    std::memcpy(where, &v, 1);
  } else {
    auto v = static_cast<std::int32_t>(static_cast<std::uint32_t>(u));
    std::memcpy(where, &v, 4);
  }
}

template <typename T>
void run(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) {
  Evaluator<T> evaluator(program, statement, tensors);
  Dense<T> value = evaluator.eval(*statement.value);
  Tensor& target = tensors.at(statement.target);
  std::vector<std::int64_t> extents;
  for (int id : statement.lhs) extents.push_back(evaluator.extent(id));
  char* base = static_cast<char*>(target.data());
  auto size = static_cast<std::int64_t>(dtype_size(target.dtype()));
  DType dtype = target.dtype();
  for_each_point<2>(extents, {target.strides(), value.strides_in(statement.lhs)}, [&](const auto& o) {
    char* where = base + o[0] * size;
    T v = value.data[o[1]];
    if constexpr (std::is_same_v<T, double>) {
      if (statement.accumulate) v += load_element(dtype, where);
      store_element(dtype, where, v);
    } else {
      if (statement.accumulate) v = Arith<T>::add(v, static_cast<std::int64_t>(load_element(dtype, where)));
      store_wrapped_int(dtype, where, v);
    }
  });
}

}  // namespace

std::int64_t read_lookup_id(const ir::Program& program, const ir::Statement& statement, const ir::Expr& access,
                            std::size_t d, const std::vector<Tensor>& tensors, const std::vector<std::int64_t>& at) {
  const ir::Subscript& s = access.subscripts.at(d);
  const Tensor& ids = tensors.at(static_cast<std::size_t>(s.lookup));
  std::vector<std::int64_t> where;
  std::int64_t element = 0;
  for (std::size_t k = 0; k < s.lookup_subscripts.size(); ++k) {
    const ir::Subscript& position = s.lookup_subscripts[k];
    where.push_back(ir::position_at(position, program.evaluate(position.offset), at));
    element += where.back() * ids.strides()[k];
  }
  const auto id = static_cast<std::int64_t>(load_element(
      ids.dtype(),
      static_cast<const char*>(ids.data()) + element * static_cast<std::int64_t>(dtype_size(ids.dtype()))));
  if (id < 0 || id >= tensors.at(static_cast<std::size_t>(access.tensor)).shape()[d])
    throw ExecutionError(ir::lookup_out_of_range(program, statement, access, d, where, id));
  return id;
}

namespace {

void require_bound_dims(const ir::Program& program, const ir::Expr& e) {
  if (e.kind == ExprKind::dim_value && !program.dims.at(static_cast<std::size_t>(e.dim)).value)
    throw ir::UnboundDimError(e.dim);
  for (const ir::ExprPtr& a : e.args) require_bound_dims(program, *a);
}

template <typename T>
T fold(const ir::Program& program, const ir::Statement& statement, const ir::Expr& expr) {
  EINC_CHECK(expr.folds, "reference: folding a subexpression that is not made of numbers and dims only");
  require_bound_dims(program, expr);
  static const std::vector<Tensor> no_tensors;
  return Evaluator<T>(program, statement, no_tensors).eval(expr).data.at(0);
}

}  // namespace

double fold_real(const ir::Program& program, const ir::Statement& statement, const ir::Expr& expr) {
  return fold<double>(program, statement, expr);
}

std::int64_t fold_integer(const ir::Program& program, const ir::Statement& statement, const ir::Expr& expr) {
  return fold<std::int64_t>(program, statement, expr);
}

void execute_statement(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) {
  bool integer = statement.dtype == DType::i8 || statement.dtype == DType::i32;
  if (integer)
    run<std::int64_t>(program, statement, tensors);
  else
    run<double>(program, statement, tensors);
}

}  // namespace einc::reference
