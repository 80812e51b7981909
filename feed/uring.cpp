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
// Room for the control message in each receive buffer: SCM_TIMESTAMPING is CMSG_SPACE(3 timespecs) = 64.
constexpr unsigned kControlBytes = 128;
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
  // The multishot receive: the kernel writes each completion's header, control message and payload into a
  // buffer it takes from the ring; this msghdr only says how much room the control message gets.
  msghdr msg{};
  bool armed{false};
  // The completion being handed out.
  int cur_bid{-1};
  const unsigned char* cur_data{nullptr};
  std::uint32_t cur_len{0};
  std::uint32_t cur_off{0};
  RxStamp cur_stamp{};
  int end{1};  // 1: open; 0: end of stream seen; < 0: -errno of a failed receive (both sticky)
  std::uint64_t arms{0};
  std::uint64_t receives{0};

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

  // Arms the multishot receive: it stays armed, posting one completion per arrival, until the stream ends,
  // an error, or the buffers run out (then the next read arms it again).
  bool arm() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) return false;  // cannot happen with one receive armed; reported as EAGAIN
    msg = msghdr{};
    msg.msg_controllen = kControlBytes;
    io_uring_prep_recvmsg_multishot(sqe, fd, &msg, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(sqe, kRecvTag);
    // Without SQPOLL one io_uring_enter; with SQPOLL a store to the submission ring (and a wake-up call
    // only when the kernel thread went idle).
    if (io_uring_submit(&ring) < 0) return false;
    armed = true;
    ++arms;
    return true;
  }

  // Takes a completed receive off the completion ring. True when one was taken. No syscall, except when
  // the kernel flags finished work that waits for us to enter it (COOP_TASKRUN, see create()): then one.
  bool reap() noexcept {
    if (take_completion()) return true;
    if (sqpoll || (IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_TASKRUN) == 0) return false;
    (void)io_uring_get_events(&ring);
    return take_completion();
  }

  bool take_completion() noexcept {
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&ring, &cqe) == 0 && cqe != nullptr) {
      const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
      const int res = cqe->res;
      const unsigned flags = cqe->flags;
      io_uring_cqe_seen(&ring, cqe);
      if (tag != kRecvTag) continue;  // a cancel's own completion
      if ((flags & IORING_CQE_F_MORE) == 0) armed = false;
      if (res > 0 && (flags & IORING_CQE_F_BUFFER) != 0) {
        const unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        io_uring_recvmsg_out* out = io_uring_recvmsg_validate(buffer(bid), res, &msg);
        const std::uint32_t payload = out != nullptr ? io_uring_recvmsg_payload_length(out, res, &msg) : 0;
        if (out == nullptr || payload == 0) {  // the stream's end (a receive of 0 bytes)
          recycle(bid);
          end = out == nullptr ? -EIO : 0;
          return true;
        }
        cur_bid = static_cast<int>(bid);
        cur_data = static_cast<const unsigned char*>(io_uring_recvmsg_payload(out, &msg));
        cur_len = payload;
        cur_off = 0;
        cur_stamp = RxStamp{};
        msghdr control{};  // the control message as the kernel wrote it, for the shared SCM_TIMESTAMPING reader
        control.msg_control = static_cast<unsigned char*>(io_uring_recvmsg_name(out)) + out->namelen;
        control.msg_controllen = out->controllen;
        read_rx_stamp(control, cur_stamp);
        ++receives;
      } else if (res == 0) {
        end = 0;
      } else if (res != -EAGAIN && res != -ENOBUFS && res != -ECANCELED) {
        end = res < 0 ? res : -EIO;
      }  // EAGAIN / ENOBUFS (all buffers handed out) / ECANCELED: nothing received; the next read re-arms
      return true;
    }
    return false;
  }

  ssize_t hand_out(iovec* out, int n, RxStamp& stamp) noexcept {
    std::size_t copied = 0;
    for (int i = 0; i < n && cur_off < cur_len; ++i) {
      const std::size_t k = std::min<std::size_t>(out[i].iov_len, cur_len - cur_off);
      std::memcpy(out[i].iov_base, cur_data + cur_off, k);
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

  // Closing: the ring holds a reference to the socket while the receive is armed, so it is cancelled (and
  // its last completion waited for, bounded) before the connection goes away. Data still queued is dropped.
  void cancel_in_flight() noexcept {
    if (!ring_ok || !armed) return;
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring); sqe != nullptr) {
      io_uring_prep_cancel64(sqe, kRecvTag, 0);
      io_uring_sqe_set_data64(sqe, kCancelTag);
      (void)io_uring_submit(&ring);
    }
    for (int i = 0; i < 16 && armed; ++i) {
      __kernel_timespec ts{0, 50'000'000};
      io_uring_cqe* cqe = nullptr;
      if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) != 0) continue;
      (void)take_completion();
      if (cur_bid >= 0) {
        recycle(static_cast<unsigned>(cur_bid));
        cur_bid = -1;
      }
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
  if (opt.buffer_bytes < 2 * (sizeof(io_uring_recvmsg_out) + kControlBytes)) {
    error = "io_uring: receive buffers must hold the receive header, its control message and data";
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
  } else {
    // Completions of a socket receive run as task work of the submitting thread. By default the kernel
    // interrupts the (spinning) thread with an IPI to run it; cooperatively, it only raises IORING_SQ_TASKRUN
    // and the poll loop enters the kernel when it sees the flag (reap()): measured 2x faster on loopback.
    p.flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
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
  // Bounded: a completion is taken, or the receive armed, at most once per pass.
  for (int pass = 0; pass < 3; ++pass) {
    if (m.cur_bid >= 0) return m.hand_out(iov, iovcnt, stamp);
    if (m.end <= 0) {
      if (m.end == 0) return 0;
      errno = -m.end;
      return -1;
    }
    if (m.reap()) continue;              // a receive (or the stream's end) came in
    if (m.armed || !m.arm()) break;      // nothing yet: the caller parks and polls again
  }
  errno = EAGAIN;
  return -1;
}

void UringReceiver::cancel() noexcept { impl_->cancel_in_flight(); }
bool UringReceiver::sqpoll() const noexcept { return impl_->sqpoll; }
std::uint64_t UringReceiver::arms() const noexcept { return impl_->arms; }
std::uint64_t UringReceiver::receives() const noexcept { return impl_->receives; }

std::string uring_unavailable_reason() {
  io_uring ring{};
  if (const int rc = io_uring_queue_init(2, &ring, 0); rc < 0)
    return std::string("io_uring_setup refused: ") + std::strerror(-rc);
  io_uring_queue_exit(&ring);
  return {};
}

}  // namespace enigma::feed
