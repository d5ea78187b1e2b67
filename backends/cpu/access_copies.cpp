// backends/cpu/access_copies.cpp — see access_copies.h.
#include "backends/cpu/access_copies.h"

#include "backends/cpu/gathered_lookups.h"
#include "backends/cpu/padded_copies.h"
#include "einc/internal_error.h"
#include "ir/expr_builders.h"

namespace einc::cpu {

bool needs_access_copies(const ir::Statement& statement) {
  return ir::any_access(*statement.value,
                        [](const ir::Expr& a) { return a.zero_padded || ir::has_lookup(a.subscripts); });
}

CopiedStatement copy_accesses(const ir::Program& program, const ir::Statement& statement) {
  CopiedStatement out;
  out.program = program;
  out.statement = statement;
  const std::vector<std::int64_t> extents = ir::index_extents(program, statement);
  // The temporary's tensor: the source's dtype, an input of constant shape.
  auto declare = [&](AccessCopy& copy, const char* suffix) {
    ir::Tensor tensor = program.tensors.at(static_cast<std::size_t>(copy.source));
    tensor.name += suffix;
    tensor.role = ir::TensorRole::input;
    tensor.is_output = false;
    tensor.shape.clear();
    for (std::int64_t extent : copy.shape) tensor.shape.push_back(ir::Poly::constant(extent));
    copy.temporary = out.program.add_tensor(std::move(tensor));
  };
  out.statement.value = ir::replace_accesses(statement.value, [&](const ir::Expr& a) -> ir::ExprPtr {
    if (!a.zero_padded && !ir::has_lookup(a.subscripts)) return nullptr;
    AccessCopy copy;
    copy.source = a.tensor;
    copy.access = std::make_shared<ir::Expr>(a);
    ir::ExprPtr replacement;
    if (a.zero_padded) {  // the copy's view: shifted offsets (any lookup in them is kept)
      copy.kind = AccessCopy::Kind::padded;
      std::vector<ir::Subscript> subscripts;
      plan_padded_copy(program, extents, a, copy, subscripts);
      declare(copy, "'padded");
      replacement = ir::make_access(a.span, copy.temporary, std::move(subscripts));
    } else {  // the gathered elements, over the access's indices
      copy.kind = AccessCopy::Kind::gathered;
      for (int index : a.free) copy.shape.push_back(extents[static_cast<std::size_t>(index)]);
      declare(copy, "'gathered");
      replacement = ir::make_index_access(a.span, copy.temporary, a.free);
    }
    out.copies.push_back(std::move(copy));
    return replacement;
  });
  return out;
}

void make_access_copies(const CopiedStatement& copied, const ir::Program& program, const ir::Statement& statement,
                        std::vector<Tensor>& tensors, int threads) {
  for (const AccessCopy& c : copied.copies) {
    EINC_CHECK(static_cast<std::size_t>(c.temporary) == tensors.size(), "access copies are appended in order");
    if (c.kind == AccessCopy::Kind::padded)
      tensors.push_back(make_padded_copy(c, tensors.at(static_cast<std::size_t>(c.source)),
                                         program.tensors.at(static_cast<std::size_t>(c.source)).name, threads));
    else
      tensors.push_back(gather_access(c, program, statement, tensors, threads));
  }
}

std::string describe_access_copies(const CopiedStatement& copied, const ir::Program& program) {
  std::string padded, gathered;
  for (const AccessCopy& c : copied.copies) {
    const std::string& name = program.tensors.at(static_cast<std::size_t>(c.source)).name;
    if (c.kind == AccessCopy::Kind::gathered) {
      gathered += (gathered.empty() ? "" : ", ") + name;
      continue;
    }
    std::string margins;
    for (std::int64_t m : c.low) margins += (margins.empty() ? "" : ",") + std::to_string(m);
    padded += (padded.empty() ? "" : ", ") + name + " (low margins " + margins + ")";
  }
  std::string out;
  if (!padded.empty()) out = "zero-padded copies of " + padded;
  if (!gathered.empty()) out += (out.empty() ? "" : ", ") + std::string("gathered rows of ") + gathered;
  return out;
}

}  // namespace einc::cpu
