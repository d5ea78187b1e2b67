// cli/main.cpp — the `einc` command: check, report, run and emit
// (docs/language.md, "Command line"). A thin client of the public API
// (einc/einc.h).
//
// Exit codes: 0 success; 1 a user error (bad script, unreadable file,
// unbound dim, overflow, bad data); 2 a usage error (unknown command or
// flag, malformed option value), which prints the usage on stderr; 3 an
// internal error (a bug in einc: "internal error — please report"); 130
// a run cancelled by Ctrl-C (cli/interrupt.h). A
// failing command prints nothing on stdout: output is formatted in full
// first.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <new>

#include "cli/options.h"
#include "cli/run_command.h"
#include "einc/einc.h"

namespace {

constexpr int kExitUserError = 1;
constexpr int kExitUsageError = 2;
constexpr int kExitInternalError = 3;

using einc::cli::CommonOptions;

void add_common(CLI::App* command, CommonOptions& options) {
  command->add_option("FILE", options.file, "The .ein script")->required();
  command->add_option("--dim", options.dims, "Bind or override a dim: --dim K=V (repeatable)")
      ->type_name("K=V")
      ->take_last()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

einc::Program compile(const CommonOptions& options) { return einc::cli::compile_script(options); }

std::string names_of(const std::vector<einc::Backend>& backends) {
  std::string out;
  for (einc::Backend b : backends) out += (out.empty() ? "" : ", ") + std::string(einc::backend_name(b));
  return out;
}

// A CLI11 check that `text` names a value of `from_name`'s enum; `what`
// and `known` make the message ("unknown backend 'x'; this build has: ...").
template <typename FromName>
CLI::Validator one_of(FromName from_name, std::string what, std::string known) {
  return CLI::Validator(
      [=](std::string& text) {
        return from_name(text) ? std::string() : "unknown " + what + " '" + text + "'; " + known;
      },
      what);
}

einc::ReportFormat parse_format(const std::string& name) {
  static const std::map<std::string, einc::ReportFormat> formats = {{"table", einc::ReportFormat::table},
                                                                    {"json", einc::ReportFormat::json},
                                                                    {"csv", einc::ReportFormat::csv},
                                                                    {"markdown", einc::ReportFormat::markdown}};
  return formats.at(name);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "einc — a tensor-expression compiler for .ein index-notation scripts.\n"
      "Checks scripts, reports their shapes and costs (MACs, FLOPs, bytes) exactly, and runs them."};
  app.name("einc");
  app.set_version_flag("--version", "einc " + einc::version() + " (frontend: Boost.Spirit X3)");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success, 1 user error (script, data, file), 2 usage error,\n"
      "3 internal error (a bug in einc: please report it), 130 run interrupted (Ctrl-C).\n"
      "Run `einc COMMAND --help` for the options of a command.");

  CommonOptions check_options;
  bool dump_ir = false;
  std::string dump_after;
  CLI::App* check = app.add_subcommand("check", "Parse and check a script; print diagnostics only");
  add_common(check, check_options);
  check->add_flag("--dump-ir", dump_ir, "Print the IR after semantic analysis (sums made explicit)");
  check
      ->add_option("--dump-after", dump_after,
                   "Print the program after one lowering pass: parse, sema, einstein, products or cost")
      ->type_name("PASS")
      ->check(one_of(einc::lowering_pass_from_name, "pass", "expected parse, sema, einstein, products or cost"));

  CommonOptions report_options;
  std::string format = "table";
  std::int64_t repeat = 1;
  std::string sweep_text;
  CLI::App* report = app.add_subcommand("report", "Print the shapes and costs of every statement, with totals");
  add_common(report, report_options);
  report->add_option("--format", format, "Output format")
      ->check(CLI::IsMember({"table", "json", "csv", "markdown"}))
      ->capture_default_str();
  report->add_option("--repeat", repeat, "Multiply the totals by N (N layers of one block)")
      ->check(CLI::Validator(
          [](std::string& text) {
            return text.find_first_not_of("0123456789") == std::string::npos && !text.empty() &&
                           text.find_first_not_of('0') != std::string::npos
                       ? std::string()
                       : "must be an integer >= 1, not '" + text + "'";
          },
          "N >= 1"))
      ->capture_default_str();
  report->add_option("--sweep", sweep_text, "Totals against one dim: --sweep T=1,128,1024,8192")
      ->type_name("K=v1,v2,...");

  einc::cli::RunArguments run_arguments;
  std::uint64_t seed = 0;
  CLI::App* run = app.add_subcommand("run", "Execute a script; write each output as NAME.npy");
  add_common(run, run_arguments.common);
  const std::string built = names_of(einc::available_backends());
  std::string backend = einc::backend_name(einc::default_backend());
  run->add_option("--backend", backend, "Backend that runs the script (this build: " + built + ")")
      ->check(one_of(einc::backend_from_name, "backend", "this build has: " + built))
      ->capture_default_str();
  run->add_option("--input", run_arguments.inputs, "Read an input or param from a .npy file (repeatable)")
      ->type_name("NAME=PATH.npy")
      ->take_last()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  CLI::Option* random = run->add_option("--random", seed, "Fill the inputs not given with seeded random data");
  random->type_name("SEED");
  run->add_option("--output-dir", run_arguments.output_dir, "Write each output to DIR/NAME.npy")->type_name("DIR");
  run->add_option("--threads", run_arguments.threads, "Worker threads for the cpu backend (0: one per core)")
      ->check(CLI::Range(0, einc::kMaxThreads))
      ->type_name("N");
  run->add_option("--bench", run_arguments.bench, "Time N runs after a warm-up; print the median and GFLOP/s")
      ->check(CLI::NonNegativeNumber)
      ->type_name("N");

  CommonOptions emit_options;
  std::string emit_target, emit_arch;
  CLI::App* emit = app.add_subcommand("emit", "Print the code a backend compiles for a script");
  add_common(emit, emit_options);
  emit->add_option("--target", emit_target,
                   "A stage, in pipeline order: ast, ir, plan (the cpu backend's path for each statement), llvm-ir or "
                   "asm (cpu backend), cuda or ptx (cuda backend)")
      ->required()
      ->check(one_of(einc::emit_stage_from_name, "target", "expected ast, ir, plan, llvm-ir, asm, cuda or ptx"));
  emit->add_option("--arch", emit_arch, "GPU architecture for cuda/ptx (default sm_90a), e.g. sm_80");

  // CLI11 would only say "a subcommand is required": name the bad word and the commands.
  std::string commands;
  bool known = false;
  for (const CLI::App* command : app.get_subcommands({})) {
    commands += (commands.empty() ? "" : ", ") + command->get_name();
    known = known || (argc > 1 && command->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::cerr << "einc: error: unknown command '" << argv[1] << "' (commands: " << commands << ")\n\n" << app.help();
    return kExitUsageError;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << (app.get_subcommands().empty() ? app.help() : app.get_subcommands().front()->help());
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << app.version() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "einc: error: " << e.what() << "\n\n"
              << (app.get_subcommands().empty() ? app.help() : app.get_subcommands().front()->help());
    return kExitUsageError;
  }

  try {
    if (run->parsed()) {
      if (*random) run_arguments.random_seed = seed;
      run_arguments.backend = *einc::backend_from_name(backend);
      return einc::cli::run_command(run_arguments);
    }
    if (emit->parsed()) {
      std::string text = compile(emit_options).emit(*einc::emit_stage_from_name(emit_target), emit_arch);
      std::cout << text;
      return 0;
    }
    if (check->parsed()) {
      einc::Program program = compile(check_options);
      std::string text = dump_ir ? program.dump_ir() : "";
      if (!dump_after.empty()) text += program.dump_after(*einc::lowering_pass_from_name(dump_after));
      std::cout << text;
      return 0;
    }
    std::optional<einc::cli::Sweep> sweep;
    if (!sweep_text.empty()) sweep = einc::cli::parse_sweep(sweep_text);
    einc::Program program = compile(report_options);
    einc::ReportOptions options{repeat};
    std::string text =
        sweep ? einc::format_sweep(einc::sweep(program, sweep->dim, sweep->values, options), parse_format(format))
              : einc::format_report(program.report(options), parse_format(format));
    std::cout << text;
    return 0;
  } catch (const einc::cli::UsageError& e) {
    CLI::App* command = check->parsed() ? check : run->parsed() ? run : emit->parsed() ? emit : report;
    std::cerr << "einc: error: " << e.what() << "\n\n" << command->help();
    return kExitUsageError;
  } catch (const einc::CompileError&) {
    return kExitUserError;  // diagnostics were printed by the handler
  } catch (const einc::RunError& e) {
    std::cerr << "einc: error: " << e.what() << "\n";
    return kExitUserError;
  } catch (const std::bad_alloc&) {
    std::cerr << "einc: error: out of memory\n";
    return kExitUserError;
  } catch (const einc::InternalError& e) {
    std::cerr << "einc: internal error — please report: " << e.what() << "\n";
    return kExitInternalError;
  } catch (const std::exception& e) {  // nothing else should escape the API: a bug too
    std::cerr << "einc: internal error — please report: unexpected " << e.what() << "\n";
    return kExitInternalError;
  }
}
