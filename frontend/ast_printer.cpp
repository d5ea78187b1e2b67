// frontend/ast_printer.cpp — see ast_printer.h.
#include "frontend/ast_printer.h"

namespace einc::ast {

namespace {

class Printer {
 public:
  explicit Printer(const frontend::SourceFile& source) : source_(source) {}

  std::string take() { return std::move(out_); }

  void statement(const Statement& s) {
    boost::apply_visitor([this](const auto& node) { print(node); }, s);
  }

  void print(const DimDecl& d) {
    line(d.span, 0, "dim");
    for (const DimItem& item : d.items) {
      line(item.span, 1, item.name.name + (item.value ? " =" : " (symbolic)"));
      if (item.value) operand(*item.value, 2, "");
    }
  }

  void print(const TensorDecl& d) {
    line(d.span, 0, d.keyword.name + (d.dtype ? " : " + d.dtype->name : ""));
    for (const TensorItem& item : d.items) {
      line(item.span, 1, item.name.name + (item.shape ? "[...]" : ""));
      if (item.shape)
        for (const Operand& extent : *item.shape) operand(extent, 2, "");
    }
  }

  void print(const Assignment& a) {
    line(a.span, 0, "assignment " + access_text(a.target) + " " + a.op);
    access_positions(a.target, 1);
    operand(a.value, 1, "");
  }

  void print(const RepeatOpen& r) {
    line(r.span, 0, "repeat " + r.index.name + " <");
    operand(r.count, 1, "");
  }

  void print(const BlockClose& c) { line(c.span, 0, "}"); }

 private:
  void line(const frontend::Span& span, int depth, const std::string& text) {
    frontend::LineCol at = source_.line_col(span.begin);
    out_ += std::string(static_cast<std::size_t>(2 * depth), ' ') + std::to_string(at.line) + ":" +
            std::to_string(at.column) + " " + text + "\n";
  }

  // `A[i, j]`; a position that is not a bare name shows as `#k` and is
  // printed below the access (access_positions).
  static std::string access_text(const Access& a) {
    std::string text = a.name.name;
    if (!a.indices) return text;
    text += "[";
    for (std::size_t i = 0; i < a.indices->size(); ++i) {
      const Identifier* name = as_bare_name((*a.indices)[i]);
      text += (i ? ", " : "") + (name ? name->name : "#" + std::to_string(i));
    }
    return text + "]";
  }

  void access_positions(const Access& a, int depth) {
    if (!a.indices) return;
    for (std::size_t i = 0; i < a.indices->size(); ++i)
      if (!as_bare_name((*a.indices)[i])) operand((*a.indices)[i], depth, "#" + std::to_string(i) + " ");
  }

  // `prefix`: the operator that links it to its chain ("* ", "- "), if any.
  void operand(const Operand& o, int depth, const std::string& prefix) {
    struct Visitor {
      Printer& p;
      int depth;
      const std::string& prefix;
      void operator()(const Nil&) const { p.line({}, depth, prefix + "nil"); }
      void operator()(const Number& n) const { p.line(n.span, depth, prefix + "number " + n.text); }
      void operator()(const Access& a) const {
        p.line(a.span, depth, prefix + "access " + access_text(a));
        p.access_positions(a, depth + 1);
      }
      void operator()(const Call& c) const {
        p.line(c.span, depth, prefix + "call " + c.function.name);
        for (const Operand& arg : c.args) p.operand(arg, depth + 1, "");
      }
      void operator()(const Reduction& r) const {
        std::string over;
        for (const ReducedIndex& i : r.indices)
          over += (over.empty() ? "" : ", ") + i.name.name + (i.extent ? " < ..." : "");
        p.line(r.span, depth, prefix + r.op.name + "(" + over + ":)");
        for (const ReducedIndex& i : r.indices)
          if (i.extent) p.operand(*i.extent, depth + 1, i.name.name + " < ");
        p.operand(r.body, depth + 1, "");
      }
      void operator()(const Einsum& e) const {
        std::string operands;
        for (const Identifier& i : e.operands) operands += ", " + i.name;
        p.line(e.span, depth, prefix + "einsum \"" + e.subscripts.text + "\"" + operands);
      }
      void operator()(const Unary& u) const {
        p.line(u.span, depth, prefix + "unary " + (u.signs.empty() ? "(no sign)" : u.signs));
        p.operand(u.operand, depth + 1, "");
      }
      void operator()(const Select& s) const {
        p.line(s.span, depth, prefix + "where " + s.condition.op);
        p.operand(s.condition.lhs, depth + 1, "");
        p.operand(s.condition.rhs, depth + 1, s.condition.op + " ");
        p.operand(s.then_value, depth + 1, "then ");
        p.operand(s.else_value, depth + 1, "else ");
      }
      void operator()(const Chain& c) const {
        p.line(c.span, depth, prefix + "chain");
        p.operand(c.first, depth + 1, "");
        for (const ChainLink& link : c.rest) p.operand(link.operand, depth + 1, std::string(1, link.op) + " ");
      }
    };
    visit(o, Visitor{*this, depth, prefix});
  }

  const frontend::SourceFile& source_;
  std::string out_;
};

}  // namespace

std::string print_ast(const Module& module, const frontend::SourceFile& source) {
  Printer printer(source);
  for (const Statement& s : module.statements) printer.statement(s);
  return printer.take();
}

}  // namespace einc::ast
