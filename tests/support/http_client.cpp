// The engine tests' loopback HTTP client (declared in engine_test_support.hpp), compiled once.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tests/support/engine_test_support.hpp"

namespace enigma::testing {

HttpAnswer http_request(std::uint16_t port, boost::beast::http::verb verb, const std::string& target,
                        const std::string& token) {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.prepare_payload();
  http::write(sock, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
  return HttpAnswer{static_cast<int>(res.result_int()), std::move(res.body())};
}

std::string http_get_or_empty(std::uint16_t port, const std::string& target) {
  try {
    return http_request(port, boost::beast::http::verb::get, target).body();
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace enigma::testing
