// runtime/executor.cpp — see executor.h.
#include "runtime/executor.h"

#include "ir/tensor_uses.h"
#include "runtime/cancel.h"

namespace einc::runtime {

namespace {

// Layer `l` of `whole` along its first dim: a view (the whole tensor stays
// in the list, so the memory outlives it).
Tensor layer_slice(const Tensor& whole, std::int64_t l) {
  std::vector<std::int64_t> shape(whole.shape().begin() + 1, whole.shape().end());
  std::vector<std::int64_t> strides(whole.strides().begin() + 1, whole.strides().end());
  auto* base = static_cast<char*>(whole.data());
  const std::int64_t offset = l * whole.strides().front() * static_cast<std::int64_t>(dtype_size(whole.dtype()));
  return Tensor::view(whole.dtype(), base ? base + offset : nullptr, std::move(shape), std::move(strides));
}

}  // namespace

std::vector<Tensor> execute_program(const ir::Program& program, std::vector<Tensor> tensors, StatementBackend& backend,
                                    const std::atomic<bool>* cancel) {
  const CancelScope cancel_scope(cancel);
  tensors.resize(program.tensors.size());
  const auto& statements = program.statements;
  const std::vector<std::vector<int>> releasable = ir::releasable_after(program);
  auto run = [&](std::size_t s) {
    poll_cancel();
    const ir::Statement& statement = statements[s];
    const ir::Tensor& target = program.tensors[statement.target];
    // `=` overwrites every element of its target (an index may not repeat on
    // the left), so a fresh target needs no zeroing; a target already present
    // is the caller's output buffer (or a repeat block's earlier iteration).
    if (!statement.accumulate && !tensors[statement.target].defined())
      tensors[statement.target] = Tensor::empty(target.dtype, ir::evaluated_shape(program, statement.target));
    backend.execute(program, statement, tensors);
  };
  auto release = [&](std::size_t s) {
    for (int t : releasable[s]) tensors[static_cast<std::size_t>(t)] = Tensor();
  };
  for (std::size_t s = 0; s < statements.size(); ++s) {
    if (statements[s].block < 0) {
      run(s);
      release(s);
      continue;
    }
    // A repeat block: its statements `count` times, the layer tensors bound
    // to their slices; what they read is released only after the last
    // iteration (the next one reads it again).
    const ir::RepeatBlock& block = program.blocks.at(static_cast<std::size_t>(statements[s].block));
    std::vector<std::size_t> layers;  // the block's layer tensors
    for (std::size_t t = 0; t < program.tensors.size(); ++t)
      if (program.tensors[t].block == statements[s].block) layers.push_back(t);
    const std::int64_t count = program.evaluate(block.count);
    for (std::int64_t l = 0; l < count; ++l) {
      for (std::size_t t : layers)
        tensors[t] = layer_slice(tensors.at(static_cast<std::size_t>(program.tensors[t].layer_of)), l);
      for (auto b = static_cast<std::size_t>(block.first); b < static_cast<std::size_t>(block.end); ++b) run(b);
    }
    for (std::size_t t : layers) tensors[t] = Tensor();
    for (auto b = static_cast<std::size_t>(block.first); b < static_cast<std::size_t>(block.end); ++b) release(b);
    s = static_cast<std::size_t>(block.end) - 1;
  }
  return tensors;
}

Tensor random_input(const ir::Program& program, int tensor, std::uint64_t seed) {
  Tensor t = random_tensor(program.tensors.at(static_cast<std::size_t>(tensor)).dtype,
                           ir::evaluated_shape(program, tensor), seed);
  if (std::optional<std::int64_t> range = ir::lookup_ranges(program).at(static_cast<std::size_t>(tensor)))
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      const auto v = static_cast<std::int64_t>(t.get_flat(i));
      t.set_flat(i, static_cast<double>(*range > 0 ? ((v % *range) + *range) % *range : 0));
    }
  return t;
}

Tensor random_tensor(DType dtype, const std::vector<std::int64_t>& shape, std::uint64_t seed) {
  Tensor t = Tensor::zeros(dtype, shape);
  std::uint64_t state = seed;
  auto next = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    std::uint64_t bits = next();
    double value;
    if (dtype == DType::i8)
      value = static_cast<double>(static_cast<std::int64_t>(bits % 17) - 8);
    else if (dtype == DType::i32)
      value = static_cast<double>(static_cast<std::int64_t>(bits % 201) - 100);
    else
      value = static_cast<double>(bits >> 11) * 0x1.0p-52 - 1.0;
    t.set_flat(i, value);
  }
  return t;
}

}  // namespace einc::runtime
