// Bybit v5 decoder, book sync and book-check on the real orderbook.500 dump (data/bybit, see ATTRIBUTION.md).
#include "feed/venues/bybit.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feed/capture_reader.hpp"
#include "tests/support/alloc_counter.hpp"

namespace enigma::feed::bybit {
namespace {

std::string data(const std::string& name) { return std::string(ENIGMA_SOURCE_DIR) + "/data/bybit/" + name; }
const std::string kDump = data("bybit_public_XRPUSDT_ob500_20241201.data.zip");

struct Capture {
  explicit Capture(const std::string& path) : reader(path) {
    CapturedFrame f;
    while (reader.next(f)) frames.push_back(f);
  }
  CaptureReader reader;
  std::vector<CapturedFrame> frames;
};

// Decodes a single-message fixture file (pretty-printed JSON).
DecodeResult decode_file(Decoder& dec, const std::string& path, EventBuffer& out) {
  const std::string body = read_file_decompressed(path);
  static std::vector<simdjson::padded_string> keep;
  keep.emplace_back(body);
  return dec.decode(std::string_view(keep.back().data(), keep.back().size()),
                    keep.back().size() + simdjson::SIMDJSON_PADDING, 0, out);
}

TEST(BybitDecoder, OrderbookSnapshotAndDelta) {
  Capture cap(kDump);
  ASSERT_EQ(cap.frames.size(), 50u);
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out;
  DecodeResult r = dec.decode(cap.frames[0].payload, cap.frames[0].padded_capacity, 5, out);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(out[0].h.type, EventType::book_batch);
  EXPECT_EQ(out[0].batch.kind, BookBatchKind::snapshot);
  EXPECT_EQ(out[0].batch.seq, 20254869u);
  EXPECT_EQ(out[0].batch.level_count, 1000u);
  EXPECT_EQ(out[0].h.venue_time_ns, 1733011200691LL * 1'000'000);
  EXPECT_EQ(reg.get(out[0].h.instrument).symbol.view(), "XRPUSDT");
  EXPECT_EQ(out[1].level.side, Side::buy);
  EXPECT_EQ(out[1].level.price, Price::parse("1.9531").value);
  EXPECT_EQ(out[1].level.qty, Qty::parse("6203").value);
  out.clear();
  r = dec.decode(cap.frames[1].payload, cap.frames[1].padded_capacity, 5, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(out[0].batch.kind, BookBatchKind::delta);
  EXPECT_EQ(out[0].batch.seq, 20254870u);
  EXPECT_EQ(out[1].level.price, Price::parse("1.9531").value);
  EXPECT_EQ(out[1].level.qty, Qty::parse("6198").value);
}

// FNV-1a written out here so the expected id does not come from the code under test.
std::uint64_t json_fnv(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

TEST(BybitDecoder, TradeTickerControl) {
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out;
  // Recorded publicTrade frame (tardis-node mapper test data, re-serialised with key order kept).
  Capture tardis(data("tardis_mappertest_messages_v2_v5.jsonl"));
  const CapturedFrame* trade = nullptr;
  for (const CapturedFrame& f : tardis.frames)
    if (f.payload.find("\"topic\":\"publicTrade.LTCUSDT\"") != std::string_view::npos) trade = &f;
  ASSERT_NE(trade, nullptr);
  DecodeResult r = dec.decode(trade->payload, trade->padded_capacity, 0, out);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].h.type, EventType::trade);
  EXPECT_EQ(reg.get(out[0].h.instrument).symbol.view(), "LTCUSDT");
  EXPECT_EQ(out[0].trade.price, Price::parse("94.53").value);
  EXPECT_EQ(out[0].trade.qty, Qty::parse("0.4").value);
  EXPECT_EQ(out[0].trade.aggressor, Side::buy);
  EXPECT_EQ(out[0].trade.trade_id, json_fnv("4c7b6bdc-b4a3-5716-9c7b-bbe01dc7072f"));
  EXPECT_EQ(out[0].h.venue_time_ns, 1680688979983LL * 1'000'000);
  out.clear();
  r = decode_file(dec, data("nautilus_crate_ws_ticker_linear.json"), out);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].h.type, EventType::bbo);
  EXPECT_EQ(out[0].bbo.seq, 24987956059u);
  EXPECT_EQ(out[0].bbo.bid_price, Price::parse("17215.50").value);
  EXPECT_EQ(out[0].bbo.ask_qty, Qty::parse("83.020").value);
  EXPECT_EQ(out[1].h.type, EventType::mark);
  EXPECT_EQ(out[1].mark.mark_price, Price::parse("17217.33").value);
  EXPECT_EQ(out[1].mark.funding_rate, Rate::parse("-0.000212").value);
  EXPECT_EQ(out[1].mark.next_funding_time_ns, 1673280000000LL * 1'000'000);
  out.clear();
  r = decode_file(dec, data("nautilus_crate_ws_subscription_ack.json"), out);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.kind, MessageKind::control);
  r = decode_file(dec, data("nautilus_crate_ws_subscription_failure.json"), out);
  EXPECT_EQ(r.action, ErrorAction::fatal);
  EXPECT_EQ(out.size(), 0u);
}

TEST(BybitDecoder, TickerDeltaMergesPartialFields) {
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out;
  auto run = [&](std::string s) {
    out.clear();
    s.append(64, ' ');
    return dec.decode(std::string_view(s.data(), s.size() - 64), s.size(), 0, out);
  };
  ASSERT_TRUE(run(R"({"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","bid1Price":"10","bid1Size":"1","ask1Price":"11","ask1Size":"2"},"cs":1,"ts":1})").ok());
  const DecodeResult r = run(R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","ask1Size":"3"},"cs":2,"ts":2})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bbo.bid_price, Price::parse("10").value);
  EXPECT_EQ(out[0].bbo.ask_qty, Qty::parse("3").value);
  EXPECT_EQ(out[0].bbo.seq, 2u);
  // Malformed orderbook -> resync; not JSON -> skip.
  EXPECT_EQ(run(R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["1",2]],"a":[],"u":3}})").action,
            ErrorAction::resync);
  EXPECT_EQ(run("{\"topic\":").action, ErrorAction::skip);
  EXPECT_EQ(out.size(), 0u);
}

TEST(BybitCheck, Ob500DumpNoGapsNeverCrossed) {
  const BookCheckResult r = check({kDump}, Venue::bybit, {});
  EXPECT_EQ(r.frames, 50u);
  EXPECT_EQ(r.checked, 50u);  // the snapshot and 49 deltas, each verified
  EXPECT_EQ(r.mismatched, 0u);
  EXPECT_EQ(r.gaps, 0u);
  EXPECT_EQ(r.resyncs, 0u);
  EXPECT_EQ(r.errors, 0u);
}

std::vector<std::vector<Event>> decode_all(const Capture& cap) {
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out;
  std::vector<std::vector<Event>> frames;
  for (const CapturedFrame& f : cap.frames) {
    out.clear();
    EXPECT_TRUE(dec.decode(f.payload, f.padded_capacity, 0, out).ok());
    frames.emplace_back(out.begin(), out.end());
  }
  return frames;
}

TEST(BybitBook, FiveHundredLevelsPerSideAtTheEnd) {
  Capture cap(kDump);
  BookSync sync(0);
  std::uint64_t changed = 0;
  for (const auto& fr : decode_all(cap))
    for (const Event& e : fr) {
      const SyncResult r = sync.on_event(e);
      changed += r.book_changed;
      EXPECT_FALSE(r.need_snapshot);
      if (r.book_changed) {
        EXPECT_FALSE(sync.book().crossed());
      }
    }
  EXPECT_EQ(changed, 50u);
  EXPECT_TRUE(sync.synced());
  EXPECT_EQ(sync.last_seq(), 20254918u);
  EXPECT_EQ(sync.book().depth(Side::buy), 500u);
  EXPECT_EQ(sync.book().depth(Side::sell), 500u);
}

TEST(BybitBook, DroppedSwappedAreGapsDuplicatedIsDropped) {
  Capture cap(kDump);
  const auto clean = decode_all(cap);
  auto replay = [](const std::vector<std::vector<Event>>& frames, std::uint64_t& gaps_requested, std::uint64_t& changed_after) {
    BookSync sync(0);
    bool gap = false;
    for (const auto& fr : frames)
      for (const Event& e : fr) {
        const SyncResult r = sync.on_event(e);
        if (r.need_snapshot && r.error == Errc::sequence_gap) {
          ++gaps_requested;
          gap = true;
        }
        if (gap && r.book_changed) ++changed_after;
      }
    return sync.synced();
  };
  const std::size_t k = 20;
  for (int kind : {0, 2}) {  // dropped, swapped: a gap
    auto frames = clean;
    if (kind == 0) frames.erase(frames.begin() + k);
    if (kind == 2) std::swap(frames[k], frames[k + 1]);
    std::uint64_t requested = 0, changed_after = 0;
    EXPECT_FALSE(replay(frames, requested, changed_after)) << kind;
    EXPECT_EQ(requested, 1u) << kind;
    EXPECT_EQ(changed_after, 0u) << kind;
  }
  {
    // Duplicated (u <= last applied u): dropped and counted, the book stays synced.
    auto frames = clean;
    frames.insert(frames.begin() + k, frames[k]);
    BookSync sync(0);
    std::uint64_t gaps_requested = 0;
    for (const auto& fr : frames)
      for (const Event& e : fr) gaps_requested += sync.on_event(e).error == Errc::sequence_gap;
    EXPECT_TRUE(sync.synced());
    EXPECT_EQ(gaps_requested, 0u);
    EXPECT_EQ(sync.stats().duplicates, 1u);
  }
  // A fresh snapshot (the venue re-sends one after resubscribing) brings the book back.
  auto frames = clean;
  frames.erase(frames.begin() + k);
  frames.push_back(clean[0]);
  std::uint64_t requested = 0, changed_after = 0;
  EXPECT_TRUE(replay(frames, requested, changed_after));
  EXPECT_EQ(changed_after, 1u);
}

TEST(BybitAlloc, DecodeAndApplyDoNotAllocate) {
  Capture cap(kDump);
  InstrumentRegistry reg;
  Decoder dec(reg, true);
  EventBuffer out;
  BookSync sync(0);
  std::uint64_t allocations = 0;
  for (std::size_t i = 0; i < cap.frames.size(); ++i) {
    out.clear();
    test::AllocationScope scope;
    const DecodeResult r = dec.decode(cap.frames[i].payload, cap.frames[i].padded_capacity, 0, out);
    for (const Event& e : out) (void)sync.on_event(e);
    if (i > 0) allocations += scope.count();  // frame 0 registers the symbol
    EXPECT_TRUE(r.ok());
  }
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace enigma::feed::bybit
