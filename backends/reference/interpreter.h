// backends/reference/interpreter.h — the reference backend: a plain
// interpreter of ir::Program statements, the oracle every other backend is
// tested against.
//
// Float statements are computed in double and integer statements in int64,
// then rounded once to the statement's dtype when stored. Contractions follow
// the same pairwise plan the report shows (ir/product_plan.h). Formulas of
// every function and normalisation are in docs/semantics.md.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::reference {

// A problem found while running (integer division by zero, an empty max).
class ExecutionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Computes `statement` and stores it into tensors[statement.target] (which
// must be allocated with the target's shape). `tensors` is indexed by
// tensor id; every tensor the statement reads must be present.
void execute_statement(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors);

// The value of `expr`, a subexpression of `statement` made only of numbers
// and dims (ir::Expr::folds), computed exactly as execute_statement computes
// it there: in double for a float statement (fold_real), in wrapping int64
// for an i8/i32 one (fold_integer). The cpu and cuda backends compute such a
// scalar once per run this way instead of per element (docs/cost-model.md).
// Throws ExecutionError where the statement would (integer division by zero)
// and ir::UnboundDimError while a dim it needs (or an extent of the
// statement's indices) is unbound.
double fold_real(const ir::Program& program, const ir::Statement& statement, const ir::Expr& expr);
std::int64_t fold_integer(const ir::Program& program, const ir::Statement& statement, const ir::Expr& expr);

// A function of the language at a (and b: max, min, pow), in double: the
// documented formulas (docs/semantics.md) every float statement's values
// follow here. The cpu backend's f64 loop kernels call it for each lane.
double apply_function(ir::Func f, double a, double b);

// The id that lookup position `d` of `access` reads at index values `at`
// (by index id), checked against the extent it indexes: an id outside it
// is an ExecutionError naming the id and where it was read
// (ir::lookup_out_of_range). The cpu backend's gather uses it too.
std::int64_t read_lookup_id(const ir::Program& program, const ir::Statement& statement, const ir::Expr& access,
                            std::size_t d, const std::vector<Tensor>& tensors, const std::vector<std::int64_t>& at);

}  // namespace einc::reference
