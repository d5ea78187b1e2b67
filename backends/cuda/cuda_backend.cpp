// backends/cuda/cuda_backend.cpp — see cuda_backend.h.
#include "backends/cuda/cuda_backend.h"

#include <algorithm>
#include <map>

#include "backends/cuda/driver.h"
#include "backends/cuda/expr_codegen.h"
#include "backends/cuda/kernel_plan.h"
#include "backends/cuda/nvrtc_cache.h"
#include "backends/reference/interpreter.h"
#include "ir/tensor_uses.h"

namespace einc::cuda {

namespace {

std::size_t element_count(const ir::Program& program, int tensor) {
  std::int64_t n = 1;
  for (std::int64_t extent : ir::evaluated_shape(program, tensor)) n *= extent;
  return static_cast<std::size_t>(n);
}

}  // namespace

bool cuda_backend_available(std::string* why) { return cuda_available(why); }

// --- per-run state ---------------------------------------------------------

struct CudaBackend::State {
  struct Buffer {
    CUdeviceptr ptr = 0;
    std::size_t bytes = 0;
  };

  const DriverApi& api;
  const Device& device;
  CUstream stream = nullptr;
  CUdeviceptr status = 0;         // one unsigned int: error bits of the kernels
  std::map<int, Buffer> buffers;  // tensor id -> its C-contiguous device copy
  bool planned = false;
  TensorStrides strides;
  std::vector<std::vector<int>> releasable;  // by statement: the intermediates to free after it

  State(const DriverApi& a, const Device& d) : api(a), device(d) {}

  ~State() {
    // Errors are ignored here: a destructor must not throw, and a failed
    // context makes every later call fail anyway.
    for (auto& [id, b] : buffers)
      if (b.ptr) api.mem_free(b.ptr);
    if (status) api.mem_free(status);
    if (stream) api.stream_destroy(stream);
  }

  void plan(const ir::Program& program) {
    strides = contiguous_strides(program);
    releasable = ir::releasable_after(program);
    check(api.stream_create(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    check(api.mem_alloc(&status, sizeof(unsigned int)), "cuMemAlloc(status)");
    check(api.memset_d8_async(status, 0, sizeof(unsigned int), stream), "cuMemsetD8Async(status)");
    planned = true;
  }

  Buffer allocate(std::size_t bytes) {
    Buffer b;
    b.bytes = bytes;
    if (bytes) check(api.mem_alloc(&b.ptr, bytes), "cuMemAlloc");
    return b;
  }

  void release(int tensor) {
    auto it = buffers.find(tensor);
    if (it == buffers.end()) return;
    if (it->second.ptr) {
      // Kernels already queued may still read it: wait for the stream.
      check(api.stream_synchronize(stream), "cuStreamSynchronize");
      check(api.mem_free(it->second.ptr), "cuMemFree");
    }
    buffers.erase(it);
  }

  // The device copy of a tensor, uploading the host tensor (made
  // C-contiguous first) if there is none yet. A temporary of product steps
  // (an id past the host tensors) exists on the device only.
  Buffer& device_copy(int tensor, const std::vector<Tensor>& tensors) {
    auto it = buffers.find(tensor);
    if (it != buffers.end()) return it->second;
    if (static_cast<std::size_t>(tensor) >= tensors.size())
      throw std::runtime_error("cuda: temporary tensor " + std::to_string(tensor) + " read before it is written");
    const Tensor& host = tensors[static_cast<std::size_t>(tensor)];
    if (!host.defined()) throw std::runtime_error("cuda: tensor " + std::to_string(tensor) + " has no data to upload");
    Tensor contiguous = host.is_contiguous() ? host : host.clone();
    Buffer b = allocate(contiguous.nbytes());
    if (b.bytes) check(api.memcpy_htod_async(b.ptr, contiguous.data(), b.bytes, stream), "cuMemcpyHtoDAsync");
    // A pageable source is consumed before the call returns, so `contiguous`
    // may go away now.
    return buffers[tensor] = b;
  }

  float read_scalar(const ir::Program& program, int tensor, const std::vector<Tensor>& tensors) {
    Buffer& b = device_copy(tensor, tensors);
    Tensor value = Tensor::zeros(program.tensors.at(static_cast<std::size_t>(tensor)).dtype, {});
    if (b.bytes) check(api.memcpy_dtoh_async(value.data(), b.ptr, b.bytes, stream), "cuMemcpyDtoHAsync(scale)");
    check(api.stream_synchronize(stream), "cuStreamSynchronize");
    return static_cast<float>(value.get({}));
  }

  void execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) {
    make_current(device);
    if (!planned) plan(program);
    const auto index = static_cast<int>(&statement - program.statements.data());
    for_each_kernel_statement(
        program, statement, strides,
        [&](const ir::Program& p, const ir::Statement& s, const TensorStrides& st) { launch(p, s, st, tensors); });
    // The temporaries of product steps, and intermediates nobody reads any more.
    std::vector<int> temporaries;
    for (const auto& [id, b] : buffers)
      if (id >= static_cast<int>(program.tensors.size())) temporaries.push_back(id);
    for (int t : temporaries) release(t);
    for (int t : releasable.at(static_cast<std::size_t>(index))) release(t);
    // After the last statement: the outputs back into the executor's
    // (C-contiguous) host tensors.
    if (index + 1 == static_cast<int>(program.statements.size())) {
      for (int out : program.outputs) {
        auto it = buffers.find(out);
        Tensor& host = tensors.at(static_cast<std::size_t>(out));
        if (it == buffers.end() || !it->second.bytes) continue;
        if (!host.defined() || !host.is_contiguous() || host.nbytes() != it->second.bytes)
          host = Tensor::zeros(program.tensors[static_cast<std::size_t>(out)].dtype, ir::evaluated_shape(program, out));
        check(api.memcpy_dtoh_async(host.data(), it->second.ptr, it->second.bytes, stream), "cuMemcpyDtoHAsync");
      }
      check(api.stream_synchronize(stream), "cuStreamSynchronize");
    }
  }

  // One kernel: `statement` of `program` (the run's program, or one that
  // adds the temporaries of product steps) on tensors with `tensor_strides`.
  void launch(const ir::Program& program, const ir::Statement& statement, const TensorStrides& tensor_strides,
              std::vector<Tensor>& tensors) {
    const StatementKernel plan = plan_statement_kernel(program, statement, tensor_strides);
    const GeneratedKernel& k = plan.kernel;
    const ir::Tensor& target_info = program.tensors.at(static_cast<std::size_t>(statement.target));
    const std::size_t target_bytes =
        element_count(program, statement.target) * static_cast<std::size_t>(ir::dtype_size(target_info.dtype));

    // The target: `=` gets a fresh (or reused, same-size) buffer the kernel
    // fills completely; `+=` adds into the current value.
    if (statement.accumulate) {
      device_copy(statement.target, tensors);
    } else if (auto it = buffers.find(statement.target); it == buffers.end() || it->second.bytes != target_bytes) {
      release(statement.target);
      buffers[statement.target] = allocate(target_bytes);
    }

    // Arguments, in the kernel's parameter order.
    std::vector<CUdeviceptr> pointers(k.params.size(), 0);
    std::vector<float> floats(k.params.size(), 0.0f);
    std::vector<void*> args(k.params.size(), nullptr);
    Buffer snapshot;
    for (std::size_t p = 0; p < k.params.size(); ++p) {
      const KernelParam& param = k.params[p];
      switch (param.kind) {
        case KernelParam::Kind::tensor:
          if (param.snapshot) {
            const Buffer& target = buffers.at(statement.target);
            snapshot = allocate(target.bytes);
            if (snapshot.bytes)
              check(api.memcpy_dtod_async(snapshot.ptr, target.ptr, snapshot.bytes, stream), "cuMemcpyDtoDAsync");
            pointers[p] = snapshot.ptr;
          } else {
            pointers[p] = device_copy(param.tensor, tensors).ptr;
          }
          args[p] = &pointers[p];
          break;
        case KernelParam::Kind::scale: {
          floats[p] = static_cast<float>(ir::evaluate_gett_scale(
              program, *plan.gett, [&](int t) { return static_cast<double>(read_scalar(program, t, tensors)); }));
          args[p] = &floats[p];
          break;
        }
        case KernelParam::Kind::status:
          pointers[p] = status;
          args[p] = &pointers[p];
          break;
      }
    }

    if (!k.empty) {
      CUfunction f = load_kernel(device, k);
      check(api.launch_kernel(f, k.launch.grid[0], k.launch.grid[1], k.launch.grid[2], k.launch.block[0],
                              k.launch.block[1], k.launch.block[2], 0, stream, args.data(), nullptr),
            ("cuLaunchKernel(" + k.name + ")").c_str());
    }
    if (snapshot.ptr) {
      check(api.stream_synchronize(stream), "cuStreamSynchronize");
      check(api.mem_free(snapshot.ptr), "cuMemFree");
    }
    bool has_status = std::any_of(k.params.begin(), k.params.end(),
                                  [](const KernelParam& p) { return p.kind == KernelParam::Kind::status; });
    if (has_status) {
      unsigned int bits = 0;
      check(api.memcpy_dtoh_async(&bits, status, sizeof bits, stream), "cuMemcpyDtoHAsync(status)");
      check(api.stream_synchronize(stream), "cuStreamSynchronize");
      throw_on_kernel_status(bits, statement.line);
    }
  }
};

CudaBackend::CudaBackend() {
  std::string why;
  const DriverApi* api = driver_api(&why);
  if (!api) throw std::runtime_error(why);
  state_ = std::make_unique<State>(*api, default_device());
}

CudaBackend::~CudaBackend() = default;

void CudaBackend::execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) {
  state_->execute(program, statement, tensors);
}

std::unique_ptr<runtime::StatementBackend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

// --- emit --------------------------------------------------------------------

std::string emit_cuda(const ir::Program& program, bool ptx, const std::string& arch) {
  const TensorStrides strides = contiguous_strides(program);
  std::string out =
      "// einc: CUDA kernels of " + std::to_string(program.statements.size()) + " statement" +
      (program.statements.size() == 1 ? "" : "s") + " (backends/cuda), " +
      (ptx ? "PTX for " + arch + " from NVRTC " + nvrtc_version() : std::string("CUDA C++ source")) +
      "\n// Device tensors are C-contiguous; every extent and stride below is a constant of its kernel.\n";
  std::map<std::string, int> first_line;  // kernel name -> statement line that printed it
  auto print_kernel = [&](const ir::Program& p, const ir::Statement& s, const TensorStrides& st) {
    StatementKernel plan;
    try {
      plan = plan_statement_kernel(p, s, st);
    } catch (const reference::ExecutionError& e) {
      out += "// not compiled: " + std::string(e.what()) + "\n";
      return;
    }
    const GeneratedKernel& k = plan.kernel;
    out += "// kernel: " + k.name + " (" + kernel_kind_name(k.kind) + ")\n// " + k.summary + "\n";
    out += "// launch: grid (" + std::to_string(k.launch.grid[0]) + ", " + std::to_string(k.launch.grid[1]) + ", " +
           std::to_string(k.launch.grid[2]) + "), block (" + std::to_string(k.launch.block[0]) + ", " +
           std::to_string(k.launch.block[1]) + ", " + std::to_string(k.launch.block[2]) + ")" +
           (k.empty ? " -- not launched: the output is empty" : "") + "\n// parameters:";
    for (const KernelParam& param : k.params) {
      out += " " + param.name + "=";
      if (param.kind == KernelParam::Kind::tensor)
        out += p.tensors.at(static_cast<std::size_t>(param.tensor)).name +
               (param.snapshot ? "(copy before the kernel)" : "");
      else
        out += param.kind == KernelParam::Kind::scale ? "(scale, evaluated at launch)" : "(status word)";
    }
    out += "\n";
    if (auto it = first_line.find(k.name); it != first_line.end()) {
      out += "// (the same kernel as line " + std::to_string(it->second) + ")\n";
      return;
    }
    first_line.emplace(k.name, s.line);
    if (ptx)
      out += nvrtc_compile_cached(KernelCache::global(), k.source, k.name + ".cu", arch, ImageKind::ptx);
    else
      out += k.source;
  };
  for (const ir::Statement& s : program.statements) {
    out += "\n// ==== line " + std::to_string(s.line) + ": " + s.text + "\n";
    // A statement split into the pairwise steps of a product prints each
    // step's statement before its kernel.
    for_each_kernel_statement(program, s, strides,
                              [&](const ir::Program& p, const ir::Statement& step, const TensorStrides& st) {
                                if (&step != &s)
                                  out += "// ---- step: " + p.tensors.at(static_cast<std::size_t>(step.target)).name +
                                         " = " + ir::print_expr(p, step, *step.value) + "\n";
                                print_kernel(p, step, st);
                              });
  }
  return out;
}

}  // namespace einc::cuda
