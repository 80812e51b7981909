// Signed order bytes -> kernel transmit timestamp, the part of the order path below the gateway:
//   BM_SendToKernelTx : CLOCK_REALTIME read just before send() of 512 ready bytes (a signed Binance order is
//                       ~500) on a loopback TCP socket with SOF_TIMESTAMPING_TX_SOFTWARE|OPT_ID|OPT_TSONLY;
//                       latency = the kernel's tx stamp of the last byte minus that read. The stamp is read
//                       from the error queue after the measurement (off the measured path), as the gateway does.
// Excludes the TLS encryption of the live path (one SSL_write of ~500 bytes) and the ring hop to the gateway
// thread; includes the send syscall and the kernel TCP/IP path down to the (loopback) device.
// Counters p50/p99/p999 in ns.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <vector>

#include "core/histogram.hpp"
#include "feed/transport.hpp"

using namespace enigma;

namespace {

std::int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void BM_SendToKernelTx(benchmark::State& state) {
  const int lst = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(lst, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lst, 1) != 0 ||
      ::getsockname(lst, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    state.SkipWithError("loopback listen failed");
    return;
  }
  const int tx = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(tx, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    state.SkipWithError("loopback connect failed");
    return;
  }
  const int rx = ::accept(lst, nullptr, nullptr);
  const int one = 1;
  (void)::setsockopt(tx, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!feed::enable_tx_timestamping(tx)) {
    state.SkipWithError("SO_TIMESTAMPING tx refused");
    return;
  }
  std::vector<char> order(512, 'x');
  std::vector<char> sink(1 << 16);
  LatencyHistogram h;
  feed::TxStamp st[8];
  for (auto _ : state) {
    const std::int64_t t0 = realtime_ns();
    if (::send(tx, order.data(), order.size(), 0) != static_cast<ssize_t>(order.size())) {
      state.SkipWithError("send failed");
      break;
    }
    state.PauseTiming();
    std::size_t n = 0;
    for (int i = 0; i < 1000 && n == 0; ++i) {
      pollfd p{tx, 0, 0};
      (void)::poll(&p, 1, 10);
      n = feed::drain_tx_timestamps(tx, st, 8);
    }
    if (n > 0) h.record(st[n - 1].ns - t0);
    (void)::recv(rx, sink.data(), sink.size(), MSG_DONTWAIT);  // keep the receive window open
    state.ResumeTiming();
  }
  state.counters["p50"] = static_cast<double>(h.percentile(50));
  state.counters["p99"] = static_cast<double>(h.percentile(99));
  state.counters["p999"] = static_cast<double>(h.percentile(99.9));
  state.counters["stamps"] = static_cast<double>(h.count());
  ::close(rx);
  ::close(tx);
  ::close(lst);
}
BENCHMARK(BM_SendToKernelTx)->Iterations(20000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
