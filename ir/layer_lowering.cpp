// ir/layer_lowering.cpp — sema of a layer's part of a tensor inside a repeat
// block (docs/language.md, "Repeated layers").
//
// In `repeat l < L { ... }`, `w[l, d, f]` reads layer l of a param or input
// declared with a leading dim of extent L. Sema rewrites it to an access of
// the layer tensor `w[l]` (TensorRole::layer, shape [D, F]), one per tensor
// and block; the executor binds it to w's slice at each iteration, so every
// backend runs the block's statements as ordinary statements.
#include "ir/statement_lowering.h"

namespace einc::ir {

using frontend::Note;

bool StatementLowering::is_layer_index(const std::string& name) const {
  return block_id_ >= 0 && program_.blocks.at(static_cast<std::size_t>(block_id_)).index == name;
}

int StatementLowering::layer_tensor(int source) {
  for (std::size_t t = 0; t < program_.tensors.size(); ++t)
    if (program_.tensors[t].layer_of == source && program_.tensors[t].block == block_id_) return static_cast<int>(t);
  const Tensor& whole = program_.tensors[static_cast<std::size_t>(source)];
  Tensor layer;
  layer.name = whole.name + "[" + program_.blocks[static_cast<std::size_t>(block_id_)].index + "]";
  layer.span = whole.span;
  layer.dtype = whole.dtype;
  layer.role = TensorRole::layer;
  layer.dtype_declared = true;
  layer.shape_declared = true;
  layer.shape.assign(whole.shape.begin() + 1, whole.shape.end());
  layer.layer_of = source;
  layer.block = block_id_;
  return program_.add_tensor(std::move(layer));
}

ExprPtr StatementLowering::lower_layer_access(const ast::Access& access, bool zero_padded, Span padded_span) {
  const int source = resolve_tensor(access);
  if (source < 0) return nullptr;
  const Tensor& whole = program_.tensors[static_cast<std::size_t>(source)];
  const RepeatBlock& block = program_.blocks.at(static_cast<std::size_t>(block_id_));
  const Span layer_position = ast::span_of(access.indices->front());
  if (whole.role != TensorRole::param && whole.role != TensorRole::input) {
    sink_.error(layer_position,
                "the layer index selects a layer of a param or an input declared with a leading "
                "layer dim; '" +
                    whole.name + "' is computed",
                {Note{whole.span, "'" + whole.name + "' is defined here"}});
    failed_ = true;
    return nullptr;
  }
  if (!same_extent(whole.shape.front(), block.count)) {
    sink_.error(layer_position,
                "the layer index '" + block.index + "' runs over " + describe_extent(block.count) +
                    " layers, but the first dim of '" + whole.name + "' has extent " +
                    describe_extent(whole.shape.front()),
                {Note{whole.span, "'" + whole.name + "' is declared here"}, Note{block.span, "the block"}});
    failed_ = true;
    return nullptr;
  }
  ast::Access rest = access;
  rest.name.name = program_.tensors[static_cast<std::size_t>(layer_tensor(source))].name;
  rest.indices->erase(rest.indices->begin());
  return lower_access(rest, zero_padded, padded_span);
}

}  // namespace einc::ir
