// tests/runtime/scratch_pool_test.cpp — runtime::ScratchLease: buffers are
// usable, handed out again after their lease ends (no fresh memory per
// run), not handed to a much smaller request, and leases in flight at once
// never share a buffer.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/scratch_pool.h"

namespace {

using einc::runtime::ScratchLease;

TEST(ScratchPool, ABufferIsReusedAfterItsLeaseEnds) {
  const std::size_t bytes = 3 << 20;  // a huge-page-sized request
  void* first = nullptr;
  {
    ScratchLease lease(bytes);
    first = lease.data();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % 64, 0u);
    std::memset(first, 0x5a, bytes);  // the whole request is writable
  }
  EXPECT_GE(einc::runtime::scratch_pool_free_bytes(), bytes);
  ScratchLease again(bytes);
  EXPECT_EQ(again.data(), first);
}

TEST(ScratchPool, LeasesInFlightGetDistinctBuffers) {
  std::vector<ScratchLease> leases;
  for (int i = 0; i < 4; ++i) leases.emplace_back(1 << 16);
  for (std::size_t i = 0; i < leases.size(); ++i)
    for (std::size_t j = i + 1; j < leases.size(); ++j) EXPECT_NE(leases[i].data(), leases[j].data());
}

TEST(ScratchPool, ASmallRequestDoesNotPinALargeBuffer) {
  void* large = nullptr;
  {
    ScratchLease lease(8 << 20);
    large = lease.data();
  }
  ScratchLease small(4096);
  EXPECT_NE(small.data(), large);
  ScratchLease zero(0);  // a zero-byte request still gets a valid pointer
  EXPECT_NE(zero.data(), nullptr);
}

}  // namespace
