#include "feed/transport.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <linux/errqueue.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69  // Linux 5.11; older headers lack it, older kernels refuse it (reported)
#endif

namespace enigma::feed {

std::string_view to_string(Transport t) noexcept {
  switch (t) {
    case Transport::asio:
      return "asio";
    case Transport::busy_poll:
      return "busy_poll";
    case Transport::io_uring:
      return "io_uring";
  }
  return "?";
}

Transport parse_transport(std::string_view text, std::string_view where) {
  if (text == "asio") return Transport::asio;
  if (text == "busy_poll") return Transport::busy_poll;
  if (text == "io_uring") return Transport::io_uring;
  throw Error(std::string(where) + " = \"" + std::string(text) +
              "\": expected \"asio\", \"busy_poll\" or \"io_uring\"");
}

// ---- receive timestamps --------------------------------------------------------------------------------------

bool enable_rx_timestamping(int fd, bool hardware) noexcept {
  // Software stamps need both the generation flag (RX_SOFTWARE) and the reporting flag (SOFTWARE).
  int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  if (hardware) flags |= SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;
  return ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
}

namespace {

std::int64_t to_ns(const timespec& ts) noexcept { return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec; }

// Control-message space for SCM_TIMESTAMPING (3 timespecs) plus, on the error queue, a sock_extended_err.
constexpr std::size_t kCmsgSpace = CMSG_SPACE(sizeof(scm_timestamping)) + CMSG_SPACE(sizeof(sock_extended_err) + 64);

}  // namespace

ssize_t recv_timestamped(int fd, iovec* iov, int iovcnt, RxStamp& stamp, int flags) noexcept {
  alignas(cmsghdr) char control[kCmsgSpace];
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd, &msg, flags | MSG_DONTWAIT);
  if (n <= 0) return n;
  read_rx_stamp(msg, stamp);
  return n;
}

void read_rx_stamp(const msghdr& msg, RxStamp& stamp) noexcept {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
      scm_timestamping ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      // ts[0]: software, ts[1]: legacy (unused), ts[2]: raw hardware.
      if (ts.ts[0].tv_sec != 0 || ts.ts[0].tv_nsec != 0) stamp.software_ns = to_ns(ts.ts[0]);
      if (ts.ts[2].tv_sec != 0 || ts.ts[2].tv_nsec != 0) stamp.hardware_ns = to_ns(ts.ts[2]);
    }
  }
}

// ---- transmit timestamps -------------------------------------------------------------------------------------

bool enable_tx_timestamping(int fd) noexcept {
  // Keep the receive flags if they are on: SO_TIMESTAMPING sets the whole mask.
  int flags = 0;
  socklen_t len = sizeof flags;
  if (::getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, &len) != 0) flags = 0;
  flags |=
      SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
  return ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
}

std::size_t drain_tx_timestamps(int fd, TxStamp* out, std::size_t max) noexcept {
  std::size_t got = 0;
  while (got < max) {
    alignas(cmsghdr) char control[kCmsgSpace];
    char data[64];  // OPT_TSONLY: no payload, but a buffer keeps recvmsg well defined
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;  // EAGAIN: queue empty
    TxStamp s;
    bool have_ts = false, have_key = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
        scm_timestamping ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        s.ns = to_ns(ts.ts[0]);
        have_ts = s.ns != 0;
      } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                 (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
        sock_extended_err e;
        std::memcpy(&e, CMSG_DATA(c), sizeof e);
        // Only transmit-completion stamps (SCM_TSTAMP_SND); a real socket error is not ours to eat here, but
        // reading the error queue has already cleared it, so it is simply not a stamp.
        if (e.ee_origin == SO_EE_ORIGIN_TIMESTAMPING && e.ee_info == SCM_TSTAMP_SND) {
          s.byte_key = e.ee_data;
          have_key = true;
        }
      }
    }
    if (have_ts && have_key) out[got++] = s;
  }
  return got;
}

BusyPollResult enable_busy_poll(int fd, int usec, bool prefer) noexcept {
  BusyPollResult r;
  if (usec > 0) r.busy_poll = ::setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof usec) == 0;
  if (prefer) {
    const int one = 1;
    r.prefer_busy_poll = ::setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof one) == 0;
  }
  return r;
}

// ---- NIC capabilities ----------------------------------------------------------------------------------------

bool NicTimestamping::software_rx() const noexcept {
  return (so_timestamping & SOF_TIMESTAMPING_RX_SOFTWARE) && (so_timestamping & SOF_TIMESTAMPING_SOFTWARE);
}
bool NicTimestamping::software_tx() const noexcept { return (so_timestamping & SOF_TIMESTAMPING_TX_SOFTWARE) != 0; }
bool NicTimestamping::hardware_rx() const noexcept {
  return (so_timestamping & SOF_TIMESTAMPING_RX_HARDWARE) && (so_timestamping & SOF_TIMESTAMPING_RAW_HARDWARE) &&
         (rx_filters & ~(1u << HWTSTAMP_FILTER_NONE)) != 0;
}
bool NicTimestamping::hardware_tx() const noexcept {
  return (so_timestamping & SOF_TIMESTAMPING_TX_HARDWARE) && (tx_types & (1u << HWTSTAMP_TX_ON)) != 0;
}

std::string NicTimestamping::describe() const {
  if (!ok) return iface + ": timestamping capabilities unknown (" + error + ")";
  auto both = [](bool rx, bool tx) -> std::string {
    if (rx && tx) return "rx+tx";
    if (rx) return "rx only";
    if (tx) return "tx only";
    return "none";
  };
  std::string s =
      iface + ": software " + both(software_rx(), software_tx()) + ", hardware " + both(hardware_rx(), hardware_tx());
  s += phc_index >= 0 ? " (PTP clock /dev/ptp" + std::to_string(phc_index) + ")" : " (no PTP clock)";
  return s;
}

NicTimestamping nic_timestamping(const std::string& iface) {
  NicTimestamping r;
  r.iface = iface;
  if (iface.size() >= IFNAMSIZ) {
    r.error = "interface name too long";
    return r;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r.error = std::string("socket: ") + std::strerror(errno);
    return r;
  }
  ethtool_ts_info info{};
  info.cmd = ETHTOOL_GET_TS_INFO;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, iface.c_str(), iface.size());
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  if (::ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
    r.ok = true;
    r.so_timestamping = info.so_timestamping;
    r.phc_index = info.phc_index;
    r.tx_types = info.tx_types;
    r.rx_filters = info.rx_filters;
  } else {
    r.error = std::string("ETHTOOL_GET_TS_INFO: ") + std::strerror(errno);
  }
  ::close(fd);
  return r;
}

std::vector<NicTimestamping> nic_timestamping_caps() {
  std::vector<NicTimestamping> out;
  DIR* d = ::opendir("/sys/class/net");
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    out.push_back(nic_timestamping(e->d_name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.iface < b.iface; });
  return out;
}

// ---- socket stack ----------------------------------------------------------------------------------------------

namespace {

struct StackLib {
  const char* file_part;
  const char* name;
};
constexpr StackLib kStackLibs[] = {{"libonload", "openonload"}, {"libxlio", "xlio"}, {"libvma", "vma"}};

int find_stack_lib(dl_phdr_info* info, std::size_t, void* data) {
  auto* found = static_cast<SocketStack*>(data);
  if (info->dlpi_name == nullptr) return 0;
  const std::string_view path(info->dlpi_name);
  for (const StackLib& l : kStackLibs) {
    const std::size_t slash = path.rfind('/');
    const std::string_view file = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (file.starts_with(l.file_part)) {
      found->name = l.name;
      found->evidence = std::string(file) + " loaded";
      return 1;
    }
  }
  return 0;
}

}  // namespace

SocketStack detect_socket_stack() {
  SocketStack s{"kernel", {}};
  (void)dl_iterate_phdr(&find_stack_lib, &s);
  const char* preload = std::getenv("LD_PRELOAD");
  if (s.name != "kernel") {
    if (preload != nullptr && *preload != '\0') s.evidence += std::string(" (LD_PRELOAD=") + preload + ")";
    return s;
  }
  // LD_PRELOAD names a bypass library that did not load (wrong path, wrong architecture): say so, the
  // sockets are on the kernel stack.
  if (preload != nullptr) {
    const std::string_view p(preload);
    for (const StackLib& l : kStackLibs) {
      if (p.find(l.file_part) != std::string_view::npos) {
        s.evidence = std::string("LD_PRELOAD=") + preload + " names " + l.name + " but it is not loaded";
      }
    }
  }
  return s;
}

}  // namespace enigma::feed
