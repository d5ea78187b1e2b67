// backends/cpu/gathered_lookups.h — statements with lookups on the cpu
// backend (`x[t, d] = wte[ids[t], d] + wpe[t, d]`), run on gathered copies.
//
// A lookup's address depends on data, so neither the GETT nor the loop
// kernels read one. Instead each access with a lookup is gathered first into
// a dense temporary over the access's indices (rows copied whole where the
// innermost index is contiguous, each id checked against the extent it
// indexes: an id outside it is the reference's error, with the same text),
// and the statement reads the temporary as a plain access, so it takes its
// ordinary fast path. The gather moves the accessed elements once, which is
// what reading them in the statement would cost anyway.
#pragma once

#include <vector>

#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::cpu {

struct Gather {
  ir::ExprPtr access;  // the access with lookups, as the statement had it
  int temporary = -1;  // its dense copy's tensor id in GatheredStatement::program
};

struct GatheredStatement {
  ir::Program program;  // with one temporary per gathered access (after its own tensors)
  ir::Statement statement;
  std::vector<Gather> gathers;
};

bool has_lookup_access(const ir::Statement& statement);

// The statement reading temporaries instead of its lookups (the temporaries'
// shapes under the bound dims: throws UnboundDimError).
GatheredStatement gather_statement(const ir::Program& program, const ir::Statement& statement);

// Appends one gathered temporary per entry of `gathered.gathers` to
// `tensors` (throws reference::ExecutionError for an id out of range).
void run_gathers(const GatheredStatement& gathered, const ir::Program& program, const ir::Statement& statement,
                 std::vector<Tensor>& tensors, int threads);

}  // namespace einc::cpu
