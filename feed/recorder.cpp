#include "feed/recorder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/logger.hpp"

namespace enigma::feed {

namespace {

// The format is little-endian; x86-64 and AArch64 Linux both are, so plain memcpy encodes it.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "recording format is little-endian");

template <class T>
T load(const char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint32_t record_crc(const char* header, const char* payload, std::size_t len) noexcept {
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, reinterpret_cast<const Bytef*>(header), 20);
  // zlib takes uInt lengths; payloads are capped at kMaxRecordPayload (64 MiB) so one call suffices.
  if (len) c = crc32(c, reinterpret_cast<const Bytef*>(payload), static_cast<uInt>(len));
  return static_cast<std::uint32_t>(c);
}

void encode_header(char* h, std::int64_t recv_ns, std::uint32_t stream_id, std::string_view payload) noexcept {
  const std::uint32_t magic = kRecordMagic;
  const auto len = static_cast<std::uint32_t>(payload.size());
  std::memcpy(h, &magic, 4);
  std::memcpy(h + 4, &len, 4);
  std::memcpy(h + 8, &recv_ns, 8);
  std::memcpy(h + 16, &stream_id, 4);
  const std::uint32_t crc = record_crc(h, payload.data(), payload.size());
  std::memcpy(h + 20, &crc, 4);
}

// Length (header + payload) of a valid record at `pos` of `d[0, end)`, or 0.
std::size_t valid_record(const char* d, std::size_t end, std::size_t pos) noexcept {
  if (end < pos || end - pos < kRecordHeaderSize) return 0;
  const char* h = d + pos;
  if (load<std::uint32_t>(h) != kRecordMagic) return 0;
  const std::uint32_t len = load<std::uint32_t>(h + 4);
  if (len > kMaxRecordPayload || end - pos - kRecordHeaderSize < len) return 0;
  if (record_crc(h, h + kRecordHeaderSize, len) != load<std::uint32_t>(h + 20)) return 0;
  return kRecordHeaderSize + len;
}

bool has_file_header(std::string_view bytes) noexcept {
  return bytes.size() >= kRecordFileHeaderSize && std::memcmp(bytes.data(), kRecordFileMagic, 8) == 0 &&
         load<std::uint32_t>(bytes.data() + 8) == kRecordFileVersion;
}

std::string file_header_bytes() {
  std::string h(kRecordFileHeaderSize, '\0');
  std::memcpy(h.data(), kRecordFileMagic, 8);
  const std::uint32_t v = kRecordFileVersion;
  std::memcpy(h.data() + 8, &v, 4);
  return h;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::uint64_t valid_prefix_bytes(std::string_view b) noexcept {
  if (!has_file_header(b)) return 0;
  std::size_t pos = kRecordFileHeaderSize;
  while (std::size_t n = valid_record(b.data(), b.size(), pos)) pos += n;
  return pos;
}

// ---- RecordWriter ------------------------------------------------------------------------------------------

RecordWriter::RecordWriter(std::string path, RecordWriterOptions opt) : path_(std::move(path)), opt_(opt) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("recorder: cannot open '" + path_ + "' for writing: " + errno_text());
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    ::close(fd_);
    throw Error("recorder: cannot stat '" + path_ + "': " + errno_text());
  }
  if (st.st_size == 0) {
    const std::string h = file_header_bytes();
    if (write_all(h.data(), h.size()) != Errc::ok) {
      ::close(fd_);
      throw Error("recorder: cannot write the file header of '" + path_ + "': " + errno_text());
    }
  } else {
    // Existing recording: find where the valid records end and cut off whatever a crash left after them.
    std::string bytes;
    {
      std::ifstream in(path_, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      bytes = std::move(ss).str();
    }
    if (!has_file_header(bytes)) {
      ::close(fd_);
      throw Error("recorder: '" + path_ + "' exists but is not an enigma recording (no ENIGREC1 header); refusing to append");
    }
    const std::uint64_t valid = valid_prefix_bytes(bytes);
    if (valid < bytes.size()) {
      recovered_tail_bytes_ = bytes.size() - valid;
      if (::ftruncate(fd_, static_cast<off_t>(valid)) != 0) {
        ::close(fd_);
        throw Error("recorder: cannot truncate the damaged tail of '" + path_ + "': " + errno_text());
      }
    }
  }
  if (::lseek(fd_, 0, SEEK_END) < 0) {
    ::close(fd_);
    throw Error("recorder: cannot seek to the end of '" + path_ + "': " + errno_text());
  }
  buf_.resize(opt_.buffer_bytes < kRecordHeaderSize ? kRecordHeaderSize : opt_.buffer_bytes);
}

RecordWriter::~RecordWriter() {
  if (fd_ >= 0) {
    (void)flush();
    ::close(fd_);
  }
}

Errc RecordWriter::write_all(const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errc::io;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return Errc::ok;
}

Errc RecordWriter::flush(bool sync) noexcept {
  if (used_ > 0) {
    const Errc e = write_all(buf_.data(), used_);
    used_ = 0;
    if (e != Errc::ok) return e;
  }
  if (sync && ::fdatasync(fd_) != 0) return Errc::io;
  return Errc::ok;
}

Errc RecordWriter::append(std::int64_t recv_ns, std::uint32_t stream_id, std::string_view payload) noexcept {
  if (payload.size() > kMaxRecordPayload) return Errc::out_of_range;
  const std::size_t need = kRecordHeaderSize + payload.size();
  if (used_ + need > buf_.size()) {
    if (const Errc e = flush(); e != Errc::ok) return e;
  }
  if (need > buf_.size()) {
    // Larger than the whole buffer: header and payload go out in one writev-like pair of writes. The
    // buffer is empty here, so record order is kept.
    char h[kRecordHeaderSize];
    encode_header(h, recv_ns, stream_id, payload);
    if (const Errc e = write_all(h, sizeof h); e != Errc::ok) return e;
    if (const Errc e = write_all(payload.data(), payload.size()); e != Errc::ok) return e;
  } else {
    char* dst = buf_.data() + used_;
    encode_header(dst, recv_ns, stream_id, payload);
    if (!payload.empty()) std::memcpy(dst + kRecordHeaderSize, payload.data(), payload.size());
    used_ += need;
  }
  ++records_;
  if (opt_.flush_each_record) return flush();
  return Errc::ok;
}

// ---- RecordReader ------------------------------------------------------------------------------------------

RecordReader::RecordReader(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("recorder: cannot open '" + path + "': " + errno_text());
  std::ostringstream ss;
  ss << in.rdbuf();
  init(std::move(ss).str(), path);
}

RecordReader RecordReader::from_bytes(std::string bytes, std::string name) {
  RecordReader r;
  r.init(std::move(bytes), std::move(name));
  return r;
}

void RecordReader::init(std::string bytes, std::string name) {
  name_ = std::move(name);
  if (!has_file_header(bytes)) {
    throw Error("recorder: '" + name_ + "' is not an enigma recording (missing ENIGREC1 version-1 header)");
  }
  data_ = std::move(bytes);
  data_.append(kPadding, '\0');
  pos_ = kRecordFileHeaderSize;
}

void RecordReader::rewind() noexcept {
  pos_ = kRecordFileHeaderSize;
  stats_.records = 0;
  stats_.tail_skipped = 0;
  stats_.tail_bytes = 0;
  stats_.corrupt_offsets.clear();
}

std::size_t RecordReader::valid_record_at(std::size_t pos) const noexcept {
  return valid_record(data_.data(), size_bytes(), pos);
}

bool RecordReader::next(RecordedFrame& out) noexcept {
  const std::size_t end = size_bytes();
  if (pos_ >= end) return false;
  std::size_t n = valid_record_at(pos_);
  if (n == 0) [[unlikely]] {
    // Damage: resume at the next offset holding a record whose magic and CRC check out. Scanning byte by
    // byte is fine: this is the rare recovery path.
    const std::size_t bad = pos_;
    std::size_t p = pos_ + 1;
    for (; p + kRecordHeaderSize <= end; ++p) {
      if (load<std::uint32_t>(data_.data() + p) == kRecordMagic && (n = valid_record_at(p)) != 0) break;
    }
    if (n == 0) {
      stats_.tail_skipped = 1;
      stats_.tail_bytes = end - bad;
      pos_ = end;
      return false;
    }
    // Bounded so a hostile file cannot grow the vector without limit (rare path; may allocate).
    if (stats_.corrupt_offsets.size() < 1024) stats_.corrupt_offsets.push_back(bad);
    pos_ = p;
  }
  const char* h = data_.data() + pos_;
  out.offset = pos_;
  out.recv_ns = load<std::int64_t>(h + 8);
  out.stream_id = load<std::uint32_t>(h + 16);
  out.payload = std::string_view(h + kRecordHeaderSize, n - kRecordHeaderSize);
  out.padded_capacity = static_cast<std::size_t>(data_.data() + data_.size() - out.payload.data());
  pos_ += n;
  ++stats_.records;
  return true;
}

// ---- Conversion --------------------------------------------------------------------------------------------

ConvertStats convert_capture(const std::string& capture_path, const std::string& out_path) {
  CaptureReader reader(capture_path);
  RecordWriter writer(out_path);
  ConvertStats st;
  st.format = reader.format();
  std::unordered_map<std::string, std::uint32_t> url_index;
  CapturedFrame f;
  try {
    while (reader.next(f)) {
      std::uint32_t idx = 0;
      if (!f.url.empty()) {
        auto [it, inserted] = url_index.try_emplace(std::string(f.url), static_cast<std::uint32_t>(url_index.size() + 1));
        if (inserted) {
          if (st.urls.empty()) st.urls.emplace_back();  // index 0: no URL
          st.urls.emplace_back(f.url);
          const std::uint32_t def = (kUrlDefinitionKind << 24) | (it->second & 0xFFFFFFu);
          if (f.kind != FrameKind::connect && writer.append(f.recv_ns, def, f.url) != Errc::ok) {
            throw Error("recorder: writing '" + out_path + "' failed at capture line " + std::to_string(f.line_no) + ": " +
                        errno_text());
          }
        }
        idx = it->second;
      }
      const std::string_view payload = f.kind == FrameKind::connect ? f.url : f.payload;
      if (writer.append(f.recv_ns, make_stream_id(f.kind, idx), payload) != Errc::ok) {
        throw Error("recorder: writing '" + out_path + "' failed at capture line " + std::to_string(f.line_no) + ": " +
                    errno_text());
      }
      ++st.frames;
      ++st.by_kind[static_cast<std::size_t>(f.kind) & 3u];
    }
  } catch (const Error& e) {
    throw e.with_context("converting '" + capture_path + "' to '" + out_path + "'");
  }
  if (writer.flush(true) != Errc::ok) throw Error("recorder: flushing '" + out_path + "' failed: " + errno_text());
  return st;
}

// ---- Paced replay clock ------------------------------------------------------------------------------------

std::int64_t SteadyReplayClock::now_ns() const noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void SteadyReplayClock::wait_until(std::int64_t deadline_ns) const noexcept {
  constexpr std::int64_t kSpinNs = 100'000;
  for (;;) {
    const std::int64_t left = deadline_ns - now_ns();
    if (left <= 0) return;
    if (left > kSpinNs) {
      const std::int64_t sleep = left - kSpinNs;
      timespec ts{static_cast<time_t>(sleep / 1'000'000'000), static_cast<long>(sleep % 1'000'000'000)};
      nanosleep(&ts, nullptr);
    } else {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    }
  }
}

// ---- Session recording ------------------------------------------------------------------------------------

namespace {
constexpr std::size_t align8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }
bool file_exists(const std::string& p) noexcept {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}
}  // namespace

SessionRecorder::SessionRecorder(SessionRecorderOptions opt) : opt_(std::move(opt)) {
  const std::size_t cap = opt_.ring_bytes;
  if (cap < 4096 || (cap & (cap - 1)) != 0)
    throw Error("recorder: ring_bytes must be a power of two >= 4096, not " + std::to_string(cap));
  if (opt_.dir.empty()) throw Error("recorder: no directory for the session recording");
  if (::mkdir(opt_.dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error("recorder: cannot create directory '" + opt_.dir + "': " + errno_text());
  ring_ = std::make_unique<char[]>(cap);
  std::memset(ring_.get(), 0, cap);  // touch every page now, not on the trading thread's first pass
  mask_ = cap - 1;
  open_segment();  // throws (naming the file) before any thread exists
  writer_ = std::thread([this] { writer_loop(); });
}

SessionRecorder::~SessionRecorder() {
  try {
    (void)stop();
  } catch (...) {
  }
}

bool SessionRecorder::record(std::int64_t recv_ns, std::uint32_t stream_id, std::string_view payload) noexcept {
  const std::size_t need = align8(sizeof(EntryHeader) + payload.size());
  if (payload.size() > kMaxRecordPayload || need > mask_ + 1) [[unlikely]] {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const std::uint64_t w = write_pos_.load(std::memory_order_relaxed);
  if (w + need - read_cache_ > mask_ + 1) [[unlikely]] {
    read_cache_ = read_pos_.load(std::memory_order_acquire);
    if (w + need - read_cache_ > mask_ + 1) {
      dropped_.fetch_add(1, std::memory_order_relaxed);  // full: counted, reported by the writer thread
      return false;
    }
  }
  const EntryHeader h{static_cast<std::uint32_t>(payload.size()), stream_id, recv_ns};
  auto copy_in = [this](std::uint64_t pos, const void* src, std::size_t n) noexcept {
    const std::size_t off = pos & mask_;
    const std::size_t first = std::min(n, mask_ + 1 - off);
    std::memcpy(ring_.get() + off, src, first);
    if (n > first) std::memcpy(ring_.get(), static_cast<const char*>(src) + first, n - first);
  };
  copy_in(w, &h, sizeof h);
  if (!payload.empty()) copy_in(w + sizeof h, payload.data(), payload.size());
  // Release: the entry's bytes are visible before the writer sees the new position.
  write_pos_.store(w + need, std::memory_order_release);
  return true;
}

void SessionRecorder::writer_loop() {
  std::int64_t last_warn_ns = 0;
  for (;;) {
    const bool stopping = stopping_.load(std::memory_order_acquire);
    const std::size_t n = drain();  // after reading the flag: a stop sees every frame recorded before it
    const std::uint64_t dropped = dropped_.load(std::memory_order_relaxed);
    if (dropped != dropped_logged_) {
      timespec ts{};
      clock_gettime(CLOCK_MONOTONIC, &ts);
      const std::int64_t now = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
      if (stopping || now - last_warn_ns >= 1'000'000'000) {  // at most one line a second
        ENIGMA_LOG_WARN("recorder", "recording ring full: {} frame(s) not recorded so far (recording.dropped_frames)", dropped);
        dropped_logged_ = dropped;
        last_warn_ns = now;
      }
    }
    if (stopping) return;
    if (n == 0) {
      const timespec idle{0, 1'000'000};  // 1 ms: the ring absorbs bursts meanwhile
      ::nanosleep(&idle, nullptr);
    }
  }
}

std::size_t SessionRecorder::drain() {
  std::uint64_t r = read_pos_.load(std::memory_order_relaxed);
  const std::uint64_t w = write_pos_.load(std::memory_order_acquire);
  std::size_t entries = 0;
  const std::size_t cap = mask_ + 1;
  auto copy_out = [&](std::uint64_t pos, void* dst, std::size_t n) {
    const std::size_t off = pos & mask_;
    const std::size_t first = std::min(n, cap - off);
    std::memcpy(dst, ring_.get() + off, first);
    if (n > first) std::memcpy(static_cast<char*>(dst) + first, ring_.get(), n - first);
  };
  while (r < w) {
    EntryHeader h{};
    copy_out(r, &h, sizeof h);
    const std::uint64_t at = r + sizeof h;
    std::string_view payload;
    if ((at & mask_) + h.length <= cap) {
      payload = std::string_view(ring_.get() + (at & mask_), h.length);
    } else {
      scratch_.resize(h.length);
      copy_out(at, scratch_.data(), h.length);
      payload = scratch_;
    }
    if (!failed_) {
      if (seg_->append(h.recv_ns, h.stream_id, payload) != Errc::ok) {
        fail("writing '" + seg_path_ + "' failed: " + errno_text());
        write_dropped_.fetch_add(1, std::memory_order_relaxed);
      } else {
        ++stats_.frames;
        seg_bytes_ += kRecordHeaderSize + h.length;
        stats_.bytes += kRecordHeaderSize + h.length;
      }
    } else {
      write_dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    r += align8(sizeof h + h.length);
    read_pos_.store(r, std::memory_order_release);  // room for the producer as soon as the bytes are copied out
    ++entries;
    if (!failed_ && seg_bytes_ >= opt_.rotate_bytes) {
      try {
        close_segment();
        open_segment();
      } catch (const std::exception& e) {
        fail(e.what());
      }
    }
  }
  if (entries > 0 && !failed_ && seg_ && seg_->flush() != Errc::ok) fail("writing '" + seg_path_ + "' failed: " + errno_text());
  return entries;
}

void SessionRecorder::open_segment() {
  char name[32];
  do {
    std::snprintf(name, sizeof name, "-%04u.rec", ++seg_index_);
    seg_path_ = opt_.dir + "/" + opt_.name + name;
  } while (file_exists(seg_path_) || file_exists(seg_path_ + ".zst"));  // never append to an older session's file
  seg_ = std::make_unique<RecordWriter>(seg_path_);
  seg_bytes_ = kRecordFileHeaderSize;
  stats_.bytes += kRecordFileHeaderSize;
  stats_.files.push_back(seg_path_);
  for (std::size_t i = 0; i < opt_.urls.size(); ++i) {
    const std::uint32_t def = (kUrlDefinitionKind << 24) | static_cast<std::uint32_t>(i + 1);
    if (seg_->append(0, def, opt_.urls[i]) != Errc::ok) throw Error("recorder: writing '" + seg_path_ + "' failed: " + errno_text());
    seg_bytes_ += kRecordHeaderSize + opt_.urls[i].size();
    stats_.bytes += kRecordHeaderSize + opt_.urls[i].size();
  }
  if (seg_->flush() != Errc::ok) throw Error("recorder: writing '" + seg_path_ + "' failed: " + errno_text());
}

void SessionRecorder::close_segment() {
  if (!seg_) return;
  const Errc e = seg_->flush(/*sync=*/true);
  seg_.reset();
  if (e != Errc::ok) throw Error("recorder: flushing '" + seg_path_ + "' failed: " + errno_text());
  if (opt_.zstd) {
    compress_segment_zstd(seg_path_);
    stats_.files.back() = seg_path_ + ".zst";
  }
}

void SessionRecorder::fail(const std::string& why) {
  if (failed_) return;
  failed_ = true;
  stats_.error = why;
  ENIGMA_LOG_ERROR("recorder", "recording stopped: {}; later frames are counted in recording.dropped_frames", why);
}

SessionRecordingStats SessionRecorder::stop() {
  if (!stopped_) {
    stopped_ = true;
    stopping_.store(true, std::memory_order_release);
    if (writer_.joinable()) writer_.join();
    if (!failed_) {
      try {
        close_segment();
      } catch (const std::exception& e) {
        fail(e.what());
      }
    }
    seg_.reset();
  }
  stats_.dropped_frames = dropped_frames();
  return stats_;
}

void compress_segment_zstd(const std::string& path) {
  const std::string out = path + ".zst", tmp = out + ".tmp";
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (!in) throw Error("recorder: cannot open '" + path + "' to compress it: " + errno_text());
  std::FILE* o = std::fopen(tmp.c_str(), "wb");
  if (!o) {
    std::fclose(in);
    throw Error("recorder: cannot create '" + tmp + "': " + errno_text());
  }
  ZSTD_CCtx* cx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1);  // a damaged .zst is reported, never replayed as garbage
  std::vector<char> ibuf(ZSTD_CStreamInSize()), obuf(ZSTD_CStreamOutSize());
  bool ok = true;
  std::string why;
  for (bool last = false; ok && !last;) {
    const std::size_t n = std::fread(ibuf.data(), 1, ibuf.size(), in);
    if (std::ferror(in)) {
      ok = false;
      why = "reading '" + path + "': " + errno_text();
      break;
    }
    last = n < ibuf.size();
    ZSTD_inBuffer ib{ibuf.data(), n, 0};
    for (bool done = false; !done;) {
      ZSTD_outBuffer ob{obuf.data(), obuf.size(), 0};
      const std::size_t rem = ZSTD_compressStream2(cx, &ob, &ib, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(rem)) {
        ok = false;
        why = std::string("zstd: ") + ZSTD_getErrorName(rem);
        break;
      }
      if (std::fwrite(obuf.data(), 1, ob.pos, o) != ob.pos) {
        ok = false;
        why = "writing '" + tmp + "': " + errno_text();
        break;
      }
      done = last ? rem == 0 : ib.pos == ib.size;
    }
  }
  ZSTD_freeCCtx(cx);
  std::fclose(in);
  if (ok && (std::fflush(o) != 0 || ::fsync(fileno(o)) != 0)) {
    ok = false;
    why = "syncing '" + tmp + "': " + errno_text();
  }
  std::fclose(o);
  if (ok && std::rename(tmp.c_str(), out.c_str()) != 0) {
    ok = false;
    why = "renaming '" + tmp + "': " + errno_text();
  }
  if (!ok) {
    std::remove(tmp.c_str());
    throw Error("recorder: compressing '" + path + "' failed (" + why + "); the plain segment is kept");
  }
  // The .zst is complete and durable before the plain segment goes: a crash in between leaves both (the
  // same frames twice), never neither.
  if (std::remove(path.c_str()) != 0) throw Error("recorder: cannot remove '" + path + "' after compressing it: " + errno_text());
}

}  // namespace enigma::feed
