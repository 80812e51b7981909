// One-way loopback latency of a market-data frame:
//   BM_WsTlsFrame/T  : test server (Beast, TLS) stamps CLOCK_MONOTONIC_RAW just before its write; the client
//                      (poll_once driven) stamps in on_frame. Includes TLS encrypt/decrypt, WebSocket framing,
//                      two kernel socket paths and the client's read path for transport T: 0 asio (epoll),
//                      1 busy_poll (recvmsg retried), 2 io_uring (RECVMSG reaped from the ring), 3 io_uring
//                      with SQPOLL.
//   BM_TcpFloor      : the same bytes over a plain loopback TCP socket, sender thread -> busy-polling recv():
//                      the kernel floor the TLS WebSocket path sits on.
// Each iteration is one frame, sent only after the previous one arrived (latency, not throughput).
// Counters p50/p99/p999 in ns; the frame is a real Binance USD-M bookTicker from data/recorder/.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "feed/capture_reader.hpp"
#include "feed/ws_client.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::feed;

namespace {

// "<20-digit stamp>" followed by a real bookTicker frame.
std::string stamped_frame() {
  CaptureReader cap(std::string(ENIGMA_SOURCE_DIR) + "/data/recorder/hftbacktest_usdm_BTCUSDT_20240808_first3000.gz");
  CapturedFrame f;
  while (cap.next(f)) {
    if (f.payload.find("bookTicker") != std::string_view::npos) return std::string(20, '0') + std::string(f.payload);
  }
  return std::string(20, '0') + "{}";
}

std::int64_t stamp_of(const char* p) {
  std::int64_t v = 0;
  for (int i = 0; i < 20; ++i) v = v * 10 + (p[i] - '0');
  return v;
}

void report(benchmark::State& state, const LatencyHistogram& h) {
  state.counters["p50_ns"] = static_cast<double>(h.percentile(50));
  state.counters["p99_ns"] = static_cast<double>(h.percentile(99));
  state.counters["p999_ns"] = static_cast<double>(h.percentile(99.9));
  state.counters["max_ns"] = static_cast<double>(h.max_value());
}

void BM_WsTlsFrame(benchmark::State& state) {
  const std::string frame = stamped_frame();
  testing::WsTestServer srv({});
  struct Rx {
    std::int64_t latency = -1;
    static void on_frame(void* ctx, const WsFrame& f) noexcept {
      static_cast<Rx*>(ctx)->latency = f.recv_ns - stamp_of(f.payload.data());
    }
  } rx;
  WsHandlers h;
  h.on_frame = &Rx::on_frame;
  h.ctx = &rx;
  std::atomic<bool> up{false};
  h.on_connected = [&] { up = true; };
  WsClientOptions o;
  o.url = srv.url("/ws");
  o.tls.ca_file = srv.ca_file();
  const auto arg = state.range(0);
  o.transport = arg == 0 ? Transport::asio : arg == 1 ? Transport::busy_poll : Transport::io_uring;
  o.io_uring_sqpoll = arg == 3;
  WsClient c(o, h);
  c.start();
  while (!up) c.poll_once();
  LatencyHistogram hist;
  for (auto _ : state) {
    rx.latency = -1;
    srv.send_stamped(frame);
    while (rx.latency < 0) c.poll_once();
    hist.record(rx.latency);
    state.SetIterationTime(static_cast<double>(rx.latency) * 1e-9);
  }
  report(state, hist);
  state.SetLabel(c.socket_options().to_string());
}

void BM_TcpFloor(benchmark::State& state) {
  const std::string frame = stamped_frame();
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(lfd, 1);
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  const int tx = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(tx, reinterpret_cast<sockaddr*>(&a), sizeof a);
  const int rxfd = ::accept(lfd, nullptr, nullptr);
  const int one = 1;
  ::setsockopt(tx, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(rxfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  // Sender thread: waits for a request, stamps, writes (mirrors the test server's thread).
  std::atomic<int> requests{0};
  std::atomic<bool> done{false};
  std::thread sender([&] {
    std::string out = frame;
    int served = 0;
    for (;;) {
      // Block like the test server does in epoll; the stamp is taken after the wake-up.
      requests.wait(served, std::memory_order_acquire);
      if (done.load(std::memory_order_acquire)) break;
      ++served;
      char stamp[24];
      std::snprintf(stamp, sizeof stamp, "%020lld", static_cast<long long>(monotonic_ns()));
      std::memcpy(out.data(), stamp, 20);
      (void)!::send(tx, out.data(), out.size(), 0);
    }
  });
  std::string in(frame.size(), '\0');
  LatencyHistogram hist;
  for (auto _ : state) {
    requests.fetch_add(1, std::memory_order_release);
    requests.notify_one();
    std::size_t got = 0;
    while (got < in.size()) {
      const ssize_t n = ::recv(rxfd, in.data() + got, in.size() - got, MSG_DONTWAIT);
      if (n > 0) got += static_cast<std::size_t>(n);
    }
    const std::int64_t lat = monotonic_ns() - stamp_of(in.data());
    hist.record(lat);
    state.SetIterationTime(static_cast<double>(lat) * 1e-9);
  }
  done = true;
  requests.fetch_add(1, std::memory_order_release);
  requests.notify_one();
  sender.join();
  ::close(tx);
  ::close(rxfd);
  ::close(lfd);
  report(state, hist);
}

}  // namespace

BENCHMARK(BM_TcpFloor)->Iterations(10000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WsTlsFrame)->DenseRange(0, 3)->Iterations(10000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
