#include "feed/recorder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <unordered_map>

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

}  // namespace enigma::feed
