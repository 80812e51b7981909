// `enigma backtest` through the binary: the bundled 66 days of BTCUSDT 5-minute candles through replay's
// pipeline and simulated exchange. Expectations come from the candle CSV itself (read here) and hand
// computations, never from the figures under test: every fill obeys the documented candle-fill rules, a
// split history trades exactly as the whole, two instruments' pnl columns add up to the portfolio's, a
// funding CSV is charged at its timestamps, a bad row is exit 3 naming file and line, and peak memory does
// not grow with the length of the history.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::first_run_dir;
using enigma::testing::run_enigma;
using enigma::testing::shell;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kCandles = kSrc + "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz";
const std::string kConfig = kSrc + "/config/backtest.toml";
constexpr std::int64_t kInterval = 300'000'000'000;  // 5 minutes in ns

std::string tmp(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / ("backtest-" + std::to_string(::getpid())) / name;
  fs::create_directories(p.parent_path());
  return p.string();
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
  return cells;
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(slurp(p));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) rows.push_back(split(line));
  return rows;
}

// A decimal as integer hundredths (the candles have two decimals; tick 0.01).
std::int64_t cents(const std::string& s) { return std::llround(std::stold(s) * 100); }

// "2025-06-02 04:50:00" (UTC) -> ns, by the days-from-civil formula.
std::int64_t to_ns(const std::string& dt) {
  int y = std::stoi(dt.substr(0, 4)), m = std::stoi(dt.substr(5, 2)), d = std::stoi(dt.substr(8, 2));
  const int hh = std::stoi(dt.substr(11, 2)), mi = std::stoi(dt.substr(14, 2)), ss = std::stoi(dt.substr(17, 2));
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long days = era * 146097 + doe - 719468;
  return (days * 86400 + hh * 3600 + mi * 60 + ss) * 1'000'000'000LL;
}

struct Candle {
  std::int64_t t;  // open time, ns
  std::int64_t o, h, l, c;  // cents
};

// The candle CSV's text (decompressed by the system's gzip, not by the engine's reader).
const std::string& candle_text() {
  static const std::string text = shell("gzip -dc '" + kCandles + "'", "").text;
  return text;
}

std::vector<Candle> candles() {
  std::vector<Candle> out;
  std::istringstream in(candle_text());
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const auto f = split(line);
    out.push_back({to_ns(f[0]), cents(f[1]), cents(f[2]), cents(f[3]), cents(f[4])});
  }
  return out;
}

// The sample config with `from` replaced by `to` (each pair, first occurrence), written next to the test's files.
std::string edited(const std::string& name, const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string text = slurp(kConfig);
  for (const auto& [from, to] : edits) {
    const std::size_t p = text.find(from);
    if (p == std::string::npos) {
      ADD_FAILURE() << "config/backtest.toml has no '" << from << "'";
      continue;
    }
    text.replace(p, from.size(), to);
  }
  const std::string path = tmp(name + ".toml");
  std::ofstream(path) << text;
  return path;
}

// `enigma backtest` with the config and extra args, from the source dir (the config's relative paths); its
// run directory.
fs::path backtest(const std::string& config, const std::string& runs, const std::string& extra = "") {
  const auto r = run_enigma("backtest --quiet --config '" + config + "' --runs-dir '" + runs + "' " + extra);
  EXPECT_EQ(r.code, 0) << r.text;
  return first_run_dir(runs);
}

// Header plus rows [from, to) of the candle CSV, written to `path` (gzipped when it ends in .gz).
void write_rows(const std::string& path, std::size_t from, std::size_t to) {
  std::istringstream in(candle_text());
  std::string line, out;
  std::getline(in, line);
  out = line + "\n";
  for (std::size_t i = 0; std::getline(in, line); ++i)
    if (i >= from && i < to) out += line + "\n";
  const bool gz = path.ends_with(".gz");
  std::ofstream(gz ? path.substr(0, path.size() - 3) : path) << out;
  if (gz) ASSERT_EQ(shell("gzip -nf '" + path.substr(0, path.size() - 3) + "'").code, 0);
}

class Backtest : public ::testing::Test {
 protected:
  void SetUp() override { fs::current_path(kSrc); }
};

// Runs first: getrusage's per-child peak of each run (wait4), 10 days vs 66 days of candles.
TEST_F(Backtest, PeakMemoryDoesNotGrowWithTheHistory) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's quarantine and shadow memory are not the engine's footprint";
#endif
  const std::string ten = tmp("ten_days.csv.gz");
  write_rows(ten, 0, 10 * 288);
  auto peak_kb = [&](const std::string& data, const std::string& runs) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int null = ::open("/dev/null", O_WRONLY);  // its summary is not this test's output
      ::dup2(null, 1);
      ::dup2(null, 2);
      const std::string cfg = kConfig;
      ::execl(ENIGMA_BINARY, ENIGMA_BINARY, "backtest", "--quiet", "--config", cfg.c_str(), "--runs-dir", runs.c_str(), "--data",
              data.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int st = 0;
    rusage ru{};
    ::wait4(pid, &st, 0, &ru);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return ru.ru_maxrss;
  };
  const long short_kb = peak_kb(ten, tmp("runs-rss10"));
  const long long_kb = peak_kb(kCandles, tmp("runs-rss66"));
  std::printf("peak RSS: 10 days %ld KiB, 66 days %ld KiB\n", short_kb, long_kb);
  EXPECT_LE(long_kb, short_kb + short_kb / 10 + 4096) << "6.6x the history must not cost more memory";
}

TEST_F(Backtest, SixtySixDaysTradeAtTheDocumentedCandlePrices) {
  const fs::path dir = backtest(kConfig, tmp("runs-66"));
  const auto bars = candles();
  ASSERT_GT(bars.size(), 19'000u);
  const auto fills = read_csv(dir / "trades.csv");
  ASSERT_GE(fills.size(), 100u) << "the 66-day backtest trades";
  std::size_t takers = 0, makers = 0;
  for (const auto& f : fills) {
    const std::int64_t t = std::stoll(f[0]);
    const std::int64_t px = cents(f[3]);
    // The candle the fill happened in: open <= t < open + 5 min.
    auto it = std::upper_bound(bars.begin(), bars.end(), t, [](std::int64_t v, const Candle& c) { return v < c.t; });
    ASSERT_NE(it, bars.begin());
    const Candle& c = *(it - 1);
    ASSERT_LT(t, c.t + kInterval) << "fill at " << t << " outside every candle";
    if (f[6] == "taker") {
      // Taker: the synthetic book at O, H, L or C is bid = p - tick, ask = p; a buy lifts the ask, a sell hits the bid.
      const std::int64_t p = f[2] == "buy" ? px : px + 1;
      EXPECT_TRUE(p == c.o || p == c.h || p == c.l || p == c.c)
          << f[2] << " taker fill " << f[3] << " at " << t << " not at a price of candle O " << c.o << " H " << c.h << " L " << c.l
          << " C " << c.c << (f[2] == "buy" ? "" : " (less one tick)");
      ++takers;
    } else {
      // Maker: a resting limit fills at its own price, which the candle's range reached.
      EXPECT_TRUE(px >= c.l && px <= c.h) << "maker fill " << f[3] << " outside candle [" << c.l << ", " << c.h << "]";
      ++makers;
    }
  }
  EXPECT_GT(takers, 0u);
  std::printf("fills %zu (taker %zu, maker %zu)\n", fills.size(), takers, makers);
}

TEST_F(Backtest, TwoDayFilesTradeExactlyAsTheWholeFile) {
  const std::size_t n = candles().size();
  const std::string days = tmp("days");
  fs::create_directories(days);
  write_rows(days + "/a_first.csv", 0, n / 2);       // plain CSV
  write_rows(days + "/b_second.csv.gz", n / 2, n);   // gzipped
  const fs::path whole = backtest(kConfig, tmp("runs-whole"));
  const fs::path parts = backtest(kConfig, tmp("runs-parts"), "--data '" + days + "/a_first.csv' --data '" + days + "/b_second.csv.gz'");
  const fs::path dir = backtest(edited("dir", {{"candles = [\"data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz\"]",
                                               "candles = [\"" + days + "\"]"}}),
                                tmp("runs-dir"));
  const std::string want = slurp(whole / "trades.csv");
  ASSERT_GT(want.size(), 1000u);
  // Compared whole (a diff of 800 rows would drown the log): equal bytes, else the sizes.
  const std::string p = slurp(parts / "trades.csv"), d = slurp(dir / "trades.csv");
  EXPECT_TRUE(p == want) << "two files given one by one: " << p.size() << " bytes vs " << want.size();
  EXPECT_TRUE(d == want) << "a directory of day files: " << d.size() << " bytes vs " << want.size();
}

TEST_F(Backtest, TwoInstrumentsPerInstrumentEquitySumsToThePortfolio) {
  // The same candles for a second symbol (BTCUSDC), with its own strategy instance.
  const std::string cfg = edited(
      "two", {{"[[instrument]]           # index 0",
               "[[backtest.input]]\ninstrument = 1\ncandles = [\"data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz\"]\n"
               "interval_s = 300\n\n[[instrument]]\nsymbol = \"BTCUSDC\"\nkind = \"linear-perpetual\"\ntick = \"0.01\"\nlot = \"0.001\"\n"
               "max_order_qty = \"0.05\"\nmax_position_qty = \"0.1\"\ntaker_fee = \"0.0004\"\nmax_leverage = 20\n\n[[instrument]]"},
              {"[strategy]\nkind = \"confluence\"\ninstrument = 0\norder_qty = \"0.01\"\n\n[strategy.confluence]",
               "[[strategy]]\nkind = \"confluence\"\nid = 1\ninstrument = 1\norder_qty = \"0.02\"\n\n[strategy.confluence]\n"
               "bar_source = \"venue-candles\"\ntimeframes_s = [300]\n\n[[strategy]]\nkind = \"confluence\"\nid = 0\ninstrument = 0\n"
               "order_qty = \"0.01\"\n\n[strategy.confluence]"}});
  const fs::path dir = backtest(cfg, tmp("runs-two"));
  std::istringstream in(slurp(dir / "equity.csv"));
  std::string line;
  std::getline(in, line);
  const auto head = split(line);
  ASSERT_EQ(head.size(), 6u) << line;
  EXPECT_TRUE((head[4] == "pnl_BTCUSDT" && head[5] == "pnl_BTCUSDC") || (head[4] == "pnl_BTCUSDC" && head[5] == "pnl_BTCUSDT")) << line;
  std::size_t rows = 0;
  bool both_moved = false;
  while (std::getline(in, line)) {
    const auto f = split(line);
    const double equity = std::stod(f[1]), a = std::stod(f[4]), b = std::stod(f[5]);
    EXPECT_NEAR(equity - 10'000.0, a + b, 0.011) << line;  // three figures each rounded to cents
    both_moved = both_moved || (a != 0 && b != 0);
    ++rows;
  }
  EXPECT_GT(rows, 100u);
  EXPECT_TRUE(both_moved) << "both instruments traded";
  std::map<std::string, int> per_symbol;
  for (const auto& f : read_csv(dir / "trades.csv")) ++per_symbol[f[1]];
  EXPECT_GT(per_symbol["BTCUSDT"], 10);
  EXPECT_GT(per_symbol["BTCUSDC"], 10);
}

TEST_F(Backtest, FundingCsvIsChargedAtItsTimestamps) {
  const auto bars = candles();
  // One funding time every 8 h, 150 s into a candle (between its synthetic points at 100 s and 200 s, so the
  // last trade before it is the candle's first extreme), with rates that change sign.
  const double rates[] = {0.0001, -0.0002, 0.0003, 0.00005};
  std::string csv = "datetime,time_ms,funding_rate\n";
  struct Due {
    std::int64_t t;
    double rate;
    std::size_t bar;
  };
  std::vector<Due> dues;
  for (std::size_t i = 12, k = 0; i + 1 < bars.size(); i += 96, ++k) {
    const std::int64_t t = bars[i].t + 150'000'000'000;
    const double r = rates[k % 4];
    dues.push_back({t, r, i});
    char row[96];
    std::snprintf(row, sizeof row, "x,%lld,%.8f\n", static_cast<long long>(t / 1'000'000), r);
    csv += row;
  }
  const std::string path = tmp("funding.csv");
  std::ofstream(path) << csv;
  const std::string cfg = edited("funding", {{"# funding = []", "funding = [\"" + path + "\"]"},
                                             {"funding_interval_s = 28800", "funding_interval_s = 0"}});
  const fs::path dir = backtest(cfg, tmp("runs-funding"));
  // Position at each funding time from the fills before it; the price is the last synthetic trade: L for a
  // rising candle (close >= open), H for a falling one.
  const auto fills = read_csv(dir / "trades.csv");
  double expected = 0;
  std::size_t charged = 0;
  for (const Due& d : dues) {
    double pos = 0;
    for (const auto& f : fills)
      if (std::stoll(f[0]) < d.t) pos += (f[2] == "buy" ? 1 : -1) * std::stod(f[4]);
    const Candle& c = bars[d.bar];
    const double px = static_cast<double>(c.c >= c.o ? c.l : c.h) / 100.0;
    if (std::fabs(pos) > 1e-12) ++charged;
    expected += pos * px * d.rate;  // longs pay a positive rate, shorts receive it
  }
  ASSERT_GT(charged, 3u) << "some funding times fall inside a position";
  const std::string summary = slurp(dir / "summary.json");
  const std::size_t p = summary.find("\"funding\":");
  ASSERT_NE(p, std::string::npos);
  const double got = std::stod(summary.substr(p + 10));
  EXPECT_NEAR(got, expected, 1e-6) << charged << " funding payments";
}

TEST_F(Backtest, BadCandleRowExitsThreeNamingFileAndLine) {
  const std::string path = tmp("bad.csv");
  std::ofstream(path) << "datetime,open,high,low,close,volume\n"
                         "2025-06-02 04:50:00,104890.99,104890.99,104700.03,104700.04,24.4\n"
                         "2025-06-02 04:55:00,104700.04,104765.48,104700.03,104765.48,15.1\n"
                         "2025-06-02 05:00:00,104765.48,abc,104700.03,104765.48,15.1\n";
  const auto r = run_enigma("backtest --quiet --config '" + kConfig + "' --runs-dir '" + tmp("runs-bad") + "' --data '" + path + "'");
  EXPECT_EQ(r.code, 3) << r.text;
  EXPECT_NE(r.text.find(path), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("line 4"), std::string::npos) << r.text;
}

// Found by fuzz_backtest_csv's invariants: a candle opening before the previous one's close put its frames
// before that candle's last ones, and a time after 2262 overflowed the frames' nanosecond receive times.
TEST_F(Backtest, OverlappingOrOutOfRangeCandleRowExitsThreeNamingTheLine) {
  const std::string head = "datetime,open,high,low,close,volume\n"
                           "2025-06-02 04:50:00,104890.99,104890.99,104700.03,104700.04,24.4\n";
  const struct {
    std::string row, why;
  } cases[] = {{"2025-06-02 04:51:00,104700.04,104765.48,104700.03,104765.48,15.1\n", "overlap"},
               {"2300-01-01 00:00:00,104700.04,104765.48,104700.03,104765.48,15.1\n", "after 2261"}};
  int i = 0;
  for (const auto& c : cases) {
    const std::string path = tmp("bad-" + std::to_string(++i) + ".csv");
    std::ofstream(path) << head << c.row;
    const auto r = run_enigma("backtest --quiet --config '" + kConfig + "' --runs-dir '" + tmp("runs-bad-" + std::to_string(i)) +
                              "' --data '" + path + "'");
    EXPECT_EQ(r.code, 3) << r.text;
    EXPECT_NE(r.text.find(path), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("line 3"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find(c.why), std::string::npos) << r.text;
  }
}

TEST_F(Backtest, ReplayRefusesABacktestConfig) {
  const auto r = run_enigma("replay --quiet --config '" + kConfig + "' --runs-dir '" + tmp("runs-replay") + "'");
  EXPECT_EQ(r.code, 3) << r.text;
  EXPECT_NE(r.text.find("[backtest]"), std::string::npos) << r.text;
}

}  // namespace
