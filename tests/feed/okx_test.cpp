// OKX v5 decoders, checksum/seqId book sync and book-check on real recorded data (data/okx/).
// Expected values were read by hand from the data files.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <simdjson.h>
#include <zlib.h>

#include "feed/capture_reader.hpp"
#include "feed/detail/crc32.hpp"
#include "feed/venues/okx.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/decode_both.hpp"

namespace enigma::feed::okx {
namespace {

std::string data_path(const std::string& rel) { return std::string(ENIGMA_SOURCE_DIR) + "/data/okx/" + rel; }
std::string read_all(const std::string& rel) {
  std::ifstream in(data_path(rel));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
std::vector<std::string> load_lines(const std::string& rel) {
  std::ifstream in(data_path(rel));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}
Price P(const char* s) { return Price::parse(s).value; }
Qty Q(const char* s) { return Qty::parse(s).value; }

struct Fixture {
  InstrumentRegistry registry{256};
  Decoder decoder{registry, true};
  EventBuffer out{4096};
  DecodeResult decode(const std::string& msg) {
    out.clear();
    simdjson::padded_string padded(msg);
    return decoder.decode(std::string_view(padded.data(), padded.size()), padded.size() + 64, 3, out);
  }
  InstrumentId id(std::string_view inst) { return *registry.find(Venue::okx, inst); }
};

const std::string kCapture = data_path("cryptofeed_v5_ws_books_trades_tickers_3inst_20220513.raw.txt.gz");

TEST(Okx, CaptureChecksumsAllMatch) {
  BookCheckOptions opt;
  opt.verbose = true;
  const BookCheckResult r = check({kCapture}, Venue::okx, opt);
  for (const auto& n : r.notes) std::printf("  %s\n", n.c_str());
  EXPECT_EQ(r.frames, 410u);
  EXPECT_EQ(r.checked, 290u);  // 3 snapshots + 287 updates, each with a checksum
  EXPECT_EQ(r.mismatched, 0u);
  EXPECT_EQ(r.gaps, 0u);
  EXPECT_EQ(r.resyncs, 0u);
  EXPECT_EQ(r.errors, 0u);
}

// The one-pass scanner against the simdjson path on every recorded and documented frame: the same result and
// the same events, field by field. The scanner takes the compact book pushes (books, books-l2-tbt, books5) and
// leaves every other frame to simdjson, the pretty-printed documentation examples included. Expected counts
// from `grep` of the files: 290 book pushes in the capture (3 snapshots, 287 updates), 5 books-l2-tbt and
// 6 books5 pushes in the samples.
TEST(Okx, ScannerAndSimdjsonAgreeOnEveryRecordedFrame) {
  EventBuffer a(1u << 16), b(1u << 16);
  InstrumentRegistry reg_a(256), reg_b(256);
  Decoder scanned(reg_a, true);
  Decoder plain(reg_b, true);
  plain.set_scanner(false);
  const auto both = [&](std::string_view payload, std::size_t line) {
    const simdjson::padded_string padded(payload);
    CapturedFrame f;
    f.payload = std::string_view(padded.data(), padded.size());
    f.padded_capacity = padded.size() + simdjson::SIMDJSON_PADDING;
    f.line_no = line;
    DecodeResult rb;
    return test::decode_both(scanned, plain, f, a, b, rb);
  };
  const auto samples = load_lines("cryptocrawler_v5_ws_rest_samples.jsonl");
  for (std::size_t i = 0; i < samples.size(); ++i) ASSERT_TRUE(both(samples[i], i + 1));
  EXPECT_EQ(scanned.scanned_frames(), 5u + 6u);
  for (const char* doc : {"nautilus_crate_ws_books_snapshot.json", "nautilus_crate_ws_books_update.json",
                          "nautilus_crate_ws_bbo_tbt.json", "nautilus_crate_ws_tickers.json", "nautilus_crate_ws_trades.json"})
    ASSERT_TRUE(both(read_all(doc), 0)) << doc;
  EXPECT_EQ(scanned.scanned_frames(), 5u + 6u);  // whitespace: simdjson reads them
  CaptureReader cap(kCapture);
  CapturedFrame f;
  while (cap.next(f)) {
    if (f.kind != FrameKind::ws_received) continue;
    DecodeResult rb;
    ASSERT_TRUE(test::decode_both(scanned, plain, f, a, b, rb));
  }
  EXPECT_EQ(scanned.scanned_frames(), 5u + 6u + 290u);
  EXPECT_EQ(plain.scanned_frames(), 0u);
}

// Channel pushes are read in one pass (arg, data in the order OKX sends them); the same push in another
// order, or an event frame, goes the by-name way. Both must agree. Values read by hand from the capture.
TEST(Okx, EnvelopeOrderGivesTheSameTrade) {
  const std::string arg = R"("arg":{"channel":"trades","instId":"BTC-USD-220527"})";
  const std::string data =
      R"("data":[{"instId":"BTC-USD-220527","tradeId":"7849","px":"30218.8","sz":"1","side":"buy","ts":"1652459199958"}])";
  for (const std::string& msg : {"{" + arg + "," + data + "}", "{" + data + "," + arg + "}"}) {
    Fixture f;
    const DecodeResult r = f.decode(msg);
    ASSERT_TRUE(r.ok()) << msg;
    ASSERT_EQ(f.out.size(), 1u) << msg;
    const Event& e = f.out[0];
    EXPECT_EQ(e.h.type, EventType::trade);
    EXPECT_EQ(e.h.instrument, f.id("BTC-USD-220527"));
    EXPECT_EQ(e.trade.trade_id, 7849u);
    EXPECT_EQ(e.trade.price, P("30218.8"));
    EXPECT_EQ(e.trade.qty, Q("1"));
    EXPECT_EQ(e.trade.aggressor, Side::buy);
    EXPECT_EQ(e.h.venue_time_ns, 1652459199958LL * 1'000'000);
  }
  // The subscribe ack (arg + event, no data) is a control frame either way round.
  Fixture f;
  EXPECT_EQ(f.decode(R"({"event":"subscribe",)" + arg + "}").kind, MessageKind::control);
  EXPECT_EQ(f.decode("{" + arg + R"(,"event":"subscribe"})").kind, MessageKind::control);
  EXPECT_EQ(f.out.size(), 0u);
}

TEST(Okx, BookMessagesDecodeFieldByField) {
  Fixture f;
  auto r = f.decode(read_all("nautilus_crate_ws_books_snapshot.json"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 17u);
  const Event& b = f.out[0];
  EXPECT_EQ(b.h.type, EventType::book_batch);
  EXPECT_EQ(b.h.instrument, f.id("BTC-USDT"));
  EXPECT_EQ(b.h.venue, Venue::okx);
  EXPECT_EQ(b.h.venue_time_ns, 1597026383085LL * 1000000);
  EXPECT_EQ(b.batch.kind, BookBatchKind::snapshot);
  EXPECT_EQ(b.batch.seq, 123456u);
  EXPECT_FALSE(b.batch.has_prev_seq);  // prevSeqId -1
  EXPECT_TRUE(b.batch.has_checksum);
  EXPECT_EQ(b.batch.checksum, -855196043);
  EXPECT_EQ(b.batch.level_count, 16u);
  EXPECT_EQ(f.out[1].level.side, Side::sell);
  EXPECT_EQ(f.out[1].level.price, P("8476.98"));
  EXPECT_EQ(f.out[1].level.qty, Q("415"));
  EXPECT_EQ(f.out[9].level.side, Side::buy);
  EXPECT_EQ(f.out[9].level.price, P("8476.97"));
  EXPECT_EQ(f.out[16].level.price, P("8446"));

  r = f.decode(read_all("nautilus_crate_ws_books_update.json"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].batch.kind, BookBatchKind::delta);
  EXPECT_TRUE(f.out[0].batch.has_prev_seq);
  EXPECT_EQ(f.out[0].batch.prev_seq, 123456u);
  EXPECT_EQ(f.out[0].batch.seq, 123457u);
}

// OKX's documentation example (nautilus fixture) carries checksum -855196043, which does not match its
// own levels: CRC32 of "8476.97:256:8476.98:415:8475.55:101:8477:7:..." is -2102840145 (computed with
// Python's zlib.crc32 over the original strings). Our canonical form must give the same number, and the
// sync must refuse the example as sent.
TEST(Okx, DocExampleChecksumIsRejectedAndOursMatchesAnIndependentCrc) {
  Fixture f;
  ASSERT_TRUE(f.decode(read_all("nautilus_crate_ws_books_snapshot.json")).ok());
  L2Book book;
  for (const Event& e : f.out) {
    if (e.h.type == EventType::book_level) {
      ASSERT_EQ(book.apply(e.level.side, e.level.price, e.level.qty), Errc::ok);
    }
  }
  EXPECT_EQ(book_checksum(book), -2102840145);
  BookSync s(f.id("BTC-USDT"));
  SyncResult last{};
  for (const Event& e : f.out) last = s.on_event(e);
  EXPECT_TRUE(last.need_snapshot);
  EXPECT_EQ(last.error, Errc::checksum_mismatch);
  EXPECT_EQ(s.state(), SyncState::awaiting_snapshot);
}

// The fixtures with their checksum corrected, to exercise seqId/prevSeqId.
std::string fixed_fixture(const char* name) {
  std::string m = read_all(name);
  const std::size_t p = m.find("-855196043");
  m.replace(p, 10, "-2102840145");
  return m;
}

// The folded (PCLMULQDQ) CRC-32 equals zlib's for every length and alignment: below 64 bytes (zlib only),
// the 64-byte blocks, the 16-byte tail folds and the last 0..15 bytes.
TEST(Okx, Crc32MatchesZlibForEveryLengthAndAlignment) {
  std::string bytes(1200, '\0');
  std::uint64_t x = 88172645463325252ULL;
  for (char& c : bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  for (std::size_t off = 0; off < 4; ++off) {
    for (std::size_t len = 0; len + off <= bytes.size(); len += (len < 300 ? 1 : 37)) {
      const auto want = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data() + off), static_cast<uInt>(len)));
      ASSERT_EQ(feed::detail::crc32_ieee(bytes.data() + off, len), want) << "len " << len << " offset " << off;
    }
  }
}

// The fast checksum text (table digits, word trim) must be exactly the canonical Fixed::format text, for
// prices and sizes of every shape: whole numbers, 1..10 fractional digits, zeros inside the fraction,
// the smallest step and the largest value.
TEST(Okx, ChecksumTextIsTheCanonicalFormatOfEveryLevel) {
  const std::int64_t raws[] = {1, 9, 10, 100, 1'000'000'000, 10'000'000'000, 10'000'000'001, 12'345'678'901,
                               29'391'200'000'000, 29'391'000'000'000, 29'391'010'000'000, 5'000'000'000,
                               1'000'000'000'000'000'000, 999'999'999'999'999'999, INT64_MAX - 1, 100'000'000'000,
                               12'000'000'000, 20'000'000'000, 1'200'000'000, 1'000'000'000'000'000'001};
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;  // splitmix-style walk over many more magnitudes
  ChecksumCache cache;  // shared by all rounds: entries of earlier books must never leak into a later one
  for (int round = 0; round < 200; ++round) {
    L2Book book;
    std::vector<std::int64_t> values(std::begin(raws), std::end(raws));
    for (int k = 0; k < 30; ++k) {
      x += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      // Round to 10^d for a random d so trailing fractional zeros of every length occur.
      const std::int64_t scale = static_cast<std::int64_t>(enigma::detail::kPow10[z % 12]);
      const std::int64_t v = static_cast<std::int64_t>((z >> 8) % 1'000'000'000'000'000ULL) / scale * scale;
      values.push_back(v == 0 ? 1 : v);
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::int64_t v = values[(i + static_cast<std::size_t>(round)) % values.size()];
      ASSERT_EQ(book.apply(i % 2 ? Side::buy : Side::sell, Price::from_raw(v), Qty::from_raw(values[i])), Errc::ok);
    }
    std::string expect;
    for (std::size_t i = 0; i < 25; ++i) {
      for (Side side : {Side::buy, Side::sell}) {
        if (i >= book.depth(side)) continue;
        const Level& l = book.level(side, i);
        if (!expect.empty()) expect += ':';
        expect += l.price.to_string() + ':' + l.qty.to_string();
      }
    }
    char buf[kChecksumTextCapacity];
    const std::size_t n = book_checksum_text(book, buf);
    ASSERT_EQ(std::string(buf, n), expect) << "round " << round;
    const std::size_t cached_n = cache.text(book, buf);
    ASSERT_EQ(std::string(buf, cached_n), expect) << "round " << round;
    const auto crc = static_cast<std::int32_t>(static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(expect.data()), static_cast<uInt>(expect.size()))));
    EXPECT_EQ(book_checksum(book), crc);
    EXPECT_EQ(cache.checksum(book), crc);
  }
  L2Book empty;
  EXPECT_EQ(book_checksum(empty), 0);
  EXPECT_EQ(cache.checksum(empty), 0);
}

TEST(Okx, SeqIdChainAndDuplicate) {
  Fixture f;
  ASSERT_TRUE(f.decode(fixed_fixture("nautilus_crate_ws_books_snapshot.json")).ok());
  BookSync s(f.id("BTC-USDT"));
  bool changed = false;
  for (const Event& e : f.out) changed |= s.on_event(e).book_changed;
  EXPECT_TRUE(changed);
  EXPECT_EQ(s.checksums_checked(), 1u);
  EXPECT_EQ(s.last_seq(), 123456u);
  // The update repeats the same levels (no change) with prevSeqId = 123456: joins up.
  ASSERT_TRUE(f.decode(fixed_fixture("nautilus_crate_ws_books_update.json")).ok());
  for (const Event& e : f.out) (void)s.on_event(e);
  EXPECT_EQ(s.state(), SyncState::synced);
  EXPECT_EQ(s.last_seq(), 123457u);
  // The same update again: prevSeqId 123456 != 123457 but seqId 123457 <= the last: a duplicate, dropped.
  bool resync = false;
  for (const Event& e : f.out) resync |= s.on_event(e).need_snapshot;
  EXPECT_FALSE(resync);
  EXPECT_EQ(s.state(), SyncState::synced);
  EXPECT_EQ(s.duplicates(), 1u);
  EXPECT_EQ(s.gaps(), 0u);
  // An update whose prevSeqId skips ahead (123458 != 123457): a gap.
  std::string skipped = fixed_fixture("nautilus_crate_ws_books_update.json");
  skipped.replace(skipped.find("123456"), 6, "123458");
  skipped.replace(skipped.find("123457"), 6, "123459");
  ASSERT_TRUE(f.decode(skipped).ok());
  SyncResult last{};
  for (const Event& e : f.out) {
    const SyncResult sr = s.on_event(e);
    if (sr.need_snapshot) last = sr;
  }
  EXPECT_TRUE(last.need_snapshot);
  EXPECT_EQ(last.error, Errc::sequence_gap);
  EXPECT_EQ(s.state(), SyncState::awaiting_snapshot);
  EXPECT_EQ(s.gaps(), 1u);
}

TEST(Okx, SnapshotResetsAfterMaintenanceWhenSeqGoesBackwards) {
  Fixture f;
  std::string snap = fixed_fixture("nautilus_crate_ws_books_snapshot.json");
  ASSERT_TRUE(f.decode(snap).ok());
  BookSync s(f.id("BTC-USDT"));
  for (const Event& e : f.out) (void)s.on_event(e);
  ASSERT_TRUE(f.decode(fixed_fixture("nautilus_crate_ws_books_update.json")).ok());
  for (const Event& e : f.out) (void)s.on_event(e);
  ASSERT_EQ(s.last_seq(), 123457u);
  const std::size_t p = snap.find("123456");
  snap.replace(p, 6, "100");  // a post-maintenance snapshot with a lower seqId
  ASSERT_TRUE(f.decode(snap).ok());
  bool changed = false;
  for (const Event& e : f.out) changed |= s.on_event(e).book_changed;
  EXPECT_TRUE(changed);
  EXPECT_EQ(s.last_seq(), 100u);
  EXPECT_EQ(s.state(), SyncState::synced);
}

TEST(Okx, OtherChannelsDecode) {
  Fixture f;
  auto r = f.decode(read_all("nautilus_crate_ws_trades.json"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(f.out[0].h.type, EventType::trade);
  EXPECT_EQ(f.out[0].trade.trade_id, 130639474u);
  EXPECT_EQ(f.out[0].trade.price, P("42219.9"));
  EXPECT_EQ(f.out[0].trade.qty, Q("0.12060306"));
  EXPECT_EQ(f.out[0].trade.aggressor, Side::buy);
  EXPECT_EQ(f.out[0].h.venue_time_ns, 1630048897897LL * 1000000);
  r = f.decode(read_all("nautilus_crate_ws_tickers.json"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].h.type, EventType::bbo);
  EXPECT_EQ(f.out[0].bbo.ask_price, P("9999.99"));
  EXPECT_EQ(f.out[0].bbo.ask_qty, Q("11"));
  EXPECT_EQ(f.out[0].bbo.bid_price, P("8888.88"));
  EXPECT_EQ(f.out[0].bbo.bid_qty, Q("5"));
  r = f.decode(read_all("nautilus_crate_ws_bbo_tbt.json"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(f.out[0].h.type, EventType::bbo);
  EXPECT_EQ(f.out[0].bbo.seq, 123456u);
  EXPECT_EQ(f.out[0].bbo.ask_price, P("8476.98"));
  EXPECT_EQ(f.out[0].bbo.ask_qty, Q("415"));
  EXPECT_EQ(f.out[0].bbo.bid_price, P("8476.97"));
  EXPECT_EQ(f.out[0].bbo.bid_qty, Q("256"));

  const auto cc = load_lines("cryptocrawler_v5_ws_rest_samples.jsonl");
  ASSERT_EQ(cc.size(), 50u);
  r = f.decode(cc[6]);  // funding-rate with 16 decimals: rounded to Rate's 10
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].mark.funding_rate, Rate::parse("0.0000734175").value);
  EXPECT_EQ(f.out[0].mark.next_funding_time_ns, 1646323200000LL * 1000000);
  r = f.decode(cc[13]);  // books5: partial snapshot
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].h.aux, 5u);
  EXPECT_EQ(f.out[0].batch.level_count, 10u);
  r = f.decode(cc[37]);  // option ticker with an empty bid
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.out[0].bbo.ask_price, P("0.0015"));
  EXPECT_TRUE(f.out[0].bbo.bid_price.is_zero());
  // Every WebSocket sample decodes; the v3 "table" frame (line 15) and REST bodies are not v5 pushes.
  for (std::size_t i = 0; i < 38; ++i) {
    if (i == 14) {
      EXPECT_EQ(f.decode(cc[i]).action, ErrorAction::skip);
      continue;
    }
    EXPECT_TRUE(f.decode(cc[i]).ok()) << cc[i];
  }
}

TEST(Okx, ControlAndErrors) {
  Fixture f;
  EXPECT_EQ(f.decode("pong").kind, MessageKind::control);
  EXPECT_EQ(f.decode(R"({"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"}})").kind, MessageKind::control);
  auto r = f.decode(R"({"event":"error","code":"60009","msg":"Login failed."})");
  EXPECT_EQ(r.action, ErrorAction::fatal);
  EXPECT_EQ(f.decoder.last_error_code(), 60009);
  r = f.decode(R"({"event":"error","code":"60018","msg":"Wrong URL or channel doesn't exist."})");
  EXPECT_EQ(r.action, ErrorAction::skip);
  r = f.decode(R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["x","1","0","1"]],"bids":[],"ts":"1","checksum":1}]})");
  EXPECT_EQ(r.action, ErrorAction::resync);
  EXPECT_EQ(f.out.size(), 0u);
  EXPECT_EQ(f.decode("{not json").action, ErrorAction::skip);
}

// ---------------------------------------------------------------------------------------------------
// Corrupted copies of the capture made here. The 2022 capture has checksums but no seqIds, so a lost,
// repeated or reordered update shows up as a checksum mismatch on the message that exposes it.

std::vector<std::string> capture_frames() {
  CaptureReader reader(kCapture);
  CapturedFrame fr;
  std::vector<std::string> out;
  while (reader.next(fr))
    if (fr.kind == FrameKind::ws_received) out.emplace_back(fr.payload);
  return out;
}

struct InstRun {
  std::uint64_t need{0}, changed_after_first{0}, checked{0}, mismatched{0};
  Errc first{Errc::ok};
  SyncState state{SyncState::awaiting_snapshot};
};

InstRun run_inst(const std::vector<std::string>& frames, std::string_view inst) {
  Fixture f;
  std::unique_ptr<BookSync> s;
  InstRun run;
  for (const auto& m : frames) {
    if (!f.decode(m).ok()) continue;
    for (const Event& e : f.out) {
      if (f.registry.get(e.h.instrument).symbol.view() != inst) continue;
      if (!s) s = std::make_unique<BookSync>(e.h.instrument);
      const SyncResult r = s->on_event(e);
      if (r.need_snapshot && run.need++ == 0) run.first = r.error;
      if (r.book_changed && run.need) ++run.changed_after_first;
    }
  }
  run.checked = s->checksums_checked();
  run.mismatched = s->checksum_mismatches();
  run.state = s->state();
  return run;
}

std::size_t nth_update(const std::vector<std::string>& frames, int n) {
  for (std::size_t i = 0; i < frames.size(); ++i)
    if (frames[i].find(R"("channel":"books","instId":"BTC-USDT"},"action":"update")") != std::string::npos && n-- == 0)
      return i;
  ADD_FAILURE() << "not enough updates";
  return 0;
}

TEST(OkxCorrupted, Baseline) {
  const InstRun run = run_inst(capture_frames(), "BTC-USDT");
  EXPECT_EQ(run.need, 0u);
  EXPECT_EQ(run.mismatched, 0u);
  EXPECT_EQ(run.state, SyncState::synced);
}

TEST(OkxCorrupted, DroppedUpdateFailsTheChecksum) {
  auto frames = capture_frames();
  frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(nth_update(frames, 20)));
  const InstRun run = run_inst(frames, "BTC-USDT");
  EXPECT_EQ(run.need, 1u);
  EXPECT_EQ(run.first, Errc::checksum_mismatch);
  EXPECT_EQ(run.changed_after_first, 0u);
  EXPECT_EQ(run.state, SyncState::awaiting_snapshot);
}

TEST(OkxCorrupted, DuplicatedUpdateIsHarmlessWithoutSeqIds) {
  // OKX updates carry absolute sizes, so applying one twice leaves the same book: the repeated
  // message's checksum still matches and nothing needs a resync. (With seqIds a repeat is refused as a
  // gap: see Okx.SeqIdChainAndDuplicate.)
  const InstRun clean = run_inst(capture_frames(), "BTC-USDT");
  auto frames = capture_frames();
  const std::size_t i = nth_update(frames, 20);
  frames.insert(frames.begin() + static_cast<std::ptrdiff_t>(i) + 1, frames[i]);
  const InstRun run = run_inst(frames, "BTC-USDT");
  EXPECT_EQ(run.need, 0u);
  EXPECT_EQ(run.checked, clean.checked + 1);
  EXPECT_EQ(run.mismatched, 0u);
  EXPECT_EQ(run.state, SyncState::synced);
}

TEST(OkxCorrupted, SwappedUpdatesFailTheChecksum) {
  auto frames = capture_frames();
  std::swap(frames[nth_update(frames, 20)], frames[nth_update(frames, 21)]);
  const InstRun run = run_inst(frames, "BTC-USDT");
  EXPECT_EQ(run.need, 1u);
  EXPECT_EQ(run.first, Errc::checksum_mismatch);
  EXPECT_EQ(run.changed_after_first, 0u);
}

TEST(OkxAlloc, DecodeAndSyncAllocateNothingAfterWarmUp) {
  const auto frames = capture_frames();
  std::vector<simdjson::padded_string> padded;
  for (const auto& m : frames) padded.emplace_back(m);
  InstrumentRegistry registry(64);
  Decoder decoder(registry, true);
  EventBuffer out(4096);
  std::vector<std::unique_ptr<BookSync>> syncs(64);
  auto pass = [&](bool create) {
    for (const auto& p : padded) {
      out.clear();
      if (!decoder.decode(std::string_view(p.data(), p.size()), p.size() + 64, 0, out).ok()) continue;
      for (const Event& e : out) {
        if (e.h.type != EventType::book_batch && e.h.type != EventType::book_level) continue;
        if (create && !syncs[e.h.instrument]) syncs[e.h.instrument] = std::make_unique<BookSync>(e.h.instrument);
        if (syncs[e.h.instrument]) (void)syncs[e.h.instrument]->on_event(e);
      }
    }
  };
  pass(true);
  for (auto& s : syncs)
    if (s) s->reset();
  enigma::test::AllocationScope scope;
  pass(false);
  EXPECT_EQ(scope.count(), 0u);
}

}  // namespace
}  // namespace enigma::feed::okx
