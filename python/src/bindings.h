// python/src/bindings.h — the pieces of the `einc._einc` extension module.
//
// The module is a thin layer over include/einc/einc.h: numpy arrays become
// einc::Tensor views (arrays.cpp), einc's exceptions become the Python
// classes of einc/_errors.py (errors.cpp), Program and compile are exposed
// as they are (program.cpp), and so are einsum and compile_einsum
// (einsum.cpp), einsum on arrays taken as they are. Everything else —
// choosing file or source, numpy's conversions and dtype promotion, the
// report's rendering — lives in the Python package (python/einc/).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "einc/einc.h"

namespace einc::python {

namespace py = pybind11;

// The einc dtype named "f32", "f64", "f16", "bf16", "i8" or "i32"; throws
// py::value_error for another name.
DType dtype_from_name(const std::string& name);

// Whether a numpy dtype holds einc's `dtype` elements (bf16: uint16), and
// whether it is in this machine's byte order: what tensor_view_of checks.
bool numpy_dtype_holds(const py::dtype& numpy, DType dtype);
bool native_byte_order(const py::dtype& numpy);

// A view of the array's memory as a Tensor of `dtype` (zero-copy: any
// strides, negative ones included). Throws py::type_error when the array's
// element type is not the numpy type of `dtype` (bf16: uint16), when it is
// not in native byte order, or when its data or strides are not aligned to
// its element size; the message names it as input `name`.
Tensor tensor_view_of(const py::array& array, DType dtype, const std::string& name);

// A numpy array over the tensor's memory (zero-copy for an owned tensor: the
// array keeps it alive; a view of someone else's memory is copied first).
py::array array_of(const Tensor& tensor);

// The numpy dtype name of an einc dtype ("float32", ..., bf16: "uint16").
const char* numpy_dtype_name(DType dtype);

// Calls work(cancel) with the GIL released (called with it held) and a
// cancel flag to pass as RunOptions::cancel that a Ctrl-C sets when the
// work runs on the main thread (interruptible.cpp says how, and when not):
// the work then stops and KeyboardInterrupt is thrown (as
// py::error_already_set) in place of its outcome. The work's exceptions
// pass through.
void run_interruptible(const std::function<void(const std::atomic<bool>* cancel)>& work);

// A run's options from Python's backend= and threads= (py::value_error for
// an unknown backend or a thread count out of range).
RunOptions run_options(const std::optional<std::string>& backend, int threads);

void register_errors(py::module_& m);
void bind_program(py::module_& m);
void bind_einsum(py::module_& m);

}  // namespace einc::python
