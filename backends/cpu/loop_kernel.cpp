// backends/cpu/loop_kernel.cpp — see loop_kernel.h.
#include "backends/cpu/loop_kernel.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <utility>

#include "backends/cpu/jit.h"
#include "backends/cpu/loop_gen.h"
#include "backends/cpu/loop_graph.h"
#include "backends/cpu/loop_lowering.h"
#include "backends/reference/interpreter.h"
#include "einc/internal_error.h"
#include "ir/gett_lowering.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

int vector_lanes() {
  if (const char* env = std::getenv("EINC_LOOP_LANES")) {
    int lanes = std::atoi(env);
    if (lanes == 1 || lanes == 2 || lanes == 4 || lanes == 8 || lanes == 16) return lanes;
  }
  return Jit::instance().shape().vector_lanes;
}

// The vector width of `graph`'s kernels: vector_lanes() floats, half as
// many doubles or 64-bit integers (an integer statement's).
int lanes_for(const LoopGraph& graph) {
  const int lanes = vector_lanes();
  return graph.element == DType::f64 || graph.element == DType::i32 ? std::max(1, lanes / 2) : lanes;
}

int trace_level() {
  const char* env = std::getenv("EINC_LOOP_TRACE");
  if (!env || !*env || std::strcmp(env, "0") == 0) return 0;
  return std::strcmp(env, "ir") == 0 ? 2 : 1;
}

std::int64_t product(const std::vector<std::int64_t>& extents, const std::vector<int>& indices) {
  std::int64_t n = 1;
  for (int i : indices) n *= extents[static_cast<std::size_t>(i)];
  return n;
}

void trace(const LoopSpec& spec, const ir::Statement& statement, double compile_ms, int level) {
  std::cerr << "einc: loop kernel for line " << statement.line << " (" << spec.graph.summary << ") compiled in "
            << compile_ms << " ms\n"
            << spec.key;
  if (level > 1) {
    llvm::LLVMContext context;
    std::string text;
    llvm::raw_string_ostream out(text);
    generate_loop_module(context, spec, "einc_loop_kernel")->print(out, nullptr);
    std::cerr << "\n" << out.str();
  }
  std::cerr << "\n";
}

}  // namespace

std::optional<LoopGraph> plan_loop_kernel(const ir::Program& program, const ir::Statement& statement,
                                          const TensorLayouts& layouts, std::string* reason) {
  LoopGraphResult built = build_loop_graph(program, statement);
  if (!built.graph) {
    if (reason) *reason = built.reason;
    return std::nullopt;
  }
  const LoopGraph& graph = *built.graph;
  // (f16 is converted with F16C, which a generic kernel may not use)
  if (uses_dtype(graph, DType::f16) && !Jit::instance().reads_half_weights(DType::f16)) {
    if (reason) *reason = "f16 values, which loop kernels convert with F16C, not available here";
    return std::nullopt;
  }
  auto usable = [&](int t, DType dtype) { return layouts.dtype(t) == dtype && layouts.defined(t); };
  if (!usable(statement.target, graph.target_dtype)) return std::nullopt;
  for (const LoopAccess& a : graph.accesses)
    if (!usable(a.tensor, a.dtype)) return std::nullopt;
  if (!layouts.extents_known()) return built.graph;  // the rest is decided by a run

  std::vector<std::int64_t> extents = ir::index_extents(program, statement);
  for (const std::vector<int>& set : graph.must_be_nonempty)
    if (product(extents, set) == 0) return std::nullopt;  // the interpreter reports the error
  const std::vector<std::int64_t>& shape = layouts.shape(statement.target);
  const std::vector<std::int64_t>& strides = layouts.strides(statement.target);
  if (shape.size() != graph.lhs.size()) return std::nullopt;
  for (std::size_t d = 0; d < graph.lhs.size(); ++d) {
    if (shape[d] != extents[static_cast<std::size_t>(graph.lhs[d])]) return std::nullopt;
    // Two output points on one element (a broadcast view of a caller's
    // buffer): the interpreter's sequential order decides what is stored.
    if (strides[d] == 0 && shape[d] > 1) return std::nullopt;
  }
  return built.graph;
}

namespace {

// Part `part` of `parts` of [0, extent), cut at multiples of `step` (the
// last part ends at `extent`): the range a task computes.
std::pair<std::int64_t, std::int64_t> part_of(std::int64_t extent, std::int64_t step, std::int64_t part,
                                              std::int64_t parts) {
  const std::int64_t units = (extent + step - 1) / step;
  return {units * part / parts * step, std::min(extent, units * (part + 1) / parts * step)};
}

// One run of a statement's loop kernels: the arguments every kernel of the
// statement shares (extents, strides, base pointers, scalar values).
class LoopRun {
 public:
  LoopRun(const ir::Program& program, const ir::Statement& statement, const LoopGraph& graph,
          std::vector<Tensor>& tensors, int threads)
      : program_(program), statement_(statement), tensors_(tensors), threads_(threads), lanes_(lanes_for(graph)) {
    extents_ = ir::index_extents(program, statement);
    shape_.extents = extents_;
    for (const LoopAccess& a : graph.accesses) {
      const Tensor& t = tensors.at(static_cast<std::size_t>(a.tensor));
      std::vector<std::int64_t> strides;
      for (int index : a.free) strides.push_back(ir::access_stride(t.strides(), a.subscripts, index));
      shape_.access_strides.push_back(std::move(strides));
      auto evaluate = [&](const ir::Poly& p) { return program.evaluate(p); };
      const auto size = static_cast<std::int64_t>(dtype_size(a.dtype));
      element_sizes_.push_back(size);
      pointers_.push_back(static_cast<char*>(t.data()) + ir::access_offset(t.strides(), a.subscripts, evaluate) * size);
    }
    shape_.target_strides = tensors.at(static_cast<std::size_t>(statement.target)).strides();
    static_assert(
        kLibraryPow == 0 && kLibraryDoubleFunction == 1 && kLibraryDivisionByZero == 2 && kLibraryEntries == 3,
        "the order below");
    static_assert(sizeof(division_by_zero_) == 4 && std::atomic<std::int32_t>::is_always_lock_free,
                  "the kernels store an i32 into it");
    functions_[0] = as_pointer(static_cast<double (*)(double, double)>(&std::pow));
    functions_[1] = as_pointer(&double_function);
    functions_[2] = &division_by_zero_;
  }

  LoopSpec lower(LoopGraph graph, bool accumulate) const {
    return lower_loop(std::move(graph), shape_, accumulate, lanes_, Jit::instance().shape().isa);
  }

  // Runs `spec` over the whole statement: the flattened leading output
  // loops split into tasks.
  void run(const LoopSpec& spec) const {
    const LoopKernel kernel = compile(spec);
    const std::vector<float*> pointers = pointers_for(spec, target_data(), -1, 0);
    const std::vector<std::int64_t> ints = ints_for(spec, -1, 0);
    const std::vector<double> scalars = scalars_for(spec.graph);
    void* const* fns = functions();
    if (spec.output.indices.empty()) {
      kernel(pointers.data(), ints.data(), scalars.data(), fns, 0, 1);
      return;
    }
    const int first = spec.output.indices[0];
    std::int64_t extent = 1;
    for (int q = 0; q < spec.parallel_levels; ++q)
      extent *= extents_[static_cast<std::size_t>(spec.output.indices[static_cast<std::size_t>(q)])];
    const std::int64_t step = first == spec.output.vector_index ? lanes_ : 1;
    const std::int64_t units = (extent + step - 1) / step;
    if (threads_ <= 1 || units <= 1 || work() < 32768) {
      kernel(pointers.data(), ints.data(), scalars.data(), fns, 0, extent);
      return;
    }
    // A reduction over everything is computed once per task: few tasks then.
    bool global_reduction = false;
    for (const LoopNode& n : spec.graph.nodes) global_reduction |= n.op == LoopOp::reduce && n.free.empty();
    const std::int64_t tasks = std::min<std::int64_t>(units, global_reduction ? threads_ : 4 * threads_);
    runtime::parallel_for(tasks, threads_, [&](std::int64_t task) {
      const auto [begin, end] = part_of(extent, step, task, tasks);
      kernel(pointers.data(), ints.data(), scalars.data(), fns, begin, end);
    });
  }

  // Runs `partial` (a 0-d graph rooted at split.node, its target f64) once
  // per chunk of split.index's range, each chunk's value into
  // partials[chunk]; the chunks are tasks.
  std::vector<double> run_chunks(const LoopSpec& partial, const ReductionChunks& split) const {
    const LoopKernel kernel = compile(partial);
    const std::vector<double> scalars = scalars_for(partial.graph);
    void* const* fns = functions();
    const std::int64_t extent = extents_[static_cast<std::size_t>(split.index)];
    std::vector<double> partials(static_cast<std::size_t>(split.chunks));
    runtime::parallel_for(split.chunks, threads_, [&](std::int64_t chunk) {
      const auto [begin, end] = part_of(extent, split.step, chunk, split.chunks);
      void* target = &partials[static_cast<std::size_t>(chunk)];
      const std::vector<float*> pointers = pointers_for(partial, target, split.index, begin);
      const std::vector<std::int64_t> ints = ints_for(partial, split.index, end - begin);
      kernel(pointers.data(), ints.data(), scalars.data(), fns, 0, 1);
    });
    return partials;
  }

  // After the kernels: the interpreter's error where an integer divisor
  // was 0 (they stored 0 there and set the flag).
  void check_division_by_zero() const {
    if (division_by_zero_.load() != 0)
      throw reference::ExecutionError("integer division by zero in the statement at line " +
                                      std::to_string(statement_.line));
  }

  double work() const {
    double w = 1;
    for (std::int64_t e : extents_) w *= static_cast<double>(std::max<std::int64_t>(e, 1));
    return w;
  }

 private:
  LoopKernel compile(const LoopSpec& spec) const {
    double compile_ms = 0;
    std::uint64_t address = Jit::instance().compile_cached(
        spec.key,
        [&](llvm::LLVMContext& context, const std::string& symbol) {
          return generate_loop_module(context, spec, symbol);
        },
        &compile_ms);
    if (compile_ms > 0) {
      if (int level = trace_level()) trace(spec, statement_, compile_ms, level);
    }
    return reinterpret_cast<LoopKernel>(address);
  }

  void* target_data() const { return tensors_.at(static_cast<std::size_t>(statement_.target)).data(); }

  // The target, then each slot's base; with `index` >= 0, each base moved
  // to that index's value `begin`. (The kernel takes float*s: it casts those
  // of other dtypes, graph.target_dtype and LoopAccess::dtype, at their use.)
  std::vector<float*> pointers_for(const LoopSpec& spec, void* target, int index, std::int64_t begin) const {
    std::vector<float*> pointers{static_cast<float*>(target)};
    for (std::size_t slot = 0; slot < pointers_.size(); ++slot) {
      std::int64_t offset = 0;
      const std::vector<int>& free = spec.graph.accesses[slot].free;
      for (std::size_t k = 0; k < free.size(); ++k)
        if (free[k] == index) offset = shape_.access_strides[slot][k] * begin;
      pointers.push_back(reinterpret_cast<float*>(pointers_[slot] + offset * element_sizes_[slot]));
    }
    return pointers;
  }

  // Extents and strides as spec lays them out; with `index` >= 0, its
  // extent replaced by `extent`.
  std::vector<std::int64_t> ints_for(const LoopSpec& spec, int index, std::int64_t extent) const {
    std::vector<std::int64_t> ints(spec.int_params(), 0);
    for (std::size_t i = 0; i < extents_.size(); ++i)
      ints[static_cast<std::size_t>(spec.extent_param(static_cast<int>(i)))] =
          static_cast<int>(i) == index ? extent : extents_[i];
    for (std::size_t slot = 0; slot < spec.graph.accesses.size(); ++slot)
      for (std::size_t k = 0; k < spec.graph.accesses[slot].free.size(); ++k)
        ints[static_cast<std::size_t>(spec.stride_base[slot]) + k] = shape_.access_strides[slot][k];
    for (std::size_t d = 0; d < spec.graph.lhs.size(); ++d)
      ints[static_cast<std::size_t>(spec.target_stride_base) + d] = shape_.target_strides[d];
    return ints;
  }

  std::vector<double> scalars_for(const LoopGraph& graph) const {
    std::vector<double> scalars;
    for (const LoopScalar& s : graph.scalars) {
      double v = s.kind == LoopScalar::Kind::number ? s.number
                 : s.kind == LoopScalar::Kind::dim
                     ? static_cast<double>(*program_.dims[static_cast<std::size_t>(s.dim)].value)
                     : static_cast<double>(product(extents_, s.indices));
      scalars.push_back(v);
    }
    return scalars;
  }

  // The kernels' `fns` (LoopLibrary, loop_gen.h): the C library's pow (f32
  // kernels), the reference's formula of a function in double (f64 and
  // integer kernels), and this run's flag for an integer division by zero.
  void* const* functions() const { return functions_; }

  template <typename F>
  static void* as_pointer(F* f) {
    void* p;
    std::memcpy(&p, &f, sizeof p);
    return p;
  }

  static double double_function(std::int64_t func, double a, double b) {
    return reference::apply_function(static_cast<ir::Func>(func), a, b);
  }

  mutable std::atomic<std::int32_t> division_by_zero_{0};  // fns[2]: set by a kernel (loop_gen.h)
  void* functions_[kLibraryEntries] = {};
  const ir::Program& program_;
  const ir::Statement& statement_;
  std::vector<Tensor>& tensors_;
  const int threads_;
  int lanes_ = 1;
  std::vector<std::int64_t> extents_;
  LoopShape shape_;
  std::vector<char*> pointers_;              // per slot: the access's base
  std::vector<std::int64_t> element_sizes_;  // per slot: its dtype's bytes
};

// The partials combined in order, as R's loop would have combined them.
double combine(LoopReduce op, const std::vector<double>& partials) {
  double total = partials[0];
  for (std::size_t c = 1; c < partials.size(); ++c) {
    const double p = partials[c];
    switch (op) {
      case LoopReduce::sum:
        total += p;
        break;
      case LoopReduce::prod:
        total *= p;
        break;
      case LoopReduce::max:
      case LoopReduce::min:
        if (std::isnan(total) || std::isnan(p))
          total = std::numeric_limits<double>::quiet_NaN();
        else
          total = op == LoopReduce::max ? std::max(total, p) : std::min(total, p);
        break;
      case LoopReduce::max_skip_nan:
        EINC_FAIL("loop kernel: a skip-NaN max is never split");
    }
  }
  return total;
}

}  // namespace

void run_loop_kernel(const ir::Program& program, const ir::Statement& statement, LoopGraph graph,
                     std::vector<Tensor>& tensors, int threads) {
  const Tensor& target = tensors.at(static_cast<std::size_t>(statement.target));
  if (target.numel() == 0) return;
  const LoopRun run(program, statement, graph, tensors, threads);
  LoopSpec spec = run.lower(std::move(graph), statement.accumulate);
  const std::optional<ReductionChunks> split = spec.chunks;
  if (!split) {
    run.run(spec);
    run.check_division_by_zero();
    return;
  }
  // R's partials: the graph rooted at R, each into a 0-d f64 target.
  LoopGraph partial = spec.graph;
  partial.root = split->node;
  partial.lhs.clear();
  partial.output_groups.clear();
  partial.splits.clear();
  partial.outside_unread = false;
  partial.target_dtype = DType::f64;  // as an f32 sum accumulates
  const std::vector<double> partials = run.run_chunks(run.lower(std::move(partial), false), *split);
  run.check_division_by_zero();
  // The statement with R read from a scalar slot.
  LoopGraph rest = std::move(spec.graph);
  const LoopReduce op = rest.nodes[static_cast<std::size_t>(split->node)].reduce;
  LoopNode scalar;
  scalar.op = LoopOp::scalar;
  scalar.slot = static_cast<int>(rest.scalars.size());
  rest.nodes[static_cast<std::size_t>(split->node)] = scalar;
  rest.reduce_groups[static_cast<std::size_t>(split->node)].clear();
  LoopScalar value;
  value.number = combine(op, partials);
  rest.scalars.push_back(value);
  run.run(run.lower(std::move(rest), statement.accumulate));
  run.check_division_by_zero();
}

std::optional<std::string> emit_loop_kernel(const ir::Program& program, const ir::Statement& statement) {
  LoopGraphResult built = build_loop_graph(program, statement);
  if (!built.graph) return std::nullopt;
  LoopShape shape;
  auto c_order = [&](int tensor) { return ir::contiguous_strides(ir::evaluated_shape(program, tensor)); };
  try {
    shape.extents = ir::index_extents(program, statement);
    for (const LoopAccess& a : built.graph->accesses) {
      std::vector<std::int64_t> strides;
      for (int index : a.free) strides.push_back(ir::access_stride(c_order(a.tensor), a.subscripts, index));
      shape.access_strides.push_back(std::move(strides));
    }
    shape.target_strides = c_order(statement.target);
  } catch (const ir::UnboundDimError&) {
    return std::nullopt;  // decided at run time
  }
  const int lanes = lanes_for(*built.graph);
  LoopSpec spec = lower_loop(std::move(*built.graph), shape, statement.accumulate, lanes, Jit::instance().shape().isa);
  llvm::LLVMContext context;
  std::string text;
  llvm::raw_string_ostream out(text);
  generate_loop_module(context, spec, "einc_loop_line" + std::to_string(statement.line))->print(out, nullptr);
  return out.str();
}

}  // namespace einc::cpu
