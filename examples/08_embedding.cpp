// examples/08_embedding.cpp — einc from C++: compile the attention script,
// read its cost, run it on random data, check one row of softmax, and use
// the one-call einsum. Built and run as a test (tests/examples).
#include <einc/einc.h>

#include <cmath>
#include <iostream>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "examples/03_attention.ein";
  einc::CompileOptions options;
  options.dims = {{"T", 16}, {"H", 2}, {"E", 8}};  // small: the reference backend is simple
  options.on_diagnostic = [](const einc::Diagnostic& d) { std::cerr << d.rendered; };
  einc::Program attention = einc::compile_file(path, options);

  einc::Report report = attention.report();
  std::cout << "attention: " << einc::to_string(report.totals.macs.value) << " MACs (" << report.totals.macs.formula
            << ")\n";

  einc::TensorMap outputs = attention.run(einc::random_inputs(attention, 42));
  const einc::Tensor& o = outputs.at("O");
  std::cout << "O is " << o.describe() << "\n";

  // Attention output rows are convex combinations of V's rows: |O| <= max |V| = 1.
  for (std::int64_t i = 0; i < o.numel(); ++i)
    if (!(std::fabs(o.get_flat(i)) <= 1.0)) return 1;

  einc::Tensor a = einc::Tensor::zeros(einc::DType::f32, {2, 2});
  a.set({0, 0}, 1);
  a.set({0, 1}, 2);
  a.set({1, 0}, 3);
  a.set({1, 1}, 4);
  einc::Tensor a2 = einc::einsum("ij,jk->ik", {a, a});
  std::cout << "einsum: [[1,2],[3,4]]^2 = [[" << a2.get({0, 0}) << ", " << a2.get({0, 1}) << "], [" << a2.get({1, 0})
            << ", " << a2.get({1, 1}) << "]]\n";
  return a2.get({1, 1}) == 22 ? 0 : 1;
}
