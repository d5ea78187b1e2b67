// ir/statement_lowering.h — lowers one assignment (internal to sema).
//
// Holds the per-statement state: index variables and where each one's
// extent was learned, the indices bound by explicit reductions, and the
// dtype seen so far. lower_ast.cpp drives it; lower_einsum.cpp adds the
// einsum form to it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "ir/program.h"

namespace einc::ir {

// Tensor::defined_by of a tensor whose defining statement had errors: later
// uses fail silently instead of cascading into "used before it is defined".
inline constexpr int kBrokenDefinition = -2;

class StatementLowering {
 public:
  // `assigned_anywhere`: the first assignment of each name in the whole
  // script, for "used before it is defined" messages. `broken_names`: names
  // whose declaration failed with its error reported (a statement that did
  // not parse, a dim whose value is not integer arithmetic on known dims);
  // a use of one that finds nothing fails without a message.
  StatementLowering(Program& program, frontend::DiagnosticSink& sink, int statement_index,
                    const std::map<std::string, Span>& assigned_anywhere, const std::set<std::string>& broken_names)
      : program_(program),
        sink_(sink),
        statement_index_(statement_index),
        assigned_anywhere_(assigned_anywhere),
        broken_names_(broken_names) {}

  // Returns false (after reporting) when the statement is invalid.
  bool lower(const ast::Assignment& assignment, Statement& out);
  // The statement is in repeat block `id` (its index selects layers).
  void set_block(int id) { block_id_ = id; }

 private:
  int index_id(const ast::Identifier& name);
  void learn_extent(int index, const Poly& extent, Span where);
  std::string position(Span span) const;
  std::string describe_extent(const Poly& extent) const;
  bool same_extent(const Poly& a, const Poly& b) const;

  ExprPtr lower_operand(const ast::Operand& operand);
  // access_lowering.cpp: positions, padded(...), affine extents and bounds.
  ExprPtr lower_access(const ast::Access& access, bool zero_padded, Span padded_span);
  ExprPtr lower_padded(const ast::Call& call);
  // `w[l, d, f]` in a repeat block over l: the layer tensor `w[l]` at [d, f].
  ExprPtr lower_layer_access(const ast::Access& access, bool zero_padded, Span padded_span);
  int layer_tensor(int source);
  bool is_layer_index(const std::string& name) const;
  // `in_access`: a bare name is an index (else: an extent, where it is a dim).
  std::optional<Subscript> lower_position(const ast::Operand& position, bool in_access = true);
  std::optional<Subscript> lower_lookup(const ast::Access& access);
  int resolve_tensor(const ast::Access& access);
  bool check_index_scope(const ast::Identifier& index);
  bool learn_given_extent(const ast::Identifier& index, const ast::Operand& extent);
  bool resolve_affine_extents();
  bool check_affine_bounds();

  ExprPtr lower_call(const ast::Call& call);
  // `f32(...)`, `i8(...)`: its argument's operands share a dtype of their
  // own; the conversion gives the statement `to`.
  ExprPtr lower_conversion(const ast::Call& call, DType to);
  ExprPtr lower_reduction(const ast::Reduction& reduction);
  ExprPtr lower_unary(const ast::Unary& unary);
  ExprPtr lower_chain(const ast::Chain& chain);
  // condition_lowering.cpp: `where(j <= i, a, b)` and `inf`.
  ExprPtr lower_select(const ast::Select& select);
  std::optional<Condition> lower_condition(const ast::Comparison& comparison);
  ExprPtr lower_infinity(const ast::Access& access);
  bool check_conditions();
  ExprPtr lower_number(const ast::Number& number);
  // The einsum form (lower_einsum.cpp): fills lhs indices and returns the product.
  ExprPtr lower_einsum(const ast::Einsum& einsum, std::vector<int>& lhs);

  void note_dtype(int tensor, Span where);
  // `source` ("'A'", "f32(...)") is of `dtype`: the statement's dtype, or an
  // error naming both when it differs from the one seen first.
  void note_dtype(DType dtype, const std::string& source, Span where);
  void collect_explicit_reductions(const ast::Operand& operand);
  bool check_target(const ast::Assignment& assignment, bool is_einsum);

  Program& program_;
  frontend::DiagnosticSink& sink_;
  int statement_index_;
  const std::map<std::string, Span>& assigned_anywhere_;
  const std::set<std::string>& broken_names_;
  int target_ = -1;
  int block_id_ = -1;
  bool target_is_new_ = false;
  bool failed_ = false;
  // A position that is not one index (`i + m`, `0`, `d + D`): its extents
  // are inferred and its bounds checked once the statement is lowered.
  struct AffineUse {
    int tensor = -1;
    std::size_t dim = 0;
    Subscript subscript;
    Span span;         // the position
    Span access_span;  // the whole access
    bool padded = false;
  };
  std::vector<AffineUse> affine_uses_;
  // The conditions of `where`: their extents are checked (equal, known)
  // once the statement is lowered.
  struct ConditionUse {
    Condition condition;
    Span span, lhs_span, rhs_span;
  };
  std::vector<ConditionUse> conditions_;
  // Reductions that need a non-empty index whose extent was not known yet.
  struct PendingNonEmpty {
    std::string op;
    int index = -1;
    Span span;
  };
  std::vector<PendingNonEmpty> pending_non_empty_;
  bool check_non_empty(const std::string& op, int index, Span span);
  std::vector<IndexVar> indices_;
  std::vector<bool> has_extent_;
  std::map<std::string, int> index_by_name_;
  std::map<std::string, Span> reduced_;      // index name -> reduction op span
  std::vector<std::string> active_reduced_;  // indices bound by enclosing reductions
  // The dtype of the operands seen so far (outside conversions, or inside
  // the conversion being lowered), and what set it: "'A'" or "f32(...)".
  std::optional<DType> dtype_;
  std::string dtype_source_;
  Span dtype_span_;
  bool has_product_or_sum_ = false;
};

}  // namespace einc::ir
