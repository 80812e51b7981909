// `enigma backtest` through the binary: the bundled 66 days of BTCUSDT 5-minute candles through replay's
// pipeline and simulated exchange. Expectations come from the candle CSV itself (read here) and hand
// computations, never from the figures under test: every fill obeys the documented candle-fill rules, a
// split history trades exactly as the whole, two instruments' pnl columns add up to the portfolio's, a
// funding CSV is charged at its timestamps and to the round trip open then (round_trips.csv, metrics.json), a bad
// row is exit 3 naming file and line, and peak memory does not grow with the length of the history.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
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

// A number after `"key": ` in a JSON text, searching from `from` (the writer's own spacing; null is NaN).
double json_number(const std::string& text, const std::string& key, std::size_t from = 0) {
  const std::size_t p = text.find("\"" + key + "\": ", from);
  if (p == std::string::npos) {
    ADD_FAILURE() << "no " << key;
    return NAN;
  }
  const std::string v = text.substr(p + key.size() + 4);
  return v.starts_with("null") ? NAN : std::stod(v);
}

// FIFO round trips by hand over trades.csv (one instrument, multiplier 1), each charged the funding paid while
// its lot was open: a payment goes to the lots open at its time, by quantity.
struct HandTrip {
  std::int64_t entry_ns, exit_ns;
  int side;
  double qty, gross, fees, funding;
};
struct HandPayment {
  std::int64_t t;
  double amount;  // paid by the position (negative: received)
};
std::vector<HandTrip> hand_trips(const std::vector<std::vector<std::string>>& fills, const std::vector<HandPayment>& pays,
                                 double* funding_left) {
  struct Lot {
    std::int64_t t;
    int side;
    double qty, price, fee_per_qty, funding;
  };
  std::vector<Lot> open;  // oldest first
  std::vector<HandTrip> trips;
  std::size_t next = 0;
  auto charge_until = [&](std::int64_t t) {  // payments strictly before t (no fill shares a funding time here)
    for (; next < pays.size() && pays[next].t < t; ++next) {
      double total = 0;
      for (const Lot& l : open) total += l.qty;
      if (total <= 0) {
        *funding_left += pays[next].amount;
        continue;
      }
      for (Lot& l : open) l.funding += pays[next].amount * l.qty / total;
    }
  };
  for (const auto& f : fills) {
    const std::int64_t t = std::stoll(f[0]);
    charge_until(t);
    const int side = f[2] == "buy" ? 1 : -1;
    const double price = std::stod(f[3]), fee = std::stod(f[5]);
    double qty = std::stod(f[4]);
    const double fee_per_qty = fee / qty;
    while (qty > 1e-12 && !open.empty() && open.front().side != side) {
      Lot& lot = open.front();
      const double q = std::min(qty, lot.qty);
      const double funding = lot.funding * q / lot.qty;
      trips.push_back({lot.t, t, lot.side, q, lot.side * q * (price - lot.price), (lot.fee_per_qty + fee_per_qty) * q, funding});
      lot.funding -= funding;
      lot.qty -= q;
      qty -= q;
      if (lot.qty <= 1e-12) open.erase(open.begin());
    }
    if (qty > 1e-12) open.push_back({t, side, qty, price, fee_per_qty, 0});
  }
  charge_until(INT64_MAX);
  for (const Lot& l : open) *funding_left += l.funding;
  std::stable_sort(trips.begin(), trips.end(), [](const HandTrip& a, const HandTrip& b) { return a.exit_ns < b.exit_ns; });
  return trips;
}

TEST_F(Backtest, FundingIsChargedToTheRoundTripOpenAtItsTime) {
  const auto bars = candles();
  // Run A without funding: its round trips (by hand) pick the trip that a funding payment will turn from a
  // winner after fees into a loser.
  const fs::path plain = backtest(edited("no-funding", {{"funding_interval_s = 28800", "funding_interval_s = 0"}}),
                                  tmp("runs-no-funding"));
  const auto plain_fills = read_csv(plain / "trades.csv");
  double none = 0;
  const auto plain_trips = hand_trips(plain_fills, {}, &none);
  ASSERT_GT(plain_trips.size(), 50u);
  // Funding times as in FundingCsvIsChargedAtItsTimestamps (every 8 h, 150 s into a candle, so that the last trade
  // before it is the candle's first extreme: L for a rising candle, H for a falling one).
  struct Due {
    std::int64_t t;
    std::string rate;
    std::size_t bar;
  };
  std::vector<Due> dues;
  const char* rates[] = {"0.00010000", "-0.00020000", "0.00030000", "0.00005000"};
  for (std::size_t i = 12, k = 0; i + 1 < bars.size(); i += 96, ++k) dues.push_back({bars[i].t + 150'000'000'000, rates[k % 4], i});
  auto first_extreme = [&](std::size_t bar) {
    const Candle& c = bars[bar];
    return static_cast<double>(c.c >= c.o ? c.l : c.h) / 100.0;
  };
  auto position_before = [](const std::vector<std::vector<std::string>>& fills, std::int64_t t) {
    double pos = 0;
    for (const auto& f : fills)
      if (std::stoll(f[0]) < t) pos += (f[2] == "buy" ? 1 : -1) * std::stod(f[4]);
    return pos;
  };
  // The target: a trip that wins after fees, with no scheduled funding time inside it, the only lot open at some
  // candle's 150 s point inside it. There it pays a rate that costs its net after fees plus 1 (longs pay a
  // positive rate, shorts a negative one).
  std::size_t target = plain_trips.size();
  for (std::size_t k = 0; k < plain_trips.size() && target == plain_trips.size(); ++k) {
    const HandTrip& tr = plain_trips[k];
    if (tr.gross - tr.fees < 0.5) continue;
    bool scheduled_inside = false;
    for (const Due& d : dues) scheduled_inside = scheduled_inside || (d.t > tr.entry_ns && d.t < tr.exit_ns);
    if (scheduled_inside) continue;
    for (std::size_t b = 0; b + 1 < bars.size(); ++b) {
      const std::int64_t t = bars[b].t + 150'000'000'000;
      if (t <= tr.entry_ns || t >= tr.exit_ns) continue;
      if (std::fabs(position_before(plain_fills, t) - tr.side * tr.qty) > 1e-12) continue;
      const double px = first_extreme(b);
      const double rate = std::ceil((tr.gross - tr.fees + 1.0) / (tr.qty * px) * 1e8) / 1e8;
      char text[32];
      std::snprintf(text, sizeof text, "%.8f", tr.side * rate);
      dues.push_back({t, text, b});
      target = k;
      break;
    }
  }
  ASSERT_LT(target, plain_trips.size()) << "no trip to turn into a loser";
  std::sort(dues.begin(), dues.end(), [](const Due& a, const Due& b) { return a.t < b.t; });
  std::string csv = "datetime,time_ms,funding_rate\n";
  for (const Due& d : dues) csv += "x," + std::to_string(d.t / 1'000'000) + "," + d.rate + "\n";
  const std::string path = tmp("funding-trips.csv");
  std::ofstream(path) << csv;
  const fs::path dir = backtest(edited("funding-trips", {{"# funding = []", "funding = [\"" + path + "\"]"},
                                                         {"funding_interval_s = 28800", "funding_interval_s = 0"}}),
                                tmp("runs-funding-trips"));
  const auto fills = read_csv(dir / "trades.csv");
  ASSERT_TRUE(slurp(dir / "trades.csv") == slurp(plain / "trades.csv")) << "a few dollars of funding change no order";

  // Each payment by hand: position before the funding time x the last trade's price x the rate.
  std::vector<HandPayment> pays;
  double run_total = 0;
  std::size_t charged = 0;
  for (const Due& d : dues) {
    const double pos = position_before(fills, d.t);
    if (std::fabs(pos) < 1e-12) continue;
    ++charged;
    pays.push_back({d.t, pos * first_extreme(d.bar) * std::stod(d.rate)});
    run_total += pays.back().amount;
  }
  ASSERT_GT(charged, 3u);
  double left = 0;
  const auto want = hand_trips(fills, pays, &left);
  EXPECT_NEAR(left, 0.0, 1e-9) << "the end of the data flattens: no funding outside a round trip";

  // round_trips.csv: entry_ns,exit_ns,symbol,strategy_id,side,qty,entry_price,exit_price,gross,fees,funding,net
  const auto got = read_csv(dir / "round_trips.csv");
  ASSERT_EQ(got.size(), want.size());
  double sum_funding = 0;
  std::size_t with_funding = 0, wins = 0, wins_before_funding = 0;
  double won = 0, lost = 0, net_total = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& g = got[i];
    const HandTrip& w = want[i];
    ASSERT_EQ(g.size(), 12u);
    EXPECT_EQ(std::stoll(g[0]), w.entry_ns) << "trip " << i;
    EXPECT_EQ(std::stoll(g[1]), w.exit_ns) << "trip " << i;
    EXPECT_EQ(g[4], w.side > 0 ? "long" : "short") << "trip " << i;
    EXPECT_NEAR(std::stod(g[5]), w.qty, 1e-12) << "trip " << i;
    EXPECT_NEAR(std::stod(g[8]), w.gross, 1e-6) << "trip " << i;
    EXPECT_NEAR(std::stod(g[9]), w.fees, 1e-6) << "trip " << i;
    EXPECT_NEAR(std::stod(g[10]), w.funding, 1e-6) << "trip " << i;
    const double net = w.gross - w.fees - w.funding;
    EXPECT_NEAR(std::stod(g[11]), net, 1e-6) << "trip " << i;
    sum_funding += std::stod(g[10]);
    with_funding += w.funding != 0;
    wins += net > 0;
    wins_before_funding += w.gross - w.fees > 0;
    (net > 0 ? won : lost) += std::fabs(net);
    net_total += net;
  }
  EXPECT_GT(with_funding, 3u);
  // The target trip: a winner after fees, a loser after its funding.
  const HandTrip& tgt = plain_trips[target];
  const auto it = std::find_if(want.begin(), want.end(), [&](const HandTrip& w) { return w.entry_ns == tgt.entry_ns && w.exit_ns == tgt.exit_ns; });
  ASSERT_NE(it, want.end());
  EXPECT_GT(it->gross - it->fees, 0.5);
  EXPECT_LT(it->gross - it->fees - it->funding, -0.9);
  EXPECT_LT(wins, wins_before_funding) << "the target counts as a loss";

  // The run's total (summary.json) = the trips' funding + nothing outside them; metrics.json says the same.
  const std::string summary = slurp(dir / "summary.json");
  const double total = json_number(summary, "funding", summary.find("\"pnl\""));
  EXPECT_NEAR(total, run_total, 1e-6);
  EXPECT_NEAR(sum_funding, total, 1e-6);
  const std::string metrics = slurp(dir / "metrics.json");
  const std::size_t top = metrics.find("\"start_ns\"");
  ASSERT_NE(top, std::string::npos);
  const std::size_t split_at = metrics.find("\"funding_split\"");
  ASSERT_NE(split_at, std::string::npos);
  EXPECT_NEAR(json_number(metrics, "run_total", split_at), total, 1e-6);
  EXPECT_NEAR(json_number(metrics, "round_trips", split_at), sum_funding, 1e-6);
  EXPECT_EQ(json_number(metrics, "open_at_end", split_at), 0.0);
  EXPECT_EQ(json_number(metrics, "unattributed", split_at), 0.0);
  // Win rate, profit factor and expectancy over the trips' net after fees and funding.
  const double n = static_cast<double>(want.size());
  EXPECT_EQ(json_number(metrics, "trades", top), n);
  EXPECT_EQ(json_number(metrics, "wins", top), static_cast<double>(wins));
  EXPECT_NEAR(json_number(metrics, "win_rate", top), static_cast<double>(wins) / n, 1e-12);
  EXPECT_NEAR(json_number(metrics, "profit_factor", top), won / lost, 1e-9);
  EXPECT_NEAR(json_number(metrics, "expectancy", top), net_total / n, 1e-9);
  EXPECT_NEAR(json_number(metrics, "funding", top), sum_funding, 1e-6);
  EXPECT_NEAR(json_number(metrics, "win_rate", metrics.find("\"by_instrument\"")), static_cast<double>(wins) / n, 1e-12);
  std::printf("%zu trips, %zu charged funding (total %.6f); wins %zu after funding vs %zu after fees only\n", want.size(),
              with_funding, total, wins, wins_before_funding);
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

// ---- every bundled Binance capture, spot and USD-M, in one run ------------------------------------------
const std::string kBinanceL2 = kSrc + "/config/backtest-binance-l2.toml";

struct BookLine {
  bool synced{false};
  std::uint64_t updates{0}, checks{0}, mismatches{0}, gaps{0};
};

// summary.json "books": "<venue> <symbol>" -> its line (read with plain string search, not the engine's code).
std::map<std::string, BookLine> summary_books(const fs::path& run_dir) {
  const std::string j = slurp(run_dir / "summary.json");
  std::map<std::string, BookLine> out;
  const std::size_t list = j.find("\"books\": [");
  if (list == std::string::npos) return out;
  const std::size_t end = j.find(']', list);
  auto number = [&](std::size_t from, const std::string& key) -> std::uint64_t {
    const std::size_t p = j.find("\"" + key + "\": ", from);
    return p == std::string::npos ? 0 : std::stoull(j.substr(p + key.size() + 4));
  };
  auto text = [&](std::size_t from, const std::string& key) {
    const std::size_t p = j.find("\"" + key + "\": \"", from) + key.size() + 5;
    return j.substr(p, j.find('"', p) - p);
  };
  for (std::size_t p = j.find('{', list); p < end; p = j.find('{', p + 1)) {
    BookLine b;
    b.synced = j.compare(j.find("\"synced\": ", p) + 10, 4, "true") == 0;
    b.updates = number(p, "updates");
    b.checks = number(p, "checks");
    b.mismatches = number(p, "mismatches");
    b.gaps = number(p, "gaps");
    out[text(p, "venue") + " " + text(p, "symbol")] = b;
  }
  return out;
}

// The symbols whose depth stream a capture carries, read from its own stream names ("btcusdt@depth...").
std::set<std::string> depth_symbols(const std::string& file) {
  std::set<std::string> out;
  const std::string text = shell("gzip -dc '" + file + "'", "").text;
  for (std::size_t p = text.find("\"stream\":\""); p != std::string::npos; p = text.find("\"stream\":\"", p + 1)) {
    const std::size_t at = text.find('@', p + 10);
    if (text.compare(at, 7, "@depth@") != 0) continue;
    std::string sym = text.substr(p + 10, at - p - 10);
    for (char& c : sym) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.insert(sym);
  }
  return out;
}

TEST_F(Backtest, EveryBinanceCaptureSpotAndUsdmInOneRunBuildsAndChecksEveryBook) {
  const std::string d = kSrc + "/data/binance/";
  const std::vector<std::string> usdm = {d + "hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz",
                                         d + "hftbacktest_usdm_ETHUSDT_ws_depth_trade_bookTicker_raw_20240808.gz",
                                         d + "cryptofeed_usdm_ws_depth100ms_bookTicker_kline_aggTrade_4sym_20210722.raw.txt.gz"};
  const std::vector<std::string> spot = {d + "hftbacktest_spot_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz",
                                         d + "hftbacktest_spot_BTCUSDT_ws_depth_trade_bookTicker_raw_20240809.gz",
                                         d + "cryptofeed_spot_ws_depth100ms_bookTicker_kline_aggTrade_4sym_20211012.raw.txt.gz"};
  std::set<std::string> expected;  // "<venue> <SYMBOL>" for every depth stream in the captures
  for (const auto& f : usdm)
    for (const auto& s : depth_symbols(f)) expected.insert("binance-usdm " + s);
  for (const auto& f : spot)
    for (const auto& s : depth_symbols(f)) expected.insert("binance-spot " + s);
  ASSERT_EQ(expected.size(), 11u);  // 2 + 4 USD-M, 1 + 4 spot: BTCUSDT on both venues

  const fs::path dir = backtest(kBinanceL2, tmp("runs-binance-l2"));
  const auto books = summary_books(dir);
  std::set<std::string> got;
  for (const auto& [name, b] : books) {
    got.insert(name);
    EXPECT_TRUE(b.synced) << name;
    EXPECT_EQ(b.mismatches, 0u) << name;
    EXPECT_EQ(b.gaps, 0u) << name;
    EXPECT_GT(b.updates, 0u) << name;
  }
  ASSERT_EQ(got, expected);
  // The venues' own top of book at the same update id, as ../shared/data/SOURCES.md records it for each capture
  // checked on its own: BTCUSDT spot and USD-M are two books with their own venue's rules and quotes.
  EXPECT_EQ(books.at("binance-usdm BTCUSDT").checks, 629u);
  EXPECT_EQ(books.at("binance-usdm ETHUSDT").checks, 551u);
  EXPECT_EQ(books.at("binance-spot BTCUSDT").checks, 1072u);
  // Merging the two venues changes no book: each equals that venue's files replayed alone.
  auto alone = [&](const std::string& venue, const std::vector<std::string>& files, const std::string& rest) {
    std::string args = "replay --quiet --venue " + venue + " --runs-dir '" + tmp("runs-alone-" + venue) + "' --data";
    for (const auto& f : files) args += " '" + f + "'";
    args += " '" + d + rest + "'";
    const auto r = run_enigma(args);
    EXPECT_EQ(r.code, 0) << r.text;
    return summary_books(first_run_dir(tmp("runs-alone-" + venue)));
  };
  std::uint64_t compared = 0;
  for (const auto& part : {alone("binance-usdm", usdm, "cryptofeed_usdm_rest_depth_snapshots_4sym_20210722.responses.jsonl.gz"),
                           alone("binance-spot", spot, "cryptofeed_spot_rest_depth_snapshots_4sym_20211012.responses.jsonl.gz")})
    for (const auto& [name, b] : part) {
      ASSERT_TRUE(books.count(name)) << name;
      EXPECT_EQ(books.at(name).updates, b.updates) << name;
      EXPECT_EQ(books.at(name).checks, b.checks) << name;
      ++compared;
    }
  EXPECT_EQ(compared, expected.size());
}

TEST_F(Backtest, BinanceL2RunStaysUnder64MegabytesPeak) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's quarantine and shadow memory are not the engine's footprint";
#endif
  const std::string runs = tmp("runs-binance-l2-rss");
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(ENIGMA_BINARY, ENIGMA_BINARY, "backtest", "--quiet", "--config", kBinanceL2.c_str(), "--runs-dir", runs.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int st = 0;
  rusage ru{};
  ::wait4(pid, &st, 0, &ru);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  std::printf("peak RSS, every Binance capture in one run: %ld KiB\n", ru.ru_maxrss);
  EXPECT_LT(ru.ru_maxrss, 64 * 1024);
}

TEST_F(Backtest, CapturesOfAnotherVenueFamilyOrCandlesWithoutAnInstrumentAreRefusedNamingTheKey) {
  const std::string cfg = slurp(kBinanceL2);
  struct Case {
    std::string from, to, key;
  };
  for (const Case& c : {Case{"venue = \"binance-spot\"", "venue = \"kucoin-spot\"", "backtest.input[2].venue"},
                        Case{"venue = \"binance-spot\"", "venue = \"binance-spot\"\ncandles = [\"x.csv\"]", "venue"},
                        Case{"instrument = 0           # USD-M", "venue = \"binance-spot\"\ninstrument = 0 #", "venue"},
                        Case{"venue = \"binance-usdm\"\ncaptures", "captures", "instrument"}}) {
    std::string text = cfg;
    const std::size_t p = text.find(c.from);
    ASSERT_NE(p, std::string::npos) << c.from;
    text.replace(p, c.from.size(), c.to);
    const std::string path = tmp("bad-l2.toml");
    std::ofstream(path) << text;
    const auto r = run_enigma("backtest --quiet --config '" + path + "' --runs-dir '" + tmp("runs-bad-l2") + "'");
    EXPECT_EQ(r.code, 3) << c.to << "\n" << r.text;
    EXPECT_NE(r.text.find(c.key), std::string::npos) << c.to << "\n" << r.text;
  }
}

}  // namespace
