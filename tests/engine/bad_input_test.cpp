// Hostile recorded input (issue 18, "Recorded data") through the `enigma` binary: impossible prices and
// sizes are decode errors in every venue; a repeated or overlapping book update is dropped and counted as a
// duplicate, not taken for a gap; a bad line (a 30-digit timestamp, garbage with terminal escapes, a huge
// field, a line beyond the 16 MiB limit) is counted, quoted escaped and shortened, and skipped; a truncated
// .gz replays its complete lines; --strict turns each of these into exit 3 naming file and line / offset.
// Every bad input is made here from the bundled real data; the expected counts are computed here from
// what was injected (or, for a truncated gzip, by the system's gzip), never by the reader under test.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "feed/capture_reader.hpp"
#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kUsdm = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";

using enigma::testing::Out;
using enigma::testing::shell;

Out run_enigma(const std::string& args) { return shell(std::string(ENIGMA_BINARY) + " " + args); }

// A fresh directory for one test's inputs and runs, removed with everything in it at the end.
struct TmpDir {
  std::string path;
  TmpDir() {
    static int n = 0;
    path = ::testing::TempDir() + "/enigma-bad-input-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TmpDir() { fs::remove_all(path); }
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t b = 0;
  while (b < text.size()) {
    std::size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    lines.push_back(text.substr(b, e - b));
    b = e + 1;
  }
  return lines;
}

// Lines of a bundled data file (gz / zip / plain), decompressed.
std::vector<std::string> data_lines(const std::string& rel) {
  return split_lines(enigma::feed::read_file_decompressed(kSrc + "/data/" + rel));
}

std::string write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream f(path, std::ios::binary);
  for (const auto& l : lines) f << l << '\n';
  return path;
}

// The number after `key` (e.g. "duplicates=" or "\"bad_lines\": ") in text; -1 when absent.
long long number_after(const std::string& text, const std::string& key) {
  const std::size_t p = text.find(key);
  if (p == std::string::npos) return -1;
  return std::stoll(text.substr(p + key.size()));
}

// The first 3000 lines of the bundled Binance USD-M session: REST snapshot (line 55), diffs, bookTickers.
std::vector<std::string> usdm_head() {
  static const std::vector<std::string> head = [] {
    std::vector<std::string> l = split_lines(enigma::feed::read_file_decompressed(kUsdm));
    l.resize(3000);
    return l;
  }();
  return head;
}

Out replay(const std::string& dir, const std::string& data, const std::string& extra = "") {
  return run_enigma("replay --quiet " + extra + " --config " + kSrc + "/config/replay.toml --data " + data +
                    " --runs-dir " + dir + "/runs");
}

std::string summary_json(const std::string& dir) {
  std::ifstream f(fs::canonical(dir + "/runs/latest") / "summary.json");
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Index of the last line holding `pat` (well after every venue's first snapshot in these files).
std::size_t last_with(const std::vector<std::string>& lines, const std::string& pat) {
  for (std::size_t i = lines.size(); i-- > 0;)
    if (lines[i].find(pat) != std::string::npos) return i;
  ADD_FAILURE() << "no line holds " << pat;
  return 0;
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const std::size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

// One line of a pretty-printed JSON fixture.
std::string one_line(const std::string& rel) {
  std::string s = enigma::feed::read_file_decompressed(kSrc + "/data/" + rel);
  std::erase(s, '\n');
  return s;
}

}  // namespace

// A negative price in one book update of each venue's real capture: exactly one decode error, named by
// line (before: accepted, and the book went on from a level that cannot exist).
TEST(EngineBadInput, NegativePriceIsADecodeErrorInEveryVenue) {
  struct Case {
    std::string venue, file, pattern, replacement, extra;
  };
  const std::vector<Case> cases = {
      {"binance-usdm", "binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz", "\"b\":[[\"",
       "\"b\":[[\"-", ""},
      {"kucoin-spot", "kucoin/cryptofeed_spot_ws_level2_ticker_match_candles_10sym_20210425.raw.txt.gz",
       "\"asks\":[[\"", "\"asks\":[[\"-",
       kSrc + "/data/kucoin/cryptofeed_spot_rest_level2_snapshots_9sym_20210425.raw.txt.gz"},
      {"okx", "okx/cryptofeed_v5_ws_books_trades_tickers_3inst_20220513.raw.txt.gz", "\"asks\":[[\"", "\"asks\":[[\"-",
       ""},
      {"bybit", "bybit/bybit_public_XRPUSDT_ob500_20241201.data.zip", "\"b\":[[\"", "\"b\":[[\"-", ""},
      {"coinbase", "coinbase/cryptofeed_pro_ws_level2_l2update_match_ticker_10sym_20210417.raw.txt.gz",
       "\"changes\":[[\"buy\",\"", "\"changes\":[[\"buy\",\"-", ""},
  };
  const TmpDir tmp;
  const std::string& dir = tmp.path;
  for (const Case& c : cases) {
    std::vector<std::string> lines = c.venue == "binance-usdm" ? usdm_head() : data_lines(c.file);
    const std::size_t i = last_with(lines, c.pattern);
    lines[i] = replace_once(lines[i], c.pattern, c.replacement);
    const std::string path = write_lines(dir + "/" + c.venue + ".txt", lines);
    const Out o = run_enigma("book-check --venue " + c.venue + " " + path + " " + c.extra);
    EXPECT_EQ(number_after(o.text, "decode_errors="), 1) << c.venue << "\n" << o.text;
    EXPECT_NE(o.text.find("line " + std::to_string(i + 1) + ": "), std::string::npos) << c.venue << "\n" << o.text;
  }
}

// Zero price and negative size (Binance), and the same negative price through a replay: one decode error,
// no crossed book (the issue: replay said "crossed 0" while book-check said crossed=1).
TEST(EngineBadInput, ZeroPriceAndNegativeSizeAreDecodeErrorsInReplayAndBookCheck) {
  const TmpDir tmp;
  const std::string& dir = tmp.path;
  const std::vector<std::string> base = usdm_head();
  const std::size_t i = last_with(base, "\"e\":\"depthUpdate\"");
  const std::size_t b = base[i].find("\"b\":[[\"") + 7;  // first bid: ["price","qty"]
  const std::size_t q = base[i].find("\",\"", b) + 3;
  std::vector<std::string> zero = base, neg_qty = base, neg_px = base;
  zero[i] = base[i].substr(0, b) + "0.00" + base[i].substr(base[i].find('"', b));
  neg_qty[i] = base[i].substr(0, q) + "-" + base[i].substr(q);
  neg_px[i] = base[i].substr(0, b) + "-" + base[i].substr(b);
  for (const auto& [name, lines] :
       {std::pair{"zero-price", zero}, {"negative-size", neg_qty}, {"negative-price", neg_px}}) {
    const std::string path = write_lines(dir + "/" + name + ".txt", lines);
    const Out bc = run_enigma("book-check --venue binance-usdm " + path);
    EXPECT_EQ(number_after(bc.text, "decode_errors="), 1) << name << "\n" << bc.text;
    const Out r = replay(dir, path);
    ASSERT_EQ(r.code, 0) << name << "\n" << r.text;
    const std::string s = summary_json(dir);
    EXPECT_EQ(number_after(s, "\"decode_errors\": "), 1) << name << "\n" << s;
    EXPECT_EQ(number_after(s, "\"crossed\": "), 0) << name;
    EXPECT_NE(r.text.find("decode errors 1"), std::string::npos) << r.text;
  }
}

// One repeated depth update: dropped as a duplicate (Binance: u <= last applied u), not a gap, and the
// book keeps agreeing with every bookTicker. The whole capture twice: every applied diff is a duplicate.
TEST(EngineBadInput, RepeatedDepthUpdateIsADuplicateNotAGap) {
  const TmpDir tmp;
  const std::string& dir = tmp.path;
  const std::vector<std::string> base = usdm_head();
  const std::string base_path = write_lines(dir + "/base.txt", base);
  const Out clean = run_enigma("book-check --venue binance-usdm " + base_path);
  const long long checked = number_after(clean.text, "checked=");
  ASSERT_GT(checked, 0) << clean.text;
  ASSERT_EQ(number_after(clean.text, "gaps="), 0) << clean.text;

  std::vector<std::string> dup = base;
  const std::size_t i = last_with(base, "\"e\":\"depthUpdate\"");
  dup.insert(dup.begin() + static_cast<long>(i) + 1, base[i]);
  const std::string dup_path = write_lines(dir + "/dup.txt", dup);
  const Out bc = run_enigma("book-check --venue binance-usdm " + dup_path);
  EXPECT_EQ(bc.code, 0) << bc.text;
  EXPECT_EQ(number_after(bc.text, "duplicates="), 1) << bc.text;
  EXPECT_EQ(number_after(bc.text, "gaps="), 0) << bc.text;
  EXPECT_EQ(number_after(bc.text, "resyncs="), 0) << bc.text;
  EXPECT_EQ(number_after(bc.text, "checked="), checked) << bc.text;
  EXPECT_EQ(number_after(bc.text, "mismatched="), 0) << bc.text;

  const Out r = replay(dir, dup_path);
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("gaps 0  duplicates 1  resyncs 0"), std::string::npos) << r.text;
  const std::string s = summary_json(dir);
  EXPECT_EQ(number_after(s, "\"duplicates\": "), 1) << s;
  EXPECT_EQ(number_after(s, "\"gaps\": "), 0) << s;
  EXPECT_EQ(number_after(s, "\"book_mismatches\": "), 0) << s;

  // The same file twice: each diff the snapshot does not cover (futures: u >= lastUpdateId) is applied
  // once and met again, and so is the REST snapshot (its copy comes after the first diff it straddles,
  // which was received before it); each bookTicker is compared twice.
  const long long snapshot_id = number_after(base[last_with(base, "{\"lastUpdateId\"")], "{\"lastUpdateId\":");
  long long applied = 0;
  for (const auto& l : base)
    if (l.find("\"e\":\"depthUpdate\"") != std::string::npos && number_after(l, "\"u\":") >= snapshot_id) ++applied;
  ASSERT_GT(applied, 100);
  const Out twice = run_enigma("book-check --venue binance-usdm " + base_path + " " + base_path);
  EXPECT_EQ(number_after(twice.text, "duplicates="), applied + 1) << twice.text;
  EXPECT_EQ(number_after(twice.text, "gaps="), 0) << twice.text;
  EXPECT_EQ(number_after(twice.text, "checked="), 2 * checked) << twice.text;
  EXPECT_EQ(number_after(twice.text, "mismatched="), 0) << twice.text;
}

// The other venues' rules: KuCoin (sequenceEnd <= last applied), Bybit (u <= last u), OKX (seqId <= last
// seqId off the prevSeqId chain), Coinbase (sequence_num already seen): one repeated update, one duplicate.
TEST(EngineBadInput, RepeatedUpdateIsADuplicateInEveryVenue) {
  const TmpDir tmp;
  const std::string& dir = tmp.path;
  struct Case {
    std::string venue;
    std::vector<std::string> lines;
    std::string pattern, extra;
  };
  std::vector<Case> cases;
  cases.push_back(
      {"kucoin-spot", data_lines("kucoin/cryptofeed_spot_ws_level2_ticker_match_candles_10sym_20210425.raw.txt.gz"),
       "trade.l2update", kSrc + "/data/kucoin/cryptofeed_spot_rest_level2_snapshots_9sym_20210425.raw.txt.gz"});
  cases.push_back(
      {"bybit", data_lines("bybit/bybit_public_XRPUSDT_ob500_20241201.data.zip"), "\"type\":\"delta\"", ""});
  // The nautilus OKX fixtures carry seqIds but a made-up checksum: drop the checksum, keep the sequence.
  auto no_checksum = [](std::string s) { return replace_once(s, "\"checksum\": -855196043,", ""); };
  cases.push_back({"okx",
                   {no_checksum(one_line("okx/nautilus_crate_ws_books_snapshot.json")),
                    no_checksum(one_line("okx/nautilus_crate_ws_books_update.json"))},
                   "\"update\"",
                   ""});
  cases.push_back({"coinbase",
                   {one_line("coinbase/nautilus_crate_ws_l2_data_snapshot.json"),
                    one_line("coinbase/nautilus_crate_ws_l2_data_update.json")},
                   "\"sequence_num\": 1",
                   ""});
  for (Case& c : cases) {
    const Out clean = run_enigma("book-check --venue " + c.venue + " " +
                                 write_lines(dir + "/clean-" + c.venue, c.lines) + " " + c.extra);
    ASSERT_EQ(number_after(clean.text, "duplicates="), 0) << c.venue << "\n" << clean.text;
    const long long gaps = number_after(clean.text, "gaps=");
    const std::size_t i = last_with(c.lines, c.pattern);
    c.lines.insert(c.lines.begin() + static_cast<long>(i) + 1, c.lines[i]);
    const Out o = run_enigma("book-check --venue " + c.venue + " " + write_lines(dir + "/dup-" + c.venue, c.lines) +
                             " " + c.extra);
    EXPECT_EQ(number_after(o.text, "duplicates="), 1) << c.venue << "\n" << o.text;
    EXPECT_EQ(number_after(o.text, "gaps="), gaps) << c.venue << "\n" << o.text;
    EXPECT_EQ(number_after(o.text, "resyncs="), number_after(clean.text, "resyncs=")) << c.venue << "\n" << o.text;
  }
}

// A 30-digit receive timestamp would wrap: a bad line named by file and line, skipped; --strict: exit 3.
TEST(EngineBadInput, ThirtyDigitTimestampIsABadLine) {
  const TmpDir tmp;
  const std::string& dir = tmp.path;
  std::vector<std::string> lines = usdm_head();
  const std::string json = lines[199].substr(lines[199].find(' '));
  lines.insert(lines.begin() + 199, "123456789012345678901234567890" + json);  // becomes line 200
  const std::string path = write_lines(dir + "/ts.txt", lines);
  const Out r = replay(dir, path);
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("ts.txt:200: receive timestamp does not fit in 64 bits: '123456789012345678901234567890"),
            std::string::npos)
      << r.text;
  const std::string s = summary_json(dir);
  EXPECT_EQ(number_after(s, "\"bad_lines\": "), 1) << s;
  EXPECT_EQ(number_after(s, "\"frames_in_input\": "), 3000) << s;

  const Out strict = replay(dir, path, "--strict");
  EXPECT_EQ(strict.code, 3) << strict.text;
  EXPECT_NE(strict.text.find("'" + path + "': line 200: receive timestamp does not fit in 64 bits"), std::string::npos)
      << strict.text;
}

// Seven bad lines (terminal escapes, a 1 MB field, raw binary): all counted, the first five quoted with
// file:line, escaped (no raw control byte reaches the output) and cut to 120 characters.
TEST(EngineBadInput, BadLinesAreCountedQuotedEscapedAndTruncated) {
  const TmpDir tmp;
  const std::string& dir = tmp.path;
  std::vector<std::string> lines = usdm_head();
  const std::string evil = "\x1b]0;pwned\x07\x1b[2J" + std::string(1 << 20, 'A');  // no space: not '<ns> <json>'
  for (int k = 0; k < 7; ++k) lines.insert(lines.begin() + 100 + 10 * k, evil);
  const std::string path = write_lines(dir + "/evil.txt", lines);
  const Out r = replay(dir, path);
  ASSERT_EQ(r.code, 0) << r.text.substr(0, 2000);
  EXPECT_EQ(r.text.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.text.find('\x07'), std::string::npos);
  EXPECT_LT(r.text.size(), 20000u);  // the 1 MB fields are not echoed
  EXPECT_NE(r.text.find("evil.txt': 7 bad lines skipped"), std::string::npos) << r.text;
  const std::string quoted = "\\x1b]0;pwned\\x07\\x1b[2J" + std::string(120 - 14, 'A') + "...'";
  std::size_t quotes = 0;
  for (std::size_t p = r.text.find(quoted); p != std::string::npos; p = r.text.find(quoted, p + 1)) ++quotes;
  EXPECT_EQ(quotes, 5u) << r.text;
  EXPECT_NE(r.text.find("evil.txt:101: "), std::string::npos) << r.text;  // first bad line: 1-based line 101
  const std::string s = summary_json(dir);
  EXPECT_EQ(number_after(s, "\"bad_lines\": "), 7) << s;
  EXPECT_EQ(number_after(s, "\"frames_in_input\": "), 3000) << s;

  const Out bc = run_enigma("book-check --venue binance-usdm " + path);
  EXPECT_EQ(number_after(bc.text, "bad_lines="), 7) << bc.text.substr(0, 2000);
  const Out strict = run_enigma("book-check --strict --venue binance-usdm " + path);
  EXPECT_EQ(strict.code, 3);
  EXPECT_NE(strict.text.find("line 101: "), std::string::npos) << strict.text.substr(0, 2000);
  EXPECT_EQ(strict.text.find('\x1b'), std::string::npos);
}

// `head -c` of the real .gz: the complete lines before the cut replay (as many as the system's gzip
// recovers), with a warning naming the offset; --strict refuses it with exit 3.
TEST(EngineBadInput, TruncatedGzipReplaysItsGoodPart) {
  const TmpDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/cut.gz";
  ASSERT_EQ(shell("head -c 200000 " + kUsdm + " > " + path).code, 0);
  const Out wc = shell("gzip -dc " + path + " 2>/dev/null | wc -l");
  const long long complete = std::stoll(wc.text);
  ASSERT_GT(complete, 1000);
  const Out r = replay(dir, path);
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("warning: '" + path + "': truncated gzip data: the stream ends after 200000 compressed bytes"),
            std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find("replaying the " + std::to_string(complete) + " complete lines"), std::string::npos) << r.text;
  EXPECT_EQ(number_after(summary_json(dir), "\"frames_in_input\": "), complete);

  const Out strict = replay(dir, path, "--strict");
  EXPECT_EQ(strict.code, 3) << strict.text;
  EXPECT_NE(strict.text.find("'" + path + "': truncated gzip data: the stream ends after 200000 compressed bytes"),
            std::string::npos)
      << strict.text;
  const Out bc = run_enigma("book-check --venue binance-usdm " + path);
  EXPECT_EQ(bc.code, 0) << bc.text;
  EXPECT_EQ(number_after(bc.text, "mismatched="), 0) << bc.text;
}

// A gzip member that expands to one 20 MiB line (zeros: ~20 KB compressed) between two real parts: a bad
// line naming the 16 MiB limit, not std::bad_alloc; the 1000 real lines around it replay.
TEST(EngineBadInput, LineBeyondTheLimitIsABadLineNotACrash) {
  const TmpDir tmp;
  const std::string& dir = tmp.path;
  const std::vector<std::string> base = usdm_head();
  const std::string a = write_lines(dir + "/a.txt", {base.begin(), base.begin() + 500});
  const std::string b = write_lines(dir + "/b.txt", {base.begin() + 500, base.begin() + 1000});
  const std::string path = dir + "/bomb.gz";
  ASSERT_EQ(shell("gzip -c " + a + " > " + path + " && (head -c 20971520 /dev/zero; echo) | gzip -1 >> " + path +
                  " && gzip -c " + b + " >> " + path)
                .code,
            0);
  const Out r = replay(dir, path);
  ASSERT_EQ(r.code, 0) << r.text.substr(0, 2000);
  EXPECT_NE(r.text.find("bomb.gz:501: line of 20971520 bytes exceeds the 16 MiB line limit: '\\x00\\x00"),
            std::string::npos)
      << r.text.substr(0, 2000);
  EXPECT_LT(r.text.size(), 20000u);
  const std::string s = summary_json(dir);
  EXPECT_EQ(number_after(s, "\"bad_lines\": "), 1) << s;
  EXPECT_EQ(number_after(s, "\"frames_in_input\": "), 1000) << s;
  const Out strict = replay(dir, path, "--strict");
  EXPECT_EQ(strict.code, 3);
  EXPECT_NE(strict.text.find("'" + path + "': line 501: line of 20971520 bytes exceeds the 16 MiB line limit"),
            std::string::npos)
      << strict.text.substr(0, 2000);
}

// A bad first line does not make the file unreadable: the format comes from the first line of a known
// shape, and the bad one is skipped like any other.
TEST(EngineBadInput, BadFirstLineIsSkippedNotTakenForTheFormat) {
  const TmpDir tmp;
  std::vector<std::string> lines = usdm_head();
  lines.insert(lines.begin(), "garbage\x1b[31m line");
  const std::string path = write_lines(tmp.path + "/first.txt", lines);
  const Out r = replay(tmp.path, path);
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("first.txt:1: receive timestamp is not an integer: 'garbage\\x1b[31m line'"), std::string::npos)
      << r.text;
  const std::string s = summary_json(tmp.path);
  EXPECT_EQ(number_after(s, "\"bad_lines\": "), 1) << s;
  EXPECT_EQ(number_after(s, "\"frames_in_input\": "), 3000) << s;
}
