// einc/report.h — the cost report of a compiled program as plain C++ data.
//
// Every count is exact (a signed 128-bit integer, CountValue: training-scale
// totals such as 6·N·D ≈ 10^24 fit; a count past 2^127−1 is an error
// upstream, never a wrapped number) and comes with the polynomial in the dims
// it was evaluated from, printed like `T*D*D` (or `(T*T + T)/2`). Reports
// only format this data; the counting itself is the IR's cost model
// (ir/cost_model.h). Extents (shapes, dims) stay std::int64_t.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace einc {

// The value of a count: GCC's and Clang's signed 128-bit integer
// (`__extension__` keeps -Wpedantic quiet). It compares and converts like any
// integer (`static_cast<double>(v)`, `v == 42`); iostreams and std::to_string
// do not know it, so print it with einc::to_string.
__extension__ typedef __int128 CountValue;

// Exact decimal text of a count: "590000000000000000000000".
std::string to_string(CountValue value);

// One count: its value under the bound dims and its formula in the dims.
struct Count {
  CountValue value = 0;
  std::string formula = "0";
};

// One contraction term inside a statement: a product that sums, planned
// whole (every factor of it an operand: tensors, free factors, scalars; a
// pairwise order is chosen for three or more).
struct ContractionReport {
  std::string expression;             // e.g. "sum(k: A[i,k] * B[k,j]) / sqrt(K)"
  std::vector<std::string> operands;  // e.g. {"A[i,k]", "B[k,j]"}
  std::vector<std::string> summed;    // summed index names, e.g. {"k"}
  Count dot_products;                 // elements of the term's result
  Count reduction_length;             // product of the summed extents
  Count macs;                         // chosen pairwise order
  Count naive_macs;                   // one loop nest over every index
  Count flops;                        // 2 per MAC + 1 per outer-step element
  // The chosen order, opt_einsum style: each step contracts two entries of
  // the current operand list (0-based), the result is appended at the end.
  std::vector<std::pair<int, int>> path;
  std::string order;  // readable, e.g. "((A*B)*C)"
};

// The repeat block a statement runs in (`repeat l < L { ... }`,
// docs/language.md "Repeated layers"): the statement runs `count` times, and
// every count of its StatementReport already includes that factor.
struct RepeatBlockReport {
  int line = 0;               // the `repeat l < L {` line
  std::string index;          // the layer index, e.g. "l"
  std::int64_t count = 1;     // the number of layers, e.g. 12
  std::string count_formula;  // e.g. "L"
};

struct StatementReport {
  int line = 0;
  int column = 0;
  std::string source;       // the statement's text, one line
  std::string target;       // assigned tensor
  bool accumulate = false;  // `+=`
  std::string kind;         // contraction | elementwise | reduction | normalization
  std::vector<std::int64_t> shape;
  std::vector<std::string> shape_formula;
  std::string dtype;
  Count outputs;           // elements written
  Count dot_products;      // sum over the contraction terms' outputs
  Count reduction_length;  // product of every extent reduced in the statement
  Count macs;
  Count naive_macs;
  Count flops;
  Count transcendentals;
  Count bytes;             // compulsory: each tensor read once, target written once
  Count params;            // elements of the param tensors the statement reads
  double intensity = 0.0;  // flops / bytes (0 when bytes == 0)
  std::vector<ContractionReport> contractions;
  // The repeat block the statement runs in; nullopt outside every block.
  std::optional<RepeatBlockReport> repeat_block;
};

struct TotalsReport {
  Count outputs;
  Count dot_products;
  Count macs;
  Count naive_macs;
  Count flops;
  Count transcendentals;
  Count bytes;
  Count params;  // elements of every declared param
  double intensity = 0.0;
};

struct TensorReport {
  std::string name;
  std::string role;  // input | param | intermediate | output
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::string> shape_formula;
  Count elements;
  Count bytes;
};

struct Report {
  std::string file;
  std::vector<std::pair<std::string, std::int64_t>> dims;  // declaration order
  std::vector<TensorReport> tensors;
  std::vector<StatementReport> statements;
  std::int64_t repeat = 1;  // totals are multiplied by this
  TotalsReport totals;
};

// A sweep: the totals of one program with one dim bound to several values.
struct SweepReport {
  std::string file;
  std::string dim;
  std::int64_t repeat = 1;
  std::vector<std::pair<std::int64_t, TotalsReport>> rows;
};

enum class ReportFormat { table, json, csv, markdown };

// Formatting (api/report_format.cpp). Pure functions of the data.
std::string format_report(const Report& report, ReportFormat format);
std::string format_sweep(const SweepReport& sweep, ReportFormat format);

}  // namespace einc
