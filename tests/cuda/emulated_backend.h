// tests/cuda/emulated_backend.h — the CUDA backend's kernels run on the
// host (host_emulation.h): a StatementBackend that plans each statement
// exactly like backends/cuda (plan_statement_kernel on C-contiguous
// strides), and launches the generated kernel compiled as C++ into a shared
// library with the host compiler. Everything but the driver calls and the
// cp.async lines is exercised.
//
// Use: collect() every program's kernels, build() once (one compiler run per
// batch of kernels), then run programs through backend().
#pragma once

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backends/cuda/expr_codegen.h"
#include "backends/cuda/kernel_plan.h"
#include "backends/cuda/source_util.h"
#include "backends/reference/interpreter.h"
#include "ir/gett_lowering.h"
#include "runtime/executor.h"

namespace einc_cuda_test {

class EmulatedKernels {
 public:
  using Entry = void (*)(void**);
  using Launch = void (*)(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, Entry, void**);

  // Plans every statement of `program` and remembers its kernel (kernels
  // the host cannot compile, f16/bf16 ones, are skipped: returns false if
  // the program has one). Statements that cannot run are left out too.
  bool collect(const einc::ir::Program& program) {
    const auto strides = einc::cuda::contiguous_strides(program);
    bool all = true;
    for (const einc::ir::Statement& statement : program.statements) {
      einc::cuda::for_each_kernel_statement(
          program, statement, strides,
          [&](const einc::ir::Program& p, const einc::ir::Statement& s, const einc::cuda::TensorStrides& st) {
            einc::cuda::StatementKernel plan;
            try {
              plan = einc::cuda::plan_statement_kernel(p, s, st);
            } catch (const einc::reference::ExecutionError&) {
              return;
            }
            if (plan.kernel.source.find("cuda_fp16.h") != std::string::npos) {
              all = false;
              return;
            }
            kernels_.emplace(plan.kernel.name, plan.kernel);
          });
    }
    return all;
  }

  std::size_t size() const { return kernels_.size(); }

  // Compiles the collected kernels (in `jobs` parallel compiler runs) and
  // loads them. Throws std::runtime_error with the compiler's output.
  void build(int jobs = 2) {
    namespace fs = std::filesystem;
    static std::atomic<int> instances{0};  // one directory per build(): a loaded library is never overwritten
    dir_ =
        fs::temp_directory_path() / ("einc_cuda_emu_" + std::to_string(::getpid()) + "_" + std::to_string(instances++));
    fs::create_directories(dir_);
    std::vector<std::vector<const einc::cuda::GeneratedKernel*>> batches(static_cast<std::size_t>(std::max(1, jobs)));
    std::size_t i = 0;
    for (const auto& [name, k] : kernels_) batches[i++ % batches.size()].push_back(&k);
    std::vector<std::string> errors(batches.size());
    std::vector<std::thread> workers;
    for (std::size_t b = 0; b < batches.size(); ++b)
      workers.emplace_back([&, b] {
        try {
          compile_batch(b, batches[b]);
        } catch (const std::exception& e) {
          errors[b] = e.what();
        }
      });
    for (auto& w : workers) w.join();
    for (const std::string& e : errors)
      if (!e.empty()) throw std::runtime_error(e);
  }

  ~EmulatedKernels() {
    for (void* h : handles_) dlclose(h);
    std::error_code ec;
    if (!dir_.empty() && !std::getenv("EINC_KEEP_EMULATION")) std::filesystem::remove_all(dir_, ec);
  }

  void launch(const einc::cuda::GeneratedKernel& k, void** args) const {
    auto it = entries_.find(k.name);
    if (it == entries_.end()) throw std::runtime_error("kernel " + k.name + " was not collected before build()");
    launch_(k.launch.grid[0], k.launch.grid[1], k.launch.grid[2], k.launch.block[0], k.launch.block[1],
            k.launch.block[2], it->second, args);
  }

 private:
  static std::string strip_restrict(std::string ctype) {
    const std::string r = " __restrict__";
    if (auto at = ctype.find(r); at != std::string::npos) ctype.erase(at, r.size());
    return ctype;
  }

  void compile_batch(std::size_t b, const std::vector<const einc::cuda::GeneratedKernel*>& kernels) {
    namespace fs = std::filesystem;
    const fs::path cpp = dir_ / ("kernels" + std::to_string(b) + ".cpp");
    const fs::path so = dir_ / ("kernels" + std::to_string(b) + ".so");
    {
      std::ofstream out(cpp);
      out << "#include \"host_emulation.h\"\n";
      int n = 0;
      for (const auto* k : kernels) {
        out << "namespace emu" << n << " {\n" << k->source << "}  // namespace\n";
        out << "extern \"C\" void entry_" << k->name << "(void** a) {\n  emu" << n++ << "::" << k->name << "(";
        for (std::size_t p = 0; p < k->params.size(); ++p) {
          std::string t = strip_restrict(k->params[p].ctype);
          out << (p ? ", " : "") << "*(" << t << "*)a[" << p << "]";
        }
        out << ");\n}\n";
      }
      out << "extern \"C\" void einc_emu_launch(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, "
             "unsigned bz, void (*entry)(void**), void** args) {\n"
             "  einc_emu::launch({gx, gy, gz}, {bx, by, bz}, entry, args);\n}\n";
    }
    const fs::path log = dir_ / ("kernels" + std::to_string(b) + ".log");
    const std::string command = std::string(EINC_HOST_CXX) + " -std=c++20 -O1 -w -shared -fPIC -pthread -I\"" +
                                (fs::path(EINC_SOURCE_DIR) / "tests" / "cuda").string() + "\" -o \"" + so.string() +
                                "\" \"" + cpp.string() + "\" > \"" + log.string() + "\" 2>&1";
    if (std::system(command.c_str()) != 0)
      throw std::runtime_error("host compile of emulated kernels failed: " + command + "\n" + read(log));
    void* h = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    std::lock_guard<std::mutex> lock(mutex_);
    handles_.push_back(h);
    launch_ = reinterpret_cast<Launch>(dlsym(h, "einc_emu_launch"));
    for (const auto* k : kernels) entries_[k->name] = reinterpret_cast<Entry>(dlsym(h, ("entry_" + k->name).c_str()));
  }

  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str().substr(0, 20000);
  }

  std::map<std::string, einc::cuda::GeneratedKernel> kernels_;
  std::filesystem::path dir_;
  std::vector<void*> handles_;
  std::map<std::string, Entry> entries_;
  Launch launch_ = nullptr;
  std::mutex mutex_;
};

// Runs statements with the emulated kernels, on the host tensors the
// executor provides (C-contiguous: inputs from random_inputs, targets from
// Tensor::zeros).
class EmulatedBackend : public einc::runtime::StatementBackend {
 public:
  explicit EmulatedBackend(const EmulatedKernels& kernels) : kernels_(kernels) {}
  const char* name() const override { return "cuda-emulated"; }

  // Like the CUDA backend: one kernel per statement, or per statement of
  // its product steps (their temporaries are host tensors here).
  void execute(const einc::ir::Program& program, const einc::ir::Statement& statement,
               std::vector<einc::Tensor>& tensors) override {
    std::vector<einc::Tensor> all = tensors;  // shares every buffer
    einc::cuda::for_each_kernel_statement(
        program, statement, einc::cuda::contiguous_strides(program),
        [&](const einc::ir::Program& p, const einc::ir::Statement& s, const einc::cuda::TensorStrides& st) {
          if (static_cast<std::size_t>(s.target) >= tensors.size()) {
            if (all.size() <= static_cast<std::size_t>(s.target)) all.resize(static_cast<std::size_t>(s.target) + 1);
            all[static_cast<std::size_t>(s.target)] = einc::Tensor::zeros(
                p.tensors[static_cast<std::size_t>(s.target)].dtype, einc::ir::evaluated_shape(p, s.target));
          }
          launch(p, s, st, all);
        });
  }

 private:
  void launch(const einc::ir::Program& program, const einc::ir::Statement& statement,
              const einc::cuda::TensorStrides& strides, std::vector<einc::Tensor>& tensors) {
    const einc::cuda::StatementKernel plan = einc::cuda::plan_statement_kernel(program, statement, strides);
    const einc::cuda::GeneratedKernel& k = plan.kernel;
    std::vector<void*> pointers(k.params.size(), nullptr);
    std::vector<float> floats(k.params.size(), 0.0f);
    std::vector<void*> args(k.params.size(), nullptr);
    einc::Tensor snapshot;
    unsigned int status = 0;
    for (std::size_t p = 0; p < k.params.size(); ++p) {
      const einc::cuda::KernelParam& param = k.params[p];
      switch (param.kind) {
        case einc::cuda::KernelParam::Kind::tensor: {
          einc::Tensor& t = tensors.at(static_cast<std::size_t>(param.tensor));
          if (!t.is_contiguous()) throw std::runtime_error("emulation needs C-contiguous tensors");
          if (param.snapshot) {
            snapshot = t.clone();
            pointers[p] = snapshot.data();
          } else {
            pointers[p] = t.data();
          }
          args[p] = &pointers[p];
          break;
        }
        case einc::cuda::KernelParam::Kind::scale: {
          double scale = 1.0;
          for (std::size_t i = 0; i < plan.gett->scale_factors.size(); ++i) {
            double v = einc::ir::evaluate_scalar(program, *plan.gett->scale_factors[i], [&](int t) {
              return tensors.at(static_cast<std::size_t>(t)).get({});
            });
            scale = plan.gett->scale_divides[i] ? scale / v : scale * v;
          }
          floats[p] = static_cast<float>(scale);
          args[p] = &floats[p];
          break;
        }
        case einc::cuda::KernelParam::Kind::status:
          pointers[p] = &status;
          args[p] = &pointers[p];
          break;
      }
    }
    if (!k.empty) kernels_.launch(k, args.data());
    einc::cuda::throw_on_kernel_status(status, statement.line);
    ++launched_[k.kind];
  }

 public:
  std::map<einc::cuda::KernelKind, int> launched() const { return launched_; }

 private:
  const EmulatedKernels& kernels_;
  std::map<einc::cuda::KernelKind, int> launched_;
};

}  // namespace einc_cuda_test
