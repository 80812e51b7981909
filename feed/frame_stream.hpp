// Streaming replay source (issue 13 item 3): capture files read, decompressed and merged by receive time on
// a reader thread, handed to the replay loop through a fixed set of preallocated batches (frame
// descriptors plus one byte arena each, payloads copied in with simdjson padding). Memory is bounded by
// the batches and each reader's window, not by the input's length.
//
// Merge: a k-way merge of the per-file streams by recv_ns, ties in file order (each file is taken in its
// own order; the whole-file read_merged also reorders frames inside one file that are out of time order).
// Only market data (ws_received, rest_body) comes through; connect and sent frames are dropped.
// Errors on the reader thread (a --strict bad line or damaged gzip) are rethrown by next().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "feed/capture_reader.hpp"

namespace enigma::feed {

class FrameStream {
 public:
  // Opens every file and detects its format on the calling thread (a missing or unrecognised file throws
  // here, naming it), then starts the reader thread.
  FrameStream(const std::vector<std::string>& files, CaptureReadOptions options);
  // Each file with its own options (`per_file[i]` for `files[i]`: a backtest's candle and funding CSVs name
  // their instrument there); streaming is set on all.
  FrameStream(const std::vector<std::string>& files, std::vector<CaptureReadOptions> per_file);
  ~FrameStream();  // stops and joins the reader thread
  FrameStream(const FrameStream&) = delete;
  FrameStream& operator=(const FrameStream&) = delete;

  // The next frame, valid until the following call; nullptr at the end. Consumer thread only. Waits
  // (atomic wait, no lock) when the reader is behind.
  const CapturedFrame* next();
  // Bad lines skipped by all files (complete once next() has returned nullptr).
  [[nodiscard]] std::size_t bad_lines() const noexcept;
  // The share of the input's bytes on disk the reader has consumed (0..1; ahead of the consumer by at most
  // the batches), for progress with ETA; -1 when the size is not known (a recording).
  [[nodiscard]] double fraction_read() const noexcept;

  static constexpr std::size_t kBatches = 4;
  static constexpr std::size_t kBatchFrames = 4096;
  // The first batch is published after this many frames and each next one may hold twice as many, up to
  // kBatchFrames: the replay starts as soon as the reader has a few frames, not a whole batch (4096
  // frames of inflate and first-touch page faults were ~8 ms before the first frame).
  static constexpr std::size_t kFirstBatchFrames = 256;
  static constexpr std::size_t kBatchBytes = std::size_t{1} << 20;

 private:
  struct Batch {
    std::vector<CapturedFrame> frames;  // reserved kBatchFrames
    std::size_t frame_limit{kBatchFrames};  // this fill's frame count that publishes it
    std::unique_ptr<char[]> bytes;
    std::size_t capacity{0}, used{0};
    bool last{false};  // the reader thread's final batch (after it: the end, or error_)
  };
  void start();
  void produce();
  Batch& acquire();
  static bool append(Batch& b, const CapturedFrame& f);
  void publish();
  std::uint64_t filling_{0};  // reader thread: batches published so far (the one being filled)

  std::vector<std::unique_ptr<CaptureReader>> readers_;
  Batch batches_[kBatches];
  std::atomic<std::uint64_t> published_{0};  // batches handed to the consumer
  std::atomic<std::uint64_t> released_{0};   // batches the consumer has finished with
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> bytes_done_{0};  // reader thread: input bytes consumed, at each publish
  std::uint64_t bytes_total_{0};
  bool size_known_{true};
  std::exception_ptr error_;                 // written before the last batch is published
  std::uint64_t reading_{0};                 // consumer: batch being read (valid while < published_)
  std::size_t at_{0};                        // consumer: next frame in it
  bool have_batch_{false};
  bool ended_{false};
  std::thread thread_;
};

}  // namespace enigma::feed
