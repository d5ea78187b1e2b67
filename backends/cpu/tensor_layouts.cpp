// backends/cpu/tensor_layouts.cpp — see tensor_layouts.h.
#include "backends/cpu/tensor_layouts.h"

namespace einc::cpu {

TensorLayouts TensorLayouts::contiguous(const ir::Program& program) {
  TensorLayouts out;
  for (const ir::Tensor& t : program.tensors) {
    std::vector<std::int64_t> shape;
    for (const ir::Poly& extent : t.shape) {
      std::optional<std::int64_t> value = program.try_evaluate(extent);
      out.known_ = out.known_ && value.has_value();
      shape.push_back(value.value_or(2));
    }
    out.dtypes_.push_back(t.dtype);
    out.strides_.push_back(ir::contiguous_strides(shape));
    out.shapes_.push_back(std::move(shape));
  }
  return out;
}

TensorLayouts TensorLayouts::widened(const ir::Program& wide, int keep) const {
  TensorLayouts out;
  out.known_ = known_;
  for (std::size_t t = 0; t < wide.tensors.size(); ++t) {
    const int id = static_cast<int>(t);
    out.shapes_.push_back(shape(id));
    out.strides_.push_back(id == keep ? strides(id) : ir::contiguous_strides(shape(id)));
    out.dtypes_.push_back(id == keep ? dtype(id) : wide.tensors[t].dtype);
    out.defined_.push_back(defined(id));
  }
  return out;
}

DType TensorLayouts::dtype(int tensor) const {
  return tensors_ ? tensors_->at(static_cast<std::size_t>(tensor)).dtype()
                  : dtypes_.at(static_cast<std::size_t>(tensor));
}

const std::vector<std::int64_t>& TensorLayouts::shape(int tensor) const {
  return tensors_ ? tensors_->at(static_cast<std::size_t>(tensor)).shape()
                  : shapes_.at(static_cast<std::size_t>(tensor));
}

const std::vector<std::int64_t>& TensorLayouts::strides(int tensor) const {
  return tensors_ ? tensors_->at(static_cast<std::size_t>(tensor)).strides()
                  : strides_.at(static_cast<std::size_t>(tensor));
}

bool TensorLayouts::defined(int tensor) const {
  if (tensors_) return tensors_->at(static_cast<std::size_t>(tensor)).defined();
  return defined_.empty() || defined_.at(static_cast<std::size_t>(tensor));
}

}  // namespace einc::cpu
