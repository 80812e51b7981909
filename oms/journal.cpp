#include "oms/journal.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "core/logger.hpp"
#include "core/prefault.hpp"

namespace enigma::oms {
namespace {

constexpr std::uint32_t kMagic = 0x4A4D4E45;  // "ENMJ": every record

struct RecordHeader {
  std::uint32_t magic;
  std::uint32_t crc;        // CRC-32C of the whole record with this field zero
  std::uint64_t seq;        // live records 1, 2, 3, ... across the chain; snapshot records 1..n per segment
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

// A snapshot order record: OrderState without its padding, last_venue_seq in the header's aux and
// last_venue_time_ns in its time field (the struct with its padding would not fit the payload room of 216).
constexpr std::size_t kPackedOrderSize = sizeof(OrderSpec) + sizeof(VenueOrderId) + 3 * sizeof(std::int64_t) + 3;
static_assert(kPackedOrderSize <= kPayloadCapacity, "a packed OrderState must fit one snapshot record");

std::size_t pack_order(const OrderState& o, unsigned char* out) noexcept {
  unsigned char* p = out;
  auto put = [&p](const auto& v) {
    std::memcpy(p, &v, sizeof v);
    p += sizeof v;
  };
  put(o.spec);
  put(o.venue_order_id);
  put(o.filled);
  put(o.filled_notional);
  put(o.fees);
  put(o.status);
  put(o.status_before_cancel);
  put(o.reason);
  return static_cast<std::size_t>(p - out);
}

// An order record's OrderSpec as written: version 1 (before OrderSpec::display_qty) wrote 8 bytes fewer, and
// a record's payload_size says which; the fields a shorter spec lacks stay zero (no iceberg).
constexpr std::size_t kOrderSpecV1Size = sizeof(OrderSpec) - sizeof(Qty);
static_assert(offsetof(OrderSpec, display_qty) == kOrderSpecV1Size, "display_qty must stay OrderSpec's last field");
constexpr std::size_t kPackedTail = kPackedOrderSize - sizeof(OrderSpec);  // what follows the spec in a packed order

[[nodiscard]] std::size_t spec_bytes(std::size_t written) noexcept { return written < sizeof(OrderSpec) ? kOrderSpecV1Size : sizeof(OrderSpec); }

// `payload_size`: the record's, so a version-1 snapshot (shorter spec) unpacks too.
OrderState unpack_order(const unsigned char* in, std::size_t payload_size, std::uint64_t last_venue_seq,
                        std::int64_t last_venue_time_ns) noexcept {
  OrderState o{};
  const unsigned char* p = in;
  auto get = [&p](auto& v) {
    std::memcpy(&v, p, sizeof v);
    p += sizeof v;
  };
  const std::size_t spec = spec_bytes(payload_size - kPackedTail);
  std::memcpy(&o.spec, p, spec);
  p += spec;
  get(o.venue_order_id);
  get(o.filled);
  get(o.filled_notional);
  get(o.fees);
  get(o.status);
  get(o.status_before_cancel);
  get(o.reason);
  o.last_venue_seq = last_venue_seq;
  o.last_venue_time_ns = last_venue_time_ns;
  return o;
}

// The header slot of a segment (the first 256 bytes; the rest of the slot is zero).
struct SegmentHeader {
  char magic[8];                   // "ENIGJRN1": a foreign or zeroed file is refused
  std::uint32_t version;           // kJournalVersion
  std::uint32_t record_size;       // kJournalRecordSize
  std::uint64_t index;             // 0, 1, 2, ... (must match the file name)
  std::uint64_t capacity;          // record slots after this one
  std::uint64_t snapshot_seq;      // the snapshot holds the state after this live record (0: none)
  std::uint64_t snapshot_records;  // slots 1..n hold the snapshot
  std::uint32_t reserved;
  std::uint32_t crc;               // CRC-32C of the 256-byte slot with this field zero
};
static_assert(sizeof(SegmentHeader) == 56);

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

std::string errno_text(int e = errno) { return std::strerror(e); }

bool all_zero(const unsigned char* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

std::uint32_t slot_crc(const unsigned char* slot, std::size_t crc_offset) noexcept {
  unsigned char copy[kJournalRecordSize];
  std::memcpy(copy, slot, sizeof copy);
  std::memset(copy + crc_offset, 0, sizeof(std::uint32_t));
  return crc32c(copy, sizeof copy);
}

// Validates the record at `p`. `expected_seq` 0 accepts any sequence number (first record of a chain
// whose earlier segments are not read).
enum class Check : std::uint8_t { ok, end, bad };
Check check_record(const unsigned char* p, std::uint64_t expected_seq, RecordHeader& h, const char*& why) noexcept {
  std::memcpy(&h, p, sizeof h);
  if (h.magic == 0 && all_zero(p, kJournalRecordSize)) return Check::end;
  if (h.magic != kMagic) {
    why = h.magic == 0 ? "record header not written (zero magic)" : "bad record magic";
    return Check::bad;
  }
  if (h.payload_size > kPayloadCapacity) {
    why = "payload size larger than a record";
    return Check::bad;
  }
  if (slot_crc(p, offsetof(RecordHeader, crc)) != h.crc) {
    why = "record CRC mismatch";
    return Check::bad;
  }
  if (expected_seq != 0 && h.seq != expected_seq) {
    why = "record sequence number out of order";
    return Check::bad;
  }
  return Check::ok;
}

void encode_record(unsigned char* rec, RecordType type, std::uint64_t seq, std::uint64_t aux, const void* payload,
                   std::size_t size, std::int64_t now_ns) noexcept {
  std::memset(rec, 0, kJournalRecordSize);
  RecordHeader h{};
  h.magic = kMagic;
  h.seq = seq;
  h.time_ns = now_ns;
  h.aux = aux;
  h.type = static_cast<std::uint16_t>(type);
  h.payload_size = static_cast<std::uint16_t>(size);
  std::memcpy(rec, &h, sizeof h);
  if (size > 0) std::memcpy(rec + sizeof h, payload, size);
  h.crc = crc32c(rec, kJournalRecordSize);
  std::memcpy(rec + offsetof(RecordHeader, crc), &h.crc, sizeof h.crc);
}

void encode_segment_header(unsigned char* slot, std::uint64_t index, std::size_t capacity, std::uint64_t snapshot_seq,
                           std::size_t snapshot_records) noexcept {
  std::memset(slot, 0, kJournalRecordSize);
  SegmentHeader h{};
  std::memcpy(h.magic, kJournalMagic, sizeof h.magic);
  h.version = kJournalVersion;
  h.record_size = static_cast<std::uint32_t>(kJournalRecordSize);
  h.index = index;
  h.capacity = capacity;
  h.snapshot_seq = snapshot_seq;
  h.snapshot_records = snapshot_records;
  std::memcpy(slot, &h, sizeof h);
  h.crc = slot_crc(slot, offsetof(SegmentHeader, crc));
  std::memcpy(slot + offsetof(SegmentHeader, crc), &h.crc, sizeof h.crc);
}

std::uint64_t slot_offset(std::size_t slot) noexcept { return static_cast<std::uint64_t>(slot) * kJournalRecordSize; }

// ---- state rebuilt from records (replay, journal-check, and the background thread's snapshots) ----------

class StateBuilder {
 public:
  void apply(const RecordHeader& h, const unsigned char* payload) {
    const auto type = static_cast<RecordType>(h.type);
    if (h.type < std::size(out_.counts)) ++out_.counts[h.type];
    switch (type) {
      case RecordType::order: {
        OrderState o{};
        std::memcpy(&o.spec, payload, spec_bytes(h.payload_size));
        (void)mark_sent(o);  // journaled just before sending
        add_order(o);
        if (h.aux > out_.next_client_counter) out_.next_client_counter = h.aux;
        break;
      }
      case RecordType::snapshot_order: {
        add_order(unpack_order(payload, h.payload_size, h.aux, h.time_ns));
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
        if (OrderState* o = find_order(r.client_id)) (void)apply_report(*o, r);
        break;
      }
      case RecordType::position:
      case RecordType::snapshot_position: {
        Position p{};
        std::memcpy(&p, payload, sizeof p);
        const auto it = position_index_.find(p.id);
        if (it == position_index_.end()) {
          position_index_[p.id] = out_.positions.size();
          out_.positions.push_back(p);
        } else {
          out_.positions[it->second] = p;
        }
        if (p.id > out_.max_position_id) out_.max_position_id = p.id;
        break;
      }
      case RecordType::snapshot_meta: {
        if (h.aux > out_.next_client_counter) out_.next_client_counter = h.aux;
        std::uint32_t max_id = 0;
        std::memcpy(&max_id, payload, sizeof max_id);
        if (max_id > out_.max_position_id) out_.max_position_id = max_id;
        break;
      }
    }
  }

  // The open state as snapshot records (cold path). Drops finished orders and closed positions from the
  // builder too, so the background thread's copy stays as small as the open state.
  struct SnapshotRecord {
    RecordType type;
    std::uint64_t aux;
    std::array<unsigned char, kPayloadCapacity> payload;
    std::size_t size;
    std::int64_t time_ns;
  };
  std::vector<SnapshotRecord> snapshot() {
    compact();
    std::vector<SnapshotRecord> recs;
    SnapshotRecord meta{RecordType::snapshot_meta, out_.next_client_counter, {}, sizeof(std::uint32_t), 0};
    std::memcpy(meta.payload.data(), &out_.max_position_id, sizeof(std::uint32_t));
    recs.push_back(meta);
    for (const OrderState& o : out_.orders) {
      SnapshotRecord r{RecordType::snapshot_order, o.last_venue_seq, {}, 0, o.last_venue_time_ns};
      r.size = pack_order(o, r.payload.data());
      recs.push_back(r);
    }
    for (const Position& p : out_.positions) {
      SnapshotRecord r{RecordType::snapshot_position, 0, {}, sizeof p, 0};
      std::memcpy(r.payload.data(), &p, sizeof p);
      recs.push_back(r);
    }
    return recs;
  }

  [[nodiscard]] JournalReplay& state() noexcept { return out_; }

  // What replay returns: sent-but-unanswered orders become UNKNOWN (the venue may or may not have them).
  [[nodiscard]] JournalReplay finish() const {
    JournalReplay r = out_;
    for (OrderState& o : r.orders) {
      if (o.status == OrderStatus::pending_new || o.status == OrderStatus::pending_cancel) (void)mark_unknown(o);
    }
    return r;
  }

 private:
  static ApplyResult apply_report(OrderState& o, const ExecReport& r) noexcept { return oms::apply(o, r); }
  OrderState* find_order(const ClientOrderId& id) {
    const auto it = order_index_.find(id.hash());
    return it == order_index_.end() ? nullptr : &out_.orders[it->second];
  }
  void add_order(const OrderState& o) {
    order_index_[o.client_id().hash()] = out_.orders.size();
    out_.orders.push_back(o);
  }
  void compact() {
    std::erase_if(out_.orders, [](const OrderState& o) { return !is_working(o.status); });
    std::erase_if(out_.positions, [](const Position& p) { return p.state == PositionState::closed; });
    order_index_.clear();
    for (std::size_t i = 0; i < out_.orders.size(); ++i) order_index_[out_.orders[i].client_id().hash()] = i;
    position_index_.clear();
    for (std::size_t i = 0; i < out_.positions.size(); ++i) position_index_[out_.positions[i].id] = i;
  }

  JournalReplay out_;
  std::unordered_map<std::uint64_t, std::size_t> order_index_;     // client id hash -> orders index
  std::unordered_map<std::uint32_t, std::size_t> position_index_;  // position id -> positions index
};

// ---- reading segments -----------------------------------------------------------------------------------

// A segment file mapped read-only (or the writer's own map), validated slot by slot.
struct SegmentScan {
  JournalSegmentInfo info;
  std::optional<JournalDamage> damage;
  std::size_t torn_slot{0};  // slot of the torn record (info.torn_tail)
};

// Validates the header and every slot of a segment. `expected_first_seq` 0: unknown (accept any).
SegmentScan scan_segment(const std::string& path, std::uint64_t expected_index, const unsigned char* data,
                         std::size_t bytes, std::uint64_t expected_first_seq) {
  SegmentScan s;
  s.info.path = path;
  s.info.index = expected_index;
  auto damaged = [&](std::uint64_t offset, std::string why) {
    s.damage = JournalDamage{path, offset, std::move(why)};
    return s;
  };
  if (bytes < kJournalRecordSize) {
    return damaged(0, "file is " + std::to_string(bytes) + " bytes, too short for a journal header (" +
                          std::to_string(kJournalRecordSize) + " bytes)");
  }
  SegmentHeader h{};
  std::memcpy(&h, data, sizeof h);
  if (std::memcmp(h.magic, kJournalMagic, sizeof h.magic) != 0) return damaged(0, "not an enigma journal (no ENIGJRN1 magic)");
  if (slot_crc(data, offsetof(SegmentHeader, crc)) != h.crc) return damaged(0, "segment header CRC mismatch");
  // Version 1 segments (before the iceberg display size) are read as they are: each record's payload_size
  // tells its OrderSpec's length, so an upgraded engine resumes an older journal and appends to it.
  if (h.version != kJournalVersion && h.version != 1)
    return damaged(8, "unsupported journal version " + std::to_string(h.version));
  if (h.record_size != kJournalRecordSize) return damaged(12, "record size " + std::to_string(h.record_size) + " is not 256");
  if (h.index != expected_index) {
    return damaged(16, "header says segment " + std::to_string(h.index) + ", file name says " + std::to_string(expected_index));
  }
  const std::uint64_t want = (h.capacity + 1) * kJournalRecordSize;
  if (h.capacity == 0 || h.capacity > (std::uint64_t{1} << 40) || want != bytes) {
    return damaged(24, "file is " + std::to_string(bytes) + " bytes but its header promises " + std::to_string(h.capacity) +
                           " records (" + std::to_string(want) + " bytes)");
  }
  if (h.snapshot_records > h.capacity || (expected_index == 0 && h.snapshot_records != 0)) {
    return damaged(40, "snapshot of " + std::to_string(h.snapshot_records) + " records does not fit the segment");
  }
  s.info.capacity = h.capacity;
  s.info.snapshot_seq = h.snapshot_seq;
  s.info.snapshot_records = h.snapshot_records;
  RecordHeader r{};
  const char* why = "";
  // The snapshot is written and synced before the segment gets its name: every record must be there.
  for (std::size_t slot = 1; slot <= h.snapshot_records; ++slot) {
    const unsigned char* p = data + slot_offset(slot);
    const Check c = check_record(p, slot, r, why);
    if (c != Check::ok) return damaged(slot_offset(slot), std::string("snapshot record: ") + (c == Check::end ? "missing" : why));
    if (r.type < static_cast<std::uint16_t>(RecordType::snapshot_order) || r.type >= std::size(s.info.by_type)) {
      return damaged(slot_offset(slot), "snapshot record of type " + std::to_string(r.type));
    }
    ++s.info.by_type[r.type];
  }
  std::uint64_t expect = expected_first_seq;
  for (std::size_t slot = h.snapshot_records + 1; slot <= h.capacity; ++slot) {
    const unsigned char* p = data + slot_offset(slot);
    const Check c = check_record(p, expect, r, why);
    if (c == Check::ok) {
      if (r.type == 0 || r.type >= static_cast<std::uint16_t>(RecordType::snapshot_order)) {
        return damaged(slot_offset(slot), "unknown record type " + std::to_string(r.type));
      }
      ++s.info.by_type[r.type];
      if (s.info.live_records == 0) s.info.first_seq = r.seq;
      s.info.last_seq = r.seq;
      ++s.info.live_records;
      expect = r.seq + 1;
      continue;
    }
    // The end or a torn last write only if nothing was ever written after it.
    const std::size_t rest_from = slot_offset(slot + 1);
    if (!all_zero(data + rest_from, bytes - rest_from)) {
      std::size_t first = rest_from;
      while (data[first] == 0) ++first;
      const std::uint64_t at = slot_offset(first / kJournalRecordSize);
      if (c == Check::end) return damaged(at, "data after the end of the journal (the slot at offset " + std::to_string(slot_offset(slot)) + " is empty)");
      return damaged(slot_offset(slot), std::string(why) + ", followed by more records (corruption, not a torn tail)");
    }
    if (c == Check::bad) {
      s.info.torn_tail = true;
      s.torn_slot = slot;
    }
    break;
  }
  return s;
}

std::string stem_of(const std::string& path, std::string& ext) {
  const std::size_t slash = path.rfind('/');
  const std::size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == (slash == std::string::npos ? 0 : slash + 1)) {
    ext.clear();
    return path;
  }
  ext = path.substr(dot);
  return path.substr(0, dot);
}

// Existing segments of the chain of `path`, in index order. Throws on a gap in the numbering.
std::vector<std::pair<std::uint64_t, std::string>> find_segments(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::uint64_t, std::string>> out;
  std::error_code ec;
  if (fs::exists(path, ec)) out.emplace_back(0, path);
  std::string ext;
  const std::string stem = stem_of(path, ext);
  const fs::path stem_path(stem);
  const fs::path dir = stem_path.has_parent_path() ? stem_path.parent_path() : fs::path(".");
  const std::string prefix = stem_path.filename().string() + ".";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() < prefix.size() + 6 + ext.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (name.compare(name.size() - ext.size(), ext.size(), ext) != 0) continue;
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - ext.size());
    if (digits.size() < 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    const std::uint64_t index = std::stoull(digits);
    if (index == 0 || journal_segment_path(path, index) != (dir / name).string()) continue;
    out.emplace_back(index, journal_segment_path(path, index));
  }
  std::sort(out.begin(), out.end());
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].first != out[i - 1].first + 1) {
      throw Error("journal " + path + ": segment " + std::to_string(out[i - 1].first + 1) + " (" +
                  journal_segment_path(path, out[i - 1].first + 1) + ") is missing between " + out[i - 1].second +
                  " and " + out[i].second);
    }
  }
  return out;
}

// A file mapped read-only for scanning.
class ReadMap {
 public:
  explicit ReadMap(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error("journal " + path + ": open failed: " + errno_text());
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const std::string why = errno_text();
      ::close(fd_);
      throw Error("journal " + path + ": stat failed: " + why);
    }
    bytes_ = static_cast<std::size_t>(st.st_size);
    if (bytes_ > 0) {
      void* m = ::mmap(nullptr, bytes_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (m == MAP_FAILED) {
        const std::string why = errno_text();
        ::close(fd_);
        throw Error("journal " + path + ": mmap failed: " + why);
      }
      data_ = static_cast<const unsigned char*>(m);
    }
  }
  ReadMap(const ReadMap&) = delete;
  ReadMap& operator=(const ReadMap&) = delete;
  ~ReadMap() {
    if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), bytes_);
    ::close(fd_);
  }
  [[nodiscard]] const unsigned char* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_; }

 private:
  int fd_{-1};
  const unsigned char* data_{nullptr};
  std::size_t bytes_{0};
};

void apply_live(StateBuilder& b, const unsigned char* data, const JournalSegmentInfo& info, std::uint64_t after_seq,
                std::size_t max_seq) {
  RecordHeader h{};
  for (std::size_t i = 0; i < info.live_records; ++i) {
    const unsigned char* p = data + slot_offset(info.snapshot_records + 1 + i);
    std::memcpy(&h, p, sizeof h);
    if (h.seq <= after_seq) continue;
    if (h.seq > max_seq) return;
    b.apply(h, p + sizeof h);
    b.state().records = h.seq;
  }
}

void apply_snapshot(StateBuilder& b, const unsigned char* data, const JournalSegmentInfo& info) {
  RecordHeader h{};
  for (std::size_t slot = 1; slot <= info.snapshot_records; ++slot) {
    const unsigned char* p = data + slot_offset(slot);
    std::memcpy(&h, p, sizeof h);
    b.apply(h, p + sizeof h);
  }
  b.state().records = info.snapshot_seq;
}

// Rebuilds the state of a chain from the segments replay needs. `maps[i]` holds the bytes of `chain[i]`;
// the caller supplies them so that the writer can scan its own read-write map. Returns the damage found.
struct ChainFile {
  std::uint64_t index;
  std::string path;
  const unsigned char* data;
  std::size_t bytes;
};
std::optional<JournalDamage> replay_chain(const std::vector<ChainFile>& chain, std::size_t max_seq, StateBuilder& b,
                                          std::vector<SegmentScan>& scans) {
  // Which segments are needed: the last, and before it every segment back to the one holding the record
  // after the last segment's snapshot.
  scans.clear();
  if (chain.empty()) return std::nullopt;
  std::vector<SegmentScan> rev;
  std::size_t first = chain.size() - 1;
  rev.push_back(scan_segment(chain[first].path, chain[first].index, chain[first].data, chain[first].bytes, 0));
  if (rev.back().damage) return rev.back().damage;
  const std::uint64_t snap = rev.back().info.snapshot_seq;
  const bool last_is_enough = rev.back().info.index == 0 ||
                              (rev.back().info.live_records > 0 && rev.back().info.first_seq <= snap + 1);
  // Records journaled after the snapshot but before the switch sit in the segment(s) before it.
  while (!last_is_enough && first > 0) {
    --first;
    rev.push_back(scan_segment(chain[first].path, chain[first].index, chain[first].data, chain[first].bytes, 0));
    if (rev.back().damage) return rev.back().damage;
    if (rev.back().info.live_records > 0 && rev.back().info.first_seq <= snap + 1) break;
  }
  scans.assign(rev.rbegin(), rev.rend());
  // The state starts from the snapshot of the last segment (none in segment 0).
  const SegmentScan& last = scans.back();
  if (last.info.index > 0) apply_snapshot(b, chain.back().data, last.info);
  std::uint64_t next = snap + 1;
  for (std::size_t i = 0; i < scans.size(); ++i) {
    const JournalSegmentInfo& info = scans[i].info;
    if (info.live_records == 0 || info.last_seq < next) continue;
    if (info.first_seq > next) {
      return JournalDamage{info.path, slot_offset(info.snapshot_records + 1),
                           "records " + std::to_string(next) + ".." + std::to_string(info.first_seq - 1) +
                               " are missing from the segment chain"};
    }
    apply_live(b, chain[first + i].data, info, next - 1, max_seq);
    next = info.last_seq + 1;
  }
  for (const SegmentScan& s : scans) b.state().torn_tail = b.state().torn_tail || s.info.torn_tail;
  b.state().segments = chain.size();
  b.state().segments_read = scans.size();
  return std::nullopt;
}

std::uint64_t free_bytes(const std::string& path) noexcept {
  std::string dir = path;
  const std::size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0) return 0;
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
}

// Creates/opens `path`, reserves `bytes` on disk and maps it read-write. Throws enigma::Error naming the
// file (`shown`, when the file is a temporary name for it) and, for a reservation failure, the bytes
// needed and free.
void open_and_map(const std::string& path, std::size_t bytes, bool truncate, int& fd, unsigned char*& map,
                  const std::string& shown = {}) {
  const std::string& name = shown.empty() ? path : shown;
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
  if (fd < 0) throw Error("journal " + path + ": open failed: " + errno_text());
  // posix_fallocate makes the blocks real: writes through the map can then never fault for lack of space.
  if (const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); rc != 0) {
    const std::uint64_t avail = free_bytes(path);
    ::close(fd);
    if (!existed || truncate) ::unlink(path.c_str());
    throw Error("journal " + name + ": cannot reserve " + std::to_string(bytes) + " bytes on disk (" + std::to_string(avail) +
                " bytes free, " + std::to_string(bytes > avail ? bytes - avail : 0) + " bytes missing): " + errno_text(rc));
  }
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    const std::string why = errno_text();
    ::close(fd);
    throw Error("journal " + path + ": mmap failed: " + why);
  }
  map = static_cast<unsigned char*>(m);
  // Every page of a fresh segment would otherwise fault on the first record written to it (16 records per
  // 4 KiB page: a fault every few orders); the file's content is unchanged.
  prefault_writable(map, bytes);
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


std::string journal_segment_path(const std::string& path, std::uint64_t index) {
  if (index == 0) return path;
  std::string ext;
  const std::string stem = stem_of(path, ext);
  char digits[32];
  std::snprintf(digits, sizeof digits, ".%06llu", static_cast<unsigned long long>(index));
  return stem + digits + ext;
}

std::string_view to_string(RecordType t) noexcept {
  switch (t) {
    case RecordType::order: return "order";
    case RecordType::cancel: return "cancel";
    case RecordType::report: return "report";
    case RecordType::position: return "position";
    case RecordType::unknown: return "unknown";
    case RecordType::snapshot_order: return "snapshot_order";
    case RecordType::snapshot_position: return "snapshot_position";
    case RecordType::snapshot_meta: return "snapshot_meta";
  }
  return "?";
}

std::string JournalDamage::message() const { return file + ": offset " + std::to_string(offset) + ": " + reason; }

std::vector<const OrderState*> JournalReplay::open_orders() const {
  std::vector<const OrderState*> out;
  for (const OrderState& o : orders) {
    if (is_working(o.status)) out.push_back(&o);
  }
  return out;
}

JournalInspection inspect_journal(const std::string& path) {
  JournalInspection out;
  const auto files = find_segments(path);
  if (files.empty()) throw Error("journal " + path + ": no such journal (no segment files)");
  std::vector<std::unique_ptr<ReadMap>> maps;
  std::vector<ChainFile> chain;
  std::uint64_t expect = 0;
  for (const auto& [index, p] : files) {
    maps.push_back(std::make_unique<ReadMap>(p));
    chain.push_back({index, p, maps.back()->data(), maps.back()->size()});
    SegmentScan s = scan_segment(p, index, maps.back()->data(), maps.back()->size(), 0);
    if (!s.damage && s.info.live_records > 0 && expect != 0 && s.info.first_seq != expect) {
      s.damage = JournalDamage{p, slot_offset(s.info.snapshot_records + 1),
                               "first record has sequence number " + std::to_string(s.info.first_seq) + ", expected " +
                                   std::to_string(expect) + " after the previous segment"};
    }
    out.segments.push_back(s.info);
    if (s.damage && !out.damage) out.damage = s.damage;
    if (s.info.live_records > 0) expect = s.info.last_seq + 1;
  }
  if (out.damage) return out;
  StateBuilder b;
  std::vector<SegmentScan> scans;
  if (auto d = replay_chain(chain, SIZE_MAX, b, scans)) {
    out.damage = d;
    return out;
  }
  out.state = b.finish();
  return out;
}

JournalReplay Journal::replay(const std::string& path, std::size_t max_records) {
  const auto files = find_segments(path);
  if (files.empty()) throw Error("journal replay " + path + ": open failed: no such file");
  std::vector<std::unique_ptr<ReadMap>> maps;
  std::vector<ChainFile> chain;
  // Only the last two segments can be needed in the common case; replay_chain reads further back if not.
  for (const auto& [index, p] : files) {
    maps.push_back(std::make_unique<ReadMap>(p));
    chain.push_back({index, p, maps.back()->data(), maps.back()->size()});
  }
  StateBuilder b;
  std::vector<SegmentScan> scans;
  if (auto d = replay_chain(chain, max_records, b, scans)) throw Error("journal replay: damaged journal refused: " + d->message());
  return b.finish();
}

// ---- the writer -----------------------------------------------------------------------------------------

// State of the background thread: the journal replayed up to `applied` (for the next snapshot), where it
// reads next, and how far the active segment is synced.
struct Journal::Background {
  StateBuilder state;
  std::uint64_t applied{0};
  std::size_t seg{0};          // seg_ index being followed
  std::size_t slot{1};         // next slot to read there
  std::size_t synced_slot{0};  // slots of seg_[seg] known durable
  std::chrono::steady_clock::time_point next_sync{};
  std::chrono::steady_clock::time_point next_retry{};
};

Journal::Journal(std::string path, JournalConfig cfg) : path_(std::move(path)), cfg_(cfg), bg_(std::make_unique<Background>()) {
  if (cfg_.max_records < 2) throw Error("journal " + path_ + ": max_records must be >= 2");
  if (!(cfg_.rollover_at > 0.0 && cfg_.rollover_at <= 1.0)) cfg_.rollover_at = 0.75;
  page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  auto files = find_segments(path_);
  if (files.empty() || (files.size() == 1 && files[0].first == 0 && std::filesystem::file_size(path_) == 0)) {
    // New journal (an empty file is one whose creation was interrupted before its header was written).
    Segment& s = seg_[0];
    s.path = path_;
    s.capacity = cfg_.max_records;
    open_and_map(s.path, (s.capacity + 1) * kJournalRecordSize, false, s.fd, s.map);
    encode_segment_header(s.map, 0, s.capacity, 0, 0);
    files.assign(1, {0, path_});
  }
  // Scan the chain: everything but the last segment read-only, the last through its writable map.
  std::vector<std::unique_ptr<ReadMap>> maps;
  std::vector<ChainFile> chain;
  for (std::size_t i = 0; i + 1 < files.size(); ++i) {
    maps.push_back(std::make_unique<ReadMap>(files[i].second));
    chain.push_back({files[i].first, files[i].second, maps.back()->data(), maps.back()->size()});
  }
  Segment& s = seg_[0];
  if (s.map == nullptr) {
    s.path = files.back().second;
    s.index = files.back().first;
    {
      // Validate before mapping writable: a damaged file must be left byte for byte as it is.
      ReadMap ro(s.path);
      const SegmentScan scan = scan_segment(s.path, s.index, ro.data(), ro.size(), 0);
      if (scan.damage) throw Error("journal " + path_ + ": damaged journal refused: " + scan.damage->message());
      s.capacity = scan.info.capacity;
    }
    // Reserving again is a no-op for an allocated file and makes a sparse copy real.
    open_and_map(s.path, (s.capacity + 1) * kJournalRecordSize, false, s.fd, s.map);
  }
  chain.push_back({s.index, s.path, s.map, (s.capacity + 1) * kJournalRecordSize});
  std::vector<SegmentScan> scans;
  try {
    if (auto d = replay_chain(chain, SIZE_MAX, bg_->state, scans)) throw Error("journal " + path_ + ": damaged journal refused: " + d->message());
  } catch (...) {
    ::munmap(s.map, (s.capacity + 1) * kJournalRecordSize);
    ::close(s.fd);
    s.map = nullptr;
    s.fd = -1;
    throw;
  }
  const JournalSegmentInfo& last = scans.back().info;
  s.first_live_slot = last.snapshot_records + 1;
  seq_ = bg_->state.state().records;
  s.first_seq = last.live_records > 0 ? last.first_seq : seq_ + 1;
  count_ = last.snapshot_records + last.live_records;
  if (scans.back().info.torn_tail) {
    // A torn last write: wipe it so the next append (which reuses its slot) cannot be confused with it.
    torn_tail_ = true;
    std::memset(s.map + slot_offset(scans.back().torn_slot), 0, kJournalRecordSize);
  }
  torn_tail_ = torn_tail_ || bg_->state.state().torn_tail;
  active_ = 0;
  wake_at_ = std::max(s.first_live_slot, static_cast<std::size_t>(static_cast<double>(s.capacity) * cfg_.rollover_at));
  seg_capacity_.store(s.capacity, std::memory_order_relaxed);
  active_index_.store(s.index, std::memory_order_relaxed);
  published_.store(seq_, std::memory_order_relaxed);
  synced_.store(seq_, std::memory_order_relaxed);
  fill_slots_.store(count_, std::memory_order_relaxed);
  bg_->applied = seq_;
  bg_->seg = 0;
  bg_->slot = count_ + 1;
  bg_->synced_slot = count_;
  if (cfg_.fsync_interval_ns < 1'000'000) cfg_.fsync_interval_ns = 1'000'000;
  background_ = std::thread([this] { background_loop(); });
}

Journal::~Journal() {
  if (background_.joinable()) {
    stop_.store(true, std::memory_order_release);
    wake_.notify_one();
    background_.join();
  }
  if (cfg_.fsync != FsyncPolicy::none) (void)sync();
  for (Segment& s : seg_) close_segment(s, cfg_.fsync != FsyncPolicy::none);
}

void Journal::close_segment(Segment& s, bool sync) noexcept {
  if (s.map != nullptr) {
    const std::size_t bytes = (s.capacity + 1) * kJournalRecordSize;
    if (sync) (void)::msync(s.map, bytes, MS_SYNC);
    ::munmap(s.map, bytes);
    s.map = nullptr;
  }
  if (s.fd >= 0) ::close(s.fd);
  s.fd = -1;
}

double Journal::fill_ratio() const noexcept {
  const std::size_t cap = seg_capacity_.load(std::memory_order_relaxed);
  return cap == 0 ? 0.0 : static_cast<double>(fill_slots_.load(std::memory_order_relaxed)) / static_cast<double>(cap);
}

Errc Journal::sync() noexcept {
  const Segment& s = seg_[active_];
  if (s.map == nullptr) return Errc::ok;
  if (::msync(s.map, slot_offset(count_ + 1), MS_SYNC) != 0) return Errc::io;
  synced_.store(seq_, std::memory_order_release);
  return Errc::ok;
}

Errc Journal::fail(Errc e) noexcept {
  append_errors_.fetch_add(1, std::memory_order_relaxed);
  return e;
}

// The active segment is full: switch to the prepared one. If the background thread has not prepared it
// yet (it runs at rollover_at; only a burst faster than its wake-up gets here), wake it and wait.
bool Journal::roll_over() noexcept {
  if (!next_ready_.load(std::memory_order_acquire)) {
    if (prepare_failed_.load(std::memory_order_acquire)) {
      wake_.notify_one();  // retry in the background; this append is refused
      return false;
    }
    waiting_.store(true, std::memory_order_release);
    wake_.notify_one();
    while (!next_ready_.load(std::memory_order_acquire) && !prepare_failed_.load(std::memory_order_acquire)) {
      std::this_thread::yield();
    }
    waiting_.store(false, std::memory_order_release);
    if (!next_ready_.load(std::memory_order_acquire)) return false;
  }
  active_ ^= 1;
  const Segment& s = seg_[active_];
  count_ = s.first_live_slot - 1;
  wake_at_ = std::max(s.first_live_slot, static_cast<std::size_t>(static_cast<double>(s.capacity) * cfg_.rollover_at));
  seg_capacity_.store(s.capacity, std::memory_order_relaxed);
  active_index_.store(s.index, std::memory_order_relaxed);
  next_ready_.store(false, std::memory_order_release);
  return true;
}

Errc Journal::append(RecordType type, std::uint64_t aux, const void* payload, std::size_t size,
                     std::int64_t now_ns) noexcept {
  if (count_ == seg_[active_].capacity) [[unlikely]] {
    if (!roll_over()) return fail(Errc::capacity);
  }
  unsigned char rec[kJournalRecordSize];
  encode_record(rec, type, seq_ + 1, aux, payload, size, now_ns);
  // Body first, header (with magic) last: a crash in between leaves a record that fails the CRC.
  const std::size_t offset = slot_offset(count_ + 1);
  unsigned char* dst = seg_[active_].map + offset;
  std::memcpy(dst + sizeof(RecordHeader), rec + sizeof(RecordHeader), kJournalRecordSize - sizeof(RecordHeader));
  std::memcpy(dst, rec, sizeof(RecordHeader));
  ++count_;
  ++seq_;
  published_.store(seq_, std::memory_order_release);
  fill_slots_.store(count_, std::memory_order_relaxed);
  if (count_ == wake_at_) [[unlikely]] wake_.notify_one();  // time to prepare the next segment
  switch (cfg_.fsync) {
    case FsyncPolicy::none: return Errc::ok;
    case FsyncPolicy::every_record: {
      // msync needs a page-aligned start; earlier records are already durable.
      const std::size_t from = offset / page_ * page_;
      if (::msync(seg_[active_].map + from, offset + kJournalRecordSize - from, MS_SYNC) != 0) return fail(Errc::io);
      synced_.store(seq_, std::memory_order_release);
      return Errc::ok;
    }
    case FsyncPolicy::interval:
      if (flush_failed_.load(std::memory_order_relaxed)) [[unlikely]] {
        flush_failed_.store(false, std::memory_order_relaxed);
        return fail(Errc::io);
      }
      return Errc::ok;
  }
  return Errc::ok;
}

void Journal::background_loop() noexcept {
  // Wakes at least every 10 ms (or the fsync interval when shorter), and at once when the appender crosses
  // the rollover mark or waits at a full segment.
  const auto step = std::chrono::nanoseconds(std::min<std::int64_t>(cfg_.fsync_interval_ns, 10'000'000));
  bg_->next_sync = std::chrono::steady_clock::now() + std::chrono::nanoseconds(cfg_.fsync_interval_ns);
  while (!stop_.load(std::memory_order_acquire)) {
    {
      std::unique_lock<std::mutex> lk(wake_mu_);
      wake_.wait_for(lk, step);
    }
    try {
      background_step();
    } catch (...) {
      // Allocation failure while following the journal: rollover cannot be prepared.
      prepare_failed_.store(true, std::memory_order_release);
    }
  }
}

void Journal::background_step() {
  Background& b = *bg_;
  const std::uint64_t published = published_.load(std::memory_order_acquire);
  // Follow the records written since the last step (they are complete: published with release).
  RecordHeader h{};
  while (b.applied < published) {
    if (b.slot > seg_[b.seg].capacity) {
      // The appender has moved on to the next segment (it wrote a record there): retire this one.
      ENIGMA_LOG_INFO("journal", "journal_rollover closed_segment={} next_segment={}", seg_[b.seg].index, seg_[b.seg ^ 1].index);
      close_segment(seg_[b.seg], cfg_.fsync == FsyncPolicy::interval);
      b.seg ^= 1;
      b.slot = seg_[b.seg].first_live_slot;
      b.synced_slot = b.slot - 1;
    }
    const unsigned char* p = seg_[b.seg].map + slot_offset(b.slot);
    std::memcpy(&h, p, sizeof h);
    b.state.apply(h, p + sizeof h);
    b.applied = h.seq;
    ++b.slot;
  }
  const auto now = std::chrono::steady_clock::now();
  if (cfg_.fsync == FsyncPolicy::interval && now >= b.next_sync) {
    b.next_sync = now + std::chrono::nanoseconds(cfg_.fsync_interval_ns);
    const std::size_t upto = b.slot - 1;
    if (upto > b.synced_slot) {
      const std::size_t from = slot_offset(b.synced_slot + 1) / page_ * page_;
      if (::msync(seg_[b.seg].map + from, slot_offset(upto + 1) - from, MS_SYNC) != 0) {
        flush_failed_.store(true, std::memory_order_release);
      } else {
        b.synced_slot = upto;
        synced_.store(b.applied, std::memory_order_release);
      }
    }
  }
  // Prepare the next segment once the followed one is rollover_at full (or the appender is waiting).
  const Segment& cur = seg_[b.seg];
  Segment& next = seg_[b.seg ^ 1];
  if (next_ready_.load(std::memory_order_acquire) || next.map != nullptr) return;
  const bool waiting = waiting_.load(std::memory_order_acquire);
  if (!waiting && (b.slot - 1 < static_cast<std::size_t>(static_cast<double>(cur.capacity) * cfg_.rollover_at))) return;
  if (!waiting && prepare_failed_.load(std::memory_order_relaxed) && now < b.next_retry) return;
  try {
    const auto snap = b.state.snapshot();
    if (snap.size() >= cfg_.max_records) {
      throw Error("journal " + path_ + ": the open state (" + std::to_string(snap.size()) +
                  " snapshot records) does not fit a segment of " + std::to_string(cfg_.max_records) + " records");
    }
    Segment s;
    s.index = cur.index + 1;
    s.path = journal_segment_path(path_, s.index);
    s.capacity = cfg_.max_records;
    s.first_live_slot = snap.size() + 1;
    s.first_seq = cur.first_seq + (cur.capacity - cur.first_live_slot + 1);
    const std::string tmp = s.path + ".tmp";
    open_and_map(tmp, (s.capacity + 1) * kJournalRecordSize, true, s.fd, s.map, s.path);
    encode_segment_header(s.map, s.index, s.capacity, b.applied, snap.size());
    for (std::size_t i = 0; i < snap.size(); ++i) {
      encode_record(s.map + slot_offset(i + 1), snap[i].type, i + 1, snap[i].aux, snap[i].payload.data(), snap[i].size, snap[i].time_ns);
    }
    // Durable before it gets its name: a segment under its final name always has its whole snapshot.
    if (::msync(s.map, slot_offset(snap.size() + 1), MS_SYNC) != 0 || ::rename(tmp.c_str(), s.path.c_str()) != 0) {
      const std::string why = errno_text();
      close_segment(s, false);
      ::unlink(tmp.c_str());
      throw Error("journal " + s.path + ": cannot write the next segment: " + why);
    }
    next = std::move(s);
    prepare_failed_.store(false, std::memory_order_release);
    next_ready_.store(true, std::memory_order_release);
  } catch (const Error& e) {
    b.next_retry = now + std::chrono::seconds(1);
    {
      std::lock_guard lk(error_mu_);
      rollover_error_ = e.what();
    }
    prepare_failed_.store(true, std::memory_order_release);
  }
}

std::string Journal::rollover_error() const {
  if (!prepare_failed_.load(std::memory_order_acquire)) return {};
  std::lock_guard lk(error_mu_);
  return rollover_error_;
}

void encode_order_record_scratch(unsigned char* rec, const OrderSpec& o, std::uint64_t next_client_counter,
                                 std::int64_t now_ns) noexcept {
  encode_record(rec, RecordType::order, 0, next_client_counter, &o, sizeof o, now_ns);
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

}  // namespace enigma::oms
