// backends/cuda/row_source.cpp — see row_source.h.
#include "backends/cuda/row_source.h"

#include <algorithm>
#include <set>

#include "backends/cuda/expr_codegen.h"

namespace einc::cuda {

namespace {

constexpr std::int64_t kMaxBlocks = 1 << 20;  // the grid-stride loop covers the rest

std::string smem_name(const std::string& type) {
  return type == "float" ? "einc_smem_f" : type == "double" ? "einc_smem_d" : "einc_smem_l";
}

}  // namespace

std::optional<std::vector<int>> row_indices(const ir::Statement& statement) {
  bool nested = false;
  auto binders = find_binders(*statement.value, &nested);
  if (binders.empty() || nested) return std::nullopt;
  for (const ir::Expr* b : binders)
    if (b->over != binders.front()->over) return std::nullopt;
  return binders.front()->over;
}

GeneratedKernel generate_row_kernel(const ir::Program& program, const ir::Statement& statement,
                                    const TensorStrides& strides) {
  ExprEmitter emitter(program, statement, strides);
  const std::vector<int> r = row_indices(statement).value();
  std::vector<int> outer, inner;
  for (int i : statement.lhs) (std::find(r.begin(), r.end(), i) == r.end() ? outer : inner).push_back(i);
  const std::int64_t outer_count = emitter.count(outer), inner_count = emitter.count(inner),
                     row_count = emitter.count(r);
  const auto binders = find_binders(*statement.value, nullptr);

  std::set<std::string> smem_types;
  CodeWriter body;
  body.open("for (long long o = blockIdx.x; o < " + ll(outer_count) + "; o += gridDim.x)");
  emitter.decode(outer, "o", body);
  for (std::size_t b = 0; b < binders.size(); ++b) {
    const ir::Expr& binder = *binders[b];
    std::vector<std::string> stats;
    // (in the binder's compute type: a conversion's argument's, inside one)
    emitter.with_dtype(emitter.binder_dtype(binder), [&] {
      for (const StatPass& pass : emitter.passes(binder)) {
        std::string result = body.fresh("st");
        smem_types.insert(pass.type);
        body.line(pass.type + " " + result + ";");
        body.open("");
        body.line("// statistics of binder " + std::to_string(b) + ", pass " + std::to_string(stats.size() + 1));
        body.line(pass.type + " acc = " + pass.identity + ";");
        body.open("for (long long q = threadIdx.x; q < " + ll(row_count) + "; q += blockDim.x)");
        emitter.decode(r, "q", body);
        std::string x = emitter.value(*binder.args[0], body);
        body.line("acc = " + pass.combine + "()(acc, " + pass.element(x, stats) + ");");
        body.close();
        body.line(result + " = einc_block_reduce(acc, " + pass.combine + "(), " + smem_name(pass.type) + ");");
        body.close();
        stats.push_back(result);
      }
    });
    emitter.set_stats(&binder, stats);
  }
  body.open("for (long long q = threadIdx.x; q < " + ll(inner_count) + "; q += blockDim.x)");
  emitter.decode(inner, "q", body);
  std::string v = emitter.value(*statement.value, body);
  emitter.store(v, body);
  body.close();
  body.close();

  auto names = [&](const std::vector<int>& ids) {
    std::string out;
    for (int i : ids) out += (out.empty() ? "" : ", ") + emitter.index_name(i);
    return "[" + out + "]";
  };
  GeneratedKernel k;
  k.kind = KernelKind::row;
  k.summary = "row kernel: one block per " + names(outer) + " (" + std::to_string(outer_count) +
              " rows), reducing over " + names(r) + " (" + std::to_string(row_count) + " each), " +
              std::to_string(binders.size()) + " reduction" + (binders.size() == 1 ? "" : "s");
  const unsigned threads =
      static_cast<unsigned>(std::clamp<std::int64_t>((std::max(row_count, inner_count) + 31) / 32 * 32, 32, 256));
  std::string src = "// einc row kernel (backends/cuda/row_source.cpp)\n// " + k.summary + "\n";
  src += device_prelude(emitter.uses_fp16());
  src += "extern \"C\" __global__ void __launch_bounds__(256) " + std::string(kKernelNamePlaceholder) + "(" +
         emitter.parameter_list() + ") {\n";
  for (const std::string& type : smem_types) src += "  __shared__ " + type + " " + smem_name(type) + "[32];\n";
  src += body.text();
  src += "}\n";
  k.name = finish_kernel_source(src, std::string("einc_row_") + ir::dtype_name(statement.dtype));
  k.source = std::move(src);
  k.params = emitter.params();
  k.empty = outer_count * inner_count == 0;
  k.launch.grid = {static_cast<unsigned>(std::clamp<std::int64_t>(outer_count, 1, kMaxBlocks)), 1, 1};
  k.launch.block = {threads, 1, 1};
  return k;
}

}  // namespace einc::cuda
