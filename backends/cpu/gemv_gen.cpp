// backends/cpu/gemv_gen.cpp — see gemv_gen.h.
#include "backends/cpu/gemv_gen.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "backends/cpu/llvm_util.h"
#include "einc/internal_error.h"

namespace einc::cpu {

using llvm::IRBuilder;
using llvm::Value;

namespace {

// y[0:m] += sum_k x[x_koff[k]] * w[w_koff[k] + 0:m], w unit-stride along m:
// the GEMV kernel for a GETT whose N group is empty (decode: one token).
// Memory-bound: rows of w stream in order while the y chunk stays in L1.
// Reads a GEMV's weights as f32: f32 as stored; bf16 as the high half of
// an f32 (zero-extended and shifted: exact); f16 converted with fpext
// (vcvtph2ps, F16C). The narrow forms let a decode read its weights in
// place, half the bytes of the f32 copy it would otherwise stream. (i8
// weights have kernels of their own, on i16 pairs: i8_gemv_gen.h.)
struct WeightReader {
  IRBuilder<>& b;
  DType dtype;
  int lanes;

  llvm::Type* element() const {
    if (dtype == DType::bf16) return b.getInt16Ty();
    return dtype == DType::f16 ? b.getHalfTy() : b.getFloatTy();
  }
  llvm::Type* pointer() const { return llvm::PointerType::getUnqual(element()); }
  Value* at(Value* base, Value* i) const { return b.CreateGEP(element(), base, i); }
  // `lanes` weights from base[i] as a vector of f32.
  Value* vector(Value* base, Value* i) const {
    auto* type = llvm::FixedVectorType::get(element(), static_cast<unsigned>(lanes));
    Value* raw = b.CreateAlignedLoad(type, as_vector_ptr(b, at(base, i), type), llvm::Align(dtype_size(dtype)));
    return widen(raw, llvm::FixedVectorType::get(b.getFloatTy(), static_cast<unsigned>(lanes)),
                 llvm::FixedVectorType::get(b.getInt32Ty(), static_cast<unsigned>(lanes)));
  }
  Value* scalar(Value* base, Value* i) const {
    return widen(b.CreateLoad(element(), at(base, i)), b.getFloatTy(), b.getInt32Ty());
  }

 private:
  Value* widen(Value* raw, llvm::Type* f32_type, llvm::Type* i32_type) const {
    if (dtype == DType::bf16) return b.CreateBitCast(b.CreateShl(b.CreateZExt(raw, i32_type), 16), f32_type);
    return dtype == DType::f16 ? b.CreateFPExt(raw, f32_type) : raw;
  }
};

// What both GEMV kernels begin with: a function
//   void name(i64, i64, weights*, i64*, P4, P5, P6)
// whose last three parameters are f32 or i64 pointers as `tail` says ('f'
// or 'i'), the weights' reader, f32 and its vector type, and the vector and
// scalar multiply-add intrinsics. Pointer parameters 2, 4 and `noalias_last`
// are marked noalias.
struct GemvFunction {
  GemvFunction(llvm::Module& m, const KernelShape& shape, DType weights, const std::string& name, const char* tail,
               unsigned noalias_last)
      : b(m.getContext()),
        f32(b.getFloatTy()),
        vec(llvm::FixedVectorType::get(f32, static_cast<unsigned>(shape.vector_lanes))),
        weight{b, weights, shape.vector_lanes},
        vl(shape.vector_lanes) {
    llvm::Type* i64 = b.getInt64Ty();
    std::vector<llvm::Type*> params{i64, i64, weight.pointer(), llvm::PointerType::getUnqual(i64)};
    for (const char* p = tail; *p; ++p)
      params.push_back(llvm::PointerType::getUnqual(*p == 'f' ? static_cast<llvm::Type*>(f32) : i64));
    args = begin_function(b, m, name, llvm::FunctionType::get(b.getVoidTy(), params, false), {2, 4, noalias_last});
    fma = llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::fmuladd, {vec});
    fma1 = llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::fmuladd, {f32});
  }

  IRBuilder<> b;
  llvm::Type* f32;
  llvm::FixedVectorType* vec;
  const WeightReader weight;
  const int vl;
  std::vector<Value*> args;
  llvm::Function* fma = nullptr;   // vector multiply-add
  llvm::Function* fma1 = nullptr;  // scalar multiply-add
};

}  // namespace

// Eight rows of w at a time: y is loaded and stored once per eight rows,
// and eight streams of w are read at once. The kernel is bound by how many
// lines of w are in flight: on Zen 5 eight rows ran decode clearly faster
// than four, and sixteen no faster than eight (docs/performance.md, Decode).
// The caller zeroes y first.
void generate_gemv(llvm::Module& m, const KernelShape& shape, DType weights, const std::string& name) {
  GemvFunction function(m, shape, weights, name, "fif", 6);
  auto& [b, f32, vec, weight, vl, args, fma, fma1] = function;
  Value *kc = args[0], *mc = args[1], *w = args[2], *w_koff = args[3], *x = args[4], *x_koff = args[5], *y = args[6];
  constexpr int kRows = 8;
  Value* vectors = b.CreateSDiv(mc, b.getInt64(vl));
  Value* vector_end = b.CreateMul(vectors, b.getInt64(vl));
  // y[i0 .. i0+vl) += sum over the given rows (x value, row start).
  auto axpy_rows = [&](const std::vector<std::pair<Value*, Value*>>& rows, Value* i0) {
    Value* yp = as_vector_ptr(b, b.CreateGEP(f32, y, i0), vec);
    Value* acc = b.CreateAlignedLoad(vec, yp, llvm::Align(4));
    for (const auto& [splat, row] : rows) acc = b.CreateCall(fma, {weight.vector(row, i0), splat, acc});
    b.CreateAlignedStore(acc, yp, llvm::Align(4));
  };
  auto tail_rows = [&](const std::vector<std::pair<Value*, Value*>>& rows, const std::vector<Value*>& xs) {
    counted_loop(
        b, vector_end, mc,
        [&](Value* i) {
          Value* yp = b.CreateGEP(f32, y, i);
          Value* acc = b.CreateLoad(f32, yp);
          for (std::size_t r = 0; r < rows.size(); ++r)
            acc = b.CreateCall(fma1, {weight.scalar(rows[r].second, i), xs[r], acc});
          b.CreateStore(acc, yp);
        },
        "gt");
  };
  // Rows [k, k + count): their x values splatted and their starts.
  auto rows_at = [&](Value* k, int count, std::vector<Value*>& xs) {
    std::vector<std::pair<Value*, Value*>> rows;
    for (int r = 0; r < count; ++r) {
      Value* kr = b.CreateAdd(k, b.getInt64(r));
      Value* xv = b.CreateLoad(f32, b.CreateGEP(f32, x, load_i64(b, x_koff, kr)));
      xs.push_back(xv);
      rows.push_back({b.CreateVectorSplat(static_cast<unsigned>(vl), xv), weight.at(w, load_i64(b, w_koff, kr))});
    }
    return rows;
  };
  auto pass = [&](Value* k, int count) {
    std::vector<Value*> xs;
    std::vector<std::pair<Value*, Value*>> rows = rows_at(k, count, xs);
    counted_loop(
        b, b.getInt64(0), vectors, [&](Value* v) { axpy_rows(rows, b.CreateMul(v, b.getInt64(vl))); }, "gv");
    tail_rows(rows, xs);
  };
  grouped_loop(b, kc, kRows, pass, "gk");
  b.CreateRetVoid();
}

// y[y_off[r]] = sum_k w[row_off[r] + k] * x[k] for r < rows: the GEMV whose
// matrix runs along K (y = W x with W stored [out, in]), as dot products.
// Eight rows at a time share each vector of x (in L1); one vector
// accumulator per row, reduced in a fixed order at the end, then the
// scalar tail of k. Each y element is one dot product in one fixed order.
void generate_dot_gemv(llvm::Module& m, const KernelShape& shape, DType weights, const std::string& name) {
  GemvFunction function(m, shape, weights, name, "ffi", 5);
  auto& [b, f32, vec, weight, vl, args, fma, fma1] = function;
  Value *kc = args[0], *rows = args[1], *w = args[2], *row_off = args[3], *x = args[4], *y = args[5], *y_off = args[6];
  constexpr int kRows = 8;  // 4 streamed W from DRAM ~5-10 % slower (Zen 1)
  Value* k_vectors = b.CreateSDiv(kc, b.getInt64(vl));
  Value* k_vector_end = b.CreateMul(k_vectors, b.getInt64(vl));
  // Rows [r0, r0 + count): dot products with x, stored to y.
  auto dot_rows = [&](Value* r0, int count) {
    std::vector<Value*> starts;
    for (int r = 0; r < count; ++r)
      starts.push_back(weight.at(w, load_i64(b, row_off, b.CreateAdd(r0, b.getInt64(r)))));
    std::vector<Value*> zero(static_cast<std::size_t>(count), llvm::Constant::getNullValue(vec));
    std::vector<Value*> acc = counted_loop(
        b, b.getInt64(0), k_vectors, zero,
        [&](Value* kv, const std::vector<Value*>& in) {
          Value* k = b.CreateMul(kv, b.getInt64(vl));
          Value* xv = b.CreateAlignedLoad(vec, as_vector_ptr(b, b.CreateGEP(f32, x, k), vec), llvm::Align(4));
          std::vector<Value*> out;
          for (int r = 0; r < count; ++r) {
            Value* wv = weight.vector(starts[static_cast<std::size_t>(r)], k);
            out.push_back(b.CreateCall(fma, {wv, xv, in[static_cast<std::size_t>(r)]}));
          }
          return out;
        },
        "dk");
    std::vector<Value*> sums;
    for (int r = 0; r < count; ++r)  // an ordered reduction: the same bits every run
      sums.push_back(b.CreateFAddReduce(llvm::ConstantFP::get(f32, 0.0), acc[static_cast<std::size_t>(r)]));
    sums = counted_loop(
        b, k_vector_end, kc, sums,
        [&](Value* k, const std::vector<Value*>& in) {
          Value* xk = b.CreateLoad(f32, b.CreateGEP(f32, x, k));
          std::vector<Value*> out;
          for (int r = 0; r < count; ++r)
            out.push_back(b.CreateCall(
                fma1, {weight.scalar(starts[static_cast<std::size_t>(r)], k), xk, in[static_cast<std::size_t>(r)]}));
          return out;
        },
        "dt");
    for (int r = 0; r < count; ++r)
      b.CreateStore(sums[static_cast<std::size_t>(r)],
                    b.CreateGEP(f32, y, load_i64(b, y_off, b.CreateAdd(r0, b.getInt64(r)))));
  };
  grouped_loop(b, rows, kRows, dot_rows, "dr");
  b.CreateRetVoid();
}

std::unique_ptr<llvm::Module> generate_half_gemv_module(llvm::LLVMContext& context, const KernelShape& shape,
                                                        DType weights, bool dot, const std::string& symbol) {
  if (weights != DType::f16 && weights != DType::bf16)
    EINC_FAIL("a narrow-weights GEMV of " + std::string(dtype_name(weights)) + " weights");
  auto module = std::make_unique<llvm::Module>(symbol, context);
  if (dot)
    generate_dot_gemv(*module, shape, weights, symbol);
  else
    generate_gemv(*module, shape, weights, symbol);
  return verified(std::move(module));
}

}  // namespace einc::cpu
