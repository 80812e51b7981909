// SessionRecorder: the paper/live frame tap. Frames handed over on one thread come back, byte for byte with
// their receive times, kinds and URLs, from size-rotated segments (zstd or plain) read by CaptureReader; a
// frame the ring cannot take is counted, never lost silently; a damaged .zst is an error naming the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "feed/capture_reader.hpp"
#include "feed/recorder.hpp"
#include "tests/support/alloc_counter.hpp"

using namespace enigma;
using namespace enigma::feed;
namespace fs = std::filesystem;

namespace {

std::string fresh_dir(const std::string& what) {
  static int n = 0;
  const std::string d =
      ::testing::TempDir() + "/enigma-sessrec-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
  fs::remove_all(d);
  return d;
}

struct Frame {
  std::int64_t recv_ns;
  FrameKind kind;
  std::string url;
  std::string payload;
};

// Distinct payloads of varied sizes (some larger than a 4 KiB ring's half, so entries wrap its end).
std::vector<Frame> sample_frames(std::size_t n) {
  std::vector<Frame> out;
  for (std::size_t i = 0; i < n; ++i) {
    const bool rest = i % 97 == 5;
    std::string p = "{\"i\":" + std::to_string(i) + ",\"pad\":\"" +
                    std::string((i * 37) % 1500, static_cast<char>('a' + i % 26)) + "\"}";
    out.push_back({1'700'000'000'000'000'000 + static_cast<std::int64_t>(i) * 1000,
                   rest ? FrameKind::rest_body : FrameKind::ws_received,
                   rest ? "https://venue/depth" : "wss://venue/stream", std::move(p)});
  }
  return out;
}

std::uint32_t stream_of(const Frame& f) { return make_stream_id(f.kind, f.kind == FrameKind::rest_body ? 2 : 1); }

std::vector<CapturedFrame> read_all(const std::vector<std::string>& files,
                                    std::vector<std::unique_ptr<CaptureReader>>& keep) {
  std::vector<CapturedFrame> out;
  for (const auto& f : files) {
    keep.push_back(std::make_unique<CaptureReader>(f));
    CapturedFrame c;
    while (keep.back()->next(c)) out.push_back(c);
  }
  return out;
}

}  // namespace

TEST(SessionRecorder, FramesComeBackFromRotatedZstdSegments) {
  SessionRecorderOptions o;
  o.dir = fresh_dir("zstd");
  o.rotate_bytes = 64 << 10;
  o.ring_bytes = 1 << 20;  // holds the whole sample: nothing can be dropped
  o.urls = {"wss://venue/stream", "https://venue/depth"};
  const std::vector<Frame> frames = sample_frames(400);
  SessionRecorder rec(o);
  for (const Frame& f : frames) ASSERT_TRUE(rec.record(f.recv_ns, stream_of(f), f.payload));
  const SessionRecordingStats st = rec.stop();

  EXPECT_EQ(st.frames, frames.size());
  EXPECT_EQ(st.dropped_frames, 0u);
  EXPECT_EQ(st.error, "");
  ASSERT_GE(st.files.size(), 3u);  // ~300 KB of frames at 64 KiB per segment
  for (std::size_t i = 0; i < st.files.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "/recording-%04zu.rec.zst", i + 1);
    EXPECT_EQ(st.files[i], o.dir + name);
    EXPECT_FALSE(fs::exists(o.dir + std::string(name, std::strlen(name) - 4)));  // plain copy removed
  }
  std::vector<std::unique_ptr<CaptureReader>> keep;
  const std::vector<CapturedFrame> back = read_all(st.files, keep);
  EXPECT_EQ(keep[0]->format(), CaptureFormat::enigma_recording);
  ASSERT_EQ(back.size(), frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(back[i].recv_ns, frames[i].recv_ns);
    EXPECT_EQ(back[i].kind, frames[i].kind);
    EXPECT_EQ(back[i].url, frames[i].url);  // every segment defines its URLs itself
    EXPECT_EQ(back[i].payload, frames[i].payload);
  }
}

TEST(SessionRecorder, PlainSegmentStaysEnigrec1AndANewSessionNeverAppendsToAnOldFile) {
  SessionRecorderOptions o;
  o.dir = fresh_dir("plain");
  o.zstd = false;
  o.urls = {"wss://venue/stream"};
  {
    SessionRecorder rec(o);
    ASSERT_TRUE(rec.record(5, make_stream_id(FrameKind::ws_received, 1), "first"));
    const auto st = rec.stop();
    ASSERT_EQ(st.files, std::vector<std::string>{o.dir + "/recording-0001.rec"});
    EXPECT_EQ(fs::file_size(st.files[0]), st.bytes);
  }
  SessionRecorder rec(o);
  ASSERT_TRUE(rec.record(6, make_stream_id(FrameKind::ws_received, 1), "second"));
  const auto st = rec.stop();
  ASSERT_EQ(st.files, std::vector<std::string>{o.dir + "/recording-0002.rec"});
  RecordReader r(st.files[0]);
  RecordedFrame f;
  ASSERT_TRUE(r.next(f));  // URL definition
  EXPECT_EQ(f.stream_id >> 24, kUrlDefinitionKind);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.payload, "second");
  EXPECT_FALSE(r.next(f));
}

// Whatever the writer thread's timing, every frame offered is either in the file or counted as dropped; one
// larger than the whole ring is always dropped.
TEST(SessionRecorder, AFrameTheRingCannotTakeIsCountedNeverLostSilently) {
  SessionRecorderOptions o;
  o.dir = fresh_dir("full");
  o.zstd = false;
  o.ring_bytes = 4096;
  SessionRecorder rec(o);
  EXPECT_FALSE(rec.record(1, make_stream_id(FrameKind::ws_received, 0), std::string(5000, 'x')));
  EXPECT_EQ(rec.dropped_frames(), 1u);
  const std::vector<Frame> frames = sample_frames(3000);
  std::uint64_t accepted = 0;
  for (const Frame& f : frames) accepted += rec.record(f.recv_ns, stream_of(f), f.payload) ? 1 : 0;
  const auto st = rec.stop();
  EXPECT_EQ(st.frames, accepted);
  EXPECT_EQ(st.frames + st.dropped_frames, frames.size() + 1);
  std::vector<std::unique_ptr<CaptureReader>> keep;
  EXPECT_EQ(read_all(st.files, keep).size(), accepted);
}

TEST(SessionRecorder, ADamagedZstdSegmentIsAnErrorNamingTheFile) {
  SessionRecorderOptions o;
  o.dir = fresh_dir("damaged");
  SessionRecorder rec(o);
  for (const Frame& f : sample_frames(200)) ASSERT_TRUE(rec.record(f.recv_ns, stream_of(f), f.payload));
  const auto st = rec.stop();
  ASSERT_EQ(st.files.size(), 1u);
  const std::string cut = o.dir + "/cut.rec.zst";
  fs::copy_file(st.files[0], cut);
  fs::resize_file(cut, fs::file_size(cut) / 2);
  try {
    CaptureReader r(cut);
    FAIL() << "a truncated .zst was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("zstd"), std::string::npos) << e.what();
  }
}

TEST(SessionRecorder, BadOptionsAreRefusedWithTheReason) {
  SessionRecorderOptions o;
  o.dir = fresh_dir("bad");
  o.ring_bytes = 5000;
  EXPECT_THROW({ SessionRecorder r(o); }, Error);
  o.ring_bytes = 4096;
  o.dir = "/proc/no-such-dir/rec";
  try {
    SessionRecorder r(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/no-such-dir/rec"), std::string::npos) << e.what();
  }
}

// The trading thread's side: copying frames in (wrapping the ring's end, and a full ring) never allocates.
TEST(SessionRecorder, RecordingAFrameDoesNotAllocateOnTheTradingThread) {
  SessionRecorderOptions o;
  o.dir = fresh_dir("alloc");
  o.zstd = false;
  o.ring_bytes = 8192;  // small: entries wrap the end and the ring fills
  const std::vector<Frame> frames = sample_frames(2000);
  SessionRecorder rec(o);
  std::uint64_t allocations = 0;
  {
    enigma::test::AllocationScope scope;
    for (const Frame& f : frames) (void)rec.record(f.recv_ns, stream_of(f), f.payload);
    (void)rec.record(0, 0, std::string_view(frames[0].payload.data(), 0));
    allocations = scope.count();
  }
  EXPECT_EQ(allocations, 0u);
  const auto st = rec.stop();
  EXPECT_EQ(st.frames + st.dropped_frames, frames.size() + 1);
}
