// The io_uring receive path of one socket (config `transport = "io_uring"`): liburing, one multishot
// IORING_OP_RECVMSG armed once per connection (Linux 6.0+) that fills buffers the kernel takes from a
// registered ring of provided buffers (IORING_REGISTER_PBUF_RING, 5.19+). Each completion carries the
// kernel's SO_TIMESTAMPING control message with its data. Reaping a completion is a read of shared memory;
// the kernel runs finished receives cooperatively (COOP_TASKRUN: no interrupt of the spinning thread, one
// io_uring_enter when it flags work). Optional SQPOLL: a kernel thread takes the submissions.
//
// Used by feed/detail/timestamped_socket.hpp on the polling (pinned) thread: read() has recvmsg's contract
// (bytes, 0 at end of stream, -1 with errno; EAGAIN while the receive is still in flight), so a pending read
// parks and is retried by poll_pending() exactly as under busy_poll. Completions are taken one at a time, in
// order; bytes the caller had no room for stay in their buffer for the next read.
// Everything is allocated and registered at connect (create); read() allocates nothing.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>

#include "feed/transport.hpp"

namespace enigma::feed {

struct UringOptions {
  bool sqpoll{false};            // IORING_SETUP_SQPOLL (a kernel thread polls the submission queue)
  int sqpoll_idle_ms{1000};      // the SQPOLL thread sleeps after this long without submissions
  unsigned buffers{8};           // provided receive buffers (a power of two)
  unsigned buffer_bytes{32768};  // each; above the 16 KiB + header of the largest TLS record
};

class UringReceiver {
 public:
  // Sets up a ring for `fd` and registers its buffers. nullptr, with `error` saying why (e.g. the kernel or
  // a seccomp filter refuses io_uring_setup), when that fails.
  [[nodiscard]] static std::unique_ptr<UringReceiver> create(int fd, const UringOptions& opt, std::string& error);
  ~UringReceiver();
  UringReceiver(const UringReceiver&) = delete;
  UringReceiver& operator=(const UringReceiver&) = delete;

  // recvmsg's contract into `iov`; fills `stamp` from SCM_TIMESTAMPING of the receive the bytes came from.
  [[nodiscard]] ssize_t read(iovec* iov, int iovcnt, RxStamp& stamp) noexcept;

  // Cancels a receive in flight and waits (bounded) for it: the ring holds the socket open until then.
  void cancel() noexcept;

  [[nodiscard]] bool sqpoll() const noexcept;
  [[nodiscard]] std::uint64_t arms() const noexcept;      // multishot receives armed (one per connection, normally)
  [[nodiscard]] std::uint64_t receives() const noexcept;  // completions that brought data

 private:
  struct Impl;
  explicit UringReceiver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether this kernel lets the process set up a ring at all ("" when it does, else why not). Cold path.
[[nodiscard]] std::string uring_unavailable_reason();

}  // namespace enigma::feed
