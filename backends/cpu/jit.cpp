// backends/cpu/jit.cpp — see jit.h.
#include "backends/cpu/jit.h"

#include "backends/cpu/gemv_gen.h"
#include "backends/cpu/i8_gemv_gen.h"
#include "backends/cpu/object_cache.h"
#include "einc/internal_error.h"
#include "runtime/stable_hash.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/JITEventListener.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/ExecutionEngine/SectionMemoryManager.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <stdexcept>

namespace einc::cpu {

namespace {

std::string error_text(llvm::Error error) {
  std::string text;
  llvm::raw_string_ostream stream(text);
  stream << error;
  return stream.str();
}

template <typename T>
T check(llvm::Expected<T> value, const char* what) {
  if (!value) throw std::runtime_error(std::string("einc cpu backend: ") + what + ": " + error_text(value.takeError()));
  return std::move(*value);
}

// The generated IR is already what the machine code should be (explicit
// vectors, FMAs, accumulators in SSA values, hand-unrolled loops), so by
// default no IR passes run and compiling all kernels takes ~20 ms; the
// backend's instruction selection and register allocation do the rest.
// EINC_JIT_OPT=1|2|3 runs LLVM's O1/O2/O3 pipeline first (for comparison).
void optimise(llvm::Module& module, llvm::TargetMachine& machine) {
  const char* level = std::getenv("EINC_JIT_OPT");
  if (!level || level[0] < '1' || level[0] > '3') return;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel opt = level[0] == '1'   ? llvm::OptimizationLevel::O1
                                : level[0] == '2' ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  builder.buildPerModuleDefaultPipeline(opt).run(module, mam);
}

// EINC_PERF_JIT=1 registers LLVM's perf listener, which writes
// /tmp/jit-PID.dump for `perf record -k 1` + `perf inject --jit`, so that
// profiles name the JIT kernels (docs/cpu-backend.md, "Profiling"). Unset,
// LLJIT builds its default object layer.
std::function<llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>>(llvm::orc::ExecutionSession&,
                                                                      const llvm::Triple&)>
perf_listened_layer() {
  const char* env = std::getenv("EINC_PERF_JIT");
  if (!env || std::string(env) != "1") return nullptr;
  return [](llvm::orc::ExecutionSession& session,
            const llvm::Triple&) -> llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>> {
    auto layer = std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(
        session, [] { return std::make_unique<llvm::SectionMemoryManager>(); });
    if (llvm::JITEventListener* listener = llvm::JITEventListener::createPerfJITEventListener())
      layer->registerJITEventListener(*listener);
    return std::unique_ptr<llvm::orc::ObjectLayer>(std::move(layer));
  };
}

}  // namespace

namespace {

// The GETT kernel sets, in the order of Jit::gett_sets_: f32 (added to the
// JIT when it starts), f64, i32, i32 on i16 pairs (i8 operands), and f32
// on bf16 pairs (bf16 operands, AVX512-BF16 hosts).
struct GettSetKind {
  DType dtype;
  bool i16_pairs;
  bool bf16_pairs;
};
constexpr GettSetKind kGettSets[] = {{DType::f32, false, false},
                                     {DType::f64, false, false},
                                     {DType::i32, false, false},
                                     {DType::i32, true, false},
                                     {DType::f32, false, true}};

}  // namespace

struct Jit::State {
  std::unique_ptr<ObjectDiskCache> object_cache;  // outlives the JIT (declared first)
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::unique_ptr<llvm::TargetMachine> machine;  // for optimisation and assembly
  llvm::orc::JITTargetMachineBuilder builder{llvm::Triple()};
  std::string features;
};

Jit& Jit::instance() {
  static Jit jit;
  return jit;
}

Jit::Jit() : state_(new State) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  state_->builder = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host");
  state_->builder.setCodeGenOptLevel(llvm::CodeGenOpt::Aggressive);
  llvm::StringMap<bool> host;
  llvm::sys::getHostCPUFeatures(host);
  bool avx512f = host.lookup("avx512f");
  bool avx2_fma = host.lookup("avx2") && host.lookup("fma");
  // EINC_CPU_ISA=avx2|generic narrows the kernels to a smaller ISA than the
  // host's (tests run every kernel shape on one machine this way); a wider
  // one than the host has is refused rather than crashing on an illegal
  // instruction.
  if (const char* isa = std::getenv("EINC_CPU_ISA"); isa && *isa) {
    std::string want = isa;
    if (want == "generic") {
      avx512f = avx2_fma = false;
    } else if (want == "avx2" && avx2_fma) {
      avx512f = false;
    } else if (!(want == "avx512" && avx512f)) {
      throw std::runtime_error("einc cpu backend: EINC_CPU_ISA=" + want +
                               " is not one this host can run (avx512, avx2, generic; no wider than the host)");
    }
  }
  shapes_ = shapes_for_features(avx512f, avx2_fma);
  f16c_ = (avx512f || avx2_fma) && host.lookup("f16c");
  bf16_pairs_ = avx512f && host.lookup("avx512bf16");
  for (const char* f : {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma"})
    if (host.lookup(f)) state_->features += std::string(state_->features.empty() ? "+" : ",+") + f;
  state_->machine = check(state_->builder.createTargetMachine(), "creating the target machine");
  state_->object_cache = std::make_unique<ObjectDiskCache>(
      state_->machine->getTargetTriple().str() + ";" + state_->machine->getTargetCPU().str() + ";" +
      state_->machine->getTargetFeatureString().str() + ";LLVM " + LLVM_VERSION_STRING + ";codegen aggressive");
  ObjectDiskCache* object_cache = state_->object_cache.get();
  state_->jit = check(
      llvm::orc::LLJITBuilder()
          .setJITTargetMachineBuilder(state_->builder)
          .setCompileFunctionCreator([object_cache](llvm::orc::JITTargetMachineBuilder builder)
                                         -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
            auto machine = builder.createTargetMachine();
            if (!machine) return machine.takeError();
            return std::make_unique<llvm::orc::TMOwningSimpleCompiler>(std::move(*machine), object_cache);
          })
          .setObjectLinkingLayerCreator(perf_listened_layer())
          .create(),
      "creating LLJIT");
  for (std::size_t i = 0; i < std::size(kGettSets); ++i) {
    GettSet& set = gett_sets_[i];
    set.shapes = shapes_for_features(avx512f, avx2_fma, kGettSets[i].dtype);
    for (KernelShape& shape : set.shapes) {
      shape.i16_pairs = kGettSets[i].i16_pairs;
      shape.bf16_pairs = kGettSets[i].bf16_pairs;
    }
    set.kernels = std::vector<GettKernels>(set.shapes.size());  // not resize(): GettKernels holds atomics
    for (std::size_t s = 0; s < set.shapes.size(); ++s) set.kernels[s].shape = set.shapes[s];
  }
  add_gett_functions(gett_sets_[0]);
}

bool Jit::has_gett(DType dtype) {
  return std::any_of(std::begin(kGettSets), std::end(kGettSets),
                     [&](const GettSetKind& k) { return k.dtype == dtype; });
}

Jit::GettSet& Jit::gett_set(DType dtype, bool i16_pairs, bool bf16_pairs) {
  return const_cast<GettSet&>(static_cast<const Jit*>(this)->gett_set(dtype, i16_pairs, bf16_pairs));
}

const Jit::GettSet& Jit::gett_set(DType dtype, bool i16_pairs, bool bf16_pairs) const {
  for (std::size_t i = 0; i < std::size(kGettSets); ++i)
    if (kGettSets[i].dtype == dtype && kGettSets[i].i16_pairs == i16_pairs && kGettSets[i].bf16_pairs == bf16_pairs)
      return gett_sets_[i];
  EINC_FAIL("cpu backend: no GETT kernels for " + std::string(dtype_name(dtype)) +
            (i16_pairs    ? " on i16 pairs"
             : bf16_pairs ? " on bf16 pairs"
                          : ""));
}

bool Jit::multiplies_bf16_pairs() const { return bf16_pairs_; }

// Every GETT function of the set as its own module: added now, compiled by
// LLJIT when first looked up.
void Jit::add_gett_functions(GettSet& set) {
  if (set.added) return;
  set.added = true;
  for (const GettFunction& function : gett_functions(set.shapes)) {
    auto context = std::make_unique<llvm::LLVMContext>();
    std::unique_ptr<llvm::Module> module = generate_gett_function(*context, function);
    module->setDataLayout(state_->machine->createDataLayout());
    module->setTargetTriple(state_->machine->getTargetTriple().str());
    optimise(*module, *state_->machine);
    if (llvm::Error e = state_->jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context))))
      throw std::runtime_error("einc cpu backend: adding " + function.name() + ": " + error_text(std::move(e)));
  }
}

std::uint64_t Jit::lookup(const std::string& name) {
  auto start = std::chrono::steady_clock::now();
  std::uint64_t address = check(state_->jit->lookup(name), "looking up a kernel").getAddress();
  bool known = std::any_of(compile_ms_.begin(), compile_ms_.end(), [&](const Compiled& c) { return c.name == name; });
  if (!known)
    compile_ms_.push_back({name,
                           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(),
                           state_->object_cache->loaded_from_disk(name)});
  return address;
}

const GettKernels& Jit::gett_kernels(std::size_t index, DType dtype, bool i16_pairs, bool bf16_pairs) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (bf16_pairs && !bf16_pairs_) EINC_FAIL("cpu backend: bf16-pair kernels on a host without AVX512-BF16");
  GettSet& set = gett_set(dtype, i16_pairs, bf16_pairs);
  if (i16_pairs || bf16_pairs) add_gett_functions(gett_set(dtype));  // the pack routines it uses
  add_gett_functions(set);
  GettKernels& k = set.kernels.at(index);
  if (!k.micro_kernel) k.micro_kernel = reinterpret_cast<GettKernels::MicroKernel>(lookup(k.shape.ukr_name()));
  return k;
}

GettKernels::Pack Jit::pack_kernel(std::size_t index, int panel, PackMode mode, DType dtype) {
  GettSet& set = gett_set(dtype);
  std::atomic<GettKernels::Pack>& slot = set.kernels.at(index).pack[panel][static_cast<int>(mode)];
  if (GettKernels::Pack p = slot.load(std::memory_order_acquire)) return p;
  std::lock_guard<std::mutex> lock(mutex_);
  add_gett_functions(set);
  if (!slot.load(std::memory_order_relaxed)) {
    const KernelShape& shape = set.shapes[index];
    slot.store(reinterpret_cast<GettKernels::Pack>(lookup(shape.pack_name(panel == 0 ? shape.mr() : shape.nr, mode))),
               std::memory_order_release);
  }
  return slot.load(std::memory_order_relaxed);
}

GettKernels::Gemv Jit::gemv_kernel() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!gemv_) gemv_ = reinterpret_cast<GettKernels::Gemv>(lookup(shapes_[0].gemv_name()));
  return gemv_;
}

GettKernels::DotGemv Jit::dot_gemv_kernel() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!dot_gemv_) dot_gemv_ = reinterpret_cast<GettKernels::DotGemv>(lookup(shapes_[0].dot_gemv_name()));
  return dot_gemv_;
}

bool Jit::reads_half_weights(DType weights) const { return weights == DType::bf16 || (weights == DType::f16 && f16c_); }

GettKernels::HalfGemv Jit::half_gemv_kernel(DType weights) {
  return reinterpret_cast<GettKernels::HalfGemv>(
      compile_cached(shapes_[0].gemv_name(weights), [&](llvm::LLVMContext& context, const std::string& symbol) {
        return generate_half_gemv_module(context, shapes_[0], weights, false, symbol);
      }));
}

GettKernels::HalfDotGemv Jit::half_dot_gemv_kernel(DType weights) {
  return reinterpret_cast<GettKernels::HalfDotGemv>(
      compile_cached(shapes_[0].dot_gemv_name(weights), [&](llvm::LLVMContext& context, const std::string& symbol) {
        return generate_half_gemv_module(context, shapes_[0], weights, true, symbol);
      }));
}

GettKernels::I8Gemv Jit::i8_gemv_kernel() {
  return reinterpret_cast<GettKernels::I8Gemv>(
      compile_cached(i8_gemv_name(shapes_[0]), [&](llvm::LLVMContext& context, const std::string& symbol) {
        return generate_i8_gemv_module(context, shapes_[0], false, symbol);
      }));
}

GettKernels::I8DotGemv Jit::i8_dot_gemv_kernel() {
  return reinterpret_cast<GettKernels::I8DotGemv>(
      compile_cached(i8_dot_gemv_name(shapes_[0]), [&](llvm::LLVMContext& context, const std::string& symbol) {
        return generate_i8_gemv_module(context, shapes_[0], true, symbol);
      }));
}

std::vector<Jit::Compiled> Jit::compile_all_gett() {
  for (std::size_t i = 0; i < shapes_.size(); ++i) {
    gett_kernels(i);
    for (int panel : {0, 1})
      for (PackMode mode : kPackModes) pack_kernel(i, panel, mode);
  }
  gemv_kernel();
  dot_gemv_kernel();
  std::lock_guard<std::mutex> lock(mutex_);
  return compile_ms_;
}

std::string Jit::emit_gett(EmitTarget target, DType dtype, bool i16_pairs) {
  std::lock_guard<std::mutex> lock(mutex_);
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = generate_gett_module(context, gett_set(dtype, i16_pairs).shapes);
  module->setDataLayout(state_->machine->createDataLayout());
  module->setTargetTriple(state_->machine->getTargetTriple().str());
  optimise(*module, *state_->machine);
  std::string text;
  llvm::raw_string_ostream stream(text);
  if (target == EmitTarget::llvm_ir) {
    module->print(stream, nullptr);
    return stream.str();
  }
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream out(buffer);
  llvm::legacy::PassManager passes;
  if (state_->machine->addPassesToEmitFile(passes, out, nullptr, llvm::CGFT_AssemblyFile))
    throw std::runtime_error("einc cpu backend: this target cannot emit assembly");
  passes.run(*module);
  return std::string(buffer.str());
}

Jit::Activation Jit::activation_kernel(ir::Func func) {
  std::string key = "einc_activation_f32_" + shapes_[0].isa + "_" + ir::func_name(func);
  return reinterpret_cast<Activation>(compile_cached(key, [&](llvm::LLVMContext& context, const std::string& symbol) {
    return generate_activation_module(context, shapes_[0], func, symbol);
  }));
}

Jit::MicroKernelVariant Jit::micro_kernel_variant(std::size_t index, DType dtype, const UkrVariant& variant,
                                                  bool bf16_pairs) {
  const KernelShape& shape = gett_set(dtype, false, bf16_pairs).shapes.at(index);
  return reinterpret_cast<MicroKernelVariant>(
      compile_cached(shape.ukr_name() + variant.tag(), [&](llvm::LLVMContext& context, const std::string& symbol) {
        return generate_ukr_variant_module(context, shape, variant, symbol);
      }));
}

std::uint64_t Jit::compile_cached(const std::string& key, const ModuleGenerator& generate, double* compile_ms) {
  std::lock_guard<std::mutex> lock(cached_mutex_);
  if (compile_ms) *compile_ms = 0;
  if (auto it = cached_.find(key); it != cached_.end()) return it->second;
  auto start = std::chrono::steady_clock::now();
  // The symbol: a hash of the key (stable across processes), numbered on
  // the off chance that two keys share one.
  std::string hex = runtime::hex64(runtime::fnv1a64(key));
  std::string symbol = "einc_kernel_" + hex;
  for (int n = 1; !cached_symbols_.insert(symbol).second; ++n) symbol = "einc_kernel_" + hex + "_" + std::to_string(n);
  auto context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module = generate(*context, symbol);
  module->setDataLayout(state_->machine->createDataLayout());
  module->setTargetTriple(state_->machine->getTargetTriple().str());
  optimise(*module, *state_->machine);
  llvm::orc::ThreadSafeModule safe(std::move(module), std::move(context));
  if (llvm::Error e = state_->jit->addIRModule(std::move(safe)))
    throw std::runtime_error("einc cpu backend: adding a kernel: " + error_text(std::move(e)));
  std::uint64_t address = check(state_->jit->lookup(symbol), "looking up a kernel").getAddress();
  cached_.emplace(key, address);
  if (compile_ms)
    *compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return address;
}

std::string Jit::description() const {
  std::string tiles;
  for (const KernelShape& shape : shapes_)
    tiles += (tiles.empty() ? "" : ", ") + std::to_string(shape.mr()) + "x" + std::to_string(shape.nr);
  return shapes_[0].isa + " " + tiles + " micro-kernels, LLVM " + LLVM_VERSION_STRING + " (" + state_->features + ")";
}

}  // namespace einc::cpu
