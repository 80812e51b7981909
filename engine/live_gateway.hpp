// The venue link of `enigma live` (Binance USD-M, KuCoin Futures, Bybit linear, OKX swaps): order bytes out,
// execution reports in. What differs by venue reaches it through the venue kit's interfaces (oms/venues/
// venue_kit.hpp): the private stream's and REST answers' decoder (oms::VenueUserDecoder), how the private
// stream is kept (oms::VenueStreamDialect), the request costs and spacing (oms::RequestBudgetConfig), the
// resigner (oms::VenueOrderEntry, set by TradingCore::go_live).
//
// The OMS thread must not make syscalls (DESIGN.md), so it only touches two SPSC rings:
//   requests  OMS -> gateway: complete signed requests (oms::VenueOrderEntry output: HTTP/1.1, or Binance
//             WebSocket API JSON) in
//             fixed 2 KB slots, with the client order id they concern;
//   reports   gateway -> OMS: ExecReports from the REST answers and from the user-data stream.
// One gateway I/O thread owns everything that blocks: keep-alive TLS connections to the REST host, each
// with one request in flight (order_connections for new orders, one control connection for cancels,
// cancel-all, queries and the dead-man timer; certificate verification on; reconnects on error and before
// reusing a connection idle for longer than idle_reconnect_ns, so a keep-alive the venue dropped never
// turns an order into an UNKNOWN), and the
// private stream (Binance: POST /fapi/v1/listenKey, WebSocket <user_ws_url>/<listenKey>, PUT keep-alive every
// keepalive_interval_ns, a new key after listenKeyExpired; KuCoin: a bullet-private token per connect; Bybit,
// OKX: a signed login op per connect). The thread sleeps idle_sleep_ns when nothing
// happened (backoff; shared machines and CI), so its latency floor is that sleep plus the round trip; with
// transport "busy_poll" or "io_uring" (or spin) it spins instead and picks signed bytes up as soon as they are
// pushed, and waits for each answer spinning on its own read path instead of in the reactor.
//
// Outcomes (RELIABILITY.md): a request that could not be written (connect / TLS failed) is a local
// reject (venue_code 0, Reason::venue_error); once written, a 5xx, a timeout or a lost connection is
// UNKNOWN (GatewayReport::unknown): the OMS resolves it with a query by client order id.
//
// Venue rate limits (issue 17 item 3): every request — orders, cancels, cancel-all, dead-man refreshes,
// queries, listenKey keep-alives, call() — first takes from one oms::RequestBudget on the I/O thread
// (cancels and the kill have priority; a refused new order is a local reject with Reason::rate_limited, a
// cancel or query over the limit waits for the next window). Answers' X-MBX-USED-WEIGHT-1M /
// X-MBX-ORDER-COUNT-* headers refresh it; 429 + Retry-After backs new orders off; 418 (IP ban) stops them
// for good and sets venue_banned(), which the OMS answers with the emergency stop.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/histogram.hpp"
#include "core/instrument.hpp"
#include "core/spsc_ring.hpp"
#include "feed/https_client.hpp"
#include "feed/transport.hpp"
#include "oms/exec_report.hpp"
#include "oms/live_venue.hpp"
#include "oms/request_budget.hpp"
#include "oms/venue_queries.hpp"

namespace enigma::feed {
struct WsClientOptions;
struct WsHandlers;
struct WsFrame;
class WsClient;
}  // namespace enigma::feed

namespace enigma::engine {

struct RestConnection;  // one keep-alive TLS connection to the REST host (live_gateway.cpp)

// The venue's part (oms::LiveAccess: request budget, how the private stream and the WebSocket API are reached)
// comes from oms::LiveVenue::access(); the rest is the engine's.
struct LiveGatewayOptions : oms::LiveAccess {
  std::string rest_url{"https://fapi.binance.com"};    // scheme, host and port of the order requests
  std::string user_ws_url{"wss://fstream.binance.com/ws"};  // the stream is <user_ws_url>/<listenKey>
  std::string api_key;                                 // X-MBX-APIKEY of the listenKey requests (never logged)
  feed::TlsOptions tls;
  Venue venue{Venue::binance_usdm};
  std::int64_t request_timeout_ns{5'000'000'000};      // write + answer; later: UNKNOWN
  std::int64_t connect_timeout_ns{5'000'000'000};
  std::int64_t idle_reconnect_ns{50'000'000'000};      // reconnect before reusing an older idle connection
  // Keep-alive REST connections for new orders, each with one request in flight: with more than one, a slow
  // answer does not hold the next order back. Cancels, cancel-all, queries and the dead-man timer have a
  // connection of their own (the control connection), so they never wait behind an order's answer.
  int order_connections{1};
  std::int64_t keepalive_interval_ns{30LL * 60 * 1'000'000'000};  // listenKey PUT (Binance: every 30 min)
  std::int64_t idle_sleep_ns{50'000};                  // backoff only (transport "asio" without spin)
  // Order connection transport (the read path under TLS, as for market data; feed/transport.hpp): "busy_poll"
  // retries recvmsg on this thread and sets SO_BUSY_POLL / SO_PREFER_BUSY_POLL on the order socket,
  // "io_uring" reaps io_uring receive completions on this thread; both make the gateway thread spin (pause,
  // no sleep) between polls, so signed bytes are picked up at once.
  feed::Transport transport{feed::Transport::asio};
  bool spin{false};                                    // spin without busy_poll socket options
  int core{-1};  // [live] gateway_core: the gateway thread ("enigma-gateway") is pinned to it; -1: not pinned
  int busy_poll_us{50};
  // SOF_TIMESTAMPING_TX_SOFTWARE | OPT_ID | OPT_TSONLY on the order socket: each request's kernel transmit
  // time is read from the error queue after its answer (off the OMS thread).
  bool tx_timestamps{true};
  std::size_t request_ring{256};                       // power of two
  std::size_t report_ring{4096};                       // power of two
};

// One request slot (fixed size so the ring is preallocated; Binance order requests are ~500 bytes, a batch
// cancel of 10 orders ~700).
struct OutboundRequest {
  static constexpr std::size_t kMaxBatch = 10;  // Binance batchOrders: at most 10 orders per request
  static constexpr std::size_t kMaxBytes = 2048 - 80 - kMaxBatch * sizeof(oms::ClientOrderId);
  oms::ClientOrderId client_id;  // a batch cancel: its first order
  InstrumentId instrument;
  oms::RestRequest kind;
  bool protective;  // a reduce-only new order (a stop, a flattening close): budget priority like a cancel
  std::uint8_t batch_count;  // cancel_batch: the orders it cancels, in the request's order, in batch[]
  std::uint16_t size;
  std::uint64_t enqueue_tsc;
  std::int64_t cause_kernel_rx_ns;  // kernel rx of the market-data frame that caused it (0: none / unknown)
  std::uint64_t kill_tsc;  // sent by the kill switch: the TSC when the OMS took the kill (0: not)
  oms::ClientOrderId batch[kMaxBatch];
  char bytes[kMaxBytes];

  // The request concerns order `id` (its own, or one of a batch cancel's).
  [[nodiscard]] bool concerns(const oms::ClientOrderId& id) const noexcept {
    if (client_id == id) return true;
    for (std::size_t i = 0; i < batch_count; ++i)
      if (batch[i] == id) return true;
    return false;
  }
};
static_assert(sizeof(OutboundRequest) <= 2048, "request slots are 2 KB");

struct GatewayReport {
  oms::ExecReport report;
  std::int32_t venue_code{0};  // Binance error code of a refused request
  bool unknown{false};         // outcome unknown: query the client order id
  oms::VenueOrderId placed_order{};  // a query's answer about a stop that fired: the order it placed (OKX)
};

struct LiveGatewayStats {
  std::atomic<std::uint64_t> requests{0}, answers{0}, unknown_outcomes{0}, not_sent{0}, rest_connects{0};
  std::atomic<std::uint64_t> stream_reports{0}, stream_ignored{0}, stream_errors{0}, stream_connects{0};
  std::atomic<std::uint64_t> reports_dropped{0}, listen_key_renewals{0}, keepalives{0};
  std::atomic<std::uint64_t> ws_api_requests{0}, ws_api_connects{0}, ws_api_logons{0};
  // The venue's counters from its last answer that carried them (Binance X-MBX-USED-WEIGHT-1M,
  // X-MBX-ORDER-COUNT-10S, X-MBX-ORDER-COUNT-1M): gauges.
  std::atomic<std::uint64_t> used_weight{0}, order_count_short{0}, order_count_long{0};
  // Answers HTTP 429 (too many requests) and 418 (IP banned).
  std::atomic<std::uint64_t> http_429{0}, http_418{0};
  // Requests refused locally: new orders over their share of the budget, new orders during a 429
  // back-off, anything refused after a ban; and times a cancel / query / keep-alive waited for a window.
  std::atomic<std::uint64_t> budget_refusals{0}, backoff_refusals{0}, ban_refusals{0}, budget_waits{0};
  // Requests (REST and WebSocket API) signed again as they left because they had waited past
  // LiveGateway::kResignAfterNs.
  std::atomic<std::uint64_t> resigned{0};
  // KuCoin private-stream token POSTs (bullet-private), each charged to the request budget.
  std::atomic<std::uint64_t> token_requests{0};
  // Heap allocations on the I/O thread while putting requests on the wire (the send of each REST or WebSocket
  // API request, not its answer) after the first four requests (they warm Asio's handler memory), as counted
  // by engine::set_thread_alloc_counter (tests; 0 without one). Must stay 0.
  std::atomic<std::uint64_t> send_allocations{0};
};

class LiveGateway final : public oms::VenueCalls {
 public:
  // Validates options (URLs, ring sizes, non-empty api key); throws enigma::Error. Nothing connects yet.
  LiveGateway(const InstrumentRegistry& registry, LiveGatewayOptions opt);
  ~LiveGateway();  // stop()s
  LiveGateway(const LiveGateway&) = delete;
  LiveGateway& operator=(const LiveGateway&) = delete;

  // Cold path: opens the REST connection, creates the listenKey, starts the user-data stream and the I/O
  // thread. Throws enigma::Error naming the step, URL and cause (the listenKey answer's HTTP status and
  // venue message when refused, e.g. an invalid API key).
  void start();
  // Cold path, before start() (start-up reconciliation): writes one complete signed request on the REST
  // connection (connecting first) and reads its answer into `body`. Returns the HTTP status; throws
  // enigma::Error naming the URL and cause when no answer came, or when called after start().
  int call(std::string_view request, std::string& body) override;
  // Ends the I/O thread after it has written every queued request and read its answer. Idempotent.
  void stop();

  // Signs a request (REST, or WebSocket API JSON) again in place with a new millisecond timestamp (same
  // length); false when it could not. Set by TradingCore::go_live from the venue order entry's resigner(), before start().
  using Resigner = std::function<bool(char* bytes, std::size_t size, std::int64_t timestamp_ms)>;
  // The venue's id of an order of ours found at start-up (reconciliation's open-order lists and queries),
  // before start(): KuCoin names a stop order's lifecycle events (triggered, cancel) by that id only.
  void learn_venue_order_id(const oms::VenueOrderId& venue_id, const oms::ClientOrderId& client_id) noexcept override;
  // The account's fee rates on `instrument`, read at start-up (reconciliation), before start(): KuCoin's
  // private stream carries no fee, so its decoder prices each fill with them; neither KuCoin's nor Binance's
  // order answers do, so a fill found by a query (after a reconnect) is priced with them too.
  void set_fee_rates(InstrumentId instrument, const oms::FeeRates& rates) override;
  void set_resigner(Resigner r) noexcept { resign_ = std::move(r); }
  // A request that waited longer than this since the OMS queued it (the venue's budget window, a busy
  // or reconnecting connection) is signed again as it leaves: the venues refuse a timestamp older than their
  // window (Binance recvWindow, 5 s by default; KuCoin 5 s), and a kill's cancels must not be refused so.
  static constexpr std::int64_t kResignAfterNs = 1'000'000'000;

  // OMS thread (hot path): copies `request` into a ring slot. False when the ring is full or the request
  // is larger than a slot (the caller rejects the order locally). noexcept, no allocation, no syscall.
  // `protective`: a reduce-only new order, which the venue budget lets through like a cancel (the reserve,
  // a 429 back-off) since it only closes or protects a position.
  // `kill_tsc`: the request is part of the kill switch's sequence, taken at that TSC (kill_to_wire_latency).
  [[nodiscard]] bool try_send(oms::RestRequest kind, const oms::ClientOrderId& id,
                              InstrumentId instrument, std::string_view request, std::uint64_t tsc,
                              bool protective = false, std::uint64_t kill_tsc = 0) noexcept;
  // OMS thread (hot path): a batch cancel (DELETE /fapi/v1/batchOrders) of `ids` (1..kMaxBatch orders of
  // `instrument`, in the request's order); each order gets its own report from the answer.
  [[nodiscard]] bool try_send_cancel_batch(std::span<const oms::ClientOrderId> ids, InstrumentId instrument,
                                           std::string_view request, std::uint64_t tsc,
                                           std::uint64_t kill_tsc = 0) noexcept;
  // OMS thread: the next report, if any.
  [[nodiscard]] bool try_pop(GatewayReport& out) noexcept { return reports_.try_pop(out); }

  [[nodiscard]] const LiveGatewayStats& stats() const noexcept { return stats_; }
  // The user-data stream is connected (cold path: start-up checks, tests).
  [[nodiscard]] bool stream_connected() const noexcept { return stream_up_.load(std::memory_order_acquire); }
  // Bumped each time the user-data stream reconnects (after its first connect) and each time the REST
  // connection reconnects after a failure: reports may have been missed. The OMS thread compares it each
  // poll and then queries its working orders (TradingCore::verify_working).
  [[nodiscard]] std::uint64_t resync_epoch() const noexcept { return resync_epoch_.load(std::memory_order_acquire); }
  // The venue banned this IP (HTTP 418): new orders are refused for the rest of the gateway's life and the
  // OMS thread raises the emergency stop when it sees this.
  [[nodiscard]] bool venue_banned() const noexcept { return venue_banned_.load(std::memory_order_acquire); }
  // Latency on the I/O thread in nanoseconds, valid after stop(): request enqueued -> bytes written,
  // and bytes written -> answer read.
  [[nodiscard]] const LatencyHistogram& write_latency() const noexcept { return hist_write_; }
  [[nodiscard]] const LatencyHistogram& answer_latency() const noexcept { return hist_answer_; }
  // Kernel transmit timestamps (tx_timestamps): signed bytes handed to the gateway -> kernel tx of their last
  // byte, and tick-to-wire = kernel rx of the causing frame -> kernel tx (only for orders sent from inside
  // a frame callback, i.e. the fused topology; see feed::current_frame_kernel_rx_ns). Valid after stop().
  [[nodiscard]] const LatencyHistogram& signed_to_kernel_latency() const noexcept { return hist_kernel_tx_; }
  [[nodiscard]] const LatencyHistogram& tick_to_wire_latency() const noexcept { return hist_tick_to_wire_; }
  // The kill switch: the OMS taking the kill command -> kernel tx of each request it caused (the cancels of
  // the working entries, the flattening close). Valid after stop().
  [[nodiscard]] const LatencyHistogram& kill_to_wire_latency() const noexcept { return hist_kill_to_wire_; }
  // The kernel accepted tx timestamping on the order socket (last connect).
  [[nodiscard]] bool tx_timestamping() const noexcept { return tx_timestamping_.load(std::memory_order_acquire); }

  struct Impl;  // Beast/Asio state, defined in the .cpp

 private:
  void io_loop() noexcept;
  void open_stream();  // user-data WebSocket to <user_ws_url>/<listen key>
  void open_stream_handlers(feed::WsClientOptions& wo, feed::WsHandlers& h);
  void open_second_stream(feed::WsClientOptions wo);
  // A private-stream frame that answers our login or subscription (`dialect` says which): acted on (the
  // subscription sent after an accepted login; a resync after the order channels' subscription), true.
  bool stream_control(const feed::WsFrame& f, const oms::VenueStreamDialect& dialect, feed::WsClient& ws, const char* stream,
                      std::uint64_t connects) noexcept;
  // Sends `dialect`'s connect messages on `ws` (logged as `stream` when one cannot be sent).
  void send_connect_messages(const oms::VenueStreamDialect& dialect, feed::WsClient& ws, const char* stream) noexcept;
  void stream_subscribed(const char* stream, std::uint64_t connects) noexcept;
  void stream_message(const feed::WsFrame& f, std::size_t index) noexcept;  // one element of a private-stream message
  void open_ws_api();  // order entry WebSocket to <ws_api_url>
  void ws_api_send(const OutboundRequest& rq) noexcept;
  void ws_api_answer(std::string_view msg, std::size_t padded_capacity) noexcept;
  void ws_api_fail_pending(bool expired_only) noexcept;  // pending requests -> UNKNOWN
  // The kernel transmit stamps of WebSocket API requests that came (off the send path: when idle, and at stop)
  // into the same histograms as the REST connection's.
  void collect_ws_api_tx_stamps() noexcept;
  void not_sent(const OutboundRequest& rq, std::string_view why) noexcept;
  void rest_send(RestConnection& c) noexcept;  // puts the connection's request on the wire (connects first)
  void refresh_signature(OutboundRequest& rq) noexcept;  // signs it again when it waited (kResignAfterNs)
  void rest_connected(RestConnection& c) noexcept;
  void listen_key_done(RestConnection& c) noexcept;  // the answer to a listenKey keep-alive / renewal  // a (re)connect in progress for a waiting request: when it ends, sends or fails it
  void rest_done(RestConnection& c) noexcept;  // its outcome: report, histograms, budget
  enum class Admission : std::uint8_t { send, wait, refused };
  Admission admit(const OutboundRequest& rq) noexcept;           // the request budget, before each request
  void venue_answered(int status, std::int64_t retry_after_s) noexcept;  // headers / 429 / 418 of an answer
  void push_report(const GatewayReport& gr) noexcept;
  // Fills staging_ (false: larger than a slot).
  [[nodiscard]] bool stage(oms::RestRequest kind, const oms::ClientOrderId& id, InstrumentId instrument,
                           std::string_view request, std::uint64_t tsc, bool protective, std::uint64_t kill_tsc) noexcept;
  void push_unsent(const OutboundRequest& rq, oms::Reason reason) noexcept;  // one report per order it concerns
  void batch_done(const OutboundRequest& rq, bool written, int status, std::string_view body,
                  std::string_view error) noexcept;  // a batch cancel's outcome, order by order

  LiveGatewayOptions opt_;
  Resigner resign_;
  SpscRing<OutboundRequest> requests_;
  SpscRing<GatewayReport> reports_;
  OutboundRequest staging_{};  // producer side: filled then pushed (one copy into the ring)
  LiveGatewayStats stats_;
  LatencyHistogram hist_write_, hist_answer_, hist_kernel_tx_, hist_tick_to_wire_, hist_kill_to_wire_;
  std::atomic<bool> tx_timestamping_{false};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> resync_epoch_{0};
  std::atomic<bool> stream_up_{false};
  std::atomic<bool> venue_banned_{false};
  std::unique_ptr<Impl> impl_;
};

}  // namespace enigma::engine
