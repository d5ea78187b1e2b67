// backends/cuda/gett_source.cpp — see gett_source.h.
#include "backends/cuda/gett_source.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "backends/cuda/expr_codegen.h"
#include "einc/internal_error.h"

namespace einc::cuda {

namespace {

constexpr int kThreads = 256;

bool reads_tensor(const ir::Expr& e) {
  if (e.kind == ir::ExprKind::access) return true;
  for (const ir::ExprPtr& a : e.args)
    if (reads_tensor(*a)) return true;
  return false;
}

// `long long einc_<name>(long long i)`: the offset of linear position i of
// a group, decoded innermost first (dims of extent 1 contribute nothing).
std::string offset_function(const std::string& name, const std::vector<CudaGettDim>& dims,
                            const std::vector<std::int64_t>& strides, const std::string& what) {
  std::vector<std::size_t> live;
  bool empty = false;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    if (dims[d].extent == 0) empty = true;
    if (dims[d].extent != 1) live.push_back(d);
  }
  bool zero = empty || std::all_of(live.begin(), live.end(), [&](std::size_t d) { return strides[d] == 0; });
  std::string out = "// " + what + "\n__device__ __forceinline__ long long einc_" + name + "(long long i) {\n";
  if (zero) return out + "  (void)i;\n  return 0LL;\n}\n";
  out += "  long long o = 0;\n";
  for (std::size_t k = live.size(); k-- > 0;) {
    std::size_t d = live[k];
    const std::string comment = "  // " + dims[d].name + " (extent " + std::to_string(dims[d].extent) + ")\n";
    if (k == 0) {
      if (strides[d] != 0) out += "  o += i * " + ll(strides[d]) + ";" + comment;
    } else {
      if (strides[d] != 0) out += "  o += (i % " + ll(dims[d].extent) + ") * " + ll(strides[d]) + ";" + comment;
      out += "  i /= " + ll(dims[d].extent) + ";\n";
    }
  }
  return out + "  return o;\n}\n";
}

std::vector<std::int64_t> strides_in(const std::vector<CudaGettDim>& dims, char which) {
  std::vector<std::int64_t> out;
  for (const CudaGettDim& d : dims) out.push_back(which == 'a' ? d.stride_a : which == 'b' ? d.stride_b : d.stride_c);
  return out;
}

// The stride that consecutive positions of a group's innermost dim step by
// (0 counts as never contiguous).
std::int64_t inner_stride(const std::vector<CudaGettDim>& dims, char which) {
  for (std::size_t k = dims.size(); k-- > 0;) {
    if (dims[k].extent == 1) continue;
    std::int64_t s = std::llabs(which == 'a' ? dims[k].stride_a : dims[k].stride_b);
    return s == 0 ? INT64_MAX : s;
  }
  return INT64_MAX;
}

std::string names(const std::vector<CudaGettDim>& dims) {
  std::string out;
  for (const CudaGettDim& d : dims) out += (out.empty() ? "" : ",") + d.name;
  return out.empty() ? "-" : out;
}

std::string epilogue_words(const CudaGettSpec& spec) {
  std::string out;
  if (spec.scale != 1.0f || spec.runtime_scale) out += " scale";
  if (!spec.bias.empty()) out += " bias";
  if (spec.activation) out += std::string(" ") + ir::func_name(*spec.activation);
  if (!spec.residual.empty()) out += " residual";
  return out.empty() ? " none" : out;
}

std::string tile_tag(const CudaGettTile& t) {
  return std::to_string(t.bm) + "x" + std::to_string(t.bn) + "x" + std::to_string(t.bk);
}

struct Source {
  std::string text, name, summary;
};

Source build(const CudaGettSpec& spec) {
  const CudaGettTile& t = spec.tile;
  if (spec.dtype != ir::DType::f32) throw std::runtime_error("cuda GETT: only f32 is generated so far");
  if ((t.bm / t.tm) * (t.bn / t.tn) != kThreads || t.bm % t.tm || t.bn % t.tn || (t.bm * t.bk) % kThreads ||
      (t.bn * t.bk) % kThreads || kThreads % t.bm || kThreads % t.bn || kThreads % t.bk || t.bm % 4 || t.bn % 4)
    throw std::invalid_argument("cuda GETT: tile " + tile_tag(t) + " does not fit 256 threads");
  const std::int64_t batch = group_extent(spec.batch), m = group_extent(spec.m), n = group_extent(spec.n),
                     k = group_extent(spec.k);
  const bool a_k_fast = inner_stride(spec.k, 'a') < inner_stride(spec.m, 'a');
  const bool b_k_fast = inner_stride(spec.k, 'b') < inner_stride(spec.n, 'b');

  Source s;
  s.summary = "GETT batch " + names(spec.batch) + "; M " + names(spec.m) + "; N " + names(spec.n) + "; K " +
              names(spec.k) + " (" + std::to_string(batch) + " x " + std::to_string(m) + " x " + std::to_string(n) +
              " x " + std::to_string(k) + "), tile " + tile_tag(t) + " with " + std::to_string(t.tm) + "x" +
              std::to_string(t.tn) + " per thread; epilogue:" + epilogue_words(spec);

  // The text depends only on the spec (not on the statement's text or
  // line), so statements of the same shape share one kernel.
  std::string src = "// einc GETT kernel (backends/cuda/gett_source.cpp)\n// " + s.summary + "\n";
  auto dims_comment = [](const char* group, const std::vector<CudaGettDim>& dims) {
    std::string out = std::string("//   ") + group + ":";
    if (dims.empty()) out += " (none)";
    for (const CudaGettDim& d : dims)
      out += " " + d.name + "[" + std::to_string(d.extent) + "; A " + std::to_string(d.stride_a) + ", B " +
             std::to_string(d.stride_b) + ", C " + std::to_string(d.stride_c) + "]";
    return out + "\n";
  };
  src += "// groups, outermost first: index[extent; stride in A, B, C]\n";
  src += dims_comment("batch", spec.batch) + dims_comment("M", spec.m) + dims_comment("N", spec.n) +
         dims_comment("K", spec.k);
  src += device_prelude(false);

  // Offset functions of every group in every operand that uses it.
  struct Term {
    const CudaEpilogueTerm* term;
    std::string name;
  };
  std::vector<Term> terms;
  for (std::size_t i = 0; i < spec.bias.size(); ++i) terms.push_back({&spec.bias[i], "bias" + std::to_string(i)});
  for (std::size_t i = 0; i < spec.residual.size(); ++i)
    terms.push_back({&spec.residual[i], "res" + std::to_string(i)});
  src += offset_function("batch_a", spec.batch, strides_in(spec.batch, 'a'), "batch position -> offset in A");
  src += offset_function("batch_b", spec.batch, strides_in(spec.batch, 'b'), "batch position -> offset in B");
  src += offset_function("batch_c", spec.batch, strides_in(spec.batch, 'c'), "batch position -> offset in C");
  src += offset_function("m_a", spec.m, strides_in(spec.m, 'a'), "M position -> offset in A");
  src += offset_function("m_c", spec.m, strides_in(spec.m, 'c'), "M position -> offset in C");
  src += offset_function("n_b", spec.n, strides_in(spec.n, 'b'), "N position -> offset in B");
  src += offset_function("n_c", spec.n, strides_in(spec.n, 'c'), "N position -> offset in C");
  src += offset_function("k_a", spec.k, strides_in(spec.k, 'a'), "K position -> offset in A");
  src += offset_function("k_b", spec.k, strides_in(spec.k, 'b'), "K position -> offset in B");
  for (const Term& term : terms) {
    src += offset_function("batch_" + term.name, spec.batch, term.term->batch_strides,
                           "batch position -> offset in " + term.name);
    src += offset_function("m_" + term.name, spec.m, term.term->m_strides, "M position -> offset in " + term.name);
    src += offset_function("n_" + term.name, spec.n, term.term->n_strides, "N position -> offset in " + term.name);
  }

  std::string params = "float* C, const float* __restrict__ A, const float* __restrict__ B";
  for (const Term& term : terms) params += ", const float* " + term.name;
  if (spec.runtime_scale) params += ", float scale";
  src += "\nextern \"C\" __global__ void __launch_bounds__(256) " + std::string(kKernelNamePlaceholder) + "(" + params +
         ") {\n";

  CodeWriter w;
  w.line("constexpr int BM = " + std::to_string(t.bm) + ", BN = " + std::to_string(t.bn) + ", BK = " +
         std::to_string(t.bk) + ", TM = " + std::to_string(t.tm) + ", TN = " + std::to_string(t.tn) + ", PAD = 4;");
  w.line("constexpr long long BATCH = " + ll(batch) + ", M = " + ll(m) + ", N = " + ll(n) + ", K = " + ll(k) + ";");
  w.line("constexpr long long M_TILES = (M + BM - 1) / BM, N_TILES = (N + BN - 1) / BN, K_TILES = (K + BK - 1) / BK;");
  w.line("constexpr int A_LOADS = BM * BK / 256, B_LOADS = BN * BK / 256;  // elements each thread copies per K tile");
  w.line("__shared__ __align__(16) float As[2][BK][BM + PAD];  // A tile, k-major, double-buffered");
  w.line("__shared__ __align__(16) float Bs[2][BK][BN + PAD];  // B tile, k-major, double-buffered");
  w.line("const int tid = (int)threadIdx.x;");
  w.line("const int tx = tid % (BN / TN);  // this thread's C columns: n0 + tx * TN + j");
  w.line("const int ty = tid / (BN / TN);  // this thread's C rows:    m0 + ty * TM + i");
  w.open("for (long long bz = blockIdx.z; bz < BATCH; bz += gridDim.z)");
  w.line("const long long a_batch = einc_batch_a(bz), b_batch = einc_batch_b(bz), c_batch = einc_batch_c(bz);");
  for (const Term& term : terms) w.line("const long long " + term.name + "_batch = einc_batch_" + term.name + "(bz);");
  w.open("for (long long by = blockIdx.y; by < M_TILES; by += gridDim.y)");
  w.open("for (long long bx = blockIdx.x; bx < N_TILES; bx += gridDim.x)");
  w.line("const long long m0 = by * BM, n0 = bx * BN;");

  // Per-thread load positions that do not change along K.
  auto loads_setup = [&](char op, bool k_fast) {
    const std::string O(1, static_cast<char>(op - 'a' + 'A'));
    const std::string o(1, op);
    const std::string rows = op == 'a' ? "BM" : "BN", base = op == 'a' ? "m0" : "n0", lim = op == 'a' ? "M" : "N";
    const std::string grp = op == 'a' ? "m" : "n", loads = O + "_LOADS";
    if (k_fast) {
      w.line("// " + O + " tile: consecutive threads along K (" + O + "'s smaller stride); thread: one k, " + loads +
             " " + (op == 'a' ? "rows" : "columns"));
      w.line("const int " + o + "_k = tid % BK;");
      w.line("long long " + o + "_pos[" + loads + "];");
      w.line("bool " + o + "_pos_ok[" + loads + "];");
      w.line("#pragma unroll");
      w.open("for (int e = 0; e < " + loads + "; ++e)");
      w.line("const long long p = " + base + " + tid / BK + e * (256 / BK);");
      w.line(o + "_pos_ok[e] = p < " + lim + ";");
      w.line(o + "_pos[e] = " + o + "_batch + einc_" + grp + "_" + o + "(" + o + "_pos_ok[e] ? p : 0);");
      w.close();
    } else {
      w.line("// " + O + " tile: consecutive threads along " + (op == 'a' ? "M" : "N") + " (" + O +
             "'s smaller stride); thread: one " + (op == 'a' ? "row" : "column") + ", " + loads + " k");
      w.line("const int " + o + "_p = tid % " + rows + ";");
      w.line("const bool " + o + "_pos_ok = " + base + " + " + o + "_p < " + lim + ";");
      w.line("const long long " + o + "_pos = " + o + "_batch + einc_" + grp + "_" + o + "(" + o + "_pos_ok ? " + base +
             " + " + o + "_p : 0);");
    }
  };
  loads_setup('a', a_k_fast);
  loads_setup('b', b_k_fast);

  auto loads_tile = [&](char op, bool k_fast) {
    const std::string O(1, static_cast<char>(op - 'a' + 'A'));
    const std::string o(1, op);
    const std::string rows = op == 'a' ? "BM" : "BN", smem = O + "s", loads = O + "_LOADS";
    w.open("");
    if (k_fast) {
      w.line("const long long k = k0 + " + o + "_k;");
      w.line("const bool k_ok = k < K;");
      w.line("const long long k_off = einc_k_" + o + "(k_ok ? k : 0);");
      w.line("#pragma unroll");
      w.open("for (int e = 0; e < " + loads + "; ++e)");
      w.line("const bool ok = k_ok && " + o + "_pos_ok[e];");
      w.line("einc_cp_async_f32(&" + smem + "[buf][" + o + "_k][tid / BK + e * (256 / BK)], ok ? " + O + " + (" + o +
             "_pos[e] + k_off) : " + O + ", ok);");
      w.close();
    } else {
      w.line("#pragma unroll");
      w.open("for (int e = 0; e < " + loads + "; ++e)");
      w.line("const int kk = tid / " + rows + " + e * (256 / " + rows + ");");
      w.line("const long long k = k0 + kk;");
      w.line("const bool ok = " + o + "_pos_ok && k < K;");
      w.line("einc_cp_async_f32(&" + smem + "[buf][kk][" + o + "_p], ok ? " + O + " + (" + o + "_pos + einc_k_" + o +
             "(k)) : " + O + ", ok);");
      w.close();
    }
    w.close();
  };
  w.line("// Copies the K tile starting at k0 into buffer `buf` (zeros outside the tensors).");
  w.open("auto load_tile = [&](int buf, long long k0)");
  loads_tile('a', a_k_fast);
  loads_tile('b', b_k_fast);
  w.close(";");

  w.line("float acc[TM][TN];");
  w.line("#pragma unroll");
  w.open("for (int i = 0; i < TM; ++i)");
  w.line("#pragma unroll");
  w.line("for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;");
  w.close();
  w.open("if (K_TILES > 0)");
  w.line("load_tile(0, 0);");
  w.line("einc_cp_async_commit();");
  w.close();
  w.open("for (long long kt = 0; kt < K_TILES; ++kt)");
  w.line("const int cur = (int)(kt & 1);");
  w.open("if (kt + 1 < K_TILES)");
  w.line("load_tile(cur ^ 1, (kt + 1) * BK);  // the next tile, into the other buffer");
  w.line("einc_cp_async_commit();");
  w.line("einc_cp_async_wait_one();  // this thread's copies of tile kt have landed");
  w.close();
  w.open("else");
  w.line("einc_cp_async_wait_all();");
  w.close();
  w.line("__syncthreads();  // ... and every thread's");
  w.line("#pragma unroll");
  w.open("for (int kk = 0; kk < BK; ++kk)");
  w.line("float a[TM], b[TN];");
  w.line("#pragma unroll");
  w.line("for (int i = 0; i < TM; ++i) a[i] = As[cur][kk][ty * TM + i];");
  w.line("#pragma unroll");
  w.line("for (int j = 0; j < TN; ++j) b[j] = Bs[cur][kk][tx * TN + j];");
  w.line("#pragma unroll");
  w.open("for (int i = 0; i < TM; ++i)");
  w.line("#pragma unroll");
  w.line("for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);");
  w.close();
  w.close();
  w.line("__syncthreads();  // everyone is done with `cur` before it is refilled");
  w.close();

  // Epilogue from registers, then the one store of C.
  w.line("// Epilogue:" + epilogue_words(spec) + "; then the store (edges guarded).");
  w.line("#pragma unroll");
  w.open("for (int i = 0; i < TM; ++i)");
  w.line("const long long m = m0 + ty * TM + i;");
  w.line("if (m >= M) continue;");
  w.line("const long long c_row = c_batch + einc_m_c(m);");
  for (const Term& term : terms)
    w.line("const long long " + term.name + "_row = " + term.name + "_batch + einc_m_" + term.name + "(m);");
  w.line("#pragma unroll");
  w.open("for (int j = 0; j < TN; ++j)");
  w.line("const long long n = n0 + tx * TN + j;");
  w.line("if (n >= N) continue;");
  if (spec.runtime_scale)
    w.line("float v = acc[i][j] * scale;");
  else if (spec.scale != 1.0f)
    w.line("float v = acc[i][j] * " + float_literal(spec.scale) + ";");
  else
    w.line("float v = acc[i][j];");
  std::size_t term_index = 0;
  auto add_terms = [&](const std::vector<CudaEpilogueTerm>& list) {
    for (const CudaEpilogueTerm& term : list) {
      const std::string& name = terms[term_index++].name;
      w.line(std::string("v ") + (term.negate ? "-" : "+") + "= " + name + "[" + name + "_row + einc_n_" + name +
             "(n)];");
    }
  };
  add_terms(spec.bias);
  if (spec.activation) w.line(std::string("v = ") + function_helper(*spec.activation) + "(v);");
  add_terms(spec.residual);
  w.line("C[c_row + einc_n_c(n)] = v;");
  w.close();
  w.close();
  w.close();
  w.close();
  w.close();
  src += w.text() + "}\n";
  s.name = finish_kernel_source(src, "einc_gett_f32_" + tile_tag(t));
  s.text = std::move(src);
  return s;
}

}  // namespace

std::int64_t group_extent(const std::vector<CudaGettDim>& group) {
  std::int64_t n = 1;
  for (const CudaGettDim& d : group) n *= d.extent;
  return n;
}

CudaGettTile choose_gett_tile(std::int64_t m, std::int64_t n) {
  if (m >= 128 && n >= 128) return {};
  return CudaGettTile{64, 64, 16, 4, 4};
}

CudaGettSpec make_cuda_gett_spec(const ir::Program& program, const ir::Statement& statement, const ir::GettStatement& g,
                                 const TensorStrides& strides) {
  CudaGettSpec spec;
  spec.dtype = statement.dtype;
  const auto& sc = strides.at(static_cast<std::size_t>(statement.target));
  auto extent = [&](int index) {
    return program.evaluate(statement.indices.at(static_cast<std::size_t>(index)).extent);
  };
  // Orientation: the kernel's threads run along N (tx), so N should hold the
  // output's smallest-stride index. match_gett puts it in M (the cpu
  // micro-kernel's convention): then swap the operands, C^T = B^T A^T.
  auto smallest_c_stride = [&](const std::vector<int>& ids) {
    std::int64_t best = INT64_MAX;
    for (int id : ids)
      if (extent(id) != 1) best = std::min<std::int64_t>(best, std::llabs(ir::index_stride(sc, statement.lhs, id)));
    return best;
  };
  const bool swap = smallest_c_stride(g.m) < smallest_c_stride(g.n);
  // Groups ordered by stride like the cpu backend (ir::make_gett_spec).
  ir::GettSpec shared = ir::make_gett_spec(
      program, statement, g,
      [&](int t) -> const std::vector<std::int64_t>& { return strides.at(static_cast<std::size_t>(t)); }, swap);
  spec.a_tensor = shared.a.tensor;
  spec.b_tensor = shared.b.tensor;
  spec.c_tensor = statement.target;
  auto named = [&](const std::vector<ir::GettDimSpec>& dims) {
    std::vector<CudaGettDim> out;
    for (const ir::GettDimSpec& d : dims)
      out.push_back(
          {statement.indices.at(static_cast<std::size_t>(d.index)).name, d.extent, d.stride_a, d.stride_b, d.stride_c});
    return out;
  };
  spec.batch = named(shared.batch);
  spec.m = named(shared.m);
  spec.n = named(shared.n);
  spec.k = named(shared.k);

  double scale = 1.0;
  for (std::size_t i = 0; i < g.scale_factors.size(); ++i) {
    if (reads_tensor(*g.scale_factors[i])) {
      spec.runtime_scale = true;
      continue;
    }
    double v = ir::evaluate_scalar(program, *g.scale_factors[i], [](int) -> double {
      EINC_FAIL("cuda GETT: a constant scale factor read a tensor");
    });
    scale = g.scale_divides[i] ? scale / v : scale * v;
  }
  spec.scale = spec.runtime_scale ? 1.0f : static_cast<float>(scale);

  spec.bias = shared.bias;
  spec.residual = shared.residual;
  spec.activation = g.activation;
  spec.tile = choose_gett_tile(group_extent(spec.m), group_extent(spec.n));
  return spec;
}

std::string generate_gett_source(const CudaGettSpec& spec) { return build(spec).text; }

GeneratedKernel generate_gett_kernel(const CudaGettSpec& spec) {
  Source s = build(spec);
  GeneratedKernel k;
  k.kind = KernelKind::gett;
  k.name = s.name;
  k.source = std::move(s.text);
  k.summary = s.summary;
  auto tensor = [](int id, const std::string& name, const std::string& ctype, bool written) {
    KernelParam p;
    p.tensor = id;
    p.name = name;
    p.ctype = ctype;
    p.written = written;
    return p;
  };
  k.params.push_back(tensor(spec.c_tensor, "C", "float*", true));
  k.params.push_back(tensor(spec.a_tensor, "A", "const float* __restrict__", false));
  k.params.push_back(tensor(spec.b_tensor, "B", "const float* __restrict__", false));
  for (std::size_t i = 0; i < spec.bias.size(); ++i)
    k.params.push_back(tensor(spec.bias[i].tensor, "bias" + std::to_string(i), "const float*", false));
  for (std::size_t i = 0; i < spec.residual.size(); ++i)
    k.params.push_back(tensor(spec.residual[i].tensor, "res" + std::to_string(i), "const float*", false));
  if (spec.runtime_scale) {
    KernelParam p;
    p.kind = KernelParam::Kind::scale;
    p.name = "scale";
    p.ctype = "float";
    k.params.push_back(p);
  }
  const std::int64_t batch = group_extent(spec.batch), m = group_extent(spec.m), n = group_extent(spec.n);
  k.empty = batch == 0 || m == 0 || n == 0;
  auto tiles = [](std::int64_t extent, int tile, std::int64_t cap) {
    return static_cast<unsigned>(std::clamp<std::int64_t>((extent + tile - 1) / tile, 1, cap));
  };
  k.launch.grid = {tiles(n, spec.tile.bn, 0x7fffffff), tiles(m, spec.tile.bm, 65535), tiles(batch, 1, 65535)};
  k.launch.block = {static_cast<unsigned>(kThreads), 1, 1};
  return k;
}

}  // namespace einc::cuda
