// api/report_format_internal.h — what the report formatters share, private
// to api/: the list of counts each report level carries (key, label and
// member, in print order) and one entry point per format.
//
// The lists are the single place that says which counts exist and in what
// order, so JSON, CSV, Markdown and the table cannot drift apart when a count
// is added to einc/report.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "einc/report.h"

namespace einc::detail {

// One count of a report struct: its JSON/CSV key, its label for people and
// the member that holds it.
template <typename Owner>
struct CountField {
  std::string_view key;
  std::string_view label;
  Count Owner::*member;
};

constexpr std::array<CountField<StatementReport>, 9> statement_counts() {
  return {{
      {"outputs", "outputs", &StatementReport::outputs},
      {"dot_products", "dot products", &StatementReport::dot_products},
      {"reduction_length", "reduction length", &StatementReport::reduction_length},
      {"macs", "MACs", &StatementReport::macs},
      {"naive_macs", "naive MACs", &StatementReport::naive_macs},
      {"flops", "FLOPs", &StatementReport::flops},
      {"transcendentals", "transcendentals", &StatementReport::transcendentals},
      {"bytes", "bytes", &StatementReport::bytes},
      {"params", "params", &StatementReport::params},
  }};
}

constexpr std::array<CountField<TotalsReport>, 8> totals_counts() {
  return {{
      {"outputs", "outputs", &TotalsReport::outputs},
      {"dot_products", "dot products", &TotalsReport::dot_products},
      {"macs", "MACs", &TotalsReport::macs},
      {"naive_macs", "naive MACs", &TotalsReport::naive_macs},
      {"flops", "FLOPs", &TotalsReport::flops},
      {"transcendentals", "transcendentals", &TotalsReport::transcendentals},
      {"bytes", "bytes", &TotalsReport::bytes},
      {"params", "params", &TotalsReport::params},
  }};
}

constexpr std::array<CountField<ContractionReport>, 5> contraction_counts() {
  return {{
      {"dot_products", "dot products", &ContractionReport::dot_products},
      {"reduction_length", "reduction length", &ContractionReport::reduction_length},
      {"macs", "MACs", &ContractionReport::macs},
      {"naive_macs", "naive MACs", &ContractionReport::naive_macs},
      {"flops", "FLOPs", &ContractionReport::flops},
  }};
}

constexpr std::array<CountField<TensorReport>, 2> tensor_counts() {
  return {{
      {"elements", "elements", &TensorReport::elements},
      {"bytes", "bytes", &TensorReport::bytes},
  }};
}

// Digits kept when an intensity (FLOPs per byte) is written for tools.
constexpr int kIntensityDigits = 4;

// "[32, 1000, 1000]" / "[H, T, T]"; "[]" for a 0-d tensor.
std::string bracketed(const std::vector<std::int64_t>& items);
std::string bracketed(const std::vector<std::string>& items);

// "sum(k, j): ((A*B)*C)": a contraction term as one short line; the order,
// or the operands joined by `*` when no order was recorded.
std::string contraction_summary(const ContractionReport& contraction);

// `target` or `target +=`.
std::string target_label(const StatementReport& statement);

// A statement of a repeat block, for people: the marker on its row, "x L"
// ("x " and the count's formula), and the block's first line, "repeat l < L".
std::string repeat_marker(const RepeatBlockReport& block);
std::string repeat_header(const RepeatBlockReport& block);

// The repeat blocks the report's statements run in, once each (by line), in
// statement order.
std::vector<RepeatBlockReport> repeat_blocks(const Report& report);

// The legend line of one block under a table: "x L: runs in repeat l < L
// (line 21), L = 12 times; the counts on its rows include the factor", each
// code-like piece passed through `code` (identity for the text table,
// markdown_code for Markdown).
std::string repeat_legend(const RepeatBlockReport& block, std::string (*code)(std::string_view));

// Per-format entry points for the formats with a file of their own (JSON
// and CSV live in report_format.cpp itself).
std::string report_table(const Report& report);        // report_table.cpp
std::string sweep_table(const SweepReport& sweep);     // report_table.cpp
std::string report_markdown(const Report& report);     // report_markdown.cpp
std::string sweep_markdown(const SweepReport& sweep);  // report_markdown.cpp

}  // namespace einc::detail
