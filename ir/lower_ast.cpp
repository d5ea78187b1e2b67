// ir/lower_ast.cpp — sema driver: declarations, dims, outputs.
//
// Statements are processed in order, so a name is usable only after its
// declaration or defining assignment. A pre-scan records where every name is
// declared or assigned, so "used before it is defined" can say where.
// Assignments are lowered by StatementLowering (statement_lowering.cpp).
#include "ir/lower_ast.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "ir/checked_math.h"
#include "ir/statement_lowering.h"
#include "ir/tensor_uses.h"

namespace einc::ir {

namespace {

using frontend::DiagnosticSink;
using frontend::Note;

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The statement's text on one line, comments dropped and blanks collapsed.
std::string one_line(const std::string& text, Span span) {
  std::string out;
  bool in_comment = false, blank = false;
  for (std::uint32_t i = span.begin; i < span.end && i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') in_comment = false;
    if (c == '#') in_comment = true;
    if (in_comment) continue;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

class ModuleLowering {
 public:
  ModuleLowering(DiagnosticSink& sink, const LowerOptions& options) : sink_(sink), options_(options) {}

  Program run(const ast::Module& module) {
    // The parsed statements and the unparsed ones, in source order.
    std::vector<std::pair<const ast::Statement*, const ast::Unparsed*>> in_order;
    for (const auto& statement : module.statements) in_order.emplace_back(&statement, nullptr);
    for (const auto& unparsed : module.unparsed) in_order.emplace_back(nullptr, &unparsed);
    auto begin = [](const auto& entry) {
      return entry.first ? ast::span_of(*entry.first).begin : entry.second->span.begin;
    };
    std::stable_sort(in_order.begin(), in_order.end(),
                     [&](const auto& a, const auto& b) { return begin(a) < begin(b); });

    for (const auto& [statement, unparsed] : in_order) {
      if (const ast::Assignment* assignment = statement ? ast::as_assignment(*statement) : nullptr)
        assigned_anywhere_.emplace(assignment->target.name.name, assignment->target.name.span);
      if (unparsed && unparsed->kind == ast::Unparsed::Kind::assignment)
        assigned_anywhere_.emplace(unparsed->names.front().name, unparsed->names.front().span);
      if (unparsed && unparsed->kind == ast::Unparsed::Kind::declaration)
        for (const ast::Identifier& name : unparsed->names) broken_names_.insert(name.name);
    }
    for (const auto& [statement, unparsed] : in_order) {
      if (unparsed) {
        if (unparsed->kind == ast::Unparsed::Kind::assignment) assign_unparsed(unparsed->names.front());
        if (unparsed->kind == ast::Unparsed::Kind::repeat) ++ignored_opens_;
        continue;
      }
      if (const ast::DimDecl* dims = ast::as_dim_decl(*statement)) declare_dims(*dims);
      if (const ast::TensorDecl* tensors = ast::as_tensor_decl(*statement)) declare_tensors(*tensors);
      if (const ast::Assignment* assignment = ast::as_assignment(*statement)) assign(*assignment);
      if (const ast::RepeatOpen* open = ast::as_repeat_open(*statement)) open_block(*open);
      if (const ast::BlockClose* close = ast::as_block_close(*statement)) close_block(*close);
    }
    if (open_block_ >= 0) {
      sink_.error(program_.blocks[static_cast<std::size_t>(open_block_)].span,
                  "this repeat block is not closed: expected '}' on a line of its own after its statements");
      program_.blocks[static_cast<std::size_t>(open_block_)].end = static_cast<int>(program_.statements.size());
    }
    finish();
    return std::move(program_);
  }

 private:
  const frontend::SourceFile& source() const { return sink_.source(); }

  bool claim_name(const ast::Identifier& name) {
    if (name.name == "inf") {
      sink_.error(name.span, "'inf' is reserved: it is infinity in expressions");
      return false;
    }
    if (int d = program_.find_dim(name.name); d >= 0) {
      sink_.error(name.span, "'" + name.name + "' is already declared as a dim",
                  {Note{program_.dims[d].span, "declared here"}});
      return false;
    }
    if (int t = program_.find_tensor(name.name); t >= 0) {
      sink_.error(name.span, "'" + name.name + "' is already declared",
                  {Note{program_.tensors[t].span, "declared here"}});
      return false;
    }
    return true;
  }

  // --- dims -------------------------------------------------------------

  std::shared_ptr<const DimExpr> lower_dim_expr(const ast::Operand& operand, bool& uses_dims) {
    auto fail = [&](Span span, const std::string& message) -> std::shared_ptr<const DimExpr> {
      sink_.error(span, message);
      return nullptr;
    };
    auto e = std::make_shared<DimExpr>();
    e->span = ast::span_of(operand);
    if (const ast::Number* number = ast::as_number(operand)) {
      auto value = parse_integer(number->text);
      if (!value)
        return fail(number->span, "a dim must be an integer in the signed 64-bit range, not '" + number->text + "'");
      e->op = DimExpr::Op::literal;
      e->value = *value;
      return e;
    }
    if (const ast::Access* access = ast::as_access(operand)) {
      int d = program_.find_dim(access->name.name);
      if (access->indices || d < 0) {
        if (program_.find_tensor(access->name.name) >= 0)
          return fail(access->span, "'" + access->name.name + "' is a tensor; a dim's value uses numbers and dims");
        if (broken_names_.count(access->name.name)) return nullptr;  // its declaration failed, with its error reported
        return fail(access->name.span, "unknown dim '" + access->name.name + "'");
      }
      uses_dims = true;
      e->op = DimExpr::Op::dim;
      e->dim = d;
      return e;
    }
    if (const ast::Unary* unary = ast::as_unary(operand)) {
      auto inner = lower_dim_expr(unary->operand, uses_dims);
      if (!inner) return nullptr;
      std::size_t minus = 0;
      for (char c : unary->signs) minus += c == '-';
      if (minus % 2 == 0) return inner;
      e->op = DimExpr::Op::negate;
      e->terms.emplace_back('-', inner);
      return e;
    }
    if (const ast::Chain* chain = ast::as_chain(operand)) {
      auto first = lower_dim_expr(chain->first, uses_dims);
      if (!first) return nullptr;
      if (chain->rest.empty()) return first;
      e->op = DimExpr::Op::chain;
      char unit = chain->rest.front().op == '+' || chain->rest.front().op == '-' ? '+' : '*';
      e->terms.emplace_back(unit, first);
      for (const ast::ChainLink& link : chain->rest) {
        auto term = lower_dim_expr(link.operand, uses_dims);
        if (!term) return nullptr;
        e->terms.emplace_back(link.op, term);
      }
      return e;
    }
    return fail(e->span, "a dim's value must be integer arithmetic (+ - * /) on numbers and earlier dims");
  }

  // nullopt: depends on an unbound dim, or an error was reported.
  std::optional<std::int64_t> evaluate_dim_expr(const DimExpr& e, bool& error) {
    switch (e.op) {
      case DimExpr::Op::literal:
        return e.value;
      case DimExpr::Op::dim:
        return program_.dims[e.dim].value;
      default:
        break;
    }
    std::optional<std::int64_t> acc;
    try {
      for (const auto& [op, term] : e.terms) {
        auto v = evaluate_dim_expr(*term, error);
        if (!v || error) return std::nullopt;
        if (e.op == DimExpr::Op::negate) return checked_sub(0, *v);
        if (!acc) {
          acc = *v;
        } else if (op == '+') {
          acc = checked_add(*acc, *v);
        } else if (op == '-') {
          acc = checked_sub(*acc, *v);
        } else if (op == '*') {
          acc = checked_mul(*acc, *v);
        } else if (*v == 0) {
          sink_.error(term->span, "division by zero in a dim");
          error = true;
          return std::nullopt;
        } else if (*acc % *v != 0) {
          sink_.error(Span{e.span.begin, term->span.end}, "dim division is not exact: " + std::to_string(*acc) + " / " +
                                                              std::to_string(*v) + " leaves " +
                                                              std::to_string(*acc % *v));
          error = true;
          return std::nullopt;
        } else {
          acc = *acc / *v;
        }
      }
    } catch (const OverflowError&) {
      sink_.error(e.span, "dim value overflows the signed 64-bit range");
      error = true;
      return std::nullopt;
    }
    return acc;
  }

  // The last binding of a name wins (like a repeated command-line flag).
  const DimBinding* binding_for(const std::string& name) {
    const DimBinding* found = nullptr;
    for (const DimBinding& b : options_.dims)
      if (b.name == name) found = &b;
    return found;
  }

  void declare_dims(const ast::DimDecl& decl) {
    for (const ast::DimItem& item : decl.items) {
      if (!claim_name(item.name)) continue;
      Dim dim;
      dim.name = item.name.name;
      dim.span = item.name.span;
      dim.kind = Dim::Kind::symbolic;
      bool ok = true;
      if (item.value) {
        bool uses_dims = false;
        dim.definition = lower_dim_expr(*item.value, uses_dims);
        if (!dim.definition) {  // reported (or a dim it uses was): later uses of this one are quiet
          broken_names_.insert(dim.name);
          continue;
        }
        dim.kind = uses_dims ? Dim::Kind::derived : Dim::Kind::given;
        bool error = false;
        dim.value = evaluate_dim_expr(*dim.definition, error);
        ok = !error;
      }
      if (const DimBinding* b = binding_for(dim.name)) {
        if (dim.kind == Dim::Kind::derived) {
          sink_.error(item.name.span, "dim '" + dim.name + "' is computed from other dims and cannot be bound (" +
                                          "bind the dims it is computed from instead)");
          ok = false;
        } else {
          dim.value = b->value;
          dim.bound_from_outside = true;
        }
      }
      if (ok && dim.value && *dim.value < 0) {
        sink_.error(item.name.span, "dim '" + dim.name + "' is negative (" + std::to_string(*dim.value) +
                                        "); extents are integers >= 0");
        dim.value.reset();
      }
      program_.add_dim(std::move(dim));
    }
  }

  // --- tensors ----------------------------------------------------------

  std::optional<Poly> lower_extent(const ast::Operand& operand) {
    if (const ast::Number* number = ast::as_number(operand)) {
      auto value = parse_integer(number->text);
      if (!value) {
        sink_.error(number->span,
                    "an extent must be an integer in the signed 64-bit range, not '" + number->text + "'");
        return std::nullopt;
      }
      return Poly::constant(*value);
    }
    if (const ast::Access* access = ast::as_access(operand)) {
      int d = program_.find_dim(access->name.name);
      if (access->indices || d < 0) {
        if (!broken_names_.count(access->name.name))  // else: its declaration failed, with its error
          sink_.error(access->name.span, "unknown dim '" + access->name.name + "'");
        return std::nullopt;
      }
      return Poly::dim(d);
    }
    if (const ast::Unary* unary = ast::as_unary(operand)) {
      auto inner = lower_extent(unary->operand);
      std::size_t minus = 0;
      for (char c : unary->signs) minus += c == '-';
      if (inner && minus % 2) return Poly::constant(0) - *inner;
      return inner;
    }
    if (const ast::Chain* chain = ast::as_chain(operand)) {
      auto acc = lower_extent(chain->first);
      for (const ast::ChainLink& link : chain->rest) {
        if (link.op == '/') {
          sink_.error(link.span, "'/' is not allowed in a shape; declare a dim instead (dim E = D / H)");
          return std::nullopt;
        }
        auto rhs = lower_extent(link.operand);
        if (!acc || !rhs) return std::nullopt;
        acc = link.op == '+' ? *acc + *rhs : link.op == '-' ? *acc - *rhs : *acc * *rhs;
      }
      return acc;
    }
    sink_.error(ast::span_of(operand), "an extent must be a dim, an integer, or + - * of them");
    return std::nullopt;
  }

  std::optional<std::vector<Poly>> lower_shape(const ast::TensorItem& item) {
    std::vector<Poly> shape;
    if (!item.shape) return shape;
    for (const ast::Operand& extent : *item.shape) {
      std::optional<Poly> poly;
      try {
        poly = lower_extent(extent);
        if (poly) {
          std::int64_t value = program_.evaluate(*poly);
          if (value < 0) {
            sink_.error(ast::span_of(extent), "extent is negative (" + std::to_string(value) + ")");
            return std::nullopt;
          }
        }
      } catch (const UnboundDimError&) {
      } catch (const OverflowError&) {
        sink_.error(ast::span_of(extent), "extent overflows the signed 64-bit range");
        return std::nullopt;
      }
      if (!poly) return std::nullopt;
      shape.push_back(*poly);
    }
    return shape;
  }

  void declare_tensors(const ast::TensorDecl& decl) {
    std::optional<DType> dtype;
    bool broken = false;  // still declare the names, so later uses do not cascade
    if (decl.dtype) {
      dtype = parse_dtype(decl.dtype->name);
      if (!dtype) {
        sink_.error(decl.dtype->span,
                    "unknown dtype '" + decl.dtype->name + "'; expected one of f32, f64, f16, bf16, i8, i32");
        broken = true;
      }
    }
    const std::string& keyword = decl.keyword.name;
    for (const ast::TensorItem& item : decl.items) {
      if (keyword == "output") {
        if (!broken) declare_output(item, dtype);
        continue;
      }
      if (!claim_name(item.name)) continue;
      auto shape = lower_shape(item);
      Tensor t;
      if (!shape || broken) t.defined_by = kBrokenDefinition;
      if (!shape) shape.emplace();
      t.name = item.name.name;
      t.span = item.name.span;
      t.role = keyword == "param" ? TensorRole::param : TensorRole::input;
      t.dtype = dtype.value_or(DType::f32);
      t.dtype_declared = true;
      t.shape_declared = true;
      t.shape = std::move(*shape);
      program_.add_tensor(std::move(t));
    }
  }

  void declare_output(const ast::TensorItem& item, std::optional<DType> dtype) {
    if (program_.find_tensor(item.name.name) < 0 && broken_names_.count(item.name.name)) return;
    if (int d = program_.find_dim(item.name.name); d >= 0) {
      sink_.error(item.name.span, "'" + item.name.name + "' is a dim, not a tensor");
      return;
    }
    int id = program_.find_tensor(item.name.name);
    if (id >= 0) {
      Tensor& t = program_.tensors[id];
      if (t.role != TensorRole::intermediate) {
        sink_.error(item.name.span,
                    "'" + t.name + "' is an " + (t.role == TensorRole::param ? "param" : "input") +
                        "; only computed tensors can be outputs",
                    {Note{t.span, "declared here"}});
        return;
      }
      if (t.is_output) {
        sink_.error(item.name.span, "'" + t.name + "' is already an output");
        return;
      }
      if (item.shape || dtype) {
        sink_.error(item.name.span,
                    "'" + t.name +
                        "' is already defined; give its shape and dtype in an "
                        "output declaration before the assignment",
                    {Note{t.span, "defined here"}});
        return;
      }
      t.is_output = true;
      program_.outputs.push_back(id);
      return;
    }
    auto shape = lower_shape(item);
    if (!shape) return;
    Tensor t;
    t.name = item.name.name;
    t.span = item.name.span;
    t.role = TensorRole::intermediate;
    t.is_output = true;
    t.dtype = dtype.value_or(DType::f32);
    t.dtype_declared = dtype.has_value();
    t.shape_declared = item.shape.has_value();
    t.shape = std::move(*shape);
    program_.outputs.push_back(program_.add_tensor(std::move(t)));
  }

  // --- repeat blocks ------------------------------------------------------

  void open_block(const ast::RepeatOpen& open) {
    if (open_block_ >= 0) {
      sink_.error(open.keyword.span, "repeat blocks do not nest",
                  {Note{program_.blocks[static_cast<std::size_t>(open_block_)].span, "the enclosing block"}});
      ++ignored_opens_;
      return;
    }
    RepeatBlock block;
    block.index = open.index.name;
    block.span = Span{open.span.begin, ast::span_of(open.count).end};
    block.first = static_cast<int>(program_.statements.size());
    if (program_.find_dim(open.index.name) >= 0 || program_.find_tensor(open.index.name) >= 0) {
      sink_.error(open.index.span, "the layer index '" + open.index.name + "' is already the name of a " +
                                       (program_.find_dim(open.index.name) >= 0 ? "dim" : "tensor"));
      ++ignored_opens_;
      return;
    }
    std::optional<Poly> count;
    try {
      count = lower_extent(open.count);
      if (count && program_.try_evaluate(*count).value_or(1) < 1) {
        sink_.error(ast::span_of(open.count), "a repeat block runs at least once; this count is " +
                                                  std::to_string(*program_.try_evaluate(*count)));
        count.reset();
      }
    } catch (const OverflowError&) {
      sink_.error(ast::span_of(open.count), "the repeat count overflows the signed 64-bit range");
    }
    if (!count) {
      ++ignored_opens_;
      return;
    }
    block.count = *count;
    program_.blocks.push_back(std::move(block));
    open_block_ = static_cast<int>(program_.blocks.size()) - 1;
    written_in_block_ = 0;
  }

  void close_block(const ast::BlockClose& close) {
    if (ignored_opens_ > 0) {  // the block's opening was reported
      --ignored_opens_;
      return;
    }
    if (open_block_ < 0) {
      sink_.error(close.span, "'}' without an open repeat block");
      return;
    }
    RepeatBlock& block = program_.blocks[static_cast<std::size_t>(open_block_)];
    block.end = static_cast<int>(program_.statements.size());
    open_block_ = -1;
    if (written_in_block_ == 0) {
      sink_.error(block.span, "this repeat block has no statements");
      program_.blocks.pop_back();
    }
  }

  // --- statements -------------------------------------------------------

  void assign(const ast::Assignment& assignment) {
    Statement statement;
    statement.span = assignment.span;
    statement.line = source().line_col(assignment.span.begin).line;
    statement.text = one_line(source().text(), assignment.span);
    int index = static_cast<int>(program_.statements.size());
    StatementLowering lowering(program_, sink_, index, assigned_anywhere_, broken_names_);
    lowering.set_block(open_block_);
    ++written_in_block_;
    statement.block = open_block_;
    if (lowering.lower(assignment, statement)) {
      program_.statements.push_back(std::move(statement));
      return;
    }
    // Keep later statements from cascading on a tensor whose definition failed.
    int t = program_.find_tensor(assignment.target.name.name);
    if (t >= 0 && program_.tensors[t].role == TensorRole::intermediate && program_.tensors[t].defined_by < 0)
      program_.tensors[t].defined_by = kBrokenDefinition;
  }

  // The target of an assignment that did not parse: defined, but broken,
  // as when an assignment fails in sema (above), so later uses are quiet.
  void assign_unparsed(const ast::Identifier& target) {
    if (program_.find_dim(target.name) >= 0) return;
    int t = program_.find_tensor(target.name);
    if (t < 0) {
      Tensor tensor;
      tensor.name = target.name;
      tensor.span = target.span;
      tensor.role = TensorRole::intermediate;
      tensor.defined_by = kBrokenDefinition;
      program_.add_tensor(std::move(tensor));
    } else if (program_.tensors[t].role == TensorRole::intermediate && program_.tensors[t].defined_by < 0) {
      program_.tensors[t].defined_by = kBrokenDefinition;
    }
  }

  void finish() {
    for (const DimBinding& b : options_.dims)
      if (program_.find_dim(b.name) < 0 && !broken_names_.count(b.name))
        sink_.error("cannot bind " + b.name + "=" + std::to_string(b.value) + ": the script declares no dim '" +
                    b.name + "'");
    for (int id : program_.outputs) {
      const Tensor& t = program_.tensors[id];
      if (t.defined_by == -1) sink_.error(t.span, "output '" + t.name + "' is never assigned");
    }
    if (!program_.outputs.empty()) return;
    // No `output`: every assigned tensor that no statement after its last
    // write reads, in the order of definition.
    const TensorUses uses = tensor_uses(program_);
    for (std::size_t id = 0; id < program_.tensors.size(); ++id) {
      Tensor& t = program_.tensors[id];
      if (t.defined_by < 0 || uses.last_read[id] > uses.last_write[id]) continue;
      t.is_output = true;
      program_.outputs.push_back(static_cast<int>(id));
    }
  }

  DiagnosticSink& sink_;
  const LowerOptions& options_;
  Program program_;
  std::map<std::string, Span> assigned_anywhere_;
  int open_block_ = -1;       // the repeat block being read
  int ignored_opens_ = 0;     // openings refused (their `}` is not an error)
  int written_in_block_ = 0;  // assignments in the open block, lowered or not
  // Names whose declaration failed with its error reported: those declared
  // by statements that did not parse, and dims whose value did not lower. A
  // use of one that finds no declaration is not reported again.
  std::set<std::string> broken_names_;
};

}  // namespace

Program lower_ast(const ast::Module& module, frontend::DiagnosticSink& sink, const LowerOptions& options) {
  return ModuleLowering(sink, options).run(module);
}

}  // namespace einc::ir
