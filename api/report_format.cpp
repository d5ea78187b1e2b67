// api/report_format.cpp — format_report / format_sweep (einc/report.h): the
// dispatch on ReportFormat, the helpers every format shares, and the two
// formats for tools, JSON and CSV. The table for people lives in
// report_table.cpp and Markdown in report_markdown.cpp.
//
// Formatting is a pure function of the data: counts are printed exactly as
// the cost model computed them (already multiplied by `repeat` in the
// totals), never recomputed here. JSON uses nlohmann::ordered_json so keys
// keep the order written below, and intensity is rounded to 4 significant
// digits. Counts are exact JSON integer tokens, also past 2^64: nlohmann's
// integers are 64-bit, so a larger count enters the tree as a placeholder
// string that is replaced by the count's digits after dump (JsonCounts
// below). Strings that are not valid UTF-8 (a comment in Latin-1 inside
// `source`) are written with U+FFFD instead of throwing. CSV follows RFC 4180 quoting but ends lines with LF,
// like every other einc output; readers accept both. A statement's repeat
// block is JSON's `repeat_block` (null outside a block) and CSV's last four
// `repeat_block_*` columns (empty outside), appended so that existing keys
// and column positions stay as they were.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "einc/report.h"
#include "format_numbers.h"
#include "report_format_internal.h"

namespace einc {

std::string to_string(CountValue value) { return detail::exact_integer(value); }

namespace detail {

std::string bracketed(const std::vector<std::int64_t>& items) {
  std::string text = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(items[i]);
  }
  return text + "]";
}

std::string bracketed(const std::vector<std::string>& items) {
  std::string text = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ", ";
    text += items[i];
  }
  return text + "]";
}

std::string contraction_summary(const ContractionReport& contraction) {
  std::string text = "sum(";
  for (std::size_t i = 0; i < contraction.summed.size(); ++i) {
    if (i > 0) text += ", ";
    text += contraction.summed[i];
  }
  text += "): ";
  if (!contraction.order.empty()) return text + contraction.order;
  for (std::size_t i = 0; i < contraction.operands.size(); ++i) {
    if (i > 0) text += " * ";
    text += contraction.operands[i];
  }
  return text;
}

std::string target_label(const StatementReport& statement) {
  return statement.accumulate ? statement.target + " +=" : statement.target;
}

std::string repeat_marker(const RepeatBlockReport& block) { return "x " + block.count_formula; }

std::string repeat_header(const RepeatBlockReport& block) {
  return "repeat " + block.index + " < " + block.count_formula;
}

std::vector<RepeatBlockReport> repeat_blocks(const Report& report) {
  std::vector<RepeatBlockReport> blocks;
  for (const auto& statement : report.statements) {
    if (!statement.repeat_block) continue;
    bool seen = false;
    for (const auto& block : blocks) seen = seen || block.line == statement.repeat_block->line;
    if (!seen) blocks.push_back(*statement.repeat_block);
  }
  return blocks;
}

std::string repeat_legend(const RepeatBlockReport& block, std::string (*code)(std::string_view)) {
  const std::string count = std::to_string(block.count);
  const std::string times =
      block.count_formula == count ? count + " times" : code(block.count_formula) + " = " + count + " times";
  return code(repeat_marker(block)) + ": runs in " + code(repeat_header(block)) + " (line " +
         std::to_string(block.line) + "), " + times + "; the counts on its rows include the factor";
}

}  // namespace detail

namespace {

using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------- JSON

// The counts of one JSON document. A count that fits int64 is a plain
// nlohmann integer; a larger one is the string `"<marker><k>"` in the tree,
// and finish() replaces each such token of the dumped text by the count's
// digits. The marker must occur nowhere else in the text (a script's
// comment, a file name could hold it): finish() checks that, and the caller
// then tries a longer marker.
class JsonCounts {
 public:
  explicit JsonCounts(std::string marker) : marker_(std::move(marker)) {}

  Json operator()(CountValue value) {
    if (value >= INT64_MIN && value <= INT64_MAX) return static_cast<std::int64_t>(value);
    digits_.push_back(detail::exact_integer(value));
    return marker_ + std::to_string(digits_.size() - 1);
  }

  // `text` with every placeholder replaced; nullopt when the marker also
  // occurs elsewhere in it.
  std::optional<std::string> finish(const std::string& text) const {
    if (digits_.empty()) return text;
    std::size_t occurrences = 0;
    for (std::size_t at = text.find(marker_); at != std::string::npos; at = text.find(marker_, at + 1)) ++occurrences;
    if (occurrences != digits_.size()) return std::nullopt;
    std::string out;
    out.reserve(text.size());
    std::size_t from = 0;
    for (std::size_t at = text.find(marker_); at != std::string::npos; at = text.find(marker_, from)) {
      // `"<marker><k>"`: drop the quotes around it as well.
      std::size_t end = at + marker_.size();
      std::size_t k = 0;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9')
        k = k * 10 + static_cast<std::size_t>(text[end++] - '0');
      if (at == 0 || text[at - 1] != '"' || end >= text.size() || text[end] != '"' || k >= digits_.size())
        return std::nullopt;
      out.append(text, from, at - 1 - from);
      out += digits_[k];
      from = end + 1;
    }
    out.append(text, from, std::string::npos);
    return out;
  }

 private:
  std::string marker_;
  std::vector<std::string> digits_;
};

Json intensity_json(double intensity) {
  if (!std::isfinite(intensity)) return nullptr;
  return detail::round_significant(intensity, detail::kIntensityDigits);
}

// Adds each count's value to `object` and its formula to `formula`.
template <typename Owner, std::size_t N>
void add_counts(JsonCounts& counts, Json& object, Json& formula, const Owner& owner,
                const std::array<detail::CountField<Owner>, N>& fields) {
  for (const auto& field : fields) {
    const Count& count = owner.*field.member;
    object[std::string(field.key)] = counts(count.value);
    formula[std::string(field.key)] = count.formula;
  }
}

Json contraction_json(JsonCounts& counts, const ContractionReport& contraction) {
  Json object = Json::object();
  object["expression"] = contraction.expression;
  object["operands"] = contraction.operands;
  object["summed"] = contraction.summed;
  Json formula = Json::object();
  add_counts(counts, object, formula, contraction, detail::contraction_counts());
  Json path = Json::array();
  for (const auto& [first, second] : contraction.path) {
    path.push_back(Json::array({first, second}));
  }
  object["path"] = std::move(path);
  object["order"] = contraction.order;
  object["formula"] = std::move(formula);
  return object;
}

// {"line", "index", "count", "formula": {"count"}}, or null outside a block.
Json repeat_block_json(const std::optional<RepeatBlockReport>& block) {
  if (!block) return nullptr;
  Json object = Json::object();
  object["line"] = block->line;
  object["index"] = block->index;
  object["count"] = block->count;
  object["formula"] = Json::object({{"count", block->count_formula}});
  return object;
}

Json statement_json(JsonCounts& counts, const StatementReport& statement) {
  Json object = Json::object();
  object["line"] = statement.line;
  object["column"] = statement.column;
  object["source"] = statement.source;
  object["target"] = statement.target;
  object["accumulate"] = statement.accumulate;
  object["kind"] = statement.kind;
  object["shape"] = statement.shape;
  object["dtype"] = statement.dtype;
  Json formula = Json::object();
  formula["shape"] = statement.shape_formula;
  add_counts(counts, object, formula, statement, detail::statement_counts());
  object["intensity"] = intensity_json(statement.intensity);
  object["formula"] = std::move(formula);
  Json contractions = Json::array();
  for (const auto& contraction : statement.contractions) {
    contractions.push_back(contraction_json(counts, contraction));
  }
  object["contractions"] = std::move(contractions);
  object["repeat_block"] = repeat_block_json(statement.repeat_block);
  return object;
}

Json tensor_json(JsonCounts& counts, const TensorReport& tensor) {
  Json object = Json::object();
  object["name"] = tensor.name;
  object["role"] = tensor.role;
  object["dtype"] = tensor.dtype;
  object["shape"] = tensor.shape;
  Json formula = Json::object();
  formula["shape"] = tensor.shape_formula;
  add_counts(counts, object, formula, tensor, detail::tensor_counts());
  object["formula"] = std::move(formula);
  return object;
}

Json totals_json(JsonCounts& counts, const TotalsReport& totals) {
  Json object = Json::object();
  Json formula = Json::object();
  add_counts(counts, object, formula, totals, detail::totals_counts());
  object["intensity"] = intensity_json(totals.intensity);
  object["formula"] = std::move(formula);
  return object;
}

std::string dump(const Json& json) { return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"; }

// The document `build(counts)` makes, dumped, with its big counts written
// out; the marker doubles until it is unique in the text.
template <typename Build>
std::string dump_with_counts(const Build& build) {
  for (std::string marker = "einc-count-past-int64:";; marker += marker) {
    JsonCounts counts(marker);
    const Json root = build(counts);
    if (std::optional<std::string> text = counts.finish(dump(root))) return *text;
  }
}

Json report_json(JsonCounts& counts, const Report& report) {
  Json root = Json::object();
  root["file"] = report.file;
  Json dims = Json::object();
  for (const auto& [name, value] : report.dims) dims[name] = value;
  root["dims"] = std::move(dims);
  Json tensors = Json::array();
  for (const auto& tensor : report.tensors) tensors.push_back(tensor_json(counts, tensor));
  root["tensors"] = std::move(tensors);
  Json statements = Json::array();
  for (const auto& statement : report.statements) {
    statements.push_back(statement_json(counts, statement));
  }
  root["statements"] = std::move(statements);
  root["repeat"] = report.repeat;
  root["totals"] = totals_json(counts, report.totals);
  return root;
}

Json sweep_json(JsonCounts& counts, const SweepReport& sweep) {
  Json root = Json::object();
  root["file"] = sweep.file;
  root["dim"] = sweep.dim;
  root["repeat"] = sweep.repeat;
  Json rows = Json::array();
  for (const auto& [value, totals] : sweep.rows) {
    Json row = Json::object();
    row["value"] = value;
    row["totals"] = totals_json(counts, totals);
    rows.push_back(std::move(row));
  }
  root["rows"] = std::move(rows);
  return root;
}

// ----------------------------------------------------------------- CSV

std::string intensity_text(double intensity) { return detail::significant(intensity, detail::kIntensityDigits); }

std::string report_csv(const Report& report) {
  const auto counts = detail::statement_counts();
  std::vector<std::string> header = {"line", "column", "target", "accumulate", "kind", "shape", "dtype"};
  for (const auto& field : counts) header.emplace_back(field.key);
  header.emplace_back("intensity");
  header.emplace_back("shape_formula");
  for (const auto& field : counts) {
    header.push_back(std::string(field.key) + "_formula");
  }
  header.insert(header.end(), {"contractions", "repeat", "source", "repeat_block_line", "repeat_block_index",
                               "repeat_block_count", "repeat_block_count_formula"});
  std::string text = detail::csv_row(header);

  for (const auto& statement : report.statements) {
    std::vector<std::string> row = {std::to_string(statement.line),
                                    std::to_string(statement.column),
                                    statement.target,
                                    statement.accumulate ? "true" : "false",
                                    statement.kind,
                                    detail::bracketed(statement.shape),
                                    statement.dtype};
    for (const auto& field : counts) {
      row.push_back(detail::exact_integer((statement.*field.member).value));
    }
    row.push_back(intensity_text(statement.intensity));
    row.push_back(detail::bracketed(statement.shape_formula));
    for (const auto& field : counts) {
      row.push_back((statement.*field.member).formula);
    }
    std::string contractions;
    for (const auto& contraction : statement.contractions) {
      if (!contractions.empty()) contractions += "; ";
      contractions += detail::contraction_summary(contraction);
    }
    row.insert(row.end(), {contractions, "", statement.source});
    if (const auto& block = statement.repeat_block) {
      row.insert(row.end(),
                 {std::to_string(block->line), block->index, std::to_string(block->count), block->count_formula});
    } else {
      row.insert(row.end(), 4, "");
    }
    text += detail::csv_row(row);
  }

  // TOTAL: the statement columns that totals do not have stay empty.
  const TotalsReport& totals = report.totals;
  auto total_count = [&](std::string_view key) -> const Count* {
    for (const auto& field : detail::totals_counts()) {
      if (field.key == key) return &(totals.*field.member);
    }
    return nullptr;
  };
  std::vector<std::string> row = {"", "", "TOTAL", "", "", "", ""};
  for (const auto& field : counts) {
    const Count* count = total_count(field.key);
    row.push_back(count ? detail::exact_integer(count->value) : "");
  }
  row.push_back(intensity_text(totals.intensity));
  row.emplace_back();
  for (const auto& field : counts) {
    const Count* count = total_count(field.key);
    row.push_back(count ? count->formula : "");
  }
  row.insert(row.end(), {"", std::to_string(report.repeat), "", "", "", "", ""});
  text += detail::csv_row(row);
  return text;
}

std::string sweep_csv(const SweepReport& sweep) {
  const auto counts = detail::totals_counts();
  std::vector<std::string> header = {"dim", "value"};
  for (const auto& field : counts) header.emplace_back(field.key);
  header.emplace_back("intensity");
  for (const auto& field : counts) {
    header.push_back(std::string(field.key) + "_formula");
  }
  header.emplace_back("repeat");
  std::string text = detail::csv_row(header);
  for (const auto& [value, totals] : sweep.rows) {
    std::vector<std::string> row = {sweep.dim, std::to_string(value)};
    for (const auto& field : counts) {
      row.push_back(detail::exact_integer((totals.*field.member).value));
    }
    row.push_back(intensity_text(totals.intensity));
    for (const auto& field : counts) {
      row.push_back((totals.*field.member).formula);
    }
    row.push_back(std::to_string(sweep.repeat));
    text += detail::csv_row(row);
  }
  return text;
}

}  // namespace

std::string format_report(const Report& report, ReportFormat format) {
  switch (format) {
    case ReportFormat::json:
      return dump_with_counts([&](JsonCounts& counts) { return report_json(counts, report); });
    case ReportFormat::csv:
      return report_csv(report);
    case ReportFormat::markdown:
      return detail::report_markdown(report);
    case ReportFormat::table:
      break;
  }
  return detail::report_table(report);
}

std::string format_sweep(const SweepReport& sweep, ReportFormat format) {
  switch (format) {
    case ReportFormat::json:
      return dump_with_counts([&](JsonCounts& counts) { return sweep_json(counts, sweep); });
    case ReportFormat::csv:
      return sweep_csv(sweep);
    case ReportFormat::markdown:
      return detail::sweep_markdown(sweep);
    case ReportFormat::table:
      break;
  }
  return detail::sweep_table(sweep);
}

}  // namespace einc
