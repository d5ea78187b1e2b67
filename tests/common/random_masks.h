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

// random_masked_gett(seed): one masked statement of the forms the cpu
// backend runs as a masked GETT (ir::GettMask), at sizes that cross its
// tiles and KC blocks (T up to 800 one case in six):
//   - a select on the scores, `s[..] = where(c, q*k [* 0.5] [+ b[j]], fill)`
//     or the fill first, optionally inside an activation, fill -inf, 0 or
//     2.5, the output's indices in any order (so i and j land in M, N or
//     both in one group);
//   - a masked sum, `o[..] = where(c, p*v, 0)` or `where(c, 0, p*v)`, over
//     j alone or over j and x (a K group whose compared index is not
//     outermost), with a scale or a bias sometimes;
// c any comparison of i and j, either way round.
inline RandomCase random_masked_gett(std::uint64_t seed) {
  namespace d = random_contraction_detail;
  d::Rng rng(seed * 7919 + 11);
  const bool large = rng.chance(1.0 / 6);
  const std::int64_t h = rng.uniform(1, 2), t = large ? rng.uniform(100, 800) : rng.uniform(1, 40),
                     e = large ? rng.uniform(1, 9) : rng.uniform(1, 40);
  static const char* const ops[] = {"<", "<=", ">", ">=", "==", "!="};
  const std::string op = ops[rng.uniform(0, 5)];
  const std::string c = rng.chance(0.5) ? "i " + op + " j" : "j " + op + " i";
  std::string script = "dim H = " + std::to_string(h) + ", T = " + std::to_string(t) + ", E = " + std::to_string(e) +
                       "\ninput q[H, T, E], k[H, T, E], p[H, T, T], v[H, T, E], b[T]\n";
  auto order = [&](std::vector<std::string> names) {
    rng.shuffle(names);
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  std::string description = "T " + std::to_string(t) + " E " + std::to_string(e) + " where(" + c + ")";
  std::int64_t reduction = e;
  const int form = static_cast<int>(rng.uniform(0, 5));  // 0-2 select, 3-4 masked sum, 5 two contractions
  if (form == 5) {  // hoisted into two masked GETTs (ir/contraction_hoist.h), then a loop kernel
    const std::string value = "where(" + c + ", (q[h, i, x] * k[h, j, x] + k[h, i, y] * v[h, j, y]) * 0.5, -inf)";
    script += "o[" + order({"h", "i", "j"}) + "] = " + value + "\n";
    description += " two contractions " + value;
    reduction = 2 * e;
  } else if (form <= 2) {
    std::string x = "q[h, i, x] * k[h, j, x]";
    if (rng.chance(0.3)) x += " * 0.5";
    if (rng.chance(0.3)) x += " + b[j]";
    if (rng.chance(0.3)) x = "gelu(" + x + ")";
    static const char* const fills[] = {"-inf", "0", "2.5"};
    const std::string fill = fills[rng.uniform(0, 2)];
    const std::string value =
        rng.chance(0.5) ? "where(" + c + ", " + x + ", " + fill + ")" : "where(" + c + ", " + fill + ", " + x + ")";
    script += "o[" + order({"h", "i", "j"}) + "] = " + value + "\n";
    description += " select " + value;
  } else {
    const bool two = rng.chance(0.3);                 // sum over j and x
    const std::string x = "p[h, i, j] * v[h, j, x]";  // x summed too when the output lacks it
    const std::string value = rng.chance(0.5) ? "where(" + c + ", " + x + ", 0)" : "where(" + c + ", 0, " + x + ")";
    std::string rhs = value;
    if (rng.chance(0.3)) rhs += " * 0.5";
    if (rng.chance(0.3)) rhs += " + b[i]";
    script += "o[" + (two ? order({"h", "i"}) : order({"h", "i", "x"})) + "] = " + rhs + "\n";
    description += " sum " + rhs;
    reduction = two ? t * e : t;
  }
  script += "output o\n";
  RandomCase rc;
  rc.script = script;
  rc.description = description;
  rc.reduction_length = reduction;
  return rc;
}

}  // namespace einc_test
