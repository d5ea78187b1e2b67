// backends/cpu/padded_copies.h — statements with `padded(...)` accesses on
// the cpu backend, run on zero-padded copies of what they read.
//
// A zero-padded access (docs/language.md, "Index expressions") is not a
// strided view of its tensor: a kernel would have to test every position.
// Instead the statement runs on a copy of the tensor with zero margins wide
// enough for every position the access reaches, and reads the copy with
// its offsets shifted by the low margins, an ordinary strided view. A
// "same" or strided convolution (`padded(X[c, 2*p + r - 1, ...])`) then
// becomes a view that starts at the copy's first element, which is the
// GETT form: the convolution runs as an implicit GEMM. The copy costs one
// pass over the input, small next to the convolution's work (measured in
// docs/performance.md against masked packing's alternative, none).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::cpu {

struct PaddedCopy {
  int source = -1;                  // the tensor the access reads
  int copy = -1;                    // the copy's tensor id in PaddedStatement::program
  std::vector<std::int64_t> low;    // zeros before each dim
  std::vector<std::int64_t> shape;  // the copy's extents
};

// The statement with every padded access replaced by a plain access of its
// copy, and the program with the copies declared (after its own tensors).
struct PaddedStatement {
  ir::Program program;
  ir::Statement statement;
  std::vector<PaddedCopy> copies;
};

// Whether the statement reads through padded(...).
bool has_padded_access(const ir::Statement& statement);

// The rewritten statement under the bound dims (throws UnboundDimError).
PaddedStatement pad_statement(const ir::Program& program, const ir::Statement& statement);

// Appends to `tensors` (the run's, by tensor id) one zero-padded copy per
// entry of `padded.copies`, in order.
void make_padded_copies(const PaddedStatement& padded, std::vector<Tensor>& tensors, int threads);

}  // namespace einc::cpu
