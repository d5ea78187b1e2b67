// tests/runtime/buffer_pool_test.cpp — runtime::pooled_buffer and the
// Tensors built on it: a buffer is usable, handed out again once its last
// user is gone (no fresh memory per run), not handed to a much smaller
// request, and buffers in use at once are never shared.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "einc/tensor.h"
#include "runtime/buffer_pool.h"

namespace {

using einc::runtime::pooled_buffer;

TEST(BufferPool, ABufferIsReusedOnceItsLastUserIsGone) {
  const std::size_t bytes = 3 << 20;  // a huge-page-sized request
  void* first = nullptr;
  std::shared_ptr<void> other;
  {
    std::shared_ptr<void> buffer = pooled_buffer(bytes);
    first = buffer.get();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % 64, 0u);
    std::memset(first, 0x5a, bytes);  // the whole request is writable
    std::shared_ptr<void> copy = buffer;
    buffer.reset();
    other = pooled_buffer(bytes);
    EXPECT_NE(other.get(), first);  // still held by `copy`
  }
  EXPECT_GE(einc::runtime::pool_free_bytes(), bytes);
  EXPECT_EQ(pooled_buffer(bytes).get(), first);
}

TEST(BufferPool, BuffersInUseAreDistinct) {
  std::vector<std::shared_ptr<void>> buffers;
  for (int i = 0; i < 4; ++i) buffers.push_back(pooled_buffer(1 << 16));
  for (std::size_t i = 0; i < buffers.size(); ++i)
    for (std::size_t j = i + 1; j < buffers.size(); ++j) EXPECT_NE(buffers[i].get(), buffers[j].get());
}

TEST(BufferPool, ASmallRequestDoesNotPinALargeBuffer) {
  void* large = pooled_buffer(8 << 20).get();  // back in the pool at once
  std::shared_ptr<void> small = pooled_buffer(4096);
  EXPECT_NE(small.get(), large);
  EXPECT_NE(pooled_buffer(0).get(), nullptr);  // a zero-byte request still gets a valid pointer
}

TEST(BufferPool, LargeTensorsReuseTheirMemoryAndSmallOnesWork) {
  void* data = nullptr;
  {
    einc::Tensor t = einc::Tensor::zeros(einc::DType::f32, {1024, 1024});  // 4 MB: pooled
    data = t.data();
    EXPECT_EQ(t.get({1023, 1023}), 0.0);
  }
  einc::Tensor again = einc::Tensor::empty(einc::DType::f32, {1024, 1024});
  EXPECT_EQ(again.data(), data);
  einc::Tensor small = einc::Tensor::zeros(einc::DType::bf16, {3, 5});  // not pooled
  small.set({2, 4}, 1.5);
  EXPECT_EQ(small.get({2, 4}), 1.5);
}

}  // namespace
