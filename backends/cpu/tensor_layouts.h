// backends/cpu/tensor_layouts.h — what the cpu backend's plan needs to know
// of the tensors a statement runs on.
//
// Which path a statement takes (statement_plan.h) depends on the tensors'
// dtypes, shapes and strides (a GETT orders its groups by the target's
// strides; a GEMV needs unit strides along K; a loop kernel refuses a
// broadcast target) and on whether each holds data yet (a read before any
// write is left for the interpreter to report). A run plans on its tensors
// as they are; `einc emit` plans on the C-order tensors of the bound shapes,
// which is how a run lays out the tensors it allocates.
#pragma once

#include <cstdint>
#include <vector>

#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::cpu {

class TensorLayouts {
 public:
  // The tensors of a run (kept by reference: they must outlive this).
  explicit TensorLayouts(const std::vector<Tensor>& tensors) : tensors_(&tensors) {}

  // Every tensor of `program` C-contiguous, with the program's dtypes and
  // the shapes of its bound dims. An unbound dim is taken as 2 (what the
  // plan reads from strides is their order; a GEMV, which needs an extent of
  // 1, is then not recognised), and extents_known() says so.
  static TensorLayouts contiguous(const ir::Program& program);

  // These layouts with tensor `keep`'s own strides and dtype and every
  // other tensor a contiguous copy of the wide program's dtype: what a
  // widened statement runs on (widened.h).
  TensorLayouts widened(const ir::Program& wide, int keep) const;

  DType dtype(int tensor) const;
  const std::vector<std::int64_t>& shape(int tensor) const;
  const std::vector<std::int64_t>& strides(int tensor) const;
  bool defined(int tensor) const;  // holds data (always, for a program not running)
  bool extents_known() const { return known_; }

 private:
  TensorLayouts() = default;

  const std::vector<Tensor>* tensors_ = nullptr;  // a run, or else the tables below
  std::vector<DType> dtypes_;
  std::vector<std::vector<std::int64_t>> shapes_, strides_;
  std::vector<bool> defined_;  // empty: every tensor holds data
  bool known_ = true;
};

}  // namespace einc::cpu
