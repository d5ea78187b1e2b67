// api/run.cpp — the execution half of the API: checking and binding
// inputs, choosing a backend, running, random inputs.
#include <algorithm>
#include <new>
#include <stdexcept>

#include "api/program_impl.h"
#include "backends/reference/interpreter.h"
#include "backends/reference/reference_backend.h"
#include "frontend/ast_printer.h"
#include "ir/enum_names.h"
#ifdef EINC_HAVE_CUDA_BACKEND
#include "backends/cuda/cuda_backend.h"
#endif
#ifdef EINC_HAVE_CPU_BACKEND
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/emit_cpu.h"
#endif
#include "runtime/cancel.h"
#include "runtime/executor.h"

namespace einc {

namespace {

constexpr const char* kBackendNames[] = {"cpu", "reference", "cuda"};
constexpr const char* kEmitStageNames[] = {"ast", "ir", "plan", "llvm-ir", "asm", "cuda", "ptx"};

[[maybe_unused]] std::string backend_list(const std::vector<Backend>& backends) {  // (a build without a backend)
  std::string out;
  for (Backend b : backends) out += (out.empty() ? "" : ", ") + std::string(backend_name(b));
  return out;
}

#ifdef EINC_HAVE_CPU_BACKEND
// The cpu backend's plans of `impl`'s statements, kept with the program.
std::shared_ptr<cpu::PlanCache> cpu_plans(const detail::ProgramImpl& impl) {
  std::lock_guard<std::mutex> lock(impl.run_cache.mutex);
  if (!impl.run_cache.cpu_plans) impl.run_cache.cpu_plans = std::make_shared<cpu::PlanCache>(impl.program);
  return impl.run_cache.cpu_plans;
}
#endif

// The backend of one run of `impl` (which must outlive it).
std::unique_ptr<runtime::StatementBackend> make_backend(Backend backend, int threads,
                                                        [[maybe_unused]] const detail::ProgramImpl& impl) {
  switch (backend) {
    case Backend::reference:
      return std::make_unique<reference::ReferenceBackend>();
    case Backend::cpu:
#ifdef EINC_HAVE_CPU_BACKEND
      return std::make_unique<cpu::CpuBackend>(threads, cpu_plans(impl));
#else
      (void)threads;
      throw RunError("the cpu backend is not available in this build (configured without LLVM); it has: " +
                     backend_list(available_backends()));
#endif
    case Backend::cuda: {
#ifdef EINC_HAVE_CUDA_BACKEND
      std::string why;
      if (!cuda::cuda_backend_available(&why)) throw RunError(why);
      return cuda::make_cuda_backend();
#else
      throw RunError("the cuda backend is not available in this build (configured without the CUDA toolkit); it has: " +
                     backend_list(available_backends()));
#endif
    }
  }
  throw RunError("unknown backend (enum value " + std::to_string(static_cast<int>(backend)) + ")");
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t d = 0; d < shape.size(); ++d) out += (d ? ", " : "") + std::to_string(shape[d]);
  return out + "]";
}

bool is_runtime_input(const ir::Tensor& t) {
  return t.role == ir::TensorRole::input || t.role == ir::TensorRole::param;
}

std::string role_name(const ir::Tensor& t) { return t.role == ir::TensorRole::param ? "param" : "input"; }

// Names, dtypes and ranks of the given tensors against the declarations.
void check_given(const ir::Program& p, const TensorMap& inputs) {
  for (const auto& [name, tensor] : inputs) {
    int id = p.find_tensor(name);
    if (id < 0 || !is_runtime_input(p.tensors[id])) {
      std::string known;
      for (const ir::Tensor& t : p.tensors)
        if (is_runtime_input(t)) known += (known.empty() ? "" : ", ") + t.name;
      throw RunError("'" + name +
                     "' is not an input or param of the script (it has: " + (known.empty() ? "none" : known) + ")");
    }
    const ir::Tensor& t = p.tensors[id];
    if (tensor.dtype() != t.dtype)
      throw RunError(role_name(t) + " '" + name + "' is " + dtype_name(tensor.dtype()) + " but the script declares " +
                     dtype_name(t.dtype));
    if (tensor.rank() != t.shape.size())
      throw RunError(role_name(t) + " '" + name + "' has rank " + std::to_string(tensor.rank()) + " " +
                     shape_text(tensor.shape()) + " but the script declares rank " + std::to_string(t.shape.size()));
    if (!tensor.defined()) throw RunError(role_name(t) + " '" + name + "' has no data");
  }
}

}  // namespace

const char* backend_name(Backend backend) { return ir::enum_name(kBackendNames, backend); }

std::optional<Backend> backend_from_name(std::string_view name) {
  return ir::enum_from_name<Backend>(kBackendNames, name);
}

Backend default_backend() {
#ifdef EINC_HAVE_CPU_BACKEND
  return Backend::cpu;
#else
  return Backend::reference;
#endif
}

std::vector<Backend> available_backends() {
  std::vector<Backend> out;
#ifdef EINC_HAVE_CPU_BACKEND
  out.push_back(Backend::cpu);
#endif
#ifdef EINC_HAVE_CUDA_BACKEND
  if (cuda::cuda_backend_available(nullptr)) out.push_back(Backend::cuda);
#endif
  out.push_back(Backend::reference);
  return out;
}

const char* emit_stage_name(EmitStage stage) { return ir::enum_name(kEmitStageNames, stage); }

std::optional<EmitStage> emit_stage_from_name(std::string_view name) {
  return ir::enum_from_name<EmitStage>(kEmitStageNames, name);
}

namespace detail {

std::vector<Program::TensorInfo> describe_inputs(const ir::Program& p) {
  std::vector<Program::TensorInfo> out;
  for (const ir::Tensor& t : p.tensors) {
    if (!is_runtime_input(t)) continue;
    Program::TensorInfo info;
    info.name = t.name;
    info.role = role_name(t);
    info.dtype = t.dtype;
    info.shape_known = true;
    for (const ir::Poly& e : t.shape) {
      info.shape_formula.push_back(p.formula(e));
      std::optional<std::int64_t> extent = p.try_evaluate(e);
      info.shape_known = info.shape_known && extent.has_value();
      info.shape.push_back(extent.value_or(0));
    }
    if (!info.shape_known) info.shape.clear();
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace detail

const std::vector<Program::TensorInfo>& Program::inputs() const { return impl_->inputs; }

Program Program::bind_inputs(const TensorMap& inputs) const {
  const ir::Program& p = impl_->program;
  check_given(p, inputs);
  DimBindings bindings;
  std::map<int, std::string> bound_by;
  for (const auto& [name, tensor] : inputs) {
    const ir::Tensor& t = p.tensors[p.find_tensor(name)];
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      auto dim = t.shape[d].as_single_dim();
      if (!dim || p.dims[*dim].value) continue;
      std::int64_t extent = tensor.shape()[d];
      auto [it, fresh] = bound_by.emplace(*dim, name);
      if (fresh) {
        bindings.emplace_back(p.dims[*dim].name, extent);
        continue;
      }
      std::int64_t earlier = 0;
      for (const auto& b : bindings)
        if (b.first == p.dims[*dim].name) earlier = b.second;
      if (earlier != extent)
        throw RunError("dim '" + p.dims[*dim].name + "' is " + std::to_string(earlier) + " from '" + it->second +
                       "' but " + std::to_string(extent) + " from '" + name + "'");
    }
  }
  if (bindings.empty()) return *this;
  // The bound program of these dims, made (a re-lowering) only the first time.
  if (std::optional<Program> kept = impl_->run_cache.bound.find(bindings)) return *kept;
  Program bound = bind(bindings);
  impl_->run_cache.bound.keep(bindings, bound);
  return bound;
}

namespace {

// The lowest and one past the highest byte a tensor's elements occupy.
std::pair<const char*, const char*> byte_span(const Tensor& t) {
  const char* base = static_cast<const char*>(t.data());
  std::int64_t low = 0, high = 0;
  for (std::size_t d = 0; d < t.rank(); ++d) {
    if (t.shape()[d] == 0) return {base, base};
    std::int64_t reach = (t.shape()[d] - 1) * t.strides()[d];
    (reach < 0 ? low : high) += reach;
  }
  auto size = static_cast<std::int64_t>(dtype_size(t.dtype()));
  return {base + low * size, base + (high + 1) * size};
}

bool overlap(const Tensor& a, const Tensor& b) {
  auto [a0, a1] = byte_span(a);
  auto [b0, b1] = byte_span(b);
  return a0 < a1 && b0 < b1 && a0 < b1 && b0 < a1;
}

// The caller's output buffers: each names an output of the script and has
// its dtype and shape, no two of its elements share memory (no zero
// stride), and it shares no memory with an input or another output.
void check_output_buffers(const ir::Program& p, const TensorMap& inputs, const TensorMap& outputs) {
  for (const auto& [name, t] : outputs) {
    int id = p.find_tensor(name);
    bool is_output = id >= 0 && std::find(p.outputs.begin(), p.outputs.end(), id) != p.outputs.end();
    if (!is_output)
      throw RunError("'" + name + "' is not an output of the script, so there is nothing to write into it");
    const ir::Tensor& info = p.tensors[static_cast<std::size_t>(id)];
    if (!t.defined()) throw RunError("output buffer '" + name + "' has no data");
    if (t.dtype() != info.dtype)
      throw RunError("output buffer '" + name + "' is " + dtype_name(t.dtype()) + " but the script makes " +
                     dtype_name(info.dtype));
    const std::vector<std::int64_t> declared = ir::evaluated_shape(p, id);
    if (t.shape() != declared)
      throw RunError("output buffer '" + name + "' has shape " + shape_text(t.shape()) + " but the script makes " +
                     shape_text(declared));
    for (std::size_t d = 0; d < t.rank(); ++d)
      if (t.strides()[d] == 0 && t.shape()[d] > 1)
        throw RunError("output buffer '" + name + "' has stride 0 in dimension " + std::to_string(d) +
                       ": its elements would overwrite each other");
    for (const auto& [other, u] : inputs)
      if (overlap(t, u)) throw RunError("output buffer '" + name + "' shares memory with input '" + other + "'");
    for (const auto& [other, u] : outputs)
      if (other < name && overlap(t, u))
        throw RunError("output buffers '" + other + "' and '" + name + "' share memory");
  }
}

}  // namespace

TensorMap Program::run(const TensorMap& inputs, const RunOptions& options) const {
  TensorMap outputs;
  run_into(inputs, outputs, options);
  return outputs;
}

void Program::run_into(const TensorMap& inputs, TensorMap& outputs, const RunOptions& options) const {
  if (options.threads < 0 || options.threads > kMaxThreads)
    throw RunError("threads must be between 0 (one per core) and " + std::to_string(kMaxThreads) + ", not " +
                   std::to_string(options.threads));
  Program bound = bind_inputs(inputs);
  std::unique_ptr<runtime::StatementBackend> backend = make_backend(options.backend, options.threads, *bound.impl_);
  const ir::Program& p = bound.impl_->program;
  detail::require_bound_dims(*bound.impl_, "give an input whose shape sets it");
  std::vector<Tensor> tensors(p.tensors.size());
  for (std::size_t id = 0; id < p.tensors.size(); ++id) {
    const ir::Tensor& t = p.tensors[id];
    if (!is_runtime_input(t)) continue;
    auto given = inputs.find(t.name);
    if (given == inputs.end())
      throw RunError(role_name(t) + " '" + t.name + "' is missing (give it, or fill it with random data)");
    const std::vector<std::int64_t> declared = ir::evaluated_shape(p, static_cast<int>(id));
    if (given->second.shape() != declared)
      throw RunError(role_name(t) + " '" + t.name + "' has shape " + shape_text(given->second.shape()) +
                     " but the script declares " + shape_text(declared));
    tensors[id] = given->second;
  }
  check_output_buffers(p, inputs, outputs);
  for (const auto& [name, buffer] : outputs) tensors[static_cast<std::size_t>(p.find_tensor(name))] = buffer;
  try {
    tensors = runtime::execute_program(p, std::move(tensors), *backend, options.cancel);
  } catch (const runtime::Cancelled&) {
    throw RunCancelled();
  } catch (const reference::ExecutionError& e) {
    throw RunError(e.what());
  } catch (const std::bad_alloc&) {
    throw RunError("out of memory while running (an intermediate tensor is too large for this machine)");
  } catch (const std::length_error& e) {
    throw RunError(std::string("a tensor is too large: ") + e.what());
  } catch (const RunError&) {
    throw;
  } catch (const InternalError&) {
    throw;
  } catch (const std::logic_error& e) {  // a broken precondition inside einc: a bug, not bad input
    throw InternalError(__FILE__, __LINE__,
                        std::string("the ") + backend_name(options.backend) + " backend: " + e.what());
  } catch (const std::exception& e) {  // the environment: a driver, the JIT's target, the file system
    throw RunError(std::string("the ") + backend_name(options.backend) + " backend failed: " + e.what());
  }
  for (int id : p.outputs) {
    const std::string& name = p.tensors[static_cast<std::size_t>(id)].name;
    auto buffer = outputs.find(name);
    if (buffer == outputs.end())
      outputs.emplace(name, tensors[static_cast<std::size_t>(id)]);
    else if (buffer->second.data() != tensors[static_cast<std::size_t>(id)].data())
      buffer->second.copy_from(tensors[static_cast<std::size_t>(id)]);  // a backend that made its own copy
  }
}

std::string Program::emit(EmitStage stage, const std::string& arch) const {
  const char* name = emit_stage_name(stage);
  switch (stage) {
    case EmitStage::ast:
      return ast::print_ast(*impl_->module, *impl_->source);
    case EmitStage::ir:
      return ir::print_program(impl_->program);
    case EmitStage::plan:
    case EmitStage::llvm_ir:
    case EmitStage::assembly:
#ifdef EINC_HAVE_CPU_BACKEND
      return cpu::emit_cpu(impl_->program, stage == EmitStage::plan      ? cpu::CpuEmitTarget::plan
                                           : stage == EmitStage::llvm_ir ? cpu::CpuEmitTarget::llvm_ir
                                                                         : cpu::CpuEmitTarget::assembly);
#else
      throw RunError(std::string("the cpu backend (LLVM) is not in this build, so there is no ") + name + " to emit");
#endif
    case EmitStage::cuda:
    case EmitStage::ptx:
#ifdef EINC_HAVE_CUDA_BACKEND
      try {
        return cuda::emit_cuda(impl_->program, stage == EmitStage::ptx, arch.empty() ? "sm_90a" : arch);
      } catch (const ir::UnboundDimError& e) {
        // The kernels are generated for the bound shapes.
        detail::require_bound_dims(*impl_);
        throw RunError(std::string("emitting ") + name + ": dim '" + impl_->program.dims.at(e.dim).name +
                       "' has no value");
      } catch (const std::invalid_argument& e) {  // a malformed --arch
        throw RunError(std::string("emitting ") + name + ": " + e.what());
      } catch (const std::runtime_error& e) {  // NVRTC's log, ...
        throw RunError(std::string("emitting ") + name + ": " + e.what());
      }
#else
      (void)arch;
      throw RunError(std::string("the cuda backend is not in this build (configured without the CUDA toolkit), so "
                                 "there is no ") +
                     name + " to emit");
#endif
  }
  throw RunError("unknown emit stage (enum value " + std::to_string(static_cast<int>(stage)) + ")");
}

TensorMap random_inputs(const Program& program, std::uint64_t seed, const TensorMap& given) {
  TensorMap out;
  const detail::ProgramImpl& impl = detail::ProgramAccess::impl(program);
  const ir::Program& ir = impl.program;
  // Every dim the random data needs is bound, or each one that is not is
  // reported at its declaration.
  std::vector<detail::DimNeed> needs;
  for (const ir::Tensor& t : ir.tensors) {
    if (!is_runtime_input(t) || given.count(t.name)) continue;
    for (const ir::Poly& extent : t.shape)
      for (int d : extent.dims_used()) needs.push_back({d, "give '" + t.name + "' (its random data needs it)"});
  }
  detail::require_bound_dims(impl, needs);
  std::uint64_t k = 0;
  for (const Program::TensorInfo& info : program.inputs()) {
    std::uint64_t index = k++;
    if (given.count(info.name)) continue;
    if (!info.shape_known) {
      std::string formula;
      for (const auto& f : info.shape_formula) formula += (formula.empty() ? "" : ", ") + f;
      throw RunError("cannot make random data for '" + info.name + "' [" + formula +
                     "]: a dim in its shape has no value (bind it with --dim, or give the tensor)");
    }
    try {
      out.emplace(info.name, runtime::random_input(ir, ir.find_tensor(info.name), seed * 1000003u + index));
    } catch (const std::bad_alloc&) {
      throw RunError("out of memory for random data for '" + info.name + "' " + shape_text(info.shape));
    } catch (const std::length_error&) {
      throw RunError("'" + info.name + "' " + shape_text(info.shape) + " is too large");
    }
  }
  return out;
}

}  // namespace einc
