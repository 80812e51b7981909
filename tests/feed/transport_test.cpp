#include "feed/transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "feed/uring.hpp"

namespace enigma::feed {
namespace {

std::int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A connected loopback TCP pair (client, server side).
struct TcpPair {
  int client{-1}, server{-1};
  TcpPair() {
    const int lst = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(lst, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(lst, 1), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(lst, reinterpret_cast<sockaddr*>(&a), &len), 0);
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    server = ::accept(lst, nullptr, nullptr);
    ::close(lst);
    const int one = 1;
    (void)::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~TcpPair() {
    ::close(client);
    ::close(server);
  }
};

// Waits (bounded, not timed: the assertion is on the data) until `fd` has data or an error-queue entry.
void wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  (void)::poll(&p, 1, 2000);
}

std::string recv_all(int fd, std::size_t n, RxStamp& stamp) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    wait_for(fd, POLLIN);
    iovec iov{out.data() + got, n - got};
    const ssize_t r = recv_timestamped(fd, &iov, 1, stamp);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

std::size_t drain_with_wait(int fd, TxStamp* out, std::size_t max) {
  std::size_t n = 0;
  for (int i = 0; i < 100 && n == 0; ++i) {  // the stamp is queued when the segment leaves; loopback: at once
    wait_for(fd, 0);                         // POLLERR is always reported
    n = drain_tx_timestamps(fd, out, max);
  }
  return n;
}

// The first SO_TIMESTAMPING socket of the system switches receive stamping on through a deferred static key
// (net_enable_timestamp): packets that arrive in the next moments may carry no stamp. Exchange warm-up bytes
// until one is stamped (bounded), so the assertions below see the steady state a connection sees after its
// TLS handshake.
void enable_rx_and_warm_up(TcpPair& p) {
  ASSERT_TRUE(enable_rx_timestamping(p.server, /*hardware=*/false));
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(::send(p.client, "w", 1, 0), 1);
    RxStamp w;
    ASSERT_EQ(recv_all(p.server, 1, w), "w");
    if (w.software_ns != 0) return;
    ::usleep(1000);
  }
  FAIL() << "no receive stamp on loopback after 200 warm-up bytes";
}

TEST(KernelTimestamps, RxStampOfAFrameLiesBetweenItsSendAndItsRead) {
  TcpPair p;
  enable_rx_and_warm_up(p);
  const std::int64_t before_send = realtime_ns();
  ASSERT_EQ(::send(p.client, "tick", 4, 0), 4);
  RxStamp rx;
  EXPECT_EQ(recv_all(p.server, 4, rx), "tick");
  const std::int64_t after_read = realtime_ns();
  ASSERT_NE(rx.software_ns, 0) << "no SCM_TIMESTAMPING on a loopback read";
  EXPECT_EQ(rx.hardware_ns, 0) << "loopback has no hardware clock";
  EXPECT_GE(rx.software_ns, before_send);
  EXPECT_LE(rx.software_ns, after_read);
  EXPECT_EQ(rx.best_ns(), rx.software_ns);
}

TEST(KernelTimestamps, TxStampOfTheOrderComesAfterRxOfTheFrameThatCausedIt) {
  TcpPair p;
  enable_rx_and_warm_up(p);
  ASSERT_TRUE(enable_tx_timestamping(p.server));
  ASSERT_EQ(::send(p.client, "frame", 5, 0), 5);
  RxStamp rx;
  ASSERT_EQ(recv_all(p.server, 5, rx), "frame");
  ASSERT_NE(rx.software_ns, 0);
  // The "order" answers the frame, then a second one: OPT_ID keys are the offset of each send's last byte
  // counted from when tx stamping was enabled: 6 bytes -> key 5, then 3 more -> key 8.
  ASSERT_EQ(::send(p.server, "order1", 6, 0), 6);
  ASSERT_EQ(::send(p.server, "o-2", 3, 0), 3);
  TxStamp tx[8];
  std::size_t n = drain_with_wait(p.server, tx, 8);
  if (n < 2) n += drain_with_wait(p.server, tx + n, 8 - n);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(tx[0].byte_key, 5u);
  EXPECT_EQ(tx[1].byte_key, 8u);
  EXPECT_GT(tx[0].ns, rx.software_ns) << "kernel tx of the order must follow kernel rx of its frame";
  EXPECT_GE(tx[1].ns, tx[0].ns);
  // The client's kernel rx of the order is not before our kernel tx of it (receive stamping is on
  // system-wide by now: no warm-up).
  ASSERT_TRUE(enable_rx_timestamping(p.client, false));
  RxStamp crx;
  EXPECT_EQ(recv_all(p.client, 9, crx), "order1o-2");
  EXPECT_GE(crx.software_ns, tx[0].ns);
  // Nothing else is queued: a drain on an empty error queue returns 0 without blocking.
  EXPECT_EQ(drain_tx_timestamps(p.server, tx, 8), 0u);
}

TEST(KernelTimestamps, WithoutTimestampingTheStampStaysZero) {
  TcpPair p;
  ASSERT_EQ(::send(p.client, "x", 1, 0), 1);
  RxStamp rx;
  EXPECT_EQ(recv_all(p.server, 1, rx), "x");
  EXPECT_EQ(rx.best_ns(), 0);
  TxStamp tx[1];
  EXPECT_EQ(drain_tx_timestamps(p.server, tx, 1), 0u);
}

TEST(Transport, ParsesTheConfigNamesAndExplainsTheRest) {
  EXPECT_EQ(parse_transport("asio", "[feed] transport"), Transport::asio);
  EXPECT_EQ(parse_transport("busy_poll", "[feed] transport"), Transport::busy_poll);
  try {
    (void)parse_transport("epoll", "[feed] transport");
    FAIL() << "epoll accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[feed] transport = \"epoll\": expected \"asio\", \"busy_poll\""),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(parse_transport("io_uring", "[feed] transport"), Transport::io_uring);
  EXPECT_EQ(to_string(Transport::busy_poll), "busy_poll");
  EXPECT_EQ(to_string(Transport::io_uring), "io_uring");
}

// io_uring: a kernel or seccomp policy may refuse rings; the tests below need one (say why when not).
#define REQUIRE_IO_URING()                                                     \
  do {                                                                         \
    if (const std::string why = uring_unavailable_reason(); !why.empty())      \
      GTEST_SKIP() << "this kernel refuses io_uring: " << why;                 \
  } while (0)

// Reads through the receiver the way the socket layer does: retry while the receive is in flight, for at
// most 5 s (a loaded machine, e.g. a sanitizer build beside other jobs, can take milliseconds to deliver).
ssize_t uring_read(UringReceiver& u, char* buf, std::size_t n, RxStamp& stamp) {
  iovec iov{buf, n};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    const ssize_t r = u.read(&iov, 1, stamp);
    if (r >= 0 || errno != EAGAIN) return r;
  }
  errno = ETIMEDOUT;
  return -1;
}

TEST(IoUring, ReceivesKeepTheirKernelStampAndHandOutWhatDidNotFit) {
  REQUIRE_IO_URING();
  for (const bool sqpoll : {false, true}) {
    TcpPair p;
    enable_rx_and_warm_up(p);
    std::string err;
    UringOptions o;
    o.sqpoll = sqpoll;
    o.buffers = 4;
    o.buffer_bytes = 4096;
    auto u = UringReceiver::create(p.server, o, err);
    ASSERT_NE(u, nullptr) << err;
    EXPECT_EQ(u->sqpoll(), sqpoll);
    // Nothing sent yet: the receive waits in the ring, the read says EAGAIN (the socket layer parks).
    char buf[64];
    iovec iov{buf, sizeof buf};
    RxStamp rx;
    errno = 0;
    EXPECT_EQ(u->read(&iov, 1, rx), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(u->arms(), 1u);
    const std::int64_t before_send = realtime_ns();
    ASSERT_EQ(::send(p.client, "0123456789", 10, 0), 10);
    // 4 bytes of room: the rest stays in the provided buffer for the next reads (no new receive).
    ASSERT_EQ(uring_read(*u, buf, 4, rx), 4);
    EXPECT_EQ(std::string(buf, 4), "0123");
    ASSERT_NE(rx.software_ns, 0) << "no SCM_TIMESTAMPING through an io_uring RECVMSG";
    EXPECT_GE(rx.software_ns, before_send);
    EXPECT_LE(rx.software_ns, realtime_ns());
    // Two buffers: the rest is scattered over both.
    char a[3], b[10];
    iovec two[2] = {{a, sizeof a}, {b, sizeof b}};
    RxStamp rx2;
    EXPECT_EQ(u->read(two, 2, rx2), 6);
    EXPECT_EQ(std::string(a, 3) + std::string(b, 3), "456789");
    EXPECT_EQ(rx2.software_ns, rx.software_ns) << "the same receive, the same stamp";
    EXPECT_EQ(u->receives(), 1u);
    // More receives than buffers: each buffer goes back to the ring once handed out.
    for (int i = 0; i < 10; ++i) {
      const std::string msg = "frame-" + std::to_string(i);
      ASSERT_EQ(::send(p.client, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
      std::string got;
      while (got.size() < msg.size()) {
        const ssize_t r = uring_read(*u, buf, sizeof buf, rx);
        ASSERT_GT(r, 0) << std::strerror(errno);
        got.append(buf, static_cast<std::size_t>(r));
      }
      EXPECT_EQ(got, msg);
    }
    EXPECT_GE(u->receives(), 11u);
    EXPECT_EQ(u->arms(), 1u) << "the multishot receive stays armed while buffers come back";
    // More data than all buffers hold at once: the receive ends when the ring is empty (ENOBUFS) and the
    // next read arms it again; nothing is lost or reordered.
    std::string burst(6 * o.buffer_bytes, '\0');
    for (std::size_t i = 0; i < burst.size(); ++i) burst[i] = static_cast<char>('a' + i % 26);
    ASSERT_EQ(::send(p.client, burst.data(), burst.size(), 0), static_cast<ssize_t>(burst.size()));
    std::string got;
    std::vector<char> big(8192);
    for (int i = 0; i < 1000 && got.size() < burst.size(); ++i) {
      const ssize_t r = uring_read(*u, big.data(), big.size(), rx);
      ASSERT_GT(r, 0) << std::strerror(errno);
      got.append(big.data(), static_cast<std::size_t>(r));
    }
    EXPECT_EQ(got, burst);
    EXPECT_GE(u->arms(), 2u) << "6 buffers' worth in 4 buffers needs a re-arm";
    // End of stream is 0, and stays 0.
    ::shutdown(p.client, SHUT_WR);
    EXPECT_EQ(uring_read(*u, buf, sizeof buf, rx), 0);
    EXPECT_EQ(u->read(&iov, 1, rx), 0);
  }
}

// The ring holds a reference to the socket while a receive is in flight: cancel() lets go of it, so closing
// the socket really closes the connection (the peer sees the end of stream, not silence).
TEST(IoUring, CancelLetsTheClosedSocketGo) {
  REQUIRE_IO_URING();
  TcpPair p;
  std::string err;
  auto u = UringReceiver::create(p.server, UringOptions{}, err);
  ASSERT_NE(u, nullptr) << err;
  char buf[16];
  iovec iov{buf, sizeof buf};
  RxStamp rx;
  ASSERT_EQ(u->read(&iov, 1, rx), -1);  // in flight
  u->cancel();
  ::close(p.server);
  p.server = -1;
  wait_for(p.client, POLLIN);
  char c;
  EXPECT_EQ(::recv(p.client, &c, 1, MSG_DONTWAIT), 0) << "the peer did not see the connection close";
}

TEST(IoUring, BadBufferCountsAreRefusedWithTheRule) {
  REQUIRE_IO_URING();
  TcpPair p;
  std::string err;
  UringOptions o;
  o.buffers = 3;
  EXPECT_EQ(UringReceiver::create(p.server, o, err), nullptr);
  EXPECT_NE(err.find("power of two"), std::string::npos) << err;
}

TEST(Transport, BusyPollOptionsAreAppliedWhereTheKernelAllowsThem) {
  TcpPair p;
  const BusyPollResult r = enable_busy_poll(p.client, 50, true);
  int v = 0;
  socklen_t len = sizeof v;
  if (r.busy_poll) {
    ASSERT_EQ(::getsockopt(p.client, SOL_SOCKET, SO_BUSY_POLL, &v, &len), 0);
    EXPECT_EQ(v, 50);
  }
  const BusyPollResult none = enable_busy_poll(p.server, 0, false);
  EXPECT_FALSE(none.busy_poll);
  EXPECT_FALSE(none.prefer_busy_poll);
}

TEST(NicTimestamping, LoopbackAnswersAndUnknownInterfacesSayWhy) {
  const NicTimestamping lo = nic_timestamping("lo");
  ASSERT_TRUE(lo.ok) << lo.error;
  // The loopback driver stamps in software both ways (ethtool_op_get_ts_info) and has no PTP clock.
  EXPECT_TRUE(lo.software_rx());
  EXPECT_TRUE(lo.software_tx());
  EXPECT_FALSE(lo.hardware_rx());
  EXPECT_EQ(lo.describe(), "lo: software rx+tx, hardware none (no PTP clock)");
  const NicTimestamping bad = nic_timestamping("no-such-if0");
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.describe().find("no-such-if0: timestamping capabilities unknown (ETHTOOL_GET_TS_INFO: "),
            std::string::npos)
      << bad.describe();
  bool saw_lo = false;
  for (const auto& n : nic_timestamping_caps()) saw_lo |= n.iface == "lo";
  EXPECT_TRUE(saw_lo);
}

TEST(SocketStack, ThisTestRunsOnTheKernelStack) {
  const SocketStack s = detect_socket_stack();
  EXPECT_EQ(s.name, "kernel") << s.evidence;
}

}  // namespace
}  // namespace enigma::feed
