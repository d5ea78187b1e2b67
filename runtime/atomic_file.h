// runtime/atomic_file.h — replacing a file whole: a reader (another process
// included) finds the old file or the complete new one, never a part, and a
// failed write leaves nothing behind.
//
// Why one place: write_npy (einc/npy.h) and the kernel cache's disk entries
// (runtime/kernel_cache.h) both replace files that another process may be
// reading or writing at the same moment; one careful implementation serves
// both.
//
// How: the bytes go to a fresh file in the target's directory, named
// `<temp_prefix><pid>-<n>-<clock bits>` and created with O_EXCL (mode 0666
// less the umask), are written in full (EINTR retried), optionally fsync'd,
// and the file is rename()d over the target, which POSIX makes atomic
// within a directory. The directory itself is not fsync'd.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace einc::runtime {

// What failed, without the path: "cannot write: No space left on device".
class FileWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AtomicWrite {
  std::string temp_prefix;  // start of the temporary's name, e.g. ".npy-tmp-"
  bool flush = true;        // fsync before the rename (not needed where readers verify a checksum)
};

// Writes `bytes` to `path` as described above. On any failure removes the
// temporary, leaves `path` as it was and throws FileWriteError.
void write_file_atomically(const std::string& path, std::string_view bytes, const AtomicWrite& how);

}  // namespace einc::runtime
