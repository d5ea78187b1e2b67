// backends/cpu/llvm_util.cpp — see llvm_util.h.
#include "backends/cpu/llvm_util.h"

#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <stdexcept>

#include "backends/cpu/kernel_gen.h"
#include "einc/internal_error.h"

namespace einc::cpu {

using llvm::IRBuilder;
using llvm::Value;

Value* as_vector_ptr(IRBuilder<>& b, Value* scalar_ptr, llvm::Type* vector_type) {
  return b.CreateBitCast(scalar_ptr, llvm::PointerType::getUnqual(vector_type));
}

Value* load_i64(IRBuilder<>& b, Value* base, Value* index) {
  return b.CreateLoad(b.getInt64Ty(), b.CreateGEP(b.getInt64Ty(), base, index));
}

std::vector<Value*> begin_function(IRBuilder<>& b, llvm::Module& m, const std::string& name, llvm::FunctionType* type,
                                   std::initializer_list<unsigned> noalias) {
  auto* f = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, m);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  for (unsigned a : noalias) f->addParamAttr(a, llvm::Attribute::NoAlias);
  b.SetInsertPoint(llvm::BasicBlock::Create(m.getContext(), "entry", f));
  std::vector<Value*> args;
  for (llvm::Argument& a : f->args()) args.push_back(&a);
  return args;
}

std::vector<Value*> counted_loop(IRBuilder<>& b, Value* begin, Value* end, std::vector<Value*> carried,
                                 const std::function<std::vector<Value*>(Value*, const std::vector<Value*>&)>& body,
                                 const std::string& name) {
  llvm::Function* f = b.GetInsertBlock()->getParent();
  llvm::LLVMContext& ctx = b.getContext();
  llvm::BasicBlock* preheader = b.GetInsertBlock();
  auto* header = llvm::BasicBlock::Create(ctx, name + ".header", f);
  auto* body_block = llvm::BasicBlock::Create(ctx, name + ".body", f);
  auto* exit = llvm::BasicBlock::Create(ctx, name + ".exit", f);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  llvm::PHINode* i = b.CreatePHI(begin->getType(), 2, name);
  i->addIncoming(begin, preheader);
  std::vector<llvm::PHINode*> phis;
  std::vector<Value*> current;
  for (Value* v : carried) {
    llvm::PHINode* phi = b.CreatePHI(v->getType(), 2);
    phi->addIncoming(v, preheader);
    phis.push_back(phi);
    current.push_back(phi);
  }
  b.CreateCondBr(b.CreateICmpSLT(i, end), body_block, exit);
  b.SetInsertPoint(body_block);
  std::vector<Value*> next = body(i, current);
  Value* i_next = b.CreateAdd(i, llvm::ConstantInt::get(i->getType(), 1), "", true, true);
  llvm::BasicBlock* latch = b.GetInsertBlock();
  b.CreateBr(header);
  i->addIncoming(i_next, latch);
  for (std::size_t k = 0; k < phis.size(); ++k) phis[k]->addIncoming(next[k], latch);
  b.SetInsertPoint(exit);
  return current;
}

void counted_loop(IRBuilder<>& b, Value* begin, Value* end, const std::function<void(Value*)>& body,
                  const std::string& name) {
  counted_loop(
      b, begin, end, {},
      [&](Value* i, const std::vector<Value*>&) {
        body(i);
        return std::vector<Value*>{};
      },
      name);
}

void grouped_loop(IRBuilder<>& b, Value* count, int group, const std::function<void(Value*, int)>& body,
                  const std::string& name) {
  Value* groups = b.CreateSDiv(count, b.getInt64(group));
  counted_loop(
      b, b.getInt64(0), groups, [&](Value* g) { body(b.CreateMul(g, b.getInt64(group)), group); }, name + "g");
  counted_loop(
      b, b.CreateMul(groups, b.getInt64(group)), count, [&](Value* i) { body(i, 1); }, name + "1");
}

void if_else(IRBuilder<>& b, Value* cond, const std::function<void()>& then_body,
             const std::function<void()>& else_body, const std::string& name) {
  llvm::Function* f = b.GetInsertBlock()->getParent();
  llvm::LLVMContext& ctx = b.getContext();
  auto* then_block = llvm::BasicBlock::Create(ctx, name + ".then", f);
  auto* else_block = llvm::BasicBlock::Create(ctx, name + ".else", f);
  auto* join = llvm::BasicBlock::Create(ctx, name + ".join", f);
  b.CreateCondBr(cond, then_block, else_block);
  b.SetInsertPoint(then_block);
  then_body();
  b.CreateBr(join);
  b.SetInsertPoint(else_block);
  else_body();
  b.CreateBr(join);
  b.SetInsertPoint(join);
}

llvm::Value* multiply_i16_pairs(llvm::IRBuilder<>& b, llvm::Module& m, const KernelShape& shape, Value* a, Value* bv) {
  const unsigned vl = static_cast<unsigned>(shape.vector_lanes);
  auto* i16s = llvm::FixedVectorType::get(b.getInt16Ty(), 2 * vl);
  llvm::Value* a16 = b.CreateBitCast(a, i16s);
  llvm::Value* b16 = b.CreateBitCast(bv, i16s);
  if (shape.isa == "avx2" || shape.isa == "avx512") {
    const llvm::Intrinsic::ID id =
        shape.isa == "avx2" ? llvm::Intrinsic::x86_avx2_pmadd_wd : llvm::Intrinsic::x86_avx512_pmaddw_d_512;
    return b.CreateCall(llvm::Intrinsic::getDeclaration(&m, id), {a16, b16});
  }
  auto* i32s = llvm::FixedVectorType::get(b.getInt32Ty(), 2 * vl);
  llvm::Value* products = b.CreateMul(b.CreateSExt(a16, i32s), b.CreateSExt(b16, i32s));
  std::vector<int> even, odd;
  for (unsigned i = 0; i < vl; ++i) {
    even.push_back(static_cast<int>(2 * i));
    odd.push_back(static_cast<int>(2 * i + 1));
  }
  return b.CreateAdd(b.CreateShuffleVector(products, even), b.CreateShuffleVector(products, odd));
}

std::unique_ptr<llvm::Module> verified(std::unique_ptr<llvm::Module> module) {
  std::string errors;
  llvm::raw_string_ostream stream(errors);
  EINC_CHECK(!llvm::verifyModule(*module, &stream), "generated invalid LLVM IR: " + stream.str());
  return module;
}

}  // namespace einc::cpu
