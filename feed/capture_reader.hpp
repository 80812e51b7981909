// Reader for recorded market-data captures in the formats of ../shared/data (cold path: file loading).
//
// Detected automatically, first by container (gzip magic 1f 8b, zip "PK\3\4" with one deflated entry,
// zstd magic 28 b5 2f fd (a recording's closed segment), or plain text), then by line shape:
//   hftbacktest      `<recv ns> <json>`                        (Binance combined-stream frames + one REST body)
//   cryptofeed raw   `URL <-> ts` connect, `URL <- ts: {sent}`, `URL -> ts: {REST body}`, `ts: {received}`
//   responses jsonl  `{"url":..,"local_ts":..,"body":{...}}`   (REST bodies, body verbatim)
//   json lines       `{...}` one received frame per line, no timestamp (recv_ns = 0)
//   enigma recording "ENIGREC1" files from `enigma convert` / RecordWriter (feed/recorder.hpp): frames
//                    with their kind, URL and receive time; a torn last record (a recorder that crashed) is
//                    dropped with a warning on stderr, and so is a damaged record in the middle (offset named)
// The whole decompressed file is kept in one buffer with simdjson padding after it, so every payload
// view stays valid for the reader's lifetime and can be parsed in place (`padded_capacity`).
//
// Hostile input (issue 18). A line longer than `max_line_bytes` (16 MiB) is cut as it is decompressed (a
// gzip that expands without bound costs at most that much; plain, zip and zstd files are read whole first)
// and becomes a bad line. Bad lines (too long, a
// receive timestamp that is not a number or does not fit in 64 bits, a shape the format does not allow)
// are counted and skipped; the first few are quoted on stderr as `warning: FILE:LINE: why: 'quote'`, and
// the count as `warning: 'FILE': N bad lines skipped`. A truncated or damaged gzip keeps its good part:
// the complete lines before the damage are replayed, after a warning naming the compressed byte offset.
// With `strict`, the first bad line or damaged stream throws enigma::Error naming file and line / offset.
// Everything quoted from the input is escaped and shortened (quote_input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace enigma::feed {

enum class CaptureFormat : std::uint8_t { hftbacktest, cryptofeed_raw, responses_jsonl, json_lines, enigma_recording, candle_csv, funding_csv };
[[nodiscard]] std::string_view to_string(CaptureFormat f) noexcept;

enum class FrameKind : std::uint8_t {
  ws_received,  // a frame the venue sent us
  ws_sent,      // a frame we sent (subscriptions)
  rest_body,    // a REST response body (depth snapshot etc.)
  connect,      // connection opened (payload empty)
};

struct CapturedFrame {
  std::int64_t recv_ns{0};     // local receive time, ns since epoch (0 when the format has none)
  FrameKind kind{FrameKind::ws_received};
  std::string_view url;        // connection or REST URL when the format records it
  std::string_view payload;    // exact bytes of the frame / body
  std::size_t padded_capacity{0};  // readable bytes from payload.data() (>= payload.size() + 64)
  std::size_t line_no{0};      // 1-based line in the decompressed file, for error messages
  std::uint16_t source{0};     // index of its file in a merged read (read_merged); kLiveSource for live frames
};
inline constexpr std::uint16_t kLiveSource = 0xffff;

class RecordReader;
class GzipInflater;
struct SyntheticFrames;

inline constexpr std::size_t kMaxLineBytes = std::size_t{16} << 20;

struct CaptureReadOptions {
  bool strict{false};                          // a bad line or a damaged stream is an error, not a warning
  std::size_t max_line_bytes{kMaxLineBytes};   // longer lines are bad lines
  std::size_t max_quoted{5};                   // bad lines quoted on stderr per file
  // A .gz capture is inflated a window at a time as next() goes (memory: a 256 KiB compressed read buffer and a 256 KiB
  // window, grown only for a longer line); a frame's views then stay valid only until the next call to
  // next(). Damage is reported (or, strict, thrown) when the reader reaches it. Other containers load whole.
  bool streaming{false};
  // Backtest inputs (`enigma backtest`): the file is not a capture but a CSV of one instrument that the reader
  // turns into Binance USD-M frames (feed/candle_frames.hpp says which), so the pipeline and the simulated
  // exchange run on it unchanged. Such a file is always read strictly: a bad row is an error naming file and
  // line (a skipped candle would silently change the result).
  enum class Synthetic : std::uint8_t { none, candles, funding };
  Synthetic synthetic{Synthetic::none};
  std::string symbol{};           // the instrument the CSV is about (venue spelling, e.g. BTCUSDT)
  std::int64_t interval_ms{0};    // candles: the bar length (a multiple of 60 s)
  std::string tick{"0.01"};       // candles: the synthetic book's spread (bid = price - tick, ask = price)
};

// Untrusted bytes for an error or warning message: printable ASCII as is, every other byte (control
// characters, escape sequences, non-ASCII) and the backslash as \xNN; at most `max_chars` input bytes,
// then "..." (so a 1 MB field or a terminal escape never reaches the terminal as is).
[[nodiscard]] std::string quote_input(std::string_view s, std::size_t max_chars = 120);

class CaptureReader {
 public:
  // Loads and decompresses the file and detects its format (from the first of its first 16 non-empty
  // lines that has a known shape); throws enigma::Error naming the file and what is wrong (missing,
  // unreadable, corrupt zip or zstd, no line of a known shape, and with `strict` a damaged gzip). A damaged
  // gzip otherwise keeps its complete lines, with a warning on stderr.
  explicit CaptureReader(std::string path, CaptureReadOptions options = {});
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // Next frame, or false at end of file. Bad lines are skipped and counted (strict: enigma::Error naming
  // file and line); at the end of the file the count is reported on stderr.
  bool next(CapturedFrame& out);
  // Lines skipped as bad so far; true when the compressed stream was truncated or damaged (its good part read).
  [[nodiscard]] std::size_t bad_lines() const noexcept { return bad_lines_; }
  [[nodiscard]] bool damaged() const noexcept { return damaged_; }

  [[nodiscard]] CaptureFormat format() const noexcept { return format_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::size_t size_bytes() const noexcept;
  [[nodiscard]] std::size_t position() const noexcept { return pos_; }
  // Progress: bytes of the file on disk read so far (a .gz: compressed bytes inflated; a whole-file text:
  // in proportion to the lines read; a recording: 0) and its size on disk.
  [[nodiscard]] std::uint64_t input_bytes_done() const noexcept;
  [[nodiscard]] std::uint64_t input_bytes_total() const noexcept { return file_bytes_; }

  static constexpr std::size_t kPadding = 64;  // >= simdjson::SIMDJSON_PADDING

 private:
  std::string path_;
  std::string data_;  // decompressed content followed by kPadding spaces
  std::size_t pos_{0};
  std::size_t line_no_{0};
  CaptureFormat format_{CaptureFormat::json_lines};
  std::unique_ptr<RecordReader> recording_;  // enigma_recording: the records (data_ is then unused)
  std::vector<std::string> urls_;            // enigma_recording: URL by url index, learned as records define them
  bool warned_{false};
  CaptureReadOptions options_;
  struct LongLine {
    std::size_t line;
    std::uint64_t bytes;
    std::string head;  // its first bytes, for the quote
  };
  std::vector<LongLine> long_lines_;  // cut while decompressing (left as empty lines), by line number
  std::size_t next_long_{0};
  std::size_t bad_lines_{0};
  bool damaged_{false};
  void bad_line(std::string_view why, std::string_view quoted);
  // Streaming (.gz with options.streaming): data_ is a window, [pos_, end_) not yet read.
  std::unique_ptr<GzipInflater> gz_;
  std::size_t end_{0};
  std::size_t newlines_{0};  // inflated so far: the complete lines before any damage
  bool line_end(std::size_t& e);
  void refill();
  void skip_long_line();
  std::uint64_t file_bytes_{0};
  std::unique_ptr<SyntheticFrames> synth_;  // candle / funding CSV: the row being turned into frames
  bool next_synthetic(CapturedFrame& out);
  void init_synthetic(std::size_t content);
};

// Reads every file (readers keep the bytes alive) and merges their frames by receive time; stable, so
// frames without timestamps keep file order. Cold path: several captures (a WS capture plus its REST
// snapshots, consecutive days) become one stream.
[[nodiscard]] std::vector<CapturedFrame> read_merged(const std::vector<std::string>& files,
                                                     std::vector<std::unique_ptr<CaptureReader>>& readers,
                                                     const CaptureReadOptions& options = {});
// Bad lines skipped by all of them.
[[nodiscard]] std::size_t bad_lines(const std::vector<std::unique_ptr<CaptureReader>>& readers) noexcept;

// Reads a whole file, transparently gunzipping/unzipping/un-zstd-ing (shared with other cold-path loaders).
[[nodiscard]] std::string read_file_decompressed(const std::string& path);

}  // namespace enigma::feed
