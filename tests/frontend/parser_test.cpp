// tests/frontend/parser_test.cpp — the X3 grammar: what parses into which
// AST, where syntax errors point, and the lexical rules of docs/language.md.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "frontend/ast_printer.h"
#include "frontend/diagnostics.h"
#include "frontend/parser.h"

namespace einc::frontend {
namespace {

struct Parsed {
  ast::Module module;
  std::vector<std::string> errors;  // "line:col: message"
};

Parsed parse(const std::string& text) {
  SourceFile source("t.ein", text);
  Parsed out;
  DiagnosticSink sink(source, [&](const SourceFile& s, const Diagnostic& d) {
    auto lc = s.line_col(d.span ? d.span->begin : 0);
    out.errors.push_back(std::to_string(lc.line) + ":" + std::to_string(lc.column) + ": " + d.message);
  });
  out.module = parse_module(source, sink);
  return out;
}

TEST(Parser, EmptyAndCommentOnlyFilesAreEmptyPrograms) {
  for (const char* text : {"", "\n\n", "# just a comment\n   # another\n", ";;;"}) {
    Parsed p = parse(text);
    EXPECT_TRUE(p.errors.empty()) << text;
    EXPECT_TRUE(p.module.statements.empty()) << text;
  }
}

TEST(Parser, DeclarationsAndStatements) {
  Parsed p = parse(
      "dim M = 512, K = 256\n"
      "dim E = D / H\n"
      "dim B\n"
      "input A[M, K], alpha : f16\n"
      "param W[K, 2 * M] : bf16\n"
      "output C, D[M, K] : f32\n"
      "C[i, j] = A[i, k] * B[k, j]; s = A[i, i]\n"
      "C[i, j] += -A[i, j] / sqrt(E)\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  ASSERT_EQ(p.module.statements.size(), 9u);
  auto& dims = boost::get<ast::DimDecl>(p.module.statements[0]);
  ASSERT_EQ(dims.items.size(), 2u);
  EXPECT_EQ(dims.items[1].name.name, "K");
  EXPECT_FALSE(boost::get<ast::DimDecl>(p.module.statements[2]).items[0].value.has_value());
  auto& input = boost::get<ast::TensorDecl>(p.module.statements[3]);
  EXPECT_EQ(input.keyword.name, "input");
  ASSERT_EQ(input.items.size(), 2u);
  EXPECT_FALSE(input.items[1].shape.has_value());
  EXPECT_EQ(input.dtype->name, "f16");
  auto& assign = boost::get<ast::Assignment>(p.module.statements[6]);
  EXPECT_EQ(assign.op, "=");
  EXPECT_EQ(assign.target.indices->size(), 2u);
  EXPECT_EQ(boost::get<ast::Assignment>(p.module.statements[8]).op, "+=");
}

TEST(Parser, SpansAreByteOffsetsIntoTheFile) {
  Parsed p = parse("dim N = 4\nC[i] = A[i] * B[i]\n");
  auto& assign = boost::get<ast::Assignment>(p.module.statements[1]);
  EXPECT_EQ(assign.target.name.span.begin, 10u);
  EXPECT_EQ(assign.target.name.span.end, 11u);
  EXPECT_EQ(assign.span.begin, 10u);
  EXPECT_EQ(assign.span.end, 28u);
}

TEST(Parser, ReductionsCallsAndEinsum) {
  Parsed p = parse(
      "M[h, i] = max(j: S[h, i, j])\n"
      "P[i, j] = softmax(j: S[i, j])\n"
      "x[i] = max(a[i], b[i]) + pow(a[i], 2)\n"
      "C = einsum(\"ij,jk->ik\", A, B)\n"
      "y[i] = sum(j, k: A[i, j, k])\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  ASSERT_EQ(p.module.statements.size(), 5u);
}

TEST(Parser, PositionsAreExpressionsAndWindowsCarryExtents) {
  SourceFile source("t.ein",
                    "Y[p, q] = padded(X[2*p + r - 1, q + D]) * K[r, 0]\n"
                    "P[p] = max(r < 2: X[2*p + r])\n");
  std::vector<std::string> errors;
  DiagnosticSink sink(source, [&](const SourceFile&, const Diagnostic& d) { errors.push_back(d.message); });
  ast::Module module = parse_module(source, sink);
  ASSERT_TRUE(errors.empty()) << errors.front();
  const std::string tree = ast::print_ast(module, source);
  // Bare names print inline; arithmetic positions (#k) and window extents as children.
  EXPECT_NE(tree.find("access X[#0, #1]"), std::string::npos) << tree;
  EXPECT_NE(tree.find("access K[r, #1]"), std::string::npos) << tree;
  EXPECT_NE(tree.find("#1 chain"), std::string::npos) << tree;
  EXPECT_NE(tree.find("max(r < ...:)"), std::string::npos) << tree;
  EXPECT_NE(tree.find("r < chain"), std::string::npos) << tree;
  EXPECT_NE(tree.find("call padded"), std::string::npos) << tree;
}

TEST(Parser, ContinuationInsideBrackets) {
  Parsed p = parse("C[i,\n  j] = (A[i, k] *   # comment inside\n  B[k, j])\nD = 1\n");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.module.statements.size(), 2u);
}

TEST(Parser, CrlfAndByteOrderMark) {
  Parsed p = parse(
      "\xEF\xBB\xBF"
      "dim N = 3\r\ninput A[N]\r\nB[i] = A[i]\r\n");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.module.statements.size(), 3u);
}

TEST(Parser, ErrorPointsAtTheUnexpectedToken) {
  Parsed p = parse("C[i, j] = A[i, k]    B[k, j]\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0], "1:22: expected an operator or the end of the statement, found 'B'");
}

TEST(Parser, UnclosedBracketIsReportedAtItsOpener) {
  Parsed p = parse("C[i, j = 3\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].substr(0, 4), "1:2:");
  EXPECT_NE(p.errors[0].find("unclosed '['"), std::string::npos);
}

TEST(Parser, UnclosedBracketBeforeADeclarationDoesNotSwallowIt) {
  Parsed p = parse("C[i = 3\ndim N = 4\nD[i] = (\n");
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].substr(0, 4), "1:2:");
  EXPECT_EQ(p.errors[1].substr(0, 4), "3:8:");
  EXPECT_EQ(p.module.statements.size(), 1u);
}

TEST(Parser, SeveralErrorsAreAllReported) {
  Parsed p = parse("a = \nb = (1 +\n)\nc[i] = x[i) \ninput f32\nok = 1\n");
  EXPECT_EQ(p.errors.size(), 4u);
  EXPECT_EQ(p.module.statements.size(), 1u);
}

TEST(Parser, KeywordsAreNotNames) {
  Parsed p = parse("input f32\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0], "1:7: expected a tensor name, found 'f32'");
}

TEST(Parser, UnterminatedString) {
  Parsed p = parse("C = einsum(\"ij,jk, A, B)\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_NE(p.errors[0].find("unterminated string"), std::string::npos);
  EXPECT_EQ(p.errors[0].substr(0, 5), "1:12:");
}

TEST(Parser, DeepNestingIsRefusedNotOverflowed) {
  std::string deep = "x = " + std::string(100000, '(') + "1" + std::string(100000, ')') + "\n";
  Parsed p = parse(deep);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_NE(p.errors[0].find("too deep"), std::string::npos);
}

TEST(Parser, LongFlatChainsDoNotRecurse) {
  std::string sum = "x = a";
  for (int i = 0; i < 100000; ++i) sum += " + a";
  std::string signs = "y = " + std::string(100000, '-') + "a";
  Parsed p = parse(sum + "\n" + signs + "\n");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.module.statements.size(), 2u);
}

TEST(Parser, HighBytesAndNulAreErrorsNotCrashes) {
  // The NUL is found while splitting, the high byte by the grammar, before
  // it (so that syntax error is not the NUL's doing, and is reported).
  Parsed p = parse(std::string("x = \xff\xfe + \0 1\n", 12));
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0], "1:10: stray control character U+0000 (NUL) in the script");
  EXPECT_EQ(p.errors[1], "1:5: expected an expression, found byte 0xFF");
}

// --- stray control bytes and recovery ------------------------------------------

TEST(Parser, StrayControlByteIsReportedAtItsColumnAndReadAsABlank) {
  Parsed p = parse("dim N = 4\ninput A[N]\nB[i] = A[i]\x1b * 2\noutput B\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0], "3:12: stray control character U+001B (ESC) in the script");
  EXPECT_EQ(p.module.statements.size(), 4u);  // B's statement parsed, with the byte as a blank
  EXPECT_TRUE(p.module.unparsed.empty());
}

TEST(Parser, EveryStrayControlByteIsAnErrorButTabAndLineEndsAreNot) {
  for (int c = 0; c < 0x80; ++c) {
    if (c >= 0x20 && c != 0x7F) continue;
    std::string text = std::string("x = 1 +") + static_cast<char>(c) + "2\n";
    Parsed p = parse(text);
    SCOPED_TRACE(c);
    if (c == '\n') continue;  // ends the statement
    if (c == '\t' || c == '\r') {
      EXPECT_TRUE(p.errors.empty()) << p.errors.front();
      continue;
    }
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_EQ(p.errors[0].rfind("1:8: stray control character U+00", 0), 0u) << p.errors[0];
    EXPECT_EQ(p.module.statements.size(), 1u);
  }
  EXPECT_NE(parse("a = 1\x7f\n").errors.at(0).find("U+007F (DEL)"), std::string::npos);
  EXPECT_NE(parse("a = 1\f\n").errors.at(0).find("U+000C (FF)"), std::string::npos);
  EXPECT_NE(parse(std::string("a = 1\0\n", 7)).errors.at(0).find("U+0000 (NUL)"), std::string::npos);
}

TEST(Parser, ARunOfStrayBytesIsOneError) {
  SourceFile source("t.ein", std::string("y = \0\0\x1b\x01x\n", 10));
  std::vector<Diagnostic> seen;
  DiagnosticSink sink(source, [&](const SourceFile&, const Diagnostic& d) { seen.push_back(d); });
  ast::Module module = parse_module(source, sink);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].message, "stray control character U+0000 (NUL) in the script (and 3 more after it)");
  EXPECT_EQ(seen[0].span->begin, 4u);
  EXPECT_EQ(seen[0].span->end, 8u);
  EXPECT_EQ(module.statements.size(), 1u);
}

TEST(Parser, StrayBytesInCommentsAndStringsAreErrorsToo) {
  Parsed comment = parse("# a bell \x07 here\ndim N = 2 # and \x1b\ninput A[N, N]\n");
  ASSERT_EQ(comment.errors.size(), 2u);
  EXPECT_EQ(comment.errors[0].substr(0, 5), "1:10:");
  EXPECT_EQ(comment.errors[1].substr(0, 5), "2:17:");
  EXPECT_EQ(comment.module.statements.size(), 2u);

  Parsed string = parse("T = einsum(\"ij\x01->ji\", A)\n");
  ASSERT_EQ(string.errors.size(), 1u);
  EXPECT_EQ(string.errors[0], "1:15: stray control character U+0001 (SOH) in the script");
  ASSERT_EQ(string.module.statements.size(), 1u);
  // The parser read the byte as a blank (einsum subscripts ignore blanks).
  auto& einsum = boost::get<ast::x3::forward_ast<ast::Einsum>>(
                     boost::get<ast::x3::forward_ast<ast::Unary>>(
                         boost::get<ast::x3::forward_ast<ast::Chain>>(
                             boost::get<ast::x3::forward_ast<ast::Chain>>(
                                 boost::get<ast::Assignment>(string.module.statements[0]).value)
                                 .get()
                                 .first)
                             .get()
                             .first)
                         .get()
                         .operand)
                     .get();
  EXPECT_EQ(einsum.subscripts.text, "ij ->ji");
}

TEST(Parser, ASyntaxErrorAfterAStrayByteIsNotReportedAgain) {
  // `2<NUL>5` reads as `2 5`: the missing operator is the NUL's doing.
  Parsed p =
      parse(std::string("B[i] = A[i] * 2\0"
                        "5\nC = @\n",
                        24));
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0], "1:16: stray control character U+0000 (NUL) in the script");
  EXPECT_EQ(p.errors[1], "2:5: expected an expression, found '@'");  // the next statement still parses
  ASSERT_EQ(p.module.unparsed.size(), 2u);
  EXPECT_EQ(p.module.unparsed[0].kind, ast::Unparsed::Kind::assignment);
  EXPECT_EQ(p.module.unparsed[0].names.at(0).name, "B");
}

TEST(Parser, UnparsedStatementsKeepTheNamesTheyDefine) {
  using Kind = ast::Unparsed::Kind;
  struct Case {
    std::string text;
    Kind kind;
    std::vector<std::string> names;
  };
  const std::vector<Case> cases = {
      {"B[i, j] = A[i] @ 2", Kind::assignment, {"B"}},
      {"x = ", Kind::assignment, {"x"}},
      {"C[i = (3", Kind::assignment, {"C"}},  // unclosed: not parsed at all
      {"dim N = 4 +, M = max(1, 2) @, K", Kind::declaration, {"N", "M", "K"}},
      {"input X[N, M @], Y : f16 junk", Kind::declaration, {"X", "Y"}},
      {"param W[N] : f32 f32", Kind::declaration, {"W"}},
      {"dimm K = 3, L", Kind::declaration, {"K", "L"}},  // a misspelled keyword
      {"output B @", Kind::output, {}},
      {"@@ x", Kind::unknown, {}},
      {"f32 = 1", Kind::unknown, {}},
      {"\"str\" A = 1", Kind::unknown, {}},
  };
  for (const Case& c : cases) {
    Parsed p = parse(c.text + "\n");
    SCOPED_TRACE(c.text);
    ASSERT_EQ(p.errors.size(), 1u);
    ASSERT_EQ(p.module.unparsed.size(), 1u);
    EXPECT_EQ(p.module.unparsed[0].kind, c.kind);
    std::vector<std::string> names;
    for (const ast::Identifier& id : p.module.unparsed[0].names) names.push_back(id.name);
    EXPECT_EQ(names, c.names);
  }
  // The name's span is its place in the file.
  Parsed p = parse("dim N = 1\n  Bee[i] = @\n");
  ASSERT_EQ(p.module.unparsed.size(), 1u);
  EXPECT_EQ(p.module.unparsed[0].names.at(0).span.begin, 12u);
  EXPECT_EQ(p.module.unparsed[0].names.at(0).span.end, 15u);
}

TEST(Parser, TooDeepAStatementStillNamesItsTarget) {
  Parsed p = parse("y = " + std::string(100000, '(') + "1\n");
  ASSERT_EQ(p.module.unparsed.size(), 1u);
  EXPECT_EQ(p.module.unparsed[0].names.at(0).name, "y");
}

TEST(Parser, ALoneClosingBracketIsAnError) {
  Parsed p = parse("dim N = 4\n)\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].substr(0, 4), "2:1:");
}

// --- rendering ------------------------------------------------------------------

TEST(Diagnostics, ControlBytesAreShownInCaretNotationWithTheCaretUnderThem) {
  SourceFile source("t.ein", std::string("B[i] = A[i]\x1b * 2\0x\n", 19));
  Diagnostic at_escape{Severity::error, Span{11, 12}, "stray", {}};
  EXPECT_EQ(render_diagnostic(source, at_escape),
            "t.ein:1:12: error: stray\n"
            "  B[i] = A[i]^[ * 2^@x\n" +
                std::string(2 + 11, ' ') + "^~\n");
  Diagnostic after{Severity::error, Span{17, 18}, "after", {}};
  EXPECT_EQ(render_diagnostic(source, after),
            "t.ein:1:18: error: after\n"
            "  B[i] = A[i]^[ * 2^@x\n" +
                std::string(2 + 15 + 2 * 2, ' ') + "^\n");
  // A tab stays a tab (the caret line keeps it too); a carriage return
  // inside the line and DEL are shown; the line end's CR is not part of it.
  SourceFile tabs("t.ein", "\tx\ry\x7fz = 1\r\n");
  Diagnostic z{Severity::error, Span{5, 6}, "z", {}};
  EXPECT_EQ(render_diagnostic(tabs, z),
            "t.ein:1:6: error: z\n"
            "  \tx^My^?z = 1\n"
            "  \t      ^\n");
}

TEST(Parser, NumbersKeepTheirText) {
  Parsed p = parse("x = 1.5e-3 * 42\n");
  ASSERT_TRUE(p.errors.empty());
  auto& assign = boost::get<ast::Assignment>(p.module.statements[0]);
  auto& chain = boost::get<ast::x3::forward_ast<ast::Chain>>(assign.value).get();
  auto& term = boost::get<ast::x3::forward_ast<ast::Chain>>(chain.first).get();
  auto& unary = boost::get<ast::x3::forward_ast<ast::Unary>>(term.first).get();
  EXPECT_EQ(boost::get<ast::Number>(unary.operand).text, "1.5e-3");
}

TEST(Parser, IsReentrant) {
  // Two sources parsed interleaved from two threads share no state.
  std::string a = "C[i, j] = A[i, k] * B[k, j]\n", b = "x = (1 +\n";
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Parsed p = parse(t ? a : b);
        if ((t == 1) != p.errors.empty()) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace einc::frontend
