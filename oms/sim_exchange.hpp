// Simulated exchange for backtests and paper trading: fills our orders against the replayed L2 book and
// trades, on injected time only (deterministic: same inputs, same reports).
//
// Model:
//  * Book: its own price-level book per instrument from core Events (BookBatch snapshot/delta + BookLevel,
//    or Bbo as a one-level book when an instrument has no depth feed). Our taker fills consume displayed
//    qty until the next update of that level.
//  * Latency: an order or cancel sent at local time t reaches the matching engine at t + order_latency,
//    one draw per message from the configured model (oms/latency_model.hpp: constant, uniform, normal,
//    lognormal, a recorded file). Messages travel one ordered connection, so a message never overtakes an
//    earlier one: its arrival is max(t + draw, the previous message's arrival) (with a constant latency that
//    is t + latency; held_back() counts the messages that rule delayed). Every message's send and arrival
//    time is kept (order_latency(); capacity max_latency_rows, overflow counted) and every draw recorded in
//    order_latency_hist().
//    A report emitted at exchange time x is delivered by poll_reports() from x + the report latency on
//    (feed_latency, or what set_report_latency() last set), never before an earlier report.
//  * Taker: market/IOC/FOK and the crossing part of a limit walk the opposite side (FOK all-or-nothing).
//    Post-only that would cross is rejected.
//  * Maker queue: a resting limit joins behind the qty displayed at its price at placement. Trades at the
//    price consume the queue ahead first, then fill us. Cancels do not move us up (conservative default)
//    except when the displayed qty falls below our queue ahead, which proves that many left from ahead;
//    optionally cancels are assumed to come proportionally from ahead. A trade through our price, or the
//    opposite side crossing it, fills the rest at our price.
//  * Stops / take-profits / trailing stops trigger on trade prices, then execute as market orders.
//  * Margin: every order that is not reduce-only needs price x qty x multiplier / leverage of free margin
//    (balance minus position margin minus what working orders reserve), else INSUFFICIENT_MARGIN;
//    reduce-only orders that would add exposure are rejected and never trade past flat.
//  * Native iceberg (OrderSpec::display_qty, where the venue offers one): a resting limit whose trades at its
//    price fill at most the visible part; the refill (display_qty, or what is left) joins the back of the
//    level (behind its displayed qty then). A trade through the price fills the rest.
//  * Fees: maker/taker rates per venue on each fill's notional (negative rate = rebate); a native iceberg
//    pays the taker rate where the venue says so (KuCoin Futures).
//  * Funding (perpetuals): at each funding time the position pays qty x multiplier x mark x rate (longs pay
//    a positive rate), from MarkFunding events or, without them, a configured schedule. The mark is the
//    event's mark price, or the last trade when no mark price came. Every payment is kept
//    (funding_payments()) with the number of fills the instrument had by then, so that it can be charged to
//    the round trip open at that moment.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "core/book_side.hpp"
#include "core/error.hpp"
#include "core/events.hpp"
#include "core/fixed_point.hpp"
#include "core/histogram.hpp"
#include "core/instrument.hpp"
#include "oms/exec_report.hpp"
#include "oms/latency_model.hpp"
#include "oms/order_spec.hpp"
#include "risk/flat_map.hpp"

namespace enigma::oms {

struct SimFees {
  Rate maker;  // fraction of notional, e.g. 0.0002; negative = rebate
  Rate taker;
};

struct SimConfig {
  std::array<SimFees, kVenueCount> fees{};      // indexed by Venue
  std::int64_t order_latency_ns{0};             // order-entry latency (send -> matching engine), constant model
  // Another model (uniform, normal, lognormal, file); dist constant uses order_latency_ns.
  LatencyModelConfig order_latency_model{};
  std::int64_t feed_latency_ns{0};  // exchange -> us: execution reports
  // Read by the driver (engine TradingCore): market data reaches the matching engine at the frame's exchange
  // time and reports take the frame's measured feed latency; feed_latency_ns only where a frame has none.
  bool feed_latency_capture{false};
  bool cancels_proportional_from_ahead{false};  // false = conservative queue model
  Notional initial_balance{Notional::from_units(10'000)};
  // Funding schedule used when an instrument gets no MarkFunding events: every `funding_interval_ns`
  // (aligned to the epoch, e.g. 8 h) at `scheduled_funding_rate`. 0 disables it.
  std::int64_t funding_interval_ns{0};
  Rate scheduled_funding_rate{};
  std::size_t max_orders{4096};      // live + in-flight orders
  std::size_t max_levels{2048};      // per book side; deeper levels are dropped (and counted)
  std::size_t max_reports{1 << 16};  // undelivered reports; overflow is counted, never silent
  std::size_t max_latency_rows{1 << 16};  // order_latency() rows kept; more are counted, not kept
  std::size_t max_funding_rows{1 << 16};  // funding_payments() rows kept; more are summed, not kept
};

// One order-entry message as the simulated exchange saw it (order_latency.csv).
struct SimOrderLatency {
  ClientOrderId id;
  std::int64_t send_ns;
  std::int64_t arrival_ns;  // at the matching engine
  bool cancel;
};

struct SimPosition {
  Qty qty;              // signed: > 0 long, < 0 short
  Notional entry_notional;  // |qty| x average entry (x multiplier applied), for margin and PnL
  Notional realized_pnl;
  Notional funding;     // sum of funding paid (positive) / received (negative)
  Notional fees;        // sum of fees paid on this instrument's fills (negative = net rebates)
  std::uint16_t leverage{1};
};

// One funding payment as booked (funding_payments()): a position that was open at a funding time.
struct SimFundingPayment {
  std::int64_t time_ns;        // the funding time (exchange time)
  std::uint64_t fills_before;  // fills on this instrument before the payment (orders it among the fills)
  InstrumentId instrument;
  Qty position;                // signed position it was charged on
  Price price;                 // mark (or last trade) the position was valued at
  Rate rate;
  Notional amount;             // paid (positive) / received (negative)
};

struct SimAccount {
  Notional balance;     // initial + realized PnL - fees - funding
  Notional fees_paid;   // sum of fees (negative = net rebates)
  Notional funding_paid;
};

class SimExchange {
 public:
  // `registry` must outlive the exchange; all storage is allocated here. Throws enigma::Error on a config
  // that cannot work (zero capacities, negative latency).
  SimExchange(const InstrumentRegistry& registry, SimConfig cfg);

  // Market data at exchange time `exch_time_ns` (non-decreasing). Orders and cancels whose arrival time is
  // <= exch_time_ns are processed first, in arrival order.
  void on_event(const Event& e, std::int64_t exch_time_ns) noexcept;
  // Processes arrivals and funding times up to `exch_time_ns` without market data.
  void advance(std::int64_t exch_time_ns) noexcept;

  // Sends an order at local time `now_ns`; it reaches the engine at now_ns + order_latency.
  // Errc::capacity when the order table is full, Errc::out_of_range for an unknown instrument or qty <= 0.
  [[nodiscard]] Errc submit(const OrderSpec& o, std::int64_t now_ns) noexcept;
  // Requests a cancel; an unknown or finished order gets a cancel_rejected report.
  [[nodiscard]] Errc cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept;

  // Moves reports deliverable at `now_ns` into `out`; returns how many.
  [[nodiscard]] std::size_t poll_reports(std::int64_t now_ns, std::span<ExecReport> out) noexcept;

  [[nodiscard]] const SimPosition& position(InstrumentId id) const noexcept { return books_[id].position; }
  [[nodiscard]] const SimAccount& account() const noexcept { return account_; }
  [[nodiscard]] Notional free_margin() const noexcept;
  [[nodiscard]] std::int64_t feed_latency_ns() const noexcept { return cfg_.feed_latency_ns; }
  // Delivery latency of reports emitted from now on (the driver's per-frame feed latency, feed = capture).
  void set_report_latency(std::int64_t ns) noexcept { report_latency_ns_ = ns < 0 ? 0 : ns; }
  [[nodiscard]] const LatencyModel& order_latency_model() const noexcept { return latency_; }
  // Every order-entry message in send order (up to max_latency_rows; arrival - send may exceed the draw, see
  // held_back()), the histogram of all the latencies drawn (ns), and how many messages arrived later than
  // their draw because an earlier message was still on its way.
  [[nodiscard]] const std::vector<SimOrderLatency>& order_latency() const noexcept { return latency_rows_; }
  [[nodiscard]] const LatencyHistogram& order_latency_hist() const noexcept { return latency_hist_; }
  [[nodiscard]] std::uint64_t held_back() const noexcept { return held_back_; }
  [[nodiscard]] std::uint64_t dropped_latency_rows() const noexcept { return dropped_latency_rows_; }
  // Every funding payment in booking order (up to max_funding_rows); the amount of those not kept.
  [[nodiscard]] const std::vector<SimFundingPayment>& funding_payments() const noexcept { return funding_rows_; }
  [[nodiscard]] Notional unkept_funding() const noexcept { return unkept_funding_; }
  // Displayed qty at `px` on `side` of the simulated book (0 if no level).
  [[nodiscard]] Qty level_qty(InstrumentId id, Side side, Price px) const noexcept;
  // Queue ahead of a resting order (0 if unknown / not resting).
  [[nodiscard]] Qty queue_ahead(const ClientOrderId& id) const noexcept;
  [[nodiscard]] std::uint64_t dropped_reports() const noexcept { return dropped_reports_; }
  // Native icebergs whose visible part traded out and was shown again (at the back of its level).
  [[nodiscard]] std::uint64_t iceberg_refills() const noexcept { return iceberg_refills_; }
  [[nodiscard]] std::uint64_t dropped_levels() const noexcept { return dropped_levels_; }

 private:
  struct Book {
    explicit Book(std::size_t max_levels) : bids(Side::buy, max_levels), asks(Side::sell, max_levels) {}
    BookSide bids;
    BookSide asks;
    SimPosition position;
    Price last_trade;
    Price mark;
    Rate funding_rate;
    std::int64_t next_funding_ns{0};
    std::uint32_t pending_levels{0};  // BookLevel events still expected for the current batch
    std::uint64_t fills{0};           // fills on this instrument so far (SimFundingPayment::fills_before)
    bool has_depth{false};
    bool has_funding_feed{false};
  };
  enum class OrderPhase : std::uint8_t { in_flight, resting, untriggered, done };
  struct Order {
    OrderSpec spec;
    Qty filled;
    Qty queue_ahead;
    Qty traded_at_level;   // trades at our price not yet matched by a level decrease (cancel accounting)
    Qty visible_left;      // native iceberg (spec.display_qty > 0): what its visible part has left
    Price trail_extreme;   // trailing stop: best price seen since activation
    Notional reserved_margin;
    std::int64_t arrival_ns{0};
    std::uint64_t venue_id{0};
    OrderPhase phase{OrderPhase::in_flight};
    bool trail_active{false};
  };
  struct Action {
    std::int64_t at_ns;
    std::uint32_t order;  // slot
    bool is_cancel;
    ClientOrderId cancel_id;  // for cancels of unknown ids
  };
  struct Pending {
    ExecReport report;
    std::int64_t deliver_ns;
  };
  static_assert(std::is_trivially_copyable_v<Pending> && std::is_trivially_destructible_v<Pending>,
                "the report ring is raw storage (see reports_)");
  struct PendingDelete {
    void operator()(Pending* p) const noexcept { ::operator delete(p, std::align_val_t{alignof(Pending)}); }
  };

  void process_until(std::int64_t t) noexcept;
  // Arrival time of a message sent at `now_ns` (one draw, FIFO after the previous one), recorded.
  std::int64_t arrival_of(const ClientOrderId& id, std::int64_t now_ns, bool cancel) noexcept;
  void apply_funding(Book& b, InstrumentId id, std::int64_t t) noexcept;
  void on_arrival(std::uint32_t slot, std::int64_t t) noexcept;
  void on_cancel_arrival(const Action& a, std::int64_t t) noexcept;
  void apply_level(Book& b, InstrumentId id, const BookLevel& l, std::int64_t t) noexcept;
  void on_trade(Book& b, InstrumentId id, const Trade& tr, std::int64_t t) noexcept;
  void check_crossed_resting(Book& b, InstrumentId id, std::int64_t t) noexcept;
  // Walks the opposite side up to `limit` (0 = no limit) for `want`; returns the filled qty.
  Qty take(Book& b, std::uint32_t slot, Qty want, Price limit, std::int64_t t) noexcept;
  [[nodiscard]] Qty available(const Book& b, Side taker, Qty want, Price limit) const noexcept;
  void fill(std::uint32_t slot, Qty qty, Price px, bool maker, std::int64_t t) noexcept;
  void finish(std::uint32_t slot, ExecKind kind, Reason reason, std::int64_t t) noexcept;
  void emit(const Order& o, ExecKind kind, Reason reason, Qty last_qty, Price last_px, Notional fee, bool maker,
            std::int64_t t) noexcept;
  [[nodiscard]] Notional margin_for(const Order& o, Price px) const noexcept;
  [[nodiscard]] Order* find(const ClientOrderId& id) noexcept;
  [[nodiscard]] const Order* find(const ClientOrderId& id) const noexcept;
  void release(std::uint32_t slot) noexcept;

  const InstrumentRegistry& registry_;
  SimConfig cfg_;
  std::vector<Book> books_;
  std::vector<Order> orders_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> live_;          // slots resting/untriggered, in placement order
  mutable risk::detail::FlatMap64 index_;    // client id hash -> slot
  std::vector<Action> actions_;              // FIFO ring (arrivals are non-decreasing: arrival_of)
  std::size_t action_head_{0};
  std::size_t action_count_{0};
  // FIFO ring of max_reports entries: raw storage, written slot by slot (a value-initialized vector made all
  // of it, ~10 MB at the default, resident at start-up).
  std::unique_ptr<Pending[], PendingDelete> reports_;
  std::size_t report_cap_{0};
  std::size_t report_head_{0};
  std::size_t report_count_{0};
  SimAccount account_{};
  std::int64_t now_ns_{0};
  // No funding payment is due before this time (from the last full scan of the books); reset whenever a
  // funding feed changes the schedule. Lets process_until skip the per-book scan on almost every event.
  std::int64_t no_funding_before_ns_{INT64_MIN};
  std::uint64_t next_venue_id_{1};
  std::uint64_t report_seq_{0};
  std::uint64_t dropped_reports_{0};
  std::uint64_t iceberg_refills_{0};
  std::uint64_t dropped_levels_{0};
  LatencyModel latency_;
  std::int64_t last_arrival_ns_{INT64_MIN};
  std::int64_t report_latency_ns_{0};
  std::int64_t last_deliver_ns_{INT64_MIN};
  std::vector<SimOrderLatency> latency_rows_;
  LatencyHistogram latency_hist_;
  std::uint64_t dropped_latency_rows_{0};
  std::vector<SimFundingPayment> funding_rows_;  // reserved max_funding_rows
  Notional unkept_funding_;
  std::uint64_t held_back_{0};
};

}  // namespace enigma::oms
