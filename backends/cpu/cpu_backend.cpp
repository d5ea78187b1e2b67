// backends/cpu/cpu_backend.cpp — see cpu_backend.h.
#include "backends/cpu/cpu_backend.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "backends/cpu/gemv.h"
#include "backends/cpu/gett.h"
#include "backends/cpu/jit.h"
#include "backends/cpu/loop_kernel.h"
#include "backends/cpu/product_steps.h"
#include "backends/cpu/widened.h"
#include "backends/reference/interpreter.h"
#include "ir/cost_model.h"
#include "ir/gett_lowering.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

// The GETT call for a matched statement, on the tensors of this run.
GettCall build_call(const ir::Program& program, const ir::Statement& statement, const ir::GettStatement& g,
                    std::vector<Tensor>& tensors) {
  ir::GettSpec spec = ir::make_gett_spec(program, statement, g, [&](int t) -> const std::vector<std::int64_t>& {
    return tensors[static_cast<std::size_t>(t)].strides();
  });
  GettCall call;
  const Tensor& a = tensors[spec.a.tensor];
  if (a.dtype() == DType::f32) {
    call.a = a.data_as<const float>();
  } else {  // weights read in place by a GEMV (half_gemv)
    call.a_half = a.data_as<const std::uint16_t>();
    call.a_dtype = a.dtype();
  }
  call.b = tensors[spec.b.tensor].data_as<const float>();
  call.c = tensors[statement.target].data_as<float>();
  call.batch = spec.batch;
  call.m = spec.m;
  call.n = spec.n;
  call.k = spec.k;
  double scale = 1.0;
  for (std::size_t i = 0; i < g.scale_factors.size(); ++i) {
    double v = ir::evaluate_scalar(program, *g.scale_factors[i], [&](int t) { return tensors[t].get({}); });
    scale = g.scale_divides[i] ? scale / v : scale * v;
  }
  call.scale = static_cast<float>(scale);
  auto term = [&](const ir::GettTermSpec& t) {
    return EpilogueTerm{tensors[t.tensor].data_as<const float>(), t.batch_strides, t.m_strides, t.n_strides, t.negate};
  };
  for (const ir::GettTermSpec& t : spec.bias) call.bias.push_back(term(t));
  for (const ir::GettTermSpec& t : spec.residual) call.residual.push_back(term(t));
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

// A half-precision statement that is a GEMV: the tensor its GEMV reads in
// place (the GETT's A: the weights) and the GETT it runs as an f32 statement.
struct HalfGemv {
  int weights = -1;
  ir::GettStatement gett;
};

// The HalfGemv of `s`, or nothing when every operand is to be widened.
// `strides`: every tensor contiguous, as the f32 statement sees the f32
// copies; the weights' own strides are taken from `tensors` when given
// (a run; describe_plan assumes contiguous ones). Only an A read nowhere
// else in the statement, of a dtype the JIT's GEMV kernels widen in
// registers.
std::optional<HalfGemv> half_gemv(const ir::Program& program, const ir::Statement& s,
                                  std::vector<std::vector<std::int64_t>> strides, const std::vector<Tensor>* tensors) {
  if (!runs_widened(s.dtype)) return std::nullopt;
  const ir::Program wide = widened_program(program, s);
  ir::Statement wide_statement = s;
  wide_statement.dtype = DType::f32;
  std::optional<ir::GettStatement> g = ir::match_gett(wide, wide_statement, strides[s.target]);
  if (!g) return std::nullopt;
  const int w = g->a.tensor;
  if (w == s.target || w == g->b.tensor || !Jit::instance().reads_half_weights(program.tensors[w].dtype))
    return std::nullopt;
  for (const auto* terms : {&g->bias, &g->residual})
    for (const ir::GettTerm& t : *terms)
      if (t.access.tensor == w) return std::nullopt;
  if (tensors) strides[w] = (*tensors)[w].strides();
  ir::GettSpec spec = ir::make_gett_spec(wide, wide_statement, *g, [&](int t) -> const std::vector<std::int64_t>& {
    return strides[static_cast<std::size_t>(t)];
  });
  if (gemv_kind(spec.batch, spec.m, spec.n, spec.k) == GemvKind::none) return std::nullopt;
  return HalfGemv{w, std::move(*g)};
}

// An f16/bf16 statement that is a GEMV, run with its weights read in place
// and the rest widened (run_widened); false when it is not one.
bool run_half_gemv(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors,
                   int threads) {
  if (!tensors[statement.target].defined()) return false;
  for (int t : ir::tensors_read(*statement.value))
    if (!tensors[t].defined()) return false;  // for the ordinary path to report
  std::vector<std::vector<std::int64_t>> strides;
  for (const Tensor& t : tensors) strides.push_back(ir::contiguous_strides(t.shape()));
  const std::optional<HalfGemv> plan = half_gemv(program, statement, std::move(strides), &tensors);
  if (!plan) return false;
  run_widened(
      program, statement, tensors,
      [&](const ir::Program& p, const ir::Statement& s, std::vector<Tensor>& wide) {
        run_gett(Jit::instance(), build_call(p, s, plan->gett, wide), threads);
      },
      threads, plan->weights);
  return true;
}

std::string names(const ir::Statement& s, const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) out += (out.empty() ? "" : ",") + s.indices[id].name;
  return out.empty() ? "-" : out;
}

}  // namespace

CpuBackend::CpuBackend(int threads) : threads_(threads > 0 ? threads : runtime::hardware_threads()) {}

void CpuBackend::execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) {
  auto run_step = [this](const ir::Program& p, const ir::Statement& s, std::vector<Tensor>& t) { execute(p, s, t); };
  if (runs_widened(statement.dtype)) {
    if (!run_half_gemv(program, statement, tensors, threads_)) run_widened(program, statement, tensors, run_step, threads_);
    return;
  }
  Tensor& target = tensors.at(statement.target);
  if (auto g = ir::match_gett(program, statement, target.strides()); g && all_f32(tensors, *g, statement)) {
    run_gett(Jit::instance(), build_call(program, statement, *g, tensors), threads_);
    return;
  }
  if (run_loop_statement(program, statement, tensors, threads_)) return;
  if (run_product_steps(program, statement, tensors, run_step)) return;
  reference::execute_statement(program, statement, tensors);
}

namespace {

// The weights a half-precision GEMV reads in place, for a program not
// running: every tensor contiguous, the dims as bound (-1 where one is not,
// or where the statement is no such GEMV).
int described_gemv_weights(const ir::Program& program, const ir::Statement& s) {
  try {
    std::optional<HalfGemv> plan = half_gemv(program, s, ir::contiguous_strides(program), nullptr);
    return plan ? plan->weights : -1;
  } catch (const std::exception&) {  // an unbound dim: not known until a run
    return -1;
  }
}

// How the cpu backend runs one statement (f32, or f16/bf16 as widened).
std::string describe_statement(const ir::Program& program, const ir::Statement& s, ir::StatementKind kind) {
  const ir::Tensor& t = program.tensors[s.target];
  if (runs_widened(s.dtype)) {
    ir::Statement wide = s;
    wide.dtype = DType::f32;
    std::string line = describe_statement(widened_program(program, s), wide, kind) + ", in f32 on ";
    if (int w = described_gemv_weights(program, s); w >= 0)
      line += std::string(ir::dtype_name(s.dtype)) + " operands widened (" + program.tensors[w].name +
              " read in place by the GEMV, widened in registers)";
    else
      line += std::string(ir::dtype_name(s.dtype)) + " operands widened";
    return line + ", rounded once into " + t.name;
  }
  std::vector<std::int64_t> c_strides(t.shape.size(), 1);
  for (std::size_t d = t.shape.size(); d-- > 1;) c_strides[d - 1] = c_strides[d] * 1024;  // C order
  if (auto g = ir::match_gett(program, s, c_strides)) {
    std::string line = "JIT GETT (batch " + names(s, g->batch) + "; M " + names(s, g->m) + "; N " + names(s, g->n) +
                       "; K " + names(s, g->k) + ")";
    std::string epilogue;
    if (!g->scale_factors.empty()) epilogue += " scale";
    if (!g->bias.empty()) epilogue += " bias";
    if (g->activation) epilogue += std::string(" ") + ir::func_name(*g->activation);
    if (!g->residual.empty()) epilogue += " residual";
    return epilogue.empty() ? line : line + ", epilogue:" + epilogue;
  }
  std::string reason;
  if (auto loop = describe_loop_statement(program, s, &reason)) return "JIT loop (" + *loop + ")";
  if (std::string steps = describe_product_steps(program, s); !steps.empty())
    return "product in pairwise steps (" + steps + "), each run as a statement of its own";
  std::string kind_name = ir::statement_kind_name(kind);
  if (reason == kind_name || s.dtype != DType::f32) reason.clear();  // says nothing more
  return "interpreted (" + kind_name + (s.dtype != DType::f32 ? ", " + std::string(ir::dtype_name(s.dtype)) : "") +
         (reason.empty() ? "" : ": " + reason) + ")";
}

}  // namespace

std::vector<std::string> describe_plan(const ir::Program& program) {
  std::vector<std::string> lines;
  ir::ProgramCost cost = ir::analyze_cost(program);
  for (std::size_t i = 0; i < program.statements.size(); ++i) {
    const ir::Statement& s = program.statements[i];
    lines.push_back("line " + std::to_string(s.line) + ": " + program.tensors[s.target].name + " = " +
                    describe_statement(program, s, cost.statements[i].kind));
  }
  return lines;
}

}  // namespace einc::cpu
