// Helpers shared by the engine's integration tests (replay, paper, live, admin).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <regex>

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include "feed/capture_reader.hpp"

namespace enigma::testing {

// The bundled Binance USD-M BTCUSDT session (REST snapshot + depth@0ms + trades + bookTicker).
inline const std::string kBinanceSession =
    std::string(ENIGMA_SOURCE_DIR) + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";

// A path in the test temp dir that no earlier run left behind (a journal replays into the OMS at start-up,
// which a test must not inherit).
inline std::string fresh_path(std::string_view what) {
  static int n = 0;
  const std::string p = ::testing::TempDir() + "/enigma-" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
                        std::to_string(n++);
  std::remove(p.c_str());
  return p;
}

// Polls `p` every 5 ms for up to `ms`; true once it holds.
template <class Pred>
bool wait_for(Pred p, int ms = 10000) {
  for (int i = 0; i < ms / 5; ++i) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// One HTTP/1.1 request to a loopback server (the admin endpoint), answered in full. Compiled once in
// tests/support/http_client.cpp (library enigma_test_http), so a test that only polls /status does not
// compile Boost.Beast's HTTP code itself.
struct HttpAnswer {
  int status{0};
  std::string text;
  [[nodiscard]] int result_int() const noexcept { return status; }
  [[nodiscard]] boost::beast::http::status result() const noexcept { return static_cast<boost::beast::http::status>(status); }
  [[nodiscard]] const std::string& body() const noexcept { return text; }
};
HttpAnswer http_request(std::uint16_t port, boost::beast::http::verb verb, const std::string& target,
                        const std::string& token = "");

// GET `target` for polling loops: "" while the server cannot answer (not listening yet, a connection reset
// under a sanitizer's timing), so a wait_for() keeps polling instead of failing on the exception.
std::string http_get_or_empty(std::uint16_t port, const std::string& target);

// The first integer after "key": in a JSON body (independent of the layout around it); -1 when absent.
inline long long json_number(const std::string& body, const std::string& key) {
  std::smatch m;
  if (std::regex_search(body, m, std::regex("\"" + key + "\"\\s*:\\s*(-?[0-9]+)"))) return std::stoll(m[1]);
  return -1;
}

struct RecordedSession {
  std::vector<std::string> frames;  // WebSocket payloads in order
  std::string snapshot;             // the first REST depth body recorded with them
};

// The first `n` WebSocket frames of the bundled session, for a local server to play.
inline RecordedSession load_binance_session(std::size_t n) {
  RecordedSession r;
  feed::CaptureReader reader(kBinanceSession);
  feed::CapturedFrame f;
  while (reader.next(f) && r.frames.size() < n) {
    if (f.kind == feed::FrameKind::rest_body) {
      if (r.snapshot.empty()) r.snapshot = std::string(f.payload);
    } else {
      r.frames.emplace_back(f.payload);
    }
  }
  return r;
}

}  // namespace enigma::testing
