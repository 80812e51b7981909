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
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace enigma::feed {

enum class CaptureFormat : std::uint8_t { hftbacktest, cryptofeed_raw, responses_jsonl, json_lines, enigma_recording };
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
};

class RecordReader;

class CaptureReader {
 public:
  // Loads and decompresses the file and detects its format; throws enigma::Error naming the file and
  // what is wrong (missing, unreadable, corrupt gzip/zip, unrecognised line format).
  explicit CaptureReader(std::string path);
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // Next frame, or false at end of file. Lines that match no known shape make next() throw
  // enigma::Error with file and line (a capture is trusted input; garbage means the wrong file).
  bool next(CapturedFrame& out);

  [[nodiscard]] CaptureFormat format() const noexcept { return format_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::size_t size_bytes() const noexcept;
  [[nodiscard]] std::size_t position() const noexcept { return pos_; }

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
};

// Reads every file (readers keep the bytes alive) and merges their frames by receive time; stable, so
// frames without timestamps keep file order. Cold path: several captures (a WS capture plus its REST
// snapshots, consecutive days) become one stream.
[[nodiscard]] std::vector<CapturedFrame> read_merged(const std::vector<std::string>& files,
                                                     std::vector<std::unique_ptr<CaptureReader>>& readers);

// Reads a whole file, transparently gunzipping/unzipping/un-zstd-ing (shared with other cold-path loaders).
[[nodiscard]] std::string read_file_decompressed(const std::string& path);

}  // namespace enigma::feed
