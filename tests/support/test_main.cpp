// The main of every test suite, in place of GoogleTest's: each run gets a scratch directory of its own,
// handed to the tests as ::testing::TempDir() (GoogleTest reads TEST_TMPDIR), and removed when the run
// passes. Without it every run left its files in /tmp (one engine_backtest_test run writes ~290 MB) and
// repeated runs filled the disk. A failed run keeps them and says where; ENIGMA_KEEP_TEST_FILES=1 keeps
// them always.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  namespace fs = std::filesystem;
  const char* outer = std::getenv("TEST_TMPDIR");
  const fs::path base = outer != nullptr && *outer != '\0' ? fs::path(outer) : fs::temp_directory_path();
  const fs::path dir = base / ("enigma-test-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "test scratch directory %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  ::setenv("TEST_TMPDIR", dir.c_str(), 1);
  const int rc = RUN_ALL_TESTS();
  const char* keep = std::getenv("ENIGMA_KEEP_TEST_FILES");
  if (rc == 0 && (keep == nullptr || std::string(keep) != "1")) {
    fs::remove_all(dir, ec);
  } else {
    std::fprintf(stderr, "test files kept in %s\n", dir.c_str());
  }
  return rc;
}
