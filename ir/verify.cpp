// ir/verify.cpp — see verify.h.
#include "ir/verify.h"

#include <algorithm>

#include "einc/internal_error.h"

namespace einc::ir {

namespace {

class Verifier {
 public:
  Verifier(const Program& program, const char* pass) : p_(program), pass_(pass) {}

  void program(IrStage stage) {
    for (std::size_t d = 0; d < p_.dims.size(); ++d) {
      check(p_.find_dim(p_.dims[d].name) == static_cast<int>(d), "dim '" + p_.dims[d].name + "' not in the name table");
    }
    for (std::size_t t = 0; t < p_.tensors.size(); ++t) {
      const Tensor& tensor = p_.tensors[t];
      check(p_.find_tensor(tensor.name) == static_cast<int>(t), "tensor '" + tensor.name + "' not in the name table");
      for (const Poly& extent : tensor.shape) poly(extent, "the shape of '" + tensor.name + "'");
    }
    for (int id : p_.outputs) check(id >= 0 && id < static_cast<int>(p_.tensors.size()), "an output id out of range");
    for (const Statement& s : p_.statements) statement(s, stage);
  }

 private:
  void check(bool ok, const std::string& what) const {
    if (!ok) throw_internal_error(__FILE__, __LINE__, std::string("IR invalid after pass '") + pass_ + "': " + what);
  }

  void poly(const Poly& p, const std::string& where) const {
    for (int dim : p.dims_used())
      check(dim >= 0 && dim < static_cast<int>(p_.dims.size()), "a dim id out of range in " + where);
  }

  void statement(const Statement& s, IrStage stage) {
    where_ = "line " + std::to_string(s.line);
    check(s.target >= 0 && s.target < static_cast<int>(p_.tensors.size()), where_ + ": target id out of range");
    check(s.value != nullptr, where_ + ": no value");
    statement_ = &s;
    for (const IndexVar& index : s.indices) poly(index.extent, where_ + ", index '" + index.name + "'");
    std::vector<int> lhs = s.lhs;
    for (int id : lhs) check(valid_index(id), where_ + ": a left-hand index id out of range");
    std::sort(lhs.begin(), lhs.end());
    check(std::adjacent_find(lhs.begin(), lhs.end()) == lhs.end(), where_ + ": an index twice on the left");
    expr(*s.value);
    if (stage == IrStage::einstein)
      for (int id : s.value->free)
        check(std::binary_search(lhs.begin(), lhs.end(), id),
              where_ + ": index '" + s.indices[static_cast<std::size_t>(id)].name +
                  "' is summed but not inside a reduce (the Einstein rule was not applied)");
  }

  bool valid_index(int id) const { return id >= 0 && id < static_cast<int>(statement_->indices.size()); }

  static bool sorted_unique(const std::vector<int>& ids) {
    return std::adjacent_find(ids.begin(), ids.end(), [](int a, int b) { return a >= b; }) == ids.end();
  }

  void expr(const Expr& e) {
    for (const ExprPtr& a : e.args) {
      check(a != nullptr, where_ + ": a null operand");
      expr(*a);
    }
    check(sorted_unique(e.free), where_ + ": a free-index set not sorted and unique");
    std::vector<int> free;
    switch (e.kind) {
      case ExprKind::access: {
        check(e.tensor >= 0 && e.tensor < static_cast<int>(p_.tensors.size()), where_ + ": an access of no tensor");
        const Tensor& t = p_.tensors[static_cast<std::size_t>(e.tensor)];
        check(e.subscripts.size() == t.shape.size(), where_ + ": '" + t.name + "' accessed with " +
                                                         std::to_string(e.subscripts.size()) +
                                                         " subscripts but has rank " + std::to_string(t.shape.size()));
        for (const Subscript& s : e.subscripts) {
          if (s.is_lookup()) {
            check(s.terms.empty() && s.offset.is_zero(), where_ + ": a lookup position with index arithmetic");
            check(s.lookup < static_cast<int>(p_.tensors.size()), where_ + ": a lookup of no tensor");
            check(!is_floating(p_.tensors[static_cast<std::size_t>(s.lookup)].dtype),
                  where_ + ": a lookup of a non-integer tensor");
            check(!has_lookup(s.lookup_subscripts), where_ + ": a lookup inside a lookup");
            for (int index : subscript_indices(s.lookup_subscripts)) {
              check(valid_index(index), where_ + ": a lookup subscript id out of range");
              free.push_back(index);
            }
          }
          for (std::size_t k = 0; k < s.terms.size(); ++k) {
            check(valid_index(s.terms[k].index), where_ + ": a subscript id out of range");
            check(s.terms[k].coeff != 0, where_ + ": a subscript term with coefficient 0");
            check(k == 0 || s.terms[k - 1].index < s.terms[k].index,
                  where_ + ": subscript terms not sorted and unique");
            free.push_back(s.terms[k].index);
          }
          for (int d : s.offset.dims_used())
            check(d >= 0 && d < static_cast<int>(p_.dims.size()), where_ + ": a subscript offset of no dim");
        }
        check(e.args.empty(), where_ + ": an access with operands");
        break;
      }
      case ExprKind::constant:
        check(e.args.empty(), where_ + ": a constant with operands");
        break;
      case ExprKind::dim_value:
        check(e.dim >= 0 && e.dim < static_cast<int>(p_.dims.size()), where_ + ": a dim id out of range");
        break;
      case ExprKind::negate:
        check(e.args.size() == 1, where_ + ": negate needs one operand");
        break;
      case ExprKind::call:
        check(!e.args.empty(), where_ + ": a call without arguments");
        break;
      case ExprKind::add:
      case ExprKind::multiply:
        check(!e.args.empty(), where_ + ": a chain without operands");
        check(e.ops.size() == e.args.size(), where_ + ": a chain's operators do not match its operands");
        break;
      case ExprKind::reduce:
      case ExprKind::normalize:
        check(e.args.size() == 1, where_ + ": a reduction needs one operand");
        check(!e.over.empty() && sorted_unique(e.over), where_ + ": a reduction's indices not sorted and unique");
        for (int id : e.over)
          check(std::binary_search(e.args[0]->free.begin(), e.args[0]->free.end(), id),
                where_ + ": a reduction over an index its operand does not hold");
        break;
      case ExprKind::select: {
        const Condition& c = e.condition;
        check(e.args.size() == 2, where_ + ": a where needs two operands");
        check(valid_index(c.lhs) && valid_index(c.rhs) && c.lhs != c.rhs,
              where_ + ": a condition on indices out of range");
        free.push_back(c.lhs);
        free.push_back(c.rhs);
        break;
      }
    }
    for (const ExprPtr& a : e.args) free.insert(free.end(), a->free.begin(), a->free.end());
    std::sort(free.begin(), free.end());
    free.erase(std::unique(free.begin(), free.end()), free.end());
    if (e.kind == ExprKind::reduce)
      free.erase(std::remove_if(free.begin(), free.end(),
                                [&](int id) { return std::binary_search(e.over.begin(), e.over.end(), id); }),
                 free.end());
    check(free == e.free, where_ + ": a node's free indices are not those of its operands");
    bool folds = e.kind == ExprKind::constant || e.kind == ExprKind::dim_value;
    if (e.kind == ExprKind::negate || e.kind == ExprKind::call || e.kind == ExprKind::add ||
        e.kind == ExprKind::multiply)
      folds = std::all_of(e.args.begin(), e.args.end(), [](const ExprPtr& a) { return a->folds; });
    check(folds == e.folds, where_ + ": a node's `folds` does not say whether it is made of numbers and dims only");
  }

  const Program& p_;
  const char* pass_;
  const Statement* statement_ = nullptr;
  std::string where_;
};

}  // namespace

void verify_program(const Program& program, IrStage stage, const char* after_pass) {
  Verifier(program, after_pass).program(stage);
}

}  // namespace einc::ir
