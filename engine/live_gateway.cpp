#include "engine/live_gateway.hpp"

#include "engine/pipeline.hpp"

#include <pthread.h>
#include <simdjson.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>

#include "core/clock.hpp"
#include "core/logger.hpp"
#include "core/stage_runner.hpp"
#include "feed/capture_reader.hpp"
#include "feed/detail/timestamped_socket.hpp"
#include "feed/detail/tls.hpp"
#include "feed/ws_client.hpp"
#include "oms/venues/venue_kit.hpp"

namespace enigma::engine {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using oms::RestRequest;

namespace {

constexpr std::string_view kListenKeyPath = "/fapi/v1/listenKey";
constexpr std::uint64_t kSendWarmupRequests = 4;  // LiveGatewayStats::send_allocations starts after these

// "host" or "host:port" when the port is not the scheme's default (the HTTP Host header).
std::string host_header(const feed::ParsedUrl& u) { return u.port == "443" ? u.host : u.host + ":" + u.port; }

// {"listenKey":"..."} -> the key; empty when absent.
std::string parse_listen_key(const std::string& body) {
  simdjson::ondemand::parser p;
  simdjson::padded_string s(body);
  simdjson::ondemand::document doc;
  std::string_view key;
  if (p.iterate(s).get(doc) || doc["listenKey"].get_string().get(key)) return {};
  return std::string(key);
}

// A non-negative decimal header value; -1 when absent or not a number.
std::int64_t header_int(std::string_view v) {
  std::int64_t n = -1;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return ec == std::errc{} && p == v.data() + v.size() && n >= 0 ? n : -1;
}

std::string_view kind_name(RestRequest k) noexcept {
  switch (k) {
    case RestRequest::new_order:
      return "new_order";
    case RestRequest::cancel:
      return "cancel";
    case RestRequest::query:
      return "query";
    case RestRequest::cancel_all:
      return "cancel_all";
    case RestRequest::countdown:
      return "deadman";
    case RestRequest::cancel_batch:
      return "cancel_batch";
  }
  return "?";
}
oms::RequestPriority request_priority(RestRequest k) noexcept {
  switch (k) {
    case RestRequest::new_order:
      return oms::RequestPriority::new_order;
    case RestRequest::query:
      return oms::RequestPriority::other;
    default:
      return oms::RequestPriority::cancel;
  }
}
// Start-up queries through call(): GET /fapi/v1/openOrders without a symbol weighs 40, with one 1;
// /fapi/v2/positionRisk and /fapi/v2/balance 5; anything else 1.
std::uint32_t call_weight(std::string_view request) noexcept {
  const std::string_view line = request.substr(0, request.find('\r'));
  if (line.find("/openOrders") != std::string_view::npos)
    return line.find("symbol=") == std::string_view::npos ? 40 : 1;
  if (line.find("/positionRisk") != std::string_view::npos || line.find("/balance") != std::string_view::npos) return 5;
  return 1;
}

}  // namespace

// One keep-alive TLS connection to the REST host, owned by the gateway thread, with at most one request in
// flight. Below TLS is the market data's own socket layer (feed/detail/timestamped_socket.hpp), so it reads
// the way its `transport` says: the reactor (asio), recvmsg retried by this thread (busy_poll), or io_uring
// completions reaped by this thread (io_uring). The gateway's connections share one io_context: start() puts
// a request on the wire and returns; progress() advances it without blocking; exchange() is the blocking
// form (start-up and keep-alive requests). Every step has a deadline; past it the socket is closed.
struct RestConnection {
  using TlsStream = net::ssl::stream<feed::detail::TimestampedSocket>;
  net::io_context& io;
  net::ssl::context ctx;
  feed::ParsedUrl url;
  feed::TlsOptions tls;
  std::optional<TlsStream> stream;
  beast::flat_buffer buffer;
  std::string body;  // the last answer's body
  std::int64_t last_used_ns{0};
  std::uint64_t served{0};  // answers read on this connection
  std::string last_error;
  feed::Transport transport{feed::Transport::asio};
  int busy_poll_us{0};
  bool want_tx_stamps{false};
  bool tx_stamps{false};       // the kernel accepted tx timestamping on this connection
  std::int64_t last_tx_ns{0};  // kernel tx time of the last request's last byte (0: no stamp)
  // The venue's rate-limit headers of the last answer (-1: absent).
  struct LimitHeaders {
    std::int64_t used_weight{-1}, order_count_short{-1}, order_count_long{-1}, retry_after_s{-1};
    // The venue refused for its rate limit in an HTTP 200 answer (Bybit retCode 10006 "Too many visits!"):
    // treated as a 429.
    bool rate_limited{false};
  } limits;
  // The request in flight.
  struct Exchange {
    bool busy{false};     // started, its outcome not yet taken (finish())
    bool done{false};     // its handlers are through (answer read, or failed)
    bool written{false};  // the request's bytes left
    int status{0};
    int attempt{0};
    bool connect_failed{false};
    bool awaiting_connect{false};  // its connection is being (re)connected: rest_connected() starts it
    bool listen_key{false};        // the user-data stream's listenKey keep-alive (PUT) or renewal (POST)
    bool listen_key_renew{false};
    std::uint64_t write_tsc{0};
    std::int64_t deadline_ns{0};
    std::optional<http::response_parser<http::string_body>> parser;
    OutboundRequest rq;  // the gateway loop's request (its bytes are what is written)
  } ex;
  int ops{0};  // handlers not yet run (the stream must outlive them)
  // The connect in progress (start_connect / poll_connect): its handlers set connect_done and connect_ok.
  bool connecting{false}, connect_done{false}, connect_ok{false};
  std::int64_t connect_deadline_ns{0};
  tcp::resolver::results_type endpoints;  // resolved at the first connect

  RestConnection(net::io_context& shared, feed::ParsedUrl u, feed::TlsOptions t)
      : io(shared), ctx(feed::detail::make_client_tls_context(t)), url(std::move(u)), tls(std::move(t)) {}

  feed::detail::TimestampedSocket& sock() { return stream->next_layer(); }
  int fd() { return sock().next_layer().native_handle(); }

  // Runs ready handlers without blocking; busy_poll / io_uring: retries this socket's parked read first.
  void poll() {
    if (io.stopped()) io.restart();
    if (stream && transport != feed::Transport::asio) sock().poll_pending();
    (void)io.poll();
  }
  // Until `flag` or the deadline (false then). asio waits in the reactor; the others spin on their read path.
  bool wait_until(const bool& flag, std::int64_t deadline_ns) {
    while (!flag) {
      const std::int64_t now = monotonic_ns();
      if (now >= deadline_ns) return false;
      if (transport == feed::Transport::asio) {
        if (io.stopped()) io.restart();
        (void)io.run_one_for(std::chrono::nanoseconds(std::min<std::int64_t>(deadline_ns - now, 1'000'000)));
      } else {
        poll();
      }
    }
    return true;
  }

  // Every stamp queued since the last call; the latest is the request's last byte (one request in flight).
  void collect_tx_stamp() noexcept {
    last_tx_ns = 0;
    if (!tx_stamps) return;
    last_tx_ns = sock().take_tx_stamp();  // taken off the error queue while the answer was awaited
    feed::TxStamp st[16];
    for (std::size_t n; (n = feed::drain_tx_timestamps(fd(), st, 16)) > 0;)
      for (std::size_t i = 0; i < n; ++i) last_tx_ns = std::max(last_tx_ns, st[i].ns);
  }

  [[nodiscard]] bool open() const noexcept { return stream.has_value(); }

  // Closes the socket; what is pending completes with an error and its handlers run before the stream goes.
  void close() noexcept {
    if (stream) {
      boost::system::error_code ec;
      sock().abort_pending();
      sock().next_layer().close(ec);
      for (int i = 0; i < 1000 && ops > 0; ++i) {
        if (io.stopped()) io.restart();
        (void)io.run_one_for(std::chrono::milliseconds(1));
      }
      stream.reset();
    }
    buffer.clear();
    served = 0;
    connecting = false;
  }

  // Resolve (once: the venue's addresses are kept), TCP connect (TCP_NODELAY), TLS handshake with certificate
  // and host-name verification, without blocking: the handlers run in poll() / the gateway's io loop and
  // poll_connect() takes the outcome. False when it could not even start (last_error says why).
  bool start_connect(std::int64_t timeout_ns) {
    close();
    connecting = true;
    connect_done = connect_ok = false;
    connect_deadline_ns = monotonic_ns() + timeout_ns;
    try {
      stream.emplace(io, ctx);
      feed::detail::prepare_client_tls(*stream, url.host, tls);
    } catch (const std::exception& e) {
      last_error = e.what();
      stream.reset();
      connecting = false;
      return false;
    }
    if (endpoints.empty()) {
      boost::system::error_code ec;
      tcp::resolver resolver(io);
      endpoints = resolver.resolve(url.host, url.port, ec);
      if (ec) {
        last_error = "resolving " + url.host + ": " + ec.message();
        endpoints = {};
        close();
        connecting = false;
        return false;
      }
    }
    ++ops;
    net::async_connect(sock().next_layer(), endpoints, [this](const boost::system::error_code& e1, const tcp::endpoint&) {
      if (e1) {
        last_error = "connecting to " + url.host + ":" + url.port + ": " + e1.message();
        --ops;
        connect_done = true;
        return;
      }
      boost::system::error_code ignored;
      sock().next_layer().set_option(tcp::no_delay(true), ignored);
      if (std::string why = apply_transport(); !why.empty()) {
        last_error = why;
        --ops;
        connect_done = true;
        return;
      }
      stream->async_handshake(net::ssl::stream_base::client, [this](const boost::system::error_code& e2) {
        if (e2) {
          last_error = "TLS handshake with " + url.host + ": " + feed::detail::describe_tls_error(*stream, e2);
        } else {
          connect_ok = true;
        }
        --ops;
        connect_done = true;
      });
    });
    return true;
  }

  // The connect started by start_connect(): 0 still connecting, 1 connected, -1 failed (closed; last_error).
  int poll_connect() {
    if (!connecting) return open() ? 1 : -1;
    if (!connect_done) {
      poll();
      if (!connect_done && monotonic_ns() < connect_deadline_ns) return 0;
    }
    connecting = false;
    if (!connect_ok) {
      const bool timed_out = !connect_done;
      close();  // runs the handlers of a timed-out attempt before the stream goes (they set last_error)
      if (timed_out) last_error = "connecting to " + url.host + ":" + url.port + ": timed out";
      return -1;
    }
    // After the handshake, so only request bytes are stamped.
    tx_stamps = want_tx_stamps && feed::enable_tx_timestamping(fd());
    last_used_ns = monotonic_ns();
    return 1;
  }

  // Blocking form (start-up, cold paths): until connected, failed or timed out.
  bool connect(std::int64_t timeout_ns) {
    if (!start_connect(timeout_ns)) return false;
    (void)wait_until(connect_done, connect_deadline_ns);
    return poll_connect() == 1;
  }

  // The read path of `transport` on the connected socket: "" when set up, else why not.
  std::string apply_transport() {
    if (transport == feed::Transport::busy_poll) {
      (void)feed::enable_busy_poll(fd(), busy_poll_us, true);
      sock().set_busy_poll(true);
    } else if (transport == feed::Transport::io_uring) {
      std::string err;
      auto receiver = feed::UringReceiver::create(fd(), feed::UringOptions{}, err);
      if (!receiver) return "order connection to " + url.host + ": transport io_uring: " + err;
      sock().set_uring(std::move(receiver));
    }
    return {};
  }

  // Writes `request` (kept alive by the caller until done) and reads its answer, asynchronously.
  void start(std::string_view request, std::int64_t timeout_ns) {
    ex.busy = true;
    ex.done = false;
    ex.written = false;
    ex.status = 0;
    ex.write_tsc = 0;
    ex.deadline_ns = monotonic_ns() + timeout_ns;
    ex.parser.emplace();
    ex.parser->body_limit(1u << 20);
    ++ops;
    net::async_write(*stream, net::buffer(request.data(), request.size()),
                     [this](const boost::system::error_code& e1, std::size_t) {
                       if (e1) {
                         last_error = "writing the request: " + e1.message();
                         --ops;
                         ex.done = true;
                         return;
                       }
                       ex.written = true;
                       ex.write_tsc = rdtsc();
                       http::async_read(*stream, buffer, *ex.parser, [this](const boost::system::error_code& e2, std::size_t) {
                         if (e2) {
                           last_error = "reading the answer: " + e2.message();
                         } else {
                           ex.status = static_cast<int>(ex.parser->get().result_int());
                         }
                         --ops;
                         ex.done = true;
                       });
                     });
  }

  // Advances the request in flight without blocking; past its deadline the connection is closed.
  void progress() {
    if (!ex.busy || ex.done) return;
    poll();
    if (!ex.done && monotonic_ns() >= ex.deadline_ns) expire();
  }

  void expire() {
    const bool written = ex.written;
    close();
    last_error = std::string(written ? "reading the answer" : "writing the request") + ": timed out";
    ex.done = true;
  }

  // Takes the outcome of the finished request: the HTTP status (0: no answer; ex.written says whether the
  // request left), `body` and `limits`. Closes the connection on failure and when the venue asks for it.
  int finish() {
    ex.busy = false;
    if (ex.written && open()) collect_tx_stamp();
    limits = LimitHeaders{};
    const int status = ex.status;
    if (status == 0) {
      close();
      return 0;
    }
    const auto& h = ex.parser->get();  // field lookup is case-insensitive
    limits.used_weight = header_int(h["X-MBX-USED-WEIGHT-1M"]);
    limits.order_count_short = header_int(h["X-MBX-ORDER-COUNT-10S"]);
    limits.order_count_long = header_int(h["X-MBX-ORDER-COUNT-1M"]);
    limits.retry_after_s = header_int(h[http::field::retry_after]);
    // KuCoin: gw-ratelimit-limit / -remaining for the current window, -reset = milliseconds until it rolls.
    const std::int64_t kc_limit = header_int(h["gw-ratelimit-limit"]);
    const std::int64_t kc_left = header_int(h["gw-ratelimit-remaining"]);
    if (kc_limit >= 0 && kc_left >= 0 && limits.used_weight < 0) limits.used_weight = std::max<std::int64_t>(0, kc_limit - kc_left);
    const std::int64_t kc_reset_ms = header_int(h["gw-ratelimit-reset"]);
    if (ex.status == 429 && limits.retry_after_s < 0 && kc_reset_ms >= 0) limits.retry_after_s = (kc_reset_ms + 999) / 1000;
    // Bybit: X-Bapi-Limit (the endpoint's requests per second for this UID), X-Bapi-Limit-Status (what is
    // left after this request), X-Bapi-Limit-Reset-Timestamp (ms, when the window frees a request). The used
    // count is the short window's (our Bybit budget is one 1 s window across endpoints, so the busiest
    // endpoint's count is a floor for it). A refusal for the limit comes as HTTP 200 with retCode 10006.
    const std::int64_t by_limit = header_int(h["X-Bapi-Limit"]);
    const std::int64_t by_left = header_int(h["X-Bapi-Limit-Status"]);
    if (by_limit >= 0 && by_left >= 0 && limits.order_count_short < 0) limits.order_count_short = std::max<std::int64_t>(0, by_limit - by_left);
    body = std::move(ex.parser->get().body());
    if (by_limit >= 0 && body.find("\"retCode\":10006") != std::string::npos) {
      limits.rate_limited = true;
      const std::int64_t reset_ms = header_int(h["X-Bapi-Limit-Reset-Timestamp"]);
      const std::int64_t now_ms = wall_ns() / 1'000'000;
      if (reset_ms > now_ms) limits.retry_after_s = (reset_ms - now_ms + 999) / 1000;
    }
    ++served;
    last_used_ns = monotonic_ns();
    if (!h.keep_alive()) close();
    return status;
  }

  // Blocking form: writes one complete request and reads its answer. Returns the HTTP status, or 0 when no
  // answer was read (`written` then says whether the request left).
  int exchange(std::string_view request, bool& written, std::int64_t timeout_ns, std::uint64_t& write_done_tsc) {
    start(request, timeout_ns);
    if (!wait_until(ex.done, ex.deadline_ns)) expire();
    written = ex.written;
    write_done_tsc = ex.write_tsc;
    return finish();
  }
};

struct LiveGateway::Impl {
  const InstrumentRegistry& registry;
  feed::ParsedUrl rest;
  // KuCoin: the venue's order id of each order it acknowledged, with our client id, so that a stop order's
  // lifecycle event (advancedOrders names the orderId only) reaches its order. A ring: no allocation.
  struct VenueIdEntry {
    oms::VenueOrderId venue_id;
    oms::ClientOrderId client_id;
  };
  static constexpr std::size_t kVenueIds = 1024;
  std::array<VenueIdEntry, kVenueIds> venue_ids{};
  std::size_t venue_ids_next{0};
  // A WebSocket API request that waited, signed again here: its ring slot is only read (the OMS's once popped).
  OutboundRequest resigned{};
  void remember_venue_id(const oms::VenueOrderId& v, const oms::ClientOrderId& c) noexcept {
    venue_ids[venue_ids_next++ % kVenueIds] = {v, c};
  }
  [[nodiscard]] const oms::ClientOrderId* client_of(const oms::VenueOrderId& v) const noexcept {
    for (const VenueIdEntry& e : venue_ids)
      if (e.venue_id == v && !v.view().empty()) return &e.client_id;
    return nullptr;
  }
  // The venue's private-stream and REST-answer decoder (oms::user_decoder) and how its private stream (and a
  // second one, OKX's business endpoint) is kept (oms::private_stream, oms::second_private_stream).
  std::unique_ptr<oms::VenueUserDecoder> decoder;
  std::unique_ptr<oms::VenueStreamDialect> dialect;
  std::unique_ptr<oms::VenueStreamDialect> second_dialect;
  net::io_context io;  // the REST connections' (gateway thread)
  // conns[0]: the control connection (cancels, cancel-all, queries, the dead-man timer, listenKey, call());
  // conns[1..]: the order connections (new orders), [live] order_connections of them.
  std::vector<std::unique_ptr<RestConnection>> conns;
  std::unique_ptr<feed::WsClient> ws;
  std::unique_ptr<feed::WsClient> ws_business;  // OKX: the orders-algo channel's connection
  std::atomic<std::uint64_t> business_connects{0};  // OKX: its connects (the first is not a reconnect)
  std::string listen_key;
  std::int64_t next_keepalive_ns{0};
  std::int64_t next_countdown_ns{0};  // the earliest wall time the next dead-man refresh may leave (budget.countdown_spacing_ns)
  RestConnection::LimitHeaders limits;  // the rate-limit headers of the answer being handled (venue_answered)
  bool renew_key{false};
  bool conn_lost{false};  // the REST connection failed since it last worked (its next connect is a reconnect)
  oms::RequestBudget budget;
  bool budget_waiting{false};  // the ring's head waits for the next budget window (logged once)
  // New orders taken off the OMS's ring while every order connection was busy: a FIFO in the OMS's order,
  // so a cancel or query queued behind them goes out on the control connection without waiting for a free
  // order connection. A request that depends on a held order (a cancel or query of it, a cancel-all of its
  // instrument) still waits for it, and a later new order queues behind them. Slots reserved at start.
  static constexpr std::size_t kHeld = 32;
  std::vector<OutboundRequest> held = std::vector<OutboundRequest>(kHeld);
  std::size_t held_head{0}, held_count{0};
  [[nodiscard]] const OutboundRequest& held_front() const noexcept { return held[held_head]; }
  bool hold(const OutboundRequest& rq) noexcept {
    if (held_count == kHeld) return false;
    held[(held_head + held_count) % kHeld] = rq;
    ++held_count;
    return true;
  }
  void pop_held() noexcept {
    held_head = (held_head + 1) % kHeld;
    --held_count;
  }
  [[nodiscard]] bool depends_on_held(const OutboundRequest& rq) const noexcept {
    const bool instrument_wide = oms::is_instrument_request(rq.kind);
    for (std::size_t i = 0; i < held_count; ++i) {
      const OutboundRequest& h = held[(held_head + i) % kHeld];
      if (instrument_wide ? h.instrument == rq.instrument : rq.concerns(h.client_id)) return true;
    }
    return false;
  }
  std::thread thread;

  // WebSocket API order entry ([live] order_entry = "ws-api"). Requests in flight are kept in a fixed table
  // indexed by request id (the OMS numbers them 1, 2, ...), so matching an answer allocates nothing.
  struct Pending {
    std::int64_t id{-1};  // -1: free
    RestRequest kind{};
    oms::ClientOrderId client_id;
    InstrumentId instrument{0};
    std::uint64_t sent_tsc{0};
    std::int64_t deadline_ns{0};
  };
  static constexpr std::size_t kMaxInFlight = 1024;
  std::unique_ptr<feed::WsClient> wsapi;
  std::array<Pending, kMaxInFlight> pending{};
  std::size_t pending_count{0};
  // WebSocket API requests written and awaiting their kernel transmit stamp, oldest first (the WsClient
  // returns stamps in write order, tagged with the request id).
  struct TxWait {
    std::int64_t id;
    std::uint64_t enqueue_tsc, kill_tsc;
    std::int64_t cause_kernel_rx_ns;
    RestRequest kind;
  };
  static constexpr std::size_t kTxWaitSlots = 256;
  std::array<TxWait, kTxWaitSlots> tx_wait{};
  std::size_t tx_wait_head{0}, tx_wait_count{0};
  bool wsapi_ready{false};  // connected, and logged on when a logon is configured
  bool wsapi_tx_stamps{false};  // the kernel accepted tx timestamping on the WebSocket API connection
  std::string wsapi_error;  // why the connection is not ready (start-up error text)

  Impl(const InstrumentRegistry& r, const LiveGatewayOptions& o)
      : registry(r), rest(feed::parse_url(o.rest_url)), decoder(oms::user_decoder(o.venue, r)),
        dialect(oms::private_stream(o.venue, o.dead_man_stream)),
        second_dialect(o.second_stream_url.empty() ? nullptr : oms::second_private_stream(o.venue)),
        budget(o.budget) {
    for (int i = 0; i <= o.order_connections; ++i) {
      conns.push_back(std::make_unique<RestConnection>(io, rest, o.tls));
      conns.back()->transport = o.transport;
      conns.back()->busy_poll_us = o.busy_poll_us;
      conns.back()->want_tx_stamps = o.tx_timestamps;
    }
  }

  RestConnection& control() { return *conns[0]; }

  // The listenKey request (POST creates, PUT extends): unsigned, the API key in a header.
  std::string listen_key_text(const LiveGatewayOptions& o, std::string_view method) const {
    std::string req;
    req.append(method).append(" ").append(kListenKeyPath).append(" HTTP/1.1\r\nHost: ").append(host_header(rest));
    req.append("\r\nX-MBX-APIKEY: ").append(o.api_key).append("\r\nContent-Length: 0\r\n\r\n");
    return req;
  }

  // Blocking form, at start-up only (the io loop sends its keep-alives as exchanges of the control
  // connection): returns the HTTP status.
  int listen_key_request(const LiveGatewayOptions& o, std::string_view method) {
    RestConnection& conn = control();
    const std::string req = listen_key_text(o, method);
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!conn.open() && !conn.connect(o.connect_timeout_ns)) return 0;
      bool written = false;
      std::uint64_t tsc = 0;
      const bool reused = conn.served > 0;
      const int st = conn.exchange(req, written, o.request_timeout_ns, tsc);
      if (st != 0 || !reused) return st;  // a reused connection may have been closed by the venue: once more
    }
    return 0;
  }
};

LiveGateway::LiveGateway(const InstrumentRegistry& registry, LiveGatewayOptions opt)
    : opt_(std::move(opt)), requests_(opt_.request_ring), reports_(opt_.report_ring) {
  if (opt_.api_key.empty()) throw Error("live gateway: the API key is empty");
  if (opt_.api_key.find_first_of("\r\n") != std::string::npos) throw Error("live gateway: the API key contains CR/LF");
  const feed::ParsedUrl rest = feed::parse_url(opt_.rest_url);
  if (rest.scheme != "https") throw Error("live gateway: rest_url '" + opt_.rest_url + "' must be https://");
  // What the venue's private stream needs to be reached (oms/venues/<venue>_user.hpp, PrivateStream).
  const std::unique_ptr<oms::VenueStreamDialect> stream = oms::private_stream(opt_.venue);
  if (!stream) throw Error("live gateway: no live order entry for venue " + std::string(to_string(opt_.venue)));
  if (stream->access() == oms::VenueStreamDialect::Access::token) {
    if (feed::parse_url(opt_.stream_token_url).scheme != "https")
      throw Error("live gateway: stream_token_url '" + opt_.stream_token_url + "' must be https://");
    if (!opt_.stream_token_headers) throw Error("live gateway: the private stream's token request needs its signed headers");
  } else if (feed::parse_url(opt_.user_ws_url).scheme != "wss") {
    throw Error("live gateway: user_ws_url '" + opt_.user_ws_url + "' must be wss://");
  }
  if (stream->access() == oms::VenueStreamDialect::Access::login && !opt_.stream_login)
    throw Error("live gateway: the private stream of " + std::string(to_string(opt_.venue)) + " needs its login message");
  if (!opt_.ws_api_url.empty() && feed::parse_url(opt_.ws_api_url).scheme != "wss")
    throw Error("live gateway: ws_api_url '" + opt_.ws_api_url + "' must be wss://");
  if (opt_.request_timeout_ns <= 0 || opt_.connect_timeout_ns <= 0 || opt_.keepalive_interval_ns <= 0)
    throw Error("live gateway: timeouts and the keep-alive interval must be positive");
  if (!opt_.second_stream_url.empty() && feed::parse_url(opt_.second_stream_url).scheme != "wss")
    throw Error("live gateway: second_stream_url '" + opt_.second_stream_url + "' must be wss://");
  if (!opt_.second_stream_url.empty() && !oms::second_private_stream(opt_.venue))
    throw Error("live gateway: " + std::string(to_string(opt_.venue)) + " has no second private stream (second_stream_url)");
  if (opt_.order_connections < 1 || opt_.order_connections > 8)
    throw Error("live gateway: order_connections must be 1 to 8, not " + std::to_string(opt_.order_connections));
  impl_ = std::make_unique<Impl>(registry, opt_);
}

LiveGateway::~LiveGateway() { stop(); }

void LiveGateway::push_report(const GatewayReport& gr) noexcept {
  // The OMS drains this ring every iteration; a full ring means it stopped polling.
  while (!reports_.try_push(gr)) {
    ++stats_.reports_dropped;
    if (stop_.load(std::memory_order_acquire)) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

namespace {

// The report for a request that never reached the venue: a new order is refused locally, a cancel leaves
// the order as it was, anything else stays unresolved (UNKNOWN: the OMS asks the venue later).
GatewayReport unsent_report(const OutboundRequest& rq, oms::Reason reason) noexcept {
  GatewayReport gr{};
  gr.report.client_id = rq.client_id;
  gr.report.instrument = rq.instrument;
  gr.report.reason = reason;
  if (rq.kind == RestRequest::new_order) {
    gr.report.kind = oms::ExecKind::rejected;
    gr.report.status = oms::OrderStatus::rejected;
  } else if (rq.kind == RestRequest::cancel || rq.kind == RestRequest::cancel_batch) {
    gr.report.kind = oms::ExecKind::cancel_rejected;
  } else {
    gr.report.kind = oms::ExecKind::status;
    gr.report.status = oms::OrderStatus::unknown;
    gr.unknown = true;
  }
  return gr;
}

}  // namespace

// A WebSocket-API request that never left (the same outcomes as a REST request that could not be written).
void LiveGateway::not_sent(const OutboundRequest& rq, std::string_view why) noexcept {
  ++stats_.not_sent;
  ENIGMA_LOG_WARN("live", "request for {} not sent over the WebSocket API: {}", rq.client_id.view(), why);
  push_unsent(rq, oms::Reason::venue_error);
}

void LiveGateway::push_unsent(const OutboundRequest& rq, oms::Reason reason) noexcept {
  GatewayReport gr = unsent_report(rq, reason);
  if (oms::is_instrument_request(rq.kind)) gr.report.client_id = oms::ClientOrderId{};
  if (rq.kind != RestRequest::cancel_batch) {
    push_report(gr);
    return;
  }
  for (std::size_t i = 0; i < rq.batch_count; ++i) {
    gr.report.client_id = rq.batch[i];
    push_report(gr);
  }
}

void LiveGateway::batch_done(const OutboundRequest& rq, bool written, int status, std::string_view body,
                             std::string_view error) noexcept {
  const std::span<const oms::ClientOrderId> ids(rq.batch, rq.batch_count);
  if (!written) {
    ++stats_.not_sent;
    ENIGMA_LOG_WARN("live", "batch cancel of {} orders ({} ...) not sent: {}", ids.size(), rq.client_id.view(), error);
    push_unsent(rq, oms::Reason::venue_error);
    return;
  }
  ++stats_.answers;
  std::array<oms::RestAnswer, OutboundRequest::kMaxBatch> answers;
  const Errc e = impl_->decoder->decode_rest_batch(status, body, ids, rq.instrument, answers);
  if (e != Errc::ok)
    ENIGMA_LOG_WARN("live", "batch cancel answer (HTTP {}) not fully readable: {}: {}", status, LogLiteral{to_string(e)}, feed::quote_input(body, 200));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const oms::RestAnswer& a = answers[i];
    if (a.unknown) {
      ++stats_.unknown_outcomes;
      ENIGMA_LOG_WARN("live", "cancel of {}: outcome unknown (batch, HTTP {})", ids[i].view(), status);
    } else if (a.venue_code != 0) {
      ENIGMA_LOG_WARN("live", "cancel of {}: venue refused with code {} (batch, HTTP {})", ids[i].view(), a.venue_code, status);
    }
    push_report(GatewayReport{a.report, a.venue_code, a.unknown});
  }
}

LiveGateway::Admission LiveGateway::admit(const OutboundRequest& rq) noexcept {
  Impl& im = *impl_;
  const std::int64_t now = wall_ns();
  // A venue that takes one dead-man refresh per interval (OKX: one cancel-all-after per second): a second one
  // within it (the disarm right after a refresh) waits rather than be refused and leave the countdown armed.
  if (rq.kind == RestRequest::countdown && now < im.next_countdown_ns) return Admission::wait;
  // A reduce-only order only closes or protects a position: it goes with the cancels (cost still counted).
  const oms::RequestPriority prio = rq.protective ? oms::RequestPriority::cancel : request_priority(rq.kind);
  const oms::BudgetVerdict v = im.budget.try_take(prio, opt_.budget.cost(rq.kind), now);
  if (v == oms::BudgetVerdict::ok && rq.kind == RestRequest::countdown) im.next_countdown_ns = now + opt_.budget.countdown_spacing_ns;
  if (v == oms::BudgetVerdict::ok) {
    if (im.budget_waiting) ENIGMA_LOG_INFO("live", "venue_budget_resumed kind={}", LogLiteral{kind_name(rq.kind)});
    im.budget_waiting = false;
    return Admission::send;
  }
  if (v == oms::BudgetVerdict::wait) {  // a cancel, query or the kill: it goes out as soon as the window rolls
    if (!im.budget_waiting) {
      ++stats_.budget_waits;
      // Each window as used/limit@seconds (Binance: weight per 60 s, orders per 10 s and 60 s; KuCoin: the
      // weight pool per 30 s, the plan's requests per 3 s).
      const oms::RequestBudgetConfig& b = opt_.budget;
      ENIGMA_LOG_WARN("live",
                      "venue_budget_exhausted kind={} weight={}/{}@{}s orders_short={}/{}@{}s orders_long={}/{}@{}s "
                      "then=wait_for_next_window",
                      LogLiteral{kind_name(rq.kind)}, im.budget.used_weight(now), b.weight.limit,
                      b.weight.window_ns / 1'000'000'000, im.budget.orders_short(now), b.orders_short.limit,
                      b.orders_short.window_ns / 1'000'000'000, im.budget.orders_long(now), b.orders_long.limit,
                      b.orders_long.window_ns / 1'000'000'000);
    }
    im.budget_waiting = true;
    return Admission::wait;
  }
  (v == oms::BudgetVerdict::banned        ? stats_.ban_refusals
   : v == oms::BudgetVerdict::backing_off ? stats_.backoff_refusals
                                          : stats_.budget_refusals)
      .fetch_add(1, std::memory_order_relaxed);
  ++stats_.not_sent;
  ENIGMA_LOG_WARN("live", "request_refused_locally id={} kind={} cause={} backoff_until_ns={}", rq.client_id.view(),
                  LogLiteral{kind_name(rq.kind)}, LogLiteral{to_string(v)}, im.budget.backoff_until_ns());
  // Cancel-all / dead-man: a failure for the instrument, reported with no client id; a batch: one per order.
  push_unsent(rq, oms::Reason::rate_limited);
  return Admission::refused;
}

void LiveGateway::venue_answered(int status, std::int64_t retry_after_s) noexcept {
  Impl& im = *impl_;
  const std::int64_t now = wall_ns();
  const RestConnection::LimitHeaders& h = im.limits;
  if (h.used_weight >= 0) {
    im.budget.observe_used_weight(static_cast<std::uint32_t>(h.used_weight), now);
    stats_.used_weight.store(static_cast<std::uint64_t>(h.used_weight), std::memory_order_relaxed);
  }
  if (h.order_count_short >= 0) {
    im.budget.observe_orders_short(static_cast<std::uint32_t>(h.order_count_short), now);
    stats_.order_count_short.store(static_cast<std::uint64_t>(h.order_count_short), std::memory_order_relaxed);
  }
  if (h.order_count_long >= 0) {
    im.budget.observe_orders_long(static_cast<std::uint32_t>(h.order_count_long), now);
    stats_.order_count_long.store(static_cast<std::uint64_t>(h.order_count_long), std::memory_order_relaxed);
  }
  if (status == 429 || h.rate_limited) {
    // Binance: "back off"; without Retry-After, until the weight window rolls, and at least a second: the
    // venue's window is not ours: a refusal near the end of our window (OKX's 50011, 66 ms before our 2 s
    // window rolled) would back off for milliseconds while the venue's may still run. Bybit's 10006: until its
    // reset timestamp.
    ++stats_.http_429;
    const std::int64_t until = retry_after_s >= 0 ? now + retry_after_s * 1'000'000'000
                                                  : std::max(im.budget.next_window_ns(now), now + 1'000'000'000);
    im.budget.back_off_until(until);
    ENIGMA_LOG_WARN("live", "venue_rate_limited http={} retry_after_s={} backoff_ms={} then=refuse_new_orders", status,
                    retry_after_s, (until - now) / 1'000'000);
  } else if (status == 418) {
    // Binance bans an IP that kept sending after 429s (2 minutes to 3 days): sending more prolongs it.
    ++stats_.http_418;
    const std::int64_t until = now + (retry_after_s >= 0 ? retry_after_s : 120) * 1'000'000'000;
    im.budget.ban_until(until);
    venue_banned_.store(true, std::memory_order_release);
    ENIGMA_LOG_ERROR("live", "venue_ip_banned http=418 retry_after_s={} then=stop_new_orders,emergency_stop",
                     retry_after_s);
  }
}

void LiveGateway::ws_api_send(const OutboundRequest& rq) noexcept {
  Impl& im = *impl_;
  const std::string_view bytes(rq.bytes, rq.size);
  // The OMS's encoder writes `{"id":<n>,` first.
  constexpr std::string_view kHead = "{\"id\":";
  std::int64_t id = 0;
  std::size_t i = kHead.size();
  for (; i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9' && i < kHead.size() + 18; ++i)
    id = id * 10 + (bytes[i] - '0');
  if (bytes.substr(0, kHead.size()) != kHead || i == kHead.size() || id <= 0) return not_sent(rq, "malformed request");
  if (!im.wsapi_ready) return not_sent(rq, im.wsapi_error.empty() ? "not connected" : im.wsapi_error);
  Impl::Pending& slot = im.pending[static_cast<std::size_t>(id) % Impl::kMaxInFlight];
  if (slot.id != -1) return not_sent(rq, "too many requests in flight");
  try {
    if (!im.wsapi->send_text(bytes, static_cast<std::uint64_t>(id))) return not_sent(rq, "not connected or too many frames waiting");
  } catch (const std::exception& e) {
    return not_sent(rq, e.what());
  }
  ++stats_.ws_api_requests;
  slot = Impl::Pending{id, rq.kind, rq.client_id, rq.instrument, rdtsc(), monotonic_ns() + opt_.request_timeout_ns};
  ++im.pending_count;
  hist_write_.record(TscClock::instance().ticks_to_ns(slot.sent_tsc - rq.enqueue_tsc));
  if (im.wsapi_tx_stamps) {
    if (im.tx_wait_count == Impl::kTxWaitSlots) {  // stamps not coming (refused): forget the oldest
      im.tx_wait_head = (im.tx_wait_head + 1) % Impl::kTxWaitSlots;
      --im.tx_wait_count;
    }
    im.tx_wait[(im.tx_wait_head + im.tx_wait_count++) % Impl::kTxWaitSlots] =
        Impl::TxWait{id, rq.enqueue_tsc, rq.kill_tsc, rq.cause_kernel_rx_ns, rq.kind};
  }
}

void LiveGateway::collect_ws_api_tx_stamps() noexcept {
  Impl& im = *impl_;
  if (!im.wsapi || im.tx_wait_count == 0) return;
  const TscClock& clk = TscClock::instance();
  std::uint64_t tag = 0;
  std::int64_t tx_ns = 0;
  while (im.tx_wait_count != 0 && im.wsapi->take_tx_stamp(tag, tx_ns)) {
    // Requests are stamped in the order they were written: older ones without a stamp (their connection
    // was lost) are passed over.
    while (im.tx_wait_count != 0) {
      const Impl::TxWait w = im.tx_wait[im.tx_wait_head];
      im.tx_wait_head = (im.tx_wait_head + 1) % Impl::kTxWaitSlots;
      --im.tx_wait_count;
      if (static_cast<std::uint64_t>(w.id) != tag) continue;
      // Both kernel stamps are CLOCK_REALTIME; the enqueue TSC is converted with the start-up calibration.
      hist_kernel_tx_.record(tx_ns - clk.tsc_to_wall_ns(w.enqueue_tsc));
      if (w.cause_kernel_rx_ns != 0) hist_tick_to_wire_.record(tx_ns - w.cause_kernel_rx_ns);
      if (w.kill_tsc != 0) {
        const std::int64_t after_ns = tx_ns - clk.tsc_to_wall_ns(w.kill_tsc);
        hist_kill_to_wire_.record(after_ns);
        ENIGMA_LOG_INFO("live", "kill_request_on_wire kind={} orders=1 after_ns={} stamp=kernel via=ws-api",
                        LogLiteral{kind_name(w.kind)}, after_ns);
      }
      break;
    }
  }
}

void LiveGateway::ws_api_answer(std::string_view msg, std::size_t padded_capacity) noexcept {
  Impl& im = *impl_;
  oms::WsApiAnswer a;
  if (im.decoder->decode_ws_api_answer(msg, padded_capacity, a) != Errc::ok) {
    ++stats_.stream_errors;
    ENIGMA_LOG_WARN("live", "ws-api answer not understood: {}", feed::quote_input(msg, 200));
    return;
  }
  if (a.id == 0) {  // session.logon
    if (a.status == 200) {
      im.wsapi_ready = true;
      im.wsapi_error.clear();
      ++stats_.ws_api_logons;
    } else {
      im.wsapi_error = "session.logon refused with status " + std::to_string(a.status) + ": " + feed::quote_input(a.body, 200);
      ENIGMA_LOG_ERROR("live", "ws-api {}", im.wsapi_error);
    }
    return;
  }
  if (a.id < 0) return;
  if (a.status == 429 || a.status == 418) {
    impl_->limits = RestConnection::LimitHeaders{};  // ws-fapi answers carry no headers
    venue_answered(a.status, -1);
  }
  Impl::Pending& p = im.pending[static_cast<std::size_t>(a.id) % Impl::kMaxInFlight];
  if (p.id != a.id) return;  // answered after it timed out: it was UNKNOWN and gets queried
  hist_answer_.record(TscClock::instance().ticks_to_ns(rdtsc() - p.sent_tsc));
  oms::RestAnswer ra;
  (void)im.decoder->decode_rest(p.kind, a.status, a.body, p.client_id, p.instrument, ra);
  ++stats_.answers;
  if (ra.unknown) {
    ++stats_.unknown_outcomes;
    ENIGMA_LOG_WARN("live", "order {}: outcome unknown (ws-api status {})", p.client_id.view(), a.status);
  } else if (ra.venue_code != 0) {
    ENIGMA_LOG_WARN("live", "order {}: venue refused with code {} (ws-api status {}): {}", p.client_id.view(),
                    ra.venue_code, a.status, feed::quote_input(a.body, 200));
  }
  p.id = -1;
  --im.pending_count;
  push_report(GatewayReport{ra.report, ra.venue_code, ra.unknown});
}

void LiveGateway::ws_api_fail_pending(bool expired_only) noexcept {
  Impl& im = *impl_;
  if (im.pending_count == 0) return;
  const std::int64_t now = monotonic_ns();
  for (Impl::Pending& p : im.pending) {
    if (p.id == -1 || (expired_only && now < p.deadline_ns)) continue;
    p.id = -1;
    --im.pending_count;
    ++stats_.unknown_outcomes;
    ENIGMA_LOG_WARN("live", "order {}: outcome unknown (ws-api {})", p.client_id.view(),
                    expired_only ? "timeout" : "connection lost");
    GatewayReport gr{};
    gr.report.client_id = p.client_id;
    gr.report.instrument = p.instrument;
    gr.report.kind = oms::ExecKind::status;
    gr.report.status = oms::OrderStatus::unknown;
    gr.report.reason = oms::Reason::timeout;
    gr.unknown = true;
    push_report(gr);
  }
}

void LiveGateway::open_ws_api() {
  Impl& im = *impl_;
  feed::WsClientOptions wo;
  wo.url = opt_.ws_api_url;
  wo.tls = opt_.tls;
  wo.ping = feed::PingPolicy::binance;  // the server pings; Beast answers
  wo.transport = opt_.transport;        // answers come in on the order connection's read path
  wo.busy_poll_us = opt_.transport == feed::Transport::busy_poll ? opt_.busy_poll_us : 0;
  wo.initial_buffer_bytes = 64u << 10;
  wo.connect_timeout_ns = opt_.connect_timeout_ns;
  wo.tx_timestamps = opt_.tx_timestamps;
  feed::WsHandlers h;
  h.ctx = this;
  h.on_frame = [](void* c, const feed::WsFrame& f) noexcept {
    static_cast<LiveGateway*>(c)->ws_api_answer(f.payload, f.padded_capacity);
  };
  h.on_connected = [this] {
    Impl& m = *impl_;
    m.wsapi_tx_stamps = m.wsapi->socket_options().tx_timestamping;
    tx_timestamping_.store(m.wsapi_tx_stamps, std::memory_order_release);
    if (++stats_.ws_api_connects > 1) {  // answers in flight were lost with the old connection
      ENIGMA_LOG_WARN("live", "ws_api_reconnected connects={} then=query_working_orders",
                      stats_.ws_api_connects.load());
      resync_epoch_.fetch_add(1, std::memory_order_release);
    }
    if (opt_.ws_api_logon) {
      m.wsapi_error = "session.logon not answered yet";
      if (!m.wsapi->send_text(opt_.ws_api_logon())) m.wsapi_error = "session.logon could not be sent";
    } else {
      m.wsapi_ready = true;
      m.wsapi_error.clear();
    }
  };
  h.on_disconnected = [this](const feed::WsDisconnect& d) {
    impl_->wsapi_ready = false;
    impl_->wsapi_error = "ws-api connection down (" + std::string(to_string(d.cause)) + "): " + std::string(d.reason);
    ws_api_fail_pending(false);
    ENIGMA_LOG_WARN("live", "{}", impl_->wsapi_error);
  };
  im.wsapi = std::make_unique<feed::WsClient>(wo, h);
  im.wsapi->start();
}

void LiveGateway::start() {
  Impl& im = *impl_;
  RestConnection& conn = im.control();
  if (!conn.open()) {
    if (!conn.connect(opt_.connect_timeout_ns))
      throw Error("live gateway: cannot connect to " + opt_.rest_url + ": " + conn.last_error);
    ++stats_.rest_connects;
  }
  // The order connections are ready before the first order (a connect on the order path costs a handshake).
  for (std::size_t i = 1; i < im.conns.size(); ++i) {
    if (!im.conns[i]->connect(opt_.connect_timeout_ns))
      throw Error("live gateway: cannot connect to " + opt_.rest_url + ": " + im.conns[i]->last_error);
    ++stats_.rest_connects;
  }
  if (!im.dialect->listen_key()) {
    // KuCoin: the private stream fetches its own token (bullet-private) at every connect; Bybit and OKX: it
    // signs an auth / login op. Their pings keep the stream: no keep-alive requests.
    im.next_keepalive_ns = std::numeric_limits<std::int64_t>::max();
  } else {
    (void)im.budget.try_take(oms::RequestPriority::other, {1, 0}, wall_ns());  // listenKey POST: weight 1
    const int st = im.listen_key_request(opt_, "POST");
    im.limits = conn.limits;
    venue_answered(st, conn.limits.retry_after_s);
    if (st != 200) {
      throw Error("live gateway: POST " + opt_.rest_url + std::string(kListenKeyPath) + " (user-data stream key) " +
                  (st == 0 ? "got no answer: " + conn.last_error
                           : "answered HTTP " + std::to_string(st) + ": " + feed::quote_input(conn.body, 200)));
    }
    im.listen_key = parse_listen_key(conn.body);
    if (im.listen_key.empty()) throw Error("live gateway: the listenKey answer has no listenKey: " + feed::quote_input(conn.body, 200));
    im.next_keepalive_ns = monotonic_ns() + opt_.keepalive_interval_ns;
  }

  open_stream();
  if (!opt_.ws_api_url.empty()) {
    open_ws_api();
    const std::int64_t deadline = monotonic_ns() + opt_.connect_timeout_ns;
    while (!im.wsapi_ready && monotonic_ns() < deadline) {
      if (im.wsapi->poll_once() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!im.wsapi_ready) {
      const std::string why = im.wsapi_error.empty() ? im.wsapi->last_error() : im.wsapi_error;
      im.wsapi->stop();
      im.ws->stop();
      throw Error("live gateway: WebSocket API " + opt_.ws_api_url + " not ready: " + why);
    }
  }
  if (opt_.core >= 0) check_core_allowed(opt_.core);  // throws Error: the start fails, naming the core
  im.thread = std::thread([this] {
    (void)pthread_setname_np(pthread_self(), "enigma-gateway");
    use_fine_timer_slack();  // its idle sleeps (asio transport) wake close to idle_sleep_ns, not 50 us later
    if (opt_.core >= 0) {
      try {
        pin_current_thread(opt_.core);
        ENIGMA_LOG_INFO("live", "gateway_thread pinned core={} transport={}", opt_.core, LogLiteral{feed::to_string(opt_.transport)});
      } catch (const std::exception& e) {
        ENIGMA_LOG_ERROR("live", "gateway_thread not pinned: {}", e.what());
      }
    }
    io_loop();
  });
}

int LiveGateway::call(std::string_view request, std::string& body) {
  Impl& im = *impl_;
  if (im.thread.joinable()) throw Error("live gateway: call() after start(): the I/O thread owns the connection");
  RestConnection& conn = im.control();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!conn.open()) {
      if (!conn.connect(opt_.connect_timeout_ns))
        throw Error("live gateway: cannot connect to " + opt_.rest_url + ": " + conn.last_error);
      ++stats_.rest_connects;
    }
    // Cold path: wait for the window rather than go over the venue's limit.
    const oms::RequestCost cost{call_weight(request), opt_.budget.call_orders};
    while (im.budget.try_take(oms::RequestPriority::other, cost, wall_ns()) ==
           oms::BudgetVerdict::wait)
      std::this_thread::sleep_for(std::chrono::nanoseconds(im.budget.next_window_ns(wall_ns()) - wall_ns()));
    bool written = false;
    std::uint64_t tsc = 0;
    const bool reused = conn.served > 0;
    const int st = conn.exchange(request, written, opt_.request_timeout_ns, tsc);
    im.limits = conn.limits;
    venue_answered(st, conn.limits.retry_after_s);
    if (st != 0) {
      body = std::move(conn.body);
      return st;
    }
    if (!reused) break;  // a reused connection may have been closed by the venue: once more on a new one
  }
  throw Error("live gateway: no answer from " + opt_.rest_url + ": " + conn.last_error);
}

namespace {
feed::PingPolicy ping_policy(oms::VenueStreamDialect::KeepAlive k) noexcept {
  switch (k) {
    case oms::VenueStreamDialect::KeepAlive::answer_venue_pings: return feed::PingPolicy::binance;
    case oms::VenueStreamDialect::KeepAlive::json_ping_interval: return feed::PingPolicy::kucoin;
    case oms::VenueStreamDialect::KeepAlive::json_ping_op: return feed::PingPolicy::bybit;
    case oms::VenueStreamDialect::KeepAlive::text_ping_when_idle: return feed::PingPolicy::okx;
  }
  return feed::PingPolicy::none;
}
}  // namespace

void LiveGateway::open_stream() {
  Impl& im = *impl_;
  feed::WsClientOptions wo;
  wo.tls = opt_.tls;
  switch (im.dialect->access()) {
    case oms::VenueStreamDialect::Access::token:
      // A fresh token (signed POST) for every connect, with the server to use.
      wo.kucoin_bullet_url = opt_.stream_token_url;
      // The token POST is a request like any other to the venue: charged as it is signed, on this thread;
      // never held back, since without the stream no fill reaches us.
      wo.kucoin_bullet_headers = [this] {
        impl_->budget.charge(opt_.stream_token_cost, wall_ns());
        stats_.token_requests.fetch_add(1, std::memory_order_relaxed);
        return opt_.stream_token_headers();
      };
      break;
    case oms::VenueStreamDialect::Access::listen_key: wo.url = opt_.user_ws_url + "/" + im.listen_key; break;
    case oms::VenueStreamDialect::Access::login: wo.url = opt_.user_ws_url; break;
  }
  wo.ping = ping_policy(im.dialect->keep_alive());
  wo.subscriptions = im.dialect->after_welcome();
  wo.transport = opt_.transport;        // fills come in on the order connection's read path
  wo.busy_poll_us = opt_.transport == feed::Transport::busy_poll ? opt_.busy_poll_us : 0;
  feed::WsHandlers h;
  h.ctx = this;
  h.on_frame = [](void* c, const feed::WsFrame& f) noexcept {
    auto* g = static_cast<LiveGateway*>(c);
    if (g->stream_control(f, *g->impl_->dialect, *g->impl_->ws, "user", g->stats_.stream_connects.load())) return;
    for (std::size_t i = 0; i == 0 || i < g->impl_->decoder->last_count(); ++i) g->stream_message(f, i);
  };
  open_stream_handlers(wo, h);
  if (im.second_dialect) open_second_stream(wo);
}

// The second private connection (OKX: orders-algo, the engine's untriggered stops, lives on /ws/v5/business only).
// Same login, its own subscription; its messages go through the same decoder. Its state is logged, not
// counted as the stream's (the orders connection carries the fills; a triggered stop's order is reported there).
void LiveGateway::open_second_stream(feed::WsClientOptions wo) {
  Impl& im = *impl_;
  wo.url = opt_.second_stream_url;
  wo.subscriptions = im.second_dialect->after_welcome();
  feed::WsHandlers h;
  h.ctx = this;
  h.on_frame = [](void* c, const feed::WsFrame& f) noexcept {
    auto* g = static_cast<LiveGateway*>(c);
    if (g->stream_control(f, *g->impl_->second_dialect, *g->impl_->ws_business, "business", g->impl_->business_connects.load())) return;
    for (std::size_t i = 0; i == 0 || i < g->impl_->decoder->last_count(); ++i) g->stream_message(f, i);
  };
  h.on_connected = [this] {
    send_connect_messages(*impl_->second_dialect, *impl_->ws_business, "business");
    ++impl_->business_connects;
    ENIGMA_LOG_INFO("live", "business_stream_connected url={} then=login,subscribe", opt_.second_stream_url);
  };
  h.on_disconnected = [this](const feed::WsDisconnect& d) {
    ENIGMA_LOG_WARN("live", "business stream down ({}): {}", to_string(d.cause), d.reason);
  };
  im.ws_business = std::make_unique<feed::WsClient>(wo, h);
  im.ws_business->start();
}

void LiveGateway::send_connect_messages(const oms::VenueStreamDialect& dialect, feed::WsClient& ws, const char* stream) noexcept {
  try {
    for (const std::string& m : dialect.on_connect(opt_.stream_login ? opt_.stream_login() : std::string()))
      if (!ws.send_text(m)) {
        ENIGMA_LOG_ERROR("live", "{}_stream_login_not_sent", LogLiteral{stream});
        return;
      }
  } catch (const std::exception& e) {
    ENIGMA_LOG_ERROR("live", "{}_stream_login_not_sent: {}", LogLiteral{stream}, e.what());
  }
}

// The venue's answers to our login and subscription. An accepted login is followed by the subscription (OKX
// refuses a private subscription before the login is through: 60011). The order channels' subscription taken
// means pushes flow from here on. A refusal is neither: it goes on to the decoder, which reports it.
bool LiveGateway::stream_control(const feed::WsFrame& f, const oms::VenueStreamDialect& dialect, feed::WsClient& ws,
                                 const char* stream, std::uint64_t connects) noexcept {
  switch (dialect.answer(f.payload)) {
    case oms::VenueStreamDialect::Answer::other: return false;
    case oms::VenueStreamDialect::Answer::login_accepted:
      try {
        if (!ws.send_text(dialect.after_login())) ENIGMA_LOG_ERROR("live", "{}_stream_subscribe_not_sent", LogLiteral{stream});
      } catch (const std::exception& e) {
        ENIGMA_LOG_ERROR("live", "{}_stream_subscribe_not_sent: {}", LogLiteral{stream}, e.what());
      }
      return true;
    case oms::VenueStreamDialect::Answer::subscribed: stream_subscribed(stream, connects); return true;
  }
  return false;
}

// A private channel is subscribed again after a reconnect. Pushes sent while that connection was down (or
// before the venue took the subscription) are lost, so the working orders are queried from here, not from
// the connect: a fill or a cancel pushed between the two would reach neither the stream nor the query.
void LiveGateway::stream_subscribed(const char* stream, std::uint64_t connects) noexcept {
  if (connects <= 1) return;
  ENIGMA_LOG_WARN("live", "{}_stream_resubscribed connects={} then=query_working_orders", LogLiteral{stream}, connects);
  resync_epoch_.fetch_add(1, std::memory_order_release);
}

void LiveGateway::stream_message(const feed::WsFrame& f, std::size_t index) noexcept {
  GatewayReport gr;
  const auto r = impl_->decoder->decode(f.payload, f.padded_capacity, gr.report, index);
  if (!r.ok()) {
    ++stats_.stream_errors;
    return;
  }
  if (r.value == oms::UserEvent::report && gr.report.client_id.view().empty()) {
    // KuCoin stop-order event: named by the venue's order id only.
    const oms::ClientOrderId* id = impl_->client_of(gr.report.venue_order_id);
    if (id == nullptr) {
      ++stats_.stream_ignored;  // not an order this gateway placed
      return;
    }
    gr.report.client_id = *id;
  }
  switch (r.value) {
    case oms::UserEvent::report:
      ++stats_.stream_reports;
      if (!reports_.try_push(gr)) ++stats_.reports_dropped;
      break;
    case oms::UserEvent::ignored:
      ++stats_.stream_ignored;
      break;
    case oms::UserEvent::listen_key_expired:
      // Binance: a new listenKey, then a reconnect. KuCoin: the token was refused and the venue closes the
      // connection; the stream's reconnect fetches a new one.
      // Bybit, OKX: the auth or login op was refused (its code is the venue's).
      if (impl_->dialect->listen_key()) impl_->renew_key = true;
      else if (const std::int32_t code = impl_->decoder->last_refusal_code(); code != 0)
        ENIGMA_LOG_ERROR("live", "private_stream_login_refused venue_code={} then=reconnect", code);
      else ENIGMA_LOG_WARN("live", "private_stream_token_refused then=reconnect");
      break;
  }
}

void LiveGateway::open_stream_handlers(feed::WsClientOptions& wo, feed::WsHandlers& h) {
  Impl& im = *impl_;
  h.on_connected = [this] {
    // Bybit: the auth op (a fresh expiry each connect), then the topics; OKX: the login op, the subscription
    // follows its answer (stream_control).
    send_connect_messages(*impl_->dialect, *impl_->ws, "user");
    // Binance's stream is live once connected; the others once the venue takes the subscription
    // (stream_subscribed), and the working orders are queried from there.
    const bool subscribes = impl_->dialect->subscribes();
    if (++stats_.stream_connects > 1 && !subscribes) {
      ENIGMA_LOG_WARN("live", "user_stream_reconnected connects={} then=query_working_orders",
                      stats_.stream_connects.load());
      resync_epoch_.fetch_add(1, std::memory_order_release);
    } else if (stats_.stream_connects > 1) {
      ENIGMA_LOG_WARN("live", "user_stream_reconnected connects={} then=subscribe", stats_.stream_connects.load());
    }
    stream_up_.store(true, std::memory_order_release);
  };
  h.on_disconnected = [this](const feed::WsDisconnect& d) {
    stream_up_.store(false, std::memory_order_release);
    ENIGMA_LOG_WARN("live", "user-data stream down ({}): {}", to_string(d.cause), d.reason);
  };
  im.ws = std::make_unique<feed::WsClient>(wo, h);
  im.ws->start();
}

void LiveGateway::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  stop_.store(true, std::memory_order_release);
  impl_->thread.join();
  collect_ws_api_tx_stamps();  // the last requests' stamps, on the joined thread's behalf
  if (impl_->ws) impl_->ws->stop();
  if (impl_->ws_business) impl_->ws_business->stop();
  if (impl_->wsapi) impl_->wsapi->stop();
  for (auto& c : impl_->conns) c->close();
}

bool LiveGateway::stage(RestRequest kind, const oms::ClientOrderId& id, InstrumentId instrument, std::string_view request,
                        std::uint64_t tsc, bool protective, std::uint64_t kill_tsc) noexcept {
  if (request.size() > OutboundRequest::kMaxBytes) [[unlikely]]
    return false;
  staging_.client_id = id;
  staging_.instrument = instrument;
  staging_.kind = kind;
  staging_.protective = protective;
  staging_.batch_count = 0;
  staging_.size = static_cast<std::uint16_t>(request.size());
  staging_.enqueue_tsc = tsc;
  staging_.cause_kernel_rx_ns = feed::current_frame_kernel_rx_ns();  // fused: the frame being handled
  staging_.kill_tsc = kill_tsc;
  std::memcpy(staging_.bytes, request.data(), request.size());
  return true;
}

bool LiveGateway::try_send(RestRequest kind, const oms::ClientOrderId& id, InstrumentId instrument,
                           std::string_view request, std::uint64_t tsc, bool protective, std::uint64_t kill_tsc) noexcept {
  return stage(kind, id, instrument, request, tsc, protective, kill_tsc) && requests_.try_push(staging_);
}

bool LiveGateway::try_send_cancel_batch(std::span<const oms::ClientOrderId> ids, InstrumentId instrument,
                                        std::string_view request, std::uint64_t tsc, std::uint64_t kill_tsc) noexcept {
  if (ids.empty() || ids.size() > OutboundRequest::kMaxBatch) [[unlikely]]
    return false;
  if (!stage(RestRequest::cancel_batch, ids[0], instrument, request, tsc, false, kill_tsc)) return false;
  staging_.batch_count = static_cast<std::uint8_t>(ids.size());
  std::copy(ids.begin(), ids.end(), staging_.batch);
  return requests_.try_push(staging_);
}

namespace {

// The connection a request goes out on, or nullptr while it must wait. New orders take a free order
// connection; everything else takes the control connection, so a cancel or the kill never queues behind an
// order's answer. Never overtaking: a cancel or query of an order waits for the answer to its placement (the
// venue would not know the order yet), a cancel-all or dead-man request for the answers to the new orders of
// its instrument in flight.
RestConnection* pick_connection(LiveGateway::Impl& im, const OutboundRequest& rq);

}  // namespace

void LiveGateway::rest_send(RestConnection& c) noexcept {
  c.ex.connect_failed = false;
  c.ex.awaiting_connect = false;
  try {
    // A connection idle for long may have been dropped by the venue without us noticing: reconnect first
    // rather than risk an UNKNOWN outcome.
    if (c.open() && !c.connecting && monotonic_ns() - c.last_used_ns > opt_.idle_reconnect_ns) c.close();
    if (!c.open() || c.connecting) {
      // The (re)connect runs in the io loop (rest_connected) while the thread serves the other connections.
      if (!c.connecting && !c.start_connect(opt_.connect_timeout_ns)) {
        impl_->conn_lost = true;
        c.ex.connect_failed = true;
      } else {
        c.ex.busy = true;
        c.ex.done = false;
        c.ex.written = false;
        c.ex.awaiting_connect = true;
        return;
      }
    }
    if (!c.ex.connect_failed) {
      if (!c.ex.listen_key) refresh_signature(c.ex.rq);
      c.start(std::string_view(c.ex.rq.bytes, c.ex.rq.size), opt_.request_timeout_ns);
      return;
    }
  } catch (const std::exception& e) {  // allocation failure in Beast: the outcome is not known
    c.last_error = e.what();
    c.close();
    impl_->conn_lost = true;
    c.ex.connect_failed = !c.ex.written;
  }
  c.ex.busy = true;  // finished at once: rest_done() reports it
  c.ex.done = true;
  c.ex.status = 0;
}

void LiveGateway::learn_venue_order_id(const oms::VenueOrderId& venue_id, const oms::ClientOrderId& client_id) noexcept {
  if (venue_id.view().empty() || client_id.view().empty() || impl_->client_of(venue_id) != nullptr) return;
  impl_->remember_venue_id(venue_id, client_id);
}

void LiveGateway::set_fee_rates(InstrumentId instrument, const oms::FeeRates& rates) {
  impl_->decoder->set_fee_rates(instrument, rates);
}

void LiveGateway::refresh_signature(OutboundRequest& rq) noexcept {
  // Hot path when nothing waited: one rdtsc and a compare.
  const std::int64_t waited_ns = TscClock::instance().ticks_to_ns(rdtsc() - rq.enqueue_tsc);
  if (!resign_ || waited_ns <= kResignAfterNs) return;
  if (resign_(rq.bytes, rq.size, wall_ns() / 1'000'000)) {
    stats_.resigned.fetch_add(1, std::memory_order_relaxed);
    ENIGMA_LOG_INFO("live", "request_resigned id={} kind={} waited_ms={}", rq.client_id.view(),
                    LogLiteral{kind_name(rq.kind)}, waited_ns / 1'000'000);
  } else {
    ENIGMA_LOG_WARN("live", "request_not_resigned id={} kind={} waited_ms={} (the venue may refuse its timestamp)",
                    rq.client_id.view(), LogLiteral{kind_name(rq.kind)}, waited_ns / 1'000'000);
  }
}

void LiveGateway::rest_connected(RestConnection& c) noexcept {
  Impl& im = *impl_;
  const int r = c.poll_connect();
  if (r == 0) return;
  c.ex.awaiting_connect = false;
  if (r < 0) {
    im.conn_lost = true;
    c.ex.connect_failed = true;
    c.ex.done = true;
    c.ex.status = 0;
    return;
  }
  ++stats_.rest_connects;
  if (im.conn_lost) {  // back after a failure: answers to other orders may have been lost with it
    im.conn_lost = false;
    ENIGMA_LOG_WARN("live", "order_connection_reconnected then=query_working_orders");
    resync_epoch_.fetch_add(1, std::memory_order_release);
  }
  try {
    if (!c.ex.listen_key) refresh_signature(c.ex.rq);  // the connect took time too
    c.start(std::string_view(c.ex.rq.bytes, c.ex.rq.size), opt_.request_timeout_ns);
  } catch (const std::exception& e) {  // allocation failure in Beast: the outcome is not known
    c.last_error = e.what();
    c.close();
    im.conn_lost = true;
    c.ex.done = true;
    c.ex.status = 0;
  }
}

void LiveGateway::listen_key_done(RestConnection& c) noexcept {
  Impl& im = *impl_;
  const bool renew = c.ex.listen_key_renew;
  c.ex.listen_key = false;
  const int st = c.finish();
  im.limits = c.limits;
  venue_answered(st, c.limits.retry_after_s);
  ++stats_.keepalives;
  if (!renew && st != 200) {  // -1125 "This listenKey does not exist" (or no answer): make a new one
    ENIGMA_LOG_WARN("live", "listen_key_keepalive_failed http={} then=new_key", st);
    im.renew_key = true;
    return;
  }
  if (!renew) return;
  const std::string key = st == 200 ? parse_listen_key(c.body) : std::string();
  if (key.empty()) {
    im.renew_key = true;  // try again after the connect timeout
    im.next_keepalive_ns = monotonic_ns() + opt_.connect_timeout_ns;
    return;
  }
  if (key == im.listen_key) return;
  try {
    im.listen_key = key;
    ++stats_.listen_key_renewals;
    ENIGMA_LOG_WARN("live", "listen_key_renewed then=reconnect_user_stream");
    // The same client connects to the new key's URL; its connect runs in the io loop like the REST ones.
    stream_up_.store(false, std::memory_order_release);
    im.ws->reconnect_to(opt_.user_ws_url + "/" + key);
  } catch (const std::exception& e) {
    ENIGMA_LOG_ERROR("live", "user-data stream for the new listenKey: {}", e.what());
  }
}

void LiveGateway::rest_done(RestConnection& c) noexcept {
  Impl& im = *impl_;
  const TscClock& clk = TscClock::instance();
  // Never written on a connection that was open: the venue may have closed it while idle; once more on a
  // new one (a failed connect is not retried here).
  if (!c.ex.written && !c.ex.connect_failed && c.ex.attempt == 0) {
    (void)c.finish();
    c.ex.attempt = 1;
    rest_send(c);
    if (!c.ex.done) return;
  }
  if (c.ex.listen_key) {
    listen_key_done(c);
    return;
  }
  const OutboundRequest& rq = c.ex.rq;
  const bool written = c.ex.written;
  const std::uint64_t write_tsc = c.ex.write_tsc;
  const int status = c.finish();
  if (status == 0) im.conn_lost = true;
  im.limits = c.limits;
  venue_answered(status, c.limits.retry_after_s);
  if (written) {
    hist_write_.record(clk.ticks_to_ns(write_tsc - rq.enqueue_tsc));
    if (status != 0) hist_answer_.record(clk.ticks_to_ns(rdtsc() - write_tsc));
    tx_timestamping_.store(c.tx_stamps, std::memory_order_release);
    if (c.last_tx_ns != 0) {
      // Both kernel stamps are CLOCK_REALTIME; the enqueue TSC is converted with the start-up calibration.
      hist_kernel_tx_.record(c.last_tx_ns - clk.tsc_to_wall_ns(rq.enqueue_tsc));
      if (rq.cause_kernel_rx_ns != 0) hist_tick_to_wire_.record(c.last_tx_ns - rq.cause_kernel_rx_ns);
    }
    if (rq.kill_tsc != 0) {
      // The kill's requests: from the OMS taking the command to the kernel's tx stamp (the write without one).
      const bool kernel = c.last_tx_ns != 0;
      const std::int64_t after_ns =
          kernel ? c.last_tx_ns - clk.tsc_to_wall_ns(rq.kill_tsc) : clk.ticks_to_ns(write_tsc - rq.kill_tsc);
      hist_kill_to_wire_.record(after_ns);
      ENIGMA_LOG_INFO("live", "kill_request_on_wire kind={} orders={} after_ns={} stamp={} http={}",
                      LogLiteral{kind_name(rq.kind)}, rq.kind == RestRequest::cancel_batch ? rq.batch_count : 1,
                      after_ns, LogLiteral{kernel ? "kernel" : "user"}, status);
    }
  }
  if (rq.kind == RestRequest::cancel_batch) {
    batch_done(rq, written, status, c.body, c.last_error);
    (void)im.ws->poll_once();
    return;
  }
  GatewayReport gr;
  if (oms::is_instrument_request(rq.kind)) {
    // Cancel-all / dead-man timer: only a failure is news for the OMS (a report with no client id).
    oms::RestAnswer a;
    if (written) (void)im.decoder->decode_rest(rq.kind, status, c.body, rq.client_id, rq.instrument, a);
    if (written && !a.unknown && a.venue_code == 0) {
      ++stats_.answers;
      return;
    }
    if (!written) ++stats_.not_sent;
    ENIGMA_LOG_WARN("live", "{} for instrument {} failed: HTTP {} code {} {}",
                    rq.kind == RestRequest::cancel_all ? "cancel-all" : "dead-man timer", rq.instrument, status,
                    a.venue_code, written ? feed::quote_input(c.body, 200) : c.last_error);
    gr.report.instrument = rq.instrument;
    gr.report.kind = oms::ExecKind::status;
    gr.venue_code = a.venue_code;
    gr.unknown = true;
  } else if (!written) {
    // Never left: a new order is refused locally, a cancel leaves the order as it was, a query
    // stays unresolved.
    ++stats_.not_sent;
    gr = unsent_report(rq, oms::Reason::venue_error);
    ENIGMA_LOG_WARN("live", "request for {} not sent: {}", rq.client_id.view(), c.last_error);
  } else {
    oms::RestAnswer a;
    (void)im.decoder->decode_rest(rq.kind, status, c.body, rq.client_id, rq.instrument, a);
    ++stats_.answers;
    if (a.unknown) {
      ++stats_.unknown_outcomes;
      ENIGMA_LOG_WARN("live", "order {}: outcome unknown (HTTP {}{}{})", rq.client_id.view(), status,
                      status == 0 ? ", " : "", status == 0 ? c.last_error : std::string());
    } else if (a.venue_code != 0) {
      ENIGMA_LOG_WARN("live", "order {}: venue refused with code {} (HTTP {}): {}", rq.client_id.view(),
                      a.venue_code, status, feed::quote_input(c.body, 200));
    }
    gr = GatewayReport{a.report, a.venue_code, a.unknown, a.placed_order};
    // KuCoin names a stop order's lifecycle events by its order id only: learn it from the order's answer,
    // or from the query that resolved a lost one.
    if (im.decoder->names_orders_by_venue_id() && !a.unknown && a.venue_code == 0 && !a.report.venue_order_id.view().empty() &&
        (rq.kind == RestRequest::new_order || rq.kind == RestRequest::query) && im.client_of(a.report.venue_order_id) == nullptr)
      im.remember_venue_id(a.report.venue_order_id, rq.client_id);
  }
  // The OMS drains this ring every iteration; a full ring means it stopped polling.
  while (!reports_.try_push(gr)) {
    ++stats_.reports_dropped;
    if (stop_.load(std::memory_order_acquire)) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  (void)im.ws->poll_once();  // stream reports of this order are likely waiting already
}

void LiveGateway::io_loop() noexcept {
  Impl& im = *impl_;
  const bool spin = opt_.spin || opt_.transport != feed::Transport::asio;
  for (;;) {
    bool worked = im.ws->poll_once() > 0;
    if (im.ws_business) worked = im.ws_business->poll_once() > 0 || worked;
    if (im.wsapi) {
      worked = im.wsapi->poll_once() > 0 || worked;
      ws_api_fail_pending(true);
    }
    // The answers of the requests in flight, one per connection.
    for (auto& c : im.conns) {
      if (!c->ex.busy) continue;
      if (c->ex.awaiting_connect) {
        rest_connected(*c);
        if (c->ex.awaiting_connect) continue;
        worked = true;
      }
      try {
        c->progress();
      } catch (const std::exception& e) {  // allocation failure in Beast: the outcome is not known
        c->expire();
        c->last_error = e.what();
      }
      if (c->ex.done) {
        rest_done(*c);
        worked = true;
      }
    }
    // Held new orders first, in order: each takes the next free order connection.
    while (im.held_count != 0) {
      const OutboundRequest& rq = im.held_front();
      RestConnection* c = pick_connection(im, rq);
      if (c == nullptr) break;
      const Admission adm = admit(rq);
      if (adm == Admission::wait) break;
      worked = true;
      if (adm == Admission::send) {
        ++stats_.requests;
        c->ex.rq = rq;
        c->ex.attempt = 0;
      }
      im.pop_held();
      if (adm == Admission::send) {
        rest_send(*c);
        if (c->ex.done) rest_done(*c);  // it never left (no connection)
      }
    }
    while (const OutboundRequest* rq = requests_.front()) {
      const bool json = im.wsapi && rq->size > 0 && rq->bytes[0] == '{';  // WebSocket API JSON, not HTTP
      const bool new_order = rq->kind == RestRequest::new_order;
      // A new order keeps its place behind the held ones; a request that depends on a held order waits.
      if (!json && (new_order ? im.held_count != 0 : im.depends_on_held(*rq))) {
        if (!new_order || !im.hold(*rq)) break;
        requests_.pop_front();
        worked = true;
        continue;
      }
      RestConnection* c = json ? nullptr : pick_connection(im, *rq);
      if (!json && c == nullptr) {
        // Every order connection is busy: hold the new order so that what follows it need not wait.
        if (!new_order || !im.hold(*rq)) break;  // its connection is busy, or it must not overtake what is in flight
        requests_.pop_front();
        worked = true;
        continue;
      }
      // Every request passes the venue's budget first: a refused one is answered locally, a waiting one
      // (a cancel or query over the window's limit) keeps the ring's head until the window rolls.
      const Admission adm = admit(*rq);
      if (adm == Admission::wait) break;
      worked = true;
      if (adm == Admission::refused) {
        requests_.pop_front();
        continue;
      }
      // Allocations while a request goes on the wire, past the first few (they warm Asio's handler memory).
      const bool count_allocs = ++stats_.requests > kSendWarmupRequests;
      const std::uint64_t allocs_before = thread_allocations();
      if (json) {
        const OutboundRequest* out = rq;
        if (resign_ && TscClock::instance().ticks_to_ns(rdtsc() - rq->enqueue_tsc) > kResignAfterNs) {  // cold
          im.resigned = *rq;
          refresh_signature(im.resigned);
          out = &im.resigned;
        }
        ws_api_send(*out);
        if (count_allocs) stats_.send_allocations += thread_allocations() - allocs_before;
        requests_.pop_front();
        continue;
      }
      c->ex.rq = *rq;  // the connection's own copy: the ring slot is the OMS's again
      c->ex.attempt = 0;
      requests_.pop_front();
      rest_send(*c);
      if (count_allocs) stats_.send_allocations += thread_allocations() - allocs_before;
      if (c->ex.done) rest_done(*c);  // it never left (no connection)
    }
    bool in_flight = false;
    for (const auto& c : im.conns) in_flight = in_flight || c->ex.busy;
    if (stop_.load(std::memory_order_acquire) && (requests_.front() == nullptr || im.budget.banned()) &&
        im.held_count == 0 && im.pending_count == 0 && !in_flight)
      break;  // after a ban nothing queued could be sent before its end
    try {
      const std::int64_t now = monotonic_ns();
      if ((now >= im.next_keepalive_ns || im.renew_key) && !im.control().ex.busy) {
        const bool renew = im.renew_key;
        if (im.budget.try_take(oms::RequestPriority::other, {1, 0}, wall_ns()) != oms::BudgetVerdict::ok) {
          // Over the window or banned: the key lives 60 min and is extended every 30, so a later try is fine.
          im.next_keepalive_ns = now + opt_.connect_timeout_ns;
          throw Error(std::string("listenKey ") + (renew ? "POST" : "PUT") +
                      " held back by the venue's request budget");
        }
        im.renew_key = false;
        im.next_keepalive_ns = now + opt_.keepalive_interval_ns;
        // An exchange of the control connection like any request: the thread serves the others meanwhile.
        RestConnection& c = im.control();
        const std::string text = im.listen_key_text(opt_, renew ? "POST" : "PUT");
        c.ex.rq = OutboundRequest{};
        c.ex.rq.kind = RestRequest::query;  // no client id: nothing waits on it but the control connection
        c.ex.rq.enqueue_tsc = rdtsc();
        c.ex.rq.size = static_cast<std::uint16_t>(std::min(text.size(), OutboundRequest::kMaxBytes));
        std::memcpy(c.ex.rq.bytes, text.data(), c.ex.rq.size);
        c.ex.attempt = 0;
        c.ex.listen_key = true;
        c.ex.listen_key_renew = renew;
        rest_send(c);
        if (c.ex.done) rest_done(c);
      }
    } catch (const std::exception& e) {
      ENIGMA_LOG_ERROR("live", "listenKey keep-alive failed: {}", e.what());
    }
    if (!worked) {
      collect_ws_api_tx_stamps();  // idle: reading the error queue delays nothing
      if (spin) {
        cpu_relax();
      } else if (in_flight) {
        // asio: wait for an answer in the reactor (woken by it), at most the idle sleep.
        if (im.io.stopped()) im.io.restart();
        (void)im.io.run_one_for(std::chrono::nanoseconds(opt_.idle_sleep_ns));
      } else {
        std::this_thread::sleep_for(std::chrono::nanoseconds(opt_.idle_sleep_ns));
      }
    }
  }
}

namespace {

RestConnection* pick_connection(LiveGateway::Impl& im, const OutboundRequest& rq) {
  const bool instrument_wide = oms::is_instrument_request(rq.kind);
  for (const auto& c : im.conns) {
    if (!c->ex.busy) continue;
    const OutboundRequest& f = c->ex.rq;
    if (instrument_wide ? (f.kind == RestRequest::new_order && f.instrument == rq.instrument)
                        : (!oms::is_instrument_request(f.kind) &&
                           (f.concerns(rq.client_id) || rq.concerns(f.client_id))))
      return nullptr;
  }
  if (rq.kind != RestRequest::new_order) return im.conns[0]->ex.busy ? nullptr : im.conns[0].get();
  for (std::size_t i = 1; i < im.conns.size(); ++i)
    if (!im.conns[i]->ex.busy) return im.conns[i].get();
  return nullptr;
}

}  // namespace

}  // namespace enigma::engine
