// api/format_numbers.cpp — the text helpers of format_numbers.h.
//
// Counts are int64 and must print exactly, so thousands separators and the
// SI mantissa are computed in unsigned integer arithmetic (no double
// rounding surprises near 999.95 k or INT64_MAX). Doubles go through
// std::to_chars, which is locale-independent and deterministic.
#include "format_numbers.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <system_error>

namespace einc::detail {
namespace {

// |value| as unsigned, exact for INT64_MIN as well.
std::uint64_t magnitude(std::int64_t value) {
  return value < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
}

std::uint64_t pow1000(int exponent) {
  std::uint64_t result = 1;
  for (int i = 0; i < exponent; ++i) result *= 1000;
  return result;
}

// n / divisor rounded half up, without overflow for any uint64 n.
std::uint64_t divide_rounded(std::uint64_t n, std::uint64_t divisor) {
  const std::uint64_t quotient = n / divisor;
  const std::uint64_t remainder = n % divisor;
  return remainder >= divisor - remainder ? quotient + 1 : quotient;
}

// `scaled` is the mantissa times 10^decimals; prints e.g. 410 -> "4.10".
std::string fixed_from_scaled(std::uint64_t scaled, int decimals) {
  std::uint64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  std::string text = std::to_string(scaled / unit);
  if (decimals > 0) {
    std::string fraction = std::to_string(scaled % unit);
    text += '.';
    text.append(static_cast<std::size_t>(decimals) - fraction.size(), '0');
    text += fraction;
  }
  return text;
}

}  // namespace

std::string with_thousands(std::int64_t value) {
  const std::string digits = std::to_string(magnitude(value));
  std::string text;
  text.reserve(digits.size() + digits.size() / 3 + 1);
  if (value < 0) text += '-';
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

std::string si_compact(std::int64_t value) {
  const std::uint64_t abs = magnitude(value);
  if (abs < 1000) return std::to_string(value);
  constexpr std::array<const char*, 7> units = {"", "k", "M", "G", "T", "P", "E"};
  int exponent = 1;
  while (exponent < 6 && abs / pow1000(exponent) >= 1000) ++exponent;
  // Two decimals for a mantissa below 10, one decimal up to 999.9; when
  // rounding carries the mantissa over a boundary, take the next form.
  int decimals = abs / pow1000(exponent) < 10 ? 2 : 1;
  std::uint64_t scaled = 0;
  for (;;) {
    std::uint64_t divisor = pow1000(exponent);
    for (int i = 0; i < decimals; ++i) divisor /= 10;
    scaled = divide_rounded(abs, divisor);
    if (decimals == 2 && scaled >= 1000) {
      decimals = 1;  // 9.995 k -> 10.0 k
    } else if (decimals == 1 && scaled >= 10000 && exponent < 6) {
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
