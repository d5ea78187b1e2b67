// python/src/module.cpp — the `einc._einc` extension module: the native half
// of the einc Python package (python/einc/__init__.py imports it).
#include "python/src/bindings.h"

PYBIND11_MODULE(_einc, m) {
  m.doc() = "einc's C++ embedding API (include/einc/einc.h); the public interface is the einc package.";
  einc::python::register_errors(m);
  einc::python::bind_program(m);
  einc::python::bind_einsum(m);
}
