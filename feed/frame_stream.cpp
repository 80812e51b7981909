#include "feed/frame_stream.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/prefault.hpp"

namespace enigma::feed {

FrameStream::FrameStream(const std::vector<std::string>& files, CaptureReadOptions options)
    : FrameStream(files, std::vector<CaptureReadOptions>(files.size(), options)) {}

FrameStream::FrameStream(const std::vector<std::string>& files, std::vector<CaptureReadOptions> per_file) {
  if (files.size() >= kLiveSource) throw Error("too many capture files (" + std::to_string(files.size()) + "); at most 65534");
  if (per_file.size() != files.size()) throw Error("frame stream: one option set per file");
  for (std::size_t i = 0; i < files.size(); ++i) {
    per_file[i].streaming = true;
    readers_.push_back(std::make_unique<CaptureReader>(files[i], per_file[i]));
  }
  for (const auto& r : readers_) {
    bytes_total_ += r->input_bytes_total();
    if (r->format() == CaptureFormat::enigma_recording) size_known_ = false;
  }
  start();
}

double FrameStream::fraction_read() const noexcept {
  if (!size_known_ || bytes_total_ == 0) return -1;
  return std::min(1.0, static_cast<double>(bytes_done_.load(std::memory_order_relaxed)) / static_cast<double>(bytes_total_));
}

void FrameStream::start() {
  for (Batch& b : batches_) {
    b.frames.reserve(kBatchFrames);
    b.bytes = std::make_unique_for_overwrite<char[]>(kBatchBytes);  // append() writes every byte it hands out
    b.capacity = kBatchBytes;
  }
  thread_ = std::thread([this] { produce(); });
}

FrameStream::~FrameStream() {
  stop_.store(true, std::memory_order_relaxed);
  released_.fetch_add(kBatches, std::memory_order_release);  // wakes a reader waiting for a free batch
  released_.notify_all();
  thread_.join();
}

std::size_t FrameStream::bad_lines() const noexcept { return feed::bad_lines(readers_); }

// Reader thread: the next free batch, emptied (waits while the consumer holds all of them).
FrameStream::Batch& FrameStream::acquire() {
  for (std::uint64_t r = released_.load(std::memory_order_acquire); filling_ - r >= kBatches && !stop_.load(std::memory_order_relaxed);
       r = released_.load(std::memory_order_acquire))
    released_.wait(r, std::memory_order_acquire);
  Batch& b = batches_[filling_ % kBatches];
  b.frames.clear();
  b.used = 0;
  static_assert(kFirstBatchFrames << 4 == kBatchFrames);  // the fifth batch and every later one are full size
  b.frame_limit = filling_ >= 4 ? kBatchFrames : kFirstBatchFrames << filling_;
  if (b.capacity > kBatchBytes) {  // grown for one huge frame: back to the usual size
    b.bytes = std::make_unique_for_overwrite<char[]>(kBatchBytes);  // append() writes every byte it hands out
    b.capacity = kBatchBytes;
  }
  return b;
}

void FrameStream::publish() {
  std::uint64_t done = 0;
  for (const auto& r : readers_) done += r->input_bytes_done();
  bytes_done_.store(done, std::memory_order_relaxed);
  ++filling_;
  published_.store(filling_, std::memory_order_release);
  published_.notify_one();
}

// Copies the frame's payload (with simdjson padding) and URL into the batch's arena; false when the batch
// is full. An empty batch takes any frame (its arena grows for a frame longer than it, up to the line limit).
bool FrameStream::append(Batch& b, const CapturedFrame& f) {
  const std::size_t need = f.payload.size() + CaptureReader::kPadding + f.url.size();
  if (b.frames.size() == b.frame_limit || b.used + need > b.capacity) {
    if (!b.frames.empty()) return false;
    if (need > b.capacity) {
      b.bytes = std::make_unique_for_overwrite<char[]>(need);
      b.capacity = need;
    }
  }
  char* p = b.bytes.get() + b.used;
  std::memcpy(p, f.payload.data(), f.payload.size());
  std::memset(p + f.payload.size(), ' ', CaptureReader::kPadding);
  char* u = p + f.payload.size() + CaptureReader::kPadding;
  if (!f.url.empty()) std::memcpy(u, f.url.data(), f.url.size());
  CapturedFrame c = f;
  c.payload = std::string_view(p, f.payload.size());
  c.padded_capacity = f.payload.size() + CaptureReader::kPadding;
  c.url = std::string_view(u, f.url.size());
  b.used += need;
  b.frames.push_back(c);
  return true;
}

void FrameStream::produce() {
  // The batches' pages, mapped in one call each before the first is filled (first-touch faults on ~5 MB
  // cost this thread 15 ms on the shared VM, while the replay waited for its first frames).
  for (Batch& batch : batches_) {
    prefault_writable(batch.bytes.get(), batch.capacity);
    prefault_writable(batch.frames.data(), batch.frames.capacity() * sizeof(CapturedFrame));
  }
  Batch* b = nullptr;
  try {
    const std::size_t n = readers_.size();
    std::vector<CapturedFrame> head(n);  // each file's next market-data frame (views into its reader's window)
    std::vector<bool> has(n);
    auto advance = [&](std::size_t i) {
      CapturedFrame f;
      while (readers_[i]->next(f)) {
        if (f.kind != FrameKind::ws_received && f.kind != FrameKind::rest_body) continue;
        f.source = static_cast<std::uint16_t>(i);
        head[i] = f;
        return true;
      }
      return false;
    };
    for (std::size_t i = 0; i < n; ++i) has[i] = advance(i);
    b = &acquire();
    while (!stop_.load(std::memory_order_relaxed)) {
      std::size_t k = n;
      for (std::size_t i = 0; i < n; ++i)
        if (has[i] && (k == n || head[i].recv_ns < head[k].recv_ns)) k = i;
      if (k == n) break;
      if (!append(*b, head[k])) {
        publish();
        b = &acquire();
        append(*b, head[k]);
      }
      has[k] = advance(k);  // head[k] was copied: its reader may move on
    }
  } catch (...) {
    error_ = std::current_exception();
  }
  if (!b) b = &acquire();
  b->last = true;
  publish();
}

const CapturedFrame* FrameStream::next() {
  for (;;) {
    if (have_batch_) {
      Batch& b = batches_[reading_ % kBatches];
      if (at_ < b.frames.size()) return &b.frames[at_++];
      if (b.last) {
        if (!ended_ && error_) {
          ended_ = true;
          std::rethrow_exception(error_);
        }
        ended_ = true;
        return nullptr;
      }
      have_batch_ = false;
      ++reading_;
      released_.store(reading_, std::memory_order_release);
      released_.notify_one();
    }
    std::uint64_t p = published_.load(std::memory_order_acquire);
    while (p <= reading_) {
      published_.wait(p, std::memory_order_acquire);
      p = published_.load(std::memory_order_acquire);
    }
    have_batch_ = true;
    at_ = 0;
  }
}

}  // namespace enigma::feed
