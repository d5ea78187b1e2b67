// backends/cpu/i8_gemv_gen.cpp — see i8_gemv_gen.h.
#include "backends/cpu/i8_gemv_gen.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <utility>
#include <vector>

#include "backends/cpu/llvm_util.h"

namespace einc::cpu {

using llvm::IRBuilder;
using llvm::Value;

namespace {

// Rows of W per pass: eight streams in flight, as the f32 GEMVs read
// (gemv_gen.cpp).
constexpr int kRows = 8;

// Shuffle masks: the first `n` lanes of a vector, the next `n`, and two
// vectors of `n` lanes interleaved lane by lane.
std::vector<int> lanes_from(int first, int n) {
  std::vector<int> mask;
  for (int i = 0; i < n; ++i) mask.push_back(first + i);
  return mask;
}
std::vector<int> interleaved(int n) {
  std::vector<int> mask;
  for (int i = 0; i < n; ++i) {
    mask.push_back(i);
    mask.push_back(n + i);
  }
  return mask;
}

struct I8GemvFunction {
  I8GemvFunction(llvm::Module& module, const KernelShape& shape)
      : m(module),
        shape(shape),
        b(module.getContext()),
        vl(shape.vector_lanes),
        i8(b.getInt8Ty()),
        i16(b.getInt16Ty()),
        i32(b.getInt32Ty()),
        words(llvm::FixedVectorType::get(i32, static_cast<unsigned>(vl))) {}

  llvm::Module& m;
  const KernelShape& shape;
  IRBuilder<> b;
  const int vl;
  llvm::Type *i8, *i16, *i32;
  llvm::FixedVectorType* words;  // <VL x i32>

  llvm::FixedVectorType* vector_of(llvm::Type* element, int lanes) const {
    return llvm::FixedVectorType::get(element, static_cast<unsigned>(lanes));
  }
  Value* load_bytes(Value* base, Value* i, int lanes) {
    llvm::FixedVectorType* type = vector_of(i8, lanes);
    return b.CreateAlignedLoad(type, as_vector_ptr(b, b.CreateGEP(i8, base, i), type), llvm::Align(1));
  }
  Value* load_words(Value* base, Value* i) {
    return b.CreateAlignedLoad(words, as_vector_ptr(b, b.CreateGEP(i32, base, i), words), llvm::Align(4));
  }
  void store_words(Value* v, Value* base, Value* i) {
    b.CreateAlignedStore(v, as_vector_ptr(b, b.CreateGEP(i32, base, i), words), llvm::Align(4));
  }
  // acc + pmaddwd(pairs, x): `pairs` any 32 x VL bits read as 2 VL i16.
  Value* madd(Value* acc, Value* pairs, Value* x) {
    return b.CreateAdd(acc, multiply_i16_pairs(b, m, shape, b.CreateBitCast(pairs, words), x));
  }
  Value* widen(Value* v) { return b.CreateSExt(v, i32); }

  // Starts `name`: void (i64, i64, const i8* w, const i64*, x*, y*, ...),
  // the pointers after the offsets by letter ('h' i16*, 'i' i32*, 'l'
  // i64*); w and y (parameters 2 and 5) are noalias.
  std::vector<Value*> begin(const std::string& name, const char* tail) {
    llvm::Type* i64 = b.getInt64Ty();
    std::vector<llvm::Type*> params{i64, i64, llvm::PointerType::getUnqual(i8), llvm::PointerType::getUnqual(i64)};
    for (const char* p = tail; *p; ++p)
      params.push_back(llvm::PointerType::getUnqual(*p == 'h' ? i16 : *p == 'i' ? i32 : i64));
    return begin_function(b, m, name, llvm::FunctionType::get(b.getVoidTy(), params, false), {2, 5});
  }
};

// See i8_gemv_gen.h: einc_gemv_i8p.
void generate_axpy(llvm::Module& module, const KernelShape& shape, const std::string& name) {
  I8GemvFunction fn(module, shape);
  IRBuilder<>& b = fn.b;
  const std::vector<Value*> args = fn.begin(name, "ii");
  Value *pairs = args[0], *mc = args[1], *w = args[2], *row_off = args[3], *x_pairs = args[4], *y = args[5];
  const int step = 2 * fn.vl;  // columns per vector step: two <VL x i32> of y
  Value* vectors = b.CreateSDiv(mc, b.getInt64(step));
  Value* vector_end = b.CreateMul(vectors, b.getInt64(step));

  // Pairs [p, p + count): their row starts and their x words.
  struct Pair {
    Value *row0, *row1, *x;
  };
  auto pairs_at = [&](Value* p, int count) {
    std::vector<Pair> out;
    for (int q = 0; q < count; ++q) {
      Value* pq = b.CreateAdd(p, b.getInt64(q));
      Value* r0 = b.CreateMul(pq, b.getInt64(2));
      out.push_back({b.CreateGEP(fn.i8, w, load_i64(b, row_off, r0)),
                     b.CreateGEP(fn.i8, w, load_i64(b, row_off, b.CreateAdd(r0, b.getInt64(1)))),
                     b.CreateLoad(fn.i32, b.CreateGEP(fn.i32, x_pairs, pq))});
    }
    return out;
  };
  auto pass = [&](Value* p, int count) {
    const std::vector<Pair> group = pairs_at(p, count);
    std::vector<Value*> splats;
    for (const Pair& pair : group) splats.push_back(b.CreateVectorSplat(static_cast<unsigned>(fn.vl), pair.x));
    counted_loop(
        b, b.getInt64(0), vectors,
        [&](Value* v) {
          Value* i0 = b.CreateMul(v, b.getInt64(step));
          Value* i1 = b.CreateAdd(i0, b.getInt64(fn.vl));
          Value* lo = fn.load_words(y, i0);
          Value* hi = fn.load_words(y, i1);
          for (std::size_t q = 0; q < group.size(); ++q) {
            // The two rows' bytes interleaved (row0[i], row1[i], ...), as
            // i16: each i32 lane one column's pair, against its x pair.
            Value* both = b.CreateShuffleVector(fn.load_bytes(group[q].row0, i0, step),
                                                fn.load_bytes(group[q].row1, i0, step), interleaved(step));
            Value* wide = b.CreateSExt(both, fn.vector_of(fn.i16, 2 * step));
            lo = fn.madd(lo, b.CreateShuffleVector(wide, lanes_from(0, step)), splats[q]);
            hi = fn.madd(hi, b.CreateShuffleVector(wide, lanes_from(step, step)), splats[q]);
          }
          fn.store_words(lo, y, i0);
          fn.store_words(hi, y, i1);
        },
        "iv");
    counted_loop(
        b, vector_end, mc,
        [&](Value* i) {
          Value* yp = b.CreateGEP(fn.i32, y, i);
          Value* acc = b.CreateLoad(fn.i32, yp);
          for (const Pair& pair : group) {
            Value* x_lo = fn.widen(b.CreateTrunc(pair.x, fn.i16));
            Value* x_hi = b.CreateAShr(pair.x, 16);
            acc = b.CreateAdd(acc, b.CreateMul(fn.widen(b.CreateLoad(fn.i8, b.CreateGEP(fn.i8, pair.row0, i))), x_lo));
            acc = b.CreateAdd(acc, b.CreateMul(fn.widen(b.CreateLoad(fn.i8, b.CreateGEP(fn.i8, pair.row1, i))), x_hi));
          }
          b.CreateStore(acc, yp);
        },
        "it");
  };
  grouped_loop(b, pairs, kRows / 2, pass, "ip");
  b.CreateRetVoid();
}

// See i8_gemv_gen.h: einc_dotgemv_i8p.
void generate_dot(llvm::Module& module, const KernelShape& shape, const std::string& name) {
  I8GemvFunction fn(module, shape);
  IRBuilder<>& b = fn.b;
  const std::vector<Value*> args = fn.begin(name, "hil");
  Value *kc = args[0], *rows = args[1], *w = args[2], *row_off = args[3], *x = args[4], *y = args[5], *y_off = args[6];
  const int step = 2 * fn.vl;  // weights per vector: VL pairs
  Value* k_vectors = b.CreateSDiv(kc, b.getInt64(step));
  Value* k_vector_end = b.CreateMul(k_vectors, b.getInt64(step));
  llvm::FixedVectorType* x_type = fn.vector_of(fn.i16, step);
  auto dot_rows = [&](Value* r0, int count) {
    std::vector<Value*> starts;
    for (int r = 0; r < count; ++r)
      starts.push_back(b.CreateGEP(fn.i8, w, load_i64(b, row_off, b.CreateAdd(r0, b.getInt64(r)))));
    std::vector<Value*> acc = counted_loop(
        b, b.getInt64(0), k_vectors,
        std::vector<Value*>(static_cast<std::size_t>(count), llvm::Constant::getNullValue(fn.words)),
        [&](Value* kv, const std::vector<Value*>& in) {
          Value* k = b.CreateMul(kv, b.getInt64(step));
          Value* xv = b.CreateBitCast(
              b.CreateAlignedLoad(x_type, as_vector_ptr(b, b.CreateGEP(fn.i16, x, k), x_type), llvm::Align(2)),
              fn.words);
          std::vector<Value*> out;
          for (int r = 0; r < count; ++r)
            out.push_back(fn.madd(in[static_cast<std::size_t>(r)],
                                  b.CreateSExt(fn.load_bytes(starts[static_cast<std::size_t>(r)], k, step), x_type),
                                  xv));
          return out;
        },
        "dk");
    std::vector<Value*> sums;
    for (Value* a : acc) sums.push_back(b.CreateAddReduce(a));
    sums = counted_loop(
        b, k_vector_end, kc, sums,
        [&](Value* k, const std::vector<Value*>& in) {
          Value* xk = fn.widen(b.CreateLoad(fn.i16, b.CreateGEP(fn.i16, x, k)));
          std::vector<Value*> out;
          for (int r = 0; r < count; ++r)
            out.push_back(b.CreateAdd(
                in[static_cast<std::size_t>(r)],
                b.CreateMul(fn.widen(b.CreateLoad(fn.i8, b.CreateGEP(fn.i8, starts[static_cast<std::size_t>(r)], k))),
                            xk)));
          return out;
        },
        "dt");
    for (int r = 0; r < count; ++r)
      b.CreateStore(sums[static_cast<std::size_t>(r)],
                    b.CreateGEP(fn.i32, y, load_i64(b, y_off, b.CreateAdd(r0, b.getInt64(r)))));
  };
  grouped_loop(b, rows, kRows, dot_rows, "dr");
  b.CreateRetVoid();
}

}  // namespace

std::string i8_gemv_name(const KernelShape& shape) {
  return "einc_gemv_i8p_" + shape.isa + "_" + std::to_string(2 * shape.vector_lanes);
}

std::string i8_dot_gemv_name(const KernelShape& shape) {
  return "einc_dotgemv_i8p_" + shape.isa + "_" + std::to_string(shape.vector_lanes);
}

std::unique_ptr<llvm::Module> generate_i8_gemv_module(llvm::LLVMContext& context, const KernelShape& shape, bool dot,
                                                      const std::string& symbol) {
  auto module = std::make_unique<llvm::Module>(symbol, context);
  if (dot)
    generate_dot(*module, shape, symbol);
  else
    generate_axpy(*module, shape, symbol);
  return verified(std::move(module));
}

}  // namespace einc::cpu
