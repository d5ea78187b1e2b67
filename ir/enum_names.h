// ir/enum_names.h — an enum whose values are named by a table, in value
// order: the name of a value, and the value a name stands for.
//
// The lowering passes (ir/lower.h), and the API's backends and emit stages
// (api/run.cpp), are spelled this way on the command line and in messages;
// one lookup serves them all.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace einc::ir {

template <typename Enum, std::size_t N>
const char* enum_name(const char* const (&names)[N], Enum value) {
  return names[static_cast<std::size_t>(value)];
}

template <typename Enum, std::size_t N>
std::optional<Enum> enum_from_name(const char* const (&names)[N], std::string_view name) {
  for (std::size_t i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace einc::ir
