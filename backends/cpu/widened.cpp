// backends/cpu/widened.cpp — see widened.h.
#include "backends/cpu/widened.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <set>

#include "runtime/half_convert.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {

// Contiguous tensors are converted in chunks of this many elements, in
// parallel; strided views element by element.
constexpr std::int64_t kChunk = 1 << 16;

void for_chunks(std::int64_t n, int threads, const std::function<void(std::int64_t, std::int64_t)>& body) {
  runtime::parallel_for((n + kChunk - 1) / kChunk, threads,
                        [&](std::int64_t c) { body(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

// A contiguous f32 copy of `source` (f16, bf16 or f32): exact.
Tensor widen(const Tensor& source, int threads) {
  Tensor wide = Tensor::empty(DType::f32, source.shape());
  float* out = wide.data_as<float>();
  const std::int64_t n = source.numel();
  if (!source.is_contiguous() || source.dtype() == DType::f32) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(source.get_flat(i));
    return wide;
  }
  const auto* in = source.data_as<const std::uint16_t>();
  const bool bf16 = source.dtype() == DType::bf16;
  for_chunks(n, threads, [&](std::int64_t begin, std::int64_t end) {
    if (bf16)  // (vectorises as it is)
      for (std::int64_t i = begin; i < end; ++i) out[i] = bf16_to_float(in[i]);
    else
      runtime::halves_to_floats(in + begin, out + begin, end - begin);
  });
  return wide;
}

// Rounds `wide` (f32, the target's shape) once into `target`
// (f16 or bf16, any strides), to nearest even.
void narrow_into(const Tensor& wide, const Tensor& target, int threads) {
  const std::int64_t n = target.numel();
  if (!target.is_contiguous() || !wide.is_contiguous()) {
    for (std::int64_t i = 0; i < n; ++i) target.set_flat(i, static_cast<float>(wide.get_flat(i)));
    return;
  }
  const float* in = wide.data_as<const float>();
  auto* out = target.data_as<std::uint16_t>();
  const bool bf16 = target.dtype() == DType::bf16;
  for_chunks(n, threads, [&](std::int64_t begin, std::int64_t end) {
    if (bf16)
      for (std::int64_t i = begin; i < end; ++i) out[i] = float_to_bf16(in[i]);
    else
      runtime::floats_to_halves(in + begin, out + begin, end - begin);
  });
}

}  // namespace

bool runs_widened(DType dtype) { return dtype == DType::f16 || dtype == DType::bf16; }

ir::Program widened_program(const ir::Program& program, const ir::Statement& statement) {
  ir::Program wide = program;
  for (int t : ir::tensors_read(*statement.value)) wide.tensors[static_cast<std::size_t>(t)].dtype = DType::f32;
  wide.tensors[static_cast<std::size_t>(statement.target)].dtype = DType::f32;
  return wide;
}

void run_widened(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors,
                 const StatementRunner& run, int threads, int keep) {
  const ir::Program wide_program = widened_program(program, statement);
  ir::Statement wide_statement = statement;
  wide_statement.dtype = DType::f32;
  std::vector<Tensor> wide = tensors;  // shares the buffers of every tensor it does not replace
  const std::set<int> read = ir::tensors_read(*statement.value);
  for (int t : read)  // (an undefined one is left for the f32 statement to report)
    if (t != keep && tensors[static_cast<std::size_t>(t)].defined())
      wide[static_cast<std::size_t>(t)] = widen(tensors[static_cast<std::size_t>(t)], threads);
  Tensor& target = tensors[static_cast<std::size_t>(statement.target)];
  Tensor& wide_target = wide[static_cast<std::size_t>(statement.target)];
  const bool target_read = read.count(statement.target) > 0;
  if (!target.defined())
    wide_target = Tensor();  // a fresh `+=` target: the f32 statement allocates it, as it would its own
  else if (statement.accumulate && !target_read)
    wide_target = widen(target, threads);
  else if (!target_read)
    wide_target = Tensor::empty(DType::f32, target.shape());  // `=` overwrites every element
  run(wide_program, wide_statement, wide);
  if (!target.defined()) target = Tensor::empty(statement.dtype, wide_target.shape());
  narrow_into(wide_target, target, threads);
}

}  // namespace einc::cpu
