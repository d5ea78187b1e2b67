// bench/fma_peak.h — the machine's FMA peak, measured in-process, so that
// cpu_bench can say what fraction of it each side of a case reaches: the
// peak of this VM on these threads at this moment, not a data-sheet figure
// (the hosts differ: Zen 4 has half of Zen 5's FMA throughput per core).
//
// Each thread runs independent chains of vector FMAs (AVX-512: 16 zmm
// accumulators, AVX2: 12 ymm), enough to cover two FMA pipes' latency; all
// threads start together and their FLOPs are divided by the wall time until
// the last one finishes. Best of 3 trials.
#pragma once

#include <string>

namespace einc::bench {

struct Peak {
  double gflops = 0;  // 0: not measured (no AVX2/FMA)
  std::string isa;
};

// The peak on `threads` threads; `smoke`: an eighth of the iterations.
Peak measure_peak(int threads, bool smoke);

}  // namespace einc::bench
