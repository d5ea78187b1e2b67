// ir/temporaries.cpp — see temporaries.h.
#include "ir/temporaries.h"

#include <string>
#include <utility>

#include "ir/expr_builders.h"

namespace einc::ir {

ExprPtr assign_temporary(Program& program, const Statement& statement, Span span, const std::vector<int>& indices,
                         ExprPtr value, DType dtype, std::vector<Statement>& statements,
                         std::vector<int>& temporaries) {
  Tensor temporary;
  const int id = static_cast<int>(program.tensors.size());
  temporary.name = "(temporary " + std::to_string(id) + " of line " + std::to_string(statement.line) + ")";
  temporary.span = statement.span;
  temporary.dtype = dtype;
  for (int index : indices) temporary.shape.push_back(statement.indices.at(static_cast<std::size_t>(index)).extent);
  program.add_tensor(std::move(temporary));
  Statement step = statement;
  step.target = id;
  step.lhs = indices;
  step.accumulate = false;
  step.dtype = dtype;
  step.value = std::move(value);
  statements.push_back(std::move(step));
  temporaries.push_back(id);
  return make_index_access(span, id, indices);
}

}  // namespace einc::ir
