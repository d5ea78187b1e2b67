// bench/onednn_matmul.cpp — see onednn_matmul.h.
#include "onednn_matmul.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <unordered_map>

#include "onednn_info.h"

namespace einc::bench {

namespace {

// oneDNN's type for an einc dtype; oneDNN 2.6 has none for f64.
dnnl::memory::data_type data_type_of(einc::DType dtype) {
  using dt = dnnl::memory::data_type;
  switch (dtype) {
    case einc::DType::f32:
      return dt::f32;
    case einc::DType::f16:
      return dt::f16;
    case einc::DType::bf16:
      return dt::bf16;
    case einc::DType::i8:
      return dt::s8;
    case einc::DType::i32:
      return dt::s32;
    case einc::DType::f64:
      break;
  }
  throw std::invalid_argument("oneDNN " + std::to_string(DNNL_VERSION_MAJOR) + "." +
                              std::to_string(DNNL_VERSION_MINOR) + " has no " + einc::dtype_name(dtype) +
                              " data type (dnnl::memory::data_type)");
}

// An operand as it lies in the caller's memory.
dnnl::memory::desc desc_of(const einc::Tensor& t) {
  return dnnl::memory::desc(t.shape(), data_type_of(t.dtype()), t.strides());
}

}  // namespace

struct OnednnMatmul::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<dnnl::matmul> primitives;
  std::vector<std::unordered_map<int, dnnl::memory>> args;
  std::string choice;
};

OnednnMatmul::OnednnMatmul(const std::vector<MatmulStep>& steps) : impl_(std::make_unique<Impl>()) {
  using dnnl::memory;
  Impl& m = *impl_;
  for (const MatmulStep& step : steps) {
    const memory::desc src_md = desc_of(step.src);
    const memory::desc dst_md = desc_of(step.dst);
    const memory::desc weights_md = desc_of(step.weights);
    const dnnl::matmul::desc desc(
        src_md, memory::desc(step.weights.shape(), weights_md.data_type(), memory::format_tag::any), dst_md);
    dnnl::primitive_attr attr;
    if (step.scales.defined())  // one scale per column of dst (its last dim), given at execution
      attr.set_output_scales(1 << (static_cast<int>(step.dst.rank()) - 1), {DNNL_RUNTIME_F32_VAL});
    const dnnl::matmul::primitive_desc pd(desc, attr, m.engine);

    // The weights, reordered once from the caller's layout into oneDNN's.
    memory weights_user(weights_md, m.engine, step.weights.data());
    memory weights(pd.weights_desc(), m.engine);
    dnnl::reorder(weights_user, weights).execute(m.stream, weights_user, weights);
    m.stream.wait();

    if (!m.choice.empty()) m.choice += "; ";
    m.choice += std::string(pd.impl_info_str()) + ", weights " + format_of(pd.weights_desc());
    m.primitives.emplace_back(pd);
    m.args.push_back({{DNNL_ARG_SRC, memory(src_md, m.engine, step.src.data())},
                      {DNNL_ARG_WEIGHTS, weights},
                      {DNNL_ARG_DST, memory(dst_md, m.engine, step.dst.data())}});
    if (step.scales.defined())
      m.args.back().emplace(DNNL_ARG_ATTR_OUTPUT_SCALES, memory(desc_of(step.scales), m.engine, step.scales.data()));
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
