// python/src/program.cpp — einc::compile and einc::Program exposed to
// Python (as einc._einc), with the GIL
// released while einc compiles or runs, so that other Python threads go on
// and several threads may run programs at once (a Program is thread-safe).
//
// A Ctrl-C during Program.run (and einsum, einsum.cpp) cancels the run and raises
// KeyboardInterrupt (run_interruptible, interruptible.cpp); a compile is
// not cancellable: a Ctrl-C during one is raised when it returns.
//
// Warnings of a successful compile are returned next to the program (the
// Python layer issues them through the `warnings` module); errors arrive as
// einc.CompileError (errors.cpp).
#include <pybind11/stl.h>

#include <algorithm>

#include "python/src/bindings.h"

namespace einc::python {

namespace {

struct Compiled {
  Program program;
  std::vector<Diagnostic> warnings;
};

// Compiles with the GIL released; collects the diagnostics that are not
// errors (errors travel in the CompileError).
template <typename CompileFn>
py::tuple compile_with_warnings(CompileFn compile_fn, CompileOptions options) {
  std::vector<Diagnostic> warnings;
  options.on_diagnostic = [&warnings](const Diagnostic& d) {
    if (d.severity != Severity::error) warnings.push_back(d);
  };
  std::optional<Program> program;
  {
    py::gil_scoped_release unlocked;
    program.emplace(compile_fn(options));
  }
  py::list rendered;
  for (const Diagnostic& d : warnings) rendered.append(d.rendered);
  return py::make_tuple(*program, rendered);
}

DimBindings dim_bindings(const std::map<std::string, std::int64_t>& dims) {
  return DimBindings(dims.begin(), dims.end());
}

Backend backend_named(const std::string& name) {
  std::optional<Backend> backend = backend_from_name(name);
  if (!backend) throw py::value_error("unknown backend '" + name + "' (cpu, reference, cuda)");
  return *backend;
}

}  // namespace

RunOptions run_options(const std::optional<std::string>& backend, int threads) {
  RunOptions options;
  if (backend) options.backend = backend_named(*backend);
  if (threads < 0 || threads > kMaxThreads)
    throw py::value_error("threads must be between 0 (one per core) and " + std::to_string(kMaxThreads));
  options.threads = threads;
  return options;
}

namespace {

// The inputs as tensor views, each checked against its declared dtype. A
// name the program does not declare is left for Program::run to reject.
TensorMap input_views(const Program& program, const std::map<std::string, py::array>& arrays) {
  const std::vector<Program::TensorInfo>& declared = program.inputs();
  TensorMap views;
  for (const auto& [name, array] : arrays) {
    auto it = std::find_if(declared.begin(), declared.end(),
                           [&name = name](const Program::TensorInfo& info) { return info.name == name; });
    if (it == declared.end()) throw RunError("'" + name + "' is not an input or param of " + program.file());
    views.emplace(name, tensor_view_of(array, it->dtype, name));
  }
  return views;
}

py::dict tensor_info(const Program::TensorInfo& info) {
  py::dict out;
  out["name"] = info.name;
  out["role"] = info.role;
  out["dtype"] = dtype_name(info.dtype);
  out["shape"] = info.shape_known ? py::cast(info.shape) : py::none();
  out["shape_formula"] = info.shape_formula;
  return out;
}

ReportFormat report_format(const std::string& name) {
  if (name == "table") return ReportFormat::table;
  if (name == "json") return ReportFormat::json;
  if (name == "csv") return ReportFormat::csv;
  if (name == "markdown") return ReportFormat::markdown;
  throw py::value_error("unknown report format '" + name + "' (table, json, csv, markdown)");
}

}  // namespace

void bind_program(py::module_& m) {
  py::class_<Program>(m, "Program", "A compiled .ein script (einc::Program); use einc.Program instead.")
      .def_property_readonly("file", &Program::file)
      .def("dims",
           [](const Program& p) {
             py::list out;
             for (const Program::DimInfo& d : p.dims()) {
               out.append(py::make_tuple(d.name, d.bound ? py::cast(d.value) : py::none(), d.kind));
             }
             return out;
           })
      .def("outputs", &Program::outputs)
      .def("inputs",
           [](const Program& p) {
             py::list out;
             for (const Program::TensorInfo& info : p.inputs()) out.append(tensor_info(info));
             return out;
           })
      .def(
          "bind",
          [](const Program& p, const std::map<std::string, std::int64_t>& dims) {
            py::gil_scoped_release unlocked;
            return p.bind(dim_bindings(dims));
          },
          py::arg("dims"))
      .def(
          "report_text",
          [](const Program& p, const std::string& format, std::int64_t repeat) {
            ReportFormat f = report_format(format);
            py::gil_scoped_release unlocked;
            return format_report(p.report({.repeat = repeat}), f);
          },
          py::arg("format"), py::arg("repeat") = 1)
      .def("dump_ir", &Program::dump_ir)
      .def(
          "emit",
          [](const Program& p, const std::string& stage, const std::string& arch) {
            std::optional<EmitStage> s = emit_stage_from_name(stage);
            if (!s)
              throw py::value_error("unknown emit stage '" + stage + "' (ast, ir, plan, llvm-ir, asm, cuda, ptx)");
            py::gil_scoped_release unlocked;
            return p.emit(*s, arch);
          },
          py::arg("stage"), py::arg("arch") = "")
      .def(
          "run",
          [](const Program& p, const std::map<std::string, py::array>& arrays,
             const std::optional<std::string>& backend, int threads) {
            RunOptions options = run_options(backend, threads);
            TensorMap inputs = input_views(p, arrays);
            TensorMap outputs;
            // The arrays stay referenced by `arrays` (and the caller) while
            // einc reads their memory without the GIL.
            run_interruptible([&](const std::atomic<bool>* cancel) {
              options.cancel = cancel;
              outputs = p.run(inputs, options);
            });
            py::dict out;
            for (const auto& [name, tensor] : outputs) out[py::str(name)] = array_of(tensor);
            return out;
          },
          py::arg("arrays"), py::arg("backend") = py::none(), py::arg("threads") = 0);

  m.def(
      "compile",
      [](const std::string& source, const std::string& filename, const std::map<std::string, std::int64_t>& dims) {
        CompileOptions options;
        options.filename = filename;
        options.dims = dim_bindings(dims);
        return compile_with_warnings([&source](const CompileOptions& o) { return compile(source, o); }, options);
      },
      py::arg("source"), py::arg("filename"), py::arg("dims"));
  m.def(
      "compile_file",
      [](const std::string& path, const std::map<std::string, std::int64_t>& dims) {
        CompileOptions options;
        options.filename = path;
        options.dims = dim_bindings(dims);
        return compile_with_warnings([&path](const CompileOptions& o) { return compile_file(path, o); }, options);
      },
      py::arg("path"), py::arg("dims"));
  m.def("available_backends", [] {
    std::vector<std::string> names;
    for (Backend b : available_backends()) names.emplace_back(backend_name(b));
    return names;
  });
  m.def("default_backend", [] { return std::string(backend_name(default_backend())); });
  m.def("version", &version);
}

}  // namespace einc::python
