// backends/cpu/gett.h — the GETT driver: BLIS-style loops around the JIT
// micro-kernel, for any strides, then the epilogue.
//
//   for each batch element, NC block of N, KC block of K (equal KC blocks):
//     pack B[kc x nc] into NR-wide panels (in parallel)
//     in parallel over a grid of C rectangles (M parts x N parts):
//       pack the rectangle's A[m x kc] into MR-wide panels
//       for each NR panel, for each MR panel: micro-kernel -> tile -> C
//       (overwrite on the first KC block, beta == 0: C is never read before
//       it is written; add on the others)
//       (a dequantising call converts each tile to f32 as the last KC
//       block stores it: gett_dequantise.h)
//   (many batch elements: each thread runs whole batch elements instead;
//   a wide N: each thread runs whole NC blocks, packing its own B)
//   then, in parallel over MC blocks, the epilogue: scale, bias terms,
//   activation (vectorised), residual terms; under a select mask, the fill
//   where it fails.
//   No N index and unit-stride M: a GEMV instead (K slices x M chunks);
//   unit-stride K: dot products (both gemv.h). Only these read an f16/bf16
//   A in place.
//
// Every output element is summed in the same KC order whatever the thread
// count, so results do not depend on the threads (see Partition in gett.cpp).
// Multi-index groups are linearised into offset tables built from the
// tensors' strides, so packing reads tensors in place (no transposed copies).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "backends/cpu/gett_mask.h"
#include "backends/cpu/jit.h"
#include "ir/gett_lowering.h"

namespace einc::cpu {

// One index of a group: its extent and its stride (elements) in A, B, C.
using GettDim = ir::GettDimSpec;

// A term added in the epilogue: data[offset(b, m, n)], of the call's dtype.
struct EpilogueTerm {
  const void* data = nullptr;
  std::vector<std::int64_t> batch_strides, m_strides, n_strides;  // parallel to the groups' dims
  bool negate = false;
};

// Zero points of an i8 operand read from an i8 tensor, one per row (a 0-d
// tensor: the same for every row): its data at the view's start and its
// strides along the batch group and the operand's row group (M for A, N
// for B). Null data: none.
struct ZeroPoints {
  const std::int8_t* data = nullptr;
  std::vector<std::int64_t> batch_strides, row_strides;
};

// The operands are of `dtype`: f32, f64 or i32 (Jit::has_gett). Only f32
// calls have an activation, a mask, a GEMV path, an A of f16/bf16 or a
// fused epilogue; an i32 call's arithmetic wraps (docs/semantics.md).
struct GettCall {
  DType dtype = DType::f32;
  const void* a = nullptr;
  // A of f16 or bf16 (a_dtype), read in place instead of `a`: only where
  // the call is a GEMV (gemv_kind in gemv.h), whose kernels widen it in
  // registers.
  const std::uint16_t* a_half = nullptr;
  DType a_dtype = DType::f32;
  const void* b = nullptr;
  void* c = nullptr;
  std::vector<GettDim> batch, m, n, k;  // each group: outermost first
  double scale = 1.0;                   // rounded to the dtype where it is applied
  // i32 only: A and B hold two i16 values along K in each word, K counts
  // the pairs, and the micro-kernel multiplies them with pmaddwd
  // (KernelShape::i16_pairs; i8_pairs.h makes such calls).
  bool i16_pairs = false;
  // f32 only: A and B hold bf16 pairs along K (32-bit words; k counts
  // pairs), multiplied by vdpbf16ps into the f32 C (KernelShape::bf16_pairs;
  // i8_pairs.h makes such calls). No GEMV path, no B read in place, the
  // scale in the epilogue.
  bool bf16_pairs = false;
  // i8 operands (before i16_pair_call): the zero points subtracted from A's
  // and B's values as the pairs are made (ir::GettStatement::a_zero_point;
  // each difference fits in 16 bits): a number, or an i8 tensor's value per
  // row (ZeroPoints).
  std::int32_t a_zero_point = 0, b_zero_point = 0;
  ZeroPoints a_zero_points, b_zero_points;
  // Where `scale` applies (the product's plan, ir::GettStatement::scale_at):
  // to C in the epilogue, or to A or B as they are packed. A GEMV applies
  // it in the epilogue whatever this says (it reads A and B in place).
  ir::ScaleAt scale_at = ir::ScaleAt::result;
  std::vector<EpilogueTerm> bias;
  std::optional<ir::Func> activation;
  std::vector<EpilogueTerm> residual;
  // A causal-style mask (gett_mask.h): the blocks and tiles outside it are
  // not computed; a select writes `fill` there after the epilogue, a masked
  // sum adds only the products inside (C zeroed first, its epilogue a
  // second pass). Masked calls use the default micro-kernel shape for any
  // thread count, so their tiles, and so their bits, do not depend on it.
  std::optional<GettMaskCall> mask;
  // An f32 target of i32 sums (ir::GettStatement::dequantise; an i32 call
  // on i16 pairs, without an activation, residual terms or a mask): C holds
  // the i32 partial sums until the last KC block, which converts each tile
  // to f32 as it stores it, times `scale` and the channel scales, plus the
  // bias terms (f32 tensors), then the activation (gett_dequantise.h).
  bool dequantise = false;
  std::vector<EpilogueTerm> channel_scales;
};

struct Blocking {
  std::int64_t mc = 0, kc = 0, nc = 0;
};
// MC/KC/NC for micro-kernel shapes[index] from the host's cache sizes and
// the contraction's K and N (KC and NC split them into equal blocks). KC
// is the same for every shape of the list.
Blocking blocking_for(const std::vector<KernelShape>& shapes, std::size_t index, std::int64_t k, std::int64_t n);

void run_gett(Jit& jit, const GettCall& call, int threads);

}  // namespace einc::cpu
