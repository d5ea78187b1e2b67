// tests/cuda/cuda_test_util.h — what the CUDA tests share: .ein text to
// ir::Program without the API library (so the test binary links neither
// LLVM nor libcuda and can be carried to the GPU machine), the example
// scripts with small dims, random inputs, the reference backend and the
// comparison of results.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/reference/interpreter.h"
#include "backends/reference/reference_backend.h"
#include "frontend/diagnostics.h"
#include "frontend/source.h"
#include "ir/lower.h"
#include "ir/program.h"
#include "runtime/executor.h"

namespace einc_cuda_test {

namespace fs = std::filesystem;
using einc::Tensor;

// The tests' kernel cache lives in the build tree, not in the user's
// ~/.cache (unless EINC_CACHE_DIR says otherwise); set before
// KernelCache::global() is first used.
inline const bool kTestCacheDirectory = [] {
  ::setenv("EINC_CACHE_DIR", (fs::path(EINC_BINARY_DIR) / "tests" / "cuda" / "kernel-cache").c_str(), 0);
  return true;
}();

// A count from the environment, else the default (smaller under the
// sanitizers: see tests/cuda/CMakeLists.txt).
inline int case_count(const char* variable, int normal, int sanitized) {
  const char* v = std::getenv(variable);
  if (v && *v) return std::atoi(v);
#ifdef EINC_CUDA_TESTS_SANITIZED
  (void)normal;
  return sanitized;
#else
  (void)sanitized;
  return normal;
#endif
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Parses and checks `text`; throws std::runtime_error with the rendered
// diagnostics on errors.
inline einc::ir::Program compile_script(const std::string& text, const std::vector<einc::ir::DimBinding>& dims = {},
                                        const std::string& name = "<test>") {
  einc::frontend::SourceFile source(name, text);
  std::string errors;
  einc::frontend::DiagnosticSink sink(source,
                                      [&](const einc::frontend::SourceFile& file, const einc::frontend::Diagnostic& d) {
                                        if (d.severity == einc::frontend::Severity::error)
                                          errors += einc::frontend::render_diagnostic(file, d);
                                      });
  einc::ir::LowerOptions options;
  options.dims = dims;
  einc::ir::Program program = einc::ir::lower(source, nullptr, sink, options).program;
  if (sink.error_count() > 0) throw std::runtime_error(errors);
  return program;
}

inline fs::path examples_dir() { return fs::path(EINC_SOURCE_DIR) / "examples"; }

inline std::vector<std::string> example_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(examples_dir()))
    if (entry.path().extension() == ".ein") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Small dims per example (odd sizes, so that tiles have edges); an example
// not listed keeps its own dims.
inline std::vector<einc::ir::DimBinding> small_dims(const std::string& example) {
  static const std::map<std::string, std::vector<einc::ir::DimBinding>> table = {
      {"01_matmul", {{"M", 70}, {"K", 33}, {"N", 65}}},
      {"02_batched_matmul", {{"B", 3}, {"I", 20}, {"J", 17}, {"K", 19}}},
      {"03_attention", {{"T", 40}, {"H", 2}, {"E", 16}}},
      {"04_mlp", {{"T", 20}, {"D", 48}, {"F", 72}}},
      {"05_transformer_block", {{"T", 12}, {"D", 64}, {"H", 4}}},
      {"06_einsum_cheatsheet", {{"N", 24}, {"M", 20}, {"K", 12}, {"B", 3}}},
      {"07_chain_order", {{"N", 70}}},
      {"09_gpt2", {{"T", 9}, {"V", 37}, {"P", 12}, {"D", 24}, {"H", 3}, {"L", 2}}},
      {"10_llama_block", {{"T", 9}, {"D", 48}, {"G", 2}, {"R", 2}, {"F", 20}}},
      {"11_resnet_bottleneck", {{"C", 8}, {"H", 10}, {"W", 10}, {"M", 6}, {"O", 12}}},
      {"12_quantised_mlp", {{"T", 9}, {"D", 33}, {"F", 20}}},
  };
  auto it = table.find(example);
  return it == table.end() ? std::vector<einc::ir::DimBinding>{} : it->second;
}

inline einc::ir::Program compile_example(const std::string& name, bool small) {
  return compile_script(read_file(examples_dir() / (name + ".ein")),
                        small ? small_dims(name) : std::vector<einc::ir::DimBinding>{}, "examples/" + name + ".ein");
}

// Inputs and params filled like einc::random_inputs (input k in declaration
// order: seed * 1000003 + k), indexed by tensor id.
inline std::vector<Tensor> random_inputs(const einc::ir::Program& program, std::uint64_t seed) {
  std::vector<Tensor> tensors(program.tensors.size());
  std::uint64_t k = 0;
  for (std::size_t t = 0; t < program.tensors.size(); ++t) {
    const einc::ir::Tensor& info = program.tensors[t];
    if (info.role == einc::ir::TensorRole::intermediate) continue;
    tensors[t] = einc::runtime::random_input(program, static_cast<int>(t), seed * 1000003 + k++);
  }
  return tensors;
}

using einc::reference::ReferenceBackend;

// Scripts for what the examples and the random contractions do not reach
// (every reduction and normalisation, integers, f64, f16/bf16, `+=`,
// broadcast targets, nested reductions, GETT epilogues).
inline const std::vector<std::pair<std::string, std::string>>& handwritten() {
  static const std::vector<std::pair<std::string, std::string>> scripts = {
      {"index_arithmetic",  // a GETT over a strided view, offsets, literal positions, dilation
       "dim H = 12, W = 9, C = 3, F = 4, R = 3, S = 3, D = 5\ninput X[C, H, W], Z[W, 3, D]\nparam K[F, C, R, S]\n"
       "Y[f, p, q] = X[c, p + r, q + s] * K[f, c, r, s]\nV[f, p, q] = relu(X[c, 2*p + 2*r, q + s] * K[f, c, r, s])\n"
       "A[w, d] = Z[w, 1, d] * Z[w, 2, d] + X[0, w + 3, d + 4]\noutput Y, V, A\n"},
      {"zero_padded",  // "same" and strided convolutions reading zeros outside the input
       "dim H = 10, W = 7, C = 2, F = 3, R = 3, S = 3\ninput X[C, H, W]\nparam K[F, C, R, S]\n"
       "output Y[F, H, W], V[F, 5, 4]\n"
       "Y[f, p, q] = padded(X[c, p + r - 1, q + s - 1]) * K[f, c, r, s]\n"
       "V[f, p, q] = padded(X[c, 2*p + r - 1, 2*q + s - 1]) * K[f, c, r, s]\n"
       "output M[C, 5, 4]\nM[c, p, q] = max(r < 3, s < 3: padded(X[c, 2*p + r - 1, 2*q + s - 1]))\n"},
      {"lookups",  // an embedding: token and position rows; ids read at an offset
       "dim T = 7, V = 13, D = 33\ninput ids[T] : i32\nparam wte[V, D], wpe[T, D]\n"
       "x[t, d] = wte[ids[t], d] + wpe[t, d]\ns[t] = wte[ids[t], d] * wpe[t, d]\noutput x, s\n"},
      {"reductions",
       "dim I = 5, J = 70\ninput X[I, J]\n"
       "s[i] = sum(j: X[i, j])\nmx[i] = max(j: X[i, j])\nmn[i] = min(j: X[i, j])\nme[i] = mean(j: X[i, j])\n"
       "l[i] = logsumexp(j: X[i, j])\npr[i] = prod(j: X[i, j] * 0.1 + 1)\n"
       "output s, mx, mn, me, l, pr\n"},
      {"short_rows",  // R < 32: serial loops in the elementwise kernel
       "dim I = 9, J = 7\ninput X[I, J]\n"
       "s[i] = sum(j: X[i, j])\nmx[i] = max(j: X[i, j])\nl[i] = logsumexp(j: X[i, j])\n"
       "P[i, j] = softmax(j: X[i, j])\nN[i, j] = layernorm(j: X[i, j])\nR[i, j] = rmsnorm(j: X[i, j])\n"
       "output s, mx, l, P, N, R\n"},
      {"normalizations",
       "dim I = 6, J = 300\ninput X[I, J], g[J]\n"
       "P[i, j] = softmax(j: X[i, j])\nN[i, j] = layernorm(j: X[i, j]) * g[j]\nR[i, j] = rmsnorm(j: X[i, j]) + 1\n"
       "output P, N, R\n"},
      {"row_broadcast",  // the row's statistic used across another output index
       "dim I = 2, J = 5, K = 40\ninput X[I, K], Y[I, J]\nC[i, j] = Y[i, j] - max(k: X[i, k])\noutput C\n"},
      {"column_reductions",  // the reduced index is the outer one
       "dim I = 50, J = 3\ninput X[I, J]\ncs[j] = sum(i: X[i, j])\nP[i, j] = softmax(i: X[i, j])\noutput cs, P\n"},
      {"two_index_rows",
       "dim A = 3, B = 9, C = 11\ninput X[A, B, C]\n"
       "s[a] = sum(b, c: X[a, b, c])\nP[a, b, c] = softmax(b, c: X[a, b, c])\noutput s, P\n"},
      {"nested_reductions",  // binders inside binders: serial loops
       "dim I = 4, J = 40, K = 5\ninput X[I, J, K]\n"
       "y[i] = max(j: sum(k: X[i, j, k]))\nz[i, j] = softmax(j: sum(k: X[i, j, k] * X[i, j, k]))\noutput y, z\n"},
      {"elementwise",
       "dim I = 33, J = 17\ninput X[I, J], v[J]\n"
       "Y[i, j] = gelu(X[i, j]) * v[j] - tanh(X[i, j]) / (abs(v[j]) + 1) + sigmoid(X[i, j]) + silu(v[j])\n"
       "Z[i, j] = max(X[i, j], 0.25) + min(X[i, j], v[j]) + exp(X[i, j]) + sqrt(abs(X[i, j])) + rsqrt(abs(v[j]) + 1)\n"
       "W[i, j] = pow(abs(X[i, j]) + 1, v[j]) + log(abs(X[i, j]) + 1) + relu(X[i, j]) - (-v[j])\n"
       "output B[I, J]\nB[i, j] = v[j]\n"
       "output Y, Z, W\n"},
      {"accumulate",
       "dim I = 40, K = 6\ninput X[I, K], Y[I]\n"
       "Z[i] = Y[i]\nZ[i] += X[i, k] * X[i, k]\nZ[i] += Z[i] * 2\n"
       "output Z\n"},
      {"integers",
       "dim I = 20, J = 45\ninput A[I, J] : i32\ninput B[I, J] : i32\ninput c[I, J] : i8\n"
       "S[i] = A[i, j] * B[i, j]\nD[i, j] = A[i, j] / (B[i, j] * B[i, j] + 1) - A[i, j] * 3\n"
       "M[i] = max(j: A[i, j])\nE[i, j] = A[i, j] * 1000000 * 1000000 * 1000\nP[i] = c[i, j] * c[i, j]\n"
       "Q[i, j] = c[i, j] * c[i, j] * c[i, j] * 5\n"
       "output S, D, M, E, P, Q\n"},
      {"f64",
       "dim I = 30, J = 60\ninput X[I, J] : f64\ninput W[J, I] : f64\n"
       "Y[i, k] = X[i, j] * W[j, k]\nP[i, j] = softmax(j: X[i, j])\nL[i, j] = layernorm(j: X[i, j])\noutput Y, P, L\n"},
      {"gett_epilogues",
       "dim B = 2, I = 37, J = 29, K = 41\ninput X[B, I, K], W[K, J], bias[J], R[B, I, J], s[]\n"
       "Y1[b, i, j] = relu(X[b, i, k] * W[k, j] * 0.5 + bias[j]) - R[b, i, j]\n"
       "Y2[b, j, i] = X[b, i, k] * W[k, j] * s + R[b, i, j]\n"
       "Y3[i, b, j] = sigmoid(X[b, i, k] * W[k, j] / s) + bias[j] + R[b, i, j]\n"
       "output Y1, Y2, Y3\n"},
      {"three_operands",  // not GETT: the row kernel sums over j, k
       "dim N = 33\ninput A[N, N], B[N, N], v[N]\ny[i] = A[i, j] * B[j, k] * v[k]\noutput y\n"},
      {"conversions",  // quantise (rounded, saturated), an i32 sum dequantised (row kernel, inline), wraps
       "dim I = 9, J = 37, K = 5\ninput x[I, J]\ninput a[I, J] : i32\nparam w[K, J] : i8\nparam s[K]\n"
       "q[i, j] = i8(x[i, j] * 256)\n"
       "y[i, k] = f32(sum(j: q[i, j] * w[k, j])) * s[k]\n"
       "z[i] = f32(sum(j: q[i, j] * q[i, j])) + f32(max(k: w[k, 0]))\n"
       "t[i] = f32(sum(j: a[i, j] * 300000000))\nu[i] = f32(sum(j: a[i, j] / 3))\n"  // i32: wraps, truncates
       "n[i, j] = i8(a[i, j] * 1000) + i8(q[i, j] * 3)\n"
       "g[i, j] = f64(x[i, j]) * 2 + f64(a[i, j])\n"
       "r[i, j] = i32(x[i, j] * 4294967296.0) + i32(q[i, j])\n"
       "output q, y, z, t, u, n, g, r\n"},
      {"f16_conversions",  // not emulated (cuda_fp16.h): NVRTC and GPU tests only
       "dim I = 9, J = 37\ninput x[I, J]\ninput h[I, J] : f16\n"
       "u[i, j] = f16(x[i, j] * 3)\nv[i, j] = f32(h[i, j]) + f32(bf16(x[i, j]))\nc[i, j] = i8(h[i, j] * 64)\n"
       "output u, v, c\n"},
      {"f16_bf16",  // not emulated (cuda_fp16.h): NVRTC and GPU tests only
       "dim I = 33, J = 70\ninput X[I, J] : f16\ninput Y[I, J] : bf16\ninput W[J, I] : f16\n"
       "P[i, j] = softmax(j: X[i, j])\nS[i] = sum(j: Y[i, j])\nM[i, k] = X[i, j] * W[j, k]\nE[i, j] = gelu(Y[i, j]) * "
       "2\n"
       "output P, S, M, E\n"},
  };
  return scripts;
}

// The largest reduction length of any binder of the program (>= 1).
inline std::int64_t max_reduction_length(const einc::ir::Program& program) {
  std::int64_t best = 1;
  for (const einc::ir::Statement& s : program.statements) {
    std::vector<const einc::ir::Expr*> stack{s.value.get()};
    while (!stack.empty()) {
      const einc::ir::Expr* e = stack.back();
      stack.pop_back();
      if (e->kind == einc::ir::ExprKind::reduce || e->kind == einc::ir::ExprKind::normalize) {
        std::int64_t n = 1;
        for (int i : e->over) n *= program.evaluate(s.indices.at(static_cast<std::size_t>(i)).extent);
        best = std::max(best, n);
      }
      for (const auto& a : e->args) stack.push_back(a.get());
    }
  }
  return best;
}

// "" when every output of `got` matches `want`: |got - want| <=
// atol + rtol * sqrt(L) * max(1, |want|), with rtol = 4 eps of the dtype
// (f32 for f16/bf16 too, times 64 for multi-statement programs, whose
// errors compound) and atol = 1e-5 * sqrt(L) (f32) or 2e-14 * sqrt(L) (f64);
// NaN matches NaN. Integers must be equal. Otherwise the first mismatch.
inline std::string compare_outputs(const einc::ir::Program& program, const std::vector<Tensor>& got,
                                   const std::vector<Tensor>& want, std::int64_t reduction_length, double slack = 1.0) {
  const double sqrt_l = std::sqrt(static_cast<double>(std::max<std::int64_t>(1, reduction_length)));
  for (int out : program.outputs) {
    const Tensor& g = got.at(static_cast<std::size_t>(out));
    const Tensor& w = want.at(static_cast<std::size_t>(out));
    const std::string& name = program.tensors[static_cast<std::size_t>(out)].name;
    if (g.shape() != w.shape()) return name + ": shape differs";
    const einc::DType d = w.dtype();
    const bool integer = d == einc::DType::i8 || d == einc::DType::i32;
    const double rtol = 4 * (d == einc::DType::f64 ? 2.220446049250313e-16 : 1.1920929e-07) * slack;
    const double atol = (d == einc::DType::f64 ? 2e-14 : 1e-5) * sqrt_l * slack;
    for (std::int64_t i = 0; i < w.numel(); ++i) {
      double a = g.get_flat(i), b = w.get_flat(i);
      bool ok = integer
                    ? a == b
                    : (std::isnan(b)
                           ? std::isnan(a)
                           : (std::isinf(b) ? a == b
                                            : std::fabs(a - b) <= atol + rtol * sqrt_l * std::max(1.0, std::fabs(b))));
      if (!ok) {
        std::ostringstream msg;
        msg.precision(9);
        msg << name << " flat element " << i << ": got " << a << ", want " << b << " (|diff| " << std::fabs(a - b)
            << ")";
        return msg.str();
      }
    }
  }
  return "";
}

}  // namespace einc_cuda_test
