#include "feed/https_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

#include "feed/detail/tls.hpp"

namespace enigma::feed {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

ParsedUrl parse_url(std::string_view url) {
  ParsedUrl u;
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) throw Error("URL '" + std::string(url) + "': missing scheme");
  u.scheme = std::string(url.substr(0, sep));
  std::string default_port;
  if (u.scheme == "https" || u.scheme == "wss") {
    default_port = "443";
  } else if (u.scheme == "http" || u.scheme == "ws") {
    default_port = "80";
  } else {
    throw Error("URL '" + std::string(url) + "': unsupported scheme '" + u.scheme + "'");
  }
  std::string_view rest = url.substr(sep + 3);
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!u.target.empty() && u.target[0] == '?') u.target.insert(0, "/");
  // Bracketed IPv6 literal "[::1]:443".
  if (!authority.empty() && authority[0] == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) throw Error("URL '" + std::string(url) + "': unterminated IPv6 literal");
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    u.port = authority.size() > 1 && authority[0] == ':' ? std::string(authority.substr(1)) : default_port;
  } else {
    const std::size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    u.port = colon == std::string_view::npos ? default_port : std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) throw Error("URL '" + std::string(url) + "': missing host");
  if (u.port.empty()) throw Error("URL '" + std::string(url) + "': empty port");
  return u;
}

struct HttpsClient::Impl {
  HttpsOptions opt;
  net::ssl::context ctx;
  explicit Impl(HttpsOptions o) : opt(std::move(o)), ctx(detail::make_client_tls_context(opt.tls)) {}

  HttpsResponse request(http::verb verb, const std::string& url, std::string body, std::string_view content_type,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
    const std::string what = std::string(http::to_string(verb)) + " " + url;
    const ParsedUrl u = parse_url(url);
    if (u.scheme != "https") throw Error(what + ": only https URLs are supported");

    net::io_context io;
    tcp::resolver resolver(io);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    detail::prepare_client_tls(stream, u.host, opt.tls);

    http::request<http::string_body> req{verb, u.target, 11};
    req.set(http::field::host, u.host);
    req.set(http::field::user_agent, opt.user_agent);
    req.set(http::field::accept, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (verb == http::verb::post) {
      req.set(http::field::content_type, std::string(content_type));
      req.body() = std::move(body);
    }
    req.prepare_payload();

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(opt.max_body_bytes);
    std::optional<std::string> failure;  // set by the first failing step
    bool done = false;
    const auto deadline = std::chrono::nanoseconds(opt.timeout_ns);

    // The steps chain asynchronously on a private io_context so one deadline covers all of them.
    auto fail = [&](const char* step, const boost::system::error_code& ec, bool tls) {
      failure = std::string(step) + " failed: " + (tls ? detail::describe_tls_error(stream, ec) : ec.message());
    };
    resolver.async_resolve(u.host, u.port, [&](const boost::system::error_code& ec, tcp::resolver::results_type res) {
      if (ec) return fail("resolving the host", ec, false);
      beast::get_lowest_layer(stream).expires_after(deadline);
      beast::get_lowest_layer(stream).async_connect(res, [&](const boost::system::error_code& ec2, const tcp::endpoint&) {
        if (ec2) return fail("connecting", ec2, false);
        stream.async_handshake(net::ssl::stream_base::client, [&](const boost::system::error_code& ec3) {
          if (ec3) return fail("TLS handshake", ec3, true);
          http::async_write(stream, req, [&](const boost::system::error_code& ec4, std::size_t) {
            if (ec4) return fail("sending the request", ec4, false);
            http::async_read(stream, buffer, parser, [&](const boost::system::error_code& ec5, std::size_t) {
              if (ec5) return fail("reading the response", ec5, false);
              done = true;
              // One request per connection: close without waiting for the peer's close_notify, which
              // would only add a round trip to a cold-path call whose response is already complete.
              beast::get_lowest_layer(stream).close();
            });
          });
        });
      });
    });
    io.run_for(deadline + std::chrono::milliseconds(250));
    if (failure) throw Error(what + ": " + *failure);
    if (!done) throw Error(what + ": timed out after " + std::to_string(opt.timeout_ns / 1'000'000) + " ms");
    HttpsResponse r;
    r.status = static_cast<int>(parser.get().result_int());
    for (const auto& f : parser.get()) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(parser.get().body());
    return r;
  }
};

std::string_view HttpsResponse::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

HttpsClient::HttpsClient(HttpsOptions opt) : impl_(new Impl(std::move(opt))) {}
HttpsClient::~HttpsClient() { delete impl_; }

HttpsResponse HttpsClient::get(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers) {
  return impl_->request(http::verb::get, url, {}, {}, headers);
}

HttpsResponse HttpsClient::post(const std::string& url, std::string body, std::string_view content_type,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  return impl_->request(http::verb::post, url, std::move(body), content_type, headers);
}

}  // namespace enigma::feed
