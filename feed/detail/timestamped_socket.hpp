// Internal: the next layer under asio::ssl::stream (and so under beast::websocket::stream) whose socket reads
// are ours: recvmsg with SO_TIMESTAMPING control messages, so every read knows the kernel's receive time
// (Asio's own read path drops control messages). Writes are plain non-blocking send()s.
//
// Two ways to wait for data, chosen per connection (feed::Transport):
//   asio      - on EAGAIN the read waits on the reactor (epoll) like an asio socket would;
//   busy_poll - on EAGAIN the read parks itself here (in place, no allocation) and poll_pending(), called by
//               the owner's poll loop on the pinned thread, retries recvmsg directly: no epoll on the path,
//               the kernel busy-polls the NIC queue inside the read when SO_BUSY_POLL is set.
//   io_uring  - reads are io_uring receives (feed/uring.hpp); one still in flight parks the read exactly as
//               busy_poll does, and poll_pending() reaps its completion from the ring (no syscall).
//
// beast::get_lowest_layer() of a stream built on this returns the tcp::socket (next_layer()), so connect,
// socket options and close work as before.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "feed/transport.hpp"
#include "feed/uring.hpp"

namespace enigma::feed::detail {

class TimestampedSocket {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;
  using next_layer_type = tcp::socket;
  using lowest_layer_type = tcp::socket::lowest_layer_type;
  using error_code = boost::system::error_code;

  template <class ExecutionContext>
  explicit TimestampedSocket(ExecutionContext& ctx) : sock_(ctx) {}
  ~TimestampedSocket() { destroy_parked(); }
  TimestampedSocket(const TimestampedSocket&) = delete;
  TimestampedSocket& operator=(const TimestampedSocket&) = delete;

  executor_type get_executor() noexcept { return sock_.get_executor(); }
  tcp::socket& next_layer() noexcept { return sock_; }
  lowest_layer_type& lowest_layer() noexcept { return sock_.lowest_layer(); }

  void set_busy_poll(bool on) noexcept { busy_poll_ = on; }
  // io_uring: reads go through `receiver` (set after connect, before the first read).
  void set_uring(std::unique_ptr<UringReceiver> receiver) noexcept { uring_ = std::move(receiver); }
  [[nodiscard]] const UringReceiver* uring() const noexcept { return uring_.get(); }
  // Kernel receive time of the most recent read that returned data (TCP reports the last segment read).
  [[nodiscard]] const RxStamp& last_rx() const noexcept { return last_rx_; }
  [[nodiscard]] std::uint64_t bytes_sent() const noexcept { return bytes_sent_; }
  // The latest kernel transmit stamp (CLOCK_REALTIME ns) a read took off the error queue since the last call
  // (0: none); the owner drains the rest itself (drain_tx_timestamps).
  [[nodiscard]] std::int64_t take_tx_stamp() noexcept { return std::exchange(latest_tx_ns_, 0); }
  // Transmit stamps with their byte keys, oldest first: those a read took off the error queue (kept here, up
  // to kKeptStamps, the oldest dropped beyond), then what the error queue holds now. Returns how many.
  std::size_t take_tx_stamps(TxStamp* out, std::size_t max) noexcept {
    std::size_t n = 0;
    for (; n < max && kept_count_ > 0; ++n, --kept_count_) out[n] = kept_[(kept_head_ + kKeptStamps - kept_count_) % kKeptStamps];
    return n + drain_tx_timestamps(sock_.native_handle(), out + n, max - n);
  }
  // The OPT_ID key the kernel gives the last byte written so far (keys count from mark_tx_base(), the moment
  // transmit timestamping was enabled), modulo 2^32.
  void mark_tx_base() noexcept { tx_base_ = bytes_sent_; }
  [[nodiscard]] std::uint32_t last_byte_key() const noexcept { return static_cast<std::uint32_t>(bytes_sent_ - tx_base_ - 1); }

  // busy_poll: retries a parked read once (it parks itself again when nothing is there). Touches nothing of
  // `this` after the retry: its completion may close the connection and destroy this socket.
  void poll_pending() {
    if (parked_invoke_ == nullptr) return;
    auto invoke = parked_invoke_;
    parked_invoke_ = nullptr;
    (void)invoke(parked_, this, false);
  }
  // Completes a parked read with operation_aborted (through the executor), e.g. when the connection closes;
  // an io_uring receive still in flight is cancelled.
  void abort_pending() {
    if (uring_) uring_->cancel();
    if (parked_invoke_ == nullptr) return;
    auto invoke = parked_invoke_;
    parked_invoke_ = nullptr;
    (void)invoke(parked_, this, true);
  }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return boost::asio::async_compose<ReadHandler, void(error_code, std::size_t)>(
        ReadOp<MutableBufferSequence>{this, buffers}, handler, sock_);
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_compose<WriteHandler, void(error_code, std::size_t)>(
        WriteOp<ConstBufferSequence>{this, buffers}, handler, sock_);
  }

 private:
  static constexpr int kMaxIov = 16;
  // Room for the parked read operation (the whole chain of SSL and WebSocket handlers, moved in place).
  static constexpr std::size_t kParkBytes = 2048;

  enum class Step : std::uint8_t { start, retry, deliver };

  template <class Buffers>
  static int to_iov(const Buffers& buffers, iovec* iov) noexcept {
    int n = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && n < kMaxIov; ++it) {
      const auto b = *it;
      if (b.size() == 0) continue;
      iov[n].iov_base = const_cast<void*>(static_cast<const void*>(b.data()));
      iov[n].iov_len = b.size();
      ++n;
    }
    return n;
  }

  template <class Buffers>
  struct ReadOp {
    TimestampedSocket* s;
    Buffers buffers;
    Step step{Step::start};
    error_code ec{};
    std::size_t n{0};

    template <class Self>
    void operator()(Self& self, error_code wait_ec = {}) {
      if (step == Step::deliver) return self.complete(ec, n);
      if (wait_ec) return self.complete(wait_ec, 0);
      iovec iov[kMaxIov];
      const int cnt = to_iov(buffers, iov);
      ssize_t r = 0;
      if (cnt > 0) {
        r = s->uring_ ? s->uring_->read(iov, cnt, s->last_rx_)
                      : recv_timestamped(s->sock_.native_handle(), iov, cnt, s->last_rx_);
      }
      if (cnt == 0) {
        ec = {};
        n = 0;
      } else if (r > 0) {
        ec = {};
        n = static_cast<std::size_t>(r);
      } else if (r == 0) {
        ec = boost::asio::error::eof;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (s->busy_poll_ || s->uring_) {
          step = Step::retry;
          return s->park(std::move(self));
        }
        // Woken with nothing to read: transmit stamps on the error queue make the socket poll as ready (an
        // order connection with SO_TIMESTAMPING). Take them off, or the wait would end at once, forever.
        if (step == Step::retry) s->drain_error_queue();
        step = Step::retry;
        return s->sock_.async_wait(tcp::socket::wait_read, std::move(self));
      } else {
        ec = error_code(errno, boost::system::system_category());
      }
      // Asio's rule: a handler never runs inside the call that started the operation.
      if (step == Step::start) {
        step = Step::deliver;
        return boost::asio::post(s->sock_.get_executor(), std::move(self));
      }
      self.complete(ec, n);
    }
  };

  template <class Buffers>
  struct WriteOp {
    TimestampedSocket* s;
    Buffers buffers;
    Step step{Step::start};
    error_code ec{};
    std::size_t n{0};

    template <class Self>
    void operator()(Self& self, error_code wait_ec = {}) {
      if (step == Step::deliver) return self.complete(ec, n);
      if (wait_ec) return self.complete(wait_ec, 0);
      iovec iov[kMaxIov];
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<std::size_t>(to_iov(buffers, iov));
      const ssize_t r =
          msg.msg_iovlen == 0 ? 0 : ::sendmsg(s->sock_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r >= 0) {
        ec = {};
        n = static_cast<std::size_t>(r);
        s->bytes_sent_ += n;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        step = Step::retry;
        return s->sock_.async_wait(tcp::socket::wait_write, std::move(self));
      } else {
        ec = error_code(errno, boost::system::system_category());
      }
      if (step == Step::start) {
        step = Step::deliver;
        return boost::asio::post(s->sock_.get_executor(), std::move(self));
      }
      self.complete(ec, n);
    }
  };

  // Moves a read operation into parked_ (one at a time: the SSL stream never has two reads in flight).
  template <class Self>
  void park(Self&& self) {
    using S = std::decay_t<Self>;
    static_assert(sizeof(S) <= kParkBytes, "a parked read does not fit TimestampedSocket::kParkBytes");
    static_assert(alignof(S) <= alignof(std::max_align_t), "a parked read is over-aligned");
    new (parked_) S(std::move(self));
    parked_invoke_ = [](void* p, TimestampedSocket* sock, bool abort) -> bool {
      S op(std::move(*static_cast<S*>(p)));
      static_cast<S*>(p)->~S();
      if (abort) {
        boost::asio::post(sock->sock_.get_executor(),
                          [op = std::move(op)]() mutable { op(boost::asio::error::operation_aborted); });
        return true;
      }
      op();  // retries recvmsg; parks itself again on EAGAIN. `sock` may be gone after this.
      return true;
    };
    parked_destroy_ = [](void* p) { static_cast<S*>(p)->~S(); };
  }
  void drain_error_queue() noexcept {
    TxStamp st[8];
    for (std::size_t n; (n = drain_tx_timestamps(sock_.native_handle(), st, 8)) > 0;)
      for (std::size_t i = 0; i < n; ++i) {
        latest_tx_ns_ = latest_tx_ns_ > st[i].ns ? latest_tx_ns_ : st[i].ns;
        kept_[kept_head_] = st[i];
        kept_head_ = (kept_head_ + 1) % kKeptStamps;
        kept_count_ = kept_count_ < kKeptStamps ? kept_count_ + 1 : kKeptStamps;
      }
  }
  void destroy_parked() noexcept {
    if (parked_invoke_ != nullptr) {
      parked_destroy_(parked_);
      parked_invoke_ = nullptr;
    }
  }

  tcp::socket sock_;
  RxStamp last_rx_{};
  std::uint64_t bytes_sent_{0};
  std::uint64_t tx_base_{0};
  std::int64_t latest_tx_ns_{0};
  static constexpr std::size_t kKeptStamps = 64;
  TxStamp kept_[kKeptStamps]{};
  std::size_t kept_head_{0}, kept_count_{0};
  bool busy_poll_{false};
  bool (*parked_invoke_)(void*, TimestampedSocket*, bool) = nullptr;
  void (*parked_destroy_)(void*) = nullptr;
  alignas(std::max_align_t) unsigned char parked_[kParkBytes];
  std::unique_ptr<UringReceiver> uring_;  // declared last: gone (its receive cancelled) before sock_ closes
};

// WebSocket close on a plain (non-TLS) stream over this socket: Beast's teardown of the TCP socket. Under TLS
// Beast tears down the TLS layer and then calls these (found by ADL).
inline void teardown(boost::beast::role_type role, TimestampedSocket& s, boost::system::error_code& ec) {
  boost::beast::websocket::teardown(role, s.next_layer(), ec);
}
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, TimestampedSocket& s, TeardownHandler&& handler) {
  s.abort_pending();
  boost::beast::websocket::async_teardown(role, s.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace enigma::feed::detail
