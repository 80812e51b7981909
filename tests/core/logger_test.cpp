// Async logger: exact line format, types, levels, JSON, rotation, drops, flush on shutdown and on a
// fatal signal (in a forked child), several producer threads (run under tsan too).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/logger.hpp"

using namespace enigma;

namespace {

std::string temp_path(const std::string& name) {
  const std::string p = ::testing::TempDir() + "/enigma_logger_" + std::to_string(::getpid()) + "_" + name;
  for (int i = 0; i <= 10; ++i) std::remove((i ? p + "." + std::to_string(i) : p).c_str());
  return p;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

LoggerOptions options_for(const std::string& path) {
  LoggerOptions o;
  o.path = path;
  o.install_signal_handlers = false;
  return o;
}

// Strips the "<timestamp> " prefix.
std::string body(const std::string& line) { return line.substr(line.find(' ') + 1); }

// RAII: the global logger is process-wide state shared by the macros.
struct GlobalLogger {
  explicit GlobalLogger(Logger& l) { Logger::set_global(&l); }
  ~GlobalLogger() { Logger::set_global(nullptr); }
};

}  // namespace

TEST(Logger, WritesTheDocumentedLineFormat) {
  const std::string path = temp_path("format.log");
  Logger logger(options_for(path));
  GlobalLogger g(logger);
  const std::int64_t before = wall_ns();
  ENIGMA_LOG_INFO("feed", "kucoin resync {} seq={}", Symbol("XBTUSDTM"), 42);
  logger.flush();
  const std::int64_t after = wall_ns();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  const std::regex shape(R"(^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{9})Z INFO feed kucoin resync XBTUSDTM seq=42$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[0], m, shape)) << lines[0];
  // The timestamp is the call's time: rebuild epoch ns from the text and bracket it.
  tm parts{};
  parts.tm_year = std::stoi(m[1]) - 1900;
  parts.tm_mon = std::stoi(m[2]) - 1;
  parts.tm_mday = std::stoi(m[3]);
  parts.tm_hour = std::stoi(m[4]);
  parts.tm_min = std::stoi(m[5]);
  parts.tm_sec = std::stoi(m[6]);
  const std::int64_t ts = static_cast<std::int64_t>(timegm(&parts)) * 1'000'000'000 + std::stoll(m[7]);
  EXPECT_GE(ts, before - 20'000'000);  // TSC-to-wall conversion tolerance
  EXPECT_LE(ts, after + 20'000'000);
}

TEST(Logger, FormatsEveryArgumentKind) {
  const std::string path = temp_path("types.log");
  Logger logger(options_for(path));
  GlobalLogger g(logger);
  const std::string owned = "owned-string";
  const char* cstr = "c-string";
  ENIGMA_LOG_WARN("oms", "px={} qty={} n={} rate={}", Price::parse("60123.45").value, Qty::parse("0.001").value,
                  Notional::parse("-12.5").value, Rate::parse("0.0001").value);
  ENIGMA_LOG_ERROR("risk", "i={} u={} d={:.3f} b={} c={}", -7, std::uint64_t{18446744073709551615ULL}, 2.5, true, 'x');
  ENIGMA_LOG_INFO("feed", "{} {} {}", owned, cstr, std::string_view("0123456789012345678901234567890123456789"));
  ENIGMA_LOG_INFO("feed", "no arguments");
  ENIGMA_LOG_INFO("feed", "multi\nline");
  logger.flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(body(lines[0]), "WARN oms px=60123.45 qty=0.001 n=-12.5 rate=0.0001");
  EXPECT_EQ(body(lines[1]), "ERROR risk i=-7 u=18446744073709551615 d=2.500 b=true c=x");
  // Strings are copied into the record and cut at 31 characters.
  EXPECT_EQ(body(lines[2]), "INFO feed owned-string c-string 0123456789012345678901234567890");
  EXPECT_EQ(body(lines[3]), "INFO feed no arguments");
  EXPECT_EQ(body(lines[4]), "INFO feed multi\\nline") << "one record, one line";
}

TEST(Logger, LevelFilter) {
  const std::string path = temp_path("levels.log");
  LoggerOptions o = options_for(path);
  o.level = LogLevel::info;
  Logger logger(o);
  GlobalLogger g(logger);
  ENIGMA_LOG_DEBUG("test", "hidden {}", 1);
  ENIGMA_LOG_TRACE("test", "hidden {}", 2);
  ENIGMA_LOG_INFO("test", "shown {}", 3);
  logger.set_level(LogLevel::debug);
  ENIGMA_LOG_DEBUG("test", "shown {}", 4);
  logger.set_level(LogLevel::off);
  ENIGMA_LOG_ERROR("test", "hidden {}", 5);
  logger.flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(body(lines[0]), "INFO test shown 3");
  EXPECT_EQ(body(lines[1]), "DEBUG test shown 4");
  EXPECT_EQ(log_level_from_string("warn"), LogLevel::warn);
  EXPECT_FALSE(log_level_from_string("WARN").has_value());
}

TEST(Logger, JsonLines) {
  const std::string path = temp_path("json.log");
  LoggerOptions o = options_for(path);
  o.json = true;
  Logger logger(o);
  GlobalLogger g(logger);
  ENIGMA_LOG_INFO("feed", "say \"{}\"\t{}", std::string_view("hi\\there"), 5);
  logger.flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  const std::regex shape(
      R"(^\{"ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z","level":"INFO","cat":"feed","msg":"say \\"hi\\\\there\\"\\t5"\}$)");
  EXPECT_TRUE(std::regex_match(lines[0], shape)) << lines[0];
}

TEST(Logger, RotatesBySizeKeepingNFilesOfWholeLines) {
  const std::string path = temp_path("rotate.log");
  LoggerOptions o = options_for(path);
  o.rotate_bytes = 4096;
  o.keep_files = 3;
  Logger logger(o);
  GlobalLogger g(logger);
  constexpr int kLines = 1000;  // ~75 bytes each: ~18 files' worth, only 1 + 3 kept
  for (int i = 0; i < kLines; ++i) {
    ENIGMA_LOG_INFO("rotate", "line seq={} padding={}", i, std::string_view("xxxxxxxxxxxxxxxxxxxx"));
    if (i % 100 == 99) logger.flush();  // keep the ring from filling
  }
  logger.flush();
  EXPECT_EQ(logger.dropped(), 0u);
  struct stat st {};
  EXPECT_NE(::stat((path + ".4").c_str(), &st), 0) << "only keep_files rotated files remain";
  // Oldest to newest: .3 .2 .1 and the live file; sequence numbers must be contiguous and end at 999.
  std::vector<int> seqs;
  for (const std::string& f : {path + ".3", path + ".2", path + ".1", path}) {
    const std::string text = read_all(f);
    ASSERT_FALSE(text.empty()) << f;
    EXPECT_LE(text.size(), 4096u) << f;
    EXPECT_EQ(text.back(), '\n') << f << " ends in a whole line";
    for (const auto& line : read_lines(f)) {
      const auto at = line.find("seq=");
      ASSERT_NE(at, std::string::npos) << line;
      seqs.push_back(std::stoi(line.substr(at + 4)));
    }
  }
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(seqs.back(), kLines - 1);
  for (std::size_t i = 1; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], seqs[i - 1] + 1) << "gap at " << i;
  EXPECT_GT(seqs.size(), 150u);
}

TEST(Logger, FullQueueCountsDropsAndLogsThemLater) {
  const std::string path = temp_path("drops.log");
  LoggerOptions o = options_for(path);
  o.queue_capacity = 16;
  o.poll_interval_us = 300'000;  // the logger thread naps, so the ring fills
  Logger logger(o);
  static constexpr LogSite site{LogLevel::info, "test", "n={}"};
  int accepted = 0, refused = 0;
  for (int i = 0; i < 1000; ++i) (logger.write(site, i) ? accepted : refused)++;
  EXPECT_GT(refused, 0);
  EXPECT_EQ(logger.dropped(), static_cast<std::uint64_t>(refused));
  logger.flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(accepted) + 1);
  EXPECT_EQ(body(lines.back()),
            "WARN log dropped " + std::to_string(refused) + " log records (queue full; " + std::to_string(refused) +
                " since start)");
}

TEST(Logger, ShutdownWritesEverythingEnqueued) {
  const std::string path = temp_path("shutdown.log");
  Logger logger(options_for(path));
  static constexpr LogSite site{LogLevel::info, "test", "n={}"};
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(logger.write(site, i));
  logger.shutdown();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 10'000u);
  EXPECT_EQ(body(lines.front()), "INFO test n=0");
  EXPECT_EQ(body(lines.back()), "INFO test n=9999");
  (void)logger.write(site, 1);  // after shutdown: dropped, never a crash
}

TEST(Logger, SeveralProducerThreadsKeepTheirOrder) {
  const std::string path = temp_path("threads.log");
  Logger logger(options_for(path));
  GlobalLogger g(logger);
  constexpr int kThreads = 4, kPerThread = 3000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kPerThread; ++i) ENIGMA_LOG_INFO("mt", "t={} i={}", t, i);
    });
  }
  for (auto& th : threads) th.join();
  logger.shutdown();  // threads have exited: their rings are drained and freed
  std::vector<int> next(kThreads, 0);
  int total = 0;
  for (const auto& line : read_lines(path)) {
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(body(line).c_str(), "INFO mt t=%d i=%d", &t, &i), 2) << line;
    ASSERT_TRUE(t >= 0 && t < kThreads);
    EXPECT_EQ(i, next[t]) << "thread " << t;
    next[t] = i + 1;
    ++total;
  }
  EXPECT_EQ(total, kThreads * kPerThread);
}

// A child that dies of a signal must still have written what it logged before.
class LoggerFatalSignal : public ::testing::TestWithParam<int> {};

TEST_P(LoggerFatalSignal, ChildKilledBySignalStillFlushes) {
  const int sig = GetParam();
  const std::string path = temp_path("signal_" + std::to_string(sig) + ".log");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    LoggerOptions o;
    o.path = path;
    o.install_signal_handlers = true;
    o.poll_interval_us = 200'000;  // the logger thread is asleep when the signal arrives
    Logger* logger = new Logger(o);  // never destroyed: the signal ends the process
    Logger::set_global(logger);
    for (int i = 0; i < 500; ++i) ENIGMA_LOG_ERROR("crash", "before death {}", i);
    ::raise(sig);
    ::_exit(3);  // not reached when the handler re-raises
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), sig);
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 500u);
  EXPECT_EQ(body(lines.back()), "ERROR crash before death 499");
}

INSTANTIATE_TEST_SUITE_P(Signals, LoggerFatalSignal, ::testing::Values(SIGSEGV, SIGABRT, SIGTERM));
