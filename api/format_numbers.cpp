// api/format_numbers.cpp — the text helpers of format_numbers.h.
//
// Counts are 128-bit integers (einc::CountValue) and must print exactly, so
// decimal digits, thousands separators and the SI mantissa are computed in
// unsigned 128-bit integer arithmetic (no double rounding surprises near
// 999.95 k or 2^127). Doubles go through std::to_chars, which is
// locale-independent and deterministic.
#include "format_numbers.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <system_error>

namespace einc::detail {
namespace {

__extension__ typedef unsigned __int128 UInt128;

// |value| as unsigned, exact for the most negative value as well.
UInt128 magnitude(CountValue value) {
  return value < 0 ? UInt128{0} - static_cast<UInt128>(value) : static_cast<UInt128>(value);
}

std::string digits_of(UInt128 value) {
  std::array<char, 48> buffer{};
  char* end = buffer.data() + buffer.size();
  char* p = end;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  } while (value != 0);
  return std::string(p, end);
}

UInt128 pow1000(int exponent) {
  UInt128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 1000;
  return result;
}

// n / divisor rounded half up, without overflow for any n.
UInt128 divide_rounded(UInt128 n, UInt128 divisor) {
  const UInt128 quotient = n / divisor;
  const UInt128 remainder = n % divisor;
  return remainder >= divisor - remainder ? quotient + 1 : quotient;
}

// `scaled` is the mantissa times 10^decimals; prints e.g. 410 -> "4.10".
std::string fixed_from_scaled(UInt128 scaled, int decimals) {
  UInt128 unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  std::string text = digits_of(scaled / unit);
  if (decimals > 0) {
    std::string fraction = digits_of(scaled % unit);
    text += '.';
    text.append(static_cast<std::size_t>(decimals) - fraction.size(), '0');
    text += fraction;
  }
  return text;
}

}  // namespace

std::string exact_integer(CountValue value) { return (value < 0 ? "-" : "") + digits_of(magnitude(value)); }

std::string with_thousands(CountValue value) {
  const std::string digits = digits_of(magnitude(value));
  std::string text;
  text.reserve(digits.size() + digits.size() / 3 + 1);
  if (value < 0) text += '-';
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

std::string si_compact(CountValue value) {
  const UInt128 abs = magnitude(value);
  if (abs < 1000) return exact_integer(value);
  constexpr std::array<const char*, 11> units = {"", "k", "M", "G", "T", "P", "E", "Z", "Y", "R", "Q"};
  constexpr int kLast = static_cast<int>(units.size()) - 1;
  int exponent = 1;
  while (exponent < kLast && abs / pow1000(exponent) >= 1000) ++exponent;
  // Two decimals for a mantissa below 10, one decimal up to 999.9; when
  // rounding carries the mantissa over a boundary, take the next form.
  int decimals = abs / pow1000(exponent) < 10 ? 2 : 1;
  UInt128 scaled = 0;
  for (;;) {
    UInt128 divisor = pow1000(exponent);
    for (int i = 0; i < decimals; ++i) divisor /= 10;
    scaled = divide_rounded(abs, divisor);
    if (decimals == 2 && scaled >= 1000) {
      decimals = 1;  // 9.995 k -> 10.0 k
    } else if (decimals == 1 && scaled >= 10000 && exponent < kLast) {
      ++exponent;  // 999.95 k -> 1.00 M
      decimals = 2;
    } else {
      break;
    }
  }
  std::string text = value < 0 ? "-" : "";
  text += fixed_from_scaled(scaled, decimals);
  text += ' ';
  text += units[static_cast<std::size_t>(exponent)];
  return text;
}

std::string fixed_decimals(double value, int decimals) {
  std::array<char, 512> buffer{};
  const auto result =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed, decimals);
  if (result.ec != std::errc{}) return "nan";
  return std::string(buffer.data(), result.ptr);
}

double round_significant(double value, int digits) {
  if (value == 0.0 || !std::isfinite(value) || digits < 1) return value;
  std::array<char, 64> buffer{};
  const auto written =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific, digits - 1);
  if (written.ec != std::errc{}) return value;
  double rounded = value;
  std::from_chars(buffer.data(), written.ptr, rounded);
  return rounded;
}

std::string significant(double value, int digits) {
  const double rounded = round_significant(value, digits);
  std::array<char, 64> buffer{};
  const auto written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), rounded);
  if (written.ec != std::errc{}) return "nan";
  return std::string(buffer.data(), written.ptr);
}

std::string csv_field(std::string_view field) {
  const bool needs_quotes = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                            (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!needs_quotes) return std::string(field);
  std::string text = "\"";
  for (const char c : field) {
    if (c == '"') text += '"';
    text += c;
  }
  text += '"';
  return text;
}

std::string csv_row(const std::vector<std::string>& fields) {
  std::string row;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) row += ',';
    row += csv_field(fields[i]);
  }
  row += '\n';
  return row;
}

std::string markdown_cell(std::string_view text) {
  std::string cell;
  cell.reserve(text.size());
  for (const char c : text) {
    if (c == '|') {
      cell += "\\|";
    } else if (c == '\r' || c == '\n') {
      cell += ' ';
    } else {
      cell += c;
    }
  }
  return cell;
}

std::string markdown_code(std::string_view text) {
  if (text.empty()) return "";
  std::size_t longest_run = 0;
  std::size_t run = 0;
  for (const char c : text) {
    run = c == '`' ? run + 1 : 0;
    if (run > longest_run) longest_run = run;
  }
  const std::string fence(longest_run + 1, '`');
  const bool pad = text.front() == '`' || text.back() == '`';
  std::string span = fence;
  if (pad) span += ' ';
  span += markdown_cell(text);
  if (pad) span += ' ';
  span += fence;
  return span;
}

}  // namespace einc::detail
