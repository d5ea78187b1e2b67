// backends/cpu/gemv.h — the GEMV driver: a GETT with no N index (decode: one
// token through a layer) runs on the JIT's GEMV kernels (gemv_gen.h), which
// stream the weights in place, instead of packing them for the micro-kernel.
//
//   axpy  A and C unit-stride along M: tasks are (K slice, M chunk) pairs;
//         each thread streams whole rows of W into its slice's partial y (a
//         thread-local buffer), and the partials are summed in slice order.
//   dot   A and B unit-stride along K (W stored [out, in]): one run of
//         rows per thread, each row one dot product.
//
// Only a GEMV reads an f16/bf16 A in place (GettCall::a_half): the kernels'
// 16-bit variants widen it in registers. Both cuts depend only on the shape,
// never on the threads, so every thread count gives the same bits. The GETT
// driver (gett.h) decides when a call is a GEMV, builds the offset tables
// and applies the epilogue afterwards.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/gett.h"
#include "backends/cpu/jit.h"

namespace einc::cpu {

// Which GEMV kernel a contraction runs on, from its groups alone: none
// unless there is no N index, one batch element and a non-empty K; then
// `dot` when A and B are unit-stride along K (W stored [out, in]: dot
// products), else `axpy` when A and C are unit-stride along M.
enum class GemvKind { none, axpy, dot };
GemvKind gemv_kind(const std::vector<GettDim>& batch, const std::vector<GettDim>& m, const std::vector<GettDim>& n,
                   const std::vector<GettDim>& k);
// The same for a GEMV whose driver copies x (the K values of B) first, as
// the i8 GEMV does (i8_gemv.h): `dot` whenever A is unit-stride along K.
GemvKind gemv_kind_copying_x(const std::vector<GettDim>& batch, const std::vector<GettDim>& m,
                             const std::vector<GettDim>& n, const std::vector<GettDim>& k);

// A GEMV's part of the work per thread holds at least this many weights:
// below that, handing half of it to another thread costs more (~8 us) than
// it saves.
constexpr std::int64_t kGemvMinWeightsPerPart = 1 << 15;

// How the dot-product GEMVs (f32, f16/bf16, i8) cut M rows of K weights
// among `threads`: `parts` contiguous runs of `rows` rows each (the last
// shorter), a multiple of the kernels' 8-row pass, one run per thread, so
// that each thread streams one region of W.
struct GemvRowParts {
  std::int64_t parts = 1, rows = 0;
};
GemvRowParts dot_gemv_row_parts(std::int64_t m, std::int64_t k, int threads);

// Where a GEMV's operands lie: the offset tables the GETT driver builds for
// every call, per group the offset in A, B or C of each of the group's
// linear positions. A GEMV has one batch element and no N index, so the
// batch and N tables hold one offset each.
struct GemvOffsets {
  const std::vector<std::int64_t>& a_b;  // A along the batch group
  const std::vector<std::int64_t>& b_b;  // B along the batch group
  const std::vector<std::int64_t>& c_b;  // C along the batch group
  const std::vector<std::int64_t>& a_m;  // A along M
  const std::vector<std::int64_t>& c_m;  // C along M
  const std::vector<std::int64_t>& b_n;  // B along N
  const std::vector<std::int64_t>& c_n;  // C along N
  const std::vector<std::int64_t>& a_k;  // A along K
  const std::vector<std::int64_t>& b_k;  // B along K
};

// C = A B for a call whose gemv_kind is `kind` (axpy or dot), M = m, K = k.
// Overwrites C (beta == 0: C is not read).
void run_gemv(Jit& jit, const GettCall& call, GemvKind kind, const GemvOffsets& offsets, std::int64_t m, std::int64_t k,
              int threads);

}  // namespace einc::cpu
