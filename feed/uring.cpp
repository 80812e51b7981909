#include "feed/uring.hpp"

#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace enigma::feed {

namespace {
constexpr std::uint64_t kRecvTag = 1;
constexpr std::uint64_t kCancelTag = 2;
constexpr int kBufferGroup = 0;  // one group per ring: each connection has its own ring
}  // namespace

struct UringReceiver::Impl {
  io_uring ring{};
  bool ring_ok{false};
  int fd{-1};
  bool sqpoll{false};
  unsigned buffers{0};
  unsigned buffer_bytes{0};
  io_uring_buf_ring* br{nullptr};
  std::size_t br_bytes{0};
  bool br_registered{false};
  std::vector<unsigned char> pool;  // buffers x buffer_bytes, the provided receive buffers
  // The receive in flight: the kernel picks its data buffer from the ring; the control buffer is ours.
  msghdr msg{};
  iovec iov{};
  alignas(cmsghdr) char control[256]{};
  bool in_flight{false};
  // The completed receive being handed out.
  int cur_bid{-1};
  std::uint32_t cur_len{0};
  std::uint32_t cur_off{0};
  RxStamp cur_stamp{};
  int end{1};  // 1: open; 0: end of stream seen; < 0: -errno of a failed receive (both sticky)
  std::uint64_t submits{0};

  ~Impl() {
    cancel_in_flight();
    if (ring_ok) {
      if (br_registered) (void)io_uring_unregister_buf_ring(&ring, kBufferGroup);
      io_uring_queue_exit(&ring);
    }
    if (br != nullptr) ::munmap(br, br_bytes);
  }

  unsigned char* buffer(unsigned bid) noexcept { return pool.data() + std::size_t{bid} * buffer_bytes; }

  void recycle(unsigned bid) noexcept {
    io_uring_buf_ring_add(br, buffer(bid), buffer_bytes, static_cast<unsigned short>(bid),
                          io_uring_buf_ring_mask(buffers), 0);
    io_uring_buf_ring_advance(br, 1);
  }

  bool submit() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) return false;  // cannot happen with one receive in flight; reported as EAGAIN
    iov.iov_base = nullptr;
    iov.iov_len = buffer_bytes;
    msg = msghdr{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    io_uring_prep_recvmsg(sqe, fd, &msg, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(sqe, kRecvTag);
    // Without SQPOLL this is one io_uring_enter (the kernel tries the receive at once); with SQPOLL it is
    // a store to the submission ring (and a wake-up call only when the kernel thread went idle).
    if (io_uring_submit(&ring) < 0) return false;
    in_flight = true;
    ++submits;
    return true;
  }

  // Takes completed receives off the completion ring (no syscall). True when one finished.
  bool reap() noexcept {
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&ring, &cqe) == 0 && cqe != nullptr) {
      const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
      const int res = cqe->res;
      const unsigned flags = cqe->flags;
      io_uring_cqe_seen(&ring, cqe);
      if (tag != kRecvTag) continue;  // a cancel's own completion
      in_flight = false;
      if (res > 0 && (flags & IORING_CQE_F_BUFFER) != 0) {
        cur_bid = static_cast<int>(flags >> IORING_CQE_BUFFER_SHIFT);
        cur_len = static_cast<std::uint32_t>(res);
        cur_off = 0;
        cur_stamp = RxStamp{};
        read_rx_stamp(msg, cur_stamp);
      } else if (res == 0) {
        end = 0;
      } else if (res != -EAGAIN && res != -ENOBUFS && res != -ECANCELED) {
        end = res < 0 ? res : -EIO;
      }  // EAGAIN / ENOBUFS / ECANCELED: nothing received; the next read submits again
      return true;
    }
    return false;
  }

  ssize_t hand_out(iovec* out, int n, RxStamp& stamp) noexcept {
    std::size_t copied = 0;
    for (int i = 0; i < n && cur_off < cur_len; ++i) {
      const std::size_t k = std::min<std::size_t>(out[i].iov_len, cur_len - cur_off);
      std::memcpy(out[i].iov_base, buffer(static_cast<unsigned>(cur_bid)) + cur_off, k);
      cur_off += static_cast<std::uint32_t>(k);
      copied += k;
    }
    if (cur_stamp.software_ns != 0) stamp.software_ns = cur_stamp.software_ns;
    if (cur_stamp.hardware_ns != 0) stamp.hardware_ns = cur_stamp.hardware_ns;
    if (cur_off == cur_len) {
      recycle(static_cast<unsigned>(cur_bid));
      cur_bid = -1;
    }
    return static_cast<ssize_t>(copied);
  }

  // Closing: the ring holds a reference to the socket while a receive is in flight, so that receive is
  // cancelled (and its completion waited for, bounded) before the connection goes away.
  void cancel_in_flight() noexcept {
    if (!ring_ok || !in_flight) return;
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring); sqe != nullptr) {
      io_uring_prep_cancel64(sqe, kRecvTag, 0);
      io_uring_sqe_set_data64(sqe, kCancelTag);
      (void)io_uring_submit(&ring);
    }
    for (int i = 0; i < 4 && in_flight; ++i) {
      __kernel_timespec ts{0, 50'000'000};
      io_uring_cqe* cqe = nullptr;
      if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) != 0) continue;
      (void)reap();
    }
  }
};

UringReceiver::UringReceiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UringReceiver::~UringReceiver() = default;

std::unique_ptr<UringReceiver> UringReceiver::create(int fd, const UringOptions& opt, std::string& error) {
  if (opt.buffers == 0 || (opt.buffers & (opt.buffers - 1)) != 0 || opt.buffers > 32768) {
    error = "io_uring: the receive buffer count must be a power of two up to 32768";
    return nullptr;
  }
  auto m = std::make_unique<Impl>();
  m->fd = fd;
  m->buffers = opt.buffers;
  m->buffer_bytes = opt.buffer_bytes;
  io_uring_params p{};
  if (opt.sqpoll) {
    p.flags |= IORING_SETUP_SQPOLL;
    p.sq_thread_idle = static_cast<unsigned>(std::max(1, opt.sqpoll_idle_ms));
  }
  if (const int rc = io_uring_queue_init_params(8, &m->ring, &p); rc < 0) {
    error = std::string("io_uring_setup") + (opt.sqpoll ? " with SQPOLL" : "") + " refused: " + std::strerror(-rc);
    return nullptr;
  }
  m->ring_ok = true;
  m->sqpoll = opt.sqpoll;
  // The provided-buffer ring: page-aligned memory shared with the kernel, registered once.
  m->br_bytes = sizeof(io_uring_buf) * opt.buffers;
  void* mem = ::mmap(nullptr, m->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    error = std::string("io_uring: mmap of the buffer ring failed: ") + std::strerror(errno);
    return nullptr;
  }
  m->br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(m->br);
  reg.ring_entries = opt.buffers;
  reg.bgid = kBufferGroup;
  if (const int rc = io_uring_register_buf_ring(&m->ring, &reg, 0); rc < 0) {
    error = std::string("io_uring: registering the receive buffer ring failed (Linux 5.19+): ") + std::strerror(-rc);
    return nullptr;
  }
  m->br_registered = true;
  m->pool.assign(std::size_t{opt.buffers} * opt.buffer_bytes, 0);  // touched now, not on the first receive
  io_uring_buf_ring_init(m->br);
  for (unsigned b = 0; b < opt.buffers; ++b)
    io_uring_buf_ring_add(m->br, m->buffer(b), opt.buffer_bytes, static_cast<unsigned short>(b),
                          io_uring_buf_ring_mask(opt.buffers), static_cast<int>(b));
  io_uring_buf_ring_advance(m->br, static_cast<int>(opt.buffers));
  return std::unique_ptr<UringReceiver>(new UringReceiver(std::move(m)));
}

ssize_t UringReceiver::read(iovec* iov, int iovcnt, RxStamp& stamp) noexcept {
  Impl& m = *impl_;
  // Bounded: at most a submit and a reap per pass (an EAGAIN/ENOBUFS completion submits once more).
  for (int pass = 0; pass < 3; ++pass) {
    if (m.cur_bid >= 0) return m.hand_out(iov, iovcnt, stamp);
    if (m.end <= 0) {
      if (m.end == 0) return 0;
      errno = -m.end;
      return -1;
    }
    if (!m.in_flight && !m.submit()) break;
    if (!m.reap()) break;  // still in flight: the caller parks and polls again
  }
  errno = EAGAIN;
  return -1;
}

void UringReceiver::cancel() noexcept { impl_->cancel_in_flight(); }
bool UringReceiver::sqpoll() const noexcept { return impl_->sqpoll; }
std::uint64_t UringReceiver::submits() const noexcept { return impl_->submits; }

std::string uring_unavailable_reason() {
  io_uring ring{};
  if (const int rc = io_uring_queue_init(2, &ring, 0); rc < 0)
    return std::string("io_uring_setup refused: ") + std::strerror(-rc);
  io_uring_queue_exit(&ring);
  return {};
}

}  // namespace enigma::feed
