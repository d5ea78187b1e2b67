// api/format_numbers.h — small text helpers shared by the report formatters
// and the CLI: exact integers with thousands separators, compact SI counts,
// fixed-point and significant-digit rounding of doubles, CSV quoting and
// Markdown table-cell escaping.
//
// Every function is pure and locale-independent (std::to_chars, never
// printf or iostreams with a locale), so reports are byte-for-byte stable
// across machines and golden files stay valid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "einc/report.h"

namespace einc::detail {

// A count's exact decimal digits: 590000000000000000000000, -12; for JSON
// and CSV. Exact for the whole 128-bit range.
std::string exact_integer(CountValue value);

// 4096000000 -> "4,096,000,000"; -1234 -> "-1,234"; 999 -> "999".
// Exact for the whole 128-bit range, its most negative value included.
std::string with_thousands(CountValue value);

// A count in decimal SI units, compact, for people: "999", "512.0 k",
// "4.10 G", "1.00 T", "-4.10 G". |value| < 1000 prints as the plain integer;
// otherwise the mantissa (rounded half up, in integer arithmetic) gets two
// decimals below 10 and one from 10 to 999.9; a mantissa that rounds up to
// 1000 moves to the next unit (999999 -> "1.00 M"). Units: k M G T P E Z Y R
// Q (10^30; past 999.9 Q the mantissa grows: 2^127 is "170141183.5 Q").
std::string si_compact(CountValue value);

// `value` with exactly `decimals` digits after the point: (58.514, 2) ->
// "58.51". Non-finite values print as "inf", "-inf" or "nan".
std::string fixed_decimals(double value, int decimals);

// `value` rounded to `digits` significant digits (169.3125 -> 169.3);
// 0 and non-finite values come back unchanged.
double round_significant(double value, int digits);

// The shortest text that reads back as `value`, after rounding it to
// `digits` significant digits: (169.3125, 4) -> "169.3"; 0 -> "0".
std::string significant(double value, int digits);

// One CSV field per RFC 4180: quoted when it holds a comma, a double quote,
// CR or LF (or starts or ends with a space), with inner quotes doubled.
std::string csv_field(std::string_view field);

// The fields joined by commas, each through csv_field, ending in "\n".
std::string csv_row(const std::vector<std::string>& fields);

// Text for a GitHub-flavoured Markdown table cell: `|` becomes `\|`, CR and
// LF become spaces.
std::string markdown_cell(std::string_view text);

// `text` as an inline code span safe inside a table cell: the fence is one
// backtick longer than the longest run in the text, padded with a space
// when the text starts or ends with a backtick; `|` is escaped as above.
// An empty text gives an empty string (no span).
std::string markdown_code(std::string_view text);

}  // namespace einc::detail
