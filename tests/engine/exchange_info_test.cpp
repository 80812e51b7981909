// [exchange_info] through `enigma replay` (issue 13 item 2): the venue's own instrument list fills the
// registry. The cryptofeed USD-M capture of 2021-07-22 (AKROUSDT, CTKUSDT, KEEPUSDT, SUSHIUSDT) replayed with
// Binance's exchangeInfo answer of the same day: every book's tick and lot in summary.json are the file's
// (PRICE_FILTER tickSize, LOT_SIZE stepSize, read off the file by hand), the configured SUSHIUSDT takes the
// tick and lot it leaves out; without the file the capture's symbols have none. A value that disagrees with the
// venue's, a symbol the venue does not list, an order size above the venue's maximum, a damaged file and a
// venue without a reader are refused at start-up (exit 3) naming the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::first_run_dir;
using enigma::testing::run_enigma;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kInfo = "data/binance/cryptofeed_usdm_rest_exchangeInfo_20210722.json.zst";
const std::string kData = "'data/binance/cryptofeed_usdm_ws_depth100ms_bookTicker_kline_aggTrade_4sym_20210722.raw.txt.gz' "
                          "'data/binance/cryptofeed_usdm_rest_depth_snapshots_4sym_20210722.responses.jsonl.gz'";

std::string tmp(const std::string& name) { return (fs::path(::testing::TempDir()) / ("exchange-info-" + name)).string(); }

// config/replay.toml with each (from, to) replaced (first occurrence) and `prepend` put first; its path.
std::string config(const std::string& name, const std::vector<std::pair<std::string, std::string>>& edits,
                   const std::string& prepend) {
  std::string text = slurp(kSrc + "/config/replay.toml");
  for (const auto& [from, to] : edits) {
    const std::size_t p = text.find(from);
    if (p == std::string::npos) {
      ADD_FAILURE() << "config/replay.toml has no '" << from << "'";
      continue;
    }
    text.replace(p, from.size(), to);
  }
  const std::string path = tmp(name + ".toml");
  std::ofstream(path) << prepend << "\n" << text;
  return path;
}

const std::string kSection = "[exchange_info]\nbinance-usdm = [\"" + kInfo + "\"]\n";

struct Spec {
  std::string tick, lot, spec;  // "null" for a JSON null
};

// summary.json books[]: symbol -> its tick, lot and spec source.
std::map<std::string, Spec> books(const fs::path& run_dir) {
  const std::string j = slurp(run_dir / "summary.json");
  std::map<std::string, Spec> out;
  const std::size_t list = j.find("\"books\": [");
  if (list == std::string::npos) return out;
  const std::size_t end = j.find(']', list);
  auto value = [&](std::size_t from, const std::string& key) {
    std::size_t p = j.find("\"" + key + "\": ", from) + key.size() + 4;
    if (j[p] == '"') return j.substr(p + 1, j.find('"', p + 1) - p - 1);
    return j.substr(p, j.find_first_of(",}", p) - p);
  };
  for (std::size_t p = j.find('{', list); p < end; p = j.find('{', p + 1))
    out[value(p, "symbol")] = Spec{value(p, "tick"), value(p, "lot"), value(p, "spec")};
  return out;
}

class ExchangeInfo : public ::testing::Test {
 protected:
  void SetUp() override { fs::current_path(kSrc); }  // the configs' relative paths
};

TEST_F(ExchangeInfo, EveryBookOfTheCaptureTakesTheVenuesTickAndLot) {
  // The traded instrument is SUSHIUSDT with no tick or lot in the config (required without the file).
  const std::string cfg = config("good",
                                 {{"symbol = \"BTCUSDT\"", "symbol = \"SUSHIUSDT\""},
                                  {"tick = \"0.1\"\n", ""},
                                  {"lot = \"0.001\"\n", ""},
                                  {"max_order_qty = \"0.05\"", "max_order_qty = \"100\""},
                                  {"max_position_qty = \"0.1\"", "max_position_qty = \"200\""},
                                  {"order_qty = \"0.01\"", "order_qty = \"10\""}},
                                 kSection);
  const std::string runs = tmp("runs-good");
  const auto r = run_enigma("replay --quiet --config '" + cfg + "' --runs-dir '" + runs + "' --data " + kData);
  ASSERT_EQ(r.code, 0) << r.text;
  const auto b = books(first_run_dir(runs));
  // exchangeInfo 2021-07-22, symbols[]: PRICE_FILTER tickSize / LOT_SIZE stepSize ("0.0010" is 0.001).
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"AKROUSDT", {"0.00001", "1"}}, {"CTKUSDT", {"0.001", "1"}}, {"KEEPUSDT", {"0.0001", "1"}}, {"SUSHIUSDT", {"0.001", "1"}}};
  ASSERT_EQ(b.size(), expected.size()) << slurp(first_run_dir(runs) / "summary.json");
  for (const auto& [sym, tl] : expected) {
    ASSERT_TRUE(b.count(sym)) << sym;
    EXPECT_EQ(b.at(sym).tick, tl.first) << sym;
    EXPECT_EQ(b.at(sym).lot, tl.second) << sym;
    EXPECT_EQ(b.at(sym).spec, "exchange-info") << sym;
  }
  // The log says where the registry's specs came from.
  const std::string log = slurp(first_run_dir(runs) / "logs" / "enigma.log");
  EXPECT_NE(log.find("exchange_info venue=binance-usdm instruments=122 options_skipped=0 unrepresentable=0"),
            std::string::npos)
      << log.substr(0, 2000);
}

TEST_F(ExchangeInfo, WithoutTheFileTheCapturesSymbolsHaveNoTickOrLot) {
  const std::string runs = tmp("runs-none");
  const auto r = run_enigma("replay --quiet --config config/replay.toml --runs-dir '" + runs + "' --data " + kData);
  ASSERT_EQ(r.code, 0) << r.text;
  const auto b = books(first_run_dir(runs));
  ASSERT_EQ(b.size(), 4u);
  for (const auto& [sym, s] : b) {  // config/replay.toml's BTCUSDT (spec "config") is not in this capture
    EXPECT_EQ(s.tick, "null") << sym;
    EXPECT_EQ(s.lot, "null") << sym;
    EXPECT_EQ(s.spec, "data") << sym;
  }
}

TEST_F(ExchangeInfo, DisagreementsUnlistedSymbolsOversizedOrdersAndBadFilesAreRefusedNamingTheKey) {
  fs::create_directories(tmp("files"));
  const std::string broken = tmp("files/broken.json");
  std::ofstream(broken) << slurp(kSrc + "/data/okx/nautilus_crate_ws_tickers.json");  // not Binance's answer
  const std::string truncated = tmp("files/truncated.json");
  std::ofstream(truncated) << "{\"symbols\":[{\"symbol\":\"BTCUSDT\",\"filters\":[";
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, std::string>> edits;
    std::string section, expect1, expect2;
  };
  const std::vector<Case> cases = {
      // config/replay.toml's BTCUSDT tick 0.1 is 2024's; the 2021 listing says 0.01.
      {"tick", {}, kSection, "instrument[0].tick", "\"0.1\" differs from the venue's 0.01"},
      {"lot", {{"tick = \"0.1\"\n", ""}, {"lot = \"0.001\"", "lot = \"0.01\""}}, kSection, "instrument[0].lot",
       "differs from the venue's 0.001"},
      {"kind", {{"tick = \"0.1\"\n", ""}, {"kind = \"linear-perpetual\"", "kind = \"spot\""}}, kSection,
       "instrument[0].kind", "differs from the venue's linear-perpetual"},
      {"unlisted", {{"symbol = \"BTCUSDT\"", "symbol = \"NOPEUSDT\""}}, kSection, "instrument[0].symbol",
       "'NOPEUSDT' is not listed in binance-usdm's exchange info"},
      {"max", {{"tick = \"0.1\"\n", ""}, {"max_order_qty = \"0.05\"", "max_order_qty = \"2000\""}, {"max_position_qty = \"0.1\"", "max_position_qty = \"4000\""}},
       kSection, "instrument[0].max_order_qty", "above the venue's maximum order size 1000"},
      {"wrong-answer", {}, "[exchange_info]\nbinance-usdm = [\"" + broken + "\"]\n", "exchange_info.binance-usdm",
       "no 'symbols'"},
      {"truncated", {}, "[exchange_info]\nbinance-usdm = [\"" + truncated + "\"]\n", "exchange_info.binance-usdm",
       "not JSON"},
      {"missing", {}, "[exchange_info]\nbinance-usdm = [\"" + tmp("files/absent.json") + "\"]\n",
       "exchange_info.binance-usdm", "absent.json"},
      {"coinbase", {}, "[exchange_info]\ncoinbase = [\"" + kInfo + "\"]\n", "exchange_info.coinbase",
       "no exchange-info reader for coinbase"},
      {"unknown-venue", {}, "[exchange_info]\nbinance = [\"" + kInfo + "\"]\n", "binance", "unknown"},
  };
  for (const Case& c : cases) {
    const std::string cfg = config(c.name, c.edits, c.section);
    const auto r = run_enigma("replay --quiet --config '" + cfg + "' --runs-dir '" + tmp("runs-bad") + "' --data " + kData);
    EXPECT_EQ(r.code, 3) << c.name << "\n" << r.text;
    EXPECT_NE(r.text.find(c.expect1), std::string::npos) << c.name << "\n" << r.text;
    EXPECT_NE(r.text.find(c.expect2), std::string::npos) << c.name << "\n" << r.text;
  }
}

}  // namespace
