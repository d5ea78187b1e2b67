// runtime/scratch_pool.cpp — see scratch_pool.h.
#include "runtime/scratch_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

namespace einc::runtime {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool;  // never destroyed: leases may end during static destruction
    return *pool;
  }

  // The smallest free buffer that holds `bytes` (and is not more than twice
  // as large, so a small lease does not pin a huge buffer), or a new one.
  std::pair<void*, std::size_t> take(std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.lower_bound(bytes);
      if (it != free_.end() && it->first <= 2 * std::max<std::size_t>(bytes, 1)) {
        std::pair<void*, std::size_t> buffer{it->second, it->first};
        free_bytes_ -= it->first;
        free_.erase(it);
        return buffer;
      }
    }
    return allocate(bytes);
  }

  void give_back(void* data, std::size_t capacity) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.emplace(capacity, data);
    free_bytes_ += capacity;
    while (free_bytes_ > kScratchPoolBytes && !free_.empty()) {  // release the largest first
      auto largest = std::prev(free_.end());
      free_bytes_ -= largest->first;
      std::free(largest->second);
      free_.erase(largest);
    }
  }

  std::size_t free_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return free_bytes_;
  }

 private:
  static std::pair<void*, std::size_t> allocate(std::size_t bytes) {
    const bool huge = bytes >= kHugePage;
    const std::size_t align = huge ? kHugePage : 64;
    const std::size_t capacity = (std::max<std::size_t>(bytes, 1) + align - 1) / align * align;
    void* data = std::aligned_alloc(align, capacity);
    if (!data) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (huge) madvise(data, capacity, MADV_HUGEPAGE);  // advice only: ignored where unsupported
#endif
    return {data, capacity};
  }

  std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;  // by capacity
  std::size_t free_bytes_ = 0;
};

}  // namespace

ScratchLease::ScratchLease(std::size_t bytes) {
  auto [data, capacity] = Pool::instance().take(bytes);
  data_ = data;
  capacity_ = capacity;
}

ScratchLease::~ScratchLease() {
  if (data_) Pool::instance().give_back(data_, capacity_);
}

ScratchLease::ScratchLease(ScratchLease&& other) noexcept : data_(other.data_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.capacity_ = 0;
}

std::size_t scratch_pool_free_bytes() { return Pool::instance().free_bytes(); }

}  // namespace einc::runtime
