#include "feed/venues/okx.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>

#include "feed/capture_reader.hpp"
#include "feed/detail/crc32.hpp"
#include "feed/venues/json_fields.hpp"
#include "feed/venues/json_scan.hpp"

namespace enigma::feed::okx {

namespace od = simdjson::ondemand;

namespace {

// OKX instIds say what they are: BTC-USDT-SWAP, BTC-USD-220624 (a future), BTC-USDT (spot).
InstrumentKind okx_kind(Venue, std::string_view inst) noexcept {
  return inst.ends_with("-SWAP") ? InstrumentKind::linear_perpetual
         : std::count(inst.begin(), inst.end(), '-') >= 2 ? InstrumentKind::future
                                                          : InstrumentKind::spot;
}

Errc digits_i64(std::string_view s, std::int64_t& out) noexcept {
  bool neg = false;
  if (!s.empty() && s.front() == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return Errc::empty;
  if (s.size() > 18) return Errc::overflow;
  std::int64_t v = 0;
  for (const char c : s) {
    if (static_cast<unsigned>(c - '0') >= 10u) return Errc::invalid_char;
    v = v * 10 + (c - '0');
  }
  out = neg ? -v : v;
  return Errc::ok;
}

// Integer sent as a JSON number or a decimal string ("1652459225464").
Errc i64_of(od::value v, std::int64_t& out) noexcept {
  std::string_view s;
  if (const Errc e = json::get_text_or_number(v, s); e != Errc::ok) return e;
  return digits_i64(s, out);
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

// A string member (channel names, ids); bad_format for a malformed document, as above.
template <class Obj>
Errc field_str(Obj& obj, std::string_view key, std::string_view& out) noexcept {
  od::value v;
  if (const Errc e = field(obj, key, v); e != Errc::ok) return e;
  return v.get_string().get(out) ? Errc::wrong_type : Errc::ok;
}

// Venue milliseconds to ns; out-of-range values (only in corrupt input) become 0 rather than overflow.
std::int64_t ms_to_ns(std::int64_t ms) noexcept {
  return ms > 0 && ms < INT64_MAX / 1'000'000 ? ms * 1'000'000 : 0;
}

// `empty_is_zero`: OKX tickers send "" for a side with no quote (options with no bid).
template <class F>
Errc value_fixed(od::value v, F& out, bool empty_is_zero = false) noexcept {
  std::string_view s;
  if (const Errc e = json::get_text_or_number(v, s); e != Errc::ok) return e;
  if (s.empty() && empty_is_zero) {
    out = F{};
    return Errc::ok;
  }
  return json::parse_fixed_padded(s, out);
}

// Funding rates come with up to 16 decimals ("0.0000734174532791"); Rate keeps 10, so round to nearest.
Errc value_rate(od::value v, Rate& out) noexcept {
  std::string_view s;
  if (const Errc e = json::get_text_or_number(v, s); e != Errc::ok) return e;
  auto r = Rate::parse(s);
  if (r.error == Errc::too_many_digits) {
    const std::size_t dot = s.find('.');
    const std::string_view kept = s.substr(0, dot + 1 + Rate::kDigits);
    r = Rate::parse(kept);
    if (r.ok() && s[dot + 1 + Rate::kDigits] >= '5')
      r.value += Rate::from_raw(s.front() == '-' ? -1 : 1);
  }
  out = r.value;
  return r.error;
}

DecodeResult result(MessageKind k, Errc e = Errc::ok, ErrorAction a = ErrorAction::none) noexcept {
  return DecodeResult{e, a, k, 0};
}

// Book levels ["px","sz","0","orders"]: only the first two matter.
Errc levels_of(od::array arr, Side side, EventBuffer& out, const EventHeader& h, std::uint32_t& n) noexcept {
  for (auto item : arr) {
    od::array lv;
    if (item.get_array().get(lv)) return Errc::wrong_type;
    std::string_view px, sz;
    int k = 0;
    for (auto part : lv) {
      od::value pv;
      if (part.get(pv)) return Errc::wrong_type;
      if (k < 2) {
        if (const Errc e = json::get_text_or_number(pv, k == 0 ? px : sz); e != Errc::ok) return e;
      }
      ++k;
    }
    if (k < 2) return Errc::missing_field;
    Event* ev = out.push();
    if (!ev) return Errc::capacity;
    ev->h = h;
    ev->h.type = EventType::book_level;
    ev->level = BookLevel{};
    ev->level.side = side;
    if (const Errc e = json::parse_fixed_padded(px, ev->level.price); e != Errc::ok) return e;
    if (const Errc e = json::parse_fixed_padded(sz, ev->level.qty); e != Errc::ok) return e;
    ++n;
  }
  return Errc::ok;
}

// ---- the scanner: book pushes in their usual compact form, read in one pass --------------------------
//
// The same fields as decode_push and decode_data, read by json::scan (feed/venues/json_scan.hpp) instead of
// simdjson, for the book channels, which carry most of OKX's bytes. It gives up (false) at anything outside
// the scanner's JSON subset or that the simdjson path reads differently or refuses: an envelope member twice,
// an "event", the action after the data, a value of an unexpected type or that does not parse, an object or
// array where nothing is read, another channel, an unknown instrument. decode() then reads the frame with
// simdjson from the start, so a frame gives the same events either way (fuzz_okx_decoder decodes every input
// both ways and compares).
namespace scan = json::scan;

// i64_of's subset: an integer as a JSON number or a string, at most 18 digits after an optional '-'.
ENIGMA_ALWAYS_INLINE bool scan_i64_of(const char*& p, const char* end, std::int64_t& out) noexcept {
  std::string_view s;
  if (!scan::text_or_number(p, end, s)) return false;
  const bool neg = !s.empty() && s.front() == '-';
  if (neg) s.remove_prefix(1);
  std::uint64_t v = 0;
  if (s.size() > 18 || !scan::digit_text(s, v)) return false;
  out = neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  return true;
}

// One level, ["30243.5","1.44679","0","6"], in 64 bytes or less (every level of the bundled captures): its
// eight quotes come from two 32-byte compares instead of four string scans. false (p unmoved): not that shape,
// and the caller reads it piece by piece. The loads may pass `end` (the frame lies in padded input).
ENIGMA_ALWAYS_INLINE bool scan_level_fast(const char*& p, const char* end, std::string_view& px, std::string_view& sz) noexcept {
#if defined(__AVX2__)
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const auto bits = [](__m256i a, __m256i b) noexcept {
    return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(a))) |
           static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(b))) << 32;
  };
  const __m256i quote = _mm256_set1_epi8('"'), space = _mm256_set1_epi8(0x20), backslash = _mm256_set1_epi8('\\');
  std::uint64_t quotes = bits(_mm256_cmpeq_epi8(lo, quote), _mm256_cmpeq_epi8(hi, quote));
  // What scan::string refuses inside a string: control bytes, non-ASCII (negative as signed) and escapes.
  const std::uint64_t bad = bits(_mm256_or_si256(_mm256_cmpgt_epi8(space, lo), _mm256_cmpeq_epi8(lo, backslash)),
                                 _mm256_or_si256(_mm256_cmpgt_epi8(space, hi), _mm256_cmpeq_epi8(hi, backslash)));
  if (*p != '[' || (quotes & 3u) != 2u || std::popcount(quotes) < 8) return false;
  unsigned q[8];
  for (unsigned& at : q) {
    at = static_cast<unsigned>(__builtin_ctzll(quotes));
    quotes &= quotes - 1;
  }
  // `"px","sz","a","b"]`: each closing quote followed by ',' and the next opening quote, the last by ']'.
  for (int i = 1; i < 7; i += 2)
    if (p[q[i] + 1] != ',' || q[i + 1] != q[i] + 2) return false;
  if (p[q[7] + 1] != ']' || static_cast<std::ptrdiff_t>(q[7]) + 1 >= end - p || (bad & ((std::uint64_t{2} << q[7]) - 1)) != 0)
    return false;
  px = {p + 2, q[1] - 2};
  sz = {p + q[2] + 1, q[3] - q[2] - 1};
  p += q[7] + 2;
  return true;
#else
  (void)p, (void)end, (void)px, (void)sz;
  return false;
#endif
}

// A side's levels, [["px","sz","0","orders"],..]: the first two of each read, the rest skipped (as levels_of).
bool scan_levels(const char*& p, const char* end, Side side, EventBuffer& out, const EventHeader& h, std::uint32_t& n) noexcept {
  if (!scan::expect(p, end, '[')) return false;
  if (p < end && *p == ']') return ++p, true;
  for (;;) {
    std::string_view px, sz;
    bool more = false;
    if (!scan_level_fast(p, end, px, sz)) {
      if (!scan::expect(p, end, '[') || !scan::text_or_number(p, end, px) || !scan::expect(p, end, ',') ||
          !scan::text_or_number(p, end, sz) || !scan::next(p, end, ']', more)) [[unlikely]]
        return false;
      while (more)
        if (!scan::skip_scalar(p, end) || !scan::next(p, end, ']', more)) [[unlikely]] return false;
    }
    Event* ev = out.push();
    if (!ev) [[unlikely]] return false;
    ev->h = h;
    ev->h.type = EventType::book_level;
    ev->level = BookLevel{};
    ev->level.side = side;
    if (json::parse_fixed_padded(px, ev->level.price) != Errc::ok || json::parse_fixed_padded(sz, ev->level.qty) != Errc::ok)
      [[unlikely]] return false;
    ++n;
    if (!scan::next(p, end, ']', more)) [[unlikely]] return false;
    if (!more) return true;
  }
}

// A book push's data array: one batch per element {asks, bids, ts, checksum, seqId, prevSeqId}.
bool scan_books(const char*& p, const char* end, EventBuffer& out, const EventHeader& base, bool snapshot,
                std::uint32_t aux) noexcept {
  if (!scan::expect(p, end, '[')) return false;
  if (p < end && *p == ']') return ++p, true;
  for (;;) {
    Event* b = out.push();
    if (!b) return false;
    const std::size_t bi = out.size() - 1;
    b->h = base;
    b->h.type = EventType::book_batch;
    b->h.aux = aux;
    BookBatch batch{0, 0, 0, 0, 0, snapshot ? BookBatchKind::snapshot : BookBatchKind::delta, false, false};
    std::int64_t ts = 0;
    std::uint32_t n = 0;
    if (!scan::members(p, end, [&]() noexcept {
          if (scan::key_is(p, end, R"("asks":)")) return scan_levels(p, end, Side::sell, out, base, n);
          if (scan::key_is(p, end, R"("bids":)")) return scan_levels(p, end, Side::buy, out, base, n);
          if (scan::key_is(p, end, R"("ts":)")) return scan_i64_of(p, end, ts);
          std::int64_t v = 0;
          if (scan::key_is(p, end, R"("checksum":)")) {
            if (!scan_i64_of(p, end, v) || v < INT32_MIN || v > INT32_MAX) return false;
            batch.checksum = static_cast<std::int32_t>(v);
            batch.has_checksum = true;
            return true;
          }
          if (scan::key_is(p, end, R"("seqId":)")) {
            if (!scan_i64_of(p, end, v) || v < 0) return false;
            batch.seq = batch.first_seq = static_cast<std::uint64_t>(v);
            return true;
          }
          if (scan::key_is(p, end, R"("prevSeqId":)")) {
            if (!scan_i64_of(p, end, v)) return false;
            if (v >= 0) {  // the snapshot's prevSeqId is -1: no predecessor
              batch.prev_seq = static_cast<std::uint64_t>(v);
              batch.has_prev_seq = true;
            }
            return true;
          }
          return scan::other_member(p, end);
        }))
      return false;
    const std::int64_t ts_ns = ms_to_ns(ts);
    for (std::size_t i = bi; i < out.size(); ++i) const_cast<Event&>(out[i]).h.venue_time_ns = ts_ns;
    batch.level_count = n;
    const_cast<Event&>(out[bi]).batch = batch;
    bool more = false;
    if (!scan::next(p, end, ']', more)) return false;
    if (!more) return true;
  }
}

}  // namespace

Decoder::Decoder(InstrumentRegistry& registry, bool auto_register, bool validate_json)
    : symbols_(registry, Venue::okx, auto_register, &okx_kind), validate_json_(validate_json) {
  if (parser_.allocate(4u << 20) || validator_.allocate(4u << 20))
    throw Error("okx::Decoder: cannot allocate the JSON parser");
}

DecodeResult Decoder::decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                             EventBuffer& out) noexcept {
  const std::size_t first = out.size();
  return reject_impossible_values(decode_unchecked(frame, padded_capacity, recv_tsc, out), out, first);
}

DecodeResult Decoder::decode_unchecked(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                                          EventBuffer& out) noexcept {
  // The keep-alive answer is the bare text "pong".
  if (frame == "pong") return result(MessageKind::control);
  if (padded_capacity < frame.size() + simdjson::SIMDJSON_PADDING) [[unlikely]]
    return result(MessageKind::market_data, Errc::out_of_range, ErrorAction::skip);
  // Channel pushes, nearly every frame, are read in one pass in document order: book pushes by the scanner
  // when they are in its JSON subset, the rest by simdjson.
  DecodeResult r;
  if (scan_first_ && scan_push(frame, recv_tsc, out, r)) [[likely]] {
    ++scanned_frames_;
    return r;
  }
  const simdjson::padded_string_view bytes(frame.data(), frame.size(), padded_capacity);
  od::document doc;
  if (parser_.iterate(bytes).get(doc)) return result(MessageKind::market_data, Errc::bad_format, ErrorAction::skip);
  if (decode_push(doc, recv_tsc, out, r)) [[likely]] return r;
  // Anything else (events, other field orders, anything malformed) is checked by the DOM parser first
  // (see validate_json), then its envelope is read by name.
  simdjson::dom::element checked;
  if (validate_json_ && validator_.parse(frame.data(), frame.size(), false).get(checked))
    return result(MessageKind::market_data, Errc::bad_format, ErrorAction::skip);
  if (parser_.iterate(bytes).get(doc)) return result(MessageKind::market_data, Errc::bad_format, ErrorAction::skip);
  od::object root;
  if (doc.get_object().get(root)) return result(MessageKind::market_data, Errc::bad_format, ErrorAction::skip);

  std::string_view channel, inst, action;
  const auto malformed = [] { return result(MessageKind::market_data, Errc::bad_format, ErrorAction::skip); };
  od::object arg;
  od::value av;
  bool has_arg = false;
  if (opt(root, "arg", av, has_arg) != Errc::ok) return malformed();
  if (!has_arg) {
    // No arg: an event frame ({"event":"error","code":"60012","msg":..}) or something we do not know.
    std::string_view event;
    if (field_str(root, "event", event) != Errc::ok) return malformed();
    if (event != "error") return result(MessageKind::control);
    std::int64_t code = 0;
    od::value cv;
    bool found = false;
    if (opt(root, "code", cv, found) != Errc::ok) return malformed();
    if (found) (void)i64_of(cv, code);
    last_error_code_ = static_cast<int>(code);
    const bool auth = (code >= 60004 && code <= 60011) || code == 60024;
    return result(MessageKind::control, Errc::unknown_message, auth ? ErrorAction::fatal : ErrorAction::skip);
  }
  if (av.get_object().get(arg)) return malformed();
  if (const Errc e = field_str(arg, "channel", channel); e != Errc::ok)
    return result(MessageKind::market_data, e, ErrorAction::skip);
  if (const Errc e = field_str(arg, "instId", inst); e != Errc::ok) {
    if (e == Errc::bad_format) return malformed();
    inst = {};
  }
  {
    od::value ev;
    bool found = false;
    if (opt(root, "event", ev, found) != Errc::ok) return malformed();
    if (found) return result(MessageKind::control);  // subscribe ack
  }
  od::value dv;
  bool has_action = false, has_data = false;
  if (opt(root, "action", dv, has_action) != Errc::ok) return malformed();
  if (has_action && dv.get_string().get(action)) has_action = false;  // only books read it: missing there
  if (opt(root, "data", dv, has_data) != Errc::ok) return malformed();
  return decode_data(channel, inst, has_action ? &action : nullptr, has_data ? &dv : nullptr, recv_tsc, out);
}

bool Decoder::scan_push(std::string_view frame, std::uint64_t recv_tsc, EventBuffer& out, DecodeResult& r) noexcept {
  const char* p = frame.data();
  const char* const end = p + frame.size();
  const std::size_t start = out.size();
  // The instrument is looked up once the whole frame has been read (a lookup may register it, which the
  // simdjson path must then do too); until then the events carry none.
  const EventHeader base{recv_tsc, 0, kInvalidInstrument, Venue::okx, EventType::none, 0};
  std::string_view channel, inst, action;
  std::uint32_t seen = 0;  // 1 arg, 2 action, 4 data
  // Each envelope member at most once (the simdjson paths would read a repeated one differently).
  const auto first_time = [&seen](std::uint32_t bit) noexcept {
    const bool first = (seen & bit) == 0;
    seen |= bit;
    return first;
  };
  const bool read = scan::members(p, end, [&]() noexcept {
    if (scan::key_is(p, end, R"("arg":)")) {
      return first_time(1) && scan::members(p, end, [&]() noexcept {
               if (scan::key_is(p, end, R"("channel":)")) return scan::string(p, end, channel);
               if (scan::key_is(p, end, R"("instId":)")) return scan::string(p, end, inst);
               return scan::other_member(p, end);
             });
    }
    if (scan::key_is(p, end, R"("action":)")) return first_time(2) && scan::string(p, end, action);
    if (scan::key_is(p, end, R"("event":)")) return false;  // an event frame (ack, error, login)
    if (!scan::key_is(p, end, R"("data":)")) return scan::other_member(p, end);
    // OKX sends arg, action, data in this order; decode_push reads the data with what came before it.
    if ((seen & 1) == 0 || !first_time(4)) return false;
    if (json::is(channel, "books5")) return scan_books(p, end, out, base, true, 5);
    if (!json::is(channel, "books") && !json::is(channel, "books-l2-tbt") && !json::is(channel, "books50-l2-tbt"))
      return false;  // tickers, trades, bbo, mark, funding: simdjson reads them
    const bool snapshot = json::is(action, "snapshot");
    return (seen & 2) != 0 && (snapshot || json::is(action, "update")) && scan_books(p, end, out, base, snapshot, 0);
  });
  const InstrumentId id = read && (seen & 4) != 0 && scan::only_space(p, end) ? symbols_.find(inst) : kInvalidInstrument;
  if (id == kInvalidInstrument) {
    out.truncate(start);
    return false;
  }
  for (std::size_t i = start; i < out.size(); ++i) const_cast<Event&>(out[i]).h.instrument = id;
  r = DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, static_cast<std::uint32_t>(out.size() - start)};
  return true;
}

bool Decoder::decode_push(od::document& doc, std::uint64_t recv_tsc, EventBuffer& out, DecodeResult& r) noexcept {
  od::object root;
  if (doc.get_object().get(root)) return false;
  const std::size_t start = out.size();
  const auto fall_back = [&] {
    out.truncate(start);
    return false;
  };
  std::string_view channel, inst, action;
  bool has_arg = false, has_action = false, decoded = false;
  for (auto item : root) {
    od::field fld;
    if (std::move(item).get(fld)) return fall_back();
    const std::string_view k = json::key_of(fld);
    od::value v = fld.value();
    if (json::is(k, "arg")) {
      od::object arg;
      if (v.get_object().get(arg)) return fall_back();
      for (auto a : arg) {
        od::field af;
        if (std::move(a).get(af)) return fall_back();
        const std::string_view ak = json::key_of(af);
        if (json::is(ak, "channel") && json::get_text(af.value(), channel) != Errc::ok) return fall_back();
        if (json::is(ak, "instId") && json::get_text(af.value(), inst) != Errc::ok) return fall_back();
      }
      has_arg = true;
    } else if (json::is(k, "action")) {
      if (json::get_text(v, action) != Errc::ok) return fall_back();
      has_action = true;
    } else if (json::is(k, "data")) {
      // OKX sends arg, action, data in this order; any other order takes the slow path.
      if (!has_arg || channel.empty() || decoded) return fall_back();
      r = decode_data(channel, inst, has_action ? &action : nullptr, &v, recv_tsc, out);
      decoded = true;
    } else if (json::is(k, "event")) {
      return fall_back();  // an event frame (ack, error, login): the slow path
    }
  }
  return decoded || fall_back();
}

DecodeResult Decoder::decode_data(std::string_view channel, std::string_view inst, const std::string_view* action,
                                  od::value* dv, std::uint64_t recv_tsc, EventBuffer& out) noexcept {
  enum class Kind { book, book5, bbo, ticker, trades, mark, funding, none };
  Kind kind = Kind::none;
  if (channel == "books" || channel == "books-l2-tbt" || channel == "books50-l2-tbt") kind = Kind::book;
  else if (channel == "books5") kind = Kind::book5;
  else if (channel == "bbo-tbt") kind = Kind::bbo;
  else if (channel == "tickers") kind = Kind::ticker;
  else if (channel == "trades" || channel == "trades-all") kind = Kind::trades;
  else if (channel == "mark-price") kind = Kind::mark;
  else if (channel == "funding-rate") kind = Kind::funding;
  if (kind == Kind::none) return result(MessageKind::ignored);
  const bool is_book = kind == Kind::book;
  const ErrorAction bad = is_book ? ErrorAction::resync : ErrorAction::skip;
  // `inst` points into the parser's string buffer and stays valid for this document.
  const InstrumentId id = symbols_.find(inst);
  if (id == kInvalidInstrument) return result(MessageKind::ignored);
  bool snapshot = kind != Kind::book;
  if (is_book) {
    if (action == nullptr) return result(MessageKind::market_data, Errc::missing_field, bad);
    if (json::is(*action, "snapshot")) snapshot = true;
    else if (json::is(*action, "update")) snapshot = false;
    else return result(MessageKind::market_data, Errc::out_of_range, bad);
  }
  od::array data;
  if (dv == nullptr) return result(MessageKind::market_data, Errc::missing_field, bad);
  if (dv->get_array().get(data)) return result(MessageKind::market_data, Errc::wrong_type, bad);

  const std::size_t start = out.size();
  auto fail = [&](Errc e) noexcept {
    out.truncate(start);
    return result(MessageKind::market_data, e, e == Errc::capacity && !is_book ? ErrorAction::skip : bad);
  };
  const EventHeader base{recv_tsc, 0, id, Venue::okx, EventType::none, 0};
  for (auto item : data) {
    od::object d;
    if (item.get_object().get(d)) return fail(Errc::wrong_type);
    if (kind == Kind::book || kind == Kind::book5 || kind == Kind::bbo) {
      // One pass over the element in document order: asks, bids, ts, checksum, seqId, prevSeqId.
      Event* b = out.push();
      if (!b) return fail(Errc::capacity);
      const std::size_t bi = out.size() - 1;
      b->h = base;
      b->h.type = EventType::book_batch;
      b->h.aux = kind == Kind::book5 ? 5u : 0u;
      BookBatch batch{0, 0, 0, 0, 0, snapshot ? BookBatchKind::snapshot : BookBatchKind::delta, false, false};
      std::int64_t ts = 0;
      std::uint32_t n = 0;
      for (auto item : d) {
        od::field field;
        if (std::move(item).get(field)) return fail(Errc::bad_format);
        const std::string_view key = json::key_of(field);
        od::value v = field.value();
        Errc e = Errc::ok;
        if (json::is(key, "asks") || json::is(key, "bids")) {
          od::array arr;
          if (v.get_array().get(arr)) return fail(Errc::wrong_type);
          e = levels_of(arr, json::is(key, "asks") ? Side::sell : Side::buy, out, base, n);
        } else if (json::is(key, "ts")) {
          e = i64_of(v, ts);
        } else if (json::is(key, "checksum")) {
          std::int64_t c = 0;
          e = i64_of(v, c);
          if (e == Errc::ok && (c < INT32_MIN || c > INT32_MAX)) e = Errc::out_of_range;
          batch.checksum = static_cast<std::int32_t>(c);
          batch.has_checksum = true;
        } else if (json::is(key, "seqId")) {
          std::int64_t s = 0;
          e = i64_of(v, s);
          if (e == Errc::ok && s < 0) e = Errc::out_of_range;
          batch.seq = batch.first_seq = static_cast<std::uint64_t>(s);
        } else if (json::is(key, "prevSeqId")) {
          std::int64_t s = 0;
          e = i64_of(v, s);
          // The snapshot's prevSeqId is -1: no predecessor.
          if (e == Errc::ok && s >= 0) {
            batch.prev_seq = static_cast<std::uint64_t>(s);
            batch.has_prev_seq = true;
          }
        }
        if (e != Errc::ok) return fail(e);
      }
      const std::int64_t ts_ns = ms_to_ns(ts);
      for (std::size_t i = bi; i < out.size(); ++i) const_cast<Event&>(out[i]).h.venue_time_ns = ts_ns;
      if (kind == Kind::bbo) {
        // Fold the one-level book into a Bbo event in place of the batch.
        Bbo q{};
        q.seq = batch.seq;
        for (std::size_t i = bi + 1; i < out.size(); ++i) {
          const BookLevel& l = out[i].level;
          if (l.side == Side::buy) q.bid_price = l.price, q.bid_qty = l.qty;
          else q.ask_price = l.price, q.ask_qty = l.qty;
        }
        out.truncate(bi + 1);
        Event& ev = const_cast<Event&>(out[bi]);
        ev.h.type = EventType::bbo;
        ev.bbo = q;
        continue;
      }
      batch.level_count = n;
      const_cast<Event&>(out[bi]).batch = batch;
      continue;
    }
    Event* ev = out.push();
    if (!ev) return fail(Errc::capacity);
    ev->h = base;
    // One pass over the element in document order; `has` collects the required fields that came.
    std::uint32_t has = 0, want = 0;
    std::int64_t ts = 0, tid = 0, next_funding = 0;
    std::string_view side;
    bool has_ts = false;
    Errc e = Errc::ok;
    switch (kind) {
      case Kind::ticker: ev->h.type = EventType::bbo; ev->bbo = Bbo{}; want = 15; break;
      case Kind::trades: ev->h.type = EventType::trade; ev->trade = Trade{}; want = 15; break;
      case Kind::mark: ev->h.type = EventType::mark; ev->mark = MarkFunding{}; want = 1; break;
      case Kind::funding: ev->h.type = EventType::mark; ev->mark = MarkFunding{}; want = 1; break;
      default: break;
    }
    e = json::each_field(d, [&](std::string_view k, od::value v) noexcept {
      if (json::is(k, "ts")) {
        has_ts = i64_of(v, ts) == Errc::ok;
        return Errc::ok;
      }
      switch (kind) {
        case Kind::ticker:
          if (json::is(k, "askPx")) { has |= 1; return value_fixed(v, ev->bbo.ask_price, true); }
          if (json::is(k, "askSz")) { has |= 2; return value_fixed(v, ev->bbo.ask_qty, true); }
          if (json::is(k, "bidPx")) { has |= 4; return value_fixed(v, ev->bbo.bid_price, true); }
          if (json::is(k, "bidSz")) { has |= 8; return value_fixed(v, ev->bbo.bid_qty, true); }
          break;
        case Kind::trades:
          if (json::is(k, "tradeId")) { has |= 1; return i64_of(v, tid); }
          if (json::is(k, "px")) { has |= 2; return value_fixed(v, ev->trade.price); }
          if (json::is(k, "sz")) { has |= 4; return value_fixed(v, ev->trade.qty); }
          if (json::is(k, "side")) { has |= 8; return json::get_text(v, side); }
          break;
        case Kind::mark:
          if (json::is(k, "markPx")) { has |= 1; return value_fixed(v, ev->mark.mark_price); }
          break;
        case Kind::funding:
          if (json::is(k, "fundingRate")) { has |= 1; return value_rate(v, ev->mark.funding_rate); }
          if (json::is(k, "fundingTime") && i64_of(v, next_funding) == Errc::ok) ev->mark.next_funding_time_ns = ms_to_ns(next_funding);
          break;
        default: break;
      }
      return Errc::ok;
    });
    if (e == Errc::ok && (has & want) != want) e = Errc::missing_field;
    if (e == Errc::ok && kind == Kind::trades) {
      ev->trade.trade_id = static_cast<std::uint64_t>(tid);
      if (json::is(side, "buy")) ev->trade.aggressor = Side::buy;
      else if (json::is(side, "sell")) ev->trade.aggressor = Side::sell;
      else e = Errc::out_of_range;
    }
    if (e != Errc::ok) return fail(e);
    if (has_ts) ev->h.venue_time_ns = ms_to_ns(ts);
  }
  return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data,
                      static_cast<std::uint32_t>(out.size() - start)};
}

// ---- checksum and BookSync ------------------------------------------------------------------------

namespace {

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// The ten decimal digits of x < 10^10, zero-padded, at d[0..9].
ENIGMA_ALWAYS_INLINE void put_ten_digits(char* d, std::uint64_t x) noexcept {
  const auto hi = static_cast<std::uint32_t>(x / 100000);
  const auto lo = static_cast<std::uint32_t>(x % 100000);
  std::memcpy(d + 0, kDigitPairs + 2 * (hi / 1000), 2);
  std::memcpy(d + 2, kDigitPairs + 2 * (hi / 10 % 100), 2);
  d[4] = static_cast<char>('0' + hi % 10);
  std::memcpy(d + 5, kDigitPairs + 2 * (lo / 1000), 2);
  std::memcpy(d + 7, kDigitPairs + 2 * (lo / 10 % 100), 2);
  d[9] = static_cast<char>('0' + lo % 10);
}

// Decimal digits of x (at least 1); x < 10^10.
ENIGMA_ALWAYS_INLINE unsigned digit_count(std::uint64_t x) noexcept {
  return 1u + (x >= 10) + (x >= 100) + (x >= 1000) + (x >= 10000) + (x >= 100000) + (x >= 1000000) +
         (x >= 10000000) + (x >= 100000000) + (x >= 1000000000);
}

// Trailing decimal zeros of x < 10^5 with x != 0 (0..4).
ENIGMA_ALWAYS_INLINE unsigned trailing_zeros5(std::uint32_t x) noexcept {
  return (x % 10 == 0) + (x % 100 == 0) + (x % 1000 == 0) + (x % 10000 == 0);
}

// Writes the same text as Fixed<..., 10>::format (shortest exact decimal: no leading zeros, no trailing
// fractional zeros) and returns its end. Digits come two at a time from a table into their final place,
// lengths are counted arithmetically (no division per digit, no re-reading of what was just stored,
// which stalls store forwarding): the checksum formats 100 numbers per update. Writes at most 21 bytes
// from `out` (sign, 9 integer digits, '.', 10 fractional digits), sometimes past the returned end.
static_assert(Price::kDigits == 10 && Qty::kDigits == 10, "put_canonical assumes 10 fractional digits");
ENIGMA_ALWAYS_INLINE char* put_canonical(char* out, std::int64_t raw) noexcept {
  const std::uint64_t mag = raw < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
  if (raw < 0) *out++ = '-';
  constexpr std::uint64_t kScale = 10'000'000'000ULL;
  const std::uint64_t ip = mag / kScale;  // < 10^9 (int64 / 10^10)
  const std::uint64_t fp = mag - ip * kScale;
  out += digit_count(ip);
  char* e = out;
  auto v = static_cast<std::uint32_t>(ip);
  while (v >= 100) {
    e -= 2;
    std::memcpy(e, kDigitPairs + 2 * (v % 100), 2);
    v /= 100;
  }
  if (v >= 10) {
    std::memcpy(e - 2, kDigitPairs + 2 * v, 2);
  } else {
    e[-1] = static_cast<char>('0' + v);
  }
  if (fp == 0) return out;
  *out++ = '.';
  const auto hi = static_cast<std::uint32_t>(fp / 100000);  // first five fractional digits
  const auto lo = static_cast<std::uint32_t>(fp % 100000);  // last five
  std::memcpy(out + 0, kDigitPairs + 2 * (hi / 1000), 2);
  std::memcpy(out + 2, kDigitPairs + 2 * (hi / 10 % 100), 2);
  out[4] = static_cast<char>('0' + hi % 10);
  std::memcpy(out + 5, kDigitPairs + 2 * (lo / 1000), 2);
  std::memcpy(out + 7, kDigitPairs + 2 * (lo / 10 % 100), 2);
  out[9] = static_cast<char>('0' + lo % 10);
  const unsigned zeros = lo != 0 ? trailing_zeros5(lo) : 5 + trailing_zeros5(hi);  // fp != 0: hi != 0 if lo == 0
  return out + 10 - zeros;
}

}  // namespace

namespace {

std::int32_t crc_of(const char* buf, std::size_t len) noexcept {
  return static_cast<std::int32_t>(detail::crc32_ieee(buf, len));
}

// The levels in checksum order: bid 1, ask 1, bid 2, ... (25 per side at most), each through
// put(out, level) -> new end. A plain loop with `out` in a register: a lambda capturing it by reference
// was not inlined and reloaded it from memory per level.
template <class Put>
ENIGMA_ALWAYS_INLINE char* put_checksum_levels(const L2Book& book, char* out, Put put) noexcept {
  // Uninitialized: value-initializing 50 levels per update showed up in profiles (top() overwrites them).
  alignas(Level) unsigned char storage[2][25 * sizeof(Level)];
  Level* bids = reinterpret_cast<Level*>(storage[0]);
  Level* asks = reinterpret_cast<Level*>(storage[1]);
  const std::size_t nb = book.top(Side::buy, bids, 25);
  const std::size_t na = book.top(Side::sell, asks, 25);
  const std::size_t n = std::max(nb, na);
  for (std::size_t i = 0; i < n; ++i) {
    if (i < nb) out = put(out, bids[i]);
    if (i < na) out = put(out, asks[i]);
  }
  return out;
}

}  // namespace

// The text is rebuilt from the book's fixed-point levels: the canonical decimal form equals OKX's strings.
std::size_t book_checksum_text(const L2Book& book, char* buf) noexcept {
  char* const end = put_checksum_levels(book, buf, [](char* p, const Level& l) noexcept {
    p = put_canonical(p, l.price.raw());
    *p++ = ':';
    p = put_canonical(p, l.qty.raw());
    *p++ = ':';
    return p;
  });
  return end == buf ? 0 : static_cast<std::size_t>(end - buf - 1);  // no ':' after the last number
}

std::int32_t book_checksum(const L2Book& book) noexcept {
  char buf[kChecksumTextCapacity];
  return crc_of(buf, book_checksum_text(book, buf));
}

ChecksumCache::ChecksumCache() : entries_(new Entry[kEntries]) {}

std::size_t ChecksumCache::text(const L2Book& book, char* buf) noexcept {
  Entry* const entries = entries_.get();
  char* const end = put_checksum_levels(book, buf, [entries](char* p, const Level& l) noexcept {
    const std::int64_t px = l.price.raw();
    const std::int64_t qty = l.qty.raw();
    static_assert(kEntries == 512);
    Entry& e = entries[(static_cast<std::uint64_t>(px) * 0x9E3779B97F4A7C15ULL) >> 55];  // top 9 bits
    if (e.price != px || e.qty != qty) [[unlikely]] {
      char* t = put_canonical(e.text, px);
      *t++ = ':';
      t = put_canonical(t, qty);
      *t++ = ':';
      e.len = static_cast<std::uint32_t>(t - e.text);
      e.price = px;
      e.qty = qty;
    }
    std::memcpy(p, e.text, sizeof e.text);  // fixed size: the buffer has room past the end
    return p + e.len;
  });
  return end == buf ? 0 : static_cast<std::size_t>(end - buf - 1);
}

std::int32_t ChecksumCache::checksum(const L2Book& book) noexcept {
  char buf[kChecksumTextCapacity];
  return crc_of(buf, text(book, buf));
}

BookSync::BookSync(InstrumentId instrument, std::size_t max_levels_per_side)
    : instrument_(instrument), book_(max_levels_per_side) {}

void BookSync::reset() noexcept {
  book_.clear();
  state_ = SyncState::awaiting_snapshot;
  pending_ = Pending::none;
  remaining_ = 0;
}

SyncResult BookSync::lose_sync(Errc why) noexcept {
  if (state_ == SyncState::synced) ++resyncs_;
  state_ = SyncState::awaiting_snapshot;
  book_.clear();
  return SyncResult{false, true, why};
}

SyncResult BookSync::on_event(const Event& e) noexcept {
  if (e.h.instrument != instrument_ || e.h.venue != Venue::okx) return {};
  if (e.h.type == EventType::book_batch) {
    SyncResult r{};
    if (remaining_ != 0) [[unlikely]] {
      remaining_ = 0;
      pending_ = Pending::none;
      r = lose_sync(Errc::bad_format);
    }
    cur_ = e.batch;
    remaining_ = cur_.level_count;
    apply_error_ = Errc::ok;
    if (cur_.kind == BookBatchKind::snapshot) {
      if (e.h.aux != 0) {
        pending_ = Pending::drop;  // books5: partial
      } else if (state_ == SyncState::synced && cur_.seq != 0 && last_snapshot_seq_ <= cur_.seq && cur_.seq <= last_seq_) {
        // A snapshot the book is already past (a repeated line, overlapping captures). After maintenance
        // seqIds restart lower than the last snapshot's, so such a snapshot still applies.
        ++duplicates_;
        pending_ = Pending::drop;
      } else {
        last_snapshot_seq_ = cur_.seq;
        pending_ = Pending::snapshot;
        book_.clear();
      }
    } else if (state_ != SyncState::synced) {
      pending_ = Pending::drop;
    } else if (cur_.has_prev_seq && cur_.prev_seq != last_seq_ && cur_.seq != 0 && cur_.seq <= last_seq_ &&
               cur_.prev_seq < last_seq_) {
      // Already applied (u <= last seqId, off the chain): a duplicate, dropped. A legitimate message after
      // maintenance may have seqId < prevSeqId, but then its prevSeqId is the last seqId (the chain holds).
      ++duplicates_;
      pending_ = Pending::drop;
    } else if (cur_.has_prev_seq && cur_.prev_seq != last_seq_) {
      ++gaps_;
      pending_ = Pending::drop;
      r = lose_sync(Errc::sequence_gap);
    } else {
      pending_ = Pending::apply;
    }
    if (remaining_ == 0) {
      const SyncResult f = finish();
      if (!r.need_snapshot) r = f;
    }
    return r;
  }
  if (e.h.type != EventType::book_level || remaining_ == 0) return {};
  if ((pending_ == Pending::snapshot || pending_ == Pending::apply) && apply_error_ == Errc::ok)
    apply_error_ = book_.apply(e.level.side, e.level.price, e.level.qty);
  if (--remaining_ == 0) return finish();
  return {};
}

SyncResult BookSync::finish() noexcept {
  const Pending p = pending_;
  pending_ = Pending::none;
  if (p != Pending::snapshot && p != Pending::apply) return {};
  if (apply_error_ != Errc::ok) return lose_sync(apply_error_);
  if (cur_.has_checksum) {
    ++checksums_checked_;
    if (checksum_cache_.checksum(book_) != cur_.checksum) {
      ++checksum_mismatches_;
      return lose_sync(Errc::checksum_mismatch);
    }
  }
  if (book_.crossed()) return lose_sync(Errc::crossed_book);
  last_seq_ = cur_.seq;
  state_ = SyncState::synced;
  return SyncResult{true, false, Errc::ok};
}

// ---- check ----------------------------------------------------------------------------------------

BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt) {
  if (venue != Venue::okx) throw Error("okx::check: venue must be okx");
  BookCheckResult res;
  auto note = [&](std::string s) {
    if (res.notes.size() < opt.max_notes) res.notes.push_back(std::move(s));
  };
  struct TimedFrame {
    std::int64_t recv_ns;
    CapturedFrame frame;
  };
  std::vector<std::unique_ptr<CaptureReader>> readers;
  std::vector<TimedFrame> frames;
  for (const auto& f : files) {
    readers.push_back(std::make_unique<CaptureReader>(f, CaptureReadOptions{.strict = opt.strict}));
    CapturedFrame fr;
    while (readers.back()->next(fr)) frames.push_back(TimedFrame{fr.recv_ns, fr});
  }
  std::stable_sort(frames.begin(), frames.end(), [](const TimedFrame& a, const TimedFrame& b) { return a.recv_ns < b.recv_ns; });

  InstrumentRegistry registry(4096);
  if (!opt.exchange_info.empty()) registry.set_catalogue(opt.exchange_info);  // the venue's tick and lot per symbol
  Decoder decoder(registry, /*auto_register=*/true);
  EventBuffer out(1 << 16);
  std::map<InstrumentId, std::unique_ptr<BookSync>> books;
  for (const auto& tf : frames) {
    const CapturedFrame& fr = tf.frame;
    if (fr.kind != FrameKind::ws_received) continue;
    ++res.frames;
    out.clear();
    const DecodeResult r = decoder.decode(fr.payload, fr.padded_capacity, 0, out);
    if (!r.ok()) {
      ++res.errors;
      note("line " + std::to_string(fr.line_no) + ": decode failed: " + std::string(to_string(r.error)));
      continue;
    }
    bool used = false;
    for (const Event& e : out) {
      if (e.h.type != EventType::book_batch && e.h.type != EventType::book_level) continue;
      if (e.h.type == EventType::book_batch && e.h.aux != 0) continue;
      auto& sync = books[e.h.instrument];
      if (!sync) sync = std::make_unique<BookSync>(e.h.instrument);
      used = true;
      const auto c0 = sync->checksums_checked(), m0 = sync->checksum_mismatches(), g0 = sync->gaps(),
                 r0 = sync->resyncs(), d0 = sync->duplicates();
      const SyncResult s = sync->on_event(e);
      res.duplicates += sync->duplicates() - d0;
      res.checked += sync->checksums_checked() - c0;
      res.mismatched += sync->checksum_mismatches() - m0;
      res.gaps += sync->gaps() - g0;
      res.resyncs += sync->resyncs() - r0;
      if (s.need_snapshot)
        note(std::string(registry.get(e.h.instrument).symbol.view()) + ": resync needed (" +
             std::string(to_string(s.error)) + ") at line " + std::to_string(fr.line_no));
    }
    if (!used) ++res.skipped;
  }
  res.bad_lines = bad_lines(readers);
  for (const auto& [id, sync] : books) {
    if (const std::string g = grid_check(opt, registry, id, sync->book(), res); !g.empty())
      note(std::string(registry.get(id).symbol.view()) + ":" + g);
    if (sync->checksums_checked() == 0 && sync->state() != SyncState::synced)
      note(std::string(registry.get(id).symbol.view()) + ": no snapshot in the files; book never synced");
    else if (opt.verbose)
      note(std::string(registry.get(id).symbol.view()) + ": checksums " + std::to_string(sync->checksums_checked()) +
           ", mismatched " + std::to_string(sync->checksum_mismatches()));
  }
  res.check_kind = "exchange CRC32 checksum of the top 25 levels == ours, every update";
  return res;
}

}  // namespace enigma::feed::okx
