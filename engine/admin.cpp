#include "engine/admin.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <boost/beast/websocket.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <list>
#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "core/logger.hpp"

namespace enigma::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kJson = "application/json";

// /ws channels; a client gets all of them unless it subscribes to some.
constexpr std::string_view kChannels[] = {"signals", "positions", "metrics", "logs"};
enum Channel : unsigned { ch_signals, ch_positions, ch_metrics, ch_logs, kChannelCount };
constexpr unsigned kAllChannels = (1u << kChannelCount) - 1;

constexpr std::size_t kLogRing = 200;          // recent log lines kept for /ws clients
constexpr std::size_t kLogLinesOnConnect = 50; // what a new client gets at once
constexpr std::size_t kLogLineMax = 2000;      // longer lines are cut (a log line is normally < 300 bytes)
constexpr std::size_t kWsQueueMax = 64;        // messages waiting for one slow client before it is dropped

// The path of a request target, without its query string.
std::string_view path_of(std::string_view target) noexcept {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

void json_str(std::string& o, std::string_view s);
void json_string(std::string& o, std::string_view s) { json_str(o, s); }

// Compares the SHA-256 digests of both with CRYPTO_memcmp: the time taken tells neither how much of a
// guessed token matched nor, since both digests are 32 bytes, how long the real token is.
bool same_secret(std::string_view a, std::string_view b) noexcept {
  unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
  unsigned int la = 0, lb = 0;
  if (EVP_Digest(a.data(), a.size(), da, &la, EVP_sha256(), nullptr) != 1) return false;
  if (EVP_Digest(b.data(), b.size(), db, &lb, EVP_sha256(), nullptr) != 1) return false;
  return la == lb && CRYPTO_memcmp(da, db, la) == 0;
}

struct Refusal {
  http::status status;
  std::string_view why;
};

// What a read error on a request is answered with; nothing for a timeout, a reset, a client that closed
// (between or during requests) or our own close(). Shared by the connections and answer_bytes().
std::optional<Refusal> refusal_for(beast::error_code ec) {
  const auto& http_category = http::make_error_code(http::error::end_of_stream).category();
  if (ec.category() != http_category || ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == http::error::need_more)
    return std::nullopt;
  if (ec == http::error::header_limit) return Refusal{http::status::request_header_fields_too_large, "request header too large"};
  if (ec == http::error::body_limit) return Refusal{http::status::payload_too_large, "request body too large"};
  return Refusal{http::status::bad_request, "malformed HTTP request"};
}

}  // namespace

struct AdminServer::Impl {
  struct Session;

  // Declared before the io_context: sessions still queued in it at destruction unlink themselves from here.
  std::list<Session*> lru;  // open connections, least recently active first
  struct WsSession;
  std::list<WsSession*> ws_clients;  // open /ws clients (same reason to come before the io_context)
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  std::string token;
  SpscRing<AdminCommand>& commands;
  AdminServerLimits limits;
  std::mutex snapshot_mutex;
  StatusSnapshot snapshot;
  std::mutex signals_mutex;
  SignalSnapshot signals;
  asio::steady_timer ws_timer{ioc};
  // The run's log, tailed by this thread: new complete lines land in `recent_logs` (bounded).
  std::string log_path;
  std::uint64_t log_offset{0}, log_inode{0};
  bool log_opened{false};
  std::string log_partial;             // an unfinished last line, completed by the next read
  std::deque<std::string> recent_logs; // at most kLogRing
  std::uint64_t log_next_seq{0};       // sequence number of the next line; the oldest is next - size
  std::uint64_t next_seq{1};
  std::array<char, 4096> drain_scratch{};  // bytes read only to be discarded (one thread: shared by all)
  std::thread thread;
  bool started{false};
  bool stopped{false};

  Impl(std::string t, SpscRing<AdminCommand>& c, AdminServerLimits l) : token(std::move(t)), commands(c), limits(l) {}

  StatusSnapshot read_snapshot() {
    std::lock_guard lock(snapshot_mutex);
    return snapshot;
  }

  SignalSnapshot read_signals() {
    std::lock_guard lock(signals_mutex);
    return signals;
  }

  // One WebSocket client of /ws. The server pushes what changed on each tick; the client may send
  // {"subscribe":[...]} to choose channels. Lives while a read or write handler holds it.
  struct WsSession : std::enable_shared_from_this<WsSession> {
    Impl& srv;
    websocket::stream<beast::tcp_stream> ws;
    http::request<http::string_body> upgrade;  // kept until the handshake completes
    beast::flat_buffer in;
    std::deque<std::string> out;
    bool writing{false};
    unsigned channels{kAllChannels};
    std::array<std::string, kChannelCount> sent;  // last payload sent per channel: only changes go out
    std::uint64_t log_seq{0};                     // log lines before this one were sent
    std::list<WsSession*>::iterator pos;
    bool linked{false};  // in srv.ws_clients from the handshake on: pending handshakes count against the cap
    bool open{false};    // handshake done: pushes may go out

    WsSession(Impl& s, beast::tcp_stream stream, http::request<http::string_body> req)
        : srv(s), ws(std::move(stream)), upgrade(std::move(req)) {}
    ~WsSession() { unlink(); }

    void unlink() noexcept {
      if (!linked) return;
      srv.ws_clients.erase(pos);
      linked = false;
    }

    void close() noexcept {
      unlink();
      beast::error_code ec;
      beast::get_lowest_layer(ws).socket().close(ec);
    }

    void accept() {
      auto t = websocket::stream_base::timeout::suggested(beast::role_type::server);
      t.handshake_timeout = srv.limits.request_timeout;
      t.idle_timeout = std::chrono::seconds(30);  // a silent peer is pinged, then dropped
      t.keep_alive_pings = true;
      ws.set_option(t);
      ws.read_message_max(srv.limits.body_limit);
      ws.set_option(websocket::stream_base::decorator(
          [](websocket::response_type& r) { r.set(http::field::server, "enigma-admin"); }));
      pos = srv.ws_clients.insert(srv.ws_clients.end(), this);
      linked = true;
      ws.async_accept(upgrade, [self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->close();
        self->upgrade = {};
        self->open = true;
        self->srv.read_log();
        const std::uint64_t backlog = std::min<std::uint64_t>(self->srv.recent_logs.size(), kLogLinesOnConnect);
        self->log_seq = self->srv.log_next_seq - backlog;
        self->read();
        self->srv.push(*self);  // the page fills at once, not at the next tick
      });
    }

    void read() {
      ws.async_read(in, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->on_message(beast::buffers_to_string(self->in.data()));
        self->in.consume(self->in.size());
        self->read();
      });
    }

    // {"subscribe":["metrics","logs"]}: those channels only (names not known are ignored), sent afresh.
    void on_message(const std::string& text) {
      if (text.find("\"subscribe\"") == std::string::npos) return;
      unsigned mask = 0;
      std::string ack = "{\"subscribed\":[";
      for (unsigned c = 0; c < kChannelCount; ++c) {
        if (text.find("\"" + std::string(kChannels[c]) + "\"") == std::string::npos) continue;
        if (mask != 0) ack += ',';
        mask |= 1u << c;
        ack += '"';
        ack += kChannels[c];
        ack += '"';
      }
      channels = mask;
      for (auto& p : sent) p.clear();
      send(ack + "]}");
      srv.push(*this);
    }

    void send(std::string msg) {
      if (out.size() >= kWsQueueMax) return close();  // not reading: it would only fall further behind
      out.push_back(std::move(msg));
      if (!writing) write();
    }

    void write() {
      writing = true;
      ws.text(true);
      ws.async_write(asio::buffer(out.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->writing = false;
        if (ec) return self->close();
        self->out.pop_front();
        if (!self->out.empty()) self->write();
      });
    }
  };

  // What the /ws channels carry now; built once per tick for every client.
  struct WsPayloads {
    std::array<std::string, kChannelCount> data;
  };

  WsPayloads payloads() {
    WsPayloads p;
    const StatusSnapshot snap = read_snapshot();
    p.data[ch_metrics] = status_json(snap);
    p.data[ch_positions] = positions_json(snap);
    p.data[ch_signals] = signals_json(read_signals());
    return p;
  }

  static std::string envelope(std::string_view channel, std::string_view data) {
    std::string m = "{\"channel\":\"";
    m += channel;
    m += "\",\"data\":";
    m += data;
    m += '}';
    return m;
  }

  void push(WsSession& c, const WsPayloads& p) {
    if (!c.open) return;
    for (unsigned ch = 0; ch < kChannelCount && c.linked; ++ch) {
      if ((c.channels & (1u << ch)) == 0) continue;
      if (ch == ch_logs) {
        const std::uint64_t oldest = log_next_seq - recent_logs.size();
        if (c.log_seq < oldest) c.log_seq = oldest;  // it missed lines the ring no longer holds
        if (c.log_seq == log_next_seq) continue;
        std::string lines = "[";
        for (std::uint64_t i = c.log_seq; i < log_next_seq; ++i) {
          if (i != c.log_seq) lines += ',';
          json_string(lines, recent_logs[static_cast<std::size_t>(i - oldest)]);
        }
        lines += ']';
        c.log_seq = log_next_seq;
        c.send(envelope(kChannels[ch], lines));
        continue;
      }
      if (p.data[ch] == c.sent[ch]) continue;
      c.sent[ch] = p.data[ch];
      c.send(envelope(kChannels[ch], p.data[ch]));
    }
  }

  void push(WsSession& c) { push(c, payloads()); }

  void tick() {
    ws_timer.expires_after(limits.ws_push_interval);
    ws_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      if (!ws_clients.empty()) {
        read_log();
        const WsPayloads p = payloads();
        // push() may close a client (slow), which unlinks it: walk a copy.
        std::vector<std::shared_ptr<WsSession>> clients;
        for (WsSession* c : ws_clients) clients.push_back(c->shared_from_this());
        for (const auto& c : clients) push(*c, p);
      }
      tick();
    });
  }

  // Reads what the log file gained since the last call (at most 64 KiB), starting near its end the first
  // time; a rotated file (another inode, or shorter than what was read) is read from its start.
  void read_log() {
    if (log_path.empty()) return;
    const int fd = ::open(log_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    constexpr std::uint64_t kChunk = 64 * 1024;
    bool skip_first = false;
    if (!log_opened) {
      log_opened = true;
      log_offset = size > kChunk ? size - kChunk : 0;
      skip_first = log_offset != 0;  // starts mid-line
    } else if (static_cast<std::uint64_t>(st.st_ino) != log_inode || size < log_offset) {
      log_offset = 0;
      log_partial.clear();
    }
    log_inode = static_cast<std::uint64_t>(st.st_ino);
    std::string buf(static_cast<std::size_t>(std::min(size - std::min(size, log_offset), kChunk)), '\0');
    const ssize_t n = buf.empty() ? 0 : ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(log_offset));
    ::close(fd);
    if (n <= 0) return;
    buf.resize(static_cast<std::size_t>(n));
    log_offset += static_cast<std::uint64_t>(n);
    std::size_t start = 0;
    if (skip_first) {
      const auto nl = buf.find('\n');
      if (nl == std::string::npos) return;
      start = nl + 1;
    }
    for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      log_partial.append(buf, start, nl - start);
      if (log_partial.size() > kLogLineMax) log_partial.resize(kLogLineMax);
      recent_logs.push_back(std::move(log_partial));
      log_partial.clear();
      ++log_next_seq;
      if (recent_logs.size() > kLogRing) recent_logs.pop_front();
    }
    log_partial.append(buf, start, std::string::npos);
    if (log_partial.size() > kLogLineMax) log_partial.resize(kLogLineMax);
  }

  // One HTTP connection. Its handlers keep it alive (shared_ptr); the server reaches it through `lru`.
  struct Session : std::enable_shared_from_this<Session> {
    Impl& srv;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> response;
    std::list<Session*>::iterator lru_pos;
    bool linked{false};

    Session(Impl& s, tcp::socket sock) : srv(s), stream(std::move(sock)) {}
    ~Session() { unlink(); }

    void unlink() noexcept {
      if (!linked) return;
      srv.lru.erase(lru_pos);
      linked = false;
    }

    void join() {
      lru_pos = srv.lru.insert(srv.lru.end(), this);
      linked = true;
    }

    // Marks the connection most recently active, so eviction picks the others first.
    void touch() noexcept {
      if (linked) srv.lru.splice(srv.lru.end(), srv.lru, lru_pos);
    }

    // Closing cancels the pending read or write and the deadline timer; the handler then runs with an error
    // and drops the session.
    void close() noexcept {
      unlink();
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream.close();
    }

    void read_request() {
      parser.emplace();
      parser->header_limit(srv.limits.header_limit);
      parser->body_limit(srv.limits.body_limit);
      // One deadline for the whole request: a client trickling a byte a second cannot extend it.
      stream.expires_after(srv.limits.request_timeout);
      http::async_read(stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
      if (ec) {
        const std::optional<Refusal> refusal = refusal_for(ec);
        if (!refusal) return close();
        return refuse(refusal->status, refusal->why);
      }
      touch();
      if (websocket::is_upgrade(parser->get())) return upgrade();
      response = srv.handle(parser->get());
      write_response();
    }

    // GET /ws with an Upgrade header: the socket moves to a WebSocket session and this one ends.
    void upgrade() {
      const auto& req = parser->get();
      const std::string_view path = path_of(std::string_view(req.target().data(), req.target().size()));
      if (path != "/ws") {
        response = srv.reply(http::status::not_found, req.version(), false, "{\"error\":\"WebSocket is at /ws\"}");
        return write_response();
      }
      // A browser names the page that opens the socket: only our own page may read the live feed (another
      // site open in the operator's browser could otherwise follow positions and logs). Non-browser
      // clients send no Origin.
      const auto origin = req[http::field::origin];
      const auto host = req[http::field::host];
      if (!origin.empty() && origin != "http://" + std::string(host) && origin != "https://" + std::string(host)) {
        response = srv.reply(http::status::forbidden, req.version(), false, "{\"error\":\"WebSocket from another origin\"}");
        return write_response();
      }
      if (srv.ws_clients.size() >= srv.limits.max_ws_clients) {
        response = srv.reply(http::status::service_unavailable, req.version(), false, "{\"error\":\"too many WebSocket clients\"}");
        return write_response();
      }
      unlink();
      stream.expires_never();  // the WebSocket stream keeps its own timeouts
      std::make_shared<WsSession>(srv, std::move(stream), parser->release())->accept();
    }

    void write_response() {
      stream.expires_after(srv.limits.request_timeout);
      http::async_write(stream, response, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->touch();
        if (self->response.need_eof()) return self->finish();
        self->read_request();
      });
    }

    // Answers a request that cannot be parsed, then closes.
    void refuse(http::status status, std::string_view why) {
      response = srv.reply(status, 11, false, std::string("{\"error\":\"") + std::string(why) + "\"}");
      write_response();
    }

    // Graceful close: send FIN, then read and discard what the client is still sending (until it closes or the
    // deadline passes). Closing with unread bytes would send a reset that can destroy our answer in flight.
    void finish() {
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return close();
      stream.expires_after(srv.limits.request_timeout);
      drain();
    }

    void drain() {
      stream.async_read_some(asio::buffer(srv.drain_scratch), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->drain();
      });
    }
  };

  http::response<http::string_body> reply(http::status status, unsigned version, bool keep_alive, std::string body,
                                          std::string_view type = kJson) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::server, "enigma-admin");
    res.set(http::field::content_type, type);
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  http::response<http::string_body> handle(const http::request<http::string_body>& req) {
    const unsigned v = req.version();
    const bool ka = req.keep_alive();
    const std::string_view target = path_of(std::string_view(req.target().data(), req.target().size()));
    if (req.method() == http::verb::get) {
      if (target == "/status" || target == "/api/status") {
        // Whether POST commands can work at all: an endpoint started without a token refuses every one.
        std::string body = status_json(read_snapshot());
        body.insert(1, token.empty() ? "\"admin_commands\":\"disabled: no token\"," : "\"admin_commands\":\"enabled\",");
        return reply(http::status::ok, v, ka, std::move(body));
      }
      if (target == "/positions" || target == "/api/positions") return reply(http::status::ok, v, ka, positions_json(read_snapshot()));
      if (target == "/signals" || target == "/api/signals") return reply(http::status::ok, v, ka, signals_json(read_signals()));
      if (target == "/metrics" || target == "/api/metrics")
        return reply(http::status::ok, v, ka, metrics_text(read_snapshot()), "text/plain; version=0.0.4; charset=utf-8");
      if (target == "/" || target == "/index.html") {
        auto res = reply(http::status::ok, v, ka, std::string(dashboard_html()), "text/html; charset=utf-8");
        res.set(http::field::cache_control, "no-store");
        return res;
      }
      return reply(http::status::not_found, v, ka, "{\"error\":\"unknown path\"}");
    }
    if (req.method() != http::verb::post) {
      auto res = reply(http::status::method_not_allowed, v, ka, "{\"error\":\"use GET or POST\"}");
      res.set(http::field::allow, "GET, POST");
      return res;
    }
    AdminCommandKind kind;
    if (target == "/kill" || target == "/api/kill") kind = AdminCommandKind::kill;
    else if (target == "/kill/reset" || target == "/api/kill/reset") kind = AdminCommandKind::kill_reset;
    else if (target == "/trading/start" || target == "/api/trade/start") kind = AdminCommandKind::trading_start;
    else if (target == "/trading/stop" || target == "/api/trade/stop") kind = AdminCommandKind::trading_stop;
    else if (target == "/emergency" || target == "/api/emergency") kind = AdminCommandKind::emergency;
    else return reply(http::status::not_found, v, ka, "{\"error\":\"unknown path\"}");
    // The token is never echoed or logged.
    const auto auth = req[http::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    if (token.empty()) {
      auto res = reply(http::status::forbidden, v, ka,
                       "{\"error\":\"admin commands are disabled: the engine was started without a token\"}");
      return res;
    }
    const bool authorized = auth.starts_with(kBearer) &&
                            same_secret(std::string_view(auth.data(), auth.size()).substr(kBearer.size()), token);
    if (!authorized) {
      auto res = reply(http::status::unauthorized, v, ka, "{\"error\":\"missing or wrong bearer token\"}");
      res.set(http::field::www_authenticate, "Bearer");
      return res;
    }
    const AdminCommand cmd{kind, next_seq++};
    if (!commands.try_push(cmd)) return reply(http::status::service_unavailable, v, ka, "{\"error\":\"command queue full\"}");
    return reply(http::status::accepted, v, ka, "{\"accepted\":true,\"command_seq\":" + std::to_string(cmd.seq) + "}");
  }

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of file descriptors and the like: retry shortly instead of spinning on the error.
        ENIGMA_LOG_WARN("admin", "accept failed: {}", ec.message());
        accept_retry.expires_after(std::chrono::milliseconds(50));
        accept_retry.async_wait([this](beast::error_code e) {
          if (!e) accept();
        });
        return;
      }
      // Over the cap, the least recently active connection makes room: an operator's POST /kill always gets in,
      // however many idle connections are held open.
      while (lru.size() >= limits.max_connections) lru.front()->close();
      auto session = std::make_shared<Session>(*this, std::move(sock));
      session->join();
      session->read_request();
      accept();
    });
  }

  // After the io thread has ended (or never ran): closes the listener and every connection.
  void close_all() noexcept {
    beast::error_code ec;
    acceptor.close(ec);
    accept_retry.cancel();
    ws_timer.cancel();
    while (!lru.empty()) lru.front()->close();
    while (!ws_clients.empty()) ws_clients.front()->close();
  }
};

AdminServer::AdminServer(std::string address, std::uint16_t port, std::string token, SpscRing<AdminCommand>& commands,
                         bool allow_non_loopback, AdminServerLimits limits)
    : impl_(std::make_unique<Impl>(std::move(token), commands, limits)) {
  if (limits.request_timeout.count() <= 0 || limits.max_connections == 0 || limits.header_limit == 0 || limits.listen_backlog <= 0 ||
      limits.ws_push_interval.count() <= 0)
    throw Error("admin endpoint: request_timeout, max_connections, header_limit, listen_backlog and ws_push_interval must be positive");
  beast::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) throw Error("admin endpoint: bad address '" + address + "'");
  if (!addr.is_loopback() && !allow_non_loopback)
    throw Error("admin endpoint: refusing to bind non-loopback address '" + address + "' (set [admin] allow_remote = true and a token to allow it)");
  if (!addr.is_loopback() && impl_->token.empty())
    throw Error("admin endpoint: a non-loopback address ('" + address + "') needs a token: other hosts must authenticate");
  tcp::endpoint ep(addr, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(limits.listen_backlog, ec);
  if (ec) throw Error("admin endpoint: cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  impl_->accept();
  impl_->tick();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

void AdminServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  // run() returns after the handler in progress (each is short: no handler waits on a client), so this join
  // is bounded however many clients are connected. The sockets are closed here, after the thread is gone.
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->close_all();
}

std::vector<int> AdminServer::answer_bytes(std::string_view bytes) {
  std::vector<int> statuses;
  for (bool keep_alive = true; keep_alive && !bytes.empty();) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(impl_->limits.header_limit);
    parser.body_limit(impl_->limits.body_limit);
    parser.eager(true);
    beast::error_code ec;
    while (!parser.is_done() && !ec) {
      const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      // need_more: the parser wants bytes past the end of the input, so the request is truncated. (Calling
      // put again without new bytes breaks Beast's contract: it asserts, e.g. inside a final chunk.)
      if (!ec && used == 0 && !parser.is_done()) ec = http::error::need_more;  // no progress: truncated
    }
    if (ec) {
      // A truncated request is what a client that closed mid-request leaves: no answer, as on a socket.
      if (const std::optional<Refusal> refusal = refusal_for(ec)) statuses.push_back(static_cast<int>(refusal->status));
      break;
    }
    const auto response = impl_->handle(parser.get());
    statuses.push_back(static_cast<int>(response.result()));
    keep_alive = !response.need_eof();
  }
  return statuses;
}

std::uint16_t AdminServer::port() const noexcept {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

bool AdminServer::try_publish(const StatusSnapshot& s) noexcept {
  std::unique_lock lock(impl_->snapshot_mutex, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  impl_->snapshot = s;
  return true;
}

bool AdminServer::try_publish_signals(const SignalSnapshot& s) noexcept {
  std::unique_lock lock(impl_->signals_mutex, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  impl_->signals = s;
  return true;
}

void AdminServer::set_log_path(std::string path) { impl_->log_path = std::move(path); }

// ---------------------------------------------------------------------------------------------------------
// Rendering. Text fields come from fixed char arrays; they are read up to their NUL (or their end) and
// escaped for the target format, so a stray quote or newline in a symbol cannot break the document.

namespace {

template <std::size_t N>
std::string_view field(const char (&a)[N]) noexcept {
  return {a, ::strnlen(a, N)};
}

// Printable ASCII passes; other bytes become '?' (names are ASCII; this keeps the output valid UTF-8).
char printable(char c) noexcept { return (c >= 0x20 && c < 0x7f) ? c : '?'; }

void json_str(std::string& o, std::string_view s) {
  o += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (c == '\n') {
      o += "\\n";
    } else if (c == '\t') {
      o += "\\t";
    } else {
      o += printable(c);
    }
  }
  o += '"';
}

// Prometheus label values escape backslash, double quote and newline.
void label(std::string& o, std::string_view s) {
  o += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (c == '\n') {
      o += "\\n";
    } else {
      o += printable(c);
    }
  }
  o += '"';
}

void append_double(std::string& o, double v) {
  char b[32];
  const auto r = std::to_chars(b, b + sizeof b, v);  // shortest text that reads back as the same double
  o.append(b, r.ptr);
}

// JSON has no NaN or infinity: those become null.
void json_num(std::string& o, double v) {
  if (!std::isfinite(v)) o += "null";
  else append_double(o, v);
}

void prom_num(std::string& o, double v) {
  if (std::isnan(v)) o += "NaN";
  else if (std::isinf(v)) o += v > 0 ? "+Inf" : "-Inf";
  else append_double(o, v);
}

template <typename Int>
void append_int(std::string& o, Int v) {
  char b[24];
  const auto r = std::to_chars(b, b + sizeof b, v);
  o.append(b, r.ptr);
}

const char* boolean(bool b) noexcept { return b ? "true" : "false"; }

std::uint32_t clamp_count(std::uint32_t n, std::size_t cap) noexcept { return static_cast<std::uint32_t>(std::min<std::size_t>(n, cap)); }

// Builds one metric family at a time: HELP and TYPE, then its samples.
struct Metrics {
  std::string out;

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP enigma_";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE enigma_";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  }
  // A sample: `enigma_<name>{<labels>} <value>`; labels are pairs of (name, unescaped value).
  template <typename V>
  void sample(std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> labels, V v) {
    out += "enigma_";
    out += name;
    if (labels.size() != 0) {
      out += '{';
      bool first = true;
      for (const auto& [k, val] : labels) {
        if (!first) out += ',';
        first = false;
        out += k;
        out += '=';
        label(out, val);
      }
      out += '}';
    }
    out += ' ';
    if constexpr (std::is_floating_point_v<V>) prom_num(out, v);
    else append_int(out, v);
    out += '\n';
  }
  void counter(std::string_view name, std::string_view help, std::uint64_t v) {
    family(name, "counter", help);
    sample(name, {}, v);
  }
  void gauge(std::string_view name, std::string_view help, double v) {
    family(name, "gauge", help);
    sample(name, {}, v);
  }
};

double ns_to_seconds(std::int64_t ns) noexcept { return static_cast<double>(ns) / 1e9; }

constexpr std::string_view kLifecycleStates[] = {"initializing", "ready", "trading", "paused", "emergency_stop", "shutdown"};
constexpr std::string_view kTradingStates[] = {"active", "reducing", "halted"};

// A state set: one sample per known state, 1 for the current one; a current state outside the list is added.
template <std::size_t N>
void state_set(Metrics& m, std::string_view name, std::string_view help, const std::string_view (&known)[N], std::string_view current) {
  m.family(name, "gauge", help);
  bool listed = false;
  for (const auto st : known) {
    listed |= st == current;
    m.sample(name, {{"state", st}}, st == current ? 1 : 0);
  }
  if (!listed && !current.empty()) m.sample(name, {{"state", current}}, 1);
}

}  // namespace

std::string AdminServer::status_json(const StatusSnapshot& s) {
  std::string o;
  o.reserve(2048);
  o += "{\"mode\":";
  json_str(o, field(s.mode));
  o += ",\"rollout_stage\":";
  json_str(o, field(s.rollout_stage));
  o += ",\"running\":";
  o += boolean(s.running);
  o += ",\"lifecycle\":";
  json_str(o, field(s.lifecycle));
  o += ",\"trading_state\":";
  json_str(o, field(s.trading_state));
  o += ",\"kill_switch\":";
  o += boolean(s.kill_latched);
  o += ",\"emergency\":{\"stops\":";
  append_int(o, s.emergency_stops);
  o += ",\"cause\":";
  json_str(o, field(s.emergency_cause));
  o += "},\"counters\":{";
  const std::pair<const char*, std::uint64_t> counters[] = {
      {"frames", s.frames},   {"events", s.events},   {"book_updates", s.book_updates}, {"signals", s.signals},
      {"orders", s.orders},   {"fills", s.fills},     {"rejects", s.rejects},           {"cancels", s.cancels},
      {"dropped", s.dropped}, {"risk_rejects", s.risk_rejects}, {"venue_rejects", s.venue_rejects}};
  bool first = true;
  for (const auto& [name, v] : counters) {
    if (!first) o += ',';
    first = false;
    o += '"';
    o += name;
    o += "\":";
    append_int(o, v);
  }
  o += "},\"reject_reasons\":{";
  for (std::uint32_t i = 0; i < clamp_count(s.nreject_reasons, s.reject_reasons.size()); ++i) {
    if (i) o += ',';
    json_str(o, field(s.reject_reasons[i].name));
    o += ':';
    append_int(o, s.reject_reasons[i].count);
  }
  o += "},\"pnl\":{";
  const std::pair<const char*, double> pnl[] = {{"realized", s.realized_pnl}, {"unrealized", s.unrealized_pnl},
                                                {"fees", s.fees},             {"funding", s.funding},
                                                {"equity", s.equity},         {"drawdown", s.drawdown},
                                                {"max_drawdown", s.max_drawdown}};
  first = true;
  for (const auto& [name, v] : pnl) {
    if (!first) o += ',';
    first = false;
    o += '"';
    o += name;
    o += "\":";
    json_num(o, v);
  }
  o += "},\"feed\":{\"connected\":";
  o += boolean(s.feed_connected);
  o += ",\"last_frame_age_ms\":";
  if (s.last_frame_age_ms < 0) o += "null";  // no frame yet
  else append_int(o, s.last_frame_age_ms);
  o += ",\"reconnects\":";
  append_int(o, s.reconnects);
  o += ",\"gaps\":";
  append_int(o, s.gaps);
  o += ",\"resyncs\":";
  append_int(o, s.resyncs);
  o += "},\"published_at_ns\":";
  append_int(o, s.published_at_ns);
  o += ",\"latency_ns\":{";
  for (std::uint32_t i = 0; i < clamp_count(s.nstages, s.stages.size()); ++i) {
    const auto& st = s.stages[i];
    if (i) o += ',';
    json_str(o, field(st.name));
    o += ":{\"count\":";
    append_int(o, st.count);
    o += ",\"p50\":";
    append_int(o, st.p50_ns);
    o += ",\"p99\":";
    append_int(o, st.p99_ns);
    o += ",\"p99.9\":";
    append_int(o, st.p999_ns);
    o += ",\"max\":";
    append_int(o, st.max_ns);
    o += '}';
  }
  o += "}}";
  return o;
}

std::string AdminServer::signals_json(const SignalSnapshot& s) {
  std::string o = "{\"published_at_ns\":";
  append_int(o, s.published_at_ns);
  o += ",\"signals\":[";
  for (std::uint32_t i = 0; i < clamp_count(s.nsignals, s.signals.size()); ++i) {
    const auto& g = s.signals[i];
    if (i) o += ',';
    o += "{\"instrument\":";
    json_str(o, field(g.instrument));
    o += ",\"column\":";
    json_str(o, field(g.column));
    o += ",\"score\":";
    json_num(o, g.score);
    o += ",\"norm\":";
    json_num(o, g.norm);
    o += ",\"ready\":";
    o += boolean(g.ready);
    if (g.alignment[0] != '\0') {
      o += ",\"alignment\":";
      json_str(o, field(g.alignment));
    }
    o += '}';
  }
  o += "]}";
  return o;
}

std::string AdminServer::positions_json(const StatusSnapshot& s) {
  std::string o = "{\"positions\":[";
  for (std::uint32_t i = 0; i < clamp_count(s.npositions, s.positions.size()); ++i) {
    const auto& p = s.positions[i];
    if (i) o += ',';
    o += "{\"symbol\":";
    json_str(o, field(p.symbol));
    o += ",\"qty\":";
    json_num(o, p.qty);
    o += ",\"avg_price\":";
    json_num(o, p.avg_price);
    o += ",\"unrealized_pnl\":";
    json_num(o, p.unrealized);
    o += '}';
  }
  o += "]}";
  return o;
}

std::string AdminServer::metrics_text(const StatusSnapshot& s) {
  Metrics m;
  m.out.reserve(8192);
  m.counter("frames_total", "Market-data frames processed.", s.frames);
  m.counter("events_total", "Normalized events decoded.", s.events);
  m.counter("book_updates_total", "Published book updates.", s.book_updates);
  m.counter("signals_total", "Order intents emitted by strategies.", s.signals);
  m.counter("orders_total", "Orders sent.", s.orders);
  m.counter("fills_total", "Fills received.", s.fills);
  m.counter("rejects_total", "Orders rejected by the risk gate or the venue.", s.rejects);
  m.counter("cancels_total", "Cancel requests sent.", s.cancels);
  m.counter("dropped_total", "Items dropped anywhere (must stay 0).", s.dropped);
  m.counter("venue_rejects_total", "Orders rejected by the venue.", s.venue_rejects);
  // Per reason; rejects the engine counted without a reason are reported as reason="unclassified", so the
  // family always sums to the risk gate's total.
  m.family("risk_rejects_total", "counter", "Orders rejected by the risk gate, by reason.");
  std::uint64_t classified = 0;
  for (std::uint32_t i = 0; i < clamp_count(s.nreject_reasons, s.reject_reasons.size()); ++i) {
    m.sample("risk_rejects_total", {{"reason", field(s.reject_reasons[i].name)}}, s.reject_reasons[i].count);
    classified += s.reject_reasons[i].count;
  }
  if (s.risk_rejects > classified) m.sample("risk_rejects_total", {{"reason", "unclassified"}}, s.risk_rejects - classified);
  m.counter("emergency_stops_total", "Emergency stop sequences run.", s.emergency_stops);
  m.family("emergency_cause_info", "gauge", "Cause of the last emergency stop (present only after one ran).");
  if (s.emergency_cause[0] != '\0') m.sample("emergency_cause_info", {{"cause", field(s.emergency_cause)}}, 1);
  m.family("mode_info", "gauge", "Run mode (replay, paper or live).");
  m.sample("mode_info", {{"mode", field(s.mode)}}, 1);
  state_set(m, "lifecycle_state", "Engine lifecycle state: 1 for the current one.", kLifecycleStates, field(s.lifecycle));
  state_set(m, "trading_state", "Risk trading state: 1 for the current one.", kTradingStates, field(s.trading_state));
  m.gauge("running", "1 while the engine runs.", s.running ? 1 : 0);
  m.gauge("kill_switch", "1 when the kill switch is latched.", s.kill_latched ? 1 : 0);
  m.gauge("realized_pnl", "Realized P&L net of fees and funding (quote currency).", s.realized_pnl);
  m.gauge("unrealized_pnl", "Unrealized P&L of open positions (quote currency).", s.unrealized_pnl);
  m.gauge("fees", "Fees paid (quote currency).", s.fees);
  m.gauge("funding", "Funding paid or received (quote currency).", s.funding);
  m.gauge("equity", "Equity (quote currency).", s.equity);
  m.gauge("drawdown", "Current drawdown from peak equity (quote currency).", s.drawdown);
  m.gauge("max_drawdown", "Largest drawdown from peak equity so far (quote currency).", s.max_drawdown);
  m.gauge("feed_connected", "1 while the market-data feed is connected.", s.feed_connected ? 1 : 0);
  m.family("feed_last_frame_age_seconds", "gauge", "Time since the last market-data frame (absent before the first).");
  if (s.last_frame_age_ms >= 0) m.sample("feed_last_frame_age_seconds", {}, static_cast<double>(s.last_frame_age_ms) / 1e3);
  m.counter("feed_reconnects_total", "Feed reconnections.", s.reconnects);
  m.counter("feed_gaps_total", "Sequence gaps detected in the feed.", s.gaps);
  m.counter("feed_resyncs_total", "Order book resynchronizations.", s.resyncs);
  // One name per quantity whatever the venue; the help says which of its windows and headers feeds it.
  m.gauge("venue_used_weight", "Request weight the venue counted in its window (its last answer; live): Binance's IP weight per minute (X-MBX-USED-WEIGHT-1M), KuCoin's pool per 30 s (gw-ratelimit-limit - gw-ratelimit-remaining).",
          static_cast<double>(s.venue_used_weight));
  m.gauge("venue_order_count_short", "Orders the venue counted in its short window (its last answer; live): Binance 10 s (X-MBX-ORDER-COUNT-10S), Bybit the endpoint's 1 s (X-Bapi-Limit - X-Bapi-Limit-Status).", static_cast<double>(s.venue_order_count_short));
  m.gauge("venue_order_count_long", "Orders the venue counted in its long window (its last answer; live): Binance 1 min (X-MBX-ORDER-COUNT-1M).", static_cast<double>(s.venue_order_count_long));
  m.counter("venue_http_429_total", "Venue answers HTTP 429, or Bybit's retCode 10006 (too many requests: new orders back off for Retry-After / the reset time).", s.venue_http_429);
  m.counter("venue_http_418_total", "Venue answers HTTP 418 (IP banned: new orders stop, emergency stop).", s.venue_http_418);
  m.counter("venue_rate_refusals_total", "Requests refused locally by the venue budget, a 429 back-off or a ban.", s.venue_rate_refusals);
  m.gauge("snapshot_timestamp_seconds", "Wall-clock time when these values were taken (Unix seconds).", ns_to_seconds(s.published_at_ns));
  const std::uint32_t npos = clamp_count(s.npositions, s.positions.size());
  m.gauge("positions", "Open positions.", npos);
  m.family("position_qty", "gauge", "Signed position size (base units).");
  for (std::uint32_t i = 0; i < npos; ++i) m.sample("position_qty", {{"symbol", field(s.positions[i].symbol)}}, s.positions[i].qty);
  m.family("position_avg_price", "gauge", "Average entry price of the position.");
  for (std::uint32_t i = 0; i < npos; ++i) m.sample("position_avg_price", {{"symbol", field(s.positions[i].symbol)}}, s.positions[i].avg_price);
  m.family("position_unrealized_pnl", "gauge", "Unrealized P&L of the position (quote currency).");
  for (std::uint32_t i = 0; i < npos; ++i) m.sample("position_unrealized_pnl", {{"symbol", field(s.positions[i].symbol)}}, s.positions[i].unrealized);
  // A summary per stage (quantiles from the stage's latency histogram); seconds, the Prometheus base unit.
  const std::uint32_t nst = clamp_count(s.nstages, s.stages.size());
  m.family("stage_latency_seconds", "summary", "Pipeline stage latency quantiles.");
  for (std::uint32_t i = 0; i < nst; ++i) {
    const auto& st = s.stages[i];
    const std::string_view name = field(st.name);
    m.sample("stage_latency_seconds", {{"stage", name}, {"quantile", "0.5"}}, ns_to_seconds(st.p50_ns));
    m.sample("stage_latency_seconds", {{"stage", name}, {"quantile", "0.99"}}, ns_to_seconds(st.p99_ns));
    m.sample("stage_latency_seconds", {{"stage", name}, {"quantile", "0.999"}}, ns_to_seconds(st.p999_ns));
    m.sample("stage_latency_seconds_count", {{"stage", name}}, st.count);
  }
  m.family("stage_latency_max_seconds", "gauge", "Largest pipeline stage latency seen.");
  for (std::uint32_t i = 0; i < nst; ++i) m.sample("stage_latency_max_seconds", {{"stage", field(s.stages[i].name)}}, ns_to_seconds(s.stages[i].max_ns));
  return std::move(m.out);
}

}  // namespace enigma::engine
