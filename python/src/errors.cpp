// python/src/errors.cpp — einc's C++ exceptions as Python exceptions.
//
// einc::CompileError becomes einc.CompileError (a ValueError, with the
// diagnostics as einc.Diagnostic tuples and the rendered caret text as its
// message), einc::RunError becomes einc.RunError (a RuntimeError) and
// einc::InternalError einc.InternalError: the classes are defined in
// python/einc/_errors.py so that they carry Python attributes and docstrings.
// Anything else keeps pybind11's standard translation (std::bad_alloc:
// MemoryError, std::invalid_argument: ValueError, ...).
#include "python/src/bindings.h"

namespace einc::python {

namespace {

py::object error_class(const char* name) { return py::module_::import("einc._errors").attr(name); }

py::list diagnostics_list(const std::vector<Diagnostic>& diagnostics) {
  py::object make = error_class("Diagnostic");
  py::list out;
  for (const Diagnostic& d : diagnostics) {
    out.append(make(severity_name(d.severity), d.file, d.line, d.column, d.message, d.rendered));
  }
  return out;
}

void raise(const py::object& exception) {
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
}

}  // namespace

void register_errors(py::module_&) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CompileError& e) {
      std::string text;
      for (const Diagnostic& d : e.diagnostics()) text += d.rendered;
      if (text.empty()) text = e.what();
      if (!text.empty() && text.back() == '\n') text.pop_back();
      raise(error_class("CompileError")(text, diagnostics_list(e.diagnostics())));
    } catch (const RunError& e) {
      raise(error_class("RunError")(e.what()));
    } catch (const InternalError& e) {
      raise(error_class("InternalError")(std::string("internal error in einc — please report: ") + e.what()));
    }
  });
}

}  // namespace einc::python
