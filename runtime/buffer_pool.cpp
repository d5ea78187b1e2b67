// runtime/buffer_pool.cpp — see buffer_pool.h.
#include "runtime/buffer_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// A free buffer is poisoned, so that AddressSanitizer still reports a use
// of a tensor's memory after the tensor is gone.
#define EINC_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define EINC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define EINC_POISON(p, n) ((void)(p), (void)(n))
#define EINC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace einc::runtime {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool;  // never destroyed: tensors may die during static destruction
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
        EINC_UNPOISON(buffer.first, buffer.second);
        return buffer;
      }
    }
    return allocate(bytes);
  }

  void give_back(void* data, std::size_t capacity) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      // Ahead of free buffers of the same size: the next request takes the
      // one used last, whose pages are the likeliest to be in the caches.
      free_.emplace_hint(free_.lower_bound(capacity), capacity, data);
    } catch (...) {  // no memory for the pool's node: release the buffer instead
      std::free(data);
      return;
    }
    free_bytes_ += capacity;
    EINC_POISON(data, capacity);
    while (free_bytes_ > kPoolFreeBytes && !free_.empty()) {  // release the largest first
      auto largest = std::prev(free_.end());
      free_bytes_ -= largest->first;
      EINC_UNPOISON(largest->second, largest->first);
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

std::shared_ptr<void> pooled_buffer(std::size_t bytes) {
  auto [data, capacity] = Pool::instance().take(bytes);
  try {
    return std::shared_ptr<void>(data, [capacity = capacity](void* p) { Pool::instance().give_back(p, capacity); });
  } catch (...) {  // the control block could not be allocated
    Pool::instance().give_back(data, capacity);
    throw;
  }
}

std::size_t pool_free_bytes() { return Pool::instance().free_bytes(); }

}  // namespace einc::runtime
