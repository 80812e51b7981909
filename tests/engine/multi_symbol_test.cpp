// Every symbol of a capture, through the `enigma` binary (issue 13): replays of several captures build and
// check every instrument's book, a REST snapshot is never attributed by guess, and book-check accounts for
// every Binance bookTicker and fails when nothing could be verified. Expectations come from the data
// itself (line counts by zcat/grep) and from ../shared/data/SOURCES.md (629/629 BTCUSDT, 551/551 ETHUSDT).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>
#include <vector>
#include "tests/support/enigma_process.hpp"

namespace {

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kBtc = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";
const std::string kEth = kSrc + "/data/binance/hftbacktest_usdm_ETHUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";

using enigma::testing::Out;
using enigma::testing::run_enigma;
using enigma::testing::shell;

// Lines of a gzip capture containing `what`, counted by the system's tools (independent of our reader).
long long count_lines(const std::string& gz, const std::string& what) {
  return std::stoll(shell("zcat '" + gz + "' | grep -c -F '" + what + "'").text);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The number after `"key": ` at or after `from` in summary.json text (-1 when absent).
long long number_after(const std::string& json, std::size_t from, const std::string& key) {
  const std::size_t p = json.find("\"" + key + "\": ", from);
  if (p == std::string::npos) return -1;
  return std::stoll(json.substr(p + key.size() + 4));
}

struct BookLine {
  bool found{false}, synced{false};
  long long snapshots{-1}, updates{-1}, checks{-1}, mismatches{-1}, uncompared{-1}, gaps{-1};
};

// One instrument's entry of summary.json's "books" array.
BookLine book_of(const std::string& json, const std::string& symbol) {
  BookLine b;
  const std::size_t p = json.find("{\"symbol\": \"" + symbol + "\"");
  if (p == std::string::npos) return b;
  b.found = true;
  b.synced = json.compare(json.find("\"synced\": ", p) + 10, 4, "true") == 0;
  b.snapshots = number_after(json, p, "snapshots");
  b.updates = number_after(json, p, "updates");
  b.checks = number_after(json, p, "checks");
  b.mismatches = number_after(json, p, "mismatches");
  b.uncompared = number_after(json, p, "quotes_uncompared");
  b.gaps = number_after(json, p, "gaps");
  return b;
}

// `enigma replay` of `data` (each a --data argument) into a fresh runs directory; returns summary.json.
std::string replay(const std::string& name, const std::vector<std::string>& data, Out& out) {
  const std::string runs = ::testing::TempDir() + "/runs-" + name;
  std::filesystem::remove_all(runs);
  std::string args = "replay --quiet --config " + kSrc + "/config/replay.toml --runs-dir " + runs;
  for (const std::string& d : data) args += " --data " + d;
  out = run_enigma(args);
  std::error_code ec;
  const auto dir = std::filesystem::canonical(runs + "/latest", ec);
  return ec ? std::string() : slurp(dir / "summary.json");
}

}  // namespace

// The first finding: this replay built no book at all (`book: updates 0 checks 0/0`).
TEST(MultiSymbolReplay, BtcAndEthCapturesBuildAndCheckBothBooks) {
  Out o;
  const std::string json = replay("two", {kBtc, kEth}, o);
  ASSERT_EQ(o.code, 0) << o.text;
  // SOURCES.md: the rebuilt top of book equals the bookTicker at the same update id 629/629 (BTC), 551/551 (ETH).
  for (const auto& [sym, file, agreeing] :
       {std::tuple{std::string("BTCUSDT"), kBtc, 629LL}, std::tuple{std::string("ETHUSDT"), kEth, 551LL}}) {
    const BookLine b = book_of(json, sym);
    ASSERT_TRUE(b.found) << sym << "\n" << json;
    EXPECT_TRUE(b.synced) << sym;
    EXPECT_EQ(b.snapshots, count_lines(file, "{\"lastUpdateId\"")) << sym;  // its own file's one REST snapshot
    EXPECT_GT(b.updates, 1000) << sym;
    EXPECT_EQ(b.checks, agreeing) << sym;
    EXPECT_EQ(b.mismatches, 0) << sym;
    EXPECT_EQ(b.gaps, 0) << sym;
    // Every bookTicker of the symbol is accounted for: compared, or counted as not compared.
    EXPECT_EQ(b.checks + b.uncompared, count_lines(file, "@bookTicker")) << sym;
    EXPECT_NE(o.text.find("    " + sym + " "), std::string::npos) << o.text;  // its line in the summary
  }
  EXPECT_EQ(number_after(json, 0, "unmapped_snapshots"), 0);
  EXPECT_EQ(o.text.find("nothing could be verified"), std::string::npos) << o.text;
}

// Several merged captures (a WS capture and its REST snapshots, mapped by the symbol in each request URL):
// all four instruments are built and checked; SOURCES.md: 50/50 bookTickers agree over the four.
TEST(MultiSymbolReplay, MergedCryptofeedCapturesBuildEveryInstrument) {
  Out o;
  const std::string json =
      replay("cryptofeed",
             {kSrc + "/data/binance/cryptofeed_usdm_ws_depth100ms_bookTicker_kline_aggTrade_4sym_20210722.raw.txt.gz",
              kSrc + "/data/binance/cryptofeed_usdm_rest_depth_snapshots_4sym_20210722.responses.jsonl.gz"},
             o);
  ASSERT_EQ(o.code, 0) << o.text;
  long long checks = 0;
  for (const char* sym : {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"}) {
    const BookLine b = book_of(json, sym);
    ASSERT_TRUE(b.found) << sym << "\n" << json;
    EXPECT_TRUE(b.synced) << sym;
    EXPECT_EQ(b.snapshots, 1) << sym;
    EXPECT_EQ(b.mismatches, 0) << sym;
    checks += b.checks;
  }
  EXPECT_EQ(checks, 50);
}

// A depth snapshot whose URL names no symbol, in a file whose streams carry two symbols, belongs to no
// one we can name: it is skipped and counted, never applied to the symbol of whichever depth frame came last.
TEST(MultiSymbolReplay, SnapshotNamedByNeitherUrlNorFileIsNotGuessed) {
  const std::string mixed = ::testing::TempDir() + "/btc-eth-mixed.txt";
  const long long snap_line =
      std::stoll(shell("zcat '" + kBtc + "' | grep -n -m1 -F '{\"lastUpdateId\"' | cut -d: -f1").text);
  ASSERT_GT(snap_line, 1);
  // BTCUSDT up to its snapshot, a few ETHUSDT depth frames, then the BTCUSDT snapshot and what follows.
  const std::string cmd = "{ zcat '" + kBtc + "' | head -n " + std::to_string(snap_line - 1) + "; zcat '" + kEth +
                          "' | grep -m5 -F 'depthUpdate'; zcat '" + kBtc + "' | sed -n '" + std::to_string(snap_line) +
                          ",3000p'; } > '" + mixed + "'";
  ASSERT_EQ(shell(cmd).code, 0);
  Out o;
  const std::string json = replay("mixed", {mixed}, o);
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(number_after(json, 0, "unmapped_snapshots"), 1) << json;
  EXPECT_NE(o.text.find("1 REST depth snapshot(s) skipped"), std::string::npos) << o.text;
  EXPECT_EQ(book_of(json, "ETHUSDT").snapshots, 0) << json;
  EXPECT_EQ(book_of(json, "BTCUSDT").snapshots, 0) << json;
  EXPECT_FALSE(book_of(json, "ETHUSDT").synced);
  // Nothing could be compared: the summary says so.
  EXPECT_NE(o.text.find("nothing could be verified"), std::string::npos) << o.text;
}

// book-check over both captures: 629 + 551 bookTickers agree (SOURCES.md), and every other bookTicker is
// counted with its reason instead of being dropped silently.
TEST(BookCheckVerdict, EveryBookTickerIsCountedComparedOrWhy) {
  const Out o = run_enigma("book-check --venue binance-usdm " + kBtc + " " + kEth);
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("book-check: checked=1180 mismatched=0 gaps=0"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("BTCUSDT: synced, snapshots=1"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("checked=629 mismatched=0"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("checked=551 mismatched=0"), std::string::npos) << o.text;
  const long long quotes = count_lines(kBtc, "@bookTicker") + count_lines(kEth, "@bookTicker");
  EXPECT_NE(o.text.find("book-check: venue quotes " + std::to_string(quotes) + ": compared 1180, not compared " +
                        std::to_string(quotes - 1180) + " (inside_diff="),
            std::string::npos)
      << o.text;
  EXPECT_NE(o.text.find("bookTicker best bid/ask price and size == our book at the same update id"), std::string::npos)
      << o.text;
}

// checked=0 is never a pass: the 0809 spot file alone has no REST snapshot, so no book is ever synced.
TEST(BookCheckVerdict, NothingVerifiedExitsOne) {
  const std::string f = kSrc + "/data/binance/hftbacktest_spot_BTCUSDT_ws_depth_trade_bookTicker_raw_20240809.gz";
  const Out o = run_enigma("book-check --venue binance-spot " + f);
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("nothing could be verified"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("book-check: checked=0 mismatched=0"), std::string::npos) << o.text;
  const long long quotes = count_lines(f, "@bookTicker");
  EXPECT_NE(o.text.find("unreached=" + std::to_string(quotes) + ")"), std::string::npos) << o.text;
}

// book-check --exchange-info: the bundled USD-M exchangeInfo gives each symbol of the 4-symbol capture the
// venue's tick and lot (PRICE_FILTER tickSize / LOT_SIZE stepSize, read by hand from the file: SUSHIUSDT 0.001,
// AKROUSDT 0.00001, KEEPUSDT 0.0001, CTKUSDT 0.001, lot 1 each), and the levels of each final book off that grid
// are counted. CTKUSDT's REST snapshot holds levels on a finer grid (orders older than a tick-size change): the
// test counts them in the venue's own snapshot body (a price with more than 3 decimals once trailing zeros go),
// and the far levels they sit at are never touched by the diffs, so the final book has the same number. The
// exit code stays the book comparison's. A venue without an exchange-info reader is refused, naming the file.
TEST(BookCheckVerdict, ExchangeInfoGivesTickAndLotAndCountsLevelsOffTheGrid) {
  const std::string d = kSrc + "/data/binance/";
  const std::string depth = d + "cryptofeed_usdm_rest_depth_snapshots_4sym_20210722.responses.jsonl.gz";
  const Out o = run_enigma("book-check --venue binance-usdm --exchange-info " + d + "cryptofeed_usdm_rest_exchangeInfo_20210722.json.zst " +
                           d + "cryptofeed_usdm_ws_depth100ms_bookTicker_kline_aggTrade_4sym_20210722.raw.txt.gz " + depth);
  EXPECT_EQ(o.code, 0) << o.text;
  const std::string body = shell("zcat '" + depth + "' | grep -F 'symbol=CTKUSDT'").text;
  long long finer = 0;
  for (std::size_t at = body.find("[\""); at != std::string::npos; at = body.find("[\"", at + 2)) {
    const std::string price = body.substr(at + 2, body.find('"', at + 2) - at - 2);
    const std::size_t dot = price.find('.');
    if (dot == std::string::npos) continue;
    const std::size_t last = price.find_last_not_of('0');
    if (last > dot + 3) ++finer;
  }
  ASSERT_GT(finer, 0) << "the snapshot was expected to hold levels off the 0.001 grid";
  for (const auto& [sym, tick, off] : std::vector<std::tuple<std::string, std::string, long long>>{
           {"SUSHIUSDT", "0.001", 0}, {"AKROUSDT", "0.00001", 0}, {"KEEPUSDT", "0.0001", 0}, {"CTKUSDT", "0.001", finer}}) {
    const std::size_t at = o.text.find("  " + sym + ": synced");
    ASSERT_NE(at, std::string::npos) << sym << ": " << o.text;
    const std::string line = o.text.substr(at, o.text.find('\n', at) - at);
    EXPECT_NE(line.find(" tick=" + tick + " lot=1 off_tick=" + std::to_string(off) + " off_lot=0"), std::string::npos) << line;
  }
  EXPECT_NE(o.text.find("book-check: exchange info: levels off the listed tick " + std::to_string(finer) +
                        ", off the listed lot 0, symbols not listed 0"),
            std::string::npos)
      << o.text;

  const Out refused = run_enigma("book-check --venue coinbase --exchange-info " + d + "cryptofeed_usdm_rest_exchangeInfo_20210722.json.zst " +
                                 kSrc + "/data/coinbase/cryptofeed_pro_ws_level2_l2update_match_ticker_10sym_20210417.raw.txt.gz");
  EXPECT_EQ(refused.code, 3) << refused.text;
  EXPECT_NE(refused.text.find("no exchange-info reader for coinbase"), std::string::npos) << refused.text;
}
