// Regime adaptation (issue 15 item 7) driven through `enigma backtest --config` on the bundled 66 days of
// BTCUSDT 5-minute candles: the regime of every bar recomputed here from the candle CSV (ATR(14) and ADX(14)
// with +DI/-DI by Wilder's formulas, the README's rules) against the regime_change lines and summary.json's
// counts; a volatile threshold that makes every bar volatile puts the volatile leverage cap on every entry
// (seen through the simulated exchange's margin); a regime weight of 0 in every regime trades exactly as the
// base weight key at 0; bad keys exit 3 naming the key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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
using enigma::testing::read_trades_csv;
using enigma::testing::run_enigma;
using enigma::testing::shell;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kCandles = kSrc + "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz";
const std::string kConfig = kSrc + "/config/backtest.toml";

std::string tmp(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / ("regime-" + std::to_string(::getpid())) / name;
  fs::create_directories(p.parent_path());
  return p.string();
}

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
  double h, l, c;
};

// The candle CSV, decompressed by the system's gzip (not the engine's reader).
const std::vector<Candle>& candles() {
  static const std::vector<Candle> out = [] {
    std::vector<Candle> v;
    std::istringstream in(shell("gzip -dc '" + kCandles + "'", "").text);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
      v.push_back({to_ns(f[0]), std::stod(f[2]), std::stod(f[3]), std::stod(f[4])});
    }
    return v;
  }();
  return out;
}

enum Reg { ranging = 0, trending_up, trending_down, volatile_ };
const std::array<std::string, 4> kUpper{"RANGING", "TRENDING_UP", "TRENDING_DOWN", "VOLATILE"};
const std::array<std::string, 4> kKey{"ranging", "trending_up", "trending_down", "volatile"};

// The regime of every candle by the README's rules, from Wilder's ATR(n) and ADX(n): TR = max(h - l, |h - c'|,
// |l - c'|); ATR first the mean of the first n TRs, then (ATR * (n - 1) + TR) / n; +DM/-DM the larger move
// when positive; TR, +DM, -DM smoothed S = S - S / n + x after their first n-sum; DI = 100 * S(DM) / S(TR);
// DX = 100 |+DI - -DI| / (+DI + -DI); ADX first the mean of the first n DX, then Wilder-smoothed.
std::vector<Reg> wilder_regimes(const std::vector<Candle>& k, double volatile_pct, double trend_adx) {
  constexpr int n = 14;
  std::vector<Reg> out(k.size(), ranging);
  double atr = 0, str = 0, spdm = 0, smdm = 0, adx = 0, dx_sum = 0;
  int dx_count = 0;
  for (std::size_t i = 1; i < k.size(); ++i) {
    const double tr = std::max({k[i].h - k[i].l, std::fabs(k[i].h - k[i - 1].c), std::fabs(k[i].l - k[i - 1].c)});
    const double up = k[i].h - k[i - 1].h, down = k[i - 1].l - k[i].l;
    const double pdm = up > down && up > 0 ? up : 0.0, mdm = down > up && down > 0 ? down : 0.0;
    const int m = static_cast<int>(i);  // TRs so far
    if (m <= n) {
      atr += tr;
      if (m == n) atr /= n;
      str += tr, spdm += pdm, smdm += mdm;
    } else {
      atr = (atr * (n - 1) + tr) / n;
      str = str - str / n + tr, spdm = spdm - spdm / n + pdm, smdm = smdm - smdm / n + mdm;
    }
    double pdi = 0, mdi = 0;
    bool adx_ready = false;
    if (m >= n && str > 0) {
      pdi = 100 * spdm / str, mdi = 100 * smdm / str;
      const double dx = pdi + mdi > 0 ? 100 * std::fabs(pdi - mdi) / (pdi + mdi) : 0.0;
      if (dx_count < n) {
        dx_sum += dx;
        if (++dx_count == n) adx = dx_sum / n;
      } else {
        adx = (adx * (n - 1) + dx) / n;
      }
      adx_ready = dx_count >= n;
    }
    if (m >= n && atr / k[i].c * 100 > volatile_pct) out[i] = volatile_;
    else if (adx_ready && adx >= trend_adx && pdi > mdi) out[i] = trending_up;
    else if (adx_ready && adx >= trend_adx && mdi > pdi) out[i] = trending_down;
  }
  return out;
}

struct Change {
  std::string from, to, threshold, leverage_cap, weights;
  std::int64_t bar_time = 0;
};

std::string field(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=");
  if (at == std::string::npos) return {};
  const auto b = at + key.size() + 2;
  return line.substr(b, line.find(' ', b) - b);
}

std::vector<Change> regime_changes(const fs::path& run) {
  std::vector<Change> out;
  std::istringstream in(slurp(run / "logs" / "enigma.log"));
  for (std::string line; std::getline(in, line);) {
    if (line.find(" INFO strategy regime_change timeframe=0 ") == std::string::npos) continue;
    out.push_back({field(line, "from"), field(line, "to"), field(line, "threshold"), field(line, "leverage_cap"),
                   field(line, "weights"), std::stoll(field(line, "bar_time"))});
  }
  return out;
}

// summary.json's "regimes" entry of strategy 0: bars per regime (ranging, trending_up, trending_down,
// volatile) and changes.
struct Counts {
  std::array<long, 4> bars{-1, -1, -1, -1};
  long changes = -1;
};
Counts summary_counts(const fs::path& run) {
  const std::string j = slurp(run / "summary.json");
  Counts c;
  const auto at = j.find("\"regimes\": [{\"strategy_id\": 0, \"timeframe_s\": 300, \"bars\": {");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no regimes entry in summary.json";
    return c;
  }
  auto num = [&](const std::string& key) {
    const auto p = j.find("\"" + key + "\": ", at);
    return p == std::string::npos ? -1L : std::stol(j.substr(p + key.size() + 4));
  };
  for (std::size_t r = 0; r < 4; ++r) c.bars[r] = num(kKey[r]);
  c.changes = num("changes");
  return c;
}

std::string config_with(const std::string& name, const std::string& extra, const std::string& balance = "10000") {
  std::string text = slurp(kConfig);
  const std::string from = "initial_balance = \"10000\"";
  text.replace(text.find(from), from.size(), "initial_balance = \"" + balance + "\"");
  const std::string path = tmp(name + ".toml");
  std::ofstream(path) << text << "\n" << extra;
  return path;
}

fs::path backtest(const std::string& config, const std::string& name) {
  const std::string runs = tmp("runs-" + name);
  const auto r = run_enigma("backtest --quiet --config '" + config + "' --runs-dir '" + runs + "'");
  EXPECT_EQ(r.code, 0) << r.text;
  return first_run_dir(runs);
}

TEST(EngineRegime, EveryBarsRegimeMatchesWildersAtrAndAdxAndTheSummaryCountsThem) {
  const double pct = 0.25, adx = 30.0;  // not the defaults: the keys must act
  const std::string cfg = config_with("classify", R"([strategy.confluence.regime]
volatile_atr_pct = 0.25
trend_adx = 30
)");
  const fs::path run = backtest(cfg, "classify");
  const auto& k = candles();
  const std::vector<Reg> expected = wilder_regimes(k, pct, adx);
  const std::vector<Change> changes = regime_changes(run);
  ASSERT_GT(changes.size(), 10u);
  EXPECT_EQ(changes.front().from, "none");
  // The engine's regime of every bar from its first classified one: the last change at or before it.
  std::size_t first = 0;
  while (first < k.size() && k[first].t != changes.front().bar_time) ++first;
  ASSERT_LT(first, k.size()) << "the first regime_change names a candle's open time";
  ASSERT_LT(first, 100u) << "the scorer is ready within its longest lookback";
  std::array<long, 4> engine_bars{}, wilder_bars{};
  std::size_t c = 0, mismatches = 0, late_mismatches = 0;
  for (std::size_t i = first; i < k.size(); ++i) {
    while (c + 1 < changes.size() && changes[c + 1].bar_time <= k[i].t) ++c;
    const auto it = std::find(kUpper.begin(), kUpper.end(), changes[c].to);
    ASSERT_NE(it, kUpper.end()) << changes[c].to;
    const auto engine = static_cast<Reg>(it - kUpper.begin());
    ++engine_bars[engine];
    ++wilder_bars[expected[i]];
    if (engine != expected[i]) {
      ++mismatches;
      if (i > first + 300) ++late_mismatches;  // the seeds' difference has decayed by then
    }
  }
  // Every change line is a real change of the recomputed regime (bar by bar), up to the seeding window.
  EXPECT_EQ(late_mismatches, 0u);
  EXPECT_LE(mismatches, 10u);
  for (std::size_t r = 0; r < 4; ++r) EXPECT_GT(wilder_bars[r], 100) << kKey[r] << ": every regime occurs";
  const Counts s = summary_counts(run);
  for (std::size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(s.bars[r], engine_bars[r]) << kKey[r];
    EXPECT_NEAR(static_cast<double>(s.bars[r]), static_cast<double>(wilder_bars[r]), 10.0) << kKey[r];
  }
  EXPECT_EQ(s.changes, static_cast<long>(changes.size()) - 1) << "the first classification is not a change";
  // Each line names what the new regime put in force: the defaults (README) for these tables.
  const std::map<std::string, std::pair<std::string, std::string>> in_force{
      {"RANGING", {"40", "5"}}, {"TRENDING_UP", {"30", "10"}}, {"TRENDING_DOWN", {"30", "10"}}, {"VOLATILE", {"60", "2"}}};
  for (const Change& ch : changes) {
    EXPECT_EQ(ch.threshold, in_force.at(ch.to).first) << ch.to;
    EXPECT_EQ(ch.leverage_cap, in_force.at(ch.to).second) << ch.to;
    EXPECT_EQ(ch.weights, "15/15/10/10/10/20/10/10/20/10") << ch.to;
  }
  // The text summary carries the same counts.
  const auto out = run_enigma("backtest --config '" + cfg + "' --runs-dir '" + tmp("runs-classify-text") + "'");
  EXPECT_NE(out.text.find("strategy 0 regimes (300 s bars): ranging " + std::to_string(s.bars[0]) + " trending_up " +
                          std::to_string(s.bars[1]) + " trending_down " + std::to_string(s.bars[2]) + " volatile " +
                          std::to_string(s.bars[3]) + "  changes " + std::to_string(s.changes)),
            std::string::npos)
      << out.text;
}

// With every bar volatile, every entry carries the volatile leverage cap. Seen through margin: a 0.01 BTC
// entry needs notional / leverage of margin; with 400 of balance, leverage 2 needs more than the balance
// (every price in the data is above 80000, so >= 400 before fees) and leverage 5 needs less than 250.
TEST(EngineRegime, EveryBarVolatileEntriesCarryTheVolatileLeverageCap) {
  double lo = 1e18, hi = 0;
  for (const Candle& c : candles()) lo = std::min(lo, c.l), hi = std::max(hi, c.h);
  ASSERT_GT(lo * 0.01 / 2, 400.0);
  ASSERT_LT(hi * 0.01 / 5, 250.0);
  std::map<int, fs::path> runs;
  for (int cap : {2, 5}) {
    const std::string cfg = config_with("volatile" + std::to_string(cap),
                                        "[strategy.confluence.regime]\nvolatile_atr_pct = 0.001\n"
                                        "[strategy.confluence.regime.volatile]\nthreshold = 30\nleverage_cap = " +
                                            std::to_string(cap) + "\n",
                                        "400");
    runs[cap] = backtest(cfg, "volatile" + std::to_string(cap));
    const Counts s = summary_counts(runs[cap]);
    EXPECT_EQ(s.bars[ranging] + s.bars[trending_up] + s.bars[trending_down], 0);
    EXPECT_GT(s.bars[volatile_], static_cast<long>(candles().size()) - 100);
    EXPECT_EQ(s.changes, 0);
    const auto changes = regime_changes(runs[cap]);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].to, "VOLATILE");
    EXPECT_EQ(changes[0].threshold, "30");
    EXPECT_EQ(changes[0].leverage_cap, std::to_string(cap));
  }
  EXPECT_TRUE(read_trades_csv(runs[2]).empty()) << "no entry is affordable at 2x";
  EXPECT_GT(read_trades_csv(runs[5]).size(), 20u) << "entries fill at 5x";
}

std::vector<std::string> trades_of(const fs::path& run) {
  std::vector<std::string> out;
  for (const auto& t : read_trades_csv(run)) out.push_back(t.time_ns + " " + t.side + " " + t.price + " " + t.qty);
  return out;
}

// A weight replaced by 0 in every regime scores every bar as the base weight 0 does: the same trades; a
// weight replaced in one regime only changes the trades.
TEST(EngineRegime, ARegimeWeightOfZeroEverywhereTradesAsTheBaseWeightKeyAtZero) {
  std::string every;
  for (const std::string& r : kKey) every += "[strategy.confluence.regime." + r + ".weights]\nbollinger = 0\n";
  const auto base0 = trades_of(backtest(config_with("base0", "[strategy.confluence.weights]\nbollinger = 0\n"), "base0"));
  const auto regime0 = trades_of(backtest(config_with("regime0", every), "regime0"));
  const auto plain = trades_of(backtest(config_with("plain", ""), "plain"));
  const auto ranging0 = trades_of(
      backtest(config_with("ranging0", "[strategy.confluence.regime.ranging.weights]\nbollinger = 0\n"), "ranging0"));
  ASSERT_GT(base0.size(), 20u);
  EXPECT_EQ(regime0, base0);
  EXPECT_NE(plain, base0) << "the Bollinger term matters on this data";
  EXPECT_NE(ranging0, plain);
  EXPECT_NE(ranging0, base0);
}

// `enigma strategies` lists what ConfluenceConfig::read asks for: the regime tables' keys with their defaults.
TEST(EngineRegime, StrategiesListsTheRegimeKeysWithTheirDefaults) {
  const auto r = run_enigma("strategies");
  ASSERT_EQ(r.code, 0) << r.text;
  for (const std::string& line :
       {"    weights.rsi = 15  [0, 130]", "    regime.volatile_atr_pct = 3", "    regime.trend_adx = 25",
        "    regime.ranging.threshold = 40", "    regime.ranging.leverage_cap = 5", "    regime.trending_up.threshold = 30",
        "    regime.trending_down.leverage_cap = 10", "    regime.volatile.threshold = 60",
        "    regime.volatile.leverage_cap = 2", "    regime.volatile.weights.order_flow = 10"})
    EXPECT_NE(r.text.find(line), std::string::npos) << line;
}

TEST(EngineRegime, BadRegimeKeysExitThreeNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[strategy.confluence.regime.volatile]\ntreshold = 50\n", "strategy.confluence.regime.volatile.treshold"},
      {"[strategy.confluence.regime.sideways]\nthreshold = 50\n", "strategy.confluence.regime.sideways"},
      {"[strategy.confluence.regime.ranging.weights]\nrsii = 5\n", "strategy.confluence.regime.ranging.weights.rsii"},
      {"[strategy.confluence.regime.ranging]\nleverage_cap = 0.5\n", "strategy.confluence.regime.ranging.leverage_cap"},
      {"[strategy.confluence.regime.trending_up.weights]\nrsi = 100\n", "strategy.confluence.regime.trending_up.weights"},
      {"[strategy.confluence.weights]\nmacd = -1\n", "strategy.confluence.weights.macd"},
      {"[strategy.confluence.regime]\ntrend_adx = 120\n", "strategy.confluence.regime.trend_adx"},
  };
  for (const auto& [extra, key] : cases) {
    const auto r = run_enigma("backtest --quiet --config '" + config_with("bad", extra) + "' --runs-dir '" +
                              tmp("runs-bad") + "'");
    EXPECT_EQ(r.code, 3) << extra << r.text;
    EXPECT_NE(r.text.find(key), std::string::npos) << extra << r.text;
  }
  // The tuned parameters' min_score is the threshold in every regime: a regime threshold next to it is refused.
  std::string text = slurp(kConfig);
  const std::string at = "take_profit_atr_mult = 3.0\n";
  text.replace(text.find(at), at.size(),
               at + "rsi_period = 14\nrsi_oversold = 30\nrsi_overbought = 70\nmin_score = 40\nstop_loss_roi = 0.5\n"
                    "take_profit_roi = 1\nleverage = 20\n");
  const std::string path = tmp("tuned.toml");
  std::ofstream(path) << text << "\n[strategy.confluence.regime.ranging]\nthreshold = 50\n";
  const auto r = run_enigma("backtest --quiet --config '" + path + "' --runs-dir '" + tmp("runs-bad") + "'");
  EXPECT_EQ(r.code, 3) << r.text;
  EXPECT_NE(r.text.find("regime.ranging.threshold"), std::string::npos) << r.text;
}

}  // namespace
