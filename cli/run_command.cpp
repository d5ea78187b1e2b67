// cli/run_command.cpp — see run_command.h.
//
// Everything that can fail runs before the first output file is written;
// each file is written atomically (write_npy), and if a later one fails the
// ones already written by this command are removed, so a failing command
// leaves no file behind and prints nothing on stdout. A Ctrl-C
// (cli/interrupt.h) cancels the run, or stops the writing and removes what
// it wrote: the command prints "einc: run cancelled (interrupt)" and exits
// 130.
#include "cli/run_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/interrupt.h"
#include "einc/npy.h"

namespace einc::cli {

namespace {

namespace fs = std::filesystem;

std::string summary(const Tensor& t) {
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    double v = t.get_flat(i);
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  std::ostringstream out;
  out.precision(6);
  out << "sum=" << sum;
  if (t.numel() > 0) out << " min=" << lo << " max=" << hi;
  return out.str();
}

double median_seconds(const Program& program, const TensorMap& inputs, const RunOptions& options, int runs) {
  TensorMap outputs;
  program.run_into(inputs, outputs, options);  // warm-up; the timed runs reuse its output buffers
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    program.run_into(inputs, outputs, options);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times.size() % 2 ? times[times.size() / 2] : 0.5 * (times[times.size() / 2 - 1] + times[times.size() / 2]);
}

void write_outputs(const TensorMap& outputs, const std::string& dir, const InterruptScope& interrupt,
                   std::string& report) {
  if (interrupt.interrupted()) throw RunCancelled();
  fs::create_directories(dir);
  std::vector<fs::path> written;
  try {
    for (const auto& [name, tensor] : outputs) {
      if (interrupt.interrupted()) throw RunCancelled();
      fs::path path = fs::path(dir) / (name + ".npy");
      write_npy(path.string(), tensor);
      written.push_back(path);
      report += name + " " + tensor.describe() + " -> " + path.string() + "\n";
    }
  } catch (...) {
    std::error_code ignored;
    for (const fs::path& path : written) fs::remove(path, ignored);
    throw;
  }
}

}  // namespace

int run_command(const RunArguments& arguments) {
  const InterruptScope interrupt;
  try {
    std::vector<std::pair<std::string, std::string>> files;
    for (const std::string& text : arguments.inputs) files.push_back(parse_input_binding(text));

    Program program = compile_script(arguments.common);
    TensorMap inputs;
    for (const auto& [name, path] : files) {
      if (inputs.count(name)) throw RunError("--input " + name + " is given twice");
      try {
        inputs.emplace(name, read_npy(path));
      } catch (const NpyError& e) {
        throw RunError("--input " + name + ": " + e.what());
      }
    }
    Program bound = program.bind_inputs(inputs);
    if (arguments.random_seed) {
      TensorMap random = random_inputs(bound, *arguments.random_seed, inputs);
      inputs.insert(random.begin(), random.end());
    }
    RunOptions options;
    options.backend = arguments.backend;
    options.threads = arguments.threads;
    options.cancel = interrupt.flag();
    TensorMap outputs = bound.run(inputs, options);

    std::string report;
    if (arguments.bench > 0) {
      double seconds = median_seconds(bound, inputs, options, arguments.bench);
      double flops = static_cast<double>(bound.bind_inputs(inputs).report().totals.flops.value);
      std::ostringstream line;
      line.precision(4);
      line << "bench: " << arguments.bench << " runs on " << backend_name(arguments.backend) << ", median "
           << seconds * 1e3 << " ms, " << (seconds > 0 ? flops / seconds / 1e9 : 0.0) << " GFLOP/s\n";
      report += line.str();
    }
    if (!arguments.output_dir.empty()) {
      std::string written;
      write_outputs(outputs, arguments.output_dir, interrupt, written);
      report = written + report;
    } else {
      std::string listed;
      for (const auto& [name, tensor] : outputs)
        listed += name + " " + tensor.describe() + " " + summary(tensor) + "\n";
      report = listed + report;
    }
    std::cout << report;
    return 0;
  } catch (const CompileError&) {
    return 1;  // printed by the diagnostics handler
  } catch (const RunCancelled&) {
    std::cerr << "einc: run cancelled (interrupt)\n";
    return kInterruptedExitCode;
  } catch (const RunError& e) {
    std::cerr << "einc: error: " << e.what() << "\n";
  } catch (const NpyError& e) {
    std::cerr << "einc: error: " << e.what() << "\n";
  } catch (const fs::filesystem_error& e) {
    std::cerr << "einc: error: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace einc::cli
