// runtime/scratch_pool.h — large scratch buffers kept between uses.
//
// A backend that needs a temporary copy of a tensor on every run (the cpu
// backend's f32 copies of f16/bf16 operands) would otherwise map fresh
// memory each time and pay a page fault per 4 KB page on first touch: on
// this project's VMs about 5 us each, 100 ms for a 64 MB copy, far more
// than the statement it serves. Buffers leased here go back to a
// process-wide pool when the lease ends and are handed out again; buffers
// of 2 MB and more are aligned to 2 MB and advised as transparent huge
// pages (MADV_HUGEPAGE), so even a first use faults once per 2 MB. The
// pool keeps at most kScratchPoolBytes of free buffers; beyond that the
// largest free ones are released to the system.
#pragma once

#include <cstddef>
#include <cstdint>

namespace einc::runtime {

inline constexpr std::size_t kScratchPoolBytes = std::size_t{1} << 30;  // 1 GiB kept free at most

// A buffer of at least `bytes` bytes (64-byte aligned, contents undefined)
// for as long as the lease lives. Thread-safe.
class ScratchLease {
 public:
  explicit ScratchLease(std::size_t bytes);
  ~ScratchLease();
  ScratchLease(ScratchLease&& other) noexcept;
  ScratchLease& operator=(ScratchLease&&) = delete;
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;

  void* data() const { return data_; }

 private:
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// Bytes of free buffers the pool holds now (for tests).
std::size_t scratch_pool_free_bytes();

}  // namespace einc::runtime
