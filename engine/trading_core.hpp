// The order side of the pipeline: intent -> entry pricing -> risk gate -> order state -> venue bytes ->
// (simulated) exchange -> execution reports -> positions, P&L and fills back to the strategies.
//
// One TradingCore lives on the OMS thread (or the single thread in the fused topology). Everything is
// preallocated in the constructor; on_intent/on_market/poll are noexcept and allocation-free. The
// per-stage histograms it owns (risk, encode, frame->order) are read by the engine after the run.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/histogram.hpp"
#include "core/instrument.hpp"
#include "engine/admin.hpp"
#include "engine/daily.hpp"
#include "engine/alerts.hpp"
#include "oms/entry_pricing.hpp"
#include "oms/ids.hpp"
#include "oms/order_manager.hpp"
#include "oms/order_types.hpp"
#include "oms/order_state.hpp"
#include "oms/sim_exchange.hpp"
#include "oms/venue_answer.hpp"
#include "oms/venue_order_entry.hpp"
#include "risk/emergency_stop.hpp"
#include "risk/risk_config.hpp"
#include "risk/risk_gate.hpp"
#include "strategy/intent.hpp"
#include "strategy/strategy.hpp"

namespace enigma::engine {

class LiveGateway;     // engine/live_gateway.hpp
struct GatewayReport;  // engine/live_gateway.hpp

// One fill as written to trades.csv (deterministic: data time only).
struct TradeRow {
  std::int64_t time_ns;
  InstrumentId instrument;
  Side side;
  bool maker;
  Price price;
  Qty qty;
  Notional fee;
  risk::ClientOrderId client_id;
  strategy::IntentReason reason;
  Price expected;  // the price the order expected: its trigger (stops), else its limit, else the decision-time mid
};

struct EquityRow {
  std::int64_t time_ns;
  Notional equity;        // balance + unrealized
  Notional balance;       // initial + realized - fees - funding
  Qty position;           // instrument 0's position (the replay trades one instrument)
  Price mark;             // instrument 0's mid (zero before its first quote): metrics.json's buy-and-hold baseline
};

// The engine's lifecycle (DESIGN.md "The supervisor"); every transition is logged and shown in /status.
enum class Lifecycle : std::uint8_t { initializing, ready, trading, paused, emergency_stop, shutdown };
[[nodiscard]] std::string_view to_string(Lifecycle s) noexcept;

// What a kill, a halt or a shutdown does with open positions. Either way entries are cancelled and no
// position is left without its stop: `flatten` closes with reduce-only market orders and cancels the stops
// once flat; `keep_protected` leaves the stops and take-profits working.
enum class StopPolicy : std::uint8_t { flatten, keep_protected };
[[nodiscard]] std::string_view to_string(StopPolicy p) noexcept;

// Why the emergency stop ran (counted per cause in the summary and /status).
enum class EmergencyCause : std::uint8_t {
  none, daily_drawdown, total_drawdown, consecutive_losses, feed_down, invariant, credentials, admin, journal,
  venue_ban,  // live: the venue banned our IP (Binance HTTP 418)
};
inline constexpr std::size_t kEmergencyCauseCount = 10;
[[nodiscard]] std::string_view to_string(EmergencyCause c) noexcept;

// The supervisor's limits ([supervisor] in the config): the plan's hard limits beyond the pre-trade gate.
struct SupervisorConfig {
  StopPolicy on_kill{StopPolicy::flatten};
  StopPolicy on_stop{StopPolicy::flatten};           // SIGINT/SIGTERM and the end of a replay
  Rate max_total_drawdown{Rate::from_raw(Rate::kScale / 10)};  // 0.10 below peak equity: emergency stop
  std::uint32_t max_trades_per_day{200};             // entries per UTC day (0 = no limit)
  Rate market_move{Rate::from_raw(Rate::kScale / 50)};  // 0.02: a mid move this large within ...
  std::int64_t market_move_window_ns{60'000'000'000};   // ... this window pauses new entries ...
  std::int64_t market_move_pause_ns{300'000'000'000};   // ... for this long (0 move = off)
  std::int64_t feed_down_ns{60'000'000'000};         // paper/live: no frame this long -> emergency stop
  std::int64_t unprotected_grace_ns{2'000'000'000};  // a position without a working stop this long -> emergency
  std::uint32_t nearly_full_pct{90};  // order table, or a journal segment with no next one, this full -> emergency stop
};

struct TradingCoreConfig {
  // Staged rollout (engine/rollout.hpp): every strategy order's size times this, rounded down to the lot;
  // an order that rounds below the instrument's minimum is not sent (counted in rollout_rejects).
  Rate size_scale{Rate::from_units(1)};
  risk::RiskConfig risk;
  std::vector<risk::InstrumentLimits> limits;  // indexed by instrument id
  oms::SimConfig sim;
  oms::EntryPricingConfig entry;
  oms::EntryPricingTable entry_by_strategy{};  // per strategy id: the strategy's own price (default) or level
  oms::ExitPlan exits{};                       // TP ladder, depth split, trailing stop, break-even
  std::uint16_t leverage{5};
  bool bracket_exits{true};
  std::int64_t entry_timeout_ns{5'000'000'000};  // resting entries not filled by then are cancelled                    // place stop-loss + take-profit (OCO) after an entry fill
  std::int64_t equity_sample_ns{1'000'000'000};
  std::string client_id_prefix{"en"};
  // Paper/live: the session's start (Unix seconds); ids become `<prefix><epoch base 36>-<n>` so they never
  // repeat across restarts (oms::session_client_id_prefix). 0 (replays): `<prefix><n>`, deterministic.
  std::uint64_t client_id_epoch{0};
  // OKX takes clOrdId of [A-Za-z0-9] only, up to 32: its sessions end the prefix with 'X' (base 36 digits are
  // lower case, so the id still reads <time>X<n> unambiguously) and the generator checks 32.
  bool client_id_alphanumeric{false};
  std::string journal_path;                    // required: every order is journaled before it leaves
  // Replays need no durability, so the default writes the mmapped journal without fsync (no syscall on the
  // order path); [oms] journal_fsync = "interval" | "every_record" for paper/live.
  oms::JournalConfig journal{1 << 16, oms::FsyncPolicy::none, 10'000'000};
  std::size_t max_orders{4096};
  std::size_t max_trade_rows{1 << 20};
  // Live mode: an order whose outcome is UNKNOWN (5xx / timeout) is queried by client order id this long
  // after, then every `unknown_query_delay_ns` until the venue answers (RELIABILITY.md).
  std::int64_t unknown_query_delay_ns{1'000'000'000};
  // Live mode: the venue's dead-man switch (Binance countdownCancelAll) cancels every open order of a
  // traded instrument unless refreshed within this time; refreshed every third of it, also while the
  // kill switch is latched. 0 leaves it disarmed.
  std::int64_t deadman_countdown_ns{30'000'000'000};
  SupervisorConfig supervisor{};
};

class TradingCore {
 public:
  TradingCore(const InstrumentRegistry& registry, TradingCoreConfig cfg);

  // Handles one strategy intent at data time `now_ns`. `bids`/`asks` are the book (best first) the intent
  // was computed on. `frame_tsc` is the receive TSC of the frame that caused it (for frame->order latency).
  // Returns true when an order was sent.
  bool on_intent(const strategy::OrderIntent& intent, std::span<const oms::PriceLevel> bids,
                 std::span<const oms::PriceLevel> asks, std::int64_t now_ns, std::uint64_t frame_tsc) noexcept;
  // Market data for the simulated exchange (book, trades, bbo, funding) at data time.
  void on_market(const Event& e, std::int64_t now_ns) noexcept;
  // Delivers due execution reports: updates orders, risk and positions, and hands each fill to
  // `on_fill(ctx, fill)` (the strategy stage directly when fused, a ring when pipelined).
  using FillFn = void (*)(void* ctx, const strategy::Fill& fill) noexcept;
  void poll(std::int64_t now_ns, FillFn on_fill, void* ctx) noexcept;
  // Admin commands (kill switch, trading start/stop), polled every iteration.
  void on_admin(const AdminCommand& cmd, std::int64_t now_ns) noexcept;
  // Mark-to-market and an equity sample when due (day roll, drawdown limits, volatility, invariants).
  void mark(InstrumentId id, Price mid, std::int64_t now_ns) noexcept;
  void log_correlation_changes() noexcept;  // after the rolling correlation closed an interval
  // Shutdown: cancel every working order (cancel_on_stop) and flush reports up to `now_ns`.
  void cancel_all(std::int64_t now_ns) noexcept;
  // Shutdown by [supervisor] on_stop: cancel entries, then flatten (closes; stops cancelled once flat) or
  // keep the stops working. Reports still have to be polled.
  void stop(std::int64_t now_ns) noexcept;
  // Paper/live: feed health, checked between frames. No frame for feed_down_ns raises the emergency stop.
  void on_feed_health(bool connected, std::int64_t last_frame_ns, std::int64_t now_ns) noexcept;
  // The emergency sequence (halt -> cancel entries -> flatten -> persist -> alert), then wait for a person:
  // POST /kill/reset and POST /trading/start.
  void emergency_stop(EmergencyCause cause, std::int64_t now_ns) noexcept;
  [[nodiscard]] Lifecycle lifecycle() const noexcept { return lifecycle_; }
  [[nodiscard]] EmergencyCause emergency_cause() const noexcept { return emergency_cause_; }
  [[nodiscard]] std::uint64_t emergency_count(EmergencyCause c) const noexcept { return emergency_counts_[static_cast<std::size_t>(c)]; }
  // Instruments traded by this core (ids below this have limits).
  [[nodiscard]] std::size_t traded_count() const noexcept { return traded_count_; }
  // Positions with no working stop order right now (brackets on): must be 0 after any stop sequence.
  [[nodiscard]] std::size_t unprotected_positions() const noexcept;

  // Live mode (cold path, before the run): orders are signed by `entry` (the venue's order entry with the real
  // credentials: oms/venues/<venue>.hpp OrderEntry) and handed to `gateway` instead of the simulated exchange;
  // reports come from the gateway; positions and the balance are tallied from our own fills (starting at [sim]
  // initial_balance). The gateway's resigner is the entry's. `gateway` must outlive the core. Throws
  // enigma::Error when the venue cannot keep the configured dead-man countdown (VenueOrderEntry::
  // dead_man_refusal) or takes only alphanumeric client ids and the core's are not (client_id_alphanumeric).
  void go_live(LiveGateway& gateway, std::unique_ptr<oms::VenueOrderEntry> entry);
  [[nodiscard]] bool live() const noexcept { return live_ != nullptr; }
  // Live: disarms the venue's dead-man timer (clean shutdown, after the working orders are settled).
  void disarm_deadman(std::int64_t now_ns) noexcept;
  // The position / account: the simulated exchange's in replay and paper, our fill tally in live mode.
  [[nodiscard]] const oms::SimPosition& position(InstrumentId id) const noexcept {
    return live_ != nullptr ? live_pos_[id] : sim_.position(id);
  }
  [[nodiscard]] const oms::SimAccount& account() const noexcept { return live_ != nullptr ? live_account_ : sim_.account(); }
  // Orders that may still trade at the venue (sent, not yet terminal).
  [[nodiscard]] std::size_t working_orders() const noexcept;
  // The order table (status per client id), e.g. to report orders left UNKNOWN.
  [[nodiscard]] const oms::OrderState* order(const risk::ClientOrderId& id) noexcept { return om_.find(id); }
  // Start-up (cold path): the OMS as rebuilt from the journal, for the resume report.
  [[nodiscard]] oms::OrderManager& order_manager() noexcept { return om_; }
  // The client id the next order gets (peeked: no id is used up).
  [[nodiscard]] risk::ClientOrderId peek_next_client_id() const noexcept {
    oms::ClientIdGenerator copy = ids_;
    return copy.next();
  }
  // Paper start-up (cold path): the simulated exchange starts empty, so orders the journal still holds as
  // working cannot be resting there; each is resolved canceled (journaled). Returns how many.
  std::size_t cancel_orders_unknown_to_simulator(std::int64_t now_ns) noexcept;
  // Live start-up reconciliation (cold path, after go_live, before the gateway starts), engine/state.hpp:
  // the venue's answer about one of our journal's orders (ExecKind::status), journaled and applied; when
  // it filled one leg of an OCO pair, the other leg's cancel is queued (it leaves once the gateway starts).
  // Returns the sibling cancelled, if any. `now_ns` is wall time (it stamps the cancel request).
  std::optional<risk::ClientOrderId> apply_venue_status(const oms::ExecReport& r, std::int64_t now_ns) noexcept;
  // Live start-up, [live] unknown_orders = "adopt" (cold path): an open order at the venue that we never
  // sent is journaled under its own client id as working (accepted, `executed` already filled), so that
  // track_restored_orders() makes it ours. False when the order table or the journal refuses it.
  bool adopt_venue_order(const oms::OrderSpec& spec, Qty executed, std::int64_t now_ns) noexcept;
  // The venue's position is the truth: our tally, the risk gate and the supervisor's watch take it.
  void set_venue_position(InstrumentId id, Qty signed_qty, Price entry_px) noexcept;
  // Live start-up, after reconciliation (cold path): every order the journal still holds as working gets an
  // engine slot and is entered in the risk gate, so limits, the kill switch, the stop policy and the
  // protection check include it. Returns how many.
  std::size_t track_restored_orders(std::int64_t now_ns) noexcept;
  // Disk full mid-run (the journal's next segment cannot be reserved and the active one is nearly full):
  // the emergency sequence runs, then, once flat (or after kDiskFullFlattenGraceNs), `*stop` is set so the
  // run ends; the command exits 3 naming the journal's error (Journal::rollover_error()).
  void set_run_stop(std::atomic<bool>* stop) noexcept { run_stop_ = stop; }
  // Daily reports: each UTC day's figures go to `r` at the day roll (and the open day at close_day()).
  void set_daily_reporter(DailyReporter* r) noexcept { daily_ = r; }
  // End of the run (cold): the day still open is handed over, marked partial.
  void close_day() noexcept { finish_day(true); }
  [[nodiscard]] bool stopped_for_disk_full() const noexcept { return disk_full_since_ns_ != 0; }
  static constexpr std::int64_t kDiskFullFlattenGraceNs = 10'000'000'000;
  // The venue's wallet balance replaces [sim] initial_balance (drawdown limits are measured from it).
  void set_venue_balance(Notional balance) noexcept;
  // [alerts] (engine/alerts.hpp): the supervisor's rules enqueue events here (a POD into a bounded ring,
  // nothing else on this thread). nullptr (default): no alerts. Set before the run; must outlive it.
  void set_alerts(AlertMonitor* alerts) noexcept { alerts_ = alerts; }

  [[nodiscard]] const std::vector<TradeRow>& trades() const noexcept { return trades_; }
  [[nodiscard]] const std::vector<EquityRow>& equity() const noexcept { return equity_; }
  // Each equity sample's per-instrument net P&L (figures().net at that time): traded_count() values per row of
  // equity(), instrument ids in order. Their sum is the row's equity less the initial balance.
  [[nodiscard]] std::span<const Notional> equity_by_instrument(std::size_t row) const noexcept {
    return {equity_by_instrument_.data() + row * traded_count_, traded_count_};
  }
  // One instrument's share of the run (a portfolio's per-instrument and per-strategy lines): orders sent and
  // fills on it, round trips closed (flat to flat, as counters().round_trips), and its net P&L: realized +
  // unrealized - fees - funding. The instruments' nets sum to equity - initial balance.
  struct InstrumentFigures {
    std::uint64_t orders{0}, fills{0}, round_trips{0}, losing_trips{0};
    Notional realized, unrealized, fees, funding, net;
  };
  [[nodiscard]] InstrumentFigures figures(InstrumentId id) const noexcept;
  [[nodiscard]] const oms::SimExchange& sim() const noexcept { return sim_; }
  // Live: one row per order, its send time and first answer (order_latency.csv; capacity max_latency_rows).
  struct LiveOrderLatency {
    risk::ClientOrderId id;
    std::int64_t send_ns;
    std::int64_t venue_ns;  // the venue's time on its first answer (0 if none)
    std::int64_t ack_ns;    // local time that answer was handled
  };
  [[nodiscard]] const std::vector<LiveOrderLatency>& live_order_latency() const noexcept { return live_latency_; }
  // [sim] feed_latency = "capture": per frame with an exchange time, receive - exchange time - clock offset
  // (the smallest receive - exchange time seen so far), ns; frames without one take feed_latency_ns.
  [[nodiscard]] const LatencyHistogram& feed_latency_hist() const noexcept { return feed_latency_hist_; }
  [[nodiscard]] std::uint64_t feed_frames_without_time() const noexcept { return feed_frames_fallback_; }
  [[nodiscard]] std::int64_t feed_clock_offset_ns() const noexcept { return feed_offset_ns_; }
  [[nodiscard]] const risk::RiskGate& risk() const noexcept { return *risk_; }
  [[nodiscard]] risk::RiskGate& risk() noexcept { return *risk_; }

  struct Counters {
    std::uint64_t intents{0}, orders{0}, risk_rejects{0}, pricing_rejects{0}, venue_rejects{0}, fills{0}, cancels{0},
        encode_errors{0}, dropped_rows{0}, order_table_full{0};
    std::uint64_t journal_errors{0};  // orders refused because the journal could not record them (full disk)
    // Live mode: requests the gateway ring refused, UNKNOWN outcomes, status queries sent, cancels refused.
    std::uint64_t gateway_full{0}, unknown_outcomes{0}, queries{0}, cancel_rejects{0};
    // Live mode: cancel-all requests (kill switch), dead-man refreshes sent, and instrument-level requests
    // (either kind) that failed or whose outcome is unknown.
    std::uint64_t cancel_alls{0}, deadman_refreshes{0}, instrument_request_failures{0};
    std::uint64_t reconnect_reconciliations{0};
    // Live mode, copied from the gateway each poll: the venue's own counters (Binance used weight per
    // minute, orders per 10 s and per minute) from its last answer, its 429 and 418 answers, and requests
    // refused locally by the venue budget, a 429 back-off or a ban.
    std::uint64_t venue_used_weight{0}, venue_order_count_short{0}, venue_order_count_long{0};
    std::uint64_t venue_http_429{0}, venue_http_418{0}, venue_rate_refusals{0};
    // Execution algorithms ([strategy.<table>] execution): TWAP / iceberg children sent, and children never
    // sent because their parent ended first (kill, stop, halt, a child that did not fill, its position closed).
    // exec_paced: polls at which a due child waited for the submit budget (room for it and its legs).
    // vwap_fallbacks: VWAP parents sized equally (no volume on the tape within the horizon, or it overflowed).
    std::uint64_t exec_children{0}, exec_children_cancelled{0}, exec_paced{0}, vwap_fallbacks{0};
    // execution = "iceberg": entries sent as the venue's own iceberg (one order showing display_qty), and
    // entries sliced by the engine on a venue that offers one because the order did not fit its rules.
    std::uint64_t native_icebergs{0}, native_iceberg_unfit{0};
    // [risk] correlation_window: changes of a pair's correlated state (logged), entries the correlation sizing
    // shrank, and entries it would have shrunk below the lot / min_qty (refused).
    std::uint64_t correlation_changes{0}, correlation_sized{0}, correlation_size_rejects{0};
    std::uint64_t rollout_rejects{0};  // orders the rollout stage scaled below the instrument's minimum  // live: working orders queried after a venue reconnect
    std::int32_t last_venue_code{0};  // Binance code of the last refused request (e.g. -2019 margin)
    // Supervisor: closed round trips (wins/losses), trading days rolled, entries refused by the plan's
    // limits (trades per day, market-move pause), emergency stops, closes sent by a flatten.
    std::uint64_t round_trips{0}, losing_trips{0}, days_rolled{0}, trades_per_day_rejects{0}, market_move_rejects{0},
        emergency_stops{0}, flatten_orders{0}, market_move_pauses{0}, lifecycle_changes{0};
  };
  [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
  [[nodiscard]] Notional max_drawdown() const noexcept { return max_drawdown_; }
  [[nodiscard]] Notional peak_equity() const noexcept { return peak_equity_; }
  [[nodiscard]] Notional last_equity() const noexcept;
  // Stop legs replaced by a tighter one (trailing staircase or break-even).
  [[nodiscard]] std::uint64_t stop_moves() const noexcept { return stop_moves_; }
  // Whether a book mid was ever marked for this instrument (false: its symbol never appeared in the data).
  [[nodiscard]] bool saw_market(InstrumentId id) const noexcept { return id < marks_.size() && !marks_[id].is_zero(); }

  // The order path's dry run (DESIGN "hot path"): a representative order for every traded instrument with
  // a mark goes through the risk gate's checks (nothing reserved or counted), a journal-shaped record into
  // scratch, and the venue encoder's encode + HMAC sign into scratch. Nothing is sent, journaled or counted
  // (no order, no reject, no histogram); it keeps the order path's code, tables and buffers in cache between
  // orders that may be seconds apart. Allocation- and syscall-free. Returns the orders it warmed.
  std::size_t warm_order_path(std::int64_t now_ns) noexcept;
  [[nodiscard]] std::uint64_t warm_runs() const noexcept { return warm_runs_; }
  // The last order whose bytes were encoded and signed, and when (TSC) they were ready.
  [[nodiscard]] const oms::OrderSpec& last_encoded() const noexcept { return last_encoded_; }
  [[nodiscard]] std::uint64_t last_encoded_tsc() const noexcept { return last_encoded_tsc_; }
  // The stage stamps (TSC) of the first order encoded for a frame: `frame_tsc` is the frame's receive stamp
  // the order was sent for, then when its risk check began and ended, when it was journaled and when its
  // bytes were signed. The fused engine splits an order frame's time by stage with them.
  struct OrderStamps {
    std::uint64_t frame_tsc{0}, risk_begin{0}, risk_end{0}, journaled{0}, encoded{0};
  };
  [[nodiscard]] const OrderStamps& first_order_stamps() const noexcept { return first_order_stamps_; }
  // Those bytes (the venue's HTTP request or WebSocket-API text) in replay and paper; in live the buffer is
  // reused for cancels and queries, so this is only the last new order's until the next request.
  [[nodiscard]] std::string_view last_encoded_bytes() const noexcept { return {wire_.data(), last_encoded_len_}; }

  LatencyHistogram hist_risk;      // intent -> risk decision
  LatencyHistogram hist_journal;   // open position + journal the order (before it leaves)
  LatencyHistogram hist_encode;    // order -> signed venue bytes
  LatencyHistogram hist_order;     // frame in -> order bytes out (end to end)

 private:
  // What the engine adds to the OMS's own order state: why the order was sent and when an unfilled
  // resting entry gives up.
  struct Slot {
    risk::ClientOrderId id;
    strategy::IntentReason reason;
    bool used;
    bool verify;              // live: query once after a reconnect (reports may have been missed)
    std::int64_t expires_ns;  // resting entry: cancel when still unfilled at this time (0 = never)
    std::int64_t query_at_ns;  // live: outcome UNKNOWN (or verify), query the venue at this time (0 = not needed)
    std::int64_t sent_ns{0};   // live: when the order left (order_latency.csv); 0 once its first answer is logged
  };
  // The matching engine's time for data arriving at `now_ns` ([sim] feed_latency = "capture": the frame's
  // exchange time; otherwise now_ns).
  [[nodiscard]] std::int64_t sim_time(std::int64_t now_ns) noexcept;
  // `forced`: already entered in the risk gate (emergency closes), so the checks are skipped.
  bool send(oms::OrderSpec spec, strategy::IntentReason reason, std::int64_t now_ns, std::uint64_t frame_tsc,
            bool forced = false) noexcept;
  void set_lifecycle(Lifecycle s) noexcept;
  [[nodiscard]] double limit_of(risk::RejectReason r, InstrumentId id) const noexcept;
  // Cancels every working entry (orders that are not reduce-only); exits stay.
  void cancel_entries(std::int64_t now_ns) noexcept;
  // Live: a cancel that never reached the gateway: the order goes back from pending-cancel to what it was.
  void cancel_not_sent(const risk::ClientOrderId& id, InstrumentId instrument, std::int64_t now_ns) noexcept;
  // Live: the working entries of one instrument, in batch cancels of up to 10 (one alone: a plain cancel).
  void cancel_entries_of(InstrumentId id, std::int64_t now_ns) noexcept;
  // One reduce-only market order per open position (positions the closes already cover are skipped).
  void flatten(std::int64_t now_ns) noexcept;
  void apply_policy(StopPolicy p, std::int64_t now_ns) noexcept;
  bool has_working_stop(InstrumentId id) const noexcept;
  void supervise(std::int64_t now_ns) noexcept;  // day roll, drawdowns, volatility, invariants (per sample)
  void on_position_change(InstrumentId id, Side side, Price px, Qty qty, std::uint16_t strategy,
                          std::int64_t now_ns) noexcept;
  bool entry_allowed(InstrumentId id, std::int64_t now_ns) noexcept;  // trades per day, market-move pause
  // [alerts] rules measured per equity sample: daily drawdown, API errors per minute, journal trouble,
  // positions near liquidation.
  void check_alerts(Notional equity, std::int64_t now_ns) noexcept;

  // The emergency procedure's side effects (risk/emergency_stop.hpp fixes their order).
  class EmergencyActionsImpl final : public risk::EmergencyActions {
   public:
    explicit EmergencyActionsImpl(TradingCore& c) : core_(c) {}
    void halt_signals() override;
    void cancel_orders(std::span<const risk::ClientOrderId> ids) override;
    void close_positions(std::span<const risk::OrderRequest> closes) override;
    void persist_state() override;
    void raise_alert(std::string_view reason) override;
    std::int64_t now_ns{0};
   private:
    TradingCore& core_;
  };
  void cancel_order(const risk::ClientOrderId& id, std::int64_t now_ns) noexcept;
  Slot* find(const risk::ClientOrderId& id) noexcept;
  void place_brackets(const oms::OrderState& entry, strategy::IntentReason reason, Qty qty, std::int64_t now_ns,
                      std::uint64_t cause_tsc) noexcept;
  void cancel_exits(InstrumentId id, std::int64_t now_ns) noexcept;
  // An entry, split into children by displayed depth when [oms] split_depth_fraction is set.
  bool send_entry(const oms::OrderSpec& spec, strategy::IntentReason reason, std::span<const oms::PriceLevel> bids,
                  std::span<const oms::PriceLevel> asks, std::int64_t now_ns, std::uint64_t frame_tsc) noexcept;
  // A parent entry sliced by its strategy's execution algorithm (TWAP, iceberg): the first child now, the
  // rest from run_parents() (TWAP, by the clock) or on_child_done() (iceberg, when the previous filled).
  struct ExecParent {
    bool used{false};
    oms::ExecAlgo algo{oms::ExecAlgo::single};
    oms::OrderSpec spec{};             // the children's template (id and qty set per child)
    strategy::IntentReason reason{};
    Qty left{};                        // not sent yet
    Qty child_qty{};                   // TWAP: every child but the last (which takes the remainder); iceberg: display_qty
    std::uint16_t to_send{0};          // children not sent yet
    std::int64_t interval_ns{0};       // TWAP
    std::int64_t next_ns{0};           // TWAP: when the next child goes
    std::uint32_t position_id{0};      // the position the first child opened (every child adds to it)
    std::uint16_t total{0};            // children in all
    std::array<Qty, oms::kMaxExecSlices> sizes{};  // vwap: each child's qty (from the trade tape)
  };
  // VWAP: the trade tape of each traded instrument (time, qty), a fixed ring filled by on_market; allocated
  // at start-up only when a strategy uses execution = "vwap".
  struct TapeTrade {
    std::int64_t t;
    Qty qty;
  };
  static constexpr std::size_t kTapeCap = 1 << 15;
  // Child sizes for a VWAP parent at `now_ns`: one lot-rounded minimum each, the rest in proportion to the
  // tape's volume in each of `n` equal parts of [now - horizon, now), the remainder on the last. False (and
  // equal sizes) when the tape is empty there or has overflowed within the horizon.
  bool vwap_sizes(InstrumentId id, std::int64_t now_ns, std::int64_t horizon_ns, std::size_t n, Qty qty,
                  std::span<Qty> out) noexcept;
  static constexpr std::size_t kMaxExecParents = 32;
  bool send_sliced(const oms::OrderSpec& spec, const oms::StrategyEntryPricing& pricing, strategy::IntentReason reason,
                   std::int64_t now_ns, std::uint64_t frame_tsc) noexcept;
  bool send_child(ExecParent& p, bool first, std::int64_t now_ns, std::uint64_t frame_tsc) noexcept;
  void run_parents(std::int64_t now_ns) noexcept;  // TWAP children that are due
  // An entry of `position_id` ended (`filled`: completely): the iceberg's next child, or the parent ends.
  void on_child_done(std::uint32_t position_id, bool filled, std::int64_t now_ns) noexcept;
  void drop_parent(ExecParent& p, const char* why) noexcept;  // its unsent children are cancelled
  // Take-profit legs of a bracket: one at the target, or the configured ladder.
  void place_take_profits(const oms::OrderSpec& exit, Price entry_px, Price target, Qty qty,
                          strategy::IntentReason reason, std::int64_t now_ns, std::uint64_t cause_tsc) noexcept;
  // Trailing staircase and break-even on a new mark: tighter stops replace the working stop legs.
  void manage_stops(InstrumentId id, Price mid, std::int64_t now_ns) noexcept;
  // Cancel/replace of one stop leg: the new leg is sent (journaled, risk-checked) before the old is cancelled.
  void replace_stop(const risk::ClientOrderId& old_id, Price new_stop, Price mid, std::int64_t now_ns) noexcept;
  void expire_entries(std::int64_t now_ns) noexcept;
  void handle_report(const oms::ExecReport& r, std::int64_t now_ns, std::uint64_t poll_tsc, FillFn on_fill,
                     void* ctx) noexcept;
  void poll_live(std::int64_t now_ns, std::uint64_t poll_tsc, FillFn on_fill, void* ctx) noexcept;
  // Live: hands the request in wire_[0, n) to the gateway; false when its ring is full. `protective`: a
  // reduce-only order (budget priority like a cancel).
  bool send_live(oms::RestRequest kind, const risk::ClientOrderId& id, InstrumentId instrument,
                 std::size_t n, bool protective = false) noexcept;
  void query_unknown(std::int64_t now_ns) noexcept;
  // Live, after a reconnect of the user-data stream or the order connection: every working order is
  // queried once by client id; the answers are applied like reports (a fill missed meanwhile is booked).
  void verify_working(std::int64_t now_ns) noexcept;
  void start_live(LiveGateway& gateway);
  // The live venue's signed cancel / query of one order into wire_.
  Result<std::size_t> encode_live_cancel(InstrumentId inst, const risk::ClientOrderId& id, std::int64_t now_ns) noexcept;
  Result<std::size_t> encode_live_query(InstrumentId inst, const risk::ClientOrderId& id, std::int64_t now_ns) noexcept;
  void refresh_deadman(std::int64_t now_ns, std::int64_t countdown_ms) noexcept;
  void retry_kill_cancels(std::int64_t now_ns) noexcept;
  void book_live_fill(InstrumentId id, Side side, Price px, Qty qty, Notional fee) noexcept;
  Notional unrealized(InstrumentId id) const noexcept;

  const InstrumentRegistry& registry_;
  TradingCoreConfig cfg_;
  std::unique_ptr<risk::RiskGate> risk_;
  oms::SimExchange sim_;
  std::vector<LiveOrderLatency> live_latency_;
  LatencyHistogram feed_latency_hist_;
  std::uint64_t feed_frames_fallback_{0};
  std::uint64_t feed_frame_tsc_{0};
  std::int64_t feed_offset_ns_{0};
  std::int64_t feed_latency_now_ns_{0};
  std::int64_t sim_time_ns_{INT64_MIN};
  bool feed_offset_known_{false};
  oms::OrderManager om_;
  oms::ClientIdGenerator ids_;
  // Who signs the orders of each venue's instruments: replay and paper, the simulated entries of the traded
  // instruments' venues (oms::simulated_order_entry); live, the live venue's entry alone.
  std::vector<std::unique_ptr<oms::VenueOrderEntry>> entries_;
  std::array<oms::VenueOrderEntry*, kVenueCount> entry_for_{};
  oms::VenueOrderEntry* live_entry_{nullptr};
  // The order's type (a venue may cancel and query some types at endpoints of their own); limit when unknown.
  [[nodiscard]] risk::OrderType type_of(const risk::ClientOrderId& id) noexcept;
  void query_placed(const GatewayReport& g, std::int64_t now_ns) noexcept;
  std::vector<Slot> slots_;
  std::size_t slots_high_water_{0};  // slots at or past this index were never used: scans stop here
  std::span<Slot> used_slots() noexcept { return {slots_.data(), slots_high_water_}; }
  std::span<const Slot> used_slots() const noexcept { return {slots_.data(), slots_high_water_}; }
  std::vector<oms::ExecReport> report_buf_;
  std::vector<TradeRow> trades_;
  std::vector<EquityRow> equity_;
  std::vector<Notional> equity_by_instrument_;  // traded_count_ per equity_ row (reserved with it)
  std::vector<Price> marks_;
  std::vector<risk::ClientOrderId> cancel_buf_;
  std::array<char, 4096> wire_{};
  std::array<char, 4096> warm_wire_{};                         // warm_order_path's encoder output (never sent)
  alignas(64) std::array<unsigned char, 256> warm_record_{};  // ... and its journal-shaped record
  std::uint64_t warm_runs_{0};
  oms::OrderSpec last_encoded_{};
  std::uint64_t last_encoded_tsc_{0};
  OrderStamps first_order_stamps_{};
  std::size_t last_encoded_len_{0};
  risk::ClientOrderId warm_id_{};
  std::int64_t next_equity_ns_{0};
  std::int64_t next_expiry_scan_ns_{0};
  std::uint32_t resting_entries_{0};
  std::array<ExecParent, kMaxExecParents> parents_{};
  std::vector<TapeTrade> tape_;           // traded_count_ rings of kTapeCap (empty: no strategy uses vwap)
  std::vector<std::uint64_t> tape_count_;  // trades ever recorded per instrument
  std::uint32_t active_parents_{0};
  std::size_t traded_count_{0};  // instruments with limits: ids below this
  Notional peak_equity_{};
  Notional max_drawdown_{};
  std::uint32_t next_oco_{1};
  // Pairs (i < j) whose correlation was at or above [risk] correlation_threshold at the last closed interval.
  std::array<std::uint32_t, risk::ReturnCorrelation::kMaxInstruments> correlated_{};
  Counters counters_;
  std::uint64_t stop_moves_{0};
  // manage_stops: the most favourable mid since the position opened (stops only move on a new extreme).
  std::vector<Price> stop_extreme_;
  LiveGateway* live_{nullptr};
  std::vector<oms::SimPosition> live_pos_;
  oms::SimAccount live_account_{};
  std::uint32_t pending_queries_{0};  // live: slots with query_at_ns set
  bool venue_ban_seen_{false};          // live: the emergency stop for the venue's ban ran
  std::uint64_t seen_resync_epoch_{0};  // live: LiveGateway::resync_epoch() last acted on
  std::int64_t next_deadman_ns_{0};   // live: when the dead-man timer is refreshed next
  // live: how soon a failed dead-man or cancel-all request is followed by a refresh (OKX's cancel-all-after
  // takes one per second; the gateway spaces them 1.25 s).
  static constexpr std::int64_t kDeadmanRetryNs = 1'500'000'000;
  std::uint64_t kill_tsc_{0};  // while the kill's requests are sent: the TSC when it was taken (else 0)
  std::int64_t kill_retry_ns_{0};     // live: after a kill, per-order cancels for what is still working
  // Supervisor state.
  Lifecycle lifecycle_{Lifecycle::initializing};
  EmergencyCause emergency_cause_{EmergencyCause::none};
  std::array<std::uint64_t, kEmergencyCauseCount> emergency_counts_{};
  std::unique_ptr<risk::EmergencyStop> estop_;
  std::unique_ptr<EmergencyActionsImpl> estop_actions_;
  std::int64_t day_{-1};               // UTC day number (data time in replay, wall time in paper/live)
  std::uint32_t trades_today_{0};
  std::int64_t move_paused_until_ns_{0};
  std::atomic<bool>* run_stop_{nullptr};
  void finish_day(bool partial) noexcept;  // hands day_stats_ to the reporter
  DailyReporter* daily_{nullptr};
  DailyStats day_stats_{};
  std::array<std::uint64_t, risk::kRejectReasonCount> rejects_at_day_start_{};
  std::int64_t disk_full_since_ns_{0};  // when the journal ran out of disk (0: it has not)
  bool rollover_warned_{false};
  struct InstrumentWatch {
    Qty qty;                           // position by our own fill reports
    Notional trip_cash;                // the open round trip's cash flow (sells +, buys -), before fees
    std::uint16_t trip_strategy{0};
    std::int64_t unprotected_since_ns{0};
    Price window_ref;                  // market-move breaker: mid at the start of the window
    std::int64_t window_start_ns{0};
    Price last_sample;                 // volatility: mid at the last equity sample
    double ewma_var{0};                // of per-second log returns
    // figures(): this instrument's share of the run's counters.
    std::uint64_t orders{0}, fills{0}, trips{0}, losing_trips{0};
  };
  std::vector<InstrumentWatch> watch_;
  // Alerts (check_alerts, on_position_change, on_feed_health, the emergency sequence).
  AlertMonitor* alerts_{nullptr};
  Notional alert_day_start_{};          // equity at the start of the trading day (or at a person's restart)
  std::uint32_t losing_streak_{0};      // losing round trips in a row, any strategy
  std::int64_t api_window_start_ns_{0};  // api_errors: the current one-minute window ...
  std::uint64_t api_window_base_{0};     // ... and the error total when it started
};

}  // namespace enigma::engine
