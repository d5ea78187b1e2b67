// frontend/einsum_subscripts.cpp — numpy.einsum subscripts parsing.
//
// Two passes, mirroring numpy's C parser (einsum.c.src) but reporting the
// byte offset of each error:
//  1. lexing: split the string into input terms and an optional output term,
//     turning letters and "..." into items and rejecting every character or
//     group numpy rejects (a stray '.', a second "..." in a term, '-' or '>'
//     outside "->", a second "->", any other non-letter but the space);
//  2. resolving: check the number of terms against the operands and each
//     term against its operand's rank, right-align the broadcast dims, and
//     build the implicit or explicit output.
// Lexical errors anywhere in the string are reported before structural
// ones, so the caret always lands on the leftmost malformed character.
#include "frontend/einsum_subscripts.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

namespace einc::frontend {
namespace {

// Far beyond numpy's 64 dimensions; keeps every count an int.
constexpr std::size_t kMaxOperandRank = 4096;
constexpr std::size_t kMaxSpecLength = std::size_t{1} << 30;

// One element of a term: a letter label, or the "..." group (label 0).
struct TermItem {
  char label = 0;
  int offset = 0;
  bool is_ellipsis() const { return label == 0; }
};

struct Term {
  std::vector<TermItem> items;
  int begin = 0;           // offset just after the ',' or "->" that opens it
  int first_visible = -1;  // offset of its first label or '.', -1 when blank
  bool has_ellipsis = false;
};

struct SplitSpec {
  std::vector<Term> inputs;
  Term output;
  int arrow = -1;  // offset of the '-' of "->", -1 when there is none
};

using LabelCounts = std::array<int, 128>;

bool is_label(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int last_offset(std::string_view spec) { return spec.empty() ? 0 : static_cast<int>(spec.size()) - 1; }

EinsumError error_at(int offset, std::string message) { return EinsumError{offset, std::move(message)}; }

// A character as it appears in a message: 'c', or its byte value when it is
// not printable ASCII.
std::string quote_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(byte));
  return std::string("byte ") + hex;
}

std::string label_text(char label) { return std::string("'") + label + "'"; }

// ---------------------------------------------------------------- lexing --

class SubscriptLexer {
 public:
  explicit SubscriptLexer(std::string_view spec) : spec_(spec) { split_.inputs.emplace_back(); }

  std::variant<SplitSpec, EinsumError> run() {
    for (std::size_t i = 0; i < spec_.size(); ++i) {
      if (auto error = lex_at(i)) return *error;
    }
    return std::move(split_);
  }

 private:
  // Lexes the character at `i`; may advance `i` past a multi-byte group.
  std::optional<EinsumError> lex_at(std::size_t& i) {
    const char c = spec_[i];
    if (c == ' ') return std::nullopt;
    if (is_label(c)) {
      add_item(TermItem{c, static_cast<int>(i)});
      return std::nullopt;
    }
    if (c == '.') return lex_ellipsis(i);
    if (c == ',' && !in_output_) {
      start_input_term(i);
      return std::nullopt;
    }
    if (c == '-' || c == '>') return lex_arrow(i);
    return error_at(static_cast<int>(i), "invalid subscript " + quote_char(c) +
                                             " in einstein sum subscripts string, subscripts must be letters");
  }

  std::optional<EinsumError> lex_ellipsis(std::size_t& i) {
    const int offset = static_cast<int>(i);
    if (spec_.substr(i, 3) != "...") {
      return error_at(
          offset, "einstein sum subscripts string contains a '.' that is not part of an ellipsis ('...') " + where());
    }
    if (current().has_ellipsis) {
      return error_at(offset, "einstein sum subscripts string contains more than one ellipsis ('...') " + where());
    }
    current().has_ellipsis = true;
    add_item(TermItem{0, offset});
    i += 2;
    return std::nullopt;
  }

  std::optional<EinsumError> lex_arrow(std::size_t& i) {
    const int offset = static_cast<int>(i);
    if (spec_[i] == '>') {
      return error_at(offset, "einstein sum subscripts string contains a '>' that is not part of '->'");
    }
    if (i + 1 >= spec_.size() || spec_[i + 1] != '>') {
      return error_at(offset, "einstein sum subscripts string contains a '-' that is not part of '->'");
    }
    if (in_output_) {
      return error_at(offset, "einstein sum subscripts string contains '->' more than once");
    }
    in_output_ = true;
    split_.arrow = offset;
    split_.output.begin = offset + 2;
    ++i;
    return std::nullopt;
  }

  void start_input_term(std::size_t comma) {
    Term term;
    term.begin = static_cast<int>(comma) + 1;
    split_.inputs.push_back(std::move(term));
  }

  void add_item(TermItem item) {
    Term& term = current();
    if (term.first_visible < 0) term.first_visible = item.offset;
    term.items.push_back(item);
  }

  Term& current() { return in_output_ ? split_.output : split_.inputs.back(); }

  std::string where() const {
    if (in_output_) return "in the output";
    return "in operand " + std::to_string(split_.inputs.size() - 1);
  }

  std::string_view spec_;
  SplitSpec split_;
  bool in_output_ = false;
};

// ------------------------------------------------------------- resolving --

// Where to point at a term as a whole: its first label or '.', else where it
// starts (kept inside the string).
int term_anchor(const Term& term, std::string_view spec) {
  if (term.first_visible >= 0) return term.first_visible;
  return std::min(term.begin, last_offset(spec));
}

int output_anchor(const SplitSpec& split) {
  return split.output.first_visible >= 0 ? split.output.first_visible : split.arrow;
}

std::optional<EinsumError> check_term_count(const SplitSpec& split, std::size_t operand_count, std::string_view spec) {
  const std::size_t terms = split.inputs.size();
  const std::string counts = " (" + std::to_string(terms) + (terms == 1 ? " term, " : " terms, ") +
                             std::to_string(operand_count) + (operand_count == 1 ? " operand)" : " operands)");
  if (terms > operand_count) {
    // Point at the ',' that opens the first term without an operand.
    return error_at(
        split.inputs[operand_count].begin - 1,
        "fewer operands provided to einstein sum function than specified in the subscripts string" + counts);
  }
  if (terms < operand_count) {
    const int offset = split.arrow >= 0 ? split.arrow : last_offset(spec);
    return error_at(offset,
                    "more operands provided to einstein sum function than specified in the subscripts string" + counts);
  }
  return std::nullopt;
}

int count_labels(const Term& term) {
  return static_cast<int>(
      std::count_if(term.items.begin(), term.items.end(), [](const TermItem& item) { return !item.is_ellipsis(); }));
}

// The offset of the n-th (0-based) label of a term; the term has more than n.
int nth_label_offset(const Term& term, int n) {
  for (const TermItem& item : term.items) {
    if (item.is_ellipsis()) continue;
    if (n-- == 0) return item.offset;
  }
  return 0;
}

// How many dimensions the term's "..." covers for an operand of `rank`
// dimensions (0 without "..."), or why the term does not fit the rank.
std::variant<int, EinsumError> ellipsis_cover(const Term& term, std::size_t rank, std::size_t operand,
                                              std::string_view spec) {
  if (rank > kMaxOperandRank) {
    return error_at(term_anchor(term, spec), "operand " + std::to_string(operand) + " has " + std::to_string(rank) +
                                                 " dimensions, more than einstein sum supports (" +
                                                 std::to_string(kMaxOperandRank) + ")");
  }
  const int dims = static_cast<int>(rank);
  const int labels = count_labels(term);
  if (labels > dims) {
    return error_at(
        nth_label_offset(term, dims),
        "einstein sum subscripts string contains too many subscripts for operand " + std::to_string(operand));
  }
  if (!term.has_ellipsis && labels < dims) {
    return error_at(term_anchor(term, spec),
                    "operand has more dimensions than subscripts given in einstein sum, but no '...' ellipsis "
                    "provided to broadcast the extra dimensions.");
  }
  return term.has_ellipsis ? dims - labels : 0;
}

// The operand's dimensions; its "..." covers the last `cover` of the
// `ellipsis_rank` broadcast dims (numpy right-aligns them).
std::vector<EinsumDim> expand_operand(const Term& term, int cover, int ellipsis_rank) {
  std::vector<EinsumDim> dims;
  for (const TermItem& item : term.items) {
    if (!item.is_ellipsis()) {
      dims.push_back(EinsumDim{item.label, -1});
      continue;
    }
    for (int k = ellipsis_rank - cover; k < ellipsis_rank; ++k) dims.push_back(EinsumDim{0, k});
  }
  return dims;
}

void append_all_ellipsis_dims(std::vector<EinsumDim>& dims, int ellipsis_rank) {
  for (int k = 0; k < ellipsis_rank; ++k) dims.push_back(EinsumDim{0, k});
}

LabelCounts count_input_labels(const SplitSpec& split) {
  LabelCounts counts{};
  for (const Term& term : split.inputs) {
    for (const TermItem& item : term.items) {
      if (!item.is_ellipsis()) ++counts[static_cast<unsigned char>(item.label)];
    }
  }
  return counts;
}

// numpy's implicit output: broadcast dims first, then every label used
// exactly once, in ASCII order (uppercase before lowercase).
std::vector<EinsumDim> implicit_output(const LabelCounts& counts, int ellipsis_rank) {
  std::vector<EinsumDim> output;
  append_all_ellipsis_dims(output, ellipsis_rank);
  for (std::size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] == 1) output.push_back(EinsumDim{static_cast<char>(c), -1});
  }
  return output;
}

std::variant<std::vector<EinsumDim>, EinsumError> explicit_output(const SplitSpec& split, const LabelCounts& counts,
                                                                  int ellipsis_rank) {
  std::vector<EinsumDim> output;
  std::array<bool, 128> seen{};
  for (const TermItem& item : split.output.items) {
    if (item.is_ellipsis()) {
      append_all_ellipsis_dims(output, ellipsis_rank);
      continue;
    }
    const auto index = static_cast<unsigned char>(item.label);
    if (counts[index] == 0) {
      return error_at(item.offset, "einstein sum subscripts string included output subscript " +
                                       label_text(item.label) + " which never appeared in an input");
    }
    if (seen[index]) {
      return error_at(item.offset, "einstein sum subscripts string includes output subscript " +
                                       label_text(item.label) + " multiple times");
    }
    seen[index] = true;
    output.push_back(EinsumDim{item.label, -1});
  }
  if (!split.output.has_ellipsis && ellipsis_rank > 0) {
    return error_at(output_anchor(split),
                    "output has more dimensions than subscripts given in einstein sum, but no '...' ellipsis "
                    "provided to broadcast the extra dimensions.");
  }
  return output;
}

// Resolves a lexed spec against the operand ranks.
std::variant<EinsumSubscripts, EinsumError> resolve(const SplitSpec& split,
                                                    const std::vector<std::size_t>& operand_ranks,
                                                    std::string_view spec) {
  if (auto error = check_term_count(split, operand_ranks.size(), spec)) return *error;

  std::vector<int> covers;
  for (std::size_t k = 0; k < operand_ranks.size(); ++k) {
    auto cover = ellipsis_cover(split.inputs[k], operand_ranks[k], k, spec);
    if (auto* error = std::get_if<EinsumError>(&cover)) return *error;
    covers.push_back(std::get<int>(cover));
  }

  EinsumSubscripts result;
  result.ellipsis_rank = *std::max_element(covers.begin(), covers.end());
  for (std::size_t k = 0; k < operand_ranks.size(); ++k) {
    result.operands.push_back(expand_operand(split.inputs[k], covers[k], result.ellipsis_rank));
  }

  const LabelCounts counts = count_input_labels(split);
  result.explicit_output = split.arrow >= 0;
  if (!result.explicit_output) {
    result.output = implicit_output(counts, result.ellipsis_rank);
    return result;
  }
  auto output = explicit_output(split, counts, result.ellipsis_rank);
  if (auto* error = std::get_if<EinsumError>(&output)) return *error;
  result.output = std::move(std::get<std::vector<EinsumDim>>(output));
  return result;
}

}  // namespace

std::variant<EinsumSubscripts, EinsumError> parse_einsum_subscripts(std::string_view spec,
                                                                    const std::vector<std::size_t>& operand_ranks) {
  if (spec.size() > kMaxSpecLength) return error_at(0, "einstein sum subscripts string is too long");
  if (operand_ranks.empty()) return error_at(0, "not enough operands provided to einstein sum function");

  auto split = SubscriptLexer(spec).run();
  if (auto* error = std::get_if<EinsumError>(&split)) return *error;
  return resolve(std::get<SplitSpec>(split), operand_ranks, spec);
}

}  // namespace einc::frontend
