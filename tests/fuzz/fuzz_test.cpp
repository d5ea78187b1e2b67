// tests/fuzz/fuzz_test.cpp — the bounded random-input test that always runs
// in CI (the coverage-guided libFuzzer target is parser_fuzz_target.cpp).
//
// About 20k inputs, deterministic (input #n is generated from a fixed seed
// and n alone, so any failure can be replayed), stopped after about 20 s.
// Inputs are the example and must-fail scripts mutated (byte flips,
// deletions, duplicated slices, splices of two scripts, tokens of the
// language, CRLF, BOM, NUL, other control and high bytes), token soup,
// small random but plausible scripts, and a few pathological shapes (deep
// nesting, long unary chains, 100k-term sums, control bytes everywhere).
// Every input goes through compile → dump_ir → report → every format
// (fuzz_input.h); the test asserts only the invariants listed there and that
// nothing crashes or hangs.
//
// Environment knobs (for replaying and soaking, not needed in CI):
//   EINC_FUZZ_INPUTS=N     number of random inputs (default 20000)
//   EINC_FUZZ_SECONDS=S    time bound of the random loop (default 20)
//   EINC_FUZZ_ONLY=n       run random input #n only and print it
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/fuzz/fuzz_input.h"

namespace {

using Clock = std::chrono::steady_clock;
using Rng = std::mt19937_64;

constexpr std::uint64_t kSeed = 0x65696e6366757a7aULL;  // "eincfuzz"
constexpr std::size_t kDefaultInputs = 20000;
constexpr double kDefaultSeconds = 20.0;
constexpr double kHangSeconds = 30.0;  // one input taking longer than this is a hang

// ---------------------------------------------------------------------------
// Crash and hang context: the input being run is saved to a file when the
// process dies on a signal or the watchdog fires, so the failure can be
// replayed with `einc check FILE`.

std::atomic<const std::string*> g_current{nullptr};
std::atomic<std::int64_t> g_current_started_ns{0};
char g_label[256] = "";
char g_crash_path[512] = "";

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void save_current_input(const char* why) {  // async-signal-safe
  const std::string* input = g_current.load();
  write_all(2, "\nfuzz_tests: ", 13);
  write_all(2, why, std::strlen(why));
  write_all(2, " on ", 4);
  write_all(2, g_label, std::strlen(g_label));
  if (input == nullptr || g_crash_path[0] == '\0') {
    write_all(2, "\n", 1);
    return;
  }
  int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    write_all(fd, input->data(), input->size());
    ::close(fd);
    write_all(2, "; input saved to ", 17);
    write_all(2, g_crash_path, std::strlen(g_crash_path));
  }
  write_all(2, "\n", 1);
}

void on_fatal_signal(int sig) {
  save_current_input(sig == SIGSEGV ? "SIGSEGV (stack overflow?)" : "fatal signal");
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_crash_handlers() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  std::string path = (std::filesystem::temp_directory_path() / "einc_fuzz_failing_input.ein").string();
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s", path.c_str());
  // An alternate stack, so a stack overflow still reaches the handler.
  static std::vector<char> alt_stack(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt_stack.data();
  ss.ss_size = alt_stack.size();
  ::sigaltstack(&ss, nullptr);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Fails the whole process (a hang cannot be interrupted in-process) when one
// input runs longer than kHangSeconds.
class Watchdog {
 public:
  Watchdog() : thread_([this] { loop(); }) {}
  ~Watchdog() {
    stop_ = true;
    thread_.join();
  }

 private:
  void loop() {
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::int64_t started = g_current_started_ns.load();
      if (started != 0 && now_ns() - started > static_cast<std::int64_t>(kHangSeconds * 1e9)) {
        save_current_input("HANG (no result after 30 s)");
        std::_Exit(3);
      }
    }
  }
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Runs one input under the crash handlers and the watchdog's clock.
einc_fuzz::Outcome guarded_run(const std::string& input, const std::string& label) {
  install_crash_handlers();
  static Watchdog watchdog;
  std::snprintf(g_label, sizeof g_label, "%s", label.c_str());
  g_current.store(&input);
  g_current_started_ns.store(now_ns());
  einc_fuzz::Outcome outcome = einc_fuzz::run_one(input);
  g_current_started_ns.store(0);
  g_current.store(nullptr);
  return outcome;
}

std::string describe_problems(const einc_fuzz::Outcome& outcome, const std::string& input) {
  std::string s;
  for (const std::string& p : outcome.problems) s += "  " + p + "\n";
  s += "  input (" + std::to_string(input.size()) + " bytes): \"" + einc_fuzz::escape(input) + "\"\n";
  return s;
}

// ---------------------------------------------------------------------------
// Input generation.

std::vector<std::string> load_corpus() {
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"/examples", "/tests/scripts/fail"}) {
    std::filesystem::path root = std::string(EINC_SOURCE_DIR) + dir;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec))
      if (entry.path().extension() == ".ein") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // a fixed order keeps the inputs deterministic
  std::vector<std::string> corpus;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    corpus.push_back(text.str());
  }
  // A few small scripts of our own, so every construct is present even if
  // the examples change.
  corpus.push_back("dim M = 4, K = 3, N = 2\ninput A[M, K]\ninput B[K, N]\nC[i, j] = A[i, k] * B[k, j]\noutput C\n");
  corpus.push_back("dim T\ninput X[T, T] : bf16\nd[i] = X[i, i]\nt = X[i, i]\ns = sum(i, j: X[i, j])\n");
  corpus.push_back(
      "dim B = 2, I = 3, J = 4\ninput x[B, I, J]\ny = einsum(\"...ij->...ji\", x)\n"
      "z = einsum(\"bij,bij\", x, x)\n");
  corpus.push_back(
      "dim D = 8, H = 2\ndim E = D / H, F = 4 * D\ninput X[D] : f16\nparam g[D] : f16\n"
      "N[d] = layernorm(d: X[d]) * g[d]\nP[d] = softmax(d: N[d]); M = max(d: N[d])\n"
      "Q[d] = pow(exp(N[d]), 2) / sqrt(E) + min(1.5, 2e-3)\noutput Q\n");
  corpus.push_back("input alpha\ninput v[]\nr = -alpha * +v - (alpha / 2)\n");
  corpus.push_back("dim N = 0\ninput A[N, N] : i8\nC[i, j] = A[i, k] * A[k, j]\nC[i, j] += A[i, j]\n");
  // Stray control bytes (in code, a comment, a string, a run of them) and a
  // syntax error beside a semantic one: the frontend's recovery paths.
  corpus.push_back("dim N = 4\ninput A[N]\nB[i] = A[i]\x1b * 2\noutput B\n");
  corpus.push_back(std::string("dim N = 4\ninput A[N]\nB[i] = A[i] * 2") + '\0' + "5\nC[i] = B[i]\noutput B, C\n");
  corpus.push_back(
      "dim N = 2 # \x07\ninput A[N, N]\nT = einsum(\"ij\x01->ji\", A)\n\x0c"
      "D[i] = \x1b\x1b\x7f"
      "A[i, i]\n");
  corpus.push_back(
      "dim N = 4, M = 5\ninput A[N], B[M]\nC[i] = A[i] @ 2\nD[i] = A[i] + B[i]\nE[i] = C[i] * 2\n"
      "dimm K = 3\ninput X[K], Y[N, 3\nZ[i] = X[i] + Y[i, 0]\noutput C, D, E, Z\n");
  return corpus;
}

const std::vector<std::string>& dictionary() {
  // A table, laid out by hand:
  // clang-format off
  static const std::vector<std::string> tokens = {
      "[", "]", "(", ")", ",", ";", ":", "=", "+=", "+", "-", "*", "/", "#", "\"", "einsum(", "dim", "input",
      "param", "output", "f32", "bf16", "f16", "f64", "i8", "i32", "sum(", "max(", "min(", "prod(", "mean(",
      "logsumexp(", "softmax(", "layernorm(", "rmsnorm(", "exp(", "log(", "sqrt(", "rsqrt(", "tanh(", "relu(",
      "gelu(", "silu(", "sigmoid(", "abs(", "pow(", "...", "->", "1e308", "99999999999999999999",
      "9223372036854775807", "9223372036854775808", "-9223372036854775808", "0", "1", "2e-3", "1.5", "1e",
      "1.", "i", "j", "k", "A", "B", "C", "M", "K", "N", "T", "x_1", "_", "i,", "[i, j]", "[M, K]",
      "\"ij,jk->ik\"", "\"ii->\"", "\"ii\"", "\"...i->i\"", "\"a->aa\"", "\"ab,bc\"", "\"", "\n", "\r\n", "\r",
      "\t", " ", "\xEF\xBB\xBF", std::string(1, '\0'), "\x1B", "\x7F", "\x0C", "\x01", "\xFF", "\x80",
      "\xC3\xA9", "\xE2\x82", "dim N = 0",
      "dim T", "input A[M, K]", "output C", "C[i, j] = ", " : f32", "+ b[f]", "max(j: ", ") * (", "[[", "]]"};
  // clang-format on
  return tokens;
}

std::size_t pick(Rng& rng, std::size_t n) {
  return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
}
bool chance(Rng& rng, double p) { return std::bernoulli_distribution(p)(rng); }
template <typename T>
const T& pick_of(Rng& rng, const std::vector<T>& v) {
  return v[pick(rng, v.size())];
}

// A small random script that is often valid or nearly so: it reaches sema
// and the cost model (shape conflicts, overflow, empty extents, dtypes).
std::string plausible_script(Rng& rng) {
  // Tables, laid out by hand:
  // clang-format off
  static const std::vector<std::string> dim_names = {"M", "K", "N", "T", "D", "H", "E"};
  static const std::vector<std::string> values = {
      "0", "1", "2", "3", "7", "64", "1024", "4096", "2147483648", "4294967296", "3037000500",
      "9223372036854775807", "99999999999999999999", "D / H", "4 * D", "(M + 1) * 2", "M - 5", "K / 0",
      "M / 3", "1.5", "-1"};
  static const std::vector<std::string> dtypes = {"", " : f32", " : f64", " : f16", " : bf16", " : i8", " : i32",
                                                  " : F32", " : int"};
  static const std::vector<std::string> tensors = {"A", "B", "C", "W", "x"};
  static const std::vector<std::string> indices = {"i", "j", "k", "l"};
  static const std::vector<std::string> unary = {"exp", "log", "sqrt", "rsqrt", "abs", "tanh", "sigmoid",
                                                 "relu", "gelu", "silu", "foo"};
  static const std::vector<std::string> reduce = {"sum", "max", "min", "prod", "mean", "logsumexp",
                                                  "softmax", "layernorm", "rmsnorm"};
  static const std::vector<std::string> subscripts = {"ij,jk->ik", "ij,jk", "ii->i", "ii", "ij->", "...ij->...ji",
                                                      "i,i", "ab,bc,cd->ad", "ij->jj", "i->", "iJ,Jk->ik",
                                                      "...,...->...", "ij,ij->ij", "i j , j k -> i k"};
  // clang-format on
  std::string s;
  std::size_t ndims = 1 + pick(rng, 5);
  for (std::size_t d = 0; d < ndims; ++d) {
    s += "dim " + dim_names[pick(rng, dim_names.size())];
    if (!chance(rng, 0.15)) s += " = " + pick_of(rng, values);
    s += "\n";
  }
  auto shape = [&] {
    std::string sh = "[";
    std::size_t rank = pick(rng, 4);
    for (std::size_t r = 0; r < rank; ++r) sh += (r ? ", " : "") + pick_of(rng, dim_names);
    return sh + "]";
  };
  std::size_t ntensors = 1 + pick(rng, 3);
  for (std::size_t t = 0; t < ntensors; ++t)
    s += std::string(chance(rng, 0.3) ? "param " : "input ") + tensors[t] + (chance(rng, 0.1) ? "" : shape()) +
         pick_of(rng, dtypes) + "\n";
  auto access = [&](const std::string& name) {
    std::string a = name + "[";
    std::size_t rank = pick(rng, 4);
    for (std::size_t r = 0; r < rank; ++r) a += (r ? ", " : "") + pick_of(rng, indices);
    return a + "]";
  };
  std::function<std::string(int)> expr = [&](int depth) -> std::string {
    std::size_t kind = depth <= 0 ? pick(rng, 3) : pick(rng, 8);
    switch (kind) {
      case 0:
        return access(tensors[pick(rng, ntensors)]);
      case 1:
        return chance(rng, 0.5) ? pick_of(rng, dim_names) : pick_of(rng, values);
      case 2:
        return access(tensors[pick(rng, ntensors)]) + " * " + access(tensors[pick(rng, ntensors)]);
      case 3:
        return pick_of(rng, unary) + "(" + expr(depth - 1) + ")";
      case 4:
        return pick_of(rng, reduce) + "(" + pick_of(rng, indices) + ": " + expr(depth - 1) + ")";
      case 5: {
        static const char* ops[] = {" + ", " - ", " * ", " / "};
        return expr(depth - 1) + ops[pick(rng, 4)] + expr(depth - 1);
      }
      case 6:
        return "(" + expr(depth - 1) + ")";
      default: {
        std::string e = "einsum(\"" + pick_of(rng, subscripts) + "\"";
        std::size_t n = pick(rng, 4);
        for (std::size_t i = 0; i < n; ++i) e += ", " + tensors[pick(rng, ntensors)];
        return e + ")";
      }
    }
  };
  std::size_t nstatements = 1 + pick(rng, 4);
  for (std::size_t st = 0; st < nstatements; ++st) {
    std::string target = "R" + std::to_string(st);
    s += (chance(rng, 0.2) ? target : access(target)) + (chance(rng, 0.1) ? " += " : " = ") +
         expr(static_cast<int>(pick(rng, 4))) + "\n";
  }
  if (chance(rng, 0.5)) s += "output R" + std::to_string(pick(rng, nstatements)) + "\n";
  return s;
}

std::string token_soup(Rng& rng) {
  static const std::vector<std::string> separators = {"", " ", " ", "\n", ";", ", "};
  std::string s;
  std::size_t n = 1 + pick(rng, 120);
  for (std::size_t i = 0; i < n; ++i) s += pick_of(rng, dictionary()) + pick_of(rng, separators);
  return s;
}

std::string random_bytes(Rng& rng, std::size_t max) {
  std::string s(1 + pick(rng, max), '\0');
  for (char& c : s) c = static_cast<char>(pick(rng, 256));
  return s;
}

// Applies one random mutation to `s` in place.
void mutate_once(std::string& s, Rng& rng, const std::vector<std::string>& corpus) {
  auto pos = [&] { return pick(rng, s.size() + 1); };
  auto slice = [&](std::size_t& begin, std::size_t& len) {
    begin = pick(rng, s.size() + 1);
    len = pick(rng, std::min<std::size_t>(s.size() - begin, 64) + 1);
  };
  std::size_t begin = 0, len = 0;
  switch (pick(rng, 16)) {
    case 0:  // flip a bit
      if (!s.empty()) s[pick(rng, s.size())] ^= static_cast<char>(1u << pick(rng, 8));
      break;
    case 1:  // overwrite a byte with any value
      if (!s.empty()) s[pick(rng, s.size())] = static_cast<char>(pick(rng, 256));
      break;
    case 2:  // delete a slice
      slice(begin, len);
      s.erase(begin, len);
      break;
    case 3: {  // duplicate a slice somewhere else
      slice(begin, len);
      std::string copy = s.substr(begin, len);
      std::size_t times = chance(rng, 0.1) ? 1 + pick(rng, 50) : 1;
      std::size_t at = pos();
      for (std::size_t t = 0; t < times; ++t) s.insert(at, copy);
      break;
    }
    case 4: {  // splice: a prefix of this and a suffix of another script
      const std::string& other = pick_of(rng, corpus);
      s = s.substr(0, pos()) + other.substr(pick(rng, other.size() + 1));
      break;
    }
    case 5:  // insert a token of the language
    case 6:
      s.insert(pos(), pick_of(rng, dictionary()));
      break;
    case 7: {  // replace a slice with a token
      slice(begin, len);
      s.replace(begin, len, pick_of(rng, dictionary()));
      break;
    }
    case 8: {  // CRLF line ends, everywhere or once
      if (chance(rng, 0.5)) {
        std::string out;
        for (char c : s) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
        s = out;
      } else {
        s.insert(pos(), "\r\n");
      }
      break;
    }
    case 9:  // a byte-order mark at the start, or misplaced
      s.insert(chance(rng, 0.7) ? 0 : pos(), "\xEF\xBB\xBF");
      break;
    case 10:  // NUL bytes
      s.insert(pos(), std::string(1 + pick(rng, 3), '\0'));
      break;
    case 11: {  // high bytes, valid and invalid UTF-8
      static const std::vector<std::string> high = {
          "\x80", "\xFF", "\xC3\xA9", "\xE2\x88\x91", "\xF0\x9F\x98\x80", "\xC0\xAF", "\xED\xA0\x80", "\xFE\xFE"};
      s.insert(pos(), pick_of(rng, high));
      break;
    }
    case 12: {  // swap two lines
      std::vector<std::string> lines;
      std::string line;
      for (char c : s) {
        line += c;
        if (c == '\n') lines.push_back(std::move(line)), line.clear();
      }
      if (!line.empty()) lines.push_back(line);
      if (lines.size() >= 2) std::swap(lines[pick(rng, lines.size())], lines[pick(rng, lines.size())]);
      s.clear();
      for (const std::string& l : lines) s += l;
      break;
    }
    case 13:  // truncate
      s.resize(pos());
      break;
    case 14:  // a random printable ASCII character
      s.insert(pos(), 1, static_cast<char>(0x20 + pick(rng, 0x5f)));
      break;
    default:  // a few random bytes
      s.insert(pos(), random_bytes(rng, 8));
      break;
  }
}

class Generator {
 public:
  explicit Generator(std::vector<std::string> corpus) : corpus_(std::move(corpus)) {}

  // Input #n depends only on kSeed and n.
  std::string make(std::uint64_t n) const {
    std::seed_seq seq{static_cast<std::uint32_t>(kSeed), static_cast<std::uint32_t>(kSeed >> 32),
                      static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n >> 32)};
    Rng rng(seq);
    std::size_t kind = pick(rng, 100);
    std::string s;
    if (kind < 65) {
      s = pick_of(rng, corpus_);  // a mutated example
    } else if (kind < 80) {
      s = plausible_script(rng);  // a mutated or intact plausible script
      if (chance(rng, 0.5)) return s;
    } else if (kind < 95) {
      return token_soup(rng);
    } else {
      return random_bytes(rng, 256);
    }
    std::size_t mutations = 1;
    while (mutations < 12 && chance(rng, 0.6)) ++mutations;
    for (std::size_t m = 0; m < mutations; ++m) mutate_once(s, rng, corpus_);
    return s;
  }

  const std::vector<std::string>& corpus() const { return corpus_; }

 private:
  std::vector<std::string> corpus_;
};

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

// ---------------------------------------------------------------------------
// Tests.

// The 1-based line of `needle`'s first occurrence in `text`.
int line_of(const std::string& text, const std::string& needle) {
  std::size_t at = text.find(needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

TEST(FuzzTest, CorpusScriptsCompile) {
  Generator generator(load_corpus());
  ASSERT_GE(generator.corpus().size(), 7u) << "examples/*.ein not found under " EINC_SOURCE_DIR;
  for (std::size_t i = 0; i < generator.corpus().size(); ++i) {
    const std::string& script = generator.corpus()[i];
    einc_fuzz::Outcome outcome = guarded_run(script, "corpus script #" + std::to_string(i));
    EXPECT_TRUE(outcome.problems.empty()) << describe_problems(outcome, script);
  }
}

TEST(FuzzTest, GeneratorIsDeterministic) {
  Generator generator(load_corpus());
  for (std::uint64_t n : {0ull, 1ull, 17ull, 12345ull}) EXPECT_EQ(generator.make(n), generator.make(n));
  EXPECT_NE(generator.make(1), generator.make(2));
}

TEST(FuzzTest, RandomInputs) {
  Generator generator(load_corpus());
  ASSERT_FALSE(generator.corpus().empty());
  const std::size_t inputs = env_size("EINC_FUZZ_INPUTS", kDefaultInputs);
  const double seconds = static_cast<double>(env_size("EINC_FUZZ_SECONDS", static_cast<std::size_t>(kDefaultSeconds)));
  const char* only = std::getenv("EINC_FUZZ_ONLY");

  std::size_t run = 0, compiled = 0, reported = 0, failures = 0;
  auto start = Clock::now();
  for (std::uint64_t n = 0; n < inputs; ++n) {
    if (only && *only && n != std::strtoull(only, nullptr, 10)) continue;
    if (std::chrono::duration<double>(Clock::now() - start).count() > seconds) break;
    std::string input = generator.make(n);
    if (only && *only) std::cout << "input #" << n << ": \"" << einc_fuzz::escape(input, 100000) << "\"\n";
    einc_fuzz::Outcome outcome = guarded_run(input, "random input #" + std::to_string(n));
    ++run;
    compiled += outcome.compiled;
    reported += outcome.reported;
    if (!outcome.problems.empty()) {
      ++failures;
      if (failures <= 10)
        ADD_FAILURE() << "random input #" << n << " (replay with EINC_FUZZ_ONLY=" << n << "):\n"
                      << describe_problems(outcome, input);
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "[ fuzz     ] " << run << " inputs in " << elapsed << " s: " << compiled << " compiled, " << reported
            << " reported, " << failures << " broke an invariant\n";
  EXPECT_EQ(failures, 0u);
  if (!(only && *only)) {
    EXPECT_GE(run, 1000u) << "too few inputs ran within the time bound";
  }
}

// ---------------------------------------------------------------------------
// Pathological inputs, one CTest test each (a crash ends only its own test).

struct Special {
  std::string name;                   // a valid GoogleTest name
  std::function<std::string()> make;  // the input
  std::string error_line_marker;      // if set: every positioned diagnostic is on this text's line
};

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// term op term op ... term, n terms.
std::string chain(const std::string& term, const std::string& op, int n) {
  std::string s = term;
  s.reserve(static_cast<std::size_t>(n) * (term.size() + op.size()));
  for (int i = 1; i < n; ++i) s += op + term;
  return s;
}

std::vector<Special> special_inputs() {
  std::vector<Special> v;
  for (int depth : {10, 63, 64, 65, 1000, 100000}) {
    std::string d = std::to_string(depth);
    v.push_back({"OpenParens" + d, [=] { return repeat("(", depth); }, ""});
    v.push_back({"OpenBrackets" + d, [=] { return repeat("[", depth); }, ""});
    v.push_back({"ParenthesizedName" + d, [=] { return repeat("(", depth) + "x" + repeat(")", depth); }, ""});
    const std::string prefix = "dim N = 4\ninput a[N]\n";
    struct Nesting {
      std::string open, close, what;
    };
    for (const Nesting& nest : {Nesting{"(", ")", "Parens"}, Nesting{"exp(", ")", "Calls"},
                                Nesting{"sum(i: ", ")", "Reductions"}, Nesting{"([", "])", "MixedBrackets"}}) {
      v.push_back({"Nested" + nest.what + d,
                   [=] {
                     return prefix + "y[i] = " + repeat(nest.open, depth) + "a[i]" + repeat(nest.close, depth) +
                            "\noutput y\n";
                   },
                   "y[i] ="});
    }
    v.push_back({"NestedDimExpr" + d, [=] { return "dim N = " + repeat("(", depth) + "1" + repeat(")", depth) + "\n"; },
                 "dim N"});
    v.push_back({"NestedShapeExpr" + d,
                 [=] { return "dim N = 2\ninput a[" + repeat("(", depth) + "N" + repeat(")", depth) + "]\n"; },
                 "input a"});
  }
  for (int n : {10, 1000, 100000}) {
    std::string d = std::to_string(n);
    v.push_back({"MinusChainAlone" + d, [=] { return repeat("-", n) + "x"; }, ""});
    v.push_back({"MinusChainScalar" + d, [=] { return "input x\ny = " + repeat("-", n) + "x\n"; }, ""});
    v.push_back({"PlusMinusChain" + d, [=] { return "input x[]\ny = " + repeat("+-", n / 2) + "x\n"; }, ""});
    v.push_back({"MinusChainDim" + d, [=] { return "dim N = " + repeat("-", n) + "3\n"; }, ""});
  }
  for (int n : {1000, 100000}) {
    std::string d = std::to_string(n);
    v.push_back({"SumAlone" + d, [=] { return chain("a", "+", n); }, ""});
    v.push_back({"SumScalar" + d, [=] { return "input a\ny = " + chain("a", "+", n) + "\noutput y\n"; }, ""});
    v.push_back(
        {"SumIndexed" + d, [=] { return "dim N = 2\ninput a[N]\ny[i] = " + chain("a[i]", " + ", n) + "\n"; }, ""});
    v.push_back({"ProductScalar" + d, [=] { return "input a\ny = " + chain("a", "*", n) + "\n"; }, ""});
    v.push_back({"MixedScalar" + d,
                 [=] { return "input a\ny = " + chain("a", "-", n) + " / " + chain("a", "/", n) + "\n"; }, ""});
    v.push_back({"NumberSum" + d, [=] { return "input a\ny = a + " + chain("1", "+", n) + "\n"; }, ""});
    v.push_back({"DimSum" + d, [=] { return "dim N = " + chain("1", "+", n) + "\n"; }, ""});
    v.push_back({"DimProductOverflows" + d, [=] { return "dim N = " + chain("2", "*", n) + "\n"; }, ""});
    v.push_back({"ShapeSum" + d, [=] { return "input a[" + chain("1", "+", n) + "]\n"; }, ""});
    v.push_back({"ManyDimStatements" + d, [=] { return chain("dim N = 1", ";", n); }, ""});
    v.push_back({"ManyOutputs" + d, [=] { return "input a\noutput " + chain("a", ", ", n) + "\n"; }, ""});
    v.push_back(
        {"ManyEinsumOperands" + d, [=] { return "input a\ny = einsum(\"\", " + chain("a", ", ", n) + ")\n"; }, ""});
  }
  // A product of many tensors is one contraction: the search for a pairwise
  // order must stay bounded (fall back to a cheap heuristic) for long ones.
  for (int n : {16, 64, 300, 2000}) {
    std::string d = std::to_string(n);
    v.push_back(
        {"SharedIndexProduct" + d, [=] { return "dim N = 2\ninput a[N]\ny = " + chain("a[i]", " * ", n) + "\n"; }, ""});
    v.push_back({"MatrixChain" + d,
                 [=] {
                   // x0, x1, ...: not i0, i1, ... (i8 and i32 are dtype keywords).
                   std::string t = "dim N = 2\ninput a[N, N]\ny[x0, x" + std::to_string(n) + "] = a[x0, x1]";
                   for (int i = 1; i < n; ++i) t += " * a[x" + std::to_string(i) + ", x" + std::to_string(i + 1) + "]";
                   return t + "\n";
                 },
                 ""});
    v.push_back({"EinsumChain" + d,
                 [=] {
                   std::string subs, ops;
                   for (int i = 0; i < n; ++i) {
                     subs += std::string(i ? "," : "") + static_cast<char>('a' + i % 26) +
                             static_cast<char>('a' + (i + 1) % 26);
                     ops += ", a";
                   }
                   return "dim N = 2\ninput a[N, N]\ny = einsum(\"" + subs + "\"" + ops + ")\n";
                 },
                 ""});
  }
  v.push_back({"LongIdentifier", [] { return "dim " + std::string(100000, 'N') + " = 1\n"; }, ""});
  v.push_back({"LongNumber", [] { return "dim N = " + std::string(100000, '9') + "\n"; }, ""});
  v.push_back({"LongReal",
               [] { return "input a\ny = a * 1." + std::string(100000, '0') + "1e" + std::string(1000, '9') + "\n"; },
               ""});
  v.push_back(
      {"LongEinsumLabels", [] { return "input a\ny = einsum(\"" + std::string(100000, 'i') + "\", a)\n"; }, ""});
  v.push_back({"LongEinsumDots", [] { return "input a\ny = einsum(\"" + std::string(100000, '.') + "\", a)\n"; }, ""});
  v.push_back({"UnterminatedLongString", [] { return "\"" + std::string(100000, 'x'); }, ""});
  v.push_back({"ManyNewlines", [] { return std::string(100000, '\n') + "x"; }, ""});
  v.push_back({"ManySemicolons", [] { return std::string(100000, ';'); }, ""});
  v.push_back({"ManyHashes", [] { return std::string(100000, '#'); }, ""});
  v.push_back({"ManyNuls", [] { return std::string(100000, '\0'); }, ""});
  v.push_back({"ManyHighBytes", [] { return std::string(100000, '\xFF'); }, ""});
  v.push_back({"ManyEscapes", [] { return std::string(100000, '\x1B'); }, ""});
  v.push_back({"NulBetweenEveryName", [] { return repeat(std::string("a\0", 2), 50000); }, ""});
  v.push_back({"EscapeOnEveryLine", [] { return repeat("dim N = 1\x1B\n", 20000); }, ""});
  v.push_back({"ControlBytesInOneStatement",
               [] { return "dim N = 4\ninput a[N]\ny[i] = a[i]\x1B * \x7F" + std::string(1, '\0') + "2\noutput y\n"; },
               "y[i] ="});
  v.push_back({"SyntaxErrorOnEveryOtherLine",
               [] { return "dim N = 4\ninput a[N]\n" + repeat("b[i] = a[i] @\nc[i] = b[i] + a[i, i]\nd[i] = a[i, i]\n", 10000); }, ""});
  v.push_back({"ManyDims",
               [] {
                 std::string s;
                 for (int i = 0; i < 20000; ++i) s += "dim D" + std::to_string(i) + " = " + std::to_string(i) + "\n";
                 return s;
               },
               ""});
  v.push_back({"Rank200Tensor", [] { return "dim N = 2\ninput a[" + chain("N", ", ", 200) + "]\ny = a[i]\n"; }, ""});
  v.push_back({"Rank60Contraction",
               [] {
                 std::string idx = "i0";
                 for (int i = 1; i < 60; ++i) idx += ", i" + std::to_string(i);
                 return "dim N = 2\ninput a[" + chain("N", ", ", 60) + "]\ny = a[" + idx + "] * a[" + idx + "]\n";
               },
               ""});
  return v;
}

// Names the parameter in test output and in CTest names (the default would
// print the object's bytes, pointers included).
void PrintTo(const Special& special, std::ostream* os) { *os << special.name; }

#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlowdown = 6.0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr double kSlowdown = 6.0;
#else
constexpr double kSlowdown = 1.0;
#endif
#else
constexpr double kSlowdown = 1.0;
#endif

class SpecialInputTest : public ::testing::TestWithParam<Special> {};

TEST_P(SpecialInputTest, NoCrashNoHang) {
  const Special& special = GetParam();
  const std::string input = special.make();
  auto start = Clock::now();
  einc_fuzz::Outcome outcome = guarded_run(input, special.name);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(outcome.problems.empty()) << describe_problems(outcome, input);
  // "never hangs": a hand-made input of a few hundred kB must not take long
  // (sanitizer builds run several times slower).
  EXPECT_LT(seconds, 10.0 * kSlowdown) << "took " << seconds << " s";
  if (!special.error_line_marker.empty() && !outcome.compiled) {
    // Any error is reported at the line that holds the construct.
    einc::CompileOptions options;
    options.filename = einc_fuzz::kFuzzFileName;
    try {
      (void)einc::compile(input, options);
    } catch (const einc::CompileError& e) {
      for (const einc::Diagnostic& diag : e.diagnostics()) {
        if (diag.line != 0) {
          EXPECT_EQ(diag.line, line_of(input, special.error_line_marker)) << diag.rendered;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Pathological, SpecialInputTest, ::testing::ValuesIn(special_inputs()),
                         [](const ::testing::TestParamInfo<Special>& param_info) { return param_info.param.name; });

}  // namespace
