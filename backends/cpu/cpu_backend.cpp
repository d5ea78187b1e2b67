// backends/cpu/cpu_backend.cpp — see cpu_backend.h.
#include "backends/cpu/cpu_backend.h"

#include "backends/cpu/gathered_lookups.h"
#include "backends/cpu/gemv.h"
#include "backends/cpu/gett.h"
#include "backends/cpu/jit.h"
#include "backends/cpu/loop_kernel.h"
#include "backends/cpu/padded_copies.h"
#include "backends/cpu/product_steps.h"
#include "backends/cpu/statement_plan.h"
#include "backends/cpu/widened.h"
#include "backends/reference/interpreter.h"
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

}  // namespace

CpuBackend::CpuBackend(int threads) : threads_(threads > 0 ? threads : runtime::hardware_threads()) {}

void CpuBackend::execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) {
  if (has_padded_access(statement)) {
    // Zero-padded copies, then the statement that reads them as plain views.
    const PaddedStatement padded = pad_statement(program, statement);
    std::vector<Tensor> extended = tensors;  // shares every buffer
    make_padded_copies(padded, extended, threads_);
    execute(padded.program, padded.statement, extended);
    tensors[static_cast<std::size_t>(statement.target)] = extended[static_cast<std::size_t>(statement.target)];
    return;
  }
  if (has_lookup_access(statement)) {
    // Gathered copies of what the lookups read, then the statement on them.
    const GatheredStatement gathered = gather_statement(program, statement);
    std::vector<Tensor> extended = tensors;
    run_gathers(gathered, program, statement, extended, threads_);
    execute(gathered.program, gathered.statement, extended);
    tensors[static_cast<std::size_t>(statement.target)] = extended[static_cast<std::size_t>(statement.target)];
    return;
  }
  StatementPlan plan = plan_statement(program, statement, TensorLayouts(tensors));
  if (!plan.widened) {
    run_plan(program, statement, std::move(plan), tensors);
    return;
  }
  // The plan is the f32 statement's, made on the layouts of the copies
  // run_widened makes (TensorLayouts::widened).
  const int keep = plan.weights_in_place;
  run_widened(
      program, statement, tensors,
      [&](const ir::Program& p, const ir::Statement& s, std::vector<Tensor>& wide) {
        run_plan(p, s, std::move(plan), wide);
      },
      threads_, keep);
}

void CpuBackend::run_plan(const ir::Program& program, const ir::Statement& statement, StatementPlan plan,
                          std::vector<Tensor>& tensors) {
  switch (plan.path) {
    case CpuPath::gett:
      run_gett(Jit::instance(), build_call(program, statement, *plan.gett, tensors), threads_);
      return;
    case CpuPath::loop_kernel:
      run_loop_kernel(program, statement, std::move(*plan.loop), tensors, threads_);
      return;
    case CpuPath::product_steps: {
      auto run_step = [this](const ir::Program& p, const ir::Statement& s, std::vector<Tensor>& t) {
        execute(p, s, t);
      };
      run_product_steps(program, statement, *plan.steps, tensors, run_step);
      return;
    }
    case CpuPath::interpreted:
      reference::execute_statement(program, statement, tensors);
      return;
  }
}

}  // namespace einc::cpu
