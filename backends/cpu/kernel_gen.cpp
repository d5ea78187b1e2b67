// backends/cpu/kernel_gen.cpp — see kernel_gen.h.
#include "backends/cpu/kernel_gen.h"

#include "backends/cpu/gemv_gen.h"
#include "backends/cpu/llvm_util.h"
#include "backends/cpu/vector_math.h"
#include "einc/internal_error.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <functional>
#include <set>
#include <utility>
#include <vector>

namespace einc::cpu {

std::string KernelShape::ukr_name() const {
  const std::string element = i16_pairs ? "i16p" : bf16_pairs ? "bf16p" : dtype_name(dtype);
  return "einc_ukr_" + element + "_" + isa + "_" + std::to_string(mr()) + "x" + std::to_string(nr);
}

std::string KernelShape::gemv_name(DType weights) const {
  return "einc_gemv_" + std::string(dtype_name(weights)) + "_" + isa + "_" + std::to_string(vector_lanes * 4);
}

std::string KernelShape::dot_gemv_name(DType weights) const {
  return "einc_dotgemv_" + std::string(dtype_name(weights)) + "_" + isa + "_4x" + std::to_string(vector_lanes);
}

std::string KernelShape::pack_name(int rows, PackMode mode) const {
  static const char* const suffix[] = {"vector", "transpose", "gather"};
  return "einc_pack_" + std::string(dtype_name(dtype)) + "_" + isa + "_" + std::to_string(rows) + "_" +
         suffix[static_cast<int>(mode)];
}

std::vector<KernelShape> shapes_for_features(bool avx512f, bool avx2_fma, DType dtype) {
  std::vector<KernelShape> shapes = shapes_for_features(avx512f, avx2_fma);
  // f64: the same blocking on half the lanes (as many registers); i32 as f32.
  for (KernelShape& shape : shapes) {
    shape.dtype = dtype;
    if (dtype == DType::f64) shape.vector_lanes /= 2;
  }
  return shapes;
}

std::vector<KernelShape> shapes_for_features(bool avx512f, bool avx2_fma) {
  // Zen 5 / AVX-512: 32 zmm; 3 x 8 = 24 accumulators hide the 4-cycle FMA
  // latency on two pipes. 48x8 needs 11 loads and broadcasts per 24 FMAs,
  // 32x12 14, and runs 5-10 % slower on Zen 5 (docs/cpu-backend.md); 32x12
  // stays for M that it pads much less (M = 32, 64). AVX2: 16 ymm, 2 x 6 =
  // 12 accumulators (3 x 4 likewise).
  if (avx512f) return {{"avx512", 16, 3, 8}, {"avx512", 16, 2, 12}};
  if (avx2_fma) return {{"avx2", 8, 2, 6}, {"avx2", 8, 3, 4}};
  return {{"generic", 4, 2, 4}};
}

namespace {

using llvm::IRBuilder;
using llvm::Value;

// The element type of a GETT kernel's operands: float, double or i32.
llvm::Type* element_type(llvm::LLVMContext& ctx, DType dtype) {
  switch (dtype) {
    case DType::f32:
      return llvm::Type::getFloatTy(ctx);
    case DType::f64:
      return llvm::Type::getDoubleTy(ctx);
    case DType::i32:
      return llvm::Type::getInt32Ty(ctx);
    default:
      break;
  }
  EINC_FAIL("cpu backend: no GETT kernels for " + std::string(dtype_name(dtype)));
}

// x + y and x * y in the element type: float arithmetic, or integer
// arithmetic that wraps (two's complement, as docs/semantics.md defines it).
Value* add(IRBuilder<>& b, Value* x, Value* y) {
  return x->getType()->isFPOrFPVectorTy() ? b.CreateFAdd(x, y) : b.CreateAdd(x, y);
}

// The micro-kernel; with `variant`, one of its variants (UkrVariant in
// kernel_gen.h: the GETT epilogue applied to the tile in registers before
// it is stored, B read in place), named `symbol`.
void generate_ukr(llvm::Module& m, const KernelShape& shape, const UkrVariant* variant = nullptr,
                  const std::string& symbol = "") {
  const UkrEpilogue* epilogue = variant && variant->epilogue ? &*variant->epilogue : nullptr;
  const bool b_in_place = variant && variant->b_in_place;
  llvm::LLVMContext& ctx = m.getContext();
  IRBuilder<> b(ctx);
  if (epilogue && shape.dtype != DType::f32) EINC_FAIL("cpu backend: a fused GETT epilogue outside f32");
  auto* f32 = element_type(ctx, shape.dtype);  // the element type (f32 unless shape.dtype says otherwise)
  const bool integer = f32->isIntegerTy();
  auto* i64 = b.getInt64Ty();
  auto* ptr = llvm::PointerType::getUnqual(f32);
  auto* vec = llvm::FixedVectorType::get(f32, static_cast<unsigned>(shape.vector_lanes));
  // struct UkrEpilogueArgs (kernel_gen.h): the same layout as the C++ struct.
  auto* args_type = llvm::StructType::get(ctx, {ptr, ptr, ptr, i64, f32, f32});
  std::vector<llvm::Type*> params{i64, ptr, ptr, ptr, i64, i64};
  if (variant) params.push_back(llvm::PointerType::getUnqual(args_type));  // every variant, used or not
  auto* type = llvm::FunctionType::get(b.getVoidTy(), params, false);
  std::vector<Value*> args = begin_function(b, m, variant ? symbol : shape.ukr_name(), type, {1, 2, 3});
  Value *kc = args[0], *a = args[1], *bp = args[2], *c = args[3], *ldc = args[4], *accumulate = args[5];
  kc->setName("kc");
  ldc->setName("ldc");

  const int mv = shape.mr_vectors, nr = shape.nr, mr = shape.mr(), vl = shape.vector_lanes;
  // B read in place: bp holds NR pointers, column j's K elements run from
  // the j-th, one element apart; packed: k's NR elements from bp + k * NR.
  // (Pointers loaded, not bp + j * ldb: from that affine chain LLVM's loop
  // strength reduction made one pointer advanced by ldb before each of the
  // NR broadcasts, 5 dependent adds per k step, and the kernel ran ~6 %
  // slower than on a packed panel.)
  std::vector<Value*> b_columns;
  if (b_in_place) {
    Value* columns = b.CreatePointerCast(bp, llvm::PointerType::getUnqual(ptr));
    for (int j = 0; j < nr; ++j) b_columns.push_back(b.CreateLoad(ptr, b.CreateGEP(ptr, columns, b.getInt64(j))));
  }
  std::vector<Value*> zero(static_cast<std::size_t>(mv * nr), llvm::Constant::getNullValue(vec));
  llvm::Function* fma = integer ? nullptr : llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::fmuladd, {vec});
  // bf16 pairs: acc + a.lo * b.lo + a.hi * b.hi per f32 lane (AVX-512 only)
  if (shape.bf16_pairs && shape.vector_lanes != 16) EINC_FAIL("cpu backend: bf16-pair kernels are AVX-512 only");
  llvm::Function* dpbf16 =
      shape.bf16_pairs ? llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::x86_avx512bf16_dpbf16ps_512) : nullptr;
  auto* words = llvm::FixedVectorType::get(b.getInt32Ty(), static_cast<unsigned>(shape.vector_lanes));
  const int line_elements = 64 / static_cast<int>(dtype_size(shape.dtype));
  llvm::Function* prefetch = llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::prefetch, {b.getInt8PtrTy()});
  auto prefetch_line = [&](Value* at, int write) {
    b.CreateCall(prefetch,
                 {b.CreatePointerCast(at, b.getInt8PtrTy()), b.getInt32(write), b.getInt32(3), b.getInt32(1)});
  };
  // The C tile is read (or write-allocated) only after the K loop: ask for
  // its lines now, so that a tile out in L3 or DRAM (a large C, revisited
  // once per KC block) arrives while the FMAs run. Each column's MR floats,
  // first to last, whatever their alignment.
  for (int j = 0; j < nr; ++j) {
    Value* column = b.CreateGEP(f32, c, b.CreateMul(ldc, b.getInt64(j)));
    for (int offset = 0; offset < mr; offset += line_elements)
      prefetch_line(b.CreateGEP(f32, column, b.getInt64(offset)), 1);
    prefetch_line(b.CreateGEP(f32, column, b.getInt64(mr - 1)), 1);
  }
  // One step of K: the accumulators after k, given those before.
  auto step = [&](Value* k, const std::vector<Value*>& in) {
    std::vector<Value*> out = in;
    Value* a_row = b.CreateGEP(f32, a, b.CreateMul(k, b.getInt64(mr)));
    Value* b_row = b_in_place ? nullptr : b.CreateGEP(f32, bp, b.CreateMul(k, b.getInt64(nr)));
    std::vector<Value*> av;
    for (int v = 0; v < mv; ++v)
      av.push_back(
          b.CreateAlignedLoad(vec, as_vector_ptr(b, b.CreateGEP(f32, a_row, b.getInt64(v * vl)), vec), llvm::Align(4)));
    for (int j = 0; j < nr; ++j) {
      Value* at = b_in_place ? b.CreateGEP(f32, b_columns[static_cast<std::size_t>(j)], k)
                             : b.CreateGEP(f32, b_row, b.getInt64(j));
      Value* scalar = b.CreateAlignedLoad(f32, at, llvm::Align(4));
      Value* splat = b.CreateVectorSplat(static_cast<unsigned>(vl), scalar);
      for (int v = 0; v < mv; ++v) {
        std::size_t idx = static_cast<std::size_t>(j * mv + v);
        Value* x = av[static_cast<std::size_t>(v)];
        if (shape.i16_pairs)
          out[idx] = b.CreateAdd(multiply_i16_pairs(b, m, shape, x, splat), in[idx]);
        else if (shape.bf16_pairs)
          out[idx] = b.CreateCall(dpbf16, {in[idx], b.CreateBitCast(x, words), b.CreateBitCast(splat, words)});
        else if (integer)
          out[idx] = b.CreateAdd(b.CreateMul(x, splat), in[idx]);
        else
          out[idx] = b.CreateCall(fma, {x, splat, in[idx]});
      }
    }
    return out;
  };
  // Float kernels unroll K by 4, then run the last kc % 4 steps one by one:
  // the loop's own counter, pointer and branch work once per 4 steps leaves
  // the load ports and the scheduler to the FMAs (16 % faster on Zen 3 at
  // 2048^3, 7-8 % on small and batched products; 8 is no better,
  // docs/cpu-backend.md). Integer kernels are not unrolled: their multiply
  // and add are two instructions, LLVM's scheduler hoists the multiplies of
  // later steps, and the accumulators spill (the i8 GETT ran 14 % slower).
  // Each accumulator adds its products in K order either way: the bits do
  // not depend on it.
  const int unroll = integer ? 1 : 4;
  std::vector<Value*> acc = zero;
  Value* unrolled_end = b.getInt64(0);
  if (unroll > 1) {
    Value* unrolled_trips = b.CreateUDiv(kc, b.getInt64(unroll));
    acc = counted_loop(
        b, b.getInt64(0), unrolled_trips, acc,
        [&](Value* k4, const std::vector<Value*>& in) {
          std::vector<Value*> out = in;
          for (int u = 0; u < unroll; ++u)
            out = step(b.CreateAdd(b.CreateMul(k4, b.getInt64(unroll)), b.getInt64(u)), out);
          return out;
        },
        "k_unrolled");
    unrolled_end = b.CreateMul(unrolled_trips, b.getInt64(unroll));
  }
  acc = counted_loop(b, unrolled_end, kc, acc, step, "k");
  // The epilogue's operands, loaded once: bias_m[0:MR] as MR/VL vectors,
  // bias_n[0:NR], the residual tile's start and column stride, scale, sign.
  std::vector<Value*> bias_m, bias_n;
  Value *residual = nullptr, *ldr = nullptr, *scale = nullptr, *sign = nullptr;
  if (epilogue) {
    Value* e = args[6];
    auto field = [&](unsigned i) {
      return b.CreateLoad(args_type->getElementType(i), b.CreateStructGEP(args_type, e, i));
    };
    Value* bm = field(0);
    Value* bn = field(1);
    residual = field(2);
    ldr = field(3);
    scale = b.CreateVectorSplat(static_cast<unsigned>(vl), field(4));
    sign = b.CreateVectorSplat(static_cast<unsigned>(vl), field(5));
    for (int v = 0; v < mv; ++v)
      bias_m.push_back(
          b.CreateAlignedLoad(vec, as_vector_ptr(b, b.CreateGEP(f32, bm, b.getInt64(v * vl)), vec), llvm::Align(4)));
    for (int j = 0; j < nr; ++j)
      bias_n.push_back(
          b.CreateVectorSplat(static_cast<unsigned>(vl), b.CreateLoad(f32, b.CreateGEP(f32, bn, b.getInt64(j)))));
  }
  // C[i + j*ldc] = acc (+ C when accumulating: beta == 0 never reads C),
  // then with the epilogue: act(scale * that + bias_m[i] + bias_n[j]) +
  // sign * residual[i + j*ldr].
  auto store = [&](bool add_c) {
    for (int j = 0; j < nr; ++j) {
      Value* column = b.CreateGEP(f32, c, b.CreateMul(ldc, b.getInt64(j)));
      for (int v = 0; v < mv; ++v) {
        Value* at = as_vector_ptr(b, b.CreateGEP(f32, column, b.getInt64(v * vl)), vec);
        Value* value = acc[static_cast<std::size_t>(j * mv + v)];
        if (add_c) value = add(b, value, b.CreateAlignedLoad(vec, at, llvm::Align(4)));
        if (epilogue) {
          value = b.CreateFAdd(b.CreateFAdd(b.CreateFMul(value, scale), bias_m[static_cast<std::size_t>(v)]),
                               bias_n[static_cast<std::size_t>(j)]);
          if (epilogue->activation) value = emit_function(b, *epilogue->activation, value, nullptr, nullptr);
          if (epilogue->residual) {
            Value* r_at = b.CreateGEP(f32, residual, b.CreateAdd(b.CreateMul(ldr, b.getInt64(j)), b.getInt64(v * vl)));
            value = b.CreateFAdd(
                value, b.CreateFMul(sign, b.CreateAlignedLoad(vec, as_vector_ptr(b, r_at, vec), llvm::Align(4))));
          }
        }
        b.CreateAlignedStore(value, at, llvm::Align(4));
      }
    }
  };
  if_else(
      b, b.CreateICmpNE(accumulate, b.getInt64(0)), [&] { store(true); }, [&] { store(false); }, "beta");
  b.CreateRetVoid();
}

// The VL x VL transpose of `rows` (VL vectors) by log2(VL) stages of
// two-source shuffles: the stage with distance d swaps the off-diagonal
// d x d blocks of every 2d x 2d block.
std::vector<Value*> transpose(IRBuilder<>& b, std::vector<Value*> rows) {
  const int n = static_cast<int>(rows.size());
  for (int d = n / 2; d >= 1; d /= 2) {
    std::vector<Value*> next(rows.size());
    std::vector<int> low(static_cast<std::size_t>(n)), high(static_cast<std::size_t>(n));
    for (int e = 0; e < n; ++e) {
      low[static_cast<std::size_t>(e)] = (e & d) ? n + e - d : e;
      high[static_cast<std::size_t>(e)] = (e & d) ? n + e : e + d;
    }
    for (int i = 0; i < n; ++i) {
      if (i & d) continue;
      auto a = static_cast<std::size_t>(i), c = static_cast<std::size_t>(i + d);
      next[a] = b.CreateShuffleVector(rows[a], rows[c], low);
      next[c] = b.CreateShuffleVector(rows[a], rows[c], high);
    }
    rows = std::move(next);
  }
  return rows;
}

// void einc_transpose_f32_<isa>_<VL>(const float** rows, float* dst, i64 stride, i64 width)
// Loads VL vectors rows[0..VL) (VL consecutive floats each), transposes
// them, and stores column kk's first `width` lanes at dst + kk * stride
// (and may overwrite dst + kk * stride + [width, VL) for kk < VL - 1).
// One out-of-line copy per module: the shuffles are the most expensive IR
// to compile, and every pack routine shares them.
std::string transpose_name(const KernelShape& shape) {
  return "einc_transpose_" + std::string(dtype_name(shape.dtype)) + "_" + shape.isa + "_" +
         std::to_string(shape.vector_lanes);
}

// The transpose a panel of `rows` rows uses: VL wide, or VL/2 wide when the
// panel is at most half a vector (NR = 8 with 16 lanes), so that no half of
// each transposed block is thrown away.
KernelShape transpose_shape(const KernelShape& shape, int rows) {
  KernelShape t = shape;
  if (rows <= shape.vector_lanes / 2 && shape.vector_lanes >= 8) t.vector_lanes = shape.vector_lanes / 2;
  return t;
}

llvm::FunctionType* transpose_type(llvm::LLVMContext& ctx, DType dtype) {
  auto* f32 = element_type(ctx, dtype);
  auto* i64 = llvm::Type::getInt64Ty(ctx);
  auto* fptr = llvm::PointerType::getUnqual(f32);
  return llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {llvm::PointerType::getUnqual(fptr), fptr, i64, i64},
                                 false);
}

void generate_transpose(llvm::Module& m, const KernelShape& shape) {
  llvm::LLVMContext& ctx = m.getContext();
  IRBuilder<> b(ctx);
  auto* f32 = element_type(ctx, shape.dtype);
  auto* fptr = llvm::PointerType::getUnqual(f32);
  const int vl = shape.vector_lanes;
  auto* vec = llvm::FixedVectorType::get(f32, static_cast<unsigned>(vl));
  std::vector<Value*> args = begin_function(b, m, transpose_name(shape), transpose_type(ctx, shape.dtype));
  Value *rows_ptr = args[0], *dst = args[1], *stride = args[2], *width = args[3];
  std::vector<Value*> rows;
  for (int r = 0; r < vl; ++r) {
    Value* row = b.CreateLoad(fptr, b.CreateGEP(fptr, rows_ptr, b.getInt64(r)));
    rows.push_back(b.CreateAlignedLoad(vec, as_vector_ptr(b, row, vec), llvm::Align(4)));
  }
  std::vector<Value*> columns = transpose(b, rows);
  // Columns 0..VL-2 are stored whole: a narrow panel's extra lanes land in
  // the next column's slot, which the next store overwrites (so the caller
  // must transpose a panel's groups last to first, k ascending). The last
  // column is stored exactly, nothing past the slice: whole, or for a
  // narrow panel (`width` < VL, one case per width) as power-of-two pieces
  // (6 lanes: 4 + 2). Not a masked store: `vmaskmovps` to memory is
  // microcoded on Zen 1 and took ~6 % of a thin GEMM (512x512x32, perf),
  // most of its B packing.
  auto column_at = [&](int kk) {
    return as_vector_ptr(b, b.CreateGEP(f32, dst, b.CreateMul(stride, b.getInt64(kk))), vec);
  };
  for (int kk = 0; kk + 1 < vl; ++kk)
    b.CreateAlignedStore(columns[static_cast<std::size_t>(kk)], column_at(kk), llvm::Align(4));
  Value* last = b.CreateGEP(f32, dst, b.CreateMul(stride, b.getInt64(vl - 1)));
  llvm::Function* function = b.GetInsertBlock()->getParent();
  auto* done = llvm::BasicBlock::Create(ctx, "stored", function);
  auto* whole = llvm::BasicBlock::Create(ctx, "whole", function);
  llvm::SwitchInst* by_width = b.CreateSwitch(width, whole, static_cast<unsigned>(vl - 1));
  b.SetInsertPoint(whole);
  b.CreateAlignedStore(columns.back(), as_vector_ptr(b, last, vec), llvm::Align(4));
  b.CreateBr(done);
  for (int w = 1; w < vl; ++w) {
    auto* block = llvm::BasicBlock::Create(ctx, "width" + std::to_string(w), function);
    by_width->addCase(b.getInt64(static_cast<std::uint64_t>(w)), block);
    b.SetInsertPoint(block);
    for (int start = 0, piece = vl / 2; piece > 0; piece /= 2) {
      if (!(w & piece)) continue;
      std::vector<int> lanes;
      for (int e = 0; e < piece; ++e) lanes.push_back(start + e);
      Value* part = piece == 1 ? b.CreateExtractElement(columns.back(), b.getInt64(static_cast<std::uint64_t>(start)))
                               : b.CreateShuffleVector(columns.back(), lanes);
      Value* at = b.CreateGEP(f32, last, b.getInt64(static_cast<std::uint64_t>(start)));
      b.CreateAlignedStore(part, b.CreateBitCast(at, llvm::PointerType::getUnqual(part->getType())), llvm::Align(4));
      start += piece;
    }
    b.CreateBr(done);
  }
  b.SetInsertPoint(done);
  b.CreateRetVoid();
}

// Packs k in [0, k_end) (a multiple of VL) of one panel whose rows run
// along k (PackMode::transpose: every VL-aligned chunk of k_off is VL consecutive
// offsets): for each VL-wide step of k and each group of VL rows, the
// rows' VL-float chunks (a padding row: a row of zeros) are transposed by
// the transpose function into VL k-slices of the panel, R floats apart.
void transpose_rows(IRBuilder<>& b, llvm::Module& m, const KernelShape& shape, Value* src, Value* panel_dst,
                    Value* row_off, Value* first_row, int r_count, Value* k_off, Value* k_end) {
  auto* f32 = element_type(m.getContext(), shape.dtype);
  auto* fptr = llvm::PointerType::getUnqual(f32);
  const KernelShape transposer = transpose_shape(shape, r_count);
  const int vl = transposer.vector_lanes;  // the transpose's width: VL, or VL/2 for a narrow panel
  auto* zeros_type = llvm::ArrayType::get(f32, static_cast<std::uint64_t>(shape.vector_lanes));
  llvm::GlobalVariable* zeros = m.getGlobalVariable("einc_zero_row", true);
  if (!zeros)
    zeros = new llvm::GlobalVariable(m, zeros_type, true, llvm::GlobalValue::InternalLinkage,
                                     llvm::Constant::getNullValue(zeros_type), "einc_zero_row");
  Value* zero_row = b.CreateConstGEP2_64(zeros_type, zeros, 0, 0);
  llvm::FunctionCallee transpose_fn =
      m.getOrInsertFunction(transpose_name(transposer), transpose_type(m.getContext(), shape.dtype));
  // The row pointers handed to the transpose, in the entry block's frame.
  llvm::IRBuilder<> entry(&b.GetInsertBlock()->getParent()->getEntryBlock(),
                          b.GetInsertBlock()->getParent()->getEntryBlock().begin());
  Value* pointers = entry.CreateAlloca(fptr, b.getInt64(vl));
  // Per row: its start (src + row_off) and whether it is real.
  std::vector<Value*> row_ptr, row_real;
  for (int r = 0; r < r_count; ++r) {
    Value* off = load_i64(b, row_off, b.CreateAdd(first_row, b.getInt64(r)));
    Value* real = b.CreateICmpNE(off, b.getInt64(INT64_MIN));
    row_real.push_back(real);
    row_ptr.push_back(b.CreateGEP(f32, src, b.CreateSelect(real, off, b.getInt64(0))));
  }
  Value* steps = b.CreateSDiv(k_end, b.getInt64(vl));
  counted_loop(
      b, b.getInt64(0), steps,
      [&](Value* step) {
        Value* k0 = b.CreateMul(step, b.getInt64(vl));
        Value* koff = load_i64(b, k_off, k0);
        for (int g = (r_count - 1) / vl * vl; g >= 0; g -= vl) {  // the narrow group first: see the transpose
          int width = std::min(vl, r_count - g);
          for (int r = g; r < g + vl; ++r) {
            Value* at = zero_row;
            if (r < r_count)
              at = b.CreateSelect(row_real[static_cast<std::size_t>(r)],
                                  b.CreateGEP(f32, row_ptr[static_cast<std::size_t>(r)], koff), zero_row);
            b.CreateStore(at, b.CreateGEP(fptr, pointers, b.getInt64(r - g)));
          }
          Value* slot = b.CreateAdd(b.CreateMul(k0, b.getInt64(r_count)), b.getInt64(g));
          b.CreateCall(transpose_fn,
                       {pointers, b.CreateGEP(f32, panel_dst, slot), b.getInt64(r_count), b.getInt64(width)});
        }
      },
      "kt");
}

void generate_pack(llvm::Module& m, const KernelShape& shape, int rows_per_panel, PackMode pack_mode) {
  llvm::LLVMContext& ctx = m.getContext();
  IRBuilder<> b(ctx);
  auto* f32 = element_type(ctx, shape.dtype);
  auto* i64 = b.getInt64Ty();
  auto* i8 = b.getInt8Ty();
  auto* fptr = llvm::PointerType::getUnqual(f32);
  auto* iptr = llvm::PointerType::getUnqual(i64);
  auto* bptr = llvm::PointerType::getUnqual(i8);
  auto* type = llvm::FunctionType::get(b.getVoidTy(), {fptr, fptr, i64, i64, iptr, iptr, bptr}, false);
  std::vector<Value*> args = begin_function(b, m, shape.pack_name(rows_per_panel, pack_mode), type);
  Value *src = args[0], *dst = args[1], *rows = args[2], *kc = args[3], *row_off = args[4], *k_off = args[5],
        *panel_flags = args[6];

  const int r_count = rows_per_panel, vl = shape.vector_lanes;
  auto* rvec = llvm::FixedVectorType::get(f32, static_cast<unsigned>(r_count));
  Value* panels = b.CreateSDiv(rows, b.getInt64(r_count));
  Value* zero = llvm::Constant::getNullValue(f32);
  // dst[p*kc*R + k*R + r] = src[row_off[p*R + r] + k_off[k]] (0 for padding)
  // for k in [k_begin, kc), r in [0, R): k outer.
  auto gather = [&](Value* panel_dst, Value* p, Value* k_begin, const std::string& name) {
    counted_loop(
        b, k_begin, kc,
        [&](Value* k) {
          Value* koff = load_i64(b, k_off, k);
          counted_loop(
              b, b.getInt64(0), b.getInt64(r_count),
              [&](Value* r) {
                Value* off = load_i64(b, row_off, b.CreateAdd(b.CreateMul(p, b.getInt64(r_count)), r));
                Value* padding = b.CreateICmpEQ(off, b.getInt64(INT64_MIN));
                Value* safe = b.CreateSelect(padding, b.getInt64(0), b.CreateAdd(off, koff));
                Value* v = b.CreateLoad(f32, b.CreateGEP(f32, src, safe));
                v = b.CreateSelect(padding, zero, v);
                b.CreateStore(v, b.CreateGEP(f32, panel_dst, b.CreateAdd(b.CreateMul(k, b.getInt64(r_count)), r)));
              },
              name + ".r");
        },
        name + ".k");
  };
  counted_loop(
      b, b.getInt64(0), panels,
      [&](Value* p) {
        Value* panel_dst = b.CreateGEP(f32, dst, b.CreateMul(p, b.CreateMul(kc, b.getInt64(r_count))));
        switch (pack_mode) {
          case PackMode::vector: {  // per panel: contiguous, every other element, or gathered
            Value* flag = b.CreateLoad(i8, b.CreateGEP(i8, panel_flags, p));
            Value* base = load_i64(b, row_off, b.CreateMul(p, b.getInt64(r_count)));
            // Rows `step` elements apart: R elements per k from one load of
            // the (R - 1) * step + 1 that span them (no element past the
            // last row's), the rows' lanes picked out.
            auto strided = [&](int step) {
              auto* span = llvm::FixedVectorType::get(f32, static_cast<unsigned>((r_count - 1) * step + 1));
              std::vector<int> lanes;
              for (int r = 0; r < r_count; ++r) lanes.push_back(r * step);
              counted_loop(
                  b, b.getInt64(0), kc,
                  [&](Value* k) {
                    Value* at = b.CreateGEP(f32, src, b.CreateAdd(base, load_i64(b, k_off, k)));
                    Value* v = b.CreateAlignedLoad(span, as_vector_ptr(b, at, span), llvm::Align(4));
                    if (step != 1) v = b.CreateShuffleVector(v, lanes);  // (step 1: the span is the panel's rows)
                    b.CreateAlignedStore(
                        v, as_vector_ptr(b, b.CreateGEP(f32, panel_dst, b.CreateMul(k, b.getInt64(r_count))), rvec),
                        llvm::Align(4));
                  },
                  step == 1 ? "kv" : "k2");
            };
            // Two runs of rows (kPanelTwoRuns): rows [0, a) `step` elements
            // apart from the first row's offset, rows [a, R) from row a's,
            // each read as the span it covers by a masked vector load (a
            // lane masked off reads nothing), blended, the rows' lanes
            // picked out (step 2).
            auto two_runs = [&](int step) {
              // (A power of two of lanes, R * step, so that the masked load
              // lowers to whole vector ones; the lanes past the last row's
              // are masked off.)
              const int span_lanes = r_count * step, last_lane = (r_count - 1) * step;
              auto* span = llvm::FixedVectorType::get(f32, static_cast<unsigned>(span_lanes));
              Value* a = b.CreateZExt(b.CreateLShr(flag, b.getInt8(kTwoRunsStartShift)), i64);
              Value* a_lane = b.CreateMul(a, b.getInt64(step));  // the span lane of row a
              Value* second =
                  b.CreateSub(load_i64(b, row_off, b.CreateAdd(b.CreateMul(p, b.getInt64(r_count)), a)), a_lane);
              std::vector<llvm::Constant*> lanes;
              for (int l = 0; l < span_lanes; ++l) lanes.push_back(b.getInt64(static_cast<std::uint64_t>(l)));
              // The first run's lanes end at row a - 1's (none read past it).
              Value* lane = llvm::ConstantVector::get(lanes);
              auto below = [&](Value* bound) {
                return b.CreateICmpSLT(lane, b.CreateVectorSplat(static_cast<unsigned>(span_lanes), bound));
              };
              Value* first_run = below(b.CreateSub(a_lane, b.getInt64(step - 1)));
              Value* second_run = b.CreateAnd(b.CreateNot(below(a_lane)), below(b.getInt64(last_lane + 1)));
              std::vector<int> rows_lanes;
              for (int r = 0; r < r_count; ++r) rows_lanes.push_back(r * step);
              Value* none = llvm::Constant::getNullValue(span);
              counted_loop(
                  b, b.getInt64(0), kc,
                  [&](Value* k) {
                    Value* koff = load_i64(b, k_off, k);
                    auto run = [&](Value* start, Value* mask) {
                      Value* at = b.CreateGEP(f32, src, b.CreateAdd(start, koff));
                      return b.CreateMaskedLoad(span, as_vector_ptr(b, at, span), llvm::Align(4), mask, none);
                    };
                    Value* v = b.CreateSelect(below(a_lane), run(base, first_run), run(second, second_run));
                    if (step != 1) v = b.CreateShuffleVector(v, rows_lanes);
                    b.CreateAlignedStore(
                        v, as_vector_ptr(b, b.CreateGEP(f32, panel_dst, b.CreateMul(k, b.getInt64(r_count))), rvec),
                        llvm::Align(4));
                  },
                  step == 1 ? "k_runs" : "k_runs2");
            };
            // The panel's form (kPanelKind), each with its routine; any
            // other panel gathers.
            Value* kind = b.CreateAnd(flag, b.getInt8(kPanelKind));
            const std::vector<std::pair<std::uint8_t, std::function<void()>>> forms = {
                {kPanelContiguous, [&] { strided(1); }},
                {kPanelStride2, [&] { strided(2); }},
                {two_runs_flag(0, 1), [&] { two_runs(1); }},
                {two_runs_flag(0, 2), [&] { two_runs(2); }}};
            std::function<void(std::size_t)> form_from = [&](std::size_t i) {
              if (i == forms.size()) return gather(panel_dst, p, b.getInt64(0), "g");
              if_else(
                  b, b.CreateICmpEQ(kind, b.getInt8(forms[i].first)), forms[i].second, [&] { form_from(i + 1); },
                  "form" + std::to_string(i));
            };
            form_from(0);
            break;
          }
          case PackMode::transpose: {  // k runs along rows: VL x VL blocks transposed in registers
            Value* k_vectors = b.CreateMul(b.CreateSDiv(kc, b.getInt64(vl)), b.getInt64(vl));
            transpose_rows(b, m, shape, src, panel_dst, row_off, b.CreateMul(p, b.getInt64(r_count)), r_count, k_off,
                           k_vectors);
            gather(panel_dst, p, k_vectors, "t");
            break;
          }
          case PackMode::gather:
            gather(panel_dst, p, b.getInt64(0), "g");
            break;
        }
      },
      "p");
  b.CreateRetVoid();
}

}  // namespace

std::string GettFunction::name() const {
  switch (kind) {
    case Kind::micro_kernel:
      return shape.ukr_name();
    case Kind::pack:
      return shape.pack_name(pack_rows, pack_mode);
    case Kind::transpose:
      return transpose_name(shape);
    case Kind::gemv:
      return shape.gemv_name();
    case Kind::dot_gemv:
      return shape.dot_gemv_name();
  }
  return "";
}

std::vector<GettFunction> gett_functions(const std::vector<KernelShape>& shapes) {
  std::vector<GettFunction> out;
  std::set<std::string> seen;
  auto add = [&](GettFunction f) {
    if (seen.insert(f.name()).second) out.push_back(std::move(f));
  };
  if (shapes.at(0).i16_pairs || shapes.at(0).bf16_pairs) {  // micro-kernels only: packed by the i32 / f32 routines
    for (const KernelShape& shape : shapes) add({GettFunction::Kind::micro_kernel, shape, 0});
    return out;
  }
  add({GettFunction::Kind::transpose, shapes.at(0), 0});  // first: the pack routines call them
  for (const KernelShape& shape : shapes)
    for (int rows : {shape.mr(), shape.nr}) add({GettFunction::Kind::transpose, transpose_shape(shape, rows), 0});
  for (const KernelShape& shape : shapes) {
    add({GettFunction::Kind::micro_kernel, shape, 0});
    for (int rows : {shape.mr(), shape.nr})
      for (PackMode mode : kPackModes) add({GettFunction::Kind::pack, shape, rows, mode});
  }
  if (shapes[0].dtype == DType::f32) {  // GEMVs only in f32
    add({GettFunction::Kind::gemv, shapes[0], 0});
    add({GettFunction::Kind::dot_gemv, shapes[0], 0});
  }
  return out;
}

namespace {

void generate(llvm::Module& module, const GettFunction& function) {
  switch (function.kind) {
    case GettFunction::Kind::micro_kernel:
      generate_ukr(module, function.shape);
      break;
    case GettFunction::Kind::pack:
      generate_pack(module, function.shape, function.pack_rows, function.pack_mode);
      break;
    case GettFunction::Kind::transpose:
      generate_transpose(module, function.shape);
      break;
    case GettFunction::Kind::gemv:
      generate_gemv(module, function.shape, DType::f32, function.name());
      break;
    case GettFunction::Kind::dot_gemv:
      generate_dot_gemv(module, function.shape, DType::f32, function.name());
      break;
  }
}

}  // namespace

std::unique_ptr<llvm::Module> generate_gett_function(llvm::LLVMContext& context, const GettFunction& function) {
  auto module = std::make_unique<llvm::Module>(function.name(), context);
  generate(*module, function);
  return verified(std::move(module));
}

std::string UkrEpilogue::tag() const {
  return std::string(activation ? ir::func_name(*activation) : "none") + (residual ? "_residual" : "");
}

std::string UkrVariant::tag() const {
  std::string tag = epilogue ? "_epilogue_" + epilogue->tag() : "";
  return tag + (b_in_place ? "_b_in_place" : "");
}

std::unique_ptr<llvm::Module> generate_ukr_variant_module(llvm::LLVMContext& context, const KernelShape& shape,
                                                          const UkrVariant& variant, const std::string& symbol) {
  auto module = std::make_unique<llvm::Module>(symbol, context);
  generate_ukr(*module, shape, &variant, symbol);
  return verified(std::move(module));
}

std::unique_ptr<llvm::Module> generate_activation_module(llvm::LLVMContext& context, const KernelShape& shape,
                                                         ir::Func func, const std::string& symbol) {
  auto module = std::make_unique<llvm::Module>(symbol, context);
  IRBuilder<> b(context);
  auto* f32 = b.getFloatTy();
  auto* i64 = b.getInt64Ty();
  auto* fptr = llvm::PointerType::getUnqual(f32);
  auto* vec = llvm::FixedVectorType::get(f32, static_cast<unsigned>(shape.vector_lanes));
  std::vector<Value*> args =
      begin_function(b, *module, symbol, llvm::FunctionType::get(b.getVoidTy(), {fptr, i64}, false));
  Value *x = args[0], *n = args[1];
  const int vl = shape.vector_lanes;
  Value* vectors = b.CreateSDiv(n, b.getInt64(vl));
  counted_loop(
      b, b.getInt64(0), vectors,
      [&](Value* v) {
        Value* at = as_vector_ptr(b, b.CreateGEP(f32, x, b.CreateMul(v, b.getInt64(vl))), vec);
        Value* value = b.CreateAlignedLoad(vec, at, llvm::Align(4));
        b.CreateAlignedStore(emit_function(b, func, value, nullptr, nullptr), at, llvm::Align(4));
      },
      "av");
  counted_loop(
      b, b.CreateMul(vectors, b.getInt64(vl)), n,
      [&](Value* i) {
        Value* at = b.CreateGEP(f32, x, i);
        b.CreateStore(emit_function(b, func, b.CreateLoad(f32, at), nullptr, nullptr), at);
      },
      "at");
  b.CreateRetVoid();
  return verified(std::move(module));
}

std::unique_ptr<llvm::Module> generate_gett_module(llvm::LLVMContext& context, const std::vector<KernelShape>& shapes) {
  auto module = std::make_unique<llvm::Module>("einc_gett_f32_" + shapes.at(0).isa, context);
  for (const GettFunction& function : gett_functions(shapes)) generate(*module, function);
  return verified(std::move(module));
}

}  // namespace einc::cpu
