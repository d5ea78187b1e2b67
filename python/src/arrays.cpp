// python/src/arrays.cpp — numpy arrays <-> einc::Tensor, zero-copy both ways.
//
// numpy strides are in bytes, einc's in elements: an array whose strides are
// not multiples of its element size is refused here (the Python layer copies
// such arrays first, python/einc/_arrays.py), so a view never reads a
// misaligned element.
#include <bit>
#include <cstdint>

#include "python/src/bindings.h"

namespace einc::python {

namespace {

struct NumpyType {
  char kind;  // numpy's dtype.kind: 'f' float, 'i' signed, 'u' unsigned
  int itemsize;
};

NumpyType numpy_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return {'f', 4};
    case DType::f64:
      return {'f', 8};
    case DType::f16:
      return {'f', 2};
    case DType::bf16:
      return {'u', 2};  // the bfloat16 bit patterns (numpy has no bfloat16)
    case DType::i8:
      return {'i', 1};
    case DType::i32:
      return {'i', 4};
  }
  throw py::value_error("unknown einc dtype");
}

// numpy's type number of an einc dtype (a dtype made from it is the
// builtin one, without parsing a name).
int numpy_type_number(DType dtype) {
  using Api = py::detail::npy_api;
  switch (dtype) {
    case DType::f32:
      return Api::NPY_FLOAT_;
    case DType::f64:
      return Api::NPY_DOUBLE_;
    case DType::f16:
      return 23;  // NPY_HALF (pybind11 2.10 names no constant for it)
    case DType::bf16:
      return Api::NPY_UINT16_;
    case DType::i8:
      return Api::NPY_INT8_;
    case DType::i32:
      return Api::NPY_INT32_;
  }
  throw py::value_error("unknown einc dtype");
}

}  // namespace

bool numpy_dtype_holds(const py::dtype& numpy, DType dtype) {
  const NumpyType want = numpy_type(dtype);
  return numpy.kind() == want.kind && numpy.itemsize() == want.itemsize;
}

bool native_byte_order(const py::dtype& numpy) {
  // numpy's byte order: '=' native, '|' not applicable (one byte), or the
  // explicit '<' / '>' (native when it is this machine's).
  const char order = numpy.byteorder();
  return order == '=' || order == '|' || order == (std::endian::native == std::endian::little ? '<' : '>');
}

const char* numpy_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "float32";
    case DType::f64:
      return "float64";
    case DType::f16:
      return "float16";
    case DType::bf16:
      return "uint16";
    case DType::i8:
      return "int8";
    case DType::i32:
      return "int32";
  }
  throw py::value_error("unknown einc dtype");
}

DType dtype_from_name(const std::string& name) {
  for (DType d : {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i8, DType::i32})
    if (name == dtype_name(d)) return d;
  throw py::value_error("unknown einc dtype '" + name + "' (f32, f64, f16, bf16, i8, i32)");
}

Tensor tensor_view_of(const py::array& array, DType dtype, const std::string& name) {
  py::dtype have = array.dtype();
  if (!numpy_dtype_holds(have, dtype)) {
    throw py::type_error("input '" + name + "' is declared " + dtype_name(dtype) + " but the array's dtype is " +
                         py::str(have).cast<std::string>() + "; pass an array of dtype " + numpy_dtype_name(dtype) +
                         (dtype == DType::bf16 ? " holding the bfloat16 bit patterns" : "") + " (x.astype(numpy." +
                         numpy_dtype_name(dtype) + "))");
  }
  if (!native_byte_order(have)) throw py::type_error("input '" + name + "': the array is not in native byte order");
  const auto itemsize = static_cast<std::int64_t>(have.itemsize());
  if (reinterpret_cast<std::uintptr_t>(array.data()) % static_cast<std::uintptr_t>(itemsize) != 0)
    throw py::type_error("input '" + name + "': the array's data is not aligned to its element size");
  std::vector<std::int64_t> shape, strides;
  const py::ssize_t rank = array.ndim();
  shape.reserve(static_cast<std::size_t>(rank));
  strides.reserve(static_cast<std::size_t>(rank));
  for (py::ssize_t d = 0; d < rank; ++d) {
    const auto stride = static_cast<std::int64_t>(array.strides(d));
    if (stride % itemsize != 0)
      throw py::type_error("input '" + name + "': the array's strides are not multiples of its element size");
    shape.push_back(static_cast<std::int64_t>(array.shape(d)));
    strides.push_back(stride / itemsize);
  }
  // einc only reads inputs; the const_cast lets read-only arrays through.
  return Tensor::view(dtype, const_cast<void*>(array.data()), std::move(shape), std::move(strides));
}

py::array array_of(const Tensor& tensor) {
  Tensor owned = tensor.owns_memory() ? tensor : tensor.clone();
  const auto itemsize = static_cast<py::ssize_t>(dtype_size(owned.dtype()));
  std::vector<py::ssize_t> shape, strides;
  for (std::size_t d = 0; d < owned.rank(); ++d) {
    shape.push_back(static_cast<py::ssize_t>(owned.shape()[d]));
    strides.push_back(static_cast<py::ssize_t>(owned.strides()[d]) * itemsize);
  }
  py::dtype dtype(numpy_type_number(owned.dtype()));
  if (owned.data() == nullptr)
    return py::array(dtype, std::move(shape), std::move(strides));  // zero-size: numpy allocates
  auto* keep = new Tensor(owned);
  py::capsule base(keep, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(dtype, std::move(shape), std::move(strides), owned.data(), base);
}

}  // namespace einc::python
