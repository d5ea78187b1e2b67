// backends/cpu/loop_gen.cpp — see loop_gen.h.
//
// The emitter keeps a chain of open loop levels (level 0 is the function
// body). Each level starts with a hoist block that ends in a branch: a node
// whose deepest free index is bound at level p is emitted at the end of
// level p's hoist block, whatever level the emitter is in when it first
// needs the node, and is cached in level p. Hoisting a node that makes
// loops of its own (a reduction) moves the hoist block's branch to the end
// of the new code and updates the successor's phi nodes.
#include "backends/cpu/loop_gen.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "backends/cpu/llvm_util.h"
#include "backends/cpu/vector_math.h"
#include "einc/internal_error.h"
#include "ir/condition.h"
#include "ir/real_to_integer.h"

namespace einc::cpu {

namespace {

using llvm::BasicBlock;
using llvm::Value;

constexpr int kTarget = -1;      // the target's "slot" in offset caches
constexpr int kOutputNest = -1;  // the output loops, as LoopSplit::nest names them

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

class Emitter {
 public:
  Emitter(llvm::Module& module, const LoopSpec& spec, const std::string& symbol)
      : spec_(spec), graph_(spec.graph), ctx_(module.getContext()), b_(ctx_) {
    f32_ = b_.getFloatTy();
    integer_ = graph_.element == DType::i32;
    real_ = integer_ ? b_.getInt64Ty() : graph_.element == DType::f64 ? b_.getDoubleTy() : f32_;
    i64_ = b_.getInt64Ty();
    if (spec.lanes > 1) vec_ = llvm::FixedVectorType::get(real_, static_cast<unsigned>(spec.lanes));
    auto* f32p = llvm::PointerType::getUnqual(f32_);
    auto* i8p = llvm::PointerType::getUnqual(b_.getInt8Ty());
    auto* type = llvm::FunctionType::get(
        b_.getVoidTy(),
        {llvm::PointerType::getUnqual(f32p), llvm::PointerType::getUnqual(i64_),
         llvm::PointerType::getUnqual(b_.getDoubleTy()), llvm::PointerType::getUnqual(i8p), i64_, i64_},
        false);
    fn_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, symbol, module);
    fn_->addFnAttr(llvm::Attribute::NoUnwind);
    auto args = fn_->arg_begin();
    ptrs_ = &*args++;
    ints_ = &*args++;
    scalars_ = &*args++;
    fns_ = &*args++;
    begin_ = &*args++;
    end_ = &*args++;
    target_free_ = graph_.lhs;
    std::sort(target_free_.begin(), target_free_.end());
    for (const LoopSplit& split : graph_.splits) splits_[split.nest] = &split;
  }

  void emit() {
    BasicBlock* entry = BasicBlock::Create(ctx_, "entry", fn_);
    b_.SetInsertPoint(entry);
    BasicBlock* work = BasicBlock::Create(ctx_, "work", fn_);
    b_.CreateBr(work);
    b_.SetInsertPoint(work);
    Level function_level;
    function_level.hoist = entry;
    chain_.push_back(std::move(function_level));
    find_stash();
    levels(spec_.output, 0, kOutputNest, {}, [&](const std::vector<Value*>&) {
      const int root = version(kOutputNest, graph_.root);
      reuse_stash(root);
      store(value(root));
      return std::vector<Value*>{};
    });
    b_.CreateRetVoid();
  }

 private:
  struct Level {
    int index = -1;  // statement index id (-1: the function level)
    bool vector = false;
    Value* i = nullptr;     // the loop counter (a vector loop: its first lane)
    Value* mask = nullptr;  // a vector loop's remainder: the lanes in range
    BasicBlock* hoist = nullptr;
    bool hoisting = false;                    // the insertion point is at the end of the hoist block
    std::unordered_map<int, Value*> values;   // node id -> value
    std::unordered_map<int, Value*> offsets;  // slot -> offset (elements) of the indices bound so far
  };
  using Carried = std::vector<Value*>;
  using Leaf = std::function<Carried(const Carried&)>;
  using Body = std::function<Carried(Value* i, Value* mask, const Carried&)>;  // one loop's body
  using Closed = std::function<Carried(Value* count, const Carried&)>;

  // --- levels and hoisting ----------------------------------------------------

  // The deepest level binding one of `free` (0: none).
  std::size_t depth_of(const std::vector<int>& free, std::size_t below) const {
    for (std::size_t k = std::min(below, chain_.size()); k-- > 1;)
      if (contains(free, chain_[k].index)) return k;
    return 0;
  }
  std::size_t depth_of(const std::vector<int>& free) const { return depth_of(free, chain_.size()); }

  // Runs `emit` with the insertion point at the end of level p's hoist
  // block, so that what it emits dominates all of level p's body; values
  // cached at a level always live there (a value emitted further down the
  // level's body would not dominate a later hoist that uses it).
  Value* at_level(std::size_t p, const std::function<Value*()>& emit) {
    if (chain_[p].hoisting && p + 1 == chain_.size()) {  // there already
      Value* v = emit();
      chain_[p].hoist = b_.GetInsertBlock();  // where a later hoist into p goes, if emit() made blocks
      return v;
    }
    std::vector<Level> deeper(std::make_move_iterator(chain_.begin() + static_cast<std::ptrdiff_t>(p) + 1),
                              std::make_move_iterator(chain_.end()));
    chain_.resize(p + 1);
    auto saved = b_.saveIP();
    BasicBlock* hoist = chain_[p].hoist;
    auto* branch = llvm::dyn_cast_or_null<llvm::BranchInst>(hoist->getTerminator());
    if (!branch || !branch->isUnconditional()) EINC_FAIL("loop kernel: a hoist block without a plain branch");
    BasicBlock* next = branch->getSuccessor(0);
    branch->eraseFromParent();
    b_.SetInsertPoint(hoist);
    bool was_hoisting = chain_[p].hoisting;
    chain_[p].hoisting = true;
    Value* v = emit();
    chain_[p].hoisting = was_hoisting;
    BasicBlock* end = b_.GetInsertBlock();
    b_.CreateBr(next);
    if (end != hoist) {
      next->replacePhiUsesWith(hoist, end);
      chain_[p].hoist = end;
    }
    b_.restoreIP(saved);
    for (Level& l : deeper) chain_.push_back(std::move(l));
    return v;
  }

  void push_level(int index, bool vector, Value* i, Value* mask) {
    for (const Level& l : chain_) EINC_CHECK(l.index != index, "loop kernel: an index bound twice in one loop nest");
    Level level;
    level.index = index;
    level.vector = vector;
    level.i = i;
    level.mask = mask;
    level.hoist = BasicBlock::Create(ctx_, "hoist", fn_);
    b_.CreateBr(level.hoist);
    b_.SetInsertPoint(level.hoist);
    BasicBlock* work = BasicBlock::Create(ctx_, "work", fn_);
    b_.CreateBr(work);
    b_.SetInsertPoint(work);
    chain_.push_back(std::move(level));
  }

  void pop_level() { chain_.pop_back(); }

  // The innermost vector level binding one of `free`, or null.
  const Level* vector_level(const std::vector<int>& free) const {
    for (std::size_t k = chain_.size(); k-- > 1;)
      if (chain_[k].vector && contains(free, chain_[k].index)) return &chain_[k];
    return nullptr;
  }

  // --- loops -------------------------------------------------------------------

  // for (i = lo; whole ? i + step <= hi : i < hi; i += step) carried = body(i, carried);
  // returns the carried values after the loop and, in *last, the final i.
  Carried loop(Value* lo, Value* hi, std::int64_t step, bool whole, const Carried& carried,
               const std::function<Carried(Value*, const Carried&)>& body, Value** last) {
    BasicBlock* pre = b_.GetInsertBlock();
    BasicBlock* header = BasicBlock::Create(ctx_, "loop", fn_);
    BasicBlock* body_block = BasicBlock::Create(ctx_, "body", fn_);
    BasicBlock* exit = BasicBlock::Create(ctx_, "exit", fn_);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    llvm::PHINode* i = b_.CreatePHI(i64_, 2, "i");
    i->addIncoming(lo, pre);
    std::vector<llvm::PHINode*> phis;
    Carried current;
    for (Value* v : carried) {
      llvm::PHINode* phi = b_.CreatePHI(v->getType(), 2, "acc");
      phi->addIncoming(v, pre);
      phis.push_back(phi);
      current.push_back(phi);
    }
    Value* step_value = llvm::ConstantInt::get(i64_, static_cast<std::uint64_t>(step));
    Value* more = whole ? b_.CreateICmpSLE(b_.CreateAdd(i, step_value), hi) : b_.CreateICmpSLT(i, hi);
    b_.CreateCondBr(more, body_block, exit);
    b_.SetInsertPoint(body_block);
    Carried next = body(i, current);
    BasicBlock* latch = b_.GetInsertBlock();
    i->addIncoming(b_.CreateAdd(i, step_value), latch);
    for (std::size_t k = 0; k < phis.size(); ++k) phis[k]->addIncoming(next[k], latch);
    b_.CreateBr(header);
    b_.SetInsertPoint(exit);
    if (last) *last = i;
    return current;
  }

  // The loops of `order` from position k inward, of `nest` (kOutputNest or a
  // reduce node's id); `leaf` runs innermost. `closed`, for a reduction whose
  // version outside its split does not vary with its last loop: that
  // version's share of the accumulators over `count` points at once.
  Carried levels(const LoopOrder& order, std::size_t k, int nest, const Carried& carried, const Leaf& leaf,
                 const Closed& closed = nullptr) {
    const bool output = nest == kOutputNest;
    if (k == order.indices.size()) return leaf(carried);
    if (output && k == 0 && spec_.parallel_levels > 1) return flattened(order, carried, leaf);
    int x = order.indices[k];
    bool vector = x == order.vector_index && vec_ != nullptr;
    // The first output loop runs over the thread's part [begin, end); inside
    // a tile (below), the tile index was that loop, and the others run whole.
    const bool threads_part = output && k == 0 && tile_.index < 0;
    Value* lo = threads_part ? begin_ : llvm::ConstantInt::get(i64_, 0);
    Value* hi = threads_part ? end_ : int_param(spec_.extent_param(x));
    if (x == order.tile_index) return tiles(order, k, nest, lo, hi, carried, leaf, closed);
    if (x == tile_.index) lo = tile_.lo, hi = tile_.hi;
    const Body inner = [&](Value* i, Value* mask, const Carried& current) {
      push_level(x, vector, i, mask);
      Carried r = levels(order, k + 1, nest, current, leaf, closed);
      pop_level();
      return r;
    };
    if (const LoopSplit* split = split_at(nest, x))
      return split_loop(*split, x, lo, hi, vector, carried, inner, k + 1 == order.indices.size() ? closed : nullptr);
    return range(lo, hi, vector, carried, inner);
  }

  // The loop of a nest's tile index x = order.indices[k] over [lo, hi)
  // strip-mined (LoopOrder::tile_index): for each tile of kTileRows values
  // of x, the loops inside x, then x's loop over the tile, innermost.
  Carried tiles(const LoopOrder& order, std::size_t k, int nest, Value* lo, Value* hi, const Carried& carried,
                const Leaf& leaf, const Closed& closed) {
    EINC_CHECK(tile_.index < 0, "loop kernel: a tile inside a tile");
    LoopOrder inner = order;
    const int x = order.indices[k];
    inner.indices.erase(inner.indices.begin() + static_cast<std::ptrdiff_t>(k));
    inner.indices.push_back(x);
    inner.tile_index = -1;
    // Opened while the level's values are being emitted (at_level: a
    // reduction's nest hoisted out of the loops that use it), the tile loop
    // adds no level, and its body is no place for the level's values (a
    // later nest could not use them): while it is emitted, what its body
    // asks of this level goes in a block of its own just before the loop,
    // which ends in a plain branch to it whatever comes after.
    const std::size_t p = chain_.size() - 1;
    const bool hoisting = chain_[p].hoisting;
    if (hoisting) {
      BasicBlock* before = BasicBlock::Create(ctx_, "tiles", fn_);
      b_.CreateBr(before);
      b_.SetInsertPoint(before);
      chain_[p].hoist = before;
      chain_[p].hoisting = false;
    }
    Carried out = loop(
        lo, hi, kTileRows, false, carried,
        [&](Value* first, const Carried& current) {
          Value* end = b_.CreateAdd(first, llvm::ConstantInt::get(i64_, kTileRows));
          tile_ = {x, first, b_.CreateSelect(b_.CreateICmpSLT(end, hi), end, hi)};
          Carried r = levels(inner, k, nest, current, leaf, closed);
          tile_ = {};
          return r;
        },
        nullptr);
    chain_[p].hoisting = hoisting;  // (at the loop's exit, which dominates what follows)
    return out;
  }

  // The loop of one index over [lo, hi): whole vectors, then the rest as
  // one masked vector when `vector`.
  Carried range(Value* lo, Value* hi, bool vector, const Carried& carried, const Body& inner) {
    if (!vector)
      return loop(
          lo, hi, 1, false, carried, [&](Value* i, const Carried& c) { return inner(i, nullptr, c); }, nullptr);
    Value* i_end = nullptr;
    Carried main = loop(
        lo, hi, spec_.lanes, true, carried, [&](Value* i, const Carried& c) { return inner(i, nullptr, c); }, &i_end);
    // The remaining lanes as one masked vector.
    BasicBlock* before = b_.GetInsertBlock();
    BasicBlock* rest = BasicBlock::Create(ctx_, "rest", fn_);
    BasicBlock* join = BasicBlock::Create(ctx_, "join", fn_);
    b_.CreateCondBr(b_.CreateICmpSLT(i_end, hi), rest, join);
    b_.SetInsertPoint(rest);
    Value* lanes = b_.CreateAdd(b_.CreateVectorSplat(static_cast<unsigned>(spec_.lanes), i_end), iota());
    Value* mask = b_.CreateICmpSLT(lanes, b_.CreateVectorSplat(static_cast<unsigned>(spec_.lanes), hi));
    Carried tail = inner(i_end, mask, main);
    BasicBlock* rest_end = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    Carried out;
    for (std::size_t c = 0; c < main.size(); ++c) {
      llvm::PHINode* phi = b_.CreatePHI(main[c]->getType(), 2);
      phi->addIncoming(main[c], before);
      phi->addIncoming(tail[c], rest_end);
      out.push_back(phi);
    }
    return out;
  }

  // --- loops split at a condition (loop_graph.h) ------------------------------

  // The nest's split when it splits the loop of x here: not split yet, and
  // the other compared index bound by an enclosing scalar loop.
  const LoopSplit* split_at(int nest, int x) const {
    auto it = splits_.find(nest);
    if (it == splits_.end() || inside_.count(nest)) return nullptr;
    const ir::Condition& c = it->second->condition;
    const int other = c.lhs == x ? c.rhs : c.rhs == x ? c.lhs : -1;
    const Level* bound = other < 0 ? nullptr : level_of(other);
    return bound && !bound->vector ? it->second : nullptr;
  }

  const Level* level_of(int index) const {
    for (std::size_t k = chain_.size(); k-- > 1;)
      if (chain_[k].index == index) return &chain_[k];
    return nullptr;
  }

  // The value the nest computes where the emitter is: the original, or the
  // version of the piece of its split loop being emitted.
  int version(int nest, int original) const {
    auto it = inside_.find(nest);
    if (it == inside_.end()) return original;
    const LoopSplit& split = *splits_.at(nest);
    return it->second ? split.inside : split.outside;
  }

  // The loop of x over [lo, hi) in two pieces at the condition's boundary,
  // in order along x: for x <= y, [lo, y + 1) inside and the rest outside;
  // for x >= y, [lo, y) outside and the rest inside (both clamped to [lo, hi]).
  Carried split_loop(const LoopSplit& split, int x, Value* lo, Value* hi, bool vector, const Carried& carried,
                     const Body& inner, const Closed& closed) {
    const ir::Condition& c = split.condition;
    const ir::CompareOp op = c.lhs == x ? c.op : ir::mirrored(c.op);  // x op y
    Value* y = level_of(c.lhs == x ? c.rhs : c.lhs)->i;
    Value* bound =
        op == ir::CompareOp::le || op == ir::CompareOp::gt ? b_.CreateAdd(y, llvm::ConstantInt::get(i64_, 1)) : y;
    bound = b_.CreateSelect(b_.CreateICmpSLT(bound, lo), lo, bound);
    bound = b_.CreateSelect(b_.CreateICmpSGT(bound, hi), hi, bound);
    const bool prefix = op == ir::CompareOp::lt || op == ir::CompareOp::le;
    const int nest = split.nest;
    Carried current = carried;
    for (int piece = 0; piece < 2; ++piece) {
      const bool inside = (piece == 0) == prefix;
      Value* from = piece == 0 ? lo : bound;
      Value* to = piece == 0 ? bound : hi;
      if (!inside && nest == kOutputNest && graph_.outside_unread) continue;  // the fill no one reads
      inside_[nest] = inside;
      current = !inside && closed ? closed(b_.CreateSub(to, from), current) : range(from, to, vector, current, inner);
    }
    inside_.erase(nest);
    return current;
  }

  // --- a sum's terms kept in the target ---------------------------------------
  //
  // A softmax's output is exp(x - max) * (1 / sum(exp(x - max))): the sum
  // and the output loop compute the same exp at every point. When a sum's
  // body varies with every target index, its loops are the output's
  // innermost loops (same order, same vectorised index), and both nests are
  // split alike (or neither), the sum stores each term into the target as
  // it adds it, and the output loop loads it back instead of computing it
  // again: one exp per element instead of two. The target is written only
  // by this kernel (a statement reading its own target is not a loop
  // kernel), row by row, so the row is in cache when it is read back.

  struct Stash {
    int reduce = -1;      // the sum node, or -1
    int node = -1;        // the body the output loop reuses: where the nests are split, the inside version
    bool stored = false;  // the sum was emitted storing its terms
  };

  // The sum whose terms the root uses, when the rules above allow one.
  void find_stash() {
    if (spec_.accumulate || graph_.target_dtype != graph_.element) return;
    auto output_split = splits_.find(kOutputNest);
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      const LoopNode& node = graph_.nodes[n];
      if (node.op != LoopOp::reduce || node.reduce != LoopReduce::sum) continue;
      if (graph_.nodes[static_cast<std::size_t>(node.args[0])].free != target_free_) continue;
      auto split = splits_.find(static_cast<int>(n));
      if ((split == splits_.end()) != (output_split == splits_.end())) continue;
      if (split != splits_.end() && !(split->second->condition == output_split->second->condition)) continue;
      const int reused = split == splits_.end() ? node.args[0] : split->second->inside;
      const int root = output_split == splits_.end() ? graph_.root : output_split->second->inside;
      if (!reaches(root, reused)) continue;
      stash_ = {static_cast<int>(n), reused, false};
      return;
    }
  }

  // Whether `from` uses `node` without looking inside reductions (each
  // node visited once: the graph is a DAG whose paths can be many).
  bool reaches(int from, int node) const {
    std::vector<bool> seen(graph_.nodes.size(), false);
    std::vector<int> stack{from};
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      if (n == node) return true;
      if (seen[static_cast<std::size_t>(n)]) continue;
      seen[static_cast<std::size_t>(n)] = true;
      const LoopNode& f = graph_.nodes[static_cast<std::size_t>(n)];
      if (f.op != LoopOp::reduce) stack.insert(stack.end(), f.args.begin(), f.args.end());
    }
    return false;
  }

  // Where the sum is being emitted (its enclosing levels are chain_[1..]),
  // whether its loops continue the output's: the enclosing levels are the
  // output's first loops, scalar, the parallel one among them, and its own
  // loops the output's others, in order, vectorised alike.
  bool stash_fits(const LoopOrder& order) const {
    const std::vector<int>& out = spec_.output.indices;
    const std::size_t outer = chain_.size() - 1;
    if (out.size() != outer + order.indices.size() || spec_.output.vector_index != order.vector_index) return false;
    // The parallel loop (the first output loop, or the flattened ones) runs
    // one task's part of its range: the sum must be inside it, or it would
    // store terms into other tasks' points.
    if (outer < static_cast<std::size_t>(std::max(1, spec_.parallel_levels))) return false;
    for (std::size_t k = 0; k < outer; ++k)
      if (chain_[k + 1].index != out[k] || chain_[k + 1].vector) return false;
    return std::equal(order.indices.begin(), order.indices.end(), out.begin() + static_cast<std::ptrdiff_t>(outer));
  }

  // In the output loop's leaf: the kept terms, loaded from the target as
  // the value of the reused node at this point, where the sum stored them
  // (everywhere, or the inside piece of a split).
  void reuse_stash(int root) {
    if (stash_.reduce < 0 || !reaches(root, stash_.node)) return;
    if (splits_.count(kOutputNest)) {
      auto piece = inside_.find(kOutputNest);
      if (piece == inside_.end() || !piece->second) return;
    }
    value(stash_.reduce);  // emitted (hoisted) first: it stores the terms
    if (!stash_.stored) return;
    const std::size_t p = chain_.size() - 1;  // (where the node's value is cached: it varies with every index)
    chain_[p].values[stash_.node] = at_level(p, [&] { return load_target(); });
  }

  Value* load_target() {
    Value* where = b_.CreateGEP(real_, base(kTarget, real_), offset(kTarget, depth_of(target_free_)));
    const Level* vl = vector_level(target_free_);
    if (!vl) return b_.CreateAlignedLoad(real_, where, align(real_));
    if (vl->mask)
      return b_.CreateMaskedLoad(vec_, vector_pointer(where), align(real_), vl->mask,
                                 llvm::Constant::getNullValue(vec_));
    return b_.CreateAlignedLoad(vec_, vector_pointer(where), align(real_));
  }

  // The first parallel_levels output loops as one loop over [begin, end)
  // of their flattened index (the last fastest).
  Carried flattened(const LoopOrder& order, const Carried& carried, const Leaf& leaf) {
    const auto count = static_cast<std::size_t>(spec_.parallel_levels);
    return loop(
        begin_, end_, 1, false, carried,
        [&](Value* flat, const Carried& current) {
          std::vector<Value*> index(count);
          Value* rest = flat;
          for (std::size_t q = count; q-- > 1;) {
            Value* extent = int_param(spec_.extent_param(order.indices[q]));
            index[q] = b_.CreateSRem(rest, extent);
            rest = b_.CreateSDiv(rest, extent);
          }
          index[0] = rest;
          for (std::size_t q = 0; q < count; ++q) push_level(order.indices[q], false, index[q], nullptr);
          Carried r = levels(order, count, kOutputNest, current, leaf);
          for (std::size_t q = 0; q < count; ++q) pop_level();
          return r;
        },
        nullptr);
  }

  Value* iota() {
    std::vector<llvm::Constant*> lanes;
    for (int l = 0; l < spec_.lanes; ++l) lanes.push_back(llvm::ConstantInt::get(i64_, static_cast<std::uint64_t>(l)));
    return llvm::ConstantVector::get(lanes);
  }

  // --- arguments (loaded once, in the function's entry) ---------------------

  Value* int_param(int position) {
    auto [it, fresh] = int_params_.try_emplace(position, nullptr);
    if (fresh)
      it->second = at_level(0, [&] {
        return b_.CreateLoad(i64_, b_.CreateConstGEP1_64(i64_, ints_, static_cast<std::uint64_t>(position)));
      });
    return it->second;
  }

  // The base pointer of `slot` (kTarget: the target's) as an `element`*
  // (the kernel's pointer array holds float*s).
  Value* base(int slot, llvm::Type* element) {
    auto [it, fresh] = bases_.try_emplace(slot, nullptr);
    if (fresh)
      it->second = at_level(0, [&] {
        auto* f32p = llvm::PointerType::getUnqual(f32_);
        return b_.CreateLoad(f32p, b_.CreateConstGEP1_64(f32p, ptrs_, static_cast<std::uint64_t>(slot + 1)));
      });
    return element == f32_ ? it->second : b_.CreateBitCast(it->second, llvm::PointerType::getUnqual(element));
  }

  static llvm::Align align(llvm::Type* element) { return llvm::Align(element->getScalarSizeInBits() / 8); }

  Value* library_fn(int index) {
    auto [it, fresh] = library_fns_.try_emplace(index, nullptr);
    if (fresh)
      it->second = at_level(0, [&] {
        auto* i8p = llvm::PointerType::getUnqual(b_.getInt8Ty());
        return b_.CreateLoad(i8p, b_.CreateConstGEP1_64(i8p, fns_, static_cast<std::uint64_t>(index)));
      });
    return it->second;
  }

  const std::vector<int>& slot_free(int slot) const {
    return slot == kTarget ? target_free_ : graph_.accesses[static_cast<std::size_t>(slot)].free;
  }

  // The offset of `slot` over the indices bound at levels <= p.
  Value* offset(int slot, std::size_t p) {
    if (p == 0) return llvm::ConstantInt::get(i64_, 0);
    auto it = chain_[p].offsets.find(slot);
    if (it != chain_[p].offsets.end()) return it->second;
    Value* v = at_level(p, [&] {
      Value* outer = offset(slot, depth_of(slot_free(slot), p));
      Value* stride = int_param(spec_.stride_param(slot, chain_[p].index));
      return b_.CreateAdd(outer, b_.CreateMul(chain_[p].i, stride));
    });
    chain_[p].offsets[slot] = v;
    return v;
  }

  Value* vector_pointer(Value* scalar_pointer, llvm::Type* vector = nullptr) {
    return b_.CreateBitCast(scalar_pointer, llvm::PointerType::getUnqual(vector ? vector : vec_));
  }

  Value* widen(Value* v, llvm::Type* type) {
    if (type->isVectorTy() && !v->getType()->isVectorTy())
      return b_.CreateVectorSplat(static_cast<unsigned>(spec_.lanes), v);
    if (!type->isVectorTy() && v->getType()->isVectorTy())
      EINC_FAIL("loop kernel: a vector value where a scalar is expected");
    return v;
  }

  // --- nodes ---------------------------------------------------------------------

  Value* value(int n) {
    const LoopNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    std::size_t p = depth_of(node.free);
    auto it = chain_[p].values.find(n);
    if (it != chain_[p].values.end()) return it->second;
    Value* v = at_level(p, [&] { return emit_node(n); });
    chain_[p].values[n] = v;
    return v;
  }

  Value* emit_node(int n) {
    const LoopNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    auto binary = [&](auto make) {
      Value* a = value(node.args[0]);
      Value* c = value(node.args[1]);
      unify(b_, a, c);
      return make(a, c);
    };
    switch (node.op) {
      case LoopOp::load:
        return load(node.slot);
      case LoopOp::scalar: {
        Value* v = b_.CreateLoad(
            b_.getDoubleTy(), b_.CreateConstGEP1_64(b_.getDoubleTy(), scalars_, static_cast<std::uint64_t>(node.slot)));
        if (integer_) return b_.CreateFPToSI(v, real_);  // (an integer, exact: loop_graph.cpp)
        return real_ == f32_ ? b_.CreateFPTrunc(v, f32_) : v;
      }
      case LoopOp::constant:
        if (integer_)
          return llvm::ConstantInt::get(real_, static_cast<std::uint64_t>(std::int64_t(node.constant)), true);
        return llvm::ConstantFP::get(real_, node.constant);
      case LoopOp::neg:
        return integer_ ? b_.CreateNeg(value(node.args[0])) : b_.CreateFNeg(value(node.args[0]));
      case LoopOp::add:
        return binary([&](Value* a, Value* c) { return integer_ ? b_.CreateAdd(a, c) : b_.CreateFAdd(a, c); });
      case LoopOp::sub:
        return binary([&](Value* a, Value* c) { return integer_ ? b_.CreateSub(a, c) : b_.CreateFSub(a, c); });
      case LoopOp::mul:
        return binary([&](Value* a, Value* c) { return integer_ ? b_.CreateMul(a, c) : b_.CreateFMul(a, c); });
      case LoopOp::div: {
        const bool may_be_zero = integer_ && !nonzero_number(graph_, node.args[1]);
        // At a vector loop's masked remainder, the lanes past the end hold
        // no divisor (masked loads read 0 there): they raise no error.
        const Level* vl = vector_level(node.free);
        Value* in_range = vl ? vl->mask : nullptr;
        return binary([&](Value* a, Value* c) {
          return integer_ ? divide_integers(a, c, may_be_zero, in_range) : b_.CreateFDiv(a, c);
        });
      }
      case LoopOp::call: {
        Value* a = value(node.args[0]);
        Value* second = node.args.size() > 1 ? value(node.args[1]) : nullptr;
        return call(node.func, a, second);
      }
      case LoopOp::reduce:
        return reduce(n);
      case LoopOp::select:
        return select(node);
      case LoopOp::round:
        return widen_half(half_bits(value(node.args[0]), node.round_to), node.round_to);
      case LoopOp::lse_final: {
        Value* m = value(node.args[0]);
        Value* s = value(node.args[1]);
        unify(b_, m, s);
        Value* finite = b_.CreateFCmpOLT(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, m),
                                         float_constant(b_, m->getType(), std::numeric_limits<float>::infinity()));
        return b_.CreateSelect(finite, b_.CreateFAdd(m, call(ir::Func::log, s, nullptr)), m);
      }
    }
    EINC_FAIL("loop kernel: unknown node");
  }

  // a / c in int64 as the reference divides: truncated toward zero, and
  // INT64_MIN / -1 wraps to INT64_MIN (sdiv by -1 would be undefined
  // there). A divisor that `may_be_zero` (a tensor's element, a dim):
  // where it is 0 the quotient is 0 and the run's flag (fns[2]) is set, by
  // a masked store (no branch, nothing written while no divisor is 0); the
  // caller then reports the interpreter's error. `in_range`: a vector
  // remainder's lanes in range (the others count for nothing).
  Value* divide_integers(Value* a, Value* c, bool may_be_zero, Value* in_range) {
    Value* one = llvm::ConstantInt::get(c->getType(), 1);
    Value* minus_one = b_.CreateICmpEQ(c, llvm::ConstantInt::get(c->getType(), static_cast<std::uint64_t>(-1), true));
    Value* zero = may_be_zero ? b_.CreateICmpEQ(c, llvm::Constant::getNullValue(c->getType())) : nullptr;
    Value* safe = b_.CreateSelect(zero ? b_.CreateOr(minus_one, zero) : minus_one, one, c);
    Value* quotient = b_.CreateSelect(minus_one, b_.CreateNeg(a), b_.CreateSDiv(a, safe));
    if (!zero) return quotient;
    Value* counted = zero->getType()->isVectorTy() && in_range ? b_.CreateAnd(zero, in_range) : zero;
    Value* any = counted->getType()->isVectorTy() ? b_.CreateOrReduce(counted) : counted;
    auto* flag_type = llvm::FixedVectorType::get(b_.getInt32Ty(), 1);
    Value* flag = b_.CreatePointerCast(library_fn(kLibraryDivisionByZero), llvm::PointerType::getUnqual(flag_type));
    b_.CreateMaskedStore(llvm::ConstantVector::getSplat(llvm::ElementCount::getFixed(1), b_.getInt32(1)), flag,
                         llvm::Align(4), b_.CreateVectorSplat(1, any));
    return b_.CreateSelect(zero, llvm::Constant::getNullValue(quotient->getType()), quotient);
  }

  // A function of the language (vector_math.h): f32 in straight-line code
  // (pow through kLibraryPow); f64 in vector code where vector_math has it,
  // the others through kLibraryDoubleFunction.
  Value* call(ir::Func func, Value* a, Value* second) {
    if (integer_) return call_on_integers(func, a, second);
    const bool f64 = real_ != f32_;
    Value* pow = func == ir::Func::pow && !f64 ? library_fn(kLibraryPow) : nullptr;
    Value* double_fn = f64 && !f64_in_vector_code(func) ? library_fn(kLibraryDoubleFunction) : nullptr;
    return emit_function(b_, func, a, second, pow, double_fn);
  }

  // A function of int64 values as the reference computes it: the
  // arguments converted to double, the function's value in double, exactly
  // the reference's (one IEEE operation or a select in vector code, the
  // others through its own formula lane by lane: a value 1 ulp off could
  // truncate to another integer), then toward zero to an integer, 0 where
  // it is not finite or too large (ir/real_to_integer.h).
  Value* call_on_integers(ir::Func func, Value* a, Value* second) {
    auto to_double = [&](Value* v) {
      llvm::Type* type = b_.getDoubleTy();
      if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(v->getType()))
        type = llvm::FixedVectorType::get(type, vt->getNumElements());
      return b_.CreateSIToFP(v, type);
    };
    Value* v = emit_function(b_, func, to_double(a), second ? to_double(second) : nullptr, nullptr,
                             library_fn(kLibraryDoubleFunction), true);
    Value* in_range = b_.CreateFCmpOLT(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v),
                                       llvm::ConstantFP::get(v->getType(), ir::kRealToIntegerLimit));
    llvm::Type* type = real_;
    if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(v->getType()))
      type = llvm::FixedVectorType::get(real_, vt->getNumElements());
    return b_.CreateSelect(in_range, b_.CreateFPToSI(v, type), llvm::Constant::getNullValue(type));
  }

  // where(j <= i, a, b): the loop counters compared (a vector level's
  // lanes count up from its counter), then one select; both operands are
  // computed, as the reference does.
  Value* select(const LoopNode& node) {
    Value* a = value(node.args[0]);
    Value* c = value(node.args[1]);
    Value* l = index_value(node.condition.lhs);
    Value* r = index_value(node.condition.rhs);
    unify(b_, l, r);
    Value* holds = b_.CreateICmp(predicate(node.condition.op), l, r);
    unify(b_, a, c);
    unify(b_, a, holds);
    unify(b_, c, holds);
    return b_.CreateSelect(holds, a, c);
  }

  static llvm::CmpInst::Predicate predicate(ir::CompareOp op) {
    switch (op) {
      case ir::CompareOp::lt:
        return llvm::CmpInst::ICMP_SLT;
      case ir::CompareOp::le:
        return llvm::CmpInst::ICMP_SLE;
      case ir::CompareOp::gt:
        return llvm::CmpInst::ICMP_SGT;
      case ir::CompareOp::ge:
        return llvm::CmpInst::ICMP_SGE;
      case ir::CompareOp::eq:
        return llvm::CmpInst::ICMP_EQ;
      case ir::CompareOp::ne:
        return llvm::CmpInst::ICMP_NE;
    }
    EINC_FAIL("loop kernel: unknown comparison");
  }

  // The value of a statement index where the code is being emitted.
  Value* index_value(int index) {
    for (std::size_t k = chain_.size(); k-- > 1;) {
      if (chain_[k].index != index) continue;
      if (!chain_[k].vector) return chain_[k].i;
      return b_.CreateAdd(b_.CreateVectorSplat(static_cast<unsigned>(spec_.lanes), chain_[k].i), iota());
    }
    EINC_FAIL("loop kernel: a condition on an index that no loop binds here");
  }

  // The access's element at the point (a vector of them along the vector
  // level), as the kernel's element type: an i32 access (under f32(...)) is
  // loaded as i32 and converted (sitofp: to nearest, as the reference's
  // conversion); an f16/bf16 access as its 16 bits, widened (exact); in
  // an integer statement's kernel, i8 and i32 accesses are sign-extended
  // to i64.
  Value* load(int slot) {
    const DType dtype = graph_.accesses.at(static_cast<std::size_t>(slot)).dtype;
    const bool integer = dtype == DType::i32 || dtype == DType::i8;
    const bool half = is_half(dtype);
    llvm::Type* element = integer ? static_cast<llvm::Type*>(dtype == DType::i8 ? b_.getInt8Ty() : b_.getInt32Ty())
                          : half  ? b_.getInt16Ty()
                                  : real_;
    llvm::Type* vector =
        spec_.lanes > 1 ? llvm::FixedVectorType::get(element, static_cast<unsigned>(spec_.lanes)) : nullptr;
    const std::vector<int>& free = slot_free(slot);
    Value* off = offset(slot, depth_of(free));
    Value* base_pointer = base(slot, element);
    Value* where = b_.CreateGEP(element, base_pointer, off);
    const Level* v = vector_level(free);
    auto as_real = [&](Value* x, llvm::Type* type) {
      if (half) return widen_half(x, dtype);
      return !integer ? x : integer_ ? b_.CreateSExt(x, type) : b_.CreateSIToFP(x, type);
    };
    const llvm::Align aligned = align(element);
    if (!v) return as_real(b_.CreateAlignedLoad(element, where, aligned), real_);
    int index = v->index;  // (copies: the chain may move below)
    Value* mask = v->mask;
    switch (spec_.stride_class(slot, index)) {
      case StrideClass::zero:
        return as_real(b_.CreateAlignedLoad(element, where, aligned), real_);
      case StrideClass::unit:
        prefetch_next_row(slot, free, element, where);
        if (mask)
          return as_real(b_.CreateMaskedLoad(vector, vector_pointer(where, vector), aligned, mask,
                                             llvm::Constant::getNullValue(vector)),
                         vec_);
        return as_real(b_.CreateAlignedLoad(vector, vector_pointer(where, vector), aligned), vec_);
      case StrideClass::general: {
        auto lanes = static_cast<unsigned>(spec_.lanes);
        Value* stride = int_param(spec_.stride_param(slot, index));
        Value* offsets =
            b_.CreateAdd(b_.CreateVectorSplat(lanes, off), b_.CreateMul(iota(), b_.CreateVectorSplat(lanes, stride)));
        Value* pointers = b_.CreateGEP(element, base_pointer, offsets);
        return as_real(b_.CreateMaskedGather(vector, pointers, aligned, mask, llvm::Constant::getNullValue(vector)),
                       vec_);
      }
    }
    EINC_FAIL("loop kernel: unknown stride class");
  }

  // A reduction along its own vectorised index (a row's max, or its sum)
  // reads its row from memory on the first pass over it; rows that are not
  // one stream in memory (a causal softmax reads the first i + 1 elements
  // of row i, then jumps to the next row's start) defeat the hardware's
  // prefetcher, and that first pass then waits on every line. So a
  // reduction whose body uses no other reduction (a row's first pass: a
  // softmax's max, a layernorm's mean, not the sums that need them) also
  // prefetches, for each vector it loads, the same position one step ahead
  // along the innermost enclosing scalar loop of the slot's indices (the
  // next row): by the time the row's later passes are done, the next row
  // is in cache. Where rows are contiguous the prefetch asks for lines
  // already on their way.
  void prefetch_next_row(int slot, const std::vector<int>& free, llvm::Type* element, Value* where) {
    if (!prefetch_rows_) return;
    for (std::size_t k = chain_.size(); k-- > 1;) {
      if (chain_[k].vector || !contains(free, chain_[k].index)) continue;
      Value* next_row = b_.CreateGEP(element, where, int_param(spec_.stride_param(slot, chain_[k].index)));
      llvm::Function* prefetch =
          llvm::Intrinsic::getDeclaration(fn_->getParent(), llvm::Intrinsic::prefetch, {next_row->getType()});
      // (read, keep in every cache level, data)
      b_.CreateCall(prefetch, {next_row, b_.getInt32(0), b_.getInt32(3), b_.getInt32(1)});
      return;
    }
  }

  // The root's value into the target at the point: f32 or f64 (rounded to
  // the target's type when the kernel computes in another), f16/bf16
  // (rounded from f32, half_bits), an integer
  // statement's int64 wrapped to the target's dtype (its low 8 or 32 bits;
  // `+=` adds in that dtype, which wraps alike), or through store_integer.
  void store(Value* v) {
    v = widen(v, vector_level(target_free_) ? static_cast<llvm::Type*>(vec_) : real_);
    if (is_half(graph_.target_dtype)) {  // computed in f32, rounded once (`+=`: the sum)
      const DType half = graph_.target_dtype;
      return write_target_from(b_.getInt16Ty(), [&](llvm::Type*, Value* old) {
        return half_bits(old ? b_.CreateFAdd(widen_half(old, half), v) : v, half);
      });
    }
    if (graph_.target_dtype == DType::i8 || graph_.target_dtype == DType::i32) {
      if (!integer_) return store_integer(v);
      llvm::Type* element = graph_.target_dtype == DType::i8 ? b_.getInt8Ty() : b_.getInt32Ty();
      return write_target(element, [&](llvm::Type* type) { return b_.CreateTrunc(v, type); });
    }
    llvm::Type* element = graph_.target_dtype == DType::f64 ? b_.getDoubleTy() : f32_;
    write_target(element, [&](llvm::Type* type) {
      if (v->getType()->getScalarSizeInBits() < type->getScalarSizeInBits()) return b_.CreateFPExt(v, type);
      if (v->getType()->getScalarSizeInBits() > type->getScalarSizeInBits()) return b_.CreateFPTrunc(v, type);
      return v;
    });
  }

  // `type` with as many lanes as `like` (a scalar type for a scalar).
  static llvm::Type* lanes_of(llvm::Type* type, Value* like) {
    if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(like->getType()))
      return llvm::FixedVectorType::get(type, vt->getNumElements());
    return type;
  }

  // f16/bf16 bits (i16) widened to f32, exactly: bf16 shifted into a
  // float's high half; f16 through fpext (vcvtph2ps: F16C, which the plan
  // requires of an f16 kernel, loop_kernel.cpp).
  Value* widen_half(Value* bits, DType dtype) {
    if (dtype == DType::bf16)
      return b_.CreateBitCast(b_.CreateShl(b_.CreateZExt(bits, lanes_of(b_.getInt32Ty(), bits)), 16),
                              lanes_of(f32_, bits));
    return b_.CreateFPExt(b_.CreateBitCast(bits, lanes_of(b_.getHalfTy(), bits)), lanes_of(f32_, bits));
  }

  // An f32 value rounded to f16/bf16 bits (i16) to nearest, ties to even,
  // bit for bit as einc::float_to_bf16 / float_to_half (tensor.h) round
  // it, NaNs included: bf16 keeps a NaN's high half, quieted; f16 gives
  // the sign and 0x7e00 (vcvtps2ph would keep its payload).
  Value* half_bits(Value* v, DType dtype) {
    llvm::Type* i32 = lanes_of(b_.getInt32Ty(), v);
    llvm::Type* i16 = lanes_of(b_.getInt16Ty(), v);
    auto c32 = [&](std::uint32_t k) { return llvm::ConstantInt::get(i32, k); };
    Value* nan = b_.CreateFCmpUNO(v, v);
    Value* x = b_.CreateBitCast(v, i32);
    if (dtype == DType::bf16) {
      Value* rounding = b_.CreateAdd(c32(0x7fff), b_.CreateAnd(b_.CreateLShr(x, 16), c32(1)));
      Value* r = b_.CreateSelect(nan, b_.CreateOr(x, c32(0x400000)), b_.CreateAdd(x, rounding));
      return b_.CreateTrunc(b_.CreateLShr(r, 16), i16);
    }
    Value* h = b_.CreateBitCast(b_.CreateFPTrunc(v, lanes_of(b_.getHalfTy(), v)), i16);
    Value* sign_nan = b_.CreateTrunc(b_.CreateOr(b_.CreateAnd(b_.CreateLShr(x, 16), c32(0x8000)), c32(0x7e00)), i16);
    return b_.CreateSelect(nan, sign_nan, h);
  }

  // `q = i8(...)` / `i32(...)`: the f32 value rounded to nearest (ties to
  // even), NaN to 0, saturated to the target's range and stored as its
  // integers: the reference's conversion (backends/reference/conversion.h).
  void store_integer(Value* v) {
    const bool i8 = graph_.target_dtype == DType::i8;
    write_target(i8 ? b_.getInt8Ty() : b_.getInt32Ty(), [&](llvm::Type* type) {
      llvm::Type* real = type->isVectorTy() ? vec_ : real_;
      llvm::Type* i32 = type->isVectorTy() ? static_cast<llvm::Type*>(llvm::FixedVectorType::get(
                                                 b_.getInt32Ty(), static_cast<unsigned>(spec_.lanes)))
                                           : b_.getInt32Ty();
      Value* r = b_.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, v);
      r = b_.CreateSelect(b_.CreateFCmpUNO(r, r), llvm::ConstantFP::get(real, 0.0), r);
      // Clamped into what fptosi takes exactly; 2^31 and above is INT32_MAX.
      const double low = i8 ? -128.0 : -2147483648.0, high = i8 ? 127.0 : 2147483520.0;  // (the f32 below 2^31)
      Value* lo = llvm::ConstantFP::get(real, low);
      Value* hi = llvm::ConstantFP::get(real, high);
      r = b_.CreateSelect(b_.CreateFCmpOLT(r, lo), lo, r);
      Value* above = b_.CreateFCmpOGT(r, hi);
      Value* n = b_.CreateFPToSI(b_.CreateSelect(above, hi, r), i32);
      if (!i8) n = b_.CreateSelect(above, llvm::ConstantInt::get(i32, 2147483647), n);
      return i8 ? b_.CreateTrunc(n, type) : n;
    });
  }

  // Stores a value into the target at the point: `convert` makes it from
  // the root's value (widened to the vector level's lanes where the target
  // has one) as `type`, the target's `element` or a vector of them; `+=`
  // adds the target's old value (a float or an integer add, by the type).
  // Masked loads and stores at a vector tail.
  void write_target(llvm::Type* element, const std::function<Value*(llvm::Type*)>& convert) {
    write_target_from(element, [&](llvm::Type* type, Value* old) {
      Value* v = convert(type);
      if (!old) return v;
      return element->isFloatingPointTy() ? b_.CreateFAdd(old, v) : b_.CreateAdd(old, v);
    });
  }

  // write_target, where `make` gets the target's old value too (`+=`; else
  // null) and adds it itself: an f16/bf16 target adds in f32, then rounds.
  void write_target_from(llvm::Type* element, const std::function<Value*(llvm::Type*, Value*)>& make) {
    const Level* vl = vector_level(target_free_);
    Value* mask = vl ? vl->mask : nullptr;
    llvm::Type* type = vl ? llvm::FixedVectorType::get(element, static_cast<unsigned>(spec_.lanes)) : element;
    Value* where = b_.CreateGEP(element, base(kTarget, element), offset(kTarget, depth_of(target_free_)));
    const llvm::Align aligned = align(element);
    Value* p = vl ? vector_pointer(where, type) : where;
    Value* old = nullptr;
    if (spec_.accumulate)
      old = mask ? static_cast<Value*>(b_.CreateMaskedLoad(type, p, aligned, mask, llvm::Constant::getNullValue(type)))
                 : b_.CreateAlignedLoad(type, p, aligned);
    Value* v = make(type, old);
    if (mask)
      b_.CreateMaskedStore(v, p, aligned, mask);
    else
      b_.CreateAlignedStore(v, p, aligned);
  }

  // --- reductions ----------------------------------------------------------------

  static double identity(LoopReduce r) {
    switch (r) {
      case LoopReduce::sum:
        return 0.0;
      case LoopReduce::prod:
        return 1.0;
      case LoopReduce::max:
      case LoopReduce::max_skip_nan:
        return -std::numeric_limits<double>::infinity();
      case LoopReduce::min:
        return std::numeric_limits<double>::infinity();
    }
    return 0.0;
  }

  // The identity of `r` as `type`: an integer statement's in int64.
  Value* initial(LoopReduce r, llvm::Type* type) {
    if (!integer_) return llvm::ConstantFP::get(type, identity(r));
    const std::int64_t value = r == LoopReduce::sum    ? 0
                               : r == LoopReduce::prod ? 1
                               : r == LoopReduce::min  ? std::numeric_limits<std::int64_t>::max()
                                                       : std::numeric_limits<std::int64_t>::min();
    return llvm::ConstantInt::get(type, static_cast<std::uint64_t>(value), true);
  }

  // acc (op) x, with the reference's NaN rules: max/min keep the first NaN
  // seen; max_skip_nan ignores NaN (the stable forms' row maximum). In an
  // integer statement's int64: + and * wrap, max/min compare signed.
  Value* combine(LoopReduce r, Value* acc, Value* x) {
    if (integer_) {
      switch (r) {
        case LoopReduce::sum:
          return b_.CreateAdd(acc, x);
        case LoopReduce::prod:
          return b_.CreateMul(acc, x);
        case LoopReduce::max:
        case LoopReduce::max_skip_nan:
          return b_.CreateSelect(b_.CreateICmpSGT(x, acc), x, acc);
        case LoopReduce::min:
          return b_.CreateSelect(b_.CreateICmpSLT(x, acc), x, acc);
      }
    }
    switch (r) {
      case LoopReduce::sum:
        return b_.CreateFAdd(acc, x);
      case LoopReduce::prod:
        return b_.CreateFMul(acc, x);
      case LoopReduce::max:
        return b_.CreateSelect(b_.CreateOr(b_.CreateFCmpOGT(x, acc), b_.CreateFCmpUNO(x, x)), x, acc);
      case LoopReduce::min:
        return b_.CreateSelect(b_.CreateOr(b_.CreateFCmpOLT(x, acc), b_.CreateFCmpUNO(x, x)), x, acc);
      case LoopReduce::max_skip_nan:
        return b_.CreateSelect(b_.CreateFCmpOGT(x, acc), x, acc);
    }
    return acc;
  }

  // Sums and products accumulate in double, like the reference's row
  // statistics: a long f32 sum of same-sign terms (the mean of a row far
  // from 0) would lose digits that a layernorm then amplifies by 1/sigma.
  // max/min select, so f32 is exact for them.
  static bool accumulates_in_double(LoopReduce r) { return r == LoopReduce::sum || r == LoopReduce::prod; }

  Value* reduce(int n) {
    const LoopNode& node = graph_.nodes[static_cast<std::size_t>(n)];
    LoopOrder order = spec_.reductions.at(n);
    bool vertical = vector_level(node.free) != nullptr;  // one vector of outputs at once
    bool horizontal = !vertical && order.vector_index >= 0 && vec_ != nullptr;
    if (!horizontal) order.vector_index = -1;
    bool vector = vertical || horizontal;
    llvm::Type* element = accumulates_in_double(node.reduce) && !integer_ ? b_.getDoubleTy() : real_;
    llvm::Type* type = vector ? llvm::FixedVectorType::get(element, static_cast<unsigned>(spec_.lanes)) : element;
    Value* init = initial(node.reduce, type);
    // The body's value at the point, as the accumulators' type.
    auto term = [&](int body) {
      Value* x = widen(value(body), vector ? static_cast<llvm::Type*>(vec_) : real_);
      if (element != real_) x = b_.CreateFPExt(x, type);
      if (horizontal) {
        // Lanes past the end of the vectorised index add nothing.
        const Level* u = vector_level({order.vector_index});
        Value* mask = u ? u->mask : nullptr;
        if (mask) x = b_.CreateSelect(mask, x, init);
      }
      return x;
    };
    // Past a split (loop_graph.h), a body that no longer varies with the
    // last loop (a causal softmax's exp(-inf - max)) is added once for the
    // whole piece: max/min take it once, a sum adds count times it (to one
    // lane when the lanes are that loop's: they are summed at the end).
    Closed closed;
    const auto split = splits_.find(n);
    const int last = order.indices.empty() ? -1 : order.indices.back();
    if (split != splits_.end() && node.reduce != LoopReduce::prod &&
        !contains(graph_.nodes[static_cast<std::size_t>(split->second->outside)].free, last)) {
      const int outside = split->second->outside;
      closed = [&, outside, last](Value* count, const Carried& acc) {
        Value* x = term(outside);
        Value* combined = nullptr;
        if (node.reduce == LoopReduce::sum) {
          Value* n_points = integer_ ? count : b_.CreateSIToFP(count, element);
          if (type->isVectorTy()) n_points = b_.CreateVectorSplat(static_cast<unsigned>(spec_.lanes), n_points);
          Value* share = integer_ ? b_.CreateMul(x, n_points) : b_.CreateFMul(x, n_points);
          if (horizontal && last == order.vector_index)
            share = b_.CreateInsertElement(init, b_.CreateExtractElement(share, std::uint64_t{0}), std::uint64_t{0});
          combined = combine(LoopReduce::sum, acc[0], share);
        } else {
          combined = combine(node.reduce, acc[0], x);
        }
        Value* any = b_.CreateICmpSGT(count, llvm::ConstantInt::get(i64_, 0));
        return Carried{b_.CreateSelect(any, combined, acc[0])};
      };
    }
    const bool stash = n == stash_.reduce && stash_fits(order);
    // (a nest inside this one sets its own)
    const bool outer_prefetch_rows = prefetch_rows_;
    prefetch_rows_ = horizontal && !uses_a_reduction(graph_, node.args[0]);
    Carried result = levels(
        order, 0, n, {init},
        [&](const Carried& acc) {
          const int body = version(n, node.args[0]);
          if (stash) store(value(body));
          return Carried{combine(node.reduce, acc[0], term(body))};
        },
        closed);
    prefetch_rows_ = outer_prefetch_rows;
    if (stash) stash_.stored = true;
    Value* acc = result[0];
    if (horizontal) {
      for (int width = spec_.lanes; width > 1; width /= 2) {
        std::vector<int> low, high;
        for (int l = 0; l < width / 2; ++l) {
          low.push_back(l);
          high.push_back(l + width / 2);
        }
        acc = combine(node.reduce, b_.CreateShuffleVector(acc, acc, low), b_.CreateShuffleVector(acc, acc, high));
      }
      acc = b_.CreateExtractElement(acc, static_cast<std::uint64_t>(0));
    }
    // (A chunk's partial of an f32 sum is stored as it was accumulated, in
    // double: loop_lowering.h, ReductionChunks.)
    const bool stored_wide = n == graph_.root && graph_.target_dtype == DType::f64;
    if (element != real_ && !stored_wide)
      acc = b_.CreateFPTrunc(acc, vertical ? static_cast<llvm::Type*>(vec_) : real_);
    return acc;
  }

  const LoopSpec& spec_;
  const LoopGraph& graph_;
  llvm::LLVMContext& ctx_;
  Builder b_;
  llvm::Type* f32_ = nullptr;
  llvm::Type* real_ = nullptr;  // the element type the kernel computes in (LoopGraph::element; i64 for i32)
  bool integer_ = false;        // an integer statement's kernel: real_ is i64
  llvm::Type* i64_ = nullptr;
  llvm::FixedVectorType* vec_ = nullptr;
  llvm::Function* fn_ = nullptr;
  Value *ptrs_ = nullptr, *ints_ = nullptr, *scalars_ = nullptr, *fns_ = nullptr, *begin_ = nullptr, *end_ = nullptr;
  std::vector<int> target_free_;
  std::vector<Level> chain_;
  bool prefetch_rows_ = false;  // in a nest that prefetches (prefetch_next_row)
  // Inside a tile of a nest's tile index: that index's range there.
  struct Tile {
    int index = -1;
    Value* lo = nullptr;
    Value* hi = nullptr;
  } tile_;
  std::unordered_map<int, Value*> int_params_, bases_;
  std::unordered_map<int, Value*> library_fns_;       // fns[index], loaded at the function level
  std::unordered_map<int, const LoopSplit*> splits_;  // by nest
  std::unordered_map<int, bool> inside_;              // nests in a piece of their split loop: whether the inside one
  Stash stash_;
};

}  // namespace

std::unique_ptr<llvm::Module> generate_loop_module(llvm::LLVMContext& context, const LoopSpec& spec,
                                                   const std::string& symbol) {
  auto module = std::make_unique<llvm::Module>(symbol, context);
  Emitter(*module, spec, symbol).emit();
  return verified(std::move(module));
}

}  // namespace einc::cpu
