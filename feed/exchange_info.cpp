#include "feed/exchange_info.hpp"

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <optional>

#include "core/error.hpp"
#include "feed/capture_reader.hpp"

namespace enigma::feed {
namespace {

namespace dom = simdjson::dom;

// One entry of the list, for messages: "FILE: symbols[12] 'BTCUSDT'".
struct Entry {
  dom::object obj;
  std::string at;
  std::string symbol;  // once known (name_entry)
};

[[noreturn]] void fail(const std::string& at, const std::string& why) { throw Error(at + ": " + why); }

std::optional<dom::element> field(const Entry& e, std::string_view key) {
  dom::element v;
  if (e.obj[key].get(v)) return std::nullopt;
  return v;
}

std::string text(const Entry& e, std::string_view key, bool required = true) {
  const auto v = field(e, key);
  std::string_view s;
  if (!v || v->is_null()) {
    if (required) fail(e.at, "no '" + std::string(key) + "'");
    return {};
  }
  if (v->get_string().get(s)) fail(e.at, "'" + std::string(key) + "' is not a string");
  return std::string(s);
}

// A decimal given as a string ("0.01") or a number (KuCoin Futures: 0.1, 1), as its exact decimal text: a
// double is written back in its shortest round-trip form, which for the venues' short decimals is the text
// they sent.
std::string decimal_text(const Entry& e, std::string_view key, dom::element v) {
  std::string_view s;
  if (!v.get_string().get(s)) return std::string(s);
  std::int64_t i = 0;
  if (!v.get_int64().get(i)) return std::to_string(i);
  double d = 0;
  if (!v.get_double().get(d)) {
    char buf[64];
    const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    if (ec == std::errc{}) return std::string(buf, p);
  }
  fail(e.at, "'" + std::string(key) + "' is not a decimal");
}

// A well-formed decimal that enigma's 64-bit fixed point (10 decimals) cannot hold: a tick or lot finer than
// 1e-10 (OKX lists tickSz 0.00000000001) or a size above ~9.2e8. Such an instrument cannot be priced or
// sized exactly, so it is skipped and named (ExchangeInfo::unrepresentable), not refused with its file.
struct Unrepresentable {};

bool well_formed_decimal(std::string_view t) {
  std::size_t i = 0, digits = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  }
  return digits > 0 && i == t.size();
}

// `max_size`: a maximum above enigma's range is no practical limit (F::max()), e.g. Binance's 46116860414.
template <class F>
std::optional<F> decimal(const Entry& e, std::string_view key, bool required, bool max_size = false) {
  const auto v = field(e, key);
  if (!v || v->is_null()) {
    if (required) fail(e.at, "no '" + std::string(key) + "'");
    return std::nullopt;
  }
  const std::string t = decimal_text(e, key, *v);
  if (t.empty() && !required) return std::nullopt;  // OKX writes "" for fields an instrument type lacks
  const Result<F> r = F::parse(t);
  if (r) return r.value;
  if (!well_formed_decimal(t)) fail(e.at, "'" + std::string(key) + "' = '" + t + "' is not a decimal");
  std::string_view frac = t.find('.') == std::string::npos ? std::string_view() : std::string_view(t).substr(t.find('.') + 1);
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  if (max_size && frac.size() <= 10) return F::max();  // too large, not too fine
  throw Unrepresentable{};
}

Entry sub_entry(const Entry& e, std::string_view key) {
  const auto v = field(e, key);
  dom::object o;
  if (!v || v->get_object().get(o)) fail(e.at, "no '" + std::string(key) + "' object");
  return Entry{o, e.at + "." + std::string(key), e.symbol};
}

// The spec's sizes must make sense before anything relies on them.
void check(const Entry& e, const InstrumentSpec& s) {
  if (s.tick.raw() <= 0) fail(e.at, "tick " + s.tick.to_string() + " is not positive");
  if (s.lot.raw() <= 0) fail(e.at, "lot " + s.lot.to_string() + " is not positive");
  if (s.multiplier.raw() <= 0) fail(e.at, "contract size " + s.multiplier.to_string() + " is not positive");
  if (s.min_qty > s.max_qty) fail(e.at, "minimum size " + s.min_qty.to_string() + " above maximum " + s.max_qty.to_string());
}

InstrumentSpec base(Venue venue, const Entry& e, const std::string& symbol) {
  if (symbol.empty() || !Symbol::fits(symbol))
    fail(e.at, "symbol '" + symbol + "' is empty or longer than " + std::to_string(Symbol::kCapacity) + " characters");
  InstrumentSpec s;
  s.venue = venue;
  s.symbol = Symbol(symbol);
  s.source = SpecSource::exchange_info;
  return s;
}

// The array of instruments at `path` (keys from the root), each entry named "FILE: path[i]".
template <class Fn>
void for_each_entry(dom::element root, std::initializer_list<std::string_view> path, const std::string& where,
                    ExchangeInfo& out, Fn&& fn) {
  dom::element v = root;
  std::string name;
  for (std::string_view k : path) {
    name += name.empty() ? std::string(k) : "." + std::string(k);
    dom::object o;
    if (v.get_object().get(o) || o[k].get(v)) fail(where, "no '" + name + "' (not this venue's exchange-info answer?)");
  }
  dom::array arr;
  if (v.get_array().get(arr)) fail(where, "'" + name + "' is not an array");
  std::size_t i = 0;
  for (dom::element item : arr) {
    dom::object o;
    const std::string at = where + ": " + name + "[" + std::to_string(i) + "]";
    if (item.get_object().get(o)) fail(at, "not an object");
    Entry e{o, at};
    try {
      fn(e);
    } catch (const Unrepresentable&) {
      out.unrepresentable.push_back(e.symbol);
    }
    ++i;
  }
}

// Names the entry by its symbol from here on.
void name_entry(Entry& e, const std::string& symbol) {
  e.at += " '" + symbol + "'";
  e.symbol = symbol;
}

void binance(Venue venue, dom::element root, const std::string& where, ExchangeInfo& out) {
  for_each_entry(root, {"symbols"}, where, out, [&](Entry& e) {
    const std::string sym = text(e, "symbol");
    name_entry(e, sym);
    InstrumentSpec s = base(venue, e, sym);
    if (venue == Venue::binance_spot) {
      s.kind = InstrumentKind::spot;
    } else {
      // CURRENT_QUARTER, NEXT_MONTH, ...: dated; PERPETUAL, PERPETUAL_DELIVERING, and "" (pending listing) not.
      const std::string contract = text(e, "contractType");
      const bool dated = contract.starts_with("CURRENT_") || contract.starts_with("NEXT_");
      s.kind = dated ? InstrumentKind::future
               : venue == Venue::binance_coinm ? InstrumentKind::inverse_perpetual
                                               : InstrumentKind::linear_perpetual;
    }
    bool price = false, lot = false;
    const auto filters = field(e, "filters");
    dom::array arr;
    if (!filters || filters->get_array().get(arr)) fail(e.at, "no 'filters' array");
    for (dom::element f : arr) {
      dom::object fo;
      if (f.get_object().get(fo)) fail(e.at, "a filter is not an object");
      const Entry fe{fo, e.at + " filters", e.symbol};
      const std::string type = text(fe, "filterType");
      if (type == "PRICE_FILTER") {
        s.tick = *decimal<Price>(fe, "tickSize", true);
        price = true;
      } else if (type == "LOT_SIZE") {
        s.lot = *decimal<Qty>(fe, "stepSize", true);
        s.min_qty = *decimal<Qty>(fe, "minQty", true);
        s.max_qty = *decimal<Qty>(fe, "maxQty", true, true);
        lot = true;
      }
    }
    if (!price) fail(e.at, "no PRICE_FILTER");
    if (!lot) fail(e.at, "no LOT_SIZE filter");
    check(e, s);
    out.specs.push_back(s);
  });
}

void kucoin(Venue venue, dom::element root, const std::string& where, ExchangeInfo& out) {
  for_each_entry(root, {"data"}, where, out, [&](Entry& e) {
    const std::string sym = text(e, "symbol");
    name_entry(e, sym);
    InstrumentSpec s = base(venue, e, sym);
    if (venue == Venue::kucoin_spot) {
      s.kind = InstrumentKind::spot;
      s.tick = *decimal<Price>(e, "priceIncrement", true);
      s.lot = *decimal<Qty>(e, "baseIncrement", true);
      s.min_qty = *decimal<Qty>(e, "baseMinSize", true);
      if (auto mx = decimal<Qty>(e, "baseMaxSize", false, true)) s.max_qty = *mx;
    } else {
      bool inverse = false;
      if (const auto v = field(e, "isInverse"); !v || v->get_bool().get(inverse)) fail(e.at, "no 'isInverse' boolean");
      // type FFWCSX: perpetual; FFICSX: dated future.
      const std::string type = text(e, "type");
      s.kind = type == "FFICSX" ? InstrumentKind::future
               : inverse        ? InstrumentKind::inverse_perpetual
                                : InstrumentKind::linear_perpetual;
      s.tick = *decimal<Price>(e, "tickSize", true);
      s.lot = *decimal<Qty>(e, "lotSize", true);
      s.min_qty = s.lot;
      if (auto mx = decimal<Qty>(e, "maxOrderQty", false, true)) s.max_qty = *mx;
      if (!inverse) s.multiplier = *decimal<Qty>(e, "multiplier", true);
    }
    check(e, s);
    out.specs.push_back(s);
  });
}

void okx(dom::element root, const std::string& where, ExchangeInfo& out) {
  for_each_entry(root, {"data"}, where, out, [&](Entry& e) {
    const std::string sym = text(e, "instId");
    name_entry(e, sym);
    const std::string type = text(e, "instType");
    if (type == "OPTION") {
      ++out.skipped_options;
      return;
    }
    InstrumentSpec s = base(Venue::okx, e, sym);
    const bool inverse = text(e, "ctType", false) == "inverse";
    if (type == "SPOT" || type == "MARGIN") s.kind = InstrumentKind::spot;
    else if (type == "SWAP") s.kind = inverse ? InstrumentKind::inverse_perpetual : InstrumentKind::linear_perpetual;
    else if (type == "FUTURES") s.kind = InstrumentKind::future;
    else fail(e.at, "instType '" + type + "' is not SPOT, MARGIN, SWAP, FUTURES or OPTION");
    s.tick = *decimal<Price>(e, "tickSz", true);
    s.lot = *decimal<Qty>(e, "lotSz", true);
    s.min_qty = *decimal<Qty>(e, "minSz", true);
    if (s.kind != InstrumentKind::spot && !inverse)
      if (auto ct = decimal<Qty>(e, "ctVal", false)) s.multiplier = *ct;  // base per contract (0.01 BTC)
    check(e, s);
    out.specs.push_back(s);
  });
}

void bybit(dom::element root, const std::string& where, ExchangeInfo& out) {
  std::string category;
  {
    dom::element c;
    std::string_view cv;
    if (!root["result"]["category"].get(c) && !c.get_string().get(cv)) category = std::string(cv);
  }
  for_each_entry(root, {"result", "list"}, where, out, [&](Entry& e) {
    const std::string sym = text(e, "symbol");
    name_entry(e, sym);
    if (category == "option" || field(e, "optionsType")) {
      ++out.skipped_options;
      return;
    }
    InstrumentSpec s = base(Venue::bybit, e, sym);
    const std::string contract = text(e, "contractType", false);
    if (category == "spot" || contract.empty()) s.kind = InstrumentKind::spot;
    else if (contract == "LinearPerpetual") s.kind = InstrumentKind::linear_perpetual;
    else if (contract == "InversePerpetual") s.kind = InstrumentKind::inverse_perpetual;
    else s.kind = InstrumentKind::future;
    const Entry price = sub_entry(e, "priceFilter");
    const Entry size = sub_entry(e, "lotSizeFilter");
    s.tick = *decimal<Price>(price, "tickSize", true);
    // Spot states its step as basePrecision; derivatives as qtyStep.
    const auto step = decimal<Qty>(size, "qtyStep", false);
    s.lot = step ? *step : *decimal<Qty>(size, "basePrecision", true);
    s.min_qty = *decimal<Qty>(size, "minOrderQty", true);
    if (auto mx = decimal<Qty>(size, "maxOrderQty", false, true)) s.max_qty = *mx;
    check(e, s);
    out.specs.push_back(s);
  });
}

}  // namespace

ExchangeInfo parse_exchange_info(Venue venue, std::string_view body, const std::string& where) {
  dom::parser parser;
  dom::element root;
  const simdjson::padded_string padded(body);
  if (const auto err = parser.parse(padded).get(root))
    throw Error(where + ": not JSON (" + std::string(simdjson::error_message(err)) + ")");
  ExchangeInfo out;
  switch (venue) {
    case Venue::binance_usdm:
    case Venue::binance_coinm:
    case Venue::binance_spot: binance(venue, root, where, out); break;
    case Venue::kucoin_futures:
    case Venue::kucoin_spot: kucoin(venue, root, where, out); break;
    case Venue::okx: okx(root, where, out); break;
    case Venue::bybit: bybit(root, where, out); break;
    default:
      throw Error(where + ": no exchange-info reader for " + std::string(to_string(venue)) +
                  " (binance-usdm, binance-coinm, binance-spot, kucoin-futures, kucoin-spot, okx, bybit)");
  }
  if (out.specs.empty() && out.skipped_options == 0 && out.unrepresentable.empty()) throw Error(where + ": lists no instrument");
  return out;
}

ExchangeInfo load_exchange_info(Venue venue, const std::string& path) {
  std::string body;
  try {
    body = read_file_decompressed(path);
  } catch (const Error& e) {
    throw Error("exchange info '" + path + "': " + e.what());
  }
  return parse_exchange_info(venue, body, "exchange info '" + path + "'");
}

}  // namespace enigma::feed
