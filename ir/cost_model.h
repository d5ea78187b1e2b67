// ir/cost_model.h — what a program costs, as polynomials in the dims.
//
// An analysis of ir::Program following docs/language.md's cost model: per
// statement and per contraction term, outputs, reduction length, MACs (of
// the chosen pairwise order, and naive), FLOPs, transcendentals, compulsory
// bytes and params. Counts stay symbolic (Poly); reports evaluate them with
// overflow checks. Choosing the pairwise order of a product of three or more
// operands needs numbers, so the dims that product uses must be bound
// (UnboundDimError otherwise). The exact per-node rules are in
// docs/cost-model.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/program.h"

namespace einc::ir {

struct ContractionCost {
  const Expr* node = nullptr;         // the reduce(sum) node
  std::vector<const Expr*> operands;  // its factors
  std::vector<int> summed;            // index ids
  Poly dot_products, reduction_length, macs, naive_macs, flops;
  std::vector<std::pair<int, int>> path;  // opt_einsum-style steps
  std::string order;                      // "((A*B)*C)"
  bool exact = true;                      // order found by exact search
};

enum class StatementKind { elementwise, reduction, normalization, contraction };
const char* statement_kind_name(StatementKind kind);

struct StatementCost {
  StatementKind kind = StatementKind::elementwise;
  Poly outputs, dot_products, reduction_length, macs, naive_macs, flops, transcendentals, bytes, params;
  std::vector<ContractionCost> contractions;
};

struct ProgramCost {
  std::vector<StatementCost> statements;  // parallel to Program::statements
  Poly params;                            // elements of every declared param
};

ProgramCost analyze_cost(const Program& program);

// Elements of a tensor: the product of its extents.
Poly tensor_elements(const Tensor& tensor);

}  // namespace einc::ir
