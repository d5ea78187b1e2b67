// ir/einstein_sums.cpp — see einstein_sums.h.
#include "ir/einstein_sums.h"

#include <algorithm>
#include <iterator>
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

// --- warn_nonlinear_sums ----------------------------------------------------

std::vector<int> intersect(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<int> without(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// The longest source text a suggestion quotes; longer text is "...".
constexpr std::size_t kMaxQuoted = 48;

class NonlinearSums {
 public:
  NonlinearSums(const Statement& statement, frontend::DiagnosticSink& sink) : statement_(statement), sink_(sink) {}

  void run() { find_sums(*statement_.value); }

 private:
  void find_sums(const Expr& e) {
    if (e.kind == ExprKind::reduce && e.implicit) search(*e.args[0], e, e.over);
    for (const ExprPtr& a : e.args) find_sums(*a);
  }

  // Reports each non-linear node of `e` (inside the implicit `sum`) that
  // holds one of `indices`, once, for the indices it holds; what it reports
  // it does not search again.
  void search(const Expr& e, const Expr& sum, const std::vector<int>& indices) {
    const std::vector<int> held = intersect(indices, e.free);
    if (held.empty()) return;
    switch (e.kind) {
      case ExprKind::call:
        return warn(e, sum, held, call_text(e, held), call_name(e));
      case ExprKind::reduce:
        if (e.implicit || e.reduce_op == ReduceOp::sum || e.reduce_op == ReduceOp::mean) break;  // linear
        return warn(e, sum, held, binder_text(e, reduce_op_name(e.reduce_op), held), reduce_op_name(e.reduce_op));
      case ExprKind::normalize: {
        // Along the summed index the normalisation needs that index: the
        // sum outside it is the only reading (`softmax(j: S) * V[j, e]`).
        const std::vector<int> across = without(held, e.over);
        if (!across.empty())
          warn(e, sum, across, binder_text(e, norm_op_name(e.norm_op), across), norm_op_name(e.norm_op));
        return;
      }
      default:
        break;
    }
    for (const ExprPtr& a : e.args) search(*a, sum, held);
  }

  std::string names(const std::vector<int>& ids) const {
    std::string out;
    for (int id : ids) out += (out.empty() ? "" : ", ") + statement_.indices[static_cast<std::size_t>(id)].name;
    return out;
  }

  std::string quoted(const std::vector<int>& ids) const {
    std::string out;
    for (int id : ids) out += (out.empty() ? "'" : ", '") + statement_.indices[static_cast<std::size_t>(id)].name + "'";
    return out;
  }

  std::string subject(const std::vector<int>& ids) const {
    return ids.size() == 1 ? "index " + quoted(ids) + " is" : "indices " + quoted(ids) + " are";
  }

  // The source text of a node, on one line; "..." when long.
  std::string text(const Expr& e) const {
    const std::string& source = sink_.source().text();
    std::string out;
    for (std::size_t i = e.span.begin; i < e.span.end && i < source.size(); ++i) {
      const bool space = source[i] == ' ' || source[i] == '\t' || source[i] == '\n' || source[i] == '\r';
      if (!space)
        out += source[i];
      else if (!out.empty() && out.back() != ' ')
        out += ' ';
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out.empty() || out.size() > kMaxQuoted ? "..." : out;
  }

  std::string summed(const std::vector<int>& ids, const Expr& body) const {
    return "sum(" + names(ids) + ": " + text(body) + ")";
  }

  // `silu(sum(d: x[t, d]*w[d, f]))`: the call with the sum moved inside
  // each argument that holds a summed index.
  std::string call_text(const Expr& call, const std::vector<int>& ids) const {
    std::string out = call_name(call) + "(";
    for (std::size_t k = 0; k < call.args.size(); ++k) {
      const Expr& a = *call.args[k];
      out += (k ? ", " : "") + (intersect(ids, a.free).empty() ? text(a) : summed(intersect(ids, a.free), a));
    }
    return out + ")";
  }

  // `max(j: sum(d: ...))`.
  std::string binder_text(const Expr& binder, const char* op, const std::vector<int>& ids) const {
    return std::string(op) + "(" + names(binder.over) + ": " + summed(ids, *binder.args[0]) + ")";
  }

  std::string scope(const Expr& sum, const Expr& node, const std::string& name) const {
    if (sum.args[0].get() == &node) return "the results of " + name;
    return std::string(sum.args[0]->kind == ExprKind::multiply ? "the whole product" : "the whole expression") + ", " +
           name + " included";
  }

  frontend::Note placement(const Expr& sum, const std::vector<int>& ids) const {
    return {sum.span, "the Einstein rule sums " + quoted(ids) + " over this expression, the smallest that holds " +
                          (ids.size() == 1 ? "every occurrence" : "all their occurrences")};
  }

  void warn(const Expr& node, const Expr& sum, const std::vector<int>& ids, const std::string& inside,
            const std::string& name) {
    const bool binder = node.kind != ExprKind::call;
    const std::string shown = binder ? name + "(" + names(node.over) + ": ...)" : name + "(...)";
    sink_.warning(node.span,
                  subject(ids) + " summed outside " + shown + ": the sum runs over " + scope(sum, node, name) +
                      ". If you meant " + name + " of the sum, write " + inside +
                      " or compute the sum in its own statement; if you meant the sum of " + name +
                      " terms, write sum(" + names(ids) + ": ...) explicitly to silence this warning",
                  {placement(sum, ids)});
  }

  const Statement& statement_;
  frontend::DiagnosticSink& sink_;
};

}  // namespace

void warn_nonlinear_sums(const Program& program, frontend::DiagnosticSink& sink) {
  for (const Statement& s : program.statements) NonlinearSums(s, sink).run();
}

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
