// einc/einc.h — the embedding API: compile a .ein script, bind dims, and read
// its cost report as plain C++ data.
//
// The library never prints: every diagnostic goes to the handler given in
// CompileOptions (and is also carried by the CompileError that follows).
// A Program is an immutable, cheaply copyable handle; binding dims returns a
// new Program and leaves the original untouched, so one compiled script can
// be reported and run for many shapes.
//
//   einc::Program p = einc::compile_file("attention.ein", {.dims = {{"T", 128}}});
//   einc::Report r = p.report();
//   std::cout << einc::format_report(r, einc::ReportFormat::json);
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "einc/internal_error.h"
#include "einc/report.h"
#include "einc/severity.h"
#include "einc/tensor.h"

namespace einc {

struct Diagnostic {
  Severity severity = Severity::error;
  std::string file;
  int line = 0;    // 0 when the diagnostic has no position (e.g. a bad --dim)
  int column = 0;  // 1-based byte offset
  std::string message;
  std::string rendered;  // clang-style, with the source line and a caret; ends in '\n'
};

using DiagnosticHandler = std::function<void(const Diagnostic&)>;
using DimBindings = std::vector<std::pair<std::string, std::int64_t>>;

struct CompileOptions {
  std::string filename = "<input>";  // used in diagnostics and reports
  DimBindings dims;                  // override a given dim or bind a symbolic one
  DiagnosticHandler on_diagnostic;   // may be empty
};

// Thrown after the diagnostics of a failed step have been delivered.
class CompileError : public std::runtime_error {
 public:
  explicit CompileError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// A problem with data or execution (a missing input, a wrong shape, a
// backend that is not available): the script itself is fine. A bug inside
// einc is an InternalError (einc/internal_error.h) instead.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A run stopped because its RunOptions::cancel became true ("run
// cancelled"). A RunError, so code that handles run errors handles it too;
// catch it first to tell a cancellation apart.
class RunCancelled : public RunError {
 public:
  RunCancelled() : RunError("run cancelled") {}
};

using TensorMap = std::map<std::string, Tensor>;

enum class Backend {
  cpu,        // LLVM ORC JIT kernels (builds with LLVM)
  reference,  // the interpreter every backend is checked against (always built)
  cuda,       // NVRTC-compiled kernels (builds with the CUDA toolkit; needs a GPU to run)
};

const char* backend_name(Backend backend);  // "cpu", "reference", "cuda"
std::optional<Backend> backend_from_name(std::string_view name);
// The fast backend of this build: cpu, or reference where the build has no JIT.
Backend default_backend();
// The backends this build can run here (cuda only with a driver and a device).
std::vector<Backend> available_backends();
// The most worker threads a run may ask for.
inline constexpr int kMaxThreads = 1024;

struct RunOptions {
  Backend backend = default_backend();
  // Worker threads for backends that parallelise (cpu): 0 = one per core;
  // at most kMaxThreads.
  int threads = 0;
  // Cancellation (docs/embedding.md): once *cancel is true (set from any
  // thread, or a signal handler: the store is lock-free), the run stops at
  // its next check and throws RunCancelled: before each statement, between
  // the tasks of each parallel loop (a GETT's blocks, a loop kernel's
  // chunks), every few ten thousand points of the reference interpreter; a
  // kernel running (or being JIT-compiled) is finished first. Nothing is
  // returned; the buffers given to run_into may hold partial results. Null:
  // never cancelled. The flag must outlive the run; einc only reads it.
  const std::atomic<bool>* cancel = nullptr;
};

// What `Program::emit` prints, in pipeline order.
enum class EmitStage {
  ast,       // the syntax tree as parsed
  ir,        // the IR after sema and the Einstein rule (sums explicit)
  plan,      // the path each statement takes on the cpu backend
  llvm_ir,   // the cpu backend's kernels as LLVM IR, with the plan
  assembly,  // ... as the host's assembly ("asm")
  cuda,      // the CUDA C++ the cuda backend generates
  ptx,       // ... compiled to PTX by NVRTC (no GPU needed)
};

const char* emit_stage_name(EmitStage stage);  // "ast", "ir", "plan", "llvm-ir", "asm", "cuda", "ptx"
std::optional<EmitStage> emit_stage_from_name(std::string_view name);

// The passes of the lowering (ir/lower.h), in order; a compiled program can
// show the result of each (`einc check --dump-after PASS`).
enum class LoweringPass { parse, sema, einstein, products, cost };
const char* lowering_pass_name(LoweringPass pass);  // "parse", "sema", "einstein", "products", "cost"
std::optional<LoweringPass> lowering_pass_from_name(std::string_view name);

struct ReportOptions {
  std::int64_t repeat = 1;  // multiplies the totals (N layers of one block)
};

namespace detail {
struct ProgramAccess;  // api/program_impl.h: einc's own layers and tests reach the IR through it
}

class Program {
 public:
  const std::string& file() const;
  // Dims in declaration order with their values (nullopt-like: bound=false).
  struct DimInfo {
    std::string name;
    bool bound = false;
    std::int64_t value = 0;
    std::string kind;  // given | derived | symbolic
  };
  std::vector<DimInfo> dims() const;
  std::vector<std::string> outputs() const;

  // A new Program with these dims bound in addition to (or instead of) the
  // current bindings. Throws CompileError (e.g. a shape conflict now shows).
  Program bind(const DimBindings& dims) const;

  // The cost report. Counts are exact 128-bit integers (einc::CountValue,
  // einc/report.h). Throws CompileError when a dim it needs is unbound or a
  // count overflows the signed 128-bit range.
  Report report(const ReportOptions& options = {}) const;

  // The IR after semantic analysis, one statement per line, sums explicit.
  std::string dump_ir() const;

  // The program after one pass of the lowering, as text: the syntax tree
  // (parse), the IR with implicit sums pending (sema) or explicit
  // (einstein), the pairwise order of each contraction (products), the
  // symbolic counts of each statement (cost).
  std::string dump_after(LoweringPass pass) const;

  // The program at one stage of compilation (EmitStage). `arch` is the GPU
  // architecture for cuda/ptx (default sm_90a; no GPU needed). Throws
  // RunError when this build has no backend for the stage.
  std::string emit(EmitStage stage, const std::string& arch = "") const;

  // The tensors a run needs (inputs and params, in declaration order), with
  // their shapes where the dims are bound.
  struct TensorInfo {
    std::string name;
    std::string role;  // input | param
    DType dtype = DType::f32;
    std::vector<std::string> shape_formula;
    bool shape_known = false;
    std::vector<std::int64_t> shape;
  };
  const std::vector<TensorInfo>& inputs() const;

  // Binds every symbolic dim that a given tensor's shape determines (an
  // extent declared as a single unbound dim); checks names, dtypes and ranks.
  // Throws RunError (or CompileError if the binding breaks a check).
  Program bind_inputs(const TensorMap& inputs) const;

  // Runs the program: binds dims from the inputs, checks every input's
  // dtype and shape, executes, and returns the outputs by name. Inputs may
  // be owned tensors or views of caller memory with any strides; they are
  // only read. Thread-safe: one Program may run concurrently from several
  // threads with different inputs (each run has its own state).
  TensorMap run(const TensorMap& inputs, const RunOptions& options = {}) const;
  // The same, writing into the caller's buffers: each tensor in `outputs`
  // names an output of the script, has its dtype and shape (any strides, a
  // view of caller memory or a tensor kept from an earlier run) and shares
  // no memory with the inputs or other outputs; the results are written into
  // it in place, with no allocation. Outputs not in the map are allocated and
  // added to it. A loop that runs one program many times reuses its buffers
  // this way. Throws RunError on a buffer that does not fit.
  void run_into(const TensorMap& inputs, TensorMap& outputs, const RunOptions& options = {}) const;

 private:
  struct Impl;
  friend struct detail::ProgramAccess;
  explicit Program(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

Program compile(std::string_view source, const CompileOptions& options = {});
// Reads the file (an unreadable file is a CompileError) and compiles it; the
// filename defaults to the path.
Program compile_file(const std::string& path, CompileOptions options = {});

// Totals of `program` with `dim` bound to each value in turn.
SweepReport sweep(const Program& program, const std::string& dim, const std::vector<std::int64_t>& values,
                  const ReportOptions& options = {});

// Random data for every input and param not in `given` (deterministic:
// input k in declaration order uses seed * 1000003 + k; floats uniform in
// [-1, 1), i8 in [-8, 8], i32 in [-100, 100]). Needs the shapes bound.
TensorMap random_inputs(const Program& program, std::uint64_t seed, const TensorMap& given = {});

// numpy.einsum in one call: einc::einsum("ij,jk->ik", {a, b}). The operands
// share one dtype. Throws CompileError for a bad subscripts string.
Tensor einsum(std::string_view subscripts, const std::vector<Tensor>& operands, const RunOptions& options = {});

// The program einsum() runs, compiled once for operands of these dtypes and
// shapes, to be reported (its contraction path) or run many times: its
// inputs are "operand0", "operand1", ... and its one output is "result".
// Throws CompileError for a bad subscripts string or operands numpy rejects.
// The programs of the last 256 distinct calls are kept (thread-safe): a
// repeated call returns the kept program, and einsum() in a loop compiles
// once.
struct EinsumOperand {
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;
};
Program compile_einsum(std::string_view subscripts, const std::vector<EinsumOperand>& operands);

std::string version();

}  // namespace einc
