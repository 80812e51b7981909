#include "feed/venues/coinbase.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "core/error.hpp"
#include "feed/capture_reader.hpp"
#include "feed/venues/json_fields.hpp"
#include "feed/venues/json_scan.hpp"

namespace enigma::feed::coinbase {

namespace {

InstrumentKind coinbase_kind(Venue, std::string_view) noexcept { return InstrumentKind::spot; }

namespace od = simdjson::ondemand;
using json::get_fixed;
using json::get_text;
using json::get_u64;
using json::key_of;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

DecodeResult failure(Errc e, ErrorAction a) noexcept { return DecodeResult{e, a, MessageKind::market_data, 0}; }

}  // namespace

Result<std::int64_t> parse_time(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return Result<std::int64_t>::failure(Errc::bad_format);
  auto num = [&](std::size_t pos, std::size_t n, unsigned& out) {
    unsigned v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (static_cast<unsigned>(s[i] - '0') > 9u) return false;
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    out = v;
    return true;
  };
  unsigned y, mo, d, h, mi, se;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, se) ||
      y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)  // int64 ns range
    return Result<std::int64_t>::failure(Errc::bad_format);
  std::int64_t frac_ns = 0;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::int64_t scale = 100'000'000;
    while (i < s.size() && static_cast<unsigned>(s[i] - '0') <= 9u) {
      frac_ns += (s[i] - '0') * scale;  // digits beyond ns are dropped
      scale /= 10;
      ++i;
    }
  }
  if (i >= s.size() || (s[i] != 'Z' && s[i] != '+')) return Result<std::int64_t>::failure(Errc::bad_format);
  const std::int64_t days = days_from_civil(y, mo, d);
  return Result<std::int64_t>::success(((days * 24 + h) * 60 + mi) * 60'000'000'000LL + se * 1'000'000'000LL + frac_ns);
}

struct Decoder::EventCtx {
  std::uint64_t recv_tsc{0};
  std::uint64_t seq{0};
  bool advanced{false};
  std::int64_t msg_time{0};
};

Decoder::Decoder(InstrumentRegistry& registry, bool auto_register)
    : symbols_(registry, Venue::coinbase, auto_register, &coinbase_kind) {
  // Legacy level2 snapshots hold every price level (hundreds of KB for BTC-USD); size the parser once.
  if (parser_.allocate(16u << 20)) throw Error("coinbase::Decoder: cannot allocate simdjson parser buffers");
}

namespace {

// Legacy [price, size] arrays (snapshot bids/asks) or [side, price, size] arrays (l2update changes).
Errc parse_legacy_levels(od::value v, int side_hint, EventBuffer& out, Event*& batch, std::uint32_t& levels) noexcept {
  od::array arr;
  if (v.get_array().get(arr)) return Errc::wrong_type;
  if (batch == nullptr) {
    batch = out.push();
    if (batch == nullptr) return Errc::capacity;
    batch->h.type = EventType::book_batch;
  }
  for (auto elem : arr) {
    od::array tuple;
    if (elem.get_array().get(tuple)) return Errc::wrong_type;
    Side side = side_hint == 0 ? Side::buy : Side::sell;
    Price px{};
    Qty qty{};
    int i = side_hint < 0 ? 0 : 1;  // with an explicit side the first element is the side
    for (auto x : tuple) {
      od::value xv;
      if (std::move(x).get(xv)) return Errc::bad_format;
      Errc e = Errc::ok;
      if (i == 0) {
        std::string_view s;
        e = get_text(xv, s);
        if (json::is(s, "buy")) side = Side::buy;
        else if (json::is(s, "sell")) side = Side::sell;
        else if (e == Errc::ok) e = Errc::bad_format;
      } else if (i == 1) {
        e = get_fixed(xv, px);
      } else if (i == 2) {
        e = get_fixed(xv, qty);
      }
      if (e != Errc::ok) return e;
      ++i;
    }
    if (i < 3) return Errc::missing_field;
    Event* ev = out.push();
    if (ev == nullptr) return Errc::capacity;
    ev->h.type = EventType::book_level;
    ev->level = BookLevel{px, qty, side};
    ++levels;
  }
  return Errc::ok;
}

// --- the scanner: the legacy feed's book messages (l2update, snapshot) in their usual compact form ---
//
// Reads `type`, `product_id`, `time` and the level arrays as the simdjson loop in decode_unchecked does, with
// json::scan (the JSON subset it accepts is described there). Any other key (a ticker's or match's fields, the
// Advanced Trade envelope and its sequence numbers), a value of another type or a level it would read
// differently makes it give up, and the frame is decoded by simdjson from the start; so it takes only frames
// whose events the simdjson path gives identically (fuzz_coinbase_decode decodes every input both ways).
struct LegacyBook {
  std::string_view type, product, time_text;
  Event* batch{nullptr};
  std::uint32_t levels{0};
};

// [side?, price, size] triples (side_hint < 0: "buy"/"sell" first) or [price, size] pairs.
ENIGMA_HOT bool scan_legacy_levels(const char*& p, const char* end, int side_hint, EventBuffer& out, LegacyBook& b) noexcept {
  namespace scan = json::scan;
  if (!scan::expect(p, end, '[')) return false;
  if (b.batch == nullptr) {
    b.batch = out.push();
    if (b.batch == nullptr) [[unlikely]] return false;
    b.batch->h.type = EventType::book_batch;
  }
  if (p < end && *p == ']') return ++p, true;
  for (;;) {
    Side side = side_hint == 0 ? Side::buy : Side::sell;
    std::string_view text;
    if (!scan::expect(p, end, '[')) [[unlikely]] return false;
    if (side_hint < 0) {
      if (!scan::string(p, end, text) || !scan::expect(p, end, ',')) [[unlikely]] return false;
      if (json::is(text, "buy")) side = Side::buy;
      else if (json::is(text, "sell")) side = Side::sell;
      else [[unlikely]] return false;
    }
    Price px{};
    Qty qty{};
    if (!scan::string(p, end, text) || json::parse_fixed_padded(text, px) != Errc::ok || !scan::expect(p, end, ',') ||
        !scan::string(p, end, text) || json::parse_fixed_padded(text, qty) != Errc::ok || !scan::expect(p, end, ']'))
      [[unlikely]] return false;
    Event* ev = out.push();
    if (ev == nullptr) [[unlikely]] return false;
    ev->h.type = EventType::book_level;
    ev->level = BookLevel{px, qty, side};
    ++b.levels;
    bool more = false;
    if (!scan::next(p, end, ']', more)) [[unlikely]] return false;
    if (!more) return true;
  }
}

ENIGMA_HOT bool scan_legacy_book(std::string_view frame, EventBuffer& out, LegacyBook& b) noexcept {
  namespace scan = json::scan;
  const char* p = frame.data();
  const char* const end = p + frame.size();
  if (!scan::expect(p, end, '{')) return false;
  for (;;) {
    std::string_view k;
    if (!scan::key(p, end, k)) [[unlikely]] return false;
    bool ok = false;
    if (json::is(k, "type")) ok = scan::string(p, end, b.type);
    else if (json::is(k, "product_id")) ok = scan::string(p, end, b.product);
    else if (json::is(k, "changes")) ok = scan_legacy_levels(p, end, -1, out, b);
    else if (json::is(k, "time")) ok = scan::string(p, end, b.time_text);
    else if (json::is(k, "bids")) ok = scan_legacy_levels(p, end, 0, out, b);
    else if (json::is(k, "asks")) ok = scan_legacy_levels(p, end, 1, out, b);
    bool more = false;
    if (!ok || !scan::next(p, end, '}', more)) [[unlikely]] return false;
    if (!more) return b.batch != nullptr && scan::only_space(p, end);
  }
}

void stamp(Event* first, std::size_t n, std::uint64_t tsc, std::int64_t t, InstrumentId id) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    EventHeader& h = first[i].h;
    h = EventHeader{tsc, t, id, Venue::coinbase, h.type, 0};
  }
}

}  // namespace

// One element of an Advanced Trade "events" array: a book snapshot/update, or trades, or tickers.
Errc Decoder::parse_at_event(od::object evobj, EventCtx& c, EventBuffer& out) noexcept {
  std::string_view type, product;
  Event* batch = nullptr;
  std::uint32_t levels = 0;
  std::int64_t last_event_time = c.msg_time;
  for (auto fr : evobj) {
    od::field fld;
    if (std::move(fr).get(fld)) return Errc::bad_format;
    const std::string_view k = key_of(fld);
    od::value v = fld.value();
    Errc e = Errc::ok;
    if (json::is(k, "type")) {
      e = get_text(v, type);
    } else if (json::is(k, "product_id")) {
      e = get_text(v, product);
    } else if (json::is(k, "updates")) {
      od::array arr;
      if (v.get_array().get(arr)) return Errc::wrong_type;
      batch = out.push();
      if (batch == nullptr) return Errc::capacity;
      batch->h.type = EventType::book_batch;
      for (auto u : arr) {
        od::object uo;
        if (u.get_object().get(uo)) return Errc::wrong_type;
        Side side = Side::buy;
        Price px{};
        Qty qty{};
        int seen = 0;
        for (auto ufr : uo) {
          od::field uf;
          if (std::move(ufr).get(uf)) return Errc::bad_format;
          const std::string_view uk = key_of(uf);
          Errc ue = Errc::ok;
          if (json::is(uk, "side")) {
            std::string_view s;
            ue = get_text(uf.value(), s);
            if (json::is(s, "bid")) side = Side::buy;
            else if (json::is(s, "offer") || json::is(s, "ask")) side = Side::sell;
            else if (ue == Errc::ok) ue = Errc::bad_format;
            seen |= 1;
          } else if (json::is(uk, "price_level")) {
            ue = get_fixed(uf.value(), px);
            seen |= 2;
          } else if (json::is(uk, "new_quantity")) {
            ue = get_fixed(uf.value(), qty);
            seen |= 4;
          } else if (json::is(uk, "event_time")) {
            std::string_view s;
            ue = get_text(uf.value(), s);
            const Result<std::int64_t> t = parse_time(s);
            if (t) last_event_time = t.value;
          }
          if (ue != Errc::ok) return ue;
        }
        if (seen != 7) return Errc::missing_field;
        Event* lv = out.push();
        if (lv == nullptr) return Errc::capacity;
        lv->h.type = EventType::book_level;
        lv->level = BookLevel{px, qty, side};
        ++levels;
      }
    } else if (json::is(k, "trades") || json::is(k, "tickers")) {
      const bool trades = json::is(k, "trades");
      od::array arr;
      if (v.get_array().get(arr)) return Errc::wrong_type;
      for (auto t : arr) {
        od::object to;
        if (t.get_object().get(to)) return Errc::wrong_type;
        std::string_view prod, id_text;
        Price px{}, bid{}, ask{};
        Qty qty{}, bidq{}, askq{};
        Side side = Side::buy;
        std::int64_t time = c.msg_time;
        int seen = 0;
        for (auto tfr : to) {
          od::field tf;
          if (std::move(tfr).get(tf)) return Errc::bad_format;
          const std::string_view tk = key_of(tf);
          Errc te = Errc::ok;
          if (json::is(tk, "product_id")) { te = get_text(tf.value(), prod); seen |= 1; }
          else if (trades && json::is(tk, "price")) { te = get_fixed(tf.value(), px); seen |= 2; }
          else if (trades && json::is(tk, "size")) { te = get_fixed(tf.value(), qty); seen |= 4; }
          else if (trades && json::is(tk, "trade_id")) { te = get_text(tf.value(), id_text); seen |= 8; }
          else if (trades && json::is(tk, "side")) {
            std::string_view s;
            te = get_text(tf.value(), s);
            side = json::is(s, "SELL") ? Side::sell : Side::buy;  // the taker's side
            if (te == Errc::ok && !json::is(s, "SELL") && !json::is(s, "BUY")) te = Errc::bad_format;
            seen |= 16;
          } else if (trades && json::is(tk, "time")) {
            std::string_view s;
            te = get_text(tf.value(), s);
            const Result<std::int64_t> tt = parse_time(s);
            if (tt) time = tt.value;
          } else if (!trades && json::is(tk, "best_bid")) { te = get_fixed(tf.value(), bid); seen |= 2; }
          else if (!trades && json::is(tk, "best_ask")) { te = get_fixed(tf.value(), ask); seen |= 4; }
          else if (!trades && json::is(tk, "best_bid_quantity")) { te = get_fixed(tf.value(), bidq); seen |= 8; }
          else if (!trades && json::is(tk, "best_ask_quantity")) { te = get_fixed(tf.value(), askq); seen |= 16; }
          if (te != Errc::ok) return te;
        }
        if (seen != 31) return Errc::missing_field;
        const InstrumentId id = symbols_.find(prod);
        if (id == kInvalidInstrument) continue;
        Event* ev = out.push();
        if (ev == nullptr) return Errc::capacity;
        if (trades) {
          ev->h = EventHeader{c.recv_tsc, time, id, Venue::coinbase, EventType::trade, 0};
          ev->trade = Trade{px, qty, json::id_from_text(id_text), side};
        } else {
          ev->h = EventHeader{c.recv_tsc, time, id, Venue::coinbase, EventType::bbo, 0};
          ev->bbo = Bbo{c.seq, bid, bidq, ask, askq};
        }
      }
    }
    if (e != Errc::ok) return e;
  }
  if (batch != nullptr) {
    if (product.empty() || (!json::is(type, "snapshot") && !json::is(type, "update"))) return Errc::missing_field;
    const InstrumentId id = symbols_.find(product);
    if (id == kInvalidInstrument) {
      out.truncate(static_cast<std::size_t>(batch - out.begin()));
      return Errc::ok;
    }
    batch->batch = BookBatch{c.seq, c.seq, 0, levels, 0,
                             json::is(type, "snapshot") ? BookBatchKind::snapshot : BookBatchKind::delta, false, false};
    stamp(batch, 1 + levels, c.recv_tsc, last_event_time, id);
  }
  return Errc::ok;
}

DecodeResult Decoder::decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                             EventBuffer& out) noexcept {
  const std::size_t first = out.size();
  return reject_impossible_values(decode_unchecked(frame, padded_capacity, recv_tsc, out), out, first);
}

ENIGMA_HOT DecodeResult Decoder::decode_unchecked(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                          EventBuffer& out) noexcept {
  const std::size_t start = out.size();
  if (padded_capacity < frame.size() + simdjson::SIMDJSON_PADDING) [[unlikely]]
    return failure(Errc::out_of_range, ErrorAction::skip);
  // Legacy fields.
  std::string_view type, product, channel, time_text, side_text;
  Price price{}, best_bid{}, best_ask{};
  Qty size{}, best_bid_size{}, best_ask_size{};
  std::uint64_t trade_id = 0, sequence = 0;
  std::uint32_t has = 0;  // 1 price, 2 size, 4 trade_id, 8 best_bid, 16 best_ask, 32 bid size, 64 ask size
  Event* batch = nullptr;
  std::uint32_t levels = 0;
  bool advanced = false;
  bool book_msg = false;
  EventCtx c;
  c.recv_tsc = recv_tsc;
  Errc err = Errc::ok;
  LegacyBook scanned;
  if (scan_first_ && scan_legacy_book(frame, out, scanned)) [[likely]] {
    ++scanned_frames_;
    type = scanned.type;
    product = scanned.product;
    time_text = scanned.time_text;
    batch = scanned.batch;
    levels = scanned.levels;
    book_msg = true;
  } else {
    out.truncate(start);
    od::document doc;
    if (parser_.iterate(simdjson::padded_string_view(frame.data(), frame.size(), padded_capacity)).get(doc))
      [[unlikely]] return failure(Errc::bad_format, ErrorAction::skip);
    od::object obj;
    if (doc.get_object().get(obj)) [[unlikely]] return failure(Errc::wrong_type, ErrorAction::skip);
    for (auto fr : obj) {
      od::field fld;
      if (std::move(fr).get(fld)) [[unlikely]] {
        err = Errc::bad_format;
        break;
      }
      const std::string_view k = key_of(fld);
      od::value v = fld.value();
      if (json::is(k, "type")) err = get_text(v, type);
      else if (json::is(k, "product_id")) err = get_text(v, product);
      else if (json::is(k, "bids")) { book_msg = true; err = parse_legacy_levels(v, 0, out, batch, levels); }
      else if (json::is(k, "asks")) { book_msg = true; err = parse_legacy_levels(v, 1, out, batch, levels); }
      else if (json::is(k, "changes")) { book_msg = true; err = parse_legacy_levels(v, -1, out, batch, levels); }
      else if (json::is(k, "time")) err = get_text(v, time_text);
      else if (json::is(k, "price")) { err = get_fixed(v, price); has |= 1; }
      else if (json::is(k, "size")) { err = get_fixed(v, size); has |= 2; }
      else if (json::is(k, "trade_id")) { err = get_u64(v, trade_id); has |= 4; }
      else if (json::is(k, "side")) err = get_text(v, side_text);
      else if (json::is(k, "sequence")) err = get_u64(v, sequence);
      else if (json::is(k, "best_bid")) { err = get_fixed(v, best_bid); has |= 8; }
      else if (json::is(k, "best_ask")) { err = get_fixed(v, best_ask); has |= 16; }
      else if (json::is(k, "best_bid_size")) { err = get_fixed(v, best_bid_size); has |= 32; }
      else if (json::is(k, "best_ask_size")) { err = get_fixed(v, best_ask_size); has |= 64; }
      else if (json::is(k, "channel")) { advanced = true; err = get_text(v, channel); book_msg = json::is(channel, "l2_data"); }
      else if (json::is(k, "timestamp")) {
        std::string_view s;
        err = get_text(v, s);
        const Result<std::int64_t> t = parse_time(s);
        if (t) c.msg_time = t.value;
      } else if (json::is(k, "sequence_num")) {
        err = get_u64(v, c.seq);
        // Contiguity of the connection's numbering: a break means messages were lost, books are unknown.
        if (err == Errc::ok) {
          if (have_seq_ && c.seq <= last_seq_) {
            // Seen already (the same capture twice, overlapping captures, a repeated line): drop it whole.
            ++duplicates_;
            out.truncate(start);
            return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
          }
          if (have_seq_ && c.seq != last_seq_ + 1) {
            ++seq_gaps_;
            Event* st = out.push();
            if (st == nullptr) {
              err = Errc::capacity;
            } else {
              st->h = EventHeader{recv_tsc, 0, kInvalidInstrument, Venue::coinbase, EventType::status, 0};
              st->status = Status{last_seq_ + 1, c.seq, StatusCode::gap};
            }
          }
          have_seq_ = true;
          last_seq_ = c.seq;
        }
      } else if (json::is(k, "events")) {
        od::array arr;
        if (v.get_array().get(arr)) {
          err = Errc::wrong_type;
        } else {
          c.advanced = true;
          for (auto ev : arr) {
            od::object eo;
            if (ev.get_object().get(eo)) {
              err = Errc::wrong_type;
              break;
            }
            err = parse_at_event(eo, c, out);
            if (err != Errc::ok) break;
          }
        }
      }
      if (err != Errc::ok) break;
    }
  }
  if (err != Errc::ok) [[unlikely]] {
    out.truncate(start);
    return failure(err, book_msg || err == Errc::capacity ? ErrorAction::resync : ErrorAction::skip);
  }
  if (advanced) {
    const auto n = static_cast<std::uint32_t>(out.size() - start);
    if (n) return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, n};
    const bool control = json::is(channel, "heartbeats") || json::is(channel, "subscriptions");
    return DecodeResult{Errc::ok, ErrorAction::none, control ? MessageKind::control : MessageKind::ignored, 0};
  }

  // Legacy feed.
  std::int64_t t_ns = 0;
  if (!time_text.empty()) {
    const Result<std::int64_t> t = parse_time(time_text);
    if (!t) {
      out.truncate(start);
      return failure(Errc::bad_format, book_msg ? ErrorAction::resync : ErrorAction::skip);
    }
    t_ns = t.value;
  }
  if (json::is(type, "snapshot") || json::is(type, "l2update")) {
    if (batch == nullptr || product.empty()) {
      out.truncate(start);
      return failure(Errc::missing_field, ErrorAction::resync);
    }
    const InstrumentId id = symbols_.find(product);
    if (id == kInvalidInstrument) {
      out.truncate(start);
      return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
    }
    batch->batch = BookBatch{0, 0, 0, levels, 0,
                             json::is(type, "snapshot") ? BookBatchKind::snapshot : BookBatchKind::delta, false, false};
    stamp(batch, 1 + levels, recv_tsc, t_ns, id);
    // Count what is in the buffer: a gap Status from a `sequence_num` field may precede the batch.
    return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, static_cast<std::uint32_t>(out.size() - start)};
  }
  out.truncate(start);
  if (json::is(type, "match") || json::is(type, "last_match") || json::is(type, "ticker")) {
    const bool ticker = json::is(type, "ticker");
    const std::uint32_t want = ticker ? (8u | 16u) : (1u | 2u | 4u);
    if ((has & want) != want || product.empty()) return failure(Errc::missing_field, ErrorAction::skip);
    const InstrumentId id = symbols_.find(product);
    if (id == kInvalidInstrument) return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
    Event* ev = out.push();
    if (ev == nullptr) return failure(Errc::capacity, ErrorAction::skip);
    if (ticker) {
      ev->h = EventHeader{recv_tsc, t_ns, id, Venue::coinbase, EventType::bbo, 0};
      ev->bbo = Bbo{sequence, best_bid, best_bid_size, best_ask, best_ask_size};
    } else {
      if (side_text != "buy" && side_text != "sell") {
        out.truncate(start);
        return failure(Errc::bad_format, ErrorAction::skip);
      }
      // Legacy "side" is the maker order's side: a "sell" maker was hit by a buyer.
      ev->h = EventHeader{recv_tsc, t_ns, id, Venue::coinbase, EventType::trade, 0};
      ev->trade = Trade{price, size, trade_id, side_text == "sell" ? Side::buy : Side::sell};
    }
    return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, 1};
  }
  if (json::is(type, "error")) return DecodeResult{Errc::unknown_message, ErrorAction::fatal, MessageKind::control, 0};
  if (json::is(type, "subscriptions") || json::is(type, "heartbeat"))
    return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::control, 0};
  return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
}

// ------------------------------------------------------------------------------------------------
// BookSync

BookSync::BookSync(InstrumentId instrument, std::size_t max_levels_per_side)
    : book_(max_levels_per_side), instrument_(instrument) {}

void BookSync::reset() noexcept {
  book_.clear();
  state_ = SyncState::awaiting_snapshot;
  mode_ = Mode::idle;
  remaining_ = 0;
  snapshot_requested_ = false;
}

SyncResult BookSync::fail(Errc why) noexcept {
  state_ = SyncState::awaiting_snapshot;
  mode_ = remaining_ > 0 ? Mode::dropping : Mode::idle;
  snapshot_requested_ = true;
  ++stats_.resyncs;
  return SyncResult{false, true, why};
}

SyncResult BookSync::finish() noexcept {
  mode_ = Mode::idle;
  if (book_.crossed()) [[unlikely]] {
    ++stats_.crossed;
    return fail(Errc::crossed_book);
  }
  state_ = SyncState::synced;
  ++stats_.applied;
  return SyncResult{true, false, Errc::ok};
}

SyncResult BookSync::on_event(const Event& e) noexcept {
  if (e.h.type == EventType::status) {
    if (e.h.venue != Venue::coinbase || e.status.code != StatusCode::gap) return {};
    if (e.h.instrument != instrument_ && e.h.instrument != kInvalidInstrument) return {};
    ++stats_.gaps;
    if (state_ != SyncState::synced && mode_ != Mode::applying) return {};
    remaining_ = 0;
    return fail(Errc::sequence_gap);
  }
  if (e.h.instrument != instrument_) return {};
  if (e.h.type == EventType::book_batch) {
    SyncResult interrupted{};
    if (remaining_ > 0 && mode_ == Mode::applying) [[unlikely]] {
      remaining_ = 0;
      ++stats_.gaps;
      interrupted = fail(Errc::sequence_gap);
    }
    remaining_ = e.batch.level_count;
    if (e.batch.kind == BookBatchKind::snapshot) {
      book_.clear();
      state_ = SyncState::awaiting_snapshot;
      mode_ = Mode::applying;
      return remaining_ == 0 ? finish() : interrupted;
    }
    if (state_ != SyncState::synced) {
      mode_ = remaining_ ? Mode::dropping : Mode::idle;
      if (!snapshot_requested_) {
        snapshot_requested_ = true;
        return SyncResult{false, true, Errc::ok};
      }
      return interrupted;
    }
    mode_ = Mode::applying;
    return remaining_ == 0 ? finish() : interrupted;
  }
  if (e.h.type != EventType::book_level || remaining_ == 0) return {};
  --remaining_;
  if (mode_ == Mode::dropping) {
    if (remaining_ == 0) mode_ = Mode::idle;
    return {};
  }
  if (mode_ != Mode::applying) return {};
  const Errc err = book_.apply(e.level.side, e.level.price, e.level.qty);
  if (err != Errc::ok) [[unlikely]] return fail(err);
  return remaining_ == 0 ? finish() : SyncResult{};
}

// ------------------------------------------------------------------------------------------------
// book-check (cold path)

BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt) {
  if (venue != Venue::coinbase) throw Error("coinbase::check: venue '" + std::string(to_string(venue)) + "' is not coinbase");
  BookCheckResult r;
  std::vector<std::unique_ptr<CaptureReader>> readers;
  const std::vector<CapturedFrame> frames = read_merged(files, readers, CaptureReadOptions{.strict = opt.strict});
  r.bad_lines = bad_lines(readers);
  r.frames = frames.size();
  InstrumentRegistry registry(4096);
  Decoder decoder(registry, true);
  EventBuffer out(1u << 18);
  std::map<InstrumentId, std::unique_ptr<BookSync>> books;
  std::uint64_t tickers = 0, tickers_agree = 0;
  auto note = [&](std::string s) {
    if (r.notes.size() < opt.max_notes) r.notes.push_back(std::move(s));
  };
  auto book_of = [&](InstrumentId id) -> BookSync& {
    auto& b = books[id];
    if (!b) b = std::make_unique<BookSync>(id);
    return *b;
  };
  for (const CapturedFrame& f : frames) {
    if (f.kind != FrameKind::ws_received) {
      ++r.skipped;
      continue;
    }
    out.clear();
    const DecodeResult res = decoder.decode(f.payload, f.padded_capacity, 0, out);
    if (!res.ok()) {
      ++r.errors;
      note("line " + std::to_string(f.line_no) + ": " + std::string(to_string(res.error)) + " (" +
           std::string(to_string(res.action)) + ")");
      continue;
    }
    if (res.kind != MessageKind::market_data) ++r.skipped;
    for (const Event& e : out) {
      if (e.h.type == EventType::status) {
        for (auto& [id, b] : books) (void)b->on_event(e);
      } else if (e.h.type == EventType::book_batch || e.h.type == EventType::book_level) {
        BookSync& b = book_of(e.h.instrument);
        const SyncResult sr = b.on_event(e);
        if (sr.book_changed) ++r.checked;
        if (sr.need_snapshot && sr.error == Errc::crossed_book) {
          ++r.checked;
          ++r.mismatched;
          note("line " + std::to_string(f.line_no) + ": " + std::string(registry.get(e.h.instrument).symbol.view()) +
               " book crossed");
        }
      } else if (e.h.type == EventType::bbo) {
        const auto it = books.find(e.h.instrument);
        if (it == books.end() || !it->second->synced()) continue;
        const L2Book& book = it->second->book();
        ++tickers;
        const bool agree = book.best_bid() && book.best_ask() && book.best_bid()->price == e.bbo.bid_price &&
                           book.best_ask()->price == e.bbo.ask_price;
        tickers_agree += agree;
      }
    }
  }
  r.gaps = decoder.gaps();
  r.duplicates = decoder.duplicates();
  for (const auto& [id, b] : books) r.resyncs += b->stats().resyncs;
  note("ticker agreement (arrival order): " + std::to_string(tickers_agree) + "/" + std::to_string(tickers));
  for (const auto& [id, b] : books)
    note(std::string(registry.get(id).symbol.view()) + ": " + (b->synced() ? "synced" : "not synced") +
         " applied=" + std::to_string(b->stats().applied) + " crossed=" + std::to_string(b->stats().crossed) +
         " levels=" + std::to_string(b->book().depth(Side::buy)) + "/" + std::to_string(b->book().depth(Side::sell)));
  r.check_kind = "book updates applied without crossing (no venue top of book compared at a sequence)";
  return r;
}

}  // namespace enigma::feed::coinbase
