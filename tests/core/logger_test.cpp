// Async logger: exact line format and its schema (free text quoted), types, levels, JSON, rotation followed
// the way `tail -F` follows it, drops, flush on shutdown and on a fatal signal (in a forked child), several
// producer threads on their own rings and on the shared queue (run under tsan too).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
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
  ENIGMA_LOG_INFO("feed", "book_resync instrument={} seq={}", Symbol("XBTUSDTM"), 42);
  logger.flush();
  const std::int64_t after = wall_ns();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  const std::regex shape(R"(^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{9})Z INFO feed book_resync instrument=XBTUSDTM seq=42$)");
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
  ENIGMA_LOG_WARN("oms", "values px={} qty={} n={} rate={}", Price::parse("60123.45").value, Qty::parse("0.001").value,
                  Notional::parse("-12.5").value, Rate::parse("0.0001").value);
  ENIGMA_LOG_ERROR("risk", "values i={} u={} d={:.3f} b={} c={}", -7, std::uint64_t{18446744073709551615ULL}, 2.5, true, 'x');
  ENIGMA_LOG_INFO("feed", "{} {} {}", owned, cstr, std::string_view("0123456789012345678901234567890123456789"));
  ENIGMA_LOG_INFO("feed", "no arguments");
  ENIGMA_LOG_INFO("feed", "multi\nline");
  logger.flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(body(lines[0]), "WARN oms values px=60123.45 qty=0.001 n=-12.5 rate=0.0001");
  EXPECT_EQ(body(lines[1]), "ERROR risk values i=-7 u=18446744073709551615 d=2.500 b=true c=x");
  // Strings are copied into the record and cut at 31 characters.
  // Free text is one quoted value of event `message`, so every line parses with the schema.
  EXPECT_EQ(body(lines[2]), "INFO feed message text=\"owned-string c-string 0123456789012345678901234567890\"");
  EXPECT_EQ(body(lines[3]), "INFO feed message text=\"no arguments\"");
  EXPECT_EQ(body(lines[4]), "INFO feed message text=\"multi\\nline\"") << "one record, one line";
}

TEST(Logger, LevelFilter) {
  const std::string path = temp_path("levels.log");
  LoggerOptions o = options_for(path);
  o.level = LogLevel::info;
  Logger logger(o);
  GlobalLogger g(logger);
  ENIGMA_LOG_DEBUG("test", "hidden n={}", 1);
  ENIGMA_LOG_TRACE("test", "hidden n={}", 2);
  ENIGMA_LOG_INFO("test", "shown n={}", 3);
  logger.set_level(LogLevel::debug);
  ENIGMA_LOG_DEBUG("test", "shown n={}", 4);
  logger.set_level(LogLevel::off);
  ENIGMA_LOG_ERROR("test", "hidden n={}", 5);
  logger.flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(body(lines[0]), "INFO test shown n=3");
  EXPECT_EQ(body(lines[1]), "DEBUG test shown n=4");
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
  ENIGMA_LOG_WARN("oms", "order_rejected id={} qty={} n={} live={} why={} venue={}", std::string_view("en1-7"),
                  Qty::parse("0.010").value, -3, false, LogQuoted{"margin \"low\""}, LogLiteral{"binance-usdm"});
  logger.flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  // Free text: event "message", the text as one string.
  const std::regex shape(
      R"(^\{"ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z","level":"INFO","component":"feed","event":"message","text":"say \\"hi\\\\there\\"\\t5"\}$)");
  EXPECT_TRUE(std::regex_match(lines[0], shape)) << lines[0];
  // key=value pairs become fields: JSON numbers and booleans as such, everything else a string.
  const auto fields = lines[1].substr(lines[1].find(",\"level\""));
  EXPECT_EQ(fields,
            R"(,"level":"WARN","component":"oms","event":"order_rejected","id":"en1-7","qty":0.01,"n":-3,"live":false,)"
            R"("why":"margin \"low\"","venue":"binance-usdm"})");
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

// Follows a path the way `tail -F` does: reads what is new; when the name points at another file (the
// logger renamed it away), reads the old file to its end, then opens the new one from its start.
class TailFollower {
 public:
  explicit TailFollower(std::string path) : path_(std::move(path)) {}
  ~TailFollower() {
    if (fd_ >= 0) ::close(fd_);
  }
  void poll(std::string& out) {
    if (fd_ < 0 && (fd_ = ::open(path_.c_str(), O_RDONLY)) < 0) return;
    for (;;) {
      read_to_end(out);
      struct stat by_name {}, by_fd {};
      if (::stat(path_.c_str(), &by_name) != 0 || ::fstat(fd_, &by_fd) != 0) return;
      if (by_name.st_ino == by_fd.st_ino && by_name.st_dev == by_fd.st_dev) return;
      read_to_end(out);  // what was written before the rename
      ::close(fd_);
      fd_ = ::open(path_.c_str(), O_RDONLY);
      ++reopens_;
      if (fd_ < 0) return;
    }
  }
  [[nodiscard]] int reopens() const { return reopens_; }

 private:
  void read_to_end(std::string& out) {
    char buf[4096];
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  }
  std::string path_;
  int fd_{-1};
  int reopens_{0};
};

TEST(Logger, TailFollowSeesEveryLineAcrossRotations) {
  const std::string path = temp_path("follow.log");
  LoggerOptions o = options_for(path);
  o.rotate_bytes = 4096;
  o.keep_files = 2;  // a follower needs no rotated file to stay
  Logger logger(o);
  GlobalLogger g(logger);
  TailFollower tail(path);
  std::string seen;
  constexpr int kLines = 600, kBatch = 10;  // ~80 bytes a line: a batch is less than a file, ~12 rotations
  for (int i = 0; i < kLines; ++i) {
    ENIGMA_LOG_INFO("rotate", "line seq={} padding={}", i, std::string_view("xxxxxxxxxxxxxxxxxxxx"));
    if (i % kBatch == kBatch - 1) {
      logger.flush();
      tail.poll(seen);
    }
  }
  EXPECT_GE(tail.reopens(), 10) << "the follower saw the file replaced at each rotation";
  std::istringstream in(seen);
  int expect = 0;
  for (std::string line; std::getline(in, line); ++expect) {
    const auto at = line.find("seq=");
    ASSERT_NE(at, std::string::npos) << line;
    ASSERT_EQ(std::stoi(line.substr(at + 4)), expect) << "every line once, in order";
  }
  EXPECT_EQ(expect, kLines);
  EXPECT_EQ(seen.back(), '\n');
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
  // Every accepted record is written once; the drops are reported after them. (On a loaded host the logger
  // thread may wake mid-loop and report the drops so far in a line of their own: the counts still add up.)
  int records = 0, reported = 0;
  std::string last_warn;
  for (const std::string& line : read_lines(path)) {
    if (body(line).rfind("INFO test message", 0) == 0) {
      ++records;
      continue;
    }
    int n = 0, total = 0;
    ASSERT_EQ(std::sscanf(body(line).c_str(), "WARN log log_dropped records=%d total=%d cause=queue_full", &n, &total), 2) << line;
    reported += n;
    EXPECT_EQ(total, reported) << line;
    last_warn = line;
  }
  EXPECT_EQ(records, accepted);
  EXPECT_EQ(reported, refused);
  EXPECT_FALSE(last_warn.empty());
}

TEST(Logger, ShutdownWritesEverythingEnqueued) {
  const std::string path = temp_path("shutdown.log");
  Logger logger(options_for(path));
  static constexpr LogSite site{LogLevel::info, "test", "n={}"};
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(logger.write(site, i));
  logger.shutdown();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 10'000u);
  EXPECT_EQ(body(lines.front()), "INFO test message text=\"n=0\"");
  EXPECT_EQ(body(lines.back()), "INFO test message text=\"n=9999\"");
  (void)logger.write(site, 1);  // after shutdown: dropped, never a crash
}

TEST(Logger, SeveralProducerThreadsKeepTheirOrder) {
  const std::string path = temp_path("threads.log");
  Logger logger(options_for(path));
  GlobalLogger g(logger);
  constexpr int kThreads = 4, kPerThread = 3000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Even threads own a ring; odd ones share the multi-producer queue.
    threads.emplace_back([t, &logger] {
      if (t % 2 == 0) logger.register_hot_thread();
      for (int i = 0; i < kPerThread; ++i) ENIGMA_LOG_INFO("mt", "seq t={} i={}", t, i);
    });
  }
  for (auto& th : threads) th.join();
  logger.shutdown();  // threads have exited: their rings are drained and freed
  std::vector<int> next(kThreads, 0);
  int total = 0;
  for (const auto& line : read_lines(path)) {
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(body(line).c_str(), "INFO mt seq t=%d i=%d", &t, &i), 2) << line;
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
    for (int i = 0; i < 500; ++i) ENIGMA_LOG_ERROR("crash", "before_death i={}", i);
    ::raise(sig);
    ::_exit(3);  // not reached when the handler re-raises
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), sig);
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 500u);
  EXPECT_EQ(body(lines.back()), "ERROR crash before_death i=499");
}

INSTANTIATE_TEST_SUITE_P(Signals, LoggerFatalSignal, ::testing::Values(SIGSEGV, SIGABRT, SIGTERM));
