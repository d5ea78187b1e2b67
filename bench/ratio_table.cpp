// bench/ratio_table.cpp — see ratio_table.h.
#include "ratio_table.h"

#include <cstdio>
#include <utility>

namespace einc::bench {

namespace {

// "square_512/einc/round:3" -> {"square_512/einc", 3}; a name without a
// round (the user's own --benchmark_repetitions) is round 0.
std::pair<std::string, std::size_t> split_round(const std::string& name) {
  std::size_t at = name.rfind(kRoundTag);
  if (at == std::string::npos) return {name, 0};
  return {name.substr(0, at), static_cast<std::size_t>(std::stoul(name.substr(at + kRoundTag.size())))};
}

// The median of the per-round ratios einc / anchor, and their range.
struct Ratio {
  double median = NAN, low = NAN, high = NAN;
};
Ratio paired_ratio(const Result& e, const Result& b) {
  std::vector<double> r;
  for (std::size_t i = 0; i < std::min(e.rounds.size(), b.rounds.size()); ++i)
    if (!std::isnan(e.rounds[i]) && !std::isnan(b.rounds[i]) && b.rounds[i] > 0) r.push_back(e.rounds[i] / b.rounds[i]);
  if (r.empty()) return {};
  auto [lo, hi] = std::minmax_element(r.begin(), r.end());
  return {Result::median_of(r), *lo, *hi};
}

// The faster of `anchors` in each round (NaN where none ran), as a Result
// to pair with einc's.
Result best_of(const std::vector<Result>& anchors) {
  Result best;
  for (const Result& a : anchors) {
    if (a.error) continue;
    if (best.rounds.size() < a.rounds.size()) best.rounds.resize(a.rounds.size(), NAN);
    for (std::size_t i = 0; i < a.rounds.size(); ++i)
      if (!std::isnan(a.rounds[i]) && (std::isnan(best.rounds[i]) || a.rounds[i] > best.rounds[i]))
        best.rounds[i] = a.rounds[i];
  }
  return best;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// A side's results, or none (filtered out).
Result result_of(const TableReporter& reporter, const std::string& key) {
  auto it = reporter.results.find(key);
  return it == reporter.results.end() ? Result{} : it->second;
}

// A side's median in GFLOP/s, or "n/a".
std::string gflops_text(const Result& r) { return r.have() ? fmt("%.1f", r.median() / 1e9) : "n/a"; }

// "0.93" and "0.90-0.97", or "n/a" and "" without paired rounds.
std::string ratio_text(const Ratio& r) { return std::isnan(r.median) ? "n/a" : fmt("%.2f", r.median); }
std::string range_text(const Ratio& r) {
  return std::isnan(r.median) ? "" : fmt("%.2f", r.low) + "-" + fmt("%.2f", r.high);
}

// The line under the title: the peak each "%pk" is a fraction of.
void print_peak(const Peak& peak, const TableSettings& settings) {
  if (peak.gflops > 0)
    std::printf("FMA peak measured in-process: %.1f GFLOP/s on %d thread%s (%s)\n", peak.gflops, settings.threads,
                settings.threads == 1 ? "" : "s", peak.isa.c_str());
}

// The errors that skipped a side ("<case> <side>: <why>"), each reason once
// (the backend missing is said once, not per case).
void print_errors(const std::vector<std::string>& notes) {
  std::vector<std::string> seen;
  for (const std::string& n : notes) {
    std::string why = n.substr(n.find(": ") + 2);
    if (std::find(seen.begin(), seen.end(), why) != seen.end()) continue;
    seen.push_back(why);
    std::printf("  n/a: %s\n", n.c_str());
  }
}

// The warning under a table when other processes took more than a tenth of
// a core while a case was timed; `sides` says whose figures it understates.
void print_busy_warning(double worst_other, const char* sides) {
  if (worst_other > 0.1)
    std::printf(
        "!!! The machine was busy (up to %.2f cores used by other processes): these figures understate\n"
        "!!! %s; rerun on an idle machine before quoting them.\n",
        worst_other, sides);
}

}  // namespace

std::string side_key(const std::string& case_name, const char* side) { return case_name + "/" + side; }

void TableReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    auto [name, round] = split_round(run.run_name.function_name);
    Result& r = results[name];
    if (run.error_occurred) {
      r.error = true;
      r.error_message = run.error_message;
      continue;
    }
    const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
    const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
    if (!median && !single) continue;
    auto counter = run.counters.find("FLOP/s");
    if (counter == run.counters.end()) continue;
    if (r.rounds.size() <= round) r.rounds.resize(round + 1, NAN);
    r.rounds[round] = counter->second.value;
  }
  ConsoleReporter::ReportRuns(runs);
}

void print_anchor_table(const std::string& title, const std::vector<TableRow>& rows, const TableReporter& reporter,
                        const Peak& peak, const TableSettings& settings, const std::vector<AnchorColumn>& anchors,
                        bool best) {
  best = best && anchors.size() > 1;
  bool targets = false;
  for (const AnchorColumn& a : anchors) targets = targets || !std::isnan(a.target);
  std::printf("\n== %s (einc: %s backend), %d thread%s, median GFLOP/s%s ==\n", title.c_str(), settings.backend.c_str(),
              settings.threads, settings.threads == 1 ? "" : "s",
              settings.smoke ? (", SMOKE SIZES (" + settings.smoke_sizes + ")").c_str() : "");
  print_peak(peak, settings);
  std::printf("%-30s %8s", "case", "einc");
  for (const AnchorColumn& a : anchors)
    std::printf(" %*s", std::max<int>(8, static_cast<int>(a.label.size())), a.label.c_str());
  for (const AnchorColumn& a : anchors)
    std::printf("   %-*s", targets ? 31 : 17, ("einc/" + a.label + (targets ? " (range) target" : " (range)")).c_str());
  if (best) std::printf("   %-17s", "einc/best (range)");
  std::printf(" %8s %6s\n", "einc%pk", "other");

  std::vector<std::string> notes;
  double worst_other = 0;
  for (const TableRow& c : rows) {
    bool any = reporter.results.count(side_key(c.name, kEinc)) != 0;
    for (const AnchorColumn& a : anchors) any = any || reporter.results.count(side_key(c.name, a.side)) != 0;
    if (!any) continue;  // filtered out
    const Result e = result_of(reporter, side_key(c.name, kEinc));
    std::printf("%-30s %8s", c.name.c_str(), gflops_text(e).c_str());
    for (const AnchorColumn& a : anchors)
      std::printf(" %*s", std::max<int>(8, static_cast<int>(a.label.size())),
                  gflops_text(result_of(reporter, side_key(c.name, a.side))).c_str());
    std::vector<Result> anchor_results;
    for (const AnchorColumn& a : anchors) {
      const Result b = result_of(reporter, side_key(c.name, a.side));
      anchor_results.push_back(b);
      const Ratio paired = e.have() && b.have() ? paired_ratio(e, b) : Ratio{};
      std::printf("   %5s %11s", ratio_text(paired).c_str(), range_text(paired).c_str());
      if (targets) {
        std::string verdict;
        if (!std::isnan(a.target)) {
          verdict = fmt(">=%.2f", a.target);
          if (!std::isnan(paired.median))
            verdict += paired.low >= a.target ? " met" : paired.high < a.target ? " SHORT" : " tie";
        }
        std::printf(" %-13s", verdict.c_str());
      }
      if (b.error) notes.push_back(c.name + " " + a.label + ": " + b.error_message);
    }
    if (best) {
      const Result fastest = best_of(anchor_results);
      const Ratio paired = e.have() && fastest.have() ? paired_ratio(e, fastest) : Ratio{};
      std::printf("   %5s %11s", ratio_text(paired).c_str(), range_text(paired).c_str());
    }
    const double other = c.other_cores;
    worst_other = std::max(worst_other, other);
    std::printf(" %8s %6s\n",
                e.have() && peak.gflops > 0
                    ? fmt("%.1f%%", 100.0 * e.median() / 1e9 / (peak.gflops * c.peak_scale)).c_str()
                    : "n/a",
                other < 0 ? "-" : fmt("%.2f", other).c_str());
    if (e.error) notes.push_back(c.name + " einc: " + e.error_message);
  }
  print_errors(notes);
  std::printf(
      "einc and each anchor = that side's median over %d interleaved round%s; einc/anchor = the median of\n"
      "the per-round ratios (range: lowest-highest)%s\n",
      settings.rounds, settings.rounds == 1 ? "" : "s",
      targets ? ", then the target: met (lowest round reaches it),\n"
                "SHORT (highest round does not), tie (the range straddles it);"
              : ";");
  if (best)
    std::printf(
        "einc/best = the same against the faster anchor of each round (those that ran: n/a anchors left out);\n");
  std::printf(
      "einc%%pk = einc's fraction of the FMA peak above; other = cores used by other processes while the\n"
      "case was timed (the worst of its sides; - = too short to tell).\n");
  if (!settings.peak_note.empty()) std::printf("%s\n", settings.peak_note.c_str());
  print_busy_warning(worst_other, "every side");
}

}  // namespace einc::bench
