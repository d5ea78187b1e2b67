// ir/einstein_sums.cpp — see einstein_sums.h.
#include "ir/einstein_sums.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "ir/expr_builders.h"

namespace einc::ir {

namespace {

using StopMap = std::map<const Expr*, std::vector<int>>;

// Walks down from the root while exactly one child holds `index` (a
// `where` whose condition compares it holds it itself).
const Expr* smallest_holder(const Expr* node, int index) {
  while (true) {
    if (node->kind == ExprKind::select && (node->condition.lhs == index || node->condition.rhs == index)) return node;
    const Expr* only = nullptr;
    int holders = 0;
    for (const ExprPtr& child : node->args)
      if (contains_index(*child, index)) {
        ++holders;
        only = child.get();
      }
    if (holders != 1) return node;
    node = only;
  }
}

// Groups the factors of a product connected through the summed indices.
ExprPtr sum_product(const Expr& product, std::vector<ExprPtr> factors, const std::vector<int>& summed) {
  std::size_t n = factors.size();
  std::vector<std::size_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (int k : summed) {
    std::size_t first = n;
    for (std::size_t f = 0; f < n; ++f) {
      if (!contains_index(*factors[f], k)) continue;
      if (first == n)
        first = f;
      else
        parent[find(f)] = find(first);
    }
  }
  std::vector<ExprPtr> outer_args;
  std::vector<char> outer_ops;
  std::vector<bool> emitted(n, false);
  for (std::size_t f = 0; f < n; ++f) {
    std::size_t root = find(f);
    std::vector<int> group_summed;
    for (int k : summed)
      if (contains_index(*factors[f], k)) group_summed.push_back(k);
    bool in_group = false;
    for (std::size_t g = 0; g < n; ++g)
      if (g != f && find(g) == root) in_group = true;
    if (!in_group && group_summed.empty()) {
      outer_args.push_back(factors[f]);
      outer_ops.push_back(product.ops[f]);
      continue;
    }
    if (emitted[root]) continue;
    emitted[root] = true;
    std::vector<ExprPtr> args;
    std::vector<char> ops;
    std::vector<int> over;
    for (std::size_t g = 0; g < n; ++g) {
      if (find(g) != root) continue;
      args.push_back(factors[g]);
      ops.push_back(product.ops[g]);
      for (int k : summed)
        if (contains_index(*factors[g], k)) over.push_back(k);
    }
    ExprPtr body = args.size() == 1 && ops[0] == '*' ? args[0] : make_nary(ExprKind::multiply, product.span, args, ops);
    outer_args.push_back(make_reduce(product.span, ReduceOp::sum, over, body, true));
    outer_ops.push_back('*');
  }
  if (outer_args.size() == 1 && outer_ops[0] == '*') return outer_args[0];
  return make_nary(ExprKind::multiply, product.span, std::move(outer_args), std::move(outer_ops));
}

ExprPtr rebuild(const ExprPtr& node, const StopMap& stops) {
  std::vector<ExprPtr> args;
  bool changed = false;
  for (const ExprPtr& child : node->args) {
    args.push_back(rebuild(child, stops));
    changed = changed || args.back() != child;
  }
  auto stop = stops.find(node.get());
  if (stop == stops.end() && !changed) return node;
  if (stop != stops.end() && node->kind == ExprKind::multiply) return sum_product(*node, args, stop->second);

  // Children may have lost indices to inner sums: with_args recomputes `free`.
  ExprPtr self = changed ? with_args(node, std::move(args)) : node;
  if (stop == stops.end()) return self;
  return make_reduce(node->span, ReduceOp::sum, stop->second, self, true);
}

}  // namespace

ExprPtr insert_implicit_sums(const ExprPtr& root, const std::vector<int>& summed) {
  StopMap stops;
  for (int k : summed) stops[smallest_holder(root.get(), k)].push_back(k);
  return rebuild(root, stops);
}

void make_sums_explicit(Program& program) {
  for (Statement& s : program.statements) {
    std::vector<int> lhs = s.lhs;
    std::sort(lhs.begin(), lhs.end());
    std::vector<int> summed;
    for (int i : s.value->free)
      if (!std::binary_search(lhs.begin(), lhs.end(), i)) summed.push_back(i);
    if (!summed.empty()) s.value = insert_implicit_sums(s.value, summed);
  }
}

}  // namespace einc::ir
