// tests/common/random_convolutions.h — a deterministic generator of random
// convolution scripts (index arithmetic in positions), for the backend
// differential tests (cpu and the CUDA emulation, against the reference).
//
// random_convolution(seed) returns one script whose statement assigns `Y`:
//
//   dim N = 1, C = 3, H = 9, W = 7, F = 2, R = 3, S = 2
//   input X[N, C, H, W]
//   param K[F, C, R, S]
//   Y[n, f, p, q] = X[n, c, 2*p + r, q + 2*s] * K[f, c, r, s]
//
// What varies: batch 1-2, channels 1-5, filters 1-6, spatial extents 1-11
// (odd ones often), windows 1-4, strides 1-3, dilations 1-2, the padding
// (none: the output extents are inferred as the valid range; or
// `padded(...)` with offsets 0..window-1 and a declared output shape), a
// 1-D or 2-D window, an epilogue (a bias `+ b[f]`, relu) and a channels-last
// layout for X. The extents always leave at least one output position.
#pragma once

#include <cstdint>
#include <string>

#include "tests/common/random_contractions.h"

namespace einc_test {

inline RandomCase random_convolution(std::uint64_t seed) {
  namespace d = random_contraction_detail;
  d::Rng rng(seed * 7919 + 17);
  const bool two_d = rng.chance(0.7), padded = rng.chance(0.4), channels_last = rng.chance(0.3);
  const bool bias = rng.chance(0.4), relu = rng.chance(0.3);
  const std::int64_t n = rng.uniform(1, 2), c = rng.uniform(1, 5), f = rng.uniform(1, 6);
  struct Axis {
    std::int64_t extent, window, stride, dilation, pad, out;
  };
  auto axis = [&]() {
    Axis a;
    a.window = rng.uniform(1, 4);
    a.stride = rng.uniform(1, 3);
    a.dilation = rng.chance(0.3) ? 2 : 1;
    const std::int64_t span = a.dilation * (a.window - 1) + 1;
    a.extent = rng.uniform(padded ? 1 : span, span + 10);
    a.pad = padded ? rng.uniform(0, a.window - 1) : 0;
    a.out = (a.extent + 2 * a.pad - span) / a.stride + 1;
    if (a.out < 1) a.out = 1;  // padded: at least one position, mostly in the padding
    return a;
  };
  Axis h = axis(), w = two_d ? axis() : Axis{1, 1, 1, 1, 0, 1};
  auto position = [](const std::string& out, const std::string& win, const Axis& a) {
    std::string p = (a.stride == 1 ? "" : std::to_string(a.stride) + "*") + out + " + " +
                    (a.dilation == 1 ? "" : std::to_string(a.dilation) + "*") + win;
    return a.pad ? p + " - " + std::to_string(a.pad) : p;
  };
  const std::string x_pos = "n, c, " + position("p", "r", h) + ", " + position("q", "s", w);
  const std::string x_decl = channels_last ? "X[N, H, W, C]" : "X[N, C, H, W]";
  std::string x_access =
      channels_last ? "X[n, " + position("p", "r", h) + ", " + position("q", "s", w) + ", c]" : "X[" + x_pos + "]";
  if (padded) x_access = "padded(" + x_access + ")";
  std::string value = x_access + " * K[f, c, r, s]";
  if (bias) value += " + b[f]";
  if (relu) value = "relu(" + value + ")";
  RandomCase rc;
  rc.script = "dim N = " + std::to_string(n) + ", C = " + std::to_string(c) + ", H = " + std::to_string(h.extent) +
              ", W = " + std::to_string(w.extent) + ", F = " + std::to_string(f) + ", R = " + std::to_string(h.window) +
              ", S = " + std::to_string(w.window) + "\ninput " + x_decl + "\nparam K[F, C, R, S]\n" +
              (bias ? "param b[F]\n" : "") +
              (padded ? "output Y[N, F, " + std::to_string(h.out) + ", " + std::to_string(w.out) + "]\n" : "") +
              "Y[n, f, p, q] = " + value + "\n";
  rc.description = std::string(padded ? "padded" : "valid") + (channels_last ? " channels-last" : "") + " conv " +
                   std::to_string(h.window) + "x" + std::to_string(w.window) + " stride " + std::to_string(h.stride) +
                   "," + std::to_string(w.stride) + " dilation " + std::to_string(h.dilation) + "," +
                   std::to_string(w.dilation);
  rc.reduction_length = c * h.window * w.window;
  return rc;
}

}  // namespace einc_test
