// tests/cuda/host_emulation.h — runs generated CUDA kernels on the host, to
// test their logic on a machine without a GPU.
//
// A generated kernel source is compiled as C++ with this header first:
// one host thread per CUDA thread of a block; __syncthreads is a
// std::barrier over the block's threads, __shfl_xor_sync a barrier-guarded
// exchange among the 32 threads of a warp, and __shared__ variables are
// function-local statics, which is right because the blocks of a launch run
// one after another (every thread finishes block b before any starts b+1).
// `__CUDA_ARCH__` is undefined, so the prelude's cp.async helpers take their
// plain-load path: what this checks is the indexing, tiling, edge guards,
// synchronisation structure and epilogues, not the PTX-specific lines.
#pragma once

#include <math.h>

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace einc_emu {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

inline thread_local Dim3 thread_index, block_index;
inline Dim3 block_dim, grid_dim;

struct Warp {
  std::barrier<> barrier{32};
  alignas(8) unsigned char slots[32][8];
};

struct Block {
  explicit Block(unsigned threads) : barrier(threads) {
    for (unsigned w = 0; w < (threads + 31) / 32; ++w) warps.push_back(std::make_unique<Warp>());
  }
  std::barrier<> barrier;
  std::vector<std::unique_ptr<Warp>> warps;
};

inline Block* block = nullptr;

template <class T>
T shfl_xor(T v, int mask) {
  static_assert(sizeof(T) <= 8);
  unsigned lane = thread_index.x & 31u;
  Warp& w = *block->warps[thread_index.x / 32];
  std::memcpy(w.slots[lane], &v, sizeof(T));
  w.barrier.arrive_and_wait();
  T r;
  std::memcpy(&r, w.slots[lane ^ static_cast<unsigned>(mask)], sizeof(T));
  w.barrier.arrive_and_wait();
  return r;
}

// Runs `entry(args)` as the kernel for every block of the grid.
inline void launch(Dim3 grid, Dim3 threads, void (*entry)(void**), void** args) {
  const unsigned n = threads.x * threads.y * threads.z;
  Block b(n);
  block = &b;
  grid_dim = grid;
  block_dim = threads;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < n; ++t)
    pool.emplace_back([&, t] {
      thread_index = {t % threads.x, (t / threads.x) % threads.y, t / (threads.x * threads.y)};
      for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
          for (unsigned x = 0; x < grid.x; ++x) {
            block_index = {x, y, z};
            entry(args);
            b.barrier.arrive_and_wait();  // the block's statics are reused by the next block
          }
    });
  for (std::thread& t : pool) t.join();
  block = nullptr;
}

}  // namespace einc_emu

#define threadIdx (einc_emu::thread_index)
#define blockIdx (einc_emu::block_index)
#define blockDim (einc_emu::block_dim)
#define gridDim (einc_emu::grid_dim)
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(n)
#define __align__(n) __attribute__((aligned(n)))

inline void __syncthreads() { einc_emu::block->barrier.arrive_and_wait(); }
template <class T>
inline T __shfl_xor_sync(unsigned, T v, int mask) {
  return einc_emu::shfl_xor(v, mask);
}
inline unsigned atomicOr(unsigned* p, unsigned v) { return std::atomic_ref<unsigned>(*p).fetch_or(v); }
inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
inline double __longlong_as_double(long long i) {
  double d;
  std::memcpy(&d, &i, 8);
  return d;
}
