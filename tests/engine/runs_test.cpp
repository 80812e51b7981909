// The `enigma` binary's run lifecycle, driven as a process: run directories that two simultaneous runs
// never share, `latest` moved only by a run that set up, interruptions (SIGTERM/SIGINT) that say so in the
// summary and the exit status, SIGUSR1 status lines, SIGHUP log reopening, recorded-pace replays that
// honour SIGTERM inside a long gap, and runtime errors that reach the run's log.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "feed/capture_reader.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"

namespace fs = std::filesystem;
using enigma::testing::Child;
using enigma::testing::slurp;
using enigma::testing::wait_for;

namespace {

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kConfig = kSrc + "/config/replay.toml";

// A fresh, empty runs folder for one test.
std::string fresh_runs(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/enigma-runs-" + name + "-" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}


std::vector<std::string> replay_args(const std::string& runs, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a{"replay", "--quiet", "--config", kConfig, "--runs-dir", runs};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// The one run directory under `runs` (not the `latest` link).
std::vector<fs::path> run_dirs(const std::string& runs) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(runs))
    if (e.is_directory() && !e.is_symlink()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The unsigned number after `"key": ` in a summary.json text (-1 when absent or null).
long long json_number(const std::string& json, const std::string& key) {
  const auto p = json.find("\"" + key + "\": ");
  if (p == std::string::npos) return -1;
  const std::string rest = json.substr(p + key.size() + 4);
  if (rest.empty() || !std::isdigit(static_cast<unsigned char>(rest[0]))) return -1;
  return std::stoll(rest);
}

// Waits until the child's run log says the replay started (set-up done, signal handlers installed).
fs::path wait_for_run_start(const std::string& runs) {
  fs::path log;
  EXPECT_TRUE(wait_for(
      [&] {
        std::error_code ec;
        const fs::path l = fs::path(runs) / "latest" / "logs" / "enigma.log";
        if (!fs::exists(l, ec) || slurp(l).find("replay start") == std::string::npos) return false;
        log = fs::canonical(l);
        return true;
      },
      30000));
  return log;
}

}  // namespace

TEST(EngineRuns, TwoReplaysStartedTogetherGetTheirOwnRunDirectories) {
  const std::string runs = fresh_runs("pair");
  // Occupy the timestamp names of the next seconds, so both runs must take the collision path (a `-N`
  // suffix) whatever second they start in.
  std::vector<std::string> taken;
  const std::time_t now = std::time(nullptr);
  for (std::time_t t = now; t < now + 20; ++t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    taken.push_back(runs + "/" + stamp);
    fs::create_directory(taken.back());
  }
  const std::string data = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";
  Child a(replay_args(runs, {"--data", data}), runs + "/../pair-a.out");
  Child b(replay_args(runs, {"--data", data}), runs + "/../pair-b.out");
  ASSERT_EQ(a.wait(), 0) << a.output();
  ASSERT_EQ(b.wait(), 0) << b.output();
  for (const auto& t : taken) fs::remove(t);  // empty: nobody wrote into an occupied name
  const std::vector<fs::path> dirs = run_dirs(runs);
  ASSERT_EQ(dirs.size(), 2u);
  for (const auto& d : dirs) {
    EXPECT_NE(d.filename().string().find('-'), std::string::npos) << d;  // took a suffix
    const std::string summary = slurp(d / "summary.json");
    EXPECT_EQ(json_number(summary, "frames"), 93954) << d;  // its own complete run, not half of two
    EXPECT_TRUE(fs::exists(d / "journal.bin")) << d;
    const std::string log = slurp(d / "logs" / "enigma.log");
    std::size_t starts = 0;
    for (auto p = log.find("replay start"); p != std::string::npos; p = log.find("replay start", p + 1)) ++starts;
    EXPECT_EQ(starts, 1u) << d;  // one run's log only
  }
  EXPECT_EQ(slurp(dirs[0] / "trades.csv"), slurp(dirs[1] / "trades.csv"));  // same input: same trades
  EXPECT_TRUE(fs::exists(fs::path(runs) / "latest" / "summary.json"));
}

TEST(EngineRuns, SigtermMidReplayReportsAnInterruptedRunAndExits143) {
  const std::string runs = fresh_runs("term");
  Child c(replay_args(runs, {"--speed", "recorded"}), runs + "/../term.out");
  wait_for_run_start(runs);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // some frames in (the session lasts 6 minutes)
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  ASSERT_EQ(c.wait(), 143) << c.output();
  const std::string summary = slurp(fs::path(runs) / "latest" / "summary.json");
  EXPECT_NE(summary.find("\"interrupted\": \"SIGTERM\""), std::string::npos) << summary;
  EXPECT_EQ(json_number(summary, "frames_in_input"), 93954) << summary;
  const long long frames = json_number(summary, "frames");
  EXPECT_GT(frames, 0) << summary;
  EXPECT_LT(frames, 93954) << summary;
  EXPECT_NE(c.output().find("INTERRUPTED by SIGTERM"), std::string::npos) << c.output();
}

TEST(EngineRuns, SigintIsReportedAndExits130) {
  const std::string runs = fresh_runs("int");
  Child c(replay_args(runs, {"--speed", "recorded"}), runs + "/../int.out");
  wait_for_run_start(runs);
  ASSERT_EQ(::kill(c.pid, SIGINT), 0);
  ASSERT_EQ(c.wait(), 130) << c.output();
  const std::string summary = slurp(fs::path(runs) / "latest" / "summary.json");
  EXPECT_NE(summary.find("\"interrupted\": \"SIGINT\""), std::string::npos) << summary;
  EXPECT_LT(json_number(summary, "frames"), 93954) << summary;
}

TEST(EngineRuns, CompleteReplaySaysNotInterrupted) {
  const std::string runs = fresh_runs("full");
  Child c(replay_args(runs), runs + "/../full.out");
  ASSERT_EQ(c.wait(), 0) << c.output();
  const std::string summary = slurp(fs::path(runs) / "latest" / "summary.json");
  EXPECT_NE(summary.find("\"interrupted\": null"), std::string::npos) << summary;
  EXPECT_EQ(json_number(summary, "frames"), 93954);
  EXPECT_EQ(json_number(summary, "frames_in_input"), 93954);
  EXPECT_EQ(c.output().find("INTERRUPTED"), std::string::npos);
}

TEST(EngineRuns, Sigusr1WritesAStatusLineAndTheRunGoesOn) {
  const std::string runs = fresh_runs("usr1");
  Child c(replay_args(runs, {"--speed", "recorded"}), runs + "/../usr1.out");
  const fs::path log = wait_for_run_start(runs);
  ASSERT_EQ(::kill(c.pid, SIGUSR1), 0);
  ASSERT_TRUE(wait_for([&] { return c.output().find("enigma status: frames ") != std::string::npos; }, 10000))
      << c.output();
  ASSERT_TRUE(wait_for([&] { return slurp(log).find("status: frames ") != std::string::npos; }, 10000)) << slurp(log);
  // Still running after the status line: a later SIGTERM ends it with the interrupted summary.
  const std::string out = c.output();
  const long long at_status = std::stoll(out.substr(out.find("enigma status: frames ") + 22));
  // A streaming replay does not know the input's total ahead: frames done, then the order counts.
  EXPECT_NE(out.find("enigma status: frames " + std::to_string(at_status) + " orders "), std::string::npos) << out;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  ASSERT_EQ(c.wait(), 143) << c.output();
  const long long frames = json_number(slurp(fs::path(runs) / "latest" / "summary.json"), "frames");
  EXPECT_GT(frames, at_status);  // frames kept flowing after the status line
}

TEST(EngineRuns, SighupReopensTheLogFileAndTheRunGoesOn) {
  const std::string runs = fresh_runs("hup");
  Child c(replay_args(runs, {"--speed", "recorded"}), runs + "/../hup.out");
  const fs::path log = wait_for_run_start(runs);
  // What logrotate does: move the file away, then SIGHUP.
  const fs::path rotated = log.string() + ".rotated";
  fs::rename(log, rotated);
  ASSERT_EQ(::kill(c.pid, SIGHUP), 0);
  ASSERT_TRUE(wait_for([&] { return slurp(log).find("SIGHUP: log file reopened") != std::string::npos; }, 10000))
      << c.output();
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  ASSERT_EQ(c.wait(), 143) << c.output();  // it was still running: SIGHUP did not end it
  const std::string fresh = slurp(log);
  EXPECT_NE(fresh.find("run done"), std::string::npos) << fresh;  // later lines go to the new file
  const std::string old = slurp(rotated);
  EXPECT_NE(old.find("replay start"), std::string::npos);
  EXPECT_EQ(old.find("run done"), std::string::npos) << old;
}

TEST(EngineRuns, SigtermInsideALongRecordedGapEndsTheRunPromptly) {
  // 100 frames of the bundled session, then 100 more shifted 30 s later: at recorded pace the replay
  // waits 30 s between them.
  const std::string runs = fresh_runs("gap");
  const std::string capture = runs + "/../gap-capture.txt";
  {
    enigma::feed::CaptureReader reader(enigma::testing::kBinanceSession);
    enigma::feed::CapturedFrame f;
    std::ofstream out(capture);
    for (int n = 0; n < 200 && reader.next(f); ++n)
      out << f.recv_ns + (n >= 100 ? 30'000'000'000LL : 0) << ' ' << f.payload << '\n';
  }
  Child c(replay_args(runs, {"--speed", "recorded", "--data", capture}), runs + "/../gap.out");
  wait_for_run_start(runs);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the first 100 frames span < 0.5 s
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  const int code = c.wait();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(code, 143) << c.output();
  EXPECT_LT(seconds, 2.0);  // not the 28 s left of the gap
  const std::string summary = slurp(fs::path(runs) / "latest" / "summary.json");
  EXPECT_EQ(json_number(summary, "frames"), 100) << summary;  // stopped inside the gap
  EXPECT_EQ(json_number(summary, "frames_in_input"), 200) << summary;
}

TEST(EngineRuns, RuntimeErrorIsWrittenToTheRunLog) {
  const std::string runs = fresh_runs("err");
  // A capture whose second line is damaged, read with --strict: the replay's set-up succeeds, then reading
  // fails (exit 3) instead of skipping the line.
  const std::string capture = runs + "/../err-capture.txt";
  std::ofstream(capture) << "1723161255030314667 {\"stream\":\"btcusdt@depth@0ms\"}\n17231612x5 {}\n";
  Child c(replay_args(runs, {"--data", capture, "--strict"}), runs + "/../err.out");
  ASSERT_EQ(c.wait(), 3) << c.output();
  EXPECT_NE(c.output().find("enigma: error: "), std::string::npos) << c.output();
  const std::vector<fs::path> dirs = run_dirs(runs);
  ASSERT_EQ(dirs.size(), 1u);
  const std::string log = slurp(dirs[0] / "logs" / "enigma.log");
  EXPECT_NE(log.find("ERROR engine run_failed error=\""), std::string::npos) << log;
  // The whole message, not a truncated hot-path record: it names the file and the line.
  EXPECT_NE(log.find("err-capture.txt': line 2: receive timestamp is not an integer"), std::string::npos) << log;
}

TEST(EngineRuns, FailedSetUpDoesNotMoveLatest) {
  const std::string runs = fresh_runs("setup");
  // The admin port is taken: the session's set-up fails after its run directory and log exist.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(s, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string config = runs + "/../setup.toml";
  {
    std::string text = slurp(kConfig);
    text.replace(text.find("enabled = false"), 15, "enabled = true");
    text.replace(text.find("port = 8686"), 11, "port = " + std::to_string(ntohs(addr.sin_port)));
    std::ofstream(config) << text;
  }
  // A first good run points `latest` at itself; the failed one must leave it there.
  Child good(replay_args(runs), runs + "/../setup-good.out");
  ASSERT_EQ(good.wait(), 0) << good.output();
  const fs::path before = fs::canonical(fs::path(runs) / "latest");
  Child bad({"replay", "--quiet", "--config", config, "--runs-dir", runs}, runs + "/../setup-bad.out");
  ASSERT_EQ(bad.wait(), 3) << bad.output();
  ::close(s);
  EXPECT_EQ(fs::canonical(fs::path(runs) / "latest"), before);
  const std::vector<fs::path> dirs = run_dirs(runs);
  ASSERT_EQ(dirs.size(), 2u);
  for (const auto& d : dirs) {
    if (d == before) continue;
    EXPECT_NE(slurp(d / "logs" / "enigma.log").find("run_failed error="), std::string::npos);  // the failure is in its log
  }
}

namespace {
// The admin port a run logged ("admin listening on 127.0.0.1:PORT"), 0 until it did.
int logged_admin_port(const fs::path& log) {
  const std::string text = slurp(log);
  const auto at = text.find("listening on 127.0.0.1:");
  return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + 23);
}
}  // namespace

// SIGTERM while a position is open (seen on the run's own admin endpoint): [supervisor] on_stop = flatten
// closes it and cancels its stop, the summary says nothing is left unprotected, and the process exits 143.
TEST(EngineRuns, SigtermWithAnOpenPositionLeavesNothingUnprotected) {
  const std::string runs = fresh_runs("term-position");
  std::string text = slurp(kConfig);
  text.replace(text.find("enabled = false"), 15, "enabled = true");
  text.replace(text.find("port = 8686"), 11, "port = 0");
  const std::string config = runs + "/../term-position.toml";
  std::ofstream(config) << text;
  Child c({"replay", "--quiet", "--config", config, "--runs-dir", runs, "--speed", "recorded"}, runs + "/../term-position.out");
  const fs::path log = wait_for_run_start(runs);
  int port = 0;
  ASSERT_TRUE(wait_for([&] { return (port = logged_admin_port(log)) > 0; }, 10000)) << c.output();
  const bool in_position = wait_for(
      [&] {
        return enigma::testing::http_get_or_empty(static_cast<std::uint16_t>(port), "/positions").find("\"symbol\"") !=
               std::string::npos;
      },
      30000);
  ASSERT_TRUE(in_position) << "no position opened in the first 30 s of the session";
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(c.wait(), 143) << c.output();
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const auto limit = std::chrono::seconds(10);  // sanitizer builds run the stop sequence several times slower
#else
  const auto limit = std::chrono::seconds(2);
#endif
  EXPECT_LT(std::chrono::steady_clock::now() - t0, limit) << "stopped promptly, admin endpoint included";
  const std::string summary = slurp(fs::path(runs) / "latest" / "summary.json");
  EXPECT_NE(summary.find("\"unprotected_positions\": 0"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"open_position_qty\": \"0\""), std::string::npos) << summary;
  EXPECT_GE(json_number(summary, "flatten_orders"), 1) << summary;
}
