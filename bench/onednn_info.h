// bench/onednn_info.h — what the benchmarks say about oneDNN (built only
// when oneDNN is found, bench/CMakeLists.txt): its version, the ISA it runs
// and its thread count, for the environment lines, and the layout a
// primitive chose, for the notes under a table. An anchor's figures mean
// little without which kernels and formats produced them.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>

namespace einc::bench {

// "oneDNN 2.6.0 (<hash>): ISA avx512_core, OpenMP, 2 threads".
std::string onednn_identity();

// oneDNN's "abcd" notation of a blocked layout: dims outermost first (a
// blocked dim in capitals), then the inner blocks ("aBcd16b" is nChw16c);
// "(not blocked)" for any other kind.
std::string format_of(const dnnl::memory::desc& md);

}  // namespace einc::bench
