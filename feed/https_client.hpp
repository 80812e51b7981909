// Small blocking HTTPS client (Boost.Beast + OpenSSL) for the cold path: REST depth snapshots and the
// KuCoin bullet token. One TLS connection per request (snapshots are rare; no keep-alive state to go stale).
// Certificate verification and SNI are on by default; `ca_file` adds a trust anchor (tests trust their
// self-signed server certificate this way). Beast stays out of this header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace enigma::feed {

// "wss://host:port/path?query" split into the parts a connection needs. The port defaults to 443 for
// https/wss and 80 for http/ws; the target defaults to "/".
struct ParsedUrl {
  std::string scheme;
  std::string host;
  std::string port;
  std::string target;
};
// Throws enigma::Error naming the URL when it has no scheme or host, or an unknown scheme.
[[nodiscard]] ParsedUrl parse_url(std::string_view url);

// Shared TLS settings of the WebSocket and HTTPS clients.
struct TlsOptions {
  bool verify_peer = true;  // verify the certificate chain and that it names the host (never off in live use)
  std::string ca_file;      // PEM file of extra trust anchors, used besides the system store; empty: system only
};

struct HttpsResponse {
  int status{0};
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as received (names as the server spelt them)
  // The first header named `name` (ASCII case-insensitive); empty when absent.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept;
};

struct HttpsOptions {
  TlsOptions tls;
  std::int64_t timeout_ns = 10'000'000'000;  // whole request: resolve, connect, handshake, write, read
  std::size_t max_body_bytes = 64u << 20;
  std::string user_agent = "enigma/0.1";
};

class HttpsClient {
 public:
  explicit HttpsClient(HttpsOptions opt = {});
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Performs one request and returns status and body (any status; the caller decides what is an error).
  // Throws enigma::Error with the method, URL and cause (DNS, connect, "TLS handshake ... certificate verify
  // failed", timeout, body too large) when no HTTP response was received.
  HttpsResponse get(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpsResponse post(const std::string& url, std::string body, std::string_view content_type = "application/json",
                     const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace enigma::feed
