// tests/reference/reference_test.cpp — the reference backend against
// hand-computed values: every construct, the seeds of linear algebra,
// numerical stability, dtypes, and the run API's checks.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "einc/einc.h"

namespace {

using einc::DType;
using einc::Tensor;
using einc::TensorMap;

Tensor make(DType dtype, std::vector<std::int64_t> shape, std::vector<double> values) {
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, values.at(static_cast<std::size_t>(i)));
  return t;
}
Tensor f32(std::vector<std::int64_t> shape, std::vector<double> values) {
  return make(DType::f32, std::move(shape), std::move(values));
}

// On the reference backend (the default is the build's fast one).
TensorMap run(const std::string& script, const TensorMap& inputs, einc::DimBindings dims = {}) {
  einc::CompileOptions options;
  options.dims = std::move(dims);
  return einc::compile(script, options).run(inputs, {.backend = einc::Backend::reference});
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < t.numel(); ++i) out.push_back(t.get_flat(i));
  return out;
}

TEST(Reference, DotProductAndMatmul) {
  auto out =
      run("dim N = 3\ninput u[N], v[N]\nd = u[i] * v[i]\n", {{"u", f32({3}, {1, 2, 3})}, {"v", f32({3}, {4, 5, 6})}});
  EXPECT_EQ(values(out.at("d")), std::vector<double>{32});
  out = run("dim M = 2, K = 3, N = 2\ninput A[M, K], B[K, N]\nC[i, j] = A[i, k] * B[k, j]\n",
            {{"A", f32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"B", f32({3, 2}, {7, 8, 9, 10, 11, 12})}});
  EXPECT_EQ(values(out.at("C")), (std::vector<double>{58, 64, 139, 154}));
}

TEST(Reference, TraceDiagonalFrobeniusOuter) {
  Tensor a = f32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto out =
      run("dim N = 3\ninput A[N, N], u[N]\nt = A[i, i]\nd[i] = A[i, i]\nf = A[i, j] * A[i, j]\n"
          "o[i, j] = u[i] * u[j]\nT = einsum(\"ii\", A)\n",
          {{"A", a}, {"u", f32({3}, {1, 2, 3})}});
  EXPECT_EQ(values(out.at("t")), std::vector<double>{15});
  EXPECT_EQ(values(out.at("T")), std::vector<double>{15});
  EXPECT_EQ(values(out.at("d")), (std::vector<double>{1, 5, 9}));
  EXPECT_EQ(values(out.at("f")), std::vector<double>{285});
  EXPECT_EQ(values(out.at("o")), (std::vector<double>{1, 2, 3, 2, 4, 6, 3, 6, 9}));
}

TEST(Reference, OneHotEmbeddingLookupEqualsIndexing) {
  // E[t, d] = onehot[t, v] * W[v, d] picks row ids[t] of W.
  std::vector<int> ids = {2, 0, 3};
  Tensor onehot = Tensor::zeros(DType::f32, {3, 4});
  for (int t = 0; t < 3; ++t) onehot.set({t, ids[t]}, 1.0);
  Tensor w = f32({4, 2}, {10, 11, 20, 21, 30, 31, 40, 41});
  auto out =
      run("dim T = 3, V = 4, D = 2\ninput H[T, V], W[V, D]\nE[t, d] = H[t, v] * W[v, d]\n", {{"H", onehot}, {"W", w}});
  for (int t = 0; t < 3; ++t)
    for (int d = 0; d < 2; ++d) EXPECT_EQ(out.at("E").get({t, d}), w.get({ids[t], d}));
}

TEST(Reference, SoftmaxRowsSumToOneAndSurviveLargeInputs) {
  Tensor x = f32({2, 3}, {1e4, -1e4, 0, 1, 2, 3});
  auto out = run("dim R = 2, C = 3\ninput X[R, C]\nP[r, c] = softmax(c: X[r, c])\n", {{"X", x}});
  const Tensor& p = out.at("P");
  for (int r = 0; r < 2; ++r) {
    double sum = 0;
    for (int c = 0; c < 3; ++c) {
      EXPECT_TRUE(std::isfinite(p.get({r, c})));
      sum += p.get({r, c});
    }
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }
  EXPECT_NEAR(p.get({0, 0}), 1.0, 1e-7);
  EXPECT_NEAR(p.get({1, 2}), std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-7);
}

TEST(Reference, LogsumexpIsStable) {
  auto out = run("dim C = 2\ninput X[C]\nl = logsumexp(c: X[c])\n", {{"X", f32({2}, {1e4, 1e4})}});
  EXPECT_NEAR(out.at("l").get({}), 1e4 + std::log(2.0), 1e-3);
}

TEST(Reference, Reductions) {
  Tensor x = f32({2, 3}, {1, -2, 3, 4, 5, -6});
  auto out =
      run("dim R = 2, C = 3\ninput X[R, C]\ns[r] = sum(c: X[r, c])\nm[r] = max(c: X[r, c])\n"
          "n[r] = min(c: X[r, c])\np[r] = prod(c: X[r, c])\na[r] = mean(c: X[r, c])\n",
          {{"X", x}});
  EXPECT_EQ(values(out.at("s")), (std::vector<double>{2, 3}));
  EXPECT_EQ(values(out.at("m")), (std::vector<double>{3, 5}));
  EXPECT_EQ(values(out.at("n")), (std::vector<double>{-2, -6}));
  EXPECT_EQ(values(out.at("p")), (std::vector<double>{-6, -120}));
  EXPECT_EQ(values(out.at("a")), (std::vector<double>{static_cast<float>(2.0 / 3.0), 1}));
}

TEST(Reference, LayernormAndRmsnorm) {
  Tensor x = f32({1, 4}, {1, 2, 3, 4});
  auto out = run("dim R = 1, C = 4\ninput X[R, C]\nL[r, c] = layernorm(c: X[r, c])\nQ[r, c] = rmsnorm(c: X[r, c])\n",
                 {{"X", x}});
  double var = 1.25;
  EXPECT_NEAR(out.at("L").get({0, 0}), (1 - 2.5) / std::sqrt(var + 1e-5), 1e-6);
  EXPECT_NEAR(out.at("Q").get({0, 3}), 4 / std::sqrt(7.5 + 1e-5), 1e-6);
}

TEST(Reference, ElementwiseFunctions) {
  Tensor x = f32({3}, {1, -1000, 0.5});
  auto out =
      run("dim N = 3\ninput X[N]\ng[i] = gelu(X[i])\ns[i] = sigmoid(X[i])\nu[i] = silu(X[i])\n"
          "r[i] = relu(X[i]) + abs(X[i]) - max(X[i], 0) + pow(X[i], 2) * 0\nq[i] = rsqrt(X[i] * X[i])\n",
          {{"X", x}});
  EXPECT_NEAR(out.at("g").get({0}), 0.8413447460685429, 1e-7);
  EXPECT_EQ(out.at("s").get({1}), 0.0);
  EXPECT_NEAR(out.at("u").get({2}), 0.5 / (1 + std::exp(-0.5)), 1e-7);
  EXPECT_EQ(values(out.at("r")), (std::vector<double>{1, 1000, 0.5}));
  EXPECT_NEAR(out.at("q").get({2}), 2.0, 1e-7);
}

TEST(Reference, BroadcastScaleAndResidual) {
  auto out =
      run("dim T = 2, D = 2\ninput X[T, D], W[D, D], b[D]\n"
          "Y[t, f] = X[t, d] * W[d, f] / sqrt(D * 2) + b[f] + X[t, f]\n",
          {{"X", f32({2, 2}, {1, 2, 3, 4})}, {"W", f32({2, 2}, {1, 0, 0, 1})}, {"b", f32({2}, {10, 20})}});
  EXPECT_EQ(values(out.at("Y")), (std::vector<double>{11.5, 23, 14.5, 26}));
}

TEST(Reference, AccumulateAndChainOrder) {
  auto out = run("dim N = 2\ninput A[N, N], B[N, N], v[N]\ny[i] = A[i, j] * B[j, k] * v[k]\ny[i] += v[i]\n",
                 {{"A", f32({2, 2}, {1, 2, 3, 4})}, {"B", f32({2, 2}, {0, 1, 1, 0})}, {"v", f32({2}, {1, 10})}});
  // B v = [10, 1]; A (B v) = [12, 34]; + v.
  EXPECT_EQ(values(out.at("y")), (std::vector<double>{13, 44}));
}

// Products planned whole (ir/product_plan.h): free factors, scalars and
// divisors are operands of one plan, and the result is the product's value.
TEST(Reference, WholeProductsWithFreeFactorsScalarsAndDivisors) {
  Tensor a = f32({2}, {2, -1});
  Tensor b = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor c = f32({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  Tensor v = f32({3}, {1, 2, 4});
  Tensor w = f32({3, 2}, {1, 2, 4, 8, 0.5, 0.25});
  auto out =
      run("dim I = 2, J = 3, K = 2\ninput a[I], B[I, J], C[I, J, K], v[J], w[J, K], s\n"
          "R[i, j, k] = a[i] * B[i, j] * C[i, j, k] * 0.5\n"
          "y[i] = B[i, j] / v[j] * a[i] * s\n"
          "z[i] = sum(j, k: B[i, j] / w[j, k])\n"
          "q[i] = 2 / a[i] / s\n",
          {{"a", a}, {"B", b}, {"C", c}, {"v", v}, {"w", w}, {"s", f32({}, {4})}});
  std::vector<double> r, y, z, q;
  for (int i = 0; i < 2; ++i) {
    double ys = 0, zs = 0;
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 2; ++k) r.push_back(a.get({i}) * b.get({i, j}) * c.get({i, j, k}) * 0.5);
      ys += b.get({i, j}) / v.get({j});
      for (int k = 0; k < 2; ++k) zs += b.get({i, j}) / w.get({j, k});
    }
    y.push_back(ys * a.get({i}) * 4);
    z.push_back(zs);
    q.push_back(2 / a.get({i}) / 4);
  }
  EXPECT_EQ(values(out.at("R")), r);
  EXPECT_EQ(values(out.at("y")), y);
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(out.at("z").get({i}), z[static_cast<std::size_t>(i)], 1e-5);
  EXPECT_EQ(values(out.at("q")), q);
}

// An integer product that divides is computed as written: `/` truncates
// each term before the sum.
TEST(Reference, IntegerProductsThatDivideKeepTheirWrittenOrder) {
  Tensor a = make(DType::i32, {2, 2}, {7, 9, -7, 5});
  Tensor b = make(DType::i32, {2}, {2, 4});
  auto out = run("input A[2, 2], b[2] : i32\ny[i] = A[i, k] / b[k]\n", {{"A", a}, {"b", b}});
  EXPECT_EQ(values(out.at("y")), (std::vector<double>{7 / 2 + 9 / 4, -7 / 2 + 5 / 4}));
}

TEST(Reference, EinsumBroadcastsExtentOne) {
  auto out = run("input A[1, 3], B[2, 3]\nC = einsum(\"ij,ij->ij\", A, B)\n",
                 {{"A", f32({1, 3}, {1, 2, 3})}, {"B", f32({2, 3}, {1, 1, 1, 2, 2, 2})}});
  EXPECT_EQ(values(out.at("C")), (std::vector<double>{1, 2, 3, 2, 4, 6}));
}

// numpy broadcasts an extent of 1 against any other, 0 included, whichever
// operand comes first: the result is empty.
TEST(Reference, EinsumBroadcastsExtentOneAgainstZero) {
  for (const char* script : {"input A[1, 3], B[0, 3]\nC = einsum(\"ij,ij->ij\", A, B)\n",
                             "input A[1, 3], B[0, 3]\nC = einsum(\"ij,ij->ij\", B, A)\n"}) {
    auto out = run(script, {{"A", Tensor::zeros(DType::f32, {1, 3})}, {"B", Tensor::zeros(DType::f32, {0, 3})}});
    EXPECT_EQ(out.at("C").shape(), (std::vector<std::int64_t>{0, 3})) << script;
  }
}

TEST(Reference, Int8ProductsAreExactInt32) {
  Tensor a = make(DType::i8, {1, 2}, {127, -128});
  Tensor b = make(DType::i8, {2, 1}, {127, -128});
  auto out = run("input A[1, 2], B[2, 1] : i8\nC[i, j] = A[i, k] * B[k, j]\n", {{"A", a}, {"B", b}});
  EXPECT_EQ(out.at("C").dtype(), DType::i32);
  EXPECT_EQ(out.at("C").get({0, 0}), 127.0 * 127 + 128.0 * 128);
}

TEST(Reference, HalfPrecisionRoundsOnceWhenStored) {
  Tensor a = make(DType::f16, {4}, {1, 1, 1, 1});
  Tensor b = make(DType::f16, {4}, {0.0004, 0.0004, 0.0004, 0.0004});
  auto out = run("input a[4], b[4] : f16\nd = a[i] * b[i]\n", {{"a", a}, {"b", b}});
  EXPECT_NEAR(out.at("d").get({}), 4 * b.get({0}), 1e-6);
  Tensor c = make(DType::bf16, {2}, {1, 1.0 / 256});
  out = run("input c[2] : bf16\ns = c[i]\n", {{"c", c}});
  EXPECT_EQ(out.at("s").get({}), 1.0);  // 1 + 2^-8 rounds to 1 in bf16, once
}

// Conversions (docs/language.md): to an integer, round to nearest (ties to
// even) and saturate, NaN giving 0; to a float, round to its precision; the
// argument in its own dtype first (an i32 sum wraps before it converts).
TEST(Reference, ConversionsRoundSaturateAndKeepTheirArgumentsDtype) {
  const double nan = std::nan("");
  auto out = run("dim N = 10\ninput x[N]\nq[i] = i8(x[i])\nr[i] = i32(x[i] * 2)\n",
                 {{"x", f32({10}, {0.5, 1.5, 2.5, -0.5, -1.5, 127.4, 127.6, -300, nan, 1e10})}});
  EXPECT_EQ(values(out.at("q")), (std::vector<double>{0, 2, 2, -0, -2, 127, 127, -128, 0, 127}));
  EXPECT_EQ(values(out.at("r")), (std::vector<double>{1, 3, 5, -1, -3, 255, 255, -600, 0, 2147483647}));
  // An i32 sum that wraps, then converted; i8 products summed exactly in i32.
  out = run("dim N = 2\ninput a[N] : i32\ns = sum(i: f64(a[i]))\nw = f64(a[i])\n",
            {{"a", make(DType::i32, {2}, {2147483647, 1})}});
  EXPECT_EQ(values(out.at("s")), std::vector<double>{2147483648.0});  // each converted, then summed in f64
  // The implicit sum goes inside the conversion (every use of i is there):
  // summed in i32, which wraps, then converted.
  EXPECT_EQ(values(out.at("w")), std::vector<double>{-2147483648.0});
  out = run("dim N = 3\ninput a[N] : i8\ninput b[N] : i8\ny = f32(sum(i: a[i] * b[i])) * 0.5\n",
            {{"a", make(DType::i8, {3}, {127, -128, 5})}, {"b", make(DType::i8, {3}, {127, -128, 7})}});
  EXPECT_EQ(values(out.at("y")), std::vector<double>{(127.0 * 127 + 128.0 * 128 + 35) / 2});
  // To f16 and bf16 and back: rounded to their precision (ties to even).
  out = run("dim N = 3\ninput x[N] : f64\nh[i] = f64(f16(x[i]))\nb[i] = f64(bf16(x[i]))\n",
            {{"x", make(DType::f64, {3}, {1.0 + 1.0 / 4096, 1.0 + 3.0 / 2048, 1.0 + 1.0 / 256})}});
  EXPECT_EQ(values(out.at("h")), (std::vector<double>{1.0, 1.0 + 2.0 / 1024, 1.0 + 1.0 / 256}));
  EXPECT_EQ(values(out.at("b")), (std::vector<double>{1.0, 1.0, 1.0}));
  // Requantising an i32 saturates; an i8 widened to i32 is exact.
  out = run("dim N = 3\ninput a[N] : i32\nq[i] = i8(a[i])\nw[i] = i32(q[i]) * 1000\noutput q, w\n",
            {{"a", make(DType::i32, {3}, {-1000, 100, 1000})}});
  EXPECT_EQ(values(out.at("q")), (std::vector<double>{-128, 100, 127}));
  EXPECT_EQ(values(out.at("w")), (std::vector<double>{-128000, 100000, 127000}));
  // An integer argument's division is computed as written, as in an integer
  // statement (each quotient truncated, then summed), not planned as a
  // product (the sum divided once) because the statement is f32; counted
  // alike.
  const std::string divides =
      "dim N = 4\ninput a[N] : i32\nu = f32(sum(i: a[i] / 3))\nv = sum(i: a[i] / 3)\noutput u, v\n";
  out = run(divides, {{"a", make(DType::i32, {4}, {1, 2, 4, -8})}});
  EXPECT_EQ(values(out.at("u")), std::vector<double>{-1.0});  // 0 + 0 + 1 - 2 (the sum over 3: -1 / 3 = 0)
  EXPECT_EQ(values(out.at("v")), std::vector<double>{-1.0});
  const einc::Report report = einc::compile(divides).report();
  EXPECT_EQ(report.statements.at(0).flops.formula, report.statements.at(1).flops.formula);
}

TEST(Reference, EmptyDims) {
  auto out = run("dim N = 0, M = 2\ninput A[M, N]\ns[i] = sum(j: A[i, j])\np[i] = prod(j: A[i, j])\n",
                 {{"A", Tensor::zeros(DType::f32, {2, 0})}});
  EXPECT_EQ(values(out.at("s")), (std::vector<double>{0, 0}));
  EXPECT_EQ(values(out.at("p")), (std::vector<double>{1, 1}));
}

TEST(Reference, IntegerDivisionByZeroIsAnError) {
  Tensor a = make(DType::i32, {2}, {1, 0});
  EXPECT_THROW(run("input a[2] : i32\nq[i] = a[i] / a[i]\n", {{"a", a}}), einc::RunError);
}

TEST(Reference, StridedCallerMemory) {
  // A column-major 2x3 matrix viewed with strides {1, 2}.
  float storage[6] = {1, 4, 2, 5, 3, 6};
  Tensor view = Tensor::view(DType::f32, storage, {2, 3}, {1, 2});
  auto out = run("input A[2, 3]\nS[i] = sum(j: A[i, j])\n", {{"A", view}});
  EXPECT_EQ(values(out.at("S")), (std::vector<double>{6, 15}));
}

TEST(Run, DimsBindFromInputShapes) {
  einc::Program p = einc::compile("dim T, D = 2\ninput X[T, D], Y[T, D]\nZ[t, d] = X[t, d] + Y[t, d]\n");
  auto out = p.run({{"X", Tensor::zeros(DType::f32, {5, 2})}, {"Y", Tensor::zeros(DType::f32, {5, 2})}});
  EXPECT_EQ(out.at("Z").shape(), (std::vector<std::int64_t>{5, 2}));
  EXPECT_THROW(p.run({{"X", Tensor::zeros(DType::f32, {5, 2})}, {"Y", Tensor::zeros(DType::f32, {4, 2})}}),
               einc::RunError);
}

TEST(Run, InputErrorsNameTheTensor) {
  einc::Program p = einc::compile("input A[2, 3]\nB[i] = sum(j: A[i, j])\n");
  auto message = [&](const TensorMap& inputs) {
    try {
      p.run(inputs);
    } catch (const einc::RunError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({}).find("input 'A' is missing"), std::string::npos);
  EXPECT_NE(message({{"A", Tensor::zeros(DType::f64, {2, 3})}}).find("'A' is f64"), std::string::npos);
  EXPECT_NE(message({{"A", Tensor::zeros(DType::f32, {3, 2})}}).find("has shape [3, 2]"), std::string::npos);
  EXPECT_NE(message({{"A", Tensor::zeros(DType::f32, {2})}}).find("rank 1"), std::string::npos);
  EXPECT_NE(message({{"Z", Tensor::zeros(DType::f32, {2})}}).find("'Z' is not an input"), std::string::npos);
  EXPECT_THROW(p.run({{"A", Tensor::zeros(DType::f32, {2, 3})}}, {.backend = einc::Backend::cuda}), einc::RunError);
  EXPECT_FALSE(einc::backend_from_name("tpu").has_value());
}

TEST(Run, OneProgramFromSeveralThreads) {
  einc::Program p = einc::compile("dim N = 64\ninput A[N, N], B[N, N]\nC[i, j] = A[i, k] * B[k, j]\n");
  TensorMap first = einc::random_inputs(p, 1), second = einc::random_inputs(p, 2);
  Tensor expect_first = p.run(first).at("C"), expect_second = p.run(second).at("C");
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 5; ++r) {
        const TensorMap& in = t % 2 ? second : first;
        Tensor c = p.run(in).at("C");
        const Tensor& expect = t % 2 ? expect_second : expect_first;
        for (std::int64_t i = 0; i < c.numel(); ++i)
          if (c.get_flat(i) != expect.get_flat(i)) ++mismatches;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Run, EinsumHelper) {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f32({3, 2}, {7, 8, 9, 10, 11, 12});
  EXPECT_EQ(values(einc::einsum("ij,jk->ik", {a, b})), (std::vector<double>{58, 64, 139, 154}));
  EXPECT_EQ(values(einc::einsum("ij->ji", {a})), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  EXPECT_THROW(einc::einsum("ij,jk->ik", {a, a}), einc::CompileError);
  // A '"' or a newline cannot reach the generated script: numpy's message.
  try {
    einc::einsum("i\"", {f32({2}, {1, 2})});
    ADD_FAILURE() << "no error";
  } catch (const einc::CompileError& e) {
    EXPECT_NE(e.diagnostics().at(0).message.find("invalid subscript '\"'"), std::string::npos);
  }
  // compile_einsum: the program einsum runs, compiled once and run twice.
  einc::Program p = einc::compile_einsum("ij,jk", {{DType::f32, {2, 3}}, {DType::f32, {3, 2}}});
  EXPECT_EQ(p.outputs(), (std::vector<std::string>{"result"}));
  for (int k = 0; k < 2; ++k)
    EXPECT_EQ(values(p.run({{"operand0", a}, {"operand1", b}}).at("result")), (std::vector<double>{58, 64, 139, 154}));
}

TEST(Run, RandomInputsAreDeterministic) {
  einc::Program p = einc::compile("input A[4, 4] : f32\ninput B[3] : i8\nC[i, j] = A[i, j] * 2\n");
  TensorMap one = einc::random_inputs(p, 42), two = einc::random_inputs(p, 42);
  EXPECT_EQ(values(one.at("A")), values(two.at("A")));
  for (double v : values(one.at("B"))) EXPECT_TRUE(v >= -8 && v <= 8);
  for (double v : values(one.at("A"))) EXPECT_TRUE(v >= -1 && v < 1);
}

// run_into writes into the caller's buffers (here a column-major view), on
// every backend that runs on the host, and allocates the outputs not given.
TEST(Run, RunIntoWritesCallerBuffersInPlace) {
  einc::Program p = einc::compile(
      "dim M = 5, K = 7, N = 3\ninput A[M, K], B[K, N]\nC[i, j] = A[i, k] * B[k, j]\nD[i] = sum(j: C[i, j])\n"
      "output C, D\n");
  TensorMap first = einc::random_inputs(p, 1), second = einc::random_inputs(p, 2);
  for (einc::Backend b : einc::available_backends()) {
    if (b == einc::Backend::cuda) continue;  // needs a GPU: tests/cuda
    const std::string backend = einc::backend_name(b);
    std::vector<float> storage(15, -7.0f);
    Tensor column_major = Tensor::view(DType::f32, storage.data(), {5, 3}, {1, 5});
    TensorMap outputs{{"C", column_major}};
    for (const TensorMap* in : {&first, &second}) {  // the second run reuses both buffers
      p.run_into(*in, outputs, {.backend = b});
      TensorMap want = p.run(*in, {.backend = einc::Backend::reference});
      ASSERT_EQ(outputs.at("C").data(), static_cast<void*>(storage.data())) << backend;
      ASSERT_EQ(outputs.count("D"), 1u) << backend;
      for (std::int64_t i = 0; i < 5; ++i)
        for (std::int64_t j = 0; j < 3; ++j)
          EXPECT_NEAR(storage[static_cast<std::size_t>(i + 5 * j)], want.at("C").get({i, j}), 1e-5) << backend;
      EXPECT_NEAR(outputs.at("D").get({4}), want.at("D").get({4}), 1e-5) << backend;
    }
  }
}

TEST(Run, RunIntoRefusesBuffersThatDoNotFit) {
  einc::Program p = einc::compile("input A[4, 4]\nB[i, j] = A[j, i]\nC[i] = A[i, i]\noutput B, C\n");
  TensorMap in = einc::random_inputs(p, 3);
  auto message = [&](TensorMap outputs) {
    try {
      p.run_into(in, outputs);
    } catch (const einc::RunError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::vector<float> memory(64, 0.0f);
  auto at = [&](std::size_t offset, std::vector<std::int64_t> shape, std::vector<std::int64_t> strides = {}) {
    return Tensor::view(DType::f32, memory.data() + offset, std::move(shape), std::move(strides));
  };
  EXPECT_NE(message({{"A", at(0, {4, 4})}}).find("'A' is not an output"), std::string::npos);
  EXPECT_NE(message({{"Q", at(0, {4, 4})}}).find("'Q' is not an output"), std::string::npos);
  EXPECT_NE(message({{"B", at(0, {4, 3})}}).find("has shape [4, 3]"), std::string::npos);
  EXPECT_NE(message({{"B", Tensor::zeros(DType::f64, {4, 4})}}).find("is f64"), std::string::npos);
  EXPECT_NE(message({{"B", at(0, {4, 4}, {4, 0})}}).find("stride 0"), std::string::npos);
  EXPECT_NE(message({{"B", at(0, {4, 4})}, {"C", at(15, {4})}}).find("share memory"), std::string::npos);
  EXPECT_NE(message({{"B", in.at("A")}}).find("shares memory with input 'A'"), std::string::npos);
  EXPECT_EQ(message({{"B", at(0, {4, 4})}, {"C", at(16, {4})}}), "no error");
}

// --- index arithmetic -------------------------------------------------------

// A 2-D convolution of X[C, H, W] by K[F, C, R, S] with stride, dilation and
// zero padding, as the direct loop nest every framework documents.
std::vector<double> direct_convolution(const Tensor& x, const Tensor& k, std::int64_t stride, std::int64_t dilation,
                                       std::int64_t pad, std::int64_t out_h, std::int64_t out_w) {
  const std::int64_t C = x.shape()[0], H = x.shape()[1], W = x.shape()[2];
  const std::int64_t F = k.shape()[0], R = k.shape()[2], S = k.shape()[3];
  std::vector<double> y;
  for (std::int64_t f = 0; f < F; ++f)
    for (std::int64_t p = 0; p < out_h; ++p)
      for (std::int64_t q = 0; q < out_w; ++q) {
        double acc = 0;
        for (std::int64_t c = 0; c < C; ++c)
          for (std::int64_t r = 0; r < R; ++r)
            for (std::int64_t s = 0; s < S; ++s) {
              std::int64_t h = stride * p + dilation * r - pad, w = stride * q + dilation * s - pad;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              acc += x.get_flat((c * H + h) * W + w) * k.get_flat(((f * C + c) * R + r) * S + s);
            }
        y.push_back(acc);
      }
  return y;
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 * (1 + std::fabs(want[i]))) << i;
}

TEST(Reference, ConvolutionsMatchTheDirectLoopNest) {
  struct Case {
    std::string position_h, position_w;
    std::int64_t stride, dilation, pad, out_h, out_w;
    bool padded;
  };
  // H = 11, W = 8, R = S = 3.
  const Case cases[] = {
      {"p + r", "q + s", 1, 1, 0, 9, 6, false},                 // valid
      {"2*p + r", "2*q + s", 2, 1, 0, 5, 3, false},             // strided: ⌊(11 - 3)/2⌋ + 1
      {"p + 2*r", "q + 2*s", 1, 2, 0, 7, 4, false},             // dilated
      {"p + r - 1", "q + s - 1", 1, 1, 1, 11, 8, true},         // "same"
      {"2*p + r - 1", "2*q + s - 1", 2, 1, 1, 6, 4, true},      // strided, padded
      {"3*p + 2*r - 2", "3*q + 2*s - 2", 3, 2, 2, 4, 3, true},  // everything at once
  };
  for (const Case& c : cases) {
    std::string access = "X[c, " + c.position_h + ", " + c.position_w + "]";
    if (c.padded) access = "padded(" + access + ")";
    std::string script =
        "dim C = 2, H = 11, W = 8, F = 3, R = 3, S = 3\ninput X[C, H, W]\nparam K[F, C, R, S]\n" +
        (c.padded ? "output Y[F, " + std::to_string(c.out_h) + ", " + std::to_string(c.out_w) + "]\n" : std::string()) +
        "Y[f, p, q] = " + access + " * K[f, c, r, s]\n";
    SCOPED_TRACE(script);
    einc::Program program = einc::compile(script);
    TensorMap in = einc::random_inputs(program, 11);
    einc::RunOptions reference;
    reference.backend = einc::Backend::reference;
    Tensor y = program.run(in, reference).at("Y");
    EXPECT_EQ(y.shape(), (std::vector<std::int64_t>{3, c.out_h, c.out_w}));
    expect_near_all(values(y),
                    direct_convolution(in.at("X"), in.at("K"), c.stride, c.dilation, c.pad, c.out_h, c.out_w));
  }
}

TEST(Reference, LookupsGatherRowsAndRefuseIdsOutOfRange) {
  Tensor wte = f32({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
  Tensor ids = make(DType::i32, {3}, {2, 0, 3});
  const std::string script =
      "dim T = 3, V = 4, D = 2\ninput ids[T] : i32\nparam wte[V, D]\nx[t, d] = wte[ids[t], d] * 2\n"
      "y[t] = wte[ids[t], d]\noutput x, y\n";
  auto out = run(script, {{"wte", wte}, {"ids", ids}});
  EXPECT_EQ(values(out.at("x")), (std::vector<double>{40, 42, 0, 2, 60, 62}));
  EXPECT_EQ(values(out.at("y")), (std::vector<double>{41, 1, 61}));
  for (einc::Backend b : einc::available_backends()) {
    if (b == einc::Backend::cuda) continue;  // (tests/cuda checks its kernels)
    const char* backend = einc::backend_name(b);
    einc::Program p = einc::compile(script);
    einc::RunOptions options;
    options.backend = b;
    for (double bad : {4.0, -1.0}) {
      Tensor wrong = ids.clone();
      wrong.set_flat(1, bad);
      try {
        p.run({{"wte", wte}, {"ids", wrong}}, options);
        ADD_FAILURE() << backend << ": no error for id " << bad;
      } catch (const einc::RunError& e) {
        EXPECT_NE(
            std::string(e.what()).find("lookup out of range in the statement at line 4: ids[1] = " +
                                       std::to_string(static_cast<int>(bad)) + ", but dim 0 of 'wte' has extent 4"),
            std::string::npos)
            << backend << ": " << e.what();
      }
    }
  }
  // random_inputs draws ids inside the range they index.
  einc::Program p = einc::compile(script);
  for (std::uint64_t seed = 0; seed < 20; ++seed) EXPECT_NO_THROW(p.run(einc::random_inputs(p, seed)));
}

TEST(Reference, LiteralAndOffsetPositionsReadPartsOfATensor) {
  Tensor qkv = f32({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto out =
      run("dim T = 2, D = 2\ninput qkv[T, 3, D]\nq[t, d] = qkv[t, 0, d]\nv[t, d] = qkv[t, 2, d]\n"
          "s[t] = qkv[t, 1, d]\noutput q, v, s\n",
          {{"qkv", qkv}});
  EXPECT_EQ(values(out.at("q")), (std::vector<double>{1, 2, 7, 8}));
  EXPECT_EQ(values(out.at("v")), (std::vector<double>{5, 6, 11, 12}));
  EXPECT_EQ(values(out.at("s")), (std::vector<double>{3 + 4, 9 + 10}));
  // The two halves of a concatenation, and a shift by a dim.
  Tensor x = f32({1, 4}, {1, 2, 3, 4});
  out =
      run("dim T = 1, D = 2\ninput x[T, 2*D]\noutput lo[T, D]\nlo[t, d] = x[t, d + 0]\nhi[t, d] = x[t, d + D]\n"
          "output hi\n",
          {{"x", x}});
  EXPECT_EQ(values(out.at("lo")), (std::vector<double>{1, 2}));
  EXPECT_EQ(values(out.at("hi")), (std::vector<double>{3, 4}));
}

}  // namespace

namespace {

// Causal attention for one head, computed directly: scores over j <= i only.
std::vector<double> direct_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, std::int64_t t,
                                            std::int64_t e) {
  std::vector<double> out(static_cast<std::size_t>(t * e), 0.0);
  for (std::int64_t i = 0; i < t; ++i) {
    std::vector<double> s;
    double m = -INFINITY;
    for (std::int64_t j = 0; j <= i; ++j) {
      double dot = 0;
      for (std::int64_t x = 0; x < e; ++x) dot += q.get({i, x}) * k.get({j, x});
      s.push_back(dot / std::sqrt(static_cast<double>(e)));
      m = std::max(m, s.back());
    }
    double z = 0;
    for (double& x : s) z += (x = std::exp(x - m));
    for (std::int64_t j = 0; j <= i; ++j)
      for (std::int64_t x = 0; x < e; ++x)
        out[static_cast<std::size_t>(i * e + x)] += s[static_cast<std::size_t>(j)] / z * v.get({j, x});
  }
  return out;
}

}  // namespace

TEST(Reference, WhereMasksCausalAttention) {
  const std::string script =
      "dim T = 7, E = 5\ninput q[T, E], k[T, E], v[T, E]\n"
      "s[i, j] = where(j <= i, q[i, e] * k[j, e] / sqrt(E), -inf)\n"
      "p[i, j] = softmax(j: s[i, j])\n"
      "o[i, e] = where(j <= i, p[i, j] * v[j, e], 0)\n"
      "output o\n";
  einc::Program program = einc::compile(script);
  TensorMap in = einc::random_inputs(program, 3);
  for (einc::Backend b : einc::available_backends()) {
    if (b == einc::Backend::cuda) continue;  // (tests/cuda checks its kernels)
    SCOPED_TRACE(einc::backend_name(b));
    einc::RunOptions options;
    options.backend = b;
    expect_near_all(values(program.run(in, options).at("o")),
                    direct_causal_attention(in.at("q"), in.at("k"), in.at("v"), 7, 5));
  }
}

TEST(Reference, WhereComparesEveryWay) {
  // Each comparison of i (rows) with j (columns) on a 3x3 grid of ones.
  const std::pair<const char*, std::vector<double>> cases[] = {
      {"<", {0, 1, 1, 0, 0, 1, 0, 0, 0}},  {"<=", {1, 1, 1, 0, 1, 1, 0, 0, 1}}, {">", {0, 0, 0, 1, 0, 0, 1, 1, 0}},
      {">=", {1, 0, 0, 1, 1, 0, 1, 1, 1}}, {"==", {1, 0, 0, 0, 1, 0, 0, 0, 1}}, {"!=", {0, 1, 1, 1, 0, 1, 1, 1, 0}},
  };
  for (const auto& [op, expected] : cases) {
    SCOPED_TRACE(op);
    auto out = run("dim N = 3\ninput a[N, N]\ny[i, j] = where(i " + std::string(op) + " j, a[i, j], a[i, j] - 1)\n",
                   {{"a", f32({3, 3}, std::vector<double>(9, 1.0))}});
    EXPECT_EQ(values(out.at("y")), expected);
  }
  // -inf and inf are numbers; a masked max skips what the condition drops.
  auto out = run("dim N = 3\ninput a[N, N]\nm[i] = max(j: where(j <= i, a[i, j], -inf))\n",
                 {{"a", f32({3, 3}, {5, 9, 9, 1, 2, 9, 3, 1, 0})}});
  EXPECT_EQ(values(out.at("m")), (std::vector<double>{5, 2, 3}));
}

// A repeat block runs its statements once per layer, reading each layer's
// slice, with the state carried by +=: the same as the block written out.
TEST(Reference, RepeatBlocksEqualTheLayersWrittenOut) {
  const std::string repeated =
      "dim T = 5, D = 4, L = 3\ninput x0[T, D]\nparam w[L, D, D], b[L, D]\n"
      "x[t, d] = x0[t, d]\n"
      "repeat l < L {\n  h[t, d] = relu(x[t, e] * w[l, e, d] + b[l, d])\n  x[t, d] += h[t, d] * 0.5\n}\n"
      "y[t] = x[t, d]\noutput y, h\n";
  std::string unrolled = "dim T = 5, D = 4, L = 3\ninput x0[T, D]\nparam w[L, D, D], b[L, D]\nx[t, d] = x0[t, d]\n";
  for (int l = 0; l < 3; ++l) {
    const std::string n = std::to_string(l);
    unrolled +=
        "h" + n + "[t, d] = relu(x[t, e] * w[" + n + ", e, d] + b[" + n + ", d])\nx[t, d] += h" + n + "[t, d] * 0.5\n";
  }
  unrolled += "y[t] = x[t, d]\nh[t, d] = h2[t, d]\noutput y, h\n";
  einc::Program program = einc::compile(repeated);
  einc::Program reference_program = einc::compile(unrolled);
  TensorMap in = einc::random_inputs(program, 5);
  einc::RunOptions reference;
  reference.backend = einc::Backend::reference;
  TensorMap want = reference_program.run(in, reference);
  for (einc::Backend b : einc::available_backends()) {
    if (b == einc::Backend::cuda) continue;  // (tests/cuda checks its kernels)
    SCOPED_TRACE(einc::backend_name(b));
    einc::RunOptions options;
    options.backend = b;
    TensorMap got = program.run(in, options);
    expect_near_all(values(got.at("y")), values(want.at("y")));
    expect_near_all(values(got.at("h")), values(want.at("h")));  // the last layer's
  }
  // Counted once per layer; the params are the whole tensors, once.
  einc::Report report = program.report();
  EXPECT_EQ(report.totals.params.value, 3 * 4 * 4 + 3 * 4);
  EXPECT_EQ(report.totals.macs.value, reference_program.report().totals.macs.value);
  EXPECT_EQ(report.totals.flops.value, reference_program.report().totals.flops.value);
}
