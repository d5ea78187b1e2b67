// backends/cpu/driver_util.h — what the GETT driver (gett.cpp), its
// dequantising epilogue (gett_dequantise.cpp), the GEMV driver (gemv.cpp)
// and the i16-pair copies (i8_pairs.cpp) share: the size of an index
// group, the offsets of its positions, an epilogue term's offset tables,
// integer division rounded up, and 64-byte-aligned buffers kept and
// regrown between calls (the drivers hold them thread-local, for packed
// panels and partial sums).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "backends/cpu/gett.h"

namespace einc::cpu {

// The number of positions of a group: the product of its extents.
inline std::int64_t product(const std::vector<GettDim>& dims) {
  std::int64_t n = 1;
  for (const GettDim& d : dims) n *= d.extent;
  return n;
}

// Offsets of every linear position of a group: position p decomposes
// mixed-radix over the dims (last fastest); offset = sum digit * stride.
template <typename StrideOf>
inline std::vector<std::int64_t> offsets(const std::vector<GettDim>& dims, StrideOf stride_of) {
  // Built in place, one dim at a time, from the back: position b of the
  // table so far becomes positions b*e .. b*e + e - 1, all at or after b, so
  // no entry is overwritten before it is read. (This runs on every GETT
  // call: a push_back per element cost ~12 us of a 67 us 1024² GEMV.)
  std::vector<std::int64_t> table(static_cast<std::size_t>(product(dims)));
  if (table.empty()) return table;
  std::size_t size = 1;
  table[0] = 0;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    const auto extent = static_cast<std::size_t>(dims[d].extent);
    const std::int64_t stride = stride_of(d);
    for (std::size_t b = size; b-- > 0;) {
      const std::int64_t base = table[b];
      std::int64_t* out = table.data() + b * extent;
      for (std::size_t i = 0; i < extent; ++i) out[i] = base + static_cast<std::int64_t>(i) * stride;
    }
    size *= extent;
  }
  return table;
}

// offsets() with one stride per dim (parallel to `dims`).
inline std::vector<std::int64_t> offsets_along(const std::vector<GettDim>& dims,
                                               const std::vector<std::int64_t>& strides) {
  return offsets(dims, [&](std::size_t d) { return strides[d]; });
}

// An epilogue term (gett.h) of element type T as the offsets of its
// elements along each group of the call: data[b[batch] + m[i] + n[j]].
template <typename T>
struct TermTables {
  const T* data;
  std::vector<std::int64_t> b, m, n;
  bool negate;
  T at(std::int64_t batch, std::int64_t m_pos, std::int64_t n_pos) const {
    return data[b[static_cast<std::size_t>(batch)] + m[static_cast<std::size_t>(m_pos)] +
                n[static_cast<std::size_t>(n_pos)]];
  }
  bool same_along_n() const { return same(n); }  // varies along M (and the batch) only
  bool same_along_m() const { return same(m); }

 private:
  static bool same(const std::vector<std::int64_t>& offsets) {
    for (std::int64_t o : offsets)
      if (o != offsets.front()) return false;
    return true;
  }
};

template <typename T>
TermTables<T> term_tables(const GettCall& call, const EpilogueTerm& t) {
  return {static_cast<const T*>(t.data), offsets_along(call.batch, t.batch_strides), offsets_along(call.m, t.m_strides),
          offsets_along(call.n, t.n_strides), t.negate};
}

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
// a rounded up to a multiple of b.
inline std::int64_t round_up(std::int64_t a, std::int64_t b) { return ceil_div(a, b) * b; }

template <typename T>
struct AlignedBuffer {
  T* data = nullptr;
  std::size_t size = 0;
  void reserve(std::size_t n) {
    if (n <= size) return;
    std::free(data);
    std::size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    data = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (!data) throw std::bad_alloc();
    size = n;
  }
  ~AlignedBuffer() { std::free(data); }
};
using AlignedFloats = AlignedBuffer<float>;

}  // namespace einc::cpu
