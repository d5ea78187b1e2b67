// backends/cpu/access_copies.h — statements with accesses that no kernel
// reads in place, run on dense temporaries made first.
//
// Two kinds of access are not strided views of their tensor: a zero-padded
// one (`padded(X[c, 2*p + r - 1, ...])`: a kernel would test every
// position) and one with a lookup (`wte[ids[t], d]`: the address is data).
// Both go the same way: copy_accesses replaces each such access by a plain
// access of a temporary tensor declared after the program's own, the
// rewritten statement takes its ordinary path (a convolution on a padded
// copy is one JIT GETT, an embedding a loop kernel), and before it runs,
// make_access_copies makes the temporaries: a zero-padded copy of the
// tensor (padded_copies.h) or the gathered elements of the access
// (gathered_lookups.h). A padded access with a lookup becomes a padded
// copy whose access still has the lookup: the rewritten statement needs
// copies again, and the backend prepares it again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "einc/tensor.h"
#include "ir/program.h"

namespace einc::cpu {

struct AccessCopy {
  enum class Kind { padded, gathered };
  Kind kind = Kind::padded;
  int source = -1;                  // the tensor the access reads
  int temporary = -1;               // its copy's tensor id in CopiedStatement::program
  ir::ExprPtr access;               // the access as the statement had it
  std::vector<std::int64_t> low;    // padded: zeros before each dim
  std::vector<std::int64_t> shape;  // the temporary's extents
};

// The statement reading temporaries, and the program with them declared.
struct CopiedStatement {
  ir::Program program;
  ir::Statement statement;
  std::vector<AccessCopy> copies;  // in the order of their tensor ids
};

// Whether the statement reads through padded(...) or a lookup.
bool needs_access_copies(const ir::Statement& statement);

// The rewritten statement under the bound dims (throws UnboundDimError).
CopiedStatement copy_accesses(const ir::Program& program, const ir::Statement& statement);

// Appends the temporaries of `copied.copies` to `tensors` (the run's, by
// tensor id), in order. `program` and `statement` are the originals (a
// lookup reads its ids through them); throws reference::ExecutionError for
// an id out of range or a copy that does not fit in memory.
void make_access_copies(const CopiedStatement& copied, const ir::Program& program, const ir::Statement& statement,
                        std::vector<Tensor>& tensors, int threads);

// What the copies are, as `einc emit --target plan` says it: "zero-padded
// copies of X (low margins 0,1,1)", "gathered rows of wte", joined by ", ".
std::string describe_access_copies(const CopiedStatement& copied, const ir::Program& program);

}  // namespace einc::cpu
