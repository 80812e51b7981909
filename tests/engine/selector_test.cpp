// [selector] (strategy/selector.hpp) through `enigma replay` on the bundled BTCUSDT capture: imbalance (id 0) and
// volume-profile (id 1) share BTCUSDT. The test reads trades.csv itself: it follows the position, books each
// round trip's price P&L when it is flat again, and recomputes UCB1 (mean + c * sqrt(ln N / n), untried arms
// first) before every entry from flat: each must be the arm the formula picks. Committee: with one arm's weight
// alone above the quorum and a 1 ms vote window every entry is that arm's, and the other way round with the
// weights swapped; with learned weights every entry's arm holds at least half the accuracy-weighted vote
// (recomputed from trades.csv). Bad [selector] keys exit 3 naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::first_run_dir;
using enigma::testing::run_enigma;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kData = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";
constexpr std::int64_t kLatencyNs = 500'000;  // config/replay.toml [sim] order_latency_us: a market order fills this late

const std::string kArms = R"([[strategy]]
kind = "imbalance"
id = 0
instrument = 0
order_qty = "0.01"
[strategy.imbalance]
entry_imbalance = 0.6
cooldown_ms = 2000
stop_ticks = 400
take_profit_ticks = 800

[[strategy]]
kind = "volume-profile"
id = 1
instrument = 0
order_qty = "0.01"
[strategy.volume_profile]
window_trades = 500
bucket_ticks = 10
breakout_ticks = 5
rejection_trades = 5

)";

std::string write_config(const std::string& name, const std::string& selector) {
  const std::string text = enigma::testing::with_strategy_tables(slurp(kSrc + "/config/replay.toml"), kArms + selector);
  EXPECT_FALSE(text.empty());
  const fs::path p = fs::path(::testing::TempDir()) / ("selector-" + name + ".toml");
  std::ofstream(p) << text;
  return p.string();
}

fs::path replay(const std::string& config, const std::string& name) {
  const std::string runs = ::testing::TempDir() + "/selector-runs-" + name;
  fs::remove_all(runs);
  const auto r = run_enigma("replay --quiet --config '" + config + "' --data '" + kData + "' --runs-dir '" + runs + "'");
  EXPECT_EQ(r.code, 0) << r.text;
  return first_run_dir(runs);
}

// The arm an entry fill belongs to, by its reason: imbalance's own reasons, or volume-profile's signal_*. A
// bracket leg's fill carries its entry's reason.
int arm_of(const std::string& reason) {
  if (reason.starts_with("imbalance_")) return 0;
  if (reason.starts_with("signal_")) return 1;
  return -1;  // the end-of-data flatten
}

// Entries from flat in trades.csv, each with the arm it belongs to; `ucb_c` >= 0: also check each against
// UCB1 over the round trips booked before it.
struct Walk {
  std::vector<int> chosen;  // arm of each entry from flat that was a selector's decision
  // The chosen arm's share of the learned vote weights ((wins + 1) / (trips + 2) each, weights 1) when it
  // entered, from the round trips booked before it (a win: P&L above 1e-9).
  std::vector<double> learned_share;
  std::uint64_t wins[2] = {0, 0};
  std::size_t continuations = 0;  // entries from flat sent while the owner still held the position (a reversal)
};

Walk walk(const fs::path& dir, double ucb_c) {
  Walk w;
  double sum[2] = {0, 0};
  std::uint64_t n[2] = {0, 0};
  double net = 0, flow = 0;
  int owner = -1;
  std::int64_t flat_at = 0;  // time of the fill that made the position flat
  for (const auto& c : enigma::testing::read_trades_csv(dir)) {
    EXPECT_EQ(c.cells, 10u);
    const std::int64_t t = std::stoll(c.time_ns);
    const double px = std::stod(c.price), qty = std::stod(c.qty);
    const bool buy = c.side == "buy";
    const int arm = arm_of(c.reason);
    if (std::fabs(net) < 1e-12) {
      EXPECT_GE(arm, 0) << "a flatten fill while flat: " << c.time_ns;
      if (owner >= 0 && t - kLatencyNs < flat_at) {  // sent before the owner was flat: still its position
        EXPECT_EQ(arm, owner) << c.time_ns;
        ++w.continuations;
      } else {
        if (ucb_c >= 0) {
          int pick = -1;
          double best = -std::numeric_limits<double>::infinity();
          const double total = static_cast<double>(n[0] + n[1]);
          for (int k = 0; k < 2 && pick < 0; ++k)
            if (n[k] == 0) pick = k;
          for (int k = 0; k < 2 && n[0] && n[1]; ++k) {
            const double s = sum[k] / static_cast<double>(n[k]) + ucb_c * std::sqrt(std::log(total) / static_cast<double>(n[k]));
            if (s > best) best = s, pick = k;
          }
          EXPECT_EQ(arm, pick) << "entry at " << c.time_ns << " after " << n[0] << "+" << n[1] << " trips";
        }
        const double acc0 = (static_cast<double>(w.wins[0]) + 1) / (static_cast<double>(n[0]) + 2);
        const double acc1 = (static_cast<double>(w.wins[1]) + 1) / (static_cast<double>(n[1]) + 2);
        w.learned_share.push_back((arm == 0 ? acc0 : acc1) / (acc0 + acc1));
        w.chosen.push_back(arm);
      }
      owner = arm;
    } else if (arm >= 0) {
      EXPECT_EQ(arm, owner) << "a fill of the other arm while " << owner << " holds the position: " << c.time_ns;
    }
    net += buy ? qty : -qty;
    flow += buy ? -px * qty : px * qty;
    if (std::fabs(net) < 1e-12 && owner >= 0) {
      sum[owner] += flow;
      ++n[owner];
      if (flow > 1e-9) ++w.wins[owner];
      flow = 0;
      flat_at = t;
    }
  }
  return w;
}

std::uint64_t json_number(const std::string& j, const std::string& key, std::size_t from = 0) {
  const std::size_t p = j.find("\"" + key + "\": ", from);
  return p == std::string::npos ? ~0ull : std::stoull(j.substr(p + key.size() + 4));
}

TEST(EngineSelector, UcbSendsEachEntryToTheArmUcb1PicksFromTheRoundTripsSoFar) {
  const fs::path dir = replay(write_config("ucb", "[selector]\nkind = \"ucb\"\nmembers = [0, 1]\nexploration = 1.0\n"), "ucb");
  const std::string summary = slurp(dir / "summary.json");
  const std::size_t sel = summary.find("\"selector\": {\"kind\": \"ucb\"");
  ASSERT_NE(sel, std::string::npos) << summary;
  // An entry that never filled is booked as a zero-reward trip the fills cannot show: this data has none.
  ASSERT_EQ(json_number(summary, "lapsed", sel), 0u) << summary;
  EXPECT_EQ(json_number(summary, "hot_path_allocations_after_warmup"), 0u) << "the selector allocates nothing per event";
  const Walk w = walk(dir, 1.0);
  std::size_t picks[2] = {0, 0};
  for (const int a : w.chosen) ++picks[a];
  std::printf("ucb: %zu entries chosen (imbalance %zu, volume-profile %zu), %zu continuations\n", w.chosen.size(), picks[0],
              picks[1], w.continuations);
  EXPECT_GE(w.chosen.size(), 15u);
  EXPECT_GE(picks[0], 3u);
  EXPECT_GE(picks[1], 3u);
  // summary.json counts the same entries per arm.
  const std::size_t arm0 = summary.find("\"strategy_id\": 0", sel), arm1 = summary.find("\"strategy_id\": 1", sel);
  EXPECT_EQ(json_number(summary, "entries", arm0), picks[0]) << summary.substr(sel, 400);
  EXPECT_EQ(json_number(summary, "entries", arm1), picks[1] + w.continuations) << summary.substr(sel, 400);
}

TEST(EngineSelector, CommitteeEntriesAreTheArmWhoseWeightAloneMakesTheQuorum) {
  std::size_t each[2] = {0, 0};
  for (const int heavy : {0, 1}) {
    const std::string weights = heavy == 0 ? "[3, 1]" : "[1, 3]";
    const std::string name = "committee" + std::to_string(heavy);
    const fs::path dir =
        replay(write_config(name, "[selector]\nkind = \"committee\"\nmembers = [0, 1]\nweights = " + weights +
                                      "\nquorum = 0.6\nvote_window_ms = 1\n"),
               name);
    const Walk w = walk(dir, -1);
    for (const int a : w.chosen) EXPECT_EQ(a, heavy) << weights;
    each[heavy] = w.chosen.size();
    EXPECT_GE(w.chosen.size(), 5u) << weights;
  }
  std::printf("committee: %zu entries with imbalance weighted 3, %zu with volume-profile weighted 3\n", each[0], each[1]);
}

// learn = "accuracy": with equal weights and quorum 0.5 an arm voting alone (1 ms window) passes only while its
// Laplace accuracy is at least the other's; the test recomputes both from trades.csv before every entry.
TEST(EngineSelector, LearnedCommitteeLetsAnArmEnterOnlyWhileItsAccuracyHoldsHalfTheWeight) {
  const fs::path dir = replay(write_config("learn", "[selector]\nkind = \"committee\"\nmembers = [0, 1]\nweights = [1, 1]\n"
                                                    "quorum = 0.5\nvote_window_ms = 1\nlearn = \"accuracy\"\n"),
                              "learn");
  const std::string summary = slurp(dir / "summary.json");
  const std::size_t sel = summary.find("\"selector\": {\"kind\": \"committee\"");
  ASSERT_NE(sel, std::string::npos) << summary;
  ASSERT_EQ(json_number(summary, "lapsed", sel), 0u) << summary;  // unfilled entries: trips the fills cannot show
  const Walk w = walk(dir, -1);
  ASSERT_EQ(w.chosen.size(), w.learned_share.size());
  std::size_t unequal = 0, picks[2] = {0, 0};
  for (std::size_t i = 0; i < w.chosen.size(); ++i) {
    EXPECT_GE(w.learned_share[i], 0.5 - 1e-12) << "entry " << i << " by arm " << w.chosen[i];
    if (std::fabs(w.learned_share[i] - 0.5) > 1e-12) ++unequal;
    ++picks[w.chosen[i]];
  }
  std::printf("learned committee: %zu entries (imbalance %zu, volume-profile %zu), %zu decided by unequal accuracies; "
              "wins %llu / %llu\n",
              w.chosen.size(), picks[0], picks[1], unequal, (unsigned long long)w.wins[0], (unsigned long long)w.wins[1]);
  EXPECT_GE(w.chosen.size(), 5u);
  EXPECT_GE(unequal, 3u) << "the learned weights never decided an entry";
  // summary.json: each arm's vote weight at the end is (wins + 1) / (round trips + 2) of its own counts.
  for (const int id : {0, 1}) {
    const std::size_t arm = summary.find("\"strategy_id\": " + std::to_string(id), sel);
    const double wins = static_cast<double>(json_number(summary, "wins", arm));
    const double trips = static_cast<double>(json_number(summary, "round_trips", arm));
    const std::size_t p = summary.find("\"vote_weight\": ", arm);
    ASSERT_NE(p, std::string::npos);
    EXPECT_NEAR(std::stod(summary.substr(p + 15)), (wins + 1) / (trips + 2), 1e-6) << summary.substr(sel, 600);
  }
}

TEST(EngineSelector, BadSelectorKeysExitThreeNamingTheKey) {
  struct Case {
    std::string selector, key;
  };
  for (const Case& c : {Case{"[selector]\nkind = \"ucb\"\nmembers = [0, 1, 5]\n", "no strategy has id 5"},
                        Case{"[selector]\nkind = \"ucb\"\nmembers = [0]\n", "selector.members"},
                        Case{"[selector]\nkind = \"bandit\"\nmembers = [0, 1]\n", "selector.kind"},
                        Case{"[selector]\nkind = \"committee\"\nmembers = [0, 1]\nweights = [1]\n", "selector.weights"},
                        Case{"[selector]\nkind = \"committee\"\nmembers = [0, 1]\nquorum = 0\n", "selector.quorum"},
                        Case{"[selector]\nkind = \"committee\"\nmembers = [0, 1]\nlearn = \"votes\"\n", "selector.learn"},
                        Case{"[selector]\nkind = \"ucb\"\nmembers = [0, 1]\nlearn = \"accuracy\"\n", "selector.learn"},
                        Case{"[selector]\nkind = \"ucb\"\nmembers = [0, 1]\nquorum = 0.5\n", "quorum"},
                        Case{"", "strategy"}}) {  // no selector: two instances on one instrument are refused
    const auto r = run_enigma("replay --quiet --config '" + write_config("bad", c.selector) + "' --data '" + kData +
                              "' --runs-dir '" + ::testing::TempDir() + "/selector-runs-bad'");
    EXPECT_EQ(r.code, 3) << c.selector << "\n" << r.text;
    EXPECT_NE(r.text.find(c.key), std::string::npos) << c.selector << "\n" << r.text;
  }
}

}  // namespace
