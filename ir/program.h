// ir/program.h — the tensor IR: dims, tensors and statements over indices.
//
// Semantics. A Program is a list of statements, each assigning (or, with
// `accumulate`, adding into) one tensor: target[lhs...] = value. `value` is
// an immutable expression tree over index variables local to the statement.
// Every implicit Einstein summation has been made explicit by sema as a
// `reduce` node with op `sum` and `implicit` set, placed at the smallest
// subexpression that contains all occurrences of its indices; for a product
// the reduce covers exactly the factors that share its summed indices, and
// factors without a summed index stay outside (distributivity), so a
// `reduce(sum)` over a `multiply` of two or more factors is a contraction.
// The tree does not fix the order of computation: a product (a multiply
// chain with the sums over products inside it) is planned whole, over all
// its factors, by product_plan.h, and that plan is what is counted and run.
// An Expr's `free` lists the index ids that vary over its result; a
// statement's root has free == the set of lhs indices it does not broadcast.
// Extents are polynomials in the dims (poly.h); the dims' values live in
// `dims` and are what every evaluation uses.
//
// Nodes never change after construction (shared_ptr<const Expr>): passes
// build new trees, so a later planner or backend can hold on to any node.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "frontend/source.h"
#include "ir/dtype.h"
#include "ir/poly.h"
#include "ir/subscript.h"

namespace einc::ir {

using frontend::Span;

// `dim E = D / H`: integer arithmetic over earlier dims. A chain
// `a + b - c` or `a * b / c` is one node with a list of (op, operand), so
// evaluation never recurses deeper than the brackets nest.
struct DimExpr {
  enum class Op { literal, dim, negate, chain } op = Op::literal;
  std::int64_t value = 0;                                              // literal
  int dim = -1;                                                        // dim
  std::vector<std::pair<char, std::shared_ptr<const DimExpr>>> terms;  // negate: one; chain: first op is '+' or '*'
  Span span;
};

struct Dim {
  enum class Kind { given, derived, symbolic };
  std::string name;
  Span span;
  Kind kind = Kind::given;
  std::shared_ptr<const DimExpr> definition;  // derived
  std::optional<std::int64_t> value;          // after binding; nullopt: unbound
  bool bound_from_outside = false;            // set by a binding (--dim, API)
};

// `layer`: one layer's part of a param or input inside a repeat block
// (`w[l, d, f]` is the layer tensor `w[l]` at [d, f]); the executor binds it
// to the source's slice at each iteration, so no backend sees the block.
enum class TensorRole { input, param, intermediate, layer };

struct Tensor {
  std::string name;
  Span span;  // declaration, or first assignment
  DType dtype = DType::f32;
  TensorRole role = TensorRole::intermediate;
  bool is_output = false;
  bool dtype_declared = false;
  bool shape_declared = false;
  std::vector<Poly> shape;
  int defined_by = -1;  // index of the defining statement (intermediates)
  int layer_of = -1;    // layer: the tensor it is a slice of (along its first dim)
  int block = -1;       // layer: the repeat block whose index selects the slice
};

struct IndexVar {
  std::string name;
  Poly extent;
  Span span;  // where the extent was first learned
};

enum class ExprKind { access, constant, dim_value, negate, call, add, multiply, reduce, normalize, select };

// `j <= i` in `where(j <= i, a, b)`: a comparison of two indices of the
// same extent (docs/language.md, "Conditions"). The cost model counts the
// points on each side exactly (ir/condition.h).
enum class CompareOp { lt, le, gt, ge, eq, ne };
struct Condition {
  CompareOp op = CompareOp::lt;
  int lhs = -1, rhs = -1;  // index ids, distinct
  bool operator==(const Condition& o) const { return op == o.op && lhs == o.lhs && rhs == o.rhs; }
};

// `convert`: a dtype conversion, written as the target dtype's name
// (`f32(acc[t, f])`, `i8(x[i] / s)`): Expr::convert_to and convert_from.
enum class Func { exp, log, sqrt, rsqrt, abs, tanh, sigmoid, relu, gelu, silu, max, min, pow, convert };
enum class ReduceOp { sum, max, min, prod, mean, logsumexp };
enum class NormOp { softmax, layernorm, rmsnorm };

const char* func_name(Func f);
const char* reduce_op_name(ReduceOp op);
const char* norm_op_name(NormOp op);
int func_arity(Func f);
bool func_is_transcendental(Func f);

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  ExprKind kind = ExprKind::constant;
  Span span;
  std::vector<int> free;  // sorted, unique index ids

  int tensor = -1;                    // access
  std::vector<Subscript> subscripts;  // access: one affine form per dimension (subscript.h)
  bool zero_padded = false;           // access: positions outside the tensor read 0 (`padded(...)`)
  double constant = 0.0;              // constant
  int dim = -1;                       // dim_value
  Func func = Func::exp;              // call
  DType convert_to = DType::f32;      // call of Func::convert: the dtype of its value
  DType convert_from = DType::f32;    // ... and of its argument (f32 when only numbers and dims)
  ReduceOp reduce_op = ReduceOp::sum;
  NormOp norm_op = NormOp::softmax;
  bool implicit = false;      // reduce inserted by the Einstein rule
  std::vector<int> over;      // reduce / normalize: the index ids, sorted
  std::vector<ExprPtr> args;  // children
  std::vector<char> ops;      // add: '+'/'-' per arg; multiply: '*'/'/' per arg
  Condition condition;        // select: args[0] where it holds, else args[1]
  // Only numbers and dims below (no access, so no index, no reduction): a
  // scalar fixed once the dims are bound. The cost model counts nothing
  // for it, and the backends compute it once per run (docs/cost-model.md,
  // "Scalars of dims and numbers"). Set by the builders (expr_builders.h).
  bool folds = false;
};

// The name a call is written with: func_name, or for a conversion the
// dtype it converts to ("f32").
std::string call_name(const Expr& call);

// `repeat l < L { ... }`: statements [first, end) run `count` times in
// order, iteration l reading the layer tensors' slices at l; state carries
// from one iteration to the next through `+=` on tensors defined before the
// block. The cost model counts those statements `count` times.
struct RepeatBlock {
  std::string index;  // the layer index's name
  Span span;          // `repeat l < L {`
  Poly count;
  int first = 0, end = 0;  // statement range
};

struct Statement {
  int block = -1;  // the repeat block it is in
  Span span;
  int line = 0;
  std::string text;  // the statement as written, on one line
  int target = -1;
  std::vector<int> lhs;     // index ids of the target's dimensions
  bool accumulate = false;  // +=
  ExprPtr value;
  std::vector<IndexVar> indices;
  DType dtype = DType::f32;
};

// The ids of every tensor the expression reads (its accesses, and the
// integer tensors their lookups read).
std::set<int> tensors_read(const Expr& e);

// Whether the expression converts a value's dtype anywhere (`f32(...)`):
// the backends' paths that assume one dtype per statement refuse those.
bool contains_conversion(const Expr& e);

// The statement as a conversion's argument computes: `statement` with the
// argument's dtype (`conversion.convert_from`), so that what depends on
// the dtype follows the argument's (an integer product that divides is
// computed as written, not planned: product_plan.h), as docs/language.md,
// "Conversions", says: the argument is computed as a statement of its
// dtype would compute it.
Statement statement_for_argument(const Statement& statement, const Expr& conversion);

struct Program {
  std::vector<Dim> dims;
  std::vector<Tensor> tensors;
  std::vector<Statement> statements;
  std::vector<RepeatBlock> blocks;
  std::vector<int> outputs;                                  // tensor ids, in declaration order
  std::unordered_map<std::string, int> dim_ids, tensor_ids;  // by name

  int find_dim(const std::string& name) const;
  int find_tensor(const std::string& name) const;
  int add_dim(Dim dim);  // keeps the name index in step
  int add_tensor(Tensor tensor);
  std::string dim_name(int id) const { return dims.at(id).name; }
  std::optional<std::int64_t> dim_value(int id) const { return dims.at(id).value; }
  // Evaluates an extent (a shape, a loop bound, a position) under the
  // current dim values (throws UnboundDimError / OverflowError(64) past int64).
  std::int64_t evaluate(const Poly& poly) const;
  // Evaluates a count (outputs, MACs, bytes, ...): exact in 128 bits (throws
  // UnboundDimError / OverflowError(128) past the signed 128-bit range).
  Int128 evaluate_count(const Poly& poly) const;
  // The value, or nullopt while a dim it needs is unbound or when it leaves
  // int64 (for checks and messages that wait for a binding).
  std::optional<std::int64_t> try_evaluate(const Poly& poly) const;
  std::string formula(const Poly& poly) const;
};

// A tensor's shape (extents in elements) under the bound dims: what a
// runner allocates and checks a caller's tensor against (throws
// UnboundDimError / OverflowError).
std::vector<std::int64_t> evaluated_shape(const Program& program, int tensor);
// A statement's index extents under the bound dims, by index id: the loop
// bounds every backend iterates (throws UnboundDimError / OverflowError).
std::vector<std::int64_t> index_extents(const Program& program, const Statement& statement);

// C-order strides (elements) of a shape; an extent of 0 counts as 1.
std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& shape);
// Every tensor's C-order strides under the bound dims (throws UnboundDimError).
std::vector<std::vector<std::int64_t>> contiguous_strides(const Program& program);

// The run-time error of a lookup that reads an id outside its tensor:
// "lookup out of range in the statement at line 5: ids[2] = 99, but dim 0
// of 'wte' has extent 50". `ids_position`: where the id was read.
std::string lookup_out_of_range(const Program& program, const Statement& statement, const Expr& access, std::size_t dim,
                                const std::vector<std::int64_t>& ids_position, std::int64_t id);

// `sum(k: A[i, k] * B[k, j])` — for reports and dumps.
std::string print_expr(const Program& program, const Statement& statement, const Expr& expr);
// The whole program, one statement per line, sums explicit.
std::string print_program(const Program& program);

}  // namespace einc::ir
