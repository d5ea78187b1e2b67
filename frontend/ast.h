// frontend/ast.h — the syntax tree of a .ein script, exactly as written.
//
// The parser (parser.cpp, Boost.Spirit X3) fills these structs; semantic
// analysis (ir/lower_ast.cpp) reads them and never the text. Every node
// derives from Node and so carries its source Span. Expressions keep their
// written shape: an additive or multiplicative chain is one Chain node with
// a list of (operator, operand) pairs rather than a deep binary tree, so a
// long sum cannot exhaust the stack of a recursive pass; only brackets nest,
// and the parser bounds their depth.
#pragma once

#include <boost/optional.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "frontend/source.h"

namespace einc::ast {

namespace x3 = boost::spirit::x3;
using frontend::Span;

struct Node {
  Span span;
};

struct Nil {};

struct Identifier : Node {
  std::string name;
};

struct Number : Node {
  std::string text;  // as written; converted (with range checks) by sema
};

struct StringLiteral : Node {
  std::string text;  // without the quotes
};

struct Operand;

// `A`, `A[]`, `A[i, j]` or `A[2*h + r - 1, 0, ids[t]]`: each position is an
// expression (sema accepts index arithmetic and lookups there); a bare name
// may also be a dim or a scalar.
struct Access : Node {
  Identifier name;
  boost::optional<std::vector<Operand>> indices;  // absent: no brackets
};

struct Call;
struct Reduction;
struct Einsum;
struct Unary;
struct Chain;
struct Select;

// Any expression.
struct Operand
    : x3::variant<Nil, Number, Access, x3::forward_ast<Call>, x3::forward_ast<Reduction>, x3::forward_ast<Einsum>,
                  x3::forward_ast<Unary>, x3::forward_ast<Chain>, x3::forward_ast<Select>> {
  using base_type::base_type;
  using base_type::operator=;
};

// `f(a, b)`: an elementwise function.
struct Call : Node {
  Identifier function;
  std::vector<Operand> args;
};

// One index of `op(i, r < 3: body)`: a name, and the extent the script
// gives it (needed where nothing else does: a pooling window).
struct ReducedIndex : Node {
  Identifier name;
  boost::optional<Operand> extent;
};

// `op(i, j: body)`: a reduction or normalisation over the listed indices.
struct Reduction : Node {
  Identifier op;
  std::vector<ReducedIndex> indices;
  Operand body;
};

// `einsum("ij,jk->ik", A, B)`.
struct Einsum : Node {
  Identifier keyword;
  StringLiteral subscripts;
  std::vector<Identifier> operands;
};

// Prefix signs: `-x`, `--x`, `+x`.
struct Unary : Node {
  std::string signs;  // may be empty
  Operand operand;
};

struct ChainLink : Node {
  char op = '+';  // one of + - * /
  Operand operand;
};

// `a + b - c` or `a * b / c`: left-associative, one level of precedence.
struct Chain : Node {
  Operand first;
  std::vector<ChainLink> rest;
};

// `j <= i`: a comparison (only as the condition of `where`).
struct Comparison : Node {
  Operand lhs;
  std::string op;  // one of < <= > >= == !=
  Operand rhs;
};

// `where(j <= i, a, b)`: a where the condition holds, else b.
struct Select : Node {
  Identifier keyword;
  Comparison condition;
  Operand then_value;
  Operand else_value;
};

// --- statements -------------------------------------------------------------

struct DimItem : Node {
  Identifier name;
  boost::optional<Operand> value;  // absent: symbolic
};

struct DimDecl : Node {
  Identifier keyword;
  std::vector<DimItem> items;
};

// `X[T, D]` in a declaration: the brackets hold extents.
struct TensorItem : Node {
  Identifier name;
  boost::optional<std::vector<Operand>> shape;  // absent: no brackets
};

// `input ...`, `param ...` or `output ...`, with an optional `: dtype`.
struct TensorDecl : Node {
  Identifier keyword;
  std::vector<TensorItem> items;
  boost::optional<Identifier> dtype;
};

struct Assignment : Node {
  Access target;
  std::string op;  // "=" or "+="
  Operand value;
};

// `repeat l < L {`: the statements up to the matching `}` run L times, the
// index `l` selecting each layer's part of a tensor (`w[l, d, f]`).
struct RepeatOpen : Node {
  Identifier keyword;
  Identifier index;
  Operand count;
};

// `}`: the end of a repeat block.
struct BlockClose : Node {
  std::string text;
};

struct Statement : x3::variant<DimDecl, TensorDecl, Assignment, RepeatOpen, BlockClose> {
  using base_type::base_type;
  using base_type::operator=;
};

// A statement that did not parse (its error is already reported), with the
// names it would have declared or assigned as far as its first tokens show
// them (the parser's recover_names). Sema treats each such name as known
// but broken, so a later use of it is not reported again as unknown,
// undefined or never assigned.
struct Unparsed : Node {
  enum class Kind {
    declaration,  // `dim`, `input`, `param`, or a misspelled keyword (`dimm N = 4`): the declared names
    output,       // `output ...`: declares nothing others depend on
    assignment,   // `NAME[...] = ...`: the target
    repeat,       // `repeat ...`: opens a block (its `}` is not reported again)
    unknown,      // anything else: no names
  };
  Kind kind = Kind::unknown;
  std::vector<Identifier> names;
};

struct Module {
  std::vector<Statement> statements;
  std::vector<Unparsed> unparsed;  // in source order; empty when the whole script parsed
};

// The span of any operand (Nil has an empty span).
Span span_of(const Operand& operand);

// --- reading the tree without Spirit ------------------------------------------
//
// Passes outside frontend/ (sema, in ir/) read operands and statements
// through these, so that Boost.Spirit's types (x3::variant, x3::forward_ast)
// stay inside frontend/ and a pass names only the nodes above.

// The node an operand holds if it is of that kind, else nullptr.
const Number* as_number(const Operand& operand);
const Access* as_access(const Operand& operand);
const Call* as_call(const Operand& operand);
const Reduction* as_reduction(const Operand& operand);
const Einsum* as_einsum(const Operand& operand);
const Unary* as_unary(const Operand& operand);
const Chain* as_chain(const Operand& operand);
const Select* as_select(const Operand& operand);

// The operand with the wrappers the grammar adds around a primary removed:
// one-element chains and sign-less prefixes (`(x)` and `x` look alike).
const Operand& unwrapped(const Operand& operand);
// The name when the operand is a bare identifier (`i`, not `i + 1` or
// `A[i]`), else nullptr.
const Identifier* as_bare_name(const Operand& operand);

// The declaration or assignment a statement holds if it is of that kind,
// else nullptr.
const DimDecl* as_dim_decl(const Statement& statement);
const TensorDecl* as_tensor_decl(const Statement& statement);
const Assignment* as_assignment(const Statement& statement);
const RepeatOpen* as_repeat_open(const Statement& statement);
const BlockClose* as_block_close(const Statement& statement);
// The span of any statement.
Span span_of(const Statement& statement);

namespace detail {
template <typename Visitor>
struct Unwrapped {
  Visitor& visitor;
  template <typename T>
  decltype(auto) operator()(const x3::forward_ast<T>& node) const {
    return visitor(node.get());
  }
  template <typename T>
  decltype(auto) operator()(const T& node) const {
    return visitor(node);
  }
};
}  // namespace detail

// Calls `visitor` with the node the operand holds, as one of const Nil&,
// const Number&, const Access&, const Call&, const Reduction&,
// const Einsum&, const Unary&, const Chain& or const Select&; every overload must return
// the same type, which visit returns.
template <typename Visitor>
decltype(auto) visit(const Operand& operand, Visitor&& visitor) {
  return boost::apply_visitor(detail::Unwrapped<std::remove_reference_t<Visitor>>{visitor}, operand);
}

}  // namespace einc::ast
