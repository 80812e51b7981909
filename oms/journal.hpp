// Order journal: append-only file of fixed-size, CRC-protected records, written before an order is sent,
// replayed at start-up to rebuild open orders and positions (DESIGN.md: "a crash loses no order state").
//
// The journal is a chain of segment files ("journal.bin", "journal.000001.bin", ...; journal_segment_path).
// Each starts with a header slot ("ENIGJRN1", version, capacity, snapshot info) and holds `max_records`
// 256-byte record slots, reserved on disk with posix_fallocate when the segment is created (a full disk is
// an error at start-up, never a SIGBUS on a later page fault) and memory-mapped: an append is a memcpy into
// the page cache (no syscall, no allocation), which already survives a process crash (SIGKILL); the fsync
// policy decides when dirty pages are forced to disk for power loss: never, inline after every record (a
// syscall on the order path, for those who want it), or every N ms by the journal's background thread.
//
// Rollover: when the active segment is `rollover_at` full, the background thread (which follows the
// records as they are published) creates the next segment under a temporary name, reserves and maps it,
// writes a snapshot of the open state (open orders, open positions, client-id counter) as of the last
// record it has seen, and renames it into place. The append that finds its segment full just switches
// maps. Replay therefore needs only the last segment and the records of the previous one written after
// its snapshot; old segments are kept (delete them by hand once archived).
//
// Damage: unwritten space is zeros, so the end of a segment is its first all-zero slot. A bad record with
// only zeros after it is a torn last write (tolerated, wiped on open); a bad record, or any data after the
// end, followed by written bytes is corruption, and so is a bad segment header: the journal is refused with
// the file and byte offset and left untouched.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "oms/exec_report.hpp"
#include "oms/order_state.hpp"
#include "oms/position.hpp"

namespace enigma::oms {

enum class FsyncPolicy : std::uint8_t { none, every_record, interval };

struct JournalConfig {
  std::size_t max_records{1 << 20};  // records per segment file (256 B each, reserved with posix_fallocate)
  FsyncPolicy fsync{FsyncPolicy::interval};
  std::int64_t fsync_interval_ns{10'000'000};  // FsyncPolicy::interval: flusher period (wall time, >= 1 ms)
  // Fill ratio of the active segment at which the background thread prepares the next one.
  double rollover_at{0.75};
};

enum class RecordType : std::uint16_t {  // stored in files: never renumber
  order = 1,     // OrderSpec about to be sent; aux = client id generator's next counter
  cancel = 2,    // cancel about to be sent for payload client id
  report = 3,    // ExecReport received
  position = 4,  // Position snapshot after a change
  unknown = 5,   // request timed out / 5xx: order is UNKNOWN until queried
  // Snapshot at the start of a rolled-over segment (state as of the header's snapshot_seq):
  snapshot_order = 6,     // OrderState of an order that may still be live
  snapshot_position = 7,  // Position that is not closed
  snapshot_meta = 8,      // aux = next client counter; payload u32 highest position id ever journaled
};

inline constexpr std::size_t kJournalRecordSize = 256;
// Every segment starts with one record-sized header slot ("ENIGJRN1", version, capacity, snapshot info).
inline constexpr char kJournalMagic[8] = {'E', 'N', 'I', 'G', 'J', 'R', 'N', '1'};
inline constexpr std::uint32_t kJournalVersion = 2;  // 2: OrderSpec::display_qty

// CRC-32C (Castagnoli) of `n` bytes, hardware-accelerated where the build targets SSE4.2.
[[nodiscard]] std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept;
// The same function by table lookup (what a build without SSE4.2 uses); journals are portable.
[[nodiscard]] std::uint32_t crc32c_portable(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept;

// Segment k of the journal configured at `path`: segment 0 is `path` itself, later ones insert a
// six-digit index before the extension: "run/journal.bin" -> "run/journal.000001.bin".
[[nodiscard]] std::string journal_segment_path(const std::string& path, std::uint64_t index);

struct JournalReplay {
  std::vector<OrderState> orders;        // orders of the replayed window (snapshot + later), in journal order
  std::vector<Position> positions;       // latest snapshot per position id, in first-seen order
  std::uint64_t next_client_counter{0};  // resume the ClientIdGenerator from here
  std::uint32_t max_position_id{0};      // highest position id ever journaled (closed ones included)
  std::size_t records{0};                // sequence number of the last record applied (= records ever journaled)
  std::size_t segments{0};               // segment files in the chain
  std::size_t segments_read{0};          // of which replay needed (the last one or two)
  bool torn_tail{false};                 // a partially written record followed the valid ones
  std::size_t counts[9]{};               // records applied, by RecordType (index = type value)
  // Orders that may still be live at the venue (working, incl. UNKNOWN): reconcile them first.
  [[nodiscard]] std::vector<const OrderState*> open_orders() const;
};

// One segment file as found on disk (journal-check, tests).
struct JournalSegmentInfo {
  std::string path;
  std::uint64_t index{0};
  std::size_t capacity{0};          // record slots
  std::uint64_t snapshot_seq{0};    // state in the snapshot is as of this sequence number (0: no snapshot)
  std::size_t snapshot_records{0};
  std::size_t live_records{0};      // valid records after the snapshot
  std::uint64_t first_seq{0};       // of the live records (0 when none)
  std::uint64_t last_seq{0};
  bool torn_tail{false};
  std::size_t by_type[9]{};         // valid records in this file by RecordType value (snapshot included)
};
// Where a journal is damaged: the file, the byte offset of the bad header or record, and why.
struct JournalDamage {
  std::string file;
  std::uint64_t offset{0};
  std::string reason;
  [[nodiscard]] std::string message() const;  // "<file>: offset <n>: <reason>"
};
struct JournalInspection {
  std::vector<JournalSegmentInfo> segments;  // every segment of the chain, in order
  std::optional<JournalDamage> damage;       // the first damage found (then `state` is incomplete)
  JournalReplay state;                       // what replay rebuilds (when undamaged)
};
// Reads every segment of the chain of `path` (read-only) and reports contents and the first damage.
// Throws enigma::Error only when a file cannot be opened or read.
[[nodiscard]] JournalInspection inspect_journal(const std::string& path);

// The exact work of journaling an order (header, payload copy, CRC32C) into `rec` (kJournalRecordSize
// bytes) instead of the segment: the trading core's warm-up dry run keeps this code and its tables in cache.
void encode_order_record_scratch(unsigned char* rec, const OrderSpec& o, std::uint64_t next_client_counter,
                                 std::int64_t now_ns) noexcept;

class Journal {
 public:
  // Opens (creating if needed) the segment chain of `path` and appends after the last valid record of its
  // last segment. Space for a whole segment is reserved with posix_fallocate up front, so a full disk is a
  // start-up error, never a SIGBUS later. Throws enigma::Error naming the file when it cannot be opened,
  // reserved (with the bytes needed and free) or mapped, and when it is damaged: a bad header, a foreign
  // file, or a bad record followed by written data (offset and reason). A torn last record is wiped.
  Journal(std::string path, JournalConfig cfg);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();  // syncs (unless FsyncPolicy::none) and unmaps

  // Appends one record; noexcept and allocation-free. A full segment switches to the next one, prepared
  // (reserved, mapped, snapshot written) ahead of time by the journal's background thread; if that thread
  // could not prepare it (disk full), Errc::capacity. Errc::io when a required sync failed (the record is
  // written but may not be durable); with the interval policy, the first append after a failed
  // background sync returns Errc::io. Every failure is counted in append_errors().
  [[nodiscard]] Errc append_order(const OrderSpec& o, std::uint64_t next_client_counter, std::int64_t now_ns) noexcept;
  [[nodiscard]] Errc append_cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept;
  [[nodiscard]] Errc append_unknown(const ClientOrderId& id, std::int64_t now_ns) noexcept;
  [[nodiscard]] Errc append_report(const ExecReport& r, std::int64_t now_ns) noexcept;
  [[nodiscard]] Errc append_position(const Position& p, std::int64_t now_ns) noexcept;
  // Forces everything appended to the active segment so far to disk.
  [[nodiscard]] Errc sync() noexcept;
  // Records known durable (flushed by sync() or the flusher thread), as a sequence number.
  [[nodiscard]] std::size_t synced_records() const noexcept { return synced_.load(std::memory_order_acquire); }

  // Sequence number of the last record (records journaled over the chain's life, snapshots excluded).
  [[nodiscard]] std::size_t records() const noexcept { return seq_; }
  [[nodiscard]] bool opened_with_torn_tail() const noexcept { return torn_tail_; }
  // Health, readable from any thread: appends refused or not durable, share of the active segment used
  // (0..1), whether the next segment is ready, and whether preparing it failed (then a full segment
  // refuses appends until a retry succeeds).
  [[nodiscard]] std::uint64_t append_errors() const noexcept { return append_errors_.load(std::memory_order_relaxed); }
  [[nodiscard]] double fill_ratio() const noexcept;
  [[nodiscard]] bool next_segment_ready() const noexcept { return next_ready_.load(std::memory_order_acquire); }
  [[nodiscard]] bool rollover_failed() const noexcept { return prepare_failed_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint64_t segment_index() const noexcept { return active_index_.load(std::memory_order_relaxed); }
  // Cold path: why the last preparation of the next segment failed (path, bytes needed and missing, errno),
  // empty when it did not. Takes a lock: never call it on the hot path.
  [[nodiscard]] std::string rollover_error() const;

  // Rebuilds state from the segment chain of `path` (cold path): the snapshot that starts the last
  // segment plus the records after it (reading the previous segment for those journaled while the last
  // was being prepared), applying records up to sequence number `max_records`. Orders whose last known
  // state is PENDING_NEW / PENDING_CANCEL (journaled, no answer) come back as UNKNOWN: whether they reached
  // the venue must be queried. Throws enigma::Error when a file cannot be read or is damaged (file and
  // byte offset), like the constructor; never modifies a file.
  [[nodiscard]] static JournalReplay replay(const std::string& path, std::size_t max_records = SIZE_MAX);

  struct Segment {
    std::string path;
    int fd{-1};
    unsigned char* map{nullptr};
    std::size_t capacity{0};        // record slots after the header slot
    std::uint64_t index{0};
    std::size_t first_live_slot{1};  // 1 + snapshot records
    std::uint64_t first_seq{1};      // sequence number of the record in first_live_slot
  };

 private:
  Errc append(RecordType type, std::uint64_t aux, const void* payload, std::size_t size, std::int64_t now_ns) noexcept;
  Errc fail(Errc e) noexcept;
  bool roll_over() noexcept;
  void background_loop() noexcept;
  void background_step();
  void close_segment(Segment& s, bool sync) noexcept;

  std::string path_;
  JournalConfig cfg_;
  Segment seg_[2];         // active and next (double-buffered)
  std::size_t active_{0};  // index into seg_ (appending thread; the background thread reads it after a switch)
  std::size_t count_{0};   // slots used in the active segment, snapshot included
  std::size_t wake_at_{0};  // count_ at which the background thread is woken to prepare the next segment
  std::uint64_t seq_{0};
  bool torn_tail_{false};
  std::size_t page_{4096};
  std::atomic<std::uint64_t> published_{0};  // sequence number of the last completely written record
  std::atomic<std::uint64_t> synced_{0};     // sequence number known durable
  std::atomic<std::uint64_t> append_errors_{0};
  std::atomic<std::size_t> fill_slots_{0};   // count_, for fill_ratio() from other threads
  std::atomic<std::size_t> seg_capacity_{0};
  std::atomic<std::uint64_t> active_index_{0};
  std::atomic<bool> flush_failed_{false};    // a background msync failed (reported by the next append)
  std::atomic<bool> next_ready_{false};      // seg_[active_ ^ 1] is prepared: the appender may switch
  std::atomic<bool> prepare_failed_{false};
  std::atomic<bool> waiting_{false};         // the appender is at a full segment, waiting for the next
  std::atomic<bool> stop_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  mutable std::mutex error_mu_;       // guards rollover_error_ (background thread writes, cold readers)
  std::string rollover_error_;
  struct Background;                  // the background thread's state (replayed journal, segment bookkeeping)
  std::unique_ptr<Background> bg_;
  std::thread background_;            // rollover preparation and the interval fsync
};

}  // namespace enigma::oms

namespace enigma::oms {
[[nodiscard]] std::string_view to_string(RecordType t) noexcept;
}  // namespace enigma::oms
