// tests/cpu/kernel_targets_test.cpp — every GETT kernel, of every ISA and
// element type, compiles for a CPU that has that ISA, on any x86-64 host.
//
// The JIT runs only the host's ISA (and narrower ones, EINC_CPU_ISA), so
// the AVX-512 kernels (f64 on 8 lanes, the i16-pair micro-kernel's
// vpmaddwd on 512-bit vectors, ...) would otherwise first meet LLVM's
// instruction selection on an AVX-512 machine. Here each module goes
// through the backend to an object file for that CPU: nothing runs, and a
// kernel that cannot be selected fails the test by name. And `einc emit`
// shows the kernel sets a program uses.
#include <gtest/gtest.h>

#include <llvm/ADT/SmallString.h>
#include <llvm/ADT/Triple.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/kernel_gen.h"
#include "einc/einc.h"

namespace {

using einc::DType;
using einc::cpu::GettFunction;
using einc::cpu::KernelShape;

// The shapes of every GETT kernel set the JIT has for these features
// (Jit::kGettSets: f32, f64, i32, and i32 on i16 pairs).
std::vector<std::vector<KernelShape>> kernel_sets(bool avx512f, bool avx2_fma) {
  std::vector<std::vector<KernelShape>> sets;
  for (DType dtype : {DType::f32, DType::f64, DType::i32})
    sets.push_back(einc::cpu::shapes_for_features(avx512f, avx2_fma, dtype));
  std::vector<KernelShape> pairs = einc::cpu::shapes_for_features(avx512f, avx2_fma, DType::i32);
  for (KernelShape& shape : pairs) shape.i16_pairs = true;
  sets.push_back(pairs);
  return sets;
}

TEST(KernelTargets, EveryGettKernelCompilesForTheCpuOfItsIsa) {
  if (!llvm::Triple(llvm::sys::getProcessTriple()).isX86()) GTEST_SKIP() << "the kernels' ISAs are x86's";
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  const std::string triple = "x86_64-pc-linux-gnu";
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  ASSERT_NE(target, nullptr) << error;
  struct Isa {
    bool avx512f, avx2_fma;
    const char* cpu;
  };
  int compiled = 0;
  for (const Isa& isa : {Isa{true, true, "skylake-avx512"}, Isa{false, true, "haswell"}, Isa{false, false, "x86-64"}}) {
    std::unique_ptr<llvm::TargetMachine> machine(
        target->createTargetMachine(triple, isa.cpu, "", llvm::TargetOptions(), llvm::None));
    ASSERT_NE(machine, nullptr) << isa.cpu;
    for (const std::vector<KernelShape>& shapes : kernel_sets(isa.avx512f, isa.avx2_fma)) {
      for (const GettFunction& function : einc::cpu::gett_functions(shapes)) {
        llvm::LLVMContext context;
        std::unique_ptr<llvm::Module> module = einc::cpu::generate_gett_function(context, function);
        module->setTargetTriple(triple);
        module->setDataLayout(machine->createDataLayout());
        llvm::SmallString<0> object;
        llvm::raw_svector_ostream out(object);
        llvm::legacy::PassManager passes;
        ASSERT_FALSE(machine->addPassesToEmitFile(passes, out, nullptr, llvm::CGFT_ObjectFile)) << isa.cpu;
        passes.run(*module);
        EXPECT_GT(object.size(), 0u) << function.name() << " for " << isa.cpu;
        ++compiled;
      }
    }
  }
  EXPECT_GT(compiled, 60);
}

}  // namespace

namespace {

// `einc emit --target llvm-ir|asm` shows the kernels a program runs: the
// f64, i32 and i16-pair sets too when its statements use them.
TEST(KernelTargets, EmitShowsTheKernelsOfTheDtypesAProgramUses) {
  const einc::Program f32 = einc::compile("dim N = 8\ninput A[N, N], B[N, N]\nC[i, j] = A[i, k] * B[k, j]\n");
  const std::string f32_ir = f32.emit(einc::EmitStage::llvm_ir);
  EXPECT_NE(f32_ir.find("einc_ukr_f32_"), std::string::npos);
  // (The header's list of kernels compiled so far is the process's: an
  // earlier test's f64 run puts f64 names there. The sets shown are not.)
  EXPECT_EQ(f32_ir.find("; the f64 GETT kernels"), std::string::npos);
  EXPECT_EQ(f32_ir.find("define void @einc_ukr_f64_"), std::string::npos);
  const einc::Program mixed = einc::compile(
      "dim N = 8\ninput A[N, N], B[N, N] : f64\ninput X[N, N], Y[N, N] : i8\n"
      "C[i, j] = A[i, k] * B[k, j]\nD[i, j] = X[i, k] * Y[k, j]\n");
  const std::string ir = mixed.emit(einc::EmitStage::llvm_ir);
  for (const char* kernel : {"einc_ukr_f32_", "einc_ukr_f64_", "einc_ukr_i32_", "einc_ukr_i16p_"})
    EXPECT_NE(ir.find(kernel), std::string::npos) << kernel;
  EXPECT_NE(mixed.emit(einc::EmitStage::assembly).find("pmaddwd"), std::string::npos);
}

}  // namespace
