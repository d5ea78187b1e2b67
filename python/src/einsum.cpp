// python/src/einsum.cpp — einc.einsum's native call: einc::einsum (whose
// programs einc keeps per subscripts, dtypes and shapes) on numpy arrays
// taken as they are.
//
// The Python layer (einc/_einsum.py) does numpy's conversions first only
// when they are needed (lists, scalars, mixed dtypes, subclasses, views
// einc cannot read): an einsum of plain arrays of one dtype comes here
// directly, so that a small einsum costs about one run of its program.
#include <pybind11/stl.h>

#include <optional>

#include "python/src/bindings.h"

namespace einc::python {

namespace {

// The einc dtype einsum computes in for an array of this numpy dtype, if
// it is one einsum takes (bf16 is not: a uint16 array is a uint16 array).
std::optional<DType> einsum_dtype(const py::dtype& numpy) {
  for (DType dtype : {DType::f32, DType::f64, DType::f16, DType::i32, DType::i8})
    if (numpy_dtype_holds(numpy, dtype)) return dtype;
  return std::nullopt;
}

// The operands as einc views when each is a numpy.ndarray itself (not a
// subclass), all of one dtype einsum takes, in native byte order and
// aligned; nullopt otherwise (the Python layer converts them first).
std::optional<std::vector<Tensor>> operands_as_given(const py::sequence& operands, DType& dtype) {
  if (operands.empty()) return std::nullopt;
  PyTypeObject* ndarray = reinterpret_cast<PyTypeObject*>(py::detail::npy_api::get().PyArray_Type_);
  std::vector<Tensor> views;
  std::optional<DType> common;
  py::dtype first;
  for (const py::handle operand : operands) {
    if (Py_TYPE(operand.ptr()) != ndarray) return std::nullopt;
    const auto array = py::reinterpret_borrow<py::array>(operand);
    if (!common) {
      first = array.dtype();
      common = einsum_dtype(first);
      if (!common) return std::nullopt;
    } else if (!array.dtype().is(first) && !array.dtype().equal(first)) {
      return std::nullopt;
    }
    if (!(array.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_)) return std::nullopt;
    if (!native_byte_order(array.dtype())) return std::nullopt;
    views.push_back(tensor_view_of(array, *common, "operand" + std::to_string(views.size())));
  }
  dtype = *common;
  return views;
}

}  // namespace

void bind_einsum(py::module_& m) {
  m.def(
      "einsum",
      [](const std::string& subscripts, const py::sequence& operands, const std::optional<std::string>& backend,
         int threads) -> py::object {
        DType dtype = DType::f32;
        std::optional<std::vector<Tensor>> views = operands_as_given(operands, dtype);
        if (!views) return py::none();
        RunOptions options = run_options(backend, threads);
        Tensor result;
        run_interruptible([&](const std::atomic<bool>* cancel) {
          options.cancel = cancel;
          result = einsum(subscripts, *views, options);
        });
        py::array out = array_of(result);
        // int8 products and sums are i32 in einc; numpy's int8 einsum wraps
        // to int8, which the cast does exactly (both are modular).
        if (dtype == DType::i8) return out.attr("astype")(py::dtype::of<std::int8_t>());
        return out;
      },
      py::arg("subscripts"), py::arg("operands"), py::arg("backend") = py::none(), py::arg("threads") = 0,
      "einc::einsum on a sequence of numpy arrays of one dtype, read in place; None when an operand is not a "
      "plain aligned native-order ndarray of that dtype (convert them first). Runs as Program.run does.");
  m.def(
      "compile_einsum",
      [](const std::string& subscripts,
         const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& operands) {
        std::vector<EinsumOperand> described;
        for (const auto& [dtype, shape] : operands) described.push_back({dtype_from_name(dtype), shape});
        py::gil_scoped_release unlocked;
        return compile_einsum(subscripts, described);
      },
      py::arg("subscripts"), py::arg("operands"));
}

}  // namespace einc::python
