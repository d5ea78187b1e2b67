// ir/program.cpp — lookups, evaluation and the IR printer.
#include "ir/program.h"

#include <algorithm>
#include <sstream>

#include "ir/checked_math.h"
#include "ir/condition.h"

namespace einc::ir {

const char* func_name(Func f) {
  switch (f) {
    case Func::exp:
      return "exp";
    case Func::log:
      return "log";
    case Func::sqrt:
      return "sqrt";
    case Func::rsqrt:
      return "rsqrt";
    case Func::abs:
      return "abs";
    case Func::tanh:
      return "tanh";
    case Func::sigmoid:
      return "sigmoid";
    case Func::relu:
      return "relu";
    case Func::gelu:
      return "gelu";
    case Func::silu:
      return "silu";
    case Func::max:
      return "max";
    case Func::min:
      return "min";
    case Func::pow:
      return "pow";
    case Func::convert:
      return "convert";
  }
  return "?";
}

std::string call_name(const Expr& call) {
  return call.func == Func::convert ? dtype_name(call.convert_to) : func_name(call.func);
}

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
    case ReduceOp::prod:
      return "prod";
    case ReduceOp::mean:
      return "mean";
    case ReduceOp::logsumexp:
      return "logsumexp";
  }
  return "?";
}

const char* norm_op_name(NormOp op) {
  switch (op) {
    case NormOp::softmax:
      return "softmax";
    case NormOp::layernorm:
      return "layernorm";
    case NormOp::rmsnorm:
      return "rmsnorm";
  }
  return "?";
}

int func_arity(Func f) { return f == Func::max || f == Func::min || f == Func::pow ? 2 : 1; }

bool func_is_transcendental(Func f) {
  switch (f) {
    case Func::abs:
    case Func::relu:
    case Func::max:
    case Func::min:
    case Func::convert:
      return false;
    default:
      return true;
  }
}

int Program::find_dim(const std::string& name) const {
  auto it = dim_ids.find(name);
  return it == dim_ids.end() ? -1 : it->second;
}

int Program::find_tensor(const std::string& name) const {
  auto it = tensor_ids.find(name);
  return it == tensor_ids.end() ? -1 : it->second;
}

int Program::add_dim(Dim dim) {
  int id = static_cast<int>(dims.size());
  dim_ids.emplace(dim.name, id);
  dims.push_back(std::move(dim));
  return id;
}

int Program::add_tensor(Tensor tensor) {
  int id = static_cast<int>(tensors.size());
  tensor_ids.emplace(tensor.name, id);
  tensors.push_back(std::move(tensor));
  return id;
}

std::int64_t Program::evaluate(const Poly& poly) const {
  return poly.evaluate([this](int id) { return dims.at(id).value; });
}

Int128 Program::evaluate_count(const Poly& poly) const {
  return poly.evaluate_count([this](int id) { return dims.at(id).value; });
}

std::optional<std::int64_t> Program::try_evaluate(const Poly& poly) const {
  try {
    return evaluate(poly);
  } catch (const UnboundDimError&) {
    return std::nullopt;
  } catch (const OverflowError&) {
    return std::nullopt;
  }
}

std::vector<std::int64_t> evaluated_shape(const Program& program, int tensor) {
  const Tensor& t = program.tensors.at(static_cast<std::size_t>(tensor));
  std::vector<std::int64_t> shape;
  shape.reserve(t.shape.size());
  for (const Poly& extent : t.shape) shape.push_back(program.evaluate(extent));
  return shape;
}

std::vector<std::int64_t> index_extents(const Program& program, const Statement& statement) {
  std::vector<std::int64_t> extents;
  extents.reserve(statement.indices.size());
  for (const IndexVar& index : statement.indices) extents.push_back(program.evaluate(index.extent));
  return extents;
}

std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * std::max<std::int64_t>(shape[d], 1);
  return strides;
}

std::vector<std::vector<std::int64_t>> contiguous_strides(const Program& program) {
  std::vector<std::vector<std::int64_t>> out;
  for (std::size_t t = 0; t < program.tensors.size(); ++t)
    out.push_back(contiguous_strides(evaluated_shape(program, static_cast<int>(t))));
  return out;
}

std::string Program::formula(const Poly& poly) const {
  return poly.str([this](int id) { return dims.at(id).name; });
}

namespace {

std::string format_number(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

std::string join_indices(const Statement& s, const std::vector<int>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + s.indices.at(ids[i]).name;
  return out;
}

std::string print_subscript(const Program& p, const Statement& s, const Subscript& sub);

// `X[2*h + r - 1, ids[t]]`.
std::string print_access(const Program& p, const Statement& s, int tensor, const std::vector<Subscript>& subscripts) {
  std::string out = p.tensors.at(tensor).name;
  if (subscripts.empty()) return out;
  out += "[";
  for (std::size_t d = 0; d < subscripts.size(); ++d) out += (d ? ", " : "") + print_subscript(p, s, subscripts[d]);
  return out + "]";
}

// `2*h + r - 1`, `d + D`, `0`, `ids[t]`.
std::string print_subscript(const Program& p, const Statement& s, const Subscript& sub) {
  if (sub.is_lookup()) return print_access(p, s, sub.lookup, sub.lookup_subscripts);
  std::string out;
  auto append = [&](std::int64_t sign_of, const std::string& magnitude) {
    if (out.empty())
      out = (sign_of < 0 ? "-" : "") + magnitude;
    else
      out += (sign_of < 0 ? " - " : " + ") + magnitude;
  };
  for (const AffineTerm& t : sub.terms) {
    std::uint64_t c = t.coeff < 0 ? 0 - static_cast<std::uint64_t>(t.coeff) : static_cast<std::uint64_t>(t.coeff);
    append(t.coeff, (c == 1 ? "" : std::to_string(c) + "*") + s.indices.at(t.index).name);
  }
  if (auto c = sub.offset.as_constant()) {
    if (*c != 0 || out.empty())
      append(*c, std::to_string(*c < 0 ? 0 - static_cast<std::uint64_t>(*c) : static_cast<std::uint64_t>(*c)));
  } else if (std::string f = p.formula(sub.offset); f.find(' ') != std::string::npos) {
    append(1, out.empty() ? f : "(" + f + ")");
  } else {
    append(f[0] == '-' ? -1 : 1, f[0] == '-' ? f.substr(1) : f);
  }
  return out;
}

bool needs_parens(const Expr& e) { return e.kind == ExprKind::add || e.kind == ExprKind::multiply; }

}  // namespace

std::string print_expr(const Program& p, const Statement& s, const Expr& e) {
  auto child = [&](const ExprPtr& c, bool wrap) {
    std::string text = print_expr(p, s, *c);
    return wrap && needs_parens(*c) ? "(" + text + ")" : text;
  };
  switch (e.kind) {
    case ExprKind::access: {
      const std::string out = print_access(p, s, e.tensor, e.subscripts);
      return e.zero_padded ? "padded(" + out + ")" : out;
    }
    case ExprKind::constant:
      return format_number(e.constant);
    case ExprKind::dim_value:
      return p.dims.at(e.dim).name;
    case ExprKind::negate:
      return "-" + child(e.args[0], true);
    case ExprKind::call: {
      std::string out = call_name(e) + "(";
      for (std::size_t i = 0; i < e.args.size(); ++i) out += (i ? ", " : "") + child(e.args[i], false);
      return out + ")";
    }
    case ExprKind::add:
    case ExprKind::multiply: {
      std::string out;
      bool is_add = e.kind == ExprKind::add;
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        char op = e.ops[i];
        bool neutral = is_add ? op == '+' : op == '*';
        if (i > 0)
          out += std::string(" ") + op + " ";
        else if (!neutral)
          out += is_add ? "-" : "1 / ";
        // Inside a product, a sum needs parentheses; a product inside a sum does not.
        out += child(e.args[i], !is_add || (i > 0 && e.args[i]->kind == ExprKind::add) || (!neutral && i == 0));
      }
      return out;
    }
    case ExprKind::reduce:
      return std::string(reduce_op_name(e.reduce_op)) + "(" + join_indices(s, e.over) + ": " + child(e.args[0], false) +
             ")";
    case ExprKind::normalize:
      return std::string(norm_op_name(e.norm_op)) + "(" + join_indices(s, e.over) + ": " + child(e.args[0], false) +
             ")";
    case ExprKind::select:
      return "where(" + s.indices.at(e.condition.lhs).name + " " + compare_op_name(e.condition.op) + " " +
             s.indices.at(e.condition.rhs).name + ", " + child(e.args[0], false) + ", " + child(e.args[1], false) + ")";
  }
  return "?";
}

std::string lookup_out_of_range(const Program& program, const Statement& statement, const Expr& access, std::size_t dim,
                                const std::vector<std::int64_t>& ids_position, std::int64_t id) {
  const Subscript& s = access.subscripts.at(dim);
  std::string where;
  for (std::int64_t p : ids_position) where += (where.empty() ? "" : ", ") + std::to_string(p);
  const Tensor& read = program.tensors.at(static_cast<std::size_t>(access.tensor));
  return "lookup out of range in the statement at line " + std::to_string(statement.line) + ": " +
         program.tensors.at(static_cast<std::size_t>(s.lookup)).name + "[" + where + "] = " + std::to_string(id) +
         ", but dim " + std::to_string(dim) + " of '" + read.name + "' has extent " +
         std::to_string(program.evaluate(read.shape.at(dim)));
}

std::string print_program(const Program& p) {
  std::string out;
  for (std::size_t k = 0; k < p.statements.size(); ++k) {
    const Statement& s = p.statements[k];
    const RepeatBlock* block = s.block >= 0 ? &p.blocks.at(static_cast<std::size_t>(s.block)) : nullptr;
    if (block && block->first == static_cast<int>(k))
      out += "repeat " + block->index + " < " + p.formula(block->count) + " {\n";
    const Tensor& t = p.tensors.at(s.target);
    if (block) out += "  ";
    out += t.name;
    if (!s.lhs.empty()) out += "[" + join_indices(s, s.lhs) + "]";
    out += s.accumulate ? " += " : " = ";
    out += print_expr(p, s, *s.value);
    out += "\n";
    if (block && block->end == static_cast<int>(k) + 1) out += "}\n";
  }
  return out;
}

namespace {

void collect_lookups(const std::vector<Subscript>& subscripts, std::set<int>& out) {
  for (const Subscript& s : subscripts)
    if (s.is_lookup()) out.insert(s.lookup);
}

void collect_reads(const Expr& e, std::set<int>& out) {
  if (e.kind == ExprKind::access) {
    out.insert(e.tensor);
    collect_lookups(e.subscripts, out);
  }
  for (const ExprPtr& a : e.args) collect_reads(*a, out);
}

}  // namespace

bool contains_conversion(const Expr& e) {
  if (e.kind == ExprKind::call && e.func == Func::convert) return true;
  return std::any_of(e.args.begin(), e.args.end(), [](const ExprPtr& a) { return contains_conversion(*a); });
}

Statement statement_for_argument(const Statement& statement, const Expr& conversion) {
  Statement as_argument = statement;
  as_argument.dtype = conversion.convert_from;
  return as_argument;
}

std::set<int> tensors_read(const Expr& e) {
  std::set<int> ids;
  collect_reads(e, ids);
  return ids;
}

}  // namespace einc::ir
