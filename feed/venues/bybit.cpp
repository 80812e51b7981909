#include "feed/venues/bybit.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "core/error.hpp"
#include "feed/capture_reader.hpp"
#include "feed/venues/json_fields.hpp"

namespace enigma::feed::bybit {

namespace {

InstrumentKind bybit_kind(Venue, std::string_view) noexcept { return InstrumentKind::linear_perpetual; }

namespace od = simdjson::ondemand;
using json::get_fixed;
using json::get_text;
using json::get_u64;
using json::key_of;

enum : std::uint32_t {
  kBidPx = 1u << 0, kBidQty = 1u << 1, kAskPx = 1u << 2, kAskQty = 1u << 3, kMark = 1u << 4, kIndex = 1u << 5,
  kFunding = 1u << 6, kNextFunding = 1u << 7,
};
constexpr std::uint32_t kBboFields = kBidPx | kBidQty | kAskPx | kAskQty;
constexpr std::uint32_t kMarkFields = kMark | kIndex | kFunding | kNextFunding;

enum class Topic : std::uint8_t { none, orderbook, trade, ticker, other };

struct Fields {
  Topic topic{Topic::none};
  bool snapshot{false};
  bool has_ts{false}, has_u{false}, has_success{false}, success{false}, has_op{false};
  std::uint64_t ts{0}, u{0}, cs{0};
  std::string_view s;  // orderbook "s" / tickers "symbol"
  std::uint32_t ticker_has{0};
  Price bid_px{}, ask_px{}, mark{}, index{};
  Qty bid_qty{}, ask_qty{};
  Rate funding{};
  std::uint64_t next_funding_ms{0};
  Event* first{nullptr};
  std::uint32_t levels{0};
  std::uint32_t trades{0};
  bool data_seen{false};
};

Topic topic_of(std::string_view t) noexcept {
  if (t.rfind("orderbook.", 0) == 0) return Topic::orderbook;
  if (t.rfind("publicTrade.", 0) == 0) return Topic::trade;
  if (t.rfind("tickers.", 0) == 0) return Topic::ticker;
  return Topic::other;
}

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

// One publicTrade element -> one Trade event (header stamped later except time and symbol).
Errc parse_trade(od::object obj, EventBuffer& out, Fields& f, std::string_view& symbol, std::int64_t& time_ns,
                 Event*& ev) noexcept {
  Price p{};
  Qty q{};
  std::uint64_t id = 0, t = 0;
  Side side = Side::buy;
  std::uint32_t seen = 0;
  for (auto fr : obj) {
    od::field fld;
    if (std::move(fr).get(fld)) return Errc::bad_format;
    const std::string_view k = key_of(fld);
    Errc e = Errc::ok;
    if (json::is(k, "p")) { e = get_fixed(fld.value(), p); seen |= 1; }
    else if (json::is(k, "v")) { e = get_fixed(fld.value(), q); seen |= 2; }
    else if (json::is(k, "T")) { e = get_u64(fld.value(), t); seen |= 4; }
    else if (json::is(k, "S")) {
      std::string_view s;
      e = get_text(fld.value(), s);
      if (json::is(s, "Buy")) side = Side::buy;
      else if (json::is(s, "Sell")) side = Side::sell;
      else e = Errc::bad_format;
      seen |= 8;
    } else if (json::is(k, "i")) {
      std::string_view s;
      e = get_text(fld.value(), s);
      id = json::id_from_text(s);
      seen |= 16;
    } else if (json::is(k, "s")) {
      e = get_text(fld.value(), symbol);
      seen |= 32;
    }
    if (e != Errc::ok) return e;
  }
  if (seen != 63) return Errc::missing_field;
  ev = out.push();
  if (ev == nullptr) return Errc::capacity;
  if (f.first == nullptr) f.first = ev;
  ev->h.type = EventType::trade;
  ev->trade = Trade{p, q, id, side};
  time_ns = json::ms_to_ns(t);
  ++f.trades;
  return Errc::ok;
}

ENIGMA_HOT Errc walk_data_object(od::object obj, Fields& f, EventBuffer& out) noexcept {
  for (auto fr : obj) {
    od::field fld;
    if (std::move(fr).get(fld)) [[unlikely]] return Errc::bad_format;
    const std::string_view k = key_of(fld);
    od::value v = fld.value();
    Errc e = Errc::ok;
    std::uint32_t bit = 0;
    if (json::is(k, "b")) e = parse_levels(v, Side::buy, out, f);
    else if (json::is(k, "a")) e = parse_levels(v, Side::sell, out, f);
    else if (json::is(k, "u")) { e = get_u64(v, f.u); f.has_u = true; }
    else if (json::is(k, "s") || json::is(k, "symbol")) e = get_text(v, f.s);
    else if (json::is(k, "bid1Price")) { e = get_fixed(v, f.bid_px); bit = kBidPx; }
    else if (json::is(k, "bid1Size")) { e = get_fixed(v, f.bid_qty); bit = kBidQty; }
    else if (json::is(k, "ask1Price")) { e = get_fixed(v, f.ask_px); bit = kAskPx; }
    else if (json::is(k, "ask1Size")) { e = get_fixed(v, f.ask_qty); bit = kAskQty; }
    else if (json::is(k, "markPrice")) { e = get_fixed(v, f.mark); bit = kMark; }
    else if (json::is(k, "indexPrice")) { e = get_fixed(v, f.index); bit = kIndex; }
    else if (json::is(k, "fundingRate")) { e = get_fixed(v, f.funding); bit = kFunding; }
    else if (json::is(k, "nextFundingTime")) { e = json::get_u64_text(v, f.next_funding_ms); bit = kNextFunding; }
    // An empty string means "not applicable" in Bybit tickers (spot has no funding): the field is absent.
    if (bit != 0 && e == Errc::empty) e = Errc::ok;
    else if (bit != 0 && e == Errc::ok) f.ticker_has |= bit;
    if (e != Errc::ok) [[unlikely]] return e;
  }
  return Errc::ok;
}

DecodeResult failure(Errc e, ErrorAction a) noexcept { return DecodeResult{e, a, MessageKind::market_data, 0}; }

}  // namespace

Decoder::Decoder(InstrumentRegistry& registry, bool auto_register)
    : symbols_(registry, Venue::bybit, auto_register, &bybit_kind), tickers_(kMaxMergedInstruments) {
  // A 500-level snapshot is ~25 KB; size once so no frame allocates.
  if (parser_.allocate(1u << 20)) throw Error("bybit::Decoder: cannot allocate simdjson parser buffers");
}

void Decoder::reset() noexcept {
  for (TickerState& t : tickers_) t = TickerState{};
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
  od::document doc;
  if (parser_.iterate(simdjson::padded_string_view(frame.data(), frame.size(), padded_capacity)).get(doc))
    [[unlikely]] return failure(Errc::bad_format, ErrorAction::skip);
  od::object obj;
  if (doc.get_object().get(obj)) [[unlikely]] return failure(Errc::wrong_type, ErrorAction::skip);

  Fields f;
  std::int64_t trade_time = 0;
  Errc err = Errc::ok;
  for (auto fr : obj) {
    od::field fld;
    if (std::move(fr).get(fld)) [[unlikely]] {
      err = Errc::bad_format;
      break;
    }
    const std::string_view k = key_of(fld);
    od::value v = fld.value();
    if (json::is(k, "topic")) {
      std::string_view t;
      err = get_text(v, t);
      f.topic = topic_of(t);
    } else if (json::is(k, "type")) {
      std::string_view t;
      err = get_text(v, t);
      f.snapshot = json::is(t, "snapshot");
    } else if (json::is(k, "ts")) {
      err = get_u64(v, f.ts);
      f.has_ts = true;
    } else if (json::is(k, "cs")) {
      err = get_u64(v, f.cs);
    } else if (json::is(k, "data")) {
      f.data_seen = true;
      od::json_type t;
      if (v.type().get(t)) {
        err = Errc::bad_format;
      } else if (t == od::json_type::object) {
        od::object d;
        err = v.get_object().get(d) ? Errc::wrong_type : walk_data_object(d, f, out);
      } else if (t == od::json_type::array) {
        od::array arr;
        if (v.get_array().get(arr)) err = Errc::wrong_type;
        for (auto elem : arr) {
          if (err != Errc::ok) break;
          od::object tobj;
          std::string_view sym;
          if (elem.get_object().get(tobj)) {
            err = Errc::wrong_type;
            break;
          }
          Event* ev = nullptr;
          err = parse_trade(tobj, out, f, sym, trade_time, ev);
          // Each trade is stamped with its own symbol and time now (symbols may differ inside one frame).
          if (err == Errc::ok) {
            const InstrumentId id = symbols_.find(sym);
            ev->h = EventHeader{recv_tsc, trade_time, id, Venue::bybit, EventType::trade, 0};
          }
        }
      }
    } else if (json::is(k, "success")) {
      f.has_success = true;
      err = v.get_bool().get(f.success) ? Errc::wrong_type : Errc::ok;
    } else if (json::is(k, "op")) {
      f.has_op = true;
    }
    if (err != Errc::ok) break;
  }
  const bool book_msg = f.topic == Topic::orderbook || f.levels > 0;
  if (err != Errc::ok) [[unlikely]] {
    out.truncate(start);
    return failure(err, book_msg || err == Errc::capacity ? ErrorAction::resync : ErrorAction::skip);
  }

  if (f.has_success && !f.success) return DecodeResult{Errc::unknown_message, ErrorAction::fatal, MessageKind::control, 0};
  if (f.topic == Topic::none || f.topic == Topic::other) {
    out.truncate(start);
    if (f.has_success || f.has_op) return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::control, 0};
    return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
  }

  const std::int64_t ts_ns = f.has_ts ? json::ms_to_ns(f.ts) : 0;
  if (f.topic == Topic::orderbook) {
    if (f.first == nullptr || !f.has_u || f.s.empty()) [[unlikely]] {
      out.truncate(start);
      return failure(Errc::missing_field, ErrorAction::resync);
    }
    const InstrumentId id = symbols_.find(f.s);
    if (id == kInvalidInstrument) {
      out.truncate(start);
      return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
    }
    // u == 1: the venue restarted and this is a full book, whatever "type" says.
    const BookBatchKind kind = f.snapshot || f.u == 1 ? BookBatchKind::snapshot : BookBatchKind::delta;
    f.first->batch = BookBatch{f.u, f.u, 0, f.levels, 0, kind, false, false};
    const std::size_t n = 1 + f.levels;
    for (std::size_t i = 0; i < n; ++i) {
      EventHeader& h = f.first[i].h;
      h = EventHeader{recv_tsc, ts_ns, id, Venue::bybit, h.type, 0};
    }
    return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::market_data, static_cast<std::uint32_t>(n)};
  }
  if (f.topic == Topic::trade) {
    // Drop trades for unknown symbols (their header carries kInvalidInstrument); trades are contiguous from f.first.
    std::size_t w = 0;
    for (std::uint32_t i = 0; i < f.trades; ++i) {
      if (f.first[i].h.instrument == kInvalidInstrument) continue;
      if (w != i) f.first[w] = f.first[i];
      ++w;
    }
    out.truncate(start + w);
    const auto n = static_cast<std::uint32_t>(w);
    return DecodeResult{Errc::ok, ErrorAction::none, n ? MessageKind::market_data : MessageKind::ignored, n};
  }

  // tickers
  out.truncate(start);
  if (f.s.empty()) return failure(Errc::missing_field, ErrorAction::skip);
  const InstrumentId id = symbols_.find(f.s);
  if (id == kInvalidInstrument) return DecodeResult{Errc::ok, ErrorAction::none, MessageKind::ignored, 0};
  TickerState merged{};
  TickerState* st = id < tickers_.size() ? &tickers_[id] : &merged;
  if (f.snapshot) *st = TickerState{};
  if (f.ticker_has & kBidPx) st->bid_px = f.bid_px;
  if (f.ticker_has & kBidQty) st->bid_qty = f.bid_qty;
  if (f.ticker_has & kAskPx) st->ask_px = f.ask_px;
  if (f.ticker_has & kAskQty) st->ask_qty = f.ask_qty;
  if (f.ticker_has & kMark) st->mark = f.mark;
  if (f.ticker_has & kIndex) st->index = f.index;
  if (f.ticker_has & kFunding) st->funding = f.funding;
  if (f.ticker_has & kNextFunding) st->next_funding_ns = json::ms_to_ns(f.next_funding_ms);
  st->have |= f.ticker_has;
  std::uint32_t n = 0;
  if ((st->have & kBboFields) == kBboFields && (f.ticker_has & kBboFields)) {
    Event* ev = out.push();
    if (ev == nullptr) return failure(Errc::capacity, ErrorAction::skip);
    ev->h = EventHeader{recv_tsc, ts_ns, id, Venue::bybit, EventType::bbo, 0};
    ev->bbo = Bbo{f.cs, st->bid_px, st->bid_qty, st->ask_px, st->ask_qty};
    ++n;
  }
  if (f.ticker_has & kMarkFields) {
    Event* ev = out.push();
    if (ev == nullptr) {
      out.truncate(start);
      return failure(Errc::capacity, ErrorAction::skip);
    }
    ev->h = EventHeader{recv_tsc, ts_ns, id, Venue::bybit, EventType::mark, 0};
    ev->mark = MarkFunding{st->mark, st->index, st->funding, st->next_funding_ns};
    ++n;
  }
  return DecodeResult{Errc::ok, ErrorAction::none, n ? MessageKind::market_data : MessageKind::ignored, n};
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
  if (e.h.instrument != instrument_) return {};
  if (e.h.type == EventType::book_batch) {
    SyncResult interrupted{};
    if (remaining_ > 0 && mode_ == Mode::applying) [[unlikely]] {  // previous batch lost its tail
      remaining_ = 0;
      ++stats_.gaps;
      interrupted = fail(Errc::sequence_gap);
    }
    const BookBatch& b = e.batch;
    remaining_ = b.level_count;
    // Already in the book (the same capture twice, overlapping captures, a repeated line): a delta with
    // u <= the last applied u, or a snapshot between the last snapshot applied and it (u = 1 is the
    // venue's restart snapshot and always applies).
    if (state_ == SyncState::synced && b.seq <= last_u_ &&
        (b.kind == BookBatchKind::delta || (b.seq != 1 && b.seq >= last_snapshot_u_))) {
      ++stats_.duplicates;
      mode_ = remaining_ ? Mode::dropping : Mode::idle;
      return interrupted;
    }
    if (b.kind == BookBatchKind::snapshot) {
      last_snapshot_u_ = b.seq;
      book_.clear();
      ++stats_.snapshots;
      // The book is unverified while the snapshot's levels are applied.
      state_ = SyncState::awaiting_snapshot;
      last_u_ = b.seq;
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
    if (b.seq != last_u_ + 1) {
      ++stats_.gaps;
      return fail(Errc::sequence_gap);
    }
    last_u_ = b.seq;
    // Deltas mutate a published book: it stays "synced" only if the batch completes and verifies.
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
  if (venue != Venue::bybit) throw Error("bybit::check: venue '" + std::string(to_string(venue)) + "' is not bybit");
  BookCheckResult r;
  std::vector<std::unique_ptr<CaptureReader>> readers;
  const std::vector<CapturedFrame> frames = read_merged(files, readers, CaptureReadOptions{.strict = opt.strict});
  r.frames = frames.size();
  r.bad_lines = bad_lines(readers);
  InstrumentRegistry registry(4096);
  if (!opt.exchange_info.empty()) registry.set_catalogue(opt.exchange_info);  // the venue's tick and lot per symbol
  Decoder decoder(registry, true);
  EventBuffer out(1u << 16);
  std::map<InstrumentId, std::unique_ptr<BookSync>> books;
  auto note = [&](std::string s) {
    if (r.notes.size() < opt.max_notes) r.notes.push_back(std::move(s));
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
    bool book_seen = false;
    for (const Event& e : out) {
      if (e.h.type != EventType::book_batch && e.h.type != EventType::book_level) continue;
      book_seen = true;
      auto& sync = books[e.h.instrument];
      if (!sync) sync = std::make_unique<BookSync>(e.h.instrument, 16384);
      const SyncResult sr = sync->on_event(e);
      if (sr.book_changed) ++r.checked;
      if (sr.need_snapshot && sr.error == Errc::crossed_book) {
        ++r.checked;
        ++r.mismatched;
        note("line " + std::to_string(f.line_no) + ": book crossed after u=" + std::to_string(sync->last_seq()));
      } else if (sr.need_snapshot && sr.error == Errc::sequence_gap) {
        note("line " + std::to_string(f.line_no) + ": gap at u=" + std::to_string(e.batch.seq) + " after " +
             std::to_string(sync->last_seq()));
      }
    }
    if (!book_seen) ++r.skipped;
  }
  for (const auto& [id, sync] : books) {
    r.gaps += sync->stats().gaps;
    r.resyncs += sync->stats().resyncs;
    r.duplicates += sync->stats().duplicates;
    note(std::string(registry.get(id).symbol.view()) + ": " + (sync->synced() ? "synced" : "not synced") +
         " snapshots=" + std::to_string(sync->stats().snapshots) + " applied=" + std::to_string(sync->stats().applied) +
         " last_u=" + std::to_string(sync->last_seq()) + " levels=" +
         std::to_string(sync->book().depth(Side::buy)) + "/" + std::to_string(sync->book().depth(Side::sell)) +
         grid_check(opt, registry, id, sync->book(), r));
  }
  r.check_kind = "book updates applied without crossing (no venue top of book compared)";
  return r;
}

}  // namespace enigma::feed::bybit
