// The transport every local TLS test venue shares (fake_binance.hpp, fake_bybit.hpp, fake_kucoin_futures.hpp,
// fake_okx.hpp), so a venue file holds only what its venue documents: Beast, TLS with a self-signed certificate
// made at start (make_self_signed_cert(), its PEM written to a CA file a client trusts), 127.0.0.1 on a port
// of the system's choosing, one io thread, stopped and joined by the venue's destructor. Header-only.
//
// Each connection reads HTTP requests; a REST request goes to the venue, which answers it, keeps it silent
// (never answered, the connection stays open) or delays its answer; a WebSocket upgrade is accepted on the
// paths the venue takes (else 404), and the venue's answers to each text frame are queued behind the pushes.
//
// A venue derives from TlsTestVenue<Venue, Connection> (Connection: what it keeps per connection, guarded by
// mu_ like the rest of its state), befriends it, calls start_serving() at the end of its constructor and
// stop_serving() first in its destructor, and has these hooks, called on the io thread:
//   Response serve(const Request&, bool& silent, int& delay_ms)   a REST request's answer (the venue takes mu_)
// and, with mu_ held:
//   bool on_upgrade(Session&, const std::string& target)          whether a WebSocket upgrade is accepted
//   std::vector<std::string> on_ws_open(Session&[, bool& close_after])
//                                       the frames a new WebSocket connection gets first; close_after: it is
//                                       refused (closed, policy_error, once they are written; never open)
//   std::vector<std::string> on_client_text(Session&, const std::string& text[, bool& close_after])
//                                       the answers to one client text frame; close_after: the connection
//                                       closes (policy_error) once they are written
// and optionally (the base's do nothing):
//   void connection_gone(Session&)      a WebSocket connection ended (read error or close); mu_ held
//   int handshake_delay_ms()            how long a new connection waits before its TLS handshake (the venue
//                                       takes mu_)
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/subscription_hold.hpp"
#include "tests/support/ws_test_server.hpp"

namespace enigma::testing {

// The same aliases as the venues (a namespace alias may be declared again for the same namespace).
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// A fresh CA file path for one venue object: enigma-<venue>-ca-<pid>-<n>.pem under TEST_TMPDIR (the system's
// temporary directory without it).
inline std::string venue_ca_file(std::string_view venue) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::filesystem::path dir =
      tmp != nullptr && *tmp != '\0' ? std::filesystem::path(tmp) : std::filesystem::temp_directory_path();
  static std::atomic<int> n{0};
  return (dir / ("enigma-" + std::string(venue) + "-ca-" + std::to_string(::getpid()) + "-" + std::to_string(n++) +
                 ".pem"))
      .string();
}

// Where the venues' transports differ (Binance's fake predates the others' connection cap and handshake
// timeout, and answers every REST request keep-alive).
struct TlsTestVenueOptions {
  std::size_t max_connections{64};  // connections alive at once; more are closed on accept. 0: no cap
  bool handshake_timeout{true};     // a TLS handshake not done within 10 s ends the connection
  bool always_keep_alive{false};    // REST answers keep the connection even when the request asked to close
};

template <class Venue, class Connection>
class TlsTestVenue {
 public:
  TlsTestVenue(const TlsTestVenue&) = delete;
  TlsTestVenue& operator=(const TlsTestVenue&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::string rest_url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const std::string& ca_file() const noexcept { return ca_file_; }  // PEM of its certificate

 protected:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  // One accepted connection: HTTP requests, then perhaps a WebSocket. The Connection part and `open` are
  // guarded by mu_; the rest belongs to the io thread.
  struct Session : Connection, std::enable_shared_from_this<Session> {
    TlsTestVenue& kit;
    beast::ssl_stream<beast::tcp_stream> tls;
    std::unique_ptr<websocket::stream<beast::ssl_stream<beast::tcp_stream>&>> ws;
    beast::flat_buffer buf;
    Request req;
    Response res;
    std::unique_ptr<net::steady_timer> delay;
    std::deque<std::string> outq;
    bool writing = false;
    bool close_when_flushed = false;  // close once the queue is written (a refused login or token)
    bool closing = false;             // the close handshake started; nothing more is written
    std::shared_ptr<std::atomic<std::size_t>> live;  // the venue's connection count (outlives the venue's lock)
    bool open = false;  // guarded by mu_: an accepted WebSocket connection the venue serves

    Session(TlsTestVenue& venue, tcp::socket s) : kit(venue), tls(std::move(s), venue.ctx_), live(venue.live_) {}
    // May run in the io_context's destructor, after the venue's other members are gone: touches only `live`.
    ~Session() { --*live; }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start() {
      auto self = this->shared_from_this();
      const int delay_ms = kit.wait_before_handshake_ms();
      if (delay_ms > 0) {
        delay = std::make_unique<net::steady_timer>(kit.io_, std::chrono::milliseconds(delay_ms));
        delay->async_wait([self](const error_code&) { self->handshake(); });
        return;
      }
      handshake();
    }
    void handshake() {
      auto self = this->shared_from_this();
      const bool timeout = kit.options_.handshake_timeout;
      if (timeout) beast::get_lowest_layer(tls).expires_after(std::chrono::seconds(10));
      tls.async_handshake(ssl::stream_base::server, [self, timeout](const error_code& ec) {
        if (ec) return;
        if (timeout) beast::get_lowest_layer(self->tls).expires_never();
        self->read_request();
      });
    }
    void read_request() {
      req = {};
      auto self = this->shared_from_this();
      http::async_read(tls, buf, req, [self](const error_code& ec, std::size_t) {
        if (ec) return;
        if (websocket::is_upgrade(self->req)) return self->accept_ws();
        bool silent = false;
        int delay_ms = 0;
        self->res = self->kit.rest_answer(self->req, silent, delay_ms);
        if (silent) return self->read_request();  // never answered; the connection stays open
        self->res.keep_alive(self->kit.options_.always_keep_alive || self->req.keep_alive());
        self->res.prepare_payload();
        if (delay_ms > 0) {
          self->delay = std::make_unique<net::steady_timer>(self->kit.io_, std::chrono::milliseconds(delay_ms));
          self->delay->async_wait([self](const error_code&) { self->write_answer(); });
          return;
        }
        self->write_answer();
      });
    }
    void write_answer() {
      auto self = this->shared_from_this();
      http::async_write(tls, res, [self](const error_code& ec, std::size_t) {
        if (!ec && self->res.keep_alive()) self->read_request();
      });
    }
    void accept_ws() {
      ws = std::make_unique<websocket::stream<beast::ssl_stream<beast::tcp_stream>&>>(tls);
      if (!kit.upgrade(*this, std::string(req.target()))) {  // no stream lives there: refuse the upgrade
        Response nf{http::status::not_found, 11};
        nf.body() = "Not Found";
        nf.keep_alive(false);
        nf.prepare_payload();
        res = std::move(nf);
        return write_answer();
      }
      auto self = this->shared_from_this();
      ws->async_accept(req, [self](const error_code& ec) {
        if (ec) return;
        bool refused = false;
        std::vector<std::string> first = self->kit.ws_open(self, refused);
        for (auto& f : first) self->push(std::move(f));
        if (refused) return self->close_once_written();
        self->read_ws();
      });
    }
    void read_ws() {
      auto self = this->shared_from_this();
      ws->async_read(buf, [self](const error_code& ec, std::size_t) {
        if (ec) return self->kit.ws_closed(*self);
        const std::string text = beast::buffers_to_string(self->buf.data());
        self->buf.consume(self->buf.size());
        std::vector<std::string> answers;
        bool close_after = false;
        {
          std::lock_guard lk(self->kit.mu_);
          if (!self->open) return;
          if (!self->kit.subscription_hold_.held(self, text)) answers = self->kit.client_text(*self, text, close_after);
          if (close_after) self->open = false;
        }
        for (auto& a : answers) self->push(std::move(a));
        if (close_after) self->close_once_written();
        self->read_ws();
      });
    }
    void push(std::string text) {  // io thread only
      if (closing || close_when_flushed) return;
      outq.push_back(std::move(text));
      if (!writing) write_next();
    }
    void close_once_written() {  // io thread only
      close_when_flushed = true;
      if (!writing) write_next();
    }
    void write_next() {  // io thread only
      if (outq.empty()) {
        writing = false;
        if (close_when_flushed && !closing) {
          closing = true;
          auto self = this->shared_from_this();
          ws->async_close(websocket::close_code::policy_error, [self](const error_code&) {});
        }
        return;
      }
      writing = true;
      ws->text(true);
      auto self = this->shared_from_this();
      ws->async_write(net::buffer(outq.front()), [self](const error_code& ec, std::size_t) {
        if (ec) return;
        self->outq.pop_front();
        self->write_next();
      });
    }
  };

  // Makes the certificate, writes its PEM to `ca_file` and binds 127.0.0.1:0; nothing is served until
  // start_serving().
  explicit TlsTestVenue(std::string ca_file, TlsTestVenueOptions options = {})
      : options_(options), ca_file_(std::move(ca_file)) {
    const auto cert = make_self_signed_cert();
    ctx_.use_certificate_chain(net::buffer(cert.cert_pem));
    ctx_.use_private_key(net::buffer(cert.key_pem), ssl::context::pem);
    std::ofstream(ca_file_) << cert.cert_pem;
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
  }
  // A venue that did not stop serving in its own destructor is stopped here, too late for handlers that touch
  // its state: stop_serving() belongs first in the venue's destructor.
  ~TlsTestVenue() { stop_serving(); }

  // The end of the venue's constructor: its state is ready for the io thread.
  void start_serving() {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  // The start of the venue's destructor: on the io thread the acceptor closes, `last` runs (the venue cancels
  // its timers) and the io_context stops; the thread is joined and the CA file removed. Later calls do nothing.
  template <class Last>
  void stop_serving(Last last) {
    if (!thread_.joinable()) return;
    net::post(io_, [this, last] {
      error_code ec;
      acceptor_.close(ec);
      last();
      io_.stop();
    });
    thread_.join();
    std::error_code ec;
    std::filesystem::remove(ca_file_, ec);
  }
  void stop_serving() {
    stop_serving([] {});
  }

  // The held-subscription fault (subscription_hold.hpp), for a venue to offer: subscriptions that arrive from
  // now on are held unanswered until release_subscriptions(), which answers each whose connection is open.
  void hold_subscriptions() {
    std::lock_guard lk(mu_);
    subscription_hold_.hold();
  }
  void release_subscriptions() {
    std::lock_guard lk(mu_);
    subscription_hold_.release(io_, [this](Session& s, const std::string& text) {
      std::lock_guard lk2(mu_);
      bool close_after = false;
      return s.open ? client_text(s, text, close_after) : std::vector<std::string>{};
    });
  }
  [[nodiscard]] std::size_t held_subscriptions() const {
    std::lock_guard lk(mu_);
    return subscription_hold_.size();
  }

  // Ends the open WebSocket connections `pick` chooses as a dropped line would (no close frame): they are not
  // open from now on; on the io thread each socket closes and connection_gone follows. mu_ held.
  template <class Pick>
  void drop_ws_connections(Pick pick) {
    for (const auto& w : ws_sessions_)
      if (auto s = w.lock(); s && s->open && pick(*s)) {
        s->open = false;
        net::post(io_, [this, s] {
          error_code ec;
          beast::get_lowest_layer(s->tls).socket().close(ec);
          std::lock_guard lk(mu_);
          venue().connection_gone(*s);
        });
      }
  }

  // Keeps one more frame, request or body for the test to read, up to 20000 (a long soak stays bounded).
  template <class T>
  static void record(std::vector<T>& list, T item) {  // mu_ held
    if (list.size() < 20000) list.push_back(std::move(item));
  }

  // Polls `p` every 2 ms for up to `timeout_ms`; true once it holds.
  template <class Pred>
  bool wait_until(Pred p, int timeout_ms = 5000) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < until) {
      if (p()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return p();
  }

  // The optional hooks: a venue's own hides these.
  void connection_gone(Session&) {}              // mu_ held
  int handshake_delay_ms() const { return 0; }  // the venue takes mu_ if it needs it

  // Declared first so it is destroyed last: the venue's timers and the sessions its handlers hold go before.
  net::io_context io_;
  ssl::context ctx_{ssl::context::tls_server};
  mutable std::mutex mu_;  // guards the venue's state, its Connection parts and Session::open
  std::vector<std::weak_ptr<Session>> ws_sessions_;  // mu_ held: accepted WebSocket connections (some gone)
  SubscriptionHold<Session> subscription_hold_;      // mu_ held

 private:
  Venue& venue() { return static_cast<Venue&>(*this); }

  void accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket s) {
      if (ec) return;
      if (options_.max_connections == 0 || live_->load() < options_.max_connections) {
        ++*live_;
        std::make_shared<Session>(*this, std::move(s))->start();
      } else {
        error_code ignored;
        s.close(ignored);
      }
      accept();
    });
  }

  // ---- The hooks, called from the sessions --------------------------------------------------------------
  // The dispatchers are named apart from the hooks, so a venue's hook is never mistaken for one.
  int wait_before_handshake_ms() { return venue().handshake_delay_ms(); }
  Response rest_answer(const Request& rq, bool& silent, int& delay_ms) { return venue().serve(rq, silent, delay_ms); }
  bool upgrade(Session& s, const std::string& target) {
    std::lock_guard lk(mu_);
    return venue().on_upgrade(s, target);
  }
  std::vector<std::string> ws_open(const std::shared_ptr<Session>& s, bool& refused) {
    std::lock_guard lk(mu_);
    std::vector<std::string> first;
    if constexpr (requires(Venue& v, bool& r) { v.on_ws_open(*s, r); })
      first = venue().on_ws_open(*s, refused);
    else
      first = venue().on_ws_open(*s);
    if (refused) return first;
    s->open = true;
    ws_sessions_.erase(std::remove_if(ws_sessions_.begin(), ws_sessions_.end(),
                                      [](const std::weak_ptr<Session>& w) { return w.expired(); }),
                       ws_sessions_.end());
    ws_sessions_.push_back(s);
    return first;
  }
  void ws_closed(Session& s) {
    std::lock_guard lk(mu_);
    s.open = false;
    venue().connection_gone(s);
  }
  std::vector<std::string> client_text(Session& s, const std::string& text, bool& close_after) {  // mu_ held
    if constexpr (requires(Venue& v) { v.on_client_text(s, text, close_after); })
      return venue().on_client_text(s, text, close_after);
    else
      return venue().on_client_text(s, text);
  }

  TlsTestVenueOptions options_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::string ca_file_;
  std::uint16_t port_{0};
  std::shared_ptr<std::atomic<std::size_t>> live_{std::make_shared<std::atomic<std::size_t>>(0)};
};

}  // namespace enigma::testing
