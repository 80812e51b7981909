// Order journal: append-only file of fixed-size, CRC-protected records, written before an order is sent,
// replayed at start-up to rebuild open orders and positions (DESIGN.md: "a crash loses no order state").
//
// The file is preallocated to `max_records` and memory-mapped: an append is a memcpy into the page cache
// (no syscall, no allocation), which already survives a process crash (SIGKILL); the fsync policy decides
// when dirty pages are forced to disk for power loss: never, inline after every record (a syscall on the
// order path, for those who want it), or every N ms by a flusher thread the journal owns (the order path
// only publishes how far it has written).
// Unwritten space is zeros, so the end of the journal is the first all-zero header. A torn last record
// (bad CRC) is detected, skipped on replay, and overwritten by the next append.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "oms/exec_report.hpp"
#include "oms/order_state.hpp"
#include "oms/position.hpp"

namespace enigma::oms {

enum class FsyncPolicy : std::uint8_t { none, every_record, interval };

struct JournalConfig {
  std::size_t max_records{1 << 20};  // 256 MiB file (sparse until written)
  FsyncPolicy fsync{FsyncPolicy::interval};
  std::int64_t fsync_interval_ns{10'000'000};  // FsyncPolicy::interval: flusher period (wall time, >= 1 ms)
};

enum class RecordType : std::uint16_t {
  order = 1,     // OrderSpec about to be sent; aux = client id generator's next counter
  cancel = 2,    // cancel about to be sent for payload client id
  report = 3,    // ExecReport received
  position = 4,  // Position snapshot after a change
  unknown = 5,   // request timed out / 5xx: order is UNKNOWN until queried
};

inline constexpr std::size_t kJournalRecordSize = 256;

// CRC-32C (Castagnoli) of `n` bytes, hardware-accelerated where the build targets SSE4.2.
[[nodiscard]] std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept;
// The same function by table lookup (what a build without SSE4.2 uses); journals are portable.
[[nodiscard]] std::uint32_t crc32c_portable(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept;

struct JournalReplay {
  std::vector<OrderState> orders;        // every order ever journaled, in journal order
  std::vector<Position> positions;       // latest snapshot per position id, in first-seen order
  std::uint64_t next_client_counter{0};  // resume the ClientIdGenerator from here
  std::size_t records{0};                // valid records read
  bool torn_tail{false};                 // a partially written record followed the valid ones
  // Orders that may still be live at the venue (working, incl. UNKNOWN): reconcile them first.
  [[nodiscard]] std::vector<const OrderState*> open_orders() const;
};

class Journal {
 public:
  // Opens (creating if needed) and maps `path`, positioned after the last valid record.
  // Throws enigma::Error (path and errno text) when the file cannot be opened, sized or mapped.
  Journal(std::string path, JournalConfig cfg);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();  // syncs (unless FsyncPolicy::none) and unmaps

  // Appends one record; noexcept and allocation-free. Errc::capacity when the file is full,
  // Errc::io when a required sync failed (the record is written but may not be durable); with the
  // interval policy, the first append after a failed background sync returns Errc::io.
  [[nodiscard]] Errc append_order(const OrderSpec& o, std::uint64_t next_client_counter, std::int64_t now_ns) noexcept;
  [[nodiscard]] Errc append_cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept;
  [[nodiscard]] Errc append_unknown(const ClientOrderId& id, std::int64_t now_ns) noexcept;
  [[nodiscard]] Errc append_report(const ExecReport& r, std::int64_t now_ns) noexcept;
  [[nodiscard]] Errc append_position(const Position& p, std::int64_t now_ns) noexcept;
  // Forces everything appended so far to disk.
  [[nodiscard]] Errc sync() noexcept;
  // Records known durable (flushed by sync() or the flusher thread).
  [[nodiscard]] std::size_t synced_records() const noexcept { return synced_.load(std::memory_order_acquire); }

  [[nodiscard]] std::size_t records() const noexcept { return count_; }
  [[nodiscard]] bool opened_with_torn_tail() const noexcept { return torn_tail_; }

  // Rebuilds state from the file at `path` (cold path), applying at most `max_records` records.
  // Orders whose last known state is PENDING_NEW (journaled, no answer) come back as UNKNOWN: whether
  // they reached the venue must be queried. Throws enigma::Error when the file cannot be read.
  [[nodiscard]] static JournalReplay replay(const std::string& path, std::size_t max_records = SIZE_MAX);

 private:
  Errc append(RecordType type, std::uint64_t aux, const void* payload, std::size_t size, std::int64_t now_ns) noexcept;
  Errc sync_upto(std::size_t records) noexcept;  // msync of [synced, records); safe from both threads
  void flusher_loop() noexcept;

  std::string path_;
  JournalConfig cfg_;
  int fd_{-1};
  unsigned char* map_{nullptr};
  std::size_t count_{0};
  std::atomic<std::size_t> published_{0};  // records completely written (what the flusher may sync)
  std::atomic<std::size_t> synced_{0};     // records known durable
  std::atomic<bool> flush_failed_{false};  // a background msync failed (reported by the next append)
  std::atomic<bool> stop_{false};
  std::uint64_t seq_{0};
  bool torn_tail_{false};
  std::thread flusher_;  // FsyncPolicy::interval only
};

}  // namespace enigma::oms
