// backends/cuda/kernel_source.h — what every CUDA kernel generator returns:
// the source of one `extern "C" __global__` kernel, its parameters (which
// tensor each pointer is), and how to launch it.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace einc::cuda {

enum class KernelKind { gett, row, elementwise };
const char* kernel_kind_name(KernelKind kind);

struct KernelParam {
  enum class Kind {
    tensor,  // a device pointer to tensor `tensor` (C order, see contiguous_strides)
    scale,   // a float: the GETT scale, evaluated at launch (it reads 0-d tensors)
    status,  // an unsigned int* the kernel ORs error bits into (bit 0: integer division by zero)
  };
  Kind kind = Kind::tensor;
  int tensor = -1;
  bool written = false;   // the statement's target
  bool snapshot = false;  // a copy of the target taken before the kernel runs (`+=` reading its own target)
  std::string ctype;      // as declared: "float*", "const float* __restrict__", "float", "unsigned int*"
  std::string name;       // as declared in the source
};

struct LaunchShape {
  std::array<unsigned, 3> grid{1, 1, 1};
  std::array<unsigned, 3> block{1, 1, 1};
};

struct GeneratedKernel {
  KernelKind kind = KernelKind::elementwise;
  std::string name;                 // the extern "C" symbol, e.g. einc_gett_f32_128x128x8_1a2b3c4d5e6f
  std::string source;               // one self-contained CUDA C++ translation unit
  std::string summary;              // one line for `einc emit cuda` ("GETT batch h; M i; N j; K e; epilogue: scale")
  std::vector<KernelParam> params;  // in declaration order
  LaunchShape launch;
  bool empty = false;  // the output has no elements: nothing to launch
};

}  // namespace einc::cuda
