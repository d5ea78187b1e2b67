// backends/cpu/plan_cache.cpp — see plan_cache.h.
#include "backends/cpu/plan_cache.h"

#include <functional>

namespace einc::cpu {

namespace {

// Plans kept per statement: inputs of a few layouts (C-order, a transposed
// view, a slice) each keep theirs; more drop the least recently used.
constexpr std::size_t kPlansPerStatement = 8;

// What a plan reads of tensors `ids`: for each, whether it holds data, its
// dtype, rank, shape and strides.
std::vector<std::int64_t> layout_key(const std::vector<int>& ids, const std::vector<Tensor>& tensors) {
  std::vector<std::int64_t> key;
  for (int id : ids) {
    const Tensor& t = tensors.at(static_cast<std::size_t>(id));
    if (!t.defined()) {
      key.push_back(-1);
      continue;
    }
    key.push_back(static_cast<std::int64_t>(t.dtype()));
    key.push_back(static_cast<std::int64_t>(t.rank()));
    key.insert(key.end(), t.shape().begin(), t.shape().end());
    key.insert(key.end(), t.strides().begin(), t.strides().end());
  }
  return key;
}

}  // namespace

PlanCache::PlanCache(const ir::Program& program) : program_(program), statements_(program.statements.size()) {
  for (std::size_t s = 0; s < program.statements.size(); ++s) {
    const ir::Statement& statement = program.statements[s];
    std::vector<int>& ids = statements_[s].tensors;
    ids.push_back(statement.target);
    for (int t : ir::tensors_read(*statement.value))
      if (t != statement.target) ids.push_back(t);
    statements_[s].plans =
        std::make_unique<runtime::RecentCache<LayoutKey, std::shared_ptr<const StatementPlan>>>(kPlansPerStatement);
  }
}

bool PlanCache::serves(const ir::Program& program, const ir::Statement& statement) const {
  const std::less<const ir::Statement*> before;  // (a total order, also across unrelated arrays)
  const ir::Statement* first = program_.statements.data();
  return &program == &program_ && !before(&statement, first) && before(&statement, first + program_.statements.size());
}

std::shared_ptr<const StatementPlan> PlanCache::plan(const ir::Statement& statement,
                                                     const std::vector<Tensor>& tensors) {
  const StatementEntries& cached = statements_.at(static_cast<std::size_t>(&statement - program_.statements.data()));
  const LayoutKey key = layout_key(cached.tensors, tensors);
  if (std::optional<std::shared_ptr<const StatementPlan>> kept = cached.plans->find(key)) return *kept;
  auto plan = std::make_shared<const StatementPlan>(plan_statement(program_, statement, TensorLayouts(tensors)));
  cached.plans->keep(key, plan);
  return plan;
}

}  // namespace einc::cpu
