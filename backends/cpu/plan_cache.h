// backends/cpu/plan_cache.h — the plans of one program's statements, kept
// from one run to the next.
//
// Planning a statement (statement_plan.h: matching the GETT form, ordering
// a product, choosing a loop kernel) takes microseconds, as long as the
// whole run of a small contraction: a program run again and again (a
// cached einsum, a layer called per token) would plan the same statements
// every time. A plan is a pure function of the program, the statement and
// the layouts (dtype, shape, strides, whether it holds data) of the tensors
// the statement writes and reads, so it is kept under those and reused
// while they stay the same; inputs with other strides get a plan of their
// own. Only the statements of the program the cache was made for are
// cached (a product's steps and the statements on access copies belong to
// programs made during the run, and are planned anew).
//
// One cache serves every run of its program, from any thread (a
// runtime::RecentCache per statement), and a plan, once made, is never
// changed.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backends/cpu/statement_plan.h"
#include "einc/tensor.h"
#include "ir/program.h"
#include "runtime/recent_cache.h"

namespace einc::cpu {

class PlanCache {
 public:
  // A cache for the statements of `program`, which must outlive it.
  explicit PlanCache(const ir::Program& program);

  // Whether `statement` is one of the cached program's statements.
  bool serves(const ir::Program& program, const ir::Statement& statement) const;

  // The plan of `statement` (served) on `tensors`: the one made for the
  // same layouts before, or plan_statement's, kept for the next run.
  std::shared_ptr<const StatementPlan> plan(const ir::Statement& statement, const std::vector<Tensor>& tensors);

 private:
  // What a plan reads of the statement's tensors (plan_cache.cpp, layout_key).
  using LayoutKey = std::vector<std::int64_t>;
  struct StatementEntries {
    std::vector<int> tensors;  // the target and every tensor read
    std::unique_ptr<runtime::RecentCache<LayoutKey, std::shared_ptr<const StatementPlan>>> plans;
  };

  const ir::Program& program_;
  std::vector<StatementEntries> statements_;  // by statement index
};

}  // namespace einc::cpu
