// Recorder / replayer on real captures copied into data/recorder/ (see its ATTRIBUTION.md).
#include "feed/recorder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "feed/capture_reader.hpp"

namespace fs = std::filesystem;
using namespace enigma;
using namespace enigma::feed;

namespace {

const std::string kUsdm = std::string(ENIGMA_SOURCE_DIR) + "/data/recorder/hftbacktest_usdm_BTCUSDT_20240808_first3000.gz";
const std::string kCryptofeed = std::string(ENIGMA_SOURCE_DIR) + "/data/recorder/cryptofeed_spot_binance_ws_20211012_first40.raw.txt";

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((fs::temp_directory_path() / ("enigma_rec_" + std::to_string(::getpid()) + "_" + name)).string()) {
    fs::remove(path);
  }
  ~TempFile() { fs::remove(path); }
};

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}
void spit(const std::string& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

struct Owned {
  std::int64_t recv_ns;
  std::uint32_t stream_id;
  std::string payload;
  std::uint64_t offset;
};
std::vector<Owned> read_all(RecordReader& r) {
  std::vector<Owned> v;
  RecordedFrame f;
  while (r.next(f)) v.push_back({f.recv_ns, f.stream_id, std::string(f.payload), f.offset});
  return v;
}

// Frames of the real capture, owned.
std::vector<CapturedFrame> capture_frames(CaptureReader& r) {
  std::vector<CapturedFrame> v;
  CapturedFrame f;
  while (r.next(f)) v.push_back(f);
  return v;
}

}  // namespace

TEST(FeedRecorder, RoundTripRealFramesWithPadding) {
  TempFile tmp("roundtrip.rec");
  CaptureReader cap(kUsdm);
  const auto frames = capture_frames(cap);
  ASSERT_EQ(frames.size(), 3000u);
  {
    // A small buffer forces many intermediate flushes and the direct-write path for big frames.
    RecordWriter w(tmp.path, RecordWriterOptions{4096, false});
    for (std::size_t i = 0; i < frames.size(); ++i)
      ASSERT_EQ(w.append(frames[i].recv_ns, static_cast<std::uint32_t>(i % 3), frames[i].payload), Errc::ok);
    EXPECT_EQ(w.records_written(), 3000u);
  }
  RecordReader r(tmp.path);
  RecordedFrame f;
  std::size_t i = 0;
  while (r.next(f)) {
    ASSERT_LT(i, frames.size());
    EXPECT_EQ(f.recv_ns, frames[i].recv_ns);
    EXPECT_EQ(f.stream_id, i % 3);
    EXPECT_EQ(f.payload, frames[i].payload);
    EXPECT_GE(f.padded_capacity, f.payload.size() + 64);
    ++i;
  }
  EXPECT_EQ(i, 3000u);
  EXPECT_EQ(r.stats().records, 3000u);
  EXPECT_EQ(r.stats().tail_skipped, 0u);
  EXPECT_TRUE(r.stats().corrupt_offsets.empty());
  // The REST snapshot is line 55 of the capture (bigger than the 4 KiB buffer: direct-write path).
  EXPECT_GT(frames[54].payload.size(), 4096u);
  EXPECT_EQ(frames[54].payload.substr(0, 30), R"({"lastUpdateId":5123107852948,)");
}

TEST(FeedRecorder, TornTailIsSkippedCountedAndCutBeforeAppend) {
  TempFile tmp("torn.rec");
  const ConvertStats cs = convert_capture(kUsdm, tmp.path);
  ASSERT_EQ(cs.frames, 3000u);
  std::string bytes = slurp(tmp.path);
  RecordReader full = RecordReader::from_bytes(bytes);
  const auto all = read_all(full);
  ASSERT_EQ(all.size(), 3000u);
  const std::uint64_t last_off = all.back().offset;

  // Truncate in the middle of the last record's payload, then inside its header.
  for (std::uint64_t cut : {bytes.size() - 7, last_off + 10}) {
    spit(tmp.path, bytes.substr(0, cut));
    RecordReader r(tmp.path);
    const auto got = read_all(r);
    EXPECT_EQ(got.size(), 2999u) << "cut at " << cut;
    EXPECT_EQ(r.stats().tail_skipped, 1u);
    EXPECT_EQ(r.stats().tail_bytes, cut - last_off);
    EXPECT_TRUE(r.stats().corrupt_offsets.empty());
    EXPECT_EQ(got.back().payload, all[2998].payload);
  }

  // Re-opening for append cuts the torn tail, so the new record follows the last valid one cleanly.
  {
    RecordWriter w(tmp.path);
    EXPECT_EQ(w.recovered_tail_bytes(), 10u);
    ASSERT_EQ(w.append(42, 7, R"({"after":"crash"})"), Errc::ok);
  }
  RecordReader r(tmp.path);
  const auto got = read_all(r);
  ASSERT_EQ(got.size(), 3000u);
  EXPECT_EQ(got.back().payload, R"({"after":"crash"})");
  EXPECT_EQ(got.back().stream_id, 7u);
  EXPECT_EQ(r.stats().tail_skipped, 0u);
  EXPECT_TRUE(r.stats().corrupt_offsets.empty());
}

TEST(FeedRecorder, CorruptedByteInTheMiddleIsReportedWithItsOffset) {
  TempFile tmp("corrupt.rec");
  convert_capture(kUsdm, tmp.path);
  std::string bytes = slurp(tmp.path);
  RecordReader clean = RecordReader::from_bytes(bytes);
  const auto all = read_all(clean);
  ASSERT_EQ(all.size(), 3000u);

  // One flipped payload byte in record 1000: its CRC fails, the reader reports that record's offset and
  // resumes with record 1001.
  std::string damaged = bytes;
  damaged[all[1000].offset + kRecordHeaderSize + 5] ^= 0x20;
  RecordReader r = RecordReader::from_bytes(damaged, "damaged");
  const auto got = read_all(r);
  ASSERT_EQ(got.size(), 2999u);
  ASSERT_EQ(r.stats().corrupt_offsets.size(), 1u);
  EXPECT_EQ(r.stats().corrupt_offsets[0], all[1000].offset);
  EXPECT_EQ(r.stats().tail_skipped, 0u);
  EXPECT_EQ(got[999].payload, all[999].payload);
  EXPECT_EQ(got[1000].payload, all[1001].payload);

  // A flipped byte in a length field (record 2000) must not make the reader trust the length.
  damaged = bytes;
  damaged[all[2000].offset + 6] ^= 0x01;
  RecordReader r2 = RecordReader::from_bytes(damaged, "damaged-length");
  EXPECT_EQ(read_all(r2).size(), 2999u);
  ASSERT_EQ(r2.stats().corrupt_offsets.size(), 1u);
  EXPECT_EQ(r2.stats().corrupt_offsets[0], all[2000].offset);

  // The same damage in the last record is a corrupt tail: skipped and counted, not mid-file damage.
  damaged = bytes;
  damaged[all.back().offset + kRecordHeaderSize] ^= 0x01;
  RecordReader r3 = RecordReader::from_bytes(damaged, "damaged-tail");
  EXPECT_EQ(read_all(r3).size(), 2999u);
  EXPECT_EQ(r3.stats().tail_skipped, 1u);
  EXPECT_TRUE(r3.stats().corrupt_offsets.empty());
}

TEST(FeedRecorder, RejectsFilesThatAreNotRecordings) {
  TempFile tmp("notarec.rec");
  spit(tmp.path, "{\"stream\":\"btcusdt@trade\"}\n");
  try {
    RecordReader r(tmp.path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(tmp.path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not an enigma recording"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RecordWriter w(tmp.path), Error);
  EXPECT_THROW(RecordReader r("/nonexistent/enigma.rec"), Error);
}

TEST(FeedRecorder, ConvertsHftbacktestCapture) {
  TempFile tmp("usdm.rec");
  const ConvertStats cs = convert_capture(kUsdm, tmp.path);
  EXPECT_EQ(cs.format, CaptureFormat::hftbacktest);
  EXPECT_EQ(cs.frames, 3000u);
  EXPECT_EQ(cs.by_kind[static_cast<int>(FrameKind::ws_received)], 2999u);
  EXPECT_EQ(cs.by_kind[static_cast<int>(FrameKind::rest_body)], 1u);

  RecordReader r(tmp.path);
  const auto got = read_all(r);
  ASSERT_EQ(got.size(), 3000u);
  // First line of the capture: "1723161255030314667 {"stream":"btcusdt@depth@0ms",...".
  EXPECT_EQ(got[0].recv_ns, 1723161255030314667);
  EXPECT_EQ(got[0].payload.rfind(R"({"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,)", 0), 0u);
  EXPECT_EQ(stream_kind(got[0].stream_id), FrameKind::ws_received);
  EXPECT_EQ(got[54].recv_ns, 1723161255319702566);
  EXPECT_EQ(stream_kind(got[54].stream_id), FrameKind::rest_body);
  for (std::size_t i = 1; i < got.size(); ++i) EXPECT_GE(got[i].recv_ns, got[i - 1].recv_ns);

  // Every payload equals the capture's bytes.
  CaptureReader cap(kUsdm);
  const auto frames = capture_frames(cap);
  for (std::size_t i = 0; i < frames.size(); ++i) ASSERT_EQ(got[i].payload, frames[i].payload) << i;
}

TEST(FeedRecorder, ConvertsCryptofeedCaptureKeepingTheConnectUrl) {
  TempFile tmp("cf.rec");
  const ConvertStats cs = convert_capture(kCryptofeed, tmp.path);
  EXPECT_EQ(cs.format, CaptureFormat::cryptofeed_raw);
  EXPECT_EQ(cs.frames, 40u);
  EXPECT_EQ(cs.by_kind[static_cast<int>(FrameKind::connect)], 1u);
  EXPECT_EQ(cs.by_kind[static_cast<int>(FrameKind::ws_received)], 39u);
  ASSERT_EQ(cs.urls.size(), 2u);
  EXPECT_EQ(cs.urls[1].rfind("wss://stream.binance.com:9443/stream?streams=nknusdt@depth@100ms/", 0), 0u);

  RecordReader r(tmp.path);
  const auto got = read_all(r);
  ASSERT_EQ(got.size(), 40u);
  EXPECT_EQ(stream_kind(got[0].stream_id), FrameKind::connect);
  EXPECT_EQ(stream_url_index(got[0].stream_id), 1u);
  EXPECT_EQ(got[0].payload, cs.urls[1]);
  EXPECT_EQ(got[0].recv_ns, 1633998511159679000);  // "<-> 1633998511.159679"
  EXPECT_EQ(got[1].recv_ns, 1633998512063356900);  // "1633998512.0633569: {...}"
  EXPECT_EQ(got[1].payload.rfind(R"({"stream":"nknusdt@depth@100ms",)", 0), 0u);
}

namespace {
// Virtual clock: wait_until jumps time forward and remembers every deadline it was asked for.
struct VirtualClock {
  std::int64_t now = 1'000'000;
  std::vector<std::int64_t> waits;
  std::int64_t now_ns() const noexcept { return now; }
  void wait_until(std::int64_t t) noexcept {
    waits.push_back(t);
    if (t > now) now = t;
  }
};
}  // namespace

TEST(FeedRecorder, PacedReplayKeepsRecordedGapsOnInjectedClock) {
  TempFile tmp("paced.rec");
  convert_capture(kUsdm, tmp.path);
  RecordReader r(tmp.path);
  const auto all = read_all(r);

  for (double speed : {1.0, 4.0}) {
    r.rewind();
    VirtualClock clock;
    const std::int64_t start = clock.now;
    std::vector<std::int64_t> delivered_at;
    std::vector<std::int64_t> recv;
    ReplayOptions opt;
    opt.paced = true;
    opt.speed = speed;
    const ReplayStats st = replay(
        r,
        [&](const RecordedFrame& f) {
          delivered_at.push_back(clock.now);
          recv.push_back(f.recv_ns);
          EXPECT_GE(f.padded_capacity, f.payload.size() + 64);
        },
        opt, clock);
    ASSERT_EQ(st.frames, 3000u);
    ASSERT_EQ(delivered_at.size(), 3000u);
    EXPECT_EQ(st.first_recv_ns, all.front().recv_ns);
    EXPECT_EQ(st.last_recv_ns, all.back().recv_ns);
    for (std::size_t i = 0; i < recv.size(); ++i) {
      const double expect = static_cast<double>(all[i].recv_ns - all[0].recv_ns) / speed;
      EXPECT_NEAR(static_cast<double>(delivered_at[i] - start), expect, 1.0) << "frame " << i;
    }
    // The whole 3000-frame slice spans about 2.7 s of recorded time.
    EXPECT_GT(delivered_at.back() - start, static_cast<std::int64_t>(1e9 / speed));
  }

  // Full speed never waits.
  r.rewind();
  VirtualClock clock;
  std::size_t n = 0;
  replay(r, [&](const RecordedFrame&) { ++n; }, ReplayOptions{}, clock);
  EXPECT_EQ(n, 3000u);
  EXPECT_TRUE(clock.waits.empty());
}

// A recording reads back through CaptureReader (what replay and book-check use) as the frames of its
// source capture: same kind, receive time, URL (REST URLs included, via definition records) and bytes.
TEST(FeedRecorder, CaptureReaderReadsRecordingsAsTheirSourceFrames) {
  const std::string rest = std::string(ENIGMA_SOURCE_DIR) + "/data/binance/cryptofeed_usdm_rest_depth_snapshots_4sym_20210722.responses.jsonl.gz";
  for (const std::string& src : {kUsdm, kCryptofeed, rest}) {
    TempFile tmp("via_capture_reader.rec");
    convert_capture(src, tmp.path);
    CaptureReader original(src);
    CaptureReader recorded(tmp.path);
    EXPECT_EQ(recorded.format(), CaptureFormat::enigma_recording);
    const auto want = capture_frames(original);
    const auto got = capture_frames(recorded);
    ASSERT_EQ(got.size(), want.size()) << src;
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i].kind, want[i].kind) << src << " frame " << i;
      ASSERT_EQ(got[i].recv_ns, want[i].recv_ns) << src << " frame " << i;
      ASSERT_EQ(got[i].url, want[i].url) << src << " frame " << i;
      ASSERT_EQ(got[i].payload, want[i].payload) << src << " frame " << i;
      ASSERT_GE(got[i].padded_capacity, got[i].payload.size() + 64) << src << " frame " << i;
    }
  }
}

// Found by fuzz_capture_reader: a connect line has no payload, and its padded capacity was measured from a
// null pointer; and timestamps past what int64 nanoseconds hold overflowed instead of being refused.
TEST(FeedCaptureReader, AConnectLineHasARealPaddedCapacityAndHugeTimestampsAreRefused) {
  TempFile raw("connect.raw.txt");
  spit(raw.path, "wss://x/ws <-> 1633998511.159679\n1633998512.5: {\"a\":1}\n");
  CaptureReader r(raw.path);
  const std::vector<CapturedFrame> frames = capture_frames(r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, FrameKind::connect);
  EXPECT_EQ(frames[0].payload.size(), 0u);
  ASSERT_NE(frames[0].payload.data(), nullptr);
  // The payload view sits in the reader's buffer: from it to the buffer's end is the rest of the file
  // (the second line, 22 bytes with its newline) plus the padding.
  EXPECT_EQ(frames[0].padded_capacity, 1 + 22 + CaptureReader::kPadding);

  // A receive time past what 64-bit nanoseconds hold is a bad line: skipped and counted, never wrapped.
  TempFile cf("huge.raw.txt");
  spit(cf.path, "1723161255.03: {\"a\":2}\n99999999999999999999999: {\"a\":1}\n");
  CaptureReader huge_cf(cf.path);
  CapturedFrame f;
  ASSERT_TRUE(huge_cf.next(f));
  EXPECT_EQ(f.recv_ns, 1723161255030000000);
  EXPECT_FALSE(huge_cf.next(f));
  EXPECT_EQ(huge_cf.bad_lines(), 1u);

  TempFile hb("huge.hft");
  spit(hb.path, "1723161255030314667 {\"e\":\"trade\"}\n99999999999999999999999 {\"e\":\"trade\"}\n");
  CaptureReader huge_hb(hb.path);
  ASSERT_TRUE(huge_hb.next(f));
  EXPECT_EQ(f.recv_ns, 1723161255030314667);
  EXPECT_FALSE(huge_hb.next(f));
  EXPECT_EQ(huge_hb.bad_lines(), 1u);
}

// Found by fuzz_capture_reader: a 556-byte zip whose directory claims 3.2 GB uncompressed made the reader
// allocate all of it; deflate cannot expand that much, so it is refused as corrupt.
TEST(FeedCaptureReader, AZipClaimingMoreThanDeflateCanExpandIsRefused) {
  const std::string seed =
      std::string(ENIGMA_SOURCE_DIR) + "/tests/fuzz/corpus/capture_reader/regression_zip_claims_3gb.zip";
  try {
    CaptureReader r(seed);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt zip directory"), std::string::npos) << e.what();
  }
}
