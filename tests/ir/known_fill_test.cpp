// tests/ir/known_fill_test.cpp — ir::known_fill: when a read of a tensor is
// known to be its fill outside a condition (`s = where(j <= i, ..., -inf)`
// read by a later softmax), and every reason it is not; ir::reads_only_where:
// when a reader never looks at a tensor outside a condition.
#include "ir/known_fill.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ir/condition.h"
#include "tests/ir/lower_helper.h"

namespace einc::ir {
namespace {

using testing::lower;

// The first access of `tensor` in the statement at `line` (1-based), depth first.
const Expr* find_access(const Program& program, const Statement& statement, const std::string& tensor) {
  const int id = program.find_tensor(tensor);
  std::function<const Expr*(const Expr&)> walk = [&](const Expr& e) -> const Expr* {
    if (e.kind == ExprKind::access && e.tensor == id) return &e;
    for (const ExprPtr& a : e.args)
      if (const Expr* found = walk(*a)) return found;
    return nullptr;
  };
  return walk(*statement.value);
}

const Statement& at_line(const Program& program, int line) {
  for (const Statement& s : program.statements)
    if (s.line == line) return s;
  throw std::runtime_error("no statement at line " + std::to_string(line));
}

// The fact for the first read of `tensor` in the statement at `line`, as
// "j <= i = -inf" in the reader's names, or "none".
std::string fact(const std::string& script, int line, const std::string& tensor) {
  auto lowered = lower(script);
  if (!lowered.errors.empty()) return "error: " + lowered.errors.front();
  const Program& program = lowered.program;
  const Statement& reader = at_line(program, line);
  const Expr* access = find_access(program, reader, tensor);
  if (!access) return "no access";
  const auto fill = known_fill(program, reader, *access);
  if (!fill) return "none";
  const auto name = [&](int index) { return reader.indices.at(static_cast<std::size_t>(index)).name; };
  return name(fill->condition.lhs) + " " + compare_op_name(fill->condition.op) + " " + name(fill->condition.rhs) +
         " = " + print_expr(program, *fill->writer, *fill->value);
}

const std::string kHead = "dim H = 2, T = 8, E = 4\ninput q[H, T, E], k[H, T, E]\n";

TEST(KnownFill, AMaskedAssignmentFillsWhereItsConditionFails) {
  const std::string scores = "s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e], -inf)\n";
  EXPECT_EQ(fact(kHead + scores + "a[h, i, j] = softmax(j: s[h, i, j])\n", 4, "s"), "j <= i = -inf");
  // The reader's own names, and positions read the other way round.
  EXPECT_EQ(fact(kHead + scores + "a[g, x, y] = softmax(y: s[g, x, y])\n", 4, "s"), "y <= x = -inf");
  EXPECT_EQ(fact(kHead + scores + "u[h, a, b] = s[h, b, a] * 2\n", 4, "s"), "a <= b = -inf");
  EXPECT_EQ(fact(kHead + "s[h, i, j] = where(i > j, q[h, i, e] * k[h, j, e], 1 / sqrt(E))\n"
                         "a[h, i, j] = s[h, i, j] + 1\n",
                 4, "s"),
            "i > j = 1 / sqrt(E)");
}

TEST(KnownFill, NothingIsKnownWhereTheTensorCouldHoldSomethingElse) {
  const std::string scores = "s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e], -inf)\n";
  // Assigned twice, or added into.
  EXPECT_EQ(fact(kHead + scores + "s[h, i, j] += 1\na[h, i, j] = softmax(j: s[h, i, j])\n", 5, "s"), "none");
  // The other branch is not a number of dims and numbers.
  EXPECT_EQ(fact(kHead + "s[h, i, j] = where(j <= i, q[h, i, e] * k[h, j, e], q[h, i, 0])\n"
                         "a[h, i, j] = softmax(j: s[h, i, j])\n",
                 4, "s"),
            "none");
  // A diagonal read: both compared positions are one index.
  EXPECT_EQ(fact(kHead + scores + "d[h, i] = s[h, i, i]\n", 4, "s"), "none");
  // A compared position read as a literal, not an index.
  EXPECT_EQ(fact(kHead + scores + "c[h, i] = s[h, i, 0]\n", 4, "s"), "none");
  // An input holds what the caller gives.
  EXPECT_EQ(fact("dim T = 8\ninput s[T, T]\na[i, j] = softmax(j: s[i, j])\n", 3, "s"), "none");
}

TEST(KnownFill, RepeatBlocksKeepTheFactInsideTheBlockOnly) {
  const std::string script =
      "dim L = 2, T = 8, E = 4\ninput x[T, E]\nparam w[L, E, E]\n"
      "repeat l < L {\n"
      "  s[i, j] = where(j <= i, x[i, e] * x[j, e], -inf)\n"
      "  a[i, j] = softmax(j: s[i, j])\n"
      "}\n"
      "b[i, j] = softmax(j: s[i, j])\n"
      "output a, b\n";
  EXPECT_EQ(fact(script, 6, "s"), "j <= i = -inf");
  // After the block (L could be 0: the block might never assign s).
  EXPECT_EQ(fact(script, 8, "s"), "none");
}

// Whether the statement at `line` reads the target of the statement at
// `writer_line` only where `j <= i` holds (in the writer's names).
bool guarded(const std::string& script, int line, int writer_line = 4) {
  auto lowered = lower(script);
  if (!lowered.errors.empty()) throw std::runtime_error(lowered.errors.front());
  const Program& program = lowered.program;
  const Statement& writer = at_line(program, writer_line);
  auto id = [&](const std::string& name) {
    for (std::size_t i = 0; i < writer.indices.size(); ++i)
      if (writer.indices[i].name == name) return static_cast<int>(i);
    throw std::runtime_error("no index " + name);
  };
  return reads_only_where(program, at_line(program, line), writer, Condition{CompareOp::le, id("j"), id("i")});
}

TEST(KnownFill, ReadsOnlyWhereAWhereOnTheConditionGuardsEveryRead) {
  const std::string head = "dim T = 8, E = 4\ninput x[T, T], v[T, E]\na[i, j] = softmax(j: x[i, j])\n";
  // Causal attention's P V sum; the reader's own names; a stricter
  // condition (j < i implies j <= i); the positions read the other way.
  EXPECT_TRUE(guarded(head + "o[i, e] = where(j <= i, a[i, j] * v[j, e], 0)\n", 4, 3));
  EXPECT_TRUE(guarded(head + "o[y, e] = where(z <= y, a[y, z] * v[z, e], 0)\n", 4, 3));
  EXPECT_TRUE(guarded(head + "o[i, e] = where(j < i, a[i, j] * v[j, e], 0)\n", 4, 3));
  EXPECT_TRUE(guarded(head + "o[j, e] = where(i <= j, a[j, i] * v[i, e], 0)\n", 4, 3));
  EXPECT_TRUE(guarded(head + "r[i, j] = where(j > i, 0, a[i, j] * 2)\n", 4, 3));  // the second branch: not j > i
  // Unguarded; guarded by the wrong condition or branch; a read outside
  // the where; a guard outside a softmax over j (which reads every j).
  EXPECT_FALSE(guarded(head + "o[i, e] = a[i, j] * v[j, e]\n", 4, 3));
  EXPECT_FALSE(guarded(head + "o[i, e] = where(j >= i, a[i, j] * v[j, e], 0)\n", 4, 3));
  EXPECT_FALSE(guarded(head + "r[i, j] = where(j <= i, 0, a[i, j])\n", 4, 3));
  EXPECT_FALSE(guarded(head + "r[i, j] = where(j <= i, a[i, j], 0) + a[i, j]\n", 4, 3));
  EXPECT_FALSE(guarded(head + "r[i, j] = where(j <= i, softmax(j: a[i, j]), 0)\n", 4, 3));
  // A diagonal read; the writer assigned twice or added into.
  EXPECT_FALSE(guarded(head + "d[i, e] = where(j <= i, a[i, i] * v[j, e], 0)\n", 4, 3));
  EXPECT_FALSE(guarded(head + "a[i, j] += 1\no[i, e] = where(j <= i, a[i, j] * v[j, e], 0)\n", 5, 3));
}

}  // namespace
}  // namespace einc::ir
