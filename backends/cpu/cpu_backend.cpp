// backends/cpu/cpu_backend.cpp — see cpu_backend.h.
#include "backends/cpu/cpu_backend.h"

#include <algorithm>
#include <cstdlib>

#include "backends/cpu/gett.h"
#include "backends/cpu/jit.h"
#include "backends/reference/interpreter.h"
#include "ir/cost_model.h"
#include "ir/gett_lowering.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

std::int64_t stride_of(const Tensor& t, const std::vector<int>& subscripts, int index) {
  std::int64_t s = 0;
  for (std::size_t d = 0; d < subscripts.size(); ++d)
    if (subscripts[d] == index) s += t.strides()[d];
  return s;
}

// The GETT call for a matched statement, with each group ordered by the
// actual strides (largest first) so that the innermost positions are the
// contiguous ones where there are any.
GettCall build_call(const ir::Program& program, const ir::Statement& statement, const ir::GettStatement& g,
                    std::vector<Tensor>& tensors) {
  const Tensor& a = tensors[g.a.tensor];
  const Tensor& b = tensors[g.b.tensor];
  Tensor& c = tensors[statement.target];
  GettCall call;
  call.a = a.data_as<const float>();
  call.b = b.data_as<const float>();
  call.c = c.data_as<float>();
  auto dim = [&](int index) {
    GettDim d;
    d.extent = program.evaluate(statement.indices[index].extent);
    d.stride_a = stride_of(a, g.a.subscripts, index);
    d.stride_b = stride_of(b, g.b.subscripts, index);
    d.stride_c = stride_of(c, statement.lhs, index);
    return d;
  };
  auto group = [&](std::vector<int> ids, auto key) {
    std::stable_sort(ids.begin(), ids.end(), [&](int l, int r) { return key(dim(l)) > key(dim(r)); });
    std::vector<GettDim> dims;
    for (int id : ids) dims.push_back(dim(id));
    return std::make_pair(ids, dims);
  };
  auto by_c = [](const GettDim& d) { return std::llabs(d.stride_c); };
  auto by_b = [](const GettDim& d) { return std::llabs(d.stride_b); };
  auto [batch_ids, batch] = group(g.batch, by_c);
  auto [m_ids, m] = group(g.m, by_c);
  auto [n_ids, n] = group(g.n, by_c);
  auto [k_ids, k] = group(g.k, by_b);
  call.batch = batch;
  call.m = m;
  call.n = n;
  call.k = k;
  double scale = 1.0;
  for (std::size_t i = 0; i < g.scale_factors.size(); ++i) {
    double v = ir::evaluate_scalar(program, *g.scale_factors[i], [&](int t) { return tensors[t].get({}); });
    scale = g.scale_divides[i] ? scale / v : scale * v;
  }
  call.scale = static_cast<float>(scale);
  auto term = [&](const ir::GettTerm& t) {
    const Tensor& data = tensors[t.access.tensor];
    EpilogueTerm e;
    e.data = data.data_as<const float>();
    e.negate = t.negate;
    for (int id : batch_ids) e.batch_strides.push_back(stride_of(data, t.access.subscripts, id));
    for (int id : m_ids) e.m_strides.push_back(stride_of(data, t.access.subscripts, id));
    for (int id : n_ids) e.n_strides.push_back(stride_of(data, t.access.subscripts, id));
    return e;
  };
  for (const ir::GettTerm& t : g.bias) call.bias.push_back(term(t));
  for (const ir::GettTerm& t : g.residual) call.residual.push_back(term(t));
  call.activation = g.activation;
  return call;
}

bool all_f32(const std::vector<Tensor>& tensors, const ir::GettStatement& g, const ir::Statement& s) {
  auto f32 = [&](int t) { return tensors[t].dtype() == DType::f32 && tensors[t].defined(); };
  bool ok = f32(g.a.tensor) && f32(g.b.tensor) && f32(s.target);
  for (const auto& t : g.bias) ok = ok && f32(t.access.tensor);
  for (const auto& t : g.residual) ok = ok && f32(t.access.tensor);
  return ok;
}

std::string names(const ir::Statement& s, const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) out += (out.empty() ? "" : ",") + s.indices[id].name;
  return out.empty() ? "-" : out;
}

}  // namespace

CpuBackend::CpuBackend(int threads) : threads_(threads > 0 ? threads : runtime::hardware_threads()) {}

void CpuBackend::execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) {
  Tensor& target = tensors.at(statement.target);
  if (auto g = ir::match_gett(program, statement, target.strides()); g && all_f32(tensors, *g, statement)) {
    run_gett(Jit::instance().gett_f32(), build_call(program, statement, *g, tensors), threads_);
    return;
  }
  reference::execute_statement(program, statement, tensors);
}

std::vector<std::string> describe_plan(const ir::Program& program) {
  std::vector<std::string> lines;
  ir::ProgramCost cost = ir::analyze_cost(program);
  for (std::size_t i = 0; i < program.statements.size(); ++i) {
    const ir::Statement& s = program.statements[i];
    const ir::Tensor& t = program.tensors[s.target];
    std::vector<std::int64_t> c_strides(t.shape.size(), 1);
    for (std::size_t d = t.shape.size(); d-- > 1;) c_strides[d - 1] = c_strides[d] * 1024;  // C order
    std::string line = "line " + std::to_string(s.line) + ": " + t.name + " = ";
    auto g = ir::match_gett(program, s, c_strides);
    if (g) {
      line += "JIT GETT (batch " + names(s, g->batch) + "; M " + names(s, g->m) + "; N " + names(s, g->n) + "; K " +
              names(s, g->k) + ")";
      std::string epilogue;
      if (!g->scale_factors.empty()) epilogue += " scale";
      if (!g->bias.empty()) epilogue += " bias";
      if (g->activation) epilogue += std::string(" ") + ir::func_name(*g->activation);
      if (!g->residual.empty()) epilogue += " residual";
      if (!epilogue.empty()) line += ", epilogue:" + epilogue;
    } else {
      line += std::string("interpreted (") + ir::statement_kind_name(cost.statements[i].kind) +
              (s.dtype != DType::f32 ? ", " + std::string(ir::dtype_name(s.dtype)) : "") + ")";
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace einc::cpu
