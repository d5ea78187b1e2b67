// backends/cuda/elementwise_source.cpp — see elementwise_source.h.
#include "backends/cuda/elementwise_source.h"

#include <algorithm>

#include "backends/cuda/expr_codegen.h"

namespace einc::cuda {

namespace {

constexpr unsigned kThreads = 256;
constexpr std::int64_t kMaxBlocks = 1 << 20;  // the grid-stride loop covers the rest

std::string dtype_tag(ir::DType d) { return ir::dtype_name(d); }

}  // namespace

GeneratedKernel generate_elementwise_kernel(const ir::Program& program, const ir::Statement& statement,
                                            const TensorStrides& strides) {
  ExprEmitter emitter(program, statement, strides);
  const std::int64_t total = emitter.count(statement.lhs);
  bool nested = false;
  const auto binders = find_binders(*statement.value, &nested);

  CodeWriter body;
  body.open("for (long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x; p < " + ll(total) +
            "; p += (long long)gridDim.x * blockDim.x)");
  emitter.decode(statement.lhs, "p", body);
  std::string v = emitter.value(*statement.value, body);
  emitter.store(v, body);
  body.close();

  GeneratedKernel k;
  k.kind = KernelKind::elementwise;
  std::string lhs;
  for (int i : statement.lhs) lhs += (lhs.empty() ? "" : ", ") + emitter.index_name(i);
  k.summary = "elementwise over [" + lhs + "] (" + std::to_string(total) + " elements, one thread each" +
              (binders.empty() ? "" : "; reductions as serial loops per thread") + ")";
  std::string src = "// einc elementwise kernel (backends/cuda/elementwise_source.cpp)\n// " + k.summary + "\n";
  src += device_prelude(emitter.uses_fp16());
  src += "extern \"C\" __global__ void __launch_bounds__(" + std::to_string(kThreads) + ") " + kKernelNamePlaceholder +
         "(" + emitter.parameter_list() + ") {\n";
  src += body.text();
  src += "}\n";
  k.name = finish_kernel_source(src, "einc_elementwise_" + dtype_tag(statement.dtype));
  k.source = std::move(src);
  k.params = emitter.params();
  k.empty = total == 0;
  std::int64_t blocks = std::clamp<std::int64_t>((total + kThreads - 1) / kThreads, 1, kMaxBlocks);
  k.launch.grid = {static_cast<unsigned>(blocks), 1, 1};
  k.launch.block = {kThreads, 1, 1};
  return k;
}

}  // namespace einc::cuda
