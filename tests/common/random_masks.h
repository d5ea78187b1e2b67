// tests/common/random_masks.h — a deterministic generator of random masked
// (`where`) scripts, for the backend differential tests (cpu and the CUDA
// emulation, against the reference).
//
// random_masked(seed) returns one script, e.g. causal attention:
//
//   dim H = 2, T = 7, E = 3
//   input q[H, T, E], k[H, T, E], v[H, T, E]
//   s[h, i, j] = where(j <= i, q[h, i, x] * k[h, j, x] / sqrt(E), -inf)
//   p[h, i, j] = softmax(j: s[h, i, j])
//   o[h, i, x] = where(j <= i, p[h, i, j] * v[h, j, x], 0)
//   output o
//
// What varies: heads 1-3, sequence 1-13, width 1-6; the scores' condition
// (every comparison that keeps the diagonal, so no softmax row is empty,
// written either way round); the masked sum's condition (any comparison);
// a masked max instead of the softmax; the mask's other value (-inf, or a
// tensor's element); a masked sum that is not a product.
#pragma once

#include <cstdint>
#include <string>

#include "tests/common/random_contractions.h"

namespace einc_test {

inline RandomCase random_masked(std::uint64_t seed) {
  namespace d = random_contraction_detail;
  d::Rng rng(seed * 6271 + 5);
  const std::int64_t h = rng.uniform(1, 3), t = rng.uniform(1, 13), e = rng.uniform(1, 6);
  // A comparison of i and j, in either order.
  auto condition = [&](bool keeps_diagonal) {
    static const char* const with[] = {"<=", ">=", "=="};
    static const char* const any[] = {"<", "<=", ">", ">=", "==", "!="};
    const std::string op = keeps_diagonal ? with[rng.uniform(0, 2)] : any[rng.uniform(0, 5)];
    return rng.chance(0.5) ? "i " + op + " j" : "j " + op + " i";
  };
  std::string script = "dim H = " + std::to_string(h) + ", T = " + std::to_string(t) + ", E = " + std::to_string(e) +
                       "\ninput q[H, T, E], k[H, T, E], v[H, T, E]\n";
  const std::string scores = condition(true);
  const std::string mixed = condition(false);
  std::string description = "heads " + std::to_string(h) + " T " + std::to_string(t) + " E " + std::to_string(e) +
                            ", scores where(" + scores + ")";
  switch (rng.uniform(0, 2)) {
    case 0:  // causal attention, masked scores and a masked sum
      script += "s[h, i, j] = where(" + scores + ", q[h, i, x] * k[h, j, x] / sqrt(E), -inf)\n" +
                "p[h, i, j] = softmax(j: s[h, i, j])\n" + "o[h, i, x] = where(" + mixed +
                ", p[h, i, j] * v[h, j, x], 0)\n";
      description += ", softmax, sum where(" + mixed + ")";
      break;
    case 1:  // a masked max, and a select whose other value is a tensor's
      script += "s[h, i, j] = where(" + scores + ", q[h, i, x] * k[h, j, x], -inf)\n" +
                "m[h, i] = max(j: s[h, i, j])\n" + "o[h, i, x] = where(" + mixed +
                ", v[h, i, x] - m[h, i], k[h, j, x]) * q[h, j, x]\n";
      description += ", max, where(" + mixed + ") with another tensor";
      break;
    default:  // a masked sum that is not a product of two
      script += "o[h, i, x] = where(" + mixed + ", q[h, i, x] * k[h, j, x] + v[h, j, x], 0)\n";
      description += ", sum where(" + mixed + ") of a sum";
      break;
  }
  script += "output o\n";
  RandomCase rc;
  rc.script = script;
  rc.description = description;
  rc.reduction_length = t * e;
  return rc;
}

}  // namespace einc_test
