// tests/cli/cli_test.cpp — end-to-end tests of the `einc` command
// (docs/language.md, "Command line" and "Diagnostics"): exit codes (0 success,
// 1 user error, 2 usage error with the usage on stderr), stdout left empty by
// a failing command, the report formats and the options that change them.
//
// The binary runs with the source tree as its working directory, so the
// examples are named as a user would name them (examples/01_matmul.ein).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/run_process.h"

namespace {

using einc_test::ProcessResult;
using nlohmann::json;

const std::string kEinc = EINC_BINARY_DIR "/bin/einc";
const std::string kSourceDir = EINC_SOURCE_DIR;
const std::string kMatmul = "examples/01_matmul.ein";
const std::string kTransformer = "examples/05_transformer_block.ein";
constexpr std::int64_t kMatmulMacs = 512LL * 256 * 128;  // M*K*N

ProcessResult einc(const std::vector<std::string>& args) { return einc_test::run_process(kEinc, args, kSourceDir); }

// What a failed expectation prints about a run.
std::string show(const ProcessResult& r) {
  std::ostringstream s;
  s << "\n  exit code: " << r.exit_code;
  if (r.signal) s << " (killed by signal " << r.signal << ")";
  if (r.timed_out) s << " (timed out)";
  s << "\n  stdout (" << r.out.size() << " bytes): " << r.out.substr(0, 2000) << "\n  stderr (" << r.err.size()
    << " bytes): " << r.err.substr(0, 2000);
  return s.str();
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A script written to a fresh temporary file, removed with the object.
class TempScript {
 public:
  explicit TempScript(const std::string& text, const std::string& name = "script.ein") {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("einc_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / name).string();
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempScript() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

// A run that succeeded: exit 0, no diagnostics.
void expect_success(const ProcessResult& r) {
  EXPECT_FALSE(r.timed_out) << show(r);
  EXPECT_EQ(r.signal, 0) << show(r);
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(r.err, "") << show(r);
}

// A usage error: exit 2, usage on stderr naming `offending`, nothing on stdout.
void expect_usage_error(const std::vector<std::string>& args, const std::string& offending) {
  ProcessResult r = einc(args);
  std::string cmd = "einc";
  for (const std::string& a : args) cmd += " " + a;
  SCOPED_TRACE(cmd);
  EXPECT_EQ(r.signal, 0) << show(r);
  EXPECT_EQ(r.exit_code, 2) << show(r);
  EXPECT_EQ(r.out, "") << show(r);
  EXPECT_NE(r.err.find("Usage:"), std::string::npos) << "no usage on stderr" << show(r);
  if (!offending.empty()) {
    EXPECT_NE(r.err.find(offending), std::string::npos) << "stderr does not name '" << offending << "'" << show(r);
  }
}

// A user error: exit 1, a diagnostic on stderr, nothing on stdout.
ProcessResult expect_user_error(const std::vector<std::string>& args) {
  ProcessResult r = einc(args);
  EXPECT_EQ(r.signal, 0) << show(r);
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(r.out, "") << show(r);
  EXPECT_NE(r.err.find("error"), std::string::npos) << show(r);
  return r;
}

json report_json(std::vector<std::string> args) {
  args.insert(args.begin(), "report");
  args.push_back("--format");
  args.push_back("json");
  ProcessResult r = einc(args);
  expect_success(r);
  try {
    return json::parse(r.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "stdout is not JSON: " << e.what() << show(r);
    return json::object();
  }
}

// ---------------------------------------------------------------------------
// Help and version.

TEST(CliTest, BinaryExists) { ASSERT_TRUE(std::filesystem::exists(kEinc)) << kEinc; }

TEST(CliTest, HelpListsCommands) {
  ProcessResult r = einc({"--help"});
  expect_success(r);
  EXPECT_NE(r.out.find("check"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("report"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("Usage"), std::string::npos) << show(r);
}

TEST(CliTest, ReportHelpListsOptions) {
  ProcessResult r = einc({"report", "--help"});
  expect_success(r);
  for (const char* option : {"--format", "--dim", "--repeat", "--sweep", "FILE"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << show(r);
}

TEST(CliTest, CheckHelp) {
  ProcessResult r = einc({"check", "--help"});
  expect_success(r);
  EXPECT_NE(r.out.find("FILE"), std::string::npos) << show(r);
}

TEST(CliTest, Version) {
  ProcessResult r = einc({"--version"});
  expect_success(r);
  EXPECT_EQ(r.out.rfind("einc ", 0), 0u) << show(r);
  EXPECT_NE(r.out.find("0."), std::string::npos) << show(r);
  EXPECT_EQ(r.out.back(), '\n') << show(r);
}

// ---------------------------------------------------------------------------
// check.

TEST(CliTest, CheckValidScriptIsSilent) {
  ProcessResult r = einc({"check", kMatmul});
  expect_success(r);
  EXPECT_EQ(r.out, "") << show(r);
}

TEST(CliTest, CheckEveryExample) {
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + "/examples")) {
    if (entry.path().extension() != ".ein") continue;
    ProcessResult r = einc({"check", entry.path().string()});
    SCOPED_TRACE(entry.path().string());
    expect_success(r);
    EXPECT_EQ(r.out, "") << show(r);
  }
}

TEST(CliTest, CheckDumpIr) {
  ProcessResult r = einc({"check", "--dump-ir", kMatmul});
  expect_success(r);
  EXPECT_NE(r.out.find("C"), std::string::npos) << show(r);
}

TEST(CliTest, EmptyAndCommentOnlyFilesAreValid) {
  for (const std::string& text :
       {std::string(""), std::string("# nothing but a comment\n"), std::string("# one\n\n   # two\n\t\n"),
        std::string("# no newline at the end"), std::string("\n\n\n"), std::string(";;\n;")}) {
    TempScript script(text);
    SCOPED_TRACE("script: \"" + text + "\"");
    ProcessResult r = einc({"check", script.path()});
    expect_success(r);
    EXPECT_EQ(r.out, "") << show(r);
    ProcessResult report = einc({"report", script.path(), "--format", "json"});
    expect_success(report);
    EXPECT_TRUE(json::accept(report.out)) << show(report);
  }
}

TEST(CliTest, CrlfAndByteOrderMarkAreAccepted) {
  std::ifstream in(kSourceDir + "/" + kMatmul, std::ios::binary);
  std::stringstream original;
  original << in.rdbuf();
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : original.str()) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  TempScript script(crlf, "crlf_bom.ein");

  ProcessResult r = einc({"check", script.path()});
  expect_success(r);
  EXPECT_EQ(r.out, "") << show(r);
  json crlf_report = report_json({script.path()});
  json lf_report = report_json({kMatmul});
  EXPECT_EQ(crlf_report["totals"], lf_report["totals"]);
  EXPECT_EQ(crlf_report["dims"], lf_report["dims"]);
  ASSERT_EQ(crlf_report["statements"].size(), 1u);
  EXPECT_EQ(crlf_report["statements"][0]["line"], 5);
  EXPECT_EQ(crlf_report["statements"][0]["column"], 1);
}

TEST(CliTest, CrlfScriptErrorHasTheSameColumnAsLf) {
  TempScript lf("dim M = 4\ninput A[M]\nB[i] = A[i] +* 2\n", "lf.ein");
  TempScript crlf(
      "\xEF\xBB\xBF"
      "dim M = 4\r\ninput A[M]\r\nB[i] = A[i] +* 2\r\n",
      "crlf.ein");
  ProcessResult a = expect_user_error({"check", lf.path()});
  ProcessResult b = expect_user_error({"check", crlf.path()});
  EXPECT_NE(a.err.find(lf.path() + ":3:14: error:"), std::string::npos) << show(a);
  EXPECT_NE(b.err.find(crlf.path() + ":3:14: error:"), std::string::npos) << show(b);
  EXPECT_EQ(b.err.find('\r'), std::string::npos) << "a CR of the source line is echoed" << show(b);
}

// ---------------------------------------------------------------------------
// report.

TEST(CliTest, ReportJson) {
  json j = report_json({kMatmul});
  ASSERT_TRUE(j.is_object());
  ASSERT_TRUE(j.contains("dims"));
  ASSERT_TRUE(j.contains("statements"));
  ASSERT_TRUE(j.contains("totals"));
  EXPECT_EQ(j["dims"]["M"], 512);
  EXPECT_EQ(j["dims"]["K"], 256);
  EXPECT_EQ(j["dims"]["N"], 128);
  ASSERT_EQ(j["statements"].size(), 1u);
  const json& s = j["statements"][0];
  EXPECT_EQ(s["line"], 5);
  EXPECT_EQ(s["target"], "C");
  EXPECT_EQ(s["kind"], "contraction");
  EXPECT_EQ(s["shape"], json::array({512, 128}));
  EXPECT_EQ(s["dtype"], "f32");
  EXPECT_EQ(s["dot_products"], 512 * 128);
  EXPECT_EQ(s["reduction_length"], 256);
  EXPECT_EQ(s["macs"], kMatmulMacs);
  EXPECT_EQ(s["flops"], 2 * kMatmulMacs);
  EXPECT_EQ(j["totals"]["macs"], kMatmulMacs);
  EXPECT_EQ(j["totals"]["flops"], 2 * kMatmulMacs);
  EXPECT_EQ(j["totals"]["bytes"], 4 * (512 * 256 + 256 * 128 + 512 * 128));
  EXPECT_EQ(j["totals"]["params"], 0);
  for (const char* key : {"dot_products", "macs", "flops", "transcendentals", "bytes", "params"})
    EXPECT_TRUE(j["totals"].contains(key)) << key;
}

TEST(CliTest, ReportEveryFormat) {
  for (std::string format : {"table", "json", "csv", "markdown"}) {
    SCOPED_TRACE(format);
    ProcessResult r = einc({"report", kMatmul, "--format", format});
    expect_success(r);
    ASSERT_FALSE(r.out.empty()) << show(r);
    EXPECT_EQ(r.out.back(), '\n') << show(r);
    if (format == "csv") {
      std::vector<std::string> lines = lines_of(r.out);
      ASSERT_GE(lines.size(), 2u) << show(r);
      EXPECT_NE(lines[0].find(','), std::string::npos) << show(r);
      EXPECT_NE(r.out.find(std::to_string(kMatmulMacs)), std::string::npos) << show(r);
    } else if (format == "markdown") {
      EXPECT_NE(r.out.find('|'), std::string::npos) << show(r);
    } else if (format == "table") {
      EXPECT_NE(r.out.find("C"), std::string::npos) << show(r);
    }
  }
}

TEST(CliTest, TableIsTheDefaultFormat) {
  ProcessResult plain = einc({"report", kMatmul});
  ProcessResult table = einc({"report", kMatmul, "--format", "table"});
  expect_success(plain);
  EXPECT_EQ(plain.out, table.out);
}

TEST(CliTest, ReportEveryExampleInEveryFormat) {
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + "/examples")) {
    if (entry.path().extension() != ".ein") continue;
    for (std::string format : {"table", "json", "csv", "markdown"}) {
      ProcessResult r = einc({"report", entry.path().string(), "--format", format});
      SCOPED_TRACE(entry.path().string() + " --format " + format);
      // An example may leave a dim symbolic (a user error for report); it
      // must then fail cleanly.
      if (r.exit_code == 1) {
        EXPECT_EQ(r.out, "") << show(r);
        EXPECT_NE(r.err.find("has no value"), std::string::npos) << show(r);
        continue;
      }
      expect_success(r);
      EXPECT_FALSE(r.out.empty());
      if (format == "json") {
        EXPECT_TRUE(json::accept(r.out)) << show(r);
      }
    }
  }
}

TEST(CliTest, DimOverrideChangesMacs) {
  json j = report_json({kMatmul, "--dim", "M=1024"});
  EXPECT_EQ(j["dims"]["M"], 1024);
  EXPECT_EQ(j["totals"]["macs"], 2 * kMatmulMacs);
  EXPECT_EQ(j["statements"][0]["shape"], json::array({1024, 128}));

  json two = report_json({kMatmul, "--dim", "M=1024", "--dim", "N=1"});
  EXPECT_EQ(two["totals"]["macs"], 1024 * 256 * 1);

  json last = report_json({kMatmul, "--dim", "M=7", "--dim", "M=1024"});
  EXPECT_EQ(last["dims"]["M"], 1024) << "the last --dim for a name wins";

  json zero = report_json({kMatmul, "--dim", "K=0"});
  EXPECT_EQ(zero["totals"]["macs"], 0);
}

TEST(CliTest, RepeatMultipliesTotals) {
  json once = report_json({kTransformer});
  json thrice = report_json({kTransformer, "--repeat", "3"});
  for (const char* key : {"macs", "flops", "bytes", "dot_products", "transcendentals"}) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(once["totals"][key].is_number_integer());
    EXPECT_EQ(thrice["totals"][key].get<std::int64_t>(), 3 * once["totals"][key].get<std::int64_t>());
  }
  // The statements are per block.
  EXPECT_EQ(thrice["statements"], once["statements"]);
}

TEST(CliTest, SweepRowsIncrease) {
  json j = report_json({kTransformer, "--sweep", "T=1,128,1024"});
  ASSERT_TRUE(j.contains("rows")) << j.dump(1);
  const json& rows = j["rows"];
  ASSERT_EQ(rows.size(), 3u);
  std::vector<std::int64_t> values = {1, 128, 1024};
  std::int64_t previous = -1;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["value"], values[i]);
    std::int64_t macs = rows[i]["totals"]["macs"].get<std::int64_t>();
    EXPECT_GT(macs, previous) << "row " << i;
    previous = macs;
    // Each row is what a report with that dim bound says.
    json single = report_json({kTransformer, "--dim", "T=" + std::to_string(values[i])});
    EXPECT_EQ(rows[i]["totals"]["macs"], single["totals"]["macs"]) << "T=" << values[i];
    EXPECT_EQ(rows[i]["totals"]["bytes"], single["totals"]["bytes"]) << "T=" << values[i];
  }

  ProcessResult table = einc({"report", kTransformer, "--sweep", "T=1,128,1024"});
  expect_success(table);
  EXPECT_NE(table.out.find("1024"), std::string::npos) << show(table);

  ProcessResult csv = einc({"report", kTransformer, "--sweep", "T=1,128,1024", "--format", "csv"});
  expect_success(csv);
  EXPECT_EQ(lines_of(csv.out).size(), 4u) << "a header and three rows" << show(csv);

  ProcessResult markdown = einc({"report", kTransformer, "--sweep", "T=1,128,1024", "--format", "markdown"});
  expect_success(markdown);
  EXPECT_NE(markdown.out.find('|'), std::string::npos) << show(markdown);
}

TEST(CliTest, SweepWithRepeat) {
  json once = report_json({kTransformer, "--sweep", "T=1,128"});
  json thrice = report_json({kTransformer, "--sweep", "T=1,128", "--repeat", "3"});
  ASSERT_EQ(thrice["rows"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(thrice["rows"][i]["totals"]["macs"].get<std::int64_t>(),
              3 * once["rows"][i]["totals"]["macs"].get<std::int64_t>());
}

// ---------------------------------------------------------------------------
// Usage errors: exit 2, usage on stderr, the offending argument named,
// nothing on stdout.

TEST(CliTest, UsageErrors) {
  expect_usage_error({}, "");
  expect_usage_error({"frobnicate", kMatmul}, "frobnicate");
  expect_usage_error({"report", kMatmul, "--bogus"}, "--bogus");
  expect_usage_error({"check", kMatmul, "--format", "json"}, "--format");
  expect_usage_error({"report", kMatmul, "--dim", "M=abc"}, "M=abc");
  expect_usage_error({"report", kMatmul, "--dim", "=3"}, "=3");
  expect_usage_error({"report", kMatmul, "--dim", "M"}, "--dim");
  expect_usage_error({"report", kMatmul, "--dim", "M=-1"}, "--dim");
  expect_usage_error({"report", kMatmul, "--dim", "M=99999999999999999999"}, "--dim");
  expect_usage_error({"check", kMatmul, "--dim", "M=abc"}, "M=abc");
  expect_usage_error({"report", kMatmul, "--format", "xml"}, "xml");
  expect_usage_error({"report", kMatmul, "--repeat", "0"}, "--repeat");
  expect_usage_error({"report", kMatmul, "--repeat", "-1"}, "--repeat");
  expect_usage_error({"report", kMatmul, "--repeat", "abc"}, "--repeat");
  expect_usage_error({"report", kMatmul, "--sweep", "T"}, "--sweep");
  expect_usage_error({"report", kMatmul, "--sweep", "M=1,,2"}, "--sweep");
  expect_usage_error({"report"}, "FILE");
  expect_usage_error({"check"}, "FILE");
  expect_usage_error({"check", kMatmul, "extra.ein"}, "extra.ein");
}

TEST(CliTest, UsageErrorComesBeforeReadingTheFile) {
  expect_usage_error({"report", "no/such/file.ein", "--dim", "M=abc"}, "M=abc");
  expect_usage_error({"report", "no/such/file.ein", "--format", "xml"}, "xml");
}

// ---------------------------------------------------------------------------
// User errors: exit 1, diagnostics on stderr, nothing on stdout.

TEST(CliTest, MissingFile) {
  for (const char* command : {"check", "report"}) {
    ProcessResult r = expect_user_error({command, "no/such/file.ein"});
    EXPECT_NE(r.err.find("no/such/file.ein"), std::string::npos) << show(r);
    EXPECT_EQ(r.err.find("Usage:"), std::string::npos) << "a user error is not a usage error" << show(r);
  }
}

TEST(CliTest, DirectoryAsFileIsAUserError) {
  ProcessResult r = expect_user_error({"check", "examples"});
  EXPECT_NE(r.err.find("examples"), std::string::npos) << show(r);
  expect_user_error({"report", "examples"});
}

TEST(CliTest, SyntaxErrorIsLocated) {
  TempScript script("dim M = 4\ninput A[M]\nB[i] = A[i] +* 2\noutput B\n");
  for (const char* command : {"check", "report"}) {
    SCOPED_TRACE(command);
    ProcessResult r = expect_user_error({command, script.path()});
    // file:line:col: error: message, then the source line and a caret under
    // the unexpected '*' (column 14).
    std::vector<std::string> lines = lines_of(r.err);
    ASSERT_GE(lines.size(), 3u) << show(r);
    EXPECT_EQ(lines[0].rfind(script.path() + ":3:14: error: ", 0), 0u) << show(r);
    EXPECT_NE(lines[1].find("B[i] = A[i] +* 2"), std::string::npos) << show(r);
    std::size_t caret = lines[2].find('^');
    ASSERT_NE(caret, std::string::npos) << show(r);
    EXPECT_EQ(lines[1][caret], '*') << "the caret is not under the '*'" << show(r);
    // One error, reported once.
    EXPECT_EQ(count_of(r.err, ": error: "), 1) << "the error is reported more than once" << show(r);
  }
}

// An implicit sum around a non-linear function of its index (SwiGLU written
// without a sum inside silu): a warning at the call, exit status 0, and the
// command's output as usual. Each explicit form is silent.
TEST(CliTest, NonlinearImplicitSumWarnsAndSucceeds) {
  const std::string preamble = "dim T = 4, D = 8, F = 16\ninput n[T, D], wg[D, F], wu[D, F]\n";
  TempScript script(preamble + "g[t, f] = silu(n[t, d]*wg[d, f]) * (n[t, d]*wu[d, f])\noutput g\n");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"check"}, {"report"}, {"report", "--sweep", "T=1,2,3"}, {"emit", "--target", "ir"}}) {
    args.push_back(script.path());
    std::string cmd;
    for (const std::string& a : args) cmd += " " + a;
    SCOPED_TRACE(cmd);
    ProcessResult r = einc(args);
    EXPECT_EQ(r.signal, 0) << show(r);
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_EQ(args[0] == "check", r.out.empty()) << show(r);
    std::vector<std::string> lines = lines_of(r.err);
    ASSERT_GE(lines.size(), 3u) << show(r);
    EXPECT_EQ(lines[0].rfind(script.path() + ":3:11: warning: index 'd' is summed outside silu(...)", 0), 0u)
        << show(r);
    EXPECT_NE(lines[0].find("write silu(sum(d: n[t, d]*wg[d, f]))"), std::string::npos) << show(r);
    EXPECT_NE(lines[0].find("write sum(d: ...) explicitly"), std::string::npos) << show(r);
    // The caret under the call, then a note where the sum sits.
    EXPECT_EQ(lines[2].find('^'), lines[1].find("silu(")) << show(r);
    EXPECT_NE(r.err.find(script.path() + ":3:11: note: the Einstein rule sums 'd' over this expression"),
              std::string::npos)
        << show(r);
    // Once, however often the command lowers the script again (--sweep binds T three times).
    EXPECT_EQ(count_of(r.err, ": warning: "), 1) << show(r);
    EXPECT_EQ(count_of(r.err, ": error: "), 0) << show(r);
  }
  for (const char* statement : {"g[t, f] = silu(sum(d: n[t, d]*wg[d, f])) * sum(d: n[t, d]*wu[d, f])",
                                "g[t, f] = sum(d: silu(n[t, d]*wg[d, f]) * (n[t, d]*wu[d, f]))",
                                "g[t, f] = silu(n[t, d]*wg[d, f]) * wu[e, f]"}) {
    TempScript quiet(preamble + statement + "\noutput g\n");
    SCOPED_TRACE(statement);
    ProcessResult r = einc({"check", quiet.path()});
    expect_success(r);
  }
}

TEST(CliTest, SeveralErrorsAreAllReported) {
  TempScript script("dim M = 4\ninput A[M]\nB[i] = A[i] +* 2\nC[i] = A[i] * )\nD[i] = A[i]\n");
  ProcessResult r = expect_user_error({"check", script.path()});
  EXPECT_NE(r.err.find(script.path() + ":3:"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find(script.path() + ":4:"), std::string::npos) << show(r);
}

// Stray control bytes (docs/language.md, "Diagnostics"): each is an error at
// its own line:column, shown in caret notation with the caret under it;
// nothing unprintable reaches the terminal, and the rest of the file is
// still checked.
TEST(CliTest, StrayControlBytesAreLocatedShownAndRecoveredFrom) {
  const std::string prefix = "dim N = 4\ninput A[N]\n";
  struct Case {
    std::string byte, shown, message;
  };
  for (const Case& c : {Case{"\x1b", "^[", "U+001B (ESC)"}, Case{std::string(1, '\0'), "^@", "U+0000 (NUL)"},
                        Case{"\x7f", "^?", "U+007F (DEL)"}}) {
    SCOPED_TRACE(c.message);
    TempScript script(prefix + "B[i] = A[i]" + c.byte + " * 2\nC[i] = Z[i]\noutput B, C\n");
    ProcessResult r = expect_user_error({"check", script.path()});
    std::vector<std::string> lines = lines_of(r.err);
    ASSERT_GE(lines.size(), 6u) << show(r);
    EXPECT_EQ(lines[0], script.path() + ":3:12: error: stray control character " + c.message + " in the script")
        << show(r);
    EXPECT_EQ(lines[1], "  B[i] = A[i]" + c.shown + " * 2") << show(r);
    EXPECT_EQ(lines[2], std::string(2 + 11, ' ') + "^~") << show(r);
    // The next statement's error, after the first one.
    EXPECT_EQ(lines[3], script.path() + ":4:8: error: unknown tensor 'Z'") << show(r);
    EXPECT_EQ(count_of(r.err, ": error: "), 2) << show(r);
    for (char ch : r.err) {
      const auto byte = static_cast<unsigned char>(ch);
      EXPECT_FALSE((byte < 0x20 && ch != '\n') || byte == 0x7F) << "raw control byte on stderr" << show(r);
    }
  }
}

// A syntax error does not stop the semantic checks of the other statements:
// both errors are printed, in the order of their lines, and nothing cascades
// from the statement that did not parse.
TEST(CliTest, SyntaxAndSemanticErrorsAreBothReportedInSourceOrder) {
  TempScript script(
      "dim N = 4, M = 5\n"
      "input A[N], B[M]\n"
      "C[i] = A[i] @ 2\n"     // syntax error
      "D[i] = A[i] + B[i]\n"  // shape conflict
      "E[i] = C[i] * 2\n"     // uses C: quiet
      "output C, D, E\n");
  for (const char* command : {"check", "report", "run", "emit"}) {
    SCOPED_TRACE(command);
    std::vector<std::string> args = {command, script.path()};
    if (std::string(command) == "emit") args.insert(args.end(), {"--target", "ir"});
    ProcessResult r = expect_user_error(args);
    std::vector<std::string> errors;
    for (const std::string& line : lines_of(r.err))
      if (line.find(": error: ") != std::string::npos) errors.push_back(line);
    ASSERT_EQ(errors.size(), 2u) << show(r);
    EXPECT_EQ(errors[0].rfind(script.path() + ":3:13: error: expected an operator", 0), 0u) << show(r);
    EXPECT_EQ(errors[1].rfind(script.path() + ":4:", 0), 0u) << show(r);
    EXPECT_NE(errors[1].find("index 'i' has extent"), std::string::npos) << show(r);
  }
  // The same two errors, the other way round in the file.
  TempScript swapped("dim N = 4, M = 5\ninput A[N], B[M]\nD[i] = A[i] + B[i]\nC[i] = A[i] @ 2\n");
  ProcessResult r = expect_user_error({"check", swapped.path()});
  const std::size_t conflict = r.err.find(swapped.path() + ":3:"), syntax = r.err.find(swapped.path() + ":4:13:");
  ASSERT_NE(conflict, std::string::npos) << show(r);
  ASSERT_NE(syntax, std::string::npos) << show(r);
  EXPECT_LT(conflict, syntax) << show(r);
}

TEST(CliTest, SemanticErrorIsLocated) {
  TempScript script("dim M = 4, N = 5\ninput A[M]\ninput B[N]\nC[i] = A[i] * B[i]\n");
  ProcessResult r = expect_user_error({"report", script.path()});
  EXPECT_NE(r.err.find(script.path() + ":4:"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find('^'), std::string::npos) << show(r);
}

TEST(CliTest, UndeclaredDimBinding) {
  for (const char* command : {"check", "report"}) {
    ProcessResult r = expect_user_error({command, kMatmul, "--dim", "X=3"});
    EXPECT_NE(r.err.find("'X'"), std::string::npos) << show(r);
    EXPECT_EQ(r.err.find("Usage:"), std::string::npos) << show(r);
  }
}

TEST(CliTest, SweepOfUndeclaredDim) {
  ProcessResult r = expect_user_error({"report", kMatmul, "--sweep", "T=1,2"});
  EXPECT_NE(r.err.find("'T'"), std::string::npos) << show(r);
}

TEST(CliTest, UnboundSymbolicDim) {
  TempScript script("dim T\ndim D = 8\ninput X[T, D]\nY[t, d] = X[t, d] * 2\noutput Y\n");
  // check: a symbolic dim is fine until a count needs it.
  ProcessResult check = einc({"check", script.path()});
  expect_success(check);
  EXPECT_EQ(check.out, "");
  // report: it needs the value.
  for (std::string format : {"table", "json", "csv", "markdown"}) {
    ProcessResult r = expect_user_error({"report", script.path(), "--format", format});
    EXPECT_NE(r.err.find("'T'"), std::string::npos) << show(r);
    EXPECT_NE(r.err.find(script.path() + ":1:"), std::string::npos) << show(r);
  }
  json bound = report_json({script.path(), "--dim", "T=16"});
  EXPECT_EQ(bound["dims"]["T"], 16);
  EXPECT_EQ(bound["statements"][0]["shape"], json::array({16, 8}));
  // A sweep binds it too.
  json sweep = report_json({script.path(), "--sweep", "T=1,2"});
  EXPECT_EQ(sweep["rows"].size(), 2u);
}

TEST(CliTest, CountOverflowIsAUserError) {
  // 6000000000000^3 > 2^127 - 1: an error, never a wrapped number.
  TempScript script("dim N = 6000000000000\ninput A[N, N]\nC[i, j] = A[i, k] * A[k, j]\noutput C\n");
  for (std::string format : {"table", "json", "csv", "markdown"}) {
    ProcessResult r = expect_user_error({"report", script.path(), "--format", format});
    EXPECT_NE(r.err.find(script.path() + ":3:1: error: the MAC count overflows the signed 128-bit range (N*N*N)"),
              std::string::npos)
        << show(r);
  }
  // N^3 is past int64 but reports exactly; --repeat 2^63 - 1 takes the totals past 2^127.
  TempScript cube("dim N = 3037000500\ninput A[N, N]\nC[i, j] = A[i, k] * A[k, j]\noutput C\n");
  ProcessResult exact = einc({"report", cube.path(), "--format", "csv"});
  expect_success(exact);
  EXPECT_NE(exact.out.find(",28011385488055777750125000000,"), std::string::npos) << show(exact);
  ProcessResult r = expect_user_error({"report", cube.path(), "--repeat", "9223372036854775807"});
  EXPECT_NE(r.err.find("the total MAC count overflows the signed 128-bit range"), std::string::npos) << show(r);
}

TEST(CliTest, CountsPastInt64AreExactInEveryFormat) {
  // Training compute, 6*N*D: N = 70e9 params seen by D = 1.4e12 tokens, one
  // MAC (2 FLOPs) per param per token, three passes (--repeat 3).
  TempScript script(
      "dim N = 70000000000, D = 1400000000000\n"
      "input A[N, D], B[N, D]\n"
      "y = A[n, d] * B[n, d]\n"
      "output y\n");
  const std::string six_nd = "588000000000000000000000";  // 5.88e23, past 2^63 (9.2e18) and 2^64
  const std::string two_nd = "196000000000000000000000";

  ProcessResult table = einc({"report", script.path(), "--repeat", "3"});
  expect_success(table);
  EXPECT_NE(table.out.find("588,000,000,000,000,000,000,000  (6*N*D)\n"), std::string::npos) << show(table);
  EXPECT_NE(table.out.find("588.0 Z"), std::string::npos) << show(table);

  ProcessResult text = einc({"report", script.path(), "--repeat", "3", "--format", "json"});
  expect_success(text);
  // Plain JSON integer tokens with every digit: the statement's FLOPs and the totals'.
  EXPECT_NE(text.out.find("\"flops\": " + two_nd + ",\n"), std::string::npos) << show(text);
  EXPECT_NE(text.out.find("\"flops\": " + six_nd + ",\n"), std::string::npos) << show(text);
  EXPECT_NE(text.out.find("\"macs\": 294000000000000000000000,\n"), std::string::npos) << show(text);
  const json parsed = json::parse(text.out);
  EXPECT_TRUE(parsed["totals"]["flops"].is_number()) << show(text);
  EXPECT_EQ(parsed["totals"]["formula"]["flops"], "6*N*D");
  EXPECT_EQ(parsed["dims"]["D"], 1400000000000);

  ProcessResult csv = einc({"report", script.path(), "--repeat", "3", "--format", "csv"});
  expect_success(csv);
  const std::vector<std::string> rows = lines_of(csv.out);
  ASSERT_EQ(rows.size(), 3u) << show(csv);
  EXPECT_NE(rows[1].find("," + two_nd + ","), std::string::npos) << rows[1];
  EXPECT_EQ(rows[2].rfind(",,TOTAL,", 0), 0u) << rows[2];
  EXPECT_NE(rows[2].find("," + six_nd + ","), std::string::npos) << rows[2];

  ProcessResult markdown = einc({"report", script.path(), "--repeat", "3", "--format", "markdown"});
  expect_success(markdown);
  EXPECT_NE(markdown.out.find("| FLOPs | 588,000,000,000,000,000,000,000 | `6*N*D` |"), std::string::npos)
      << show(markdown);

  // A sweep's totals too.
  ProcessResult sweep =
      einc({"report", script.path(), "--repeat", "3", "--format", "csv", "--sweep", "D=1400000000000,2800000000000"});
  expect_success(sweep);
  EXPECT_NE(sweep.out.find("D,1400000000000,"), std::string::npos) << show(sweep);
  EXPECT_NE(sweep.out.find("," + six_nd + ","), std::string::npos) << show(sweep);
  EXPECT_NE(sweep.out.find(",1176000000000000000000000,"), std::string::npos) << show(sweep);
}

TEST(CliTest, FailingReportPrintsNothingOnStdout) {
  TempScript script("dim M = 4\ninput A[M]\nB[i] = A[i]\nC[i] = B[j]\n");
  ProcessResult r = expect_user_error({"report", script.path(), "--format", "json"});
  EXPECT_EQ(r.out, "") << show(r);
}

TEST(CliTest, EmitForAnUnknownTargetOrArchIsAnError) {
  ProcessResult r = expect_user_error({"emit", kMatmul, "--target", "ptx", "--arch", "sm_bogus"});
  EXPECT_EQ(r.out, "") << show(r);
  bool named = r.err.find("'sm_bogus'") != std::string::npos;
  bool no_cuda = r.err.find("not in this build") != std::string::npos;  // built without the CUDA toolkit
  EXPECT_TRUE(named || no_cuda) << show(r);
  r = einc({"emit", kMatmul, "--target", "wasm"});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_EQ(r.out, "") << show(r);
}

// ---------------------------------------------------------------------------
// Internal errors, the command list, option limits, stages and passes.

// A broken internal check (injected through EINC_INJECT_INTERNAL_ERROR, the
// lowering's testing hook) reaches the user as an internal error: exit 3,
// "internal error — please report" with the check's file and line, nothing
// on stdout; the same script without the hook is fine (exit 0), and a user
// error stays exit 1.
TEST(CliTest, InternalErrorIsExitThreeNotAUserError) {
  for (const char* pass : {"parse", "sema", "einstein"}) {
    SCOPED_TRACE(pass);
    ProcessResult r = einc_test::run_process(
        "/usr/bin/env", {std::string("EINC_INJECT_INTERNAL_ERROR=") + pass, kEinc, "check", kMatmul}, kSourceDir);
    EXPECT_EQ(r.exit_code, 3) << show(r);
    EXPECT_EQ(r.out, "") << show(r);
    EXPECT_NE(r.err.find("internal error — please report"), std::string::npos) << show(r);
    EXPECT_NE(r.err.find("ir/lower.cpp:"), std::string::npos) << "no file:line" << show(r);
    EXPECT_EQ(r.err.find("error: "), std::string::npos) << "reads like a user error" << show(r);
  }
  expect_success(einc({"check", kMatmul}));
  TempScript bad("dim M = 4\ninput A[M]\nB[i] = A[j]\n");
  ProcessResult r = expect_user_error({"check", bad.path()});
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << show(r);
}

TEST(CliTest, UnknownCommandListsEveryCommand) {
  ProcessResult r = einc({"frobnicate", kMatmul});
  EXPECT_EQ(r.exit_code, 2) << show(r);
  EXPECT_NE(r.err.find("(commands: check, report, run, emit)"), std::string::npos) << show(r);
}

TEST(CliTest, ThreadsAndBackendAreCheckedWithClearMessages) {
  expect_usage_error({"run", kMatmul, "--random", "1", "--threads", "100000"}, "--threads");
  expect_usage_error({"run", kMatmul, "--random", "1", "--threads", "-1"}, "--threads");
  ProcessResult r = einc({"run", kMatmul, "--random", "1", "--backend", "tpu"});
  EXPECT_EQ(r.exit_code, 2) << show(r);
  EXPECT_NE(r.err.find("unknown backend 'tpu'; this build has: "), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("reference"), std::string::npos) << show(r);
}

// `emit` prints every stage of the pipeline, in order; `check --dump-after`
// every pass of the lowering.
TEST(CliTest, EmitStagesAndDumpAfterPasses) {
  ProcessResult ast = einc({"emit", kMatmul, "--target", "ast"});
  expect_success(ast);
  EXPECT_NE(ast.out.find("assignment C[i, j] ="), std::string::npos) << show(ast);
  EXPECT_NE(ast.out.find("access A[i, k]"), std::string::npos) << show(ast);
  ProcessResult ir = einc({"emit", kMatmul, "--target", "ir"});
  expect_success(ir);
  EXPECT_EQ(ir.out, einc({"check", kMatmul, "--dump-ir"}).out);
  EXPECT_EQ(ir.out, einc({"check", kMatmul, "--dump-after", "einstein"}).out);
  ProcessResult sema = einc({"check", kMatmul, "--dump-after", "sema"});
  expect_success(sema);
  EXPECT_NE(sema.out, ir.out) << "the Einstein rule changed nothing" << show(sema);
  EXPECT_EQ(sema.out.find("sum("), std::string::npos) << show(sema);
  EXPECT_NE(ir.out.find("sum("), std::string::npos) << show(ir);
  ProcessResult parse = einc({"check", kMatmul, "--dump-after", "parse"});
  EXPECT_EQ(parse.out, ast.out);
  ProcessResult products = einc({"check", "examples/07_chain_order.ein", "--dump-after", "products"});
  expect_success(products);
  EXPECT_NE(products.out.find("(A[i, j]*(B[j, k]*v[k])), path [(1, 2), (0, 1)]"), std::string::npos) << show(products);
  ProcessResult cost = einc({"check", kMatmul, "--dump-after", "cost"});
  expect_success(cost);
  EXPECT_NE(cost.out.find("C (contraction): outputs "), std::string::npos) << show(cost);
  EXPECT_NE(cost.out.find(", MACs "), std::string::npos) << show(cost);
  expect_usage_error({"check", kMatmul, "--dump-after", "codegen"}, "codegen");
  expect_usage_error({"emit", kMatmul, "--target", "wasm"}, "wasm");
}

}  // namespace
