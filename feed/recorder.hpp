// Recording and replay of raw market-data frames.
//
// File layout (little-endian, append-only):
//   file header (16 bytes): "ENIGREC1" magic, u32 format version (1), u32 reserved (0)
//   record*:  RecordHeader (24 bytes) followed by `length` payload bytes
//     u32 magic 0x52434552 ("RECR")  - lets a reader find the next record after damage
//     u32 length                     - payload bytes
//     i64 recv_ns                    - local receive time, ns since the epoch
//     u32 stream_id                  - which connection / stream the frame came from (owner-defined)
//     u32 crc32                      - zlib CRC-32 over header bytes [0, 20) and then the payload
//
// Crash safety: a record is written with one write(2) of header + payload, so a crash can only leave the
// last record torn (short) or with garbage. RecordReader detects that (bad magic, short length, CRC mismatch)
// and skips it, counting it in `ReadStats::tail_skipped`. Damage followed by valid records is a mid-file
// corruption: its byte offset is reported in `ReadStats::corrupt_offsets` and the reader resumes at the next
// record whose magic and CRC check out. RecordWriter truncates a damaged tail before appending, so a
// crash-then-restart never turns a torn tail into mid-file damage.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/attributes.hpp"
#include "core/error.hpp"
#include "feed/capture_reader.hpp"

namespace enigma::feed {

inline constexpr char kRecordFileMagic[8] = {'E', 'N', 'I', 'G', 'R', 'E', 'C', '1'};
inline constexpr std::uint32_t kRecordFileVersion = 1;
inline constexpr std::size_t kRecordFileHeaderSize = 16;
inline constexpr std::uint32_t kRecordMagic = 0x52434552u;  // "RECR" read as little-endian bytes
inline constexpr std::size_t kRecordHeaderSize = 24;
// Upper bound on one payload; a larger length field is treated as damage, not as an allocation request.
inline constexpr std::uint32_t kMaxRecordPayload = 64u << 20;

// Stream ids used by convert_capture(): the frame kind in the top byte, the index of the frame's URL
// (in order of first appearance in the capture; 0 when the format records none) in the low 24 bits.
[[nodiscard]] constexpr std::uint32_t make_stream_id(FrameKind kind, std::uint32_t url_index) noexcept {
  return (static_cast<std::uint32_t>(kind) << 24) | (url_index & 0xFFFFFFu);
}
[[nodiscard]] constexpr FrameKind stream_kind(std::uint32_t stream_id) noexcept {
  return static_cast<FrameKind>(stream_id >> 24);
}
[[nodiscard]] constexpr std::uint32_t stream_url_index(std::uint32_t stream_id) noexcept { return stream_id & 0xFFFFFFu; }
// Kind byte of a URL definition record (payload = the URL of url index `stream_url_index`): convert_capture
// writes one before the first frame that uses a URL not already named by a connect record, so a reader
// (CaptureReader) can give every frame its URL back. Not a frame: CaptureReader consumes it.
inline constexpr std::uint32_t kUrlDefinitionKind = 0xFF;

// One frame as read back from a recording. `payload` stays valid for the reader's lifetime and has at least
// `padded_capacity - payload.size()` (>= 64) readable bytes after it, so simdjson can parse it in place.
struct RecordedFrame {
  std::int64_t recv_ns{0};
  std::uint32_t stream_id{0};
  std::string_view payload;
  std::size_t padded_capacity{0};
  std::uint64_t offset{0};  // byte offset of the record header in the file
};

struct RecordWriterOptions {
  std::size_t buffer_bytes = 1u << 20;  // records are batched up to this size before write(2)
  bool flush_each_record = false;       // write(2) every record at once (a crash then loses nothing buffered)
};

// Appends records to a file (created when missing). Not thread-safe: one writer per file.
class RecordWriter {
 public:
  // Opens `path` for appending. A new/empty file gets the file header; an existing one must start with it
  // (else throws enigma::Error naming the file). A damaged tail left by a crash is truncated away first
  // (`recovered_tail_bytes()` says how much). Throws enigma::Error on I/O failure.
  explicit RecordWriter(std::string path, RecordWriterOptions opt = {});
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Appends one record. Copies into the preallocated buffer (no allocation); a full buffer is written out
  // first. Returns Errc::io when a write fails, Errc::out_of_range when payload > kMaxRecordPayload.
  [[nodiscard]] Errc append(std::int64_t recv_ns, std::uint32_t stream_id, std::string_view payload) noexcept;
  // Writes out buffered records (write(2)); with `sync` also fdatasync(2). Returns Errc::io on failure.
  [[nodiscard]] Errc flush(bool sync = false) noexcept;

  [[nodiscard]] std::uint64_t records_written() const noexcept { return records_; }
  [[nodiscard]] std::uint64_t recovered_tail_bytes() const noexcept { return recovered_tail_bytes_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  Errc write_all(const char* p, std::size_t n) noexcept;
  std::string path_;
  RecordWriterOptions opt_;
  int fd_{-1};
  std::vector<char> buf_;
  std::size_t used_{0};
  std::uint64_t records_{0};
  std::uint64_t recovered_tail_bytes_{0};
};

struct ReadStats {
  std::uint64_t records{0};          // valid records returned
  std::uint64_t tail_skipped{0};     // 1 when a torn/corrupt last record was skipped, else 0
  std::uint64_t tail_bytes{0};       // bytes in that skipped tail
  std::vector<std::uint64_t> corrupt_offsets;  // offsets of damaged records followed by valid ones
};

// Reads a recording written by RecordWriter. The whole file is loaded into one padded buffer.
class RecordReader {
 public:
  // Throws enigma::Error naming the file when it is missing, unreadable or lacks the file header.
  explicit RecordReader(const std::string& path);
  // Reads from bytes already in memory (fuzzing, tests); `name` is used in error messages.
  static RecordReader from_bytes(std::string bytes, std::string name = "<memory>");

  // Next valid record, or false at the end. Damage is skipped and counted in stats() (see file comment).
  bool next(RecordedFrame& out) noexcept;
  // Back to the first record; stats are reset.
  void rewind() noexcept;

  [[nodiscard]] const ReadStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return data_.size() - kPadding; }
  static constexpr std::size_t kPadding = 64;  // >= simdjson::SIMDJSON_PADDING

 private:
  RecordReader() = default;
  void init(std::string bytes, std::string name);
  // Length of the valid record at `pos`, or 0 when there is none.
  [[nodiscard]] std::size_t valid_record_at(std::size_t pos) const noexcept;
  std::string name_;
  std::string data_;  // file bytes followed by kPadding zero bytes
  std::size_t pos_{kRecordFileHeaderSize};
  ReadStats stats_;
};

// Byte length of the valid prefix of a recording (file header + whole valid records up to the first damage).
// Used by RecordWriter to cut a torn tail; exposed for tests.
[[nodiscard]] std::uint64_t valid_prefix_bytes(std::string_view file_bytes) noexcept;

struct ConvertStats {
  std::uint64_t frames{0};                 // records written
  std::uint64_t by_kind[4]{};              // indexed by FrameKind
  std::vector<std::string> urls;           // url_index -> URL (index 0 is "" when the format has no URLs)
  CaptureFormat format{CaptureFormat::json_lines};
};

// Converts a capture in any ../shared/data format (see CaptureReader) into a recording at `out_path`
// (appended to when it exists). Every frame becomes one record: recv_ns as captured, stream id from
// make_stream_id(kind, url index); connect markers carry the URL as payload, and a URL first seen on
// another kind of frame is defined by a kUrlDefinitionKind record just before it. Throws enigma::Error naming the
// input or output file on failure.
ConvertStats convert_capture(const std::string& capture_path, const std::string& out_path);

// ---- Replay -----------------------------------------------------------------------------------------------

struct ReplayOptions {
  bool paced = false;  // false: full speed; true: keep the recorded gaps between frames
  double speed = 1.0;  // paced only: 2.0 plays twice as fast
};

struct ReplayStats {
  std::uint64_t frames{0};
  std::int64_t first_recv_ns{0};
  std::int64_t last_recv_ns{0};
};

// Clock used for paced replay in production: spins on CLOCK_MONOTONIC for the last 100 us before a frame
// is due and sleeps before that. Tests pass their own clock with the same two members.
struct SteadyReplayClock {
  [[nodiscard]] std::int64_t now_ns() const noexcept;
  void wait_until(std::int64_t deadline_ns) const noexcept;
};

// Feeds every record of `reader` (from where it stands) to `sink(const RecordedFrame&)`. Paced replay puts
// frame i at start + (recv_ns[i] - recv_ns[0]) / speed on `clock`; a recv_ns that goes backwards is played at
// once (never waits for a negative gap). `Clock` has `now_ns()` and `wait_until(ns)`.
template <class Sink, class Clock = SteadyReplayClock>
ReplayStats replay(RecordReader& reader, Sink&& sink, const ReplayOptions& opt = {}, Clock&& clock = Clock{}) {
  ReplayStats st;
  RecordedFrame f;
  const double inv_speed = opt.speed > 0 ? 1.0 / opt.speed : 1.0;
  std::int64_t start_ns = 0;
  while (reader.next(f)) {
    if (st.frames == 0) {
      st.first_recv_ns = f.recv_ns;
      if (opt.paced) start_ns = clock.now_ns();
    } else if (opt.paced) {
      const std::int64_t gap = f.recv_ns - st.first_recv_ns;
      if (gap > 0) clock.wait_until(start_ns + static_cast<std::int64_t>(static_cast<double>(gap) * inv_speed));
    }
    st.last_recv_ns = f.recv_ns;
    ++st.frames;
    sink(static_cast<const RecordedFrame&>(f));
  }
  return st;
}

// ---- Session recording (paper / live record their own frames) ---------------------------------------------

struct SessionRecorderOptions {
  std::string dir;                          // segments go here (created when missing)
  std::string name{"recording"};            // segment i is <dir>/<name>-<i, 4 digits>.rec
  std::uint64_t rotate_bytes{256ull << 20}; // a segment is closed once it holds this many bytes
  bool zstd{true};                          // closed segments become <segment>.zst (plain file removed)
  std::size_t ring_bytes{16u << 20};        // trading thread -> writer thread byte ring (power of two)
  // URL by url index (1-based: urls[0] is url index 1). Defined by kUrlDefinitionKind records at the start
  // of every segment, so each segment replays on its own.
  std::vector<std::string> urls;
};

struct SessionRecordingStats {
  std::uint64_t frames{0};          // records written to segments
  std::uint64_t dropped_frames{0};  // frames the trading thread could not hand over (ring full / too large) or
                                    // the writer could not write (I/O error); never silently lost
  std::uint64_t bytes{0};           // ENIGREC1 bytes written (before compression)
  std::vector<std::string> files;   // the segments, in order, as they are on disk at the end
  std::string error;                // first I/O error of the writer thread, empty when none
};

// Records a session's frames without putting a syscall, lock or allocation on the trading thread: record()
// copies the frame into a preallocated SPSC byte ring; a writer thread drains it into ENIGREC1 segments
// (RecordWriter), rotates them by size and compresses closed ones with zstd (to <segment>.zst.tmp, fsync,
// rename, then the plain segment is removed), so a crash leaves only readable files: the open segment is
// plain ENIGREC1 (a torn last record at worst) and a .zst exists only once complete.
class SessionRecorder {
 public:
  // Creates the directory and the first segment and starts the writer thread. Throws enigma::Error naming
  // the path on failure, or when ring_bytes is not a power of two >= 4096.
  explicit SessionRecorder(SessionRecorderOptions opt);
  ~SessionRecorder();  // stop()
  SessionRecorder(const SessionRecorder&) = delete;
  SessionRecorder& operator=(const SessionRecorder&) = delete;

  // Trading thread: hands one frame to the writer. Never blocks: false (and dropped_frames + 1) when the ring
  // has no room for it.
  [[nodiscard]] bool record(std::int64_t recv_ns, std::uint32_t stream_id, std::string_view payload) noexcept;

  // Drains the ring, closes (and compresses) the last segment and joins the writer; idempotent. Cold path.
  SessionRecordingStats stop();

  [[nodiscard]] std::uint64_t dropped_frames() const noexcept {
    return dropped_.load(std::memory_order_relaxed) + write_dropped_.load(std::memory_order_relaxed);
  }

 private:
  struct EntryHeader {  // in the ring before each payload; entries are 8-byte aligned
    std::uint32_t length;
    std::uint32_t stream_id;
    std::int64_t recv_ns;
  };
  void writer_loop();
  std::size_t drain();  // writer thread: everything in the ring now; returns entries consumed
  void open_segment();
  void close_segment();
  void fail(const std::string& why);

  SessionRecorderOptions opt_;
  std::unique_ptr<char[]> ring_;
  std::size_t mask_{0};
  alignas(kCacheLine) std::atomic<std::uint64_t> write_pos_{0};  // producer publishes
  alignas(kCacheLine) std::uint64_t read_cache_{0};               // producer's copy of read_pos_
  std::atomic<std::uint64_t> dropped_{0};                         // producer counts (relaxed)
  alignas(kCacheLine) std::atomic<std::uint64_t> read_pos_{0};    // consumer publishes
  std::atomic<std::uint64_t> write_dropped_{0};
  std::atomic<bool> stopping_{false};
  alignas(kCacheLine) std::thread writer_;
  // Writer thread only.
  std::unique_ptr<RecordWriter> seg_;
  std::uint32_t seg_index_{0};
  std::uint64_t seg_bytes_{0};
  std::string seg_path_;
  std::string scratch_;  // a payload that wraps around the ring end, made contiguous
  SessionRecordingStats stats_;
  bool failed_{false};
  bool stopped_{false};
  std::uint64_t dropped_logged_{0};
};

// Compresses `path` into `path + ".zst"` (through a .tmp file, fsync, rename) and removes `path`. Throws
// enigma::Error naming the file on failure (the plain file is then kept).
void compress_segment_zstd(const std::string& path);

}  // namespace enigma::feed
