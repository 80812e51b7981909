// Coinbase decoder (legacy capture + Advanced Trade fixtures), book sync and book-check (data/coinbase).
#include "feed/venues/coinbase.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feed/capture_reader.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/decode_both.hpp"

namespace enigma::feed::coinbase {
namespace {

std::string data(const std::string& name) { return std::string(ENIGMA_SOURCE_DIR) + "/data/coinbase/" + name; }
const std::string kLegacy = data("cryptofeed_pro_ws_level2_l2update_match_ticker_10sym_20210417.raw.txt.gz");

struct Capture {
  explicit Capture(const std::string& path) : reader(path) {
    CapturedFrame f;
    while (reader.next(f))
      if (f.kind == FrameKind::ws_received) frames.push_back(f);
  }
  const CapturedFrame& first(std::string_view needle) const {
    for (const CapturedFrame& f : frames)
      if (f.payload.find(needle) != std::string_view::npos) return f;
    throw std::runtime_error("no frame with " + std::string(needle));
  }
  CaptureReader reader;
  std::vector<CapturedFrame> frames;
};

// A JSON text kept padded for simdjson.
struct Padded {
  explicit Padded(std::string s) : text(std::move(s)) { text.append(64, ' '); }
  DecodeResult decode(Decoder& d, EventBuffer& out) const {
    return d.decode(std::string_view(text.data(), text.size() - 64), text.size(), 0, out);
  }
  std::string text;
};

TEST(CoinbaseTime, ParsesIsoMicroseconds) {
  // 2021-04-17T16:43:37.075687Z = 1618677817.075687 s (date -u -d @1618677817 -> 2021-04-17 16:43:37).
  const Result<std::int64_t> t = parse_time("2021-04-17T16:43:37.075687Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value, 1618677817075687000LL);
  EXPECT_FALSE(parse_time("2021-04-17 bad").ok());
}

TEST(CoinbaseDecoder, LegacySnapshotL2updateMatchTicker) {
  Capture cap(kLegacy);
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out(1u << 18);
  const CapturedFrame& snap = cap.first("\"type\":\"snapshot\",\"product_id\":\"BAND-GBP\"");
  ASSERT_TRUE(dec.decode(snap.payload, snap.padded_capacity, 0, out).ok());
  EXPECT_EQ(out[0].batch.kind, BookBatchKind::snapshot);
  EXPECT_EQ(reg.get(out[0].h.instrument).symbol.view(), "BAND-GBP");
  EXPECT_EQ(out[1].level.side, Side::sell);  // "asks" come first in this frame
  EXPECT_EQ(out[1].level.price, Price::parse("14.8024").value);
  EXPECT_EQ(out[1].level.qty, Qty::parse("12.77").value);
  out.clear();
  const CapturedFrame& upd = cap.first("{\"type\":\"l2update\",\"product_id\":\"SKL-BTC\",\"changes\":[[\"sell\",\"0.00001306\",\"660.5\"]]");
  ASSERT_TRUE(dec.decode(upd.payload, upd.padded_capacity, 0, out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].batch.kind, BookBatchKind::delta);
  EXPECT_EQ(out[0].h.venue_time_ns, 1618677817075687000LL);
  EXPECT_EQ(out[1].level.side, Side::sell);
  EXPECT_EQ(out[1].level.qty, Qty::parse("660.5").value);
  out.clear();
  const CapturedFrame& m = cap.first("\"type\":\"match\",\"trade_id\":280232");
  ASSERT_TRUE(dec.decode(m.payload, m.padded_capacity, 0, out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].trade.trade_id, 280232u);
  EXPECT_EQ(out[0].trade.qty, Qty::parse("985").value);
  EXPECT_EQ(out[0].trade.aggressor, Side::buy);  // "side":"sell" is the maker order: a buyer took it
  out.clear();
  const CapturedFrame& t = cap.first("\"type\":\"ticker\",\"sequence\":333938798");
  ASSERT_TRUE(dec.decode(t.payload, t.padded_capacity, 0, out).ok());
  EXPECT_EQ(out[0].bbo.bid_price, Price::parse("14.7550").value);
  EXPECT_EQ(out[0].bbo.ask_price, Price::parse("14.8060").value);
  EXPECT_EQ(out[0].bbo.seq, 333938798u);
  const CapturedFrame& s = cap.first("\"type\":\"subscriptions\"");
  EXPECT_EQ(dec.decode(s.payload, s.padded_capacity, 0, out).kind, MessageKind::control);
}

TEST(CoinbaseDecoder, AdvancedTradeL2DataAndTrades) {
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out;
  const Padded snap(read_file_decompressed(data("nautilus_crate_ws_l2_data_snapshot.json")));
  DecodeResult r = snap.decode(dec, out);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[0].batch.kind, BookBatchKind::snapshot);
  EXPECT_EQ(out[0].batch.seq, 0u);
  EXPECT_EQ(out[4].level.side, Side::sell);
  EXPECT_EQ(out[4].level.price, Price::parse("68901.00").value);
  out.clear();
  const Padded upd(read_file_decompressed(data("nautilus_crate_ws_l2_data_update.json")));
  r = upd.decode(dec, out);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(out.size(), 3u);  // sequence 0 -> 1: contiguous, no status event
  EXPECT_EQ(out[0].batch.kind, BookBatchKind::delta);
  EXPECT_EQ(out[0].batch.seq, 1u);
  EXPECT_TRUE(out[2].level.qty.is_zero());
  out.clear();
  const Padded trades(read_file_decompressed(data("nautilus_crate_ws_market_trades.json")));
  r = trades.decode(dec, out);  // sequence 1 -> 5: a gap
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].h.type, EventType::status);
  EXPECT_EQ(out[0].status.code, StatusCode::gap);
  EXPECT_EQ(out[0].status.expected, 2u);
  EXPECT_EQ(out[0].status.got, 5u);
  EXPECT_EQ(out[1].trade.trade_id, 995098700u);
  EXPECT_EQ(out[1].trade.aggressor, Side::buy);
  EXPECT_EQ(out[2].trade.aggressor, Side::sell);
  EXPECT_EQ(dec.gaps(), 1u);
}

TEST(CoinbaseBook, AdvancedTradeGapStopsPublishingUntilSnapshot) {
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out;
  const std::string snap_text = read_file_decompressed(data("nautilus_crate_ws_l2_data_snapshot.json"));
  const std::string upd_text = read_file_decompressed(data("nautilus_crate_ws_l2_data_update.json"));
  BookSync sync(0);
  auto feed = [&](const std::string& text, std::uint64_t& changed, std::uint64_t& resync) {
    out.clear();
    EXPECT_TRUE(Padded(text).decode(dec, out).ok());
    for (const Event& e : out) {
      const SyncResult r = sync.on_event(e);
      changed += r.book_changed;
      resync += r.need_snapshot && r.error == Errc::sequence_gap;
    }
  };
  std::uint64_t changed = 0, resync = 0;
  feed(snap_text, changed, resync);
  feed(upd_text, changed, resync);
  EXPECT_EQ(changed, 2u);
  ASSERT_TRUE(sync.synced());
  // Corrupted copy made here: the next update skips sequence 2 (one message dropped).
  std::string dropped = upd_text;
  dropped.replace(dropped.find("\"sequence_num\": 1"), 17, "\"sequence_num\": 3");
  changed = 0;
  feed(dropped, changed, resync);
  EXPECT_EQ(resync, 1u);
  EXPECT_EQ(changed, 0u);
  EXPECT_FALSE(sync.synced());
  // A duplicated message (sequence repeats) is also a break.
  feed(dropped, changed, resync);
  EXPECT_EQ(changed, 0u);
  EXPECT_FALSE(sync.synced());
  // The snapshot sent after resubscribing restores publishing.
  std::string resnap = snap_text;
  resnap.replace(resnap.find("\"sequence_num\": 0"), 17, "\"sequence_num\": 4");
  feed(resnap, changed, resync);
  EXPECT_EQ(changed, 1u);
  EXPECT_TRUE(sync.synced());
}

// The legacy book scanner against simdjson on every recorded frame: the same result and the same events;
// the scanner takes every snapshot and l2update (9,729) and nothing else.
TEST(CoinbaseDecoder, ScannerAndSimdjsonAgreeOnEveryRecordedFrame) {
  Capture cap(kLegacy);
  InstrumentRegistry reg_a;
  InstrumentRegistry reg_b;
  Decoder scanned(reg_a, true);
  Decoder plain(reg_b, true);
  plain.set_scanner(false);
  EventBuffer a(1u << 16);
  EventBuffer b(1u << 16);
  std::uint64_t book_frames = 0;
  for (const CapturedFrame& f : cap.frames) {
    DecodeResult rb;
    ASSERT_TRUE(test::decode_both(scanned, plain, f, a, b, rb));
    if (rb.ok() && b.size() > 0 && b[0].h.type == EventType::book_batch) ++book_frames;
  }
  EXPECT_EQ(book_frames, 9719u + 10u);
  EXPECT_EQ(scanned.scanned_frames(), book_frames);
  EXPECT_EQ(plain.scanned_frames(), 0u);
}

TEST(CoinbaseCheck, LegacyCaptureNeverCrossed) {
  const BookCheckResult r = check({kLegacy}, Venue::coinbase, {});
  EXPECT_EQ(r.mismatched, 0u);  // never crossed
  EXPECT_EQ(r.gaps, 0u);
  EXPECT_EQ(r.resyncs, 0u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.checked, 9719u + 10u);  // every l2update and snapshot verified
  bool loose = false;
  for (const std::string& n : r.notes) loose |= n == "ticker agreement (arrival order): 100/107";
  EXPECT_TRUE(loose);
}

TEST(CoinbaseAlloc, DecodeAndApplyDoNotAllocate) {
  Capture cap(kLegacy);
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out(1u << 18);
  std::vector<std::unique_ptr<BookSync>> books;
  for (InstrumentId i = 0; i < 16; ++i) books.push_back(std::make_unique<BookSync>(i));
  std::uint64_t allocations = 0, n = 0;
  // Warm-up: the first 200 frames register the products (cold, first sight).
  for (std::size_t i = 0; i < cap.frames.size(); ++i) {
    out.clear();
    test::AllocationScope scope;
    const DecodeResult r = dec.decode(cap.frames[i].payload, cap.frames[i].padded_capacity, 0, out);
    for (const Event& e : out)
      if (e.h.instrument < books.size()) (void)books[e.h.instrument]->on_event(e);
    if (i >= 200) {
      allocations += scope.count();
      n += r.ok();
    }
  }
  EXPECT_GT(n, 9000u);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace enigma::feed::coinbase
