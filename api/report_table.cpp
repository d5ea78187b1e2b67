// api/report_table.cpp — the table formats, the default a person reads:
// `einc report FILE` and the sweep table.
//
// Layout (stable, golden-tested): a title line, a blank line, an aligned
// table (header, rule, one row per statement with compact SI counts, an
// indented line under a contraction statement for each contraction term,
// rule, total row), then the exact totals with thousands separators and
// their formulas. Every table row, header and rules included, has the same
// length: text columns are left-aligned, counts right-aligned, and the last
// column is numeric so rows carry no trailing spaces. When a statement runs
// in a repeat block, a `repeat` column before the counts marks its row
// `x L` and a legend line under the table names the block (line, count);
// the row's counts already include the factor.
//
// %MACs is a statement's share of the sum of the statements' MACs, i.e. of
// one pass: the totals already include `repeat`, and shares of one block
// should add up to 100 whatever the repeat.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "einc/report.h"
#include "format_numbers.h"
#include "report_format_internal.h"

namespace einc::detail {
namespace {

enum class Align { left, right };

struct Column {
  std::string header;
  Align align = Align::left;
};

// A table of aligned columns separated by two spaces, with rules and free
// "note" lines that start under a chosen column and do not affect widths.
class TextTable {
 public:
  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

  void add_row(std::vector<std::string> cells) {
    cells.resize(columns_.size());
    lines_.push_back({Kind::row, std::move(cells), {}, 0});
  }
  void add_rule() { lines_.push_back({Kind::rule, {}, {}, 0}); }
  void add_note(std::size_t column, std::string text) { lines_.push_back({Kind::note, {}, std::move(text), column}); }

  std::string render() const {
    std::vector<std::size_t> widths;
    for (const auto& column : columns_) widths.push_back(column.header.size());
    for (const auto& line : lines_) {
      for (std::size_t i = 0; i < line.cells.size(); ++i) {
        widths[i] = std::max(widths[i], line.cells[i].size());
      }
    }
    std::vector<std::string> header;
    for (const auto& column : columns_) header.push_back(column.header);
    std::string text = render_cells(header, widths);
    text += render_rule(widths);
    for (const auto& line : lines_) {
      switch (line.kind) {
        case Kind::row:
          text += render_cells(line.cells, widths);
          break;
        case Kind::rule:
          text += render_rule(widths);
          break;
        case Kind::note: {
          std::size_t start = 0;
          for (std::size_t i = 0; i < line.column && i < widths.size(); ++i) {
            start += widths[i] + kGap;
          }
          text += std::string(start, ' ') + line.note + "\n";
          break;
        }
      }
    }
    return text;
  }

 private:
  static constexpr std::size_t kGap = 2;
  enum class Kind { row, rule, note };
  struct Line {
    Kind kind;
    std::vector<std::string> cells;
    std::string note;
    std::size_t column;
  };

  std::string render_cells(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) const {
    std::string text;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) text.append(kGap, ' ');
      const std::string padding(widths[i] - cells[i].size(), ' ');
      text += columns_[i].align == Align::right ? padding + cells[i] : cells[i] + padding;
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text + "\n";
  }

  static std::string render_rule(const std::vector<std::size_t>& widths) {
    std::string text;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      if (i > 0) text.append(kGap, ' ');
      text.append(widths[i], '-');
    }
    return text + "\n";
  }

  std::vector<Column> columns_;
  std::vector<Line> lines_;
};

std::string dims_text(const std::vector<std::pair<std::string, std::int64_t>>& dims) {
  std::string text;
  for (const auto& [name, value] : dims) {
    if (!text.empty()) text += ' ';
    text += name + "=" + std::to_string(value);
  }
  return text;
}

std::string title(const std::string& file, const std::string& rest) {
  if (file.empty()) return rest + "\n";
  if (rest.empty()) return file + "\n";
  return file + "  " + rest + "\n";
}

std::string repeat_suffix(std::int64_t repeat) { return repeat > 1 ? " x " + std::to_string(repeat) : ""; }

// "  MACs  4,259,840,000  (2*M*K*N + 2*M*N*L)" lines, labels and numbers
// aligned; `rows` holds label, number (right-aligned, may be empty in every
// row) and trailing text.
std::string aligned_lines(const std::vector<std::array<std::string, 3>>& rows) {
  std::size_t label_width = 0;
  std::size_t number_width = 0;
  for (const auto& row : rows) {
    label_width = std::max(label_width, row[0].size());
    number_width = std::max(number_width, row[1].size());
  }
  std::string text;
  for (const auto& row : rows) {
    text += "  " + row[0] + std::string(label_width - row[0].size(), ' ');
    if (number_width > 0) {
      text += "  " + std::string(number_width - row[1].size(), ' ') + row[1];
    }
    if (!row[2].empty()) text += "  " + row[2];
    text += "\n";
  }
  return text;
}

std::string share_text(CountValue macs, long double total_macs) {
  if (total_macs == 0) return "-";
  return fixed_decimals(static_cast<double>(static_cast<long double>(macs) * 100 / total_macs), 1);
}

}  // namespace

std::string report_table(const Report& report) {
  std::string text = title(report.file, dims_text(report.dims)) + "\n";

  // One pass's MACs, summed in long double: exact enough for a share and
  // safe from overflow whatever the statements hold.
  long double one_pass_macs = 0;
  for (const auto& statement : report.statements) {
    one_pass_macs += static_cast<long double>(statement.macs.value);
  }

  // The repeat column exists only when a statement runs in a repeat block.
  const std::vector<RepeatBlockReport> blocks = repeat_blocks(report);
  std::vector<Column> columns = {{"line", Align::right},
                                 {"target", Align::left},
                                 {"kind", Align::left},
                                 {"shape", Align::left},
                                 {"dtype", Align::left}};
  if (!blocks.empty()) columns.push_back({"repeat", Align::left});
  for (const char* count : {"MACs", "FLOPs", "transc.", "bytes", "AI", "%MACs"}) {
    columns.push_back({count, Align::right});
  }
  // Cells of a statement or total row: the text cells, the repeat cell when
  // the column exists, then the counts.
  auto cells = [&](std::vector<std::string> row, std::string repeat, std::vector<std::string> counts) {
    if (!blocks.empty()) row.push_back(std::move(repeat));
    row.insert(row.end(), counts.begin(), counts.end());
    return row;
  };
  TextTable table(std::move(columns));
  for (const auto& statement : report.statements) {
    table.add_row(cells({std::to_string(statement.line), target_label(statement), statement.kind,
                         bracketed(statement.shape), statement.dtype},
                        statement.repeat_block ? repeat_marker(*statement.repeat_block) : "",
                        {si_compact(statement.macs.value), si_compact(statement.flops.value),
                         si_compact(statement.transcendentals.value), si_compact(statement.bytes.value),
                         fixed_decimals(statement.intensity, 2), share_text(statement.macs.value, one_pass_macs)}));
    for (const auto& contraction : statement.contractions) {
      table.add_note(1, "  " + contraction_summary(contraction) + "  macs " + with_thousands(contraction.macs.value) +
                            " = " + contraction.macs.formula + "  naive " +
                            with_thousands(contraction.naive_macs.value));
    }
  }
  table.add_rule();
  const TotalsReport& totals = report.totals;
  table.add_row(
      cells({"", "total" + repeat_suffix(report.repeat), "", "", ""}, "",
            {si_compact(totals.macs.value), si_compact(totals.flops.value), si_compact(totals.transcendentals.value),
             si_compact(totals.bytes.value), fixed_decimals(totals.intensity, 2), one_pass_macs == 0 ? "-" : "100.0"}));
  text += table.render();
  for (const auto& block : blocks) {
    text += "\n" + repeat_legend(block, [](std::string_view code) { return std::string(code); });
  }
  if (!blocks.empty()) text += "\n";

  std::vector<std::array<std::string, 3>> rows;
  for (const auto& field : totals_counts()) {
    const Count& count = totals.*field.member;
    rows.push_back({std::string(field.label), with_thousands(count.value), "(" + count.formula + ")"});
  }
  rows.push_back({"intensity", fixed_decimals(totals.intensity, 2), "FLOP/byte"});
  text += "\ntotals" + repeat_suffix(report.repeat) + ":\n";
  text += aligned_lines(rows);
  return text;
}

std::string sweep_table(const SweepReport& sweep) {
  const std::string dim = sweep.dim.empty() ? "value" : sweep.dim;
  std::string text = title(
      sweep.file, "sweep over " + dim + (sweep.repeat > 1 ? "  (totals" + repeat_suffix(sweep.repeat) + ")" : ""));
  text += "\n";
  if (sweep.rows.empty()) return text + "no values\n";

  // Compact table, then the same numbers exact.
  TextTable compact({{dim, Align::right},
                     {"outputs", Align::right},
                     {"MACs", Align::right},
                     {"FLOPs", Align::right},
                     {"transc.", Align::right},
                     {"bytes", Align::right},
                     {"params", Align::right},
                     {"AI", Align::right}});
  TextTable exact({{dim, Align::right},
                   {"outputs", Align::right},
                   {"MACs", Align::right},
                   {"FLOPs", Align::right},
                   {"transcendentals", Align::right},
                   {"bytes", Align::right},
                   {"params", Align::right}});
  for (const auto& [value, totals] : sweep.rows) {
    compact.add_row({std::to_string(value), si_compact(totals.outputs.value), si_compact(totals.macs.value),
                     si_compact(totals.flops.value), si_compact(totals.transcendentals.value),
                     si_compact(totals.bytes.value), si_compact(totals.params.value),
                     fixed_decimals(totals.intensity, 2)});
    exact.add_row({std::to_string(value), with_thousands(totals.outputs.value), with_thousands(totals.macs.value),
                   with_thousands(totals.flops.value), with_thousands(totals.transcendentals.value),
                   with_thousands(totals.bytes.value), with_thousands(totals.params.value)});
  }
  text += compact.render();
  text += "\nexact:\n" + exact.render();

  // The formulas are polynomials in the dims, the same for every row.
  std::vector<std::array<std::string, 3>> rows;
  const TotalsReport& first = sweep.rows.front().second;
  for (const auto& field : totals_counts()) {
    rows.push_back({std::string(field.label), "", (first.*field.member).formula});
  }
  text += "\nformulas:\n" + aligned_lines(rows);
  return text;
}

}  // namespace einc::detail
