// tests/runtime/npy_test.cpp — the .npy reader and writer (einc/npy.h):
// round trips for every dtype, numpy's exact header layout, hand-built
// images (versions 1.0/2.0/3.0, double quotes, Fortran order, big-endian),
// a table of corrupted images that must each fail with a clear NpyError, a
// seeded mutation test, and the atomicity of write_npy. No binary fixtures:
// every image is built in code. Parsed images are copied into exactly-sized
// heap buffers so AddressSanitizer catches any read past the end.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "einc/npy.h"

namespace einc {
namespace {

namespace fs = std::filesystem;

// ---- helpers ------------------------------------------------------------------

// Parses `image` from a heap buffer of exactly its size.
Tensor parse_exact(const std::string& image, const std::string& name = "t.npy") {
  std::unique_ptr<char[]> buffer(new char[image.size() + (image.empty() ? 1 : 0)]);
  if (!image.empty()) std::memcpy(buffer.get(), image.data(), image.size());
  return parse_npy(std::string_view(buffer.get(), image.size()), name);
}

std::string le(std::uint64_t v, int width) {
  std::string out;
  for (int i = 0; i < width; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

// A .npy image: magic, version, header length (2 bytes for 1.x, else 4),
// `header` verbatim, then `data`.
std::string image(int major, const std::string& header, const std::string& data) {
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  out += le(header.size(), major == 1 ? 2 : 4);
  return out + header + data;
}

// `dict` padded with spaces and '\n' so the data starts at a multiple of 64.
std::string padded(const std::string& dict, int major = 1) {
  std::size_t prefix = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((prefix + h.size() + 1) % 64 != 0) h += ' ';
  return h + '\n';
}

template <typename T>
std::string bytes_of(const std::vector<T>& values, bool big_endian = false) {
  std::string out;
  for (const T& v : values) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    if (big_endian) std::reverse(b, b + sizeof(T));
    out.append(b, sizeof(T));
  }
  return out;
}

std::string f32_dict(const std::string& shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

// A 3x4 f32 tensor with values 0.5 * i - 1 (i in C order).
Tensor sample_f32() {
  Tensor t = Tensor::zeros(DType::f32, {3, 4});
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, 0.5 * static_cast<double>(i) - 1.0);
  return t;
}

std::string raw_data(const Tensor& t) { return std::string(static_cast<const char*>(t.data()), t.nbytes()); }

void expect_same(const Tensor& expected, const Tensor& actual) {
  ASSERT_EQ(expected.dtype(), actual.dtype());
  ASSERT_EQ(expected.shape(), actual.shape());
  EXPECT_TRUE(actual.owns_memory());
  EXPECT_TRUE(actual.is_contiguous());
  Tensor want = expected.clone();
  EXPECT_EQ(raw_data(want), raw_data(actual));  // bit-exact, NaNs included
}

// A fresh, empty directory under the system temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "einc-npy-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

// ---- round trips ----------------------------------------------------------------

TEST(Npy, RoundTripEveryDType) {
  const std::vector<std::int64_t> shape = {2, 3, 5};
  for (DType dtype : {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i8, DType::i32}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor t = Tensor::zeros(dtype, shape);
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      double v = dtype == DType::i8    ? static_cast<double>((i * 37) % 256 - 128)
                 : dtype == DType::i32 ? static_cast<double>(i * 123456789 % 2147483647) - 1e9
                 : dtype == DType::f64 ? 1.0 / (static_cast<double>(i) + 3.0)
                                       : 0.25 * static_cast<double>(i) - 3.0;
      t.set_flat(i, v);
    }
    if (dtype == DType::f32 || dtype == DType::f64) t.set_flat(7, std::nan(""));
    std::string img = serialize_npy(t);
    Tensor back = parse_exact(img);
    expect_same(t, back);
    // Serialising what was read gives the same bytes.
    EXPECT_EQ(img, serialize_npy(back));
  }
}

TEST(Npy, RoundTripScalarEveryDType) {
  for (DType dtype : {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i8, DType::i32}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor t = Tensor::zeros(dtype, {});
    t.set_flat(0, -7.0);
    std::string img = serialize_npy(t);
    EXPECT_NE(img.find("'shape': (), }"), std::string::npos);
    Tensor back = parse_exact(img);
    EXPECT_EQ(back.rank(), 0u);
    EXPECT_EQ(back.numel(), 1);
    EXPECT_EQ(back.get({}), -7.0);
    expect_same(t, back);
  }
}

TEST(Npy, RoundTripEmpty) {
  for (const std::vector<std::int64_t>& shape :
       {std::vector<std::int64_t>{0}, std::vector<std::int64_t>{0, 5}, std::vector<std::int64_t>{4, 0, 3}}) {
    Tensor t = Tensor::zeros(DType::f64, shape);
    std::string img = serialize_npy(t);
    EXPECT_EQ(img.size() % 64, 0u);  // header only
    Tensor back = parse_exact(img);
    EXPECT_EQ(back.shape(), shape);
    EXPECT_EQ(back.numel(), 0);
    EXPECT_EQ(back.dtype(), DType::f64);
  }
  // A zero-size view with no memory at all.
  Tensor v = Tensor::view(DType::i32, nullptr, {3, 0});
  EXPECT_EQ(parse_exact(serialize_npy(v)).shape(), (std::vector<std::int64_t>{3, 0}));
}

TEST(Npy, StridedViewIsWrittenInCOrder) {
  TempDir dir;
  Tensor base = Tensor::zeros(DType::f32, {4, 6});
  for (std::int64_t i = 0; i < base.numel(); ++i) base.set_flat(i, static_cast<double>(i));
  // Every other column, rows reversed: shape (4, 3), strides (-6, 2).
  float* last_row = base.data_as<float>() + 3 * 6;
  Tensor view = Tensor::view(DType::f32, last_row, {4, 3}, {-6, 2});
  ASSERT_FALSE(view.is_contiguous());
  std::string path = (dir.path() / "view.npy").string();
  write_npy(path, view);
  Tensor back = read_npy(path);
  ASSERT_EQ(back.shape(), (std::vector<std::int64_t>{4, 3}));
  for (std::int64_t r = 0; r < 4; ++r)
    for (std::int64_t c = 0; c < 3; ++c) EXPECT_EQ(back.get({r, c}), static_cast<double>((3 - r) * 6 + 2 * c));

  // A broadcast (stride 0) view of an i8 row.
  Tensor row = Tensor::zeros(DType::i8, {3});
  for (std::int64_t i = 0; i < 3; ++i) row.set_flat(i, static_cast<double>(i - 1));
  Tensor wide = Tensor::view(DType::i8, row.data(), {2, 3}, {0, 1});
  Tensor b2 = parse_exact(serialize_npy(wide));
  for (std::int64_t r = 0; r < 2; ++r)
    for (std::int64_t c = 0; c < 3; ++c) EXPECT_EQ(b2.get({r, c}), static_cast<double>(c - 1));
}

TEST(Npy, Bf16IsStoredAsU2Bits) {
  Tensor t = Tensor::zeros(DType::bf16, {2});
  t.set_flat(0, 1.0);   // 0x3f80
  t.set_flat(1, -2.5);  // 0xc020
  std::string img = serialize_npy(t);
  EXPECT_NE(img.find("'descr': '<u2'"), std::string::npos);
  EXPECT_EQ(img.substr(img.size() - 4), bytes_of<std::uint16_t>({0x3f80, 0xc020}));
  // Any '<u2' file reads as bf16.
  Tensor back = parse_exact(
      image(1, padded("{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }"), bytes_of<std::uint16_t>({0x4049})));
  EXPECT_EQ(back.dtype(), DType::bf16);
  EXPECT_EQ(back.get({0}), 3.140625);
}

// ---- the writer's exact layout (numpy.lib.format, checked against np.save) ----

TEST(Npy, HeaderMatchesNumpyByteForByte) {
  // The first 128 bytes of np.save's output for the same arrays (numpy 1.24).
  auto numpy_prefix = [](const std::string& dict) {
    return std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(117 - dict.size(), ' ') + "\n";
  };
  std::string img = serialize_npy(Tensor::zeros(DType::f32, {3, 4}));
  EXPECT_EQ(img.substr(0, 128), numpy_prefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"));
  EXPECT_EQ(img.size(), 128u + 48u);
  EXPECT_EQ(serialize_npy(Tensor::zeros(DType::i8, {5})),
            numpy_prefix("{'descr': '|i1', 'fortran_order': False, 'shape': (5,), }") + std::string(5, '\0'));
  EXPECT_EQ(serialize_npy(Tensor::zeros(DType::f16, {})),
            numpy_prefix("{'descr': '<f2', 'fortran_order': False, 'shape': (), }") + std::string(2, '\0'));
  EXPECT_EQ(serialize_npy(Tensor::zeros(DType::bf16, {0, 7})),
            numpy_prefix("{'descr': '<u2', 'fortran_order': False, 'shape': (0, 7), }"));

  // The 21-digit growth room after the dict decides the padding: with 15
  // axes the dict is 98 bytes, and 98 + 20 spaces no longer fit in 128.
  std::string wide = serialize_npy(Tensor::zeros(DType::f64, std::vector<std::int64_t>(15, 1)));
  EXPECT_EQ(wide.size(), 192u + 8u);
  EXPECT_EQ(wide[8], '\xb6');  // header length 182
  EXPECT_EQ(wide[191], '\n');

  // A header that exactly fills 64-byte blocks still gets a full block of
  // padding, as numpy's _wrap_header does; data always starts at k * 64.
  for (std::size_t rank = 0; rank < 40; ++rank) {
    std::string s = serialize_npy(Tensor::zeros(DType::i32, std::vector<std::int64_t>(rank, 1)));
    std::size_t hlen =
        static_cast<unsigned char>(s[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(s[9])) << 8);
    EXPECT_EQ((10 + hlen) % 64, 0u);
    EXPECT_EQ(s[10 + hlen - 1], '\n');
    EXPECT_EQ(s[10 + hlen - 2], ' ');
  }
}

TEST(Npy, HugeRankHeaderUsesVersion2) {
  // A header over 65535 bytes: (1, 1, ..., 1) with 30000 axes.
  std::vector<std::int64_t> shape(30000, 1);
  Tensor t = Tensor::zeros(DType::f32, shape);
  t.set_flat(0, 42.0);
  std::string img = serialize_npy(t);
  EXPECT_EQ(img[6], '\x02');
  EXPECT_EQ(img[7], '\x00');
  std::size_t hlen = 0;
  for (int i = 0; i < 4; ++i) hlen |= static_cast<std::size_t>(static_cast<unsigned char>(img[8 + i])) << (8 * i);
  EXPECT_GT(hlen, 65535u);
  EXPECT_EQ((12 + hlen) % 64, 0u);
  Tensor back = parse_exact(img);
  EXPECT_EQ(back.shape(), shape);
  EXPECT_EQ(back.get_flat(0), 42.0);
}

// ---- hand-built images ------------------------------------------------------------

TEST(Npy, Versions1To3) {
  std::string data = bytes_of<float>({1.5f, -2.0f, 3.25f});
  for (int major : {1, 2, 3}) {
    SCOPED_TRACE(major);
    Tensor t = parse_exact(image(major, padded(f32_dict("(3,)"), major), data));
    ASSERT_EQ(t.shape(), (std::vector<std::int64_t>{3}));
    EXPECT_EQ(t.get({0}), 1.5);
    EXPECT_EQ(t.get({1}), -2.0);
    EXPECT_EQ(t.get({2}), 3.25);
  }
}

TEST(Npy, HeaderSpellings) {
  std::string data = bytes_of<double>({1, 2, 3, 4, 5, 6});
  const std::vector<std::string> dicts = {
      "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2, 3)}",  // double quotes, no trailing comma
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}",          // other key order
      "{ 'descr' :'<f8','fortran_order':False,'shape':( 2 ,3 , ) , }",      // odd spacing, trailing commas
      "{'descr': '=f8',\n 'fortran_order': False,\n 'shape': (2L, 3L)}",    // '=' order, Python 2 longs
      "\t{'descr': '<f8', 'fortran_order': False, 'shape': (+2, 3), }",     // leading whitespace, '+'
  };
  for (const std::string& dict : dicts) {
    SCOPED_TRACE(dict);
    Tensor t = parse_exact(image(1, padded(dict), data));
    ASSERT_EQ(t.shape(), (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(t.get({1, 2}), 6.0);
  }
  // No padding or newline at all is accepted too.
  Tensor t = parse_exact(image(1, f32_dict("()"), bytes_of<float>({9.0f})));
  EXPECT_EQ(t.get({}), 9.0);
  // i8 under each byte-order spelling.
  for (const char* descr : {"|i1", "<i1", "=i1", ">i1"}) {
    Tensor b =
        parse_exact(image(1, padded(std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (2,)}"),
                          std::string("\xff\x05", 2)));
    EXPECT_EQ(b.dtype(), DType::i8);
    EXPECT_EQ(b.get({0}), -1.0);
    EXPECT_EQ(b.get({1}), 5.0);
  }
}

TEST(Npy, FortranOrder) {
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  std::string header = padded("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }");
  Tensor t = parse_exact(image(1, header, bytes_of<std::int32_t>({1, 4, 2, 5, 3, 6})));
  ASSERT_EQ(t.shape(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(t.owns_memory());
  EXPECT_EQ(bytes_of<std::int32_t>({1, 2, 3, 4, 5, 6}), raw_data(t));

  // Rank 3, big-endian f8: element (i, j, k) = 100i + 10j + k at i + 2j + 6k.
  std::vector<double> fdata(2 * 3 * 4);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) fdata[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
  Tensor u = parse_exact(
      image(1, padded("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3, 4), }"), bytes_of(fdata, true)));
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t j = 0; j < 3; ++j)
      for (std::int64_t k = 0; k < 4; ++k) EXPECT_EQ(u.get({i, j, k}), static_cast<double>(100 * i + 10 * j + k));
}

TEST(Npy, BigEndian) {
  auto dict = [](const char* descr) {
    return padded(std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (3,), }");
  };
  Tensor f4 = parse_exact(image(1, dict(">f4"), bytes_of<float>({1.5f, -0.0f, 1e30f}, true)));
  EXPECT_EQ(bytes_of<float>({1.5f, -0.0f, 1e30f}), raw_data(f4));
  Tensor f8 = parse_exact(image(1, dict(">f8"), bytes_of<double>({1.0 / 3, -2.0, 1e300}, true)));
  EXPECT_EQ(bytes_of<double>({1.0 / 3, -2.0, 1e300}), raw_data(f8));
  Tensor i4 = parse_exact(image(1, dict(">i4"), bytes_of<std::int32_t>({1, -2, 0x12345678}, true)));
  EXPECT_EQ(bytes_of<std::int32_t>({1, -2, 0x12345678}), raw_data(i4));
  Tensor f2 = parse_exact(image(1, dict(">f2"), bytes_of<std::uint16_t>({0x3c00, 0xc000, 0x7c00}, true)));
  EXPECT_EQ(f2.dtype(), DType::f16);
  EXPECT_EQ(f2.get({0}), 1.0);
  EXPECT_EQ(f2.get({1}), -2.0);
  EXPECT_TRUE(std::isinf(f2.get({2})));
  Tensor u2 = parse_exact(image(1, dict(">u2"), bytes_of<std::uint16_t>({0x3f80, 0xc020, 0}, true)));
  EXPECT_EQ(u2.dtype(), DType::bf16);
  EXPECT_EQ(u2.get({1}), -2.5);
}

// ---- corrupted images -----------------------------------------------------------------

struct Corrupt {
  const char* what;
  std::string bytes;
  const char* phrase;
};

std::string header_only(const std::string& dict, const std::string& data = "") { return image(1, padded(dict), data); }

TEST(Npy, CorruptImagesAreRefused) {
  std::string good = serialize_npy(sample_f32());  // 48 bytes of data
  std::string data48(48, '\0');
  std::vector<Corrupt> cases = {
      {"empty file", "", "empty"},
      {"bad magic", "\x93NUMPZ\x01\x00" + good.substr(8), "bad magic"},
      {"text file", "hello, world\n", "bad magic"},
      {"magic only", "\x93NUMPY", "truncated header"},
      {"truncated header length", std::string("\x93NUMPY\x01\x00\x76", 9), "truncated header"},
      {"truncated v2 header length", std::string("\x93NUMPY\x02\x00\x76\x00\x00", 11), "truncated header"},
      {"truncated header", good.substr(0, 60), "runs past the end"},
      {"header length too large", good.substr(0, 8) + le(0xffff, 2) + good.substr(10), "runs past the end"},
      {"v2 header length 4G", std::string("\x93NUMPY\x02\x00", 8) + le(0xffffffffu, 4) + "{}", "runs past the end"},
      {"unsupported version", "\x93NUMPY\x04" + good.substr(7), "unsupported .npy format version 4.0"},
      {"unsupported minor", std::string("\x93NUMPY\x01\x01", 8) + good.substr(8), "version 1.1"},
      {"no closing brace", header_only("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), ", data48),
       "no closing '}'"},
      {"not a dict", header_only("['descr', '<f4']", data48), "expected '{'"},
      {"empty header", image(1, "", data48), "header is empty"},
      {"garbage after dict", header_only(f32_dict("(3, 4)") + " x", data48), "after the closing '}'"},
      {"missing colon", header_only("{'descr' '<f4', 'fortran_order': False, 'shape': (3, 4)}", data48),
       "expected ':'"},
      {"missing comma", header_only("{'descr': '<f4' 'fortran_order': False, 'shape': (3, 4)}", data48),
       "expected ',' or '}'"},
      {"unterminated string", header_only("{'descr: '<f4', 'fortran_order': False, 'shape': (3, 4)}", data48),
       "malformed header"},
      {"unclosed tuple", header_only("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4}", data48),
       "expected ',' or ')'"},
      {"unknown name", header_only("{'descr': '<f4', 'fortran_order': false, 'shape': (3, 4)}", data48),
       "unexpected name 'false'"},
      {"deep nesting", header_only("{'descr': " + std::string(100, '(') + std::string(100, ')') + "}", data48),
       "nest more than"},
      {"missing shape", header_only("{'descr': '<f4', 'fortran_order': False}", data48), "missing key 'shape'"},
      {"missing descr", header_only("{'fortran_order': False, 'shape': (3, 4)}", data48), "missing key 'descr'"},
      {"missing fortran_order", header_only("{'descr': '<f4', 'shape': (3, 4)}", data48),
       "missing key 'fortran_order'"},
      {"duplicate key",
       header_only("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}", data48),
       "duplicate key 'descr'"},
      {"extra key", header_only("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", data48),
       "unexpected key 'x'"},
      {"non-string key", header_only("{1: '<f4', 'fortran_order': False, 'shape': (3, 4)}", data48), "is not a string"},
      {"unknown descr c8", header_only("{'descr': '<c8', 'fortran_order': False, 'shape': (3, 4)}", data48),
       "unsupported dtype '<c8'"},
      {"object descr", header_only("{'descr': '|O', 'fortran_order': False, 'shape': (3, 4)}", data48),
       "unsupported dtype '|O'"},
      {"u4 descr", header_only("{'descr': '<u4', 'fortran_order': False, 'shape': (3, 4)}", data48),
       "unsupported dtype '<u4'"},
      {"unicode descr", header_only("{'descr': '<U3', 'fortran_order': False, 'shape': (3, 4)}", data48),
       "unsupported dtype '<U3'"},
      {"|f4 descr", header_only("{'descr': '|f4', 'fortran_order': False, 'shape': (3, 4)}", data48),
       "unsupported dtype '|f4'"},
      {"structured descr",
       header_only("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (3, 2)}", data48),
       "unsupported dtype '[('a', '<f4'), ('b', '<f4')]'"},
      {"fortran_order not bool", header_only("{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4)}", data48),
       "'fortran_order' must be True or False"},
      {"shape is int in parens", header_only(f32_dict("(48)"), data48), "'shape' must be a tuple"},
      {"shape is list", header_only(f32_dict("[3, 4]"), data48), "'shape' must be a tuple"},
      {"negative extent", header_only(f32_dict("(-1, 3)"), data48), "negative extent '-1'"},
      {"float extent", header_only(f32_dict("(3.0, 4)"), data48), "non-integer extent '3.0'"},
      {"bool extent", header_only(f32_dict("(True, 4)"), data48), "non-integer extent 'True'"},
      {"string extent", header_only(f32_dict("('3', 4)"), data48), "non-integer extent"},
      {"huge extent", header_only(f32_dict("(99999999999999999999,)"), data48), "overflows int64"},
      {"element count overflow", header_only(f32_dict("(1099511627776, 1099511627776)"), data48),
       "element count overflows int64"},
      {"byte size overflow", header_only(f32_dict("(4611686018427387904,)"), data48), "byte size overflows int64"},
      {"data truncated by one byte", good.substr(0, good.size() - 1),
       "truncated data: expected 48 bytes of data, found 47"},
      {"one extra byte", good + "x", "expected 48 bytes of data, found 49"},
      {"no data", good.substr(0, 128), "expected 48 bytes of data, found 0"},
      {"huge shape, little data", header_only(f32_dict("(1000000000, 1000000000)"), data48),
       "expected 4000000000000000000 bytes of data, found 48"},
  };
  for (const Corrupt& c : cases) {
    SCOPED_TRACE(c.what);
    try {
      parse_exact(c.bytes, "dir/bad.npy");
      ADD_FAILURE() << "parsed without error";
    } catch (const NpyError& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind("dir/bad.npy: ", 0), 0u) << msg;
      EXPECT_NE(msg.find(c.phrase), std::string::npos) << "message: " << msg << "\nwanted: " << c.phrase;
    }
  }
}

TEST(Npy, MutatedImagesReturnOrThrowNpyError) {
  std::vector<std::string> seeds = {
      serialize_npy(sample_f32()),
      image(1, padded("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }"), std::string(48, '\x01')),
      image(2, "{\"shape\": (2,), \"descr\": \"|i1\", \"fortran_order\": False}\n", "ab"),
  };
  std::mt19937 rng(20240611u);  // raw engine output only: identical everywhere
  int parsed = 0, refused = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::string img = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !img.empty(); ++e) {
      // Half the edits land in the first 128 bytes (magic and header).
      std::size_t span = (rng() % 2) ? std::min<std::size_t>(img.size(), 128) : img.size();
      std::size_t at = rng() % span;
      switch (rng() % 5) {
        case 0:
          img[at] = static_cast<char>(img[at] ^ (1u << (rng() % 8)));
          break;  // flip a bit
        case 1:
          img[at] = static_cast<char>(rng() % 256);
          break;  // random byte
        case 2:
          img.resize(at);
          break;  // truncate
        case 3:
          img.insert(at, 1, static_cast<char>(rng() % 256));
          break;  // insert
        case 4:
          img[at] = "0123456789(),:'\"-{} \n"[rng() % 21];
          break;  // header-ish byte
      }
    }
    try {
      Tensor t = parse_exact(img, "m.npy");
      EXPECT_TRUE(t.is_contiguous());
      EXPECT_TRUE(t.owns_memory());
      ++parsed;
    } catch (const NpyError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("m.npy: ", 0), 0u);
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << iter << ": unexpected exception: " << e.what();
    }
  }
  EXPECT_EQ(parsed + refused, 2000);
  EXPECT_GT(refused, 0);
}

// ---- files ----------------------------------------------------------------------------

TEST(Npy, WriteAndReadFile) {
  TempDir dir;
  std::string path = (dir.path() / "a.npy").string();
  Tensor t = sample_f32();
  write_npy(path, t);
  expect_same(t, read_npy(path));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.npy"});  // no temporary left

  // Overwriting replaces the file, again leaving no temporary.
  Tensor s = Tensor::zeros(DType::i32, {});
  s.set_flat(0, 5);
  write_npy(path, s);
  expect_same(s, read_npy(path));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.npy"});

  // A relative path (no directory part) works too.
  std::error_code ec;
  fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  write_npy("rel.npy", t);
  fs::current_path(cwd, ec);
  expect_same(t, read_npy((dir.path() / "rel.npy").string()));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"a.npy", "rel.npy"}));
}

TEST(Npy, WriteIntoMissingDirectoryLeavesNothing) {
  TempDir dir;
  std::string path = (dir.path() / "missing" / "a.npy").string();
  try {
    write_npy(path, sample_f32());
    ADD_FAILURE() << "no error";
  } catch (const NpyError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.path() / "missing"));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Npy, FailedRenameRemovesTheTemporary) {
  // The target is a non-empty directory: the temporary is written, rename()
  // fails, and the temporary must be removed.
  TempDir dir;
  fs::create_directory(dir.path() / "target.npy");
  std::ofstream(dir.path() / "target.npy" / "keep") << "x";
  EXPECT_THROW(write_npy((dir.path() / "target.npy").string(), sample_f32()), NpyError);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"target.npy"});
  EXPECT_TRUE(fs::is_directory(dir.path() / "target.npy"));
}

TEST(Npy, UndefinedTensorIsRefused) {
  TempDir dir;
  std::string path = (dir.path() / "u.npy").string();
  EXPECT_THROW(serialize_npy(Tensor()), NpyError);
  EXPECT_THROW(write_npy(path, Tensor()), NpyError);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Npy, ReadErrorsNameThePath) {
  TempDir dir;
  std::string missing = (dir.path() / "nope.npy").string();
  try {
    read_npy(missing);
    ADD_FAILURE() << "no error";
  } catch (const NpyError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(missing + ": cannot open", 0), 0u) << e.what();
  }
  std::string text = (dir.path() / "text.npy").string();
  std::ofstream(text) << "not numpy";
  try {
    read_npy(text);
    ADD_FAILURE() << "no error";
  } catch (const NpyError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(text + ": not a .npy file", 0), 0u) << e.what();
  }
  // A directory cannot be read.
  EXPECT_THROW(read_npy(dir.path().string()), NpyError);
}

}  // namespace
}  // namespace einc
