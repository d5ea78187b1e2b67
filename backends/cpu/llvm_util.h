// backends/cpu/llvm_util.h — IRBuilder helpers shared by the generators of
// the GETT kernels (kernel_gen.cpp) and of the GEMV kernels (gemv_gen.cpp,
// i8_gemv_gen.cpp): vector pointer casts, loads from i64 offset tables,
// starting a function, counted loops that carry values in phi nodes,
// if/else, pmaddwd on i16 pairs, and verifying a finished module. The
// generated IR is clean SSA (no allocas), so these build loops and
// branches block by block.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace einc::cpu {

struct KernelShape;

// LLVM 14 has typed pointers: a float* must be cast to <N x float>* for
// vector loads and stores.
llvm::Value* as_vector_ptr(llvm::IRBuilder<>& b, llvm::Value* scalar_ptr, llvm::Type* vector_type);

// base[index] of an i64 array (offset tables).
llvm::Value* load_i64(llvm::IRBuilder<>& b, llvm::Value* base, llvm::Value* index);

// Starts an external, nounwind function `name` of `type` in `m` (the
// parameters listed in `noalias` marked noalias) with the builder at its
// entry block, and returns its arguments in order.
std::vector<llvm::Value*> begin_function(llvm::IRBuilder<>& b, llvm::Module& m, const std::string& name,
                                         llvm::FunctionType* type, std::initializer_list<unsigned> noalias = {});

// A counted loop `for (i = begin; i < end; ++i)` with loop-carried values;
// returns their values after the loop.
std::vector<llvm::Value*> counted_loop(
    llvm::IRBuilder<>& b, llvm::Value* begin, llvm::Value* end, std::vector<llvm::Value*> carried,
    const std::function<std::vector<llvm::Value*>(llvm::Value*, const std::vector<llvm::Value*>&)>& body,
    const std::string& name);

// The same without loop-carried values.
void counted_loop(llvm::IRBuilder<>& b, llvm::Value* begin, llvm::Value* end,
                  const std::function<void(llvm::Value*)>& body, const std::string& name);

// for (i = 0; i + group <= count; i += group) body(i, group), then
// for (; i < count; ++i) body(i, 1): a loop unrolled by `group` (the body
// generated twice: for `group` items at once and for one).
void grouped_loop(llvm::IRBuilder<>& b, llvm::Value* count, int group,
                  const std::function<void(llvm::Value*, int)>& body, const std::string& name);

// if (cond) then_body else else_body; continues after both.
void if_else(llvm::IRBuilder<>& b, llvm::Value* cond, const std::function<void()>& then_body,
             const std::function<void()>& else_body, const std::string& name);

// The i32 lanes of pmaddwd: each lane of `a` and `b` (<VL x i32>) read as
// two i16, multiplied pairwise, the two products summed (exact: i8 values
// make at most 2 * 2^14). The instruction where the ISA has it; else the
// same arithmetic written out, for LLVM to lower as it can.
llvm::Value* multiply_i16_pairs(llvm::IRBuilder<>& b, llvm::Module& m, const KernelShape& shape, llvm::Value* a,
                                llvm::Value* bv);

// `module`, once llvm::verifyModule finds nothing wrong with it (else
// throws, with what it found).
std::unique_ptr<llvm::Module> verified(std::unique_ptr<llvm::Module> module);

}  // namespace einc::cpu
