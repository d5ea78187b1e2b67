// tests/common/random_contractions.h — a deterministic generator of random
// `.ein` contraction scripts, shared by the backend differential tests (cpu
// now, CUDA/NVRTC later).
//
// random_contraction(seed) returns one script whose single statement assigns
// the output `C`:
//
//   dim Di = 5, Dk = 7, Dj = 3
//   input A[Dk, Di]
//   input B[Dk, Dj]
//   input b[Dj]
//   output C
//   C[i, j] = gelu(A[k, i] * B[k, j] / sqrt(Dk) + b[j])
//
// What varies (see docs in the function body for the exact weights):
//   - operands: 2 (A, B), or 3 (A, B, E) one case in five;
//   - every index has a role: batch (in every operand and the output),
//     M (A and the output), N (B and the output), K (in A and B, summed),
//     "solo" (summed but held by one operand only: reduced inside it), and
//     for three operands any other subset of operands, kept or summed;
//   - operand ranks 0-4 (a rank-0 operand is a scalar input), diagonals
//     (`A[i, i, k]`), operand and output index orders shuffled, factors in
//     random order;
//   - extents 1-67, mostly small, with the product of all extents (the work
//     of one naive loop nest, >= the MACs of any pairwise order) capped at
//     kMaxWork = 2e6 and usually far below, and the reduction length capped
//     at kMaxReductionLength = 16384; rarely one extent is 0;
//   - epilogues in random combination: a scale (`* 0.5`, `0.5 * ...`,
//     `/ sqrt(Dk)`), a broadcast bias `+ b[n]`, an activation (relu, gelu,
//     tanh, silu, sigmoid; the bias inside or outside it), a residual
//     `+ R[...]` over the output's indices;
//   - free factors and scalars inside the product, one case in six each:
//     `F[...]` over some of the output's indices (it sums nothing) and a
//     0-d input `s`, each at a random place among the factors;
//   - dtype f32, f64 one case in twelve (every tensor of the case);
//   - the einsum form `C = einsum("ki,kj->ij", A, B)` one case in seven
//     (explicit or implicit output, labels in both cases; no epilogue,
//     since the einsum must be the whole right-hand side).
//
// reduction_length is the product of the extents of the summed indices (1
// when nothing is summed, 0 when a summed extent is 0), as the cost report
// counts it. Only the C++ standard library is used, and no implementation-
// defined distribution (std::uniform_int_distribution, std::shuffle): the
// same seed gives the same script with every standard library.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace einc_test {

struct RandomCase {
  std::string script;
  std::string description;  // one line: shapes, extents, roles, epilogues
  std::int64_t reduction_length = 1;
};

// The cap on the product of all of a case's extents (its naive MACs).
inline constexpr std::int64_t kMaxWork = 2'000'000;
// The cap on reduction_length: it keeps the rounding error of a plain f32
// accumulation (about 2^-24 * L / 7 for values in [-1, 1)) well inside the
// differential tests' tolerance 1e-5 * sqrt(L) (ten standard deviations at
// the cap).
inline constexpr std::int64_t kMaxReductionLength = 16'384;

namespace random_contraction_detail {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed ^ 0x9e3779b97f4a7c15ull) {}
  // Uniform in [lo, hi] (the modulo bias is negligible for these ranges).
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }
  // An index drawn with the given relative weights.
  std::size_t weighted(const std::vector<int>& weights) {
    int total = 0;
    for (int w : weights) total += w;
    std::int64_t r = uniform(0, total - 1);
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return weights.size() - 1;
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i)
      std::swap(v[i - 1], v[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(i) - 1))]);
  }

 private:
  std::mt19937_64 engine_;
};

struct Index {
  char label = 'i';
  std::int64_t extent = 1;
  unsigned operands = 0;  // bit o set: operand o holds the index
  bool in_output = false;
};

inline int popcount(unsigned x) {
  int n = 0;
  for (; x; x &= x - 1) ++n;
  return n;
}

inline std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// Extent of one index before the work cap: 1 (8%), 2-8 (37%), 9-24 (30%),
// 25-67 (25%).
inline std::int64_t draw_extent(Rng& rng) {
  switch (rng.weighted({8, 37, 30, 25})) {
    case 0:
      return 1;
    case 1:
      return rng.uniform(2, 8);
    case 2:
      return rng.uniform(9, 24);
    default:
      return rng.uniform(25, 67);
  }
}

inline std::string role_name(const Index& x, int operand_count) {
  unsigned all = (1u << operand_count) - 1;
  int held = popcount(x.operands);
  if (x.operands == all && operand_count > 1) return x.in_output ? "batch" : "K";
  if (held == 1) {
    if (!x.in_output) return "solo";
    if (x.operands == 1u) return "M";
    if (x.operands == 2u) return "N";
    return "free";
  }
  return x.in_output ? "shared" : "partial-K";
}

}  // namespace random_contraction_detail

inline RandomCase random_contraction(std::uint64_t seed) {
  namespace d = random_contraction_detail;
  d::Rng rng(seed);
  const std::vector<std::string> operand_names = {"A", "B", "E"};

  const int operand_count = rng.chance(0.2) ? 3 : 2;
  const bool f64 = rng.uniform(0, 11) == 0;
  const bool einsum_form = rng.uniform(0, 6) == 0;

  // --- indices and their roles ----------------------------------------------
  // 2-5 indices (1 one time in twenty, 6 one time in ten). Two operands: batch 2, M 3, N 3, K 4,
  // solo 1 (relative weights). Three operands: any non-empty subset of the
  // operands, kept in the output 75% of the time when one operand holds the
  // index, else 35%.
  std::vector<d::Index> indices;
  int index_count = rng.chance(0.05) ? 1 : static_cast<int>(rng.uniform(2, 5)) + (rng.chance(0.1) ? 1 : 0);
  for (int n = 0; n < index_count; ++n) {
    d::Index x;
    if (operand_count == 2) {
      switch (rng.weighted({2, 3, 3, 4, 1})) {
        case 0:
          x.operands = 3u, x.in_output = true;
          break;  // batch
        case 1:
          x.operands = 1u, x.in_output = true;
          break;  // M
        case 2:
          x.operands = 2u, x.in_output = true;
          break;  // N
        case 3:
          x.operands = 3u, x.in_output = false;
          break;  // K
        default:
          x.operands = rng.chance(0.5) ? 1u : 2u, x.in_output = false;
          break;  // solo
      }
    } else {
      x.operands = static_cast<unsigned>(rng.uniform(1, 7));
      x.in_output = rng.chance(d::popcount(x.operands) == 1 ? 0.75 : 0.35);
    }
    indices.push_back(x);
  }
  // Mostly contractions: when nothing is summed, 60% of the time one index
  // becomes a K index (a plain elementwise or outer product stays possible).
  {
    bool any_summed = false;
    for (const d::Index& x : indices) any_summed |= !x.in_output;
    if (!any_summed && rng.chance(0.6)) {
      d::Index& x = indices[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(indices.size()) - 1))];
      x.in_output = false;
      if (operand_count == 2) x.operands = 3u;
    }
  }
  // One case in twenty-five makes one operand a scalar (rank 0).
  if (rng.chance(0.04)) {
    unsigned bit = 1u << rng.uniform(0, operand_count - 1);
    for (d::Index& x : indices) x.operands &= ~bit;
  }
  auto drop_empty = [&] {
    std::vector<d::Index> kept;
    for (const d::Index& x : indices)
      if (x.operands) kept.push_back(x);
    indices = std::move(kept);
  };
  drop_empty();
  // Diagonals: one operand in ten repeats one of its indices (A[i, i, k]).
  std::vector<int> diagonal(static_cast<std::size_t>(operand_count), -1);
  auto rank_of = [&](int o) {
    int r = diagonal[static_cast<std::size_t>(o)] >= 0 ? 1 : 0;
    for (const d::Index& x : indices) r += (x.operands >> o) & 1u;
    return r;
  };
  // Ranks are at most 4: take indices away from an operand that has more
  // (an index that no operand holds any more disappears).
  for (int o = 0; o < operand_count; ++o) {
    while (rank_of(o) > 4) {
      std::vector<std::size_t> held;
      for (std::size_t i = 0; i < indices.size(); ++i)
        if ((indices[i].operands >> o) & 1u) held.push_back(i);
      indices[held[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(held.size()) - 1))]].operands &=
          ~(1u << o);
      drop_empty();
    }
  }
  for (int o = 0; o < operand_count; ++o) {
    int r = rank_of(o);
    if (r >= 1 && r <= 3 && rng.chance(0.1)) {
      std::vector<int> held;
      for (std::size_t i = 0; i < indices.size(); ++i)
        if ((indices[i].operands >> o) & 1u) held.push_back(static_cast<int>(i));
      diagonal[static_cast<std::size_t>(o)] = held[static_cast<std::size_t>(rng.uniform(0, r - 1))];
    }
  }

  // Labels: distinct letters, shuffled so that a letter says nothing about
  // its role; in the einsum form a quarter of them are uppercase.
  {
    std::vector<char> pool;
    for (char c : std::string("ijklmnopqrstuvwxyz")) pool.push_back(c);
    rng.shuffle(pool);
    for (std::size_t i = 0; i < indices.size(); ++i) {
      char c = pool[i];
      if (einsum_form && rng.chance(0.25)) c = static_cast<char>(c - 'a' + 'A');
      indices[i].label = c;
    }
  }

  // The einsum form's implicit output: the labels that occur once, in ASCII
  // order (numpy's rule); this may turn a batch index into a summed one.
  const bool implicit_output = einsum_form && rng.chance(0.3);
  if (implicit_output)
    for (std::size_t i = 0; i < indices.size(); ++i) {
      int count = d::popcount(indices[i].operands);
      for (int o : diagonal) count += o == static_cast<int>(i) ? 1 : 0;
      indices[i].in_output = count == 1;
    }

  // --- extents and the work caps ----------------------------------------------
  for (d::Index& x : indices) x.extent = d::draw_extent(rng);
  {
    // Most cases are small; one in ten may use the whole cap. The largest
    // extent shrinks by a quarter until the case fits both caps.
    std::int64_t budget = std::vector<std::int64_t>{30'000, 200'000, kMaxWork}[rng.weighted({60, 30, 10})];
    auto product = [&](bool summed_only) {
      std::int64_t w = 1;
      for (const d::Index& x : indices)
        if (!summed_only || !x.in_output) w *= x.extent;
      return w;
    };
    auto shrink_largest = [&](bool summed_only) {
      int largest = -1;
      for (std::size_t i = 0; i < indices.size(); ++i)
        if ((!summed_only || !indices[i].in_output) &&
            (largest < 0 || indices[i].extent > indices[static_cast<std::size_t>(largest)].extent))
          largest = static_cast<int>(i);
      std::int64_t& e = indices[static_cast<std::size_t>(largest)].extent;
      e = std::max<std::int64_t>(1, e * 3 / 4);
    };
    while (product(false) > budget) shrink_largest(false);
    while (product(true) > kMaxReductionLength) shrink_largest(true);
  }
  bool zero_dim = false;
  if (!indices.empty() && rng.chance(0.03)) {
    indices[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(indices.size()) - 1))].extent = 0;
    zero_dim = true;
  }

  // --- operand slots (index orders) -------------------------------------------
  std::vector<std::vector<int>> slots(static_cast<std::size_t>(operand_count));
  for (int o = 0; o < operand_count; ++o) {
    auto& s = slots[static_cast<std::size_t>(o)];
    for (std::size_t i = 0; i < indices.size(); ++i)
      if ((indices[i].operands >> o) & 1u) s.push_back(static_cast<int>(i));
    if (diagonal[static_cast<std::size_t>(o)] >= 0) s.push_back(diagonal[static_cast<std::size_t>(o)]);
    rng.shuffle(s);
  }

  std::vector<int> output;
  if (implicit_output) {
    for (std::size_t i = 0; i < indices.size(); ++i)
      if (indices[i].in_output) output.push_back(static_cast<int>(i));
    for (std::size_t a = 0; a < output.size(); ++a)
      for (std::size_t b = a + 1; b < output.size(); ++b)
        if (indices[static_cast<std::size_t>(output[b])].label < indices[static_cast<std::size_t>(output[a])].label)
          std::swap(output[a], output[b]);
  } else {
    for (std::size_t i = 0; i < indices.size(); ++i)
      if (indices[i].in_output) output.push_back(static_cast<int>(i));
    rng.shuffle(output);
  }

  RandomCase result;
  std::vector<int> summed;
  for (std::size_t i = 0; i < indices.size(); ++i)
    if (!indices[i].in_output) {
      summed.push_back(static_cast<int>(i));
      result.reduction_length *= indices[i].extent;
    }

  auto label = [&](int i) { return std::string(1, indices[static_cast<std::size_t>(i)].label); };
  auto dim = [&](int i) { return "D" + label(i); };
  auto access = [&](const std::string& name, const std::vector<int>& idx, bool brackets_if_scalar) {
    if (idx.empty()) return brackets_if_scalar ? name + "[]" : name;
    std::vector<std::string> parts;
    for (int i : idx) parts.push_back(label(i));
    return name + "[" + d::join(parts, ", ") + "]";
  };
  const std::string dtype_suffix = f64 ? " : f64" : (rng.chance(0.2) ? " : f32" : "");

  // --- declarations -----------------------------------------------------------
  std::string script = "# random contraction, seed " + std::to_string(seed) + "\n";
  {
    std::vector<std::string> dims;
    for (std::size_t i = 0; i < indices.size(); ++i)
      dims.push_back(dim(static_cast<int>(i)) + " = " + std::to_string(indices[i].extent));
    if (!dims.empty())
      script += rng.chance(0.5) ? "dim " + d::join(dims, ", ") + "\n" : "dim " + d::join(dims, "\ndim ") + "\n";
  }
  auto declare = [&](const std::string& name, const std::vector<int>& idx) {
    std::vector<std::string> parts;
    for (int i : idx) parts.push_back(dim(i));
    std::string shape = idx.empty() ? (rng.chance(0.5) ? "[]" : "") : "[" + d::join(parts, ", ") + "]";
    script += "input " + name + shape + dtype_suffix + "\n";
  };
  for (int o = 0; o < operand_count; ++o)
    declare(operand_names[static_cast<std::size_t>(o)], slots[static_cast<std::size_t>(o)]);

  // --- the statement ----------------------------------------------------------
  std::vector<std::string> epilogue;
  std::string statement;
  if (einsum_form) {
    std::vector<std::string> terms;
    for (const auto& s : slots) {
      std::string t;
      for (int i : s) t += label(i);
      terms.push_back(t);
    }
    std::string subscripts = d::join(terms, ",");
    if (!implicit_output) {
      subscripts += "->";
      for (int i : output) subscripts += label(i);
    }
    std::vector<std::string> args(operand_names.begin(), operand_names.begin() + operand_count);
    statement = "C = einsum(\"" + subscripts + "\", " + d::join(args, ", ") + ")";
    epilogue.push_back(implicit_output ? "einsum(implicit)" : "einsum");
  } else {
    std::vector<int> order;
    for (int o = 0; o < operand_count; ++o) order.push_back(o);
    if (rng.chance(0.3)) rng.shuffle(order);
    std::vector<std::string> factors;
    for (int o : order)
      factors.push_back(
          access(operand_names[static_cast<std::size_t>(o)], slots[static_cast<std::size_t>(o)], rng.chance(0.3)));
    // Free factors and scalars, drawn from a generator of their own so that
    // the rest of a seed's case stays as it was: one case in six multiplies
    // in F over some of the output's indices (a factor that sums nothing),
    // one in six a 0-d input s; each at a random place among the factors.
    {
      d::Rng extra(seed * 0x2545f4914f6cdd1dull + 0x1b873593ull);
      auto insert_at_random = [&](std::string factor) {
        const auto at = extra.uniform(0, static_cast<std::int64_t>(factors.size()));
        factors.insert(factors.begin() + at, std::move(factor));
      };
      if (!output.empty() && extra.chance(1.0 / 6)) {
        std::vector<int> free_indices;
        for (int i : output)
          if (extra.chance(0.6)) free_indices.push_back(i);
        if (free_indices.empty()) free_indices.push_back(output.front());
        extra.shuffle(free_indices);
        std::vector<std::string> parts;
        for (int i : free_indices) parts.push_back(dim(i));
        script += "input F[" + d::join(parts, ", ") + "]" + dtype_suffix + "\n";
        insert_at_random(access("F", free_indices, false));
        epilogue.push_back("free factor " + access("F", free_indices, false));
      }
      if (extra.chance(1.0 / 6)) {
        script += "input s" + dtype_suffix + "\n";
        insert_at_random("s");
        epilogue.push_back("scalar s");
      }
    }
    std::string e = d::join(factors, " * ");

    // Scale (40%): * 0.5, 0.5 * ..., or / sqrt(product of summed dims).
    if (rng.chance(0.4)) {
      std::vector<std::string> nonzero_summed;
      for (int i : summed)
        if (indices[static_cast<std::size_t>(i)].extent > 0) nonzero_summed.push_back(dim(i));
      switch (rng.uniform(0, 2)) {
        case 0:
          e += " * 0.5", epilogue.push_back("scale(*0.5)");
          break;
        case 1:
          e = "0.5 * " + e, epilogue.push_back("scale(0.5*)");
          break;
        default:
          if (nonzero_summed.empty()) {
            e += " * 0.5", epilogue.push_back("scale(*0.5)");
          } else {
            if (nonzero_summed.size() > 2) nonzero_summed.resize(2);
            std::string s = d::join(nonzero_summed, " * ");
            e += " / sqrt(" + s + ")", epilogue.push_back("scale(/sqrt(" + s + "))");
          }
      }
    }
    // Bias (35%, needs an output index): over an N index when there is one.
    int bias_index = -1;
    if (!output.empty() && rng.chance(0.35)) {
      std::vector<int> preferred;
      for (int i : output)
        if (indices[static_cast<std::size_t>(i)].operands == 2u) preferred.push_back(i);
      const std::vector<int>& from = preferred.empty() || rng.chance(0.3) ? output : preferred;
      bias_index = from[static_cast<std::size_t>(rng.uniform(0, static_cast<std::int64_t>(from.size()) - 1))];
      declare("b", {bias_index});
    }
    std::string bias = bias_index >= 0 ? access("b", {bias_index}, false) : "";
    // Activation (40%), the bias inside it half the time.
    if (rng.chance(0.4)) {
      static const char* const kActivations[] = {"relu", "gelu", "tanh", "silu", "sigmoid"};
      std::string act = kActivations[rng.uniform(0, 4)];
      if (!bias.empty() && rng.chance(0.5)) {
        e = act + "(" + e + " + " + bias + ")";
        epilogue.push_back(act + "(.+bias[" + label(bias_index) + "])");
        bias.clear();
      } else {
        e = act + "(" + e + ")";
        epilogue.push_back(act);
      }
    }
    if (!bias.empty()) {
      e = rng.chance(0.3) ? bias + " + " + e : e + " + " + bias;
      epilogue.push_back("bias[" + label(bias_index) + "]");
    }
    // Residual (30%): R over the output's indices, its own order 30% of
    // the time.
    if (rng.chance(0.3)) {
      std::vector<int> r = output;
      if (rng.chance(0.3)) rng.shuffle(r);
      declare("R", r);
      std::string ra = access("R", r, rng.chance(0.3));
      e = rng.chance(0.3) ? ra + " + " + e : e + " + " + ra;
      epilogue.push_back("residual");
    }
    statement = access("C", output, false) + " = " + e;
  }
  script += "output C\n" + statement + "\n";

  // --- description ------------------------------------------------------------
  std::string desc = "seed " + std::to_string(seed) + ": " + std::to_string(operand_count) + " operands, " +
                     (f64 ? "f64" : "f32") + "; " + statement + "; extents";
  for (const d::Index& x : indices)
    desc += " " + std::string(1, x.label) + "=" + std::to_string(x.extent) + "(" + d::role_name(x, operand_count) + ")";
  desc += "; ranks";
  for (int o = 0; o < operand_count; ++o) {
    desc += " " + operand_names[static_cast<std::size_t>(o)] + ":" +
            std::to_string(slots[static_cast<std::size_t>(o)].size());
    if (diagonal[static_cast<std::size_t>(o)] >= 0) desc += "(diag)";
  }
  if (zero_dim) desc += "; zero-dim";
  desc += "; epilogue: " + (epilogue.empty() ? std::string("none") : d::join(epilogue, ", "));
  desc += "; reduction_length " + std::to_string(result.reduction_length);

  result.script = std::move(script);
  result.description = std::move(desc);
  return result;
}

}  // namespace einc_test
