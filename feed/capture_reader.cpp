#include "feed/capture_reader.hpp"

#include <zlib.h>
#include <zstd.h>
#if defined(ENIGMA_HAVE_ISAL)
#include <isa-l/igzip_lib.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <type_traits>

#include "core/error.hpp"
#include "core/fixed_point.hpp"
#include "feed/backtest_csv.hpp"
#include "feed/recorder.hpp"

namespace enigma::feed {

std::string_view to_string(CaptureFormat f) noexcept {
  switch (f) {
    case CaptureFormat::hftbacktest: return "hftbacktest";
    case CaptureFormat::cryptofeed_raw: return "cryptofeed-raw";
    case CaptureFormat::responses_jsonl: return "responses-jsonl";
    case CaptureFormat::json_lines: return "json-lines";
    case CaptureFormat::enigma_recording: return "enigma-recording";
    case CaptureFormat::candle_csv: return "candle-csv";
    case CaptureFormat::funding_csv: return "funding-csv";
  }
  return "unknown";
}

std::string quote_input(std::string_view s, std::size_t max_chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string q;
  const std::size_t n = std::min(s.size(), max_chars);
  q.reserve(n + 8);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      q.push_back(static_cast<char>(c));
    } else {
      q += "\\x";
      q.push_back(kHex[c >> 4]);
      q.push_back(kHex[c & 0xf]);
    }
  }
  if (s.size() > max_chars) q += "...";
  return q;
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

std::string gunzip(const std::string& path, const std::string& raw) {
  z_stream zs{};
  // 15 + 32: zlib or gzip header auto-detect; loop handles concatenated gzip members.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw Error("'" + path + "': zlib init failed");
  std::string out;
  out.resize(raw.size() * 8 + 4096);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  std::size_t produced = 0;
  for (;;) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // another gzip member follows
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      inflateEnd(&zs);
      throw Error("'" + path + "': corrupt gzip data (zlib error " + std::to_string(rc) + ")");
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      throw Error("'" + path + "': truncated gzip data");
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

// zstd (a recording's closed segment): every frame in the file, in order; a truncated or damaged frame is an
// error naming the file (segments are renamed into place only once complete, so that means a damaged copy).
std::string unzstd(const std::string& path, const std::string& raw) {
  ZSTD_DCtx* dx = ZSTD_createDCtx();
  if (!dx) throw Error("'" + path + "': zstd init failed");
  std::string out;
  out.resize(raw.size() * 6 + 4096);
  std::size_t produced = 0;
  ZSTD_inBuffer in{raw.data(), raw.size(), 0};
  std::size_t rem = 0;
  while (in.pos < in.size) {
    if (produced == out.size()) out.resize(out.size() * 2);
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    rem = ZSTD_decompressStream(dx, &ob, &in);
    produced += ob.pos;
    if (ZSTD_isError(rem)) {
      const std::string why = ZSTD_getErrorName(rem);
      ZSTD_freeDCtx(dx);
      throw Error("'" + path + "': corrupt zstd data (" + why + ")");
    }
  }
  // Input consumed: flush what the decoder still holds; rem != 0 then means the last frame is cut short.
  while (rem != 0) {
    if (produced == out.size()) out.resize(out.size() * 2);
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    const std::size_t before = ob.pos;
    rem = ZSTD_decompressStream(dx, &ob, &in);
    produced += ob.pos;
    if (ZSTD_isError(rem)) {
      const std::string why = ZSTD_getErrorName(rem);
      ZSTD_freeDCtx(dx);
      throw Error("'" + path + "': corrupt zstd data (" + why + ")");
    }
    if (rem != 0 && ob.pos == before) {
      ZSTD_freeDCtx(dx);
      throw Error("'" + path + "': truncated zstd data");
    }
  }
  ZSTD_freeDCtx(dx);
  out.resize(produced);
  return out;
}

std::uint32_t le32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
std::uint16_t le16(const char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// First entry of a zip archive (the recorded Bybit dumps hold exactly one). Sizes come from the central
// directory because streamed zips leave them zero in the local header.
std::string unzip_first(const std::string& path, const std::string& raw) {
  const std::size_t eocd = raw.rfind(std::string_view("PK\5\6", 4));
  if (eocd == std::string::npos || eocd + 22 > raw.size()) throw Error("'" + path + "': zip without end-of-directory record");
  const std::uint32_t cd_off = le32(raw.data() + eocd + 16);
  if (std::size_t{cd_off} + 46 > raw.size() || le32(raw.data() + cd_off) != 0x02014b50) throw Error("'" + path + "': corrupt zip directory");
  const char* cd = raw.data() + cd_off;
  const std::uint16_t method = le16(cd + 10);
  const std::uint32_t csize = le32(cd + 20);
  const std::uint32_t usize = le32(cd + 24);
  const std::uint32_t lh_off = le32(cd + 42);
  if (std::size_t{lh_off} + 30 > raw.size() || le32(raw.data() + lh_off) != 0x04034b50) throw Error("'" + path + "': corrupt zip entry");
  const std::size_t data_off = lh_off + 30 + le16(raw.data() + lh_off + 26) + le16(raw.data() + lh_off + 28);
  if (data_off + csize > raw.size()) throw Error("'" + path + "': truncated zip entry");
  // Deflate expands at most 1032:1: a directory claiming more is corrupt, and is not allowed to make us
  // allocate gigabytes for a tiny file (found by fuzz_capture_reader).
  if (method == 8 && usize > std::uint64_t{csize} * 1032 + 64)
    throw Error("'" + path + "': corrupt zip directory (" + std::to_string(usize) + " bytes uncompressed from " +
                std::to_string(csize) + ")");
  if (method == 0) return raw.substr(data_off, csize);
  if (method != 8) throw Error("'" + path + "': unsupported zip compression method " + std::to_string(method));
  std::string out(usize, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) throw Error("'" + path + "': zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data() + data_off));
  zs.avail_in = csize;
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = usize;
  const int rc = inflate(&zs, Z_FINISH);
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw Error("'" + path + "': corrupt zip entry data");
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "1652459224.5300605" -> ns. Returns false when s is not a plain decimal number.
bool parse_epoch_seconds(std::string_view s, std::int64_t& ns) {
  std::int64_t secs = 0;
  std::size_t i = 0;
  if (s.empty() || !is_digit(s[0])) return false;
  // Seconds beyond what nanoseconds in 64 bits can hold (year 2262) would wrap: not a timestamp.
  constexpr std::int64_t kMaxSecs = INT64_MAX / 1'000'000'000 - 1;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    secs = secs * 10 + (s[i] - '0');
    if (secs > kMaxSecs) return false;
  }
  std::int64_t frac = 0;
  int nfrac = 0;
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && is_digit(s[i]); ++i)
      if (nfrac < 9) {
        frac = frac * 10 + (s[i] - '0');
        ++nfrac;
      }
  }
  if (i != s.size()) return false;
  while (nfrac < 9) {
    frac *= 10;
    ++nfrac;
  }
  ns = secs * 1'000'000'000 + frac;
  return true;
}

// Decompressed text, with every line longer than the limit cut as it arrives (an empty line is left in its
// place, so line numbers hold) and remembered with its length and first bytes. A gzip that expands without
// bound thus costs at most the limit. A binary enigma recording passes through untouched.
class LineSink {
 public:
  struct Cut {
    std::size_t line;
    std::uint64_t bytes;
    std::string head;
  };

  LineSink(std::string& out, std::size_t max_line) : out_(out), max_(max_line) {}

  void append(const char* p, std::size_t n) {
    if (!decided_ && n > 0) {
      decided_ = true;
      binary_ = n >= sizeof kRecordFileMagic && std::memcmp(p, kRecordFileMagic, sizeof kRecordFileMagic) == 0;
    }
    if (binary_) {
      out_.append(p, n);
      return;
    }
    while (n > 0) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
      const std::size_t take = nl ? static_cast<std::size_t>(nl - p) : n;  // bytes of the current line in p
      if (skipping_) {
        skipped_ += take;
      } else if (out_.size() - line_start_ + take > max_) {
        skipped_ = out_.size() - line_start_ + take;
        head_.assign(out_, line_start_, 200);
        if (head_.size() < 200) head_.append(p, std::min(take, 200 - head_.size()));
        out_.resize(line_start_);
        skipping_ = true;
      } else {
        out_.append(p, take);
      }
      if (!nl) return;
      end_line();
      p += take + 1;
      n -= take + 1;
    }
  }

  // cut_short: the stream ended early, so an unterminated last line is incomplete: drop it.
  void finish(bool cut_short) {
    if (binary_) return;
    if (skipping_) {
      end_line();
    } else if (cut_short && out_.size() > line_start_) {
      partial_bytes_ = out_.size() - line_start_;
      out_.resize(line_start_);
    }
  }

  [[nodiscard]] std::vector<Cut>& cuts() noexcept { return cuts_; }
  [[nodiscard]] std::size_t complete_lines() const noexcept { return lines_; }
  [[nodiscard]] std::size_t partial_bytes() const noexcept { return partial_bytes_; }

 private:
  void end_line() {
    ++lines_;
    if (skipping_) {
      cuts_.push_back(Cut{lines_, skipped_, std::move(head_)});
      head_.clear();
      skipping_ = false;
    }
    out_.push_back('\n');
    line_start_ = out_.size();
  }

  std::string& out_;
  std::size_t max_;
  std::size_t line_start_{0};
  std::size_t lines_{0};
  std::size_t partial_bytes_{0};
  std::uint64_t skipped_{0};
  bool skipping_{false};
  bool decided_{false};
  bool binary_{false};
  std::string head_;
  std::vector<Cut> cuts_;
};

// What load_capture() found wrong with the compressed stream ("" when nothing).
struct LoadResult {
  std::string damage;  // e.g. "truncated gzip data: the stream ends after 4096 compressed bytes"
};

// gunzip through a LineSink, keeping what decompressed before a truncation or a damaged block.
LoadResult gunzip_lines(const std::string& raw, LineSink& sink) {
  LoadResult res;
  z_stream zs{};
  // 15 + 32: zlib or gzip header auto-detect; the loop handles concatenated gzip members.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw Error("zlib init failed");
  std::vector<char> chunk(std::size_t{1} << 20);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    sink.append(chunk.data(), chunk.size() - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // another gzip member follows
      continue;
    }
    const std::uint64_t at = raw.size() - zs.avail_in;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      res.damage = "truncated gzip data: the stream ends after " + std::to_string(at) + " compressed bytes without its end";
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      res.damage = "corrupt gzip data at compressed byte " + std::to_string(at) + " (zlib error " + std::to_string(rc) +
                   (zs.msg ? std::string(": ") + zs.msg : std::string()) + ")";
      break;
    }
  }
  inflateEnd(&zs);
  return res;
}

// The capture's text, lines longer than the limit cut (see LineSink); damage to a gzip stream is reported,
// not thrown, so the caller can replay the good part.
LoadResult load_capture(const std::string& path, std::string& out, std::size_t max_line, std::vector<LineSink::Cut>& cuts,
                        std::size_t& complete_lines, std::size_t& partial_bytes) {
  const std::string raw = slurp(path);
  LineSink sink(out, max_line);
  LoadResult res;
  const bool gz = raw.size() >= 2 && static_cast<unsigned char>(raw[0]) == 0x1f && static_cast<unsigned char>(raw[1]) == 0x8b;
  if (gz) {
    try {
      res = gunzip_lines(raw, sink);
    } catch (const Error& e) {
      throw Error("'" + path + "': " + e.what());
    }
  } else {
    const std::string text = read_file_decompressed(path);  // zip, zstd or plain: whole, then line-limited
    sink.append(text.data(), text.size());
  }
  sink.finish(!res.damage.empty());
  cuts = std::move(sink.cuts());
  complete_lines = sink.complete_lines();
  partial_bytes = sink.partial_bytes();
  return res;
}

}  // namespace

// A gzip stream inflated a piece at a time (streaming replay): ISA-L igzip when the build found it (several
// times zlib's speed), zlib otherwise. Concatenated members are read in turn. Damage is reported, not thrown:
// `damage` names the compressed byte offset, and what was inflated before it stays usable.
class GzipInflater {
 public:
  // The compressed file is read 256 KiB at a time too.
  explicit GzipInflater(const std::string& path) : in_(path, std::ios::binary), raw_(std::size_t{256} << 10, '\0') {
    if (!in_) throw Error(std::string("cannot open: ") + std::strerror(errno));
#if defined(ENIGMA_HAVE_ISAL)
    isal_inflate_init(&st_);
    st_.crc_flag = ISAL_GZIP;
#else
    if (inflateInit2(&zs_, 15 + 32) != Z_OK) throw Error("zlib init failed");
#endif
  }
  ~GzipInflater() {
#if !defined(ENIGMA_HAVE_ISAL)
    inflateEnd(&zs_);
#endif
  }
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Up to `cap` more bytes into `out`; 0 only at the end of the stream or at damage (then `damage` is set).
  std::size_t pull(char* out, std::size_t cap) {
    if (finished_) return 0;
    auto& avail = 
#if defined(ENIGMA_HAVE_ISAL)
        st_.avail_in
#else
        zs_.avail_in
#endif
        ;
    auto& next = 
#if defined(ENIGMA_HAVE_ISAL)
        st_.next_in
#else
        zs_.next_in
#endif
        ;
    if (avail == 0 && in_) {  // more compressed input
      in_.read(raw_.data(), static_cast<std::streamsize>(raw_.size()));
      const auto got = static_cast<std::size_t>(in_.gcount());
      read_ += got;
      next = reinterpret_cast<std::remove_reference_t<decltype(next)>>(raw_.data());
      avail = static_cast<std::remove_reference_t<decltype(avail)>>(got);
    }
#if defined(ENIGMA_HAVE_ISAL)
    for (;;) {
      st_.next_out = reinterpret_cast<std::uint8_t*>(out);
      st_.avail_out = static_cast<std::uint32_t>(cap);
      const int rc = isal_inflate(&st_);
      const std::size_t produced = cap - st_.avail_out;
      const std::uint64_t at = read_ - st_.avail_in;
      if (rc < 0) {
        damage = "corrupt gzip data at compressed byte " + std::to_string(at) + " (igzip error " + std::to_string(rc) + ")";
        finished_ = true;
        return produced;
      }
      if (st_.block_state == ISAL_BLOCK_FINISH) {
        if (st_.avail_in == 0 && !in_) finished_ = true;
        else {
          isal_inflate_reset(&st_);  // another gzip member follows
          st_.crc_flag = ISAL_GZIP;
          between_members_ = true;
        }
        if (produced > 0 || finished_) return produced;
        continue;
      }
      if (produced > 0) {
        between_members_ = false;
        return produced;
      }
      if (st_.avail_in == 0 && in_) return pull(out, cap);
      if (st_.avail_in == 0 && between_members_ && at == read_) {  // the file ended right after a member
        finished_ = true;
        return 0;
      }
      if (st_.avail_in == 0) {
        damage = "truncated gzip data: the stream ends after " + std::to_string(at) + " compressed bytes without its end";
        finished_ = true;
        return 0;
      }
    }
#else
    for (;;) {
      zs_.next_out = reinterpret_cast<Bytef*>(out);
      zs_.avail_out = static_cast<uInt>(cap);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      const std::size_t produced = cap - zs_.avail_out;
      const std::uint64_t at = read_ - zs_.avail_in;
      if (rc == Z_STREAM_END) {
        if (zs_.avail_in == 0 && !in_) finished_ = true;
        else {
          inflateReset(&zs_);  // another gzip member follows
          between_members_ = true;
        }
        if (produced > 0 || finished_) return produced;
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        damage = "corrupt gzip data at compressed byte " + std::to_string(at) + " (zlib error " + std::to_string(rc) +
                 (zs_.msg ? std::string(": ") + zs_.msg : std::string()) + ")";
        finished_ = true;
        return produced;
      }
      if (produced > 0) {
        between_members_ = false;
        return produced;
      }
      if (zs_.avail_in == 0 && in_) return pull(out, cap);
      if (zs_.avail_in == 0 && between_members_ && at == read_) {  // the file ended right after a member
        finished_ = true;
        return 0;
      }
      if (zs_.avail_in == 0) {
        damage = "truncated gzip data: the stream ends after " + std::to_string(at) + " compressed bytes without its end";
        finished_ = true;
        return 0;
      }
    }
#endif
  }
  [[nodiscard]] bool finished() const noexcept { return finished_; }
  [[nodiscard]] std::uint64_t bytes_read() const noexcept { return read_; }
  std::string damage;

 private:
  std::ifstream in_;
  std::string raw_;  // compressed input buffer
  std::uint64_t read_{0};  // compressed bytes read from the file
  bool between_members_{false};  // a member ended; no byte of the next one seen yet
  bool finished_{false};
#if defined(ENIGMA_HAVE_ISAL)
  inflate_state st_{};
#else
  z_stream zs_{};
#endif
};

std::string read_file_decompressed(const std::string& path) {
  std::string raw = slurp(path);
  if (raw.size() >= 2 && static_cast<unsigned char>(raw[0]) == 0x1f && static_cast<unsigned char>(raw[1]) == 0x8b)
    return gunzip(path, raw);
  if (raw.size() >= 4 && raw.compare(0, 4, std::string_view("PK\3\4", 4)) == 0) return unzip_first(path, raw);
  if (raw.size() >= 4 && le32(raw.data()) == ZSTD_MAGICNUMBER) return unzstd(path, raw);
  return raw;
}

CaptureReader::~CaptureReader() = default;

std::size_t CaptureReader::size_bytes() const noexcept {
  return recording_ ? recording_->size_bytes() : data_.size() - kPadding;
}

std::uint64_t CaptureReader::input_bytes_done() const noexcept {
  if (gz_) return gz_->bytes_read();
  if (recording_ || data_.size() <= kPadding) return 0;
  const std::size_t content = data_.size() - kPadding;
  return static_cast<std::uint64_t>(static_cast<double>(file_bytes_) * static_cast<double>(std::min(pos_, content)) / static_cast<double>(content));
}

CaptureReader::CaptureReader(std::string path, CaptureReadOptions options) : path_(std::move(path)), options_(options) {
  {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path_, ec);
    file_bytes_ = ec ? 0 : static_cast<std::uint64_t>(n);
  }
  std::size_t content = 0;
  if (options_.streaming) {
    std::ifstream probe(path_, std::ios::binary);
    char magic[2] = {};
    if (!probe) throw Error("cannot open '" + path_ + "': " + std::strerror(errno));
    probe.read(magic, 2);
    if (probe.gcount() == 2 && static_cast<unsigned char>(magic[0]) == 0x1f && static_cast<unsigned char>(magic[1]) == 0x8b) {
      try {
        gz_ = std::make_unique<GzipInflater>(path_);
      } catch (const Error& e) {
        throw Error("'" + path_ + "': " + e.what());
      }
      constexpr std::size_t kWindow = std::size_t{256} << 10;
      data_.assign(kWindow + kPadding, ' ');
      // Enough text to detect the format from (up to 16 lines), as the whole-file reader does.
      do refill();
      while (!gz_->finished() && newlines_ < 16 && end_ < data_.size() - kPadding);
      content = end_;
    }
  }
  if (!gz_) {
  std::vector<LineSink::Cut> cuts;
  std::size_t complete_lines = 0, partial_bytes = 0;
  const LoadResult loaded = load_capture(path_, data_, options_.max_line_bytes, cuts, complete_lines, partial_bytes);
  for (LineSink::Cut& c : cuts) long_lines_.push_back(LongLine{c.line, c.bytes, std::move(c.head)});
  if (!loaded.damage.empty()) {
    damaged_ = true;
    const std::string incomplete = partial_bytes ? " (line " + std::to_string(complete_lines + 1) + " is incomplete)" : std::string();
    if (options_.strict) throw Error("'" + path_ + "': " + loaded.damage + incomplete + " (--strict)");
    std::fprintf(stderr, "warning: '%s': %s%s; replaying the %zu complete lines before it\n", path_.c_str(),
                 loaded.damage.c_str(), incomplete.c_str(), complete_lines);
  }
  if (data_.size() >= sizeof kRecordFileMagic && data_.compare(0, sizeof kRecordFileMagic, kRecordFileMagic, sizeof kRecordFileMagic) == 0) {
    format_ = CaptureFormat::enigma_recording;
    recording_ = std::make_unique<RecordReader>(RecordReader::from_bytes(std::move(data_), path_));
    data_.assign(kPadding, ' ');
    return;
  }
  content = data_.size();
  data_.append(kPadding, ' ');
  }
  if (options_.synthetic != CaptureReadOptions::Synthetic::none) {
    init_synthetic(content);
    return;
  }
  // Detect from the first line of a known shape among the first few, so a bad first line is skipped like
  // any other bad line (when read) instead of making the whole file unreadable.
  auto detect = [](std::string_view l) -> std::optional<CaptureFormat> {
    if (is_digit(l[0])) {
      const std::size_t sp = l.find(' ');
      if (sp != std::string_view::npos && l.find('.') > sp && sp + 1 < l.size() && (l[sp + 1] == '{' || l[sp + 1] == '['))
        return CaptureFormat::hftbacktest;
      if (l.find(": ") != std::string_view::npos) return CaptureFormat::cryptofeed_raw;
      return std::nullopt;
    }
    if (l.rfind("{\"url\":", 0) == 0 && l.find("\"body\":") != std::string_view::npos) return CaptureFormat::responses_jsonl;
    if (l[0] == '{' || l[0] == '[') return CaptureFormat::json_lines;
    if (l.find(" <-> ") != std::string_view::npos || l.find(" <- ") != std::string_view::npos || l.find(" -> ") != std::string_view::npos)
      return CaptureFormat::cryptofeed_raw;
    return std::nullopt;
  };
  constexpr int kLinesTried = 16;
  std::string_view first;
  int tried = 0;
  for (std::size_t b = 0; b < content && tried < kLinesTried;) {
    std::size_t e = data_.find('\n', b);
    if (e == std::string::npos || e > content) e = content;
    std::string_view line(data_.data() + b, e - b);
    b = e + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (first.empty()) first = line;
    ++tried;
    if (const auto f = detect(line)) {
      format_ = *f;
      return;
    }
  }
  if (first.empty()) throw Error("'" + path_ + "': empty capture file" + (long_lines_.empty() ? "" : " (every line too long)"));
  throw Error("'" + path_ + "': unrecognised capture format (none of the first " + std::to_string(tried) +
              " lines has a known shape): first line '" + quote_input(first) + "'");
}

bool CaptureReader::next(CapturedFrame& out) {
  if (synth_) return next_synthetic(out);
  if (recording_) {
    RecordedFrame r;
    while (recording_->next(r)) {
      ++line_no_;
      const std::uint32_t kind = r.stream_id >> 24;
      const std::uint32_t url = stream_url_index(r.stream_id);
      if (kind == kUrlDefinitionKind || kind == static_cast<std::uint32_t>(FrameKind::connect)) {
        if (url >= urls_.size()) urls_.resize(url + 1);
        urls_[url] = std::string(r.payload);
        if (kind == kUrlDefinitionKind) continue;
      }
      if (kind > static_cast<std::uint32_t>(FrameKind::connect)) {
        throw Error("'" + path_ + "': record at offset " + std::to_string(r.offset) + ": unknown frame kind " + std::to_string(kind));
      }
      out = CapturedFrame{};
      out.line_no = line_no_;
      out.recv_ns = r.recv_ns;
      out.kind = static_cast<FrameKind>(kind);
      if (url < urls_.size()) out.url = urls_[url];
      if (out.kind != FrameKind::connect) out.payload = r.payload;
      else out.payload = std::string_view(r.payload.data(), 0);
      out.padded_capacity = r.padded_capacity;
      return true;
    }
    const ReadStats& st = recording_->stats();
    if (!warned_ && (st.tail_skipped != 0 || !st.corrupt_offsets.empty())) {
      warned_ = true;
      if (st.tail_skipped != 0) {
        std::fprintf(stderr, "warning: '%s': torn last record (%llu bytes) skipped; replayed the %llu valid records before it\n",
                     path_.c_str(), static_cast<unsigned long long>(st.tail_bytes), static_cast<unsigned long long>(st.records));
      }
      for (const std::uint64_t off : st.corrupt_offsets) {
        std::fprintf(stderr, "warning: '%s': damaged record at offset %llu skipped\n", path_.c_str(), static_cast<unsigned long long>(off));
      }
    }
    return false;
  }
  for (;;) {
    std::size_t e = 0;
    if (!line_end(e)) {
      if (!warned_ && bad_lines_ > 0) {
        warned_ = true;
        std::fprintf(stderr, "warning: '%s': %zu bad line%s skipped\n", path_.c_str(), bad_lines_, bad_lines_ == 1 ? "" : "s");
      }
      return false;
    }
    std::string_view line(data_.data() + pos_, e - pos_);
    pos_ = e + 1;
    ++line_no_;
    if (next_long_ < long_lines_.size() && long_lines_[next_long_].line == line_no_) [[unlikely]] {
      const LongLine& l = long_lines_[next_long_++];
      bad_line("line of " + std::to_string(l.bytes) + " bytes exceeds the " + std::to_string(options_.max_line_bytes >> 20) +
                   " MiB line limit",
               l.head);
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    out = CapturedFrame{};
    out.line_no = line_no_;
    switch (format_) {
      case CaptureFormat::hftbacktest: {
        const std::size_t sp = line.find(' ');
        if (sp == std::string_view::npos || sp == 0) {
          bad_line("expected '<ns> <json>'", line);
          continue;
        }
        std::int64_t ns = 0;
        bool ok = true;
        const char* why = "receive timestamp is not an integer";
        for (std::size_t i = 0; i < sp && ok; ++i) {
          if (!is_digit(line[i])) ok = false;
          else if (__builtin_mul_overflow(ns, std::int64_t{10}, &ns) || __builtin_add_overflow(ns, std::int64_t{line[i] - '0'}, &ns)) {
            ok = false;
            why = "receive timestamp does not fit in 64 bits";
          }
        }
        if (!ok) {
          bad_line(why, line);
          continue;
        }
        out.recv_ns = ns;
        out.payload = line.substr(sp + 1);
        // The one REST snapshot in these files is a bare {"lastUpdateId":...} body.
        out.kind = out.payload.rfind("{\"lastUpdateId\"", 0) == 0 ? FrameKind::rest_body : FrameKind::ws_received;
        break;
      }
      case CaptureFormat::cryptofeed_raw: {
        // Either "ts: payload" or "URL <dir> ts[: payload]".
        std::string_view rest = line;
        if (is_digit(line[0])) {
          out.kind = FrameKind::ws_received;
        } else {
          std::size_t d = line.find(" <-> ");
          std::size_t dirlen = 5;
          if (d != std::string_view::npos) {
            out.kind = FrameKind::connect;
          } else if ((d = line.find(" <- ")) != std::string_view::npos) {
            out.kind = FrameKind::ws_sent;
            dirlen = 4;
          } else if ((d = line.find(" -> ")) != std::string_view::npos) {
            out.kind = FrameKind::rest_body;
            dirlen = 4;
          } else {
            bad_line("expected 'URL <->|<-|-> ts' or 'ts: payload'", line);
            continue;
          }
          out.url = line.substr(0, d);
          rest = line.substr(d + dirlen);
        }
        const std::size_t colon = rest.find(": ");
        const std::string_view ts = colon == std::string_view::npos ? rest : rest.substr(0, colon);
        if (!parse_epoch_seconds(ts, out.recv_ns)) {
          bad_line("timestamp is not a number of seconds that fits in 64-bit nanoseconds", line);
          continue;
        }
        if (colon != std::string_view::npos) out.payload = rest.substr(colon + 2);
        break;
      }
      case CaptureFormat::responses_jsonl: {
        out.kind = FrameKind::rest_body;
        const std::size_t u = line.find("\"url\":\"");
        const std::size_t ts = line.find("\"local_ts\":");
        const std::size_t body = line.find("\"body\":");
        if (u == std::string_view::npos || ts == std::string_view::npos || body == std::string_view::npos || line.back() != '}' ||
            body + 7 > line.size() - 1) {
          bad_line("expected {\"url\",\"local_ts\",\"body\"}", line);
          continue;
        }
        const std::size_t uend = line.find('"', u + 7);
        out.url = line.substr(u + 7, uend == std::string_view::npos ? std::string_view::npos : uend - (u + 7));
        std::size_t te = ts + 11;
        while (te < line.size() && (is_digit(line[te]) || line[te] == '.')) ++te;
        if (!parse_epoch_seconds(line.substr(ts + 11, te - ts - 11), out.recv_ns)) {
          bad_line("local_ts is not a number of seconds that fits in 64-bit nanoseconds", line);
          continue;
        }
        out.payload = line.substr(body + 7, line.size() - 1 - (body + 7));
        break;
      }
      case CaptureFormat::json_lines:
        out.kind = FrameKind::ws_received;
        out.payload = line;
        break;
      case CaptureFormat::enigma_recording:  // read by recording_ above
      case CaptureFormat::candle_csv:        // read by synth_ (next_synthetic)
      case CaptureFormat::funding_csv: break;
    }
    // A frame without payload (a cryptofeed connect line) still points into the buffer, so its padded
    // capacity is real (it was measured from a null pointer: found by fuzz_capture_reader).
    if (out.payload.data() == nullptr) out.payload = std::string_view(line.data() + line.size(), 0);
    out.padded_capacity = static_cast<std::size_t>(data_.data() + data_.size() - out.payload.data());
    return true;
  }
}

// The end of the line at pos_ (its '\n', or the end of the text); false at the end of the text.
bool CaptureReader::line_end(std::size_t& e) {
  if (!gz_) {
    const std::size_t content = data_.size() - kPadding;
    if (pos_ >= content) return false;
    e = data_.find('\n', pos_);
    if (e == std::string::npos || e > content) e = content;
    return true;
  }
  for (;;) {
    if (const void* nl = std::memchr(data_.data() + pos_, '\n', end_ - pos_)) {
      e = static_cast<std::size_t>(static_cast<const char*>(nl) - data_.data());
      return true;
    }
    if (gz_->finished()) {
      if (pos_ >= end_) return false;
      e = end_;
      return true;
    }
    if (end_ - pos_ > options_.max_line_bytes) skip_long_line();
    else refill();
  }
}

// Streaming: moves the unread rest to the front of the window and inflates more after it. After damage the
// incomplete last line is dropped, and the damage reported as the whole-file reader reports it.
void CaptureReader::refill() {
  if (pos_ > 0) {
    std::memmove(data_.data(), data_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  std::size_t cap = data_.size() - kPadding;
  if (end_ == cap) {  // a line longer than the window (at most max_line_bytes + 1 before it is cut)
    cap = std::min(cap * 2, options_.max_line_bytes + 1 + (std::size_t{1} << 20));
    data_.resize(cap + kPadding, ' ');
  }
  const std::size_t n = gz_->pull(data_.data() + end_, cap - end_);
  newlines_ += static_cast<std::size_t>(std::count(data_.data() + end_, data_.data() + end_ + n, '\n'));
  end_ += n;
  if (!gz_->damage.empty() && !damaged_) {
    damaged_ = true;
    const char* last_nl = static_cast<const char*>(::memrchr(data_.data(), '\n', end_));
    const std::size_t keep = last_nl ? static_cast<std::size_t>(last_nl - data_.data()) + 1 : 0;
    const std::size_t partial = end_ >= keep && end_ > pos_ ? end_ - std::max(keep, pos_) : 0;
    end_ = std::max(keep, pos_);
    const std::string incomplete = partial ? " (line " + std::to_string(newlines_ + 1) + " is incomplete)" : std::string();
    if (options_.strict) throw Error("'" + path_ + "': " + gz_->damage + incomplete + " (--strict)");
    std::fprintf(stderr, "warning: '%s': %s%s; replaying the %zu complete lines before it\n", path_.c_str(), gz_->damage.c_str(),
                 incomplete.c_str(), newlines_);
  }
}

// Streaming: the line at pos_ is longer than the limit: drop it as it inflates (remembering its length and
// first bytes for the bad-line warning) and leave an empty line in its place, so line numbers hold.
void CaptureReader::skip_long_line() {
  LongLine l{line_no_ + 1, end_ - pos_, data_.substr(pos_, 200)};
  end_ = pos_;
  for (;;) {
    refill();
    if (const void* nl = std::memchr(data_.data() + pos_, '\n', end_ - pos_)) {
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - data_.data());
      l.bytes += at - pos_;
      pos_ = at;  // the empty line that stands for it
      break;
    }
    l.bytes += end_ - pos_;
    end_ = pos_;
    if (gz_->finished()) {
      data_[end_++] = '\n';
      break;
    }
  }
  long_lines_.push_back(std::move(l));
}

// Cold: a bad line is rare. Strict: the error names file and line; otherwise count, quote the first few.
void CaptureReader::bad_line(std::string_view why, std::string_view quoted) {
  if (options_.strict)
    throw Error("'" + path_ + "': line " + std::to_string(line_no_) + ": " + std::string(why) + ": '" + quote_input(quoted) +
                (synth_ ? "'" : "' (--strict)"));
  if (bad_lines_++ < options_.max_quoted)
    std::fprintf(stderr, "warning: %s:%zu: %s: '%s' (line skipped)\n", path_.c_str(), line_no_, std::string(why).c_str(),
                 quote_input(quoted).c_str());
}

std::size_t bad_lines(const std::vector<std::unique_ptr<CaptureReader>>& readers) noexcept {
  std::size_t n = 0;
  for (const auto& r : readers) n += r->bad_lines();
  return n;
}

std::vector<CapturedFrame> read_merged(const std::vector<std::string>& files,
                                       std::vector<std::unique_ptr<CaptureReader>>& readers, const CaptureReadOptions& options) {
  if (files.size() >= kLiveSource) throw Error("too many capture files (" + std::to_string(files.size()) + "); at most 65534");
  std::vector<CapturedFrame> frames;
  for (const std::string& path : files) {
    readers.push_back(std::make_unique<CaptureReader>(path, options));
    CapturedFrame f;
    while (readers.back()->next(f)) {
      f.source = static_cast<std::uint16_t>(readers.size() - 1);
      frames.push_back(f);
    }
  }
  std::stable_sort(frames.begin(), frames.end(),
                   [](const CapturedFrame& a, const CapturedFrame& b) { return a.recv_ns < b.recv_ns; });
  return frames;
}


// ------------------------------------------------------------------------------------------------
// Backtest inputs: candle and funding CSVs as Binance USD-M frames (README "enigma backtest").
//
// A candle row (open time T, bar length I) becomes, all stamped with their data time:
//   T          the open O         a depth diff (bid O - tick, ask O, 1000 each) then a trade at O
//   T + I/3    the first extreme  L when close >= open (a rising bar dips first), else H: diff + trade
//   T + 2I/3   the other extreme  diff + trade
//   T + I - 1ms the close C       diff + trade, then the kline (the closed candle)
// Each file's first row is preceded by a REST depth snapshot so the book syncs; update ids are the data time in ms. So a market
// buy fills at the last synthetic price (the ask), a market sell one tick under it; a resting limit fills at
// its own price once a synthetic trade reaches it; a stop triggers on a synthetic trade through it and fills
// as a market order against the book of that same point.
// A funding row `datetime,time_ms,funding_rate` becomes a markPriceUpdate 1 ms before time_ms announcing that
// rate for funding time time_ms (mark price 0: the simulated exchange values the position at the last trade).
struct SyntheticFrames {
  std::string symbol, stream;  // stream: the lower-case symbol of the combined-stream names
  std::string interval;        // "5m"
  std::int64_t interval_ms{0};
  Price tick;
  bool candles{true};
  // the row being emitted
  std::int64_t open_ms{0}, prev_ms{INT64_MIN};
  Price px[4];  // the four synthetic prices in time order
  Price o, h, l, c;
  std::string volume;
  std::string rate;
  int step{0}, steps{0};
  bool snapshot_sent{false};
  Price bid, ask;
  std::uint64_t update_id{0}, trade_id{0};
  Price last;
  std::string buf, url;
};

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's civil-from-days inverse, public domain facts).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "2025-06-02 04:50:00" (or with 'T') as UTC -> ms since the epoch; false when it is not that shape.
bool parse_datetime_ms(std::string_view s, std::int64_t& ms) noexcept {
  if (s.size() < 19 || (s[10] != ' ' && s[10] != 'T') || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') return false;
  auto num = [&](std::size_t at, std::size_t n, int& v) {
    v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!is_digit(s[i])) return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, hh, mi, ss;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, hh) || !num(14, 2, mi) || !num(17, 2, ss)) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60) return false;
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest != "Z" && rest != "+00:00") return false;
  ms = (days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + hh * 3600 + mi * 60 + ss) * 1000;
  return true;
}

// The CSV's fields (at most 8), split at commas.
std::size_t split_csv(std::string_view line, std::string_view* f, std::size_t max) noexcept {
  std::size_t n = 0;
  for (;;) {
    const std::size_t c = line.find(',');
    if (n == max) return max + 1;
    f[n++] = line.substr(0, c);
    if (c == std::string_view::npos) return n;
    line.remove_prefix(c + 1);
  }
}

}  // namespace

const char* parse_candle_csv_row(std::string_view line, CandleCsvRow& out) noexcept {
  std::string_view f[8];
  if (split_csv(line, f, 7) != 6u) return "expected 6 fields datetime,open,high,low,close,volume";
  std::int64_t t = 0;
  if (!parse_datetime_ms(f[0], t)) return "datetime is not 'YYYY-MM-DD HH:MM:SS' (UTC)";
  if (t < 0 || t > kMaxCsvTimeMs) return "datetime before 1970 or after 2261";
  Price v[4];
  bool ok = true;
  for (int i = 0; i < 4 && ok; ++i) {
    const auto p = Price::parse(f[1 + i]);
    ok = p && p.value.raw() > 0;
    if (ok) v[i] = p.value;
  }
  const auto vol = Qty::parse(f[5]);
  if (!ok || !vol || vol.value.raw() < 0) return "open, high, low, close must be positive decimals and volume a decimal >= 0";
  const Price o = v[0], h = v[1], l = v[2], c = v[3];
  if (h < std::max(o, c) || l > std::min(o, c)) return "high below open/close or low above them";
  out.open_ms = t;
  out.open = o, out.high = h, out.low = l, out.close = c;
  out.volume = vol.value;
  out.volume_text = f[5];
  return nullptr;
}

const char* parse_funding_csv_row(std::string_view line, FundingCsvRow& out) noexcept {
  std::string_view f[8];
  if (split_csv(line, f, 7) != 3u) return "expected 3 fields datetime,time_ms,funding_rate";
  std::int64_t ms = 0;
  bool ok = !f[1].empty();
  for (const char ch : f[1]) {
    if (!is_digit(ch) || __builtin_mul_overflow(ms, std::int64_t{10}, &ms) || __builtin_add_overflow(ms, std::int64_t{ch - '0'}, &ms)) ok = false;
  }
  const auto r = Rate::parse(f[2]);
  if (!ok || ms <= 0 || ms > kMaxCsvTimeMs || !r) return "time_ms must be a positive integer and funding_rate a decimal";
  out.time_ms = ms;
  out.rate = r.value;
  out.rate_text = f[2];
  return nullptr;
}

void CaptureReader::init_synthetic(std::size_t content) {
  const bool candles = options_.synthetic == CaptureReadOptions::Synthetic::candles;
  format_ = candles ? CaptureFormat::candle_csv : CaptureFormat::funding_csv;
  // Frames are built one at a time in one buffer: only a streaming reader (FrameStream copies each) fits.
  if (!options_.streaming) throw Error("'" + path_ + "': candle and funding CSVs are read by the streaming replay only");
  options_.strict = true;
  std::size_t e = data_.find('\n');
  if (e == std::string::npos || e > content) e = content;
  std::string_view header(data_.data(), e);
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
  const std::string_view want = candles ? "datetime,open,high,low,close,volume" : "datetime,time_ms,funding_rate";
  if (header != want)
    throw Error("'" + path_ + "': line 1: not a " + std::string(candles ? "candle" : "funding") + " CSV: expected the header '" +
                std::string(want) + "', found '" + quote_input(header) + "'");
  if (options_.symbol.empty()) throw Error("'" + path_ + "': no instrument symbol for this CSV");
  auto s = std::make_unique<SyntheticFrames>();
  s->candles = candles;
  s->symbol = options_.symbol;
  for (const char ch : s->symbol) s->stream.push_back(static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch));
  if (candles) {
    const std::int64_t sec = options_.interval_ms / 1000;
    if (options_.interval_ms <= 0 || options_.interval_ms % 60'000 != 0 || options_.interval_ms > kMaxCsvIntervalMs)
      throw Error("'" + path_ + "': candle interval must be a positive multiple of 60 s, at most 366 days");
    s->interval_ms = options_.interval_ms;
    s->interval = sec % 86400 == 0 ? std::to_string(sec / 86400) + "d"
                  : sec % 3600 == 0 ? std::to_string(sec / 3600) + "h"
                                    : std::to_string(sec / 60) + "m";
    const auto t = Price::parse(options_.tick);
    if (!t || t.value.raw() <= 0) throw Error("'" + path_ + "': tick '" + options_.tick + "' is not a positive decimal");
    s->tick = t.value;
  }
  s->buf.reserve(1024);
  s->url = "https://fapi.binance.com/fapi/v1/depth?symbol=" + s->symbol + "&limit=1000";
  synth_ = std::move(s);
}

bool CaptureReader::next_synthetic(CapturedFrame& out) {
  SyntheticFrames& s = *synth_;
  while (s.step >= s.steps) {  // the next row
    std::size_t e = 0;
    if (!line_end(e)) return false;
    std::string_view line(data_.data() + pos_, e - pos_);
    pos_ = e + 1;
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no_ == 1 || line.empty()) continue;  // the header (checked when opened)
    if (s.candles) {
      CandleCsvRow row;
      if (const char* why = parse_candle_csv_row(line, row)) {
        bad_line(why, line);
        continue;
      }
      // A candle that opens before the previous one closed would put its frames before the previous
      // candle's last ones (rows out of time order, or overlapping bars).
      if (s.prev_ms != INT64_MIN && row.open_ms < s.prev_ms + s.interval_ms) {
        bad_line(row.open_ms <= s.prev_ms ? "candle time not after the previous row's"
                                          : "candle opens before the previous candle's close (rows overlap)",
                 line);
        continue;
      }
      s.prev_ms = row.open_ms;
      s.open_ms = row.open_ms;
      s.o = row.open, s.h = row.high, s.l = row.low, s.c = row.close;
      const bool rising = s.c >= s.o;
      s.px[0] = s.o;
      s.px[1] = rising ? s.l : s.h;
      s.px[2] = rising ? s.h : s.l;
      s.px[3] = s.c;
      s.volume = std::string(row.volume_text);
      s.step = s.snapshot_sent ? 0 : -1;
      s.steps = 9;
    } else {
      FundingCsvRow row;
      if (const char* why = parse_funding_csv_row(line, row)) {
        bad_line(why, line);
        continue;
      }
      if (row.time_ms <= s.prev_ms) {
        bad_line("funding time not after the previous row's", line);
        continue;
      }
      s.prev_ms = row.time_ms;
      s.open_ms = row.time_ms;
      s.rate = std::string(row.rate_text);
      s.step = 0;
      s.steps = 1;
    }
  }
  out = CapturedFrame{};
  out.line_no = line_no_;
  out.kind = FrameKind::ws_received;
  std::string& b = s.buf;
  b.clear();
  std::int64_t ms = 0;
  if (!s.candles) {
    ms = s.open_ms - 1;
    b = ("{\"stream\":\"" + s.stream + "@markPrice\",\"data\":{\"e\":\"markPriceUpdate\",\"E\":" + std::to_string(ms) +
                      ",\"s\":\"" + s.symbol + "\",\"p\":\"0\",\"r\":\"" + s.rate + "\",\"T\":" + std::to_string(s.open_ms) + "}}");
    ++s.step;
  } else if (s.step < 0) {  // the first row: a REST snapshot the book syncs from
    ms = s.open_ms;
    s.bid = s.o - s.tick;
    s.ask = s.o;
    s.update_id = static_cast<std::uint64_t>(ms);  // the first diff (same time) straddles it
    b = "{\"lastUpdateId\":" + std::to_string(ms) + ",\"E\":" + std::to_string(ms) + ",\"T\":" + std::to_string(ms) + ",\"bids\":[[\"" + s.bid.to_string() +
        "\",\"1000\"]],\"asks\":[[\"" + s.ask.to_string() + "\",\"1000\"]]}";
    out.kind = FrameKind::rest_body;
    out.url = s.url;
    s.snapshot_sent = true;
    ++s.step;
  } else if (s.step < 8) {
    const int point = s.step / 2;
    static constexpr std::int64_t kNum[4] = {0, 1, 2, 3};
    ms = point == 3 ? s.open_ms + s.interval_ms - 1 : s.open_ms + s.interval_ms * kNum[point] / 3;
    const Price p = s.px[point];
    if (s.step % 2 == 0) {  // the book moves to this price: bid p - tick, ask p
      const Price nb = p - s.tick, na = p;
      std::string bids, asks;
      if (nb != s.bid) bids = "[\"" + s.bid.to_string() + "\",\"0\"],";
      bids += "[\"" + nb.to_string() + "\",\"1000\"]";
      if (na != s.ask) asks = "[\"" + s.ask.to_string() + "\",\"0\"],";
      asks += "[\"" + na.to_string() + "\",\"1000\"]";
      // Update ids are the data time in ms: they rise across rows and across a history's files, so the
      // book's duplicate filter and chain check hold when the next day's file takes over.
      const std::uint64_t pu = s.update_id, u = static_cast<std::uint64_t>(ms);
      b = "{\"stream\":\"" + s.stream + "@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":" + std::to_string(ms) + ",\"T\":" +
          std::to_string(ms) + ",\"s\":\"" + s.symbol + "\",\"U\":" + std::to_string(u) + ",\"u\":" + std::to_string(u) +
          ",\"pu\":" + std::to_string(pu) + ",\"b\":[" + bids + "],\"a\":[" + asks + "]}}";
      s.bid = nb;
      s.ask = na;
      s.update_id = u;
    } else {  // a trade at it; the aggressor is the side that moved the price (a seller on a fall)
      const bool seller = s.last.raw() > 0 && p < s.last;
      b = "{\"stream\":\"" + s.stream + "@trade\",\"data\":{\"e\":\"trade\",\"E\":" + std::to_string(ms) + ",\"T\":" + std::to_string(ms) +
          ",\"s\":\"" + s.symbol + "\",\"t\":" + std::to_string(++s.trade_id) + ",\"p\":\"" + p.to_string() +
          "\",\"q\":\"1000\",\"m\":" + (seller ? "true" : "false") + "}}";
      s.last = p;
    }
    ++s.step;
  } else {  // the closed candle
    ms = s.open_ms + s.interval_ms - 1;
    b = "{\"stream\":\"" + s.stream + "@kline_" + s.interval + "\",\"data\":{\"e\":\"kline\",\"E\":" + std::to_string(ms) +
        ",\"s\":\"" + s.symbol + "\",\"k\":{\"t\":" + std::to_string(s.open_ms) + ",\"T\":" + std::to_string(ms) + ",\"s\":\"" +
        s.symbol + "\",\"i\":\"" + s.interval + "\",\"o\":\"" + s.o.to_string() + "\",\"c\":\"" + s.c.to_string() + "\",\"h\":\"" +
        s.h.to_string() + "\",\"l\":\"" + s.l.to_string() + "\",\"v\":\"" + s.volume + "\",\"x\":true}}}";
    ++s.step;
  }
  const std::size_t len = b.size();
  b.append(kPadding, ' ');  // simdjson padding: the view's capacity covers it
  out.payload = std::string_view(b.data(), len);
  out.padded_capacity = b.size();
  out.recv_ns = ms * 1'000'000;
  return true;
}

}  // namespace enigma::feed
