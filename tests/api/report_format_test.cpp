// tests/api/report_format_test.cpp — unit tests of the report formatters
// (api/report_format.cpp and friends) and of the number helpers in
// api/format_numbers.h.
//
// The report is built by hand (no compiler involved) so these tests pin the
// formatting alone: two statements (a three-operand contraction with a
// two-step path, and an accumulating elementwise statement whose source has
// a comma and quotes), repeat 2; make_repeat_report() puts the second in a
// `repeat l < L` block. Each format is checked by structure —
// the JSON parsed back, the CSV parsed with an RFC 4180 reader, the table's
// rows measured for alignment — plus the key substrings a reader relies on.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../../api/format_numbers.h"
#include "einc/report.h"

namespace einc {
namespace {

using Json = nlohmann::ordered_json;

Count count(std::int64_t value, std::string formula) { return Count{value, std::move(formula)}; }

// 2^127 - 1, the largest count.
constexpr CountValue kCountMax = (CountValue{1} << 126) - 1 + (CountValue{1} << 126);

TensorReport tensor(std::string name, std::string role, std::vector<std::int64_t> shape,
                    std::vector<std::string> shape_formula, Count elements, Count bytes) {
  TensorReport t;
  t.name = std::move(name);
  t.role = std::move(role);
  t.dtype = "f32";
  t.shape = std::move(shape);
  t.shape_formula = std::move(shape_formula);
  t.elements = std::move(elements);
  t.bytes = std::move(bytes);
  return t;
}

// Y = A*B*C summed over j, k, then Z += exp(Y) * g; dims M K N L; repeat 2.
Report make_report() {
  Report r;
  r.file = "model.ein";
  r.dims = {{"M", 1000}, {"K", 4096}, {"N", 512}, {"L", 64}};
  r.tensors = {
      tensor("A", "input", {1000, 4096}, {"M", "K"}, count(4096000, "M*K"), count(16384000, "4*M*K")),
      tensor("B", "param", {4096, 512}, {"K", "N"}, count(2097152, "K*N"), count(8388608, "4*K*N")),
      tensor("C", "param", {512, 64}, {"N", "L"}, count(32768, "N*L"), count(131072, "4*N*L")),
      tensor("g", "param", {64}, {"L"}, count(64, "L"), count(256, "4*L")),
      tensor("Y", "intermediate", {1000, 64}, {"M", "L"}, count(64000, "M*L"), count(256000, "4*M*L")),
      tensor("Z", "output", {1000, 64}, {"M", "L"}, count(64000, "M*L"), count(256000, "4*M*L")),
  };

  StatementReport s1;
  s1.line = 5;
  s1.column = 1;
  s1.source = "Y[i, l] = A[i, j] * B[j, k] * C[k, l]";
  s1.target = "Y";
  s1.kind = "contraction";
  s1.shape = {1000, 64};
  s1.shape_formula = {"M", "L"};
  s1.dtype = "f32";
  s1.outputs = count(64000, "M*L");
  s1.dot_products = count(64000, "M*L");
  s1.reduction_length = count(2097152, "K*N");
  s1.macs = count(2129920000, "M*K*N + M*N*L");
  s1.naive_macs = count(134217728000, "M*K*N*L");
  s1.flops = count(4259840000, "2*M*K*N + 2*M*N*L");
  s1.transcendentals = count(0, "0");
  s1.bytes = count(25159680, "4*M*K + 4*K*N + 4*N*L + 4*M*L");
  s1.params = count(2129920, "K*N + N*L");
  s1.intensity = 4259840000.0 / 25159680.0;
  ContractionReport c;
  c.expression = "sum(j, k: A[i, j] * B[j, k] * C[k, l])";
  c.operands = {"A[i, j]", "B[j, k]", "C[k, l]"};
  c.summed = {"j", "k"};
  c.dot_products = s1.dot_products;
  c.reduction_length = s1.reduction_length;
  c.macs = s1.macs;
  c.naive_macs = s1.naive_macs;
  c.flops = s1.flops;
  c.path = {{0, 1}, {0, 1}};
  c.order = "((A*B)*C)";
  s1.contractions = {c};

  StatementReport s2;
  s2.line = 6;
  s2.column = 1;
  s2.source = "Z[i, l] += exp(Y[i, l]) * g[l]  # \"gate\", scaled";
  s2.target = "Z";
  s2.accumulate = true;
  s2.kind = "elementwise";
  s2.shape = {1000, 64};
  s2.shape_formula = {"M", "L"};
  s2.dtype = "f32";
  s2.outputs = count(64000, "M*L");
  s2.dot_products = count(0, "0");
  s2.reduction_length = count(1, "1");
  s2.macs = count(0, "0");
  s2.naive_macs = count(0, "0");
  s2.flops = count(128000, "2*M*L");
  s2.transcendentals = count(64000, "M*L");
  s2.bytes = count(768256, "12*M*L + 4*L");
  s2.params = count(64, "L");
  s2.intensity = 128000.0 / 768256.0;

  r.statements = {s1, s2};
  r.repeat = 2;
  r.totals.outputs = count(256000, "4*M*L");
  r.totals.dot_products = count(128000, "2*M*L");
  r.totals.macs = count(4259840000, "2*M*K*N + 2*M*N*L");
  r.totals.naive_macs = count(268435456000, "2*M*K*N*L");
  r.totals.flops = count(8519936000, "4*M*K*N + 4*M*N*L + 4*M*L");
  r.totals.transcendentals = count(128000, "2*M*L");
  r.totals.bytes = count(51855872, "8*M*K + 8*K*N + 8*N*L + 32*M*L + 8*L");
  r.totals.params = count(4259968, "2*K*N + 2*N*L + 2*L");
  r.totals.intensity = 8519936000.0 / 51855872.0;
  return r;
}

// The totals of make_report() with M bound to `m` (only MACs scale here).
TotalsReport totals_for(std::int64_t m) {
  TotalsReport t = make_report().totals;
  t.macs.value = m * 4259840;
  t.flops.value = m * 8519936;
  t.intensity = static_cast<double>(t.flops.value) / 51855872.0;
  return t;
}

SweepReport make_sweep() {
  SweepReport s;
  s.file = "model.ein";
  s.dim = "M";
  s.repeat = 2;
  s.rows = {{1, totals_for(1)}, {1000, totals_for(1000)}, {100000, totals_for(100000)}};
  return s;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A small RFC 4180 reader: records of fields, quotes and embedded line
// breaks handled; a record ends at an unquoted LF.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"') {
      EXPECT_TRUE(field.empty()) << "quote inside an unquoted field";
      quoted = true;
    } else if (ch == ',') {
      record.push_back(field);
      field.clear();
    } else if (ch == '\n') {
      record.push_back(field);
      field.clear();
      records.push_back(record);
      record.clear();
    } else {
      field += ch;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_TRUE(field.empty() && record.empty()) << "no final line break";
  return records;
}

// The number of `|` in a Markdown table line that are not escaped as `\|`.
int unescaped_pipes(const std::string& line) {
  int pipes = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++pipes;
  }
  return pipes;
}

// ------------------------------------------------------- number helpers

TEST(FormatNumbers, WithThousands) {
  using detail::with_thousands;
  EXPECT_EQ(with_thousands(0), "0");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(1000), "1,000");
  EXPECT_EQ(with_thousands(999999), "999,999");
  EXPECT_EQ(with_thousands(4096000000), "4,096,000,000");
  EXPECT_EQ(with_thousands(-1234), "-1,234");
  EXPECT_EQ(with_thousands(-999), "-999");
  EXPECT_EQ(with_thousands(std::numeric_limits<std::int64_t>::max()), "9,223,372,036,854,775,807");
  EXPECT_EQ(with_thousands(std::numeric_limits<std::int64_t>::min()), "-9,223,372,036,854,775,808");
}

TEST(FormatNumbers, SiCompact) {
  using detail::si_compact;
  EXPECT_EQ(si_compact(0), "0");
  EXPECT_EQ(si_compact(999), "999");
  EXPECT_EQ(si_compact(-999), "-999");
  EXPECT_EQ(si_compact(1000), "1.00 k");
  EXPECT_EQ(si_compact(1005), "1.01 k");  // half up
  EXPECT_EQ(si_compact(9994), "9.99 k");
  EXPECT_EQ(si_compact(9995), "10.0 k");  // carries into the 1-decimal form
  EXPECT_EQ(si_compact(51200), "51.2 k");
  EXPECT_EQ(si_compact(512000), "512.0 k");
  EXPECT_EQ(si_compact(999949), "999.9 k");
  EXPECT_EQ(si_compact(999950), "1.00 M");  // carries into the next unit
  EXPECT_EQ(si_compact(999999), "1.00 M");
  EXPECT_EQ(si_compact(4096000000), "4.10 G");
  EXPECT_EQ(si_compact(-4096000000), "-4.10 G");
  EXPECT_EQ(si_compact(1000000000000), "1.00 T");
  EXPECT_EQ(si_compact(1500000000000000), "1.50 P");
  EXPECT_EQ(si_compact(std::numeric_limits<std::int64_t>::max()), "9.22 E");
  EXPECT_EQ(si_compact(std::numeric_limits<std::int64_t>::min()), "-9.22 E");
}

TEST(FormatNumbers, CountsPastInt64) {
  using detail::exact_integer;
  using detail::si_compact;
  using detail::with_thousands;
  const CountValue max = kCountMax;
  const CountValue min = -max - 1;
  EXPECT_EQ(exact_integer(0), "0");
  EXPECT_EQ(exact_integer(-12), "-12");
  EXPECT_EQ(exact_integer(max), "170141183460469231731687303715884105727");
  EXPECT_EQ(exact_integer(min), "-170141183460469231731687303715884105728");
  EXPECT_EQ(einc::to_string(max), "170141183460469231731687303715884105727");
  EXPECT_EQ(einc::to_string(CountValue{1} << 64), "18446744073709551616");
  EXPECT_EQ(with_thousands(max), "170,141,183,460,469,231,731,687,303,715,884,105,727");
  EXPECT_EQ(with_thousands(min), "-170,141,183,460,469,231,731,687,303,715,884,105,728");
  EXPECT_EQ(with_thousands(CountValue{6} * 70000000000 * 1400000000000), "588,000,000,000,000,000,000,000");
  EXPECT_EQ(si_compact(CountValue{6} * 70000000000 * 1400000000000), "588.0 Z");
  EXPECT_EQ(si_compact(CountValue{1000000000} * 1000000000000), "1.00 Z");
  EXPECT_EQ(si_compact(CountValue{1000000000000} * 1000000000000), "1.00 Y");
  EXPECT_EQ(si_compact(CountValue{999950000000} * 1000000000000000), "1.00 R");  // carries into the next unit
  EXPECT_EQ(si_compact(CountValue{1000000000000000} * 1000000000000000), "1.00 Q");
  EXPECT_EQ(si_compact(max), "170141183.5 Q");  // past Q the mantissa grows
  EXPECT_EQ(si_compact(min), "-170141183.5 Q");
}

TEST(FormatNumbers, Decimals) {
  EXPECT_EQ(detail::fixed_decimals(58.514, 2), "58.51");
  EXPECT_EQ(detail::fixed_decimals(0.0, 2), "0.00");
  EXPECT_EQ(detail::fixed_decimals(99.95, 1), "100.0");
  EXPECT_EQ(detail::significant(169.31224, 4), "169.3");
  EXPECT_EQ(detail::significant(0.166611, 4), "0.1666");
  EXPECT_EQ(detail::significant(12346.0, 4), "12350");
  EXPECT_EQ(detail::significant(0.0, 4), "0");
  EXPECT_DOUBLE_EQ(detail::round_significant(164.30345, 4), 164.3);
}

TEST(FormatNumbers, CsvField) {
  using detail::csv_field;
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csv_field(" padded"), "\" padded\"");
  EXPECT_EQ(detail::csv_row({"a", "b,c", ""}), "a,\"b,c\",\n");
}

TEST(FormatNumbers, Markdown) {
  EXPECT_EQ(detail::markdown_cell("a|b"), "a\\|b");
  EXPECT_EQ(detail::markdown_cell("a\nb"), "a b");
  EXPECT_EQ(detail::markdown_code("T*D*D"), "`T*D*D`");
  EXPECT_EQ(detail::markdown_code("a|b"), "`a\\|b`");
  EXPECT_EQ(detail::markdown_code("a`b"), "``a`b``");
  EXPECT_EQ(detail::markdown_code("`x"), "`` `x ``");
  EXPECT_EQ(detail::markdown_code(""), "");
}

// ----------------------------------------------------------------- JSON

TEST(ReportJson, StructureAndExactValues) {
  const std::string text = format_report(make_report(), ReportFormat::json);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_TRUE(contains(text, "{\n  \"file\": \"model.ein\",\n"));  // indent 2

  const Json json = Json::parse(text);
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"file", "dims", "tensors", "statements", "repeat", "totals"}));

  std::vector<std::string> dim_names;
  for (const auto& item : json["dims"].items()) dim_names.push_back(item.key());
  EXPECT_EQ(dim_names, (std::vector<std::string>{"M", "K", "N", "L"}));
  EXPECT_EQ(json["dims"]["K"], 4096);
  EXPECT_EQ(json["repeat"], 2);

  ASSERT_EQ(json["tensors"].size(), 6u);
  EXPECT_EQ(json["tensors"][1]["name"], "B");
  EXPECT_EQ(json["tensors"][1]["role"], "param");
  EXPECT_EQ(json["tensors"][1]["formula"]["elements"], "K*N");

  ASSERT_EQ(json["statements"].size(), 2u);
  const Json& s1 = json["statements"][0];
  EXPECT_EQ(s1["line"], 5);
  EXPECT_EQ(s1["column"], 1);
  EXPECT_EQ(s1["target"], "Y");
  EXPECT_EQ(s1["accumulate"], false);
  EXPECT_EQ(s1["kind"], "contraction");
  EXPECT_EQ(s1["shape"], Json::parse("[1000, 64]"));
  EXPECT_EQ(s1["dtype"], "f32");
  ASSERT_TRUE(s1["macs"].is_number_integer());
  EXPECT_EQ(s1["macs"].get<std::int64_t>(), 2129920000);
  EXPECT_EQ(s1["naive_macs"].get<std::int64_t>(), 134217728000);
  EXPECT_EQ(s1["reduction_length"], 2097152);
  EXPECT_EQ(s1["params"], 2129920);
  EXPECT_DOUBLE_EQ(s1["intensity"].get<double>(), 169.3);
  EXPECT_EQ(s1["formula"]["shape"], Json::parse(R"(["M", "L"])"));
  EXPECT_EQ(s1["formula"]["macs"], "M*K*N + M*N*L");
  EXPECT_EQ(s1["formula"]["transcendentals"], "0");
  for (const char* key : {"outputs", "dot_products", "reduction_length", "macs", "naive_macs", "flops",
                          "transcendentals", "bytes", "params"}) {
    EXPECT_TRUE(s1.contains(key)) << key;
    EXPECT_TRUE(s1["formula"].contains(key)) << key;
  }

  ASSERT_EQ(s1["contractions"].size(), 1u);
  const Json& c = s1["contractions"][0];
  EXPECT_EQ(c["operands"].size(), 3u);
  EXPECT_EQ(c["summed"], Json::parse(R"(["j", "k"])"));
  EXPECT_EQ(c["path"], Json::parse("[[0, 1], [0, 1]]"));
  EXPECT_EQ(c["order"], "((A*B)*C)");
  EXPECT_EQ(c["macs"], 2129920000);
  EXPECT_EQ(c["formula"]["naive_macs"], "M*K*N*L");

  const Json& s2 = json["statements"][1];
  EXPECT_EQ(s2["accumulate"], true);
  EXPECT_EQ(s2["source"], "Z[i, l] += exp(Y[i, l]) * g[l]  # \"gate\", scaled");
  EXPECT_TRUE(s2["contractions"].is_array());
  EXPECT_TRUE(s2["contractions"].empty());

  const Json& totals = json["totals"];
  EXPECT_EQ(totals["macs"].get<std::int64_t>(), 4259840000);
  EXPECT_EQ(totals["flops"].get<std::int64_t>(), 8519936000);
  EXPECT_EQ(totals["params"], 4259968);
  EXPECT_DOUBLE_EQ(totals["intensity"].get<double>(), 164.3);
  EXPECT_EQ(totals["formula"]["bytes"], "8*M*K + 8*K*N + 8*N*L + 32*M*L + 8*L");
}

TEST(ReportJson, DeterministicAndExactAtInt64Max) {
  Report report = make_report();
  EXPECT_EQ(format_report(report, ReportFormat::json), format_report(report, ReportFormat::json));
  report.totals.macs.value = std::numeric_limits<std::int64_t>::max();
  const Json json = Json::parse(format_report(report, ReportFormat::json));
  EXPECT_EQ(json["totals"]["macs"].get<std::int64_t>(), std::numeric_limits<std::int64_t>::max());
}

// A count past 2^64 is a plain JSON integer token with every digit (nlohmann
// cannot hold it, so the formatter writes it itself).
TEST(ReportJson, CountsPastInt64AreExactIntegerTokens) {
  Report report = make_report();
  const CountValue big = (CountValue{1} << 100) + 7;  // 1267650600228229401496703205383
  const CountValue max = kCountMax;
  report.totals.macs.value = big;
  report.totals.flops.value = max;
  report.statements[0].macs.value = big;
  report.statements[0].contractions[0].macs.value = CountValue{1} << 64;
  report.tensors[0].elements.value = (CountValue{1} << 63);
  const std::string text = format_report(report, ReportFormat::json);
  EXPECT_TRUE(contains(text, "\"macs\": 1267650600228229401496703205383,\n")) << text;
  EXPECT_TRUE(contains(text, "\"flops\": 170141183460469231731687303715884105727,\n")) << text;
  EXPECT_TRUE(contains(text, "\"macs\": 18446744073709551616,\n")) << text;
  EXPECT_TRUE(contains(text, "\"elements\": 9223372036854775808,\n")) << text;
  EXPECT_FALSE(contains(text, "einc-count")) << text;
  // Still valid JSON, and the big counts are numbers (a reader without big
  // integers sees a double), never strings.
  const Json json = Json::parse(text);
  EXPECT_TRUE(json["totals"]["macs"].is_number());
  EXPECT_DOUBLE_EQ(json["totals"]["macs"].get<double>(), 1267650600228229401496703205383.0);
  EXPECT_TRUE(json["statements"][0]["macs"].is_number());
  EXPECT_EQ(json["totals"]["formula"]["macs"], "2*M*K*N + 2*M*N*L");
  // The rest of the document is unchanged by the substitution.
  Report small = make_report();
  const Json reference = Json::parse(format_report(small, ReportFormat::json));
  EXPECT_EQ(json["statements"][1], reference["statements"][1]);
  EXPECT_EQ(json["tensors"][1], reference["tensors"][1]);

  // Sweeps too.
  SweepReport sweep;
  sweep.file = "model.ein";
  sweep.dim = "N";
  sweep.rows.emplace_back(70000000000, TotalsReport{});
  sweep.rows.back().second.flops.value = CountValue{6} * 70000000000 * 1400000000000;
  const std::string sweep_text = format_sweep(sweep, ReportFormat::json);
  EXPECT_TRUE(contains(sweep_text, "\"flops\": 588000000000000000000000,\n")) << sweep_text;
  EXPECT_TRUE(Json::accept(sweep_text));
}

// A script's text can hold the placeholder the formatter uses for big counts:
// it stays text, and the count is still written out.
TEST(ReportJson, PlaceholderLookalikesInStringsStayStrings) {
  Report report = make_report();
  report.totals.macs.value = CountValue{1} << 100;
  for (const std::string lookalike : {"einc-count-past-int64:0", "einc-count-past-int64:"}) {
    report.statements[1].source = lookalike;
    report.file = "\"" + lookalike + "\"";
    const std::string text = format_report(report, ReportFormat::json);
    const Json json = Json::parse(text);
    EXPECT_EQ(json["statements"][1]["source"], lookalike);
    EXPECT_EQ(json["file"], "\"" + lookalike + "\"");
    EXPECT_TRUE(contains(text, "\"macs\": 1267650600228229401496703205376,\n")) << text;
    EXPECT_TRUE(json["totals"]["macs"].is_number());
  }
}

TEST(ReportJson, InvalidUtf8DoesNotThrow) {
  Report report = make_report();
  report.statements[1].source = "Z = Y  # caf\xe9";
  std::string text;
  EXPECT_NO_THROW(text = format_report(report, ReportFormat::json));
  EXPECT_TRUE(Json::accept(text));
}

// ------------------------------------------------------------------ CSV

TEST(ReportCsv, RowsAndQuoting) {
  const std::string text = format_report(make_report(), ReportFormat::csv);
  const auto records = parse_csv(text);
  ASSERT_EQ(records.size(), 4u);  // header, 2 statements, TOTAL
  const auto& header = records[0];
  for (const auto& record : records) EXPECT_EQ(record.size(), header.size());

  auto column = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return std::size_t{0};
  };
  EXPECT_EQ(header[0], "line");
  EXPECT_EQ(records[1][column("target")], "Y");
  EXPECT_EQ(records[1][column("macs")], "2129920000");
  EXPECT_EQ(records[1][column("macs_formula")], "M*K*N + M*N*L");
  EXPECT_EQ(records[1][column("shape")], "[1000, 64]");
  EXPECT_EQ(records[1][column("intensity")], "169.3");
  EXPECT_EQ(records[1][column("contractions")], "sum(j, k): ((A*B)*C)");
  EXPECT_EQ(records[2][column("accumulate")], "true");
  EXPECT_EQ(records[2][column("source")], "Z[i, l] += exp(Y[i, l]) * g[l]  # \"gate\", scaled");
  EXPECT_EQ(records[3][column("target")], "TOTAL");
  EXPECT_EQ(records[3][column("macs")], "4259840000");
  EXPECT_EQ(records[3][column("naive_macs")], "268435456000");
  EXPECT_EQ(records[3][column("repeat")], "2");
  EXPECT_EQ(records[3][column("reduction_length")], "");

  // The raw text quotes the source and doubles its quotes.
  EXPECT_TRUE(contains(text, "\"Z[i, l] += exp(Y[i, l]) * g[l]  # \"\"gate\"\", scaled\""));
}

TEST(ReportTextFormats, CountsPastInt64AreExact) {
  Report report = make_report();
  const CountValue flops = CountValue{6} * 70000000000 * 1400000000000;  // 588,000,000,000,000,000,000,000
  report.totals.flops.value = flops;
  report.statements[0].flops.value = flops;
  report.statements[0].macs.value = flops / 2;
  report.totals.macs.value = flops / 2;

  const auto records = parse_csv(format_report(report, ReportFormat::csv));
  ASSERT_EQ(records.size(), 4u);
  std::size_t flops_column = 0;
  while (flops_column < records[0].size() && records[0][flops_column] != "flops") ++flops_column;
  ASSERT_LT(flops_column, records[0].size());
  EXPECT_EQ(records[1][flops_column], "588000000000000000000000");
  EXPECT_EQ(records[3][flops_column], "588000000000000000000000");

  const std::string markdown = format_report(report, ReportFormat::markdown);
  EXPECT_TRUE(contains(markdown, "| FLOPs | 588,000,000,000,000,000,000,000 |")) << markdown;
  EXPECT_TRUE(contains(markdown, "| 294,000,000,000,000,000,000,000 |")) << markdown;

  const std::string table = format_report(report, ReportFormat::table);
  EXPECT_TRUE(contains(table, "588,000,000,000,000,000,000,000  (")) << table;
  EXPECT_TRUE(contains(table, "588.0 Z")) << table;
  EXPECT_TRUE(contains(table, "294.0 Z")) << table;
}

// ---------------------------------------------------------------- table

TEST(ReportTable, TitleColumnsAndTotals) {
  const std::string text = format_report(make_report(), ReportFormat::table);
  const auto lines = split_lines(text);
  ASSERT_GE(lines.size(), 8u);
  EXPECT_EQ(lines[0], "model.ein  M=1000 K=4096 N=512 L=64");
  EXPECT_EQ(lines[1], "");

  // The statement table runs from the header to the first blank line.
  const std::string& header = lines[2];
  EXPECT_EQ(header.rfind("line", 0), 0u) << header;
  std::vector<std::string> rows;   // header, rules, statements, total
  std::vector<std::string> notes;  // contraction lines
  std::size_t i = 2;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    (contains(lines[i], "sum(") ? notes : rows).push_back(lines[i]);
  }
  ASSERT_EQ(rows.size(), 6u);  // header, rule, Y, Z, rule, total
  for (const auto& row : rows) {
    EXPECT_EQ(row.size(), header.size()) << row;
    EXPECT_LT(row.size(), 140u);
  }
  // Right-aligned counts end where their header ends.
  const std::string& y = rows[2];
  EXPECT_EQ(header.find("MACs") + 4, y.find("2.13 G") + 6);
  EXPECT_EQ(header.find("FLOPs") + 5, y.find("4.26 G") + 6);
  EXPECT_EQ(header.find("bytes") + 5, y.find("25.2 M") + 6);
  EXPECT_TRUE(contains(y, "[1000, 64]"));
  EXPECT_TRUE(contains(y, "169.31"));
  EXPECT_EQ(y.substr(y.size() - 5), "100.0");
  // Left-aligned text starts where its header starts.
  EXPECT_EQ(y.find("contraction"), header.find("kind"));
  EXPECT_EQ(rows[3].find("Z +="), header.find("target"));
  EXPECT_EQ(rows[3].substr(rows[3].size() - 3), "0.0");
  EXPECT_EQ(rows[4].find_first_not_of("- "), std::string::npos);
  EXPECT_TRUE(contains(rows[5], "total x 2"));
  EXPECT_TRUE(contains(rows[5], "4.26 G"));  // total MACs

  ASSERT_EQ(notes.size(), 1u);
  EXPECT_TRUE(contains(notes[0],
                       "sum(j, k): ((A*B)*C)  macs 2,129,920,000 = "
                       "M*K*N + M*N*L  naive 134,217,728,000"))
      << notes[0];
  EXPECT_GT(notes[0].find("sum("), header.find("target"));

  // Exact totals below the table.
  EXPECT_TRUE(contains(text, "\ntotals x 2:\n"));
  EXPECT_TRUE(contains(text, "4,259,840,000  (2*M*K*N + 2*M*N*L)\n"));
  EXPECT_TRUE(contains(text, "  params  ") || contains(text, "  params "));
  EXPECT_TRUE(contains(text, "4,259,968  (2*K*N + 2*N*L + 2*L)\n"));
  EXPECT_TRUE(contains(text, "164.30  FLOP/byte\n"));
  for (const auto& line : lines) {
    EXPECT_TRUE(line.empty() || line.back() != ' ') << "trailing space: " << line;
  }
}

TEST(ReportTable, EmptyReport) {
  Report report;
  report.file = "empty.ein";
  const std::string text = format_report(report, ReportFormat::table);
  EXPECT_TRUE(contains(text, "empty.ein\n\n"));
  const auto lines = split_lines(text);
  ASSERT_GE(lines.size(), 6u);  // title, blank, header, rule, rule, total
  EXPECT_TRUE(contains(lines[5], "total"));
  EXPECT_EQ(lines[5].back(), '-');  // no MACs: no share
  EXPECT_EQ(lines[5].size(), lines[2].size());

  const Json json = Json::parse(format_report(report, ReportFormat::json));
  EXPECT_TRUE(json["dims"].is_object());
  EXPECT_TRUE(json["statements"].is_array());
  EXPECT_EQ(parse_csv(format_report(report, ReportFormat::csv)).size(), 2u);
  EXPECT_TRUE(contains(format_report(report, ReportFormat::markdown), "Dims: none"));
}

// The second statement of make_report() inside `repeat l < L` (line 4, 12
// layers): every format says so, the first statement stays unmarked.
Report make_repeat_report() {
  Report report = make_report();
  report.statements[1].repeat_block = RepeatBlockReport{4, "l", 12, "L"};
  return report;
}

TEST(ReportRepeatBlock, JsonAndCsvCarryTheBlock) {
  const Json json = Json::parse(format_report(make_repeat_report(), ReportFormat::json));
  EXPECT_TRUE(json["statements"][0].contains("repeat_block"));
  EXPECT_TRUE(json["statements"][0]["repeat_block"].is_null());
  const Json& block = json["statements"][1]["repeat_block"];
  EXPECT_EQ(block, Json::parse(R"({"line": 4, "index": "l", "count": 12, "formula": {"count": "L"}})"));
  // Outside a block the key is still there, null.
  EXPECT_TRUE(Json::parse(format_report(make_report(), ReportFormat::json))["statements"][1]["repeat_block"].is_null());

  const auto records = parse_csv(format_report(make_repeat_report(), ReportFormat::csv));
  ASSERT_EQ(records.size(), 4u);
  const auto& header = records[0];
  ASSERT_GE(header.size(), 4u);
  const std::vector<std::string> last(header.end() - 4, header.end());
  EXPECT_EQ(last, (std::vector<std::string>{"repeat_block_line", "repeat_block_index", "repeat_block_count",
                                            "repeat_block_count_formula"}));
  const std::size_t first = header.size() - 4;
  EXPECT_EQ(std::vector<std::string>(records[2].begin() + first, records[2].end()),
            (std::vector<std::string>{"4", "l", "12", "L"}));
  for (const std::size_t row : {1u, 3u}) {
    for (std::size_t i = first; i < header.size(); ++i) EXPECT_EQ(records[row][i], "") << row << " " << header[i];
  }
}

TEST(ReportRepeatBlock, TableMarksTheRowsAndNamesTheBlock) {
  const std::string text = format_report(make_repeat_report(), ReportFormat::table);
  const auto lines = split_lines(text);
  const std::string& header = lines[2];
  const std::size_t column = header.find("repeat");
  ASSERT_NE(column, std::string::npos) << header;
  EXPECT_LT(column, header.find("MACs"));
  std::vector<std::string> rows;
  for (std::size_t i = 2; i < lines.size() && !lines[i].empty(); ++i) {
    if (!contains(lines[i], "sum(")) rows.push_back(lines[i]);
  }
  ASSERT_EQ(rows.size(), 6u);  // header, rule, Y, Z, rule, total
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size()) << row;
  EXPECT_EQ(rows[3].find("x L"), column) << rows[3];             // Z +=, in the block
  EXPECT_EQ(rows[2].find("x L"), std::string::npos) << rows[2];  // Y, outside
  EXPECT_EQ(rows[2][column], ' ');
  EXPECT_TRUE(contains(text,
                       "\nx L: runs in repeat l < L (line 4), L = 12 times; the counts on its rows include "
                       "the factor\n\ntotals x 2:\n"))
      << text;

  // Without a block there is no repeat column and no legend.
  const std::string plain = format_report(make_report(), ReportFormat::table);
  EXPECT_FALSE(contains(split_lines(plain)[2], "repeat"));
  EXPECT_FALSE(contains(plain, "runs in"));
}

TEST(ReportRepeatBlock, MarkdownMarksTheRowsAndNamesTheBlock) {
  const std::string text = format_report(make_repeat_report(), ReportFormat::markdown);
  EXPECT_TRUE(contains(text, "| line | target | kind | shape | dtype | repeat | outputs |")) << text;
  EXPECT_TRUE(contains(text, "| 5 | `Y` | contraction | `[1000, 64]` | f32 |  | 64,000 |")) << text;
  EXPECT_TRUE(contains(text, "| 6 | `Z +=` | elementwise | `[1000, 64]` | f32 | `x L` | 64,000 |")) << text;
  EXPECT_TRUE(contains(text,
                       "`x L`: runs in `repeat l < L` (line 4), `L` = 12 times; the counts on its rows "
                       "include the factor.\n"))
      << text;
  EXPECT_FALSE(contains(format_report(make_report(), ReportFormat::markdown), "| repeat |"));

  // A literal count is not repeated as a formula.
  Report literal = make_report();
  literal.statements[1].repeat_block = RepeatBlockReport{4, "l", 3, "3"};
  EXPECT_TRUE(contains(format_report(literal, ReportFormat::table), "x 3: runs in repeat l < 3 (line 4), 3 times;"));
}

// ------------------------------------------------------------- markdown

TEST(ReportMarkdown, TablesAndEscaping) {
  Report report = make_report();
  report.statements[1].macs.formula = "a|b";  // must not split a cell
  const std::string text = format_report(report, ReportFormat::markdown);
  const auto lines = split_lines(text);
  EXPECT_EQ(lines[0], "# einc report: model.ein");
  EXPECT_TRUE(contains(text, "Dims: `M=1000`, `K=4096`, `N=512`, `L=64`\n"));
  EXPECT_TRUE(contains(text, "Totals are for 2 repeats"));
  EXPECT_TRUE(contains(text, "| 5 | `Y` | contraction | `[1000, 64]` | f32 |"));
  EXPECT_TRUE(contains(text, "| 2,129,920,000 |"));
  EXPECT_TRUE(contains(text, "`Z +=`"));
  EXPECT_TRUE(contains(text, "`a\\|b`"));
  EXPECT_TRUE(contains(text, "## Contractions"));
  EXPECT_TRUE(contains(text, "`((A*B)*C)`"));
  EXPECT_TRUE(contains(text, "| MACs | 4,259,840,000 | `2*M*K*N + 2*M*N*L` |"));

  // Every line of one table has the same number of cell borders.
  int expected = -1;
  for (const auto& line : lines) {
    if (line.empty() || line[0] != '|') {
      expected = -1;
      continue;
    }
    if (expected < 0) expected = unescaped_pipes(line);
    EXPECT_EQ(unescaped_pipes(line), expected) << line;
  }
}

// ---------------------------------------------------------------- sweep

TEST(SweepFormats, AllFour) {
  const SweepReport sweep = make_sweep();

  const std::string table = format_sweep(sweep, ReportFormat::table);
  const auto lines = split_lines(table);
  EXPECT_EQ(lines[0], "model.ein  sweep over M  (totals x 2)");
  EXPECT_EQ(lines[1], "");
  for (std::size_t i = 2; i < 7; ++i) {
    EXPECT_EQ(lines[i].size(), lines[2].size()) << lines[i];
  }
  EXPECT_TRUE(contains(lines[6], "426.0 G"));  // M = 100000 MACs
  EXPECT_TRUE(contains(table, "\nexact:\n"));
  EXPECT_TRUE(contains(table, "425,984,000,000"));
  EXPECT_TRUE(contains(table, "MACs             2*M*K*N + 2*M*N*L\n"));

  const Json json = Json::parse(format_sweep(sweep, ReportFormat::json));
  EXPECT_EQ(json["file"], "model.ein");
  EXPECT_EQ(json["dim"], "M");
  EXPECT_EQ(json["repeat"], 2);
  ASSERT_EQ(json["rows"].size(), 3u);
  EXPECT_EQ(json["rows"][2]["value"], 100000);
  EXPECT_EQ(json["rows"][2]["totals"]["macs"].get<std::int64_t>(), 425984000000);
  EXPECT_EQ(json["rows"][2]["totals"]["formula"]["macs"], "2*M*K*N + 2*M*N*L");

  const auto csv = parse_csv(format_sweep(sweep, ReportFormat::csv));
  ASSERT_EQ(csv.size(), 4u);
  EXPECT_EQ(csv[0][0], "dim");
  EXPECT_EQ(csv[0][1], "value");
  EXPECT_EQ(csv[1][0], "M");
  EXPECT_EQ(csv[3][1], "100000");
  for (const auto& record : csv) EXPECT_EQ(record.size(), csv[0].size());

  const std::string md = format_sweep(sweep, ReportFormat::markdown);
  EXPECT_TRUE(contains(md, "# einc sweep: model.ein\n"));
  EXPECT_TRUE(contains(md, "| M | outputs | MACs |"));
  EXPECT_TRUE(contains(md, "| 100000 | 256,000 | 425,984,000,000 |"));
}

TEST(SweepFormats, NoRows) {
  SweepReport sweep;
  sweep.file = "model.ein";
  sweep.dim = "T";
  EXPECT_TRUE(contains(format_sweep(sweep, ReportFormat::table), "no values"));
  const Json json = Json::parse(format_sweep(sweep, ReportFormat::json));
  EXPECT_TRUE(json["rows"].is_array());
  EXPECT_EQ(parse_csv(format_sweep(sweep, ReportFormat::csv)).size(), 1u);
}

}  // namespace
}  // namespace einc
