// backends/cpu/cpu_backend.cpp — see cpu_backend.h.
#include "backends/cpu/cpu_backend.h"

#include "backends/cpu/access_copies.h"
#include "backends/cpu/gemv.h"
#include "backends/cpu/gett.h"
#include "backends/cpu/i8_gemv.h"
#include "backends/cpu/i8_pairs.h"
#include "backends/cpu/jit.h"
#include "backends/cpu/loop_kernel.h"
#include "backends/cpu/product_steps.h"
#include "backends/cpu/statement_plan.h"
#include "backends/cpu/widened.h"
#include "backends/reference/interpreter.h"
#include "ir/gett_lowering.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

// The GETT call for a matched statement, on the tensors of this run. A `+=`
// statement's old target values are copied into `previous` (the kernel
// overwrites C before its epilogue), which must outlive the call, and added
// as the last residual term.
GettCall build_call(const ir::Program& program, const ir::Statement& statement, const ir::GettStatement& g,
                    std::vector<Tensor>& tensors, Tensor& previous) {
  ir::GettSpec spec = ir::make_gett_spec(program, statement, g, [&](int t) -> const std::vector<std::int64_t>& {
    return tensors[static_cast<std::size_t>(t)].strides();
  });
  GettCall call;
  call.dtype = g.dequantise ? DType::i32 : statement.dtype;  // (dequantised: i32 sums, an f32 target)
  // Element `offset` of tensor t (of the statement's dtype).
  auto element = [&](int t, std::int64_t offset) -> void* {
    const Tensor& tensor = tensors[static_cast<std::size_t>(t)];
    return static_cast<char*>(tensor.data()) + offset * static_cast<std::int64_t>(dtype_size(tensor.dtype()));
  };
  const Tensor& a = tensors[spec.a.tensor];
  if (a.dtype() != DType::f16 && a.dtype() != DType::bf16) {
    call.a = element(spec.a.tensor, spec.a_offset);
  } else {  // weights read in place by a GEMV (half_gemv)
    call.a_half = a.data_as<const std::uint16_t>() + spec.a_offset;
    call.a_dtype = a.dtype();
  }
  call.b = element(spec.b.tensor, spec.b_offset);
  call.c = element(statement.target, 0);
  call.batch = spec.batch;
  call.m = spec.m;
  call.n = spec.n;
  call.k = spec.k;
  call.scale = ir::evaluate_gett_scale(program, g, [&](int t) { return tensors[static_cast<std::size_t>(t)].get({}); });
  call.scale_at = g.scale_at;
  // A number, or an i8 tensor's value per row.
  auto zero_points = [&](const ir::ExprPtr& z, const ir::GettTermSpec& t, bool of_a, std::int32_t& number,
                         ZeroPoints& table) {
    if (!z) return;
    if (z->kind != ir::ExprKind::access) {
      number = static_cast<std::int32_t>(z->constant);
      return;
    }
    table.data = static_cast<const std::int8_t*>(element(t.tensor, t.offset));
    table.batch_strides = t.batch_strides;
    table.row_strides = of_a ? t.m_strides : t.n_strides;
  };
  zero_points(spec.a_zero_point, spec.a_zero_points, true, call.a_zero_point, call.a_zero_points);
  zero_points(spec.b_zero_point, spec.b_zero_points, false, call.b_zero_point, call.b_zero_points);
  auto term = [&](const ir::GettTermSpec& t) {
    return EpilogueTerm{element(t.tensor, t.offset), t.batch_strides, t.m_strides, t.n_strides, t.negate};
  };
  for (const ir::GettTermSpec& t : spec.bias) call.bias.push_back(term(t));
  for (const ir::GettTermSpec& t : spec.residual) call.residual.push_back(term(t));
  for (const ir::GettTermSpec& t : spec.channel_scales) call.channel_scales.push_back(term(t));
  call.dequantise = g.dequantise;
  if (g.accumulate) {
    previous = tensors[static_cast<std::size_t>(statement.target)].clone();
    EpilogueTerm old{previous.data(), {}, {}, {}, false};
    auto strides = [&](const std::vector<GettDim>& group, std::vector<std::int64_t>& out) {
      for (const GettDim& d : group) out.push_back(ir::index_stride(previous.strides(), statement.lhs, d.index));
    };
    strides(call.batch, old.batch_strides);
    strides(call.m, old.m_strides);
    strides(call.n, old.n_strides);
    call.residual.push_back(std::move(old));
  }
  call.activation = g.activation;
  if (g.mask) {
    GettMaskCall mask{g.mask->condition.op, g.mask->condition.lhs, g.mask->condition.rhs, g.mask->on_sum, 0.0f};
    if (g.mask->fill)
      mask.fill = static_cast<double>(ir::evaluate_scalar(
          program, *g.mask->fill, [&](int t) { return tensors[static_cast<std::size_t>(t)].get({}); }));
    call.mask = mask;
  }
  return call;
}

}  // namespace

CpuBackend::CpuBackend(int threads, std::shared_ptr<PlanCache> plans)
    : threads_(threads > 0 ? threads : runtime::hardware_threads()), plans_(std::move(plans)) {}

void CpuBackend::execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) {
  execute_with(plans_.get(), program, statement, tensors);
}

void CpuBackend::execute_with(PlanCache* plans, const ir::Program& program, const ir::Statement& statement,
                              std::vector<Tensor>& tensors) {
  if (needs_access_copies(statement)) {
    // Zero-padded copies and gathered lookups, then the statement reading
    // them (on a program made for this run: planned anew).
    const CopiedStatement copied = copy_accesses(program, statement);
    std::vector<Tensor> extended = tensors;  // shares every buffer
    make_access_copies(copied, program, statement, extended, threads_);
    execute_with(nullptr, copied.program, copied.statement, extended);
    tensors[static_cast<std::size_t>(statement.target)] = extended[static_cast<std::size_t>(statement.target)];
    return;
  }
  std::shared_ptr<const StatementPlan> cached;
  if (plans && plans->serves(program, statement)) cached = plans->plan(statement, tensors);
  std::optional<StatementPlan> fresh;
  if (!cached) fresh = plan_statement(program, statement, TensorLayouts(tensors));
  const StatementPlan& plan = cached ? *cached : *fresh;
  if (!plan.widened) {
    run_plan(program, statement, plan, tensors);
    return;
  }
  // The plan is the f32 statement's, made on the layouts of the copies
  // run_widened makes (TensorLayouts::widened); a GEMV's weights and a
  // bf16-pair GETT's operands are read as they are.
  std::vector<int> keep;
  if (plan.weights_in_place >= 0) keep.push_back(plan.weights_in_place);
  if (plan.bf16_pairs) keep = {plan.gett->a.tensor, plan.gett->b.tensor};
  run_widened(
      program, statement, tensors,
      [&](const ir::Program& p, const ir::Statement& s, std::vector<Tensor>& wide) { run_plan(p, s, plan, wide); },
      threads_, keep);
}

void CpuBackend::run_plan(const ir::Program& program, const ir::Statement& statement, const StatementPlan& plan,
                          std::vector<Tensor>& tensors) {
  // A statement of its own (a product step, a hoisted contraction), of a
  // program the plan made: planned through the plan's own cache.
  auto run_statement = [this, nested = plan.nested_plans.get()](const ir::Program& p, const ir::Statement& s,
                                                                std::vector<Tensor>& t) {
    execute_with(nested, p, s, t);
  };
  switch (plan.path) {
    case CpuPath::gett: {
      Tensor previous;  // `+=`: the target's old values, read by the epilogue
      GettCall call = build_call(program, statement, *plan.gett, tensors, previous);
      if (call.mask && plan.fill_unread) call.mask->write_fill = false;
      if (plan.i8_gemv) {  // a decode: its i8 weights read in place
        run_i8_gemv(Jit::instance(), call, threads_);
        return;
      }
      PairCopies copies;  // i8 operands as i16 pairs, bf16 ones as bf16 pairs: the copies the call reads
      if (plan.i16_pairs) call = i16_pair_call(call, copies, threads_);
      if (plan.bf16_pairs) call = bf16_pair_call(call, copies, threads_);
      run_gett(Jit::instance(), call, threads_);
      return;
    }
    case CpuPath::loop_kernel:
      run_loop_kernel(program, statement, *plan.loop, tensors, threads_);
      return;
    case CpuPath::product_steps:
      run_product_steps(*plan.steps, tensors, run_statement);
      return;
    case CpuPath::hoisted:
      run_with_temporaries(plan.hoisted->program, plan.hoisted->temporaries, plan.hoisted->statements, tensors,
                           run_statement);
      return;
    case CpuPath::interpreted:
      reference::execute_statement(program, statement, tensors);
      return;
  }
}

}  // namespace einc::cpu
