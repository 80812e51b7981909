#include "feed/venues/binance.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <set>

#include "core/error.hpp"
#include "feed/capture_reader.hpp"
#include "feed/venues/json_fields.hpp"
#include "feed/venues/json_scan.hpp"

namespace enigma::feed::binance {

namespace {

InstrumentKind binance_kind(Venue venue, std::string_view) noexcept {
  return venue == Venue::binance_spot ? InstrumentKind::spot
         : venue == Venue::binance_coinm ? InstrumentKind::inverse_perpetual
                                         : InstrumentKind::linear_perpetual;
}

namespace od = simdjson::ondemand;
using json::get_fixed;
using json::get_text;
using json::get_u64;
using json::key_of;

// Presence bits of the scalar fields collected while walking a message (fields may come in any order).
enum : std::uint32_t {
  kE = 1u << 0, kT = 1u << 1, kU = 1u << 2, ku = 1u << 3, kpu = 1u << 4, kt = 1u << 5, kAggId = 1u << 6,
  kLastUpdateId = 1u << 7, km = 1u << 8, kp = 1u << 9, kq = 1u << 10, kBidPx = 1u << 11, kBidQty = 1u << 12,
  kAskPx = 1u << 13, kAskQty = 1u << 14, kIndex = 1u << 15, kRate = 1u << 16, kKline = 1u << 17,
  kResult = 1u << 18, kError = 1u << 19,
};

struct Fields {
  std::uint32_t has{0};
  std::string_view e;  // event type ("depthUpdate", ...); empty for spot bookTicker and REST bodies
  std::string_view s;  // symbol
  std::string_view stream;  // the combined-stream envelope's stream name ("btcusdt@depth@0ms")
  std::uint64_t E{0}, T{0}, U{0}, u{0}, pu{0}, t{0}, agg_id{0}, last_update_id{0};
  bool m{false};
  Price p{}, bid_px{}, ask_px{}, index{};
  Qty q{}, bid_qty{}, ask_qty{};
  Rate r{};
  Candle candle{};
  std::uint64_t kline_start{0};
  std::uint32_t interval_s{0};
  Event* first{nullptr};  // first event appended for this frame (the batch header for book messages)
  std::uint32_t levels{0};
};

// "1m" -> 60 ... "1M" is taken as 30 days (Binance months are calendar months; the start time is exact).
std::uint32_t interval_seconds(std::string_view s) noexcept {
  if (s.size() < 2) return 0;
  std::uint32_t n = 0;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (static_cast<unsigned>(s[i] - '0') > 9u || n > 100000) return 0;
    n = n * 10 + static_cast<unsigned>(s[i] - '0');
  }
  switch (s.back()) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    case 'w': return n * 7 * 86400;
    case 'M': return n * 30 * 86400;
    default: return 0;
  }
}

// Appends one BookLevel per [price, qty] pair of `v` (a JSON array), creating the batch header first.
ENIGMA_HOT Errc parse_levels(od::value v, Side side, EventBuffer& out, Fields& f) noexcept {
  od::array arr;
  if (v.get_array().get(arr)) [[unlikely]] return Errc::wrong_type;
  if (f.first == nullptr) {
    f.first = out.push();
    if (f.first == nullptr) [[unlikely]] return Errc::capacity;
    f.first->h.type = EventType::book_batch;
  }
  for (auto elem : arr) {
    od::array pair;
    if (elem.get_array().get(pair)) [[unlikely]] return Errc::wrong_type;
    Price px{};
    Qty qty{};
    int i = 0;
    for (auto x : pair) {
      od::value xv;
      if (std::move(x).get(xv)) [[unlikely]] return Errc::bad_format;
      Errc e = Errc::ok;
      if (i == 0) e = get_fixed(xv, px);
      else if (i == 1) e = get_fixed(xv, qty);
      if (e != Errc::ok) [[unlikely]] return e;
      ++i;
    }
    if (i < 2) [[unlikely]] return Errc::missing_field;
    Event* ev = out.push();
    if (ev == nullptr) [[unlikely]] return Errc::capacity;
    ev->h.type = EventType::book_level;
    ev->level = BookLevel{px, qty, side};
    ++f.levels;
  }
  return Errc::ok;
}

Errc walk_kline(od::value v, Fields& f) noexcept {
  od::object obj;
  if (v.get_object().get(obj)) return Errc::wrong_type;
  std::uint32_t seen = 0;
  for (auto fr : obj) {
    od::field fld;
    if (std::move(fr).get(fld)) return Errc::bad_format;
    const std::string_view k = key_of(fld);
    if (k.size() != 1) continue;
    Errc e = Errc::ok;
    switch (k[0]) {
      case 't': e = get_u64(fld.value(), f.kline_start); seen |= 1; break;
      case 'i': {
        std::string_view s;
        e = get_text(fld.value(), s);
        f.interval_s = interval_seconds(s);
        if (e == Errc::ok && f.interval_s == 0) e = Errc::bad_format;
        seen |= 2;
        break;
      }
      case 'o': e = get_fixed(fld.value(), f.candle.open); seen |= 4; break;
      case 'h': e = get_fixed(fld.value(), f.candle.high); seen |= 8; break;
      case 'l': e = get_fixed(fld.value(), f.candle.low); seen |= 16; break;
      case 'c': e = get_fixed(fld.value(), f.candle.close); seen |= 32; break;
      case 'v': e = get_fixed(fld.value(), f.candle.volume); seen |= 64; break;
      default: break;
    }
    if (e != Errc::ok) return e;
  }
  return seen == 127 ? Errc::ok : Errc::missing_field;
}

// Walks one object (the envelope or the payload), collecting scalars and appending book levels.
ENIGMA_HOT Errc walk(od::object obj, Fields& f, EventBuffer& out, bool top) noexcept {
  for (auto fr : obj) {
    od::field fld;
    if (std::move(fr).get(fld)) [[unlikely]] return Errc::bad_format;
    const std::string_view k = key_of(fld);
    od::value v = fld.value();
    Errc e = Errc::ok;
    if (k.size() == 1) {
      switch (k[0]) {
        case 'e': e = get_text(v, f.e); break;
        case 'E': e = get_u64(v, f.E); f.has |= kE; break;
        case 'T': e = get_u64(v, f.T); f.has |= kT; break;
        case 's': e = get_text(v, f.s); break;
        case 'U': e = get_u64(v, f.U); f.has |= kU; break;
        case 'u': e = get_u64(v, f.u); f.has |= ku; break;
        case 't': e = get_u64(v, f.t); f.has |= kt; break;
        case 'p': e = get_fixed(v, f.p); f.has |= kp; break;
        case 'q': e = get_fixed(v, f.q); f.has |= kq; break;
        case 'B': e = get_fixed(v, f.bid_qty); f.has |= kBidQty; break;
        case 'A': e = get_fixed(v, f.ask_qty); f.has |= kAskQty; break;
        case 'i': e = get_fixed(v, f.index); f.has |= kIndex; break;
        case 'r': e = get_fixed(v, f.r); f.has |= kRate; break;
        case 'k': e = walk_kline(v, f); f.has |= kKline; break;
        case 'm': e = v.get_bool().get(f.m) ? Errc::wrong_type : Errc::ok; f.has |= km; break;
        case 'b':
        case 'a': {
          // Price strings in bookTicker (the common case, tried first: a miss consumes nothing), level
          // arrays in depthUpdate, and "a" is the id in aggTrade.
          const bool bid = k[0] == 'b';
          e = bid ? get_fixed(v, f.bid_px) : get_fixed(v, f.ask_px);
          if (e != Errc::wrong_type) {
            f.has |= bid ? kBidPx : kAskPx;
            break;
          }
          od::json_type t;
          if (v.type().get(t)) return Errc::bad_format;
          if (t == od::json_type::array) {
            e = parse_levels(v, bid ? Side::buy : Side::sell, out, f);
          } else if (!bid && t == od::json_type::number) {
            e = get_u64(v, f.agg_id);
            f.has |= kAggId;
          }
          break;
        }
        default: break;
      }
    } else if (json::is(k, "pu")) {
      e = get_u64(v, f.pu);
      f.has |= kpu;
    } else if (top && json::is(k, "data")) {
      od::object inner;
      if (v.get_object().get(inner)) return Errc::wrong_type;
      e = walk(inner, f, out, false);
    } else if (top && json::is(k, "stream")) {
      e = get_text(v, f.stream);  // looked at only when the frame fails (is it a depth stream's?)
    } else if (json::is(k, "bids") || json::is(k, "asks")) {
      e = parse_levels(v, k[0] == 'b' ? Side::buy : Side::sell, out, f);
    } else if (json::is(k, "lastUpdateId")) {
      e = get_u64(v, f.last_update_id);
      f.has |= kLastUpdateId;
    } else if (top && json::is(k, "result")) {
      f.has |= kResult;
    } else if (top && (json::is(k, "error") || json::is(k, "code"))) {
      f.has |= kError;
    }
    if (e != Errc::ok) [[unlikely]] return e;
  }
  return Errc::ok;
}

// --- the scanner: Binance's market-data frames in their usual compact form, read in one pass ---
//
// The same fields as walk() (above), read by json::scan instead of simdjson. It gives up (false) at anything
// walk() would treat differently or that is outside the scanner's JSON subset: a kline's object, a value of
// an unexpected type, a price that does not parse, a full buffer, whitespace. decode_impl then truncates
// what it appended and decodes the frame with walk(), so the scanner only ever takes frames whose events
// walk() gives identically (fuzz_binance_decode decodes every input both ways and compares).
namespace scan = json::scan;

ENIGMA_ALWAYS_INLINE bool scan_fixed(const char*& p, const char* end, auto& out) noexcept {
  std::string_view s;
  return scan::string(p, end, s) && json::parse_fixed_padded(s, out) == Errc::ok;
}

// One level, `["61800.20","2.507"]`, in 32 bytes or less (every level of the bundled captures): its four
// quotes come from one 32-byte compare instead of two string scans and four separators checked one by one.
// false (p unmoved): not that shape, or a number that does not parse; the caller then reads it piece by piece.
ENIGMA_ALWAYS_INLINE bool scan_level_pair(const char*& p, const char* end, Price& px, Qty& qty) noexcept {
#if defined(__AVX2__)
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));  // padded input: may pass end
  auto quotes = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, _mm256_set1_epi8('"'))));
  if ((quotes & 3u) != 2u || *p != '[') return false;  // '[' then the price's opening quote
  quotes &= quotes - 1;
  const unsigned q1 = static_cast<unsigned>(__builtin_ctz(quotes | 0x80000000u));  // price's closing quote
  quotes &= quotes - 1;
  const unsigned q2 = static_cast<unsigned>(__builtin_ctz(quotes | 0x80000000u));  // qty's opening quote
  quotes &= quotes - 1;
  const unsigned q3 = static_cast<unsigned>(__builtin_ctz(quotes | 0x80000000u));  // qty's closing quote
  if (q3 >= 31 || q2 != q1 + 2 || p[q1 + 1] != ',' || p[q3 + 1] != ']' ||
      static_cast<std::ptrdiff_t>(q3) + 1 >= end - p) [[unlikely]]
    return false;
  const Result<Price> rp = Price::parse_padded({p + 2, q1 - 2});
  const Result<Qty> rq = Qty::parse_padded({p + q2 + 1, q3 - q2 - 1});
  if (rp.error != Errc::ok || rq.error != Errc::ok) [[unlikely]] return false;
  px = rp.value;
  qty = rq.value;
  p += q3 + 2;
  return true;
#else
  (void)p, (void)end, (void)px, (void)qty;
  return false;
#endif
}

ENIGMA_HOT bool scan_levels(const char*& p, const char* end, Side side, EventBuffer& out, Fields& f) noexcept {
  if (!scan::expect(p, end, '[')) return false;
  if (f.first == nullptr) {
    f.first = out.push();
    if (f.first == nullptr) [[unlikely]] return false;
    f.first->h.type = EventType::book_batch;
  }
  if (p < end && *p == ']') return ++p, true;
  for (;;) {
    Price px{};
    Qty qty{};
    if (!scan_level_pair(p, end, px, qty) &&
        (!scan::expect(p, end, '[') || !scan_fixed(p, end, px) || !scan::expect(p, end, ',') ||
         !scan_fixed(p, end, qty) || !scan::expect(p, end, ']'))) [[unlikely]]
      return false;
    Event* ev = out.push();
    if (ev == nullptr) [[unlikely]] return false;
    ev->h.type = EventType::book_level;
    ev->level = BookLevel{px, qty, side};
    ++f.levels;
    bool more = false;
    if (!scan::next(p, end, ']', more)) [[unlikely]] return false;
    if (!more) return true;
  }
}

ENIGMA_HOT bool scan_object(const char*& p, const char* end, Fields& f, EventBuffer& out, bool top) noexcept {
  if (!scan::expect(p, end, '{')) return false;
  if (p < end && *p == '}') return ++p, true;
  for (;;) {
    std::string_view k;
    if (!scan::key(p, end, k) || p >= end) [[unlikely]] return false;
    bool ok = true;
    if (k.size() == 1) {
      switch (k[0]) {
        case 'e': ok = scan::string(p, end, f.e); break;
        case 'E': ok = scan::u64(p, end, f.E); f.has |= kE; break;
        case 'T': ok = scan::u64(p, end, f.T); f.has |= kT; break;
        case 's': ok = scan::string(p, end, f.s); break;
        case 'U': ok = scan::u64(p, end, f.U); f.has |= kU; break;
        case 'u': ok = scan::u64(p, end, f.u); f.has |= ku; break;
        case 't': ok = scan::u64(p, end, f.t); f.has |= kt; break;
        case 'p': ok = scan_fixed(p, end, f.p); f.has |= kp; break;
        case 'q': ok = scan_fixed(p, end, f.q); f.has |= kq; break;
        case 'B': ok = scan_fixed(p, end, f.bid_qty); f.has |= kBidQty; break;
        case 'A': ok = scan_fixed(p, end, f.ask_qty); f.has |= kAskQty; break;
        case 'i': ok = scan_fixed(p, end, f.index); f.has |= kIndex; break;
        case 'r': ok = scan_fixed(p, end, f.r); f.has |= kRate; break;
        case 'm': ok = scan::boolean(p, end, f.m); f.has |= km; break;
        case 'k': return false;  // a kline's object: walk() reads it
        case 'b':
        case 'a': {
          const bool bid = k[0] == 'b';
          if (*p == '"') {
            ok = bid ? scan_fixed(p, end, f.bid_px) : scan_fixed(p, end, f.ask_px);
            f.has |= bid ? kBidPx : kAskPx;
          } else if (*p == '[') {
            ok = scan_levels(p, end, bid ? Side::buy : Side::sell, out, f);
          } else {
            ok = !bid && scan::u64(p, end, f.agg_id);  // aggTrade's id
            f.has |= kAggId;
          }
          break;
        }
        default: ok = scan::skip_scalar(p, end); break;
      }
    } else if (json::is(k, "pu")) {
      ok = scan::u64(p, end, f.pu);
      f.has |= kpu;
    } else if (top && json::is(k, "data")) {
      ok = scan_object(p, end, f, out, false);
    } else if (top && json::is(k, "stream")) {
      ok = scan::string(p, end, f.stream);
    } else if (json::is(k, "bids") || json::is(k, "asks")) {
      ok = scan_levels(p, end, k[0] == 'b' ? Side::buy : Side::sell, out, f);
    } else if (json::is(k, "lastUpdateId")) {
      ok = scan::u64(p, end, f.last_update_id);
      f.has |= kLastUpdateId;
    } else {
      // Anything else walk() ignores ("result", "error" and "code" are left to it: they need their flags
      // and may hold objects).
      ok = !(top && (json::is(k, "result") || json::is(k, "error") || json::is(k, "code"))) &&
           scan::skip_scalar(p, end);
    }
    bool more = false;
    if (!ok || !scan::next(p, end, '}', more)) [[unlikely]] return false;
    if (!more) return true;
  }
}

// The whole frame: one object, then nothing but whitespace.
ENIGMA_HOT bool scan_frame(std::string_view frame, Fields& f, EventBuffer& out) noexcept {
  const char* p = frame.data();
  const char* const end = p + frame.size();
  return scan_object(p, end, f, out, true) && scan::only_space(p, end);
}

constexpr bool has_all(std::uint32_t has, std::uint32_t want) noexcept { return (has & want) == want; }

void stamp(Event* first, std::size_t n, std::uint64_t tsc, std::int64_t venue_ns, InstrumentId id, Venue venue) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    EventHeader& h = first[i].h;
    h.recv_tsc = tsc;
    h.venue_time_ns = venue_ns;
    h.instrument = id;
    h.venue = venue;
    h.aux = 0;
  }
}

DecodeResult failure(Errc e, ErrorAction a) noexcept { return DecodeResult{e, a, MessageKind::market_data, 0}; }

}  // namespace

Decoder::Decoder(Venue venue, InstrumentRegistry& registry, bool auto_register)
    : symbols_(registry, venue, auto_register, &binance_kind), venue_(venue), futures_(is_futures(venue)) {
  if (venue != Venue::binance_usdm && venue != Venue::binance_coinm && venue != Venue::binance_spot)
    throw Error("binance::Decoder: venue '" + std::string(to_string(venue)) + "' is not a Binance venue");
  // Size the parser's buffers once so that no frame up to this size allocates (REST snapshots of 1000
  // levels per side are ~60 KB; 4 MB leaves room for limit=5000 spot snapshots).
  if (parser_.allocate(4u << 20)) throw Error("binance::Decoder: cannot allocate simdjson parser buffers");
}

DecodeResult Decoder::decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                             EventBuffer& out) noexcept {
  const std::size_t first = out.size();
  return reject_impossible_values(decode_impl(frame, padded_capacity, recv_tsc, kInvalidInstrument, out), out, first);
}

DecodeResult Decoder::decode_snapshot(std::string_view body, std::size_t padded_capacity, InstrumentId instrument,
                                      std::uint64_t recv_tsc, EventBuffer& out) noexcept {
  const std::size_t first = out.size();
  return reject_impossible_values(decode_impl(body, padded_capacity, recv_tsc, instrument, out), out, first);
}

ENIGMA_HOT DecodeResult Decoder::decode_impl(std::string_view frame, std::size_t padded_capacity,
                                             std::uint64_t recv_tsc, InstrumentId forced, EventBuffer& out) noexcept {
  const std::size_t start = out.size();
  if (padded_capacity < frame.size() + simdjson::SIMDJSON_PADDING) [[unlikely]]
    return failure(Errc::out_of_range, ErrorAction::skip);
  Fields f;
  Errc err = Errc::ok;
  if (scan_first_ && scan_frame(frame, f, out)) [[likely]] {
    ++scanned_frames_;
  } else {
    out.truncate(start);
    f = Fields{};
    od::document doc;
    if (parser_.iterate(simdjson::padded_string_view(frame.data(), frame.size(), padded_capacity)).get(doc))
      [[unlikely]] return failure(Errc::bad_format, ErrorAction::skip);
    od::object obj;
    if (doc.get_object().get(obj)) [[unlikely]] return failure(Errc::wrong_type, ErrorAction::skip);
    err = walk(obj, f, out, true);
  }
  if (err != Errc::ok) [[unlikely]] {
    const bool book_msg = json::is(f.e, "depthUpdate") || (f.has & kLastUpdateId) != 0 ||
                          f.stream.find("@depth") != std::string_view::npos;
    out.truncate(start);
    return failure(err, book_msg || err == Errc::capacity ? ErrorAction::resync : ErrorAction::skip);
  }

  // --- book messages: batch header + levels already appended ---
  if (f.has & kLastUpdateId) {
    const InstrumentId id = forced != kInvalidInstrument ? forced : snapshot_instrument_;
    if (id == kInvalidInstrument || f.first == nullptr) {
      out.truncate(start);
      return failure(id == kInvalidInstrument ? Errc::not_found : Errc::missing_field, ErrorAction::skip);
    }
    f.first->batch = BookBatch{f.last_update_id, f.last_update_id, 0, f.levels, 0, BookBatchKind::snapshot, false, false};
    stamp(f.first, 1 + f.levels, recv_tsc, (f.has & kE) ? json::ms_to_ns(f.E) : 0, id, venue_);
    return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, 1 + f.levels};
  }
  if (json::is(f.e, "depthUpdate")) {
    const std::uint32_t want = kE | kU | ku | (futures_ ? kpu : 0u);
    if (!has_all(f.has, want) || f.first == nullptr || f.s.empty()) [[unlikely]] {
      out.truncate(start);
      return failure(Errc::missing_field, ErrorAction::resync);
    }
    const InstrumentId id = symbols_.find(f.s);
    if (id == kInvalidInstrument) {
      out.truncate(start);
      return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
    }
    f.first->batch = BookBatch{f.u, f.U, f.pu, f.levels, 0, BookBatchKind::delta, futures_, false};
    stamp(f.first, 1 + f.levels, recv_tsc, json::ms_to_ns(f.E), id, venue_);
    return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, 1 + f.levels};
  }

  // --- single-event messages ---
  out.truncate(start);  // a stray level array in a non-book message is not book data
  enum class Kind { bbo, trade, agg_trade, kline, mark, none } kind = Kind::none;
  if (f.e.empty()) {
    if ((f.has & (kBidPx | kAskPx)) && (f.has & ku)) kind = Kind::bbo;  // spot bookTicker carries no "e"
  } else if (json::is(f.e, "bookTicker")) {
    kind = Kind::bbo;
  } else if (json::is(f.e, "trade")) {
    kind = Kind::trade;
  } else if (json::is(f.e, "aggTrade")) {
    kind = Kind::agg_trade;
  } else if (json::is(f.e, "kline")) {
    kind = Kind::kline;
  } else if (json::is(f.e, "markPriceUpdate")) {
    kind = Kind::mark;
  }
  if (kind == Kind::none) {
    if (f.has & kError) return DecodeResult{Errc::unknown_message, ErrorAction::fatal, MessageKind::control, 0};
    if (f.has & kResult) return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::control, 0};
    return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
  }

  std::uint32_t want = 0;
  switch (kind) {
    case Kind::bbo: want = ku | kBidPx | kBidQty | kAskPx | kAskQty; break;
    case Kind::trade: want = kt | kp | kq | km | kT; break;
    case Kind::agg_trade: want = kAggId | kp | kq | km | kT; break;
    case Kind::kline: want = kKline; break;
    case Kind::mark: want = kp | kE; break;
    case Kind::none: break;
  }
  if (!has_all(f.has, want) || f.s.empty()) [[unlikely]] return failure(Errc::missing_field, ErrorAction::skip);
  const InstrumentId id = symbols_.find(f.s);
  if (id == kInvalidInstrument) return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
  Event* ev = out.push();
  if (ev == nullptr) [[unlikely]] return failure(Errc::capacity, ErrorAction::skip);
  std::int64_t venue_ns = 0;
  switch (kind) {
    case Kind::bbo:
      ev->h.type = EventType::bbo;
      ev->bbo = Bbo{f.u, f.bid_px, f.bid_qty, f.ask_px, f.ask_qty};
      venue_ns = (f.has & kE) ? json::ms_to_ns(f.E) : 0;
      break;
    case Kind::trade:
    case Kind::agg_trade:
      ev->h.type = EventType::trade;
      // m = "buyer is the maker", so the taker (aggressor) sold.
      ev->trade = Trade{f.p, f.q, kind == Kind::trade ? f.t : f.agg_id, f.m ? Side::sell : Side::buy};
      venue_ns = json::ms_to_ns(f.T);
      break;
    case Kind::kline:
      ev->h.type = EventType::candle;
      ev->candle = f.candle;
      venue_ns = json::ms_to_ns(f.kline_start);
      break;
    case Kind::mark:
      ev->h.type = EventType::mark;
      ev->mark = MarkFunding{f.p, (f.has & kIndex) ? f.index : Price{}, (f.has & kRate) ? f.r : Rate{},
                             (f.has & kT) ? json::ms_to_ns(f.T) : 0};
      venue_ns = json::ms_to_ns(f.E);
      break;
    case Kind::none: break;
  }
  stamp(ev, 1, recv_tsc, venue_ns, id, venue_);
  if (kind == Kind::kline) ev->h.aux = f.interval_s;
  return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, 1};
}

// ------------------------------------------------------------------------------------------------
// BookSync

BookSync::BookSync(Venue venue, InstrumentId instrument, std::size_t max_levels_per_side, std::size_t buffer_events)
    : book_(max_levels_per_side),
      buf_(make_event_storage(buffer_events)),
      buf_cap_(buffer_events),
      instrument_(instrument),
      futures_(is_futures(venue)) {
  if (buffer_events < 2) throw Error("binance::BookSync: buffer_events must be >= 2");
}

void BookSync::reset() noexcept {
  book_.clear();
  buf_size_ = 0;
  state_ = SyncState::awaiting_snapshot;
  mode_ = Mode::idle;
  remaining_ = 0;
  snapshot_requested_ = false;
  awaiting_first_diff_ = false;
}

bool BookSync::continues_chain(const BookBatch& b) const noexcept {
  return futures_ ? (b.has_prev_seq && b.prev_seq == last_u_) : b.first_seq == last_u_ + 1;
}

// Binance futures: drop u < lastUpdateId; spot: drop u <= lastUpdateId.
bool BookSync::covered_by_snapshot(const BookBatch& b) const noexcept {
  return futures_ ? b.seq < snapshot_id_ : b.seq <= snapshot_id_;
}

// Futures: U <= lastUpdateId <= u; spot: U <= lastUpdateId + 1 <= u.
bool BookSync::straddles_snapshot(const BookBatch& b) const noexcept {
  const std::uint64_t want = futures_ ? snapshot_id_ : snapshot_id_ + 1;
  return b.first_seq <= want && want <= b.seq;
}

SyncResult BookSync::fail(Errc why) noexcept {
  state_ = SyncState::awaiting_snapshot;
  buf_size_ = 0;
  mode_ = remaining_ > 0 ? Mode::dropping : Mode::idle;
  awaiting_first_diff_ = false;
  snapshot_requested_ = true;
  ++stats_.resyncs;
  return SyncResult{false, true, why};
}

void BookSync::buffer(const Event& e) noexcept {
  if (buf_size_ == buf_cap_) [[unlikely]] {
    // Too many diffs while waiting: restart buffering; the snapshot in flight will then be too old to
    // align and a new one is asked for.
    ++stats_.buffer_overflows;
    buf_size_ = 0;
    mode_ = remaining_ > 0 ? Mode::dropping : Mode::idle;
    if (e.h.type == EventType::book_level) return;  // the rest of a batch whose header is gone
    if (mode_ == Mode::dropping && e.h.type == EventType::book_batch) return;
  }
  buf_[buf_size_++] = e;
}

SyncResult BookSync::on_batch(const Event& e) noexcept {
  SyncResult interrupted{};
  if (remaining_ > 0) [[unlikely]] {
    // The previous batch ended early (its levels are missing): the book or buffer holds a partial diff.
    if (mode_ == Mode::applying || mode_ == Mode::applying_snapshot) {
      remaining_ = 0;
      ++stats_.gaps;
      interrupted = fail(Errc::sequence_gap);
    } else if (mode_ == Mode::buffering) {
      buf_size_ = 0;
    }
    remaining_ = 0;
    mode_ = Mode::idle;
  }
  const BookBatch& b = e.batch;
  // Already in the book (the same capture twice, overlapping captures, a repeated line): Binance's rule
  // drops an update with u <= the last applied one, and a snapshot no newer than the book is no use.
  if (state_ == SyncState::synced && !awaiting_first_diff_ && b.seq <= last_u_) {
    ++stats_.duplicates;
    remaining_ = b.level_count;
    mode_ = remaining_ ? Mode::dropping : Mode::idle;
    return interrupted;
  }
  if (b.kind == BookBatchKind::snapshot) {
    book_.clear();
    state_ = SyncState::awaiting_snapshot;
    snapshot_id_ = b.seq;
    remaining_ = b.level_count;
    mode_ = Mode::applying_snapshot;
    if (remaining_ == 0) return finish_snapshot();
    return interrupted;
  }

  if (state_ == SyncState::synced) {
    bool ok;
    if (awaiting_first_diff_) {
      if (covered_by_snapshot(b)) {
        ++stats_.dropped_stale;
        remaining_ = b.level_count;
        mode_ = remaining_ ? Mode::dropping : Mode::idle;
        return interrupted;
      }
      ok = straddles_snapshot(b);
    } else {
      ok = continues_chain(b);
    }
    if (!ok) {
      ++stats_.gaps;
      SyncResult r = fail(Errc::sequence_gap);
      // Keep this diff: it may align with the snapshot fetched for the resync.
      remaining_ = b.level_count;
      mode_ = remaining_ ? Mode::buffering : Mode::idle;
      buffer(e);
      return r;
    }
    awaiting_first_diff_ = false;
    last_u_ = b.seq;
    remaining_ = b.level_count;
    mode_ = Mode::applying;
    if (remaining_ == 0) return finish_batch();
    return interrupted;
  }

  // Awaiting a snapshot: buffer the diff.
  remaining_ = b.level_count;
  mode_ = remaining_ ? Mode::buffering : Mode::idle;
  buffer(e);
  if (!snapshot_requested_) {
    snapshot_requested_ = true;
    return SyncResult{false, true, Errc::ok};
  }
  return interrupted;
}

SyncResult BookSync::finish_batch() noexcept {
  mode_ = Mode::idle;
  if (book_.crossed()) [[unlikely]] {
    ++stats_.crossed;
    return fail(Errc::crossed_book);
  }
  return SyncResult{true, false, Errc::ok};
}

SyncResult BookSync::finish_snapshot() noexcept {
  mode_ = Mode::idle;
  last_u_ = snapshot_id_;
  awaiting_first_diff_ = true;
  state_ = SyncState::synced;
  if (book_.crossed()) [[unlikely]] {
    ++stats_.crossed;
    return fail(Errc::crossed_book);
  }
  // Replay the buffered diffs through the same rules as live ones.
  const std::size_t n = buf_size_;
  std::size_t i = 0;
  while (i < n) {
    const BookBatch& b = buf_[i].batch;
    const std::size_t nlev = b.level_count;
    if (awaiting_first_diff_ && covered_by_snapshot(b)) {
      ++stats_.dropped_stale;
      i += 1 + nlev;
      continue;
    }
    if (!awaiting_first_diff_ && b.seq <= last_u_) {  // buffered twice (see on_batch)
      ++stats_.duplicates;
      i += 1 + nlev;
      continue;
    }
    const bool ok = awaiting_first_diff_ ? straddles_snapshot(b) : continues_chain(b);
    if (!ok) {
      ++stats_.gaps;
      ++stats_.resyncs;
      state_ = SyncState::awaiting_snapshot;
      awaiting_first_diff_ = false;
      snapshot_requested_ = true;
      // Keep the diffs from the break on: a newer snapshot may align with them.
      std::memmove(buf_.get(), buf_.get() + i, (n - i) * sizeof(Event));
      buf_size_ = n - i;
      return SyncResult{false, true, Errc::sequence_gap};
    }
    awaiting_first_diff_ = false;
    last_u_ = b.seq;
    for (std::size_t k = 1; k <= nlev; ++k) {
      const BookLevel& l = buf_[i + k].level;
      const Errc e = book_.apply(l.side, l.price, l.qty);
      if (e != Errc::ok) [[unlikely]] return fail(e);
    }
    if (book_.crossed()) [[unlikely]] {
      ++stats_.crossed;
      return fail(Errc::crossed_book);
    }
    i += 1 + nlev;
  }
  buf_size_ = 0;
  snapshot_requested_ = false;
  return SyncResult{true, false, Errc::ok};
}

SyncResult BookSync::on_event(const Event& e) noexcept {
  if (e.h.instrument != instrument_) return {};
  if (e.h.type == EventType::book_batch) return on_batch(e);
  if (e.h.type != EventType::book_level || remaining_ == 0) return {};
  switch (mode_) {
    case Mode::applying:
    case Mode::applying_snapshot: {
      const Errc err = book_.apply(e.level.side, e.level.price, e.level.qty);
      --remaining_;
      if (err != Errc::ok) [[unlikely]] return fail(err);
      if (remaining_ == 0) return mode_ == Mode::applying_snapshot ? finish_snapshot() : finish_batch();
      return {};
    }
    case Mode::buffering:
      --remaining_;
      buffer(e);
      if (remaining_ == 0 && mode_ == Mode::buffering) mode_ = Mode::idle;
      return {};
    case Mode::dropping:
      if (--remaining_ == 0) mode_ = Mode::idle;
      return {};
    case Mode::idle: return {};
  }
  return {};
}

// ------------------------------------------------------------------------------------------------
// book-check (cold path)

namespace {

struct SymbolState {
  std::unique_ptr<BookSync> sync;
  std::deque<Bbo> pending;  // bookTickers waiting for the diff with their update id
  std::uint64_t checked{0};
  std::uint64_t mismatched{0};
  std::uint64_t snapshots{0};
  std::uint64_t quotes{0};
  std::uint64_t synced_from{0};  // the book's update id when it last (re)synced (snapshot + buffered diffs applied)
  bool was_synced{false};
  UncomparedQuotes uncompared;
};

std::string symbol_from_url(std::string_view url) {
  const std::size_t p = url.find("symbol=");
  if (p == std::string_view::npos) return {};
  std::size_t e = url.find('&', p);
  if (e == std::string_view::npos) e = url.size();
  return std::string(url.substr(p + 7, e - p - 7));
}

void add_note(BookCheckResult& r, const BookCheckOptions& opt, std::string s) {
  if (r.notes.size() < opt.max_notes) r.notes.push_back(std::move(s));
}

std::string describe(const Bbo& q, const L2Book& book) {
  const Level* bb = book.best_bid();
  const Level* ba = book.best_ask();
  std::string s = "u=" + std::to_string(q.seq) + " ticker " + q.bid_price.to_string() + "x" + q.bid_qty.to_string() +
                  " / " + q.ask_price.to_string() + "x" + q.ask_qty.to_string() + " book ";
  s += bb ? bb->price.to_string() + "x" + bb->qty.to_string() : std::string("-");
  s += " / ";
  s += ba ? ba->price.to_string() + "x" + ba->qty.to_string() : std::string("-");
  return s;
}

}  // namespace

BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt) {
  if (venue != Venue::binance_usdm && venue != Venue::binance_coinm && venue != Venue::binance_spot)
    throw Error("binance::check: venue '" + std::string(to_string(venue)) + "' is not a Binance venue");
  BookCheckResult r;
  std::vector<std::unique_ptr<CaptureReader>> readers;
  const std::vector<CapturedFrame> frames = read_merged(files, readers, CaptureReadOptions{.strict = opt.strict});
  r.frames = frames.size();
  r.bad_lines = bad_lines(readers);

  // Symbols each file's stream payloads name, to attribute a REST snapshot whose URL is unknown to the one
  // symbol of its own file (hftbacktest writes a file per symbol); never to another file's symbol.
  std::vector<std::set<std::string>> file_symbols(readers.size());
  for (const CapturedFrame& f : frames) {
    if (f.kind != FrameKind::ws_received || f.source >= file_symbols.size() || file_symbols[f.source].size() > 1) continue;
    const std::size_t p = f.payload.find("\"s\":\"");
    if (p == std::string_view::npos) continue;
    const std::size_t e = f.payload.find('"', p + 5);
    if (e != std::string_view::npos) file_symbols[f.source].emplace(f.payload.substr(p + 5, e - p - 5));
  }

  InstrumentRegistry registry(4096);
  if (!opt.exchange_info.empty()) registry.set_catalogue(opt.exchange_info);  // the venue's tick and lot per symbol
  Decoder decoder(venue, registry, /*auto_register=*/true);
  EventBuffer out(1u << 16);
  std::map<InstrumentId, SymbolState> syms;
  auto state_of = [&](InstrumentId id) -> SymbolState& {
    SymbolState& s = syms[id];
    if (!s.sync) s.sync = std::make_unique<BookSync>(venue, id, 16384, 1u << 16);
    return s;
  };
  auto compare = [&](SymbolState& s, const Bbo& q) {
    const L2Book& book = s.sync->book();
    const Level* bb = book.best_bid();
    const Level* ba = book.best_ask();
    const bool same = bb && ba && bb->price == q.bid_price && bb->qty == q.bid_qty && ba->price == q.ask_price &&
                      ba->qty == q.ask_qty;
    ++s.checked;
    ++r.checked;
    if (!same) {
      ++s.mismatched;
      ++r.mismatched;
      add_note(r, opt, std::string(registry.get(s.sync->instrument()).symbol.view()) + ": mismatch " +
                           describe(q, book));
    }
  };
  // A quote whose id our synced book has passed without standing at it.
  auto passed = [&](SymbolState& s, const Bbo& q) {
    if (q.seq <= s.synced_from) ++s.uncompared.before_sync;
    else ++s.uncompared.inside_diff;
  };
  // After a verified diff: settle the held bookTickers up to its id.
  auto settle = [&](SymbolState& s) {
    const std::uint64_t u = s.sync->last_seq();
    if (!s.was_synced) s.synced_from = u;  // (re)synced by this batch: the snapshot's id, or the first diff's end
    s.was_synced = true;
    while (!s.pending.empty() && s.pending.front().seq <= u) {
      if (s.pending.front().seq == u) compare(s, s.pending.front());
      else passed(s, s.pending.front());
      s.pending.pop_front();
    }
  };

  for (const CapturedFrame& f : frames) {
    out.clear();
    DecodeResult res;
    if (f.kind == FrameKind::rest_body) {
      if (f.payload.find("\"lastUpdateId\"") == std::string_view::npos) {
        ++r.skipped;
        continue;
      }
      std::string sym = symbol_from_url(f.url);
      if (sym.empty() && f.source < file_symbols.size() && file_symbols[f.source].size() == 1) sym = *file_symbols[f.source].begin();
      std::optional<InstrumentId> id = sym.empty() ? std::nullopt : registry.find(venue, sym);
      if (!id && !sym.empty() && Symbol::fits(sym)) {
        InstrumentSpec spec;
        spec.venue = venue;
        spec.symbol = Symbol(sym);
        if (Result<InstrumentId> added = registry.add(spec)) id = added.value;
      }
      if (!id) {
        ++r.skipped;
        add_note(r, opt, "line " + std::to_string(f.line_no) + " of file " + std::to_string(f.source + 1) +
                             ": REST depth snapshot whose URL names no symbol, in a file whose streams carry " +
                             std::to_string(f.source < file_symbols.size() ? file_symbols[f.source].size() : 0) +
                             " symbols: not applied");
        continue;
      }
      res = decoder.decode_snapshot(f.payload, f.padded_capacity, *id, 0, out);
      if (res.ok()) ++state_of(*id).snapshots;
    } else if (f.kind == FrameKind::ws_received) {
      res = decoder.decode(f.payload, f.padded_capacity, 0, out);
    } else {
      ++r.skipped;
      continue;
    }
    if (!res.ok()) {
      ++r.errors;
      add_note(r, opt, "line " + std::to_string(f.line_no) + ": " + std::string(to_string(res.error)) + " (" +
                           std::string(to_string(res.action)) + ")");
      continue;
    }
    if (res.kind != MessageKind::market_data) {
      ++r.skipped;
      continue;
    }
    for (const Event& e : out) {
      if (e.h.type == EventType::book_batch || e.h.type == EventType::book_level) {
        SymbolState& s = state_of(e.h.instrument);
        const SyncResult sr = s.sync->on_event(e);
        if (!s.sync->synced()) s.was_synced = false;
        if (sr.book_changed) settle(s);
      } else if (e.h.type == EventType::bbo) {
        SymbolState& s = state_of(e.h.instrument);
        const BookSync& sync = *s.sync;
        ++s.quotes;
        ++r.quotes;
        if (sync.synced() && e.bbo.seq == sync.last_seq()) compare(s, e.bbo);
        else if (sync.synced() && e.bbo.seq < sync.last_seq()) passed(s, e.bbo);
        else s.pending.push_back(e.bbo);
      }
    }
  }

  for (auto& [id, s] : syms) {
    s.uncompared.unreached += s.pending.size();  // the data ended (or the book never synced) before their id
    r.uncompared.before_sync += s.uncompared.before_sync;
    r.uncompared.inside_diff += s.uncompared.inside_diff;
    r.uncompared.unreached += s.uncompared.unreached;
    const BookSyncStats& st = s.sync->stats();
    r.gaps += st.gaps;
    r.resyncs += st.resyncs;
    r.duplicates += st.duplicates;
    std::string line = std::string(registry.get(id).symbol.view()) + ": " +
                       (s.sync->synced() ? "synced" : "not synced") + ", snapshots=" + std::to_string(s.snapshots) +
                       " last_u=" + std::to_string(s.sync->last_seq()) +
                       " bookTickers=" + std::to_string(s.quotes) + " checked=" + std::to_string(s.checked) +
                       " mismatched=" + std::to_string(s.mismatched) + " not_compared: inside_diff=" +
                       std::to_string(s.uncompared.inside_diff) + " before_sync=" + std::to_string(s.uncompared.before_sync) +
                       " unreached=" + std::to_string(s.uncompared.unreached) +
                       " gaps=" + std::to_string(st.gaps) + " duplicates=" + std::to_string(st.duplicates) +
                       " crossed=" + std::to_string(st.crossed) +
                       " levels=" + std::to_string(s.sync->book().depth(Side::buy)) + "/" +
                       std::to_string(s.sync->book().depth(Side::sell));
    line += grid_check(opt, registry, id, s.sync->book(), r);
    if (s.snapshots == 0) line += " (no REST depth snapshot in the capture: book never built)";
    add_note(r, opt, std::move(line));
  }
  r.check_kind = "bookTicker best bid/ask price and size == our book at the same update id";
  return r;
}

}  // namespace enigma::feed::binance
