// backends/cuda/source_util.h — helpers shared by the CUDA source
// generators: stable hashes, C literals, dtype spellings, the device prelude
// every generated kernel starts with, and the strides of device tensors.
//
// Generated sources are plain text with every extent and stride written as a
// literal, so a kernel's text is its identity: the kernel name carries a
// hash of the text (see finish_kernel_source), and the kernel cache keys on
// the text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/program.h"
#include "runtime/stable_hash.h"

namespace einc::cuda {

// Stable hashes (runtime/stable_hash.h).
using runtime::fnv1a64;
using runtime::hash128_hex;
using runtime::hex64;

// `123LL`, `-4LL`.
std::string ll(std::int64_t value);
// An exact float literal (`0x1.8p+1f /* 3 */`) and an exact double literal.
std::string float_literal(float value);
std::string double_literal(double value);

// Strides (elements) of every tensor of a program, indexed by tensor id.
using TensorStrides = std::vector<std::vector<std::int64_t>>;
// C-order strides from each tensor's shape under the bound dims: the layout
// the CUDA backend gives every device tensor. Throws ir::UnboundDimError.
using ir::contiguous_strides;

// C type of one stored element: float, double, __half, __nv_bfloat16,
// signed char, int.
const char* storage_ctype(ir::DType dtype);
bool needs_fp16_header(ir::DType dtype);

// The helpers every kernel may call (math in float and double, wrapping
// int64 arithmetic, conversions, block reductions, cp.async). `fp16`
// includes cuda_fp16.h / cuda_bf16.h (needs -I<cuda>/include).
std::string device_prelude(bool fp16);

// Replaces the placeholder `EINC_KERNEL_NAME` in `source` with
// prefix + "_" + 12 hex digits of the hash of the text, and returns the name.
std::string finish_kernel_source(std::string& source, const std::string& prefix);

inline constexpr const char* kKernelNamePlaceholder = "EINC_KERNEL_NAME";

// A small code writer: lines with indentation, fresh variable names.
class CodeWriter {
 public:
  explicit CodeWriter(int indent = 1) : indent_(indent) {}
  void line(const std::string& text);
  void open(const std::string& text);        // `text {` and indent
  void close(const std::string& tail = "");  // dedent and `}` + tail
  std::string fresh(const std::string& prefix);
  const std::string& text() const { return text_; }
  int indent() const { return indent_; }

 private:
  std::string text_;
  int indent_;
  int counter_ = 0;
};

}  // namespace einc::cuda
