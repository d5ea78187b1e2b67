// backends/cpu/loop_graph.h — a statement as a graph of f32 (or f64) operations over
// index variables: what a JIT loop kernel computes, and whether one can.
//
// build_loop_graph() rewrites a statement's value (ir::Expr) into a small
// DAG that loop_gen.cpp emits directly:
//   - elementwise nodes (neg, add, sub, mul, div, function calls, and the
//     select of `where` on the loop counters) over loads
//     of tensor accesses, script numbers and dims (runtime "scalar" slots,
//     so a kernel does not depend on their values) and fixed constants; a
//     subexpression of numbers and dims (ir::Expr::folds, `sqrt(E)`) is
//     computed here, once, by reference::fold_real, and read from a slot
//     like a number;
//   - reduce nodes (sum, prod, NaN-propagating max/min, and a max that
//     skips NaN for the stable forms) over a set of indices;
//   - the rest expanded into those, as the reference computes them:
//       mean(A: x)      = sum(A: x) / n
//       logsumexp(A: x) = m + log(sum(A: exp(x - m))) if m is finite, else m;  m = max(A: x)
//       softmax(A: x)   = exp(x - m) * (1 / sum(A: exp(x - m)))
//       layernorm(A: x) = (x - mu) * (1 / sqrt(sum(A: (x - mu)^2) / n + 1e-5));  mu = sum(A: x) / n
//       rmsnorm(A: x)   = x * (1 / sqrt(sum(A: x * x) / n + 1e-5))
// Equal subexpressions are one node (hash-consed), so `x` above is one node
// evaluated wherever it is needed, and equal accesses are loaded once.
//
// What compiles is decided from the structure alone (statement_plan.h then
// checks the tensors): f32 statement, target and operands, or the same all
// f64 (LoopGraph::element: the kernel then computes in double), or an
// f16/bf16 statement (computed in f32: its tensors widened as loaded, the
// value rounded once as stored), or an integer statement of + - * /,
// functions, where and sum/prod/max/min/mean over i8/i32 tensors (in
// int64; a divisor that may be 0 checked in the kernel, loop_gen.h),
// except that, in f32 kernels, conversions compile between f32, f16 and
// bf16 values and from i32/i8 tensors: f32(...) of an i32 tensor loads it
// converted (a dequantisation, `f32(acc[t, f]) * s[f]`), of an f16/bf16
// tensor loads it widened; an argument of another dtype is computed in f32
// and rounded to it (a `round` node), as its own statement would be
// (ir::statement_for_argument); f32(...) of an f32 value is that value;
// and a whole statement i8(...) or i32(...) of an f32, f16 or bf16 value
// is stored rounded and saturated (a quantisation, `q[t, d] = i8(x[t, d]
// / s)`); products lowered
// as their plan (ir/product_plan.h: operands inverted or summed first where
// the plan says, then one multiply or divide node per step and a reduce
// node for what a step sums), and only plans whose nodes then do the plan's
// work: one step, or steps all elementwise over the product's result (the
// rest run as product steps); no product that sums unless one factor holds
// every index (a loop nest is no worse than the pairwise plan there, e.g.
// sum(j: X[i, j] * w[j]) or sum(j: X[i, j] * 2)); no `+=` that reads
// its own target; and every reduce node computed exactly once per point of
// its free indices ("exact placement"): a reduce node is evaluated inside
// the loops of the indices it varies with and no others, which needs the
// free sets of the reductions inside one loop nest to be nested (a chain
// under inclusion) so that one loop order has each of them as a prefix.
// Statements that fail a rule are interpreted; `reason` says which rule.
//
// Loops split at a condition. A nest (the output loops, or a reduction's)
// whose value selects on a condition between two indices (`where(j <= i,
// x, -inf)`, or a read of a tensor known to hold a fill outside such a
// condition: ir/known_fill.h) gets two more versions of its value: where
// the condition holds (each such select its first branch) and where it
// does not (its second). The emitted loop over the later of the two
// indices runs in two pieces, [0, i + 1) and [i + 1, T) for j <= i, each
// computing its version; so a causal softmax computes exp only on and
// below the diagonal, and past it stores exp(-inf - max) / sum computed
// once per row (0, or NaN exactly where the whole computation gives NaN).
// Both versions equal the original value at every point of their piece,
// so splitting changes no value (up to the order of a sum's terms).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/program.h"

namespace einc::cpu {

enum class LoopOp { load, scalar, constant, neg, add, sub, mul, div, call, reduce, lse_final, select, round };
enum class LoopReduce { sum, prod, max, min, max_skip_nan };

struct LoopNode {
  LoopOp op = LoopOp::constant;
  std::vector<int> args;  // node ids; reduce: {body}; lse_final: {m, s}
  std::vector<int> free;  // sorted statement index ids the value varies with
  int slot = -1;          // load: access slot; scalar: scalar slot
  double constant = 0;    // constant (fixed by the rewrite, baked into the code)
  ir::Func func = ir::Func::exp;
  LoopReduce reduce = LoopReduce::sum;
  std::vector<int> over;        // reduce: the indices it loops over (sorted)
  ir::Condition condition;      // select: args[0] where it holds at the point, else args[1]
  DType round_to = DType::f32;  // round: args[0] rounded to this f16/bf16 (to nearest even), as f32
};

// A tensor access: its base pointer and one stride per free index are
// kernel arguments.
struct LoopAccess {
  int tensor = -1;
  // i32/i8: an integer tensor under f32(...), converted as it is loaded;
  // f16/bf16: widened as it is loaded (exact)
  DType dtype = DType::f32;
  std::vector<ir::Subscript> subscripts;  // as in ir::Expr: a strided view, perhaps with an offset
  std::vector<int> free;                  // sorted index ids
};

// A float the kernel reads from its scalar argument array.
struct LoopScalar {
  enum class Kind { number, dim, count } kind = Kind::number;
  double number = 0;         // number
  int dim = -1;              // dim: its value
  std::vector<int> indices;  // count: the product of these indices' extents
};

// A nest's loop split at a condition (above). Reductions are nests of their
// own: a version of a value shares the original's reduce nodes.
struct LoopSplit {
  int nest = -1;            // -1: the output nest; else the reduce node's id
  ir::Condition condition;  // between two indices (<, <=, >, >=)
  int inside = -1;          // the nest's value (output: the root; reduce: its body) where it holds
  int outside = -1;         // ... and where it does not
};

struct LoopGraph {
  std::vector<LoopNode> nodes;
  int root = -1;
  std::vector<LoopAccess> accesses;  // slots
  std::vector<LoopScalar> scalars;   // slots
  std::vector<int> lhs;              // the target's index ids, in dimension order
  // The type the kernel computes in: f32, or f64 for an f64 statement (its
  // tensors and target f64 too; no conversions), or i32 for an integer
  // statement (target i8 or i32, tensors i8 or i32): the kernel then
  // computes in 64-bit integers as the reference does (docs/semantics.md):
  // loads sign-extended, + - * wrapping, numbers and dims folded as
  // integers, the value wrapped to the target's dtype as it is stored.
  // Integer kernels compute + - * / (a divisor that may be 0 checked at
  // run time), functions, where, and sum/prod/max/min/mean in int64 (no
  // logsumexp or conversions yet: those statements are interpreted).
  DType element = DType::f32;
  // The element type, or i8/i32 for a statement `q = i8(...)` of an f32
  // (or f16/bf16) value: the root is rounded to nearest (ties to even) and
  // saturated as it is stored; or f16/bf16 for a statement of that dtype
  // (computed in f32, rounded once as it is stored, as run_widened's f32
  // copies give: widened.h). (f64 also for the partial sums of a chunked
  // f32 reduction: loop_lowering.h, ReductionChunks.)
  DType target_dtype = DType::f32;
  // The loop nests' order constraints: for the output nest (the lhs
  // indices) and for each reduce node (by node id), the groups of indices
  // that must come first, in order, then the rest: G1, G2 \ G1, ...
  std::vector<std::vector<int>> output_groups;
  std::vector<std::vector<std::vector<int>>> reduce_groups;  // parallel to nodes (empty for non-reduce)
  // Index sets that max/min/mean/logsumexp/normalisations reduce over: when
  // one is empty at run time the reference reports the error.
  std::vector<std::vector<int>> must_be_nonempty;
  std::vector<LoopSplit> splits;  // at most one per nest
  // The output nest's piece outside its split is not stored: the statement
  // is `where(c, x, fill)` split at c and no statement reads the fill from
  // memory (set by statement_plan.h: StatementPlan::fill_unread).
  bool outside_unread = false;
  bool uses_pow = false;
  std::string summary;  // "elementwise", "reduction: sum over k", "normalization: softmax over j"
};

struct LoopGraphResult {
  std::optional<LoopGraph> graph;
  std::string reason;  // why not, when graph is empty
};

LoopGraphResult build_loop_graph(const ir::Program& program, const ir::Statement& statement);

// Whether the kernel reads, rounds to or stores `dtype` (f16 kernels need
// F16C: Jit::reads_half_weights).
bool uses_dtype(const LoopGraph& graph, DType dtype);

// Whether node n is a number known when the kernel is planned (a constant,
// or a scalar slot holding a number), and not 0: an integer division by it
// cannot fail at run time.
bool nonzero_number(const LoopGraph& graph, int n);
// Whether the graph divides integers by something that may be 0 at run
// time (a tensor's element, a dim): its kernel checks every divisor.
bool divides_by_what_may_be_zero(const LoopGraph& graph);

// Node n and every node it reads, through nested reductions too.
std::set<int> nodes_under(const LoopGraph& graph, int n);
// Whether node n is or reads a reduction (a row's first pass reads none).
bool uses_a_reduction(const LoopGraph& graph, int n);

// One line per node, for cache keys and debugging: everything the
// generated code depends on except strides and extents.
std::string loop_graph_signature(const LoopGraph& graph);

}  // namespace einc::cpu
