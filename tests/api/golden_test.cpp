// tests/api/golden_test.cpp — golden reports (table and JSON) and golden
// cpu plans (the path each statement takes: `einc emit --target plan`) for
// every example script. Regenerate after an intended change with
//   EINC_UPDATE_GOLDEN=1 ctest -R Golden
// and review the diff like code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "einc/einc.h"

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> example_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fs::path(EINC_SOURCE_DIR) / "examples"))
    if (entry.path().extension() == ".ein") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class GoldenReport : public ::testing::TestWithParam<std::string> {};

void compare(const std::string& actual, const fs::path& golden) {
  if (std::getenv("EINC_UPDATE_GOLDEN")) {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with EINC_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, read(golden)) << "golden file " << golden << " differs";
}

TEST_P(GoldenReport, TableAndJson) {
  const std::string name = GetParam();
  fs::path source = fs::path(EINC_SOURCE_DIR) / "examples" / (name + ".ein");
  einc::CompileOptions options;
  options.filename = "examples/" + name + ".ein";
  einc::Report report = einc::compile(read(source), options).report();
  fs::path golden = fs::path(EINC_SOURCE_DIR) / "tests" / "golden";
  compare(einc::format_report(report, einc::ReportFormat::table), golden / (name + ".table.txt"));
  compare(einc::format_report(report, einc::ReportFormat::json), golden / (name + ".json"));
}

INSTANTIATE_TEST_SUITE_P(Examples, GoldenReport, ::testing::ValuesIn(example_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

class GoldenPlan : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenPlan, CpuPathOfEveryStatement) {
  const std::vector<einc::Backend> backends = einc::available_backends();
  if (std::find(backends.begin(), backends.end(), einc::Backend::cpu) == backends.end())
    GTEST_SKIP() << "no cpu backend in this build";
  const std::string name = GetParam();
  fs::path source = fs::path(EINC_SOURCE_DIR) / "examples" / (name + ".ein");
  einc::CompileOptions options;
  options.filename = "examples/" + name + ".ein";
  std::string plan = einc::compile(read(source), options).emit(einc::EmitStage::plan);
  compare(plan, fs::path(EINC_SOURCE_DIR) / "tests" / "golden" / (name + ".plan.txt"));
}

INSTANTIATE_TEST_SUITE_P(Examples, GoldenPlan, ::testing::ValuesIn(example_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
