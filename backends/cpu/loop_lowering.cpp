// backends/cpu/loop_lowering.cpp — see loop_lowering.h.
#include "backends/cpu/loop_lowering.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>

namespace einc::cpu {

namespace {

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string ids(const std::vector<int>& v) {
  std::string out;
  for (int x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

// The groups in order, each sorted by `weight` (descending, stable) with
// the vector index last in its group.
LoopOrder order_of(const std::vector<std::vector<int>>& groups, int vector_index,
                   const std::function<std::int64_t(int)>& weight) {
  LoopOrder order;
  order.vector_index = vector_index;
  for (std::vector<int> g : groups) {
    std::stable_sort(g.begin(), g.end(), [&](int a, int b) { return weight(a) > weight(b); });
    auto it = std::find(g.begin(), g.end(), vector_index);
    if (it != g.end()) std::rotate(it, it + 1, g.end());
    order.indices.insert(order.indices.end(), g.begin(), g.end());
  }
  return order;
}

class Lowering {
 public:
  Lowering(LoopSpec& spec, const LoopShape& shape) : spec_(spec), shape_(shape), graph_(spec.graph) {}

  void run() {
    layout();
    choose_output_vector();
    // Groups list the lhs indices sorted by id: restore the dimension order
    // (C order when strides tie) before the stride sort.
    std::vector<std::vector<int>> output_groups = graph_.output_groups;
    for (auto& g : output_groups)
      std::sort(g.begin(), g.end(), [&](int a, int b) { return lhs_position(a) < lhs_position(b); });
    spec_.output = order_of(output_groups, output_vector_, [&](int index) { return target_stride(index); });
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      if (graph_.nodes[n].op != LoopOp::reduce) continue;
      int u = choose_reduction_vector(static_cast<int>(n));
      const std::set<int>& loads = loads_of(static_cast<int>(n));
      spec_.reductions[static_cast<int>(n)] = order_of(graph_.reduce_groups[n], u, [&](int index) {
        std::int64_t w = 0;
        for (int slot : loads) w = std::max<std::int64_t>(w, std::llabs(stride(slot, index)));
        return w;
      });
    }
    classify();
    choose_parallel_levels();
    choose_tile();
    for (auto& [n, order] : spec_.reductions) choose_reduction_tile(n);
    choose_chunks();
    make_key();
  }

 private:
  void layout() {
    spec_.index_count = static_cast<int>(shape_.extents.size());
    int position = spec_.index_count;
    for (const LoopAccess& a : graph_.accesses) {
      spec_.stride_base.push_back(position);
      position += static_cast<int>(a.free.size());
    }
    spec_.target_stride_base = position;
  }

  int lhs_position(int index) const {
    return static_cast<int>(std::find(graph_.lhs.begin(), graph_.lhs.end(), index) - graph_.lhs.begin());
  }

  std::int64_t stride(int slot, int index) const {
    const std::vector<int>& free = graph_.accesses[static_cast<std::size_t>(slot)].free;
    auto it = std::find(free.begin(), free.end(), index);
    if (it == free.end()) return 0;
    return shape_.access_strides[static_cast<std::size_t>(slot)][static_cast<std::size_t>(it - free.begin())];
  }

  std::int64_t target_stride(int index) const {
    return shape_.target_strides[static_cast<std::size_t>(lhs_position(index))];
  }

  std::int64_t extent(int index) const { return shape_.extents[static_cast<std::size_t>(index)]; }

  // The access slots a reduce node's body reads (through nested ones too).
  const std::set<int>& loads_of(int reduce_node) {
    auto [it, fresh] = loads_.try_emplace(reduce_node);
    if (!fresh) return it->second;
    for (int m : nodes_under(graph_, graph_.nodes[static_cast<std::size_t>(reduce_node)].args[0])) {
      const LoopNode& node = graph_.nodes[static_cast<std::size_t>(m)];
      if (node.op == LoopOp::load) it->second.insert(node.slot);
    }
    return it->second;
  }

  void choose_output_vector() {
    if (spec_.lanes <= 1) return;
    int candidate = -1;
    for (std::size_t d = graph_.lhs.size(); d-- > 0;)
      if (shape_.target_strides[d] == 1 && extent(graph_.lhs[d]) > 1) {
        candidate = graph_.lhs[d];
        break;
      }
    if (candidate < 0) return;
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      const LoopNode& node = graph_.nodes[n];
      if (node.op != LoopOp::reduce || !contains(node.free, candidate)) continue;
      for (int slot : loads_of(static_cast<int>(n))) {
        std::int64_t s = stride(slot, candidate);
        if (s == 0 || s == 1) continue;
        for (int x : node.over)
          if (stride(slot, x) == 1) return;  // a row reduction: vectorise it along x instead
      }
    }
    output_vector_ = candidate;
  }

  int choose_reduction_vector(int n) {
    const LoopNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    if (spec_.lanes <= 1) return -1;
    for (int x : node.free)
      if (!contains(graph_.lhs, x) || x == output_vector_) return -1;  // nested, or accumulates a vector of outputs
    int best = -1, best_count = 0;
    for (int x : node.over) {
      int count = 0;
      for (int slot : loads_of(n)) count += stride(slot, x) == 1 ? 1 : 0;
      if (count > best_count || (count == best_count && count > 0 && extent(x) > extent(best))) {
        best = x;
        best_count = count;
      }
    }
    return best;
  }

  void choose_parallel_levels() {
    const std::vector<int>& order = spec_.output.indices;
    int levels = 0;
    while (levels < static_cast<int>(order.size()) &&
           order[static_cast<std::size_t>(levels)] != spec_.output.vector_index)
      ++levels;
    // A reduce node placed in the output nest is computed at the level of
    // its deepest free index (1-based); flattening must stop there.
    for (const LoopNode& node : graph_.nodes) {
      if (node.op != LoopOp::reduce) continue;
      int level = 0;
      for (int x : node.free) {
        auto it = std::find(order.begin(), order.end(), x);
        if (it == order.end()) {
          level = 0;  // placed in an enclosing reduction's nest, not here
          break;
        }
        level = std::max(level, static_cast<int>(it - order.begin()) + 1);
      }
      if (level > 0) levels = std::min(levels, level);
    }
    spec_.parallel_levels = order.empty() ? 0 : std::max(levels, 1);
  }

  // A nest whose vector loop (along v, the target's unit stride or a
  // reduction's) reads an operand across its rows — B[j, i] in C[i, j] =
  // B[j, i] — loads one element of each row per vector and moves on: each
  // element costs a cache line (and, for large rows, a page). When the
  // operand is unit-stride along another index i of the nest, i's loop is
  // strip-mined into tiles of kTileRows and each tile runs inside the
  // vector loop: the lines of B's VL rows then serve kTileRows values of i
  // each. The innermost such i is tiled. Returns its position in `indices`,
  // or -1.
  int tile_position(const std::vector<int>& indices, int v, const std::set<int>& slots) const {
    if (v < 0 || indices.size() < 2 || indices.back() != v || extent(v) < spec_.lanes) return -1;
    for (std::size_t p = indices.size() - 1; p-- > 0;) {
      const int i = indices[p];
      if (extent(i) < 2) continue;
      for (int slot : slots)
        if (stride(slot, i) == 1 && std::llabs(stride(slot, v)) > 1) return static_cast<int>(p);
    }
    return -1;
  }

  // The output nest's tile, in a nest without reductions or splits: the
  // tile moves no arithmetic, so every element's value is computed exactly
  // as before. The flattened parallel loop stops before the tiled index (a
  // tile index in front is cut among the threads by its own values, and
  // one behind loops of one is moved in front).
  void choose_tile() {
    if (!graph_.splits.empty()) return;
    for (const LoopNode& node : graph_.nodes)
      if (node.op == LoopOp::reduce) return;
    std::set<int> slots;
    for (std::size_t slot = 0; slot < graph_.accesses.size(); ++slot) slots.insert(static_cast<int>(slot));
    int p = tile_position(spec_.output.indices, spec_.output.vector_index, slots);
    if (p < 0) return;
    const int i = spec_.output.indices[static_cast<std::size_t>(p)];
    spec_.output.tile_index = i;
    // Loops of one in front (a batch of 1) would leave the parallel loop
    // nothing to cut: i goes first instead (any order of an elementwise
    // nest computes the same values).
    bool ones_in_front = true;
    for (int q = 0; q < p; ++q)
      ones_in_front = ones_in_front && extent(spec_.output.indices[static_cast<std::size_t>(q)]) == 1;
    if (ones_in_front && p > 0) {
      spec_.output.indices.erase(spec_.output.indices.begin() + p);
      spec_.output.indices.insert(spec_.output.indices.begin(), i);
      p = 0;
    }
    spec_.parallel_levels = std::max(1, std::min(spec_.parallel_levels, p));
  }

  // A reduction vectorised along its own index (horizontal: vector
  // accumulators), with no split and no reduction inside, whose terms do
  // not fill the target's row (a stashed sum's loops follow the output's):
  // tiled like the output nest. The tile reorders the sum's terms, the
  // same way for every run of the spec.
  void choose_reduction_tile(int n) {
    LoopOrder& order = spec_.reductions[n];
    const LoopNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    if (order.vector_index < 0) return;
    for (const LoopSplit& split : graph_.splits)
      if (split.nest == n) return;
    std::vector<int> lhs = graph_.lhs;
    std::sort(lhs.begin(), lhs.end());
    if (graph_.nodes[static_cast<std::size_t>(node.args[0])].free == lhs) return;
    if (uses_a_reduction(graph_, node.args[0])) return;
    const int p = tile_position(order.indices, order.vector_index, loads_of(n));
    if (p >= 0) order.tile_index = order.indices[static_cast<std::size_t>(p)];
  }

  // ReductionChunks (loop_lowering.h).
  void choose_chunks() {
    ReductionChunks split;
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      const LoopNode& node = graph_.nodes[n];
      if (node.op != LoopOp::reduce || !node.free.empty()) continue;
      if (split.node >= 0) return;  // two: left whole
      split.node = static_cast<int>(n);
    }
    if (split.node < 0) return;
    if (graph_.nodes[static_cast<std::size_t>(split.node)].reduce == LoopReduce::max_skip_nan) return;
    if (graph_.element == DType::i32) return;  // (the partials are doubles: an integer total runs whole)
    const std::set<int> inside = nodes_under(graph_, split.node);  // R and the nodes it reads
    double work = 1;
    for (const int n : inside) {
      const LoopNode& node = graph_.nodes[static_cast<std::size_t>(n)];
      if (node.op == LoopOp::select) return;  // reads the loop counters
      if (node.op == LoopOp::reduce)
        for (int x : node.over) work *= static_cast<double>(extent(x));
    }
    for (const LoopSplit& s : graph_.splits)
      if (inside.count(s.nest)) return;
    const LoopOrder& order = spec_.reductions.at(split.node);
    if (order.indices.empty()) return;
    split.index = order.indices.front();
    for (const int n : inside)  // only R may loop over the index it cuts
      if (n != split.node && contains(graph_.nodes[static_cast<std::size_t>(n)].over, split.index)) return;
    split.step = order.vector_index == split.index ? spec_.lanes : 1;
    const std::int64_t units = (extent(split.index) + split.step - 1) / split.step;
    split.chunks = std::min({units, kMaxChunks, static_cast<std::int64_t>(work / kChunkWork)});
    if (split.chunks >= 2) spec_.chunks = split;
  }

  void classify() {
    std::set<int> vector_indices;
    if (spec_.output.vector_index >= 0) vector_indices.insert(spec_.output.vector_index);
    for (const auto& [node, order] : spec_.reductions)
      if (order.vector_index >= 0) vector_indices.insert(order.vector_index);
    for (std::size_t slot = 0; slot < graph_.accesses.size(); ++slot)
      for (int x : graph_.accesses[slot].free) {
        if (!vector_indices.count(x)) continue;
        std::int64_t s = stride(static_cast<int>(slot), x);
        spec_.classes[{static_cast<int>(slot), x}] = s == 0   ? StrideClass::zero
                                                     : s == 1 ? StrideClass::unit
                                                              : StrideClass::general;
      }
  }

  void make_key() {
    std::ostringstream key;
    key << "einc-loop-v1 " << spec_.isa << " lanes " << spec_.lanes << (spec_.accumulate ? " +=" : " =") << " indices "
        << spec_.index_count << "\n"
        << loop_graph_signature(graph_) << "out " << ids(spec_.output.indices) << " v " << spec_.output.vector_index
        << " parallel " << spec_.parallel_levels << " tile " << spec_.output.tile_index << "\n";
    for (const auto& [node, order] : spec_.reductions)
      key << "r" << node << " " << ids(order.indices) << " u " << order.vector_index << " tile " << order.tile_index
          << "\n";
    for (const auto& [where, cls] : spec_.classes)
      key << "c" << where.first << "," << where.second << "=" << static_cast<int>(cls) << " ";
    spec_.key = key.str();
  }

  LoopSpec& spec_;
  const LoopShape& shape_;
  const LoopGraph& graph_;
  int output_vector_ = -1;
  std::map<int, std::set<int>> loads_;
};

}  // namespace

int LoopSpec::stride_param(int slot, int index) const {
  if (slot < 0) {
    auto it = std::find(graph.lhs.begin(), graph.lhs.end(), index);
    return target_stride_base + static_cast<int>(it - graph.lhs.begin());
  }
  const std::vector<int>& free = graph.accesses[static_cast<std::size_t>(slot)].free;
  return stride_base[static_cast<std::size_t>(slot)] +
         static_cast<int>(std::find(free.begin(), free.end(), index) - free.begin());
}

std::size_t LoopSpec::int_params() const { return static_cast<std::size_t>(target_stride_base) + graph.lhs.size(); }

StrideClass LoopSpec::stride_class(int slot, int index) const {
  auto it = classes.find({slot, index});
  return it == classes.end() ? StrideClass::general : it->second;
}

LoopSpec lower_loop(LoopGraph graph, const LoopShape& shape, bool accumulate, int lanes, const std::string& isa) {
  LoopSpec spec;
  spec.graph = std::move(graph);
  spec.lanes = lanes;
  spec.isa = isa;
  spec.accumulate = accumulate;
  Lowering(spec, shape).run();
  return spec;
}

}  // namespace einc::cpu
