// backends/cpu/gett_dequantise.cpp — see gett_dequantise.h.
#include "backends/cpu/gett_dequantise.h"

#include <cstring>

namespace einc::cpu {

namespace {

// C's bytes at `at` hold an i32 sum, then the f32 value replacing it
// (memcpy: the same 4 bytes read as one type and written as the other).
std::int32_t load_sum(const unsigned char* at) {
  std::int32_t sum;
  std::memcpy(&sum, at, 4);
  return sum;
}
void store_value(unsigned char* at, float value) { std::memcpy(at, &value, 4); }

}  // namespace

DequantisingEpilogue::DequantisingEpilogue(const GettCall& call, Jit::Activation activation)
    : scale_(static_cast<float>(call.scale)), activation_(activation) {
  for (const EpilogueTerm& t : call.channel_scales) channel_scales_.push_back(term_tables<float>(call, t));
  for (const EpilogueTerm& t : call.bias) bias_.push_back(term_tables<float>(call, t));
  auto classify = [&](const std::vector<Term>& terms, std::vector<const Term*>& along_m,
                      std::vector<const Term*>& along_n) {
    for (const Term& t : terms) {
      if (t.same_along_n())
        along_m.push_back(&t);
      else if (t.same_along_m())
        along_n.push_back(&t);
      else
        separable_ = false;
    }
  };
  classify(channel_scales_, m_scales_, n_scales_);
  classify(bias_, m_bias_, n_bias_);
}

void DequantisingEpilogue::apply(void* c, const std::vector<std::int64_t>& c_m, const std::vector<std::int64_t>& c_n,
                                 std::int64_t batch, std::int64_t m0, std::int64_t m1, std::int64_t n0,
                                 std::int64_t n1) const {
  auto* const bytes = static_cast<unsigned char*>(c);
  bool unit_rows = true;
  for (std::int64_t m = m0 + 1; m < m1 && unit_rows; ++m)
    unit_rows = c_m[static_cast<std::size_t>(m)] == c_m[static_cast<std::size_t>(m0)] + (m - m0);
  if (!separable_ || !unit_rows) {
    apply_any(bytes, c_m, c_n, batch, m0, m1, n0, n1);
    return;
  }
  // Each row's factor and bias, then each column's: one multiply and at
  // most two adds per element.
  thread_local std::vector<float> row_scale, row_bias;
  const auto rows = static_cast<std::size_t>(m1 - m0);
  row_scale.assign(rows, 1.0f);
  row_bias.assign(rows, 0.0f);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::int64_t m = m0 + static_cast<std::int64_t>(i);
    for (const Term* s : m_scales_) row_scale[i] *= s->at(batch, m, n0);
    for (const Term* t : m_bias_)
      row_bias[i] = t->negate ? row_bias[i] - t->at(batch, m, n0) : row_bias[i] + t->at(batch, m, n0);
  }
  const bool add_row_bias = !m_bias_.empty(), add_column_bias = !n_bias_.empty();
  const float* const rs = row_scale.data();
  const float* const rb = row_bias.data();
  for (std::int64_t n = n0; n < n1; ++n) {
    float column_scale = scale_, column_bias = 0.0f;
    for (const Term* s : n_scales_) column_scale *= s->at(batch, m0, n);
    for (const Term* t : n_bias_)
      column_bias = t->negate ? column_bias - t->at(batch, m0, n) : column_bias + t->at(batch, m0, n);
    unsigned char* const column = bytes + 4 * (c_m[static_cast<std::size_t>(m0)] + c_n[static_cast<std::size_t>(n)]);
    for (std::size_t i = 0; i < rows; ++i) {  // (vectorised: no dependence between elements)
      float value = static_cast<float>(load_sum(column + 4 * i)) * (rs[i] * column_scale);
      if (add_row_bias) value += rb[i];
      if (add_column_bias) value += column_bias;
      store_value(column + 4 * i, value);
    }
    if (activation_) activation_(reinterpret_cast<float*>(column), static_cast<std::int64_t>(rows));
  }
}

void DequantisingEpilogue::apply_any(unsigned char* c, const std::vector<std::int64_t>& c_m,
                                     const std::vector<std::int64_t>& c_n, std::int64_t batch, std::int64_t m0,
                                     std::int64_t m1, std::int64_t n0, std::int64_t n1) const {
  for (std::int64_t n = n0; n < n1; ++n) {
    for (std::int64_t m = m0; m < m1; ++m) {
      unsigned char* at = c + 4 * (c_m[static_cast<std::size_t>(m)] + c_n[static_cast<std::size_t>(n)]);
      float factor = scale_;
      for (const Term& s : channel_scales_) factor *= s.at(batch, m, n);
      float value = static_cast<float>(load_sum(at)) * factor;
      for (const Term& t : bias_) value = t.negate ? value - t.at(batch, m, n) : value + t.at(batch, m, n);
      if (activation_) activation_(&value, 1);
      store_value(at, value);
    }
  }
}

}  // namespace einc::cpu
