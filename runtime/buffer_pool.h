// runtime/buffer_pool.h — large tensor buffers kept for reuse.
//
// A program run allocates its intermediates afresh (and the cpu backend its
// f32 copies of f16/bf16 operands); fresh memory costs a page fault per
// 4 KB page on first touch, which for a large intermediate can take longer
// than the statement that fills it (docs/performance.md, "Costs the
// runtime is built around"). Buffers of kPooledMinBytes and more come from
// a process-wide pool instead: when the last Tensor using one goes, the
// buffer goes back to the pool and is handed out again (the next
// statement, the next run). Buffers of 2 MB and more are aligned to 2 MB
// and advised as transparent huge pages (MADV_HUGEPAGE), so even a first
// use faults once per 2 MB. The pool keeps at most kPoolFreeBytes of free
// buffers; beyond that it releases the largest to the system.
#pragma once

#include <cstddef>
#include <memory>

namespace einc::runtime {

inline constexpr std::size_t kPooledMinBytes = std::size_t{1} << 20;  // smaller ones: plain aligned_alloc
inline constexpr std::size_t kPoolFreeBytes = std::size_t{1} << 30;   // 1 GiB kept free at most

// A buffer of at least `bytes` bytes, 64-byte aligned, contents undefined;
// given back to the pool when the last copy of the pointer goes. A free
// buffer is reused for a request of at least half its size. Thread-safe.
// Throws std::bad_alloc when the memory cannot be had.
std::shared_ptr<void> pooled_buffer(std::size_t bytes);

// Bytes of free buffers the pool holds now (for tests).
std::size_t pool_free_bytes();

}  // namespace einc::runtime
