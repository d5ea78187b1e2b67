// backends/cpu/emit_cpu.cpp — see emit_cpu.h.
#include "backends/cpu/emit_cpu.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include "backends/cpu/jit.h"
#include "backends/cpu/loop_kernel.h"
#include "backends/cpu/statement_plan.h"

namespace einc::cpu {

namespace {

std::string format_ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, ms < 0.1 ? "%.4f" : "%.1f", ms);
  return text;
}

std::string plan_lines(const ir::Program& program, const char* prefix) {
  std::string out;
  for (const std::string& line : describe_plan(program)) out += prefix + line + "\n";
  return out;
}

}  // namespace

std::string emit_cpu(const ir::Program& program, CpuEmitTarget target) {
  if (target == CpuEmitTarget::plan) return plan_lines(program, "");
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  auto start = Clock::now();
  Jit& jit = Jit::instance();
  double setup_ms = ms_since(start);
  // Each function is compiled on its first use; a contraction with the
  // default tile needs its micro-kernel, its two pack routines and the
  // transpose those call.
  std::vector<Jit::Compiled> compiled = jit.compile_all_gett();
  start = Clock::now();
  jit.gett_kernels(0);
  double cached_ms = ms_since(start);
  std::string out = "; einc cpu backend: " + jit.description() + "\n";
  out += "; JIT set up in " + format_ms(setup_ms) + " ms; compiled on first use (ms):";
  for (const Jit::Compiled& c : compiled)
    out += " " + c.name + " " + format_ms(c.ms) + (c.from_disk ? " (disk cache)" : "");
  out += "; cached lookup " + format_ms(cached_ms) + " ms\n";
  out += plan_lines(program, "; ") + "\n";
  const EmitTarget what = target == CpuEmitTarget::assembly ? EmitTarget::assembly : EmitTarget::llvm_ir;
  out += jit.emit_gett(what);
  // The kernels of the other element types the program's statements use.
  bool f64 = false, i32 = false, i16_pairs = false;
  for (const ir::Statement& s : program.statements) {
    f64 = f64 || s.dtype == DType::f64;
    i32 = i32 || s.dtype == DType::i32;
    for (int t : ir::tensors_read(*s.value))
      i16_pairs =
          i16_pairs || (s.dtype == DType::i32 && program.tensors[static_cast<std::size_t>(t)].dtype == DType::i8);
  }
  if (f64) out += "\n; the f64 GETT kernels\n" + jit.emit_gett(what, DType::f64);
  if (i32) out += "\n; the i32 GETT kernels\n" + jit.emit_gett(what, DType::i32);
  if (i16_pairs)
    out += "\n; the i32 micro-kernels on i16 pairs (i8 operands)\n" + jit.emit_gett(what, DType::i32, true);
  if (target != CpuEmitTarget::llvm_ir) return out;
  // The loop kernel of each statement that has one (IR only: they are
  // compiled per statement, from the shapes bound at run time).
  for (const ir::Statement& statement : program.statements)
    if (std::optional<std::string> ir = emit_loop_kernel(program, statement))
      out += "\n; loop kernel of line " + std::to_string(statement.line) + ": " + statement.text + "\n" + *ir;
  return out;
}

}  // namespace einc::cpu
