// backends/cpu/vector_math.h — the elementwise functions of the language as
// LLVM IR, for f32 scalars and <N x float> vectors alike.
//
// The loop kernels (loop_gen.cpp) apply functions to whole vectors, so each
// f32 function here is straight-line IR on the value's own type: range
// reduction, a short polynomial, explicit selects for the special values
// (NaN, infinities, zero, overflow). No calls, no tables, no libm, so that
// a kernel needs nothing from the process but its arguments. f64 values
// take the exact functions' code, exp (and sigmoid, silu on it) from
// Cephes' double exp (a Pade form, times 2^n in two halves), tanh and log
// from Cephes' double tanh and log, and call the
// reference's double formulas lane by lane for the rest (emit_function).
//
//   exp      Cephes expf: n = round(x log2 e), r = x - n ln 2 (two parts),
//            degree-6 polynomial, times 2^n applied in two halves (so that
//            results down to the denormals are rounded once)
//   log      Cephes logf: exponent and mantissa from the bits (denormals
//            scaled first), degree-9 polynomial in m - 1
//   tanh     Cephes tanhf: x + x^3 P(x^2) for |x| <= 0.625, else
//            sign(x) (1 - 2 / (e^{2|x|} + 1))
//   sigmoid  e = exp(-|x|): 1 / (1 + e) for x >= 0, e / (1 + e) otherwise
//   gelu     0.5 x (1 + erf(x / sqrt 2)), erf a rational minimax form
//            x P(x^2) / Q(x^2) on [-4, 4] (+-1 outside)
//   silu     x sigmoid(x)
//   sqrt     llvm.sqrt (exact); rsqrt is 1 / sqrt(x) (two roundings)
//   abs relu max min   selects, with the reference's NaN rules
//   pow      the one exception: the C library's double pow() lane by lane,
//            called through a pointer the kernel is given (exponents
//            amplify the error of any short exp(y log x) form; pow is rare
//            in models).
//
// Measured accuracy against the double-precision reference is in
// docs/cpu-backend.md: at most 3 ulp, except gelu, whose error is bounded
// in absolute terms (<= 1e-6) where 1 + erf cancels (x < -3).
#pragma once

#include <llvm/IR/IRBuilder.h>

#include "ir/program.h"

namespace einc::cpu {

using Builder = llvm::IRBuilder<>;

// A float constant of `type` (float or a vector of floats: splatted).
llvm::Value* float_constant(Builder& b, llvm::Type* type, float value);

// Makes `a` and `b` the same type: a scalar next to a vector is splatted.
void unify(Builder& b, llvm::Value*& a, llvm::Value*& b_value);

llvm::Value* emit_exp(Builder& b, llvm::Value* x);
llvm::Value* emit_log(Builder& b, llvm::Value* x);
llvm::Value* emit_tanh(Builder& b, llvm::Value* x);
llvm::Value* emit_sigmoid(Builder& b, llvm::Value* x);
llvm::Value* emit_erf(Builder& b, llvm::Value* x);
llvm::Value* emit_gelu(Builder& b, llvm::Value* x);

// Whether f64 values of `func` are computed in vector code here: the
// functions that are one IEEE operation or a select (sqrt, rsqrt, abs,
// relu, max, min: the f32 code on doubles), exp with what is built on it
// (sigmoid, silu), tanh and log, from Cephes' double exp, tanh and log.
bool f64_in_vector_code(ir::Func func);
// Whether f64 values of `func` are exactly the reference's in vector code:
// the functions that are one IEEE operation or a select (sqrt, rsqrt, abs,
// relu, max, min).
bool exact_in_vector_code(ir::Func func);

// `func` applied to args (one, or two for max/min/pow). `pow_fn` is a
// pointer to `double pow(double, double)` (an i8* value), used by f32 pow
// only. f64 values (double, <N x double>) of the other functions call
// `double_fn`, a pointer to `double f(int64_t func, double a, double b)`
// (the reference's formula for func, in double), lane by lane; with
// `exact`, every function not exact_in_vector_code does (an integer
// statement's functions, truncated afterwards, must be the reference's
// bits).
llvm::Value* emit_function(Builder& b, ir::Func func, llvm::Value* a, llvm::Value* second, llvm::Value* pow_fn,
                           llvm::Value* double_fn = nullptr, bool exact = false);

}  // namespace einc::cpu
