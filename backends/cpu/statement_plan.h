// backends/cpu/statement_plan.h — which path the cpu backend runs a
// statement on, decided once, in one place.
//
// CpuBackend::execute runs the plan and `einc emit` prints it, so what is
// emitted is what runs (as backends/cuda/kernel_plan.h is for CUDA). A
// statement takes the first path that accepts it:
//   1. gett          — the GETT form (ir/gett_lowering.h) with every operand
//                      and term a tensor of the statement's dtype holding
//                      data: one JIT GETT with its epilogue, reading its
//                      operands in place (f32; f64 and i32 without a mask
//                      or an activation, i32 without scalars);
//   2. loop_kernel   — elementwise expressions, reductions and normalisations
//                      that compile as one vectorised JIT loop kernel
//                      (loop_graph.h says which; loop_kernel.h runs it);
//   3. product_steps — a product whose plan neither a GETT nor a loop
//                      kernel computes, run as the pairwise steps of its
//                      plan, each a statement planned anew (product_steps.h);
//   4. hoisted       — contractions inside another expression (a sum of
//                      two contractions, one under a mask), each assigned
//                      to a temporary first (ir/contraction_hoist.h), then
//                      the statement reading them, each planned anew;
//   5. interpreted   — everything else (other f64 and integer statements, loop nests
//                      that would recompute a reduction, ...), by the
//                      reference interpreter; `reason` says why.
// A statement that reads through padded(...) or a lookup runs on copies of
// what those accesses read (access_copies.h); its plan is that of the
// rewritten statement, which CpuBackend::execute makes before planning.
// An f16/bf16 statement is `widened`: it runs as the f32 statement on f32
// copies, rounded once into its target (widened.h), and its path is that
// f32 statement's; but where that is a loop kernel, the kernel reads and
// writes the f16/bf16 tensors themselves (widening each value as it loads
// it, rounding once as it stores: the same values, without the copies).
// A widened GEMV reads its half-precision weights in place instead of
// copying them (`weights_in_place`).
// An i32 product of i8 tensors of the GETT form runs as the i32 GETT on
// i16 pairs (`i16_pairs`, i8_pairs.h) when it has no bias or residual
// terms, else on i32 copies of them (widened); so does the f32 statement
// that dequantises such a sum (`f32(sum(d: xq * wq)) * sx * sw[f] + b[f]`,
// ir::match_dequantised_gett), its tiles converted to f32, scaled and
// biased as they are stored (gett_dequantise.h); other statements with
// conversions are hoisted, loop kernels or interpreted (plan_path).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/loop_graph.h"
#include "backends/cpu/product_steps.h"
#include "backends/cpu/tensor_layouts.h"
#include "ir/contraction_hoist.h"
#include "ir/gett_lowering.h"
#include "ir/program.h"

namespace einc::cpu {

enum class CpuPath { gett, loop_kernel, product_steps, hoisted, interpreted };

class PlanCache;  // plan_cache.h

struct StatementPlan {
  CpuPath path = CpuPath::interpreted;
  std::optional<ir::GettStatement> gett;                   // gett
  std::optional<LoopGraph> loop;                           // loop_kernel
  std::optional<ProductSteps> steps;                       // product_steps
  std::shared_ptr<const ir::HoistedContractions> hoisted;  // hoisted
  // product_steps and hoisted: the plans of the statements of the program
  // they made (the steps', the hoisted ones'), kept with this plan.
  std::shared_ptr<PlanCache> nested_plans;
  std::string reason;         // interpreted: the rule a loop kernel breaks, if that is why
  bool widened = false;       // f16/bf16 run in f32, or i8 operands on i32 copies
  bool i16_pairs = false;     // gett: i8 A and B as i16 pairs (i8_pairs.h)
  bool i8_gemv = false;       // i16_pairs, but a decode: the GEMV reading i8 weights in place (i8_gemv.h)
  int weights_in_place = -1;  // widened GETT (a GEMV): the tensor its kernel widens in registers
  bool bf16_pairs = false;    // widened bf16 GETT: A and B as bf16 pairs (vdpbf16ps, i8_pairs.h), not widened
  // gett under a select mask, or a loop kernel `where(c, x, fill)` split at
  // c (LoopGraph::outside_unread): no statement reads its fill from memory
  // (each reader selects it: ir/known_fill.h), so the kernel does not write it.
  bool fill_unread = false;
};

// The plan of `statement` on tensors laid out as `layouts`. A widened
// statement's plan is made on the widened program (widened_program) and
// layouts (TensorLayouts::widened): it is the plan of the wide statement
// run_widened runs, on the copies it makes.
StatementPlan plan_statement(const ir::Program& program, const ir::Statement& statement, const TensorLayouts& layouts);

// One line per statement, as `einc emit` prints the plan:
// "line 7: S = JIT GETT (batch h; M j; N i; K e), epilogue: scale",
// "line 9: P = JIT loop (normalization: softmax over j)",
// "line 5: y = interpreted (contraction)". Planned on C-order tensors of
// the bound shapes (TensorLayouts::contiguous).
std::vector<std::string> describe_plan(const ir::Program& program);

}  // namespace einc::cpu
