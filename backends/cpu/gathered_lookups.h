// backends/cpu/gathered_lookups.h — the temporaries of accesses with
// lookups (access_copies.h): `wte[ids[t], d]` gathered into a dense tensor
// over the access's indices.
//
// Rows are copied whole where the innermost index is contiguous and no
// lookup reads it; each id is checked against the extent it indexes (an id
// outside it is the reference's error, with the same text). The gather
// moves the accessed elements once, which is what reading them in the
// statement would cost anyway.
#pragma once

#include <vector>

#include "backends/cpu/access_copies.h"

namespace einc::cpu {

// The gathered elements of `copy.access` (throws reference::ExecutionError
// for an id out of range). `program` and `statement` are the originals;
// `tensors` the run's (the ids are read from it).
Tensor gather_access(const AccessCopy& copy, const ir::Program& program, const ir::Statement& statement,
                     const std::vector<Tensor>& tensors, int threads);

}  // namespace einc::cpu
