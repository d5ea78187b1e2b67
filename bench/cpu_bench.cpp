// cpu_bench — einc's CPU backend against two anchors, OpenBLAS and oneDNN's
// matmul, in one run, on the cases of docs/performance.md: square GEMMs, a
// projection, per-head attention as batched contractions over strided
// layouts, a non-GEMM contraction (abcd,dbe->ace), a batched matmul, and
// decode: one GEMV on a 64 MiB weight (partly served from the last-level
// cache when repeated) and a chain of four (256 MiB of weights, read from
// DRAM each call). Then the other dtypes (issue 16): f64 squares (512 to
// 2048) and int8 squares and the projection (i8 x i8 -> i32, the dtype of
// an i8 product in einc), a decode, and a dequantising int8 linear layer
// (the i32 sums converted to f32 and scaled per output channel), each
// against the anchors that have the routine.
//
//   OpenBLAS   cblas_sgemm / sgemv on the case's buffers as they are
//              (strided per-head slices, a permute where BLAS needs one);
//              cblas_dgemm for f64. int8: n/a (OpenBLAS 0.3.21 has no
//              integer GEMM).
//   oneDNN     dnnl::matmul (onednn_matmul.h): 2-D, or 3-D for the batched
//              cases, on strided views of the same buffers, the weights
//              reordered once into oneDNN's preferred blocked format outside
//              the timed region (its best case); int8 as s8 x s8 -> s32,
//              the linear layer as s8 x s8 -> f32 with output scales.
//              A case its matmul cannot express without a permute
//              (abcd,dbe->ace) is n/a, with why, and so is f64 (oneDNN 2.6
//              has no f64 data type: its setup says so). Built only when
//              oneDNN is found; without it cpu_bench runs with OpenBLAS
//              alone (and int8 einc unchecked, against no anchor).
//
// Run it with OpenBLAS's environment traps removed (OPENBLAS_CORETYPE=Haswell
// halves OpenBLAS on this machine):
//
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/bench/cpu_bench
//
// Flags (before or among Google Benchmark's own --benchmark_* flags):
//   --threads=N    threads for einc, OpenBLAS and oneDNN (env EINC_BENCH_THREADS; default 2)
//   --rounds=R     interleaved rounds per case (default 5; smoke 1)
//   --backend=NAME einc backend to time (env EINC_BENCH_BACKEND; default cpu)
//   --smoke        shrink every extent 16x and time briefly (env EINC_BENCH_SMOKE=1);
//                  with --backend=reference it checks the harness in seconds
//
// For each case the einc script is compiled once, with the dims baked in, and
// its inputs are made once (einc::random_inputs); every anchor reads the
// same input buffers. Before anything is timed, einc's output is checked
// against OpenBLAS's (oneDNN's where OpenBLAS cannot run the case) and
// oneDNN's against einc's (max |diff| / max |want| <= 1e-4, an ulp of the
// dtype for bf16 and f16 results: bench_common.h; integer results must be
// equal); a side with a wrong answer is not timed. Each benchmark
// reports FLOP/s as a counter: 2 x the multiply-adds in every dtype. The
// sides of a case run in interleaved rounds (OpenBLAS, oneDNN, einc,
// OpenBLAS, ...: 5 rounds by default), so that the drift of this VM's speed
// between seconds hits all alike; the table printed at the end
// (ratio_table.h) gives each side's median over the rounds, the median of
// the per-round ratios einc / each anchor and einc / the faster anchor of
// the round (the only one where a case has one), with their spread, and
// einc's fraction of the FMA peak measured in-process on the same number of
// threads (fma_peak.h): of half of it for f64 (half the lanes per FMA), of
// the f32 peak itself for int8.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench_common.h"
#include "einc/einc.h"
#include "fma_peak.h"
#include "memory_bandwidth.h"
#include "onednn_matmul.h"
#include "ratio_table.h"

#if EINC_BENCH_ONEDNN
#include <omp.h>

#include "onednn_info.h"
#endif

namespace {

using einc::bench::AnchorColumn;
using einc::bench::backend_available;
using einc::bench::BusyMeter;
using einc::bench::check_result;
using einc::bench::Config;
using einc::bench::cpu_identity;
using einc::bench::kEinc;
using einc::bench::kOnednn;
using einc::bench::kOpenblas;
using einc::bench::MatmulStep;
using einc::bench::Peak;
using einc::bench::quiesce;
using einc::bench::side_key;
using einc::bench::TableReporter;
using einc::bench::TableRow;
using einc::bench::time_side;
using std::int64_t;

// ---------------------------------------------------------------- config

Config g_cfg;

int64_t dim(int64_t n) { return g_cfg.smoke ? std::max<int64_t>(1, n / 16) : n; }

constexpr const char* kHelp =
    "cpu_bench: einc's CPU backend against OpenBLAS and oneDNN's matmul (docs/performance.md)\n"
    "  --threads=N     threads for einc, OpenBLAS and oneDNN (env EINC_BENCH_THREADS, default 2)\n"
    "  --rounds=R      interleaved rounds of the anchors and einc per case (default 5; smoke 1)\n"
    "  --backend=NAME  einc backend to time (env EINC_BENCH_BACKEND, default cpu)\n"
    "  --smoke         every extent / 16, brief timing (env EINC_BENCH_SMOKE=1)\n"
    "Run as: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/bench/cpu_bench\n\n";

// The anchors this build times, in the order of a round (einc runs last).
std::vector<const char*> anchor_sides() {
#if EINC_BENCH_ONEDNN
  return {kOpenblas, kOnednn};
#else
  return {kOpenblas};
#endif
}

// The GEMV cases' third side: a plain read of as many bytes as the case's
// weights (memory_bandwidth.h), timed in the same rounds, the yardstick
// of print_bandwidth. Not an anchor: it computes nothing.
constexpr const char* kRead = "read";

// A side's name in the table and the notes.
const char* label_of(const char* side) { return side == kOpenblas ? "OpenBLAS" : side == kOnednn ? "oneDNN" : "einc"; }

// ---------------------------------------------------------------- cases

// An anchor's side of a case: reads the einc inputs in place and writes its
// result, laid out like einc's output (C order), into `result`.
struct Anchor {
  virtual ~Anchor() = default;
  virtual void run() = 0;
  einc::Tensor result;
};

// The read side of a GEMV case.
struct ReadAnchor : Anchor {
  explicit ReadAnchor(std::size_t bytes) : probe(bytes, g_cfg.threads) {}
  void run() override { probe.read(); }
  einc::bench::ReadProbe probe;
};

// The einc dtype of an OpenBLAS element type.
template <typename T>
constexpr einc::DType dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  return std::is_same_v<T, float> ? einc::DType::f32 : einc::DType::f64;
}

template <typename T>
const T* input(const einc::TensorMap& inputs, const std::string& name) {
  const einc::Tensor& t = inputs.at(name);
  if (t.dtype() != dtype_of<T>() || !t.is_contiguous())
    throw std::runtime_error("input '" + name + "' is not a contiguous " + einc::dtype_name(dtype_of<T>()) + " tensor");
  return t.data_as<const T>();
}

const float* f32(const einc::TensorMap& inputs, const std::string& name) { return input<float>(inputs, name); }

float* out_ptr(const einc::Tensor& t) { return t.data_as<float>(); }

int blas_int(int64_t v) { return static_cast<int>(v); }

// C[M,N] = A[M,K] B[K,N], all row-major and contiguous: cblas_sgemm or
// cblas_dgemm.
void gemm(int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}
void gemm(int m, int n, int k, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, a, k, b, n, 0.0, c, n);
}

template <typename T>
struct GemmBaseline : Anchor {
  int64_t m, n, k;
  const T *a, *b;
  GemmBaseline(const einc::TensorMap& in, int64_t m_, int64_t k_, int64_t n_) : m(m_), n(n_), k(k_) {
    a = input<T>(in, "A");
    b = input<T>(in, "B");
    result = einc::Tensor::zeros(dtype_of<T>(), {m, n});
  }
  void run() override { gemm(blas_int(m), blas_int(n), blas_int(k), a, b, result.data_as<T>()); }
};

// One cblas_sgemv on W row-major [rows, cols] (input `weights`) and x
// (input `vector`). Decode, y[1,N] = x[1,K] W[K,N]: y = W^T x, transposed.
// The dot-product GEMV, C[N] = A[N,K] B[K] (weights stored [out, in], as
// PyTorch's Linear keeps them): no transpose.
struct GemvBaseline : Anchor {
  int64_t rows, cols;
  bool transposed;
  const float *w, *x;
  GemvBaseline(const einc::TensorMap& in, const char* weights, const char* vector, int64_t rows_, int64_t cols_,
               bool transposed_, std::vector<int64_t> out_shape)
      : rows(rows_), cols(cols_), transposed(transposed_) {
    w = f32(in, weights);
    x = f32(in, vector);
    result = einc::Tensor::zeros(einc::DType::f32, std::move(out_shape));
  }
  void run() override {
    cblas_sgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, blas_int(rows), blas_int(cols), 1.0f, w,
                blas_int(cols), x, 1, 0.0f, out_ptr(result), 1);
  }
};

// Decode through a chain of layers: h1 = x W1, h2 = h1 W2, ..., C = h_{L-1}
// W_L, one sgemv per layer (weights "B1".."BL", row-major [K,N], K = N).
struct GemvChainBaseline : Anchor {
  int64_t n;
  const float* x;
  std::vector<const float*> w;
  std::vector<float> h0, h1;
  GemvChainBaseline(const einc::TensorMap& in, int64_t n_, int layers) : n(n_), h0(n_), h1(n_) {
    x = f32(in, "A");
    for (int l = 1; l <= layers; ++l) w.push_back(f32(in, "B" + std::to_string(l)));
    result = einc::Tensor::zeros(einc::DType::f32, {1, n});
  }
  void run() override {
    const float* in = x;
    for (std::size_t l = 0; l < w.size(); ++l) {
      float* out = l + 1 == w.size() ? out_ptr(result) : (l % 2 == 0 ? h0.data() : h1.data());
      cblas_sgemv(CblasRowMajor, CblasTrans, blas_int(n), blas_int(n), 1.0f, w[l], blas_int(n), in, 1, 0.0f, out, 1);
      in = out;
    }
  }
};

// S[h,i,j] = sum_e Q[i,h,e] K[j,h,e]: per head one sgemm on the strided
// [T,E] slices of Q and K (lda = ldb = H*E), no copies.
struct ScoresBaseline : Anchor {
  int64_t t, h, e;
  const float *q, *kk;
  ScoresBaseline(const einc::TensorMap& in, int64_t t_, int64_t h_, int64_t e_) : t(t_), h(h_), e(e_) {
    q = f32(in, "Q");
    kk = f32(in, "K");
    result = einc::Tensor::zeros(einc::DType::f32, {h, t, t});
  }
  void run() override {
    float* s = out_ptr(result);
    for (int64_t head = 0; head < h; ++head)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(t), blas_int(t), blas_int(e), 1.0f, q + head * e,
                  blas_int(h * e), kk + head * e, blas_int(h * e), 0.0f, s + head * t * t, blas_int(t));
  }
};

// O[i,h,e] = sum_j P[h,i,j] V[j,h,e]: per head one sgemm; V's slice and O's
// slice are strided (ldb = ldc = H*E), no copies.
struct ValuesBaseline : Anchor {
  int64_t t, h, e;
  const float *p, *v;
  ValuesBaseline(const einc::TensorMap& in, int64_t t_, int64_t h_, int64_t e_) : t(t_), h(h_), e(e_) {
    p = f32(in, "P");
    v = f32(in, "V");
    result = einc::Tensor::zeros(einc::DType::f32, {t, h, e});
  }
  void run() override {
    float* o = out_ptr(result);
    for (int64_t head = 0; head < h; ++head)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(t), blas_int(e), blas_int(t), 1.0f,
                  p + head * t * t, blas_int(t), v + head * e, blas_int(h * e), 0.0f, o + head * e, blas_int(h * e));
  }
};

// C[a,c,e] = sum_{b,d} A[a,b,c,d] B[d,b,e] the way a BLAS user must: permute
// A to Ap[a,c,b,d] (rows (a,c), cols (b,d)) and B to Bp[b,d,e], then one
// sgemm [(a,c), (b,d)] x [(b,d), e]. The permutes (memcpy of contiguous
// d- and e-runs, one thread) are inside the timed region.
struct AbcdBaseline : Anchor {
  int64_t n;
  const float *a, *b;
  einc::Tensor ap, bp;
  AbcdBaseline(const einc::TensorMap& in, int64_t n_) : n(n_) {
    a = f32(in, "A");
    b = f32(in, "B");
    ap = einc::Tensor::zeros(einc::DType::f32, {n, n, n, n});
    bp = einc::Tensor::zeros(einc::DType::f32, {n, n, n});
    result = einc::Tensor::zeros(einc::DType::f32, {n, n, n});
  }
  void run() override {
    float* pa = out_ptr(ap);
    float* pb = out_ptr(bp);
    const std::size_t run_bytes = static_cast<std::size_t>(n) * sizeof(float);
    for (int64_t ia = 0; ia < n; ++ia)
      for (int64_t ic = 0; ic < n; ++ic)
        for (int64_t ib = 0; ib < n; ++ib)
          std::memcpy(pa + ((ia * n + ic) * n + ib) * n, a + ((ia * n + ib) * n + ic) * n, run_bytes);
    for (int64_t ib = 0; ib < n; ++ib)
      for (int64_t id = 0; id < n; ++id) std::memcpy(pb + (ib * n + id) * n, b + (id * n + ib) * n, run_bytes);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(n * n), blas_int(n), blas_int(n * n), 1.0f, pa,
                blas_int(n * n), pb, blas_int(n), 0.0f, out_ptr(result), blas_int(n));
  }
};

// C[b,i,k] = A[b,i,j] B[b,j,k]: one sgemm per batch.
struct BatchedBaseline : Anchor {
  int64_t batch, n;
  const float *a, *b;
  BatchedBaseline(const einc::TensorMap& in, int64_t batch_, int64_t n_) : batch(batch_), n(n_) {
    a = f32(in, "A");
    b = f32(in, "B");
    result = einc::Tensor::zeros(einc::DType::f32, {batch, n, n});
  }
  void run() override {
    float* c = out_ptr(result);
    const int64_t step = n * n;
    for (int64_t i = 0; i < batch; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(n), blas_int(n), blas_int(n), 1.0f, a + i * step,
                  blas_int(n), b + i * step, blas_int(n), 0.0f, c + i * step, blas_int(n));
  }
};

// oneDNN's side of a case: the matmuls (onednn_matmul.h) on the case's
// inputs, writing `out` (laid out like einc's output) and, for a chain, the
// buffers it adds to `scratch`.
using OnednnSteps = std::function<std::vector<MatmulStep>(const einc::TensorMap& in, const einc::Tensor& out,
                                                          std::vector<einc::Tensor>& scratch)>;

// `t`'s memory seen with other dims and strides (elements), for oneDNN.
einc::Tensor strided(const einc::Tensor& t, std::vector<int64_t> dims, std::vector<int64_t> strides) {
  return einc::Tensor::view(t.dtype(), t.data(), std::move(dims), std::move(strides));
}

struct Case {
  std::string name;
  std::string openblas;  // what OpenBLAS runs, for the notes, or why it cannot
  std::string onednn;    // what oneDNN runs, or why its matmul cannot
  std::string script;    // dims baked in
  std::string output;
  std::vector<int64_t> output_shape;
  double flops = 0;  // 2 x the multiply-adds, whatever the dtype
  std::function<std::unique_ptr<Anchor>(const einc::TensorMap&)> make_openblas;  // empty: OpenBLAS cannot
  OnednnSteps onednn_steps;  // empty: oneDNN's matmul cannot express the case
  einc::DType output_dtype = einc::DType::f32;
  double weight_bytes = 0;  // a GEMV: the bytes of its weights, read once per call (print_bandwidth)
  einc::DType weight_dtype = einc::DType::f32;
};

// The fraction of the f32 FMA peak a case's "%pk" is against: an f64 FMA
// does half as many lanes; int8 is put against the f32 peak itself.
double peak_scale(const Case& c) { return c.output_dtype == einc::DType::f64 ? 0.5 : 1.0; }

// C = A B with A, B of `dtype` (C: i32 for i8, the dtype of an i8 product).
std::string matmul_script(int64_t m, int64_t k, int64_t n, einc::DType dtype = einc::DType::f32) {
  const std::string type = dtype == einc::DType::f32 ? "" : std::string(" : ") + einc::dtype_name(dtype);
  return "dim M = " + std::to_string(m) + ", K = " + std::to_string(k) + ", N = " + std::to_string(n) +
         "\ninput A[M, K]" + type + "\ninput B[K, N]" + type + "\nC[i, j] = A[i, k] * B[k, j]\noutput C\n";
}

// C[M,N] = A[M,K] B[K,N] as one 2-D matmul, in the inputs' dtype.
OnednnSteps matmul_steps() {
  return [](const einc::TensorMap& in, const einc::Tensor& out, std::vector<einc::Tensor>&) {
    return std::vector<MatmulStep>{{in.at("A"), in.at("B"), out}};
  };
}

std::vector<Case> make_cases() {
  std::vector<Case> cases;
  // C = A B in `dtype`: f32 against sgemm and oneDNN's f32 matmul, f64
  // against dgemm (oneDNN 2.6 has no f64: its setup says so), i8 -> i32
  // against oneDNN's s8 x s8 -> s32 matmul (OpenBLAS has no int8 GEMM).
  auto gemm_case = [&](std::string name, int64_t m, int64_t k, int64_t n, einc::DType dtype = einc::DType::f32) {
    Case c{
        .name = std::move(name),
        .openblas = "sgemm",
        .onednn = "matmul",
        .script = matmul_script(m, k, n, dtype),
        .output = "C",
        .output_shape = {m, n},
        .flops = 2.0 * m * k * n,
        .make_openblas = [=](const einc::TensorMap& in) { return std::make_unique<GemmBaseline<float>>(in, m, k, n); },
        .onednn_steps = matmul_steps(),
        .output_dtype = dtype};
    if (dtype == einc::DType::f64) {
      c.openblas = "dgemm";
      c.onednn = "matmul, f64";
      c.make_openblas = [=](const einc::TensorMap& in) { return std::make_unique<GemmBaseline<double>>(in, m, k, n); };
    } else if (dtype == einc::DType::i8) {
      c.openblas = "no int8 GEMM (0.3.21 exports no cblas_gemm_s8 or sbgemm)";
      c.onednn = "matmul, s8 x s8 -> s32";
      c.make_openblas = nullptr;
      c.output_dtype = einc::DType::i32;
    } else if (dtype == einc::DType::bf16) {
      c.openblas = "no bf16 GEMM or GEMV (0.3.21 exports no sbgemm)";
      c.onednn = "matmul, bf16";
      c.make_openblas = nullptr;
    }
    if (m == 1) {
      c.weight_bytes = static_cast<double>(k * n) * static_cast<double>(einc::dtype_size(dtype));
      c.weight_dtype = dtype;
    }
    cases.push_back(std::move(c));
  };
  for (int64_t s : {256, 512, 1024, 2048}) gemm_case("square_" + std::to_string(s), dim(s), dim(s), dim(s));
  gemm_case("projection_1000x4096x4096", dim(1000), dim(4096), dim(4096));

  {
    const int64_t t = dim(1000), h = dim(32), e = dim(128);
    const std::string dims =
        "dim T = " + std::to_string(t) + ", H = " + std::to_string(h) + ", E = " + std::to_string(e) + "\n";
    // Q[i,h,e] as [h][i][e] and K[j,h,e] as [h][e][j]: strided views, no copies.
    cases.push_back({"attn_scores_32h_1000x1000x128",
                     "sgemm per head, strided",
                     "3-D matmul over h, strided views",
                     dims + "input Q[T, H, E]\ninput K[T, H, E]\nS[h, i, j] = Q[i, h, e] * K[j, h, e]\noutput S\n",
                     "S",
                     {h, t, t},
                     2.0 * h * t * t * e,
                     [=](const einc::TensorMap& in) { return std::make_unique<ScoresBaseline>(in, t, h, e); },
                     [=](const einc::TensorMap& in, const einc::Tensor& out, std::vector<einc::Tensor>&) {
                       return std::vector<MatmulStep>{{strided(in.at("Q"), {h, t, e}, {e, h * e, 1}),
                                                       strided(in.at("K"), {h, e, t}, {e, 1, h * e}), out}};
                     }});
    // P[h,i,j] as it is, V[j,h,e] as [h][j][e], O[i,h,e] as [h][i][e].
    cases.push_back({"attn_values_32h_1000x128x1000",
                     "sgemm per head, strided",
                     "3-D matmul over h, strided views",
                     dims + "input P[H, T, T]\ninput V[T, H, E]\nO[i, h, e] = P[h, i, j] * V[j, h, e]\noutput O\n",
                     "O",
                     {t, h, e},
                     2.0 * h * t * e * t,
                     [=](const einc::TensorMap& in) { return std::make_unique<ValuesBaseline>(in, t, h, e); },
                     [=](const einc::TensorMap& in, const einc::Tensor& out, std::vector<einc::Tensor>&) {
                       return std::vector<MatmulStep>{{in.at("P"), strided(in.at("V"), {h, t, e}, {e, h * e, 1}),
                                                       strided(out, {h, t, e}, {e, h * e, 1})}};
                     }});
  }
  {
    const int64_t n = dim(48);
    const std::string d = std::to_string(n);
    // The summed b and d are not adjacent in A[a, b, c, d], so no strided
    // view of A is a matrix with rows (a, c) and columns (b, d).
    cases.push_back({"abcd_dbe_ace_48",
                     "permute A,B + sgemm",
                     "its matmul cannot sum over b and d (apart in A[a,b,c,d]) without a permute",
                     "dim N = " + d + "\ninput A[N, N, N, N]\ninput B[N, N, N]\n" +
                         "C[a, c, e] = A[a, b, c, d] * B[d, b, e]\noutput C\n",
                     "C",
                     {n, n, n},
                     2.0 * n * n * n * n * n,
                     [=](const einc::TensorMap& in) { return std::make_unique<AbcdBaseline>(in, n); },
                     nullptr});
  }
  {
    const int64_t b = dim(32), n = dim(128);
    cases.push_back({"batched_bij_bjk_32x128",
                     "sgemm per batch",
                     "3-D matmul",
                     "dim Bt = " + std::to_string(b) + ", N = " + std::to_string(n) +
                         "\ninput A[Bt, N, N]\ninput B[Bt, N, N]\nC[b, i, k] = A[b, i, j] * B[b, j, k]\noutput C\n",
                     "C",
                     {b, n, n},
                     2.0 * b * n * n * n,
                     [=](const einc::TensorMap& in) { return std::make_unique<BatchedBaseline>(in, b, n); },
                     matmul_steps()});
  }
  {
    const int64_t k = dim(4096), n = dim(4096);
    cases.push_back({"decode_1x4096x4096",
                     "sgemv",
                     "matmul, M = 1",
                     matmul_script(1, k, n),
                     "C",
                     {1, n},
                     2.0 * k * n,
                     [=](const einc::TensorMap& in) {
                       return std::make_unique<GemvBaseline>(in, "B", "A", k, n, true, std::vector<int64_t>{1, n});
                     },
                     matmul_steps()});
    cases.back().weight_bytes = 4.0 * static_cast<double>(k * n);
  }
  for (int64_t side : {dim(2048), dim(4096)}) {
    // y = W x with W stored [out, in] (16 and 64 MiB): each output one dot
    // product, the layout numpy.matmul(W, x) and the Python bench's gemv use.
    const int64_t n = side, k = side;
    cases.push_back({"gemv_dot_" + std::to_string(n) + "x" + std::to_string(k),
                     "sgemv (no transpose)",
                     "not run: a GEMV (oneDNN 2.6's matmul has no GEMV path; see i8_decode)",
                     "dim N = " + std::to_string(n) + ", K = " + std::to_string(k) +
                         "\ninput A[N, K]\ninput B[K]\nC[i] = A[i, k] * B[k]\noutput C\n",
                     "C",
                     {n},
                     2.0 * k * n,
                     [=](const einc::TensorMap& in) {
                       return std::make_unique<GemvBaseline>(in, "A", "B", n, k, false, std::vector<int64_t>{n});
                     },
                     {}});
    cases.back().weight_bytes = 4.0 * static_cast<double>(k * n);
  }
  {
    // Four layers' weights (256 MiB) are more than the caches hold, so every
    // call reads them from DRAM, as decoding through a real model does; the
    // single-layer case above re-reads the same 64 MiB and is partly served
    // from the last-level caches.
    const int64_t n = dim(4096);
    constexpr int kLayers = 4;
    std::string script = "dim N = " + std::to_string(n) + "\ninput A[1, N]\n";
    for (int l = 1; l <= kLayers; ++l) script += "input B" + std::to_string(l) + "[N, N]\n";
    for (int l = 1; l <= kLayers; ++l) {
      std::string in = l == 1 ? "A" : "H" + std::to_string(l - 1), out = l == kLayers ? "C" : "H" + std::to_string(l);
      script += out + "[i, j] = " + in + "[i, k] * B" + std::to_string(l) + "[k, j]\n";
    }
    script += "output C\n";
    cases.push_back({"decode_4_layers_4096",
                     "sgemv per layer",
                     "matmul per layer, M = 1",
                     script,
                     "C",
                     {1, n},
                     2.0 * kLayers * n * n,
                     [=](const einc::TensorMap& in) { return std::make_unique<GemvChainBaseline>(in, n, kLayers); },
                     [=](const einc::TensorMap& in, const einc::Tensor& out, std::vector<einc::Tensor>& scratch) {
                       std::vector<MatmulStep> steps;
                       einc::Tensor x = in.at("A");
                       for (int l = 1; l <= kLayers; ++l) {
                         const einc::Tensor y =
                             l < kLayers ? scratch.emplace_back(einc::Tensor::zeros(einc::DType::f32, {1, n})) : out;
                         steps.push_back({x, in.at("B" + std::to_string(l)), y});
                         x = y;
                       }
                       return steps;
                     }});
    cases.back().weight_bytes = 4.0 * kLayers * static_cast<double>(n * n);
  }
  // The other dtypes (issue 16): f64 squares against dgemm, int8 squares,
  // the projection and a decode against oneDNN's s8 x s8 -> s32 matmul.
  for (int64_t s : {512, 1024, 2048})
    gemm_case("f64_square_" + std::to_string(s), dim(s), dim(s), dim(s), einc::DType::f64);
  for (int64_t s : {512, 1024, 2048})
    gemm_case("i8_square_" + std::to_string(s), dim(s), dim(s), dim(s), einc::DType::i8);
  gemm_case("i8_projection_1000x4096x4096", dim(1000), dim(4096), dim(4096), einc::DType::i8);
  // bf16 squares and the projection against oneDNN's bf16 matmul (einc: on
  // bf16 pairs with vdpbf16ps where the host has AVX512-BF16, else widened
  // to f32).
  for (int64_t s : {512, 1024, 2048})
    gemm_case("bf16_square_" + std::to_string(s), dim(s), dim(s), dim(s), einc::DType::bf16);
  gemm_case("bf16_projection_1000x4096x4096", dim(1000), dim(4096), dim(4096), einc::DType::bf16);
  // An int8 decode (16 MiB of i8 weights: einc reads them in place).
  gemm_case("i8_decode_1x4096x4096", 1, dim(4096), dim(4096), einc::DType::i8);
  // Decodes whose weights the caches cannot hold (64 MiB of i8, 128 MiB of
  // bf16, read in place by einc's GEMV, widened in registers): issue 16
  // asks them for >= 90 % of the DRAM read bandwidth (print_bandwidth).
  gemm_case("i8_decode_1x8192x8192", 1, dim(8192), dim(8192), einc::DType::i8);
  gemm_case("bf16_decode_1x8192x8192", 1, dim(8192), dim(8192), einc::DType::bf16);
  {
    // A dequantising int8 linear layer: i32 sums of i8 products converted
    // to f32 and scaled per output channel. einc: the i8 GETT, then a loop
    // kernel over the i32 result (docs/cpu-backend.md, "Conversions");
    // oneDNN: one matmul with per-column output scales.
    const int64_t m = dim(1000), k = dim(4096), n = dim(4096);
    cases.push_back({"i8_linear_1000x4096x4096",
                     "no int8 GEMM (0.3.21 exports no cblas_gemm_s8 or sbgemm)",
                     "matmul, s8 x s8 -> f32, per-column output scales",
                     "dim M = " + std::to_string(m) + ", K = " + std::to_string(k) + ", N = " + std::to_string(n) +
                         "\ninput A[M, K] : i8\ninput B[K, N] : i8\ninput s[N]\n"
                         "y[i, j] = f32(sum(k: A[i, k] * B[k, j])) * s[j]\noutput y\n",
                     "y",
                     {m, n},
                     2.0 * m * k * n,
                     nullptr,
                     [](const einc::TensorMap& in, const einc::Tensor& out, std::vector<einc::Tensor>&) {
                       return std::vector<MatmulStep>{{in.at("A"), in.at("B"), out, in.at("s")}};
                     }});
  }
  return cases;
}

#if EINC_BENCH_ONEDNN
// The oneDNN anchor: the case's matmuls, created (weights reordered) here.
struct OnednnAnchor : Anchor {
  std::vector<einc::Tensor> scratch;
  std::unique_ptr<einc::bench::OnednnMatmul> matmul;
  OnednnAnchor(const einc::TensorMap& in, const Case& c) {
    result = einc::Tensor::zeros(c.output_dtype, c.output_shape);
    matmul = std::make_unique<einc::bench::OnednnMatmul>(c.onednn_steps(in, result, scratch));
  }
  void run() override { matmul->run(); }
};
#endif

// ---------------------------------------------------------------- busy meter

// How busy the machine was while each side was timed (bench_common.h).
BusyMeter g_busy;

// ---------------------------------------------------------------- state

// Made on first use and kept: the compiled program, its inputs (shared by
// every side), the anchors, and each side's check.
struct CaseState {
  bool prepared = false;
  std::string error;  // compile / input error: no side can run
  std::optional<einc::Program> program;
  einc::TensorMap inputs;
  einc::TensorMap outputs;                                 // einc's output buffers, reused (Program::run_into)
  std::map<std::string, std::unique_ptr<Anchor>> anchors;  // by side; none for a side that cannot run the case
  std::map<std::string, std::string> side_error;           // by side: why it is not timed (setup, check)
  bool checked = false;
  const char* checked_against = nullptr;  // the anchor einc was checked against; nullptr: none ran
  double check_rel_err = 0;
};

std::map<std::string, CaseState> g_states;
std::map<std::string, std::string> g_onednn_choice;  // case -> what oneDNN chose, for the notes
std::map<std::string, std::string> g_onednn_exact;   // int8 case -> oneDNN on full-range inputs, for the notes

CaseState& prepare(const Case& c) {
  CaseState& s = g_states[c.name];
  if (s.prepared) return s;
  s.prepared = true;
  try {
    s.program = einc::compile(c.script, {.filename = c.name + ".ein"});
    s.inputs = einc::random_inputs(*s.program, 1);
    if (c.make_openblas)
      s.anchors[kOpenblas] = c.make_openblas(s.inputs);
    else
      s.side_error[kOpenblas] = c.openblas;
  } catch (const einc::CompileError& e) {
    s.error = "compile failed: ";
    for (const einc::Diagnostic& d : e.diagnostics()) s.error += d.message + "; ";
    return s;
  } catch (const std::exception& e) {
    s.error = std::string("setup failed: ") + e.what();
    return s;
  }
  if (c.weight_bytes > 0 && einc::bench::ReadProbe::available()) {
    s.anchors[kRead] = std::make_unique<ReadAnchor>(static_cast<std::size_t>(c.weight_bytes));
  } else {
    s.side_error[kRead] = "not a GEMV, or no AVX2";
  }
#if EINC_BENCH_ONEDNN
  if (!c.onednn_steps) {
    s.side_error[kOnednn] = c.onednn;
  } else {
    try {
      auto onednn = std::make_unique<OnednnAnchor>(s.inputs, c);
      g_onednn_choice[c.name] = onednn->matmul->choice();
      s.anchors[kOnednn] = std::move(onednn);
    } catch (const std::exception& e) {
      s.side_error[kOnednn] = std::string("oneDNN setup failed: ") + e.what();
    }
  }
#endif
  return s;
}

#if EINC_BENCH_ONEDNN
// `in` with every i8 tensor's values spread over the whole range [-128,
// 127] (a fixed hash of the position), the others as they are.
einc::TensorMap full_range_copy(const einc::TensorMap& in) {
  einc::TensorMap out;
  for (const auto& [name, t] : in) {
    einc::Tensor copy = einc::Tensor::zeros(t.dtype(), t.shape());
    std::memcpy(copy.data(), t.data(), t.nbytes());
    if (t.dtype() == einc::DType::i8) {
      auto* v = static_cast<std::int8_t*>(copy.data());
      for (std::int64_t i = 0; i < copy.numel(); ++i)
        v[i] = static_cast<std::int8_t>(static_cast<std::uint32_t>(i * 2654435761u + 12345u) >> 24);
    }
    out.emplace(name, std::move(copy));
  }
  return out;
}

// An int8 case's i32 sums are exact in any order, but the bench's inputs
// ([-8, 8]) are small. Runs einc and oneDNN once more on full-range inputs
// and notes whether oneDNN's sums are still einc's (exact: einc's int8 GETT
// is checked bit for bit against the reference in the tests). On AVX2 hosts
// without VNNI oneDNN 2.6 multiplies u8 x s8 pairs with vpmaddubsw, whose
// i16 sums saturate: weights beyond [-64, 64] give wrong sums.
void probe_full_range(CaseState& s, const Case& c) {
  if (c.output_dtype != einc::DType::i32 || !s.anchors.count(kOnednn) || s.side_error.count(kOnednn) ||
      s.side_error.count(kEinc))
    return;
  try {
    const einc::TensorMap in = full_range_copy(s.inputs);
    OnednnAnchor onednn(in, c);
    onednn.run();
    const einc::RunOptions options{.backend = *einc::backend_from_name(g_cfg.backend), .threads = g_cfg.threads};
    const einc::Tensor exact = s.program->run(in, options).at(c.output);
    const auto* got = static_cast<const std::int32_t*>(onednn.result.data());
    const auto* want = static_cast<const std::int32_t*>(exact.data());
    std::int64_t wrong = 0, worst = 0;
    for (std::int64_t i = 0; i < exact.numel(); ++i)
      if (got[i] != want[i]) {
        ++wrong;
        worst = std::max<std::int64_t>(worst, std::llabs(static_cast<std::int64_t>(got[i]) - want[i]));
      }
    g_onednn_exact[c.name] = wrong == 0 ? "exact on full-range int8 inputs too"
                                        : "WRONG on full-range int8 inputs: " + std::to_string(wrong) + " of " +
                                              std::to_string(exact.numel()) +
                                              " sums differ from einc's exact ones, by up to " + std::to_string(worst);
  } catch (const std::exception& e) {
    g_onednn_exact[c.name] = std::string("full-range check failed: ") + e.what();
  }
}
#endif

// Runs every side once, untimed (their warm-up: JIT, caches, first touch),
// and checks them: einc against the first anchor that ran (OpenBLAS, or
// oneDNN where OpenBLAS has no such routine: int8), the other anchors
// against einc (against that first anchor when einc cannot run). A side
// that fails is not timed; einc with no anchor to check it against is timed
// unchecked.
void check_sides(CaseState& s, const Case& c) {
  if (s.checked) return;
  s.checked = true;
  for (auto& [side, anchor] : s.anchors) {
    try {
      anchor->run();
    } catch (const std::exception& e) {
      s.side_error[side] = std::string("run failed: ") + e.what();
    }
  }
  const char* reference = nullptr;
  for (const char* side : anchor_sides())
    if (!reference && s.anchors.count(side) && !s.side_error.count(side)) reference = side;
  const einc::Tensor* einc_out = nullptr;
  if (!backend_available(g_cfg.backend)) {
    s.side_error[kEinc] = g_cfg.backend + " backend not available";
  } else {
    try {
      const einc::RunOptions options{.backend = *einc::backend_from_name(g_cfg.backend), .threads = g_cfg.threads};
      s.program->run_into(s.inputs, s.outputs, options);
      auto it = s.outputs.find(c.output);
      if (it == s.outputs.end()) {
        s.side_error[kEinc] = "no output '" + c.output + "'";
      } else if (reference) {
        s.checked_against = label_of(reference);
        s.side_error[kEinc] =
            check_result(it->second, s.anchors.at(reference)->result, s.checked_against, &s.check_rel_err);
        if (s.side_error[kEinc].empty()) einc_out = &it->second;
      }
    } catch (const std::exception& e) {
      s.side_error[kEinc] = std::string("run failed: ") + e.what();
    }
  }
  for (const char* side : anchor_sides()) {
    if (side == reference || !s.anchors.count(side) || s.side_error.count(side)) continue;
    const einc::Tensor* want = einc_out ? einc_out : reference ? &s.anchors.at(reference)->result : nullptr;
    double err = 0;
    if (want)
      s.side_error[side] =
          check_result(s.anchors.at(side)->result, *want, einc_out ? "einc" : label_of(reference), &err);
  }
  for (auto it = s.side_error.begin(); it != s.side_error.end();)
    it = it->second.empty() ? s.side_error.erase(it) : ++it;
#if EINC_BENCH_ONEDNN
  probe_full_range(s, c);
#endif
}

// The case ready for `side`, or nullptr after skipping the benchmark with
// the reason.
CaseState* ready(benchmark::State& state, const Case& c, const char* side) {
  CaseState& s = prepare(c);
  if (s.error.empty()) check_sides(s, c);
  const std::string& why = !s.error.empty() ? s.error : s.side_error.count(side) ? s.side_error.at(side) : "";
  if (!why.empty()) {
    state.SkipWithError(why.c_str());
    return nullptr;
  }
  return &s;
}

void bench_anchor(benchmark::State& state, const Case* c, const char* side) {
  CaseState* s = ready(state, *c, side);
  if (!s) return;
  quiesce(side, g_cfg.smoke);
  Anchor& anchor = *s->anchors.at(side);
  time_side(state, g_busy, side_key(c->name, side), c->flops, [&] { anchor.run(); });
}

void bench_einc(benchmark::State& state, const Case* c) {
  CaseState* s = ready(state, *c, kEinc);
  if (!s) return;
  const einc::RunOptions options{.backend = *einc::backend_from_name(g_cfg.backend), .threads = g_cfg.threads};
  quiesce(kEinc, g_cfg.smoke);
  if (!time_side(state, g_busy, side_key(c->name, kEinc), c->flops,
                 [&] { s->program->run_into(s->inputs, s->outputs, options); }))
    return;
  char label[64];
  if (s->checked_against)
    std::snprintf(label, sizeof label, "checked vs %s, rel err %.1e", s->checked_against, s->check_rel_err);
  else
    std::snprintf(label, sizeof label, "unchecked: no anchor ran");
  state.SetLabel(label);
}

// ---------------------------------------------------------------- environment

void print_environment() {
  std::printf("CPU: %s, %u logical CPUs\n", cpu_identity().c_str(), std::thread::hardware_concurrency());
  std::printf("OpenBLAS: core %s, config \"%s\", %d thread%s\n", openblas_get_corename(), openblas_get_config(),
              openblas_get_num_threads(), openblas_get_num_threads() == 1 ? "" : "s");
#if EINC_BENCH_ONEDNN
  std::printf("%s\n", einc::bench::onednn_identity().c_str());
#else
  std::printf("oneDNN: not in this build (libdnnl-dev not found): OpenBLAS is the only anchor\n");
#endif
  einc::bench::print_einc_and_warnings(g_cfg, "cpu_bench");
}

// What each anchor runs per case, and what oneDNN chose (its
// implementation and the weights' format, per matmul).
void print_notes(const std::vector<Case>& cases) {
#if EINC_BENCH_ONEDNN
  std::printf("What the anchors run (oneDNN: weights reordered into its format once, untimed; its best case):\n");
#else
  std::printf("What OpenBLAS runs (oneDNN is not in this build):\n");
#endif
  for (const Case& c : cases) {
    std::string line = "OpenBLAS: " + c.openblas;
#if EINC_BENCH_ONEDNN
    line += "; oneDNN: " + c.onednn;
    if (auto it = g_onednn_choice.find(c.name); it != g_onednn_choice.end()) line += " [" + it->second + "]";
    if (auto it = g_onednn_exact.find(c.name); it != g_onednn_exact.end()) line += "; " + it->second;
#endif
    std::printf("  %-30s %s\n", c.name.c_str(), line.c_str());
  }
}

// Each GEMV's weights read per second by einc (the weights' bytes over its
// median time per call), against a plain read of as many bytes timed in
// the same rounds (the read side), round by round: the median and range
// of einc's fraction of it. Weights the last-level cache can hold are
// partly served from it, for both. Then the DRAM read bandwidth measured
// before and after the benchmarks (the better of the two), for scale.
void print_bandwidth(const std::vector<Case>& cases, const TableReporter& reporter, double bandwidth) {
  if (bandwidth <= 0) {
    std::printf("GEMVs: the read bandwidth was not measured (no AVX2): no fractions of it\n");
    return;
  }
  std::printf(
      "GEMVs: einc's weights read per second, against a plain read of as many bytes in the same rounds\n"
      "(8 streams per thread; einc / read: the median of the per-round ratios, range lowest-highest)\n");
  auto per_second = [](const Case& c, double flops_per_second) { return c.weight_bytes * flops_per_second / c.flops; };
  for (const Case& c : cases) {
    if (c.weight_bytes <= 0) continue;
    auto einc_it = reporter.results.find(side_key(c.name, kEinc));
    auto read_it = reporter.results.find(side_key(c.name, kRead));
    if (einc_it == reporter.results.end() || !einc_it->second.have()) continue;
    std::printf("  %-26s %4.0f MiB of %-4s weights: einc %5.1f GB/s", c.name.c_str(), c.weight_bytes / (1 << 20),
                einc::dtype_name(c.weight_dtype), per_second(c, einc_it->second.median()) / 1e9);
    if (read_it == reporter.results.end() || !read_it->second.have()) {
      std::printf(", no read side\n");
      continue;
    }
    std::vector<double> ratios;
    const std::vector<double>& e = einc_it->second.rounds;
    const std::vector<double>& r = read_it->second.rounds;
    for (std::size_t i = 0; i < std::min(e.size(), r.size()); ++i)
      if (!std::isnan(e[i]) && !std::isnan(r[i]) && r[i] > 0) ratios.push_back(e[i] / r[i]);
    if (ratios.empty()) {
      std::printf(", no round timed both\n");
      continue;
    }
    const auto [low, high] = std::minmax_element(ratios.begin(), ratios.end());
    std::printf(", read %5.1f GB/s: einc / read = %3.0f %% (%.0f-%.0f %%)\n",
                per_second(c, read_it->second.median()) / 1e9, 100 * einc::bench::Result::median_of(ratios), 100 * *low,
                100 * *high);
  }
  std::printf("  DRAM read bandwidth (measure_read_bandwidth, best of before and after the benchmarks): %.1f GB/s\n",
              bandwidth);
}

}  // namespace

int main(int argc, char** argv) {
  g_cfg = einc::bench::parse_config(&argc, argv, "cpu_bench", kHelp);
  openblas_set_num_threads(g_cfg.threads);
#if EINC_BENCH_ONEDNN
  omp_set_num_threads(g_cfg.threads);  // oneDNN (Debian's build: OpenMP runtime, libgomp)
#endif
  print_environment();

  Peak peak = einc::bench::measure_peak(g_cfg.threads, g_cfg.smoke);
  double bandwidth = einc::bench::measure_read_bandwidth(g_cfg.threads, g_cfg.smoke);

  const std::vector<Case> cases = make_cases();
  if (g_cfg.smoke) g_cfg.rounds = 1;
  // Registration order is run order: per case, the anchors and einc
  // alternate for g_cfg.rounds rounds.
  for (const Case& c : cases) {
    std::vector<const char*> sides = anchor_sides();
    if (c.weight_bytes > 0) sides.push_back(kRead);
    sides.push_back(kEinc);
    einc::bench::register_rounds(c.name, sides, g_cfg, [&c](benchmark::State& state, const char* side) {
      side == kEinc ? bench_einc(state, &c) : bench_anchor(state, &c, side);
    });
  }

  const std::unique_ptr<TableReporter> reporter = einc::bench::run_benchmarks(&argc, argv);
  if (!reporter) return 1;
  peak = einc::bench::remeasure_peak(peak, g_cfg.threads, g_cfg.smoke);
  bandwidth = std::max(bandwidth, einc::bench::measure_read_bandwidth(g_cfg.threads, g_cfg.smoke));
  std::vector<AnchorColumn> anchors = {{kOpenblas, "OpenBLAS"}};
#if EINC_BENCH_ONEDNN
  anchors.push_back({kOnednn, "oneDNN"});
#endif
  std::vector<const char*> timed = anchor_sides();
  timed.push_back(kEinc);
  std::vector<TableRow> rows = einc::bench::busy_rows(cases, timed, g_busy);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].peak_scale = peak_scale(cases[i]);
  einc::bench::print_anchor_table(
      anchors.size() > 1 ? "einc vs OpenBLAS and oneDNN matmul" : "einc vs OpenBLAS", rows, *reporter, peak,
      {g_cfg.backend, g_cfg.threads, g_cfg.rounds, g_cfg.smoke, "every extent / 16",
       "f64_* rows: einc%pk is against half the FMA peak (the f64 peak: half the lanes per FMA); i8_* rows: against\n"
       "the f32 FMA peak itself (a multiply-add counts 2 ops in every dtype; AVX512-VNNI does 4x the f32 MACs)."},
      anchors, true);
  print_notes(cases);
  print_bandwidth(cases, *reporter, bandwidth);
  print_environment();  // again, so the warning is next to the numbers
  return 0;
}
