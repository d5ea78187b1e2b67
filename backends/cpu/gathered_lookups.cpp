// backends/cpu/gathered_lookups.cpp — see gathered_lookups.h.
#include "backends/cpu/gathered_lookups.h"

#include <algorithm>
#include <cstring>

#include "backends/reference/interpreter.h"
#include "einc/internal_error.h"
#include "ir/expr_builders.h"
#include "runtime/thread_pool.h"

namespace einc::cpu {

namespace {}  // namespace

bool has_lookup_access(const ir::Statement& statement) {
  return ir::any_access(*statement.value, [](const ir::Expr& a) { return ir::has_lookup(a.subscripts); });
}

GatheredStatement gather_statement(const ir::Program& program, const ir::Statement& statement) {
  GatheredStatement out;
  out.program = program;
  out.statement = statement;
  const std::vector<std::int64_t> extents = ir::index_extents(program, statement);
  out.statement.value = ir::replace_accesses(statement.value, [&](const ir::Expr& a) -> ir::ExprPtr {
    if (!ir::has_lookup(a.subscripts)) return nullptr;
    ir::Tensor tensor = program.tensors.at(static_cast<std::size_t>(a.tensor));
    tensor.name += "'gathered";
    tensor.role = ir::TensorRole::input;
    tensor.is_output = false;
    tensor.shape.clear();
    for (int index : a.free) tensor.shape.push_back(ir::Poly::constant(extents[static_cast<std::size_t>(index)]));
    const int id = out.program.add_tensor(std::move(tensor));
    auto original = std::make_shared<ir::Expr>(a);
    out.gathers.push_back(Gather{original, id});
    return ir::make_index_access(a.span, id, a.free);
  });
  return out;
}

void run_gathers(const GatheredStatement& gathered, const ir::Program& program, const ir::Statement& statement,
                 std::vector<Tensor>& tensors, int threads) {
  const std::vector<std::int64_t> extents = ir::index_extents(program, statement);
  for (const Gather& g : gathered.gathers) {
    EINC_CHECK(static_cast<std::size_t>(g.temporary) == tensors.size(), "gathered lookups are appended in order");
    const ir::Expr& a = *g.access;
    const Tensor& source = tensors.at(static_cast<std::size_t>(a.tensor));
    Tensor out = Tensor::empty(source.dtype(), ir::evaluated_shape(gathered.program, g.temporary));
    const auto size = static_cast<std::int64_t>(dtype_size(source.dtype()));
    const std::size_t rank = a.free.size();
    if (out.numel() == 0) {
      tensors.push_back(std::move(out));
      continue;
    }
    // The innermost index is copied as a row when no lookup reads it.
    const int inner = rank ? a.free.back() : -1;
    bool row_copy = rank > 0;
    for (const ir::Subscript& s : a.subscripts)
      if (s.is_lookup())
        for (int index : ir::subscript_indices(s.lookup_subscripts)) row_copy &= index != inner;
    const std::int64_t row_length = row_copy ? extents[static_cast<std::size_t>(inner)] : 1;
    const std::int64_t inner_stride = row_copy ? ir::access_stride(source.strides(), a.subscripts, inner) : 0;
    const std::int64_t rows = out.numel() / row_length;
    const auto* from = static_cast<const char*>(source.data());
    auto* to = static_cast<char*>(out.data());
    std::vector<std::int64_t> offsets;
    for (const ir::Subscript& s : a.subscripts) offsets.push_back(program.evaluate(s.offset));
    runtime::parallel_for(rows, out.numel() >= (1 << 16) ? threads : 1, [&](std::int64_t row) {
      std::vector<std::int64_t> at(statement.indices.size(), 0);
      for (std::size_t f = row_copy ? rank - 1 : rank, rest = static_cast<std::size_t>(row); f-- > 0;) {
        const auto e = static_cast<std::size_t>(extents[static_cast<std::size_t>(a.free[f])]);
        at[static_cast<std::size_t>(a.free[f])] = static_cast<std::int64_t>(rest % e);
        rest /= e;
      }
      std::int64_t element = 0;
      for (std::size_t d = 0; d < a.subscripts.size(); ++d) {
        const ir::Subscript& s = a.subscripts[d];
        const std::int64_t p = s.is_lookup() ? reference::read_lookup_id(program, statement, a, d, tensors, at)
                                             : ir::position_at(s, offsets[d], at);
        element += p * source.strides()[d];
      }
      char* dst = to + row * row_length * size;
      if (inner_stride == 1) {
        std::memcpy(dst, from + element * size, static_cast<std::size_t>(row_length * size));
        return;
      }
      for (std::int64_t k = 0; k < row_length; ++k)
        std::memcpy(dst + k * size, from + (element + k * inner_stride) * size, static_cast<std::size_t>(size));
    });
    tensors.push_back(std::move(out));
  }
}

}  // namespace einc::cpu
