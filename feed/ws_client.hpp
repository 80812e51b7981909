// Resilient TLS WebSocket client for venue market data (Boost.Beast + OpenSSL behind a pimpl; Beast stays out
// of this header).
//
// Life cycle: start() begins connecting; the work then happens inside either
//   * run()        - asynchronous mode: blocks the calling thread (an I/O thread) until stop(), or
//   * poll_once()  - busy-poll mode: called from a stage loop; runs whatever is ready without blocking
//                    (epoll with zero timeout + non-blocking socket reads; with Transport::busy_poll the
//                    pending read calls recvmsg directly, no epoll) and returns the frames delivered.
// The socket layer under TLS is ours (detail::TimestampedSocket): every read is a recvmsg that carries the
// kernel receive timestamp into WsFrame::kernel_rx_ns.
// Callbacks always run on the thread inside run()/poll_once(); every member except stop() must be called
// from that thread (or before it starts). For KuCoin the bullet POST is a blocking HTTPS request made on
// that thread at each connect attempt (bounded by connect_timeout_ns; the feed is down at that moment).
//
// Connection sequence: [KuCoin: POST the bullet endpoint for a token and endpoint] -> resolve -> TCP connect
// (TCP_NODELAY, SO_BUSY_POLL, SO_TIMESTAMPING best-effort) -> TLS handshake (SNI, certificate + host-name
// verification) -> WebSocket upgrade -> [KuCoin: wait for the `welcome` frame] -> send the subscriptions ->
// on_connected. Any failure (I/O error, close, frame above max_frame_bytes, connect timeout, stale feed, ping
// timeout) closes the connection, reports on_disconnected and schedules a reconnect after an exponential
// backoff with jitter. The owner must treat on_connected after a disconnect as "books unknown: resync".
//
// Heartbeats (RELIABILITY.md "Connectivity faults"):
//   binance: the server pings; Beast answers with pong control frames automatically.
//   kucoin:  {"id":"<n>","type":"ping"} every pingInterval (from the bullet response); no frame at all for
//            pingTimeout after a ping drops the connection.
//   okx:     text "ping" after okx_idle_ping_ns without a frame; its "pong" reply is consumed, not delivered;
//            no frame for ping_timeout_ns after the ping drops the connection.
//   bybit:   {"op":"ping"} every ping_interval_ns (Bybit asks for one every 20 s); its {"op":"pong"} /
//            "ret_msg":"pong" reply is delivered (the decoder counts it as control); no frame for
//            ping_timeout_ns after the ping drops the connection.
//   kraken_futures: a WebSocket ping control frame (RFC 6455, empty payload) every ping_interval_ns (Kraken
//            Futures wants a ping at least every 60 s; the engine uses 30 s), answered by the server's pong
//            control frame; no frame or pong for ping_timeout_ns after the ping drops the connection. The
//            venue's data counts for the stale detector, the pong to our own ping does not (subscribe to
//            the `heartbeat` feed).
//   coinbase has no ping of its own: subscribe to its `heartbeats` channel and set stale_after_ns.
// Timing uses the injected clock (WsClock) and is checked on every poll_once() and on a tick timer in run().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "feed/https_client.hpp"
#include "feed/transport.hpp"

namespace enigma::feed {

enum class PingPolicy : std::uint8_t { none, binance, kucoin, okx, bybit, kraken_futures };
[[nodiscard]] std::string_view to_string(PingPolicy p) noexcept;

// Deterministic exponential backoff with jitter: attempt k waits base_k * (1 - jitter * u), where
// base_k = min(max_ns, initial_ns * multiplier^k) and u is uniform in [0, 1) from a seeded RNG.
class Backoff {
 public:
  struct Options {
    std::int64_t initial_ns = 100'000'000;  // 100 ms
    std::int64_t max_ns = 30'000'000'000;   // 30 s
    double multiplier = 2.0;
    double jitter = 0.5;                    // fraction of the delay that is randomised, in [0, 1]
    std::uint64_t seed = 0x9E3779B97F4A7C15ull;
  };
  // Throws enigma::Error when an option is out of range (initial <= 0, max < initial, multiplier < 1,
  // jitter outside [0, 1]).
  explicit Backoff(Options opt);
  // Delay before the next attempt; advances the attempt counter.
  [[nodiscard]] std::int64_t next_delay_ns() noexcept;
  // Back to the initial delay (after a healthy connection).
  void reset() noexcept { attempt_ = 0; }
  [[nodiscard]] int attempt() const noexcept { return attempt_; }

 private:
  Options opt_;
  std::uint64_t rng_;
  int attempt_{0};
};

// Clock seam: monotonic nanoseconds. Default: CLOCK_MONOTONIC. Tests inject a virtual clock.
struct WsClock {
  std::int64_t (*now)(void* ctx) noexcept = nullptr;  // nullptr: CLOCK_MONOTONIC
  void* ctx = nullptr;
};

// One received message. `payload` is valid only during the callback; at least 64 readable bytes follow it
// (`padded_capacity`), so simdjson can parse it in place.
struct WsFrame {
  std::string_view payload;
  std::size_t padded_capacity{0};
  std::uint64_t recv_tsc{0};  // rdtsc() when the read completed
  std::int64_t recv_ns{0};    // injected clock at the same moment
  // Kernel receive time (CLOCK_REALTIME ns, SO_TIMESTAMPING: hardware when enabled and stamped by the NIC,
  // else software) of the last TCP segment read before this frame was complete; 0 without rx_timestamps.
  std::int64_t kernel_rx_ns{0};
};

enum class DisconnectCause : std::uint8_t {
  connect_failed,    // resolve / TCP connect / bullet request failed
  tls_failed,        // TLS handshake failed (certificate verification included)
  handshake_failed,  // WebSocket upgrade refused
  connect_timeout,   // the whole connect sequence took longer than connect_timeout_ns
  closed_by_peer,    // close frame, EOF or reset
  io_error,
  frame_too_large,   // a frame above max_frame_bytes
  stale,             // no data for stale_after_ns
  ping_timeout,      // no data for ping_timeout_ns after our ping
  stopped,           // stop() was called
};
[[nodiscard]] std::string_view to_string(DisconnectCause c) noexcept;

struct WsDisconnect {
  DisconnectCause cause{DisconnectCause::io_error};
  bool was_connected{false};   // on_connected had been called for this connection
  std::string_view reason;     // human-readable: what failed, where, why
  std::int64_t retry_in_ns{0}; // backoff delay before the next attempt (0 when stopped)
};

struct WsHandlers {
  // Hot path: called for every data frame (a function pointer + context, not std::function).
  void (*on_frame)(void* ctx, const WsFrame& frame) noexcept = nullptr;
  void* ctx = nullptr;
  // Cold path.
  std::function<void()> on_connected;                       // subscriptions sent: (re)sync books now
  std::function<void(const WsDisconnect&)> on_disconnected; // every failure, also failed connect attempts
  std::function<void(std::int64_t silent_ns)> on_stale;     // just before a stale-feed reconnect
};

struct WsClientOptions {
  std::string url;                         // wss://host[:port]/path?query (unused with kucoin_bullet_url)
  std::vector<std::string> subscriptions;  // text frames sent after every (re)connect, in order
  PingPolicy ping = PingPolicy::none;
  TlsOptions tls;
  std::size_t max_frame_bytes = 8u << 20;       // larger frames: DisconnectCause::frame_too_large
  std::size_t initial_buffer_bytes = 256u << 10;
  std::int64_t connect_timeout_ns = 10'000'000'000;
  std::int64_t stale_after_ns = 0;              // 0: no stale detector
  std::int64_t ping_interval_ns = 18'000'000'000;  // kucoin (overridden by the bullet response); bybit: set 20 s;
                                                   // kraken_futures: set 30 s
  std::int64_t ping_timeout_ns = 10'000'000'000;   // kucoin (overridden by the bullet response), okx, bybit,
                                                   // kraken_futures
  std::int64_t okx_idle_ping_ns = 25'000'000'000;  // okx: must be < 30 s
  std::int64_t tick_ns = 1'000'000;                // run(): how often timers are checked
  Backoff::Options backoff;
  // KuCoin token flow: when set, each connect first POSTs here (e.g.
  // https://api-futures.kucoin.com/api/v1/bullet-public), parses the body with kucoin::parse_bullet and
  // connects to endpoint?token=..&connectId=.., taking pingInterval/pingTimeout from the response.
  std::string kucoin_bullet_url;
  // KuCoin private channels (bullet-private): the signed KC-API-* headers of that POST, made anew for every
  // connect attempt (they carry a timestamp). Unset: the POST is unsigned (bullet-public).
  std::function<std::vector<std::pair<std::string, std::string>>()> kucoin_bullet_headers;
  std::string connect_id;                 // KuCoin connectId; empty: generated from the backoff seed
  int busy_poll_us = 50;                  // SO_BUSY_POLL value; 0: leave unset
  // asio: reads wait on the reactor; busy_poll: poll_once() retries recvmsg itself (no epoll) and the socket
  // gets SO_PREFER_BUSY_POLL too; io_uring: reads are io_uring receives whose completions poll_once() reaps.
  Transport transport = Transport::asio;
  bool io_uring_sqpoll = false;  // io_uring: a kernel thread takes the submissions (IORING_SETUP_SQPOLL)
  // SO_TIMESTAMPING on the socket, read with every recvmsg into WsFrame::kernel_rx_ns.
  bool rx_timestamps = true;
  // Also ask for RX_HARDWARE|RAW_HARDWARE (NICs that stamp in hardware; see `enigma check-host`). The NIC only
  // stamps once its receive filter is on (SIOCSHWTSTAMP, root); frames without a hardware stamp keep the
  // software one. Falls back to software-only when the kernel refuses the flags.
  bool hardware_timestamps = false;
  // Kernel transmit stamps (SOF_TIMESTAMPING_TX_SOFTWARE with OPT_ID) of the text frames queued with a tag:
  // take_tx_stamp() gives each one's, in the order they were written (a WebSocket API order connection).
  bool tx_timestamps = false;
  WsClock clock;
};

// Which socket options the kernel accepted on the last connection.
struct SocketOptionReport {
  Transport transport{Transport::asio};
  bool tcp_nodelay{false};
  bool so_busy_poll{false};
  bool prefer_busy_poll{false};
  bool rx_timestamping{false};        // SO_TIMESTAMPING accepted
  bool hardware_timestamping{false};  // ... with the hardware flags
  bool tx_timestamping{false};        // transmit stamps accepted (WsClientOptions::tx_timestamps)
  bool io_uring_sqpoll{false};        // io_uring: the ring has an SQPOLL thread
  [[nodiscard]] std::string to_string() const;
};

struct WsStats {
  std::uint64_t connect_attempts{0};
  std::uint64_t connects{0};       // on_connected calls
  std::uint64_t disconnects{0};    // on_disconnected calls
  std::uint64_t frames{0};         // frames delivered to on_frame
  std::uint64_t bytes{0};
  std::uint64_t stale_events{0};
  std::uint64_t oversized_frames{0};
  std::uint64_t pings_sent{0};
  std::uint64_t pongs_consumed{0}; // okx "pong" replies and pong control frames: not delivered
  std::uint64_t server_pings{0};   // ping control frames received (Beast answers each with a pong)
};

enum class WsState : std::uint8_t { idle, connecting, awaiting_welcome, connected, backoff, stopped };
[[nodiscard]] std::string_view to_string(WsState s) noexcept;

// Kernel receive time (CLOCK_REALTIME ns) of the frame whose on_frame callback is running on this thread;
// 0 outside a callback or without rx timestamps. Lets code called synchronously from the callback (the fused
// order path: LiveGateway::try_send) tie an order to the frame that caused it without new event fields.
[[nodiscard]] std::int64_t current_frame_kernel_rx_ns() noexcept;

class WsClient {
 public:
  // Validates options (throws enigma::Error: bad URL, max_frame_bytes == 0, bad backoff, okx ping >= 30 s).
  WsClient(WsClientOptions opt, WsHandlers handlers);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Begins the first connection attempt (cold path; resolves asynchronously).
  void start();
  // Busy-poll mode: runs ready handlers and due timers without blocking; returns frames delivered.
  std::size_t poll_once() noexcept;
  // Asynchronous mode: blocks until stop(). Only one of run()/poll_once() may drive a client.
  void run();
  // Closes the connection and ends run(); no reconnect afterwards. Thread-safe.
  void stop();
  // Owner thread: drops the current connection (no on_disconnected: the owner asked) and starts connecting to
  // `url` at once, same options otherwise (a Binance user-data stream after a listenKey renewal). The TLS
  // context and the io loop stay; the connect runs in run()/poll_once() like any other. Throws Error when
  // `url` is not wss:// (the client is then unchanged); no-op after stop().
  void reconnect_to(const std::string& url);
  // Queues a text frame on the live connection (a late subscription, a WebSocket API request): copied into a
  // buffer reserved at connect, so a frame up to 4 KB queues without allocating. False when not connected or
  // when 64 frames already wait to be written.
  // `tag` (non-zero, with WsClientOptions::tx_timestamps): the frame's kernel transmit stamp is kept for
  // take_tx_stamp().
  bool send_text(std::string_view text, std::uint64_t tag = 0);
  // Owner thread, off the hot path (it reads the socket's error queue): the next tagged frame, in write order,
  // whose last byte the kernel has stamped: its tag and the stamp (CLOCK_REALTIME ns). False when none is due
  // yet. A frame whose stamp never comes (a connection lost first) is dropped with the connection.
  bool take_tx_stamp(std::uint64_t& tag, std::int64_t& kernel_tx_ns) noexcept;

  [[nodiscard]] WsState state() const noexcept;
  [[nodiscard]] const WsStats& stats() const noexcept;
  [[nodiscard]] SocketOptionReport socket_options() const noexcept;
  // io_uring: receives that brought data on the current connection (0 for the other transports).
  [[nodiscard]] std::uint64_t io_uring_receives() const noexcept;
  [[nodiscard]] std::string last_error() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace enigma::feed
