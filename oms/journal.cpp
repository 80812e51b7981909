#include "oms/journal.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif
#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace enigma::oms {
namespace {

constexpr std::uint32_t kMagic = 0x4A4D4E45;  // "ENMJ"

struct RecordHeader {
  std::uint32_t magic;
  std::uint32_t crc;        // CRC-32 of the whole record with this field zero
  std::uint64_t seq;        // 1, 2, 3, ... (a gap means a foreign or corrupted file)
  std::int64_t time_ns;
  std::uint64_t aux;
  std::uint16_t type;
  std::uint16_t payload_size;
  std::uint32_t reserved;
};
static_assert(sizeof(RecordHeader) == 40);
constexpr std::size_t kPayloadCapacity = kJournalRecordSize - sizeof(RecordHeader);
static_assert(sizeof(OrderSpec) <= kPayloadCapacity, "OrderSpec must fit one journal record");
static_assert(sizeof(ExecReport) <= kPayloadCapacity, "ExecReport must fit one journal record");
static_assert(sizeof(Position) <= kPayloadCapacity, "Position must fit one journal record");

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the SSE4.2 crc32 instruction computes it, so an
// append checksums its 256 bytes in ~30 instructions; the table is the portable fallback (same values).
constexpr std::array<std::uint32_t, 256> make_crc_table() noexcept {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = make_crc_table();

std::string errno_text() { return std::strerror(errno); }

// Validates the record at `p`; returns its header or nullptr (end of journal or torn).
enum class Check : std::uint8_t { ok, end, torn };
Check check_record(const unsigned char* p, std::uint64_t expected_seq, RecordHeader& h) noexcept {
  std::memcpy(&h, p, sizeof h);
  if (h.magic == 0) {
    // All-zero space is the end; a zero magic with anything else in it is a torn write.
    for (std::size_t i = 0; i < kJournalRecordSize; ++i) {
      if (p[i] != 0) return Check::torn;
    }
    return Check::end;
  }
  if (h.magic != kMagic || h.seq != expected_seq || h.payload_size > kPayloadCapacity) return Check::torn;
  unsigned char copy[kJournalRecordSize];
  std::memcpy(copy, p, sizeof copy);
  std::memset(copy + offsetof(RecordHeader, crc), 0, sizeof(std::uint32_t));
  return crc32c(copy, sizeof copy) == h.crc ? Check::ok : Check::torn;
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
#if defined(__SSE4_2__)
  std::uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
  }
  crc = static_cast<std::uint32_t>(c);
  for (; n > 0; --n, ++p) crc = _mm_crc32_u8(crc, *p);
#else
  for (std::size_t i = 0; i < n; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
#endif
  return ~crc;
}

std::uint32_t crc32c_portable(const void* data, std::size_t n, std::uint32_t crc) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

Journal::Journal(std::string path, JournalConfig cfg) : path_(std::move(path)), cfg_(cfg) {
  if (cfg_.max_records == 0) throw Error("journal " + path_ + ": max_records must be > 0");
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw Error("journal " + path_ + ": open failed: " + errno_text());
  const std::size_t bytes = cfg_.max_records * kJournalRecordSize;
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || (static_cast<std::size_t>(st.st_size) < bytes && ::ftruncate(fd_, static_cast<off_t>(bytes)) != 0)) {
    const std::string why = errno_text();
    ::close(fd_);
    throw Error("journal " + path_ + ": sizing to " + std::to_string(bytes) + " bytes failed: " + why);
  }
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) {
    const std::string why = errno_text();
    ::close(fd_);
    throw Error("journal " + path_ + ": mmap failed: " + why);
  }
  map_ = static_cast<unsigned char*>(m);
  // Find the end: the first record that is not valid. A torn one there is wiped so the next append
  // (which reuses its slot) cannot be confused with it.
  RecordHeader h{};
  while (count_ < cfg_.max_records) {
    const Check c = check_record(map_ + count_ * kJournalRecordSize, count_ + 1, h);
    if (c == Check::end) break;
    if (c == Check::torn) {
      torn_tail_ = true;
      std::memset(map_ + count_ * kJournalRecordSize, 0, kJournalRecordSize);
      break;
    }
    ++count_;
  }
  seq_ = count_;
  published_.store(count_, std::memory_order_relaxed);
  synced_.store(count_, std::memory_order_relaxed);
  if (cfg_.fsync == FsyncPolicy::interval) {
    if (cfg_.fsync_interval_ns < 1'000'000) cfg_.fsync_interval_ns = 1'000'000;
    flusher_ = std::thread([this] { flusher_loop(); });
  }
}

void Journal::flusher_loop() noexcept {
  // Sleeps in short steps so that shutdown is prompt whatever the interval.
  const auto step = std::chrono::nanoseconds(std::min<std::int64_t>(cfg_.fsync_interval_ns, 10'000'000));
  auto next = std::chrono::steady_clock::now() + std::chrono::nanoseconds(cfg_.fsync_interval_ns);
  while (!stop_.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(step);
    if (std::chrono::steady_clock::now() < next) continue;
    next += std::chrono::nanoseconds(cfg_.fsync_interval_ns);
    if (sync_upto(published_.load(std::memory_order_acquire)) != Errc::ok) flush_failed_.store(true, std::memory_order_release);
  }
}

Journal::~Journal() {
  if (flusher_.joinable()) {
    stop_.store(true, std::memory_order_release);
    flusher_.join();
  }
  if (map_ != nullptr) {
    if (cfg_.fsync != FsyncPolicy::none) (void)sync();
    ::munmap(map_, cfg_.max_records * kJournalRecordSize);
  }
  if (fd_ >= 0) ::close(fd_);
}

Errc Journal::sync() noexcept { return sync_upto(published_.load(std::memory_order_acquire)); }

Errc Journal::sync_upto(std::size_t records) noexcept {
  std::size_t done = synced_.load(std::memory_order_acquire);
  if (done >= records) return Errc::ok;
  // msync needs a page-aligned start.
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t from = (done * kJournalRecordSize) / page * page;
  const std::size_t to = records * kJournalRecordSize;
  if (::msync(map_ + from, to - from, MS_SYNC) != 0) return Errc::io;
  // Both threads may sync: the mark only moves forward.
  while (done < records && !synced_.compare_exchange_weak(done, records, std::memory_order_acq_rel)) {
  }
  return Errc::ok;
}

Errc Journal::append(RecordType type, std::uint64_t aux, const void* payload, std::size_t size,
                     std::int64_t now_ns) noexcept {
  if (count_ == cfg_.max_records) return Errc::capacity;
  unsigned char rec[kJournalRecordSize] = {};
  RecordHeader h{};
  h.magic = kMagic;
  h.seq = ++seq_;
  h.time_ns = now_ns;
  h.aux = aux;
  h.type = static_cast<std::uint16_t>(type);
  h.payload_size = static_cast<std::uint16_t>(size);
  std::memcpy(rec, &h, sizeof h);
  std::memcpy(rec + sizeof h, payload, size);
  h.crc = crc32c(rec, sizeof rec);
  std::memcpy(rec + offsetof(RecordHeader, crc), &h.crc, sizeof h.crc);
  // Body first, header (with magic) last: a crash in between leaves a record that fails the CRC.
  unsigned char* dst = map_ + count_ * kJournalRecordSize;
  std::memcpy(dst + sizeof h, rec + sizeof h, kJournalRecordSize - sizeof h);
  std::memcpy(dst, rec, sizeof h);
  ++count_;
  published_.store(count_, std::memory_order_release);
  switch (cfg_.fsync) {
    case FsyncPolicy::none: return Errc::ok;
    case FsyncPolicy::every_record: return sync();
    case FsyncPolicy::interval:
      if (flush_failed_.load(std::memory_order_relaxed)) [[unlikely]] {
        flush_failed_.store(false, std::memory_order_relaxed);
        return Errc::io;
      }
      return Errc::ok;
  }
  return Errc::ok;
}

Errc Journal::append_order(const OrderSpec& o, std::uint64_t next_client_counter, std::int64_t now_ns) noexcept {
  return append(RecordType::order, next_client_counter, &o, sizeof o, now_ns);
}
Errc Journal::append_cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  return append(RecordType::cancel, 0, &id, sizeof id, now_ns);
}
Errc Journal::append_unknown(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  return append(RecordType::unknown, 0, &id, sizeof id, now_ns);
}
Errc Journal::append_report(const ExecReport& r, std::int64_t now_ns) noexcept {
  return append(RecordType::report, 0, &r, sizeof r, now_ns);
}
Errc Journal::append_position(const Position& p, std::int64_t now_ns) noexcept {
  return append(RecordType::position, 0, &p, sizeof p, now_ns);
}

std::vector<const OrderState*> JournalReplay::open_orders() const {
  std::vector<const OrderState*> out;
  for (const OrderState& o : orders) {
    if (is_working(o.status)) out.push_back(&o);
  }
  return out;
}

JournalReplay Journal::replay(const std::string& path, std::size_t max_records) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("journal replay " + path + ": open failed: " + errno_text());
  JournalReplay out;
  std::unordered_map<std::uint64_t, std::size_t> order_index;     // client id hash -> orders index
  std::unordered_map<std::uint32_t, std::size_t> position_index;  // position id -> positions index
  unsigned char rec[kJournalRecordSize];
  RecordHeader h{};
  while (out.records < max_records) {
    const ssize_t n = ::pread(fd, rec, sizeof rec, static_cast<off_t>(out.records * kJournalRecordSize));
    if (n < 0) {
      const std::string why = errno_text();
      ::close(fd);
      throw Error("journal replay " + path + ": read failed: " + why);
    }
    if (n == 0) break;
    if (static_cast<std::size_t>(n) < sizeof rec) {
      out.torn_tail = true;
      break;
    }
    const Check c = check_record(rec, out.records + 1, h);
    if (c == Check::end) break;
    if (c == Check::torn) {
      out.torn_tail = true;
      break;
    }
    ++out.records;
    const unsigned char* payload = rec + sizeof(RecordHeader);
    auto find_order = [&](const ClientOrderId& id) -> OrderState* {
      const auto it = order_index.find(id.hash());
      return it == order_index.end() ? nullptr : &out.orders[it->second];
    };
    switch (static_cast<RecordType>(h.type)) {
      case RecordType::order: {
        OrderState o{};
        std::memcpy(&o.spec, payload, sizeof o.spec);
        (void)mark_sent(o);  // journaled just before sending
        order_index[o.client_id().hash()] = out.orders.size();
        out.orders.push_back(o);
        if (h.aux > out.next_client_counter) out.next_client_counter = h.aux;
        break;
      }
      case RecordType::cancel: {
        ClientOrderId id;
        std::memcpy(&id, payload, sizeof id);
        if (OrderState* o = find_order(id)) (void)mark_cancel_sent(*o);
        break;
      }
      case RecordType::unknown: {
        ClientOrderId id;
        std::memcpy(&id, payload, sizeof id);
        if (OrderState* o = find_order(id)) (void)mark_unknown(*o);
        break;
      }
      case RecordType::report: {
        ExecReport r{};
        std::memcpy(&r, payload, sizeof r);
        if (OrderState* o = find_order(r.client_id)) (void)apply(*o, r);
        break;
      }
      case RecordType::position: {
        Position p{};
        std::memcpy(&p, payload, sizeof p);
        const auto it = position_index.find(p.id);
        if (it == position_index.end()) {
          position_index[p.id] = out.positions.size();
          out.positions.push_back(p);
        } else {
          out.positions[it->second] = p;
        }
        break;
      }
    }
  }
  ::close(fd);
  // Sent but never answered: the venue may or may not have it.
  for (OrderState& o : out.orders) {
    if (o.status == OrderStatus::pending_new || o.status == OrderStatus::pending_cancel) (void)mark_unknown(o);
  }
  return out;
}

}  // namespace enigma::oms
