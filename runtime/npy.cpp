// runtime/npy.cpp — the NumPy .npy reader and writer (einc/npy.h).
//
// The header is a Python dict literal; rather than depend on a Python
// parser it is read by a small recursive-descent parser for the literal
// subset numpy emits (strings, integers, True/False/None, tuples, lists,
// dicts), depth-bounded and position-checked so that any byte string either
// parses or yields an NpyError saying what is wrong. Sizes from the header
// are checked for int64 overflow and against the bytes actually present
// before anything is allocated. The writer reproduces numpy.lib.format's
// _write_array_header byte for byte (sorted keys, repr spacing, 21-digit
// growth room after the header, 64-byte data alignment).
#include "einc/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "ir/program.h"
#include "runtime/atomic_file.h"

namespace einc {

static_assert(std::endian::native == std::endian::little,
              "npy.cpp assumes a little-endian host ('=' and in-memory tensors are little-endian)");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
constexpr std::size_t kArrayAlign = 64;           // numpy.lib.format.ARRAY_ALIGN
constexpr std::size_t kGrowthAxisMaxDigits = 21;  // numpy.lib.format.GROWTH_AXIS_MAX_DIGITS
constexpr int kMaxNesting = 32;                   // header literal nesting bound

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw NpyError(name + ": " + what); }

// Quotes header text for a message: printable ASCII kept, the rest escaped,
// long text shortened.
std::string quote(std::string_view text) {
  constexpr std::size_t kMax = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (text.size() > kMax) out += "...";
  return out + "'";
}

std::uint64_t read_le(std::string_view bytes, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = width; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

// ---- header literal ---------------------------------------------------------

struct Value {
  enum Kind { kString, kInt, kNumber, kBool, kNone, kTuple, kList, kDict };
  Kind kind = kNone;
  std::string_view raw;      // source text of the whole value
  std::string text;          // kString: decoded contents; kInt: digits with sign
  bool flag = false;         // kBool
  std::vector<Value> items;  // kTuple, kList; kDict: key, value, key, value...
};

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::kString:
      return "a string";
    case Value::kInt:
      return "an integer";
    case Value::kNumber:
      return "a number";
    case Value::kBool:
      return "a bool";
    case Value::kNone:
      return "None";
    case Value::kTuple:
      return "a tuple";
    case Value::kList:
      return "a list";
    case Value::kDict:
      return "a dict";
  }
  return "a value";
}

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  // The dict's entries as key/value pairs, in source order.
  std::vector<std::pair<std::string, Value>> parse_dict_literal() {
    skip_ws();
    if (at_end()) error("header is empty (expected '{')");
    if (s_[pos_] != '{') error("expected '{' at the start, found " + here());
    Value dict = parse_value(0);
    skip_ws();
    if (!at_end()) error("unexpected " + here() + " after the closing '}'");
    std::vector<std::pair<std::string, Value>> entries;
    for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
      if (dict.items[i].kind != Value::kString) error("dict key " + quote(dict.items[i].raw) + " is not a string");
      entries.emplace_back(dict.items[i].text, std::move(dict.items[i + 1]));
    }
    return entries;
  }

 private:
  [[noreturn]] void error(const std::string& what) const { fail(name_, "malformed header: " + what); }

  bool at_end() const { return pos_ >= s_.size(); }
  static std::string key_text(const Value& key) { return quote(key.kind == Value::kString ? key.text : key.raw); }
  std::string here() const {
    if (at_end()) return "end of header";
    return quote(s_.substr(pos_, 12)) + " at header offset " + std::to_string(pos_);
  }
  void skip_ws() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r' ||
                         s_[pos_] == '\f' || s_[pos_] == '\v'))
      ++pos_;
  }
  static bool is_word(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
  }

  Value parse_value(int depth) {
    if (depth > kMaxNesting) error("values nest more than " + std::to_string(kMaxNesting) + " deep");
    skip_ws();
    if (at_end()) error("expected a value, found end of header");
    std::size_t start = pos_;
    char c = s_[pos_];
    Value v;
    if (c == '{') {
      v = parse_dict(depth);
    } else if (c == '(' || c == '[') {
      v = parse_sequence(depth);
    } else if (c == '\'' || c == '"') {
      v = parse_string();
    } else if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      v = parse_number();
    } else if (is_word(c)) {
      std::size_t end = pos_;
      while (end < s_.size() && is_word(s_[end])) ++end;
      std::string_view word = s_.substr(pos_, end - pos_);
      if (word == "True" || word == "False") {
        v.kind = Value::kBool;
        v.flag = word == "True";
      } else if (word == "None") {
        v.kind = Value::kNone;
      } else {
        error("unexpected name " + quote(word) + " at header offset " + std::to_string(pos_));
      }
      pos_ = end;
    } else {
      error("expected a value, found " + here());
    }
    v.raw = s_.substr(start, pos_ - start);
    return v;
  }

  Value parse_dict(int depth) {
    ++pos_;  // '{'
    Value v;
    v.kind = Value::kDict;
    for (;;) {
      skip_ws();
      if (at_end()) error("no closing '}' (header ends inside the dict)");
      if (s_[pos_] == '}') break;
      v.items.push_back(parse_value(depth + 1));
      skip_ws();
      if (at_end()) error("no closing '}' (header ends inside the dict)");
      if (s_[pos_] != ':') error("expected ':' after key " + key_text(v.items.back()) + ", found " + here());
      ++pos_;
      v.items.push_back(parse_value(depth + 1));
      skip_ws();
      if (at_end()) error("no closing '}' (header ends inside the dict)");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] != '}')
        error("expected ',' or '}' after the value of " + key_text(v.items[v.items.size() - 2]) + ", found " + here());
    }
    ++pos_;  // '}'
    return v;
  }

  Value parse_sequence(int depth) {
    std::size_t start = pos_;
    char open = s_[pos_++];
    char close = open == '(' ? ')' : ']';
    Value v;
    v.kind = open == '(' ? Value::kTuple : Value::kList;
    bool comma = false;
    for (;;) {
      skip_ws();
      if (at_end())
        error(std::string("no closing '") + close + "' for the '" + open + "' at header offset " +
              std::to_string(start));
      if (s_[pos_] == close) break;
      v.items.push_back(parse_value(depth + 1));
      skip_ws();
      if (at_end())
        error(std::string("no closing '") + close + "' for the '" + open + "' at header offset " +
              std::to_string(start));
      if (s_[pos_] == ',') {
        comma = true;
        ++pos_;
        continue;
      }
      if (s_[pos_] != close) error(std::string("expected ',' or '") + close + "', found " + here());
    }
    ++pos_;
    if (v.kind == Value::kTuple && v.items.size() == 1 && !comma) {
      Value inner = std::move(v.items[0]);  // (x) is x, not a tuple
      return inner;
    }
    return v;
  }

  Value parse_string() {
    std::size_t start = pos_;
    char q = s_[pos_++];
    Value v;
    v.kind = Value::kString;
    for (;;) {
      if (at_end() || s_[pos_] == '\n') error("unterminated string starting at header offset " + std::to_string(start));
      char c = s_[pos_++];
      if (c == q) break;
      if (c == '\\') {
        if (at_end()) error("unterminated string starting at header offset " + std::to_string(start));
        char e = s_[pos_++];
        if (e == '\\' || e == '\'' || e == '"') {
          v.text += e;
        } else {  // other escapes are kept verbatim; no supported descr uses them
          v.text += '\\';
          v.text += e;
        }
        continue;
      }
      v.text += c;
    }
    return v;
  }

  Value parse_number() {
    std::size_t start = pos_;
    if (s_[pos_] == '+' || s_[pos_] == '-') {
      ++pos_;
      skip_ws();
    }
    std::size_t digits = pos_;
    while (!at_end()) {
      char c = s_[pos_];
      bool exp_sign = (c == '+' || c == '-') && pos_ > digits && (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E');
      if (!is_word(c) && !exp_sign) break;
      ++pos_;
    }
    if (pos_ == digits) error("expected a number, found " + quote(s_.substr(start, pos_ - start + 1)));
    Value v;
    std::string_view body = s_.substr(digits, pos_ - digits);
    // Python 2 era files wrote long integers as 3L.
    if (body.size() > 1 && (body.back() == 'L' || body.back() == 'l')) body.remove_suffix(1);
    bool integer = !body.empty();
    for (char c : body) integer = integer && c >= '0' && c <= '9';
    v.kind = integer ? Value::kInt : Value::kNumber;
    if (integer) v.text = (s_[start] == '-' ? "-" : "") + std::string(body);
    return v;
  }

  std::string_view s_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

// ---- dtypes -----------------------------------------------------------------

struct Descr {
  DType dtype;
  bool big_endian;
};

std::optional<Descr> descr_dtype(std::string_view descr) {
  if (descr.size() != 3) return std::nullopt;
  char order = descr[0];
  std::string_view code = descr.substr(1);
  std::optional<DType> dtype;
  if (code == "f4")
    dtype = DType::f32;
  else if (code == "f8")
    dtype = DType::f64;
  else if (code == "f2")
    dtype = DType::f16;
  else if (code == "i1")
    dtype = DType::i8;
  else if (code == "i4")
    dtype = DType::i32;
  else if (code == "u2")
    dtype = DType::bf16;  // raw bfloat16 bits, see npy.h
  if (!dtype) return std::nullopt;
  switch (order) {
    case '<':
    case '=':
      return Descr{*dtype, false};
    case '>':
      return Descr{*dtype, true};
    case '|':  // "not applicable": only meaningful for one-byte types
      if (*dtype == DType::i8) return Descr{*dtype, false};
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

const char* dtype_descr(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::f16:
      return "<f2";
    case DType::bf16:
      return "<u2";
    case DType::i8:
      return "|i1";
    case DType::i32:
      return "<i4";
  }
  return "<f4";
}

// ---- element copies -----------------------------------------------------------

inline void copy_element(char* dst, const char* src, std::size_t size, bool swap) {
  if (!swap) {
    std::memcpy(dst, src, size);
    return;
  }
  for (std::size_t b = 0; b < size; ++b) dst[b] = src[size - 1 - b];
}

// Copies every element of the array (shape, strides in elements, based at
// `src`) into `dst` in C order, byte-swapping each element if `swap`.
void gather(char* dst, const char* src, const std::vector<std::int64_t>& shape,
            const std::vector<std::int64_t>& strides, std::int64_t numel, std::size_t esize, bool swap) {
  if (numel == 0) return;
  const auto es = static_cast<std::int64_t>(esize);
  std::size_t rank = shape.size();
  if (rank == 0) {
    copy_element(dst, src, esize, swap);
    return;
  }
  std::int64_t inner = shape[rank - 1];
  std::int64_t inner_step = strides[rank - 1] * es;
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t base = 0;  // byte offset of index (with its last entry 0)
  for (std::int64_t row = 0, rows = numel / inner; row < rows; ++row) {
    std::int64_t off = base;
    for (std::int64_t i = 0; i < inner; ++i, off += inner_step, dst += esize) copy_element(dst, src + off, esize, swap);
    for (std::size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < shape[d]) {
        base += strides[d] * es;
        break;
      }
      base -= (shape[d] - 1) * strides[d] * es;
      index[d] = 0;
    }
  }
}

// ---- writing ------------------------------------------------------------------

void append_le(std::string& out, std::uint64_t v, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::string serialize(const Tensor& tensor, const std::string& who) {
  const auto& shape = tensor.shape();
  if (shape.size() != tensor.strides().size() || (shape.empty() && tensor.numel() != 1) ||
      (tensor.numel() > 0 && tensor.data() == nullptr))
    fail(who, "cannot write an undefined (default-constructed) tensor");
  std::size_t esize = dtype_size(tensor.dtype());
  std::int64_t nbytes;
  if (__builtin_mul_overflow(tensor.numel(), static_cast<std::int64_t>(esize), &nbytes))
    fail(who, "tensor " + tensor.describe() + " is too large to write");

  // numpy.lib.format._write_array_header: sorted keys, repr() values, room
  // for the first axis to grow to 21 digits, then _wrap_header.
  std::string dict = "{'descr': '";
  dict += dtype_descr(tensor.dtype());
  dict += "', 'fortran_order': False, 'shape': (";
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d) dict += ", ";
    dict += std::to_string(shape[d]);
  }
  if (shape.size() == 1) dict += ",";
  dict += "), }";
  if (!shape.empty()) dict.append(kGrowthAxisMaxDigits - std::to_string(shape[0]).size(), ' ');

  std::size_t hlen = dict.size() + 1;  // + '\n'
  std::size_t length_bytes = 2;
  std::size_t pad = kArrayAlign - (kMagicLen + 2 + length_bytes + hlen) % kArrayAlign;
  if (hlen + pad > 0xffff) {  // does not fit version 1.0's uint16
    length_bytes = 4;
    pad = kArrayAlign - (kMagicLen + 2 + length_bytes + hlen) % kArrayAlign;
    if (hlen + pad > 0xffffffffu) fail(who, "header too large to write");
  }
  std::size_t header_total = kMagicLen + 2 + length_bytes + hlen + pad;
  if (static_cast<std::uint64_t>(nbytes) > std::string().max_size() - header_total)
    fail(who, "tensor " + tensor.describe() + " is too large to write");

  std::string out;
  out.reserve(header_total + static_cast<std::size_t>(nbytes));
  out.append(kMagic, kMagicLen);
  out += static_cast<char>(length_bytes == 2 ? 1 : 2);
  out += static_cast<char>(0);
  append_le(out, hlen + pad, length_bytes);
  out += dict;
  out.append(pad, ' ');
  out += '\n';

  std::size_t data_at = out.size();
  out.resize(data_at + static_cast<std::size_t>(nbytes));
  if (nbytes == 0) return out;
  if (tensor.is_contiguous())
    std::memcpy(out.data() + data_at, tensor.data(), static_cast<std::size_t>(nbytes));
  else
    gather(out.data() + data_at, static_cast<const char*>(tensor.data()), shape, tensor.strides(), tensor.numel(),
           esize, false);
  return out;
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

// ---- public API ---------------------------------------------------------------

Tensor parse_npy(std::string_view bytes, const std::string& name) {
  if (bytes.empty()) fail(name, "not a .npy file (the file is empty)");
  if (bytes.size() < kMagicLen || bytes.substr(0, kMagicLen) != std::string_view(kMagic, kMagicLen))
    fail(name, "not a .npy file (bad magic; expected \\x93NUMPY, found " + quote(bytes.substr(0, kMagicLen)) + ")");
  if (bytes.size() < kMagicLen + 2) fail(name, "truncated header (the file ends inside the format version)");
  auto major = static_cast<unsigned char>(bytes[6]);
  auto minor = static_cast<unsigned char>(bytes[7]);
  if (minor != 0 || major < 1 || major > 3)
    fail(name, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                   " (supported: 1.0, 2.0, 3.0)");
  std::size_t length_bytes = major == 1 ? 2 : 4;
  std::size_t header_at = kMagicLen + 2 + length_bytes;
  if (bytes.size() < header_at) fail(name, "truncated header (the file ends inside the header length)");
  std::uint64_t header_len = read_le(bytes, kMagicLen + 2, length_bytes);
  if (header_len > bytes.size() - header_at)
    fail(name, "truncated header: header length " + std::to_string(header_len) + " runs past the end of the file (" +
                   std::to_string(bytes.size() - header_at) + " bytes follow the header length)");
  std::string_view header = bytes.substr(header_at, static_cast<std::size_t>(header_len));
  std::string_view data = bytes.substr(header_at + static_cast<std::size_t>(header_len));

  // -- the dict
  HeaderParser parser(header, name);
  auto entries = parser.parse_dict_literal();
  const Value* descr_v = nullptr;
  const Value* fortran_v = nullptr;
  const Value* shape_v = nullptr;
  for (const auto& [key, value] : entries) {
    const Value** slot = key == "descr"           ? &descr_v
                         : key == "fortran_order" ? &fortran_v
                         : key == "shape"         ? &shape_v
                                                  : nullptr;
    if (!slot) fail(name, "malformed header: unexpected key " + quote(key) + " (expected descr, fortran_order, shape)");
    if (*slot) fail(name, "malformed header: duplicate key " + quote(key));
    *slot = &value;
  }
  if (!descr_v) fail(name, "malformed header: missing key 'descr'");
  if (!fortran_v) fail(name, "malformed header: missing key 'fortran_order'");
  if (!shape_v) fail(name, "malformed header: missing key 'shape'");

  // -- descr
  std::optional<Descr> descr;
  if (descr_v->kind == Value::kString) descr = descr_dtype(descr_v->text);
  if (!descr)
    fail(name, "unsupported dtype " + (descr_v->kind == Value::kString ? quote(descr_v->text) : quote(descr_v->raw)) +
                   " (supported: <f4 <f8 <f2 |i1 <i4, <u2 as bf16, and their big-endian forms)");
  // -- fortran_order
  if (fortran_v->kind != Value::kBool)
    fail(name, "malformed header: 'fortran_order' must be True or False, not " + quote(fortran_v->raw));
  bool fortran = fortran_v->flag;
  // -- shape
  if (shape_v->kind != Value::kTuple)
    fail(name, "malformed header: 'shape' must be a tuple such as (3, 4), (3,) or (), not " +
                   std::string(kind_name(shape_v->kind)) + " " + quote(shape_v->raw));
  std::vector<std::int64_t> shape;
  std::int64_t numel = 1;
  for (const Value& e : shape_v->items) {
    if (e.kind != Value::kInt) fail(name, "non-integer extent " + quote(e.raw) + " in shape " + quote(shape_v->raw));
    if (e.text[0] == '-' && e.text.find_first_not_of("-0") != std::string::npos)
      fail(name, "negative extent " + quote(e.raw) + " in shape " + quote(shape_v->raw));
    std::int64_t extent = 0;
    for (char c : e.text) {
      if (c == '-') continue;
      if (__builtin_mul_overflow(extent, std::int64_t{10}, &extent) ||
          __builtin_add_overflow(extent, std::int64_t{c - '0'}, &extent))
        fail(name, "extent " + quote(e.raw) + " in shape " + quote(shape_v->raw) + " overflows int64");
    }
    if (__builtin_mul_overflow(numel, extent, &numel))
      fail(name, "shape " + quote(shape_v->raw) + ": element count overflows int64");
    shape.push_back(extent);
  }
  std::size_t esize = dtype_size(descr->dtype);
  std::int64_t nbytes;
  if (__builtin_mul_overflow(numel, static_cast<std::int64_t>(esize), &nbytes))
    fail(name, "shape " + quote(shape_v->raw) + ": byte size overflows int64");

  // -- data: exactly nbytes must follow the header (checked before allocating)
  if (static_cast<std::uint64_t>(nbytes) != data.size())
    fail(name, std::string(static_cast<std::uint64_t>(nbytes) > data.size() ? "truncated data"
                                                                            : "trailing bytes after the data") +
                   ": expected " + std::to_string(nbytes) + " bytes of data, found " + std::to_string(data.size()));

  Tensor out = Tensor::zeros(descr->dtype, shape);
  bool swap = descr->big_endian && esize > 1;
  if (nbytes == 0) return out;
  if (!fortran && !swap) {
    std::memcpy(out.data(), data.data(), data.size());
  } else {
    // Fortran order is C order of the reversed shape: stride k is the
    // product of the extents before k. (No extent is 0 here: nbytes > 0.)
    std::vector<std::int64_t> strides;
    if (fortran) {
      strides = ir::contiguous_strides(std::vector<std::int64_t>(shape.rbegin(), shape.rend()));
      std::reverse(strides.begin(), strides.end());
    } else {
      strides = ir::contiguous_strides(shape);
    }
    gather(static_cast<char*>(out.data()), data.data(), shape, strides, numel, esize, swap);
  }
  return out;
}

Tensor read_npy(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open: " + errno_text(errno));
  std::string bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    bytes.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      fail(path, "cannot read: " + errno_text(err));
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return parse_npy(bytes, path);
}

std::string serialize_npy(const Tensor& tensor) { return serialize(tensor, "serialize_npy"); }

void write_npy(const std::string& path, const Tensor& tensor) {
  std::string image = serialize(tensor, path);
  try {
    runtime::write_file_atomically(path, image, {.temp_prefix = ".npy-tmp-", .flush = true});
  } catch (const runtime::FileWriteError& e) {
    fail(path, e.what());
  }
}

}  // namespace einc
