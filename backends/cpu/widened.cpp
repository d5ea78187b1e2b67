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

// A contiguous i32 copy of `source` (i8 or i32): exact.
Tensor widen_integers(const Tensor& source, int threads) {
  Tensor wide = Tensor::empty(DType::i32, source.shape());
  auto* out = wide.data_as<std::int32_t>();
  const std::int64_t n = source.numel();
  if (!source.is_contiguous() || source.dtype() != DType::i8) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<std::int32_t>(source.get_flat(i));
    return wide;
  }
  const auto* in = source.data_as<const std::int8_t>();
  for_chunks(n, threads, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) out[i] = in[i];
  });
  return wide;
}

// A contiguous copy of `source` of dtype `wide` (f32 from f16, bf16 or
// f32; i32 from i8 or i32): exact.
Tensor widen(const Tensor& source, DType wide_dtype, int threads) {
  if (wide_dtype == DType::i32) return widen_integers(source, threads);
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
// (f16 or bf16, any strides), to nearest even; an i32 `wide` is copied
// into its i32 target.
void narrow_into(const Tensor& wide, const Tensor& target, int threads) {
  const std::int64_t n = target.numel();
  if (target.dtype() == wide.dtype()) {
    for (std::int64_t i = 0; i < n; ++i) target.set_flat(i, wide.get_flat(i));
    return;
  }
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

std::optional<DType> widened_dtype(const ir::Program& program, const ir::Statement& statement) {
  if (is_half(statement.dtype)) return DType::f32;
  if (statement.dtype == DType::i32)
    for (int t : ir::tensors_read(*statement.value))
      if (program.tensors[static_cast<std::size_t>(t)].dtype == DType::i8) return DType::i32;
  return std::nullopt;
}

ir::Program widened_program(const ir::Program& program, const ir::Statement& statement) {
  const DType wide_dtype = widened_dtype(program, statement).value();
  ir::Program wide = program;
  for (int t : ir::tensors_read(*statement.value)) wide.tensors[static_cast<std::size_t>(t)].dtype = wide_dtype;
  wide.tensors[static_cast<std::size_t>(statement.target)].dtype = wide_dtype;
  return wide;
}

void run_widened(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors,
                 const StatementRunner& run, int threads, const std::vector<int>& keep) {
  const ir::Program wide_program = widened_program(program, statement);
  ir::Statement wide_statement = statement;
  wide_statement.dtype = wide_program.tensors[static_cast<std::size_t>(statement.target)].dtype;
  const DType wide_dtype = wide_statement.dtype;
  std::vector<Tensor> wide = tensors;  // shares the buffers of every tensor it does not replace
  const std::set<int> read = ir::tensors_read(*statement.value);
  for (int t : read)  // (an undefined one is left for the f32 statement to report)
    if (std::find(keep.begin(), keep.end(), t) == keep.end() && tensors[static_cast<std::size_t>(t)].defined())
      wide[static_cast<std::size_t>(t)] = widen(tensors[static_cast<std::size_t>(t)], wide_dtype, threads);
  Tensor& target = tensors[static_cast<std::size_t>(statement.target)];
  Tensor& wide_target = wide[static_cast<std::size_t>(statement.target)];
  const bool target_read = read.count(statement.target) > 0;
  if (statement.dtype == wide_dtype && (!target.defined() || target.is_contiguous()) && !target_read) {
    run(wide_program, wide_statement, wide);  // the target is of the widened dtype already: written in place
    target = wide_target;
    return;
  }
  if (!target.defined())
    wide_target = Tensor();  // a fresh `+=` target: the wide statement allocates it, as it would its own
  else if (statement.accumulate && !target_read)
    wide_target = widen(target, wide_dtype, threads);
  else if (!target_read)
    wide_target = Tensor::empty(wide_dtype, target.shape());  // `=` overwrites every element
  run(wide_program, wide_statement, wide);
  if (!target.defined()) target = Tensor::empty(statement.dtype, wide_target.shape());
  narrow_into(wide_target, target, threads);
}

}  // namespace einc::cpu
