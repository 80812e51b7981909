#include "feed/venues/kraken.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "feed/capture_reader.hpp"
#include "feed/venues/coinbase.hpp"  // parse_time: the same RFC 3339 timestamps
#include "feed/venues/json_fields.hpp"

namespace enigma::feed::kraken {

namespace od = simdjson::ondemand;

namespace {

DecodeResult result(MessageKind k, Errc e = Errc::ok, ErrorAction a = ErrorAction::none) noexcept {
  return DecodeResult{e, a, k, 0};
}
DecodeResult malformed() noexcept { return result(MessageKind::market_data, Errc::bad_format, ErrorAction::skip); }

// Text of a JSON string, or the raw token of a JSON number (Kraken sends numbers; the digits as printed
// matter for the checksum, so they are read as text, never through double).
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

// Fractional digits as printed ("0.10000000" -> 8, "45281" -> 0).
unsigned decimals_of(std::string_view s) noexcept {
  const std::size_t dot = s.find('.');
  return dot == std::string_view::npos ? 0u : static_cast<unsigned>(s.size() - dot - 1);
}

template <class F>
Errc fixed_of(od::value v, F& out, unsigned* decimals = nullptr) noexcept {
  std::string_view s;
  if (const Errc e = text_of(v, s); e != Errc::ok) return e;
  const auto r = F::parse(s);
  out = r.value;
  if (decimals && r.ok()) *decimals = std::max(*decimals, decimals_of(s));
  return r.error;
}

Errc u64_of(od::value v, std::uint64_t& out) noexcept {
  std::string_view s;
  if (const Errc e = text_of(v, s); e != Errc::ok) return e;
  if (s.empty()) return Errc::empty;
  if (s.size() > 19) return Errc::overflow;
  std::uint64_t x = 0;
  for (const char c : s) {
    if (static_cast<unsigned>(c - '0') > 9u) return Errc::invalid_char;
    x = x * 10 + static_cast<unsigned>(c - '0');
  }
  out = x;
  return Errc::ok;
}

// Optional member. A lookup error other than "no such field" means malformed JSON, and On-Demand must
// not walk it any further: Errc::bad_format.
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
Errc field_str(Obj& obj, std::string_view key, std::string_view& out) noexcept {
  od::value v;
  if (const Errc e = field(obj, key, v); e != Errc::ok) return e;
  return v.get_string().get(out) ? Errc::wrong_type : Errc::ok;
}

template <class Obj, class F>
Errc field_fixed(Obj& obj, std::string_view key, F& out) noexcept {
  od::value v;
  if (const Errc e = field(obj, key, v); e != Errc::ok) return e;
  return fixed_of(v, out);
}

Errc side_of(std::string_view s, Side& out) noexcept {
  if (s == "buy")
    out = Side::buy;
  else if (s == "sell")
    out = Side::sell;
  else
    return Errc::out_of_range;
  return Errc::ok;
}

// Spot v2 levels: [{"price":45283.5,"qty":0.10000000}, ...].
Errc spot_levels(od::array arr, Side side, const EventHeader& h, EventBuffer& out, std::uint32_t& n, unsigned& pd,
                 unsigned& qd) noexcept {
  for (auto item : arr) {
    od::object lv;
    if (item.get_object().get(lv)) return Errc::wrong_type;
    Event* ev = out.push();
    if (!ev) return Errc::capacity;
    ev->h = h;
    ev->h.type = EventType::book_level;
    ev->level = BookLevel{};
    ev->level.side = side;
    bool have_price = false, have_qty = false;
    for (auto f : lv) {
      std::string_view key;
      if (f.unescaped_key().get(key)) return Errc::wrong_type;
      od::value v;
      if (f.value().get(v)) return Errc::wrong_type;
      Errc e = Errc::ok;
      if (key == "price")
        e = fixed_of(v, ev->level.price, &pd), have_price = true;
      else if (key == "qty")
        e = fixed_of(v, ev->level.qty, &qd), have_qty = true;
      if (e != Errc::ok) return e;
    }
    if (!have_price || !have_qty) return Errc::missing_field;
    ++n;
  }
  return Errc::ok;
}

// Futures levels: [{"price":34892.5,"qty":6385}, ...] (no checksum: decimals not needed).
Errc futures_levels(od::array arr, Side side, const EventHeader& h, EventBuffer& out, std::uint32_t& n) noexcept {
  unsigned unused = 0;
  return spot_levels(arr, side, h, out, n, unused, unused);
}

static_assert(Price::kDigits == Qty::kDigits && Price::kDigits == 10,
              "put_scaled's table assumes 10 fractional digits");
constexpr std::int64_t kPow10[] = {1,       10,       100,       1000,       10000,      100000,
                                   1000000, 10000000, 100000000, 1000000000, 10000000000};

// Digits of the level's value scaled to `decimals` fractional digits, leading zeros stripped (a zero
// value writes nothing, as stripping every zero of "0.0" leaves nothing).
std::size_t put_scaled(char* p, std::int64_t raw, unsigned decimals) noexcept {
  const unsigned d = std::min<unsigned>(decimals, Price::kDigits);
  std::uint64_t v =
      static_cast<std::uint64_t>(raw < 0 ? -raw : raw) / static_cast<std::uint64_t>(kPow10[Price::kDigits - d]);
  char tmp[20];
  std::size_t n = 0;
  while (v != 0) {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  for (std::size_t i = 0; i < n; ++i) p[i] = tmp[n - 1 - i];
  return n;
}

}  // namespace

// ---- decoder --------------------------------------------------------------------------------------

Decoder::Decoder(Venue venue, InstrumentRegistry& registry, bool auto_register, bool validate_json)
    : venue_(venue),
      registry_(registry),
      auto_register_(auto_register),
      validate_json_(validate_json),
      cache_(new CacheEntry[kCacheSize]) {
  if (venue != Venue::kraken_spot && venue != Venue::kraken_futures)
    throw Error("kraken::Decoder: venue must be kraken-spot or kraken-futures, not '" + std::string(to_string(venue)) +
                "'");
  if (parser_.allocate(4u << 20) || validator_.allocate(4u << 20))
    throw Error("kraken::Decoder: cannot allocate the JSON parser");
}

Decoder::CacheEntry* Decoder::lookup(std::string_view sym) noexcept {
  if (sym.empty() || !Symbol::fits(sym)) return nullptr;
  std::size_t slot = json::fnv1a(sym) & (kCacheSize - 1);
  for (std::size_t probe = 0; probe < kCacheSize; ++probe, slot = (slot + 1) & (kCacheSize - 1)) {
    CacheEntry& c = cache_[slot];
    if (c.id == kInvalidInstrument) {
      auto found = registry_.find(venue_, sym);
      if (!found && auto_register_) [[unlikely]] {
        InstrumentSpec spec;
        spec.venue = venue_;
        spec.symbol = Symbol(sym);
        // Futures product ids: PF_ linear perpetual, PI_ inverse perpetual, FI_/FF_ fixed maturity.
        spec.kind = venue_ == Venue::kraken_spot ? InstrumentKind::spot
                    : sym.starts_with("PI_")     ? InstrumentKind::inverse_perpetual
                    : sym.starts_with("PF_")     ? InstrumentKind::linear_perpetual
                                                 : InstrumentKind::future;
        const auto added = registry_.add_seen(spec);
        if (added.ok()) found = added.value;
      }
      if (!found) return nullptr;
      c.symbol = Symbol(sym);
      c.id = *found;
      return &c;
    }
    if (c.symbol.view() == sym) return &c;
  }
  return nullptr;  // cache full (more than 512 symbols in one run): such symbols are ignored
}

DecodeResult Decoder::decode(std::string_view frame, std::size_t padded_capacity, std::uint64_t recv_tsc,
                             EventBuffer& out) noexcept {
  if (padded_capacity < frame.size() + simdjson::SIMDJSON_PADDING) [[unlikely]]
    return result(MessageKind::market_data, Errc::out_of_range, ErrorAction::skip);
  simdjson::dom::element checked;
  if (validate_json_ && validator_.parse(frame.data(), frame.size(), false).get(checked)) return malformed();
  od::document doc;
  if (parser_.iterate(simdjson::padded_string_view(frame.data(), frame.size(), padded_capacity)).get(doc))
    return malformed();
  od::object root;
  if (doc.get_object().get(root)) return malformed();
  const std::size_t first = out.size();
  const DecodeResult r =
      venue_ == Venue::kraken_spot ? decode_spot(root, recv_tsc, out) : decode_futures(root, recv_tsc, out);
  if (!r.ok()) out.truncate(first);
  return reject_impossible_values(r, out, first);
}

// {"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,..}
DecodeResult Decoder::spot_method(od::object root) noexcept {
  od::value v;
  bool found = false;
  if (opt(root, "success", v, found) != Errc::ok) return malformed();
  bool success = true;
  if (found && v.get_bool().get(success)) return malformed();
  if (!success) return result(MessageKind::control, Errc::unknown_message, ErrorAction::skip);
  if (opt(root, "result", v, found) != Errc::ok) return malformed();
  od::object res;
  if (!found || v.get_object().get(res)) return result(MessageKind::control);
  std::string_view channel, sym;
  if (field_str(res, "channel", channel) != Errc::ok || channel != "book") return result(MessageKind::control);
  od::value dv;
  std::uint64_t depth = 0;
  if (opt(res, "depth", dv, found) != Errc::ok) return malformed();
  if (found && u64_of(dv, depth) != Errc::ok) return malformed();
  if (field_str(res, "symbol", sym) != Errc::ok) return result(MessageKind::control);
  if (CacheEntry* c = lookup(sym); c && depth <= 0xFFFF) c->depth = static_cast<std::uint32_t>(depth);
  return result(MessageKind::control);
}

DecodeResult Decoder::decode_spot(od::object root, std::uint64_t recv_tsc, EventBuffer& out) noexcept {
  std::string_view channel, type;
  {
    od::value cv;
    bool found = false;
    if (opt(root, "channel", cv, found) != Errc::ok) return malformed();
    if (!found) {
      if (opt(root, "method", cv, found) != Errc::ok) return malformed();
      // Neither a channel message nor a method answer: not a spot v2 frame (futures data given as spot?).
      return found ? spot_method(root) : result(MessageKind::market_data, Errc::missing_field, ErrorAction::skip);
    }
    if (cv.get_string().get(channel)) return malformed();
  }
  if (channel == "heartbeat" || channel == "status") return result(MessageKind::control);
  enum class Kind { book, trade, ticker } kind;
  if (channel == "book")
    kind = Kind::book;
  else if (channel == "trade")
    kind = Kind::trade;
  else if (channel == "ticker")
    kind = Kind::ticker;
  else
    return result(MessageKind::ignored);
  const ErrorAction bad = kind == Kind::book ? ErrorAction::resync : ErrorAction::skip;
  if (const Errc e = field_str(root, "type", type); e != Errc::ok) return result(MessageKind::market_data, e, bad);
  const bool snapshot = type == "snapshot";
  if (!snapshot && type != "update") return result(MessageKind::market_data, Errc::out_of_range, bad);
  // The trade channel's snapshot is recent history, not new prints.
  if (kind == Kind::trade && snapshot) return result(MessageKind::ignored);
  od::array data;
  {
    od::value dv;
    if (const Errc e = field(root, "data", dv); e != Errc::ok) return result(MessageKind::market_data, e, bad);
    if (dv.get_array().get(data)) return result(MessageKind::market_data, Errc::wrong_type, bad);
  }
  const std::size_t start = out.size();
  const auto fail = [&](Errc e) noexcept {
    out.truncate(start);
    return result(MessageKind::market_data, e, e == Errc::capacity && kind != Kind::book ? ErrorAction::skip : bad);
  };
  const EventHeader base{recv_tsc, 0, kInvalidInstrument, venue_, EventType::none, 0};
  bool any_known = false;
  for (auto item : data) {
    od::object d;
    if (item.get_object().get(d)) return fail(Errc::wrong_type);
    if (kind == Kind::book) {
      // One pass in document order (symbol, bids, asks, checksum, timestamp); the instrument and the
      // venue time are filled in afterwards, whatever order the venue used.
      const std::size_t bi = out.size();
      Event* b = out.push();
      if (!b) return fail(Errc::capacity);
      b->h = base;
      b->h.type = EventType::book_batch;
      BookBatch batch{0, 0, 0, 0, 0, snapshot ? BookBatchKind::snapshot : BookBatchKind::delta, false, false};
      std::string_view sym;
      std::int64_t ts = 0;
      std::uint32_t n = 0;
      unsigned pd = 0, qd = 0;
      for (auto f : d) {
        std::string_view key;
        if (f.unescaped_key().get(key)) return fail(Errc::wrong_type);
        od::value v;
        if (f.value().get(v)) return fail(Errc::wrong_type);
        Errc e = Errc::ok;
        if (key == "bids" || key == "asks") {
          od::array arr;
          if (v.get_array().get(arr)) return fail(Errc::wrong_type);
          e = spot_levels(arr, key == "asks" ? Side::sell : Side::buy, base, out, n, pd, qd);
        } else if (key == "symbol") {
          e = v.get_string().get(sym) ? Errc::wrong_type : Errc::ok;
        } else if (key == "checksum") {
          std::uint64_t c = 0;
          e = u64_of(v, c);
          if (e == Errc::ok && c > UINT32_MAX) e = Errc::out_of_range;
          batch.checksum = static_cast<std::int32_t>(static_cast<std::uint32_t>(c));
          batch.has_checksum = true;
        } else if (key == "timestamp") {
          std::string_view s;
          if (v.get_string().get(s))
            e = Errc::wrong_type;
          else if (const auto t = coinbase::parse_time(s); t.ok())
            ts = t.value;
          else
            e = t.error;
        }
        if (e != Errc::ok) return fail(e);
      }
      const CacheEntry* c = lookup(sym);
      if (!c) {  // a symbol we do not follow: drop what this element produced
        out.truncate(bi);
        continue;
      }
      any_known = true;
      batch.level_count = n;
      for (std::size_t i = bi; i < out.size(); ++i) {
        Event& ev = const_cast<Event&>(out[i]);
        ev.h.instrument = c->id;
        ev.h.venue_time_ns = ts;
      }
      Event& be = const_cast<Event&>(out[bi]);
      be.batch = batch;
      be.h.aux = pack_book_aux(pd, qd, c->depth);
      continue;
    }
    std::string_view sym;
    if (const Errc e = field_str(d, "symbol", sym); e != Errc::ok) return fail(e);
    const CacheEntry* c = lookup(sym);
    if (!c) continue;
    any_known = true;
    Event* ev = out.push();
    if (!ev) return fail(Errc::capacity);
    ev->h = base;
    ev->h.instrument = c->id;
    Errc e = Errc::ok;
    if (kind == Kind::trade) {
      ev->h.type = EventType::trade;
      ev->trade = Trade{};
      std::string_view side;
      od::value v;
      if ((e = field_str(d, "side", side)) == Errc::ok && (e = side_of(side, ev->trade.aggressor)) == Errc::ok &&
          (e = field_fixed(d, "price", ev->trade.price)) == Errc::ok &&
          (e = field_fixed(d, "qty", ev->trade.qty)) == Errc::ok && (e = field(d, "trade_id", v)) == Errc::ok)
        e = u64_of(v, ev->trade.trade_id);
    } else {
      ev->h.type = EventType::bbo;
      ev->bbo = Bbo{};
      if ((e = field_fixed(d, "bid", ev->bbo.bid_price)) == Errc::ok &&
          (e = field_fixed(d, "bid_qty", ev->bbo.bid_qty)) == Errc::ok &&
          (e = field_fixed(d, "ask", ev->bbo.ask_price)) == Errc::ok)
        e = field_fixed(d, "ask_qty", ev->bbo.ask_qty);
    }
    if (e != Errc::ok) return fail(e);
    std::string_view ts;
    if (kind == Kind::trade && field_str(d, "timestamp", ts) == Errc::ok)
      if (const auto t = coinbase::parse_time(ts); t.ok()) ev->h.venue_time_ns = t.value;
  }
  if (!any_known) return result(MessageKind::ignored);
  return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data,
                      static_cast<std::uint32_t>(out.size() - start)};
}

DecodeResult Decoder::decode_futures(od::object root, std::uint64_t recv_tsc, EventBuffer& out) noexcept {
  {
    od::value ev;
    bool found = false;
    if (opt(root, "event", ev, found) != Errc::ok) return malformed();
    if (found) {
      std::string_view event;
      if (ev.get_string().get(event)) return malformed();
      // info, subscribed, unsubscribed, alert: nothing to decode; a rejected request is reported.
      if (event == "error" || event.ends_with("_failed"))
        return result(MessageKind::control, Errc::unknown_message, ErrorAction::skip);
      return result(MessageKind::control);
    }
  }
  std::string_view feed, product;
  if (const Errc e = field_str(root, "feed", feed);
      e != Errc::ok)  // not a Futures v1 frame (spot data given as futures?)
    return result(MessageKind::market_data, e, ErrorAction::skip);
  if (feed == "heartbeat") return result(MessageKind::control);
  enum class Kind { snapshot, book, trade, ticker } kind;
  if (feed == "book_snapshot")
    kind = Kind::snapshot;
  else if (feed == "book")
    kind = Kind::book;
  else if (feed == "trade")
    kind = Kind::trade;
  else if (feed == "ticker_lite")
    kind = Kind::ticker;
  else
    return result(MessageKind::ignored);  // trade_snapshot (history), ticker, ...
  const bool is_book = kind == Kind::snapshot || kind == Kind::book;
  const ErrorAction bad = is_book ? ErrorAction::resync : ErrorAction::skip;
  if (const Errc e = field_str(root, "product_id", product); e != Errc::ok)
    return result(MessageKind::market_data, e, bad);
  const CacheEntry* c = lookup(product);
  if (!c) return result(MessageKind::ignored);
  const std::size_t start = out.size();
  const auto fail = [&](Errc e) noexcept {
    out.truncate(start);
    return result(MessageKind::market_data, e, e == Errc::capacity && !is_book ? ErrorAction::skip : bad);
  };
  const EventHeader base{recv_tsc, 0, c->id, venue_, EventType::none, 0};
  Event* first = out.push();
  if (!first) return fail(Errc::capacity);
  first->h = base;
  std::uint64_t seq = 0, ms = 0;
  bool have_seq = false;
  std::uint32_t n = 0;
  if (kind == Kind::snapshot) {
    // The lookups above moved through the object: rewind it for one pass in document order.
    bool empty = false;
    if (root.reset().get(empty)) return fail(Errc::bad_format);
    for (auto f : root) {
      std::string_view key;
      if (f.unescaped_key().get(key)) return fail(Errc::wrong_type);
      od::value v;
      if (f.value().get(v)) return fail(Errc::wrong_type);
      Errc e = Errc::ok;
      if (key == "bids" || key == "asks") {
        od::array arr;
        if (v.get_array().get(arr)) return fail(Errc::wrong_type);
        e = futures_levels(arr, key == "asks" ? Side::sell : Side::buy, base, out, n);
      } else if (key == "seq") {
        e = u64_of(v, seq);
        have_seq = e == Errc::ok;
      } else if (key == "timestamp") {
        e = u64_of(v, ms);
      }
      if (e != Errc::ok) return fail(e);
    }
  } else if (kind == Kind::book) {
    Event* lv = out.push();
    if (!lv) return fail(Errc::capacity);
    lv->h = base;
    lv->h.type = EventType::book_level;
    lv->level = BookLevel{};
    std::string_view side;
    od::value v;
    Errc e = Errc::ok;
    if ((e = field_str(root, "side", side)) != Errc::ok || (e = side_of(side, lv->level.side)) != Errc::ok ||
        (e = field(root, "seq", v)) != Errc::ok || (e = u64_of(v, seq)) != Errc::ok ||
        (e = field_fixed(root, "price", lv->level.price)) != Errc::ok ||
        (e = field_fixed(root, "qty", lv->level.qty)) != Errc::ok)
      return fail(e);
    have_seq = true;
    n = 1;
    bool found = false;
    if (opt(root, "timestamp", v, found) != Errc::ok) return fail(Errc::bad_format);
    if (found) (void)u64_of(v, ms);
  } else if (kind == Kind::trade) {
    first->h.type = EventType::trade;
    first->trade = Trade{};
    std::string_view side, uid;
    od::value v;
    Errc e = Errc::ok;
    if ((e = field_str(root, "side", side)) != Errc::ok || (e = side_of(side, first->trade.aggressor)) != Errc::ok ||
        (e = field_fixed(root, "price", first->trade.price)) != Errc::ok ||
        (e = field_fixed(root, "qty", first->trade.qty)) != Errc::ok || (e = field_str(root, "uid", uid)) != Errc::ok)
      return fail(e);
    first->trade.trade_id = json::fnv1a(uid);
    bool found = false;
    if (opt(root, "time", v, found) != Errc::ok) return fail(Errc::bad_format);
    if (found) (void)u64_of(v, ms);
  } else {
    first->h.type = EventType::bbo;
    first->bbo = Bbo{};
    Errc e = Errc::ok;
    if ((e = field_fixed(root, "bid", first->bbo.bid_price)) != Errc::ok ||
        (e = field_fixed(root, "ask", first->bbo.ask_price)) != Errc::ok)
      return fail(e);
  }
  if (is_book) {
    if (!have_seq) return fail(Errc::missing_field);  // gap detection needs it
    first->h.type = EventType::book_batch;
    first->batch = BookBatch{
        seq, seq, 0, n, 0, kind == Kind::snapshot ? BookBatchKind::snapshot : BookBatchKind::delta, false, false};
  }
  const std::int64_t ns = json::ms_to_ns(ms);
  for (std::size_t i = start; i < out.size(); ++i) const_cast<Event&>(out[i]).h.venue_time_ns = ns;
  return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data,
                      static_cast<std::uint32_t>(out.size() - start)};
}

// ---- checksum and BookSync ------------------------------------------------------------------------

std::uint32_t book_checksum(const L2Book& book, unsigned price_decimals, unsigned qty_decimals) noexcept {
  // 10 levels x 2 sides x 2 numbers x at most 19 digits.
  char buf[kChecksumLevels * 2 * 2 * 20];
  std::size_t len = 0;
  for (const Side side : {Side::sell, Side::buy}) {  // asks low to high, then bids high to low
    const std::size_t n = std::min(kChecksumLevels, book.depth(side));
    for (std::size_t i = 0; i < n; ++i) {
      const Level& l = book.level(side, i);
      len += put_scaled(buf + len, l.price.raw(), price_decimals);
      len += put_scaled(buf + len, l.qty.raw(), qty_decimals);
    }
  }
  return static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(len)));
}

BookSync::BookSync(Venue venue, InstrumentId instrument, std::size_t max_levels_per_side)
    : venue_(venue), instrument_(instrument), book_(max_levels_per_side) {}

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
  if (e.h.instrument != instrument_ || e.h.venue != venue_) return {};
  if (e.h.type == EventType::book_batch) {
    SyncResult r{};
    if (remaining_ != 0) [[unlikely]] {  // the previous message's levels never all arrived
      remaining_ = 0;
      pending_ = Pending::none;
      r = lose_sync(Errc::bad_format);
    }
    cur_ = e.batch;
    cur_aux_ = e.h.aux;
    remaining_ = cur_.level_count;
    apply_error_ = Errc::ok;
    const bool futures = venue_ == Venue::kraken_futures;
    if (cur_.kind == BookBatchKind::snapshot) {
      pending_ = Pending::snapshot;
      book_.clear();
      price_decimals_ = aux_price_decimals(cur_aux_);
      qty_decimals_ = aux_qty_decimals(cur_aux_);
    } else if (state_ != SyncState::synced) {
      pending_ = Pending::drop;
    } else if (futures && cur_.seq <= last_seq_) {
      ++duplicates_;  // already applied (a repeated line, overlapping captures)
      pending_ = Pending::drop;
    } else if (futures && cur_.seq != last_seq_ + 1) {
      ++gaps_;
      pending_ = Pending::drop;
      r = lose_sync(Errc::sequence_gap);
    } else {
      pending_ = Pending::apply;
      // An update prints with the pair's precision too; a size like "0" says nothing about it.
      price_decimals_ = std::max(price_decimals_, aux_price_decimals(cur_aux_));
      qty_decimals_ = std::max(qty_decimals_, aux_qty_decimals(cur_aux_));
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

void BookSync::truncate_to_depth() noexcept {
  if (depth_ == 0) return;
  for (const Side side : {Side::buy, Side::sell})
    while (book_.depth(side) > depth_) (void)book_.apply(side, book_.level(side, book_.depth(side) - 1).price, Qty{});
}

SyncResult BookSync::finish() noexcept {
  const Pending p = pending_;
  pending_ = Pending::none;
  if (p != Pending::snapshot && p != Pending::apply) return {};
  if (apply_error_ != Errc::ok) return lose_sync(apply_error_);
  const bool futures = venue_ == Venue::kraken_futures;
  if (!futures) {
    if (p == Pending::snapshot) {
      // The subscribe answer names the depth; without it, the smallest allowed depth that holds the
      // snapshot (a snapshot carries min(depth, levels in the book) per side).
      depth_ = aux_depth(cur_aux_);
      if (depth_ == 0) {
        const std::size_t held = std::max(book_.depth(Side::buy), book_.depth(Side::sell));
        for (const std::uint32_t d : kSpotDepths)
          if (held <= d) {
            depth_ = d;
            break;
          }
      }
    }
    truncate_to_depth();
    if (cur_.has_checksum) {
      ++checksums_checked_;
      if (book_checksum(book_, price_decimals_, qty_decimals_) != static_cast<std::uint32_t>(cur_.checksum)) {
        ++checksum_mismatches_;
        return lose_sync(Errc::checksum_mismatch);
      }
    }
  }
  if (book_.crossed()) return lose_sync(Errc::crossed_book);
  if (futures && p == Pending::apply) ++sequence_checks_;
  last_seq_ = cur_.seq;
  state_ = SyncState::synced;
  return SyncResult{true, false, Errc::ok};
}

// ---- check ----------------------------------------------------------------------------------------

BookCheckResult check(const std::vector<std::string>& files, Venue venue, const BookCheckOptions& opt) {
  if (venue != Venue::kraken_spot && venue != Venue::kraken_futures)
    throw Error("kraken::check: venue must be kraken-spot or kraken-futures");
  BookCheckResult res;
  auto note = [&](std::string s) {
    if (res.notes.size() < opt.max_notes) res.notes.push_back(std::move(s));
  };
  std::vector<std::unique_ptr<CaptureReader>> readers;
  const std::vector<CapturedFrame> frames = read_merged(files, readers, CaptureReadOptions{.strict = opt.strict});

  InstrumentRegistry registry(4096);
  Decoder decoder(venue, registry, /*auto_register=*/true);
  EventBuffer out(1 << 16);
  std::map<InstrumentId, std::unique_ptr<BookSync>> books;
  std::uint64_t crossed = 0, tickers_compared = 0, tickers_agreeing = 0;
  for (const CapturedFrame& fr : frames) {
    if (fr.kind != FrameKind::ws_received) continue;
    ++res.frames;
    out.clear();
    const DecodeResult r = decoder.decode(fr.payload, fr.padded_capacity, 0, out);
    if (!r.ok() && r.kind != MessageKind::control) {
      ++res.errors;
      note("line " + std::to_string(fr.line_no) + ": decode failed: " + std::string(to_string(r.error)));
      continue;
    }
    bool used = false;
    for (const Event& e : out) {
      if (e.h.type == EventType::bbo) {
        // Neither ticker names the book state it reflects: compared in arrival order, reported, never
        // counted as a check or a mismatch.
        const auto it = books.find(e.h.instrument);
        if (it == books.end() || it->second->state() != SyncState::synced) continue;
        const L2Book& b = it->second->book();
        const Level *bid = b.best_bid(), *ask = b.best_ask();
        ++tickers_compared;
        if (bid && ask && bid->price == e.bbo.bid_price && ask->price == e.bbo.ask_price &&
            (e.bbo.bid_qty.is_zero() || bid->qty == e.bbo.bid_qty) &&
            (e.bbo.ask_qty.is_zero() || ask->qty == e.bbo.ask_qty))
          ++tickers_agreeing;
        continue;
      }
      if (e.h.type != EventType::book_batch && e.h.type != EventType::book_level) continue;
      auto& sync = books[e.h.instrument];
      if (!sync) sync = std::make_unique<BookSync>(venue, e.h.instrument);
      used = true;
      const auto c0 = sync->checksums_checked(), m0 = sync->checksum_mismatches(), s0 = sync->sequence_checks(),
                 g0 = sync->gaps(), r0 = sync->resyncs(), d0 = sync->duplicates();
      const SyncResult s = sync->on_event(e);
      res.checked += sync->checksums_checked() - c0 + sync->sequence_checks() - s0;
      res.mismatched += sync->checksum_mismatches() - m0;
      res.gaps += sync->gaps() - g0;
      res.resyncs += sync->resyncs() - r0;
      res.duplicates += sync->duplicates() - d0;
      if (s.error == Errc::crossed_book) {
        ++crossed;
        ++res.mismatched;  // a crossed book is a failed verification on either product
      }
      if (s.need_snapshot)
        note(std::string(registry.get(e.h.instrument).symbol.view()) + ": resync needed (" +
             std::string(to_string(s.error)) + ") at line " + std::to_string(fr.line_no));
    }
    if (!used) ++res.skipped;
  }
  res.bad_lines = bad_lines(readers);
  for (const auto& [id, sync] : books) {
    const std::string sym(registry.get(id).symbol.view());
    if (sync->checksums_checked() == 0 && sync->sequence_checks() == 0 && sync->state() != SyncState::synced)
      note(sym + ": no snapshot in the files; book never synced");
    else if (opt.verbose)
      note(venue == Venue::kraken_spot
               ? sym + ": checksums " + std::to_string(sync->checksums_checked()) + ", mismatched " +
                     std::to_string(sync->checksum_mismatches()) + ", depth " + std::to_string(sync->depth())
               : sym + ": updates in sequence " + std::to_string(sync->sequence_checks()) + ", gaps " +
                     std::to_string(sync->gaps()));
  }
  if (crossed) note(std::to_string(crossed) + " message(s) left a book crossed or locked");
  if (tickers_compared)
    note("ticker agreement (arrival order, loose: not counted as checks): " + std::to_string(tickers_agreeing) + "/" +
         std::to_string(tickers_compared));
  return res;
}

}  // namespace enigma::feed::kraken
