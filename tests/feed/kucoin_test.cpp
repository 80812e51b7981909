// KuCoin Futures and spot decoders, book sync and book-check on real recorded data (data/kucoin/).
// Expected values below were read by hand from the data files, not produced by the decoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "feed/capture_reader.hpp"
#include "feed/venues/kucoin.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/decode_both.hpp"

namespace enigma::feed::kucoin {
namespace {

std::string data_path(const std::string& rel) { return std::string(ENIGMA_SOURCE_DIR) + "/data/kucoin/" + rel; }

// One JSON value per line; `field` picks a member (the doc files wrap each payload in {"example": ...}).
std::vector<std::string> load_lines(const std::string& rel, const char* field = nullptr) {
  std::ifstream in(data_path(rel));
  EXPECT_TRUE(in.good()) << rel;
  std::vector<std::string> out;
  std::string line;
  simdjson::dom::parser parser;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (!field) {
      out.push_back(line);
      continue;
    }
    simdjson::dom::element doc = parser.parse(line);
    out.push_back(simdjson::minify(doc[field]));
  }
  return out;
}

Price P(const char* s) { return Price::parse(s).value; }
Qty Q(const char* s) { return Qty::parse(s).value; }

struct Fixture {
  InstrumentRegistry registry{256};
  Decoder decoder;
  EventBuffer out{4096};
  explicit Fixture(Venue v) : decoder(v, registry, true) {}

  DecodeResult decode(const std::string& msg) {
    out.clear();
    simdjson::padded_string padded(msg);
    return decoder.decode(std::string_view(padded.data(), padded.size()), padded.size() + simdjson::SIMDJSON_PADDING,
                          7, out);
  }
  DecodeResult snapshot(const std::string& body, std::string_view symbol = {}) {
    out.clear();
    simdjson::padded_string padded(body);
    return decoder.decode_snapshot(std::string_view(padded.data(), padded.size()),
                                   padded.size() + simdjson::SIMDJSON_PADDING, symbol, 7, out);
  }
  InstrumentId id(std::string_view sym, Venue v) { return *registry.find(v, sym); }
};

// ---------------------------------------------------------------------------------------------------
// KuCoin Futures: official examples

TEST(KucoinFutures, OfficialPublicExamplesDecodeFieldByField) {
  const auto ex = load_lines("kucoin_official_futures_public_ws_examples.jsonl", "example");
  ASSERT_EQ(ex.size(), 10u);
  Fixture f(Venue::kucoin_futures);

  // tickerV2
  auto r = f.decode(ex[0]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 1u);
  const Event& t = f.out[0];
  EXPECT_EQ(t.h.type, EventType::bbo);
  EXPECT_EQ(t.h.venue, Venue::kucoin_futures);
  EXPECT_EQ(t.h.instrument, f.id("XBTUSDTM", Venue::kucoin_futures));
  EXPECT_EQ(t.h.recv_tsc, 7u);
  EXPECT_EQ(t.h.venue_time_ns, 1731665526461000000);
  EXPECT_EQ(t.bbo.seq, 1709284589209u);
  EXPECT_EQ(t.bbo.bid_price, P("88987.4"));
  EXPECT_EQ(t.bbo.bid_qty, Q("713"));
  EXPECT_EQ(t.bbo.ask_price, P("88987.5"));
  EXPECT_EQ(t.bbo.ask_qty, Q("1037"));

  // ticker (v1)
  r = f.decode(ex[1]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(f.out[0].bbo.seq, 1793133570931u);
  EXPECT_EQ(f.out[0].bbo.bid_price, P("90147.7"));
  EXPECT_EQ(f.out[0].bbo.bid_qty, Q("2186"));
  EXPECT_EQ(f.out[0].bbo.ask_price, P("90147.8"));
  EXPECT_EQ(f.out[0].bbo.ask_qty, Q("275"));

  // level2Depth5: partial snapshot, aux = 5, bids then asks
  r = f.decode(ex[2]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 11u);
  EXPECT_EQ(f.out[0].h.type, EventType::book_batch);
  EXPECT_EQ(f.out[0].h.aux, 5u);
  EXPECT_EQ(f.out[0].batch.kind, BookBatchKind::snapshot);
  EXPECT_EQ(f.out[0].batch.seq, 1709294294670u);
  EXPECT_EQ(f.out[0].batch.level_count, 10u);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1731680019100LL * 1000000);
  EXPECT_EQ(f.out[1].level.side, Side::buy);
  EXPECT_EQ(f.out[1].level.price, P("89720.9"));
  EXPECT_EQ(f.out[1].level.qty, Q("513"));
  EXPECT_EQ(f.out[6].level.side, Side::sell);
  EXPECT_EQ(f.out[6].level.price, P("89721"));
  EXPECT_EQ(f.out[6].level.qty, Q("906"));
  EXPECT_EQ(f.out[10].level.price, P("89725.4"));

  // level2Depth50
  r = f.decode(ex[3]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 5u);
  EXPECT_EQ(f.out[0].h.aux, 50u);
  EXPECT_EQ(f.out[2].level.price, P("89778.2"));
  EXPECT_EQ(f.out[2].level.qty, Q("54"));

  // level2 increment "90631.2,sell,2"
  r = f.decode(ex[4]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 2u);
  EXPECT_EQ(f.out[0].batch.kind, BookBatchKind::delta);
  EXPECT_EQ(f.out[0].batch.seq, 1709400450243u);
  EXPECT_EQ(f.out[0].batch.first_seq, 1709400450243u);
  EXPECT_EQ(f.out[0].batch.level_count, 1u);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1731897467182LL * 1000000);
  EXPECT_EQ(f.out[1].level.side, Side::sell);
  EXPECT_EQ(f.out[1].level.price, P("90631.2"));
  EXPECT_EQ(f.out[1].level.qty, Q("2"));

  // limitCandle [start, open, close, high, low, volume, turnover]
  r = f.decode(ex[5]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(f.out[0].h.type, EventType::candle);
  EXPECT_EQ(f.out[0].h.aux, 60u);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1731898200LL * 1000000000);
  EXPECT_EQ(f.out[0].candle.open, P("90638.6"));
  EXPECT_EQ(f.out[0].candle.close, P("90638.6"));
  EXPECT_EQ(f.out[0].candle.volume, Q("21"));

  // execution
  r = f.decode(ex[6]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(f.out[0].h.type, EventType::trade);
  EXPECT_EQ(f.out[0].trade.aggressor, Side::buy);
  EXPECT_EQ(f.out[0].trade.qty, Q("2"));
  EXPECT_EQ(f.out[0].trade.price, P("90503.9"));
  EXPECT_EQ(f.out[0].trade.trade_id, 1794100537695u);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1731898619520000000);

  // instrument mark.index.price (JSON numbers)
  r = f.decode(ex[7]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(f.out[0].h.type, EventType::mark);
  EXPECT_EQ(f.out[0].mark.mark_price, P("90445.02"));
  EXPECT_EQ(f.out[0].mark.index_price, P("90445.02"));
  EXPECT_EQ(f.out[0].h.aux, 1u);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1731899129000LL * 1000000);

  // announcement and 24h snapshot: valid, not turned into events
  EXPECT_EQ(f.decode(ex[8]).kind, MessageKind::ignored);
  EXPECT_EQ(f.decode(ex[9]).kind, MessageKind::ignored);
}

TEST(KucoinFutures, OfficialPrivateExamplesAreIgnoredNotErrors) {
  Fixture f(Venue::kucoin_futures);
  for (const auto& m : load_lines("kucoin_official_futures_private_ws_examples.jsonl", "example")) {
    const auto r = f.decode(m);
    EXPECT_TRUE(r.ok()) << m;
    EXPECT_EQ(r.kind, MessageKind::ignored) << m;
  }
}

TEST(KucoinFutures, OfficialRestSnapshotAndBullet) {
  const auto ex = load_lines("kucoin_official_futures_market_rest_examples.jsonl", "example");
  ASSERT_EQ(ex.size(), 17u);
  Fixture f(Venue::kucoin_futures);
  const auto r = f.snapshot(ex[4]);  // GET /api/v1/level2/snapshot
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 5u);
  EXPECT_EQ(f.out[0].h.instrument, f.id("XBTUSDM", Venue::kucoin_futures));
  EXPECT_EQ(f.out[0].batch.kind, BookBatchKind::snapshot);
  EXPECT_EQ(f.out[0].h.aux, 0u);
  EXPECT_EQ(f.out[0].batch.seq, 1697895963339u);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1729168101216000000);
  EXPECT_EQ(f.out[1].level.price, P("66968"));
  EXPECT_EQ(f.out[1].level.qty, Q("2"));
  EXPECT_EQ(f.out[2].level.price, P("66964.8"));
  EXPECT_EQ(f.out[2].level.qty, Q("25596"));
  EXPECT_EQ(f.out[3].level.side, Side::sell);
  EXPECT_EQ(f.out[3].level.price, P("66968.1"));
  EXPECT_EQ(f.out[4].level.qty, Q("2032"));

  const BulletInfo pub = parse_bullet(ex[15]);
  EXPECT_EQ(pub.endpoint, "wss://ws-api-futures.kucoin.com/");
  EXPECT_EQ(pub.ping_interval_ms, 18000);
  EXPECT_EQ(pub.ping_timeout_ms, 10000);
  EXPECT_EQ(pub.token.substr(0, 12), "2neAiuYvAU61");
  EXPECT_EQ(pub.token.size(), 229u);
  const BulletInfo priv = parse_bullet(ex[16]);
  EXPECT_EQ(priv.token.substr(0, 12), "2neAiuYvAU73");
  EXPECT_THROW((void)parse_bullet(R"({"code":"400100","msg":"bad"})"), Error);
  EXPECT_THROW((void)parse_bullet(R"({"code":"200000","data":{"token":"t","instanceServers":[]}})"), Error);
  EXPECT_THROW((void)parse_bullet("not json"), Error);
}

TEST(KucoinFutures, ControlFrames) {
  Fixture f(Venue::kucoin_futures);
  auto r = f.decode(R"({"id":"hQvf8jkno","type":"welcome"})");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.kind, MessageKind::control);
  EXPECT_EQ(f.decoder.last_control().type, ControlFrame::Type::welcome);
  EXPECT_STREQ(f.decoder.last_control().id, "hQvf8jkno");
  r = f.decode(R"({"id":"1545910590801","type":"pong"})");
  EXPECT_EQ(r.kind, MessageKind::control);
  EXPECT_EQ(f.decoder.last_control().type, ControlFrame::Type::pong);
  EXPECT_EQ(f.decode(R"({"id":"1","type":"ack"})").kind, MessageKind::control);
  r = f.decode(R"({"id":"1","type":"error","code":401,"data":"token is invalid"})");
  EXPECT_EQ(r.kind, MessageKind::control);
  EXPECT_EQ(r.action, ErrorAction::fatal);
  EXPECT_EQ(f.decoder.last_control().code, 401);
  EXPECT_STREQ(f.decoder.last_control().message, "token is invalid");
  r = f.decode(R"({"id":"2","type":"error","code":404,"data":"topic /contractMarket/nope is not found"})");
  EXPECT_EQ(r.action, ErrorAction::skip);
  // Not JSON, and JSON that is not a KuCoin frame: skip.
  EXPECT_EQ(f.decode("garbage{").action, ErrorAction::skip);
  EXPECT_EQ(f.decode("[1,2]").action, ErrorAction::skip);
}

TEST(KucoinFutures, MalformedBookMessageAsksForResyncAndRollsBack) {
  Fixture f(Venue::kucoin_futures);
  f.out.clear();
  auto r = f.decode(R"({"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2","data":{"sequence":5,"change":"90631.2,sideways,2","timestamp":1}})");
  EXPECT_EQ(r.error, Errc::out_of_range);
  EXPECT_EQ(r.action, ErrorAction::resync);
  EXPECT_EQ(f.out.size(), 0u);
  r = f.decode(R"({"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2","data":{"sequence":5,"change":"1e5,buy,2"}})");
  EXPECT_EQ(r.action, ErrorAction::resync);
  r = f.decode(R"({"topic":"/contractMarket/execution:XBTUSDTM","type":"message","subject":"match","data":{"side":"buy","price":"x","size":1,"sequence":1}})");
  EXPECT_EQ(r.action, ErrorAction::skip);
  EXPECT_EQ(r.error, Errc::invalid_char);
}

TEST(KucoinFutures, UnknownSymbolIgnoredWithoutAutoRegister) {
  InstrumentRegistry reg(8);
  Decoder d(Venue::kucoin_futures, reg, false);
  EventBuffer out(16);
  simdjson::padded_string m(std::string(R"({"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2","data":{"sequence":5,"change":"1,buy,2","timestamp":1}})"));
  auto r = d.decode(std::string_view(m.data(), m.size()), m.size() + 64, 0, out);
  EXPECT_EQ(r.kind, MessageKind::ignored);
  EXPECT_EQ(reg.size(), 0u);
  EXPECT_THROW(Decoder(Venue::okx, reg), Error);
}

// ---------------------------------------------------------------------------------------------------
// KuCoin Futures: recorded messages (crypto-crawler live captures, Tardis recordings)

TEST(KucoinFutures, CryptoCrawlerRecordedMessages) {
  const auto msgs = load_lines("cryptocrawler_futures_ws_rest_samples.jsonl");
  ASSERT_EQ(msgs.size(), 24u);
  Fixture f(Venue::kucoin_futures);
  // Lines 1-3: executions with numeric prices and 24-hex trade ids (the sequence stands in).
  auto r = f.decode(msgs[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].trade.price, P("57850"));
  EXPECT_EQ(f.out[0].trade.qty, Q("16"));
  EXPECT_EQ(f.out[0].trade.trade_id, 8267947u);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1616362645429686578);
  r = f.decode(msgs[2]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].h.instrument, f.id("XBTMH21", Venue::kucoin_futures));
  EXPECT_EQ(f.out[0].trade.price, P("57963"));
  EXPECT_EQ(f.out[0].trade.aggressor, Side::sell);
  EXPECT_EQ(f.out[0].trade.qty, Q("1510"));
  // Lines 4-6: level2 increments.
  r = f.decode(msgs[3]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].batch.seq, 1617852459594u);
  EXPECT_EQ(f.out[1].level.price, P("39069"));
  EXPECT_EQ(f.out[1].level.side, Side::buy);
  EXPECT_EQ(f.out[1].level.qty, Q("23960"));
  // Lines 7-9: level2Depth5 with numeric prices like 31528.00000000.
  r = f.decode(msgs[6]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 11u);
  EXPECT_EQ(f.out[0].batch.seq, 1638556032307u);
  EXPECT_EQ(f.out[1].level.price, P("31528"));
  EXPECT_EQ(f.out[1].level.qty, Q("2856"));
  EXPECT_EQ(f.out[6].level.price, P("31529"));
  EXPECT_EQ(f.out[6].level.qty, Q("12725"));
  // Lines 10-12: tickerV2.
  r = f.decode(msgs[9]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].bbo.seq, 1647024019666u);
  EXPECT_EQ(f.out[0].bbo.bid_price, P("31741"));
  EXPECT_EQ(f.out[0].bbo.bid_qty, Q("118"));
  EXPECT_EQ(f.out[0].bbo.ask_price, P("31776"));
  EXPECT_EQ(f.out[0].bbo.ask_qty, Q("562"));
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1654032575773272833);
  // Lines 13-15: level3v2: not decoded.
  for (int i = 12; i < 15; ++i) EXPECT_EQ(f.decode(msgs[i]).kind, MessageKind::ignored);
  // Lines 16-18: legacy candle objects (granularity in minutes: 10080 = one week).
  r = f.decode(msgs[15]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].h.aux, 604800u);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1653868800000LL * 1000000);
  EXPECT_EQ(f.out[0].candle.open, P("29435"));
  EXPECT_EQ(f.out[0].candle.high, P("32320"));
  EXPECT_EQ(f.out[0].candle.low, P("29274"));
  EXPECT_EQ(f.out[0].candle.close, P("31504"));
  EXPECT_EQ(f.out[0].candle.volume, Q("1364110"));
  // Lines 19-21: 24h snapshots: ignored.
  for (int i = 18; i < 21; ++i) EXPECT_EQ(f.decode(msgs[i]).kind, MessageKind::ignored);
  // Lines 22-24: REST level2 snapshots.
  r = f.snapshot(msgs[23]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 7u);
  EXPECT_EQ(f.out[0].h.instrument, f.id("XBTUSDTM", Venue::kucoin_futures));
  EXPECT_EQ(f.out[0].batch.seq, 1645045405918u);
  EXPECT_EQ(f.out[1].level.price, P("29640"));
  EXPECT_EQ(f.out[1].level.qty, Q("13007"));
  EXPECT_EQ(f.out[4].level.price, P("29641"));
  EXPECT_EQ(f.out[4].level.qty, Q("30109"));
  // Every line decodes without error.
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const auto rr = i >= 21 ? f.snapshot(msgs[i]) : f.decode(msgs[i]);
    EXPECT_TRUE(rr.ok()) << "line " << i + 1;
  }
}

TEST(KucoinFutures, TardisRecordedMessages) {
  const auto msgs = load_lines("tardis_mappertest_futures_messages.jsonl");
  ASSERT_EQ(msgs.size(), 15u);
  Fixture f(Venue::kucoin_futures);
  auto r = f.decode(msgs[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].trade.price, P("93.624"));
  EXPECT_EQ(f.out[0].trade.qty, Q("10"));
  EXPECT_EQ(f.out[0].trade.trade_id, 1701197946092u);
  r = f.decode(msgs[4]);  // Tardis-generated level2Snapshot (REST shape inside a WS envelope)
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 3u);
  EXPECT_EQ(f.out[0].batch.seq, 1705411242391u);
  EXPECT_EQ(f.out[1].level.price, P("0.21557"));
  EXPECT_EQ(f.out[2].level.price, P("0.2166"));
  EXPECT_EQ(f.out[2].level.qty, Q("62"));
  r = f.decode(msgs[6]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].bbo.bid_price, P("24.067"));
  EXPECT_EQ(f.out[0].bbo.ask_qty, Q("250"));
  EXPECT_EQ(f.decode(msgs[7]).kind, MessageKind::ignored);  // contractDetails
  r = f.decode(msgs[9]);  // funding.rate, 1-minute granularity
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].mark.funding_rate, Rate::parse("0.000038").value);
  EXPECT_EQ(f.out[0].h.aux, 60u);
  r = f.decode(msgs[10]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].mark.mark_price, P("39610.11"));
  EXPECT_EQ(f.out[0].mark.index_price, P("39615.44"));
  for (const auto& m : msgs) EXPECT_TRUE(f.decode(m).ok()) << m;
}

// ---------------------------------------------------------------------------------------------------
// Book sync on the recorded MYROUSDTM increments (Tardis) and synthetic variants of them

struct SyncRun {
  std::uint64_t changed{0}, need{0};
  Errc last_error{Errc::ok};
};

SyncRun feed(Fixture& f, BookSync& s, const std::vector<std::string>& msgs) {
  SyncRun run;
  for (const auto& m : msgs) {
    const auto r = f.decode(m);
    EXPECT_TRUE(r.ok()) << m;
    for (const Event& e : f.out) {
      const SyncResult sr = s.on_event(e);
      run.changed += sr.book_changed;
      if (sr.need_snapshot) {
        ++run.need;
        run.last_error = sr.error;
      }
    }
  }
  return run;
}

std::vector<std::string> myro_messages() {
  const auto msgs = load_lines("tardis_mappertest_futures_messages.jsonl");
  // file order: 549 (older), 392, 393, snapshot@391, 394
  return {msgs[1], msgs[2], msgs[3], msgs[4], msgs[5]};
}

TEST(KucoinFuturesSync, RecordedIncrementsOnSnapshot) {
  Fixture f(Venue::kucoin_futures);
  const auto msgs = myro_messages();
  (void)f.decode(msgs[0]);
  BookSync sync(Venue::kucoin_futures, f.id("MYROUSDTM", Venue::kucoin_futures));
  // Increments before the snapshot are cached; the snapshot (391) replays 392 and 393, drops the
  // older 1705386314549, then 394 applies live.
  const SyncRun run = feed(f, sync, msgs);
  EXPECT_EQ(run.need, 0u);
  EXPECT_EQ(run.changed, 2u);  // snapshot+replay, then 394
  EXPECT_EQ(sync.state(), SyncState::synced);
  EXPECT_EQ(sync.last_seq(), 1705411242394u);
  EXPECT_EQ(sync.book().depth(Side::sell), 0u);  // 0.2166 removed by 392
  ASSERT_EQ(sync.book().depth(Side::buy), 3u);
  EXPECT_EQ(sync.book().best_bid()->price, P("0.3"));
  EXPECT_EQ(sync.book().best_bid()->qty, Q("3"));
  EXPECT_EQ(sync.book().level(Side::buy, 1).price, P("0.21557"));
  EXPECT_EQ(sync.book().qty_at(Side::buy, P("0.20645")), Q("1"));
  EXPECT_EQ(sync.gaps(), 0u);
}

TEST(KucoinFuturesSync, PartialDepthIsNotAFullSnapshot) {
  Fixture f(Venue::kucoin_futures);
  const auto ex = load_lines("kucoin_official_futures_public_ws_examples.jsonl", "example");
  (void)f.decode(ex[2]);
  BookSync sync(Venue::kucoin_futures, f.id("XBTUSDTM", Venue::kucoin_futures));
  for (const Event& e : f.out) EXPECT_FALSE(sync.on_event(e).book_changed);
  EXPECT_EQ(sync.state(), SyncState::awaiting_snapshot);
}

// Builds a level2 increment for MYROUSDTM with the given sequence (synthetic, shaped like the recordings).
std::string myro_delta(std::uint64_t seq, const char* change) {
  return std::string(R"({"topic":"/contractMarket/level2:MYROUSDTM","type":"message","subject":"level2","sn":)") +
         std::to_string(seq) + R"(,"data":{"sequence":)" + std::to_string(seq) + R"(,"change":")" + change +
         R"(","timestamp":1705708800010}})";
}

class KucoinFuturesSyncSynthetic : public ::testing::Test {
 protected:
  Fixture f{Venue::kucoin_futures};
  std::vector<std::string> base;
  void SetUp() override {
    const auto msgs = myro_messages();
    base = {msgs[3]};  // snapshot at 391
    // 392..397: contiguous increments derived from the recorded ones.
    base.push_back(msgs[1]);
    base.push_back(msgs[2]);
    base.push_back(msgs[4]);
    base.push_back(myro_delta(1705411242395, "0.35,sell,5"));
    base.push_back(myro_delta(1705411242396, "0.36,sell,7"));
    base.push_back(myro_delta(1705411242397, "0.3,buy,0"));
    (void)f.decode(base[0]);
  }
  InstrumentId id() { return f.id("MYROUSDTM", Venue::kucoin_futures); }
};

TEST_F(KucoinFuturesSyncSynthetic, CleanStreamStaysSynced) {
  BookSync s(Venue::kucoin_futures, id());
  const SyncRun run = feed(f, s, base);
  EXPECT_EQ(run.need, 0u);
  EXPECT_EQ(run.changed, 7u);
  EXPECT_EQ(s.last_seq(), 1705411242397u);
  EXPECT_EQ(s.book().best_bid()->price, P("0.21557"));
  EXPECT_EQ(s.book().best_ask()->price, P("0.35"));
}

TEST_F(KucoinFuturesSyncSynthetic, DroppedIncrementIsAGap) {
  auto msgs = base;
  msgs.erase(msgs.begin() + 3);  // drop 394
  BookSync s(Venue::kucoin_futures, id());
  const SyncRun run = feed(f, s, msgs);
  EXPECT_EQ(run.need, 1u);
  EXPECT_EQ(run.last_error, Errc::sequence_gap);
  EXPECT_EQ(run.changed, 3u);  // snapshot, 392, 393; nothing after the gap
  EXPECT_EQ(s.gaps(), 1u);
  EXPECT_EQ(s.state(), SyncState::awaiting_snapshot);
  EXPECT_TRUE(s.book().empty());
}

TEST_F(KucoinFuturesSyncSynthetic, DuplicateIsDroppedAsStale) {
  auto msgs = base;
  msgs.insert(msgs.begin() + 3, msgs[2]);  // 393 twice
  BookSync s(Venue::kucoin_futures, id());
  const SyncRun run = feed(f, s, msgs);
  EXPECT_EQ(run.need, 0u);
  EXPECT_EQ(s.stale_dropped(), 1u);
  EXPECT_EQ(run.changed, 7u);
  EXPECT_EQ(s.state(), SyncState::synced);
  EXPECT_EQ(s.book().qty_at(Side::buy, P("0.20645")), Q("1"));
}

TEST_F(KucoinFuturesSyncSynthetic, SwappedIncrementsAreAGapAndNothingStaleIsPublished) {
  auto msgs = base;
  std::swap(msgs[3], msgs[4]);  // 395 before 394
  BookSync s(Venue::kucoin_futures, id());
  const SyncRun run = feed(f, s, msgs);
  EXPECT_EQ(run.need, 1u);
  EXPECT_EQ(s.gaps(), 1u);
  EXPECT_EQ(run.changed, 3u);
  EXPECT_EQ(s.state(), SyncState::awaiting_snapshot);
  // A new snapshot at 395 joins the buffered 396, 397 and republishes.
  const std::string snap395 =
      R"({"code":"200000","data":{"sequence":1705411242395,"symbol":"MYROUSDTM","bids":[[0.3,3],[0.21557,30]],"asks":[[0.35,5]],"ts":1705881600412000000}})";
  (void)f.snapshot(snap395);
  bool changed = false;
  for (const Event& e : f.out) changed |= s.on_event(e).book_changed;
  EXPECT_TRUE(changed);
  EXPECT_EQ(s.state(), SyncState::synced);
  EXPECT_EQ(s.last_seq(), 1705411242397u);
  EXPECT_EQ(s.book().best_bid()->price, P("0.21557"));  // 397 removed 0.3
  EXPECT_EQ(s.book().best_ask()->price, P("0.35"));
}

TEST_F(KucoinFuturesSyncSynthetic, SnapshotOlderThanCachedStreamAsksAgain) {
  // Only increments from 393 on were cached: a snapshot at 391 cannot join them.
  BookSync s(Venue::kucoin_futures, id());
  std::vector<std::string> msgs = {base[2], base[3], base[0]};
  const SyncRun run = feed(f, s, msgs);
  EXPECT_EQ(run.need, 1u);
  EXPECT_EQ(run.last_error, Errc::sequence_gap);
  EXPECT_EQ(s.state(), SyncState::awaiting_snapshot);
  EXPECT_EQ(run.changed, 0u);
}

TEST_F(KucoinFuturesSyncSynthetic, CrossedBookAsksForResync) {
  BookSync s(Venue::kucoin_futures, id());
  auto msgs = base;
  msgs.push_back(myro_delta(1705411242398, "0.4,buy,1"));  // bid above the 0.35 ask
  const SyncRun run = feed(f, s, msgs);
  EXPECT_EQ(run.need, 1u);
  EXPECT_EQ(run.last_error, Errc::crossed_book);
  EXPECT_EQ(s.state(), SyncState::awaiting_snapshot);
}

// ---------------------------------------------------------------------------------------------------
// KuCoin spot

TEST(KucoinSpot, DecodesRecordedAndOfficialMessages) {
  Fixture f(Venue::kucoin_spot);
  const auto ex = load_lines("kucoin_official_spot_public_ws_examples.jsonl", "example");
  auto r = f.decode(ex[0]);  // ticker with "Time"
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].bbo.seq, 1545896668986u);
  EXPECT_EQ(f.out[0].bbo.ask_price, P("0.08"));
  EXPECT_EQ(f.out[0].bbo.ask_qty, Q("0.18"));
  EXPECT_EQ(f.out[0].bbo.bid_price, P("0.049"));
  EXPECT_EQ(f.out[0].bbo.bid_qty, Q("0.036"));
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1704873323416LL * 1000000);
  r = f.decode(ex[1]);  // ticker:all names the symbol in subject
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].h.instrument, f.id("BTC-USDT", Venue::kucoin_spot));
  EXPECT_EQ(f.out[0].bbo.seq, 14691455768u);
  r = f.decode(ex[2]);  // level1
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].bbo.ask_price, P("68145.8"));
  EXPECT_EQ(f.out[0].bbo.bid_qty, Q("1.29267802"));
  r = f.decode(ex[7]);  // level2 increment
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 2u);
  EXPECT_EQ(f.out[0].batch.first_seq, 14701689783u);
  EXPECT_EQ(f.out[0].batch.seq, 14701689783u);
  EXPECT_EQ(f.out[1].level.side, Side::sell);
  EXPECT_EQ(f.out[1].level.price, P("67993.3"));
  EXPECT_EQ(f.out[1].level.qty, Q("1.21427407"));
  r = f.decode(ex[8]);  // candles
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].h.aux, 3600u);
  EXPECT_EQ(f.out[0].candle.open, P("67644.9"));
  EXPECT_EQ(f.out[0].candle.close, P("67437.6"));
  EXPECT_EQ(f.out[0].candle.high, P("67724.8"));
  EXPECT_EQ(f.out[0].candle.low, P("67243.8"));
  EXPECT_EQ(f.out[0].candle.volume, Q("44.88321441"));
  r = f.decode(ex[9]);  // match
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].trade.trade_id, 11067996711960577u);
  EXPECT_EQ(f.out[0].trade.price, P("67523"));
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1729843222921000000);
  for (const auto& m : ex) EXPECT_TRUE(f.decode(m).ok()) << m;
  const auto cc = load_lines("cryptocrawler_spot_ws_rest_samples.jsonl");
  ASSERT_EQ(cc.size(), 11u);
  for (std::size_t i = 0; i < 9; ++i) EXPECT_TRUE(f.decode(cc[i]).ok()) << cc[i];
  r = f.snapshot(cc[9], "BTC-USDT");  // REST level2 snapshot: the body has no symbol
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 7u);
  EXPECT_EQ(f.out[0].batch.seq, 1630423725254u);
  EXPECT_EQ(f.out[1].level.price, P("29701.4"));
  EXPECT_EQ(f.out[1].level.qty, Q("1.1244206"));
  EXPECT_EQ(f.out[6].level.qty, Q("0.00034976"));
  // Line 11 is a futures contract list, not a snapshot: refused, and the caller must fetch again.
  r = f.snapshot(cc[10], "BTC-USDT");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.action, ErrorAction::resync);
  // Sequence-only change (price "0"): a batch with no level.
  r = f.decode(R"({"data":{"sequenceStart":1613277183874,"symbol":"BCHSV-USDT","changes":{"asks":[["0","0","1613277183874"]],"bids":[]},"sequenceEnd":1613277183874},"subject":"trade.l2update","topic":"/market/level2:BCHSV-USDT","type":"message"})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(f.out[0].batch.level_count, 0u);
}

TEST(KucoinSpot, MultiChangeUpdateSkipsChangesAlreadyInSnapshot) {
  Fixture f(Venue::kucoin_spot);
  ASSERT_TRUE(f.snapshot(R"({"code":"200000","data":{"time":1,"sequence":"101","bids":[["10","1"]],"asks":[["11","1"]]}})", "ABC-USDT").ok());
  BookSync s(Venue::kucoin_spot, f.id("ABC-USDT", Venue::kucoin_spot));
  for (const Event& e : f.out) (void)s.on_event(e);
  ASSERT_EQ(s.state(), SyncState::synced);
  // Changes 100 and 101 are already in the snapshot; 102 is new.
  ASSERT_TRUE(f.decode(R"({"type":"message","topic":"/market/level2:ABC-USDT","subject":"trade.l2update","data":{"sequenceStart":100,"sequenceEnd":102,"symbol":"ABC-USDT","changes":{"asks":[["11","0","100"],["12","3","102"]],"bids":[["10","5","101"]]}}})").ok());
  for (const Event& e : f.out) (void)s.on_event(e);
  EXPECT_EQ(s.state(), SyncState::synced);
  EXPECT_EQ(s.last_seq(), 102u);
  EXPECT_EQ(s.book().qty_at(Side::sell, P("11")), Q("1"));
  EXPECT_EQ(s.book().qty_at(Side::buy, P("10")), Q("1"));
  EXPECT_EQ(s.book().qty_at(Side::sell, P("12")), Q("3"));
}

const std::vector<std::string> kSpotFiles = {
    data_path("cryptofeed_spot_ws_level2_ticker_match_candles_10sym_20210425.raw.txt.gz"),
    data_path("cryptofeed_spot_rest_level2_snapshots_9sym_20210425.raw.txt.gz")};

// KuCoin puts "data" before the topic that says how to read it; the decoder reads such a push in one pass
// with the topic found at the frame's tail. The same push with its envelope in another order (read by the
// by-name path), or with a decoy `"topic":"` after the real one (the tail guess is wrong and the frame is
// rolled back to the by-name path), must give the same event. Values read by hand from the capture line.
TEST(KucoinSpot, EnvelopeOrderAndADecoyTopicGiveTheSameTicker) {
  const std::string data =
      R"({"sequence":"1612844051653","bestAsk":"0.00028717","size":"0.01745248","bestBidSize":"3.70422021",)"
      R"("price":"0.00028676","time":1619378326323,"bestAskSize":"14.04274325","bestBid":"0.00028678"})";
  const std::string recorded =  // as recorded (cryptofeed_spot_ws_level2_ticker_match_candles_10sym_20210425)
      R"({"data":)" + data + R"(,"subject":"trade.ticker","topic":"/market/ticker:SNX-BTC","type":"message"})";
  const std::string reordered =
      R"({"type":"message","topic":"/market/ticker:SNX-BTC","subject":"trade.ticker","data":)" + data + "}";
  const std::string decoy = R"({"data":)" + data +
                            R"(,"subject":"trade.ticker","topic":"/market/ticker:SNX-BTC","type":"message",)"
                            R"("note":{"topic":"/market/match:SNX-BTC"}})";
  for (const std::string* msg : {&recorded, &reordered, &decoy}) {
    Fixture f(Venue::kucoin_spot);
    const DecodeResult r = f.decode(*msg);
    ASSERT_TRUE(r.ok()) << *msg;
    ASSERT_EQ(f.out.size(), 1u) << *msg;
    const Event& e = f.out[0];
    EXPECT_EQ(e.h.type, EventType::bbo);
    EXPECT_EQ(f.registry.get(e.h.instrument).symbol.view(), "SNX-BTC");
    EXPECT_EQ(e.bbo.seq, 1612844051653u);
    EXPECT_EQ(e.bbo.bid_price, P("0.00028678"));
    EXPECT_EQ(e.bbo.bid_qty, Q("3.70422021"));
    EXPECT_EQ(e.bbo.ask_price, P("0.00028717"));
    EXPECT_EQ(e.bbo.ask_qty, Q("14.04274325"));
    EXPECT_EQ(e.h.venue_time_ns, 1619378326323LL * 1'000'000);
  }
  // A push whose envelope names no topic is not market data, whatever its tail says.
  Fixture f(Venue::kucoin_spot);
  const DecodeResult r = f.decode(R"({"data":)" + data + R"(,"subject":"trade.ticker","type":"message"})");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(f.out.size(), 0u);
}

// The one-pass scanner against the simdjson path on every recorded and documented frame: the same result and
// the same events, field by field. The scanner takes the pushes it reads (futures level2, tickerV2, ticker and
// execution; spot l2update, ticker and match) and leaves every other frame to simdjson. Expected counts from
// `grep -c` of those topics in the files; the spot `/market/ticker:all` pushes (the symbol is in the subject)
// are left to simdjson.
TEST(KucoinDecoder, ScannerAndSimdjsonAgreeOnEveryRecordedFrame) {
  struct Source {
    Venue venue;
    const char* file;
    const char* field;           // the doc files wrap each payload in {"example": ...}
    std::uint64_t scanned;       // frames of the scanner's topics
  };
  const Source sources[] = {
      {Venue::kucoin_futures, "tardis_mappertest_futures_messages.jsonl", nullptr, 2 + 4 + 1},
      {Venue::kucoin_futures, "cryptocrawler_futures_ws_rest_samples.jsonl", nullptr, 3 + 3 + 3},
      {Venue::kucoin_futures, "kucoin_official_futures_public_ws_examples.jsonl", "example", 1 + 1 + 1 + 1},
      {Venue::kucoin_spot, "cryptocrawler_spot_ws_rest_samples.jsonl", nullptr, 2 + 1 + 1},
      {Venue::kucoin_spot, "kucoin_official_spot_public_ws_examples.jsonl", "example", 1 + 1 + 1},
  };
  EventBuffer a(1u << 16), b(1u << 16);
  for (const Source& src : sources) {
    InstrumentRegistry reg_a(256), reg_b(256);
    Decoder scanned(src.venue, reg_a, true);
    Decoder plain(src.venue, reg_b, true);
    plain.set_scanner(false);
    const auto lines = load_lines(src.file, src.field);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const simdjson::padded_string padded(lines[i]);
      CapturedFrame f;
      f.payload = std::string_view(padded.data(), padded.size());
      f.padded_capacity = padded.size() + simdjson::SIMDJSON_PADDING;
      f.line_no = i + 1;
      DecodeResult rb;
      ASSERT_TRUE(test::decode_both(scanned, plain, f, a, b, rb)) << src.file;
    }
    EXPECT_EQ(scanned.scanned_frames(), src.scanned) << src.file;
    EXPECT_EQ(plain.scanned_frames(), 0u);
  }
  // The recorded spot session: 3,853 l2update, 830 ticker and 18 match pushes of 4,736 lines.
  CaptureReader cap(data_path("cryptofeed_spot_ws_level2_ticker_match_candles_10sym_20210425.raw.txt.gz"));
  InstrumentRegistry reg_a(256), reg_b(256);
  Decoder scanned(Venue::kucoin_spot, reg_a, true);
  Decoder plain(Venue::kucoin_spot, reg_b, true);
  plain.set_scanner(false);
  CapturedFrame f;
  std::uint64_t decoded = 0;
  while (cap.next(f)) {
    if (f.kind != FrameKind::ws_received) continue;
    DecodeResult rb;
    ASSERT_TRUE(test::decode_both(scanned, plain, f, a, b, rb));
    decoded += rb.ok() && rb.events > 0;
  }
  EXPECT_EQ(scanned.scanned_frames(), 3853u + 830u + 18u);
  EXPECT_EQ(scanned.rounded_levels(), plain.rounded_levels());
  EXPECT_GE(decoded, scanned.scanned_frames());
}

TEST(KucoinSpotCheck, CaptureRebuildsNineBooksAndMatchesEveryTicker) {
  BookCheckOptions opt;
  opt.verbose = true;
  opt.max_notes = 100;
  const BookCheckResult r = check(kSpotFiles, Venue::kucoin_spot, opt);
  for (const auto& n : r.notes) std::printf("  %s\n", n.c_str());
  std::printf("frames=%llu checked=%llu mismatched=%llu gaps=%llu resyncs=%llu skipped=%llu errors=%llu\n",
              (unsigned long long)r.frames, (unsigned long long)r.checked, (unsigned long long)r.mismatched,
              (unsigned long long)r.gaps, (unsigned long long)r.resyncs, (unsigned long long)r.skipped,
              (unsigned long long)r.errors);
  // SOURCES.md counts 766 tickers compared when they arrive while the book sits at their sequence.
  // 32 more tickers arrive BEFORE the depth update carrying their sequence (SOURCES.md's note); we hold
  // them until the book reaches it, so 766 + 32 = 798 are compared. Of the 830 tickers, 20 predate the
  // snapshots (11 below, 9 equal to the snapshot sequence) and 12 arrive after the book has moved past
  // their sequence: those cannot be compared at the same sequence.
  EXPECT_EQ(r.checked, 798u);
  // The BCHSV-USDT snapshot level 0.00019434546 is rounded up to 0.0001943455 (and counted); it is
  // never the best level, so every comparison is unaffected.
  EXPECT_NE(std::find(r.notes.begin(), r.notes.end(), "quantities rounded up to 10 decimals: 1"), r.notes.end());
  EXPECT_EQ(r.mismatched, 0u);
  EXPECT_EQ(r.gaps, 0u);
  EXPECT_EQ(r.resyncs, 0u);
  EXPECT_EQ(r.errors, 0u);
}

TEST(KucoinSpotCheck, NineSymbolsSyncedAndMissingSnapshotReported) {
  BookCheckOptions opt;
  opt.verbose = true;
  opt.max_notes = 100;
  const BookCheckResult r = check(kSpotFiles, Venue::kucoin_spot, opt);
  const auto synced = std::count_if(r.notes.begin(), r.notes.end(),
                                    [](const std::string& n) { return n.find(": synced at sequence") != std::string::npos; });
  EXPECT_EQ(synced, 9);
  // Without the REST file no book can sync: nothing is compared, and the notes say why.
  const BookCheckResult ws_only = check({kSpotFiles[0]}, Venue::kucoin_spot, BookCheckOptions{});
  EXPECT_EQ(ws_only.checked, 0u);
  EXPECT_EQ(ws_only.gaps, 0u);
  ASSERT_FALSE(ws_only.notes.empty());
  EXPECT_NE(ws_only.notes.back().find("no level-2 snapshot"), std::string::npos);
}

TEST(KucoinFuturesCheck, RecordedFuturesFiles) {
  // Tardis: snapshot + MYROUSDTM increments (no tickerV2 for MYROUSDTM at a matching sequence).
  const BookCheckResult r = check({data_path("tardis_mappertest_futures_messages.jsonl")}, Venue::kucoin_futures,
                                  BookCheckOptions{});
  EXPECT_EQ(r.frames, 15u);
  EXPECT_EQ(r.checked, 0u);
  EXPECT_EQ(r.mismatched, 0u);
  EXPECT_EQ(r.gaps, 0u);
  EXPECT_EQ(r.resyncs, 0u);
  EXPECT_EQ(r.errors, 0u);
}

// ---------------------------------------------------------------------------------------------------
// Corrupted copies of the real spot capture, made here: one diff dropped, one duplicated, two swapped.

struct Frame {
  std::string payload;
  bool rest;
  std::string symbol;
};

std::vector<Frame> spot_frames() {
  std::vector<std::pair<std::int64_t, Frame>> all;
  for (const auto& path : kSpotFiles) {
    CaptureReader reader(path);
    CapturedFrame fr;
    while (reader.next(fr)) {
      if (fr.kind != FrameKind::ws_received && fr.kind != FrameKind::rest_body) continue;
      std::string sym;
      if (fr.kind == FrameKind::rest_body) sym = std::string(fr.url.substr(fr.url.find("symbol=") + 7));
      all.push_back({fr.recv_ns, Frame{std::string(fr.payload), fr.kind == FrameKind::rest_body, sym}});
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Frame> out;
  for (auto& [t, f] : all) out.push_back(std::move(f));
  return out;
}

struct BookRun {
  std::uint64_t need{0}, changed_after_first_gap{0}, changed{0};
  Errc first_error{Errc::ok};
  SyncState final_state{SyncState::awaiting_snapshot};
  std::uint64_t gaps{0}, stale{0};
  std::vector<Level> top_bids, top_asks;
};

BookRun run_symbol(const std::vector<Frame>& frames, const std::string& symbol) {
  Fixture f(Venue::kucoin_spot);
  BookSync* sync = nullptr;
  std::unique_ptr<BookSync> holder;
  BookRun run;
  for (const auto& fr : frames) {
    const auto r = fr.rest ? f.snapshot(fr.payload, fr.symbol) : f.decode(fr.payload);
    if (!r.ok() || r.kind != MessageKind::market_data) continue;
    for (const Event& e : f.out) {
      if (f.registry.get(e.h.instrument).symbol.view() != symbol) continue;
      if (!sync) {
        holder = std::make_unique<BookSync>(Venue::kucoin_spot, e.h.instrument);
        sync = holder.get();
      }
      const SyncResult sr = sync->on_event(e);
      if (sr.need_snapshot && run.need++ == 0) run.first_error = sr.error;
      if (sr.book_changed) {
        ++run.changed;
        if (run.need) ++run.changed_after_first_gap;
      }
    }
  }
  run.final_state = sync->state();
  run.gaps = sync->gaps();
  run.stale = sync->stale_dropped();
  Level buf[10];
  run.top_bids.assign(buf, buf + sync->book().top(Side::buy, buf, 10));
  run.top_asks.assign(buf, buf + sync->book().top(Side::sell, buf, 10));
  return run;
}

// Index of the n-th BCHSV-USDT level2 frame after its snapshot.
std::size_t nth_diff_after_snapshot(const std::vector<Frame>& frames, int n) {
  bool snap = false;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].rest && frames[i].symbol == "BCHSV-USDT") snap = true;
    if (snap && !frames[i].rest && frames[i].payload.find("/market/level2:BCHSV-USDT") != std::string::npos && n-- == 0)
      return i;
  }
  ADD_FAILURE() << "not enough diffs";
  return 0;
}

TEST(KucoinSpotCorrupted, CleanCaptureBaseline) {
  const auto frames = spot_frames();
  const BookRun run = run_symbol(frames, "BCHSV-USDT");
  EXPECT_EQ(run.need, 0u);
  EXPECT_EQ(run.final_state, SyncState::synced);
  EXPECT_GT(run.changed, 100u);
}

TEST(KucoinSpotCorrupted, DroppedDiffIsAGapAndNothingIsPublishedAfterIt) {
  auto frames = spot_frames();
  frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(nth_diff_after_snapshot(frames, 100)));
  const BookRun run = run_symbol(frames, "BCHSV-USDT");
  EXPECT_EQ(run.need, 1u);
  EXPECT_EQ(run.first_error, Errc::sequence_gap);
  EXPECT_EQ(run.gaps, 1u);
  EXPECT_EQ(run.changed_after_first_gap, 0u);  // no second snapshot in the capture: stays unpublished
  EXPECT_EQ(run.final_state, SyncState::awaiting_snapshot);
}

TEST(KucoinSpotCorrupted, DuplicatedDiffIsDroppedAndTheBookStaysRight) {
  const auto clean = run_symbol(spot_frames(), "BCHSV-USDT");
  auto frames = spot_frames();
  const std::size_t i = nth_diff_after_snapshot(frames, 100);
  frames.insert(frames.begin() + static_cast<std::ptrdiff_t>(i) + 1, frames[i]);
  const BookRun run = run_symbol(frames, "BCHSV-USDT");
  // Same sequence again: already in the book, dropped as stale (KuCoin: apply only greater sequences).
  EXPECT_EQ(run.need, 0u);
  EXPECT_EQ(run.stale, clean.stale + 1);  // clean.stale: diffs that arrived after the snapshot already had them
  EXPECT_EQ(run.final_state, SyncState::synced);
  ASSERT_EQ(run.top_bids.size(), clean.top_bids.size());
  for (std::size_t k = 0; k < run.top_bids.size(); ++k) EXPECT_EQ(run.top_bids[k].qty, clean.top_bids[k].qty);
  ASSERT_EQ(run.top_asks.size(), clean.top_asks.size());
  for (std::size_t k = 0; k < run.top_asks.size(); ++k) EXPECT_EQ(run.top_asks[k].price, clean.top_asks[k].price);
}

TEST(KucoinSpotCorrupted, SwappedDiffsAreAGap) {
  auto frames = spot_frames();
  const std::size_t a = nth_diff_after_snapshot(frames, 100);
  const std::size_t b = nth_diff_after_snapshot(frames, 101);
  std::swap(frames[a], frames[b]);
  const BookRun run = run_symbol(frames, "BCHSV-USDT");
  EXPECT_EQ(run.need, 1u);
  EXPECT_EQ(run.first_error, Errc::sequence_gap);
  EXPECT_EQ(run.changed_after_first_gap, 0u);
  EXPECT_EQ(run.final_state, SyncState::awaiting_snapshot);
}

// ---------------------------------------------------------------------------------------------------
// Zero allocations per message after warm-up (decode + book sync over the whole spot capture)

TEST(KucoinSpotAlloc, DecodeAndSyncAllocateNothingAfterWarmUp) {
  const auto frames = spot_frames();
  std::vector<simdjson::padded_string> padded;
  for (const auto& f : frames) padded.emplace_back(f.payload);
  InstrumentRegistry registry(64);
  Decoder decoder(Venue::kucoin_spot, registry, true);
  EventBuffer out(4096);
  std::vector<std::unique_ptr<BookSync>> syncs(64);
  auto pass = [&]() {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      out.clear();
      const std::string_view v(padded[i].data(), padded[i].size());
      const auto r = frames[i].rest ? decoder.decode_snapshot(v, v.size() + 64, frames[i].symbol, 0, out)
                                    : decoder.decode(v, v.size() + 64, 0, out);
      if (!r.ok()) continue;
      for (const Event& e : out) {
        if (e.h.type != EventType::book_batch && e.h.type != EventType::book_level) continue;
        (void)syncs[e.h.instrument]->on_event(e);
      }
    }
  };
  // Warm-up: register symbols and create the syncs (cold), then one full pass.
  for (std::size_t i = 0; i < frames.size(); ++i) {
    out.clear();
    const std::string_view v(padded[i].data(), padded[i].size());
    const auto r = frames[i].rest ? decoder.decode_snapshot(v, v.size() + 64, frames[i].symbol, 0, out)
                                  : decoder.decode(v, v.size() + 64, 0, out);
    if (r.ok())
      for (const Event& e : out)
        if (!syncs[e.h.instrument]) syncs[e.h.instrument] = std::make_unique<BookSync>(Venue::kucoin_spot, e.h.instrument);
  }
  pass();
  enigma::test::AllocationScope scope;
  pass();
  EXPECT_EQ(scope.count(), 0u);
}

}  // namespace
}  // namespace enigma::feed::kucoin
