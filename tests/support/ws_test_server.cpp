#include "tests/support/ws_test_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace enigma::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

SelfSignedCert make_self_signed_cert() {
  auto fail = [](const char* what) { throw std::runtime_error(std::string("self-signed certificate: ") + what); };
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  if (!pkey) fail("EVP_EC_gen");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(::getpid()) * 1000 + (std::time(nullptr) % 1000));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (!ext) fail("X509V3_EXT_conf_nid");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(x, pkey, EVP_sha256())) fail("X509_sign");
  auto to_pem = [&](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return s;
  };
  SelfSignedCert c;
  c.cert_pem = to_pem([&](BIO* b) { PEM_write_bio_X509(b, x); });
  c.key_pem = to_pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, pkey, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(x);
  EVP_PKEY_free(pkey);
  return c;
}

namespace {

std::int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

using WsStream = websocket::stream<ssl::stream<tcp::socket>>;

// One outgoing frame. Pings go through the same queue as text frames: Beast allows one async_ping in flight
// per stream. A second one started while the first holds the write lock is parked, and a finishing ping does
// not resume a parked ping (only read, write and close operations do), so back-to-back pings were never sent
// (a third even overwrote the parked second's handler). Every frame the server writes is serialised here.
struct Out {
  std::string text;
  bool stamped = false;
  bool ping = false;  // a ping control frame (empty payload) instead of a text frame
};

}  // namespace

struct WsTestServer::Impl {
  struct Conn : std::enable_shared_from_this<Conn> {
    Impl& srv;
    WsStream ws;
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    std::deque<Out> outq;
    bool writing = false;
    bool open = false;
    bool welcome_sent = false;
    std::uint64_t sequence = 0;  // stamp_sequence: the last number sent on this connection
    std::string connect_id;
    net::steady_timer welcome_timer;
    http::response<http::string_body> res;

    Conn(Impl& s, tcp::socket sock) : srv(s), ws(std::move(sock), s.ctx), welcome_timer(s.io) {}

    void start() {
      auto self = shared_from_this();
      ws.next_layer().async_handshake(ssl::stream_base::server, [self](const error_code& ec) {
        if (ec) return;
        http::async_read(self->ws.next_layer(), self->buf, self->req, [self](const error_code& ec2, std::size_t) {
          if (ec2) return;
          if (websocket::is_upgrade(self->req)) {
            self->accept_ws();
          } else {
            self->serve_rest();
          }
        });
      });
    }

    void serve_rest() {
      ++srv.rest_requests;
      const std::string target(req.target());
      res = http::response<http::string_body>{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json");
      if (srv.rest_failures_left > 0) {
        --srv.rest_failures_left;
        res.result(http::status::service_unavailable);
        res.body() = R"({"code":-1001,"msg":"test 503"})";
      } else if (req.method() == http::verb::post && target.find("bullet-public") != std::string::npos) {
        std::string body = srv.opt.bullet_body;
        const std::string endpoint = "wss://127.0.0.1:" + std::to_string(srv.port) + "/kucoin";
        if (auto p = body.find("{ENDPOINT}"); p != std::string::npos) body.replace(p, 10, endpoint);
        res.body() = body;
      } else if (req.method() == http::verb::get &&
                 (target.find("depth") != std::string::npos || target.find("level2") != std::string::npos ||
                  target.find("orderbook") != std::string::npos)) {
        res.body() = srv.opt.snapshot_at ? srv.opt.snapshot_at(srv.cursor) : srv.opt.snapshot_body;
        ++srv.snapshots_served;
      } else {
        res.result(http::status::not_found);
        res.body() = R"({"code":"404","msg":"no such test endpoint"})";
      }
      res.keep_alive(false);
      res.prepare_payload();
      auto self = shared_from_this();
      auto reply = [self] {
        http::async_write(self->ws.next_layer(), self->res, [self](const error_code&, std::size_t) {
          error_code ec;
          beast::get_lowest_layer(self->ws).close(ec);
        });
      };
      if (srv.opt.rest_delay_ms <= 0) return reply();
      welcome_timer.expires_after(std::chrono::milliseconds(srv.opt.rest_delay_ms));  // unused on a REST connection
      welcome_timer.async_wait([reply](const error_code&) { reply(); });
    }

    void accept_ws() {
      {
        std::lock_guard lk(srv.mu);
        srv.targets.emplace_back(req.target());
      }
      const std::string target(req.target());
      if (auto p = target.find("connectId="); p != std::string::npos) {
        connect_id = target.substr(p + 10, target.find('&', p) - (p + 10));
      }
      ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::pong) ++srv.pongs;
        if (kind == websocket::frame_type::ping) ++srv.pings;  // Beast answers it with a pong
      });
      auto self = shared_from_this();
      ws.async_accept(req, [self](const error_code& ec) {
        if (ec) return;
        self->open = true;
        if (auto old = self->srv.current) old->abort(false);
        self->srv.current = self;
        ++self->srv.connections;
        if (self->srv.opt.kucoin_welcome) {
          self->welcome_timer.expires_after(std::chrono::milliseconds(self->srv.opt.welcome_delay_ms));
          self->welcome_timer.async_wait([self](const error_code& ec2) {
            if (ec2 || !self->open) return;
            self->welcome_sent = true;
            self->push(Out{R"({"id":")" + self->connect_id + R"(","type":"welcome"})"});
          });
        }
        self->read_loop();
      });
    }

    void read_loop() {
      auto self = shared_from_this();
      ws.async_read(buf, [self](const error_code& ec, std::size_t) {
        if (ec) {
          self->open = false;
          return;
        }
        std::string text = beast::buffers_to_string(self->buf.data());
        self->buf.consume(self->buf.size());
        if (self->srv.opt.kucoin_welcome && !self->welcome_sent) self->srv.before_welcome = true;
        if (self->srv.answer_pings) {
          if (text == "ping") {
            self->push(Out{"pong"});
          } else if (text.find(R"("type":"ping")") != std::string::npos) {
            const auto p = text.find(R"("id":")");
            const std::string id = p == std::string::npos ? "" : text.substr(p + 6, text.find('"', p + 6) - (p + 6));
            self->push(Out{R"({"id":")" + id + R"(","type":"pong"})"});
          }
        }
        if (self->srv.opt.on_client_text)
          for (std::string& reply : self->srv.opt.on_client_text(text, self->srv.cursor)) self->push(Out{std::move(reply)});
        {
          std::lock_guard lk(self->srv.mu);
          self->srv.received.push_back(std::move(text));
        }
        self->read_loop();
      });
    }

    void push(Out o) {
      if (!open) return;
      if (srv.opt.stamp_sequence && !o.ping)
        if (const auto p = o.text.find("{SEQ}"); p != std::string::npos) o.text.replace(p, 5, std::to_string(++sequence));
      outq.push_back(std::move(o));
      if (!writing) write_next();
    }

    void write_next() {
      writing = true;
      Out& o = outq.front();
      if (o.stamped && o.text.size() >= 20) {
        char stamp[24];
        std::snprintf(stamp, sizeof stamp, "%020lld", static_cast<long long>(mono_ns()));
        std::memcpy(o.text.data(), stamp, 20);
      }
      auto self = shared_from_this();
      auto done = [self](const error_code& ec) {
        if (ec) {
          self->open = false;
          self->writing = false;
          return;
        }
        if (!self->outq.front().ping) ++self->srv.written;
        self->outq.pop_front();
        if (self->outq.empty() || !self->open) {
          self->writing = false;
        } else {
          self->write_next();
        }
      };
      if (o.ping) {
        ws.async_ping({}, done);
        return;
      }
      ws.text(true);
      ws.async_write(net::buffer(o.text), [done](const error_code& ec, std::size_t) { done(ec); });
    }

    // Ends the connection: with `rst` an abortive close (RST), else a FIN; no close frame either way.
    void abort(bool rst) {
      open = false;
      welcome_timer.cancel();
      auto& sock = beast::get_lowest_layer(ws);
      error_code ec;
      if (rst) sock.set_option(net::socket_base::linger(true, 0), ec);
      else sock.shutdown(tcp::socket::shutdown_both, ec);
      sock.close(ec);
    }
  };

  WsTestServerOptions opt;
  std::vector<std::string> frames;
  net::io_context io{1};
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::uint16_t port = 0;
  std::string ca_path;
  std::shared_ptr<Conn> current;
  std::thread thread;

  mutable std::mutex mu;
  std::vector<std::string> received;
  std::vector<std::string> targets;
  std::atomic<int> connections{0};
  std::atomic<int> pongs{0};
  std::atomic<int> pings{0};
  std::atomic<int> rest_requests{0};
  std::atomic<std::uint64_t> written{0};
  std::atomic<int> snapshots_served{0};
  std::atomic<bool> before_welcome{false};
  std::atomic<bool> answer_pings{true};
  std::atomic<std::size_t> cursor{0};
  std::atomic<int> rest_failures_left{0};

  Impl(std::vector<std::string> f, WsTestServerOptions o) : opt(std::move(o)), frames(std::move(f)) {
    answer_pings = opt.answer_pings;
    const SelfSignedCert cert = make_self_signed_cert();
    ctx.use_certificate_chain(net::buffer(cert.cert_pem));
    ctx.use_private_key(net::buffer(cert.key_pem), ssl::context::pem);
    static std::atomic<int> counter{0};
    ca_path = (std::filesystem::temp_directory_path() /
               ("enigma_ws_test_ca_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".pem"))
                  .string();
    std::ofstream(ca_path) << cert.cert_pem;
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    do_accept();
    thread = std::thread([this] { io.run(); });
  }

  ~Impl() {
    net::post(io, [this] {
      error_code ec;
      acceptor.close(ec);
      if (current) current->abort(false);
      current.reset();
      io.stop();
    });
    thread.join();
    std::filesystem::remove(ca_path);
  }

  void do_accept() {
    acceptor.async_accept([this](const error_code& ec, tcp::socket sock) {
      if (ec) return;
      sock.set_option(tcp::no_delay(true));
      std::make_shared<Conn>(*this, std::move(sock))->start();
      do_accept();
    });
  }

  bool have_live() const { return current && current->open; }

  template <class F>
  void on_io(F&& f) {
    net::post(io, std::forward<F>(f));
  }
};

WsTestServer::WsTestServer(std::vector<std::string> frames, WsTestServerOptions opt)
    : impl_(std::make_unique<Impl>(std::move(frames), std::move(opt))) {}
WsTestServer::~WsTestServer() = default;

std::uint16_t WsTestServer::port() const { return impl_->port; }
std::string WsTestServer::url(std::string_view path) const {
  return "wss://127.0.0.1:" + std::to_string(impl_->port) + std::string(path);
}
const std::string& WsTestServer::ca_file() const { return impl_->ca_path; }

void WsTestServer::send_next(std::size_t n) {
  impl_->on_io([m = impl_.get(), n] {
    if (!m->have_live()) return;
    for (std::size_t i = 0; i < n && m->cursor < m->frames.size(); ++i) {
      m->current->push(Out{m->frames[m->cursor]});
      ++m->cursor;
    }
  });
}

void WsTestServer::skip(std::size_t n) {
  impl_->on_io([m = impl_.get(), n] {
    m->cursor = std::min(m->frames.size(), m->cursor + n);
    if (m->current) m->current->sequence += n;
  });
}

void WsTestServer::seek(std::size_t index) {
  impl_->on_io([m = impl_.get(), index] { m->cursor = std::min(m->frames.size(), index); });
}

void WsTestServer::send_raw(std::string text) {
  impl_->on_io([m = impl_.get(), t = std::move(text)]() mutable {
    if (m->have_live()) m->current->push(Out{std::move(t)});
  });
}

void WsTestServer::send_stamped(std::string text) {
  impl_->on_io([m = impl_.get(), t = std::move(text)]() mutable {
    if (m->have_live()) m->current->push(Out{std::move(t), true});
  });
}

void WsTestServer::send_ping() {
  impl_->on_io([m = impl_.get()] {
    if (!m->have_live()) return;
    Out ping;
    ping.ping = true;
    m->current->push(std::move(ping));
  });
}

void WsTestServer::fault(ServerFault f) {
  impl_->on_io([m = impl_.get(), f] {
    if (!m->current) return;
    auto c = m->current;
    m->current.reset();
    switch (f) {
      case ServerFault::reset: c->abort(true); break;
      case ServerFault::drop_without_close: c->abort(false); break;
      case ServerFault::close_frame:
        c->open = false;
        c->ws.async_close(websocket::close_reason(websocket::close_code::going_away, "test close"),
                          [c](const error_code&) {});
        break;
    }
  });
}

void WsTestServer::set_answer_pings(bool on) { impl_->answer_pings = on; }
void WsTestServer::fail_rest(int n) { impl_->rest_failures_left = n; }

int WsTestServer::connections() const { return impl_->connections; }
std::vector<std::string> WsTestServer::received() const {
  std::lock_guard lk(impl_->mu);
  return impl_->received;
}
std::vector<std::string> WsTestServer::targets() const {
  std::lock_guard lk(impl_->mu);
  return impl_->targets;
}
int WsTestServer::pongs_received() const { return impl_->pongs; }
int WsTestServer::pings_received() const { return impl_->pings; }
int WsTestServer::rest_requests() const { return impl_->rest_requests; }
std::uint64_t WsTestServer::frames_written() const { return impl_->written; }
int WsTestServer::snapshots_served() const { return impl_->snapshots_served; }
bool WsTestServer::text_before_welcome() const { return impl_->before_welcome; }
std::size_t WsTestServer::cursor() const { return impl_->cursor; }
bool WsTestServer::live() const {
  // Read from the test thread: a benign snapshot of a flag the server thread updates.
  std::promise<bool> p;
  auto f = p.get_future();
  impl_->on_io([m = impl_.get(), &p] { p.set_value(m->have_live()); });
  return f.get();
}

std::size_t WsTestServer::queued() const {
  std::promise<std::size_t> p;
  auto f = p.get_future();
  impl_->on_io([m = impl_.get(), &p] { p.set_value(m->current ? m->current->outq.size() : 0); });
  return f.get();
}

}  // namespace enigma::testing
