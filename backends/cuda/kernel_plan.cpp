// backends/cuda/kernel_plan.cpp — see kernel_plan.h.
#include "backends/cuda/kernel_plan.h"

#include <stdexcept>
#include <string>

#include "backends/cuda/elementwise_source.h"
#include "backends/cuda/row_source.h"
#include "ir/product_split.h"

namespace einc::cuda {

namespace {

bool gett_operands_ok(const ir::Program& program, const ir::Statement& statement, const ir::GettStatement& g) {
  auto ok = [&](int t) {
    return t != statement.target && program.tensors.at(static_cast<std::size_t>(t)).dtype == ir::DType::f32;
  };
  bool all = ok(g.a.tensor) && ok(g.b.tensor) &&
             program.tensors.at(static_cast<std::size_t>(statement.target)).dtype == ir::DType::f32;
  for (const ir::GettTerm& t : g.bias) all = all && ok(t.access.tensor);
  for (const ir::GettTerm& t : g.residual) all = all && ok(t.access.tensor);
  return all;
}

std::int64_t row_size(const ir::Program& program, const ir::Statement& statement, const std::vector<int>& r) {
  std::int64_t n = 1;
  for (int i : r) n *= program.evaluate(statement.indices.at(static_cast<std::size_t>(i)).extent);
  return n;
}

std::optional<ir::GettStatement> gett_of(const ir::Program& program, const ir::Statement& statement,
                                         const TensorStrides& strides) {
  if (statement.dtype != ir::DType::f32 || statement.accumulate) return std::nullopt;
  auto g = ir::match_gett(program, statement, strides.at(static_cast<std::size_t>(statement.target)));
  // Not here: masks and views with an offset (elementwise kernels), and a
  // plan that scales an operand first (its product steps: the kernels run
  // the plan, whose FLOPs the report counts).
  if (g && !g->mask && !ir::reads_with_offsets(*g) && g->scale_at == ir::ScaleAt::result &&
      gett_operands_ok(program, statement, *g))
    return g;
  return std::nullopt;
}

ir::DType temporary_dtype(ir::DType statement) {
  switch (statement) {
    case ir::DType::f64:
      return ir::DType::f64;
    case ir::DType::i8:
    case ir::DType::i32:
      return ir::DType::i32;
    default:
      return ir::DType::f32;
  }
}

}  // namespace

void for_each_kernel_statement(const ir::Program& program, const ir::Statement& statement, const TensorStrides& strides,
                               const KernelStatementVisitor& visit) {
  if (!gett_of(program, statement, strides)) {
    if (const ir::Expr* product = ir::find_product_to_split(program, statement)) {
      const ir::ProductSplit split = ir::split_product(program, statement, *product, temporary_dtype(statement.dtype));
      const TensorStrides split_strides = contiguous_strides(split.program);
      for (const ir::Statement& s : split.statements) for_each_kernel_statement(split.program, s, split_strides, visit);
      return;
    }
  }
  visit(program, statement, strides);
}

StatementKernel plan_statement_kernel(const ir::Program& program, const ir::Statement& statement,
                                      const TensorStrides& strides) {
  StatementKernel out;
  if (auto g = gett_of(program, statement, strides)) {
    out.spec = make_cuda_gett_spec(program, statement, *g, strides);
    out.kernel = generate_gett_kernel(*out.spec);
    out.gett = std::move(g);
    return out;
  }
  if (auto r = row_indices(statement); r && row_size(program, statement, *r) >= kRowKernelMinimum) {
    out.kernel = generate_row_kernel(program, statement, strides);
    return out;
  }
  out.kernel = generate_elementwise_kernel(program, statement, strides);
  return out;
}

const char* kernel_kind_name(KernelKind kind) {
  switch (kind) {
    case KernelKind::gett:
      return "gett";
    case KernelKind::row:
      return "row";
    case KernelKind::elementwise:
      return "elementwise";
  }
  return "?";
}

}  // namespace einc::cuda
