// Volume profile (issue 15 item 4): the traded volume at each price bucket, its point of control and value
// area; entries on a breakout out of the value area or on a rejection back into it.
//
// Profile: trade prices fall in buckets of `bucket_ticks` ticks (bucket b holds prices [b*w, (b+1)*w), w =
// bucket_ticks * tick); a bucket's volume is the summed quantity of the profile's trades in it. The profile
// is either `profile = "rolling"`, the instrument's last `window_trades` trades, or `"session"`, its trades
// of the current UTC day (venue time; a trade of a later day restarts it). Its span is its lowest to highest
// bucket with volume; a trade that would widen the span beyond `max_buckets` buckets restarts the profile
// from that trade (rolling: the earlier trades leave it). It is used once it holds `window_trades` trades.
//   POC: the bucket with the most volume (ties: the lowest-priced).
//   Value area: starting from [POC, POC], while its volume < value_area x the profile's volume, compare the
//     bucket just above it with the bucket just below it (a bucket beyond the span does not exist; a bucket
//     in the span without trades has volume 0): add the larger; if equal, add both. VAL is the lower edge of
//     its lowest bucket, VAH the upper edge of its highest (so a price p is inside when VAL <= p < VAH).
//   HVN / LVN: a bucket whose volume is >= hvn_fraction (<= lvn_fraction) x the POC's volume.
// On every trade of the instrument, against the profile of the trades before it (the trade joins the profile
// after): the trade is inside, above (p >= VAH) or below (p < VAL). A trade outside right after an inside
// trade starts an excursion on its side; while the profile is not in use, and after a trade on the side
// opposite to the excursion's, nothing is armed until a trade is inside again.
//   breakout: the first trade of an excursion at p >= VAH + breakout_ticks*tick (above) or p < VAL -
//     breakout_ticks*tick (below) -> signal with the break (buy above, sell below) when its bucket is an LVN;
//     either way the excursion counts as broken out.
//   rejection: a trade inside, ending an excursion that did not break out and that began at most
//     `rejection_trades` trades before it (1 = the very next trade) -> signal fading it back toward the POC
//     (sell after an excursion above, buy after one below) when the trade's bucket is an HVN.
// With hvn_fraction = 0 and lvn_fraction = 1 (the defaults) every bucket passes both filters.
// A signal within `cooldown_trades` trades, or less than `cooldown_ms` of venue time, after the last intent does
// nothing (the risk gate refuses a same-side order repeated within 500 ms anyway). Otherwise, flat: a market entry
// of order_qty on its side, stop / take-profit stop_ticks / take_profit_ticks from the trade price (the OMS
// holds the bracket); holding the opposite side: a reduce-only market exit; holding its side: nothing.
// "Holding" is what it asked for, followed on the tape alone: a position counts as closed at the first later
// trade priced at or through its stop or take-profit, or at the exit intent. Exact fixed-point throughout; the
// hot path allocates nothing (a fixed ring of trades and a bucket array addressed modulo its size) and costs
// O(span) per trade.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "strategy/intent.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategies/common.hpp"

namespace enigma::strategy {

enum class ProfileKind : std::uint8_t { rolling, session };

struct VolumeProfileConfig {
  StrategyCommonConfig common{};  // id, instrument, order_qty, tick, lot: filled by the engine
  // Keys of [strategy.volume_profile], default, range:
  ProfileKind profile = ProfileKind::rolling;  // "rolling" | "session" (UTC day)
  std::int64_t bucket_ticks = 10;  // ticks per price bucket, [1, 1000000]
  int window_trades = 2000;        // rolling: the profile's trades; both: trades before it is used, [10, 4096]
  int max_buckets = 1024;          // the widest span kept (a wider one restarts the profile), [3, 4096]
  Rate value_area = Rate::from_raw(Rate::kScale / 10 * 7);  // share of the volume in the value area, 0.70, (0, 1]
  Rate hvn_fraction = Rate{};               // rejection needs bucket volume >= this x POC's, 0 (any), [0, 1]
  Rate lvn_fraction = Rate::from_units(1);  // breakout needs bucket volume <= this x POC's, 1 (any), [0, 1]
  std::int64_t breakout_ticks = 5;          // beyond VAH / VAL by at least this, [0, 10000000]
  std::int64_t rejection_trades = 20;       // back inside within this many trades, [1, 1000000]
  std::int64_t stop_ticks = 400;            // [1, 10000000]
  std::int64_t take_profit_ticks = 800;     // [1, 10000000]
  std::int64_t cooldown_trades = 50;        // trades after an intent during which signals do nothing, [0, 1e9]
  std::int64_t cooldown_ms = 1000;          // venue time after an intent during which signals do nothing, [0, 1 day]
  static constexpr int kMaxWindow = 4096;
  static constexpr int kMaxBuckets = 4096;  // a power of two: buckets are addressed modulo it

  // [strategy.volume_profile]: every key with its default and range; errors name file, line and key.
  void read(config::TableReader& t) {
    profile = t.choice<ProfileKind>("profile", profile,
                                    {{"rolling", ProfileKind::rolling}, {"session", ProfileKind::session}});
    bucket_ticks = t.integer("bucket_ticks", bucket_ticks, 1, 1'000'000);
    window_trades = static_cast<int>(t.integer("window_trades", window_trades, 10, kMaxWindow));
    max_buckets = static_cast<int>(t.integer("max_buckets", max_buckets, 3, kMaxBuckets));
    value_area = t.decimal<Rate>("value_area", value_area, Rate::from_raw(1), Rate::from_units(1));
    hvn_fraction = t.decimal<Rate>("hvn_fraction", hvn_fraction, Rate{}, Rate::from_units(1));
    lvn_fraction = t.decimal<Rate>("lvn_fraction", lvn_fraction, Rate{}, Rate::from_units(1));
    breakout_ticks = t.integer("breakout_ticks", breakout_ticks, 0, 10'000'000);
    rejection_trades = t.integer("rejection_trades", rejection_trades, 1, 1'000'000);
    stop_ticks = t.integer("stop_ticks", stop_ticks, 1, 10'000'000);
    take_profit_ticks = t.integer("take_profit_ticks", take_profit_ticks, 1, 10'000'000);
    cooldown_trades = t.integer("cooldown_trades", cooldown_trades, 0, 1'000'000'000);
    cooldown_ms = t.integer("cooldown_ms", cooldown_ms, 0, 86'400'000);
  }
  void validate() const {
    common.validate("volume-profile");
    if (bucket_ticks < 1 || bucket_ticks > 1'000'000)
      throw Error("volume-profile config: bucket_ticks: must be in [1, 1000000]");
    if (window_trades < 10 || window_trades > kMaxWindow)
      throw Error("volume-profile config: window_trades: must be in [10, 4096]");
    if (max_buckets < 3 || max_buckets > kMaxBuckets)
      throw Error("volume-profile config: max_buckets: must be in [3, 4096]");
    if (value_area.raw() <= 0 || value_area > Rate::from_units(1))
      throw Error("volume-profile config: value_area: must be in (0, 1]");
    if (hvn_fraction.raw() < 0 || hvn_fraction > Rate::from_units(1))
      throw Error("volume-profile config: hvn_fraction: must be in [0, 1]");
    if (lvn_fraction.raw() < 0 || lvn_fraction > Rate::from_units(1))
      throw Error("volume-profile config: lvn_fraction: must be in [0, 1]");
    if (breakout_ticks < 0) throw Error("volume-profile config: breakout_ticks: must be 0 or above");
    if (rejection_trades < 1) throw Error("volume-profile config: rejection_trades: must be at least 1");
    if (stop_ticks < 1 || take_profit_ticks < 1)
      throw Error("volume-profile config: stop_ticks, take_profit_ticks: must be at least 1");
    if (cooldown_trades < 0) throw Error("volume-profile config: cooldown_trades: must be 0 or above");
    if (cooldown_ms < 0 || cooldown_ms > 86'400'000)
      throw Error("volume-profile config: cooldown_ms: must be in [0, 86400000]");
  }
};

class VolumeProfile {
 public:
  static constexpr std::string_view kName = "volume-profile";  // kind = "volume-profile"
  static constexpr std::string_view kSummary =
      "volume-at-price profile (rolling or UTC session): trade value-area breakouts, fade value-area rejections";
  using Config = VolumeProfileConfig;

  // The profile's levels, as bucket indices (bucket b holds prices [b*w, (b+1)*w)); all 0 when it is empty.
  struct Levels {
    std::int64_t poc = 0;
    std::int64_t va_low = 0;   // lowest bucket of the value area: VAL = va_low * w
    std::int64_t va_high = 0;  // highest: VAH = (va_high + 1) * w
    std::int64_t poc_volume = 0;  // raw quantity
  };

  explicit VolumeProfile(const Config& config)
      : config_((config.validate(), config)), width_(config.common.tick.raw() * config.bucket_ticks) {}

  void on_book(const EventHeader&, const BookTop&, IntentBuffer&) noexcept {}
  void on_candle(const EventHeader&, const Candle&, IntentBuffer&) noexcept {}
  void on_fill(const Fill&, IntentBuffer&) noexcept {}
  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {
    if (h.instrument != config_.common.instrument) return;
    const std::int64_t p = trade.price.raw();
    const std::int64_t q = trade.qty.raw();
    const std::int64_t b = bucket_of(p);
    // The bracket the OMS holds: a trade at or through the stop or take-profit closes the position.
    if ((holding_ > 0 && (p <= stop_ || p >= take_profit_)) || (holding_ < 0 && (p >= stop_ || p <= take_profit_)))
      holding_ = 0;
    if (config_.profile == ProfileKind::session) {
      constexpr std::int64_t kDayNs = 86'400'000'000'000;
      const std::int64_t t = h.venue_time_ns;
      const std::int64_t day = t / kDayNs - (t % kDayNs < 0 ? 1 : 0);
      if (day != day_) restart(), day_ = day;
    }
    const std::uint64_t index = count_++;

    int signal = 0;
    if (n_ < static_cast<std::uint64_t>(config_.window_trades)) {
      where_ = kUnarmed;
    } else {
      const Levels l = levels();
      const std::int64_t val = l.va_low * width_, vah = (l.va_high + 1) * width_;
      const int pos = p >= vah ? 1 : p < val ? -1 : 0;
      const std::int64_t vol = volume_at(b);
      const std::int64_t rate_scale = Rate::kScale;
      if (pos == 0) {
        if ((where_ == 1 || where_ == -1) && !broke_ &&
            index - start_ <= static_cast<std::uint64_t>(config_.rejection_trades) &&
            static_cast<int128>(vol) * rate_scale >=
                static_cast<int128>(l.poc_volume) * config_.hvn_fraction.raw())
          signal = -where_;
        where_ = 0;
      } else {
        if (where_ == 0) {
          where_ = pos, start_ = index, broke_ = false;
        } else if (where_ != pos) {
          where_ = kUnarmed;
        }
        const std::int64_t k = config_.breakout_ticks * config_.common.tick.raw();
        if (where_ == pos && !broke_ && (pos > 0 ? p >= vah + k : p < val - k)) {
          broke_ = true;
          if (static_cast<int128>(vol) * rate_scale <=
              static_cast<int128>(l.poc_volume) * config_.lvn_fraction.raw())
            signal = pos;
        }
      }
    }
    add(b, q);

    if (signal == 0 || (acted_ && (index - last_intent_ <= static_cast<std::uint64_t>(config_.cooldown_trades) ||
                                   h.venue_time_ns - last_intent_ns_ < config_.cooldown_ms * 1'000'000)))
      return;
    const StrategyCommonConfig& c = config_.common;
    const Side side = signal > 0 ? Side::buy : Side::sell;
    if (holding_ == 0) {
      OrderIntent i = market_intent(config_.common, h, side, IntentReason::signal_entry, false);
      i.entry = trade.price;
      i.stop = trade.price - c.tick * (config_.stop_ticks * signal);
      i.take_profit = trade.price + c.tick * (config_.take_profit_ticks * signal);
      if (!out.push(i)) return;
      holding_ = signal;
      stop_ = i.stop.raw();
      take_profit_ = i.take_profit.raw();
    } else if (holding_ == -signal) {
      if (!out.push(market_intent(config_.common, h, side, IntentReason::signal_exit, true))) return;
      holding_ = 0;
    } else {
      return;
    }
    acted_ = true;
    last_intent_ = index;
    last_intent_ns_ = h.venue_time_ns;
  }

  // POC, value area and the POC's volume of the profile as it stands (O(span)).
  [[nodiscard]] Levels levels() const noexcept {
    Levels l;
    if (n_ == 0) return l;
    std::int64_t total = 0;
    l.poc = lo_;
    for (std::int64_t b = lo_; b <= hi_; ++b) {
      const std::int64_t v = vol_[slot(b)];
      total += v;
      if (v > l.poc_volume) l.poc = b, l.poc_volume = v;
    }
    std::int64_t low = l.poc, high = l.poc, in = l.poc_volume;
    const int128 need = static_cast<int128>(total) * config_.value_area.raw();
    while (static_cast<int128>(in) * Rate::kScale < need && (low > lo_ || high < hi_)) {
      const std::int64_t up = high < hi_ ? vol_[slot(high + 1)] : -1;
      const std::int64_t down = low > lo_ ? vol_[slot(low - 1)] : -1;
      if (up >= down) in += up, ++high;
      if (down >= up) in += down, --low;
    }
    l.va_low = low;
    l.va_high = high;
    return l;
  }
  [[nodiscard]] std::uint64_t profile_trades() const noexcept { return n_; }
  [[nodiscard]] std::int64_t bucket_of(std::int64_t price_raw) const noexcept {
    return price_raw / width_ - (price_raw % width_ < 0 ? 1 : 0);
  }

  [[nodiscard]] std::uint16_t id() const noexcept { return config_.common.strategy_id; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return config_.common.instrument; }

 private:
  struct Slot {
    std::int64_t bucket;
    std::int64_t qty;  // raw fixed-point
  };
  static constexpr int kUnarmed = 2;  // where_: no excursion can start until a trade is inside

  [[nodiscard]] static std::size_t slot(std::int64_t bucket) noexcept {
    return static_cast<std::size_t>(bucket) & (Config::kMaxBuckets - 1);
  }
  [[nodiscard]] std::int64_t volume_at(std::int64_t b) const noexcept {
    return n_ > 0 && b >= lo_ && b <= hi_ ? vol_[slot(b)] : 0;
  }

  // Empty the profile (buckets outside the span are kept at zero, so only the span is cleared).
  void restart() noexcept {
    if (n_ > 0)
      for (std::int64_t b = lo_; b <= hi_; ++b) vol_[slot(b)] = 0;
    n_ = 0;
  }

  void add(std::int64_t b, std::int64_t q) noexcept {
    const std::int64_t max = config_.max_buckets;
    if (n_ > 0 && ((b < lo_ && hi_ - b + 1 > max) || (b > hi_ && b - lo_ + 1 > max))) restart();
    if (n_ == 0) {
      lo_ = hi_ = b;
    } else {
      if (b < lo_) lo_ = b;
      if (b > hi_) hi_ = b;
    }
    vol_[slot(b)] += q;
    ++n_;
    if (config_.profile != ProfileKind::rolling) return;
    ring_[pushed_ % Config::kMaxWindow] = Slot{b, q};
    ++pushed_;
    if (n_ <= static_cast<std::uint64_t>(config_.window_trades)) return;
    const Slot& old = ring_[(pushed_ - n_) % Config::kMaxWindow];  // the oldest trade in the profile leaves
    vol_[slot(old.bucket)] -= old.qty;
    --n_;
    while (lo_ < hi_ && vol_[slot(lo_)] == 0) ++lo_;
    while (hi_ > lo_ && vol_[slot(hi_)] == 0) --hi_;
  }


  Config config_;
  std::int64_t width_;                                    // raw price width of a bucket
  std::array<std::int64_t, Config::kMaxBuckets> vol_{};   // raw volume by bucket, modulo kMaxBuckets
  std::array<Slot, Config::kMaxWindow> ring_{};           // rolling: the last trades pushed
  std::uint64_t pushed_ = 0;                              // rolling: trades pushed into ring_
  std::uint64_t n_ = 0;                                   // trades in the profile
  std::int64_t lo_ = 0, hi_ = 0;                          // the span (valid when n_ > 0)
  std::int64_t day_ = INT64_MIN;                          // session: the UTC day of the profile
  std::uint64_t count_ = 0;                               // trades of the instrument seen
  int where_ = kUnarmed;  // 0 inside, +1 / -1 excursion above / below, kUnarmed
  bool broke_ = false;    // the excursion reached the breakout distance
  std::uint64_t start_ = 0;  // trade index of the excursion's first trade
  int holding_ = 0;          // +1 long, -1 short, 0 flat (as asked, see above)
  std::int64_t stop_ = 0;    // the held position's bracket, raw prices
  std::int64_t take_profit_ = 0;
  bool acted_ = false;  // an intent was sent (last_intent_ is set)
  std::uint64_t last_intent_ = 0;
  std::int64_t last_intent_ns_ = 0;  // venue time of the last intent
};

ENIGMA_REGISTER_STRATEGY(VolumeProfile);

}  // namespace enigma::strategy
