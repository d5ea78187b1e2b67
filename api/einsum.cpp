// api/einsum.cpp — einc::einsum and einc::compile_einsum: numpy.einsum as
// a generated script (whose einsum statement frontend/einsum_subscripts.cpp
// and ir/lower_einsum.cpp give numpy's semantics), compiled once per
// subscripts, dtypes and shapes and kept for the calls that follow.
#include <optional>
#include <string>

#include "einc/einc.h"
#include "runtime/recent_cache.h"

namespace einc {

using runtime::RecentCache;

namespace {

// The script of numpy.einsum(subscripts, operands...): a dim per operand
// extent, an input per operand, one einsum statement. Throws CompileError
// for subscripts a script's string literal cannot hold.
std::string einsum_script(std::string_view subscripts, const std::vector<EinsumOperand>& operands) {
  // The subscripts go into a script's string literal: a '"' or a newline
  // would end it, so they are rejected here with numpy's own message.
  std::size_t bad = subscripts.find_first_of("\"\n");
  if (bad != std::string_view::npos) {
    Diagnostic d;
    d.file = "<einsum>";
    d.message = std::string("einsum: invalid subscript ") + (subscripts[bad] == '"' ? "'\"'" : "'\\n'") +
                " in einstein sum subscripts string, subscripts must be letters";
    d.rendered = d.file + ": error: " + d.message + "\n";
    throw CompileError({d});
  }
  std::string script, names;
  for (std::size_t k = 0; k < operands.size(); ++k) {
    const EinsumOperand& operand = operands[k];
    std::string shape;
    for (std::size_t d = 0; d < operand.shape.size(); ++d) {
      std::string dim = "_" + std::to_string(k) + "_" + std::to_string(d);
      script += "dim " + dim + " = " + std::to_string(operand.shape[d]) + "\n";
      shape += (d ? ", " : "") + dim;
    }
    std::string name = "operand" + std::to_string(k);
    script += "input " + name + "[" + shape + "] : " + dtype_name(operand.dtype) + "\n";
    names += ", " + name;
  }
  script += "result = einsum(\"" + std::string(subscripts) + "\"" + names + ")\n";
  return script;
}

// The most recently compiled einsum programs, by script (which names the
// subscripts, dtypes and shapes): a loop calling einsum() on operands of
// one shape compiles once. Shared by every thread.
RecentCache<std::string, Program>& kept_programs() {
  static RecentCache<std::string, Program> kept(256);
  return kept;
}

}  // namespace

Program compile_einsum(std::string_view subscripts, const std::vector<EinsumOperand>& operands) {
  const std::string script = einsum_script(subscripts, operands);
  if (std::optional<Program> cached = kept_programs().find(script)) return *cached;
  CompileOptions compile_options;
  compile_options.filename = "<einsum>";
  Program program = compile(script, compile_options);  // a CompileError is not kept: it is thrown each time
  kept_programs().keep(script, program);
  return program;
}

Tensor einsum(std::string_view subscripts, const std::vector<Tensor>& operands, const RunOptions& options) {
  std::vector<EinsumOperand> described;
  TensorMap inputs;
  for (std::size_t k = 0; k < operands.size(); ++k) {
    described.push_back({operands[k].dtype(), operands[k].shape()});
    inputs.emplace("operand" + std::to_string(k), operands[k]);
  }
  TensorMap outputs = compile_einsum(subscripts, described).run(inputs, options);
  return outputs.at("result");
}

}  // namespace einc
