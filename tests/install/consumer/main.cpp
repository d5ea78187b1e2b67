// The outside project: compile a script, report it, run an einsum.
#include <einc/einc.h>

#include <iostream>

int main() {
  einc::Program p = einc::compile("dim N = 4\ninput A[N, N]\nt = A[i, i]\n");
  einc::Tensor a = einc::Tensor::zeros(einc::DType::f32, {4, 4});
  for (int i = 0; i < 4; ++i) a.set({i, i}, 1.0);
  double trace = p.run({{"A", a}}).at("t").get({});
  einc::Tensor c = einc::einsum("ij,jk->ik", {a, a});
  std::cout << "macs=" << einc::to_string(p.report().totals.macs.value) << " trace=" << trace
            << " c00=" << c.get({0, 0}) << "\n";
  return trace == 4.0 && c.get({0, 0}) == 1.0 ? 0 : 1;
}
