#include "feed/venues/kucoin.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>

#include "feed/capture_reader.hpp"
#include "feed/venues/json_fields.hpp"
#include "feed/venues/json_scan.hpp"

namespace enigma::feed::kucoin {

namespace od = simdjson::ondemand;

namespace {

InstrumentKind kucoin_kind(Venue venue, std::string_view) noexcept {
  return venue == Venue::kucoin_spot ? InstrumentKind::spot : InstrumentKind::linear_perpetual;
}

// ---- JSON field helpers (no allocation: strings land in the parser's own buffer) -------------------

// Text of a JSON string or the raw token of a JSON number (KuCoin sends prices both ways).
Errc text_of(od::value v, std::string_view& out) noexcept {
  od::json_type t{};
  if (v.type().get(t)) return Errc::wrong_type;
  if (t == od::json_type::string) return v.get_string().get(out) ? Errc::wrong_type : Errc::ok;
  if (t != od::json_type::number) return Errc::wrong_type;
  std::string_view raw = v.raw_json_token();
  while (!raw.empty() && static_cast<unsigned char>(raw.back()) <= ' ') raw.remove_suffix(1);
  out = raw;
  return Errc::ok;
}

// The text of the last `"key":"<text>"` member in `frame` (empty when there is none): where KuCoin puts
// the envelope's topic, after the data. The text ends at the next quote (topics hold no escapes; one that
// did would not match the envelope's own field, which the caller checks). Quotes are found 16 bytes at a
// time from the end (a byte loop over the ~40 bytes after the topic cost a fifth of a ticker's decode).
template <std::size_t N>
std::string_view last_string_member(std::string_view frame, const char (&key)[N]) noexcept {
  constexpr std::size_t n = N - 1;
  const char* const begin = frame.data();
  const auto found = [&](const char* p) noexcept {
    const std::size_t from = static_cast<std::size_t>(p - begin) + n;
    const std::size_t to = frame.find('"', from);
    return to == std::string_view::npos ? std::string_view{} : frame.substr(from, to - from);
  };
  std::size_t end = frame.size();  // candidates start before `end - n + 1`
  if (end < n) return {};
  end -= n - 1;
#if defined(__SSE2__)
  while (end >= 16) {
    const char* block = begin + end - 16;
    auto quotes = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)), _mm_set1_epi8('"'))));
    while (quotes != 0) {
      const int bit = 31 - __builtin_clz(quotes);
      if (__builtin_memcmp(block + bit, key, n) == 0) return found(block + bit);
      quotes &= ~(1u << bit);
    }
    end -= 16;
  }
#endif
  for (const char* p = begin + end; p-- != begin;)
    if (*p == '"' && __builtin_memcmp(p, key, n) == 0) return found(p);
  return {};
}

// Topics whose data is read with the push's subject: instrument pushes (mark or funding) and the
// all-symbols ticker (the symbol is the subject).
bool needs_subject(std::string_view topic) noexcept {
  return topic.starts_with("/contract/instrument") || topic.ends_with(":all");
}

// A REST depth snapshot pushed whole over the WebSocket: read by decode_snapshot_data (by name).
bool pushed_whole(std::string_view topic) noexcept { return topic.starts_with("/contractMarket/level2Snapshot"); }


Errc digits_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 19) return s.empty() ? Errc::empty : Errc::overflow;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (static_cast<unsigned>(c - '0') >= 10u) return Errc::invalid_char;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return Errc::ok;
}

// Unsigned integer sent as a JSON number or a decimal string ("1613277183892").
Errc u64_of(od::value v, std::uint64_t& out) noexcept {
  od::json_type t{};
  if (v.type().get(t)) return Errc::wrong_type;
  if (t == od::json_type::number) return v.get_uint64().get(out) ? Errc::wrong_type : Errc::ok;
  if (t != od::json_type::string) return Errc::wrong_type;
  std::string_view s;
  if (json::get_text(v, s) != Errc::ok) return Errc::wrong_type;
  return digits_u64(s, out);
}

// Looks up an optional member. A lookup error other than "no such field" means the document is
// malformed, and On-Demand must not be iterated any further: Errc::bad_format, and the caller stops.
template <class Obj>
Errc opt(Obj& obj, std::string_view key, od::value& v, bool& found) noexcept {
  const auto err = obj[key].get(v);
  found = !err;
  return !err || err == simdjson::NO_SUCH_FIELD ? Errc::ok : Errc::bad_format;
}

template <class Obj>
Errc field(Obj& obj, std::string_view key, od::value& v) noexcept {
  bool found = false;
  if (const Errc e = opt(obj, key, v, found); e != Errc::ok) return e;
  return found ? Errc::ok : Errc::missing_field;
}

template <class Obj>
Errc field_u64(Obj& obj, std::string_view key, std::uint64_t& out) noexcept {
  od::value v;
  if (const Errc e = field(obj, key, v); e != Errc::ok) return e;
  return u64_of(v, out);
}

template <class Obj>
Errc field_text(Obj& obj, std::string_view key, std::string_view& out) noexcept {
  od::value v;
  if (const Errc e = field(obj, key, v); e != Errc::ok) return e;
  return text_of(v, out);
}

// Book quantity: exact when it fits 10 decimals, else rounded away from zero (see kucoin.hpp).
Errc parse_qty(std::string_view s, Qty& out, std::uint64_t& rounded) noexcept {
  const auto r = Qty::parse_padded(s);
  if (r.ok()) [[likely]] {
    out = r.value;
    return Errc::ok;
  }
  if (r.error != Errc::too_many_digits) return r.error;
  const std::size_t dot = s.find('.');
  const auto cut = Qty::parse(s.substr(0, dot + 1 + Qty::kDigits));
  if (!cut.ok()) return cut.error;
  out = cut.value + Qty::from_raw(cut.value.raw() < 0 || (cut.value.is_zero() && s.front() == '-') ? -1 : 1);
  ++rounded;
  return Errc::ok;
}

template <class F>
Errc value_fixed(od::value v, F& out) noexcept {
  std::string_view s;
  if (const Errc e = json::get_text_or_number(v, s); e != Errc::ok) return e;
  return json::parse_fixed_padded(s, out);
}

template <class Obj, class F>
Errc field_fixed(Obj& obj, std::string_view key, F& out) noexcept {
  std::string_view s;
  if (const Errc e = field_text(obj, key, s); e != Errc::ok) return e;
  return json::parse_fixed_padded(s, out);
}

// KuCoin mixes ms, us and ns timestamps between channels (and over the years); epoch magnitudes tell
// them apart unambiguously (ms < 1e14 until year 5138, ns > 1e17 after 1973).
std::int64_t to_ns(std::uint64_t t) noexcept {
  if (t < 100'000'000'000'000ULL) return static_cast<std::int64_t>(t * 1'000'000ULL);
  if (t < 100'000'000'000'000'000ULL) return static_cast<std::int64_t>(t * 1'000ULL);
  return static_cast<std::int64_t>(t);
}

Errc side_of(std::string_view s, Side& out) noexcept {
  if (s == "buy") out = Side::buy;
  else if (s == "sell") out = Side::sell;
  else return Errc::out_of_range;
  return Errc::ok;
}

// Candle interval names used in KuCoin topics ("XBTUSDTM_1min", "BTC-USDT_1hour").
std::uint32_t interval_seconds(std::string_view name) noexcept {
  struct Named { std::string_view name; std::uint32_t s; };
  static constexpr Named kNames[] = {{"1min", 60},      {"3min", 180},     {"5min", 300},     {"15min", 900},
                                     {"30min", 1800},   {"1hour", 3600},   {"2hour", 7200},   {"4hour", 14400},
                                     {"6hour", 21600},  {"8hour", 28800},  {"12hour", 43200}, {"1day", 86400},
                                     {"1week", 604800}, {"1month", 2592000}};
  for (const auto& n : kNames)
    if (n.name == name) return n.s;
  return 0;
}

// Appends events for one message and rolls them back if the message fails half-way.
struct Writer {
  EventBuffer& out;
  std::size_t start;
  Venue venue;
  InstrumentId id;
  std::uint64_t recv_tsc;
  std::uint32_t count{0};

  Event* push(EventType type, std::int64_t venue_ns, std::uint32_t aux = 0) noexcept {
    Event* e = out.push();
    if (!e) return nullptr;
    e->h = EventHeader{recv_tsc, venue_ns, id, venue, type, aux};
    ++count;
    return e;
  }
  DecodeResult fail(Errc e, ErrorAction a) noexcept {
    out.truncate(start);
    return DecodeResult{e, a, MessageKind::market_data, 0};
  }
  DecodeResult done() const noexcept { return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, count}; }
};

DecodeResult control(ErrorAction a = ErrorAction::none, Errc e = Errc::ok) noexcept {
  return DecodeResult{e, a, MessageKind::control, 0};
}
DecodeResult ignored() noexcept { return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0}; }
DecodeResult failed(Errc e, ErrorAction a) noexcept { return DecodeResult{e, a, MessageKind::market_data, 0}; }

void copy_text(char* dst, std::size_t cap, std::string_view s) noexcept {
  const std::size_t n = std::min(cap - 1, s.size());
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

// One book level from the venue's price and size text, its venue time `venue_ns`.
Errc put_level(Writer& w, Side side, std::string_view ps, std::string_view qs, std::int64_t venue_ns,
               std::uint64_t& rounded) noexcept {
  Event* l = w.push(EventType::book_level, venue_ns);
  if (!l) return Errc::capacity;
  l->level = BookLevel{};
  l->level.side = side;
  if (const Errc e = json::parse_fixed_padded(ps, l->level.price); e != Errc::ok) return e;
  return parse_qty(qs, l->level.qty, rounded);
}

// Book levels of a snapshot side: [[price, size], ...] with strings (spot) or numbers (futures).
Errc snapshot_side(od::array levels, Side side, Writer& w, std::int64_t ts, std::uint32_t& n,
                   std::uint64_t& rounded) noexcept {
  for (auto item : levels) {
    od::array pair;
    if (item.get_array().get(pair)) return Errc::wrong_type;
    std::string_view ps, qs;
    int k = 0;
    for (auto part : pair) {
      od::value pv;
      if (part.get(pv)) return Errc::wrong_type;
      if (const Errc e = json::get_text_or_number(pv, k == 0 ? ps : qs); e != Errc::ok) return e;
      if (++k == 2) break;
    }
    if (k < 2) return Errc::missing_field;
    if (const Errc e = put_level(w, side, ps, qs, ts, rounded); e != Errc::ok) return e;
    ++n;
  }
  return Errc::ok;
}

// What a push's topic says about its data: how to read it and the symbol it names ("/market/level2:BTC-USDT").
// decode_data and the scanner route alike.
enum class Kind : std::uint8_t { l2_delta, depth_n, bbo, trade, candle, mark, rest_snapshot, spot_l2, spot_level1, none };

struct Route {
  Kind kind{Kind::none};
  std::uint32_t depth{0};  // depth_n: 5 or 50
  std::string_view symbol;  // the topic's text after ':' (a candle's still ends in "_1min")
};

Route route_of(std::string_view topic, bool fut) noexcept {
  const std::size_t colon = topic.find(':');
  const std::string_view channel = topic.substr(0, colon);
  Route r;
  r.symbol = colon == std::string_view::npos ? std::string_view{} : topic.substr(colon + 1);
  if (fut) {
    if (json::is(channel, "/contractMarket/level2")) r.kind = Kind::l2_delta;
    else if (json::is(channel, "/contractMarket/level2Depth5")) r.kind = Kind::depth_n, r.depth = 5;
    else if (json::is(channel, "/contractMarket/level2Depth50")) r.kind = Kind::depth_n, r.depth = 50;
    else if (json::is(channel, "/contractMarket/tickerV2") || json::is(channel, "/contractMarket/ticker")) r.kind = Kind::bbo;
    else if (json::is(channel, "/contractMarket/execution")) r.kind = Kind::trade;
    else if (json::is(channel, "/contractMarket/limitCandle") || json::is(channel, "/contractMarket/candle")) r.kind = Kind::candle;
    else if (json::is(channel, "/contract/instrument")) r.kind = Kind::mark;
    else if (json::is(channel, "/contractMarket/level2Snapshot")) r.kind = Kind::rest_snapshot;
  } else {
    if (json::is(channel, "/market/level2")) r.kind = Kind::spot_l2;
    else if (json::is(channel, "/market/ticker")) r.kind = Kind::bbo;
    else if (json::is(channel, "/market/match")) r.kind = Kind::trade;
    else if (json::is(channel, "/market/candles")) r.kind = Kind::candle;
    else if (json::is(channel, "/spotMarket/level2Depth5")) r.kind = Kind::depth_n, r.depth = 5;
    else if (json::is(channel, "/spotMarket/level2Depth50")) r.kind = Kind::depth_n, r.depth = 50;
    else if (json::is(channel, "/spotMarket/level1")) r.kind = Kind::spot_level1;
  }
  return r;
}

// ---- what both paths do once a message's fields are read --------------------------------------------

// A futures level2 change, "price,side,size" at `seq`, as a one-level delta.
Errc put_l2_change(Writer& w, std::uint64_t seq, std::uint64_t ts, std::string_view change, std::uint64_t& rounded) noexcept {
  const std::size_t c1 = change.find(','), c2 = change.rfind(',');
  if (c1 == std::string_view::npos || c1 == c2) return Errc::bad_format;
  Event* b = w.push(EventType::book_batch, to_ns(ts));
  if (!b) return Errc::capacity;
  b->batch = BookBatch{seq, seq, 0, 1, 0, BookBatchKind::delta, false, false};
  Event* l = w.push(EventType::book_level, to_ns(ts));
  if (!l) return Errc::capacity;
  l->level = BookLevel{};
  if (const Errc e = side_of(change.substr(c1 + 1, c2 - c1 - 1), l->level.side); e != Errc::ok) return e;
  if (const Errc e = json::parse_fixed_padded(change.substr(0, c1), l->level.price); e != Errc::ok) return e;
  return parse_qty(change.substr(c2 + 1), l->level.qty, rounded);
}

// One change of a spot l2update, [price, size, sequence]. The changes come before the range that places
// them, so the level carries its change sequence in venue_time_ns until finish_spot_l2. Price "0" marks a
// sequence-only change (nothing to apply, but the sequence advances).
Errc put_spot_change(Writer& w, Side side, std::string_view ps, std::string_view qs, std::uint64_t cseq,
                     std::uint32_t& n, std::uint64_t& rounded) noexcept {
  if (ps == "0") return Errc::ok;
  if (const Errc e = put_level(w, side, ps, qs, static_cast<std::int64_t>(cseq), rounded); e != Errc::ok) return e;
  ++n;
  return Errc::ok;
}

// A spot l2update's batch header (at batch_index) and its levels, once the whole object has been read
// (`has`: 1 sequenceStart, 2 sequenceEnd, 4 changes).
Errc finish_spot_l2(EventBuffer& out, std::size_t batch_index, std::uint32_t has, std::uint64_t start, std::uint64_t end,
                    std::uint64_t ts, std::uint32_t n) noexcept {
  if (has != 7) return Errc::missing_field;
  if (end < start) return Errc::out_of_range;
  Event& be = const_cast<Event&>(out[batch_index]);
  be.batch = BookBatch{end, start, 0, n, 0, BookBatchKind::delta, false, false};
  be.h.venue_time_ns = to_ns(ts);
  for (std::size_t i = batch_index + 1; i < out.size(); ++i) {
    Event& l = const_cast<Event&>(out[i]);
    // Offset of this change inside [start, end]; a change sequence outside the range (seen in
    // recorded data) is treated as the message's first change rather than being dropped.
    const auto cseq = static_cast<std::uint64_t>(l.h.venue_time_ns);
    l.h.aux = cseq >= start && cseq <= end && cseq - start <= 0xFFFFFFFFu ? static_cast<std::uint32_t>(cseq - start) : 0;
    l.h.venue_time_ns = to_ns(ts);
  }
  return Errc::ok;
}

// A trade's side and id once read (`has`: 1 side, 2 price, 4 size, 8 sequence). tradeId is numeric on both
// venues today; older ids were 24-hex ObjectIds, for which the message sequence (also unique) is the id.
Errc finish_trade(Event& ev, std::uint32_t has, std::string_view side, std::string_view tid, std::uint64_t seq,
                  std::uint64_t ts) noexcept {
  if (has != 15) return Errc::missing_field;
  if (const Errc e = side_of(side, ev.trade.aggressor); e != Errc::ok) return e;
  if (tid.empty() || digits_u64(tid, ev.trade.trade_id) != Errc::ok) ev.trade.trade_id = seq;
  ev.h.venue_time_ns = to_ns(ts);
  return Errc::ok;
}

// ---- the scanner: market-data pushes in their usual compact form, read in one pass ------------------
//
// The same fields as decode_push and decode_data, read by json::scan (feed/venues/json_scan.hpp) instead
// of simdjson, for the pushes that are nearly every frame: futures level2, spot l2update, tickers (futures
// tickerV2 and ticker, spot ticker) and trades (futures execution, spot match). It gives up (false) at
// anything outside the scanner's JSON subset or that the simdjson path reads differently or refuses: an
// envelope member twice, a value of an unexpected type or that does not parse (even one the simdjson path
// ignores), an object or array where nothing is read, another channel, an unknown symbol. decode() then
// reads the frame with simdjson from the start, so a frame gives the same events either way
// (fuzz_kucoin_decoder decodes every input both ways and compares).
namespace scan = json::scan;

// u64_of's subset: a JSON integer (ending at ',' or '}') or a string of digits.
ENIGMA_ALWAYS_INLINE bool scan_u64_of(const char*& p, const char* end, std::uint64_t& out) noexcept {
  if (p < end && *p == '"') {
    std::string_view s;
    return scan::string(p, end, s) && scan::digit_text(s, out);  // digits_u64, 16 digits at a time
  }
  return scan::u64(p, end, out);
}

template <class F>
ENIGMA_ALWAYS_INLINE bool scan_fixed(const char*& p, const char* end, F& out) noexcept {
  std::string_view s;
  return scan::text_or_number(p, end, s) && json::parse_fixed_padded(s, out) == Errc::ok;
}

// Futures level2: {"sequence":N,"change":"price,side,size","timestamp":ms}
bool scan_l2_delta(const char*& p, const char* end, Writer& w, std::uint64_t& rounded) noexcept {
  std::uint64_t seq = 0, ts = 0;
  std::string_view change;
  std::uint32_t has = 0;
  return scan::members(p, end,
                      [&]() noexcept {
                        if (scan::key_is(p, end, R"("sequence":)")) { has |= 1; return scan_u64_of(p, end, seq); }
                        if (scan::key_is(p, end, R"("change":)")) { has |= 2; return scan::text_or_number(p, end, change); }
                        if (scan::key_is(p, end, R"("timestamp":)")) return scan_u64_of(p, end, ts);
                        return scan::other_member(p, end);
                      }) &&
         has == 3 && put_l2_change(w, seq, ts, change, rounded) == Errc::ok;
}

// Spot l2update: {"changes":{"asks":[[p,s,seq]..],"bids":[..]},"sequenceEnd":B,"sequenceStart":A,"symbol":..,"time":ms}
bool scan_spot_l2(const char*& p, const char* end, Writer& w, std::uint64_t& rounded) noexcept {
  std::uint64_t start = 0, last = 0, ts = 0;
  std::uint32_t has = 0, n = 0;
  if (!w.push(EventType::book_batch, 0)) return false;
  const std::size_t batch_index = w.out.size() - 1;
  const auto changes = [&](Side side) noexcept {
    if (!scan::expect(p, end, '[')) return false;
    if (p < end && *p == ']') return ++p, true;
    for (;;) {
      std::string_view ps, qs;
      std::uint64_t cseq = 0;
      bool more = false;
      if (!scan::expect(p, end, '[') || !scan::text_or_number(p, end, ps) || !scan::expect(p, end, ',') ||
          !scan::text_or_number(p, end, qs) || !scan::expect(p, end, ',') || !scan_u64_of(p, end, cseq) ||
          !scan::expect(p, end, ']') || put_spot_change(w, side, ps, qs, cseq, n, rounded) != Errc::ok ||
          !scan::next(p, end, ']', more)) [[unlikely]]
        return false;
      if (!more) return true;
    }
  };
  return scan::members(p, end,
                      [&]() noexcept {
                        if (scan::key_is(p, end, R"("sequenceStart":)")) { has |= 1; return scan_u64_of(p, end, start); }
                        if (scan::key_is(p, end, R"("sequenceEnd":)")) { has |= 2; return scan_u64_of(p, end, last); }
                        if (scan::key_is(p, end, R"("time":)")) return scan_u64_of(p, end, ts);
                        if (!scan::key_is(p, end, R"("changes":)")) return scan::other_member(p, end);
                        has |= 4;
                        return scan::members(p, end, [&]() noexcept {
                          if (scan::key_is(p, end, R"("asks":)")) return changes(Side::sell);
                          if (scan::key_is(p, end, R"("bids":)")) return changes(Side::buy);
                          return scan::other_member(p, end);
                        });
                      }) &&
         finish_spot_l2(w.out, batch_index, has, start, last, ts, n) == Errc::ok;
}

// Futures tickerV2/ticker: sequence, bestBidPrice/bestBidSize/bestAskPrice/bestAskSize, ts (ns).
// Spot ticker: sequence, bestBid/bestBidSize/bestAsk/bestAskSize, time (ms; "Time" in the docs).
bool scan_bbo(const char*& p, const char* end, Writer& w, bool fut) noexcept {
  Event* ev = w.push(EventType::bbo, 0);
  if (!ev) return false;
  ev->bbo = Bbo{};
  Bbo& q = ev->bbo;
  std::uint64_t ts = 0, ts_upper = 0;
  std::uint32_t has = 0;
  if (!scan::members(p, end, [&]() noexcept {
        if (scan::key_is(p, end, R"("sequence":)")) { has |= 1; return scan_u64_of(p, end, q.seq); }
        if (scan::key_is(p, end, R"("bestBidSize":)")) { has |= 4; return scan_fixed(p, end, q.bid_qty); }
        if (scan::key_is(p, end, R"("bestAskSize":)")) { has |= 16; return scan_fixed(p, end, q.ask_qty); }
        if (fut) {
          if (scan::key_is(p, end, R"("bestBidPrice":)")) { has |= 2; return scan_fixed(p, end, q.bid_price); }
          if (scan::key_is(p, end, R"("bestAskPrice":)")) { has |= 8; return scan_fixed(p, end, q.ask_price); }
          if (scan::key_is(p, end, R"("ts":)")) return scan_u64_of(p, end, ts);
        } else {
          if (scan::key_is(p, end, R"("bestBid":)")) { has |= 2; return scan_fixed(p, end, q.bid_price); }
          if (scan::key_is(p, end, R"("bestAsk":)")) { has |= 8; return scan_fixed(p, end, q.ask_price); }
          if (scan::key_is(p, end, R"("time":)")) return scan_u64_of(p, end, ts);
          if (scan::key_is(p, end, R"("Time":)")) return scan_u64_of(p, end, ts_upper);
        }
        return scan::other_member(p, end);
      }) ||
      has != 31)
    return false;
  ev->h.venue_time_ns = to_ns(ts != 0 ? ts : ts_upper);
  return true;
}

// Futures execution (ts ns) and spot match (time ns, a string).
bool scan_trade(const char*& p, const char* end, Writer& w, bool fut) noexcept {
  Event* ev = w.push(EventType::trade, 0);
  if (!ev) return false;
  ev->trade = Trade{};
  std::string_view side, tid;
  std::uint64_t seq = 0, ts = 0;
  std::uint32_t has = 0;
  return scan::members(p, end,
                      [&]() noexcept {
                        if (scan::key_is(p, end, R"("side":)")) { has |= 1; return scan::text_or_number(p, end, side); }
                        if (scan::key_is(p, end, R"("price":)")) { has |= 2; return scan_fixed(p, end, ev->trade.price); }
                        if (scan::key_is(p, end, R"("size":)")) { has |= 4; return scan_fixed(p, end, ev->trade.qty); }
                        if (scan::key_is(p, end, R"("sequence":)")) { has |= 8; return scan_u64_of(p, end, seq); }
                        if (scan::key_is(p, end, R"("tradeId":)")) return scan::text_or_number(p, end, tid);
                        if (fut ? scan::key_is(p, end, R"("ts":)") : scan::key_is(p, end, R"("time":)"))
                          return scan_u64_of(p, end, ts);
                        return scan::other_member(p, end);
                      }) &&
         finish_trade(*ev, has, side, tid, seq, ts) == Errc::ok;
}

}  // namespace

// ---- bullet ---------------------------------------------------------------------------------------

BulletInfo parse_bullet(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) throw Error("kucoin bullet response: not JSON");
  std::string_view code;
  if (doc["code"].get(code) || code != "200000")
    throw Error("kucoin bullet response: code is not \"200000\" (request refused)");
  BulletInfo info;
  std::string_view token;
  if (doc["data"]["token"].get(token) || token.empty()) throw Error("kucoin bullet response: data.token missing");
  info.token = std::string(token);
  simdjson::dom::array servers;
  if (doc["data"]["instanceServers"].get(servers) || servers.size() == 0)
    throw Error("kucoin bullet response: data.instanceServers missing or empty");
  simdjson::dom::element first = servers.at(0);
  std::string_view endpoint;
  if (first["endpoint"].get(endpoint) || endpoint.empty())
    throw Error("kucoin bullet response: instanceServers[0].endpoint missing");
  info.endpoint = std::string(endpoint);
  std::int64_t interval = 0, timeout = 0;
  if (first["pingInterval"].get(interval) || interval <= 0 || interval > 3'600'000)
    throw Error("kucoin bullet response: instanceServers[0].pingInterval missing or not a positive ms count");
  if (first["pingTimeout"].get(timeout) || timeout <= 0 || timeout > 3'600'000)
    throw Error("kucoin bullet response: instanceServers[0].pingTimeout missing or not a positive ms count");
  info.ping_interval_ms = static_cast<int>(interval);
  info.ping_timeout_ms = static_cast<int>(timeout);
  return info;
}

// ---- Decoder --------------------------------------------------------------------------------------

Decoder::Decoder(Venue venue, InstrumentRegistry& registry, bool auto_register, bool validate_json)
    : venue_(venue),
      symbols_(registry, venue, auto_register, &kucoin_kind),
      validate_json_(validate_json) {
  if (venue != Venue::kucoin_futures && venue != Venue::kucoin_spot)
    throw Error("kucoin::Decoder: venue must be kucoin-futures or kucoin-spot, got " + std::string(to_string(venue)));
  // Sized for the largest REST snapshot we expect; bigger documents make simdjson grow once (cold).
  if (parser_.allocate(4u << 20) || validator_.allocate(4u << 20))
    throw Error("kucoin::Decoder: cannot allocate the JSON parser");
}

DecodeResult Decoder::decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                             EventBuffer& out) noexcept {
  if (padded_capacity < frame.size() + simdjson::SIMDJSON_PADDING) [[unlikely]]
    return failed(Errc::out_of_range, ErrorAction::skip);
  const simdjson::padded_string_view bytes(frame.data(), frame.size(), padded_capacity);
  const std::size_t first = out.size();
  DecodeResult r;
  // Market-data pushes, nearly every frame, are read in one pass in document order: by the scanner when
  // they are in its JSON subset, else by simdjson.
  if (scan_first_ && scan_push(frame, recv_tsc, out, r)) [[likely]] {
    ++scanned_frames_;
    return reject_impossible_values(r, out, first);
  }
  od::document doc;
  if (parser_.iterate(bytes).get(doc)) return failed(Errc::bad_format, ErrorAction::skip);
  if (decode_push(frame, doc, recv_tsc, out, r)) [[likely]] return reject_impossible_values(r, out, first);
  // Anything else (control frames, a push whose data comes before its topic, anything malformed) is checked
  // by the DOM parser first (see validate_json), then its envelope is read by name.
  simdjson::dom::element checked;
  if (validate_json_ && validator_.parse(frame.data(), frame.size(), false).get(checked))
    return failed(Errc::bad_format, ErrorAction::skip);
  if (parser_.iterate(bytes).get(doc)) return failed(Errc::bad_format, ErrorAction::skip);
  return reject_impossible_values(decode_message(doc, recv_tsc, out), out, first);
}

bool Decoder::scan_push(std::string_view frame, std::uint64_t recv_tsc, EventBuffer& out, DecodeResult& r) noexcept {
  const char* p = frame.data();
  const char* const end = p + frame.size();
  const std::size_t start = out.size();
  const std::uint64_t rounded_before = rounded_levels_;
  const bool fut = venue_ == Venue::kucoin_futures;
  // The instrument is looked up once the whole frame has been read (a lookup may register the symbol, which
  // the simdjson path must then do too); until then the events carry none.
  Writer w{out, start, venue_, kInvalidInstrument, recv_tsc};
  std::string_view type, topic, data_topic;
  std::uint32_t seen = 0;  // 1 type, 2 topic, 4 subject, 8 data
  Route route;
  // Each envelope member at most once (the simdjson paths would read a repeated one differently).
  const auto first_time = [&seen](std::uint32_t bit) noexcept {
    const bool first = (seen & bit) == 0;
    seen |= bit;
    return first;
  };
  const bool read = scan::members(p, end, [&]() noexcept {
    std::string_view subject;  // read by the simdjson path only for the topics the scanner leaves to it
    if (scan::key_is(p, end, R"("type":)")) return first_time(1) && scan::string(p, end, type);
    if (scan::key_is(p, end, R"("subject":)")) return first_time(4) && scan::string(p, end, subject);
    if (scan::key_is(p, end, R"("topic":)")) {
      // After the data, the topic it was read with (the frame's last "topic" member) must be this one.
      return first_time(2) && scan::string(p, end, topic) && (!(seen & 8) || topic == data_topic);
    }
    if (!scan::key_is(p, end, R"("data":)")) return scan::other_member(p, end);
    if (!first_time(8)) return false;
    // KuCoin sends the data before the topic that says how to read it: then the topic is taken from the
    // frame's tail, as decode_push does.
    data_topic = (seen & 2) ? topic : last_string_member(frame, R"("topic":")");
    route = route_of(data_topic, fut);
    switch (route.kind) {
      case Kind::l2_delta: return scan_l2_delta(p, end, w, rounded_levels_);
      case Kind::spot_l2: return scan_spot_l2(p, end, w, rounded_levels_);
      case Kind::bbo: return !json::is(route.symbol, "all") && scan_bbo(p, end, w, fut);  // "all": symbol in subject
      case Kind::trade: return scan_trade(p, end, w, fut);
      default: return false;  // depth, candles, instrument pushes, snapshots: simdjson reads them
    }
  });
  const InstrumentId id = read && (seen & 10) == 10 && json::is(type, "message") && scan::only_space(p, end)
                              ? symbols_.find(route.symbol)
                              : kInvalidInstrument;
  if (id == kInvalidInstrument) {
    out.truncate(start);
    rounded_levels_ = rounded_before;
    return false;
  }
  for (std::size_t i = start; i < out.size(); ++i) const_cast<Event&>(out[i]).h.instrument = id;
  r = w.done();
  return true;
}

bool Decoder::decode_push(std::string_view frame, od::document& doc, std::uint64_t recv_tsc, EventBuffer& out,
                          DecodeResult& r) noexcept {
  od::object top;
  if (doc.get_object().get(top)) return false;
  const std::size_t start = out.size();
  const auto fall_back = [&] {
    out.truncate(start);
    return false;
  };
  // KuCoin sends "data" first, before the topic that says how to read it. So the topic is first taken from
  // the frame's tail (a short backward search), the data read with it in this one pass, and the guess
  // checked against the envelope's own topic when it comes: any difference rolls the frame back to the slow
  // path. The few topics whose data also needs the subject (instrument pushes, the all-symbols ticker) go
  // to the slow path unless the subject came first.
  const std::string_view tail_topic = last_string_member(frame, R"("topic":")");
  std::string_view type, topic, subject;
  bool decoded = false;
  for (auto item : top) {
    od::field fld;
    if (std::move(item).get(fld)) return fall_back();
    const std::string_view k = json::key_of(fld);
    od::value v = fld.value();
    if (json::is(k, "type")) {
      if (json::get_text(v, type) != Errc::ok || !json::is(type, "message")) return fall_back();
    } else if (json::is(k, "topic")) {
      if (json::get_text(v, topic) != Errc::ok || topic != tail_topic) return fall_back();
    } else if (json::is(k, "subject")) {
      if (json::get_text(v, subject) != Errc::ok) return fall_back();
    } else if (json::is(k, "data")) {
      if (decoded || tail_topic.empty() || pushed_whole(tail_topic)) return fall_back();
      if (subject.empty() && needs_subject(tail_topic)) return fall_back();
      r = decode_data(&v, tail_topic, subject, recv_tsc, out);
      decoded = true;
    }
  }
  // The slow path reads what this pass does not: no "data", no "type":"message", no topic, or a REST
  // snapshot pushed whole.
  if (!decoded || type.empty() || topic.empty()) return fall_back();
  return true;
}

DecodeResult Decoder::decode_message(od::document& doc, std::uint64_t recv_tsc, EventBuffer& out) noexcept {
  std::string_view type;
  {
    od::value tv;
    bool has_type = false;
    if (opt(doc, "type", tv, has_type) != Errc::ok) return failed(Errc::bad_format, ErrorAction::skip);
    if (has_type && tv.get_string().get(type)) return failed(Errc::wrong_type, ErrorAction::skip);
    // Some pushes (e.g. /contract/announcement) omit `type`; the topic (checked below) makes them messages.
    if (!has_type) type = "message";
  }
  if (type != "message") {
    ControlFrame c{};
    std::string_view id;
    od::value idv;
    bool found = false;
    if (opt(doc, "id", idv, found) != Errc::ok) return failed(Errc::bad_format, ErrorAction::skip);
    if (found && text_of(idv, id) == Errc::ok) copy_text(c.id, sizeof c.id, id);
    if (type == "welcome") c.type = ControlFrame::Type::welcome;
    else if (type == "pong") c.type = ControlFrame::Type::pong;
    else if (type == "ack") c.type = ControlFrame::Type::ack;
    else if (type == "error") {
      c.type = ControlFrame::Type::error;
      std::uint64_t code = 0;
      od::value cv;
      if (opt(doc, "code", cv, found) != Errc::ok) return failed(Errc::bad_format, ErrorAction::skip);
      if (found) (void)u64_of(cv, code);
      c.code = static_cast<int>(std::min<std::uint64_t>(code, 999999));
      std::string_view msg;
      od::value mv;
      if (opt(doc, "data", mv, found) != Errc::ok) return failed(Errc::bad_format, ErrorAction::skip);
      if (found && text_of(mv, msg) == Errc::ok) copy_text(c.message, sizeof c.message, msg);
      control_ = c;
      // 401/403: token invalid or expired / forbidden: this session cannot continue. Anything else
      // (bad topic, too many subscriptions) concerns one request: skip it, keep the session.
      const bool fatal = c.code == 401 || c.code == 403;
      return control(fatal ? ErrorAction::fatal : ErrorAction::skip, Errc::unknown_message);
    } else {
      c.type = ControlFrame::Type::other;
    }
    control_ = c;
    return control();
  }
  std::string_view topic;
  {
    od::value tv;
    if (const Errc e = field(doc, "topic", tv); e != Errc::ok) return failed(e, ErrorAction::skip);
    if (tv.get_string().get(topic)) return failed(Errc::wrong_type, ErrorAction::skip);
  }
  // `topic` and `subject` lie in the parser's string buffer: both stay valid below.
  std::string_view subject;
  {
    od::value sv;
    bool found = false;
    if (opt(doc, "subject", sv, found) != Errc::ok) return failed(Errc::bad_format, ErrorAction::skip);
    if (found && sv.get_string().get(subject)) return failed(Errc::wrong_type, ErrorAction::skip);
  }
  od::value dv;
  bool has_data = false;
  if (opt(doc, "data", dv, has_data) != Errc::ok) return failed(Errc::bad_format, ErrorAction::skip);
  return decode_data(has_data ? &dv : nullptr, topic, subject, recv_tsc, out);
}

DecodeResult Decoder::decode_data(od::value* dv, std::string_view topic, std::string_view subject,
                                  std::uint64_t recv_tsc, EventBuffer& out) noexcept {
  const bool fut = venue_ == Venue::kucoin_futures;
  const Route route = route_of(topic, fut);
  const Kind kind = route.kind;
  const std::uint32_t depth = route.depth;
  std::string_view symbol = route.symbol;
  std::uint32_t interval = 0;
  if (kind == Kind::none) return ignored();
  if (kind == Kind::candle) {
    // "SYMBOL_1min": the symbol itself may contain '_' on neither venue, so split at the last one.
    const std::size_t us = symbol.rfind('_');
    if (us == std::string_view::npos) return failed(Errc::bad_format, ErrorAction::skip);
    interval = interval_seconds(symbol.substr(us + 1));
    symbol = symbol.substr(0, us);
  }
  if (kind == Kind::bbo && json::is(symbol, "all")) symbol = subject;  // /market/ticker:all names the symbol in subject
  if (kind == Kind::mark && !json::is(subject, "mark.index.price") && !json::is(subject, "funding.rate")) return ignored();

  const bool is_book = kind == Kind::l2_delta || kind == Kind::spot_l2 || kind == Kind::rest_snapshot;
  const ErrorAction bad = is_book ? ErrorAction::resync : ErrorAction::skip;
  const InstrumentId id = symbols_.find(symbol);
  if (id == kInvalidInstrument) return ignored();

  if (dv == nullptr) return failed(Errc::missing_field, bad);
  od::object data;
  if (dv->get_object().get(data)) return failed(Errc::wrong_type, bad);
  if (kind == Kind::rest_snapshot) return decode_snapshot_data(data, symbol, recv_tsc, out);

  // Every kind reads the data object once, in document order: `has` collects which fields came.
  Writer w{out, out.size(), venue_, id, recv_tsc};
  std::uint32_t has = 0;
  Errc e = Errc::ok;
  switch (kind) {
    case Kind::l2_delta: {
      // {"sequence":N,"change":"price,side,size","timestamp":ms}
      std::uint64_t seq = 0, ts = 0;
      std::string_view change;
      e = json::each_field(data, [&](std::string_view k, od::value v) noexcept {
        if (json::is(k, "sequence")) { has |= 1; return u64_of(v, seq); }
        if (json::is(k, "change")) { has |= 2; return json::get_text_or_number(v, change); }
        if (json::is(k, "timestamp")) (void)u64_of(v, ts);
        return Errc::ok;
      });
      if (e != Errc::ok) break;
      if (has != 3) { e = Errc::missing_field; break; }
      e = put_l2_change(w, seq, ts, change, rounded_levels_);
      break;
    }
    case Kind::spot_l2: {
      // {"changes":{"asks":[[p,s,seq]..],"bids":[..]},"sequenceEnd":B,"sequenceStart":A,"symbol":..,"time":ms}
      std::uint64_t start = 0, end = 0, ts = 0;
      Event* b = w.push(EventType::book_batch, 0);
      if (!b) { e = Errc::capacity; break; }
      const std::size_t batch_index = out.size() - 1;
      std::uint32_t n = 0;
      e = json::each_field(data, [&](std::string_view k, od::value v) noexcept {
        if (json::is(k, "sequenceStart")) { has |= 1; return u64_of(v, start); }
        if (json::is(k, "sequenceEnd")) { has |= 2; return u64_of(v, end); }
        if (json::is(k, "time")) { (void)u64_of(v, ts); return Errc::ok; }
        if (!json::is(k, "changes")) return Errc::ok;
        has |= 4;
        od::object changes;
        if (v.get_object().get(changes)) return Errc::wrong_type;
        return json::each_field(changes, [&](std::string_view key, od::value lv) noexcept {
          Side side;
          if (json::is(key, "asks")) side = Side::sell;
          else if (json::is(key, "bids")) side = Side::buy;
          else return Errc::ok;
          od::array levels;
          if (lv.get_array().get(levels)) return Errc::wrong_type;
          for (auto item : levels) {
            od::array triple;
            if (item.get_array().get(triple)) return Errc::wrong_type;
            std::string_view ps, qs;
            std::uint64_t cseq = 0;
            int k3 = 0;
            for (auto part : triple) {
              od::value pv;
              if (part.get(pv)) return Errc::wrong_type;
              Errc pe = Errc::ok;
              if (k3 == 0) pe = json::get_text_or_number(pv, ps);
              else if (k3 == 1) pe = json::get_text_or_number(pv, qs);
              else if (k3 == 2) pe = u64_of(pv, cseq);
              if (pe != Errc::ok) return pe;
              ++k3;
            }
            if (k3 < 3) return Errc::missing_field;
            if (const Errc pe = put_spot_change(w, side, ps, qs, cseq, n, rounded_levels_); pe != Errc::ok) return pe;
          }
          return Errc::ok;
        });
      });
      if (e != Errc::ok) break;
      e = finish_spot_l2(out, batch_index, has, start, end, ts, n);
      break;
    }
    case Kind::depth_n: {
      // Partial top-N book: {"asks":[[p,s]..],"bids":[[p,s]..],"timestamp"|"ts":ms[,"sequence":N]}
      std::uint64_t seq = 0, ts = 0;
      Event* b = w.push(EventType::book_batch, 0, depth);
      if (!b) { e = Errc::capacity; break; }
      const std::size_t batch_index = out.size() - 1;
      std::uint32_t n = 0;
      std::size_t bids_from = 0, bids_to = 0;  // where the bids landed in `out`
      e = json::each_field(data, [&](std::string_view k, od::value v) noexcept {
        if (json::is(k, "sequence")) { (void)u64_of(v, seq); return Errc::ok; }
        if (json::is(k, "timestamp")) { (void)u64_of(v, ts); return Errc::ok; }
        const bool bids = json::is(k, "bids");
        if (!bids && !json::is(k, "asks")) return Errc::ok;
        has |= bids ? 1 : 2;
        od::array levels;
        if (v.get_array().get(levels)) return Errc::wrong_type;
        if (bids) bids_from = out.size();
        const Errc se = snapshot_side(levels, bids ? Side::buy : Side::sell, w, 0, n, rounded_levels_);
        if (bids) bids_to = out.size();
        return se;
      });
      if (e != Errc::ok) break;
      if (has != 3) { e = Errc::missing_field; break; }
      // Bids first, then asks, whatever the order in the message (KuCoin sends asks first).
      if (bids_from > batch_index + 1) {
        Event* base = const_cast<Event*>(&out[0]);
        std::rotate(base + batch_index + 1, base + bids_from, base + bids_to);
      }
      for (std::size_t i = batch_index; i < out.size(); ++i) const_cast<Event&>(out[i]).h.venue_time_ns = to_ns(ts);
      Event& be = const_cast<Event&>(out[batch_index]);
      be.batch = BookBatch{seq, seq, 0, n, 0, BookBatchKind::snapshot, false, false};
      break;
    }
    case Kind::bbo: {
      // Futures: sequence, bestBidPrice/bestBidSize/bestAskPrice/bestAskSize (sizes are numbers), ts ns.
      // Spot: sequence (string), bestBid/bestBidSize/bestAsk/bestAskSize, time ms ("Time" in the docs).
      Event* ev = w.push(EventType::bbo, 0);
      if (!ev) { e = Errc::capacity; break; }
      ev->bbo = Bbo{};
      std::uint64_t ts = 0, ts_upper = 0;
      e = json::each_field(data, [&](std::string_view k, od::value v) noexcept {
        if (json::is(k, "sequence")) { has |= 1; return u64_of(v, ev->bbo.seq); }
        if (fut ? json::is(k, "bestBidPrice") : json::is(k, "bestBid")) { has |= 2; return value_fixed(v, ev->bbo.bid_price); }
        if (json::is(k, "bestBidSize")) { has |= 4; return value_fixed(v, ev->bbo.bid_qty); }
        if (fut ? json::is(k, "bestAskPrice") : json::is(k, "bestAsk")) { has |= 8; return value_fixed(v, ev->bbo.ask_price); }
        if (json::is(k, "bestAskSize")) { has |= 16; return value_fixed(v, ev->bbo.ask_qty); }
        if (fut ? json::is(k, "ts") : json::is(k, "time")) (void)u64_of(v, ts);
        else if (!fut && json::is(k, "Time")) (void)u64_of(v, ts_upper);
        return Errc::ok;
      });
      if (e == Errc::ok && has != 31) e = Errc::missing_field;
      ev->h.venue_time_ns = to_ns(ts != 0 ? ts : ts_upper);
      break;
    }
    case Kind::spot_level1: {
      // {"asks":[p,s],"bids":[p,s],"timestamp":ms}: no sequence.
      Event* ev = w.push(EventType::bbo, 0);
      if (!ev) { e = Errc::capacity; break; }
      ev->bbo = Bbo{};
      std::uint64_t ts = 0;
      e = json::each_field(data, [&](std::string_view k, od::value v) noexcept {
        if (json::is(k, "timestamp")) { (void)u64_of(v, ts); return Errc::ok; }
        const bool bid = json::is(k, "bids");
        if (!bid && !json::is(k, "asks")) return Errc::ok;
        has |= bid ? 1 : 2;
        od::array pair;
        if (v.get_array().get(pair)) return Errc::wrong_type;
        std::string_view ps, qs;
        int k2 = 0;
        for (auto part : pair) {
          od::value pv;
          if (part.get(pv) || json::get_text_or_number(pv, k2 == 0 ? ps : qs) != Errc::ok) return Errc::wrong_type;
          if (++k2 == 2) break;
        }
        if (k2 < 2) return Errc::missing_field;
        if (const Errc pe = json::parse_fixed_padded(ps, bid ? ev->bbo.bid_price : ev->bbo.ask_price); pe != Errc::ok) return pe;
        return json::parse_fixed_padded(qs, bid ? ev->bbo.bid_qty : ev->bbo.ask_qty);
      });
      if (e == Errc::ok && has != 3) e = Errc::missing_field;
      ev->h.venue_time_ns = to_ns(ts);
      break;
    }
    case Kind::trade: {
      // Futures execution: ts ns; spot l3match: time ns (string).
      Event* ev = w.push(EventType::trade, 0);
      if (!ev) { e = Errc::capacity; break; }
      ev->trade = Trade{};
      std::string_view side, tid;
      std::uint64_t seq = 0, ts = 0;
      e = json::each_field(data, [&](std::string_view k, od::value v) noexcept {
        if (json::is(k, "side")) { has |= 1; return json::get_text_or_number(v, side); }
        if (json::is(k, "price")) { has |= 2; return value_fixed(v, ev->trade.price); }
        if (json::is(k, "size")) { has |= 4; return value_fixed(v, ev->trade.qty); }
        if (json::is(k, "sequence")) { has |= 8; return u64_of(v, seq); }
        if (json::is(k, "tradeId")) (void)json::get_text_or_number(v, tid);
        else if (fut ? json::is(k, "ts") : json::is(k, "time")) (void)u64_of(v, ts);
        return Errc::ok;
      });
      if (e == Errc::ok) e = finish_trade(*ev, has, side, tid, seq, ts);
      break;
    }
    case Kind::candle: {
      Event* ev = w.push(EventType::candle, 0, interval);
      if (!ev) { e = Errc::capacity; break; }
      ev->candle = Candle{};
      // limitCandle / spot: "candles":["start s", open, close, high, low, volume, turnover]; the legacy
      // /contractMarket/candle object: open/high/low/close/volume, time ms, granularity minutes.
      std::string_view parts[6];
      std::uint64_t t = 0, gran = 0;
      e = json::each_field(data, [&](std::string_view k, od::value v) noexcept {
        if (json::is(k, "candles")) {
          has |= 1;
          od::array arr;
          if (v.get_array().get(arr)) return Errc::wrong_type;
          int k6 = 0;
          for (auto part : arr) {
            od::value pv;
            if (part.get(pv) || json::get_text_or_number(pv, parts[k6]) != Errc::ok) return Errc::wrong_type;
            if (++k6 == 6) break;
          }
          return k6 < 6 ? Errc::missing_field : Errc::ok;
        }
        if (json::is(k, "open")) { has |= 2; return value_fixed(v, ev->candle.open); }
        if (json::is(k, "high")) { has |= 4; return value_fixed(v, ev->candle.high); }
        if (json::is(k, "low")) { has |= 8; return value_fixed(v, ev->candle.low); }
        if (json::is(k, "close")) { has |= 16; return value_fixed(v, ev->candle.close); }
        if (json::is(k, "volume")) { has |= 32; return value_fixed(v, ev->candle.volume); }
        if (json::is(k, "time")) { has |= 64; return u64_of(v, t); }
        if (json::is(k, "granularity") && u64_of(v, gran) == Errc::ok) has |= 128;
        return Errc::ok;
      });
      if (e != Errc::ok) break;
      if (has & 1) {
        std::uint64_t start_s = 0;
        if ((e = digits_u64(parts[0], start_s)) != Errc::ok) break;
        ev->h.venue_time_ns = static_cast<std::int64_t>(start_s * 1'000'000'000ULL);  // wraps only on corrupt input
        if ((e = json::parse_fixed_padded(parts[1], ev->candle.open)) != Errc::ok) break;
        if ((e = json::parse_fixed_padded(parts[2], ev->candle.close)) != Errc::ok) break;
        if ((e = json::parse_fixed_padded(parts[3], ev->candle.high)) != Errc::ok) break;
        if ((e = json::parse_fixed_padded(parts[4], ev->candle.low)) != Errc::ok) break;
        e = parse_qty(parts[5], ev->candle.volume, rounded_levels_);
        break;
      }
      if ((has & 126) != 126) { e = Errc::missing_field; break; }
      if ((has & 128) && gran <= 0xFFFFFFFFu / 60) ev->h.aux = static_cast<std::uint32_t>(gran * 60);
      ev->h.venue_time_ns = to_ns(t);
      break;
    }
    case Kind::mark: {
      // mark.index.price {markPrice, indexPrice, granularity ms, timestamp ms};
      // funding.rate {fundingRate, granularity ms, timestamp ms}. Prices arrive as JSON numbers.
      Event* ev = w.push(EventType::mark, 0);
      if (!ev) { e = Errc::capacity; break; }
      ev->mark = MarkFunding{};
      const bool mark = subject == "mark.index.price";
      std::uint64_t gran = 0, ts = 0;
      e = json::each_field(data, [&](std::string_view k, od::value v) noexcept {
        if (mark && json::is(k, "markPrice")) { has |= 1; return value_fixed(v, ev->mark.mark_price); }
        if (mark && json::is(k, "indexPrice")) { has |= 2; return value_fixed(v, ev->mark.index_price); }
        if (!mark && json::is(k, "fundingRate")) { has |= 3; return value_fixed(v, ev->mark.funding_rate); }
        if (json::is(k, "timestamp")) { has |= 4; return u64_of(v, ts); }
        if (json::is(k, "granularity") && u64_of(v, gran) == Errc::ok) has |= 8;
        return Errc::ok;
      });
      if (e != Errc::ok) break;
      if ((has & 7) != 7) { e = Errc::missing_field; break; }
      if (has & 8) ev->h.aux = static_cast<std::uint32_t>(std::min<std::uint64_t>(gran / 1000, 0xFFFFFFFFu));
      ev->h.venue_time_ns = to_ns(ts);
      break;
    }
    default:
      return ignored();
  }
  if (e != Errc::ok) return w.fail(e, e == Errc::capacity && !is_book ? ErrorAction::skip : bad);
  return w.done();
}

DecodeResult Decoder::decode_snapshot(std::string_view body, std::size_t padded_capacity, std::string_view symbol,
                                      std::uint64_t recv_tsc, EventBuffer& out) noexcept {
  if (padded_capacity < body.size() + simdjson::SIMDJSON_PADDING) [[unlikely]]
    return failed(Errc::out_of_range, ErrorAction::resync);
  simdjson::dom::element checked;
  if (validate_json_ && validator_.parse(body.data(), body.size(), false).get(checked))
    return failed(Errc::bad_format, ErrorAction::resync);
  od::document doc;
  if (parser_.iterate(simdjson::padded_string_view(body.data(), body.size(), padded_capacity)).get(doc))
    return failed(Errc::bad_format, ErrorAction::resync);
  std::string_view code;
  od::value v;
  if (const Errc e = field(doc, "code", v); e != Errc::ok) return failed(e, ErrorAction::resync);
  if (v.get_string().get(code)) return failed(Errc::wrong_type, ErrorAction::resync);
  if (code != "200000") return failed(Errc::unknown_message, ErrorAction::resync);
  od::object data;
  if (const Errc e = field(doc, "data", v); e != Errc::ok) return failed(e, ErrorAction::resync);
  if (v.get_object().get(data)) return failed(Errc::wrong_type, ErrorAction::resync);
  const std::size_t first = out.size();
  return reject_impossible_values(decode_snapshot_data(data, symbol, recv_tsc, out), out, first);
}

DecodeResult Decoder::decode_snapshot_data(od::object data, std::string_view symbol, std::uint64_t recv_tsc,
                                           EventBuffer& out) noexcept {
  // Futures: {"sequence":N,"symbol":..,"bids":[[p,s]..],"asks":[..],"ts":ns}
  // Spot:    {"time":ms,"sequence":"N","bids":[["p","s"]..],"asks":[..]}
  std::string_view body_symbol;
  od::value v;
  bool found = false;
  if (opt(data, "symbol", v, found) != Errc::ok) return failed(Errc::bad_format, ErrorAction::resync);
  if (found && text_of(v, body_symbol) == Errc::ok && !body_symbol.empty()) symbol = body_symbol;
  const InstrumentId id = symbols_.find(symbol);
  if (id == kInvalidInstrument) return ignored();
  std::uint64_t seq = 0, ts = 0;
  if (const Errc e = field_u64(data, "sequence", seq); e != Errc::ok) return failed(e, ErrorAction::resync);
  if (opt(data, "ts", v, found) != Errc::ok) return failed(Errc::bad_format, ErrorAction::resync);
  if (!found && opt(data, "time", v, found) != Errc::ok) return failed(Errc::bad_format, ErrorAction::resync);
  if (found) (void)u64_of(v, ts);
  Writer w{out, out.size(), venue_, id, recv_tsc};
  Event* b = w.push(EventType::book_batch, to_ns(ts));
  if (!b) return w.fail(Errc::capacity, ErrorAction::resync);
  const std::size_t batch_index = out.size() - 1;
  std::uint32_t n = 0;
  for (const auto& [key, side] : {std::pair{std::string_view("bids"), Side::buy}, std::pair{std::string_view("asks"), Side::sell}}) {
    od::array levels;
    if (const Errc e = field(data, key, v); e != Errc::ok) return w.fail(e, ErrorAction::resync);
    if (v.get_array().get(levels)) return w.fail(Errc::wrong_type, ErrorAction::resync);
    if (const Errc e = snapshot_side(levels, side, w, to_ns(ts), n, rounded_levels_); e != Errc::ok)
      return w.fail(e, ErrorAction::resync);
  }
  Event& be = const_cast<Event&>(out[batch_index]);
  be.batch = BookBatch{seq, seq, 0, n, 0, BookBatchKind::snapshot, false, false};
  return w.done();
}

// ---- BookSync -------------------------------------------------------------------------------------

BookSync::BookSync(Venue venue, InstrumentId instrument, std::size_t max_levels_per_side, std::size_t buffer_events)
    : venue_(venue),
      instrument_(instrument),
      book_(max_levels_per_side),
      buffer_(make_event_storage(buffer_events)),
      buffer_cap_(buffer_events) {}

void BookSync::reset() noexcept {
  book_.clear();
  buffered_ = 0;
  buffer_overflowed_ = false;
  state_ = SyncState::awaiting_snapshot;
  pending_ = Pending::none;
  remaining_ = 0;
}

BookSync::Verdict BookSync::judge(const BookBatch& b) const noexcept {
  if (b.seq <= last_seq_) return Verdict::stale;        // everything already in the book
  if (b.first_seq > last_seq_ + 1) return Verdict::gap;  // something between was never seen
  return Verdict::apply;
}

bool BookSync::buffer_push(const Event& e) noexcept {
  if (buffered_ == buffer_cap_) [[unlikely]] {
    buffered_ = 0;
    buffer_overflowed_ = true;
    return false;
  }
  buffer_[buffered_++] = e;
  return true;
}

Errc BookSync::apply_level(const Event& e, std::uint64_t first_seq) noexcept {
  // A change already covered by the book (first message after a snapshot) is skipped.
  if (first_seq + e.h.aux <= last_seq_) return Errc::ok;
  return book_.apply(e.level.side, e.level.price, e.level.qty);
}

SyncResult BookSync::lose_sync(Errc why, bool is_gap) noexcept {
  const bool was_synced = state_ == SyncState::synced;
  state_ = SyncState::awaiting_snapshot;
  book_.clear();
  buffered_ = 0;
  if (is_gap) ++gaps_;
  if (was_synced || is_gap) ++resyncs_;
  return SyncResult{false, true, why};
}

SyncResult BookSync::on_event(const Event& e) noexcept {
  if (e.h.instrument != instrument_ || e.h.venue != venue_) return {};
  if (e.h.type == EventType::book_batch) {
    SyncResult r{};
    if (remaining_ != 0) [[unlikely]] {
      // The previous message ended early: its book change is incomplete.
      pending_ = Pending::none;
      remaining_ = 0;
      r = lose_sync(Errc::bad_format, false);
    }
    const BookBatch& b = e.batch;
    cur_first_ = b.first_seq;
    cur_seq_ = b.seq;
    remaining_ = b.level_count;
    apply_error_ = Errc::ok;
    if (b.kind == BookBatchKind::snapshot) {
      if (e.h.aux != 0) {  // partial top-N snapshot: not a full book
        pending_ = Pending::drop;
      } else if (state_ == SyncState::synced && b.seq <= last_seq_) {
        // A snapshot the book is already past (a repeated line, overlapping captures): keep the newer book.
        ++duplicates_;
        pending_ = Pending::drop;
      } else {
        pending_ = Pending::snapshot;
        book_.clear();
      }
    } else if (b.seq < b.first_seq) [[unlikely]] {
      pending_ = Pending::drop;
      r = lose_sync(Errc::out_of_range, false);
    } else if (state_ != SyncState::synced) {
      pending_ = Pending::buffer;
      if (!buffer_push(e)) r = SyncResult{false, true, Errc::capacity};
    } else {
      switch (judge(b)) {
        case Verdict::stale:
          ++stale_dropped_;
          // After a delta has been applied, an older one is data seen twice; before, it is only older than
          // the snapshot (the stream runs ahead of the REST body), which is normal.
          if (delta_applied_) ++duplicates_;
          pending_ = Pending::drop;
          break;
        case Verdict::gap:
          r = lose_sync(Errc::sequence_gap, true);
          pending_ = Pending::buffer;  // the newest data: keep it for the next snapshot
          (void)buffer_push(e);
          break;
        case Verdict::apply:
          pending_ = Pending::apply;
          break;
      }
    }
    if (remaining_ == 0) {
      const SyncResult f = finish_batch();
      if (f.need_snapshot) return f;
      if (!r.need_snapshot) r = f;
    }
    return r;
  }
  if (e.h.type != EventType::book_level || remaining_ == 0) return {};
  switch (pending_) {
    case Pending::snapshot:
      if (apply_error_ == Errc::ok) apply_error_ = book_.apply(e.level.side, e.level.price, e.level.qty);
      break;
    case Pending::apply:
      if (apply_error_ == Errc::ok) apply_error_ = apply_level(e, cur_first_);
      break;
    case Pending::buffer:
      if (!buffer_push(e)) {
        --remaining_;
        if (remaining_ == 0) pending_ = Pending::none;
        return SyncResult{false, true, Errc::capacity};
      }
      break;
    default:
      break;
  }
  if (--remaining_ == 0) return finish_batch();
  return {};
}

SyncResult BookSync::finish_batch() noexcept {
  const Pending p = pending_;
  pending_ = Pending::none;
  if (p == Pending::snapshot) return finish_snapshot();
  if (p != Pending::apply) return {};
  if (apply_error_ != Errc::ok) return lose_sync(apply_error_, false);
  last_seq_ = cur_seq_;
  delta_applied_ = true;
  if (book_.crossed()) return lose_sync(Errc::crossed_book, false);
  return SyncResult{true, false, Errc::ok};
}

SyncResult BookSync::finish_snapshot() noexcept {
  if (apply_error_ != Errc::ok) {
    book_.clear();
    state_ = SyncState::awaiting_snapshot;
    return SyncResult{false, true, apply_error_};
  }
  ++snapshots_;
  last_seq_ = cur_seq_;
  delta_applied_ = false;
  if (buffer_overflowed_) {
    // Diffs were lost while waiting; this snapshot may predate them, so it cannot be trusted to join up.
    buffer_overflowed_ = false;
    book_.clear();
    state_ = SyncState::awaiting_snapshot;
    return SyncResult{false, true, Errc::capacity};
  }
  // Replay buffered diffs on top of the snapshot under the same rule as live ones.
  std::size_t i = 0;
  while (i < buffered_) {
    const Event& h = buffer_[i];
    const std::uint32_t n = h.batch.level_count;
    if (i + 1 + n > buffered_) break;  // a message cut short by overflow handling: nothing after it
    const Verdict v = judge(h.batch);
    if (v == Verdict::gap) {
      // The snapshot is older than the first diff we kept: ask for a newer one, keep the diffs.
      ++gaps_;
      ++resyncs_;
      std::memmove(static_cast<void*>(buffer_.get()), buffer_.get() + i, (buffered_ - i) * sizeof(Event));
      buffered_ -= i;
      book_.clear();
      state_ = SyncState::awaiting_snapshot;
      return SyncResult{false, true, Errc::sequence_gap};
    }
    if (v == Verdict::apply) {
      for (std::uint32_t k = 1; k <= n; ++k) {
        const Errc err = apply_level(buffer_[i + k], h.batch.first_seq);
        if (err != Errc::ok) {
          buffered_ = 0;
          book_.clear();
          state_ = SyncState::awaiting_snapshot;
          return SyncResult{false, true, err};
        }
      }
      last_seq_ = h.batch.seq;
      delta_applied_ = true;
    } else if (delta_applied_) {
      ++duplicates_;  // buffered twice
    }
    i += 1 + n;
  }
  buffered_ = 0;
  if (book_.crossed()) {
    book_.clear();
    state_ = SyncState::awaiting_snapshot;
    ++resyncs_;
    return SyncResult{false, true, Errc::crossed_book};
  }
  state_ = SyncState::synced;
  return SyncResult{true, false, Errc::ok};
}

// ---- check ----------------------------------------------------------------------------------------

namespace {

struct TimedFrame {
  std::int64_t recv_ns;
  std::size_t file;
  CapturedFrame frame;
};

// Reads every file and merges their frames by receive time (stable: ties keep file order).
std::vector<TimedFrame> merged_frames(std::vector<std::unique_ptr<CaptureReader>>& readers,
                                      const std::vector<std::string>& files, const CaptureReadOptions& options) {
  std::vector<TimedFrame> all;
  for (std::size_t f = 0; f < files.size(); ++f) {
    readers.push_back(std::make_unique<CaptureReader>(files[f], options));
    CapturedFrame fr;
    while (readers.back()->next(fr)) all.push_back(TimedFrame{fr.recv_ns, f, fr});
  }
  std::stable_sort(all.begin(), all.end(), [](const TimedFrame& a, const TimedFrame& b) { return a.recv_ns < b.recv_ns; });
  return all;
}

std::string_view url_symbol(std::string_view url) {
  const std::size_t p = url.find("symbol=");
  if (p == std::string_view::npos) return {};
  std::string_view s = url.substr(p + 7);
  return s.substr(0, s.find('&'));
}

}  // namespace

BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt) {
  if (venue != Venue::kucoin_spot && venue != Venue::kucoin_futures)
    throw Error("kucoin::check: venue must be kucoin-spot or kucoin-futures");
  BookCheckResult res;
  auto note = [&](std::string s) {
    if (res.notes.size() < opt.max_notes) res.notes.push_back(std::move(s));
  };
  std::vector<std::unique_ptr<CaptureReader>> readers;
  const auto frames = merged_frames(readers, files, CaptureReadOptions{.strict = opt.strict});
  res.bad_lines = bad_lines(readers);

  InstrumentRegistry registry(4096);
  if (!opt.exchange_info.empty()) registry.set_catalogue(opt.exchange_info);  // the venue's tick and lot per symbol
  Decoder decoder(venue, registry, /*auto_register=*/true);
  EventBuffer out(1 << 16);
  struct PerSymbol {
    std::unique_ptr<BookSync> sync;
    std::deque<Bbo> pending;  // tickers waiting for the book to reach their sequence
    std::uint64_t checked{0}, mismatched{0};
    bool saw_snapshot{false};
  };
  std::map<InstrumentId, PerSymbol> books;
  auto book_for = [&](InstrumentId id) -> PerSymbol& {
    auto& p = books[id];
    if (!p.sync) p.sync = std::make_unique<BookSync>(venue, id);
    return p;
  };
  auto compare = [&](PerSymbol& ps, const Bbo& q, InstrumentId id) {
    const L2Book& book = ps.sync->book();
    const Level* bid = book.best_bid();
    const Level* ask = book.best_ask();
    const bool same = bid && ask && bid->price == q.bid_price && bid->qty == q.bid_qty && ask->price == q.ask_price &&
                      ask->qty == q.ask_qty;
    ++res.checked;
    ++ps.checked;
    if (!same) {
      ++res.mismatched;
      ++ps.mismatched;
      note(std::string(registry.get(id).symbol.view()) + ": ticker at sequence " + std::to_string(q.seq) +
           " differs from the book (bid " + q.bid_price.to_string() + " x " + q.bid_qty.to_string() + ", ask " +
           q.ask_price.to_string() + " x " + q.ask_qty.to_string() + "; book " +
           (bid ? bid->price.to_string() + " x " + bid->qty.to_string() : std::string("none")) + " / " +
           (ask ? ask->price.to_string() + " x " + ask->qty.to_string() : std::string("none")) + ")");
    }
  };
  // Compares queued tickers the book has reached; a ticker the synced book passed without stopping at
  // its sequence (or that predates sync) cannot be compared and is dropped.
  auto drain = [&](PerSymbol& ps, InstrumentId id) {
    if (ps.sync->state() != SyncState::synced) return;
    while (!ps.pending.empty() && ps.pending.front().seq <= ps.sync->last_seq()) {
      if (ps.pending.front().seq == ps.sync->last_seq()) compare(ps, ps.pending.front(), id);
      ps.pending.pop_front();
    }
  };

  for (const auto& tf : frames) {
    const CapturedFrame& fr = tf.frame;
    if (fr.kind == FrameKind::ws_sent || fr.kind == FrameKind::connect) continue;
    ++res.frames;
    out.clear();
    DecodeResult r;
    if (fr.kind == FrameKind::rest_body) {
      if (fr.url.find("level2") == std::string_view::npos) {
        ++res.skipped;
        continue;
      }
      r = decoder.decode_snapshot(fr.payload, fr.padded_capacity, url_symbol(fr.url), 0, out);
    } else {
      r = decoder.decode(fr.payload, fr.padded_capacity, 0, out);
    }
    if (!r.ok()) {
      ++res.errors;
      note("line " + std::to_string(fr.line_no) + ": decode failed: " + std::string(to_string(r.error)) + " (" +
           std::string(to_string(r.action)) + ")");
      continue;
    }
    if (r.kind != MessageKind::market_data) {
      ++res.skipped;
      continue;
    }
    bool used = false;
    for (const Event& e : out) {
      if (e.h.type == EventType::book_batch || e.h.type == EventType::book_level) {
        if (e.h.type == EventType::book_batch && e.batch.kind == BookBatchKind::snapshot && e.h.aux != 0) continue;
        PerSymbol& ps = book_for(e.h.instrument);
        used = true;
        if (e.h.type == EventType::book_batch && e.batch.kind == BookBatchKind::snapshot) ps.saw_snapshot = true;
        const std::uint64_t gaps_before = ps.sync->gaps();
        const std::uint64_t resyncs_before = ps.sync->resyncs();
        const std::uint64_t duplicates_before = ps.sync->duplicates();
        const SyncResult s = ps.sync->on_event(e);
        res.duplicates += ps.sync->duplicates() - duplicates_before;
        res.gaps += ps.sync->gaps() - gaps_before;
        res.resyncs += ps.sync->resyncs() - resyncs_before;
        if (s.need_snapshot)
          note(std::string(registry.get(e.h.instrument).symbol.view()) + ": resync needed (" +
               std::string(to_string(s.error)) + ") at line " + std::to_string(fr.line_no));
        if (s.book_changed) drain(ps, e.h.instrument);
      } else if (e.h.type == EventType::bbo && e.bbo.seq != 0) {
        PerSymbol& ps = book_for(e.h.instrument);
        used = true;
        ps.pending.push_back(e.bbo);
        drain(ps, e.h.instrument);
      }
    }
    if (!used) ++res.skipped;
  }
  if (decoder.rounded_levels())
    note("quantities rounded up to 10 decimals: " + std::to_string(decoder.rounded_levels()));
  for (auto& [id, ps] : books) {
    const std::string sym(registry.get(id).symbol.view());
    if (!ps.saw_snapshot) {
      note(sym + ": no level-2 snapshot in the files; book never synced");
      continue;
    }
    if (const std::string g = grid_check(opt, registry, id, ps.sync->book(), res); !g.empty()) note(sym + ":" + g);
    if (opt.verbose)
      note(sym + ": " + (ps.sync->state() == SyncState::synced ? "synced" : "unsynced") + " at sequence " +
           std::to_string(ps.sync->last_seq()) + ", checked " + std::to_string(ps.checked) + ", mismatched " +
           std::to_string(ps.mismatched));
  }
  res.check_kind = "ticker best bid/ask price and size == our book at the same sequence";
  return res;
}

}  // namespace enigma::feed::kucoin
