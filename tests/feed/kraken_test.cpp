// Kraken spot v2 and Futures v1: decoders, CRC32 checksum, depth-truncated book sync, futures seq gaps and
// book-check through the binary, on data/kraken. The independent expectations are Kraken's own documented
// checksum (3310070434 for its example snapshot) and, for the hand-made updates on top of it, checksums
// computed from the decimal strings by data/kraken/make_sample_captures.py (Python's zlib.crc32 over the
// documented text form, no engine code involved).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "feed/capture_reader.hpp"
#include "feed/venues/kraken.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/enigma_process.hpp"

namespace enigma::feed::kraken {
namespace {

const std::string kDir = std::string(ENIGMA_SOURCE_DIR) + "/data/kraken/";
const std::string kSpot = kDir + "spot_v2_book_trade_ticker_docs_BTCUSD.raw.txt";
const std::string kFutures = kDir + "futures_v1_book_trade_ticker_lite_docs_PI_XBTUSD.raw.txt";

Price P(const char* s) { return Price::parse(s).value; }
Qty Q(const char* s) { return Qty::parse(s).value; }

// The received frames of a capture, in order (payload text only).
std::vector<std::string> received(const std::string& path) {
  CaptureReader r(path);
  std::vector<std::string> out;
  CapturedFrame f;
  while (r.next(f))
    if (f.kind == FrameKind::ws_received) out.emplace_back(f.payload);
  return out;
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

struct Fixture {
  explicit Fixture(Venue v) : venue(v), decoder(v, registry, true) {}
  Venue venue;
  InstrumentRegistry registry{64};
  Decoder decoder;
  EventBuffer out{4096};
  DecodeResult decode(const std::string& msg) {
    out.clear();
    simdjson::padded_string padded(msg);
    return decoder.decode(std::string_view(padded.data(), msg.size()), padded.size() + simdjson::SIMDJSON_PADDING, 7,
                          out);
  }
  // Decodes and feeds every book event to `sync`; returns the last result that asked for something,
  // else the last one.
  SyncResult feed(const std::string& msg, BookSync& sync) {
    const DecodeResult d = decode(msg);
    EXPECT_TRUE(d.ok()) << to_string(d.error) << " " << msg.substr(0, 120);
    SyncResult last{};
    for (const Event& e : out) {
      const SyncResult r = sync.on_event(e);
      if (r.need_snapshot || r.book_changed) last = r;
    }
    return last;
  }
  InstrumentId id(std::string_view sym) { return *registry.find(venue, sym); }
};

// Frames of the spot capture: 0 status, 1 subscribe answer, 2 docs snapshot, 3-4 updates, 5 ticker,
// 6 update, 7 trade, 8 update, 9 heartbeat, 10 update.
TEST(KrakenSpot, DocumentedSnapshotReproducesKrakensChecksum) {
  const auto frames = received(kSpot);
  ASSERT_EQ(frames.size(), 11u);
  Fixture fx(Venue::kraken_spot);
  ASSERT_EQ(fx.decode(frames[2]).events, 21u);  // batch + 10 bids + 10 asks
  const Event& b = fx.out[0];
  ASSERT_EQ(b.h.type, EventType::book_batch);
  EXPECT_EQ(b.batch.kind, BookBatchKind::snapshot);
  EXPECT_TRUE(b.batch.has_checksum);
  EXPECT_EQ(static_cast<std::uint32_t>(b.batch.checksum), 3310070434u);
  EXPECT_EQ(aux_price_decimals(b.h.aux), 1u);  // "45281.0"
  EXPECT_EQ(aux_qty_decimals(b.h.aux), 8u);    // "0.10000000"
  EXPECT_EQ(fx.out[1].level.side, Side::buy);
  EXPECT_EQ(fx.out[1].level.price, P("45283.5"));
  EXPECT_EQ(fx.out[1].level.qty, Q("0.1"));

  BookSync sync(Venue::kraken_spot, b.h.instrument);
  SyncResult r{};
  for (const Event& e : fx.out) r = sync.on_event(e);
  EXPECT_TRUE(r.book_changed);
  EXPECT_EQ(sync.state(), SyncState::synced);
  EXPECT_EQ(sync.checksums_checked(), 1u);
  EXPECT_EQ(sync.checksum_mismatches(), 0u);
  EXPECT_EQ(book_checksum(sync.book(), 1, 8), 3310070434u);
  // The text form needs the wire precision: trimmed decimals ("0.1" -> "1") give another CRC.
  EXPECT_NE(book_checksum(sync.book(), 1, 1), 3310070434u);
  EXPECT_EQ(sync.book().best_ask()->price, P("45285.2"));
}

TEST(KrakenSpot, EveryUpdateChecksumMatchesAndDepthIsKept) {
  const auto frames = received(kSpot);
  Fixture fx(Venue::kraken_spot);
  EXPECT_EQ(fx.decode(frames[1]).kind, MessageKind::control);  // subscribe answer: depth 10
  const InstrumentId id = fx.id("BTC/USD");
  BookSync sync(Venue::kraken_spot, id);
  EXPECT_TRUE(fx.feed(frames[2], sync).book_changed);
  EXPECT_EQ(sync.depth(), 10u);
  EXPECT_TRUE(fx.feed(frames[3], sync).book_changed);
  EXPECT_EQ(sync.book().best_bid()->qty, Q("0.25"));
  // A new best ask pushes 45299.5 out of the subscribed top 10: the book must drop it itself.
  EXPECT_TRUE(fx.feed(frames[4], sync).book_changed);
  EXPECT_EQ(sync.book().depth(Side::sell), 10u);
  EXPECT_EQ(sync.book().qty_at(Side::sell, P("45299.5")), Qty{});
  EXPECT_EQ(sync.book().best_ask()->price, P("45284.9"));
  for (int i : {6, 8, 10}) EXPECT_TRUE(fx.feed(frames[i], sync).book_changed) << i;
  EXPECT_EQ(sync.checksums_checked(), 6u);
  EXPECT_EQ(sync.checksum_mismatches(), 0u);
  EXPECT_EQ(sync.state(), SyncState::synced);
  // Final book, by hand from the updates: best bid 45284.0 x 0.01, best ask 45285.2 x 0.001, 10 levels each.
  EXPECT_EQ(sync.book().best_bid()->price, P("45284.0"));
  EXPECT_EQ(sync.book().best_bid()->qty, Q("0.01"));
  EXPECT_EQ(sync.book().best_ask()->price, P("45285.2"));
  EXPECT_EQ(sync.book().qty_at(Side::sell, P("45286.4")), Q("1"));
  EXPECT_EQ(sync.book().depth(Side::buy), 10u);
  EXPECT_EQ(sync.book().qty_at(Side::buy, P("45276.0")), Qty{});  // cut when 45284.0 arrived
  EXPECT_EQ(sync.book().qty_at(Side::buy, P("45276.6")), Q("0.15445238"));
}

TEST(KrakenSpot, DepthInferredFromSnapshotWithoutSubscribeAnswer) {
  const auto frames = received(kSpot);
  Fixture fx(Venue::kraken_spot);
  BookSync sync(Venue::kraken_spot, 0);
  EXPECT_TRUE(fx.feed(frames[2], sync).book_changed);  // instrument 0: BTC/USD, first seen here
  EXPECT_EQ(sync.depth(), 10u);
  EXPECT_TRUE(fx.feed(frames[3], sync).book_changed);
  EXPECT_TRUE(fx.feed(frames[4], sync).book_changed);  // needs the cut to depth 10
  EXPECT_EQ(sync.checksum_mismatches(), 0u);
}

TEST(KrakenSpot, WrongChecksumUnpublishesBookUntilNextSnapshot) {
  const auto frames = received(kSpot);
  Fixture fx(Venue::kraken_spot);
  BookSync sync(Venue::kraken_spot, 0);
  ASSERT_TRUE(fx.feed(frames[2], sync).book_changed);
  // The venue's checksum of update 1 is 2800903109 (make_sample_captures.py); one off must be caught.
  const SyncResult bad = fx.feed(replace_once(frames[3], "\"checksum\":2800903109", "\"checksum\":2800903110"), sync);
  EXPECT_TRUE(bad.need_snapshot);
  EXPECT_EQ(bad.error, Errc::checksum_mismatch);
  EXPECT_EQ(sync.state(), SyncState::awaiting_snapshot);
  EXPECT_TRUE(sync.book().empty());
  EXPECT_EQ(sync.resyncs(), 1u);
  EXPECT_EQ(sync.checksum_mismatches(), 1u);
  // Updates before the next snapshot are dropped, not applied to a book that is known to be wrong.
  const SyncResult dropped = fx.feed(frames[4], sync);
  EXPECT_FALSE(dropped.book_changed);
  EXPECT_TRUE(sync.book().empty());
  EXPECT_TRUE(fx.feed(frames[2], sync).book_changed);
  EXPECT_EQ(sync.state(), SyncState::synced);
}

TEST(KrakenSpot, MissedUpdateIsCaughtByTheNextChecksum) {
  const auto frames = received(kSpot);
  Fixture fx(Venue::kraken_spot);
  BookSync sync(Venue::kraken_spot, 0);
  ASSERT_TRUE(fx.feed(frames[2], sync).book_changed);
  const SyncResult r = fx.feed(frames[4], sync);  // update 1 (best bid 0.25) never arrived
  EXPECT_TRUE(r.need_snapshot);
  EXPECT_EQ(r.error, Errc::checksum_mismatch);
}

TEST(KrakenSpot, TradeTickerAndControlMessages) {
  const auto frames = received(kSpot);
  Fixture fx(Venue::kraken_spot);
  ASSERT_EQ(fx.decode(frames[7]).events, 1u);
  const Trade& t = fx.out[0].trade;
  EXPECT_EQ(fx.out[0].h.type, EventType::trade);
  EXPECT_EQ(t.price, P("45283.4"));
  EXPECT_EQ(t.qty, Q("0.005"));
  EXPECT_EQ(t.aggressor, Side::sell);
  EXPECT_EQ(t.trade_id, 4665906u);
  EXPECT_EQ(fx.out[0].h.venue_time_ns, 1696613760708706000LL);  // 2023-10-06T17:36:00.708706Z
  ASSERT_EQ(fx.decode(frames[5]).events, 1u);                   // the documentation's ticker example
  const Bbo& q = fx.out[0].bbo;
  EXPECT_EQ(fx.out[0].h.instrument, fx.id("ALGO/USD"));
  EXPECT_EQ(q.bid_price, P("0.10025"));
  EXPECT_EQ(q.bid_qty, Q("740"));
  EXPECT_EQ(q.ask_price, P("0.10036"));
  EXPECT_EQ(q.ask_qty, Q("1361.44813783"));
  EXPECT_EQ(q.seq, 0u);
  EXPECT_EQ(fx.decode(frames[0]).kind, MessageKind::control);  // status
  EXPECT_EQ(fx.decode(frames[9]).kind, MessageKind::control);  // heartbeat
  const DecodeResult refused = fx.decode(
      R"({"error":"Currency pair not supported XYZ/USD","method":"subscribe","success":false,"symbol":"XYZ/USD"})");
  EXPECT_EQ(refused.kind, MessageKind::control);
  EXPECT_EQ(refused.action, ErrorAction::skip);
  // Recent-trade history is not a new print.
  EXPECT_EQ(fx.decode(replace_once(frames[7], "\"type\":\"update\"", "\"type\":\"snapshot\"")).kind,
            MessageKind::ignored);
}

TEST(KrakenSpot, BadInputIsRejectedWithoutLeavingEvents) {
  const auto frames = received(kSpot);
  Fixture fx(Venue::kraken_spot);
  // A book message that cannot be read asks for a resync; a trade that cannot be read is skipped.
  DecodeResult r = fx.decode(replace_once(frames[3], "\"qty\":0.25000000", "\"qty\":\"x\""));
  EXPECT_EQ(r.action, ErrorAction::resync);
  EXPECT_EQ(fx.out.size(), 0u);
  r = fx.decode(replace_once(frames[7], "\"side\":\"sell\"", "\"side\":\"up\""));
  EXPECT_EQ(r.action, ErrorAction::skip);
  EXPECT_EQ(fx.out.size(), 0u);
  r = fx.decode(frames[2].substr(0, frames[2].size() / 2));  // truncated
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(fx.out.size(), 0u);
  r = fx.decode(replace_once(frames[2], "\"checksum\":3310070434", "\"checksum\":4294967296"));  // > 32 bits
  EXPECT_EQ(r.error, Errc::out_of_range);
  // Without auto-registration an unknown pair is ignored.
  InstrumentRegistry reg(4);
  Decoder strict(Venue::kraken_spot, reg, false);
  EventBuffer out(64);
  simdjson::padded_string p(frames[7]);
  EXPECT_EQ(strict.decode(std::string_view(p.data(), frames[7].size()), p.size() + 64, 0, out).kind,
            MessageKind::ignored);
  EXPECT_THROW(Decoder(Venue::okx, reg), Error);
}

TEST(KrakenSpot, DecodeAndChecksumDoNotAllocateOnceWarm) {
  const auto frames = received(kSpot);
  Fixture fx(Venue::kraken_spot);
  std::vector<simdjson::padded_string> padded;
  for (const auto& f : frames) padded.emplace_back(f);
  BookSync sync(Venue::kraken_spot, 0);
  auto run = [&] {
    for (std::size_t i = 1; i < padded.size(); ++i) {
      fx.out.clear();
      (void)fx.decoder.decode(std::string_view(padded[i].data(), frames[i].size()), padded[i].size() + 64, 0, fx.out);
      for (const Event& e : fx.out) (void)sync.on_event(e);
    }
  };
  run();  // first sight of each pair registers it (cold)
  test::AllocationScope scope;
  run();
  EXPECT_EQ(scope.count(), 0u);
  EXPECT_EQ(sync.checksum_mismatches(), 0u);
  EXPECT_EQ(sync.checksums_checked(), 12u);
}

TEST(KrakenSpot, BookCheckVerifiesEveryChecksumInTheCapture) {
  BookCheckOptions opt;
  opt.verbose = true;
  const BookCheckResult r = check({kSpot}, Venue::kraken_spot, opt);
  for (const auto& n : r.notes) std::printf("  %s\n", n.c_str());
  EXPECT_EQ(r.frames, 11u);
  EXPECT_EQ(r.checked, 6u);  // the snapshot and 5 updates
  EXPECT_EQ(r.mismatched, 0u);
  EXPECT_EQ(r.gaps, 0u);
  EXPECT_EQ(r.resyncs, 0u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.skipped, 5u);  // status, subscribe answer, ticker, trade, heartbeat
}

// ---- futures ----------------------------------------------------------------------------------------

// Frames: 0 info, 1 subscribed, 2 book_snapshot (seq 326072249), 3-4 book (seq +1, +2), 5 trade,
// 6 ticker_lite, 7 heartbeat, 8 book (+3).
TEST(KrakenFutures, SnapshotAndUpdatesInSequence) {
  const auto frames = received(kFutures);
  ASSERT_EQ(frames.size(), 9u);
  Fixture fx(Venue::kraken_futures);
  EXPECT_EQ(fx.decode(frames[0]).kind, MessageKind::control);
  EXPECT_EQ(fx.decode(frames[1]).kind, MessageKind::control);
  ASSERT_EQ(fx.decode(frames[2]).events, 7u);
  EXPECT_EQ(fx.out[0].batch.seq, 326072249u);
  EXPECT_EQ(fx.out[0].h.venue_time_ns, 1612269825817000000LL);
  const InstrumentId id = fx.id("PI_XBTUSD");
  EXPECT_EQ(fx.registry.get(id).kind, InstrumentKind::inverse_perpetual);
  BookSync sync(Venue::kraken_futures, id);
  EXPECT_TRUE(fx.feed(frames[2], sync).book_changed);
  EXPECT_EQ(sync.book().best_ask()->price, P("34911.5"));
  EXPECT_TRUE(fx.feed(frames[3], sync).book_changed);  // 34911.5 ask removed
  EXPECT_EQ(sync.book().best_ask()->price, P("34912"));
  EXPECT_TRUE(fx.feed(frames[4], sync).book_changed);
  EXPECT_EQ(sync.book().best_bid()->price, P("34893"));
  EXPECT_EQ(sync.book().best_bid()->qty, Q("1500"));
  EXPECT_TRUE(fx.feed(frames[8], sync).book_changed);
  EXPECT_EQ(sync.book().best_bid()->price, P("34892.5"));
  EXPECT_EQ(sync.sequence_checks(), 3u);
  EXPECT_EQ(sync.last_seq(), 326072252u);
  EXPECT_EQ(sync.gaps(), 0u);
}

TEST(KrakenFutures, SequenceGapAsksForSnapshotAndDuplicateIsDropped) {
  const auto frames = received(kFutures);
  Fixture fx(Venue::kraken_futures);
  BookSync sync(Venue::kraken_futures, 0);
  ASSERT_TRUE(fx.feed(frames[2], sync).book_changed);
  ASSERT_TRUE(fx.feed(frames[3], sync).book_changed);
  const SyncResult dup = fx.feed(frames[3], sync);  // the same seq again
  EXPECT_FALSE(dup.book_changed);
  EXPECT_FALSE(dup.need_snapshot);
  EXPECT_EQ(sync.duplicates(), 1u);
  const SyncResult gap = fx.feed(frames[8], sync);  // seq +3 after +1: +2 is missing
  EXPECT_TRUE(gap.need_snapshot);
  EXPECT_EQ(gap.error, Errc::sequence_gap);
  EXPECT_EQ(sync.gaps(), 1u);
  EXPECT_EQ(sync.state(), SyncState::awaiting_snapshot);
  EXPECT_TRUE(sync.book().empty());
  EXPECT_TRUE(fx.feed(frames[2], sync).book_changed);  // a new snapshot restores it
}

TEST(KrakenFutures, TradeAndTickerLite) {
  const auto frames = received(kFutures);
  Fixture fx(Venue::kraken_futures);
  ASSERT_EQ(fx.decode(frames[5]).events, 1u);
  EXPECT_EQ(fx.out[0].h.type, EventType::trade);
  EXPECT_EQ(fx.out[0].trade.price, P("34893"));
  EXPECT_EQ(fx.out[0].trade.qty, Q("15000"));
  EXPECT_EQ(fx.out[0].trade.aggressor, Side::sell);
  EXPECT_EQ(fx.out[0].h.venue_time_ns, 1612269825960000000LL);
  ASSERT_EQ(fx.decode(frames[6]).events, 1u);
  EXPECT_EQ(fx.out[0].h.type, EventType::bbo);
  EXPECT_EQ(fx.out[0].bbo.bid_price, P("34893"));
  EXPECT_EQ(fx.out[0].bbo.ask_price, P("34912"));
  EXPECT_EQ(fx.decode(frames[7]).kind, MessageKind::control);
  const DecodeResult err = fx.decode(R"({"event":"error","message":"Invalid product id"})");
  EXPECT_EQ(err.kind, MessageKind::control);
  EXPECT_EQ(err.action, ErrorAction::skip);
  // A book update without seq cannot be checked for gaps: resync rather than guess.
  EXPECT_EQ(fx.decode(replace_once(frames[3], "\"seq\":326072250,", "")).action, ErrorAction::resync);
}

TEST(KrakenFutures, BookCheckCountsSequenceChecks) {
  const BookCheckResult r = check({kFutures}, Venue::kraken_futures, {});
  EXPECT_EQ(r.frames, 9u);
  EXPECT_EQ(r.checked, 3u);  // three updates continued the seq chain
  EXPECT_EQ(r.mismatched, 0u);
  EXPECT_EQ(r.gaps, 0u);
  // ticker_lite (bid 34893, ask 34912) after seq +2: the book's best bid 34893 and best ask 34912 by hand.
  bool reported = false;
  for (const auto& n : r.notes) reported |= n == "ticker agreement (arrival order, loose: not counted as checks): 1/1";
  EXPECT_TRUE(reported);
}

// ---- through the binary -----------------------------------------------------------------------------

using enigma::testing::Out;
using enigma::testing::run_enigma;

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/enigma-kraken-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(KrakenBinary, BookCheckSpotPassesAndCatchesABadChecksum) {
  const Out ok = run_enigma("book-check --venue kraken-spot " + kSpot);
  EXPECT_EQ(ok.code, 0) << ok.text;
  EXPECT_NE(ok.text.find("checked=6 mismatched=0 gaps=0 resyncs=0"), std::string::npos) << ok.text;

  std::ifstream in(kSpot);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bad =
      write_temp("bad.raw.txt", replace_once(ss.str(), "\"checksum\":3828302059", "\"checksum\":3828302058"));
  const Out o = run_enigma("book-check --venue kraken-spot " + bad);
  std::remove(bad.c_str());
  EXPECT_EQ(o.code, 1) << o.text;
  // Update 2 fails and unpublishes the book; updates 3-5 are dropped until a snapshot: 3 checksums ran.
  EXPECT_NE(o.text.find("checked=3 mismatched=1 gaps=0 resyncs=1"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("BTC/USD: resync needed (checksum mismatch)"), std::string::npos) << o.text;
}

TEST(KrakenBinary, BookCheckFuturesReportsAGap) {
  const Out ok = run_enigma("book-check --venue kraken-futures " + kFutures);
  EXPECT_EQ(ok.code, 0) << ok.text;
  EXPECT_NE(ok.text.find("checked=3 mismatched=0 gaps=0"), std::string::npos) << ok.text;

  std::ifstream in(kFutures);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // Drop the seq 326072251 update: the next one (…252) no longer continues the chain.
  const auto p = text.find("\"seq\":326072251");
  ASSERT_NE(p, std::string::npos);
  const auto b = text.rfind('\n', p) + 1, e = text.find('\n', p) + 1;
  text.erase(b, e - b);
  const std::string gap = write_temp("gap.raw.txt", text);
  const Out o = run_enigma("book-check --venue kraken-futures " + gap);
  std::remove(gap.c_str());
  EXPECT_NE(o.text.find("gaps=1 resyncs=1"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("PI_XBTUSD: resync needed (sequence gap)"), std::string::npos) << o.text;
}

long long number_after(const std::string& text, const std::string& key) {
  const auto p = text.find(key);
  return p == std::string::npos ? -1 : std::stoll(text.substr(p + key.size()));
}

// The sample captures replay through the whole pipeline (decode, checksum-verified book, strategies,
// simulated exchange): every book message applied, none failing, the trade seen.
TEST(KrakenBinary, ReplayBuildsTheBookFromTheCryptofeedCapture) {
  const std::string dir = ::testing::TempDir() + "/enigma-kraken-replay-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  const Out o = run_enigma("replay --quiet --config " + std::string(ENIGMA_SOURCE_DIR) +
                           "/config/replay.toml --venue kraken-spot --data " + kSpot + " --runs-dir " + dir + "/runs");
  ASSERT_EQ(o.code, 0) << o.text;
  std::ifstream f(std::filesystem::canonical(dir + "/runs/latest") / "summary.json");
  const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  EXPECT_NE(s.find("\"venue\": \"kraken-spot\""), std::string::npos) << s;
  EXPECT_EQ(number_after(s, "\"decode_errors\": "), 0) << s;
  EXPECT_EQ(number_after(s, "\"book_updates\": "), 6) << s;  // the snapshot and 5 updates, each checksum-verified
  EXPECT_EQ(number_after(s, "\"resyncs\": "), 0) << s;
  EXPECT_EQ(number_after(s, "\"crossed\": "), 0) << s;
  EXPECT_EQ(number_after(s, "\"trades_seen\": "), 1) << s;
}

}  // namespace
}  // namespace enigma::feed::kraken
