// ir/lower_einsum.cpp — `C = einsum("ij,jk->ik", A, B)` with numpy's meaning.
//
// The subscripts are parsed by frontend/einsum_subscripts; this file binds
// the labels to index variables and applies numpy's broadcasting: a label (or
// ellipsis dimension) whose extent is 1 in one operand and n in another is
// read at position 0 of the extent-1 operand (a literal 0 subscript), n being
// any other extent, 0 included. Index notation
// stays strict; only this form broadcasts. The result is the product of the
// operands; every label not in the output is summed by the Einstein pass.
#include <algorithm>
#include <map>

#include "frontend/einsum_subscripts.h"
#include "ir/expr_builders.h"
#include "ir/statement_lowering.h"

namespace einc::ir {

namespace {

struct LabelUse {
  int operand;
  int dim;
  Poly extent;
};

std::string label_name(const frontend::EinsumDim& d) {
  return d.label ? std::string(1, d.label) : "_" + std::to_string(d.ellipsis_dim);
}

}  // namespace

ExprPtr StatementLowering::lower_einsum(const ast::Einsum& einsum, std::vector<int>& lhs) {
  const std::string& spec = einsum.subscripts.text;
  auto spec_span = [&](int offset, int length = 1) {
    std::uint32_t begin = einsum.subscripts.span.begin + 1 + static_cast<std::uint32_t>(offset);
    return Span{begin, begin + static_cast<std::uint32_t>(length)};
  };
  auto label_span = [&](const frontend::EinsumDim& d) {
    std::size_t at = d.label ? spec.find(d.label) : spec.find("...");
    if (at == std::string::npos) return einsum.subscripts.span;
    return spec_span(static_cast<int>(at), d.label ? 1 : 3);
  };

  // The operands: tensors defined before this statement.
  std::vector<int> tensors;
  std::vector<std::size_t> ranks;
  for (const ast::Identifier& name : einsum.operands) {
    int t = program_.find_tensor(name.name);
    if (t < 0) {
      ast::Access access;
      access.name = name;
      access.span = name.span;
      lower_access(access, false, access.span);  // reports the unknown name
      failed_ = true;
      return nullptr;
    }
    const Tensor& tensor = program_.tensors[t];
    if (tensor.defined_by == kBrokenDefinition) {
      failed_ = true;
      return nullptr;
    }
    if (tensor.role == TensorRole::intermediate && (tensor.defined_by < 0 || (t == target_ && target_is_new_))) {
      if (tensor.defined_by != kBrokenDefinition)
        sink_.error(name.span, "tensor '" + name.name + "' is used before it is defined");
      failed_ = true;
      return nullptr;
    }
    note_dtype(t, name.span);
    tensors.push_back(t);
    ranks.push_back(program_.tensors[t].shape.size());
  }
  auto parsed = frontend::parse_einsum_subscripts(spec, ranks);
  if (auto* error = std::get_if<frontend::EinsumError>(&parsed)) {
    int at = std::clamp(error->offset, 0, static_cast<int>(spec.size()));
    sink_.error(spec_span(at), "einsum: " + error->message);
    failed_ = true;
    return nullptr;
  }
  const auto& subscripts = std::get<frontend::EinsumSubscripts>(parsed);

  // Each label's uses, in operand order.
  std::map<std::string, std::vector<LabelUse>> uses;
  std::map<std::string, frontend::EinsumDim> dims_by_name;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const auto& term = subscripts.operands[k];
    for (std::size_t d = 0; d < term.size(); ++d) {
      std::string name = label_name(term[d]);
      uses[name].push_back({static_cast<int>(k), static_cast<int>(d), program_.tensors[tensors[k]].shape[d]});
      dims_by_name.emplace(name, term[d]);
    }
  }

  // Extent of each label: the first use whose extent is not 1 (numpy's
  // rule: an extent of 1 broadcasts against any other, 0 included); the
  // other uses must have that extent or, in another operand, 1.
  std::map<std::string, std::vector<bool>> broadcast;  // per use
  auto is_one = [&](const Poly& extent) { return program_.try_evaluate(extent) == std::optional<std::int64_t>(1); };
  for (auto& [name, list] : uses) {
    const frontend::EinsumDim& dim = dims_by_name[name];
    std::size_t widest = 0;
    for (std::size_t u = 1; u < list.size() && is_one(list[widest].extent); ++u) {
      if (!is_one(list[u].extent)) widest = u;
    }
    std::vector<bool>& flags = broadcast[name];
    flags.assign(list.size(), false);
    for (std::size_t u = 0; u < list.size(); ++u) {
      if (same_extent(list[u].extent, list[widest].extent)) continue;
      bool same_operand = list[u].operand == list[widest].operand;
      if (is_one(list[u].extent) && !same_operand) {
        flags[u] = true;
        continue;
      }
      std::string what = dim.label ? "label '" + name + "'" : "the broadcast dimensions of '...'";
      sink_.error(label_span(dim), "einsum: " + what + " has extent " + describe_extent(list[u].extent) +
                                       " in operand " + std::to_string(list[u].operand) + " ('" +
                                       program_.tensors[tensors[list[u].operand]].name + "') but " +
                                       describe_extent(list[widest].extent) + " in operand " +
                                       std::to_string(list[widest].operand) + " ('" +
                                       program_.tensors[tensors[list[widest].operand]].name + "')");
      failed_ = true;
      return nullptr;
    }
    ast::Identifier id;
    id.name = name;
    id.span = label_span(dim);
    int index = index_id(id);
    learn_extent(index, list[widest].extent, id.span);
  }

  // The accesses and their product.
  std::vector<ExprPtr> factors;
  std::map<std::string, std::size_t> next_use;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    std::vector<Subscript> subs;
    for (const frontend::EinsumDim& d : subscripts.operands[k]) {
      std::string name = label_name(d);
      std::size_t u = next_use[name]++;
      subs.push_back(broadcast[name][u] ? Subscript::literal(0) : Subscript::of_index(index_by_name_.at(name)));
    }
    factors.push_back(make_access(einsum.operands[k].span, tensors[k], std::move(subs)));
  }
  for (const frontend::EinsumDim& d : subscripts.output) lhs.push_back(index_by_name_.at(label_name(d)));
  if (factors.empty()) {
    sink_.error(einsum.span, "einsum needs at least one operand");
    failed_ = true;
    return nullptr;
  }
  if (factors.size() == 1) return factors[0];
  has_product_or_sum_ = true;
  return make_nary(ExprKind::multiply, einsum.span, std::move(factors), std::vector<char>(tensors.size(), '*'));
}

}  // namespace einc::ir
