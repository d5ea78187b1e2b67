// frontend/ast_printer.h — the syntax tree as an indented outline, for
// `einc check --dump-after parse` and `einc emit --target ast`.
//
// One node a line, its kind, what it holds and where it starts
// (line:column), children indented below it. It shows the tree exactly as
// the parser built it (chains flat, brackets as nesting), before sema
// gives any name a meaning.
//
//   3:1 assignment C[i, j] =
//     3:11 chain
//       3:11 access A[i, k]
//       3:21 * access B[k, j]
#pragma once

#include <string>

#include "frontend/ast.h"
#include "frontend/source.h"

namespace einc::ast {

std::string print_ast(const Module& module, const frontend::SourceFile& source);

}  // namespace einc::ast
