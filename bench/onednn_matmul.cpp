// bench/onednn_matmul.cpp — see onednn_matmul.h.
#include "onednn_matmul.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "onednn_info.h"

namespace einc::bench {

struct OnednnMatmul::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<dnnl::matmul> primitives;
  std::vector<std::unordered_map<int, dnnl::memory>> args;
  std::string choice;
};

OnednnMatmul::OnednnMatmul(const std::vector<MatmulStep>& steps) : impl_(std::make_unique<Impl>()) {
  using dnnl::memory;
  const memory::data_type f32 = memory::data_type::f32;
  Impl& m = *impl_;
  for (const MatmulStep& step : steps) {
    const memory::desc src_md(step.src.dims, f32, step.src.strides);
    const memory::desc dst_md(step.dst.dims, f32, step.dst.strides);
    const memory::desc weights_md(step.weights.dims, f32, step.weights.strides);
    const dnnl::matmul::desc desc(src_md, memory::desc(step.weights.dims, f32, memory::format_tag::any), dst_md);
    const dnnl::matmul::primitive_desc pd(desc, m.engine);

    // The weights, reordered once from the caller's layout into oneDNN's.
    memory weights_user(weights_md, m.engine, step.weights.data);
    memory weights(pd.weights_desc(), m.engine);
    dnnl::reorder(weights_user, weights).execute(m.stream, weights_user, weights);
    m.stream.wait();

    if (!m.choice.empty()) m.choice += "; ";
    m.choice += std::string(pd.impl_info_str()) + ", weights " + format_of(pd.weights_desc());
    m.primitives.emplace_back(pd);
    m.args.push_back({{DNNL_ARG_SRC, memory(src_md, m.engine, step.src.data)},
                      {DNNL_ARG_WEIGHTS, weights},
                      {DNNL_ARG_DST, memory(dst_md, m.engine, step.dst.data)}});
  }
}

OnednnMatmul::~OnednnMatmul() = default;

void OnednnMatmul::run() {
  Impl& m = *impl_;
  for (std::size_t i = 0; i < m.primitives.size(); ++i) m.primitives[i].execute(m.stream, m.args[i]);
  m.stream.wait();
}

const std::string& OnednnMatmul::choice() const { return impl_->choice; }

}  // namespace einc::bench
