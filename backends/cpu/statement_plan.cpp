// backends/cpu/statement_plan.cpp — see statement_plan.h.
#include "backends/cpu/statement_plan.h"

#include <functional>

#include "backends/cpu/access_copies.h"
#include "backends/cpu/gemv.h"
#include "backends/cpu/jit.h"
#include "backends/cpu/loop_kernel.h"
#include "backends/cpu/plan_cache.h"
#include "backends/cpu/widened.h"
#include "ir/condition.h"
#include "ir/cost_model.h"
#include "ir/known_fill.h"

namespace einc::cpu {

namespace {

std::shared_ptr<const ir::HoistedContractions> shared(std::optional<ir::HoistedContractions> hoisted) {
  if (!hoisted) return nullptr;
  return std::make_shared<const ir::HoistedContractions>(std::move(*hoisted));
}

// Whether the JIT GETT runs `g`: every operand and term a tensor of the
// statement's dtype holding data, and (`+=`) none the target the kernel
// overwrites. f32 has every form; f64 and i32 (Jit::has_gett) no
// activation, and i32 no mask and no scalar factors (their `/` truncates).
bool operands_ok(const TensorLayouts& layouts, const ir::GettStatement& g, const ir::Statement& s) {
  const DType dtype = s.dtype;
  if (!Jit::has_gett(dtype)) return false;
  if (dtype != DType::f32 && (g.activation || (dtype == DType::i32 && (g.mask || !g.scale_factors.empty()))))
    return false;
  auto ok = [&](int t) { return layouts.dtype(t) == dtype && layouts.defined(t) && !(g.accumulate && t == s.target); };
  bool all = ok(g.a.tensor) && ok(g.b.tensor) && layouts.dtype(s.target) == dtype;
  for (const auto& t : g.bias) all = all && ok(t.access.tensor);
  for (const auto& t : g.residual) all = all && ok(t.access.tensor);
  return all;
}

// The GETT of a widened statement that runs as a GEMV reading its weights
// (the GETT's A) in place: only an A read nowhere else in the statement, of
// a dtype the JIT's GEMV kernels widen in registers, and no mask (a masked
// GETT never runs as a GEMV); and neither operand the target (`h += h * W`:
// the GEMV would overwrite h while it still reads it). `wide`,
// `wide_statement`: the statement as it runs in f32.
std::optional<ir::GettStatement> half_gemv(const ir::Program& program, const ir::Program& wide,
                                           const ir::Statement& wide_statement, const TensorLayouts& layouts) {
  if (!layouts.extents_known() || !layouts.defined(wide_statement.target)) return std::nullopt;
  for (int t : ir::tensors_read(*wide_statement.value))
    if (!layouts.defined(t)) return std::nullopt;  // for the f32 statement to report
  std::optional<ir::GettStatement> g =
      ir::match_gett(wide, wide_statement, ir::contiguous_strides(layouts.shape(wide_statement.target)));
  if (!g || g->mask) return std::nullopt;
  const int w = g->a.tensor;
  if (w == wide_statement.target || g->b.tensor == wide_statement.target || w == g->b.tensor ||
      !Jit::instance().reads_half_weights(program.tensors[w].dtype))
    return std::nullopt;
  for (const auto* terms : {&g->bias, &g->residual})
    for (const ir::GettTerm& t : *terms)
      if (t.access.tensor == w) return std::nullopt;
  const TensorLayouts gemv_layouts = layouts.widened(wide, w);
  ir::GettSpec spec = ir::make_gett_spec(
      wide, wide_statement, *g, [&](int t) -> const std::vector<std::int64_t>& { return gemv_layouts.strides(t); });
  if (gemv_kind(spec.batch, spec.m, spec.n, spec.k) == GemvKind::none) return std::nullopt;
  return g;
}

// The plan of a statement that is not widened: f32, or f64/i32/i8 (a GETT
// where operands_ok allows it, else whatever the other paths accept).
StatementPlan plan_native(const ir::Program& program, const ir::Statement& s, const TensorLayouts& layouts) {
  StatementPlan plan;
  std::optional<ir::GettStatement> g;
  if (layouts.defined(s.target))
    if ((g = ir::match_gett(program, s, layouts.strides(s.target))) && !operands_ok(layouts, *g, s)) g.reset();
  // A GETT with neither M nor N indices is dot products (`r[b] = x[b, j] *
  // y[b, j]`, `t = x[i] * y[i]`): nothing it packs is reused, and the loop
  // kernels' vectorised reduction runs it 20-30 times faster
  // (docs/cpu-backend.md). The GETT stays for what the loop kernels refuse.
  auto gett_plan = [&] {
    plan.reason.clear();
    plan.path = CpuPath::gett;
    plan.gett = std::move(g);
    return plan;
  };
  const bool dot_products = g && g->m.empty() && g->n.empty();
  if (g && !dot_products) return gett_plan();
  if ((plan.loop = plan_loop_kernel(program, s, layouts, &plan.reason))) {
    plan.path = CpuPath::loop_kernel;
    return plan;
  }
  if (g) return gett_plan();
  if ((plan.steps = plan_product_steps(program, s))) {
    plan.path = CpuPath::product_steps;
    return plan;
  }
  if ((s.dtype == DType::f32 || s.dtype == DType::f64) &&
      (plan.hoisted = shared(ir::hoist_contractions(program, s, s.dtype)))) {
    plan.path = CpuPath::hoisted;
    return plan;
  }
  return plan;  // interpreted
}

std::string names(const ir::Statement& s, const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) out += (out.empty() ? "" : ",") + s.indices[id].name;
  return out.empty() ? "-" : out;
}

// The path of an f32 statement (or of the f32 statement a widened one runs as).
std::string describe_path(const StatementPlan& plan, const ir::Statement& s, ir::StatementKind kind) {
  switch (plan.path) {
    case CpuPath::gett: {
      const ir::GettStatement& g = *plan.gett;
      std::string line = "JIT GETT (batch " + names(s, g.batch) + "; M " + names(s, g.m) + "; N " + names(s, g.n) +
                         "; K " + names(s, g.k) + ")";
      if (g.mask) {
        const ir::Condition& c = g.mask->condition;
        line += std::string(g.mask->on_sum ? ", sum only where " : ", where ") + s.indices[c.lhs].name + " " +
                ir::compare_op_name(c.op) + " " + s.indices[c.rhs].name +
                (g.mask->on_sum     ? " (K blocks outside skipped)"
                 : plan.fill_unread ? " (tiles outside skipped; not filled: no statement reads the fill)"
                                    : " (tiles outside skipped, filled)");
      }
      if (g.scale_at != ir::ScaleAt::result)
        line += std::string(", ") + (g.scale_at == ir::ScaleAt::a ? "A" : "B") + " scaled as it is packed";
      std::string epilogue;
      if (g.dequantise) epilogue += " to f32";
      if (!g.scale_factors.empty() && g.scale_at == ir::ScaleAt::result) epilogue += " scale";
      if (!g.channel_scales.empty()) epilogue += " channel scales";
      if (!g.bias.empty()) epilogue += " bias";
      if (g.activation) epilogue += std::string(" ") + ir::func_name(*g.activation);
      if (!g.residual.empty()) epilogue += " residual";
      if (g.accumulate) epilogue += " accumulate";
      if (g.a_zero_point || g.b_zero_point)
        line += std::string(", less zero points of ") + (g.a_zero_point ? g.b_zero_point ? "A and B" : "A" : "B");
      return epilogue.empty() ? line : line + ", epilogue:" + epilogue;
    }
    case CpuPath::loop_kernel:
      return "JIT loop (" + plan.loop->summary + ")" +
             (plan.fill_unread ? ", not stored past the split: no statement reads it there" : "");
    case CpuPath::product_steps:
      return "product in pairwise steps (" + describe_product_steps(*plan.steps) +
             "), each run as a statement of its own";
    case CpuPath::hoisted:  // describe_statement lists the statements
    case CpuPath::interpreted:
      break;
  }
  std::string kind_name = ir::statement_kind_name(kind);
  std::string reason = plan.reason;
  // (a reason says nothing more when it names the kind)
  if (reason == kind_name) reason.clear();
  return "interpreted (" + kind_name + (s.dtype != DType::f32 ? ", " + std::string(ir::dtype_name(s.dtype)) : "") +
         (reason.empty() ? "" : ": " + reason) + ")";
}

// What runs for one statement, as CpuBackend::execute runs it: the copies
// of the accesses no kernel reads in place first (access_copies.h), then
// the plan (widened or not).
std::string describe_statement(const ir::Program& program, const ir::Statement& s, ir::StatementKind kind,
                               const TensorLayouts& layouts) {
  if (needs_access_copies(s)) {
    CopiedStatement copied;
    try {
      copied = copy_accesses(program, s);
    } catch (const ir::UnboundDimError&) {
      return "planned when the dims are bound, on copies of what its padded(...) accesses and lookups read";
    }
    return describe_statement(copied.program, copied.statement, kind, TensorLayouts::contiguous(copied.program)) +
           ", on " + describe_access_copies(copied, program);
  }
  const StatementPlan plan = plan_statement(program, s, layouts);
  if (plan.path == CpuPath::hoisted && !plan.widened) {
    // "contractions hoisted: T1 = JIT GETT (...); T2 = ...; then JIT loop (elementwise)"
    const ir::HoistedContractions& h = *plan.hoisted;
    const TensorLayouts hoisted_layouts = TensorLayouts::contiguous(h.program);
    std::string line = "contractions hoisted into temporaries: ";
    for (std::size_t i = 0; i < h.statements.size(); ++i) {
      const bool last = i + 1 == h.statements.size();
      line += last ? "; then " : i ? "; " : "";
      line +=
          describe_statement(h.program, h.statements[i], last ? kind : ir::StatementKind::contraction, hoisted_layouts);
    }
    return line;
  }
  if (plan.i8_gemv)
    return describe_path(plan, s, kind) + ", a GEMV reading the i8 weights in place (as i16 pairs, pmaddwd)";
  if (plan.i16_pairs) return describe_path(plan, s, kind) + ", on i8 operands as i16 pairs (pmaddwd)";
  if (!plan.widened) return describe_path(plan, s, kind);
  ir::Statement wide = s;
  wide.dtype = widened_dtype(program, s).value();
  DType operands = s.dtype;  // what is widened: the statement's dtype, or (i32) its i8 operands'
  if (s.dtype == wide.dtype) operands = DType::i8;
  std::string line = describe_path(plan, wide, kind) + ", in " + ir::dtype_name(wide.dtype) + " on " +
                     ir::dtype_name(operands) +
                     (plan.bf16_pairs ? " operands as bf16 pairs (vdpbf16ps), terms widened" : " operands widened");
  if (plan.weights_in_place >= 0)
    line += " (" + program.tensors[plan.weights_in_place].name + " read in place by the GEMV, widened in registers)";
  return s.dtype == wide.dtype ? line : line + ", rounded once into " + program.tensors[s.target].name;
}

}  // namespace

// An i32 product of i8 tensors with no terms (but `+=`'s): the i32 GETT on
// i16 pairs of them (i8_pairs.h).
std::optional<StatementPlan> plan_i16_pairs(const ir::Program& program, const ir::Statement& s,
                                            const TensorLayouts& layouts) {
  // (Only a statement that reads i8 tensors: the others are not matched twice.)
  if (widened_dtype(program, s) != DType::i32 || !layouts.defined(s.target)) return std::nullopt;
  std::optional<ir::GettStatement> g = ir::match_gett(program, s, layouts.strides(s.target));
  if (!g || g->mask || g->activation || !g->scale_factors.empty() || !g->bias.empty() || !g->residual.empty())
    return std::nullopt;
  for (int t : {g->a.tensor, g->b.tensor})
    if (layouts.dtype(t) != DType::i8 || !layouts.defined(t) || t == s.target) return std::nullopt;
  StatementPlan plan;
  plan.path = CpuPath::gett;
  plan.i16_pairs = true;
  // A decode with nothing to add reads its weights in place (i8_gemv.h).
  const ir::GettSpec spec =
      ir::make_gett_spec(program, s, *g, [&](int t) -> const std::vector<std::int64_t>& { return layouts.strides(t); });
  // (An operand less a zero point is copied into pairs, never read in place.)
  plan.i8_gemv = layouts.extents_known() && !g->accumulate && !g->a_zero_point && !g->b_zero_point &&
                 gemv_kind_copying_x(spec.batch, spec.m, spec.n, spec.k) != GemvKind::none;
  plan.gett = std::move(g);
  return plan;
}

namespace {

// A quantised layer's dequantising statement (ir::match_dequantised_gett):
// the i32 GETT on i16 pairs of its i8 operands, its tiles converted to f32,
// scaled and biased as they are stored (gett_dequantise.h). Not a decode,
// which reads its i8 weights in place through the GEMV (the statement is
// hoisted then: the i32 GEMV, then a loop kernel).
std::optional<StatementPlan> plan_dequantised_gett(const ir::Program& program, const ir::Statement& s,
                                                   const TensorLayouts& layouts) {
  if (!layouts.defined(s.target) || layouts.dtype(s.target) != DType::f32) return std::nullopt;
  std::optional<ir::GettStatement> g = ir::match_dequantised_gett(program, s, layouts.strides(s.target));
  if (!g) return std::nullopt;
  for (int t : {g->a.tensor, g->b.tensor})
    if (layouts.dtype(t) != DType::i8 || !layouts.defined(t)) return std::nullopt;
  // The scales and bias are f32 and not the target, which holds i32 sums
  // until the epilogue reads them.
  auto f32_term = [&](int t) { return layouts.dtype(t) == DType::f32 && layouts.defined(t) && t != s.target; };
  for (const ir::GettOperand& scales : g->channel_scales)
    if (!f32_term(scales.tensor)) return std::nullopt;
  for (const ir::GettTerm& t : g->bias)
    if (!f32_term(t.access.tensor)) return std::nullopt;
  if (layouts.extents_known()) {
    const ir::GettSpec spec = ir::make_gett_spec(
        program, s, *g, [&](int t) -> const std::vector<std::int64_t>& { return layouts.strides(t); });
    if (gemv_kind_copying_x(spec.batch, spec.m, spec.n, spec.k) != GemvKind::none) return std::nullopt;
  }
  StatementPlan plan;
  plan.path = CpuPath::gett;
  plan.i16_pairs = true;
  plan.gett = std::move(g);
  return plan;
}

StatementPlan plan_path(const ir::Program& program, const ir::Statement& statement, const TensorLayouts& layouts) {
  if (ir::contains_conversion(*statement.value)) {  // (the paths below assume one dtype per statement)
    if (std::optional<StatementPlan> dequantised = plan_dequantised_gett(program, statement, layouts))
      return std::move(*dequantised);
    // Its contractions hoisted (an i8 product under f32(...) becomes an i32
    // GETT); what is left a loop kernel if it converts i32 tensors to f32
    // or quantises an f32 value (or product steps that are), else
    // interpreted.
    StatementPlan plan;
    if ((plan.hoisted = shared(ir::hoist_contractions(program, statement, statement.dtype)))) {
      plan.path = CpuPath::hoisted;
      return plan;
    }
    if ((plan.loop = plan_loop_kernel(program, statement, layouts, &plan.reason))) {
      plan.path = CpuPath::loop_kernel;  // f32(...) of i32 tensors, i8(...) of an f32 value (loop_graph.h)
      return plan;
    }
    if ((plan.steps = plan_product_steps(program, statement))) {  // (f32 and f64 statements only)
      plan.path = CpuPath::product_steps;                         // each step planned as above
      return plan;
    }
    if (plan.reason.empty() || statement.dtype != DType::f32)
      plan.reason = "a dtype conversion, which only the interpreter runs so far";
    return plan;
  }
  if (std::optional<StatementPlan> pairs = plan_i16_pairs(program, statement, layouts)) return std::move(*pairs);
  const std::optional<DType> wide_dtype = widened_dtype(program, statement);
  if (!wide_dtype) return plan_native(program, statement, layouts);
  const ir::Program wide = widened_program(program, statement);
  ir::Statement wide_statement = statement;
  wide_statement.dtype = *wide_dtype;
  StatementPlan plan;
  if (std::optional<ir::GettStatement> g =
          *wide_dtype == DType::f32 ? half_gemv(program, wide, wide_statement, layouts) : std::nullopt) {
    plan.path = CpuPath::gett;
    plan.gett = std::move(g);
    plan.weights_in_place = plan.gett->a.tensor;
  } else {
    plan = plan_native(wide, wide_statement, layouts.widened(wide, -1));
  }
  // i32 of i8 operands: only a GETT is worth the copies (widened.h).
  if (statement.dtype == *wide_dtype && plan.path != CpuPath::gett) return plan_native(program, statement, layouts);
  // A bf16 GETT where the host multiplies bf16 pairs: its A and B copied
  // as bf16 pairs (i8_pairs.h) instead of widened, the GETT's f32 C as the
  // widened target. Not under a mask (its K blocks count elements), and
  // not with an operand the target (widened.h writes an f32 copy of it).
  if (plan.path == CpuPath::gett && plan.weights_in_place < 0 && statement.dtype == DType::bf16 && !plan.gett->mask &&
      plan.gett->a.tensor != statement.target && plan.gett->b.tensor != statement.target &&
      Jit::instance().multiplies_bf16_pairs()) {
    plan.bf16_pairs = true;
    plan.gett->scale_at = ir::ScaleAt::result;  // (scaling a pack would multiply words)
  }
  // An f16/bf16 statement whose f32 statement is a loop kernel runs as that
  // kernel on its own tensors: each widened as it is loaded, the value
  // rounded once as it is stored, the copies' f32 values without the
  // copies (loop_graph.h).
  if (plan.path == CpuPath::loop_kernel)
    if (std::optional<LoopGraph> native = plan_loop_kernel(program, statement, layouts)) {
      plan.loop = std::move(native);
      return plan;
    }
  plan.widened = true;
  return plan;
}

}  // namespace

namespace {

// Whether no statement reads the target of `writer` from memory where
// `condition` (over the writer's indices) fails, so that the writer (a
// select GETT, or a loop kernel split at the condition) need not store
// that part: the target is an intermediate, at least one statement reads
// it, and each reader either
// - never looks there (ir::reads_only_where: it reads the target only in a
//   branch of a `where` on the condition, which takes the other branch
//   whatever the memory holds: causal attention's P V sum of the softmax),
// - or, for a writer `where(c, x, fill)` with c the condition, is a loop
//   kernel that knows the fill at its every read (ir/known_fill.h): each
//   such read is a select on the condition in its loop graph, which takes
//   the fill from the script, not from memory (loop_graph.h). The reader
//   runs in place (no access copies) and its target is an intermediate
//   (so a run allocates it C-order, as the layouts here assume: the path
//   found here is the run's).
bool fill_unread(const ir::Program& program, const ir::Statement& writer, const ir::Condition& condition) {
  auto intermediate = [&](int t) {
    const ir::Tensor& tensor = program.tensors.at(static_cast<std::size_t>(t));
    return tensor.role == ir::TensorRole::intermediate && !tensor.is_output;
  };
  if (!intermediate(writer.target)) return false;
  const bool fill_known =
      writer.value->kind == ir::ExprKind::select && ir::equivalent(writer.value->condition, condition);
  std::optional<TensorLayouts> contiguous;  // made for the first reader that gets as far as planning
  bool read = false;
  for (const ir::Statement& reader : program.statements) {
    if (!ir::tensors_read(*reader.value).count(writer.target)) continue;
    read = true;
    if (ir::reads_only_where(program, reader, writer, condition)) continue;
    if (!fill_known || !intermediate(reader.target) || needs_access_copies(reader)) return false;
    bool known = true;
    std::function<void(const ir::Expr&)> visit = [&](const ir::Expr& e) {
      if (e.kind == ir::ExprKind::access && e.tensor == writer.target)
        known = known && ir::known_fill(program, reader, e).has_value();
      for (const ir::ExprPtr& a : e.args) visit(*a);
    };
    visit(*reader.value);
    if (!known) return false;
    if (!contiguous) contiguous = TensorLayouts::contiguous(program);
    const StatementPlan plan = plan_path(program, reader, *contiguous);
    if (plan.path != CpuPath::loop_kernel || plan.widened) return false;
  }
  // Read somewhere, not vacuously: a program a plan makes for one statement
  // (its hoisted contractions, its product steps) writes the statement's
  // target without holding the statements that read it.
  return read;
}

}  // namespace

StatementPlan plan_statement(const ir::Program& program, const ir::Statement& statement, const TensorLayouts& layouts) {
  StatementPlan plan = plan_path(program, statement, layouts);
  if (plan.path == CpuPath::gett && !plan.widened && plan.gett->mask && !plan.gett->mask->on_sum)
    plan.fill_unread = fill_unread(program, statement, plan.gett->mask->condition);
  // A loop kernel split at a condition c over its target's indices (a
  // `where(c, x, fill)`, or a softmax of scores known to be -inf past c):
  // the piece past the boundary, unread alike, can be left unwritten.
  if (plan.path == CpuPath::loop_kernel && !plan.widened && !statement.accumulate &&
      (plan.loop->target_dtype == DType::f32 || plan.loop->target_dtype == DType::f64)) {
    LoopGraph& graph = *plan.loop;
    for (const LoopSplit& split : graph.splits)
      if (split.nest == -1) plan.fill_unread = graph.outside_unread = fill_unread(program, statement, split.condition);
  }
  if (plan.path == CpuPath::product_steps) plan.nested_plans = std::make_shared<PlanCache>(plan.steps->split->program);
  if (plan.path == CpuPath::hoisted) plan.nested_plans = std::make_shared<PlanCache>(plan.hoisted->program);
  return plan;
}

std::vector<std::string> describe_plan(const ir::Program& program) {
  std::vector<std::string> lines;
  const ir::ProgramCost cost = ir::analyze_cost(program);
  const TensorLayouts layouts = TensorLayouts::contiguous(program);
  for (std::size_t i = 0; i < program.statements.size(); ++i) {
    const ir::Statement& s = program.statements[i];
    lines.push_back("line " + std::to_string(s.line) + ": " + program.tensors[s.target].name + " = " +
                    describe_statement(program, s, cost.statements[i].kind, layouts));
  }
  return lines;
}

}  // namespace einc::cpu
