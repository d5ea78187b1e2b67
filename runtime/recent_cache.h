// runtime/recent_cache.h — values kept by key, at most a fixed number, the
// least recently used dropped first; thread-safe.
//
// What a program keeps from one run for the next (the programs bound to its
// inputs' dims, api/program_impl.h; the cpu plans of each statement per
// layout, backends/cpu/plan_cache.h) and einsum's compiled programs
// (api/einsum.cpp) are such caches: a lookup under a lock, the value made outside it
// (two threads may make the same one: the first kept wins), kept.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

namespace einc::runtime {

template <typename Key, typename Value>
class RecentCache {
 public:
  explicit RecentCache(std::size_t capacity) : capacity_(capacity) {}

  // The value kept for `key`, now the most recently used.
  std::optional<Value> find(const Key& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    recent_.splice(recent_.begin(), recent_, it->second);
    return it->second->second;
  }

  // Keeps `value` for `key` (unless one is kept already), dropping the
  // least recently used beyond the capacity.
  void keep(const Key& key, const Value& value) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index_.count(key)) return;
    recent_.emplace_front(key, value);
    index_.emplace(key, recent_.begin());
    if (recent_.size() > capacity_) {
      index_.erase(recent_.back().first);
      recent_.pop_back();
    }
  }

 private:
  using Entries = std::list<std::pair<Key, Value>>;  // most recent first
  const std::size_t capacity_;
  std::mutex mutex_;
  Entries recent_;
  std::map<Key, typename Entries::iterator> index_;
};

}  // namespace einc::runtime
