// tests/ir/verify_test.cpp — the IR verifier (ir/verify.h): every example
// passes it after sema and after the Einstein rule, and each kind of broken
// invariant is an InternalError naming the pass, never a diagnostic.
#include "ir/verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "einc/internal_error.h"
#include "ir/expr_builders.h"
#include "tests/ir/lower_helper.h"

namespace einc::ir {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(Verify, EveryExampleIsValidAfterEachPass) {
  for (const auto& entry : fs::directory_iterator(fs::path(EINC_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".ein") continue;
    SCOPED_TRACE(entry.path().filename().string());
    testing::Lowered lowered = testing::lower(read(entry.path()));
    ASSERT_TRUE(lowered.errors.empty()) << lowered.errors.front();
    EXPECT_NO_THROW(verify_program(lowered.program, IrStage::einstein, "einstein"));
    EXPECT_NO_THROW(verify_program(lowered.program, IrStage::sema, "sema"));
  }
}

// What verify_program says of `program`, or "" when it accepts it.
std::string complaint(const Program& program, IrStage stage = IrStage::einstein) {
  try {
    verify_program(program, stage, "test-pass");
  } catch (const InternalError& e) {
    return e.what();
  }
  return "";
}

TEST(Verify, BrokenInvariantsAreInternalErrors) {
  testing::Lowered lowered =
      testing::lower("dim M = 4, K = 3, N = 2\ninput A[M, K], B[K, N]\nC[i, j] = A[i, k] * B[k, j]\n");
  ASSERT_TRUE(lowered.errors.empty());
  const Program good = lowered.program;
  ASSERT_EQ(complaint(good), "");

  Program unsummed = good;  // the value as sema left it: k free, not on the left
  const Expr& reduce = *unsummed.statements[0].value;
  ASSERT_EQ(reduce.kind, ExprKind::reduce);
  unsummed.statements[0].value = reduce.args[0];
  EXPECT_EQ(complaint(unsummed, IrStage::sema), "");
  EXPECT_NE(complaint(unsummed).find("index 'k' is summed but not inside a reduce"), std::string::npos)
      << complaint(unsummed);

  Program bad_rank = good;  // A read with one subscript
  bad_rank.statements[0].value = make_index_access({}, 0, {0});
  EXPECT_NE(complaint(bad_rank).find("'A' accessed with 1 subscripts but has rank 2"), std::string::npos)
      << complaint(bad_rank);

  Program bad_target = good;
  bad_target.statements[0].target = 99;
  EXPECT_NE(complaint(bad_target).find("IR invalid after pass 'test-pass': line 3: target id out of range"),
            std::string::npos)
      << complaint(bad_target);

  Program bad_output = good;
  bad_output.outputs.push_back(-1);
  EXPECT_NE(complaint(bad_output).find("an output id out of range"), std::string::npos);

  Program twice = good;
  twice.statements[0].lhs = {0, 0};
  EXPECT_NE(complaint(twice).find("an index twice on the left"), std::string::npos);
}

}  // namespace
}  // namespace einc::ir
