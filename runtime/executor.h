// runtime/executor.h — runs a program statement by statement through a
// backend, keeping intermediates only as long as they are needed.
#pragma once

#include <atomic>
#include <vector>

#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::runtime {

// What a backend implements: compute one statement into its (allocated)
// target. Implementations must not keep state between calls that another
// thread's run could observe: one compiled program may run concurrently.
class StatementBackend {
 public:
  virtual ~StatementBackend() = default;
  virtual const char* name() const = 0;
  virtual void execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) = 0;
};

// `tensors` is indexed by tensor id and holds every input and param (with
// the declared shapes; the caller checks them), and may hold caller buffers
// for outputs (same shape and dtype, any strides), which are written in
// place. Every other target is allocated, unfilled, when its defining
// statement runs (a `=` statement writes every element of its target, and
// every backend must) and intermediates are released after the last
// statement that uses them; outputs are kept. Returns the tensors,
// with only inputs, params and outputs still defined.
//
// `cancel` (may be null) is this thread's current cancel flag for the run
// (runtime/cancel.h): checked before each statement and, by the backends,
// inside long ones; once it is set the run throws runtime::Cancelled.
std::vector<Tensor> execute_program(const ir::Program& program, std::vector<Tensor> tensors, StatementBackend& backend,
                                    const std::atomic<bool>* cancel = nullptr);

// A deterministic tensor of the given shape: floats uniform in [-1, 1),
// i8 in [-8, 8], i32 in [-100, 100]; the same seed gives the same values on
// every machine (splitmix64, not <random>).
Tensor random_tensor(DType dtype, const std::vector<std::int64_t>& shape, std::uint64_t seed);

// random_tensor for an input or param of `program` under its bound dims,
// except that the ids a lookup reads (ir::lookup_ranges) are drawn inside
// the extent they index, so random data never fails a lookup.
Tensor random_input(const ir::Program& program, int tensor, std::uint64_t seed);

}  // namespace einc::runtime
