// frontend/parser.cpp — the Boost.Spirit X3 grammar of .ein (docs/language.md).
//
// This is the only translation unit that includes Spirit: X3 is header-only
// and heavy to compile, so the grammar lives in one file and the rest of the
// compiler sees only parser.h. The text is first cut into statements
// (statement_splitter.h); each statement is parsed on its own, with
// expectation points (`>`) wherever a construct is committed, so an error
// names what was expected at the first character of the offending token.
// Every rule ID derives from `annotate`, which records the span of the node
// it produced relative to the start of the file. A statement that does not
// parse becomes an ast::Unparsed with the names it would have declared or
// assigned (recover_names), so sema can go on without cascading on them.
//
// Grammar (whitespace, newlines inside brackets and `#` comments skipped):
//   statement   := dim_decl | tensor_decl | repeat_open | block_close | assignment
//   repeat_open := "repeat" identifier "<" expr "{"
//   block_close := "}"
//   dim_decl    := "dim" dim_item ("," dim_item)*
//   dim_item    := identifier ("=" expr)?
//   tensor_decl := ("input"|"param"|"output") tensor_item ("," tensor_item)* (":" dtype)?
//   tensor_item := identifier ("[" (expr ("," expr)*)? "]")?
//   assignment  := access ("=" | "+=") expr
//   expr        := term (("+"|"-") term)*
//   term        := unary (("*"|"/") unary)*
//   unary       := ("+"|"-")* primary
//   primary     := number | "(" expr ")" | einsum | select | reduction | call | access
//   select      := "where" "(" comparison "," expr "," expr ")"
//   comparison  := expr ("<=" | ">=" | "==" | "!=" | "<" | ">") expr
//   einsum      := "einsum" "(" string ("," identifier)* ")"
//   reduction   := identifier "(" reduced ("," reduced)* ":" expr ")"
//   reduced     := identifier ("<" expr)?
//   call        := (identifier | dtype) "(" (expr ("," expr)*)? ")"   (a dtype: a conversion)
//   access      := identifier ("[" (expr ("," expr)*)? "]")?
//
// An access's positions are full expressions here; sema (ir/index_positions)
// accepts index arithmetic and lookups there and says why anything else is
// refused, with the position's span.
#include "frontend/parser.h"

#include <algorithm>
#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/spirit/home/x3.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "frontend/statement_splitter.h"

BOOST_FUSION_ADAPT_STRUCT(einc::ast::Access, name, indices)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::Call, function, args)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::ReducedIndex, name, extent)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::Reduction, op, indices, body)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::Einsum, keyword, subscripts, operands)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::Unary, signs, operand)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::ChainLink, op, operand)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::Chain, first, rest)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::Comparison, lhs, op, rhs)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::Select, keyword, condition, then_value, else_value)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::DimItem, name, value)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::DimDecl, keyword, items)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::TensorItem, name, shape)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::TensorDecl, keyword, items, dtype)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::Assignment, target, op, value)
BOOST_FUSION_ADAPT_STRUCT(einc::ast::RepeatOpen, keyword, index, count)

namespace einc::frontend {
namespace grammar {

namespace x3 = boost::spirit::x3;
using x3::char_;
using x3::lexeme;
using x3::lit;
using x3::raw;

struct buffer_tag;  // context key: pointer to the first byte of the file

// Records each node's span (offsets from the start of the file).
struct annotate {
  template <typename It, typename Attr, typename Ctx>
  void on_success(It const& first, It const& last, Attr& attr, Ctx const& ctx) const {
    if constexpr (std::is_base_of_v<ast::Node, Attr>) {
      const char* base = x3::get<buffer_tag>(ctx);
      attr.span = {static_cast<std::uint32_t>(first - base), static_cast<std::uint32_t>(last - base)};
    }
  }
};

// Explicit character sets (not isalpha & co.) so bytes >= 0x80 are safe.
auto const ident_first = char_("a-zA-Z_");
auto const ident_char = char_("a-zA-Z0-9_");
auto const digits = +char_("0-9");

auto const skipper = char_(" \t\r\n\f\v") | (lit('#') >> *(char_ - '\n'));

auto word(char const* w) { return lexeme[lit(w) >> !ident_char]; }
auto const keyword = word("dim") | word("input") | word("param") | word("output") | word("repeat") | word("f32") |
                     word("f64") | word("f16") | word("bf16") | word("i8") | word("i32");

// Rules with a semantic action get no on_success call with their attribute
// (X3 passes `unused`), so these actions record the span themselves.
template <typename Ctx, typename Range>
Span span_of_range(Ctx const& ctx, Range const& range) {
  const char* base = x3::get<buffer_tag>(ctx);
  return {static_cast<std::uint32_t>(range.begin() - base), static_cast<std::uint32_t>(range.end() - base)};
}
auto const set_name = [](auto& ctx) {
  auto const& range = x3::_attr(ctx);
  x3::_val(ctx).name.assign(range.begin(), range.end());
  x3::_val(ctx).span = span_of_range(ctx, range);
};
auto const set_text = [](auto& ctx) {
  auto const& range = x3::_attr(ctx);
  x3::_val(ctx).text.assign(range.begin(), range.end());
  x3::_val(ctx).span = span_of_range(ctx, range);
};
auto const set_unquoted = [](auto& ctx) {
  auto const& range = x3::_attr(ctx);
  x3::_val(ctx).text.assign(range.begin() + 1, range.end() - 1);
  x3::_val(ctx).span = span_of_range(ctx, range);
};

#define EINC_RULE(name, attribute, description) \
  struct name##_id : annotate {};               \
  x3::rule<name##_id, attribute> const name = description;

EINC_RULE(identifier, ast::Identifier, "a name")
EINC_RULE(any_word, ast::Identifier, "a dtype")
EINC_RULE(dim_keyword, ast::Identifier, "'dim'")
EINC_RULE(tensor_keyword, ast::Identifier, "'input', 'param' or 'output'")
EINC_RULE(einsum_keyword, ast::Identifier, "'einsum'")
EINC_RULE(where_keyword, ast::Identifier, "'where'")
EINC_RULE(number, ast::Number, "a number")
EINC_RULE(string_literal, ast::StringLiteral, "a string literal")
EINC_RULE(expr, ast::Chain, "an expression")
EINC_RULE(operand, ast::Operand, "an expression")
EINC_RULE(term, ast::Chain, "an expression")
EINC_RULE(add_link, ast::ChainLink, "an expression")
EINC_RULE(mul_link, ast::ChainLink, "an expression")
EINC_RULE(unary, ast::Unary, "an expression")
EINC_RULE(primary, ast::Operand, "an expression")
EINC_RULE(einsum, ast::Einsum, "einsum(...)")
EINC_RULE(select, ast::Select, "where(...)")
EINC_RULE(comparison, ast::Comparison, "a comparison (j <= i)")
EINC_RULE(compare_op, std::string, "a comparison operator (< <= > >= == !=)")
EINC_RULE(reduction, ast::Reduction, "a reduction")
EINC_RULE(call, ast::Call, "a function call")
EINC_RULE(dtype_word, ast::Identifier, "a dtype")
EINC_RULE(access, ast::Access, "a tensor access")
EINC_RULE(index_list, std::vector<ast::Operand>, "an index list")
EINC_RULE(index_name, ast::Identifier, "an index name")
EINC_RULE(position, ast::Operand, "an index")
EINC_RULE(reduced_indices, std::vector<ast::ReducedIndex>, "index names")
EINC_RULE(reduced_index, ast::ReducedIndex, "an index name")
EINC_RULE(operand_list, std::vector<ast::Operand>, "expressions")
EINC_RULE(shape_list, std::vector<ast::Operand>, "a shape")
EINC_RULE(dim_value, ast::Operand, "'=' and an extent")
EINC_RULE(dim_item, ast::DimItem, "a dim name")
EINC_RULE(dim_items, std::vector<ast::DimItem>, "a dim name")
EINC_RULE(dim_decl, ast::DimDecl, "a dim declaration")
EINC_RULE(tensor_item, ast::TensorItem, "a tensor name")
EINC_RULE(tensor_items, std::vector<ast::TensorItem>, "a tensor name")
EINC_RULE(tensor_decl, ast::TensorDecl, "a tensor declaration")
EINC_RULE(assign_op, std::string, "'=' or '+='")
EINC_RULE(assignment, ast::Assignment, "an assignment")
EINC_RULE(repeat_keyword, ast::Identifier, "'repeat'")
EINC_RULE(repeat_open, ast::RepeatOpen, "a repeat block")
EINC_RULE(block_close, ast::BlockClose, "'}'")
EINC_RULE(statement, ast::Statement, "a declaration or an assignment")
#undef EINC_RULE
// Not annotated: the Identifier keeps the span of the name, not of ": name".
struct dtype_clause_id {};
x3::rule<dtype_clause_id, ast::Identifier> const dtype_clause = "a dtype";

auto const identifier_def = raw[lexeme[!keyword >> ident_first >> *ident_char]][set_name];
auto const any_word_def = raw[lexeme[ident_first >> *ident_char]][set_name];
auto const dim_keyword_def = raw[word("dim")][set_name];
auto const tensor_keyword_def = raw[word("input") | word("param") | word("output")][set_name];
auto const einsum_keyword_def = raw[word("einsum")][set_name];
auto const where_keyword_def = raw[word("where")][set_name];
auto const number_def =
    raw[lexeme[digits >> -(lit('.') >> *char_("0-9")) >> -(char_("eE") >> -char_("+-") >> digits) >> *ident_char]]
       [set_text];  // `1.5e`, `12abc`: kept whole, rejected by sema
auto const string_literal_def = raw[lexeme[lit('"') >> *(char_ - '"' - '\n') >> lit('"')]][set_unquoted];

auto const expr_def = term >> *add_link;
auto const operand_def = expr;
auto const add_link_def = char_("+-") > term;
auto const term_def = unary >> *mul_link;
auto const mul_link_def = char_("*/") > unary;
auto const unary_def = *char_("+-") >> primary;
auto const primary_def = number | (lit('(') > expr > lit(')')) | einsum | select | reduction | call | access;
auto const select_def = where_keyword >> lit('(') > comparison > lit(',') > operand > lit(',') > operand > lit(')');
auto const comparison_def = operand > compare_op > operand;
auto const compare_op_def = raw[lit("<=") | lit(">=") | lit("==") | lit("!=") | lit('<') | lit('>')];
auto const einsum_def = einsum_keyword >> lit('(') > string_literal > *(lit(',') > identifier) > lit(')');
auto const reduction_def = identifier >> lit('(') >> reduced_indices >> lit(':') > operand > lit(')');
auto const reduced_indices_def = reduced_index >> *(lit(',') > reduced_index);
auto const reduced_index_def = index_name >> -(lit('<') > operand);
// A dtype's name called is a conversion (`f32(acc[t, f])`).
auto const dtype_word_def =
    raw[word("f32") | word("f64") | word("f16") | word("bf16") | word("i8") | word("i32")][set_name];
auto const call_def = (identifier | dtype_word) >> lit('(') > -operand_list > lit(')');
auto const operand_list_def = operand >> *(lit(',') > operand);
auto const access_def = identifier >> -index_list;
auto const index_list_def = lit('[') > -(position >> *(lit(',') > position)) > lit(']');
auto const position_def = expr;
auto const index_name_def = identifier;

auto const shape_list_def = lit('[') > -(operand >> *(lit(',') > operand)) > lit(']');
auto const dim_value_def = lit('=') > operand;
auto const dim_item_def = identifier >> -dim_value;
auto const dim_items_def = dim_item >> *(lit(',') > dim_item);
auto const dim_decl_def = dim_keyword > dim_items;
auto const tensor_item_def = identifier >> -shape_list;
auto const tensor_items_def = tensor_item >> *(lit(',') > tensor_item);
auto const dtype_clause_def = lit(':') > any_word;
auto const tensor_decl_def = tensor_keyword > tensor_items > -dtype_clause;
auto const assign_op_def = raw[lit("+=") | lit('=')];
auto const assignment_def = access > assign_op > operand;
auto const repeat_keyword_def = raw[word("repeat")][set_name];
auto const repeat_open_def = repeat_keyword > index_name > lit('<') > operand > lit('{');
auto const block_close_def = raw[lit('}')][set_text];
auto const statement_def = dim_decl | tensor_decl | repeat_open | block_close | assignment;

BOOST_SPIRIT_DEFINE(identifier, any_word, dim_keyword, tensor_keyword, einsum_keyword, where_keyword, select,
                    comparison, compare_op, number, string_literal, expr, operand, add_link, term, mul_link, unary,
                    primary, einsum, reduction, reduced_indices, reduced_index, call, dtype_word, operand_list, access,
                    index_list, index_name, position, shape_list, dim_value, dim_item, dim_items, dim_decl, tensor_item,
                    tensor_items, dtype_clause, tensor_decl, assign_op, assignment, repeat_keyword, repeat_open,
                    block_close, statement)

}  // namespace grammar

namespace {

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Skips blanks and comments from `at` (the parser may fail before them).
std::uint32_t skip_blanks(const std::string& text, std::uint32_t at, std::uint32_t end) {
  while (at < end) {
    char c = text[at];
    if (c == '#') {
      while (at < end && text[at] != '\n') ++at;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      ++at;
    } else {
      break;
    }
  }
  return at;
}

// The token that starts at `at`, for messages and caret spans.
Span token_at(const std::string& text, std::uint32_t at, std::uint32_t end) {
  if (at >= end) return {at, at};
  std::uint32_t stop = at + 1;
  if (is_ident_char(text[at]))
    while (stop < end && is_ident_char(text[stop])) ++stop;
  else if (text[at] == '+' && stop < end && text[stop] == '=')
    ++stop;
  return {at, stop};
}

std::string describe_token(const std::string& text, Span token, std::uint32_t statement_end) {
  if (token.begin >= statement_end) return "the end of the statement";
  std::string s = text.substr(token.begin, token.end - token.begin);
  if (s == ";") return "';'";
  unsigned char c = static_cast<unsigned char>(s[0]);
  if (c < 0x20 || c >= 0x7f) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02X", static_cast<unsigned>(c));
    return buf;
  }
  return "'" + s + "'";
}

void report_syntax_error(const std::string& text, DiagnosticSink& sink, std::uint32_t at, std::uint32_t end,
                         const std::string& expected) {
  at = skip_blanks(text, at, end);
  Span token = token_at(text, at, end);
  const bool comparison = at < end && (text[at] == '<' || text[at] == '>' || text[at] == '!' ||
                                       (text[at] == '=' && at + 1 < end && text[at + 1] == '='));
  sink.error(token, "expected " + expected + ", found " + describe_token(text, token, end) +
                        (comparison ? " (a comparison is only the condition of where(cond, a, b))" : ""));
}

bool is_keyword(std::string_view word) {
  for (std::string_view k : {"dim", "input", "param", "output", "f32", "f64", "f16", "bf16", "i8", "i32"})
    if (word == k) return true;
  return false;
}

// What an unparsed statement seems to declare or assign, read from its
// tokens without the grammar: one linear scan, no recursion, so it is safe
// on any text (a statement refused as too deeply nested included).
//   `dim`/`input`/`param` ...  -> declaration: the name after the keyword
//                                and after each `,` outside brackets (up to
//                                a `:` outside brackets);
//   `output` ...               -> output;
//   NAME NAME ...              -> a misspelled keyword: a declaration of the
//                                second name and the names after commas;
//   NAME ...                   -> assignment to NAME;
//   anything else              -> unknown.
ast::Unparsed recover_names(const std::string& text, Span range) {
  ast::Unparsed out;
  out.span = range;
  // The statement's tokens: identifiers (and numbers) and strings whole,
  // any other byte alone; blanks and comments skipped.
  struct Token {
    Span span;
    bool word = false;
  };
  std::uint32_t at = range.begin;
  auto next = [&]() -> std::optional<Token> {
    at = skip_blanks(text, at, range.end);
    if (at >= range.end) return std::nullopt;
    Span span = token_at(text, at, range.end);
    if (text[at] == '"') {
      while (span.end < range.end && text[span.end] != '"' && text[span.end] != '\n') ++span.end;
      span.end = std::min(span.end + 1, range.end);
    }
    at = span.end;
    return Token{span, is_ident_char(text[span.begin])};
  };
  auto word_of = [&](const Token& t) { return std::string_view(text).substr(t.span.begin, t.span.end - t.span.begin); };
  auto is_name = [&](const Token& t) {
    return t.word && !(text[t.span.begin] >= '0' && text[t.span.begin] <= '9') && !is_keyword(word_of(t));
  };
  auto name_of = [&](const Token& t) {
    ast::Identifier id;
    id.span = t.span;
    id.name = std::string(word_of(t));
    return id;
  };
  // The names of a declaration's items, from the token after the keyword.
  auto declared_names = [&](std::optional<Token> token) {
    bool expect_name = true;
    int depth = 0;
    for (; token; token = next()) {
      char c = text[token->span.begin];
      if (c == '(' || c == '[') {
        ++depth;
      } else if ((c == ')' || c == ']') && depth > 0) {
        --depth;
      } else if (depth == 0 && c == ',') {
        expect_name = true;
        continue;
      } else if (depth == 0 && c == ':') {
        break;
      } else if (depth == 0 && expect_name && is_name(*token)) {
        out.names.push_back(name_of(*token));
      }
      expect_name = false;
    }
  };
  std::optional<Token> first = next();
  if (!first || !first->word) return out;
  std::string_view word = word_of(*first);
  if (word == "dim" || word == "input" || word == "param") {
    out.kind = ast::Unparsed::Kind::declaration;
    declared_names(next());
  } else if (word == "output") {
    out.kind = ast::Unparsed::Kind::output;
  } else if (word == "repeat") {
    out.kind = ast::Unparsed::Kind::repeat;
  } else if (is_name(*first)) {
    std::optional<Token> second = next();
    if (second && is_name(*second)) {
      out.kind = ast::Unparsed::Kind::declaration;
      declared_names(second);
    } else {
      out.kind = ast::Unparsed::Kind::assignment;
      out.names.push_back(name_of(*first));
    }
  }
  return out;
}

}  // namespace

ast::Module parse_module(const SourceFile& source, DiagnosticSink& sink) {
  namespace x3 = boost::spirit::x3;
  ast::Module module;
  const std::vector<StatementText> statements = split_statements(source, sink);
  // Stray control bytes (already reported) are read as blanks: the parser
  // runs on a copy of the text with each replaced by a space, so that spans
  // and the text of names stay those of the file.
  std::string cleaned;
  const std::string* text = &source.text();
  auto stray = [](char c) { return is_stray_control(static_cast<unsigned char>(c)); };
  if (std::any_of(text->begin(), text->end(), stray)) {
    cleaned = *text;
    std::replace_if(cleaned.begin(), cleaned.end(), stray, ' ');
    text = &cleaned;
  }
  const char* base = text->data();
  for (const StatementText& statement : statements) {
    const Span range = statement.span;
    if (statement.reported == StatementText::Reported::lexical_error) {
      module.unparsed.push_back(recover_names(*text, range));
      continue;
    }
    // A syntax error at or after a stray byte may only be the byte read as
    // a blank: that statement already has its error.
    auto fail = [&](std::uint32_t at, const std::string& expected) {
      bool after_stray = statement.reported == StatementText::Reported::stray_byte &&
                         skip_blanks(*text, at, range.end) >= statement.first_stray;
      if (!after_stray) report_syntax_error(*text, sink, at, range.end, expected);
      module.unparsed.push_back(recover_names(*text, range));
    };
    const char* first = base + range.begin;
    const char* last = base + range.end;
    ast::Statement parsed;
    try {
      bool ok = x3::phrase_parse(first, last, x3::with<grammar::buffer_tag>(base)[grammar::statement], grammar::skipper,
                                 parsed);
      if (!ok) {
        fail(range.begin, "a declaration (dim, input, param, output) or an assignment");
        continue;
      }
      if (first != last) {
        fail(static_cast<std::uint32_t>(first - base), "an operator or the end of the statement");
        continue;
      }
    } catch (const x3::expectation_failure<const char*>& failure) {
      fail(static_cast<std::uint32_t>(failure.where() - base), failure.which());
      continue;
    }
    module.statements.push_back(std::move(parsed));
  }
  return module;
}

}  // namespace einc::frontend
