// ir/access_lowering.cpp — tensor accesses: index positions, index
// arithmetic, literal positions, `padded(...)`, and the extents and bounds
// they imply (part of StatementLowering; docs/language.md, "Index
// expressions").
//
// A position is an affine form Σ coeff·index + offset (ir/subscript.h):
// indices, dims and integers joined by + and -, and * by an integer. A
// position written as one index name teaches that index its extent, as
// before; any arithmetic (`d + 0` too) only has to stay in bounds. An
// index that appears only inside arithmetic gets the largest extent that
// keeps every such access in bounds ("valid", as Tensor Comprehensions
// infers ranges); once every extent is known, each access that is not
// `padded(...)` is checked to stay inside its tensor, symbolically where the
// dims are unbound and again when they are bound (sema re-runs then).
#include <algorithm>
#include <charconv>
#include <map>

#include "ir/checked_math.h"
#include "ir/expr_builders.h"
#include "ir/statement_lowering.h"

namespace einc::ir {

namespace {

using frontend::Note;

// Σ coeff·index + offset while a position is being read.
struct AffineForm {
  std::map<int, std::int64_t> coeffs;  // index id -> coefficient (0 entries dropped at the end)
  Poly offset;

  bool has_indices() const {
    return std::any_of(coeffs.begin(), coeffs.end(), [](const auto& c) { return c.second != 0; });
  }
  void add(const AffineForm& o, std::int64_t sign) {
    for (const auto& [index, c] : o.coeffs) coeffs[index] = checked_add(coeffs[index], checked_mul(sign, c));
    offset = sign > 0 ? offset + o.offset : offset - o.offset;
  }
  void scale(std::int64_t factor) {
    for (auto& entry : coeffs) entry.second = checked_mul(entry.second, factor);
    offset = offset * Poly::constant(factor);
  }
  Subscript subscript() const {
    Subscript s;
    for (const auto& [index, c] : coeffs)
      if (c != 0) s.terms.push_back(AffineTerm{index, c});
    s.offset = offset;
    return s;
  }
};

const char* const kPositionHelp =
    "a position holds index arithmetic: indices, dims and integers joined by + and -, and * by an integer";

}  // namespace

// --- positions ------------------------------------------------------------------

std::optional<Subscript> StatementLowering::lower_position(const ast::Operand& position, bool in_access) {
  struct Visitor {
    StatementLowering& self;
    const ast::Operand& position;
    bool bare_name_is_index;
    std::optional<AffineForm> fail(Span span, const std::string& message) const {
      self.sink_.error(span, message);
      self.failed_ = true;
      return std::nullopt;
    }
    std::optional<AffineForm> operator()(const ast::Nil&) const { return std::nullopt; }
    std::optional<AffineForm> operator()(const ast::Number& n) const {
      std::int64_t value = 0;
      auto [end, ec] = std::from_chars(n.text.data(), n.text.data() + n.text.size(), value);
      if (ec != std::errc() || end != n.text.data() + n.text.size())
        return fail(n.span, "a position is an integer, not '" + n.text + "'");
      AffineForm f;
      f.offset = Poly::constant(value);
      return f;
    }
    std::optional<AffineForm> operator()(const ast::Access& a) const {
      if (a.indices)
        return fail(a.span, "a lookup ('" + a.name.name +
                                "[...]') is a whole position: no arithmetic around it, no lookup inside it");
      AffineForm f;
      // Inside arithmetic a dim's name is the dim (`d + D`); a position
      // that is one bare name is always an index (indices may reuse any name).
      const bool index = bare_name_is_index && ast::as_bare_name(position);
      if (int dim = self.program_.find_dim(a.name.name); dim >= 0 && !index) {
        f.offset = Poly::dim(dim);
        return f;
      }
      if (!index && self.broken_names_.count(a.name.name)) {  // a dim whose declaration failed
        self.failed_ = true;
        return std::nullopt;
      }
      if (!self.check_index_scope(a.name)) return std::nullopt;
      f.coeffs[self.index_id(a.name)] = 1;
      return f;
    }
    std::optional<AffineForm> operator()(const ast::Unary& u) const {
      auto inner = ast::visit(u.operand, *this);
      if (inner && std::count(u.signs.begin(), u.signs.end(), '-') % 2) inner->scale(-1);
      return inner;
    }
    std::optional<AffineForm> operator()(const ast::Chain& c) const {
      auto acc = ast::visit(c.first, *this);
      for (const ast::ChainLink& link : c.rest) {
        auto rhs = ast::visit(link.operand, *this);
        if (!acc || !rhs) return std::nullopt;
        if (link.op == '+' || link.op == '-') {
          acc->add(*rhs, link.op == '+' ? 1 : -1);
          continue;
        }
        if (link.op == '/')
          return fail(link.span,
                      "'/' is not allowed in a position (positions are integers; a stride is * by an integer)");
        if (acc->has_indices() && rhs->has_indices())
          return fail(link.span, "a position is linear in the indices: this multiplies an index by an index");
        AffineForm& indexed = acc->has_indices() ? *acc : *rhs;
        const AffineForm& factor = acc->has_indices() ? *rhs : *acc;
        std::optional<std::int64_t> k = factor.offset.as_constant();
        // A constant without dims that as_constant refuses has left int64.
        if (!k && indexed.has_indices() && factor.offset.dims_used().empty()) throw OverflowError(64);
        if (!k && indexed.has_indices())
          return fail(link.span, "an index's coefficient must be an integer, not an expression of dims");
        if (!indexed.has_indices()) {  // dims and integers only: a polynomial
          AffineForm product;
          product.offset = acc->offset * rhs->offset;
          *acc = std::move(product);
          continue;
        }
        AffineForm scaled = indexed;
        scaled.scale(*k);
        *acc = std::move(scaled);
      }
      return acc;
    }
    std::optional<AffineForm> operator()(const ast::Call& node) const { return other(node.span); }
    std::optional<AffineForm> operator()(const ast::Reduction& node) const { return other(node.span); }
    std::optional<AffineForm> operator()(const ast::Einsum& node) const { return other(node.span); }
    std::optional<AffineForm> operator()(const ast::Select& node) const { return other(node.span); }
    std::optional<AffineForm> other(Span span) const { return fail(span, kPositionHelp); }
  };
  try {
    auto form = ast::visit(position, Visitor{*this, position, in_access});
    if (!form) return std::nullopt;
    return form->subscript();
  } catch (const OverflowError&) {
    sink_.error(ast::span_of(position), "a coefficient of this position overflows the signed 64-bit range");
    failed_ = true;
    return std::nullopt;
  }
}

// --- accesses ---------------------------------------------------------------------

// The tensor an access reads, after the checks every read shares (a known,
// defined tensor of the access's rank); -1 after reporting.
int StatementLowering::resolve_tensor(const ast::Access& access) {
  const std::string& name = access.name.name;
  int tensor = program_.find_tensor(name);
  if (tensor < 0) {
    int dim = program_.find_dim(name);
    if (dim >= 0) {
      sink_.error(access.name.span, "'" + name + "' is a dim, not a tensor; use it as a number without brackets");
    } else if (auto later = assigned_anywhere_.find(name); later != assigned_anywhere_.end()) {
      sink_.error(access.name.span, "tensor '" + name + "' is used before it is defined",
                  {Note{later->second, "'" + name + "' is defined here"}});
    } else if (broken_names_.count(name)) {
      // its declaration failed, with its error reported
    } else if (!access.indices) {
      sink_.error(access.name.span, "unknown name '" + name + "': not a tensor or a dim");
    } else {
      sink_.error(access.name.span, "unknown tensor '" + name + "'");
    }
    failed_ = true;
    return -1;
  }
  const Tensor& t = program_.tensors[tensor];
  if (t.defined_by == kBrokenDefinition) {
    failed_ = true;
    return -1;
  }
  bool undefined = t.role == TensorRole::intermediate && (t.defined_by < 0 || (tensor == target_ && target_is_new_));
  if (undefined) {
    auto later = assigned_anywhere_.find(name);
    std::vector<Note> notes;
    if (later != assigned_anywhere_.end() && later->second.begin != access.name.span.begin)
      notes.push_back({later->second, "'" + name + "' is defined here"});
    sink_.error(access.name.span, "tensor '" + name + "' is used before it is defined", std::move(notes));
    failed_ = true;
    return -1;
  }
  std::size_t given = access.indices ? access.indices->size() : 0;
  if (given != t.shape.size()) {
    std::string message = "tensor '" + name + "' has rank " + std::to_string(t.shape.size()) + " but " +
                          (access.indices ? "is indexed with " + std::to_string(given) + " indices"
                                          : std::string("is used without indices"));
    sink_.error(access.span, message, {Note{t.span, "'" + name + "' is declared here"}});
    failed_ = true;
    return -1;
  }
  return tensor;
}

ExprPtr StatementLowering::lower_access(const ast::Access& access, bool zero_padded, Span padded_span) {
  if (access.indices && !access.indices->empty())
    if (const ast::Identifier* first = ast::as_bare_name(access.indices->front()); first && is_layer_index(first->name))
      return lower_layer_access(access, zero_padded, padded_span);
  if (program_.find_tensor(access.name.name) < 0 && program_.find_dim(access.name.name) >= 0 && !access.indices &&
      !zero_padded)
    return make_dim_value(access.span, program_.find_dim(access.name.name));
  const int tensor = resolve_tensor(access);
  if (tensor < 0) return nullptr;
  const Tensor& t = program_.tensors[tensor];
  const std::size_t given = access.indices ? access.indices->size() : 0;
  std::vector<Subscript> subscripts;
  bool arithmetic = false;
  for (std::size_t d = 0; d < given; ++d) {
    const ast::Operand& position = (*access.indices)[d];
    const ast::Access* lookup = ast::as_access(ast::unwrapped(position));
    if (lookup && lookup->indices) {
      std::optional<Subscript> s = lower_lookup(*lookup);
      if (!s) return nullptr;
      subscripts.push_back(std::move(*s));
      continue;
    }
    std::optional<Subscript> s = lower_position(position);
    if (!s) return nullptr;
    // Written as one index name: its extent is the tensor's, exactly. Any
    // arithmetic (even `d + 0`) only has to stay inside the tensor.
    if (ast::as_bare_name(position) && s->as_index()) {
      learn_extent(*s->as_index(), t.shape[d], ast::span_of(position));
    } else {
      arithmetic = true;
      affine_uses_.push_back(AffineUse{tensor, d, *s, ast::span_of(position), access.span, zero_padded});
    }
    subscripts.push_back(std::move(*s));
  }
  if (zero_padded && !arithmetic) {
    sink_.error(padded_span,
                "padded(...) around an access that cannot leave its tensor (no position has index arithmetic; "
                "a lookup's ids are checked at run time, never padded)");
    failed_ = true;
    return nullptr;
  }
  note_dtype(tensor, access.name.span);
  return make_access(zero_padded ? padded_span : access.span, tensor, std::move(subscripts), zero_padded);
}

// `ids[t]` as a position: an integer tensor read at plain or affine
// positions; whether each id is in range is known only at run time.
std::optional<Subscript> StatementLowering::lower_lookup(const ast::Access& access) {
  const int tensor = resolve_tensor(access);
  if (tensor < 0) return std::nullopt;
  const Tensor& ids = program_.tensors[tensor];
  if (is_floating(ids.dtype)) {
    sink_.error(access.name.span,
                "a lookup reads an integer tensor (i32 or i8), but '" + ids.name + "' is " + dtype_name(ids.dtype),
                {Note{ids.span, "'" + ids.name + "' is declared here"}});
    failed_ = true;
    return std::nullopt;
  }
  Subscript lookup;
  lookup.lookup = tensor;
  for (std::size_t d = 0; d < access.indices->size(); ++d) {
    const ast::Operand& position = (*access.indices)[d];
    std::optional<Subscript> s = lower_position(position);
    if (!s) return std::nullopt;
    if (ast::as_bare_name(position) && s->as_index())
      learn_extent(*s->as_index(), ids.shape[d], ast::span_of(position));
    else
      affine_uses_.push_back(AffineUse{tensor, d, *s, ast::span_of(position), access.span, false});
    lookup.lookup_subscripts.push_back(std::move(*s));
  }
  return lookup;
}

// `padded(X[2*h + r - 1, ...])`: reads outside X are zero.
ExprPtr StatementLowering::lower_padded(const ast::Call& call) {
  const ast::Access* access = call.args.size() == 1 ? ast::as_access(ast::unwrapped(call.args[0])) : nullptr;
  if (!access || !access->indices) {
    sink_.error(call.span, "padded(...) takes one tensor access, e.g. padded(X[h + r - 1, w + s - 1])");
    failed_ = true;
    return nullptr;
  }
  return lower_access(*access, true, call.span);
}

// --- extents and bounds -----------------------------------------------------------

namespace {

// Σ over terms other than `skip` of coeff·(extent - 1) for the terms whose
// coefficient has `sign`: how far those indices move the position.
Poly reach(const Subscript& s, const std::vector<IndexVar>& indices, int skip, int sign) {
  Poly total;
  for (const AffineTerm& t : s.terms)
    if (t.index != skip && (t.coeff > 0) == (sign > 0))
      total += Poly::constant(t.coeff) * (indices[t.index].extent - Poly::constant(1));
  return total;
}

}  // namespace

bool StatementLowering::resolve_affine_extents() {
  // Valid-range inference: an unknown index alone in a position with a
  // positive coefficient a gets ⌊(N - 1 - offset - reach)/a⌋ + 1, the
  // smallest such bound over every position it appears in.
  while (true) {
    std::map<int, std::pair<Poly, Span>> found;  // index -> (extent, the position that bounds it)
    for (const AffineUse& use : affine_uses_) try {
        if (use.padded) continue;
        int unknown = -1, unknowns = 0;
        for (const AffineTerm& t : use.subscript.terms)
          if (!has_extent_[t.index]) unknown = t.index, ++unknowns;
        if (unknowns != 1 || use.subscript.coeff(unknown) < 0) continue;
        const std::int64_t a = use.subscript.coeff(unknown);
        const Poly room = program_.tensors[use.tensor].shape[use.dim] - use.subscript.offset -
                          reach(use.subscript, indices_, unknown, 1);
        Poly extent = room;
        if (a != 1) {
          std::optional<std::int64_t> value = program_.try_evaluate(room);
          if (!value) {
            sink_.error(use.span, "the extent of index '" + indices_[unknown].name + "' here is ⌊(" +
                                      program_.formula(room - Poly::constant(1)) + ") / " + std::to_string(a) +
                                      "⌋ + 1, which depends on unbound dims; bind them or declare the output's shape");
            failed_ = true;
            return false;
          }
          std::int64_t numerator = *value - 1;
          std::int64_t quotient = numerator / a - (numerator % a != 0 && numerator < 0 ? 1 : 0);
          extent = Poly::constant(quotient + 1);
        }
        auto it = found.find(unknown);
        if (it == found.end()) {
          found.emplace(unknown, std::make_pair(extent, use.span));
          continue;
        }
        std::optional<std::int64_t> mine = program_.try_evaluate(extent),
                                    theirs = program_.try_evaluate(it->second.first);
        if (mine && theirs) {
          if (*mine < *theirs) it->second = {extent, use.span};
        } else if (extent != it->second.first) {
          sink_.error(use.span, "index '" + indices_[unknown].name + "' gets different extents here (" +
                                    program_.formula(extent) + ") and at " + position(it->second.second) + " (" +
                                    program_.formula(it->second.first) +
                                    "); bind the dims or declare the output's shape to choose");
          failed_ = true;
          return false;
        }
      } catch (const OverflowError&) {
        sink_.error(use.span, "the range of this position overflows the signed 64-bit range");
        failed_ = true;
        return false;
      }
    if (found.empty()) break;
    for (const auto& [index, bound] : found) {
      std::optional<std::int64_t> value = program_.try_evaluate(bound.first);
      if (value && *value < 0) {
        sink_.error(bound.second, "no value of index '" + indices_[index].name +
                                      "' keeps this position inside its tensor (the window is larger than the "
                                      "tensor by " +
                                      std::to_string(-*value) + ")");
        failed_ = true;
        return false;
      }
      learn_extent(index, bound.first, bound.second);
    }
  }
  for (const AffineUse& use : affine_uses_)
    for (const AffineTerm& t : use.subscript.terms)
      if (!has_extent_[t.index]) {
        sink_.error(use.span, "index '" + indices_[t.index].name +
                                  "' gets no extent: it appears only in index arithmetic" +
                                  (use.padded ? " inside padded(...)" : " together with other unknown indices") +
                                  "; declare the output's shape (output " + program_.tensors[target_].name +
                                  "[...]) or use the index alone in a position");
        failed_ = true;
        return false;
      }
  return true;
}

bool StatementLowering::check_affine_bounds() {
  for (const AffineUse& use : affine_uses_) {
    const Subscript& s = use.subscript;
    bool empty = false;
    for (const AffineTerm& t : s.terms) empty |= program_.try_evaluate(indices_[t.index].extent) == 0;
    if (empty) continue;  // the access is never made
    const Poly& extent = program_.tensors[use.tensor].shape[use.dim];
    // The lowest and highest position (nullopt: an unbound dim; checked
    // again when the dims are bound). A range past int64 is an error even
    // when padded: no backend could address it.
    std::optional<std::int64_t> lo, hi, n;
    try {
      auto value = [&](const Poly& p) -> std::optional<std::int64_t> {
        try {
          return program_.evaluate(p);
        } catch (const UnboundDimError&) {
          return std::nullopt;
        }
      };
      lo = value(s.offset + reach(s, indices_, -1, -1));
      hi = value(s.offset + reach(s, indices_, -1, 1));
      n = value(extent);
    } catch (const OverflowError&) {
      sink_.error(use.span, "the range of this position overflows the signed 64-bit range");
      failed_ = true;
      continue;
    }
    if (use.padded || !lo || !hi || !n) continue;
    if (*lo >= 0 && *hi < *n) continue;
    std::string ranges;
    for (const AffineTerm& t : s.terms)
      ranges +=
          (ranges.empty() ? "" : ", ") + indices_[t.index].name + " < " + describe_extent(indices_[t.index].extent);
    const Tensor& t = program_.tensors[use.tensor];
    sink_.error(use.span,
                "this position of '" + t.name + "' ranges over " + std::to_string(*lo) + ".." + std::to_string(*hi) +
                    (ranges.empty() ? "" : " (" + ranges + ")") + ", but dim " + std::to_string(use.dim) + " of '" +
                    t.name + "' has extent " + std::to_string(*n) +
                    "; shrink the ranges, or write padded(...) around the access to read zeros outside the tensor",
                {Note{t.span, "'" + t.name + "' is declared here"}});
    failed_ = true;
  }
  return !failed_;
}

}  // namespace einc::ir
