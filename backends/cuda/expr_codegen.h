// backends/cuda/expr_codegen.h — IR expressions as CUDA C++ statements, for
// the elementwise and row kernels.
//
// Every index variable of the statement is a `long long x<id>` in the
// generated code; an expression is emitted as a sequence of `const T v<n> =
// ...;` lines evaluated at the current values of the index variables it has
// free. T, the compute type, follows docs/semantics.md as far as a GPU
// reasonably can: float for f32/f16/bf16 statements, double for f64, and
// wrapping int64 (`long long`) for i8/i32 statements (functions of integers
// in double, truncated). A conversion's argument (`f32(sum(d: xq * wq))`)
// computes in the compute type of its own dtype, as a statement of that
// dtype would, and is then converted as reference/conversion.h says. Row statistics (softmax, layernorm, rmsnorm,
// logsumexp) are in float for float statements and double otherwise. A
// subexpression of numbers and dims (ir::Expr::folds, `sqrt(E)`) is computed
// on the host by reference::fold_real / fold_integer and embedded as a
// literal, like a number.
//
// A binder (reduce or normalize node) is computed either inline, by serial
// loops over its indices (the elementwise kernel), or from statistics that a
// row kernel reduced across a block beforehand (set_stats).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/kernel_source.h"
#include "backends/cuda/source_util.h"
#include "ir/program.h"

namespace einc::cuda {

// One pass of a binder's statistics: acc = combine(acc, element(x)) over
// the binder's indices, starting from identity.
struct StatPass {
  std::string type;      // accumulator C type
  std::string identity;  // expression of that type
  std::string combine;   // functor type of the prelude: EincAdd, EincMaxNaN, ...
  // element(x, earlier) — x: the binder's argument (a variable of the
  // compute type); earlier: variables holding the results of earlier passes.
  std::function<std::string(const std::string&, const std::vector<std::string>&)> element;
};

class ExprEmitter {
 public:
  // Registers the output parameter first. Throws reference::ExecutionError
  // for a reduction that needs elements over an empty index (like the
  // reference), and std::runtime_error for a statement it cannot compile.
  ExprEmitter(const ir::Program& program, const ir::Statement& statement, const TensorStrides& strides);

  const std::string& t() const { return t_; }  // compute type (where the emitter is: see with_dtype)
  const std::string& s() const { return s_; }  // statistics type
  bool integer() const { return integer_; }
  bool uses_fp16() const { return fp16_; }
  std::int64_t extent(int index) const { return extents_.at(static_cast<std::size_t>(index)); }
  std::int64_t count(const std::vector<int>& indices) const;  // product of extents
  static std::string var(int index) { return "x" + std::to_string(index); }
  std::string index_name(int index) const;

  std::vector<KernelParam>& params() { return params_; }
  // `const float* __restrict__ t3, ...` for the kernel signature.
  std::string parameter_list() const;

  // Appends code that computes `e` at the current index values; returns an
  // expression (a variable or a literal) of the compute type.
  std::string value(const ir::Expr& e, CodeWriter& w);
  // Appends the store of `v` into the target at the current lhs values
  // (adding the old value for `+=`).
  void store(const std::string& v, CodeWriter& w);

  // The dtype a binder computes in: the statement's, or inside a
  // conversion its argument's. A row kernel computes the binder's
  // statistics with_dtype that one.
  ir::DType binder_dtype(const ir::Expr& binder) const { return binder_dtypes_.at(&binder); }
  // Runs `body` with the compute type of `dtype` (t(), s(), integer()),
  // then restores the emitter's.
  template <class F>
  decltype(auto) with_dtype(ir::DType dtype, F&& body) {
    struct Restore {
      ExprEmitter& e;
      std::string t, s;
      bool integer;
      ~Restore() { e.t_ = t, e.s_ = s, e.integer_ = integer; }
    } restore{*this, t_, s_, integer_};
    set_compute_type(dtype);
    return body();
  }

  // Row kernels: the statistics of `binder` are in `vars` (one per pass).
  void set_stats(const ir::Expr* binder, std::vector<std::string> vars) { stats_[binder] = std::move(vars); }
  std::vector<StatPass> passes(const ir::Expr& binder) const;
  // The binder's value from its statistics; `x` is its argument at the
  // current point (normalize only).
  std::string finish(const ir::Expr& binder, const std::vector<std::string>& stats, const std::string& x) const;

  // `for (long long x3 = 0; x3 < 16LL; ++x3)` headers for each index.
  void open_loops(const std::vector<int>& indices, CodeWriter& w) const;
  void close_loops(const std::vector<int>& indices, CodeWriter& w) const;
  // Declares the index variables of `indices` (C order, the last fastest)
  // from the linear position `linear`.
  void decode(const std::vector<int>& indices, const std::string& linear, CodeWriter& w) const;

 private:
  std::string input(int tensor);
  std::string status();
  std::string load(const ir::Expr& access, const std::string& pointer, const std::vector<std::string>& ids) const;
  std::string offset(int tensor, const std::vector<ir::Subscript>& subscripts,
                     const std::vector<std::string>& ids) const;
  std::vector<std::string> lookup_ids(const ir::Expr& access, CodeWriter& w);
  std::string linear(const std::vector<std::pair<int, std::int64_t>>& terms, std::int64_t constant) const;
  std::function<std::int64_t(const ir::Poly&)> evaluate() const;
  std::string to_compute(const std::string& raw, ir::DType dtype) const;
  std::string literal(double value) const;
  std::optional<std::string> folded(const ir::Expr& e) const;
  std::string binder(const ir::Expr& e, CodeWriter& w);
  std::string conversion(const ir::Expr& e, CodeWriter& w);
  void set_compute_type(ir::DType dtype);

  const ir::Program& program_;
  const ir::Statement& statement_;
  const TensorStrides& strides_;
  std::vector<std::int64_t> extents_;
  std::string t_, s_;
  bool integer_ = false;
  bool fp16_ = false;
  std::vector<KernelParam> params_;
  std::map<int, std::string> inputs_;  // tensor id -> parameter name
  std::map<const ir::Expr*, std::vector<std::string>> stats_;
  std::map<const ir::Expr*, ir::DType> binder_dtypes_;
};

// Throws the error a kernel's status word reports (bit 0: an integer
// division by zero; bit 1: a lookup id outside its tensor) for the
// statement at `line`; nothing when the bits are clear.
void throw_on_kernel_status(unsigned int bits, int line);

// The prelude helper computing a function (einc_exp, einc_gelu, ...).
const char* function_helper(ir::Func f);

// Binders (reduce/normalize nodes) of an expression, outermost first; sets
// *nested when one binder occurs inside another's argument.
std::vector<const ir::Expr*> find_binders(const ir::Expr& e, bool* nested);

}  // namespace einc::cuda
