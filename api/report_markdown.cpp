// api/report_markdown.cpp — the Markdown formats (`--format markdown`): a
// report or a sweep as GitHub-flavoured Markdown, for pasting into issues,
// pull requests and docs.
//
// Counts are exact with thousands separators. Code-like cells (targets,
// shapes, formulas, expressions) are inline code spans, so `*` in `T*D*D`
// and `_` in names never turn into emphasis; every cell escapes `|` so a
// formula or a source line cannot break the table. Statements of a repeat
// block are marked `x L` in a repeat column (present only then) with one
// legend paragraph per block under the table.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "einc/report.h"
#include "format_numbers.h"
#include "report_format_internal.h"

namespace einc::detail {
namespace {

enum class Align { left, right };

// A GitHub table: header, alignment row, body; cells are escaped by the
// callers (some are code spans, which escape their own `|`).
std::string markdown_table(const std::vector<std::string>& header, const std::vector<Align>& align,
                           const std::vector<std::vector<std::string>>& rows) {
  auto line = [](const std::vector<std::string>& cells) {
    std::string text = "|";
    for (const auto& cell : cells) text += " " + cell + " |";
    return text + "\n";
  };
  std::string text = line(header);
  std::vector<std::string> rule;
  for (const Align a : align) rule.emplace_back(a == Align::right ? "---:" : "---");
  text += line(rule);
  for (const auto& row : rows) text += line(row);
  return text;
}

std::string heading(const std::string& what, const std::string& file) {
  return file.empty() ? "# einc " + what + "\n" : "# einc " + what + ": " + markdown_cell(file) + "\n";
}

std::string repeat_note(std::int64_t repeat) {
  return repeat > 1
             ? "Totals are for " + std::to_string(repeat) + " repeats (`--repeat " + std::to_string(repeat) + "`).\n"
             : "";
}

}  // namespace

std::string report_markdown(const Report& report) {
  std::string text = heading("report", report.file) + "\n";
  std::string dims;
  for (const auto& [name, value] : report.dims) {
    dims += dims.empty() ? "" : ", ";
    dims += markdown_code(name + "=" + std::to_string(value));
  }
  text += "Dims: " + (dims.empty() ? std::string("none") : dims) + "\n";
  text += repeat_note(report.repeat);

  text += "\n## Statements\n\n";
  // The repeat column exists only when a statement runs in a repeat block.
  const std::vector<RepeatBlockReport> blocks = repeat_blocks(report);
  std::vector<std::string> header = {"line", "target", "kind", "shape", "dtype"};
  std::vector<Align> align(header.size(), Align::left);
  align[0] = Align::right;
  if (!blocks.empty()) {
    header.emplace_back("repeat");
    align.push_back(Align::left);
  }
  for (const char* count : {"outputs", "MACs", "FLOPs", "transcendentals", "bytes", "params", "intensity"}) {
    header.emplace_back(count);
    align.push_back(Align::right);
  }
  header.emplace_back("MACs formula");
  align.push_back(Align::left);
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : report.statements) {
    std::vector<std::string> row = {std::to_string(s.line), markdown_code(target_label(s)), markdown_cell(s.kind),
                                    markdown_code(bracketed(s.shape)), markdown_cell(s.dtype)};
    if (!blocks.empty()) row.push_back(s.repeat_block ? markdown_code(repeat_marker(*s.repeat_block)) : "");
    row.insert(row.end(),
               {with_thousands(s.outputs.value), with_thousands(s.macs.value), with_thousands(s.flops.value),
                with_thousands(s.transcendentals.value), with_thousands(s.bytes.value), with_thousands(s.params.value),
                fixed_decimals(s.intensity, 2), markdown_code(s.macs.formula)});
    rows.push_back(std::move(row));
  }
  text += markdown_table(header, align, rows);
  for (const auto& block : blocks) {
    text += "\n" + repeat_legend(block, markdown_code) + ".\n";
  }

  rows.clear();
  for (const auto& s : report.statements) {
    for (const auto& c : s.contractions) {
      rows.push_back({std::to_string(s.line), markdown_code(s.target), markdown_code(c.expression),
                      markdown_code(c.order), with_thousands(c.macs.value), markdown_code(c.macs.formula),
                      with_thousands(c.naive_macs.value), markdown_code(c.naive_macs.formula)});
    }
  }
  if (!rows.empty()) {
    text += "\n## Contractions\n\n";
    text += markdown_table(
        {"line", "target", "term", "order", "MACs", "MACs formula", "naive MACs", "naive formula"},
        {Align::right, Align::left, Align::left, Align::left, Align::right, Align::left, Align::right, Align::left},
        rows);
  }

  text += "\n## Totals\n\n";
  rows.clear();
  for (const auto& field : totals_counts()) {
    const Count& count = report.totals.*field.member;
    rows.push_back({std::string(field.label), with_thousands(count.value), markdown_code(count.formula)});
  }
  rows.push_back({"intensity", fixed_decimals(report.totals.intensity, 2), "FLOP/byte"});
  text += markdown_table({"count", "value", "formula"}, {Align::left, Align::right, Align::left}, rows);
  return text;
}

std::string sweep_markdown(const SweepReport& sweep) {
  const std::string dim = sweep.dim.empty() ? "value" : sweep.dim;
  std::string text = heading("sweep", sweep.file) + "\n";
  text += "Totals against " + markdown_code(dim) + ".\n";
  text += repeat_note(sweep.repeat);
  if (sweep.rows.empty()) return text + "\nNo values.\n";

  text += "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [value, totals] : sweep.rows) {
    rows.push_back({std::to_string(value), with_thousands(totals.outputs.value), with_thousands(totals.macs.value),
                    with_thousands(totals.flops.value), with_thousands(totals.transcendentals.value),
                    with_thousands(totals.bytes.value), with_thousands(totals.params.value),
                    fixed_decimals(totals.intensity, 2)});
  }
  text += markdown_table(
      {markdown_cell(dim), "outputs", "MACs", "FLOPs", "transcendentals", "bytes", "params", "intensity"},
      std::vector<Align>(8, Align::right), rows);

  text += "\nFormulas:\n\n";
  rows.clear();
  const TotalsReport& first = sweep.rows.front().second;
  for (const auto& field : totals_counts()) {
    rows.push_back({std::string(field.label), markdown_code((first.*field.member).formula)});
  }
  text += markdown_table({"count", "formula"}, {Align::left, Align::left}, rows);
  return text;
}

}  // namespace einc::detail
