// Whole-file writes that never leave a half-written file behind (cold path: run outputs, reports).
#pragma once

#include <string>
#include <string_view>

namespace enigma {

// Writes `text` to `<path>.tmp-<pid>` in the same directory, closes it (checking every write and the
// close, so ENOSPC is seen), then renames it over `path`. On failure the temporary file is removed, `path`
// is left as it was, and enigma::Error names the path, the bytes that could not be written and errno
// ("No space left on device").
void write_file_atomic(const std::string& path, std::string_view text);

}  // namespace enigma
