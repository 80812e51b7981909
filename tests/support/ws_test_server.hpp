// Local TLS WebSocket + HTTPS test server (Boost.Beast) for the feed client tests and benchmarks.
//
// Listens on 127.0.0.1 with an ephemeral port and a self-signed certificate generated at start-up with the
// OpenSSL APIs (EVP_PKEY + X509; CN=localhost, SAN DNS:localhost, IP:127.0.0.1). The certificate is written
// to ca_file() so a client can trust it explicitly. One WebSocket connection is served at a time (a new one
// replaces the old). Everything is driven by commands from the test thread; every command is executed on
// the server's own thread in the order given.
//
// HTTPS on the same port: POST .../bullet-public returns `bullet_body` with "{ENDPOINT}" replaced by this
// server's wss URL (KuCoin token flow); GET .../depth returns `snapshot_body`. After fail_rest(n) the next n
// REST requests of any kind are answered 503.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace enigma::testing {

struct SelfSignedCert {
  std::string cert_pem;
  std::string key_pem;
};
// Throws std::runtime_error when OpenSSL fails.
SelfSignedCert make_self_signed_cert();

enum class ServerFault {
  reset,               // abrupt TCP close with RST (SO_LINGER 0): no close frame, no TLS close_notify
  drop_without_close,  // FIN without a WebSocket close frame (the client sees what RFC 6455 calls 1006)
  close_frame,         // a proper close handshake with code 1001 "going away" (Binance's 24 h close)
};

struct WsTestServerOptions {
  bool kucoin_welcome = false;  // send {"id":"<connectId>","type":"welcome"} after welcome_delay_ms
  int welcome_delay_ms = 30;
  bool answer_pings = true;     // reply to KuCoin JSON pings ({"type":"pong"}) and OKX text "ping" ("pong")
  std::string bullet_body;      // POST .../bullet-public response; "{ENDPOINT}" -> wss://127.0.0.1:<port>/kucoin
  std::string snapshot_body;    // GET .../depth (or .../level2..., .../orderbook...) response
  // A venue's dialect (tests/support/market_data_venue.hpp), called on the server thread with the recorded
  // frames' cursor at that moment: the REST snapshot body (overrides snapshot_body) and the frames sent back
  // for each client text frame (acks, a fresh book snapshot after a subscribe, pongs), in order.
  std::function<std::string(std::size_t cursor)> snapshot_at;
  std::function<std::vector<std::string>(const std::string& text, std::size_t cursor)> on_client_text;
  // Each sent text's "{SEQ}" is replaced by a per-connection counter starting at 1 (Coinbase's
  // sequence_num); skip(n) advances it by n too, so skipped frames leave a gap in the numbering.
  bool stamp_sequence = false;
  int rest_delay_ms = 0;  // every REST answer waits this long (a slow venue; the other connections go on)
};

class WsTestServer {
 public:
  // `frames`: the recorded frames send_next() plays, in order.
  explicit WsTestServer(std::vector<std::string> frames, WsTestServerOptions opt = {});
  ~WsTestServer();
  WsTestServer(const WsTestServer&) = delete;
  WsTestServer& operator=(const WsTestServer&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::string url(std::string_view path = "/ws") const;  // wss://127.0.0.1:<port><path>
  [[nodiscard]] const std::string& ca_file() const;                    // PEM of the self-signed certificate

  // Commands. Frames are only sent on a live connection (ignored otherwise, cursor unchanged).
  void send_next(std::size_t n);   // the next n recorded frames
  void skip(std::size_t n);        // advance the cursor without sending: a sequence gap
  void seek(std::size_t index);    // move the cursor (e.g. 0: replay the recorded session from its start)
  void send_raw(std::string text); // any text frame (invalid JSON, oversized, ...)
  // Benchmark: send `text` after overwriting its first 20 bytes with the server's CLOCK_MONOTONIC ns
  // (zero-padded decimal) taken just before the write starts.
  void send_stamped(std::string text);
  void send_ping();                // a WebSocket ping control frame (queued behind pending frames)
  void fault(ServerFault f);
  void set_answer_pings(bool on);
  void fail_rest(int n);           // the next n REST requests are answered 503 (a venue's 5xx)

  // Observations (thread-safe snapshots).
  [[nodiscard]] int connections() const;            // WebSocket upgrades so far
  [[nodiscard]] std::vector<std::string> received() const;  // text frames from clients, in order
  [[nodiscard]] std::vector<std::string> targets() const;   // upgrade request targets
  [[nodiscard]] int pongs_received() const;
  [[nodiscard]] int pings_received() const;         // WebSocket ping control frames from clients (each answered)
  [[nodiscard]] int rest_requests() const;
  [[nodiscard]] bool text_before_welcome() const;   // a client text frame arrived before the welcome
  [[nodiscard]] std::size_t cursor() const;         // recorded frames sent or skipped
  [[nodiscard]] bool live() const;                  // a WebSocket connection is open
  [[nodiscard]] std::size_t queued() const;         // frames waiting in the live connection's write queue
  // Text frames written completely to a client, over all connections (acks and snapshots included).
  [[nodiscard]] std::uint64_t frames_written() const;
  [[nodiscard]] int snapshots_served() const;       // REST snapshot GETs answered with a body (not 503s)

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace enigma::testing
