// backends/cpu/vector_math.cpp — see vector_math.h.
//
// Polynomials and reductions follow Cephes (expf, logf, tanhf); the erf
// rational form is the x P(x^2) / Q(x^2) minimax fit used by Eigen and XLA
// (relative error 6.5e-8 in exact arithmetic on [-4, 4]). Multiply-adds are
// llvm.fmuladd: fused where the ISA has FMA, so a kernel's results depend on
// the ISA (which is part of every kernel's cache key) but on nothing else.
#include "backends/cpu/vector_math.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "einc/internal_error.h"

namespace einc::cpu {

namespace {

using llvm::Type;
using llvm::Value;

bool is_vector(const Value* v) { return v->getType()->isVectorTy(); }

bool is_double(const Type* type) { return type->getScalarType()->isDoubleTy(); }

// The integer type of a float type's width (i32 for float, i64 for double),
// with as many lanes.
Type* int_type_like(Builder& b, Type* type) {
  Type* scalar = is_double(type) ? b.getInt64Ty() : b.getInt32Ty();
  if (auto* vector = llvm::dyn_cast<llvm::FixedVectorType>(type))
    return llvm::FixedVectorType::get(scalar, vector->getNumElements());
  return scalar;
}

Value* int_constant(Builder&, Type* int_type, std::int64_t value) {
  return llvm::ConstantInt::get(int_type, static_cast<std::uint64_t>(value), true);
}

// `value` as a constant of `like`'s type (f32 rounds it once: a float
// literal comes back exactly).
Value* c(Builder&, const Value* like, double value) { return llvm::ConstantFP::get(like->getType(), value); }

// a * m + add, fused where the target has FMA.
Value* mul_add(Builder& b, Value* a, Value* m, Value* add) {
  return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {a->getType()}, {a, m, add});
}

Value* mul_add(Builder& b, Value* a, Value* m, double add) { return mul_add(b, a, m, c(b, a, add)); }

// Horner: ((c0 x + c1) x + c2) ... with coefficients highest degree first.
Value* horner(Builder& b, Value* x, std::initializer_list<double> coefficients) {
  auto it = coefficients.begin();
  Value* y = c(b, x, *it++);
  for (; it != coefficients.end(); ++it) y = mul_add(b, y, x, *it);
  return y;
}

Value* fabs(Builder& b, Value* x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }

// 2^k for integer k in the normal exponents ([-126, 127] for float,
// [-1022, 1023] for double), as a float of the matching type (k an integer
// of its width: int_type_like).
Value* pow2(Builder& b, Value* k, Type* float_type) {
  Type* it = k->getType();
  const bool wide = is_double(float_type);
  return b.CreateBitCast(
      b.CreateShl(b.CreateAdd(k, int_constant(b, it, wide ? 1023 : 127)), int_constant(b, it, wide ? 52 : 23)),
      float_type);
}

// y * 2^n (n a float holding an integer) as y * 2^n1 * 2^n2, n1 + n2 = n,
// each half a normal number where n is at most twice the normal range: a
// result down to the denormals is rounded once (exp's final scaling).
Value* times_pow2(Builder& b, Value* y, Value* n) {
  Type* it = int_type_like(b, y->getType());
  Value* ni = b.CreateFPToSI(n, it);
  Value* n1 = b.CreateAShr(ni, int_constant(b, it, 1));
  Value* n2 = b.CreateSub(ni, n1);
  return b.CreateFMul(b.CreateFMul(y, pow2(b, n1, y->getType())), pow2(b, n2, y->getType()));
}

Value* sigmoid_of(Builder& b, Value* x) {
  Value* e = emit_exp(b, b.CreateFNeg(fabs(b, x)));
  Value* numerator = b.CreateSelect(b.CreateFCmpOGE(x, c(b, x, 0.0f)), c(b, x, 1.0f), e);
  return b.CreateFDiv(numerator, b.CreateFAdd(c(b, x, 1.0f), e));
}

// one(x, y) on each lane of x and y (unified), or on the scalars.
Value* by_lane(Builder& b, Value* x, Value* y, const std::function<Value*(Value*, Value*)>& one) {
  unify(b, x, y);
  auto* vector = llvm::dyn_cast<llvm::FixedVectorType>(x->getType());
  if (!vector) return one(x, y);
  Value* out = llvm::UndefValue::get(vector);
  for (unsigned lane = 0; lane < vector->getNumElements(); ++lane)
    out = b.CreateInsertElement(out, one(b.CreateExtractElement(x, lane), b.CreateExtractElement(y, lane)), lane);
  return out;
}

// pow through the C library, lane by lane, in double.
Value* pow_lanes(Builder& b, Value* x, Value* y, Value* pow_fn) {
  auto* type = llvm::FunctionType::get(b.getDoubleTy(), {b.getDoubleTy(), b.getDoubleTy()}, false);
  Value* callee = b.CreateBitCast(pow_fn, llvm::PointerType::getUnqual(type));
  return by_lane(b, x, y, [&](Value* xs, Value* ys) {
    llvm::CallInst* call =
        b.CreateCall(type, callee, {b.CreateFPExt(xs, b.getDoubleTy()), b.CreateFPExt(ys, b.getDoubleTy())});
    call->setDoesNotThrow();
    return b.CreateFPTrunc(call, b.getFloatTy());
  });
}

// An f64 function through `double f(i64 func, double a, double b)`, lane by lane.
Value* double_lanes(Builder& b, ir::Func func, Value* x, Value* y, Value* double_fn) {
  auto* type = llvm::FunctionType::get(b.getDoubleTy(), {b.getInt64Ty(), b.getDoubleTy(), b.getDoubleTy()}, false);
  Value* callee = b.CreateBitCast(double_fn, llvm::PointerType::getUnqual(type));
  Value* id = b.getInt64(static_cast<std::uint64_t>(func));
  return by_lane(b, x, y ? y : llvm::ConstantFP::get(x->getType(), 0.0), [&](Value* xs, Value* ys) {
    llvm::CallInst* call = b.CreateCall(type, callee, {id, xs, ys});
    call->setDoesNotThrow();
    return static_cast<Value*>(call);
  });
}

}  // namespace

Value* float_constant(Builder&, Type* type, float value) { return llvm::ConstantFP::get(type, value); }

void unify(Builder& b, Value*& x, Value*& y) {
  if (is_vector(x) && !is_vector(y)) {
    y = b.CreateVectorSplat(llvm::cast<llvm::FixedVectorType>(x->getType())->getNumElements(), y);
  } else if (!is_vector(x) && is_vector(y)) {
    x = b.CreateVectorSplat(llvm::cast<llvm::FixedVectorType>(y->getType())->getNumElements(), x);
  }
}

// exp of doubles: Cephes exp.c. n = round(x log2 e), r = x - n ln 2 (two
// parts), e^r = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)), times 2^n in two
// halves (so that results down to the denormals are rounded once).
static Value* exp_f64(Builder& b, Value* x) {
  // e^710 overflows to +inf; below -746 e^x rounds to 0 (computed on 0,
  // replaced at the end: no lane steps through denormals on the way). NaN
  // stays in xc and out of the integer part.
  Value* xc = b.CreateSelect(b.CreateFCmpOGT(x, c(b, x, 710.0)), c(b, x, 710.0), x);
  Value* vanishes = b.CreateFCmpOLT(x, c(b, x, -746.0));
  xc = b.CreateSelect(vanishes, c(b, x, 0.0), xc);
  Value* xs = b.CreateSelect(b.CreateFCmpUNO(x, x), c(b, x, 0.0), xc);
  const double magic = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  Value* n =
      b.CreateFSub(b.CreateFAdd(b.CreateFMul(xs, c(b, x, 1.4426950408889634073599)), c(b, x, magic)), c(b, x, magic));
  Value* r = mul_add(b, n, c(b, x, -6.93145751953125e-1), xc);
  r = mul_add(b, n, c(b, x, -1.42860682030941723212e-6), r);
  Value* rr = b.CreateFMul(r, r);
  Value* px =
      b.CreateFMul(r, horner(b, rr, {1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1}));
  Value* qx = horner(
      b, rr,
      {3.00198505138664455042e-6, 2.52448340349684104192e-3, 2.27265548208155028766e-1, 2.00000000000000000009e0});
  Value* y = b.CreateFAdd(c(b, x, 1.0), b.CreateFMul(c(b, x, 2.0), b.CreateFDiv(px, b.CreateFSub(qx, px))));
  // (n in [-1076, 1025]: each half a normal double)
  return b.CreateSelect(vanishes, c(b, x, 0.0), times_pow2(b, y, n));
}

Value* emit_exp(Builder& b, Value* x) {
  Type* type = x->getType();
  if (is_double(type)) return exp_f64(b, x);
  // Clamp: e^89 overflows to +inf. Below -104 e^x rounds to 0: those lanes
  // are computed on 0 instead and replaced by 0 at the end, so that no lane
  // steps through denormals (a microcode assist of ~100 cycles per
  // instruction on x86: a causal softmax's -inf half would otherwise run at
  // a fraction of the speed). NaN stays in xc (ordered compares are false)
  // and is kept out of the integer part (xs), whose conversion would
  // otherwise be poison.
  Value* xc = b.CreateSelect(b.CreateFCmpOGT(x, c(b, x, 89.0f)), c(b, x, 89.0f), x);
  Value* vanishes = b.CreateFCmpOLT(x, c(b, x, -104.0f));
  xc = b.CreateSelect(vanishes, c(b, x, 0.0f), xc);
  Value* xs = b.CreateSelect(b.CreateFCmpUNO(x, x), c(b, x, 0.0f), xc);
  // n = round(x log2 e) by the 1.5 * 2^23 trick (no rounding instruction needed).
  const float magic = 12582912.0f;
  Value* n =
      b.CreateFSub(b.CreateFAdd(b.CreateFMul(xs, c(b, x, 1.44269504088896341f)), c(b, x, magic)), c(b, x, magic));
  // r = x - n ln 2, ln 2 in two parts (Cephes C1, C2).
  Value* r = mul_add(b, n, c(b, x, -0.693359375f), xc);
  r = mul_add(b, n, c(b, x, 2.12194440e-4f), r);
  Value* p = horner(
      b, r,
      {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f});
  Value* y = b.CreateFAdd(mul_add(b, p, b.CreateFMul(r, r), r), c(b, x, 1.0f));
  // (n in [-150, 129]: each half is a normal float)
  return b.CreateSelect(vanishes, c(b, x, 0.0f), times_pow2(b, y, n));
}

// log of doubles: Cephes log.c's form for exponents near 0, used for all
// (the other form is only cheaper): x = m 2^e with m in [sqrt(1/2),
// sqrt(2)) (denormals scaled by 2^54 first), f = m - 1, log x = f - f^2/2 +
// f^3 P(f) / Q(f) + e ln 2 (ln 2 in two parts). 0 gives -inf, negatives
// NaN, inf inf, NaN itself.
static Value* log_f64(Builder& b, Value* x) {
  Type* type = x->getType();
  Type* it = int_type_like(b, type);
  auto i64 = [&](std::int64_t v) { return int_constant(b, it, v); };
  Value* denormal = b.CreateFCmpOLT(x, c(b, x, std::numeric_limits<double>::min()));
  Value* xs = b.CreateSelect(denormal, b.CreateFMul(x, c(b, x, 18014398509481984.0)), x);  // * 2^54
  Value* bits = b.CreateBitCast(xs, it);
  Value* e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, i64(52)), i64(0x7ff)), i64(1022));
  e = b.CreateSelect(denormal, b.CreateSub(e, i64(54)), e);
  // m in [0.5, 1), then [sqrt(1/2), sqrt(2)): below sqrt(1/2), 2m and e - 1.
  Value* m = b.CreateBitCast(b.CreateOr(b.CreateAnd(bits, i64(0x000fffffffffffffLL)), i64(0x3fe0000000000000LL)), type);
  Value* low = b.CreateFCmpOLT(m, c(b, x, 0.70710678118654752440));
  e = b.CreateSelect(low, b.CreateSub(e, i64(1)), e);
  Value* f = b.CreateFSub(b.CreateSelect(low, b.CreateFAdd(m, m), m), c(b, x, 1.0));
  Value* z = b.CreateFMul(f, f);
  Value* p = horner(b, f,
                    {1.01875663804580931796e-4, 4.97494994976747001425e-1, 4.70579119878881725854e0,
                     1.44989225341610930846e1, 1.79368678507819816313e1, 7.70838733755885391666e0});
  Value* q = horner(b, f,
                    {1.0, 1.12873587189167450590e1, 4.52279145837532221105e1, 8.29875266912776603211e1,
                     7.11544750618563894466e1, 2.31251620126765340583e1});
  Value* ed = b.CreateSIToFP(e, type);
  Value* y = b.CreateFMul(f, b.CreateFMul(z, b.CreateFDiv(p, q)));
  y = mul_add(b, ed, c(b, x, -2.121944400546905827679e-4), y);
  y = mul_add(b, z, c(b, x, -0.5), y);
  Value* r = mul_add(b, ed, c(b, x, 0.693359375), b.CreateFAdd(f, y));
  r = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, x, 0.0)), c(b, x, -std::numeric_limits<double>::infinity()), r);
  r = b.CreateSelect(b.CreateFCmpOLT(x, c(b, x, 0.0)), c(b, x, std::numeric_limits<double>::quiet_NaN()), r);
  r = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, x, std::numeric_limits<double>::infinity())), x, r);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, r);
}

Value* emit_log(Builder& b, Value* x) {
  if (is_double(x->getType())) return log_f64(b, x);
  Type* type = x->getType();
  Type* it = int_type_like(b, type);
  // Denormals: scale by 2^23 first.
  Value* denormal = b.CreateFCmpOLT(x, c(b, x, std::numeric_limits<float>::min()));
  Value* xm = b.CreateSelect(denormal, b.CreateFMul(x, c(b, x, 8388608.0f)), x);
  Value* bits = b.CreateBitCast(xm, it);
  Value* e = b.CreateSub(b.CreateLShr(bits, int_constant(b, it, 23)), int_constant(b, it, 126));
  e = b.CreateSub(e, b.CreateSelect(denormal, int_constant(b, it, 23), int_constant(b, it, 0)));
  // Mantissa in [0.5, 1).
  Value* m = b.CreateBitCast(
      b.CreateOr(b.CreateAnd(bits, int_constant(b, it, 0x007FFFFF)), int_constant(b, it, 0x3F000000)), type);
  Value* small = b.CreateFCmpOLT(m, c(b, x, 0.707106781186547524f));
  e = b.CreateSub(e, b.CreateSelect(small, int_constant(b, it, 1), int_constant(b, it, 0)));
  m = b.CreateFSub(b.CreateFAdd(m, b.CreateSelect(small, m, c(b, x, 0.0f))), c(b, x, 1.0f));
  Value* z = b.CreateFMul(m, m);
  Value* y = horner(b, m,
                    {7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f, 1.4249322787e-1f,
                     -1.6668057665e-1f, 2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f});
  y = b.CreateFMul(b.CreateFMul(y, m), z);
  Value* fe = b.CreateSIToFP(e, type);
  y = mul_add(b, fe, c(b, x, -2.12194440e-4f), y);
  y = mul_add(b, z, c(b, x, -0.5f), y);
  Value* result = mul_add(b, fe, c(b, x, 0.693359375f), b.CreateFAdd(m, y));
  const float inf = std::numeric_limits<float>::infinity();
  result = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, x, inf)), c(b, x, inf), result);
  result = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, x, 0.0f)), c(b, x, -inf), result);
  return b.CreateSelect(b.CreateFCmpULT(x, c(b, x, 0.0f)), c(b, x, std::numeric_limits<float>::quiet_NaN()), result);
}

// tanh of doubles: Cephes tanh.c. |x| >= 0.625: sign(x) (1 - 2 / (e^{2|x|}
// + 1)) (exp_f64; 1 past overflow); below, x + x^3 P(x^2) / Q(x^2).
static Value* tanh_f64(Builder& b, Value* x) {
  Value* ax = fabs(b, x);
  Value* e = exp_f64(b, b.CreateFAdd(ax, ax));
  Value* large = b.CreateFSub(c(b, x, 1.0), b.CreateFDiv(c(b, x, 2.0), b.CreateFAdd(e, c(b, x, 1.0))));
  large = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, large, x);
  Value* s = b.CreateFMul(x, x);
  Value* p = horner(b, s, {-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3});
  Value* q = horner(b, s, {1.0, 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3});
  Value* small = mul_add(b, b.CreateFMul(s, b.CreateFDiv(p, q)), x, x);  // (x^3 P / Q + x; -0 stays -0)
  return b.CreateSelect(b.CreateFCmpOGE(ax, c(b, x, 0.625)), large, small);
}

Value* emit_tanh(Builder& b, Value* x) {
  if (is_double(x->getType())) return tanh_f64(b, x);
  Value* ax = fabs(b, x);
  Value* e = emit_exp(b, b.CreateFAdd(ax, ax));
  Value* large = b.CreateFSub(c(b, x, 1.0f), b.CreateFDiv(c(b, x, 2.0f), b.CreateFAdd(e, c(b, x, 1.0f))));
  large = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, large, x);
  Value* s = b.CreateFMul(x, x);
  Value* p =
      horner(b, s, {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f, 1.33314422036e-1f, -3.33332819422e-1f});
  Value* small = mul_add(b, b.CreateFMul(p, s), x, x);
  return b.CreateSelect(b.CreateFCmpOGT(ax, c(b, x, 0.625f)), large, small);
}

Value* emit_sigmoid(Builder& b, Value* x) { return sigmoid_of(b, x); }

Value* emit_erf(Builder& b, Value* x) {
  Value* xc = b.CreateSelect(b.CreateFCmpOGT(x, c(b, x, 4.0f)), c(b, x, 4.0f), x);
  xc = b.CreateSelect(b.CreateFCmpOLT(xc, c(b, x, -4.0f)), c(b, x, -4.0f), xc);
  Value* x2 = b.CreateFMul(xc, xc);
  Value* p = horner(b, x2,
                    {-2.72614225801306e-10f, 2.77068142495902e-08f, -2.10102402082508e-06f, -5.69250639462346e-05f,
                     -7.34990630326855e-04f, -2.95459980854025e-03f, -1.60960333262415e-02f});
  Value* q = horner(b, x2,
                    {-1.45660718464996e-05f, -2.13374055278905e-04f, -1.68282697438203e-03f, -7.37332916720468e-03f,
                     -1.42647390514189e-02f});
  return b.CreateFDiv(b.CreateFMul(xc, p), q);
}

Value* emit_gelu(Builder& b, Value* x) {
  Value* erf = emit_erf(b, b.CreateFMul(x, c(b, x, 0.70710678118654752f)));
  return b.CreateFMul(b.CreateFMul(c(b, x, 0.5f), x), b.CreateFAdd(c(b, x, 1.0f), erf));
}

bool exact_in_vector_code(ir::Func func) {
  switch (func) {
    case ir::Func::sqrt:
    case ir::Func::rsqrt:
    case ir::Func::abs:
    case ir::Func::relu:
    case ir::Func::max:
    case ir::Func::min:
      return true;
    default:
      return false;
  }
}

bool f64_in_vector_code(ir::Func func) {
  if (exact_in_vector_code(func)) return true;
  switch (func) {
    case ir::Func::exp:
    case ir::Func::sigmoid:
    case ir::Func::silu:
    case ir::Func::tanh:
    case ir::Func::log:
      return true;
    default:
      return false;
  }
}

Value* emit_function(Builder& b, ir::Func func, Value* a, Value* second, Value* pow_fn, Value* double_fn, bool exact) {
  if (is_double(a->getType()) && !(exact ? exact_in_vector_code(func) : f64_in_vector_code(func))) {
    if (!double_fn) EINC_FAIL(std::string("loop kernel: no f64 function for ") + ir::func_name(func));
    return double_lanes(b, func, a, second, double_fn);
  }
  switch (func) {
    case ir::Func::exp:
      return emit_exp(b, a);
    case ir::Func::log:
      return emit_log(b, a);
    case ir::Func::sqrt:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a);
    case ir::Func::rsqrt:
      return b.CreateFDiv(c(b, a, 1.0f), b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a));
    case ir::Func::abs:
      return fabs(b, a);
    case ir::Func::tanh:
      return emit_tanh(b, a);
    case ir::Func::sigmoid:
      return emit_sigmoid(b, a);
    case ir::Func::relu:
      return b.CreateSelect(b.CreateFCmpUGT(a, c(b, a, 0.0f)), a, c(b, a, 0.0f));
    case ir::Func::gelu:
      return emit_gelu(b, a);
    case ir::Func::silu:
      return b.CreateFMul(a, sigmoid_of(b, a));
    case ir::Func::max:
    case ir::Func::min: {
      // NaN if a is NaN, else the larger/smaller (b when b is NaN).
      unify(b, a, second);
      Value* better = func == ir::Func::max ? b.CreateFCmpOGT(a, second) : b.CreateFCmpOLT(a, second);
      return b.CreateSelect(b.CreateOr(b.CreateFCmpUNO(a, a), better), a, second);
    }
    case ir::Func::pow:
      return pow_lanes(b, a, second, pow_fn);
    case ir::Func::convert:  // (statement_plan sends statements with conversions to the interpreter)
      break;
  }
  EINC_FAIL(std::string("loop kernel: no vector code for ") + ir::func_name(func));
}

}  // namespace einc::cpu
