// tests/cpu/blocking_test.cpp — the cpu backend on shapes that cross every
// cache block boundary (MC, NC, KC), the GEMV path, and an epilogue, against
// plain double-precision loops (the reference interpreter would be too slow
// at these sizes).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "einc/einc.h"

namespace {

using einc::Tensor;

double max_relative_error(const Tensor& got, const std::vector<double>& want) {
  double worst = 0;
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    double w = want[static_cast<std::size_t>(i)];
    worst = std::max(worst, std::fabs(got.get_flat(i) - w) / std::max(1.0, std::fabs(w)));
  }
  return worst;
}

TEST(CpuBlocking, MatmulAcrossEveryBlockBoundaryWithBiasAndRelu) {
  const std::int64_t m = 301, k = 1100, n = 2113;  // > MC, > KC (twice), > NC; none a multiple of MR/NR
  einc::CompileOptions options;
  options.dims = {{"M", m}, {"K", k}, {"N", n}};
  einc::Program p =
      einc::compile("dim M, K, N\ninput A[M, K], B[K, N], b[N]\nC[i, j] = relu(A[i, k] * B[k, j] + b[j])\n", options);
  einc::TensorMap in = einc::random_inputs(p, 11);
  einc::TensorMap out = p.run(in, {.backend = einc::Backend::cpu, .threads = 2});
  const Tensor &a = in.at("A"), &b = in.at("B"), &bias = in.at("b");
  std::vector<double> want(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t kk = 0; kk < k; ++kk) {
      double aik = a.get_flat(i * k + kk);
      for (std::int64_t j = 0; j < n; ++j) want[static_cast<std::size_t>(i * n + j)] += aik * b.get_flat(kk * n + j);
    }
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double& v = want[static_cast<std::size_t>(i * n + j)];
      v = std::max(0.0, v + bias.get_flat(j));
    }
  EXPECT_LT(max_relative_error(out.at("C"), want), 1e-4);
}

// The GEMV paths: y = x W (W stored [K, N], axpy form) cuts K into slices
// and N (y's length, M of the GETT) into chunks: n > one chunk, k > several
// slices; z = V x (V stored [N, K], dot-product form) runs 8 rows at a time
// in one run of rows per thread, with a k tail (k is odd) and a row tail
// (n % 8 = 7; 3 threads: runs of 3016, 3016 and 2999 rows).
TEST(CpuBlocking, DecodeGemvAndItsTranspose) {
  const std::int64_t k = 5003, n = 9031;
  einc::CompileOptions options;
  options.dims = {{"K", k}, {"N", n}};
  einc::Program p =
      einc::compile("dim K, N\ninput x[K], W[K, N], V[N, K]\ny[j] = x[k] * W[k, j]\nz[j] = V[j, k] * x[k]\n", options);
  einc::TensorMap in = einc::random_inputs(p, 3);
  einc::TensorMap one = p.run(in, {.backend = einc::Backend::cpu, .threads = 1});
  for (int threads : {1, 2, 3}) {
    einc::TensorMap out = p.run(in, {.backend = einc::Backend::cpu, .threads = threads});
    EXPECT_EQ(std::memcmp(out.at("y").data(), one.at("y").data(), static_cast<std::size_t>(n) * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(out.at("z").data(), one.at("z").data(), static_cast<std::size_t>(n) * sizeof(float)), 0);
    std::vector<double> y(static_cast<std::size_t>(n), 0.0), z(static_cast<std::size_t>(n), 0.0);
    for (std::int64_t kk = 0; kk < k; ++kk)
      for (std::int64_t j = 0; j < n; ++j) {
        y[static_cast<std::size_t>(j)] += in.at("x").get_flat(kk) * in.at("W").get_flat(kk * n + j);
        z[static_cast<std::size_t>(j)] += in.at("x").get_flat(kk) * in.at("V").get_flat(j * k + kk);
      }
    EXPECT_LT(max_relative_error(out.at("y"), y), 1e-4) << threads;
    EXPECT_LT(max_relative_error(out.at("z"), z), 1e-4) << threads;
  }
}

// The driver cuts work differently by thread count and shape: column
// blocks of its own per thread when N is wide (N >= 256 per thread, or
// >= 64 with an A that fits in L2), else
// M into a multiple of the threads, N as well when M is thin, whole batch
// elements per thread when there are many, and the micro-kernel shape
// itself may change with the threads. Every cut must give bitwise the same C as one thread (K
// is never split, and blocked alike for every shape) and the right values.
TEST(CpuBlocking, EveryThreadPartitionGivesTheSameBits) {
  struct Case {
    const char* what;
    std::int64_t batch, m, n, k;
  };
  for (const Case& c : {Case{"thin M, small A: columns per thread", 1, 40, 700, 300},
                        Case{"M cut into a multiple of threads", 1, 1000, 50, 400},
                        // 552 + 548 columns on 2 threads, 3 x ~367 on 3, 4 x 275 on 4; K in 2 KC blocks
                        Case{"columns per thread, N not a multiple of NR", 1, 300, 1100, 1100},
                        Case{"few batches, columns per thread", 3, 70, 600, 300},
                        Case{"M within one MC block, still cut", 1, 300, 100, 50},
                        Case{"batch-parallel", 12, 33, 45, 70}, Case{"few batches: parallel inside", 3, 70, 90, 800},
                        // AVX-512: 48x8 on 1 thread, 32x12 on 2 (11 panels of 48 do not halve); K = 1100 in 2 KC blocks
                        // (3 if KC followed the shape)
                        Case{"tile shape chosen by the threads", 1, 512, 64, 1100},
                        // 42 panels of 48 in 3 or 4 parts of unequal panel counts
                        Case{"parts of unequal panel counts", 1, 2000, 40, 100}}) {
    einc::CompileOptions options;
    options.dims = {{"Bt", c.batch}, {"M", c.m}, {"N", c.n}, {"K", c.k}};
    einc::Program p = einc::compile(
        "dim Bt, M, N, K\ninput A[Bt, N, K], B[Bt, K, M]\nC[b, i, j] = A[b, i, k] * B[b, k, j]\n", options);
    einc::TensorMap in = einc::random_inputs(p, 5);
    const Tensor &a = in.at("A"), &b = in.at("B");
    std::vector<double> want(static_cast<std::size_t>(c.batch * c.n * c.m), 0.0);
    for (std::int64_t bt = 0; bt < c.batch; ++bt)
      for (std::int64_t i = 0; i < c.n; ++i)
        for (std::int64_t kk = 0; kk < c.k; ++kk) {
          double aik = a.get_flat((bt * c.n + i) * c.k + kk);
          for (std::int64_t j = 0; j < c.m; ++j)
            want[static_cast<std::size_t>((bt * c.n + i) * c.m + j)] += aik * b.get_flat((bt * c.k + kk) * c.m + j);
        }
    Tensor one = p.run(in, {.backend = einc::Backend::cpu, .threads = 1}).at("C");
    EXPECT_LT(max_relative_error(one, want), 1e-4) << c.what;
    for (int threads : {2, 3, 4}) {
      Tensor more = p.run(in, {.backend = einc::Backend::cpu, .threads = threads}).at("C");
      EXPECT_EQ(std::memcmp(one.data(), more.data(), static_cast<std::size_t>(one.numel()) * sizeof(float)), 0)
          << c.what << ", threads=" << threads;
    }
  }
}

// `abcd,dbe->ace`: K = (b, d) runs along A's rows in runs of d. With d a
// multiple of the vector width the runs are packed by in-register
// transposes (mode 1), otherwise by the general gather; K spans several KC
// blocks, whose starts fall inside a run.
TEST(CpuBlocking, ContractionOverSeveralRunsOfK) {
  for (std::int64_t d : {32, 48, 20})
    for (std::int64_t ne : {50, 48}) {  // M = e: the 32x12 tile, or the 48x8 one (AVX-512)
      const std::int64_t na = 3, nb = 17, nc = 5;
      einc::CompileOptions options;
      options.dims = {{"Na", na}, {"Nb", nb}, {"Nc", nc}, {"Nd", d}, {"Ne", ne}};
      einc::Program p = einc::compile(
          "dim Na, Nb, Nc, Nd, Ne\ninput A[Na, Nb, Nc, Nd], B[Nd, Nb, Ne]\nC[a, c, e] = A[a, b, c, d] * B[d, b, e]\n",
          options);
      einc::TensorMap in = einc::random_inputs(p, 9);
      const Tensor &a = in.at("A"), &b = in.at("B");
      std::vector<double> want(static_cast<std::size_t>(na * nc * ne), 0.0);
      for (std::int64_t ia = 0; ia < na; ++ia)
        for (std::int64_t ib = 0; ib < nb; ++ib)
          for (std::int64_t ic = 0; ic < nc; ++ic)
            for (std::int64_t id = 0; id < d; ++id) {
              double x = a.get({ia, ib, ic, id});
              for (std::int64_t ie = 0; ie < ne; ++ie)
                want[static_cast<std::size_t>((ia * nc + ic) * ne + ie)] += x * b.get({id, ib, ie});
            }
      Tensor one = p.run(in, {.backend = einc::Backend::cpu, .threads = 1}).at("C");
      EXPECT_LT(max_relative_error(one, want), 1e-4) << "d=" << d << " e=" << ne;
      Tensor two = p.run(in, {.backend = einc::Backend::cpu, .threads = 2}).at("C");
      EXPECT_EQ(std::memcmp(one.data(), two.data(), static_cast<std::size_t>(one.numel()) * sizeof(float)), 0) << d;
    }
}

// A stride-2 convolution's A panels (rows two elements of X apart) are
// packed from one load of the span they cover, every other lane picked;
// the last panel (Q = 37: rows 32..36) is padded and gathered. X ends at
// the last element the last full panel reads (W = 2*Q - 2 + S), so a read
// past the span would leave the tensor. Against a direct loop, 1 and 2
// threads bit for bit.
TEST(CpuBlocking, StrideTwoPanelsPackEveryOtherElement) {
  const std::int64_t c = 5, q = 37, f = 7, s = 3, w = 2 * q - 2 + s;
  einc::CompileOptions options;
  options.dims = {{"C", c}, {"Q", q}, {"F", f}, {"W", w}};
  einc::Program p =
      einc::compile("dim C, Q, F, W\ninput X[C, W], K[F, C, 3]\nY[f, j] = X[c, 2*j + s] * K[f, c, s]\n", options);
  einc::TensorMap in = einc::random_inputs(p, 21);
  std::vector<double> want(static_cast<std::size_t>(f * q), 0.0);
  for (std::int64_t of = 0; of < f; ++of)
    for (std::int64_t j = 0; j < q; ++j)
      for (std::int64_t ic = 0; ic < c; ++ic)
        for (std::int64_t is = 0; is < s; ++is)
          want[static_cast<std::size_t>(of * q + j)] += in.at("X").get({ic, 2 * j + is}) * in.at("K").get({of, ic, is});
  Tensor one = p.run(in, {.backend = einc::Backend::cpu, .threads = 1}).at("Y");
  EXPECT_NE(p.emit(einc::EmitStage::plan).find("Y = JIT GETT (batch -; M j; N f; K c,s)"), std::string::npos)
      << p.emit(einc::EmitStage::plan);
  EXPECT_LT(max_relative_error(one, want), 1e-5);
  Tensor two = p.run(in, {.backend = einc::Backend::cpu, .threads = 2}).at("Y");
  EXPECT_EQ(std::memcmp(one.data(), two.data(), static_cast<std::size_t>(one.numel()) * sizeof(float)), 0);
}

// Every activation the epilogue can apply (vectorised, after scale and
// bias, before the residual), on positive data so that log and sqrt are
// defined, against the reference. M = 37 is not a multiple of any vector
// width, so the activation's scalar tail runs too. K = 64 makes C smaller
// than A and B, so the plan applies the scale to C (the epilogue's place).
TEST(CpuBlocking, EveryEpilogueActivationMatchesTheReference) {
  for (const char* func : {"exp", "log", "sqrt", "rsqrt", "abs", "tanh", "sigmoid", "relu", "gelu", "silu"}) {
    einc::Program p = einc::compile(std::string("dim M = 37, K = 64, N = 9\ninput A[N, K], B[K, M], b[M], r[N, M]\n") +
                                    "C[i, j] = " + func + "(A[i, k] * B[k, j] / 7 + b[j]) - r[i, j]\n");
    einc::TensorMap in = einc::random_inputs(p, 4);
    for (auto& [name, t] : in)
      for (std::int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, std::fabs(t.get_flat(i)) + 0.05);
    Tensor got = p.run(in, {.backend = einc::Backend::cpu}).at("C"),
           want = p.run(in, {.backend = einc::Backend::reference}).at("C");
    EXPECT_NE(p.emit(einc::EmitStage::llvm_ir).find("C = JIT GETT"), std::string::npos) << func;
    for (std::int64_t i = 0; i < got.numel(); ++i)
      ASSERT_NEAR(got.get_flat(i), want.get_flat(i), 2e-6 * std::max(1.0, std::fabs(want.get_flat(i))))
          << func << " at " << i;
  }
}

// The epilogue fused into the micro-kernel's stores (bias along M and along
// N, scale, activation, one residual laid out like C) over whole tiles and
// edge tiles, with K over several KC blocks; and forms that cannot be fused
// (a bias varying along both M and N, two residuals), which take the
// second pass. All against the reference.
TEST(CpuBlocking, FusedAndUnfusedEpiloguesMatchTheReference) {
  const std::string dims = "dim M = 70, N = 26, K = 700\ninput A[N, K], B[K, M], bm[M], bn[N], R[N, M], S[N, M]\n";
  for (const char* value : {"gelu(A[i, k] * B[k, j] / 9 + bm[j] - bn[i]) + R[i, j]",
                            "relu(A[i, k] * B[k, j] * 0.5 + bn[i]) - R[i, j]", "A[i, k] * B[k, j] + bm[j] + bm[j]",
                            "tanh(A[i, k] * B[k, j] + R[i, j])", "A[i, k] * B[k, j] + R[i, j] + S[i, j]"}) {
    einc::Program p = einc::compile(dims + "C[i, j] = " + value + "\n");
    einc::TensorMap in = einc::random_inputs(p, 8);
    Tensor got = p.run(in, {.backend = einc::Backend::cpu, .threads = 2}).at("C"),
           want = p.run(in, {.backend = einc::Backend::reference}).at("C");
    Tensor one = p.run(in, {.backend = einc::Backend::cpu, .threads = 1}).at("C");
    for (std::int64_t i = 0; i < got.numel(); ++i)
      ASSERT_NEAR(got.get_flat(i), want.get_flat(i), 1e-4 * std::max(1.0, std::fabs(want.get_flat(i))))
          << value << " at " << i;
    EXPECT_EQ(std::memcmp(one.data(), got.data(), got.nbytes()), 0) << value;
  }
}

// Under a thin M (at most 8 row panels) the micro-kernel reads B's columns
// where they are when K runs along them, instead of packing B: the same
// products in the same order as on the packed panels, so the same bits as
// with EINC_GETT_PACK_B=1, and the reference's values. A partial last
// column panel (packed, padded), K over two KC blocks, batches split among
// threads, heads strided as in P . V, a fused epilogue, a select's mask,
// a masked sum (its K runs where the mask holds everywhere read in place,
// its masked copies made from the columns), and f64 and i32 GETTs.
TEST(CpuBlocking, BReadInPlaceGivesThePackedBits) {
  struct Case {
    const char* what;
    std::string script;
  };
  const Case cases[] = {
      {"batched, N = 45 (a partial panel)",
       "dim Bt = 12, M = 40, N = 45, K = 70\ninput A[Bt, N, K], B[Bt, K, M]\n"
       "C[b, i, j] = A[b, i, k] * B[b, k, j]\n"},
      {"P . V, strided heads, K in two KC blocks",
       "dim H = 3, I = 50, J = 1100, E = 40\ninput P[H, I, J], V[J, H, E]\nO[i, h, e] = P[h, i, j] * V[j, h, e]\n"},
      {"fused epilogue",
       "dim M = 70, N = 26, K = 700\ninput A[N, K], B[K, M], bm[M], R[N, M]\n"
       "C[i, j] = relu(A[i, k] * B[k, j] + bm[j]) + R[i, j]\n"},
      {"select mask",
       "dim T = 100, E = 32\ninput Q[T, E], Kt[T, E]\n"
       "S[i, j] = where(j <= i, Q[i, e] * Kt[j, e], -inf)\n"},
      {"causal P . V (a masked sum), K in two KC blocks",
       "dim T = 700, E = 40\ninput P[T, T], V[T, E]\nO[i, e] = where(j <= i, P[i, j] * V[j, e], 0)\n"},
      {"anti-causal P . V (its runs where the mask holds everywhere start past the diagonal)",
       "dim T = 300, E = 40\ninput P[T, T], V[T, E]\nO[i, e] = where(j >= i, P[i, j] * V[j, e], 0)\n"},
      {"f64", "dim M = 40, N = 45, K = 300\ninput A[N, K] : f64\ninput B[K, M] : f64\nC[i, j] = A[i, k] * B[k, j]\n"},
      {"i32", "dim M = 40, N = 45, K = 300\ninput A[N, K] : i32\ninput B[K, M] : i32\nC[i, j] = A[i, k] * B[k, j]\n"},
  };
  for (const Case& c : cases) {
    einc::Program p = einc::compile(c.script);
    einc::TensorMap in = einc::random_inputs(p, 6);
    EXPECT_NE(p.emit(einc::EmitStage::plan).find("JIT GETT"), std::string::npos) << c.what;
    const std::string out = p.outputs().at(0);
    for (int threads : {1, 2}) {
      Tensor in_place = p.run(in, {.backend = einc::Backend::cpu, .threads = threads}).at(out);
      setenv("EINC_GETT_PACK_B", "1", 1);
      Tensor packed = p.run(in, {.backend = einc::Backend::cpu, .threads = threads}).at(out);
      unsetenv("EINC_GETT_PACK_B");
      EXPECT_EQ(std::memcmp(in_place.data(), packed.data(), packed.nbytes()), 0) << c.what << ", threads=" << threads;
      Tensor want = p.run(in, {.backend = einc::Backend::reference}).at(out);
      for (std::int64_t i = 0; i < want.numel(); ++i) {
        const double w = want.get_flat(i), g = in_place.get_flat(i);
        if (std::isinf(w)) {
          ASSERT_EQ(g, w) << c.what << " at " << i;
          continue;
        }
        ASSERT_NEAR(g, w, 1e-4 * std::max(1.0, std::fabs(w))) << c.what << " at " << i;
      }
    }
  }
}

}  // namespace
