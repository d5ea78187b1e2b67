// ir/gett_lowering.h — a statement as one GETT kernel plus a fused epilogue.
//
// The shape the fast backends (cpu, cuda) compile directly:
//
//   target[out] = act( scale * sum_K(A[...] * B[...]) + bias terms ) + residual terms
//
// where A and B are tensor accesses (any strides, diagonals, broadcast
// positions, affine positions: `I[i + m, j + n]`, `qkv[t, 1, h, e]`; an
// offset moves the view's start, GettSpec::a_offset), `scale` is a product of scalar factors (numbers,
// dims, 0-d tensors, functions of those), bias and residual terms are accesses whose indices are output indices, and
// `act` is one elementwise function. Each index falls in one group: batch (A, B and the output), M (A and the output),
// N (B and the output) or K (summed; an index only one operand holds is summed with stride 0 in the other). Statements
// of any other shape are not GETT statements (match_gett returns nullopt) and a backend evaluates them another way. Nor
// is a statement whose product's plan (product_plan.h) is not the kernel's work: A and B contracted with each other, no
// index summed inside one of them first, the scalars folded into one `scale` applied where the plan applies them: to
// the result, or to A or B before they meet (the plan scales the smaller; `scale_at`). A plan that scales both runs
// as product steps.
//
// `target[out] += ...` of this form is a GETT too (`accumulate`): the backend adds the target's old values as a
// residual term after the activation (the cpu backend reads them from a copy, as the kernel overwrites C).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ir/program.h"

namespace einc::ir {

struct GettOperand {
  int tensor = -1;
  std::vector<Subscript> subscripts;  // one affine form per dimension
};

struct GettTerm {
  GettOperand access;
  bool negate = false;
};

// A condition on two of the kernel's indices (docs/language.md,
// "Conditions"), in one of two forms the kernel skips work for:
//  - a select on the result, `where(j <= i, <GETT form>, fill)`, both
//    indices output indices: C = condition ? result : fill, and the tiles
//    where the condition fails nowhere are not computed;
//  - a masked sum, `sum(j: where(j <= i, A * B, 0))`, one index an output
//    index and the other summed (`on_sum`): only the products where it
//    holds are added (causal attention's P V), so the blocks of K outside
//    the domain are skipped.
struct GettMask {
  Condition condition;
  bool on_sum = false;
  ExprPtr fill;  // select: the scalar where the condition fails
};

// Where the product's plan applies its scalars: to the contraction's result
// (the epilogue), or to one operand before the contraction.
enum class ScaleAt { result, a, b };

struct GettStatement {
  GettOperand a, b;                    // a holds the M indices, b the N indices
  std::vector<int> batch, m, n, k;     // index ids, in the order the kernel linearises them
  std::vector<ExprPtr> scale_factors;  // scalar subexpressions
  std::vector<bool> scale_divides;     // parallel: '/' instead of '*'
  ScaleAt scale_at = ScaleAt::result;
  bool accumulate = false;  // `+=`: the target's old values are added last
  std::optional<GettMask> mask;
  std::vector<GettTerm> bias;      // added before the activation
  std::optional<Func> activation;  // one-argument function
  std::vector<GettTerm> residual;  // added after it
  // The dequantising form (match_dequantised_gett): A and B are i8, the
  // kernel sums in i32 (wrapping), and the sums are converted to f32 before
  // the scale, the channel scales (multiplied in) and the bias terms apply.
  bool dequantise = false;
  std::vector<GettOperand> channel_scales;
  // Zero points (asymmetric quantisation): an i8 operand written `x - z`,
  // with z an i8 access of x's unsummed indices (a 0-d tensor: one for
  // the tensor; `zw[f]` of `w[f, d] - zw[f]`: one per channel) or an
  // integer number of at most kMaxZeroPoint in magnitude (so that x - z
  // fits in 16 bits), is the GETT of x with z subtracted as the operand is
  // read; null without one.
  ExprPtr a_zero_point, b_zero_point;
};

inline constexpr double kMaxZeroPoint = 32639;  // 32767 - 128

// Recognises the GETT form above (f32, f64 and i32 statements whose A and
// B are of the statement's dtype, or i8 in an i32 statement, each maybe
// less a zero point; `=` or `+=`), under at most one mask
// (GettMask); a backend decides which of these forms it runs. `c_strides`
// are the target's strides (elements): they decide which operand is A (the
// one holding the output's smallest-stride index) and the order of each
// group (largest output stride first).
std::optional<GettStatement> match_gett(const Program& program, const Statement& statement,
                                        const std::vector<std::int64_t>& c_strides);

// The dequantising form of a quantised layer (docs/language.md,
// "Conversions"), in an f32 statement:
//
//   target[out] = act( f32(sum_K(A[...] * B[...])) * scale * channel scales + bias terms )
//
// A and B i8 tensor accesses (each maybe less a zero point, as in
// match_gett) whose products are summed in i32 (every
// summed index held by both), `scale` scalar factors (`*` or `/`), channel
// scales accesses of output indices (`*` only: the per-channel scales of
// the weights), bias terms as in match_gett, `act` one elementwise
// function or none. Returned as the GETT of the i32 sum with `dequantise`
// set (no residual, mask or `+=`).
std::optional<GettStatement> match_dequantised_gett(const Program& program, const Statement& statement,
                                                    const std::vector<std::int64_t>& c_strides);

// One index of a GETT with the concrete extent and strides (elements) it
// has in A, B and C for one run.
struct GettDimSpec {
  int index = -1;
  std::int64_t extent = 1;
  std::int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};

// A bias or residual term's strides along each group's dims.
struct GettTermSpec {
  int tensor = -1;
  bool negate = false;
  std::int64_t offset = 0;                                        // the element where the term's view starts
  std::vector<std::int64_t> batch_strides, m_strides, n_strides;  // parallel to the spec's groups
};

// A matched statement made concrete for the tensors of one run: the kernel
// spec both fast backends start from. Each group is ordered by stride,
// largest first (stable): batch, M and N by C's stride, K by B's, so the
// innermost positions are the contiguous ones where there are any.
struct GettSpec {
  GettOperand a, b;
  std::int64_t a_offset = 0, b_offset = 0;  // the elements where A's and B's views start
  std::vector<GettDimSpec> batch, m, n, k;
  std::vector<GettTermSpec> bias, residual;
  std::vector<GettTermSpec> channel_scales;  // dequantise: never negated
  ExprPtr a_zero_point, b_zero_point;        // the statement's, swapped with A and B
  // An access zero point's strides along the groups (tensor -1: none, or
  // a number).
  GettTermSpec a_zero_points, b_zero_points;
};

// `strides_of(tensor)` gives a tensor's strides; `swap` exchanges the roles
// of A and B (and so of M and N): C^T = B^T A^T.
GettSpec make_gett_spec(const Program& program, const Statement& statement, const GettStatement& gett,
                        const std::function<const std::vector<std::int64_t>&(int)>& strides_of, bool swap = false);

// Evaluates a scalar subexpression (no free indices). `load_scalar(tensor)`
// reads a 0-d tensor.
double evaluate_scalar(const Program& program, const Expr& expr, const std::function<double(int)>& load_scalar);

// Whether an operand or term of the GETT starts its view past the tensor's
// first element (a position with an offset: `qkv[t, 1, h, e]`).
bool reads_with_offsets(const GettStatement& gett);

// The product of a GETT's scalar factors (dividing by the `/` ones).
double evaluate_gett_scale(const Program& program, const GettStatement& gett,
                           const std::function<double(int)>& load_scalar);

}  // namespace einc::ir
