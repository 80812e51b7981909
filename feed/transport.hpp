// Socket-level pieces of the market-data and order transports (no Beast/Asio here: tests and check-host
// include it cheaply).
//
//  * Kernel receive timestamps: SO_TIMESTAMPING with RX_SOFTWARE (and RX_HARDWARE|RAW_HARDWARE on request,
//    for NICs that stamp in hardware), read from the SCM_TIMESTAMPING control message that recvmsg returns
//    with the data. Asio's read path drops control messages, so our WebSocket/TLS stack reads the socket
//    itself (feed/detail/timestamped_socket.hpp) through recv_timestamped().
//  * Kernel transmit timestamps: SOF_TIMESTAMPING_TX_SOFTWARE | OPT_ID | OPT_TSONLY on a TCP socket; the
//    kernel queues one stamp per send on the socket's error queue when the segment holding the send's last
//    byte goes to the device. drain_tx_timestamps() reads them (non-blocking, MSG_ERRQUEUE) and must be
//    called off the hot path.
//  * Busy polling: SO_BUSY_POLL (and SO_PREFER_BUSY_POLL where the kernel has it, Linux 5.11+).
//  * NIC capabilities: ETHTOOL_GET_TS_INFO per interface (for `enigma check-host`).
//  * Kernel-bypass stacks that take over sockets via LD_PRELOAD (OpenOnload, NVIDIA VMA / XLIO): detected
//    from the environment and the loaded libraries, so the start-up log says which stack carries the sockets.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace enigma::feed {

// How a connection's socket is driven (config `transport`, per connection).
//   asio      - the reactor (epoll) wakes the read; the default.
//   busy_poll - non-blocking socket read directly by the polling (pinned) thread on every poll, with
//               SO_BUSY_POLL / SO_PREFER_BUSY_POLL so the kernel polls the NIC queue in the read.
//   io_uring  - receives are io_uring RECVMSG operations into a registered ring of provided buffers
//               (feed/uring.hpp), their completions reaped by the polling thread; optional SQPOLL.
enum class Transport : std::uint8_t { asio, busy_poll, io_uring };
[[nodiscard]] std::string_view to_string(Transport t) noexcept;
// "asio" | "busy_poll" | "io_uring". Throws enigma::Error naming `where` (e.g. "[feed] transport") and the
// accepted values for anything else.
[[nodiscard]] Transport parse_transport(std::string_view text, std::string_view where);

// Kernel receive time of the bytes a recvmsg returned, CLOCK_REALTIME nanoseconds; 0 when absent.
struct RxStamp {
  std::int64_t software_ns{0};  // stamped by the kernel when the packet entered the stack
  std::int64_t hardware_ns{0};  // stamped by the NIC (only with hardware timestamping on a capable NIC)
  // The best stamp present: hardware when there is one.
  [[nodiscard]] std::int64_t best_ns() const noexcept { return hardware_ns != 0 ? hardware_ns : software_ns; }
};

// Asks for receive timestamps (software; plus RX_HARDWARE|RAW_HARDWARE when `hardware`). False when the
// kernel refuses (the reads still work, without stamps).
[[nodiscard]] bool enable_rx_timestamping(int fd, bool hardware) noexcept;
// recvmsg into `iov` with MSG_DONTWAIT | `flags`; fills `stamp` from SCM_TIMESTAMPING when present (left
// unchanged otherwise). Returns what recvmsg returns (-1 with errno on error, EAGAIN when nothing is ready).
[[nodiscard]] ssize_t recv_timestamped(int fd, iovec* iov, int iovcnt, RxStamp& stamp, int flags = 0) noexcept;
// The SCM_TIMESTAMPING control message of a received msghdr into `stamp` (fields left unchanged when absent).
void read_rx_stamp(const msghdr& msg, RxStamp& stamp) noexcept;

// Asks for software transmit timestamps with OPT_ID (each stamp carries the byte counter of the send's last
// byte) and OPT_TSONLY (the error queue gets the stamp, not a copy of the packet). False when refused.
[[nodiscard]] bool enable_tx_timestamping(int fd) noexcept;
struct TxStamp {
  std::uint32_t byte_key{0};  // OPT_ID: offset of the send's last byte since timestamping was enabled
  std::int64_t ns{0};         // kernel transmit time, CLOCK_REALTIME
};
// Reads up to `max` pending transmit stamps from the error queue without blocking. Returns how many.
std::size_t drain_tx_timestamps(int fd, TxStamp* out, std::size_t max) noexcept;

// SO_BUSY_POLL = `usec` (> 0) and, when `prefer`, SO_PREFER_BUSY_POLL. Returns which the kernel accepted.
struct BusyPollResult {
  bool busy_poll{false};
  bool prefer_busy_poll{false};
};
[[nodiscard]] BusyPollResult enable_busy_poll(int fd, int usec, bool prefer) noexcept;

// ETHTOOL_GET_TS_INFO of one interface.
struct NicTimestamping {
  std::string iface;
  bool ok{false};                    // the ioctl answered
  std::string error;                 // why not, when !ok
  std::uint32_t so_timestamping{0};  // SOF_TIMESTAMPING_* the device supports
  int phc_index{-1};                 // PTP hardware clock, -1 when none
  std::uint32_t tx_types{0};         // bit per HWTSTAMP_TX_*
  std::uint32_t rx_filters{0};       // bit per HWTSTAMP_FILTER_*
  [[nodiscard]] bool software_rx() const noexcept;
  [[nodiscard]] bool software_tx() const noexcept;
  [[nodiscard]] bool hardware_rx() const noexcept;  // RX_HARDWARE + RAW_HARDWARE + a filter that is not NONE
  [[nodiscard]] bool hardware_tx() const noexcept;
  // One line, e.g. "eth0: software rx+tx, hardware none (no PTP clock)".
  [[nodiscard]] std::string describe() const;
};
// Every interface in /sys/class/net (cold path; no privileges needed).
[[nodiscard]] std::vector<NicTimestamping> nic_timestamping_caps();
[[nodiscard]] NicTimestamping nic_timestamping(const std::string& iface);

// Which socket stack this process runs on.
struct SocketStack {
  std::string name;      // "kernel", "openonload", "vma", "xlio"
  std::string evidence;  // e.g. "libonload.so loaded (LD_PRELOAD=libonload.so)"; empty for the kernel
};
[[nodiscard]] SocketStack detect_socket_stack();

}  // namespace enigma::feed
