// backends/cpu/loop_kernel.cpp — see loop_kernel.h.
#include "backends/cpu/loop_kernel.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "backends/cpu/jit.h"
#include "backends/cpu/loop_gen.h"
#include "backends/cpu/loop_graph.h"
#include "backends/cpu/loop_lowering.h"
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

void run_loop_kernel(const ir::Program& program, const ir::Statement& statement, LoopGraph graph,
                     std::vector<Tensor>& tensors, int threads) {
  const Tensor& target = tensors.at(static_cast<std::size_t>(statement.target));
  if (target.numel() == 0) return;
  const std::vector<std::int64_t> extents = ir::index_extents(program, statement);

  LoopShape shape;
  shape.extents = extents;
  for (const LoopAccess& a : graph.accesses) {
    const Tensor& t = tensors.at(static_cast<std::size_t>(a.tensor));
    std::vector<std::int64_t> strides;
    for (int index : a.free) strides.push_back(ir::access_stride(t.strides(), a.subscripts, index));
    shape.access_strides.push_back(std::move(strides));
  }
  shape.target_strides = target.strides();
  const int lanes = vector_lanes();
  LoopSpec spec = lower_loop(std::move(graph), shape, statement.accumulate, lanes, Jit::instance().shape().isa);

  double compile_ms = 0;
  std::uint64_t address = Jit::instance().compile_cached(
      spec.key,
      [&](llvm::LLVMContext& context, const std::string& symbol) {
        return generate_loop_module(context, spec, symbol);
      },
      &compile_ms);
  if (compile_ms > 0) {
    if (int level = trace_level()) trace(spec, statement, compile_ms, level);
  }
  auto kernel = reinterpret_cast<LoopKernel>(address);

  // Arguments.
  std::vector<float*> pointers{static_cast<float*>(target.data())};  // (or i8/i32: graph.target_dtype)
  for (const LoopAccess& a : spec.graph.accesses) {
    const Tensor& t = tensors.at(static_cast<std::size_t>(a.tensor));
    auto evaluate = [&](const ir::Poly& p) { return program.evaluate(p); };
    // (an i32 access too: 4-byte elements, which the kernel loads as i32)
    pointers.push_back(static_cast<float*>(t.data()) + ir::access_offset(t.strides(), a.subscripts, evaluate));
  }
  std::vector<std::int64_t> ints(spec.int_params(), 0);
  for (std::size_t i = 0; i < extents.size(); ++i)
    ints[static_cast<std::size_t>(spec.extent_param(static_cast<int>(i)))] = extents[i];
  for (std::size_t slot = 0; slot < spec.graph.accesses.size(); ++slot)
    for (std::size_t k = 0; k < spec.graph.accesses[slot].free.size(); ++k)
      ints[static_cast<std::size_t>(spec.stride_base[slot]) + k] = shape.access_strides[slot][k];
  for (std::size_t d = 0; d < spec.graph.lhs.size(); ++d)
    ints[static_cast<std::size_t>(spec.target_stride_base) + d] = shape.target_strides[d];
  std::vector<float> scalars;
  for (const LoopScalar& s : spec.graph.scalars) {
    double v = s.kind == LoopScalar::Kind::number ? s.number
               : s.kind == LoopScalar::Kind::dim
                   ? static_cast<double>(*program.dims[static_cast<std::size_t>(s.dim)].value)
                   : static_cast<double>(product(extents, s.indices));
    scalars.push_back(static_cast<float>(v));
  }
  double (*pow_fn)(double, double) = &std::pow;
  void* fns[1];
  std::memcpy(&fns[0], &pow_fn, sizeof fns[0]);

  // The parallel loop (the flattened leading output loops), split into tasks.
  if (spec.output.indices.empty()) {
    kernel(pointers.data(), ints.data(), scalars.data(), fns, 0, 1);
    return;
  }
  const int first = spec.output.indices[0];
  std::int64_t extent = 1;
  for (int q = 0; q < spec.parallel_levels; ++q)
    extent *= extents[static_cast<std::size_t>(spec.output.indices[static_cast<std::size_t>(q)])];
  const std::int64_t step = first == spec.output.vector_index ? lanes : 1;
  const std::int64_t units = (extent + step - 1) / step;
  double work = 1;
  for (std::int64_t e : extents) work *= static_cast<double>(std::max<std::int64_t>(e, 1));
  if (threads <= 1 || units <= 1 || work < 32768) {
    kernel(pointers.data(), ints.data(), scalars.data(), fns, 0, extent);
    return;
  }
  // A reduction over everything is computed once per task: few tasks then.
  bool global_reduction = false;
  for (const LoopNode& n : spec.graph.nodes) global_reduction |= n.op == LoopOp::reduce && n.free.empty();
  const std::int64_t tasks = std::min<std::int64_t>(units, global_reduction ? threads : 4 * threads);
  runtime::parallel_for(tasks, threads, [&](std::int64_t task) {
    std::int64_t begin = units * task / tasks * step;
    std::int64_t end = std::min(extent, units * (task + 1) / tasks * step);
    kernel(pointers.data(), ints.data(), scalars.data(), fns, begin, end);
  });
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
  LoopSpec spec =
      lower_loop(std::move(*built.graph), shape, statement.accumulate, vector_lanes(), Jit::instance().shape().isa);
  llvm::LLVMContext context;
  std::string text;
  llvm::raw_string_ostream out(text);
  generate_loop_module(context, spec, "einc_loop_line" + std::to_string(statement.line))->print(out, nullptr);
  return out.str();
}

}  // namespace einc::cpu
