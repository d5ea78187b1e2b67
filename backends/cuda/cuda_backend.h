// backends/cuda/cuda_backend.h — the `cuda` backend and what the API wires
// to it. Nothing here needs cuda.h: the driver is loaded at run time.
//
// Every statement runs as one generated kernel (kernel_plan.h: GETT, row or
// elementwise), or as one per pairwise step of a product whose plan one
// kernel would not compute (device temporaries, freed after the
// statement), compiled with NVRTC to a cubin for device 0's arch through
// the kernel cache. One CudaBackend serves one run: inputs and params are
// copied to the device once (C-contiguous copies), intermediates stay on the
// device and are freed after their last use, outputs are copied back after
// the last statement; everything is ordered on one stream.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/program.h"
#include "runtime/executor.h"

namespace einc::cuda {

// Is there a driver and a device? false with the reason (e.g. "no CUDA
// driver/device found (libcuda.so.1: cannot open shared object file: No
// such file or directory)").
bool cuda_backend_available(std::string* why);

class CudaBackend : public runtime::StatementBackend {
 public:
  // Throws std::runtime_error with the reason when CUDA is not available.
  CudaBackend();
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  const char* name() const override { return "cuda"; }
  // Statements must come in program order (as execute_program calls them).
  // Throws reference::ExecutionError for what the reference rejects at run
  // time (integer division by zero, a max over nothing), DriverError and
  // NvrtcError for device and compiler failures.
  void execute(const ir::Program& program, const ir::Statement& statement, std::vector<Tensor>& tensors) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A new CudaBackend for one run (throws std::runtime_error when not available).
std::unique_ptr<runtime::StatementBackend> make_cuda_backend();

// What the backend compiles for `program` (its dims bound): for each
// statement a comment header (line, statement, kernel kind and name, launch
// shape, which tensor each parameter is) and then the kernel's CUDA C++
// source, or with `ptx` its PTX for `arch` (NVRTC; no GPU needed). A kernel
// used by several statements is printed once. Throws ir::UnboundDimError
// for unbound dims and NvrtcError when a PTX compile fails; a statement
// that cannot run (a max over an empty index) gets a comment saying why.
std::string emit_cuda(const ir::Program& program, bool ptx, const std::string& arch = "sm_90a");

}  // namespace einc::cuda
