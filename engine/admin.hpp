// Loopback HTTP admin endpoint (Boost.Beast), off the hot path.
//
//   GET  /status          JSON: mode, lifecycle, trading state, kill switch, emergency, counters, reject
//                         reasons, P&L and drawdown, feed health, per-stage latency, snapshot time
//   GET  /positions       JSON: open positions
//   GET  /metrics         Prometheus text exposition format (version 0.0.4)
//   POST /kill            latch the kill switch (blocks entry, cancels working orders)
//   POST /kill/reset      release the kill switch (a person's decision)
//   POST /trading/start   ACTIVE
//   POST /trading/stop    HALTED (only cancels pass)
//   POST /emergency       run the emergency stop sequence
//   GET  /                the dashboard page (engine/web/dashboard.html, compiled in: no CDN, works offline)
//   GET  /ws              WebSocket: channels signals, positions, metrics, logs (all unless the client sends
//                         {"subscribe":["metrics",...]}); each message is {"channel":NAME,"data":...}
//                         (a browser page of another origin is refused: 403)
//   /api/status, /api/positions, /api/signals (GET) and /api/trade/start, /api/trade/stop, /api/emergency,
//   /api/kill, /api/kill/reset (POST): the plan's names for the same handlers.
// State-changing requests need `Authorization: Bearer <token>`; reads do not. Commands reach the OMS
// through an SPSC ring that the OMS stage polls every iteration; the engine publishes a status snapshot
// periodically with try_lock (the publisher never waits on the admin thread).
//
// The server is asynchronous (Boost.Asio/Beast on the admin's own thread), so no client can block another:
// every connection has a deadline for each request (idle and header time included), the number of
// connections is capped and the least recently active one is closed to make room for a new one (a flood
// of idle connections cannot lock out POST /kill), HTTP/1.1 keep-alive is honoured, and stop() returns
// without waiting for any client.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/spsc_ring.hpp"

namespace enigma::engine {

enum class AdminCommandKind : std::uint8_t { kill, kill_reset, trading_start, trading_stop, emergency };

struct AdminCommand {
  AdminCommandKind kind;
  std::uint64_t seq;  // increasing id, echoed in the HTTP answer
};

struct PositionView {
  char symbol[24];
  double qty;          // signed, base units
  double avg_price;
  double unrealized;
};

struct StageLatencyView {
  char name[16];
  std::uint64_t count;
  std::int64_t p50_ns, p99_ns, p999_ns, max_ns;
};

struct CountView {
  char name[24];
  std::uint64_t count;
};

// Everything the endpoint reports; copied whole under the snapshot mutex. Text fields are NUL-terminated
// ASCII (a field that fills its array is read to its end; bytes outside printable ASCII are rendered as '?').
// Counts beyond an array's size are clamped when rendering.
struct StatusSnapshot {
  char mode[12]{};            // replay | paper | live
  char rollout_stage[8]{};    // paper | 10% | 50% | 100% with a [rollout] table, else empty
  char trading_state[12]{};   // active | reducing | halted
  char lifecycle[16]{};          // initializing | ready | trading | paused | emergency_stop | shutdown
  char emergency_cause[48]{};    // empty unless an emergency stop ran
  std::uint64_t emergency_stops{0};
  std::uint64_t risk_rejects{0}, venue_rejects{0};
  std::uint32_t nreject_reasons{0};
  std::array<CountView, 24> reject_reasons{};   // risk reject counts by reason name (non-zero ones)
  double unrealized_pnl{0}, drawdown{0}, max_drawdown{0};  // drawdown: current, from peak equity
  bool feed_connected{false};
  std::int64_t last_frame_age_ms{-1};           // -1: no frame yet
  std::uint64_t reconnects{0}, gaps{0}, resyncs{0};
  // Live: the venue's request counters from its last answer (Binance X-MBX-USED-WEIGHT-1M, ORDER-COUNT-10S/1M),
  // its 429 / 418 answers, and requests refused locally by the venue budget, a back-off or a ban.
  std::uint64_t venue_used_weight{0}, venue_order_count_short{0}, venue_order_count_long{0};
  std::uint64_t venue_http_429{0}, venue_http_418{0}, venue_rate_refusals{0};
  std::int64_t published_at_ns{0};              // wall clock when this snapshot was taken
  bool kill_latched{false};
  bool running{false};
  std::uint64_t frames{0}, events{0}, book_updates{0}, signals{0}, orders{0}, fills{0}, rejects{0}, cancels{0};
  std::uint64_t dropped{0};   // anything dropped anywhere (rings, log records, intents): must stay 0
  double realized_pnl{0}, fees{0}, funding{0}, equity{0};
  std::uint32_t npositions{0};
  std::array<PositionView, 16> positions{};
  std::uint32_t nstages{0};
  std::array<StageLatencyView, 8> stages{};
};

// Latest score per strategy column (instrument x timeframe/strategy), for the dashboard's heatmap. Filled on
// the thread that owns the strategies and copied whole under its own mutex (try_lock, like StatusSnapshot).
struct SignalView {
  char instrument[24];
  char column[24];   // e.g. "imbalance", "confluence 60s", "rsi 60s"
  double score;      // the strategy's own scale (imbalance [-1, 1], confluence [-130, 130], RSI [0, 100])
  double norm;       // the same mapped to [-1, 1] (colour of the heatmap cell)
  bool ready;        // false while the strategy's indicators are still in their lookback
  char alignment[12];  // "confluence mtf" (several timeframes combined): full | partial | divergent; else ""
};

struct SignalSnapshot {
  std::uint32_t nsignals{0};
  std::array<SignalView, 32> signals{};
  std::int64_t published_at_ns{0};
};

// How much one client may take from the server. The defaults suit an operator's curl and a Prometheus
// scraper; tests shrink them.
struct AdminServerLimits {
  // Deadline for each request, counted from the moment the server starts waiting for it (so it covers
  // keep-alive idle time, a slowly trickled header and the body) and again for writing the answer.
  // A connection that misses it is closed.
  std::chrono::milliseconds request_timeout{5000};
  // Open connections at most; a new one over the cap closes the least recently active connection.
  std::size_t max_connections{256};
  std::uint32_t header_limit{8 * 1024};  // bytes of request line + headers; more gets 431
  std::uint32_t body_limit{4 * 1024};    // bytes of body (POSTs need none); more gets 413
  int listen_backlog{4096};              // the kernel caps it at net.core.somaxconn
  std::size_t max_ws_clients{32};        // WebSocket (/ws) clients at most; one more gets 503
  std::chrono::milliseconds ws_push_interval{250};  // how often /ws clients get what changed
};

class AdminServer {
 public:
  // Binds to `address:port` (port 0 picks a free one); throws enigma::Error when it cannot bind or when
  // the address is not loopback and `allow_non_loopback` is false (or the token is empty), or when a limit
  // is zero. An empty token disables POSTs (403, and GET /status says "admin_commands": "disabled: no token").
  // Tokens are compared through their SHA-256 digests with CRYPTO_memcmp (no timing leak of content or length).
  AdminServer(std::string address, std::uint16_t port, std::string token, SpscRing<AdminCommand>& commands,
              bool allow_non_loopback = false, AdminServerLimits limits = {});
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // start() runs the server on its own thread. stop() closes the listener and every connection and joins
  // the thread without waiting for any client; it is idempotent and also run by the destructor.
  void start();
  void stop();
  [[nodiscard]] std::uint16_t port() const noexcept;

  // Publisher side: copies the snapshot unless the admin thread is reading it right now.
  bool try_publish(const StatusSnapshot& s) noexcept;
  bool try_publish_signals(const SignalSnapshot& s) noexcept;

  // The run's log file: the admin thread reads its new lines (off the hot path, nothing asked of the logger)
  // into a bounded ring for the /ws `logs` channel. Call before start(); empty: no log lines.
  void set_log_path(std::string path);

  // The request handling without a socket (fuzzing, tests): parses `bytes` as what one connection sends,
  // with this server's limits, and answers each request as a connection would (POSTs queue commands).
  // Returns the answers' status codes in order. A request that cannot be parsed gets its refusal (400, 413,
  // 431) and, like a truncated one (no answer), ends the input, as it ends a connection.
  [[nodiscard]] std::vector<int> answer_bytes(std::string_view bytes);

  // Rendering (exposed for tests).
  [[nodiscard]] static std::string status_json(const StatusSnapshot& s);
  [[nodiscard]] static std::string positions_json(const StatusSnapshot& s);
  [[nodiscard]] static std::string metrics_text(const StatusSnapshot& s);
  [[nodiscard]] static std::string signals_json(const SignalSnapshot& s);
  [[nodiscard]] static std::string_view dashboard_html() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace enigma::engine
