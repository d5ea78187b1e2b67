// backends/cpu/gett_dequantise.h — the dequantising epilogue of an i32 GETT
// whose target is f32 (GettCall::dequantise): a quantised layer's
// `y[t, f] = f32(sum(d: xq[t, d] * wq[f, d])) * sx * sw[f] + b[f]` as one
// kernel. The driver (gett.cpp) applies it to each tile of C as the last KC
// block stores the tile's i32 sums, while the tile is still in L1, so the
// f32 result is written once and no second pass reads C back.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/driver_util.h"
#include "backends/cpu/gett.h"

namespace einc::cpu {

class DequantisingEpilogue {
 public:
  // `activation`: the call's, compiled (Jit::activation_kernel), or null.
  DequantisingEpilogue(const GettCall& call, Jit::Activation activation);
  DequantisingEpilogue(const DequantisingEpilogue&) = delete;  // (it points into its own vectors)
  DequantisingEpilogue& operator=(const DequantisingEpilogue&) = delete;

  // Rows [m0, m1) x columns [n0, n1) of batch element `batch`, whose C
  // (`c`, that element's start; `c_m`, `c_n` the offsets of C's rows and
  // columns) holds i32 sums, become f32: each sum rounded to f32, times
  // the scale times the channel scales (their product rounded to f32
  // first, as the statement's plan multiplies the small factors first),
  // plus the bias terms, then the activation.
  void apply(void* c, const std::vector<std::int64_t>& c_m, const std::vector<std::int64_t>& c_n, std::int64_t batch,
             std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1) const;

 private:
  using Term = TermTables<float>;
  // The general form, element by element, the bias terms in written order.
  void apply_any(unsigned char* c, const std::vector<std::int64_t>& c_m, const std::vector<std::int64_t>& c_n,
                 std::int64_t batch, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1) const;

  float scale_ = 1.0f;
  Jit::Activation activation_ = nullptr;
  std::vector<Term> channel_scales_, bias_;
  // Whether every scale and bias term varies along M only or along N only
  // (a layer's per-channel scales and bias): apply() then works out each
  // row's and each column's factor and bias once, and converts a column
  // of a tile whose rows are one element apart as one vectorised loop.
  bool separable_ = true;
  std::vector<const Term*> m_scales_, n_scales_, m_bias_, n_bias_;
};

}  // namespace einc::cpu
