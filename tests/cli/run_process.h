// tests/cli/run_process.h — run a program (fork + execv) with stdin from
// /dev/null and capture its stdout, stderr and exit status separately.
// A run that outlives its timeout is killed and reported as timed out; one
// may be sent SIGINT (a Ctrl-C) a given time after it starts.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace einc_test {

struct ProcessResult {
  int exit_code = -1;  // -1 unless the process exited normally
  int signal = 0;      // the signal that ended it, 0 if none
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs `program` with `args` (argv[1...]) in `working_dir` (unchanged when
// empty), sending it SIGINT after `interrupt_after_seconds` when that is
// not negative. Throws std::runtime_error only if the process cannot be
// started.
inline ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                                 const std::string& working_dir = "", double timeout_seconds = 60.0,
                                 double interrupt_after_seconds = -1) {
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
  if (::pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");

  std::vector<std::string> storage;
  storage.push_back(program);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    if (!working_dir.empty() && ::chdir(working_dir.c_str()) != 0) ::_exit(126);
    // SIGINT's default action, as from an interactive shell, even where this
    // process ignores it (a background job's): the child inherits that.
    if (interrupt_after_seconds >= 0) ::signal(SIGINT, SIG_DFL);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  ProcessResult result;
  const auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration<double>(timeout_seconds);
  auto interrupt_at = start + std::chrono::duration<double>(interrupt_after_seconds);
  bool interrupt = interrupt_after_seconds >= 0;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    auto now = std::chrono::steady_clock::now();
    if (interrupt && now >= interrupt_at) {
      ::kill(pid, SIGINT);
      interrupt = false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (interrupt)
      left = std::min(left, std::chrono::duration_cast<std::chrono::milliseconds>(interrupt_at - now) +
                                std::chrono::milliseconds(1));
    int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds)
    if (p.fd >= 0) ::close(p.fd);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

}  // namespace einc_test
