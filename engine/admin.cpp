#include "engine/admin.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <sstream>

#include "core/error.hpp"

namespace enigma::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct AdminServer::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::string token;
  SpscRing<AdminCommand>& commands;
  std::mutex snapshot_mutex;
  StatusSnapshot snapshot;
  std::uint64_t next_seq{1};
  std::thread thread;
  std::atomic<bool> stopping{false};

  Impl(std::string t, SpscRing<AdminCommand>& c) : token(std::move(t)), commands(c) {}

  StatusSnapshot read_snapshot() {
    std::lock_guard lock(snapshot_mutex);
    return snapshot;
  }

  http::response<http::string_body> handle(const http::request<http::string_body>& req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "enigma-admin");
    res.keep_alive(false);
    auto reply = [&](http::status st, std::string body, const char* type = "application/json") {
      res.result(st);
      res.set(http::field::content_type, type);
      res.body() = std::move(body);
      res.prepare_payload();
      return res;
    };
    const std::string target(req.target());
    if (req.method() == http::verb::get) {
      if (target == "/status") return reply(http::status::ok, status_json(read_snapshot()));
      if (target == "/positions") return reply(http::status::ok, positions_json(read_snapshot()));
      if (target == "/metrics") return reply(http::status::ok, metrics_text(read_snapshot()), "text/plain; version=0.0.4");
      return reply(http::status::not_found, "{\"error\":\"unknown path\"}");
    }
    if (req.method() != http::verb::post) return reply(http::status::method_not_allowed, "{\"error\":\"use GET or POST\"}");
    AdminCommandKind kind;
    if (target == "/kill") kind = AdminCommandKind::kill;
    else if (target == "/kill/reset") kind = AdminCommandKind::kill_reset;
    else if (target == "/trading/start") kind = AdminCommandKind::trading_start;
    else if (target == "/trading/stop") kind = AdminCommandKind::trading_stop;
    else return reply(http::status::not_found, "{\"error\":\"unknown path\"}");
    // Constant-time compare is not needed on loopback, but the token is never echoed or logged.
    const auto auth = req[http::field::authorization];
    if (token.empty() || auth != "Bearer " + token) {
      res.set(http::field::www_authenticate, "Bearer");
      return reply(http::status::unauthorized, "{\"error\":\"missing or wrong bearer token\"}");
    }
    const AdminCommand cmd{kind, next_seq++};
    if (!commands.try_push(cmd)) return reply(http::status::service_unavailable, "{\"error\":\"command queue full\"}");
    return reply(http::status::accepted, "{\"accepted\":true,\"command_seq\":" + std::to_string(cmd.seq) + "}");
  }

  void serve() {
    while (!stopping.load(std::memory_order_acquire)) {
      beast::error_code ec;
      tcp::socket sock(ioc);
      acceptor.accept(sock, ec);
      if (ec) continue;  // closed by stop() or a transient error
      if (stopping.load(std::memory_order_acquire)) break;
      // A client that connects and sends nothing must not wedge the (single) admin thread.
      const timeval tv{2, 0};
      ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      http::read(sock, buf, parser, ec);
      if (ec) {
        http::response<http::string_body> bad{http::status::bad_request, 11};
        bad.body() = "{\"error\":\"malformed request\"}";
        bad.prepare_payload();
        http::write(sock, bad, ec);
      } else {
        auto res = handle(parser.get());
        http::write(sock, res, ec);
      }
      sock.shutdown(tcp::socket::shutdown_both, ec);
    }
  }
};

AdminServer::AdminServer(std::string address, std::uint16_t port, std::string token, SpscRing<AdminCommand>& commands,
                         bool allow_non_loopback)
    : impl_(std::make_unique<Impl>(std::move(token), commands)) {
  beast::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) throw Error("admin endpoint: bad address '" + address + "'");
  if (!addr.is_loopback() && !allow_non_loopback)
    throw Error("admin endpoint: refusing to bind non-loopback address '" + address + "' (set admin.allow_remote = true to override)");
  tcp::endpoint ep(addr, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(16, ec);
  if (ec) throw Error("admin endpoint: cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  impl_->thread = std::thread([this] { impl_->serve(); });
}

void AdminServer::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  // Unblock accept() with a connection of our own, then close.
  beast::error_code ec;
  if (impl_->thread.joinable()) {
    {
      asio::io_context ioc;
      tcp::socket s(ioc);
      s.connect(impl_->acceptor.local_endpoint(ec), ec);
    }  // closed here, so the server's read of it ends at once
    impl_->thread.join();
  }
  impl_->acceptor.close(ec);
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

namespace {
std::string num(double v) {
  char b[48];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}
}  // namespace

std::string AdminServer::status_json(const StatusSnapshot& s) {
  std::ostringstream o;
  o << "{\"mode\":\"" << s.mode << "\",\"running\":" << (s.running ? "true" : "false") << ",\"trading_state\":\""
    << s.trading_state << "\",\"kill_switch\":" << (s.kill_latched ? "true" : "false") << ",\"counters\":{\"frames\":"
    << s.frames << ",\"events\":" << s.events << ",\"book_updates\":" << s.book_updates << ",\"signals\":" << s.signals
    << ",\"orders\":" << s.orders << ",\"fills\":" << s.fills << ",\"rejects\":" << s.rejects << ",\"cancels\":" << s.cancels
    << ",\"dropped\":" << s.dropped << "},\"pnl\":{\"realized\":" << num(s.realized_pnl) << ",\"fees\":" << num(s.fees)
    << ",\"funding\":" << num(s.funding) << ",\"equity\":" << num(s.equity) << "},\"latency_ns\":{";
  for (std::uint32_t i = 0; i < s.nstages; ++i) {
    const auto& st = s.stages[i];
    o << (i ? "," : "") << "\"" << st.name << "\":{\"count\":" << st.count << ",\"p50\":" << st.p50_ns << ",\"p99\":" << st.p99_ns
      << ",\"p99.9\":" << st.p999_ns << ",\"max\":" << st.max_ns << "}";
  }
  o << "}}";
  return o.str();
}

std::string AdminServer::positions_json(const StatusSnapshot& s) {
  std::ostringstream o;
  o << "{\"positions\":[";
  for (std::uint32_t i = 0; i < s.npositions; ++i) {
    const auto& p = s.positions[i];
    o << (i ? "," : "") << "{\"symbol\":\"" << p.symbol << "\",\"qty\":" << num(p.qty) << ",\"avg_price\":" << num(p.avg_price)
      << ",\"unrealized_pnl\":" << num(p.unrealized) << "}";
  }
  o << "]}";
  return o.str();
}

std::string AdminServer::metrics_text(const StatusSnapshot& s) {
  std::ostringstream o;
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    o << "# HELP enigma_" << name << " " << help << "\n# TYPE enigma_" << name << " counter\nenigma_" << name << " " << v << "\n";
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    o << "# HELP enigma_" << name << " " << help << "\n# TYPE enigma_" << name << " gauge\nenigma_" << name << " " << num(v) << "\n";
  };
  counter("frames_total", "Market-data frames processed.", s.frames);
  counter("events_total", "Normalized events decoded.", s.events);
  counter("book_updates_total", "Published book updates.", s.book_updates);
  counter("signals_total", "Order intents emitted by strategies.", s.signals);
  counter("orders_total", "Orders sent.", s.orders);
  counter("fills_total", "Fills received.", s.fills);
  counter("rejects_total", "Orders rejected by the risk gate or the venue.", s.rejects);
  counter("cancels_total", "Cancel requests sent.", s.cancels);
  counter("dropped_total", "Items dropped anywhere (must stay 0).", s.dropped);
  gauge("kill_switch", "1 when the kill switch is latched.", s.kill_latched ? 1 : 0);
  gauge("realized_pnl", "Realized P&L net of fees and funding (quote currency).", s.realized_pnl);
  gauge("equity", "Equity (quote currency).", s.equity);
  o << "# HELP enigma_stage_latency_ns Stage latency percentiles in nanoseconds.\n# TYPE enigma_stage_latency_ns gauge\n";
  for (std::uint32_t i = 0; i < s.nstages; ++i) {
    const auto& st = s.stages[i];
    o << "enigma_stage_latency_ns{stage=\"" << st.name << "\",quantile=\"0.5\"} " << st.p50_ns << "\n";
    o << "enigma_stage_latency_ns{stage=\"" << st.name << "\",quantile=\"0.99\"} " << st.p99_ns << "\n";
    o << "enigma_stage_latency_ns{stage=\"" << st.name << "\",quantile=\"0.999\"} " << st.p999_ns << "\n";
  }
  return o.str();
}

}  // namespace enigma::engine
