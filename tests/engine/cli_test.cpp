// The `enigma` binary as a user meets it: --help, exit codes, clear errors, book-check's closing line,
// the indicators command, and a replay that leaves the run directory promised in the README.
#include <gtest/gtest.h>

#include <linux/io_uring.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

using enigma::testing::Out;
using enigma::testing::run_enigma;

const std::string kSrc = ENIGMA_SOURCE_DIR;

}  // namespace

TEST(EngineCli, HelpListsEveryCommand) {
  const Out o = run_enigma("--help");
  EXPECT_EQ(o.code, 0);
  for (const char* c : {"replay", "bench", "book-check", "indicators", "report", "check-host", "convert"})
    EXPECT_NE(o.text.find(c), std::string::npos) << c;
  EXPECT_EQ(run_enigma("replay --help").code, 0);
}

TEST(EngineCli, UsageAndRuntimeErrorsHaveDistinctCodes) {
  EXPECT_EQ(run_enigma("no-such-command").code, 2);
  const Out missing = run_enigma("book-check --venue binance-usdm /no/such/file");
  EXPECT_EQ(missing.code, 2);  // CLI validation of the path
  const std::string bad = ::testing::TempDir() + "/bad.toml";
  std::ofstream(bad) << "[replay]\nvenue = \"binance-usdm\"\nspeeed = \"max\"\n";
  const Out o = run_enigma("replay --config " + bad);
  EXPECT_EQ(o.code, 3);
  EXPECT_NE(o.text.find("speeed"), std::string::npos) << o.text;      // names the unknown key
  EXPECT_NE(o.text.find("bad.toml:3"), std::string::npos) << o.text;  // and where it is
}

TEST(EngineCli, BookCheckPrintsTheClosingLine) {
  const Out o = run_enigma("book-check --venue binance-usdm " + kSrc +
                           "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz");
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("book-check: checked=629 mismatched=0 gaps=0"), std::string::npos) << o.text;
}

TEST(EngineCli, IndicatorsWritesOracleColumns) {
  const std::string out = ::testing::TempDir() + "/ind.csv";
  const Out o = run_enigma("indicators --csv " + kSrc +
                           "/data/indicators/talib_0.4.0_oracle_regtest_daily_ref_252bars.csv.gz --out " + out);
  ASSERT_EQ(o.code, 0) << o.text;
  std::ifstream in(out);
  std::string header;
  std::getline(in, header);
  for (const char* c : {"SMA_20", "RSI_14", "MACD_12_26_9_macd", "SAR_0.02_0.2", "AO_5_34", "KDJ_9_3_3_j"})
    EXPECT_NE(header.find(c), std::string::npos) << c;
}

TEST(EngineCli, ReplayWritesTheRunDirectory) {
  const std::string runs = ::testing::TempDir() + "/runs-cli";
  std::filesystem::remove_all(runs);
  const Out o =
      run_enigma("replay --quiet --config " + kSrc + "/config/replay.toml --data " + kSrc +
                 "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("P&L net of fees and funding"), std::string::npos) << o.text;
  const std::filesystem::path dir = std::filesystem::canonical(runs + "/latest");
  for (const char* f : {"summary.json", "trades.csv", "equity.csv", "report.md", "report.html", "decode.hgrm",
                        "frame.hgrm", "logs/enigma.log"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  std::ifstream html(dir / "report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<svg"), std::string::npos);  // plots are there
  // The headline first, from the trades themselves: round trips = fills / 2 here (every entry is closed by one
  // exit); a trip wins unless its P&L before fees is negative (the supervisor's convention); equity is
  // plotted against the data's UTC dates (the session starts 2024-08-08 23:54:15 UTC).
  std::ifstream md_in(dir / "report.md");
  const std::string md((std::istreambuf_iterator<char>(md_in)), std::istreambuf_iterator<char>());
  std::ifstream trades_in(dir / "trades.csv");
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(trades_in, line);) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    rows.push_back(f);
  }
  ASSERT_GT(rows.size(), 3u);
  std::size_t trips = 0, wins = 0;
  for (std::size_t i = 1; i + 1 < rows.size(); i += 2) {  // entry, exit, entry, exit, ...: P&L of each pair by hand
    const double entry = std::stod(rows[i][3]), exit = std::stod(rows[i + 1][3]), qty = std::stod(rows[i][4]);
    const double gross = (rows[i][2] == "buy" ? exit - entry : entry - exit) * qty;
    ++trips;
    wins += gross >= 0 ? 1 : 0;
  }
  EXPECT_NE(md.find("**round trips** " + std::to_string(trips) + " "), std::string::npos) << md.substr(0, 400);
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.3f", 100.0 * static_cast<double>(wins) / static_cast<double>(trips));
  std::string r = rate;
  while (r.back() == '0') r.pop_back();
  if (r.back() == '.') r.pop_back();
  EXPECT_NE(md.find("**win rate (before fees)** " + r + " %"), std::string::npos) << md.substr(0, 400);
  EXPECT_LT(md.find("**net P&L**"), md.find("## Summary"));
  EXPECT_NE(page.find(">2024-08-08 23:54:15<"), std::string::npos) << "equity axis labelled with the data's UTC dates";
  EXPECT_NE(page.find("both axes log scale"), std::string::npos);
  // Same input, same config: byte-identical trades.csv.
  const Out again = run_enigma("replay --quiet --config " + kSrc + "/config/replay.toml --runs-dir " + runs);
  ASSERT_EQ(again.code, 0) << again.text;
  const std::filesystem::path dir2 = std::filesystem::canonical(runs + "/latest");
  ASSERT_NE(dir, dir2);
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream f(p);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(slurp(dir / "trades.csv"), slurp(dir2 / "trades.csv"));
  EXPECT_GT(slurp(dir / "trades.csv").size(), 100u);
}

// ---- issue 18: bad input is refused with where and why, exit codes as the README's table says ----------

namespace {

namespace fs = std::filesystem;

std::string slurp_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A fresh, empty directory under the test's temp dir.
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(::testing::TempDir()) / ("cli-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// `text` with the first `from` replaced by `to` (the test fails when `from` is not there).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// config/<name>.toml edited by `edit`, written into `dir`.
template <class Edit>
std::string config_file(const fs::path& dir, const std::string& name, Edit edit) {
  const fs::path p = dir / (name + ".toml");
  std::ofstream(p) << edit(slurp_file(kSrc + "/config/" + name + ".toml"));
  return p.string();
}

// The environment the live command sees: no credentials but those given (never the developer's own).
std::string live_env(const std::string& assignments) {
  return "env -u ENIGMA_API_KEY -u ENIGMA_API_SECRET -u ENIGMA_ADMIN_TOKEN " + assignments + " ";
}

Out run_with_env(const std::string& env, const std::string& args) {
  // `timeout`: a command that blocks (the FIFO case before the fix) fails the test with 124, never hangs it.
  return enigma::testing::shell(env + "timeout 60 " + std::string(ENIGMA_BINARY) + " " + args);
}

// One HTTP/1.0 request to 127.0.0.1:port; the whole answer ("" when it cannot connect).
std::string http(int port, const std::string& method, const std::string& target) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
    (void)!::write(s, req.data(), req.size());
    char buf[4096];
    for (ssize_t n; (n = ::read(s, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(s);
  return answer;
}

}  // namespace

// Each bad row is refused naming the file, its line and the column; exit 3 (a bad input file, as a bad
// config); no output file appears, and an existing one is left as it was.
TEST(EngineCli, IndicatorsRefusesBadRowsAndLeavesNoOutputBehind) {
  const fs::path dir = fresh_dir("indicators-bad");
  const std::string good = "time,open,high,low,close,volume\n1,10,11,9,10.5,100\n2,10.5,12,10,11,50\n";
  struct Case {
    const char* row;       // line 4 of the file
    const char* expected;  // in the message, after "<file>:4: "
  };
  const Case cases[] = {
      {"2,11,12,10,11.5,10", "column 'time': '2' is a duplicate of the previous row's '2'"},
      {"1,11,12,10,11.5,10", "column 'time': '1' is before the previous row's '2'"},
      {"3,11,10,12,11,10", "column 'high': high 10 is below low 12"},
      {"3,-1,12,10,11,10", "column 'open': '-1' must be positive"},
      {"3,11,12,10,11,-5", "column 'volume': '-5' must be zero or positive"},
      {"3,11,1e308,10,11,10", "column 'high': '1e308' is above 1e15"},
      {"3,13,12,10,11,10", "column 'open': 13 is outside the bar's range [low 10, high 12]"},
  };
  for (const Case& c : cases) {
    const fs::path csv = dir / "bad.csv";
    std::ofstream(csv) << good << c.row << "\n4,11,12,10,11,10\n";
    const fs::path out = dir / "out.csv";
    fs::remove(out);
    const Out o = run_enigma("indicators --csv " + csv.string() + " --out " + out.string());
    EXPECT_EQ(o.code, 3) << c.row << "\n" << o.text;
    EXPECT_NE(o.text.find(csv.string() + ":4: " + c.expected), std::string::npos) << c.row << "\n" << o.text;
    EXPECT_FALSE(fs::exists(out)) << c.row;
    // An older output survives a failed run untouched.
    std::ofstream(out) << "previous\n";
    EXPECT_EQ(run_enigma("indicators --csv " + csv.string() + " --out " + out.string()).code, 3);
    EXPECT_EQ(slurp_file(out), "previous\n") << c.row;
  }
  // Nothing else in the directory: no temporary file left behind by any of the failures.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"bad.csv", "out.csv"}));
}

TEST(EngineCli, IndicatorsReplacesTheOutputOnlyWhenComplete) {
  const fs::path dir = fresh_dir("indicators-good");
  const fs::path out = dir / "ind.csv";
  std::ofstream(out) << "previous\n";
  const Out o =
      run_enigma("indicators --csv " + kSrc +
                 "/data/indicators/talib_0.4.0_oracle_regtest_daily_ref_252bars.csv.gz --out " + out.string());
  ASSERT_EQ(o.code, 0) << o.text;
  const std::string text = slurp_file(out);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 253) << "header and the 252 bars";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1) << "no temporary file left";
}

// Bad words on the command line are usage errors (2) that say what is valid.
TEST(EngineCli, UsageErrorsNameWhatIsValid) {
  const Out cmd = run_enigma("frobnicate");
  EXPECT_EQ(cmd.code, 2);
  EXPECT_NE(cmd.text.find("unknown command 'frobnicate'; commands: replay, backtest, paper, live, bench, book-check, indicators"),
            std::string::npos)
      << cmd.text;
  const Out venue = run_enigma("replay --venue nowhere");
  EXPECT_EQ(venue.code, 2);
  EXPECT_NE(venue.text.find("unknown venue 'nowhere' (binance-usdm"), std::string::npos) << venue.text;
  EXPECT_EQ(run_enigma("book-check --venue nowhere " + kSrc + "/config/replay.toml").code, 2);
  const Out abc = run_enigma("check-host --cores abc");
  EXPECT_EQ(abc.code, 2);
  EXPECT_NE(abc.text.find("cannot read 'abc'"), std::string::npos) << abc.text;
  const Out far = run_enigma("check-host --cores 4000");  // no host has CPU 4000 online (CPU_SETSIZE is 1024)
  EXPECT_EQ(far.code, 2);
  EXPECT_NE(far.text.find("CPU 4000 is not online on this host"), std::string::npos) << far.text;
  EXPECT_EQ(run_enigma("check-host --cores ''").code, 2);
  EXPECT_EQ(run_enigma("check-host --cores ,,").code, 2);
  EXPECT_EQ(run_enigma("check-host --cores 0").code, 0);  // CPU 0 is always there
}

// check-host reports each interface's ETHTOOL_GET_TS_INFO and the socket stack (issue 12): the loopback
// driver stamps in software both ways and has no PTP clock; this test process runs on the kernel stack.
TEST(EngineCli, CheckHostReportsTimestampingPerInterfaceAndTheSocketStack) {
  const Out o = run_enigma("check-host --cores 0");
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.text.find("nic_timestamping  lo: software rx+tx, hardware none (no PTP clock)"), std::string::npos)
      << o.text;
  EXPECT_NE(o.text.find("socket_stack      kernel"), std::string::npos) << o.text;
  // io_uring as the kernel answers this process: asked here with the raw system call.
  io_uring_params params{};
  const long fd = ::syscall(SYS_io_uring_setup, 2, &params);
  if (fd >= 0) ::close(static_cast<int>(fd));
  EXPECT_NE(o.text.find(fd >= 0 ? "io_uring          available: [feed] transport = \"io_uring\" can be used"
                                : "io_uring          io_uring_setup refused: "),
            std::string::npos)
      << o.text;
}

// check-host (and so every bench report's host section) names the CPU and the instruction sets the figures
// depend on, as /proc/cpuinfo's first processor gives them (read here with a regex of its own).
TEST(EngineCli, CheckHostNamesTheCpuAndItsInstructionSets) {
  std::ifstream in("/proc/cpuinfo");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string cpuinfo = ss.str();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cpuinfo, m, std::regex("model name\\s*: ([^\\n]*)"))) << "no model name in /proc/cpuinfo";
  std::string model = m[1];
  while (!model.empty() && model.back() == ' ') model.pop_back();
  ASSERT_TRUE(std::regex_search(cpuinfo, m, std::regex("\nflags\\s*: ([^\\n]*)")));
  const std::string flags = " " + m[1].str() + " ";
  auto has = [&](const char* f) { return flags.find(std::string(" ") + f + " ") != std::string::npos ? "yes" : "no"; };
  const Out o = run_enigma("check-host --cores 0");
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.text.find("INFO cpu               " + model + " (family "), std::string::npos) << o.text;
  EXPECT_NE(o.text.find(std::string("avx512f ") + has("avx512f") + ", avx2 " + has("avx2") + ", sha_ni " + has("sha_ni") +
                        ", pclmulqdq " + has("pclmulqdq")),
            std::string::npos)
      << o.text;
}

// Every [engine] key acts or is refused; what cannot work on this host or topology is refused before a run
// directory exists.
TEST(EngineCli, ConfigKeysWithoutEffectOrImpossibleValuesAreRefused) {
  const fs::path dir = fresh_dir("config");
  const fs::path runs = dir / "runs";
  struct Case {
    std::string name, from, to, expected;
  };
  const Case cases[] = {
      {"mode", "[engine]\n", "[engine]\nmode = \"live\"\n",
       "key 'engine.mode': is not a setting: the command chooses the mode"},
      {"logdir", "[engine]\n", "[engine]\nlog_dir = \"/var/log/enigma\"\n", "key 'engine.log_dir': is not a setting"},
      {"rotate", "[engine]\n", "[engine]\nlog_rotate_size = \"999999999999GiB\"\n",
       "is more bytes than fit in 64 bits"},
      {"cpu1000", "[engine]\n", "[engine]\ncores = [1000]\n",
       "key 'engine.cores': CPU 1000 is not available to this process"},
      {"fused2", "[engine]\n", "[engine]\ncores = [0, 1]\n",
       "key 'engine.cores': the fused topology pins 1 thread(s), 2 cores given"},
  };
  for (const Case& c : cases) {
    const std::string cfg = config_file(dir, "replay", [&](std::string t) { return replaced(t, c.from, c.to); });
    const Out o = run_enigma("replay --quiet --config " + cfg + " --runs-dir " + runs.string());
    EXPECT_EQ(o.code, 3) << c.name << "\n" << o.text;
    EXPECT_NE(o.text.find(c.expected), std::string::npos) << c.name << "\n" << o.text;
    EXPECT_FALSE(fs::exists(runs)) << c.name << ": a run directory was created for a config error";
  }
  // paper runs fused: a config asking for pipelined is refused, not silently run fused; SQPOLL without
  // io_uring is refused by name.
  const Case paper_cases[] = {
      {"pipelined", "topology = \"fused\"", "topology = \"pipelined\"",
       "key 'engine.topology': paper runs the fused topology"},
      {"sqpoll-asio", "hardware_timestamps = false", "hardware_timestamps = false\nio_uring_sqpoll = true",
       "[feed] io_uring_sqpoll = true needs transport = \"io_uring\""},
  };
  for (const Case& c : paper_cases) {
    const std::string cfg = config_file(dir, "live", [&](std::string t) { return replaced(t, c.from, c.to); });
    const Out o = run_enigma("paper --config " + cfg + " --runs-dir " + runs.string());
    EXPECT_EQ(o.code, 3) << c.name << "\n" << o.text;
    EXPECT_NE(o.text.find(c.expected), std::string::npos) << c.name << "\n" << o.text;
  }
}

// A run that fails after its directory exists says so in its log and in summary.json; `latest` is not moved.
TEST(EngineCli, AdminRemoteBindNeedsTheRealKeyAndAToken) {
  const fs::path dir = fresh_dir("admin-remote");
  const fs::path runs = dir / "runs";
  const std::string remote = config_file(dir, "replay", [](std::string t) {
    return replaced(replaced(t, "enabled = false", "enabled = true"), "port = 8686", "port = 0\naddress = \"0.0.0.0\"");
  });
  const Out o = run_with_env(live_env(""), "replay --quiet --config " + remote + " --runs-dir " + runs.string());
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("refusing to bind non-loopback address '0.0.0.0' (set [admin] allow_remote = true and a token"),
            std::string::npos)
      << o.text;
  // The key it names exists; with it, a remote endpoint still needs a token.
  const std::string allowed = config_file(dir, "replay", [](std::string t) {
    return replaced(replaced(t, "enabled = false", "enabled = true"), "port = 8686",
                    "port = 0\naddress = \"0.0.0.0\"\nallow_remote = true");
  });
  const Out t = run_with_env(live_env(""), "replay --quiet --config " + allowed + " --runs-dir " + runs.string());
  EXPECT_EQ(t.code, 3) << t.text;
  EXPECT_NE(t.text.find("[admin] allow_remote = true needs a token: set the environment variable ENIGMA_ADMIN_TOKEN"),
            std::string::npos)
      << t.text;
  EXPECT_FALSE(fs::exists(runs / "latest")) << "a run that never started moved `latest`";
  std::size_t failed_dirs = 0;
  for (const auto& e : fs::directory_iterator(runs)) {
    const std::string summary = slurp_file(e.path() / "summary.json");
    EXPECT_NE(summary.find("\"failed\": true"), std::string::npos) << e.path() << "\n" << summary;
    EXPECT_NE(slurp_file(e.path() / "logs" / "enigma.log").find("run_failed error="), std::string::npos) << e.path();
    failed_dirs += summary.find("\"error\": \"admin endpoint: refusing to bind") != std::string::npos ||
                   summary.find("allow_remote = true needs a token") != std::string::npos;
  }
  EXPECT_EQ(failed_dirs, 2u);
  // `report` on such a directory says the run failed and why, rather than writing an empty report.
  for (const auto& e : fs::directory_iterator(runs)) {
    const Out r = run_enigma("report " + e.path().string());
    EXPECT_EQ(r.code, 3) << r.text;
    EXPECT_NE(r.text.find("failed, nothing to report: "), std::string::npos) << r.text;
    EXPECT_FALSE(fs::exists(e.path() / "report.md"));
  }
}

// bench on a file it cannot read: exit 3, its directory's summary.json holds the error, `latest` not moved.
TEST(EngineCli, FailedBenchLeavesAnExplainedDirectoryAndLatestUnmoved) {
  const fs::path runs = fresh_dir("bench-failed") / "runs";
  const Out o = run_enigma("bench --quiet --config " + kSrc + "/config/replay.toml --data " + kSrc +
                           "/data/indicators/ATTRIBUTION.md --runs-dir " + runs.string());
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_FALSE(fs::exists(runs / "latest"));
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(runs)) dirs.push_back(e.path());
  ASSERT_EQ(dirs.size(), 1u);
  const std::string summary = slurp_file(dirs[0] / "summary.json");
  EXPECT_NE(summary.find("\"mode\": \"bench\",\n  \"failed\": true"), std::string::npos) << summary;
  EXPECT_NE(summary.find("unrecognised capture format"), std::string::npos) << summary;
}

// bench runs both speeds and both topologies itself: replay's --speed and --topology are refused (they were
// shown in its --help and ignored), and --recorded-seconds is range-checked.
TEST(EngineCli, BenchRefusesOptionsItCannotHonour) {
  for (const char* opt : {"--speed max", "--topology fused", "--recorded-seconds 99999"}) {
    const Out o = run_enigma(std::string("bench --quiet --config ") + kSrc + "/config/replay.toml " + opt);
    EXPECT_EQ(o.code, 2) << opt << ": " << o.text;
    EXPECT_NE(o.text.find(std::string(opt).substr(0, std::string(opt).find(' '))), std::string::npos) << o.text;
  }
}

// live on a venue without live order entry (Coinbase has market data and paper only): refused before any
// credential is read, naming the config, the venue and the venues that have it.
TEST(EngineCli, LiveOnAVenueWithoutOrderEntryIsRefused) {
  const Out o = run_enigma("live --confirm --config " + kSrc + "/config/paper-coinbase.toml");
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("paper-coinbase.toml: live order entry supports venues binance-usdm, kucoin-futures, bybit and okx, not 'coinbase'"),
            std::string::npos) << o.text;
}

// Each live venue's bundled config with another venue's [live] key: refused before credentials are read
// (exit 3), naming the key, the venue that takes it and what this venue takes instead; a Binance key on
// KuCoin Futures, a KuCoin one on Binance, an OKX one on Bybit and a Bybit one on OKX.
TEST(EngineCli, AnotherVenuesLiveKeyIsRefusedNamingWhatThisVenueTakes) {
  const fs::path dir = fresh_dir("live-keys");
  struct Case {
    std::string config, key, expected;
  };
  const Case cases[] = {
      {"live-kucoin-futures", "orders_per_10s = 100",
       "orders_per_10s is not a setting for KuCoin Futures (Binance USD-M takes it); KuCoin Futures takes requests_per_3s"},
      {"live", "requests_per_3s = 10", "requests_per_3s is not a setting for Binance USD-M (KuCoin Futures takes it); Binance USD-M takes"},
      {"live-bybit", "td_mode = \"isolated\"", "td_mode is not a setting for Bybit (OKX takes it); Bybit takes requests_per_s"},
      {"live-okx", "requests_per_s = 5", "requests_per_s is not a setting for OKX (Bybit takes it); OKX takes requests_per_2s"},
      {"live-kucoin-futures", "user_ws_url = \"wss://example.invalid/\"", "KuCoin Futures's private stream comes from its bullet-private token"},
  };
  for (const Case& c : cases) {
    const std::string cfg = config_file(dir, c.config, [&](std::string t) { return replaced(t, "[live]\n", "[live]\n" + c.key + "\n"); });
    const Out o = run_with_env(live_env(""), "live --config " + cfg);
    EXPECT_EQ(o.code, 3) << c.key << "\n" << o.text;
    EXPECT_NE(o.text.find(c.expected), std::string::npos) << c.key << "\n" << o.text;
  }
}

// [live] deadman_countdown_ms as each venue's dead-man switch takes it (oms::DeadManRule), through the binary:
// OKX's cancel-all-after takes whole seconds from 10 to 120, Bybit's DCP window whole seconds from 3 to 300,
// KuCoin Futures has none. (Six runs of the binary: each takes seconds under ASan.)
TEST(EngineCli, DeadManCountdownIsRefusedOutsideWhatTheVenueTakes) {
  const fs::path dir = fresh_dir("live-deadman");
  struct Case {
    std::string config, value, expected;
  };
  const Case cases[] = {
      {"live-okx", "5000", "OKX's cancel-all-after takes whole seconds from 10 to 120 (10000..120000 ms), or 0 for none"},
      {"live-okx", "180000", "OKX's cancel-all-after takes whole seconds from 10 to 120"},
      {"live-bybit", "4500", "Bybit's dead-man switch (DCP) takes whole seconds from 3 to 300 (3000..300000 ms), or 0 for none"},
      {"live-kucoin-futures", "60000", "KuCoin Futures has no dead-man switch (no cancel-all-after endpoint): leave it out or 0"},
  };
  for (const Case& c : cases) {
    const std::string cfg = config_file(dir, c.config, [&](std::string t) {
      const std::size_t at = t.find("\ndeadman_countdown_ms = ");
      if (at == std::string::npos) return replaced(t, "[live]\n", "[live]\ndeadman_countdown_ms = " + c.value + "\n");
      const std::size_t end = t.find_first_of(" \n", at + 24);
      return t.substr(0, at + 24) + c.value + t.substr(end);
    });
    const Out o = run_with_env(live_env(""), "live --config " + cfg);
    EXPECT_EQ(o.code, 3) << c.config << " " << c.value << "\n" << o.text;
    EXPECT_NE(o.text.find(c.expected), std::string::npos) << c.config << " " << c.value << "\n" << o.text;
  }
  // What each takes is taken: the configuration is valid and only --confirm is missing.
  for (const auto& [config, value] : {std::pair<std::string, std::string>{"live-okx", "120000"}, {"live-bybit", "300000"}}) {
    const std::string cfg = config_file(dir, config, [&](std::string t) {
      const std::size_t at = t.find("\ndeadman_countdown_ms = ");
      if (at == std::string::npos) return replaced(t, "[live]\n", "[live]\ndeadman_countdown_ms = " + value + "\n");
      const std::size_t end = t.find_first_of(" \n", at + 24);
      return t.substr(0, at + 24) + value + t.substr(end);
    });
    const Out o = run_with_env(live_env("ENIGMA_API_KEY=KEYtest ENIGMA_API_SECRET=SECRETtest ENIGMA_API_PASSPHRASE=PASStest"),
                               "live --config " + cfg);
    EXPECT_EQ(o.code, 3) << o.text;  // valid, but no --confirm
    EXPECT_NE(o.text.find("Re-run with --confirm to trade"), std::string::npos) << config << " " << value << "\n" << o.text;
  }
}

// Credentials: a FIFO is refused at once (it used to block forever), a value with a space or a line break
// is refused naming where it came from and never printing it, and the refusal without --confirm names
// the file the key came from.
TEST(EngineCli, LiveValidatesCredentialsWithoutHangingOrPrintingThem) {
  const fs::path dir = fresh_dir("secrets");
  const fs::path key_file = dir / "binance.key", secret_file = dir / "binance.secret", fifo = dir / "fifo.key";
  auto with_files = [&](const fs::path& key, const fs::path& secret) {
    return config_file(dir, "live", [&](std::string t) {
      return replaced(
          t, "[live]\n",
          "[live]\napi_key_file = \"" + key.string() + "\"\napi_secret_file = \"" + secret.string() + "\"\n");
    });
  };
  auto write_secret = [](const fs::path& p, const std::string& text) {
    std::ofstream(p) << text;
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  };
  write_secret(secret_file, "SECRETabc123\n");

  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const Out f = run_with_env(live_env(""), "live --config " + with_files(fifo, secret_file));
  EXPECT_EQ(f.code, 3) << f.text;
  EXPECT_NE(f.text.find("secret file '" + fifo.string() + "': not a regular file"), std::string::npos) << f.text;

  write_secret(key_file, "KEYline1\nKEYline2\n");
  const Out nl = run_with_env(live_env(""), "live --config " + with_files(key_file, secret_file));
  EXPECT_EQ(nl.code, 3) << nl.text;
  EXPECT_NE(nl.text.find("secret file '" + key_file.string() + "': contains a space, a line break"), std::string::npos)
      << nl.text;
  EXPECT_EQ(nl.text.find("KEYline"), std::string::npos) << "the key was printed";

  const Out sp =
      run_with_env(live_env("ENIGMA_API_KEY='KEYwith space'"), "live --config " + with_files(key_file, secret_file));
  EXPECT_EQ(sp.code, 3) << sp.text;
  EXPECT_NE(sp.text.find("environment variable 'ENIGMA_API_KEY' contains a space"), std::string::npos) << sp.text;
  EXPECT_EQ(sp.text.find("KEYwith"), std::string::npos) << "the key was printed";

  write_secret(key_file, "KEYgood123\n");
  const Out ok = run_with_env(live_env(""), "live --config " + with_files(key_file, secret_file));
  EXPECT_EQ(ok.code, 3) << ok.text;  // valid, but no --confirm
  EXPECT_NE(ok.text.find("with the key from file '" + key_file.string() + "'"), std::string::npos) << ok.text;
  EXPECT_EQ(ok.text.find("ENIGMA_API_KEY"), std::string::npos) << ok.text;
  EXPECT_EQ(ok.text.find("KEYgood"), std::string::npos) << "the key was printed";
}

// Admin enabled without a token: the engine says so on stderr, GET /status says so, POSTs get 403; and a
// run stopped by SIGINT exits 130.
TEST(EngineCli, AdminWithoutTokenIsReadOnlyAndSaysSo) {
  const fs::path dir = fresh_dir("admin-notoken");
  const fs::path runs = dir / "runs";
  const std::string cfg = config_file(dir, "replay", [](std::string t) {
    return replaced(replaced(t, "enabled = false", "enabled = true"), "port = 8686", "port = 0");
  });
  ::unsetenv("ENIGMA_ADMIN_TOKEN");  // the child inherits this environment
  enigma::testing::Child c({"replay", "--quiet", "--speed", "recorded", "--config", cfg, "--runs-dir", runs.string()},
                           (dir / "out.txt").string());
  // The port it listens on, from its log (a bounded wait: the run starts within seconds).
  int port = 0;
  for (int i = 0; i < 600 && port == 0; ++i) {
    const std::string log = slurp_file(runs / "latest" / "logs" / "enigma.log");
    const auto at = log.find("listening on 127.0.0.1:");
    if (at != std::string::npos)
      port = std::atoi(log.c_str() + at + 23);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(port, 0) << c.output();
  const std::string status = http(port, "GET", "/status");
  EXPECT_NE(status.find("\"admin_commands\":\"disabled: no token\""), std::string::npos) << status;
  const std::string kill = http(port, "POST", "/kill");
  EXPECT_EQ(kill.rfind("HTTP/1.0 403", 0), 0u) << kill;
  EXPECT_NE(kill.find("admin commands are disabled"), std::string::npos) << kill;
  ASSERT_EQ(::kill(c.pid, SIGINT), 0);
  EXPECT_EQ(c.wait(), 130) << c.output();
  EXPECT_NE(c.output().find("WARNING: admin endpoint has no token (ENIGMA_ADMIN_TOKEN is unset)"), std::string::npos)
      << c.output();
  EXPECT_NE(slurp_file(runs / "latest" / "summary.json").find("\"interrupted\": \"SIGINT\""), std::string::npos);
}

// Daily reports through the binary: a replay of two spot captures that straddle midnight UTC writes
// daily/2024-08-08 (closed at the roll) and daily/2024-08-09 (partial: the data ends first). Fills per day
// are counted from trades.csv by date; round trips, losing trips, risk rejects and net P&L add up to the
// run's summary.json.
TEST(EngineCli, DailyReportsSplitTheRunAtMidnightUtc) {
  const std::string runs = ::testing::TempDir() + "/runs-daily";
  std::filesystem::remove_all(runs);
  const std::string cfg = runs + "-spot.toml";
  {
    std::ifstream in(kSrc + "/config/replay.toml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "venue = \"binance-usdm\"";
    text.replace(text.find(from), from.size(), "venue = \"binance-spot\"");
    std::ofstream(cfg) << text;
  }
  const std::string d = kSrc + "/data/binance/hftbacktest_spot_BTCUSDT_ws_depth_trade_bookTicker_raw_2024080";
  const Out o =
      run_enigma("replay --quiet --config " + cfg + " --data " + d + "8.gz --data " + d + "9.gz --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  const std::filesystem::path dir = std::filesystem::canonical(runs + "/latest");
  auto read = [](const std::filesystem::path& p) {
    std::ifstream f(p);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  const std::string d8 = read(dir / "daily" / "2024-08-08.md"), d9 = read(dir / "daily" / "2024-08-09.md");
  ASSERT_FALSE(d8.empty());
  ASSERT_FALSE(d9.empty());
  EXPECT_TRUE(std::filesystem::exists(dir / "daily" / "2024-08-09.html"));
  EXPECT_EQ(d8.find("partial"), std::string::npos) << d8;
  EXPECT_NE(d9.find("(partial: the run ended before the day did)"), std::string::npos) << d9;
  // Fills per UTC day from trades.csv (1723161600 s = 2024-08-09 00:00:00 UTC).
  std::size_t fills8 = 0, fills9 = 0;
  {
    std::istringstream in(read(dir / "trades.csv"));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line))
      (std::stoull(line.substr(0, line.find(','))) < 1723161600ull * 1'000'000'000ull ? fills8 : fills9)++;
  }
  ASSERT_GT(fills8, 0u);
  ASSERT_GT(fills9, 0u);
  auto field = [](const std::string& md, const std::string& name) {
    const auto at = md.find("| " + name + " | ");
    if (at == std::string::npos) return std::string();
    const auto from = at + name.size() + 5;
    return md.substr(from, md.find(" |", from) - from);
  };
  EXPECT_EQ(field(d8, "orders / fills").substr(field(d8, "orders / fills").find("/ ") + 2), std::to_string(fills8))
      << d8;
  EXPECT_EQ(field(d9, "orders / fills").substr(field(d9, "orders / fills").find("/ ") + 2), std::to_string(fills9))
      << d9;
  // Round trips "N (L)" of both days add up to the summary's.
  const std::string summary = read(dir / "summary.json");
  auto number_after = [](const std::string& text, const std::string& key) {
    const auto at = text.find(key);
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + key.size()));
  };
  const double trips =
      number_after(field(d8, "round trips (losing)"), "") + number_after(field(d9, "round trips (losing)"), "");
  const double losing =
      number_after(field(d8, "round trips (losing)"), "(") + number_after(field(d9, "round trips (losing)"), "(");
  EXPECT_EQ(trips, number_after(summary, "\"round_trips\": "));
  EXPECT_EQ(losing, number_after(summary, "\"losing_trips\": "));
  const double pnl = std::stod(field(d8, "net P&L (after fees and funding)")) +
                     std::stod(field(d9, "net P&L (after fees and funding)"));
  EXPECT_NEAR(pnl, number_after(summary, "\"net_pnl\": "), 0.011);
  const double rejects = std::stod(field(d8, "risk rejects")) + std::stod(field(d9, "risk rejects"));
  EXPECT_EQ(rejects, number_after(summary, "\"risk_rejects\": "));
}
