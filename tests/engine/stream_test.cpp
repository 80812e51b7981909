// Streaming replay (issue 13 item 3), through the `enigma` binary: every bundled Binance capture replayed in
// one run reads, inflates and merges the files on a reader thread into a fixed set of frame batches, so
// the child's peak RSS (wait4 ru_maxrss) stays near what a replay of a tiny capture needs, instead of
// holding every decompressed file and every frame (the whole-file reader peaked at ~187 MB here).
// The merge loses no frame: the merged run's frame count equals the lines of the hftbacktest files
// (each line one frame), counted by zcat.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <fstream>
#include <iterator>
#include <vector>

#include "feed/capture_reader.hpp"

namespace {

const std::string kSrc = ENIGMA_SOURCE_DIR;

struct ChildRun {
  int code{-1};
  long peak_kib{0};
  std::string out;
};

// Runs the binary with `args`, its output into a file; peak RSS from wait4 (the child's own, not ours).
ChildRun enigma(const std::vector<std::string>& args, const std::string& out_path) {
  std::vector<std::string> argv_s{ENIGMA_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);  // else the child inherits (and prints again) what is buffered
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(out_path.c_str(), "w", stdout);
    if (f) dup2(fileno(stdout), 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ChildRun r;
  int st = 0;
  rusage ru{};
  if (wait4(pid, &st, 0, &ru) == pid && WIFEXITED(st)) r.code = WEXITSTATUS(st);
  r.peak_kib = ru.ru_maxrss;
  FILE* f = std::fopen(out_path.c_str(), "r");
  std::array<char, 4096> buf;
  while (f && !std::feof(f)) r.out.append(buf.data(), std::fread(buf.data(), 1, buf.size(), f));
  if (f) std::fclose(f);
  return r;
}

long long frames_of(const std::string& out) {
  const std::size_t p = out.find("  frames ");
  return p == std::string::npos ? -1 : std::stoll(out.substr(p + 9));
}

long long zcat_lines(const std::string& files) {
  FILE* p = popen(("zcat " + files + " | wc -l").c_str(), "r");
  long long n = -1;
  if (p && std::fscanf(p, "%lld", &n) != 1) n = -1;
  if (p) pclose(p);
  return n;
}

TEST(EngineStream, AllBinanceCapturesInOneRunStayInBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer's shadow memory and free-quarantine change the resident size; the bound is the release build's.
  GTEST_SKIP() << "peak-RSS bound is checked in the release build";
#endif
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("enigma_stream_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string bin = kSrc + "/data/binance/";
  // The smallest capture (265 frames): what the engine itself needs, whatever the input.
  const ChildRun tiny = enigma({"replay", "--quiet", "--runs-dir", dir.string(), "--data",
                           bin + "cryptofeed_spot_ws_depth100ms_bookTicker_kline_aggTrade_4sym_20211012.raw.txt.gz"},
                          (dir / "tiny.txt").string());
  ASSERT_EQ(tiny.code, 0) << tiny.out;
  // Every bundled Binance capture, one run per venue kind (a spot capture decoded as USD-M is decode
  // errors, so "all captures" is two runs: the four USD-M files, then the four spot files, each with its
  // --venue). Each stays under the 64 MB peak RSS.
  long long frames_total = 0;
  for (const std::string kind : {"usdm", "spot"}) {
    std::vector<std::string> args{"replay", "--quiet", "--runs-dir", dir.string(), "--venue", "binance-" + kind};
    for (const auto& e : std::filesystem::directory_iterator(bin))
      if (e.path().extension() == ".gz" && e.path().filename().string().find("_" + kind + "_") != std::string::npos) {
        args.push_back("--data");
        args.push_back(e.path().string());
      }
    ASSERT_EQ(args.size(), 6u + 2 * 4u) << "the bundled Binance " << kind << " captures changed";
    const ChildRun big = enigma(args, (dir / (kind + ".txt")).string());
    ASSERT_EQ(big.code, 0) << big.out;
    EXPECT_NE(big.out.find("decode errors 0 "), std::string::npos) << big.out;
    frames_total += frames_of(big.out);
    std::printf("peak RSS: tiny capture %ld KiB, all 4 Binance %s captures %ld KiB\n", tiny.peak_kib, kind.c_str(), big.peak_kib);
    EXPECT_LT(big.peak_kib, 64'000'000 / 1024) << kind << ": the issue's bound is 64 MB peak RSS";
    // Streaming costs per file a 256 KiB read buffer and window, plus 4 x 1 MiB batches; the books of the
    // extra instruments come on top. Holding the input (as before) added ~130 MB.
    EXPECT_LT(big.peak_kib - tiny.peak_kib, 40 * 1024) << "tiny " << tiny.peak_kib << " KiB, " << kind << " " << big.peak_kib << " KiB";
  }
  EXPECT_GT(frames_total, 260'000);  // ~57 MB of decompressed text, 269,991 market-data frames

  // The k-way merge of the four hftbacktest files (every line a frame) keeps every frame.
  std::vector<std::string> hft{"replay", "--quiet", "--runs-dir", dir.string(), "--data"};
  std::string hft_files;
  for (const auto& e : std::filesystem::directory_iterator(bin))
    if (e.path().filename().string().starts_with("hftbacktest_")) {
      hft.push_back(e.path().string());
      hft_files += "'" + e.path().string() + "' ";
    }
  const ChildRun merged = enigma(hft, (dir / "hft.txt").string());
  ASSERT_EQ(merged.code, 0) << merged.out;
  EXPECT_EQ(frames_of(merged.out), zcat_lines(hft_files)) << merged.out;
  std::filesystem::remove_all(dir);
}

// The streaming reader (a window inflated as it goes, ISA-L or zlib) yields exactly the frames of the
// whole-file reader, for every bundled Binance capture, a gzip cut short in the middle (its good part) and
// two gzip members back to back.
void expect_same_frames(const std::string& path) {
  enigma::feed::CaptureReader whole(path);
  enigma::feed::CaptureReader streamed(path, enigma::feed::CaptureReadOptions{.streaming = true});
  EXPECT_EQ(whole.format(), streamed.format()) << path;
  enigma::feed::CapturedFrame a, b;
  std::size_t n = 0;
  for (;; ++n) {
    const bool ha = whole.next(a), hb = streamed.next(b);
    ASSERT_EQ(ha, hb) << path << " frame " << n;
    if (!ha) break;
    ASSERT_EQ(a.recv_ns, b.recv_ns) << path << " frame " << n;
    ASSERT_EQ(a.kind, b.kind) << path << " frame " << n;
    ASSERT_EQ(a.url, b.url) << path << " frame " << n;
    ASSERT_EQ(a.payload, b.payload) << path << " frame " << n;
    ASSERT_EQ(a.line_no, b.line_no) << path << " frame " << n;
    ASSERT_GE(b.padded_capacity, b.payload.size() + enigma::feed::CaptureReader::kPadding);
  }
  EXPECT_GT(n, 0u) << path;
  EXPECT_EQ(whole.damaged(), streamed.damaged()) << path;
}

TEST(EngineStream, StreamingReaderYieldsTheWholeFileReadersFrames) {
  for (const auto& e : std::filesystem::directory_iterator(kSrc + "/data/binance/"))
    if (e.path().extension() == ".gz") expect_same_frames(e.path().string());
  // Cut in the middle of the stream: both keep the complete lines before the cut.
  std::ifstream in(kSrc + "/data/binance/hftbacktest_spot_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string cut = (std::filesystem::temp_directory_path() / ("enigma_stream_cut_" + std::to_string(getpid()) + ".gz")).string();
  std::ofstream(cut, std::ios::binary) << raw.substr(0, raw.size() / 2);
  expect_same_frames(cut);
  // Two gzip members back to back (concatenated captures): both read, in order.
  std::ofstream(cut, std::ios::binary) << raw << raw;
  expect_same_frames(cut);
  std::filesystem::remove(cut);
}

}  // namespace
