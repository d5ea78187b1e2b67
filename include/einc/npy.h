// einc/npy.h — read and write NumPy .npy files, so tensors can be exchanged
// with NumPy (inputs for compiled kernels, reference outputs for tests).
//
// Reading accepts format versions 1.0, 2.0 and 3.0, any well-formed header
// dict (key order, quote style, spacing and trailing commas as Python allows),
// little- or big-endian data (byte-swapped on load) and fortran_order True
// (transposed on load). The result is always an owned, C-ordered Tensor.
//
//   descr           dtype   descr           dtype
//   <f4 / >f4       f32     <i4 / >i4       i32
//   <f8 / >f8       f64     |i1 / <i1       i8
//   <f2 / >f2       f16     <u2 / >u2       bf16 (see below)
//
// ('=' means native order, little-endian on every host einc supports.)
//
// bfloat16: NumPy has no bfloat16 dtype, so a bf16 tensor is written as
// '<u2' whose elements are the raw bfloat16 bit patterns, and every '<u2'
// file is read back as bf16. In NumPy, `a.view(ml_dtypes.bfloat16)` (or
// `(a.astype(np.uint32) << 16).view(np.float32)`) recovers the values.
//
// Every other descr ('<c8', '|O', '<u4', '<U3', structured dtypes, ...) is
// refused. All failures throw NpyError whose message starts with the path
// (for parse_npy: `name`). The reader never reads out of bounds and checks
// the declared size against the bytes present before allocating.
//
// Writing follows numpy.lib.format exactly (version 1.0 when the header
// fits in 65535 bytes, else 2.0; header padded with spaces and '\n' so the
// data starts at a multiple of 64), so np.load reads einc's files and
// einc's bytes match np.save's for the same array. See docs/npy.md.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "einc/tensor.h"

namespace einc {

class NpyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses a whole .npy file image; `name` (a path) starts every message.
Tensor parse_npy(std::string_view bytes, const std::string& name);

// Reads the file at `path`, then parse_npy.
Tensor read_npy(const std::string& path);

// The .npy image of `tensor` (any strides, including zero and negative
// ones); the data is written in C order.
std::string serialize_npy(const Tensor& tensor);

// Writes atomically: to a temporary file in the same directory, then
// rename(). On any failure removes the temporary and throws NpyError,
// leaving no partial file (an existing file at `path` is left untouched).
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace einc
