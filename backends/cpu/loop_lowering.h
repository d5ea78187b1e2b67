// backends/cpu/loop_lowering.h — a loop graph made concrete for one run: the
// loop orders, which loops are vectorised, and the cache key.
//
// The generated code depends on the decisions recorded here, never on the
// numbers behind them: extents, strides, script numbers and dim values are
// kernel arguments. So one kernel serves every size of a statement; only a
// change of strides that changes a decision (an operand becoming
// contiguous along a vectorised index, say) compiles another.
//
// Decisions, for lanes > 1:
//   - the output vector index v: the target's unit-stride index (extent > 1),
//     unless a reduction varying with v reads an operand that is strided
//     along v but contiguous along one of its own indices (a row sum of a
//     C-order matrix): that reduction is better vectorised along the row,
//     and the outputs are then computed one at a time;
//   - each reduction placed outside v's loop (its free indices are outer
//     output indices) may be vectorised along one of its own indices u, the
//     one most of its operands read contiguously: vector accumulators, one
//     horizontal reduction at the end. Reductions inside v's loop
//     accumulate a vector of outputs at once;
//   - loop orders follow the graph's groups (loop_graph.h); inside a group,
//     larger strides outside and the vector index last;
//   - per operand and vector index, a stride class: zero (broadcast: one
//     load), unit (vector load), general (gather);
//   - how many leading output loops form the parallel loop;
//   - in a nest whose vector loop reads an operand across its rows (a
//     transpose; the trace of A·B), an index i along which that operand is
//     unit-stride: i's loop is strip-mined into tiles run inside the vector
//     loop (LoopOrder::tile_index, kTileRows). The output nest only without
//     reductions or splits (no value changes); a reduction vectorised along
//     its own index without a split or a reduction inside (its terms are
//     added in another order).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/cpu/loop_graph.h"

namespace einc::cpu {

enum class StrideClass : std::uint8_t { zero, unit, general };

struct LoopOrder {
  std::vector<int> indices;  // outermost first
  int vector_index = -1;     // the index whose loop steps by the vector width, or -1
  // An index whose loop is strip-mined into tiles of kTileRows, each tile's
  // loop run innermost, inside the vector loop (tile_position in
  // loop_lowering.cpp), or -1.
  int tile_index = -1;
};

// A tile of the strip-mined index: a cache line of floats, so that an
// operand read across its rows by the vector loop uses each line it loads
// for kTileRows iterations.
inline constexpr int kTileRows = 16;

// A reduction over everything — a 0-d sum, a dot product, the total in
// `y[i] = x[i] / sum(j: x[j])` — has no output loop for the threads to
// share: run whole, it takes one core (or, under an output loop, is
// computed again by every task). When a graph has exactly one such reduce
// node R (a sum, product, NaN-propagating max or min, with no condition on
// its indices inside it) and enough work, R's outermost loop is cut into
// chunks (run_loop_kernel): the graph rooted at R computes each chunk's
// partial on a view of that range (stored in double, as a sum accumulates),
// the partials are combined in chunk order, and the statement then runs
// with R read as a scalar. The chunks
// are fixed by the shape, never by the thread count, so the result is the
// same for any number of threads.
struct ReductionChunks {
  int node = -1;   // R
  int index = -1;  // R's outermost loop, cut into chunks
  std::int64_t chunks = 1;
  std::int64_t step = 1;  // chunks start at multiples of it: R's vector width where the index is vectorised
};

// Points of R's nest per chunk, at least, and the most chunks.
inline constexpr double kChunkWork = 1 << 15;
inline constexpr std::int64_t kMaxChunks = 64;

// What a run supplies: extents per statement index, and strides (elements).
struct LoopShape {
  std::vector<std::int64_t> extents;                      // per statement index id
  std::vector<std::vector<std::int64_t>> access_strides;  // per access slot, parallel to its free list
  std::vector<std::int64_t> target_strides;               // per lhs position
};

struct LoopSpec {
  LoopGraph graph;
  int lanes = 1;    // vector width in floats (1: scalar code only)
  std::string isa;  // for the key
  bool accumulate = false;
  LoopOrder output;  // the lhs indices
  // The leading output loops run as one flattened, parallel loop (their
  // indices recovered by division): all leading scalar loops up to the
  // first one a reduction is computed in, so that a batch of 1 in front
  // still gives the threads work. At least 1 when there are output loops.
  int parallel_levels = 0;
  std::map<int, LoopOrder> reductions;                 // by reduce node id
  std::map<std::pair<int, int>, StrideClass> classes;  // (slot, vector index) -> class
  // Set when the run cuts a reduction over everything into chunks (the
  // kernels it then runs are lowered from graphs of their own; this spec's
  // kernel is not run).
  std::optional<ReductionChunks> chunks;
  std::string key;

  // Kernel argument layout (int64 array): extents of every statement index,
  // then each slot's strides (in its free order), then the target's strides
  // (lhs order).
  int index_count = 0;
  std::vector<int> stride_base;  // per slot
  int target_stride_base = 0;
  int extent_param(int index) const { return index; }
  int stride_param(int slot, int index) const;  // slot -1: the target
  std::size_t int_params() const;

  StrideClass stride_class(int slot, int index) const;
};

LoopSpec lower_loop(LoopGraph graph, const LoopShape& shape, bool accumulate, int lanes, const std::string& isa);

}  // namespace einc::cpu
