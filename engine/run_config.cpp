#include "engine/run_config.hpp"

#include <algorithm>
#include <string_view>
#include <vector>
#include <cctype>
#include <array>
#include <ostream>
#include <optional>
#include <type_traits>

#include "core/error.hpp"
#include "feed/exchange_info.hpp"
#include "engine/tuned_params.hpp"
#include "oms/venues/venue_kit.hpp"

namespace enigma::engine {

namespace {

Venue read_venue(config::TableReader& t, std::string_view key, std::optional<Venue> dflt) {
  return t.choice<Venue>(key, dflt,
                         {{"binance-usdm", Venue::binance_usdm},
                          {"binance-coinm", Venue::binance_coinm},
                          {"binance-spot", Venue::binance_spot},
                          {"kucoin-futures", Venue::kucoin_futures},
                          {"kucoin-spot", Venue::kucoin_spot},
                          {"okx", Venue::okx},
                          {"bybit", Venue::bybit},
                          {"coinbase", Venue::coinbase},
                          {"kraken-spot", Venue::kraken_spot},
                          {"kraken-futures", Venue::kraken_futures}});
}

std::string sym_text(const InstrumentSpec& s) { return std::string(s.symbol.view()); }

}  // namespace

bool has_live_order_entry(Venue venue) noexcept { return oms::live_venue_rules(venue) != nullptr; }

void refuse_live_order_entry(Venue venue, const std::string& config) {
  throw Error(config + ": live order entry supports venues binance-usdm, kucoin-futures, bybit and okx, not '" +
              std::string(to_string(venue)) + "'");
}

namespace {

risk::TokenBucketConfig read_bucket(config::TableReader& t, std::string_view prefix, risk::TokenBucketConfig d) {
  const std::string ps = std::string(prefix) + "_per_second";
  const std::string b = std::string(prefix) + "_burst";
  d.per_second = static_cast<std::uint32_t>(t.integer(ps, d.per_second, 1, 1'000'000));
  d.burst = static_cast<std::uint32_t>(t.integer(b, d.burst, 1, 1'000'000));
  return d;
}

// `default_id`: 0 for [strategy]; a [[strategy]] entry's index, so entries without an id get distinct ones.
// [strategy.confluence] include = "<best.toml>" (engine/tuned_params.hpp), or the same seven keys inline:
// all of them or none, and never one both ways.
void read_tuned_keys(config::TableReader& s, strategy::ConfluenceConfig& c) {
  static constexpr std::array<std::string_view, 7> kKeys{"rsi_period",    "rsi_oversold",    "rsi_overbought", "min_score",
                                                         "stop_loss_roi", "take_profit_roi", "leverage"};
  std::size_t inline_keys = 0;
  for (std::string_view k : kKeys) inline_keys += s.has(k) ? 1 : 0;
  if (s.has("include")) {
    const std::string path = s.string("include", std::nullopt);
    if (inline_keys != 0)
      for (std::string_view k : kKeys)
        if (s.has(k))
          s.fail(k, std::string(k) + " is set here and by include = \"" + path + "\": give it one way");
    TunedParams p;
    try {
      p = read_tuned_params(path);
    } catch (const Error& e) {
      s.fail("include", std::string("cannot use the tuned parameters: ") + e.what());
    }
    apply_tuned_params(p, c);
    return;
  }
  if (inline_keys == 0) return;
  if (inline_keys != kKeys.size())
    for (std::string_view k : kKeys)
      if (!s.has(k))
        s.fail(k, "the tuned-parameter keys go together (rsi_period, rsi_oversold, rsi_overbought, min_score, "
                  "stop_loss_roi, take_profit_roi, leverage): " + std::string(k) + " is missing");
  apply_tuned_params(engine::read_tuned_keys(s), c);
}

void read_common(config::TableReader& t, strategy::StrategyCommonConfig& c, const RunConfig& rc,
                 std::int64_t default_id) {
  c.strategy_id = static_cast<std::uint16_t>(t.integer(
      "id", std::min<std::int64_t>(default_id, oms::kMaxEntryStrategies - 1), 0, oms::kMaxEntryStrategies - 1));
  const auto inst = t.integer("instrument", 0, 0, 1023);
  if (static_cast<std::size_t>(inst) >= rc.instruments.size())
    t.fail("instrument", "no [[instrument]] with index " + std::to_string(inst));
  c.instrument = static_cast<InstrumentId>(inst);
  c.order_qty = t.decimal<Qty>("order_qty", Qty::from_units(1), Qty::from_raw(1));
  const InstrumentEntry& e = rc.instruments[inst];
  c.tick = e.spec.tick;
  c.lot = e.spec.lot;
  // What the venue or the risk gate would refuse on every signal is refused here, once, at start-up.
  const std::string qty = "order_qty = \"" + c.order_qty.to_string() + "\"";
  const std::string sym = "instrument '" + std::string(e.spec.symbol.view()) + "'";
  if (!c.order_qty.is_multiple_of(e.spec.lot))
    t.fail("order_qty", qty + " is not a multiple of " + sym + "'s lot " + e.spec.lot.to_string());
  if (c.order_qty < e.spec.min_qty)
    t.fail("order_qty", qty + " is below " + sym + "'s min_qty " + e.spec.min_qty.to_string());
  if (c.order_qty > e.limits.max_order_qty)
    t.fail("order_qty", qty + " is above " + sym + "'s max_order_qty " + e.limits.max_order_qty.to_string() +
                            ": the risk gate would refuse every entry");
  if (c.order_qty > e.limits.max_position_qty)
    t.fail("order_qty", qty + " is above " + sym + "'s max_position_qty " + e.limits.max_position_qty.to_string());
}

// `entry_pricing` / `entry_level` of one strategy's table: "intent" (the strategy's own price and order
// kind; default) or "level" (a passive limit at the entry_level-th book level, [oms] entry_level by default).
// `execution` ("single" | "twap" | "iceberg") with `slices` + `slice_interval_ms` (twap) or `display_qty`
// (iceberg): how the entry is sliced (oms::ExecAlgo). `c` (the common keys, read first) sizes the children.
struct EntryPricingKeys {
  oms::EntryMode mode{oms::EntryMode::intent};
  std::optional<std::int64_t> level;  // 1-based
  oms::ExecAlgo exec{oms::ExecAlgo::single};
  std::uint16_t slices{1};
  std::int64_t slice_interval_ns{0};
  Qty display_qty{};
  bool iceberg_native{true};
  std::int64_t vwap_horizon_ns{0};
};

EntryPricingKeys read_entry_pricing(config::TableReader& s, const strategy::StrategyCommonConfig& c, Qty min_qty) {
  EntryPricingKeys k;
  k.mode = s.choice<oms::EntryMode>("entry_pricing", oms::EntryMode::intent,
                                    {{"intent", oms::EntryMode::intent}, {"level", oms::EntryMode::level}});
  if (s.has("entry_level")) {
    k.level = s.integer("entry_level", 9, 1, 10);
    if (k.mode != oms::EntryMode::level) s.fail("entry_level", "only used with entry_pricing = \"level\"");
  }
  k.exec = s.choice<oms::ExecAlgo>("execution", oms::ExecAlgo::single,
                                   {{"single", oms::ExecAlgo::single}, {"twap", oms::ExecAlgo::twap}, {"iceberg", oms::ExecAlgo::iceberg},
                                    {"vwap", oms::ExecAlgo::vwap}});
  const bool vwap = k.exec == oms::ExecAlgo::vwap;
  const bool twap = k.exec == oms::ExecAlgo::twap || vwap;  // vwap keeps the TWAP schedule
  const bool iceberg = k.exec == oms::ExecAlgo::iceberg;
  const std::string qty = "order_qty \"" + c.order_qty.to_string() + "\"";
  for (const char* key : {"slices", "slice_interval_ms"})
    if (s.has(key) != twap)
      s.fail(key, twap ? "required with execution = \"twap\" or \"vwap\"" : "only used with execution = \"twap\" or \"vwap\"");
  if (s.has("vwap_horizon_ms") != vwap)
    s.fail("vwap_horizon_ms", vwap ? "required with execution = \"vwap\"" : "only used with execution = \"vwap\"");
  if (vwap) k.vwap_horizon_ns = s.integer("vwap_horizon_ms", 60'000, 1, 86'400'000) * 1'000'000;
  if (s.has("display_qty") != iceberg)
    s.fail("display_qty", iceberg ? "required with execution = \"iceberg\"" : "only used with execution = \"iceberg\"");
  if (s.has("iceberg_native") && !iceberg) s.fail("iceberg_native", "only used with execution = \"iceberg\"");
  if (iceberg) k.iceberg_native = s.boolean("iceberg_native", true);
  if (twap) {
    k.slices = static_cast<std::uint16_t>(s.integer("slices", 2, 2, oms::kMaxExecSlices));
    k.slice_interval_ns = s.integer("slice_interval_ms", 1000, 1, 86'400'000) * 1'000'000;
    // The equal children are order_qty / slices rounded down to the lot; each must be a valid order.
    const std::int64_t lot = std::max<std::int64_t>(1, c.lot.raw());
    const Qty child = Qty::from_raw(c.order_qty.raw() / k.slices / lot * lot);
    if (child.raw() <= 0 || child < min_qty)
      s.fail("slices", qty + " in " + std::to_string(k.slices) + " slices is " + child.to_string() +
                           " per child, below the instrument's lot " + c.lot.to_string() + " / min_qty " + min_qty.to_string());
  }
  if (iceberg) {
    k.display_qty = s.decimal<Qty>("display_qty", std::nullopt, Qty::from_raw(1));
    const std::string shown = "display_qty \"" + k.display_qty.to_string() + "\"";
    if (!k.display_qty.is_multiple_of(c.lot))
      s.fail("display_qty", shown + " is not a multiple of the instrument's lot " + c.lot.to_string());
    if (k.display_qty < min_qty) s.fail("display_qty", shown + " is below the instrument's min_qty " + min_qty.to_string());
    if (k.display_qty >= c.order_qty) s.fail("display_qty", shown + " must be below " + qty + " (else it is one order)");
    if (c.order_qty.raw() / k.display_qty.raw() + 1 > oms::kMaxExecSlices)
      s.fail("display_qty", shown + " cuts " + qty + " into more than " + std::to_string(oms::kMaxExecSlices) + " children");
  }
  return k;
}

// A decimal fraction in (0, 1] from a string such as "0.5".
Rate parse_fraction(config::TableReader& t, std::string_view key, const std::string& text) {
  const Result<Rate> r = Rate::parse(text);
  if (!r.ok() || r.value.raw() <= 0 || r.value > Rate::from_units(1))
    t.fail(key, "'" + text + "' is not a decimal fraction in (0, 1]");
  return r.value;
}

// One strategy instance from `t` (`[strategy]` or a `[[strategy]]` entry, named `what` in errors): its kind
// (a registered strategy's name), common keys and the sub-table of every registered strategy present (each
// read by its Config::read, so a bad key fails even in a kind not used); returns the entry pricing of its kind.
EntryPricingKeys read_strategy(config::TableReader& t, const RunConfig& rc, StrategyInstance& out,
                               const std::string& what, std::int64_t default_id) {
  using Registry = strategy::RegisteredStrategies;
  const std::string kind = t.string("kind", "imbalance");
  if (const auto k = Registry::find(kind)) {
    out.kind = *k;
  } else {
    t.fail("kind", "expected one of " + strategy_kinds_text("|") + ", got \"" + kind + "\" (enigma strategies lists them)");
  }
  strategy::StrategyCommonConfig common;
  read_common(t, common, rc, default_id);
  std::array<EntryPricingKeys, Registry::size> pricing{};  // by kind
  Registry::for_each([&]<class S>(std::type_identity<S>, std::size_t i) {
    auto& c = out.config<typename S::Config>();
    if (auto s = t.optional_table(strategy::table_key(S::kName))) {
      pricing[i] = read_entry_pricing(*s, common, rc.instruments[common.instrument].spec.min_qty);
      c.read(*s);
      // The engine's own extra for one strategy: best.toml includes (engine/tuned_params.hpp).
      if constexpr (std::is_same_v<S, strategy::ConfluenceStrategy>) read_tuned_keys(*s, c);
      s->finish();
    }
    c.common = common;
  });
  t.finish();
  // The strategy's full validation now, so a bad combination fails before anything starts.
  try {
    (void)out.make();
  } catch (const Error& e) {
    throw Error(t.source() + ": " + what + ": " + e.what());
  }
  return pricing[out.kind];
}

}  // namespace

// [sim] order_latency = { dist = ..., ... } | order_latency_file = "path", latency_seed (oms/latency_model.hpp).
static void read_order_latency(config::TableReader& t, oms::SimConfig& s) {
  auto& m = s.order_latency_model;
  const bool has_dist = t.has("order_latency");
  const bool has_file = t.has("order_latency_file");
  if (has_dist && has_file) t.fail("order_latency_file", "give either order_latency or order_latency_file, not both");
  if ((has_dist || has_file) && t.has("order_latency_us"))
    t.fail("order_latency_us", std::string("order_latency_us is the constant model; ") +
                                   (has_file ? "order_latency_file" : "order_latency") + " replaces it");
  constexpr std::int64_t kMaxUs = 10'000'000;
  if (has_dist) {
    config::TableReader d = t.table("order_latency");
    m.dist = d.choice<oms::LatencyDist>("dist", std::nullopt,
                                        {{"constant", oms::LatencyDist::constant},
                                         {"uniform", oms::LatencyDist::uniform},
                                         {"normal", oms::LatencyDist::normal},
                                         {"lognormal", oms::LatencyDist::lognormal}});
    switch (m.dist) {
      case oms::LatencyDist::constant:
        s.order_latency_ns = d.integer("us", std::nullopt, 0, kMaxUs) * 1000;
        break;
      case oms::LatencyDist::uniform:
        m.a_ns = d.integer("min_us", std::nullopt, 0, kMaxUs) * 1000;
        m.b_ns = d.integer("max_us", std::nullopt, 0, kMaxUs) * 1000;
        if (m.a_ns > m.b_ns) d.fail("max_us", "must be >= min_us");
        break;
      case oms::LatencyDist::normal:
        m.a_ns = d.integer("mean_us", std::nullopt, 0, kMaxUs) * 1000;
        m.b_ns = d.integer("stddev_us", std::nullopt, 0, kMaxUs) * 1000;
        break;
      case oms::LatencyDist::lognormal:
        m.a_ns = d.integer("median_us", std::nullopt, 1, kMaxUs) * 1000;  // mu = ln(median)
        m.sigma = d.real("sigma", std::nullopt, 0.0, 5.0);
        break;
      case oms::LatencyDist::file:
        break;
    }
    d.finish();
  } else if (has_file) {
    m.dist = oms::LatencyDist::file;
    m.file = t.string("order_latency_file", std::nullopt);
    m.recorded_ns = oms::load_latency_file(m.file);  // throws "path:line: why"
  }
  const bool random = m.dist == oms::LatencyDist::uniform || m.dist == oms::LatencyDist::normal ||
                      m.dist == oms::LatencyDist::lognormal;
  if (t.has("latency_seed") && !random)
    t.fail("latency_seed", "only a random order_latency (uniform, normal, lognormal) draws from a seed");
  m.seed = static_cast<std::uint64_t>(t.integer("latency_seed", 1, 0));
}

RunConfig RunConfig::parse(std::string_view text, const std::string& source_name) {
  const config::Document doc = config::Document::parse(text, source_name);
  auto root = doc.root();
  RunConfig rc;
  rc.source = source_name;
  if (root.has("engine")) rc.engine = EngineConfig::read(root.table("engine"));
  if (root.has("log")) {
    auto t = root.table("log");
    rc.log_heartbeat_ns = t.integer("heartbeat_s", 1, 0, 86'400) * 1'000'000'000;
    if (t.has("format")) rc.engine.log_json = t.choice<bool>("format", false, {{"text", false}, {"json", true}});
    t.finish();
  }

  {
    auto t = root.table("replay");
    rc.venue = read_venue(t, "venue", Venue::binance_usdm);
    rc.data = t.string_list("data", std::vector<std::string>{});
    rc.speed = t.choice<Speed>("speed", Speed::max, {{"max", Speed::max}, {"recorded", Speed::recorded}});
    rc.runs_dir = t.string("runs_dir", std::string("runs"));
    t.finish();
  }

  // [exchange_info]: venue name = [files]. Read before [[instrument]], whose tick, lot, min_qty, kind and
  // (linear contracts) multiplier default to the venue's listing and must agree with it when given.
  InstrumentRegistry listing(0);
  if (auto t = root.optional_table("exchange_info")) {
    for (int v = 1; v < kVenueCount; ++v) {
      const Venue venue = static_cast<Venue>(v);
      const std::string key(to_string(venue));
      if (!t->has(key)) continue;
      const std::vector<std::string> files = t->string_list(key, std::nullopt);
      if (files.empty()) t->fail(key, "names no file");
      for (const std::string& path : files) {
        feed::ExchangeInfo info;
        try {
          info = feed::load_exchange_info(venue, path);
        } catch (const Error& e) {
          t->fail(key, e.what());
        }
        rc.exchange_info.push_back({venue, path, info.specs.size(), info.skipped_options, info.unrepresentable});
        rc.catalogue.insert(rc.catalogue.end(), info.specs.begin(), info.specs.end());
      }
    }
    t->finish();
    try {
      listing.set_catalogue(rc.catalogue);
    } catch (const Error& e) {
      throw Error(rc.source + ": [exchange_info]: " + e.what());
    }
  }
  const auto listed_files = [&](Venue v) {
    std::string out;
    for (const auto& f : rc.exchange_info)
      if (f.venue == v) out += (out.empty() ? "'" : ", '") + f.path + "'";
    return out;
  };

  std::vector<std::string> group_names;  // [[instrument]] group, in order of first use (ids from 1)
  for (auto t : root.table_array("instrument")) {
    InstrumentEntry e;
    e.spec.venue = read_venue(t, "venue", rc.venue);
    const std::string sym = t.string("symbol", std::nullopt);
    if (!Symbol::fits(sym)) t.fail("symbol", "longer than " + std::to_string(Symbol::kCapacity) + " characters");
    e.spec.symbol = Symbol(sym);
    const InstrumentSpec* listed = listing.catalogued(e.spec.venue, sym);
    const std::string files = listed_files(e.spec.venue);
    for (const auto& f : rc.exchange_info)
      if (listed == nullptr && f.venue == e.spec.venue &&
          std::find(f.unrepresentable.begin(), f.unrepresentable.end(), sym) != f.unrepresentable.end())
        t.fail("symbol", "'" + sym + "' is listed in '" + f.path +
                             "' with a tick, lot or minimum size finer than enigma's 10 decimals: it cannot be traded");
    if (listed == nullptr && !files.empty())
      t.fail("symbol", "'" + sym + "' is not listed in " + std::string(to_string(e.spec.venue)) + "'s exchange info (" +
                           files + ")");
    // A value the config gives must be the venue's: a stale tick or lot would price or size every order wrong.
    const auto agree = [&](std::string_view key, auto given, auto venue_value) {
      if (listed != nullptr && t.has(key) && given != venue_value)
        t.fail(key, "\"" + given.to_string() + "\" differs from the venue's " + venue_value.to_string() +
                        " in its exchange info (" + files + "); leave the key out to take the venue's");
    };
    e.spec.kind = t.choice<InstrumentKind>("kind", listed ? listed->kind : InstrumentKind::linear_perpetual,
                                           {{"spot", InstrumentKind::spot},
                                            {"linear-perpetual", InstrumentKind::linear_perpetual},
                                            {"inverse-perpetual", InstrumentKind::inverse_perpetual},
                                            {"future", InstrumentKind::future}});
    if (listed != nullptr && t.has("kind") && e.spec.kind != listed->kind) {
      const auto name = [](InstrumentKind k) {
        return std::string(k == InstrumentKind::spot                ? "spot"
                           : k == InstrumentKind::linear_perpetual  ? "linear-perpetual"
                           : k == InstrumentKind::inverse_perpetual ? "inverse-perpetual"
                                                                    : "future");
      };
      t.fail("kind", "\"" + name(e.spec.kind) + "\" differs from the venue's " + name(listed->kind) +
                         " in its exchange info (" + files + "); leave the key out to take the venue's");
    }
    const auto from_listing = [&](auto value) { return listed ? std::optional(value) : std::nullopt; };
    e.spec.tick = t.decimal<Price>("tick", from_listing(listed ? listed->tick : Price{}), Price::from_raw(1));
    agree("tick", e.spec.tick, listed ? listed->tick : Price{});
    e.spec.lot = t.decimal<Qty>("lot", from_listing(listed ? listed->lot : Qty{}), Qty::from_raw(1));
    agree("lot", e.spec.lot, listed ? listed->lot : Qty{});
    e.spec.min_qty = t.decimal<Qty>("min_qty", listed ? listed->min_qty : e.spec.lot, Qty{});
    agree("min_qty", e.spec.min_qty, listed ? listed->min_qty : Qty{});
    const bool listed_multiplier = listed != nullptr && listed->kind != InstrumentKind::inverse_perpetual &&
                                   !(listed->kind == InstrumentKind::future && e.spec.venue == Venue::binance_coinm);
    e.spec.multiplier = t.decimal<Qty>("multiplier", listed_multiplier ? listed->multiplier : Qty::from_units(1),
                                       Qty::from_raw(1));
    if (listed_multiplier) agree("multiplier", e.spec.multiplier, listed->multiplier);
    if (listed != nullptr) e.spec.max_qty = listed->max_qty;
    e.spec.source = listed != nullptr ? SpecSource::exchange_info : SpecSource::config;
    e.limits.venue = e.spec.venue;
    e.limits.multiplier = e.spec.multiplier;
    e.limits.tick = e.spec.tick;
    e.limits.lot = e.spec.lot;
    e.limits.max_order_qty = t.decimal<Qty>("max_order_qty", Qty::from_units(1), Qty::from_raw(1));
    e.limits.max_position_qty = t.decimal<Qty>("max_position_qty", Qty::from_units(2), Qty::from_raw(1));
    e.limits.taker_fee = t.decimal<Rate>("taker_fee", Rate::from_raw(Rate::kScale / 10000 * 4), Rate{},
                                         Rate::from_raw(Rate::kScale / 100));
    e.limits.maintenance_margin_rate =
        t.decimal<Rate>("maintenance_margin", Rate::from_raw(Rate::kScale / 200), Rate{});
    e.limits.max_leverage = static_cast<std::uint16_t>(t.integer("max_leverage", 20, 1, 1000));
    // Correlation group: instruments naming the same group share [risk] max_group_exposure.
    if (const std::string g = t.string("group", std::string()); !g.empty()) {
      auto it = std::find(group_names.begin(), group_names.end(), g);
      if (it == group_names.end()) {
        if (group_names.size() + 1 >= risk::RiskConfig::kMaxGroups)
          t.fail("group", "at most " + std::to_string(risk::RiskConfig::kMaxGroups - 1) + " correlation groups");
        group_names.push_back(g);
        it = group_names.end() - 1;
      }
      e.limits.group = static_cast<std::uint8_t>(it - group_names.begin() + 1);
    }
    const std::string of_sym = " of instrument '" + sym_text(e.spec) + "'";
    if (!e.spec.min_qty.is_multiple_of(e.spec.lot))
      t.fail("min_qty", "min_qty = \"" + e.spec.min_qty.to_string() + "\" is not a multiple of lot " +
                            e.spec.lot.to_string() + of_sym);
    if (!e.limits.max_order_qty.is_multiple_of(e.spec.lot))
      t.fail("max_order_qty", "max_order_qty = \"" + e.limits.max_order_qty.to_string() +
                                  "\" is not a multiple of lot " + e.spec.lot.to_string() + of_sym);
    if (e.limits.max_order_qty > e.spec.max_qty)
      t.fail("max_order_qty", "max_order_qty = \"" + e.limits.max_order_qty.to_string() + "\" is above the venue's maximum order size " +
                                  e.spec.max_qty.to_string() + of_sym + " (exchange info " + files + ")");
    if (e.limits.max_order_qty < e.spec.min_qty)
      t.fail("max_order_qty", "max_order_qty = \"" + e.limits.max_order_qty.to_string() + "\" is below min_qty " +
                                  e.spec.min_qty.to_string() + of_sym);
    t.finish();
    rc.instruments.push_back(e);
  }
  if (rc.instruments.empty()) root.fail("instrument", "at least one [[instrument]] is required");

  // [strategy] (one instance) or [[strategy]] (a portfolio: one instance per instrument, distinct ids).
  // [selector] (strategy/selector.hpp): read before the strategies, whose one-instance-per-instrument rule
  // its members are exempt from; checked against them after.
  std::optional<config::TableReader> selector_table = root.optional_table("selector");
  if (selector_table) {
    auto& t = *selector_table;
    auto& c = rc.selector;
    using K = strategy::SelectorConfig::Kind;
    c.kind = t.choice<K>("kind", std::nullopt, {{"ucb", K::ucb}, {"committee", K::committee}});
    for (const std::int64_t id : t.integer_list("members", std::nullopt, 0, 65'535, /*unique=*/true))
      c.members.push_back(static_cast<std::uint16_t>(id));
    if (c.members.size() < 2 || c.members.size() > strategy::SelectorConfig::kMaxArms)
      t.fail("members", "a selector needs 2 to " + std::to_string(strategy::SelectorConfig::kMaxArms) + " strategy ids");
    c.reward = t.choice<strategy::SelectorConfig::Reward>(
        "reward", strategy::SelectorConfig::Reward::pnl,
        {{"pnl", strategy::SelectorConfig::Reward::pnl}, {"return", strategy::SelectorConfig::Reward::ret}});
    c.pending_timeout_ns = t.integer("pending_timeout_ms", 10'000, 1, 86'400'000) * 1'000'000;
    if (c.kind == K::ucb) {
      c.exploration = t.real("exploration", c.exploration, 0.0, 1e9);
    } else {
      const auto w = t.integer_list("weights", std::vector<std::int64_t>(c.members.size(), 1), 1, 1'000'000);
      if (w.size() != c.members.size())
        t.fail("weights", "one weight per member (" + std::to_string(c.members.size()) + "), got " + std::to_string(w.size()));
      for (const std::int64_t x : w) c.weights.push_back(static_cast<double>(x));
      c.quorum = t.real("quorum", c.quorum, 0.0, 1.0);
      if (c.quorum <= 0.0) t.fail("quorum", "must be above 0 (a share of the members' total weight)");
      c.vote_window_ns = t.integer("vote_window_ms", 1'000, 1, 86'400'000) * 1'000'000;
      c.learn_accuracy = t.choice<bool>("learn", false, {{"none", false}, {"accuracy", true}});
    }
    t.finish();
  }
  const auto selector_member = [&](std::uint16_t id) {
    return std::find(rc.selector.members.begin(), rc.selector.members.end(), id) != rc.selector.members.end();
  };

  std::vector<std::pair<std::uint16_t, EntryPricingKeys>> pricing_by_id;
  {
    const toml::node* node = doc.table().get("strategy");
    if (node != nullptr && node->is_array_of_tables()) {
      std::size_t i = 0;
      for (auto t : root.table_array("strategy")) {
        const std::string what = "[[strategy]] #" + std::to_string(i + 1);
        StrategyInstance s;
        const EntryPricingKeys pricing = read_strategy(t, rc, s, what, static_cast<std::int64_t>(i));
        const auto& c = s.common();
        const std::vector<StrategyInstance> earlier = i == 0 ? std::vector<StrategyInstance>{} : rc.strategy_instances();
        for (std::size_t j = 0; j < earlier.size(); ++j) {
          if (earlier[j].common().strategy_id == c.strategy_id)
            t.fail("id", "id " + std::to_string(c.strategy_id) + " is already used by [[strategy]] #" +
                             std::to_string(j + 1) + " (each instance needs its own id)");
          if (earlier[j].common().instrument == c.instrument &&
              !(selector_member(c.strategy_id) && selector_member(earlier[j].common().strategy_id)))
            t.fail("instrument", "instrument " + std::to_string(c.instrument) + " ('" +
                                     sym_text(rc.instruments[c.instrument].spec) +
                                     "') is already traded by [[strategy]] #" + std::to_string(j + 1) +
                                     ": positions are kept per instrument, so one instance per instrument (or several as [selector] members)");
        }
        if (i == 0) {
          rc.strategy = s;
        } else {
          rc.more_strategies.push_back(s);
        }
        pricing_by_id.emplace_back(c.strategy_id, pricing);
        ++i;
      }
      if (i == 0) root.fail("strategy", "the [[strategy]] array is empty");
    } else {
      auto t = root.table("strategy");
      StrategyInstance s;
      const EntryPricingKeys pricing = read_strategy(t, rc, s, "[strategy]", 0);
      rc.strategy = s;
      pricing_by_id.emplace_back(s.common().strategy_id, pricing);
    }
  }
  if (selector_table) {
    // Every member is a configured strategy, and they share one instrument (whose position they take turns at).
    const std::vector<StrategyInstance> all = rc.strategy_instances();
    std::optional<InstrumentId> on;
    for (const std::uint16_t id : rc.selector.members) {
      const auto it = std::find_if(all.begin(), all.end(), [&](const StrategyInstance& s) { return s.common().strategy_id == id; });
      if (it == all.end()) selector_table->fail("members", "no strategy has id " + std::to_string(id));
      if (on && *on != it->common().instrument)
        selector_table->fail("members", "members must trade one instrument (strategy " + std::to_string(id) + " trades another)");
      on = it->common().instrument;
    }
  }

  {
    auto& r = rc.trading.risk;
    if (auto t = root.optional_table("risk")) {
      r.max_open_orders = static_cast<std::uint32_t>(t->integer("max_open_orders", r.max_open_orders, 1, 100000));
      r.max_concurrent_positions =
          static_cast<std::uint32_t>(t->integer("max_concurrent_positions", r.max_concurrent_positions, 0, 1000));
      r.price_collar_bps = static_cast<std::uint32_t>(t->integer("price_collar_bps", r.price_collar_bps, 1, 10000));
      r.max_order_notional = t->decimal<Notional>("max_order_notional", r.max_order_notional, Notional::from_raw(1));
      r.max_total_exposure = t->decimal<Notional>("max_total_exposure", r.max_total_exposure, Notional::from_raw(1));
      r.max_group_exposure = t->decimal<Notional>("max_group_exposure", r.max_group_exposure, Notional{});
      r.correlation_window = static_cast<std::uint32_t>(t->integer("correlation_window", r.correlation_window, 0, 100'000));
      if (r.correlation_window == 1) t->fail("correlation_window", "0 (off) or at least 2 intervals");
      r.correlation_interval_ns =
          t->integer("correlation_interval_s", r.correlation_interval_ns / 1'000'000'000, 1, 86'400) * 1'000'000'000;
      r.correlation_threshold = t->real("correlation_threshold", r.correlation_threshold, -1.0, 1.0);
      r.correlation_sizing = t->boolean("correlation_sizing", r.correlation_sizing);
      if (r.correlation_sizing && r.correlation_window == 0)
        t->fail("correlation_sizing", "needs correlation_window > 0 (the correlation it sizes by)");
      r.venue_submit = read_bucket(*t, "venue_submit", r.venue_submit);
      r.strategy_submit = read_bucket(*t, "strategy_submit", r.strategy_submit);
      r.max_fills_in_window = static_cast<std::uint32_t>(
          t->integer("max_fills_in_window", r.max_fills_in_window, 1, risk::RiskConfig::kMaxFillsInWindow));
      r.max_daily_drawdown =
          t->decimal<Rate>("max_daily_drawdown", r.max_daily_drawdown, Rate::from_raw(1), Rate::from_units(1));
      r.max_consecutive_losses =
          static_cast<std::uint32_t>(t->integer("max_consecutive_losses", r.max_consecutive_losses, 1, 1000));
      r.require_stop_loss = t->boolean("require_stop_loss", r.require_stop_loss);
      rc.trading.leverage = static_cast<std::uint16_t>(t->integer("leverage", rc.trading.leverage, 1, 1000));
      r.breaker.failure_threshold =
          static_cast<std::uint32_t>(t->integer("breaker_failures", r.breaker.failure_threshold, 1, 1000));
      r.breaker.cooldown_ns =
          t->integer("breaker_cooldown_s", r.breaker.cooldown_ns / 1'000'000'000, 1, 86'400) * 1'000'000'000;
      r.breaker.loss_window_trades = static_cast<std::uint32_t>(t->integer(
          "breaker_loss_window", r.breaker.loss_window_trades, 1, risk::CircuitBreakerConfig::kMaxLossWindow));
      r.breaker.max_loss_rate =
          t->decimal<Rate>("breaker_max_loss_rate", r.breaker.max_loss_rate, Rate::from_raw(1), Rate::from_units(1));
      r.reference_volatility =
          t->decimal<Rate>("reference_volatility", r.reference_volatility, Rate::from_raw(1), Rate::from_units(1));
      t->finish();
    }
    r.validate();
  }
  {
    auto& s = rc.trading.sim;
    if (auto t = root.optional_table("sim")) {
      s.initial_balance = t->decimal<Notional>("initial_balance", s.initial_balance, Notional::from_raw(1));
      s.order_latency_ns = t->integer("order_latency_us", s.order_latency_ns / 1000, 0, 10'000'000) * 1000;
      read_order_latency(*t, s);
      s.feed_latency_ns = t->integer("feed_latency_us", s.feed_latency_ns / 1000, 0, 10000000) * 1000;
      s.feed_latency_capture = t->choice<bool>("feed_latency", false, {{"constant", false}, {"capture", true}});
      s.cancels_proportional_from_ahead =
          t->boolean("cancels_proportional_from_ahead", s.cancels_proportional_from_ahead);
      const Rate maker = t->decimal<Rate>("maker_fee", Rate::from_raw(Rate::kScale / 10000 * 2),
                                          Rate::from_raw(-Rate::kScale / 100), Rate::from_raw(Rate::kScale / 100));
      const Rate taker = t->decimal<Rate>("taker_fee", Rate::from_raw(Rate::kScale / 10000 * 4), Rate{},
                                          Rate::from_raw(Rate::kScale / 100));
      for (auto& f : s.fees) f = {maker, taker};
      s.funding_interval_ns = t->integer("funding_interval_s", 0, 0, 86400) * 1'000'000'000;
      s.scheduled_funding_rate = t->decimal<Rate>("funding_rate", Rate{}, Rate::from_raw(-Rate::kScale / 100),
                                                  Rate::from_raw(Rate::kScale / 100));
      t->finish();
    }
    rc.trading.equity_sample_ns = 1'000'000'000;
    s.max_levels = 8192;  // as deep as our own book: a 1000-level snapshot plus the levels diffs add
  }
  if (auto t = root.optional_table("oms")) {
    rc.trading.bracket_exits = t->boolean("bracket_exits", rc.trading.bracket_exits);
    rc.trading.entry.level_index = static_cast<std::size_t>(t->integer("entry_level", 9, 1, 10) - 1);
    rc.trading.entry.max_slippage =
        t->decimal<Rate>("max_slippage", rc.trading.entry.max_slippage, Rate::from_raw(1), Rate::from_units(1));
    rc.trading.client_id_prefix = t->string("client_id_prefix", rc.trading.client_id_prefix);
    if (const oms::LiveVenueRules* rules = oms::live_venue_rules(rc.venue); rules != nullptr && rules->client_id_alphanumeric) {
      const std::string& p = rc.trading.client_id_prefix;
      const bool alnum = !p.empty() && std::isalpha(static_cast<unsigned char>(p[0])) &&
                         std::all_of(p.begin(), p.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
      if (!alnum)
        t->fail("client_id_prefix", std::string(rules->name) + " client order ids are letters and digits only, a letter first: \"" + p +
                                        "\" will not do");
    }
    rc.trading.journal.fsync = t->choice<oms::FsyncPolicy>("journal_fsync", oms::FsyncPolicy::none,
                                                           {{"none", oms::FsyncPolicy::none},
                                                            {"interval", oms::FsyncPolicy::interval},
                                                            {"every_record", oms::FsyncPolicy::every_record}});
    // Records per journal segment file (256 bytes each, reserved on disk when the segment is created).
    rc.trading.journal.max_records = static_cast<std::size_t>(t->integer(
        "journal_segment_records", static_cast<std::int64_t>(rc.trading.journal.max_records), 1024, 1 << 24));
    rc.trading.entry_timeout_ns =
        t->integer("entry_timeout_ms", rc.trading.entry_timeout_ns / 1'000'000, 1, 86'400'000) * 1'000'000;
    auto& x = rc.trading.exits;
    const auto ladder = t->string_list("take_profit_ladder", std::vector<std::string>{});
    if (ladder.size() > oms::ExitPlan::kMaxLadderLegs)
      t->fail("take_profit_ladder", "at most " + std::to_string(oms::ExitPlan::kMaxLadderLegs) + " legs");
    for (std::size_t i = 0; i < ladder.size(); ++i) {
      x.ladder[i] = parse_fraction(*t, "take_profit_ladder", ladder[i]);
      if (i > 0 && !(x.ladder[i] > x.ladder[i - 1]))
        t->fail("take_profit_ladder",
                "fractions must be strictly ascending ('" + ladder[i] + "' after '" + ladder[i - 1] + "')");
    }
    x.ladder_legs = ladder.size();
    x.split_depth_fraction = t->decimal<Rate>("split_depth_fraction", Rate{}, Rate{}, Rate::from_units(1));
    x.trailing.activation_roi_pct = t->decimal<Rate>("trailing_activation_roi_pct", Rate{}, Rate{});
    x.trailing.step_pct = t->decimal<Rate>("trailing_step_pct", Rate{}, Rate{});
    x.trailing.distance_pct = t->decimal<Rate>("trailing_distance_pct", Rate{}, Rate{});
    if (x.trailing.step_pct.raw() > 0 && !(x.trailing.distance_pct < x.trailing.activation_roi_pct))
      t->fail("trailing_distance_pct",
              "trailing_distance_pct = " + x.trailing.distance_pct.to_string() +
                  " must be below trailing_activation_roi_pct = " + x.trailing.activation_roi_pct.to_string() +
                  " (else the first trailed stop sits at or below the entry's loss side)");
    x.break_even_trigger_roi_pct = t->decimal<Rate>("break_even_roi_pct", Rate{}, Rate{});
    t->finish();
  }
  if (auto t = root.optional_table("supervisor")) {
    auto& v = rc.trading.supervisor;
    v.on_kill = t->choice<StopPolicy>(
        "on_kill", v.on_kill, {{"flatten", StopPolicy::flatten}, {"keep_protected", StopPolicy::keep_protected}});
    v.on_stop = t->choice<StopPolicy>(
        "on_stop", v.on_stop, {{"flatten", StopPolicy::flatten}, {"keep_protected", StopPolicy::keep_protected}});
    v.max_total_drawdown = t->decimal<Rate>("max_total_drawdown", v.max_total_drawdown, Rate{}, Rate::from_units(1));
    v.max_trades_per_day =
        static_cast<std::uint32_t>(t->integer("max_trades_per_day", v.max_trades_per_day, 0, 1'000'000));
    v.market_move = t->decimal<Rate>("market_move", v.market_move, Rate{}, Rate::from_units(1));
    v.market_move_window_ns =
        t->integer("market_move_window_s", v.market_move_window_ns / 1'000'000'000, 1, 86'400) * 1'000'000'000;
    v.market_move_pause_ns =
        t->integer("market_move_pause_s", v.market_move_pause_ns / 1'000'000'000, 0, 86'400) * 1'000'000'000;
    v.feed_down_ns = t->integer("feed_down_s", v.feed_down_ns / 1'000'000'000, 0, 86'400) * 1'000'000'000;
    v.unprotected_grace_ns =
        t->integer("unprotected_grace_ms", v.unprotected_grace_ns / 1'000'000, 1, 600'000) * 1'000'000;
    v.nearly_full_pct = static_cast<std::uint32_t>(t->integer("nearly_full_pct", v.nearly_full_pct, 10, 100));
    t->finish();
  }
  // Entry pricing per strategy id, fixed before the run (on_intent indexes it).
  for (const auto& [id, pricing] : pricing_by_id) {
    oms::StrategyEntryPricing& e = rc.trading.entry_by_strategy[id];
    e.mode = pricing.mode;
    e.level_index = static_cast<std::uint8_t>(
        pricing.level ? *pricing.level - 1 : static_cast<std::int64_t>(rc.trading.entry.level_index));
    e.exec = pricing.exec;
    e.slices = pricing.slices;
    e.slice_interval_ns = pricing.slice_interval_ns;
    e.display_qty = pricing.display_qty;
    e.iceberg_native = pricing.iceberg_native;
    e.vwap_horizon_ns = pricing.vwap_horizon_ns;
  }
  if (auto t = root.optional_table("admin")) {
    rc.admin.enabled = t->boolean("enabled", false);
    rc.admin.address = t->string("address", rc.admin.address);
    rc.admin.allow_remote = t->boolean("allow_remote", rc.admin.allow_remote);
    rc.admin.port = static_cast<std::uint16_t>(t->integer("port", rc.admin.port, 0, 65535));
    rc.admin.token_env = t->string("token_env", rc.admin.token_env);
    rc.admin.publish_ms = t->integer("publish_ms", rc.admin.publish_ms, 10, 60'000);
    t->finish();
  }
  if (auto t = root.optional_table("feed")) {
    rc.ws_url = t->string("url", std::string());
    rc.ca_file = t->string("ca_file", std::string(), true);
    rc.subscribe = t->string_list("subscribe", std::vector<std::string>{});
    rc.run_seconds = t->real("run_seconds", 0.0, 0.0, 1e9);
    rc.snapshot_url = t->string("snapshot_url", std::string(), true);
    rc.ping = t->choice<std::string>(
        "ping", std::string("binance"),
        {{"none", "none"}, {"binance", "binance"}, {"kucoin", "kucoin"}, {"okx", "okx"}, {"bybit", "bybit"},
         {"kraken-futures", "kraken-futures"}});
    rc.bullet_url = t->string("bullet_url", std::string());
    rc.resubscribe = t->string_list("resubscribe", std::vector<std::string>{});
    rc.stale_after_ms = t->integer("stale_after_ms", rc.stale_after_ms, 0, 3'600'000);
    rc.feed_transport =
        feed::parse_transport(t->string("transport", std::string("asio")), rc.source + ": [feed] transport");
    rc.hardware_timestamps = t->boolean("hardware_timestamps", false);
    rc.feed_io_uring_sqpoll = t->boolean("io_uring_sqpoll", false);
    if (rc.feed_io_uring_sqpoll && rc.feed_transport != feed::Transport::io_uring)
      throw Error(rc.source + ": [feed] io_uring_sqpoll = true needs transport = \"io_uring\"");
    t->finish();
  }
  const oms::LiveVenueRules* own = oms::live_venue_rules(rc.venue);
  // Without [live] order entry (paper on another venue) a [live] table still reads as Binance USD-M's defaults.
  const oms::DeadManRule dead_man = own != nullptr ? own->dead_man : oms::DeadManRule{};
  if (own != nullptr) {
    if (!own->rest_url.empty()) rc.live.rest_url = own->rest_url;
    if (!own->account_api_url.empty()) rc.live.account_api_url = own->account_api_url;
    if (!own->user_ws_url.empty()) rc.live.user_ws_url = own->user_ws_url;
    rc.trading.client_id_alphanumeric = own->client_id_alphanumeric;
  }
  // Only a countdown is refreshed by the core; a venue without one, or whose switch is a window set once at
  // start-up, has none to refresh.
  if (dead_man.kind != oms::DeadManRule::Kind::countdown) rc.trading.deadman_countdown_ns = 0;
  if (auto t = root.optional_table("live")) {
    // Another venue's key is named, with what this venue takes instead.
    if (own != nullptr) {
      for (const oms::LiveVenueRules* other : oms::live_venue_rules()) {
        for (const std::string_view k : other->keys) {
          const std::string key(k);
          if (t->has(key) && std::find(own->keys.begin(), own->keys.end(), k) == own->keys.end())
            t->fail(key, key + " is not a setting for " + std::string(own->name) + " (" + std::string(other->name) + " takes it); " +
                             std::string(own->name) + " takes " + std::string(own->takes));
        }
      }
      if (!own->stream_url_setting && t->has("user_ws_url"))
        t->fail("user_ws_url", std::string(own->name) + "'s private stream comes from its bullet-private token; it takes " +
                                   std::string(own->takes));
    }
    // The dead-man switch, as the venue has it (oms::DeadManRule).
    const std::int64_t deadman_ms = t->integer("deadman_countdown_ms", rc.trading.deadman_countdown_ns / 1'000'000, 0, 600'000);
    if (deadman_ms != 0 && dead_man.kind == oms::DeadManRule::Kind::none)
      t->fail("deadman_countdown_ms", std::string(own->name) + " has no dead-man switch (" + std::string(dead_man.what) +
                                          "): leave it out or 0");
    if (deadman_ms != 0 && (deadman_ms < dead_man.min_ms || deadman_ms > dead_man.max_ms ||
                            (dead_man.whole_seconds && deadman_ms % 1'000 != 0))) {
      t->fail("deadman_countdown_ms",
              std::string(dead_man.what) + " takes " +
                  (dead_man.whole_seconds ? "whole seconds from " + std::to_string(dead_man.min_ms / 1'000) + " to " +
                                                std::to_string(dead_man.max_ms / 1'000) + " (" + std::to_string(dead_man.min_ms) +
                                                ".." + std::to_string(dead_man.max_ms) + " ms)"
                                          : std::to_string(dead_man.min_ms) + ".." + std::to_string(dead_man.max_ms) + " ms") +
                  ", or 0 for none");
    }
    if (dead_man.kind == oms::DeadManRule::Kind::countdown) rc.trading.deadman_countdown_ns = deadman_ms * 1'000'000;
    if (dead_man.kind == oms::DeadManRule::Kind::stream_window) rc.live.dead_man_window_s = deadman_ms / 1'000;
    // Each venue's own keys (another venue's were refused above).
    rc.live.requests_per_2s = t->integer("requests_per_2s", rc.live.requests_per_2s, 1, 1'000);
    rc.live.okx_td_mode = t->choice<std::string>("td_mode", "cross", {{"cross", "cross"}, {"isolated", "isolated"}});
    rc.live.okx_simulated = t->boolean("simulated", false);
    rc.live.requests_per_s = t->integer("requests_per_s", rc.live.requests_per_s, 1, 1'000);
    rc.live.requests_per_3s = t->integer("requests_per_3s", rc.live.requests_per_3s, 1, 1'000);
    rc.live.request_weight_per_30s = t->integer("request_weight_per_30s", rc.live.request_weight_per_30s, 1, 1'000'000);
    rc.live.api_passphrase_env = t->string("api_passphrase_env", rc.live.api_passphrase_env);
    rc.live.api_passphrase_file = t->string("api_passphrase_file", std::string(), true);
    rc.live.rest_url = t->string("rest_url", rc.live.rest_url);
    rc.live.user_ws_url = t->string("user_ws_url", rc.live.user_ws_url);
    rc.live.account_api_url = t->string("account_api_url", rc.live.account_api_url);
    rc.live.request_weight_per_minute =
        t->integer("request_weight_per_minute", rc.live.request_weight_per_minute, 1, 1'000'000);
    rc.live.orders_per_10s = t->integer("orders_per_10s", rc.live.orders_per_10s, 1, 1'000'000);
    rc.live.orders_per_minute = t->integer("orders_per_minute", rc.live.orders_per_minute, 1, 1'000'000);
    rc.live.rate_reserve_pct = t->integer("rate_reserve_pct", rc.live.rate_reserve_pct, 0, 90);
    rc.live.api_key_env = t->string("api_key_env", rc.live.api_key_env);
    rc.live.api_secret_env = t->string("api_secret_env", rc.live.api_secret_env);
    rc.live.api_key_file = t->string("api_key_file", std::string(), true);
    rc.live.api_secret_file = t->string("api_secret_file", std::string(), true);
    rc.live.request_timeout_ms = t->integer("request_timeout_ms", rc.live.request_timeout_ms, 100, 60'000);
    rc.live.drain_ms = t->integer("drain_ms", rc.live.drain_ms, 0, 60'000);
    rc.live.order_connections = t->integer("order_connections", rc.live.order_connections, 1, 8);
    rc.live.gateway_core = t->integer("gateway_core", rc.live.gateway_core, -1, 1023);
    rc.live.ca_file = t->string("ca_file", std::string(), true);
    rc.live.transport =
        feed::parse_transport(t->string("transport", std::string("asio")), rc.source + ": [live] transport");
    rc.live.unknown_orders = t->choice<UnknownOrderPolicy>("unknown_orders", UnknownOrderPolicy::report,
                                                           {{"report", UnknownOrderPolicy::report},
                                                            {"cancel", UnknownOrderPolicy::cancel},
                                                            {"adopt", UnknownOrderPolicy::adopt}});
    rc.live.ws_api = t->choice<bool>("order_entry", false, {{"rest", false}, {"ws-api", true}});
    rc.live.ws_api_url = t->string("ws_api_url", rc.live.ws_api_url);
    rc.live.ed25519_key_env = t->string("ed25519_key_env", rc.live.ed25519_key_env);
    rc.live.ed25519_key_file = t->string("ed25519_key_file", std::string(), true);
    rc.live.ed25519_api_key_env = t->string("ed25519_api_key_env", rc.live.ed25519_api_key_env);
    rc.live.ed25519_api_key_file = t->string("ed25519_api_key_file", std::string(), true);
    t->finish();
  }
  if (auto t = root.optional_table("record")) {
    rc.record.enabled = t->boolean("enabled", rc.record.enabled);
    rc.record.dir = t->string("dir", std::string(), true);
    rc.record.rotate_bytes = t->size_bytes("rotate_bytes", rc.record.rotate_bytes, 64ull << 10);
    rc.record.zstd = t->choice<bool>("compress", true, {{"zstd", true}, {"none", false}});
    rc.record.ring_bytes = t->size_bytes("ring_bytes", rc.record.ring_bytes, 4096, 1ull << 34);
    if ((rc.record.ring_bytes & (rc.record.ring_bytes - 1)) != 0)
      throw Error(rc.source + ": [record] ring_bytes must be a power of two (e.g. \"64MiB\"), not " +
                  std::to_string(rc.record.ring_bytes));
    t->finish();
  }
  if (auto t = root.optional_table("rollout")) {
    RolloutConfig& r = rc.rollout;
    r.enabled = true;
    r.initial = t->choice<RolloutStage>("stage", RolloutStage::paper,
                                        {{"paper", RolloutStage::paper},
                                         {"10%", RolloutStage::pct10},
                                         {"50%", RolloutStage::pct50},
                                         {"100%", RolloutStage::full}});
    r.gates.min_days = t->integer("min_days", r.gates.min_days, 0, 3650);
    r.gates.min_trades = static_cast<std::uint64_t>(
        t->integer("min_trades", static_cast<std::int64_t>(r.gates.min_trades), 0, 1'000'000));
    r.gates.min_pnl = t->decimal<Notional>("min_pnl", r.gates.min_pnl);
    r.gates.max_drawdown = t->decimal<Rate>("max_drawdown", r.gates.max_drawdown, Rate{}, Rate::from_units(1));
    r.gates.min_win_rate = t->decimal<Rate>("min_win_rate", r.gates.min_win_rate, Rate{}, Rate::from_units(1));
    r.gates.no_emergency = t->boolean("no_emergency", r.gates.no_emergency);
    t->finish();
  }
  if (auto t = root.optional_table("alerts")) {
    AlertSettings& a = rc.alerts;
    a.enabled = t->boolean("enabled", false);
    a.retry_base_ms = t->integer("retry_base_ms", a.retry_base_ms, 1, 600'000);
    a.retry_max_ms = t->integer("retry_max_ms", a.retry_max_ms, a.retry_base_ms, 3'600'000);
    a.max_attempts = static_cast<std::uint32_t>(t->integer("max_attempts", a.max_attempts, 1, 1000));
    a.rate_per_minute = t->real("rate_per_minute", a.rate_per_minute, 1, 10'000);
    a.timeout_ms = t->integer("timeout_ms", a.timeout_ms, 100, 120'000);
    a.flush_ms = t->integer("flush_ms", a.flush_ms, 0, 600'000);
    a.ca_file = t->string("ca_file", std::string(), true);
    a.queue = static_cast<std::uint32_t>(t->integer("queue", a.queue, 2, 1 << 20));
    if ((a.queue & (a.queue - 1)) != 0) t->fail("queue", "must be a power of two, not " + std::to_string(a.queue));
    for (std::size_t i = 0; i < kAlertRuleCount; ++i) {
      const auto rule = static_cast<AlertRule>(i);
      auto r = t->optional_table(to_string(rule));
      if (!r) continue;
      AlertRuleConfig& c = a.rules[rule];
      c.enabled = r->boolean("enabled", c.enabled);
      if (rule != AlertRule::emergency_stop) c.threshold = r->real("threshold", c.threshold, 0, 1e9);
      c.cooldown_ns = r->integer("cooldown_s", c.cooldown_ns / 1'000'000'000, 0, 7 * 86'400) * 1'000'000'000;
      r->finish();
    }
    const auto channel = [&](const char* name, AlertChannelSettings& c, const char* secret) {
      auto ct = t->optional_table(name);
      if (!ct) return;
      c.enabled = ct->boolean("enabled", true);
      c.secret_env = ct->string(std::string(secret) + "_env", c.secret_env);
      c.secret_file = ct->string(std::string(secret) + "_file", std::string(), true);
      if (&c == &a.telegram) {
        c.api_base = ct->string("api_base", c.api_base);
        c.chat_id = ct->string("chat_id", std::string(), true);
        if (c.enabled && c.chat_id.empty()) ct->fail("chat_id", "is required for Telegram (the chat the bot posts to)");
        a.control.enabled = ct->boolean("control", false);
        a.control.allowed_chat_ids = ct->integer_list("allowed_chat_ids", std::vector<std::int64_t>{});
        a.control.poll_timeout_s = ct->integer("poll_timeout_s", a.control.poll_timeout_s, 0, 50);
        if (a.control.enabled && a.control.allowed_chat_ids.empty())
          ct->fail("allowed_chat_ids", "must list the chats allowed to control the engine when control = true");
      }
      ct->finish();
    };
    channel("telegram", a.telegram, "token");
    channel("slack", a.slack, "url");
    channel("webhook", a.webhook, "url");
    t->finish();
  }
  if (auto t = root.optional_table("state")) {
    rc.state_dir = t->string("dir", std::string());
    t->finish();
  }
  if (auto t = root.optional_table("backtest")) {
    for (auto in : t->table_array("input")) {
      BacktestInput b;
      if (in.has("instrument")) {
        b.instrument = static_cast<std::size_t>(in.integer("instrument", std::nullopt, 0, 65'535));
        if (*b.instrument >= rc.instruments.size())
          in.fail("instrument", "no [[instrument]] with index " + std::to_string(*b.instrument) + " (" +
                                    std::to_string(rc.instruments.size()) + " configured)");
        b.venue = rc.instruments[*b.instrument].spec.venue;
        if (in.has("venue") && read_venue(in, "venue", std::nullopt) != b.venue)
          in.fail("venue", "differs from instrument " + std::to_string(*b.instrument) + "'s venue \"" +
                               std::string(to_string(b.venue)) + "\" (give one of the two)");
      } else if (in.has("venue")) {
        b.venue = read_venue(in, "venue", std::nullopt);
        if (in.has("candles") || in.has("funding"))
          in.fail("venue", "candles and funding are one instrument's: name it with `instrument` instead of `venue`");
      } else {
        in.fail("instrument", "an input names its instrument (an [[instrument]] index), or `venue` for captures of every symbol they carry");
      }
      b.candles = in.string_list("candles", std::vector<std::string>{});
      b.captures = in.string_list("captures", std::vector<std::string>{});
      b.funding = in.string_list("funding", std::vector<std::string>{});
      b.interval_s = in.integer("interval_s", b.candles.empty() ? std::optional<std::int64_t>(0) : std::nullopt, 0, 7 * 86'400);
      if (!b.candles.empty() && (b.interval_s <= 0 || b.interval_s % 60 != 0))
        in.fail("interval_s", "the candles' bar length must be a positive multiple of 60 seconds");
      if (b.candles.empty() && b.captures.empty()) in.fail("candles", "an input needs candles or captures");
      in.finish();
      rc.backtest.push_back(std::move(b));
    }
    t->finish();
  }
  root.finish();
  for (const auto& e : rc.instruments) rc.trading.limits.push_back(e.limits);
  return rc;
}

RunConfig RunConfig::load(const std::string& path) {
  const std::string text = [&] {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw Error("cannot open config '" + path + "'");
    std::string s;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
  }();
  return parse(text, path);
}

void RunConfig::fill_registry(InstrumentRegistry& registry) const {
  registry.set_catalogue(catalogue);  // checked for duplicates when parsed
  for (const auto& e : instruments) {
    const auto r = registry.add(e.spec);
    if (!r.ok())
      throw Error(source + ": instrument '" + std::string(e.spec.symbol.view()) +
                  "': " + std::string(to_string(r.error)));
  }
}

StrategyKind strategy_kind(std::string_view name) {
  if (const auto k = strategy::RegisteredStrategies::find(name)) return *k;
  throw Error("unknown strategy kind '" + std::string(name) + "' (registered: " + strategy_kinds_text() + ")");
}

std::string_view to_string_kind(StrategyKind k) noexcept {
  return k < strategy::RegisteredStrategies::size ? strategy::RegisteredStrategies::names[k] : "?";
}

std::string strategy_kinds_text(std::string_view sep) {
  std::string out;
  for (std::string_view n : strategy::RegisteredStrategies::names) out += (out.empty() ? "" : std::string(sep)) + std::string(n);
  return out;
}

const strategy::StrategyCommonConfig& StrategyInstance::common() const noexcept {
  const strategy::StrategyCommonConfig* out = nullptr;
  strategy::RegisteredStrategies::for_each([&]<class S>(std::type_identity<S>, std::size_t i) {
    if (i == kind) out = &config<typename S::Config>().common;
  });
  return *out;
}

strategy::AnyStrategy StrategyInstance::make() const { return strategy::RegisteredStrategies::make(kind, configs); }

void print_strategies(std::ostream& out) {
  out << "Strategies (kind = \"<name>\" in [strategy] or a [[strategy]] entry; keys of its [strategy.<table>]):\n";
  strategy::RegisteredStrategies::for_each([&]<class S>(std::type_identity<S>, std::size_t) {
    const std::string table = strategy::table_key(S::kName);
    out << "\n" << S::kName << "  " << S::kSummary << "\n  [strategy." << table << "]\n";
    // The schema is what read() asks for: run it over an empty table with the defaults.
    toml::table empty;
    config::TableReader r(empty, "(defaults)", "strategy." + table);
    std::vector<config::KeyDoc> keys{{"entry_pricing", "\"intent\"", "intent|level"}, {"entry_level", "[oms] entry_level", "[1, 10]"},
                                    {"execution", "\"single\"", "single|twap|iceberg|vwap"},
                                    {"slices", "(twap, vwap: required)", "[2, " + std::to_string(oms::kMaxExecSlices) + "]"},
                                    {"slice_interval_ms", "(twap, vwap: required)", "[1, 86400000]"},
                                    {"vwap_horizon_ms", "(vwap: required)", "[1, 86400000]"},
                                    {"display_qty", "(iceberg: required)", "lot multiple below order_qty"},
                                    {"iceberg_native", "true", "iceberg: the venue's own where offered (KuCoin Futures), else sliced"}};
    r.document_into(&keys);
    typename S::Config c;
    c.read(r);
    for (const config::KeyDoc& k : keys)
      out << "    " << k.key << " = " << (k.dflt.empty() ? "(required)" : k.dflt) << (k.range.empty() ? "" : "  " + k.range) << "\n";
    if constexpr (std::is_same_v<S, strategy::ConfluenceStrategy>)
      out << "    include = \"<best.toml>\", or rsi_period, rsi_oversold, rsi_overbought, min_score, stop_loss_roi, "
             "take_profit_roi, leverage inline (all or none; engine/tuned_params.hpp)\n";
  });
  out << "\nEvery strategy table also has: kind = \"imbalance\"  " << strategy_kinds_text("|")
      << ", id = its index, instrument = 0, order_qty = \"1\"\n";
}

std::vector<StrategyInstance> RunConfig::strategy_instances() const {
  std::vector<StrategyInstance> out;
  out.push_back(strategy);
  out.insert(out.end(), more_strategies.begin(), more_strategies.end());
  return out;
}

std::vector<strategy::AnyStrategy> RunConfig::make_strategies() const {
  std::vector<strategy::AnyStrategy> out;
  for (const StrategyInstance& s : strategy_instances()) out.push_back(s.make());
  return out;
}

PaperOptions paper_options(const RunConfig& rc, const std::string& run_dir) {
  PaperOptions p;
  if (rc.record.enabled) {
    p.record.dir = rc.record.dir.empty() ? run_dir : rc.record.dir;
    p.record.rotate_bytes = rc.record.rotate_bytes;
    p.record.zstd = rc.record.zstd;
    p.record.ring_bytes = static_cast<std::size_t>(rc.record.ring_bytes);
  }
  p.ws.url = rc.ws_url;
  p.ws.subscriptions = rc.subscribe;
  p.ws.tls.ca_file = rc.ca_file;
  p.ws.stale_after_ns = rc.stale_after_ms * 1'000'000;
  p.ws.ping = rc.ping == "kucoin"           ? feed::PingPolicy::kucoin
              : rc.ping == "okx"            ? feed::PingPolicy::okx
              : rc.ping == "bybit"          ? feed::PingPolicy::bybit
              : rc.ping == "kraken-futures" ? feed::PingPolicy::kraken_futures
              : rc.ping == "none"           ? feed::PingPolicy::none
                                            : feed::PingPolicy::binance;
  p.ws.transport = rc.feed_transport;
  p.ws.hardware_timestamps = rc.hardware_timestamps;
  p.ws.io_uring_sqpoll = rc.feed_io_uring_sqpoll;
  if (p.ws.ping == feed::PingPolicy::bybit) p.ws.ping_interval_ns = 20'000'000'000;  // Bybit: a ping every 20 s
  if (p.ws.ping == feed::PingPolicy::kraken_futures) p.ws.ping_interval_ns = 30'000'000'000;  // Kraken Futures: <= 60 s
  p.ws.kucoin_bullet_url = rc.bullet_url;
  p.resubscribe = rc.resubscribe;
  p.snapshot_url = rc.snapshot_url;
  p.run_seconds = rc.run_seconds;
  return p;
}

std::string RunConfig::strategy_name() const {
  std::string out(to_string_kind(strategy.kind));
  for (const StrategyInstance& s : more_strategies) out += "+" + std::string(to_string_kind(s.kind));
  return out;
}

}  // namespace enigma::engine
