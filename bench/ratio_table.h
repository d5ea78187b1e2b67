// bench/ratio_table.h — the benchmarks' summary table, what a run is for:
// per case, each side's median FLOP/s over the interleaved rounds, the
// median of the per-round ratios einc / anchor with their range, each
// side's fraction of the FMA peak (fma_peak.h), and how busy the machine
// was. Google Benchmark's own output lists every run; this pairs the sides
// of each round, which its reporters cannot. cpu_bench's anchors are
// OpenBLAS and oneDNN, with the ratio against the faster of the two per
// round as well; conv_bench's are oneDNN and im2col + OpenBLAS, each with
// the ratio the issue sets as its target.
//
// Benchmarks are named "<case>/<side>/round:<r>" (side_key, kRoundTag): the
// reporter takes each run's case, side and round from its name.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fma_peak.h"

namespace einc::bench {

inline constexpr const char* kOpenblas = "openblas";
inline constexpr const char* kOnednn = "onednn";
inline constexpr const char* kEinc = "einc";
inline constexpr std::string_view kRoundTag = "/round:";  // benchmark names: "<case>/<side>/round:<r>"

// "<case>/<side>": the key of one side's results and busy time.
std::string side_key(const std::string& case_name, const char* side);

// One side of one case: its FLOP/s in each round (NaN where a round has
// none), or the error that skipped it.
struct Result {
  bool error = false;
  std::string error_message;
  std::vector<double> rounds;

  bool have() const { return !error && !valid().empty(); }
  std::vector<double> valid() const {
    std::vector<double> v;
    for (double x : rounds)
      if (!std::isnan(x)) v.push_back(x);
    return v;
  }
  double median() const { return median_of(valid()); }

  static double median_of(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
};

// The console reporter, plus each round's figure (its median when the user
// asked for repetitions, else its only run) for the table.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  using benchmark::ConsoleReporter::ConsoleReporter;
  std::map<std::string, Result> results;  // by side_key

  void ReportRuns(const std::vector<Run>& runs) override;
};

// What the table says about the run as a whole.
struct TableSettings {
  std::string backend;  // the einc backend timed
  int threads = 0;
  int rounds = 0;
  bool smoke = false;
  std::string smoke_sizes;  // how --smoke shrinks the cases, e.g. "every extent / 16"
  std::string peak_note;    // a line for the legend on rows whose "%pk" is not against the f32 peak, or ""
};

// One case: its name, the cores other processes used while it was timed
// (the worst of its sides; -1: too short to tell), and the fraction of the
// f32 FMA peak (fma_peak.h) its "%pk" is against: 1, or 0.5 for an f64
// case (half as many lanes per FMA).
struct TableRow {
  std::string name;
  double other_cores = -1;
  double peak_scale = 1;
};

// One anchor of a table with several: the side's name in the benchmark
// names, its column heading, and the target for the ratio einc / anchor
// (NaN: none). A ratio is "met" when its lowest round reaches the target,
// "SHORT" when its highest does not, and a "tie" when the range straddles it.
struct AnchorColumn {
  const char* side;
  std::string label;
  double target = NAN;
};

// The table for einc against each of `anchors` in turn and, with two or
// more and `best`, against the faster anchor of each round (einc/best: the
// median of einc / max(anchors) per round, over the anchors that ran), for
// the rows that have results (a filtered-out case has none); then the
// errors that skipped a side, the legend, and a warning when the machine
// was busy. The caller says what each anchor runs in its notes.
void print_anchor_table(const std::string& title, const std::vector<TableRow>& rows, const TableReporter& reporter,
                        const Peak& peak, const TableSettings& settings, const std::vector<AnchorColumn>& anchors,
                        bool best);

}  // namespace einc::bench
