#include "feed/ws_client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <atomic>
#include <cmath>
#include <cstring>
#include <array>
#include <chrono>
#include <future>
#include <memory>

#include "core/clock.hpp"
#include "feed/detail/timestamped_socket.hpp"
#include "feed/detail/tls.hpp"
#include "feed/venues/kucoin.hpp"

namespace enigma::feed {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {
thread_local std::int64_t t_frame_kernel_rx_ns = 0;
}  // namespace

std::int64_t current_frame_kernel_rx_ns() noexcept { return t_frame_kernel_rx_ns; }

std::string_view to_string(PingPolicy p) noexcept {
  switch (p) {
    case PingPolicy::none: return "none";
    case PingPolicy::binance: return "binance";
    case PingPolicy::kucoin: return "kucoin";
    case PingPolicy::okx: return "okx";
    case PingPolicy::bybit: return "bybit";
    case PingPolicy::kraken_futures: return "kraken-futures";
  }
  return "?";
}

std::string_view to_string(DisconnectCause c) noexcept {
  switch (c) {
    case DisconnectCause::connect_failed: return "connect_failed";
    case DisconnectCause::tls_failed: return "tls_failed";
    case DisconnectCause::handshake_failed: return "handshake_failed";
    case DisconnectCause::connect_timeout: return "connect_timeout";
    case DisconnectCause::closed_by_peer: return "closed_by_peer";
    case DisconnectCause::io_error: return "io_error";
    case DisconnectCause::frame_too_large: return "frame_too_large";
    case DisconnectCause::stale: return "stale";
    case DisconnectCause::ping_timeout: return "ping_timeout";
    case DisconnectCause::stopped: return "stopped";
  }
  return "?";
}

std::string_view to_string(WsState s) noexcept {
  switch (s) {
    case WsState::idle: return "idle";
    case WsState::connecting: return "connecting";
    case WsState::awaiting_welcome: return "awaiting_welcome";
    case WsState::connected: return "connected";
    case WsState::backoff: return "backoff";
    case WsState::stopped: return "stopped";
  }
  return "?";
}

std::string SocketOptionReport::to_string() const {
  return std::string("transport=") + std::string(feed::to_string(transport)) +
         (transport == Transport::io_uring ? (io_uring_sqpoll ? " io_uring=multishot+sqpoll" : " io_uring=multishot") : "") +
         " TCP_NODELAY=" + (tcp_nodelay ? "on" : "off") +
         " SO_BUSY_POLL=" + (so_busy_poll ? "on" : "off") + " SO_PREFER_BUSY_POLL=" + (prefer_busy_poll ? "on" : "off") +
         " SO_TIMESTAMPING=" + (rx_timestamping ? (hardware_timestamping ? "software+hardware" : "software") : "off") +
         (tx_timestamping ? " TX_TIMESTAMPING=software" : "");
}

// ---- Backoff -----------------------------------------------------------------------------------------------

Backoff::Backoff(Options opt) : opt_(opt), rng_(opt.seed ? opt.seed : 1) {
  if (opt_.initial_ns <= 0) throw Error("backoff: initial delay must be > 0");
  if (opt_.max_ns < opt_.initial_ns) throw Error("backoff: max delay must be >= the initial delay");
  if (!(opt_.multiplier >= 1.0)) throw Error("backoff: multiplier must be >= 1");
  if (!(opt_.jitter >= 0.0 && opt_.jitter <= 1.0)) throw Error("backoff: jitter must be in [0, 1]");
}

std::int64_t Backoff::next_delay_ns() noexcept {
  // xorshift64*: deterministic for a seed, good enough to de-synchronise reconnect storms.
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  const std::uint64_t r = rng_ * 0x2545F4914F6CDD1Dull;
  const double u = static_cast<double>(r >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
  double base = static_cast<double>(opt_.initial_ns) * std::pow(opt_.multiplier, attempt_);
  if (base > static_cast<double>(opt_.max_ns)) base = static_cast<double>(opt_.max_ns);
  if (attempt_ < 1000) ++attempt_;  // capped: pow() of a huge exponent is inf anyway, clamped above
  return static_cast<std::int64_t>(base * (1.0 - opt_.jitter * u));
}

// ---- WsClient ----------------------------------------------------------------------------------------------

namespace {

// Our own socket layer under TLS: every read is a recvmsg that returns the kernel receive timestamp.
using WsStream = websocket::stream<ssl::stream<detail::TimestampedSocket>>;

// One connection. Completion handlers hold a shared_ptr to it, so a torn-down connection lives until its
// aborted operations have completed; the client ignores them by connection generation.
struct Session {
  // Text frames waiting to be written, oldest first: a fixed ring of buffers whose capacity is reserved when
  // the connection is made, so queueing a frame (a WebSocket API order) copies into place without allocating.
  static constexpr std::size_t kOutSlots = 64;
  static constexpr std::size_t kOutReserve = 4096;  // bytes per slot before a (cold) longer frame allocates
  WsStream ws;
  beast::flat_buffer buf;
  std::array<std::string, kOutSlots> out;
  std::array<std::uint64_t, kOutSlots> out_tag{};  // WsClient::send_text's tag of each waiting frame (0: none)
  std::size_t out_head = 0, out_count = 0;
  // Tagged frames written whole, oldest first, awaiting their kernel transmit stamp: the tag and the OPT_ID
  // key of the frame's last byte (WsClient::take_tx_stamp).
  struct Sent {
    std::uint64_t tag;
    std::uint32_t last_key;
  };
  static constexpr std::size_t kSentSlots = 256;
  std::array<Sent, kSentSlots> sent{};
  std::size_t sent_head = 0, sent_count = 0;
  // Stamps taken off the error queue, not yet matched (oldest first).
  static constexpr std::size_t kStampSlots = 64;
  std::array<TxStamp, kStampSlots> stamps{};
  std::size_t stamp_count = 0;
  bool writing = false;
  bool pinging = false;  // a ping control frame is being written (Beast allows one at a time)
  Session(net::io_context& io, ssl::context& ctx) : ws(io, ctx) {
    for (std::string& slot : out) slot.reserve(kOutReserve);
  }
};

std::int64_t default_now(void*) noexcept { return monotonic_ns(); }

constexpr std::size_t kFramePadding = 64;  // simdjson::SIMDJSON_PADDING

}  // namespace

struct WsClient::Impl {
  // io first: destroyed last, after everything whose handlers it may still hold.
  net::io_context io{1};
  WsClientOptions opt;
  WsHandlers h;
  ssl::context ctx;
  tcp::resolver resolver{io};
  net::steady_timer tick{io};
  std::shared_ptr<Session> sess;
  Backoff backoff;
  std::unique_ptr<HttpsClient> https;  // KuCoin bullet requests
  // The bullet POST of the connect in progress, on a thread of its own: the polling thread (the live
  // gateway's, which writes orders; the trading thread in paper) never waits for it. Declared after `https`
  // so that it is destroyed first (its destructor waits for the POST, bounded by connect_timeout).
  std::future<HttpsResponse> token;

  WsState state = WsState::idle;
  std::uint64_t gen = 0;  // bumped on every teardown; stale completions compare against it
  ParsedUrl url;
  std::int64_t connect_deadline = 0;
  std::int64_t next_attempt = 0;
  std::int64_t last_rx = 0;
  std::int64_t last_ping = 0;
  std::int64_t ping_outstanding_since = 0;  // first of our pings not yet followed by any frame
  bool ping_outstanding = false;
  bool got_frame_since_connect = false;
  std::int64_t ping_interval_ns;
  std::int64_t ping_timeout_ns;
  std::uint64_t ping_id = 0;
  std::string connect_id;
  WsStats stats;
  SocketOptionReport sockopts;
  std::string last_error;
  std::atomic<bool> stop_requested{false};

  Impl(WsClientOptions o, WsHandlers hd)
      : opt(std::move(o)),
        h(std::move(hd)),
        ctx(detail::make_client_tls_context(opt.tls)),
        backoff(opt.backoff),
        ping_interval_ns(opt.ping_interval_ns),
        ping_timeout_ns(opt.ping_timeout_ns) {
    if (opt.max_frame_bytes == 0) throw Error("ws: max_frame_bytes must be > 0");
    if (opt.tick_ns <= 0) throw Error("ws: tick_ns must be > 0");
    if (opt.ping == PingPolicy::okx && (opt.okx_idle_ping_ns <= 0 || opt.okx_idle_ping_ns >= 30'000'000'000)) {
      throw Error("ws: okx_idle_ping_ns must be in (0, 30 s): OKX drops connections silent for 30 s");
    }
    if (opt.kucoin_bullet_url.empty()) {
      url = parse_url(opt.url);
      if (url.scheme != "wss") throw Error("ws: URL '" + opt.url + "': only wss:// is supported");
    } else {
      (void)parse_url(opt.kucoin_bullet_url);
      https = std::make_unique<HttpsClient>(HttpsOptions{.tls = opt.tls, .timeout_ns = opt.connect_timeout_ns});
    }
    if (!opt.clock.now) opt.clock.now = &default_now;
    connect_id = opt.connect_id;
    if (connect_id.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "enigma%016llx", static_cast<unsigned long long>(opt.backoff.seed));
      connect_id = buf;
    }
  }

  ~Impl() {
    stop_requested = true;
    close_session();
  }

  std::int64_t now() const noexcept { return opt.clock.now(opt.clock.ctx); }

  void close_session() noexcept {
    error_code ec;
    resolver.cancel();
    if (sess) {
      sess->ws.next_layer().next_layer().abort_pending();
      beast::get_lowest_layer(sess->ws).close(ec);
      sess.reset();
    }
  }

  // Tears the connection down, reports it and schedules the next attempt (unless stopping).
  void fail(DisconnectCause cause, std::string reason) {
    if (state == WsState::stopped || state == WsState::backoff || state == WsState::idle) return;
    const bool was_connected = state == WsState::connected;
    close_session();
    ++gen;
    last_error = reason;
    const bool stopping = stop_requested.load(std::memory_order_relaxed) || cause == DisconnectCause::stopped;
    const std::int64_t delay = stopping ? 0 : backoff.next_delay_ns();
    state = stopping ? WsState::stopped : WsState::backoff;
    next_attempt = now() + delay;
    ++stats.disconnects;
    if (h.on_disconnected) h.on_disconnected(WsDisconnect{cause, was_connected, reason, delay});
  }

  std::string where() const { return url.host + ":" + url.port; }

  void begin_connect() {
    ++gen;
    state = WsState::connecting;
    ++stats.connect_attempts;
    got_frame_since_connect = false;
    connect_deadline = now() + opt.connect_timeout_ns;
    if (https) {
      // KuCoin: a fresh token for every connection (tokens expire), fetched off this thread; check_timers
      // goes on with open_session() once it has come. A POST still running from an attempt that timed
      // out is waited for rather than doubled (its token is as fresh).
      try {
        if (!token.valid()) {
          std::vector<std::pair<std::string, std::string>> headers;
          if (opt.kucoin_bullet_headers) headers = opt.kucoin_bullet_headers();  // signed here, sent there
          token = std::async(std::launch::async, [this, headers = std::move(headers)] {
            return https->post(opt.kucoin_bullet_url, std::string{}, "application/json", headers);
          });
        }
      } catch (const std::exception& e) {
        fail(DisconnectCause::connect_failed, std::string("connecting: ") + e.what());
      }
      return;
    }
    open_session();
  }

  // The bullet POST has answered: its token and endpoint, then the WebSocket connect.
  void token_arrived() {
    try {
      {
        const HttpsResponse r = token.get();
        if (r.status != 200) {
          throw Error("POST " + opt.kucoin_bullet_url + ": HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 200));
        }
        const kucoin::BulletInfo b = kucoin::parse_bullet(r.body);
        ping_interval_ns = std::int64_t{b.ping_interval_ms} * 1'000'000;
        ping_timeout_ns = std::int64_t{b.ping_timeout_ms} * 1'000'000;
        std::string u = b.endpoint;
        u += (u.find('?') == std::string::npos ? '?' : '&');
        u += "token=" + b.token + "&connectId=" + connect_id;
        url = parse_url(u);
        if (url.scheme != "wss") throw Error("KuCoin bullet endpoint '" + b.endpoint + "' is not wss://");
      }
    } catch (const std::exception& e) {
      fail(DisconnectCause::connect_failed, std::string("connecting: ") + e.what());
      return;
    }
    open_session();
  }

  void open_session() {
    try {
      sess = std::make_shared<Session>(io, ctx);
      sess->buf.reserve(opt.initial_buffer_bytes);
      // Unlimited in Beast: the limit is enforced in on_read. Beast's own limit answers with a close frame and
      // a TLS teardown whose error (often "application data after close notify") hides the cause.
      sess->ws.read_message_max(0);
      sess->ws.auto_fragment(false);
      detail::prepare_client_tls(sess->ws.next_layer(), url.host, opt.tls);
      sess->ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
        ping_outstanding = false;
        if (kind == websocket::frame_type::pong) {  // the answer to our ping: the link lives, the feed may not
          ++stats.pongs_consumed;
          return;
        }
        if (kind == websocket::frame_type::ping) ++stats.server_pings;
        // The venue's own control frames are data too: a venue that only pings is alive.
        last_rx = now();
      });
    } catch (const std::exception& e) {
      fail(DisconnectCause::connect_failed, std::string("connecting: ") + e.what());
      return;
    }
    resolver.async_resolve(url.host, url.port, [this, g = gen](const error_code& ec, tcp::resolver::results_type res) {
      if (g != gen) return;
      if (ec) return fail(DisconnectCause::connect_failed, "resolving " + where() + ": " + ec.message());
      net::async_connect(beast::get_lowest_layer(sess->ws), res, [this, g](const error_code& ec2, const tcp::endpoint&) {
        if (g != gen) return;
        if (ec2) return fail(DisconnectCause::connect_failed, "TCP connect to " + where() + ": " + ec2.message());
        if (std::string err = apply_socket_options(); !err.empty()) return fail(DisconnectCause::connect_failed, err);
        sess->ws.next_layer().async_handshake(ssl::stream_base::client, [this, g](const error_code& ec3) {
          if (g != gen) return;
          if (ec3) {
            return fail(DisconnectCause::tls_failed,
                        "TLS handshake with " + where() + " failed: " + detail::describe_tls_error(sess->ws.next_layer(), ec3));
          }
          sess->ws.async_handshake(url.host + ":" + url.port, url.target, [this, g](const error_code& ec4) {
            if (g != gen) return;
            if (ec4) {
              return fail(DisconnectCause::handshake_failed,
                          "WebSocket upgrade to " + where() + url.target.substr(0, url.target.find('?')) + " failed: " + ec4.message());
            }
            last_rx = now();
            if (opt.ping == PingPolicy::kucoin) {
              state = WsState::awaiting_welcome;  // subscriptions only after `welcome` (KuCoin docs)
            } else {
              on_ready();
            }
            if (g == gen) start_read();
          });
        });
      });
    });
  }

  // "" when the connection is set up as configured; else why not (the connection fails with it).
  std::string apply_socket_options() {
    auto& sock = beast::get_lowest_layer(sess->ws);
    error_code ec;
    sock.set_option(tcp::no_delay(true), ec);
    sockopts.tcp_nodelay = !ec;
    const int fd = sock.native_handle();
    const bool busy = opt.transport == Transport::busy_poll;
    sockopts.transport = opt.transport;
    const BusyPollResult bp = enable_busy_poll(fd, opt.busy_poll_us, busy);
    sockopts.so_busy_poll = bp.busy_poll;
    sockopts.prefer_busy_poll = bp.prefer_busy_poll;
    sess->ws.next_layer().next_layer().set_busy_poll(busy);
    sockopts.io_uring_sqpoll = false;
    if (opt.transport == Transport::io_uring) {
      std::string err;
      UringOptions uo;
      uo.sqpoll = opt.io_uring_sqpoll;
      auto receiver = UringReceiver::create(fd, uo, err);
      if (!receiver) return "transport io_uring on " + where() + ": " + err;
      sockopts.io_uring_sqpoll = receiver->sqpoll();
      sess->ws.next_layer().next_layer().set_uring(std::move(receiver));
    }
    sockopts.rx_timestamping = false;
    sockopts.hardware_timestamping = false;
    if (opt.rx_timestamps) {
      sockopts.rx_timestamping = enable_rx_timestamping(fd, opt.hardware_timestamps);
      sockopts.hardware_timestamping = opt.hardware_timestamps && sockopts.rx_timestamping;
      // A NIC without hardware stamping refuses the hardware flags: keep the software stamps.
      if (!sockopts.rx_timestamping && opt.hardware_timestamps) sockopts.rx_timestamping = enable_rx_timestamping(fd, false);
    }
    // After the receive flags: SO_TIMESTAMPING is one mask, which enable_tx_timestamping extends.
    sockopts.tx_timestamping = opt.tx_timestamps && enable_tx_timestamping(fd);
    if (sockopts.tx_timestamping) sess->ws.next_layer().next_layer().mark_tx_base();
    return {};
  }

  // Upgrade done (and welcome seen for KuCoin): subscribe and tell the owner to resync.
  void on_ready() {
    for (const auto& s : opt.subscriptions) (void)enqueue(s);
    state = WsState::connected;
    const std::int64_t t = now();
    last_rx = t;
    last_ping = t;
    ping_outstanding = false;
    ++stats.connects;
    if (h.on_connected) h.on_connected();
  }

  // False when Session::kOutSlots frames are already waiting (the frame is not queued).
  bool enqueue(std::string_view text, std::uint64_t tag = 0) {
    Session& se = *sess;
    if (se.out_count == Session::kOutSlots) return false;
    se.out[(se.out_head + se.out_count) % Session::kOutSlots].assign(text);
    se.out_tag[(se.out_head + se.out_count) % Session::kOutSlots] = sockopts.tx_timestamping ? tag : 0;
    ++se.out_count;
    if (!se.writing) do_write();
    return true;
  }

  void do_write() {
    sess->writing = true;
    sess->ws.text(true);
    sess->ws.async_write(net::buffer(sess->out[sess->out_head]), [this, s = sess, g = gen](const error_code& ec, std::size_t) {
      if (g != gen) return;
      if (ec) return fail(classify(ec), "sending to " + where() + ": " + ec.message());
      if (const std::uint64_t tag = s->out_tag[s->out_head]; tag != 0) {
        // Written whole: every byte of the frame is in the kernel; the last one's key names its stamp.
        if (s->sent_count == Session::kSentSlots) {  // the owner stopped taking stamps: drop the oldest
          s->sent_head = (s->sent_head + 1) % Session::kSentSlots;
          --s->sent_count;
        }
        s->sent[(s->sent_head + s->sent_count++) % Session::kSentSlots] = {tag, s->ws.next_layer().next_layer().last_byte_key()};
      }
      s->out_head = (s->out_head + 1) % Session::kOutSlots;
      if (--s->out_count == 0) {
        s->writing = false;
      } else {
        do_write();
      }
    });
  }

  // Reads at most one byte past max_frame_bytes of the current message, so an oversized frame is caught
  // before it is buffered whole.
  void start_read() {
    const std::size_t have = sess->buf.size();
    sess->ws.async_read_some(sess->buf, opt.max_frame_bytes + 1 - have,
                             [this, s = sess, g = gen](const error_code& ec, std::size_t) { on_read(ec, g); });
  }

  DisconnectCause classify(const error_code& ec) const {
    if (ec == websocket::error::closed || ec == net::error::eof || ec == ssl::error::stream_truncated ||
        ec == net::error::connection_reset || ec == net::error::broken_pipe) {
      return DisconnectCause::closed_by_peer;
    }
    return DisconnectCause::io_error;
  }

  ENIGMA_HOT void on_read(const error_code& ec, std::uint64_t g) {
    if (g != gen) [[unlikely]] return;
    if (!ec && !sess->ws.is_message_done()) [[unlikely]] {
      // Part of a message (large, or fragmented by the sender): keep reading unless it is already too big.
      if (sess->buf.size() <= opt.max_frame_bytes) return start_read();
      ++stats.oversized_frames;
      return fail(DisconnectCause::frame_too_large, "frame from " + where() + " exceeds max_frame_bytes (" +
                                                        std::to_string(opt.max_frame_bytes) + ")");
    }
    if (ec) [[unlikely]] {
      const DisconnectCause cause = classify(ec);
      std::string reason;
      if (ec == websocket::error::closed) {
        const auto& cr = sess->ws.reason();
        reason = "closed by " + where() + " with close code " + std::to_string(cr.code) +
                 (cr.reason.empty() ? "" : " '" + std::string(cr.reason.data(), cr.reason.size()) + "'");
      } else {
        reason = "reading from " + where() + ": " + ec.message();
      }
      return fail(cause, std::move(reason));
    }
    const std::uint64_t tsc = rdtsc();
    const std::int64_t t = now();
    last_rx = t;
    ping_outstanding = false;
    beast::flat_buffer& b = sess->buf;
    const std::size_t n = b.size();
    if (n > opt.max_frame_bytes) [[unlikely]] {
      ++stats.oversized_frames;
      return fail(DisconnectCause::frame_too_large, "frame from " + where() + " exceeds max_frame_bytes (" +
                                                        std::to_string(opt.max_frame_bytes) + ")");
    }
    // Guarantee simdjson's padding after the payload; a no-op once the buffer has grown to its working size.
    (void)b.prepare(kFramePadding);
    const char* p = static_cast<const char*>(b.data().data());
    if (opt.ping == PingPolicy::okx && n == 4 && std::memcmp(p, "pong", 4) == 0) {
      ++stats.pongs_consumed;  // OKX heartbeat reply: not JSON, nothing for the decoder
    } else {
      ++stats.frames;
      stats.bytes += n;
      if (!got_frame_since_connect && state == WsState::connected) {
        got_frame_since_connect = true;
        backoff.reset();  // data flows: the next failure starts from the initial delay again
      }
      const std::int64_t kernel_rx = sess->ws.next_layer().next_layer().last_rx().best_ns();
      t_frame_kernel_rx_ns = kernel_rx;
      if (h.on_frame) h.on_frame(h.ctx, WsFrame{std::string_view(p, n), n + kFramePadding, tsc, t, kernel_rx});
      t_frame_kernel_rx_ns = 0;
      if (g != gen) return;  // the callback stopped the client
      if (state == WsState::awaiting_welcome && std::string_view(p, n).find("\"welcome\"") != std::string_view::npos) {
        on_ready();
        if (g != gen) return;
      }
    }
    b.consume(b.size());
    start_read();
  }

  void send_ping(std::int64_t t) {
    if (opt.ping == PingPolicy::kucoin) {
      (void)enqueue("{\"id\":\"" + std::to_string(++ping_id) + "\",\"type\":\"ping\"}");
    } else if (opt.ping == PingPolicy::bybit) {
      (void)enqueue("{\"op\":\"ping\"}");
    } else if (opt.ping == PingPolicy::kraken_futures) {
      if (sess->pinging) return;  // the previous one is still being written
      sess->pinging = true;
      sess->ws.async_ping({}, [this, s = sess, g = gen](const error_code& ec) {
        if (g != gen) return;
        s->pinging = false;
        if (ec) fail(classify(ec), "pinging " + where() + ": " + ec.message());
      });
    } else {
      (void)enqueue("ping");
    }
    ++stats.pings_sent;
    last_ping = t;
    if (!ping_outstanding) ping_outstanding_since = t;
    ping_outstanding = true;
  }

  void check_timers(std::int64_t t) {
    switch (state) {
      case WsState::backoff:
        if (t >= next_attempt) begin_connect();
        return;
      case WsState::connecting:
      case WsState::awaiting_welcome:
        if (state == WsState::connecting && token.valid() && !sess &&
            token.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
          token_arrived();
          return;
        }
        if (t > connect_deadline) {
          fail(DisconnectCause::connect_timeout,
               (token.valid() ? "fetching the KuCoin token from " + opt.kucoin_bullet_url : "connecting to " + where()) +
                   " timed out after " + std::to_string(opt.connect_timeout_ns / 1'000'000) + " ms" +
                   (state == WsState::awaiting_welcome ? " (no KuCoin welcome)" : ""));
        }
        return;
      case WsState::connected: {
        const std::int64_t silent = t - last_rx;
        if (opt.stale_after_ns > 0 && silent > opt.stale_after_ns) {
          ++stats.stale_events;
          if (h.on_stale) h.on_stale(silent);
          if (state != WsState::connected) return;  // on_stale stopped the client
          fail(DisconnectCause::stale, "stale feed: no data from " + where() + " for " + std::to_string(silent / 1'000'000) + " ms");
          return;
        }
        if (opt.ping == PingPolicy::kucoin || opt.ping == PingPolicy::okx || opt.ping == PingPolicy::bybit ||
            opt.ping == PingPolicy::kraken_futures) {
          if (ping_outstanding && t - ping_outstanding_since > ping_timeout_ns) {
            fail(DisconnectCause::ping_timeout, "no data from " + where() + " for " + std::to_string((t - ping_outstanding_since) / 1'000'000) +
                                                   " ms after our ping (timeout " + std::to_string(ping_timeout_ns / 1'000'000) + " ms)");
            return;
          }
          if ((opt.ping == PingPolicy::kucoin || opt.ping == PingPolicy::bybit || opt.ping == PingPolicy::kraken_futures) &&
              t - last_ping >= ping_interval_ns)
            send_ping(t);
          if (opt.ping == PingPolicy::okx && !ping_outstanding && silent >= opt.okx_idle_ping_ns) send_ping(t);
        }
        return;
      }
      case WsState::idle:
      case WsState::stopped:
        return;
    }
  }

  void do_stop() {
    stop_requested = true;
    if (state == WsState::connected || state == WsState::connecting || state == WsState::awaiting_welcome) {
      fail(DisconnectCause::stopped, "stopped by the owner");
    }
    state = WsState::stopped;
    close_session();
    ++gen;
    tick.cancel();
    io.stop();
  }

  void schedule_tick() {
    tick.expires_after(std::chrono::nanoseconds(opt.tick_ns));
    tick.async_wait([this](const error_code& ec) {
      if (ec || state == WsState::stopped) return;
      check_timers(now());
      schedule_tick();
    });
  }
};

WsClient::WsClient(WsClientOptions opt, WsHandlers handlers) : impl_(new Impl(std::move(opt), std::move(handlers))) {}
WsClient::~WsClient() { delete impl_; }

void WsClient::start() {
  if (impl_->state != WsState::idle) return;
  impl_->begin_connect();
}

std::size_t WsClient::poll_once() noexcept {
  Impl& m = *impl_;
  const std::uint64_t before = m.stats.frames;
  try {
    if (m.io.stopped()) m.io.restart();
    // busy_poll: the parked read retries recvmsg here, on the polling thread, without the reactor.
    if (m.sess) m.sess->ws.next_layer().next_layer().poll_pending();
    m.io.poll();
    m.check_timers(m.now());
  } catch (const std::exception& e) {
    // A throwing owner callback: keep the client consistent and reconnect rather than unwind the stage loop.
    m.fail(DisconnectCause::io_error, std::string("exception in a callback: ") + e.what());
  }
  return static_cast<std::size_t>(m.stats.frames - before);
}

void WsClient::run() {
  Impl& m = *impl_;
  if (m.state == WsState::stopped) return;
  m.io.restart();
  m.schedule_tick();
  m.io.run();
}

void WsClient::stop() {
  impl_->stop_requested = true;
  net::post(impl_->io, [m = impl_] { m->do_stop(); });
}

void WsClient::reconnect_to(const std::string& url) {
  Impl& m = *impl_;
  ParsedUrl u = parse_url(url);
  if (u.scheme != "wss") throw Error("ws: URL '" + url + "': only wss:// is supported");
  if (m.state == WsState::stopped || m.stop_requested.load(std::memory_order_relaxed)) return;
  m.close_session();
  m.url = std::move(u);
  m.opt.url = url;
  m.backoff.reset();
  m.begin_connect();
}

bool WsClient::send_text(std::string_view text, std::uint64_t tag) {
  if (impl_->state != WsState::connected || !impl_->sess) return false;
  return impl_->enqueue(text, tag);
}

bool WsClient::take_tx_stamp(std::uint64_t& tag, std::int64_t& kernel_tx_ns) noexcept {
  Session* se = impl_->sess.get();
  if (se == nullptr || se->sent_count == 0) return false;
  if (se->stamp_count < Session::kStampSlots)
    se->stamp_count += se->ws.next_layer().next_layer().take_tx_stamps(se->stamps.data() + se->stamp_count,
                                                                      Session::kStampSlots - se->stamp_count);
  const Session::Sent& oldest = se->sent[se->sent_head];
  // Stamps come in key order: those before the frame's last byte are earlier sends (its first records, a
  // pong); the first at or past it is the frame's (keys wrap at 2^32).
  std::size_t i = 0;
  while (i < se->stamp_count && static_cast<std::int32_t>(se->stamps[i].byte_key - oldest.last_key) < 0) ++i;
  if (i == se->stamp_count) {
    se->stamp_count = 0;  // all before the frame: not needed again
    return false;
  }
  tag = oldest.tag;
  kernel_tx_ns = se->stamps[i].ns;
  se->sent_head = (se->sent_head + 1) % Session::kSentSlots;
  --se->sent_count;
  std::copy(se->stamps.begin() + static_cast<std::ptrdiff_t>(i), se->stamps.begin() + static_cast<std::ptrdiff_t>(se->stamp_count),
            se->stamps.begin());
  se->stamp_count -= i;
  return true;
}

WsState WsClient::state() const noexcept { return impl_->state; }
const WsStats& WsClient::stats() const noexcept { return impl_->stats; }
SocketOptionReport WsClient::socket_options() const noexcept { return impl_->sockopts; }
std::uint64_t WsClient::io_uring_receives() const noexcept {
  if (!impl_->sess) return 0;
  const UringReceiver* u = impl_->sess->ws.next_layer().next_layer().uring();
  return u != nullptr ? u->receives() : 0;
}
std::string WsClient::last_error() const { return impl_->last_error; }

}  // namespace enigma::feed
