// ir/gett_lowering.h — a statement as one GETT kernel plus a fused epilogue.
//
// The shape the fast backends (cpu, cuda) compile directly:
//
//   target[out] = act( scale * sum_K(A[...] * B[...]) + bias terms ) + residual terms
//
// where A and B are tensor accesses (any strides, diagonals, broadcast
// positions), `scale` is a product of scalar factors (numbers, dims, 0-d
// tensors, functions of those), bias and residual terms are accesses whose
// indices are output indices, and `act` is one elementwise function. Each
// index falls in one group: batch (A, B and the output), M (A and the
// output), N (B and the output) or K (summed; an index only one operand
// holds is summed with stride 0 in the other). Statements of any other shape
// are not GETT statements (match_gett returns nullopt) and a backend
// evaluates them another way.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ir/program.h"

namespace einc::ir {

struct GettOperand {
  int tensor = -1;
  std::vector<int> subscripts;  // index id per dimension, or kBroadcast
};

struct GettTerm {
  GettOperand access;
  bool negate = false;
};

struct GettStatement {
  GettOperand a, b;                    // a holds the M indices, b the N indices
  std::vector<int> batch, m, n, k;     // index ids, in the order the kernel linearises them
  std::vector<ExprPtr> scale_factors;  // scalar subexpressions
  std::vector<bool> scale_divides;     // parallel: '/' instead of '*'
  std::vector<GettTerm> bias;          // added before the activation
  std::optional<Func> activation;      // one-argument function
  std::vector<GettTerm> residual;      // added after it
};

// Recognises the GETT form above (f32 statements, `=` only). `c_strides`
// are the target's strides (elements): they decide which operand is A (the
// one holding the output's smallest-stride index) and the order of each
// group (largest output stride first).
std::optional<GettStatement> match_gett(const Program& program, const Statement& statement,
                                        const std::vector<std::int64_t>& c_strides);

// Evaluates a scalar subexpression (no free indices). `load_scalar(tensor)`
// reads a 0-d tensor.
double evaluate_scalar(const Program& program, const Expr& expr, const std::function<double(int)>& load_scalar);

}  // namespace einc::ir
