// tests/cuda/source_test.cpp — what the CUDA generators produce, checked
// without compiling it: the golden source of examples/01_matmul.ein, kernel
// names, GETT specs (groups, strides, orientation, epilogue), which kernel
// each statement gets, emit_cuda's headers, and that the backend reports
// itself unavailable without a driver.
//
// Regenerate the golden file after an intended change with
//   EINC_UPDATE_GOLDEN=1 build/tests/cuda/cuda_tests --gtest_filter='CudaSource.Golden*'
// and review the diff like code.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <regex>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/gett_source.h"
#include "backends/cuda/kernel_plan.h"
#include "backends/cuda/source_util.h"
#include "tests/common/random_contractions.h"
#include "tests/cuda/cuda_test_util.h"

namespace {

using namespace einc_cuda_test;
using einc::cuda::KernelKind;

einc::cuda::StatementKernel plan_of(const einc::ir::Program& p, std::size_t statement) {
  return einc::cuda::plan_statement_kernel(p, p.statements.at(statement), einc::cuda::contiguous_strides(p));
}

// Every kernel the backend runs for one statement, in order (more than one
// when it runs as the pairwise steps of a product).
std::vector<einc::cuda::StatementKernel> kernels_of(const einc::ir::Program& p, std::size_t statement) {
  std::vector<einc::cuda::StatementKernel> out;
  einc::cuda::for_each_kernel_statement(
      p, p.statements.at(statement), einc::cuda::contiguous_strides(p),
      [&](const einc::ir::Program& program, const einc::ir::Statement& s, const einc::cuda::TensorStrides& strides) {
        out.push_back(einc::cuda::plan_statement_kernel(program, s, strides));
      });
  return out;
}

TEST(CudaSource, GoldenMatmul) {
  einc::ir::Program p = compile_example("01_matmul", false);
  const std::string actual = einc::cuda::emit_cuda(p, false);
  const fs::path golden = fs::path(EINC_SOURCE_DIR) / "tests" / "golden" / "cuda_01_matmul.cu.txt";
  if (std::getenv("EINC_UPDATE_GOLDEN")) {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with EINC_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, read_file(golden)) << "golden file " << golden << " differs";
}

TEST(CudaSource, KernelNamesCarryDtypeTileAndHash) {
  einc::ir::Program big = compile_example("01_matmul", false), small = compile_example("01_matmul", true);
  EXPECT_TRUE(std::regex_match(plan_of(big, 0).kernel.name, std::regex("einc_gett_f32_128x128x8_[0-9a-f]{12}")))
      << plan_of(big, 0).kernel.name;
  EXPECT_TRUE(std::regex_match(plan_of(small, 0).kernel.name, std::regex("einc_gett_f32_64x64x16_[0-9a-f]{12}")))
      << plan_of(small, 0).kernel.name;
  EXPECT_NE(plan_of(big, 0).kernel.name, plan_of(small, 0).kernel.name);
  // The name is the one the source declares, and appears nowhere else.
  const auto k = plan_of(big, 0).kernel;
  EXPECT_NE(k.source.find("extern \"C\" __global__ void __launch_bounds__(256) " + k.name + "("), std::string::npos);
  EXPECT_EQ(k.source.find(einc::cuda::kKernelNamePlaceholder), std::string::npos);
}

TEST(CudaSource, MatmulSpec) {
  einc::ir::Program p = compile_example("01_matmul", false);  // C[i, j] = A[i, k] * B[k, j], M 512, K 256, N 128
  const auto plan = plan_of(p, 0);
  ASSERT_TRUE(plan.spec.has_value());
  const einc::cuda::CudaGettSpec& s = *plan.spec;
  EXPECT_EQ(p.tensors[static_cast<std::size_t>(s.a_tensor)].name, "A");
  EXPECT_EQ(p.tensors[static_cast<std::size_t>(s.b_tensor)].name, "B");
  EXPECT_TRUE(s.batch.empty());
  ASSERT_EQ(s.m.size(), 1u);
  ASSERT_EQ(s.n.size(), 1u);
  ASSERT_EQ(s.k.size(), 1u);
  EXPECT_EQ(s.m[0].name, "i");
  EXPECT_EQ(s.m[0].extent, 512);
  EXPECT_EQ(s.m[0].stride_a, 256);
  EXPECT_EQ(s.m[0].stride_c, 128);
  EXPECT_EQ(s.n[0].name, "j");
  EXPECT_EQ(s.n[0].stride_b, 1);
  EXPECT_EQ(s.n[0].stride_c, 1);
  EXPECT_EQ(s.k[0].extent, 256);
  EXPECT_EQ(s.k[0].stride_a, 1);
  EXPECT_EQ(s.k[0].stride_b, 128);
  EXPECT_EQ(s.scale, 1.0f);
  EXPECT_FALSE(s.activation.has_value());
  EXPECT_EQ(s.tile.bm, 128);
  EXPECT_EQ(s.tile.bk, 8);
  EXPECT_EQ(plan.kernel.launch.grid[0], 1u);  // N tiles
  EXPECT_EQ(plan.kernel.launch.grid[1], 4u);  // M tiles
  EXPECT_EQ(plan.kernel.launch.block[0], 256u);
}

TEST(CudaSource, TransposedOutputPutsTheContiguousIndexInN) {
  einc::ir::Program p =
      compile_script("dim I = 20, J = 30, K = 7\ninput A[I, K], B[K, J]\nC[j, i] = A[i, k] * B[k, j]\noutput C\n");
  const auto s = *plan_of(p, 0).spec;
  ASSERT_EQ(s.n.size(), 1u);
  EXPECT_EQ(s.n[0].name, "i");  // C's stride-1 index
  EXPECT_EQ(s.n[0].stride_c, 1);
  EXPECT_EQ(p.tensors[static_cast<std::size_t>(s.b_tensor)].name, "A");
}

TEST(CudaSource, AttentionSpecsAndEpilogue) {
  einc::ir::Program p = compile_example("03_attention", false);
  // T = 1000 > E = 128: the plan divides Q by sqrt(E) (T*H*E divides, not
  // T*T*H), then contracts: an elementwise kernel, then a GETT without scale.
  std::vector<einc::cuda::StatementKernel> scores = kernels_of(p, 0);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_EQ(scores[0].kernel.kind, KernelKind::elementwise);
  ASSERT_EQ(scores[1].kernel.kind, KernelKind::gett);
  EXPECT_FLOAT_EQ(scores[1].spec->scale, 1.0f);
  ASSERT_EQ(scores[1].spec->batch.size(), 1u);
  EXPECT_EQ(scores[1].spec->batch[0].name, "h");
  auto probs = plan_of(p, 1), mix = plan_of(p, 2);
  EXPECT_EQ(probs.kernel.kind, KernelKind::row);
  EXPECT_NE(probs.kernel.summary.find("reducing over [j] (1000 each)"), std::string::npos) << probs.kernel.summary;
  ASSERT_EQ(mix.kernel.kind, KernelKind::gett);
  // O[i, h, e] = P[h, i, j] * V[j, h, e]: the M index i reads P with stride 1000, K index j with stride 1.
  EXPECT_EQ(mix.spec->k[0].name, "j");
  // T = 16 < E: the scores are the cheapest place for the scale, the GETT's epilogue.
  einc::ir::Program short_context = compile_script(read_file(examples_dir() / "03_attention.ein"), {{"T", 16}});
  std::vector<einc::cuda::StatementKernel> scaled = kernels_of(short_context, 0);
  ASSERT_EQ(scaled.size(), 1u);
  ASSERT_EQ(scaled[0].kernel.kind, KernelKind::gett);
  EXPECT_FLOAT_EQ(scaled[0].spec->scale, 1.0f / std::sqrt(128.0f));
  EXPECT_NE(scaled[0].kernel.source.find("float v = acc[i][j] * (0x1.6a09e6p-4f"), std::string::npos);
}

TEST(CudaSource, MlpEpilogue) {
  einc::ir::Program p = compile_example("04_mlp", true);
  auto hid = plan_of(p, 0);
  ASSERT_EQ(hid.kernel.kind, KernelKind::gett);
  EXPECT_EQ(hid.spec->activation, einc::ir::Func::gelu);
  ASSERT_EQ(hid.spec->bias.size(), 1u);
  EXPECT_EQ(hid.spec->bias[0].n_strides, std::vector<std::int64_t>{1});
  EXPECT_EQ(hid.spec->bias[0].m_strides, std::vector<std::int64_t>{0});
  const std::string& src = hid.kernel.source;
  auto bias = src.find("v += bias0["), act = src.find("v = einc_gelu(v);"),
       store = src.find("C[c_row + einc_n_c(n)] = v;");
  ASSERT_NE(bias, std::string::npos);
  ASSERT_NE(act, std::string::npos);
  ASSERT_NE(store, std::string::npos);
  EXPECT_LT(bias, act);
  EXPECT_LT(act, store);
}

TEST(CudaSource, RuntimeScaleIsAParameter) {
  einc::ir::Program p = compile_script(
      "dim I = 4, J = 5, K = 6\ninput A[I, K], B[K, J], s[]\nC[i, j] = A[i, k] * B[k, j] * s * 2\noutput C\n");
  auto plan = plan_of(p, 0);
  ASSERT_EQ(plan.kernel.kind, KernelKind::gett);
  EXPECT_TRUE(plan.spec->runtime_scale);
  ASSERT_FALSE(plan.kernel.params.empty());
  EXPECT_EQ(plan.kernel.params.back().kind, einc::cuda::KernelParam::Kind::scale);
  EXPECT_NE(plan.kernel.source.find(", float scale)"), std::string::npos);
}

// A subexpression of numbers and dims is computed on the host, once, as the
// reference computes it, and embedded like a number; in an integer
// statement too, unless computing it divides by zero (left to the kernel,
// which reports it when it runs).
TEST(CudaSource, ScalarsOfDimsAndNumbersAreEmbeddedOnce) {
  einc::ir::Program p = compile_script(
      "dim N = 67, E = 128\ninput x[N]\ninput a[N] : i32\n"
      "y[i] = x[i] / sqrt(E) + exp(-E / 64)\n"
      "q[i] = a[i] * (E / 3 * 3 - 1)\n"
      "z[i] = a[i] * (E / (E - E))\n"
      "output y, q, z\n");
  // The kernel after the prelude (which defines every helper).
  auto body = [&](std::size_t statement) {
    const std::string source = plan_of(p, statement).kernel.source;
    const std::size_t kernel = source.find("extern \"C\" __global__");
    EXPECT_NE(kernel, std::string::npos) << source;
    return kernel == std::string::npos ? source : source.substr(kernel);
  };
  const std::string y = body(0);
  EXPECT_EQ(y.find("einc_sqrt("), std::string::npos) << y;
  EXPECT_EQ(y.find("einc_exp("), std::string::npos) << y;
  EXPECT_NE(y.find(einc::cuda::float_literal(static_cast<float>(std::sqrt(128.0)))), std::string::npos) << y;
  EXPECT_NE(y.find(einc::cuda::float_literal(static_cast<float>(std::exp(-2.0)))), std::string::npos) << y;
  const std::string q = body(1);
  EXPECT_NE(q.find("(125LL)"), std::string::npos) << q;  // 128 / 3 truncates to 42
  EXPECT_EQ(q.find("einc_idiv"), std::string::npos) << q;
  const std::string z = body(2);
  EXPECT_NE(z.find("einc_idiv"), std::string::npos) << z;
}

TEST(CudaSource, WhichKernelEachStatementGets) {
  einc::ir::Program p = compile_example("06_einsum_cheatsheet", true);
  std::map<std::string, KernelKind> want = {
      {"tr", KernelKind::elementwise},  // a 24-element diagonal: below the row kernel's minimum
      {"diag", KernelKind::elementwise}, {"At", KernelKind::elementwise}, {"outer", KernelKind::elementwise},
      {"dot", KernelKind::gett},         {"mm", KernelKind::gett},        {"bmm", KernelKind::gett},
      {"bmm2", KernelKind::gett},        {"frob", KernelKind::gett},      {"hadam", KernelKind::elementwise},
  };
  for (std::size_t s = 0; s < p.statements.size(); ++s) {
    const std::string& target = p.tensors[static_cast<std::size_t>(p.statements[s].target)].name;
    if (auto it = want.find(target); it != want.end()) {
      EXPECT_EQ(einc::cuda::kernel_kind_name(plan_of(p, s).kernel.kind),
                std::string(einc::cuda::kernel_kind_name(it->second)))
          << target;
    }
  }
  // Three factors: the plan's two steps (B*v, then A times that), one kernel each.
  einc::ir::Program chain = compile_example("07_chain_order", true);
  EXPECT_EQ(kernels_of(chain, 0).size(), 2u);
}

TEST(CudaSource, EmitHasAHeaderPerStatementAndPrintsEachKernelOnce) {
  for (const std::string& name : example_names()) {
    einc::ir::Program p = compile_example(name, true);
    const std::string text = einc::cuda::emit_cuda(p, false);
    std::size_t headers = 0, kernels = 0;
    for (std::size_t at = 0; (at = text.find("\n// ==== line ", at)) != std::string::npos; ++at) ++headers;
    for (std::size_t at = 0; (at = text.find("extern \"C\" __global__", at)) != std::string::npos; ++at) ++kernels;
    EXPECT_EQ(headers, p.statements.size()) << name;
    std::size_t runs = 0;  // kernels launched, one per statement or per step of a product
    for (std::size_t s = 0; s < p.statements.size(); ++s) runs += kernels_of(p, s).size();
    EXPECT_GE(kernels, 1u) << name;
    EXPECT_LE(kernels, runs) << name;
  }
  einc::ir::Program p = compile_example("06_einsum_cheatsheet", true);
  const std::string text = einc::cuda::emit_cuda(p, false);
  EXPECT_NE(text.find("(the same kernel as line 12)"), std::string::npos);  // dot2 is dot
}

TEST(CudaSource, AReductionOverNothingIsAnError) {
  // Sema rejects a max over a known empty extent, so the extent becomes 0
  // after it (as when a dim is bound only at run time).
  einc::ir::Program p =
      compile_script("dim I = 3, J = 2\ninput X[I, J]\nm[i] = max(j: X[i, j])\ns[i] = sum(j: X[i, j])\noutput m, s\n");
  p.dims.at(static_cast<std::size_t>(p.find_dim("J"))).value = 0;
  EXPECT_THROW(plan_of(p, 0), einc::reference::ExecutionError);
  EXPECT_NO_THROW(plan_of(p, 1));  // a sum over nothing is 0
  const std::string text = einc::cuda::emit_cuda(p, false);
  EXPECT_NE(text.find("// not compiled: max over an empty index in the statement at line 3"), std::string::npos)
      << text;
}

TEST(CudaSource, ConversionsComputeTheirArgumentInItsOwnDtype) {
  // The i8 products under f32(...) are summed in the i32 compute type
  // (long long, wrapped to 32 bits), then converted; the f32 argument of
  // i8(...) is rounded and saturated by einc_quantise.
  einc::ir::Program p = compile_script(
      "dim T = 4, D = 8, F = 3\ninput x[T, D]\nparam wq[F, D] : i8\nparam s[F]\n"
      "xq[t, d] = i8(x[t, d] * 100)\ny[t, f] = f32(xq[t, d] * wq[f, d]) * s[f]\n");
  const std::string text = einc::cuda::emit_cuda(p, false);
  for (const char* line : {"= (long long)(einc_quantise((double)(float)(", ", -128LL, 127LL));  // i8(...)",
                           "long long acc = (0LL);", "acc = EincAdd()(acc, ",
                           "(float)((float)((double)(long long)(int)(unsigned int)(unsigned long long)("})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
}

TEST(CudaSource, EmptyOutputsAreNotLaunched) {
  einc::ir::Program p = compile_script(
      "dim I = 0, J = 5, K = 3\ninput A[I, K], B[K, J]\nC[i, j] = A[i, k] * B[k, j]\nD[i] = A[i, k]\noutput C, D\n");
  EXPECT_TRUE(plan_of(p, 0).kernel.empty);
  EXPECT_TRUE(plan_of(p, 1).kernel.empty);
}

// make_cuda_gett_spec against the reference: C computed on the host by plain
// loops over the spec's groups (its strides, orientation, scale and
// epilogue terms, nothing else) must match the interpreter on random
// contraction scripts. This checks the spec independently of the kernel text.
TEST(CudaSource, GettSpecsAgreeWithTheReference) {
  int checked = 0;
  for (std::uint64_t seed = 0; checked < 150 && seed < 2000; ++seed) {
    einc_test::RandomCase rc = einc_test::random_contraction(seed);
    einc::ir::Program p = compile_script(rc.script);
    auto plan = plan_of(p, 0);
    if (plan.kernel.kind != KernelKind::gett) continue;
    const einc::cuda::CudaGettSpec& s = *plan.spec;
    std::vector<Tensor> inputs = random_inputs(p, seed);
    ReferenceBackend reference;
    std::vector<Tensor> want = einc::runtime::execute_program(p, inputs, reference);
    Tensor c = Tensor::zeros(einc::DType::f32, einc::ir::evaluated_shape(p, s.c_tensor));
    auto offset = [](const std::vector<einc::cuda::CudaGettDim>& g, std::int64_t pos, char which,
                     const std::vector<std::int64_t>* term) {
      std::int64_t o = 0;
      for (std::size_t d = g.size(); d-- > 0;) {
        std::int64_t i = pos % g[d].extent;
        pos /= g[d].extent;
        std::int64_t stride = term           ? (*term)[d]
                              : which == 'a' ? g[d].stride_a
                              : which == 'b' ? g[d].stride_b
                                             : g[d].stride_c;
        o += i * stride;
      }
      return o;
    };
    const float* a = inputs[static_cast<std::size_t>(s.a_tensor)].data_as<const float>();
    const float* b = inputs[static_cast<std::size_t>(s.b_tensor)].data_as<const float>();
    const std::int64_t nb = einc::cuda::group_extent(s.batch), nm = einc::cuda::group_extent(s.m),
                       nn = einc::cuda::group_extent(s.n), nk = einc::cuda::group_extent(s.k);
    double scale = s.scale;
    if (s.runtime_scale) {  // a rank-0 operand: evaluated at launch, as the backend does
      scale = static_cast<float>(einc::ir::evaluate_gett_scale(
          p, *plan.gett, [&](int t) { return inputs.at(static_cast<std::size_t>(t)).get({}); }));
    }
    for (std::int64_t ib = 0; ib < nb; ++ib)
      for (std::int64_t im = 0; im < nm; ++im)
        for (std::int64_t in = 0; in < nn; ++in) {
          double acc = 0;
          for (std::int64_t ik = 0; ik < nk; ++ik)
            acc += static_cast<double>(a[offset(s.batch, ib, 'a', nullptr) + offset(s.m, im, 'a', nullptr) +
                                         offset(s.k, ik, 'a', nullptr)]) *
                   b[offset(s.batch, ib, 'b', nullptr) + offset(s.n, in, 'b', nullptr) + offset(s.k, ik, 'b', nullptr)];
          double v = acc * scale;
          auto term = [&](const einc::cuda::CudaEpilogueTerm& t) {
            const float* data = inputs[static_cast<std::size_t>(t.tensor)].data_as<const float>();
            double x = data[offset(s.batch, ib, 0, &t.batch_strides) + offset(s.m, im, 0, &t.m_strides) +
                            offset(s.n, in, 0, &t.n_strides)];
            return t.negate ? -x : x;
          };
          for (const auto& t : s.bias) v += term(t);
          if (s.activation) {  // through the IR's scalar evaluator
            auto x = std::make_shared<einc::ir::Expr>();
            x->kind = einc::ir::ExprKind::constant;
            x->constant = v;
            einc::ir::Expr call;
            call.kind = einc::ir::ExprKind::call;
            call.func = *s.activation;
            call.args.push_back(x);
            v = einc::ir::evaluate_scalar(p, call, [](int) { return 0.0; });
          }
          for (const auto& t : s.residual) v += term(t);
          c.data_as<float>()[offset(s.batch, ib, 'c', nullptr) + offset(s.m, im, 'c', nullptr) +
                             offset(s.n, in, 'c', nullptr)] = static_cast<float>(v);
        }
    std::vector<Tensor> got = want;
    got[static_cast<std::size_t>(s.c_tensor)] = c;
    EXPECT_EQ(compare_outputs(p, got, want, rc.reduction_length), "") << rc.description << "\n" << rc.script;
    ++checked;
  }
  EXPECT_EQ(checked, 150);
}

// Whether libcuda was loaded before main(): only a link dependency can do that.
const bool kLibcudaLoadedAtStart = [] {
  void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (h) dlclose(h);
  return h != nullptr;
}();

TEST(CudaSource, TheBinaryDoesNotLinkLibcuda) {
  EXPECT_FALSE(kLibcudaLoadedAtStart) << "libcuda.so.1 was loaded before main(): something links the driver";
}

TEST(CudaSource, TheBackendSaysWhyItIsUnavailable) {
  std::string why;
  if (einc::cuda::cuda_backend_available(&why)) GTEST_SKIP() << "a CUDA driver and device are present here";
  EXPECT_EQ(why.rfind("no CUDA driver/device found (", 0), 0u) << why;
  try {
    einc::cuda::make_cuda_backend();
    FAIL() << "constructed";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), why);
  }
}

}  // namespace
