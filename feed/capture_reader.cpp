#include "feed/capture_reader.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "feed/recorder.hpp"

namespace enigma::feed {

std::string_view to_string(CaptureFormat f) noexcept {
  switch (f) {
    case CaptureFormat::hftbacktest: return "hftbacktest";
    case CaptureFormat::cryptofeed_raw: return "cryptofeed-raw";
    case CaptureFormat::responses_jsonl: return "responses-jsonl";
    case CaptureFormat::json_lines: return "json-lines";
    case CaptureFormat::enigma_recording: return "enigma-recording";
  }
  return "unknown";
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
  for (; i < s.size() && is_digit(s[i]); ++i) {
    secs = secs * 10 + (s[i] - '0');
    if (secs > 9'000'000'000) return false;  // past the year 2255 int64 ns would overflow (fuzz_capture_reader)
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

}  // namespace

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

CaptureReader::CaptureReader(std::string path) : path_(std::move(path)) {
  data_ = read_file_decompressed(path_);
  if (data_.size() >= sizeof kRecordFileMagic && data_.compare(0, sizeof kRecordFileMagic, kRecordFileMagic, sizeof kRecordFileMagic) == 0) {
    format_ = CaptureFormat::enigma_recording;
    recording_ = std::make_unique<RecordReader>(RecordReader::from_bytes(std::move(data_), path_));
    data_.assign(kPadding, ' ');
    return;
  }
  const std::size_t content = data_.size();
  data_.append(kPadding, ' ');
  // Detect from the first non-empty line.
  std::size_t b = 0;
  while (b < content && (data_[b] == '\n' || data_[b] == '\r')) ++b;
  if (b == content) throw Error("'" + path_ + "': empty capture file");
  const std::size_t e = data_.find('\n', b);
  const std::string_view first(data_.data() + b, (e == std::string::npos ? content : e) - b);
  if (is_digit(first[0])) {
    const std::size_t sp = first.find(' ');
    const std::size_t colon = first.find(": ");
    if (sp != std::string_view::npos && first.find('.') > sp && sp + 1 < first.size() &&
        (first[sp + 1] == '{' || first[sp + 1] == '[')) {
      format_ = CaptureFormat::hftbacktest;
    } else if (colon != std::string_view::npos) {
      format_ = CaptureFormat::cryptofeed_raw;
    } else {
      throw Error("'" + path_ + "': line 1: unrecognised capture format (digits but neither '<ns> <json>' nor '<ts>: <json>')");
    }
  } else if (first.rfind("{\"url\":", 0) == 0 && first.find("\"body\":") != std::string_view::npos) {
    format_ = CaptureFormat::responses_jsonl;
  } else if (first[0] == '{' || first[0] == '[') {
    format_ = CaptureFormat::json_lines;
  } else if (first.find(" <-> ") != std::string_view::npos || first.find(" <- ") != std::string_view::npos ||
             first.find(" -> ") != std::string_view::npos) {
    format_ = CaptureFormat::cryptofeed_raw;
  } else {
    throw Error("'" + path_ + "': line 1: unrecognised capture format: '" + std::string(first.substr(0, 60)) + "'");
  }
}

bool CaptureReader::next(CapturedFrame& out) {
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
  const std::size_t content = data_.size() - kPadding;
  for (;;) {
    if (pos_ >= content) return false;
    std::size_t e = data_.find('\n', pos_);
    if (e == std::string::npos || e > content) e = content;
    std::string_view line(data_.data() + pos_, e - pos_);
    pos_ = e + 1;
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    out = CapturedFrame{};
    out.line_no = line_no_;
    auto fail = [&](const char* why) {
      return Error("'" + path_ + "': line " + std::to_string(line_no_) + ": " + why + " (format " +
                   std::string(to_string(format_)) + ")");
    };
    switch (format_) {
      case CaptureFormat::hftbacktest: {
        const std::size_t sp = line.find(' ');
        if (sp == std::string_view::npos || sp == 0) throw fail("expected '<ns> <json>'");
        std::int64_t ns = 0;
        for (std::size_t i = 0; i < sp; ++i) {
          if (!is_digit(line[i])) throw fail("receive timestamp is not an integer");
          if (ns > (std::numeric_limits<std::int64_t>::max() - 9) / 10) throw fail("receive timestamp out of range");
          ns = ns * 10 + (line[i] - '0');
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
            throw fail("expected 'URL <->|<-|-> ts' or 'ts: payload'");
          }
          out.url = line.substr(0, d);
          rest = line.substr(d + dirlen);
        }
        const std::size_t colon = rest.find(": ");
        const std::string_view ts = colon == std::string_view::npos ? rest : rest.substr(0, colon);
        if (!parse_epoch_seconds(ts, out.recv_ns)) throw fail("bad timestamp");
        if (colon != std::string_view::npos) out.payload = rest.substr(colon + 2);
        break;
      }
      case CaptureFormat::responses_jsonl: {
        out.kind = FrameKind::rest_body;
        const std::size_t u = line.find("\"url\":\"");
        const std::size_t ts = line.find("\"local_ts\":");
        const std::size_t body = line.find("\"body\":");
        if (u == std::string_view::npos || ts == std::string_view::npos || body == std::string_view::npos || line.back() != '}')
          throw fail("expected {\"url\",\"local_ts\",\"body\"}");
        const std::size_t uend = line.find('"', u + 7);
        out.url = line.substr(u + 7, uend - (u + 7));
        std::size_t te = ts + 11;
        while (te < line.size() && (is_digit(line[te]) || line[te] == '.')) ++te;
        if (!parse_epoch_seconds(line.substr(ts + 11, te - ts - 11), out.recv_ns)) throw fail("bad local_ts");
        out.payload = line.substr(body + 7, line.size() - 1 - (body + 7));
        break;
      }
      case CaptureFormat::json_lines:
        out.kind = FrameKind::ws_received;
        out.payload = line;
        break;
      case CaptureFormat::enigma_recording: break;  // read by recording_ above
    }
    // A frame without payload (a cryptofeed connect line) still points into the buffer, so its padded
    // capacity is real (it was measured from a null pointer: found by fuzz_capture_reader).
    if (out.payload.data() == nullptr) out.payload = std::string_view(line.data() + line.size(), 0);
    out.padded_capacity = static_cast<std::size_t>(data_.data() + data_.size() - out.payload.data());
    return true;
  }
}

std::vector<CapturedFrame> read_merged(const std::vector<std::string>& files,
                                       std::vector<std::unique_ptr<CaptureReader>>& readers) {
  std::vector<CapturedFrame> frames;
  for (const std::string& path : files) {
    readers.push_back(std::make_unique<CaptureReader>(path));
    CapturedFrame f;
    while (readers.back()->next(f)) frames.push_back(f);
  }
  std::stable_sort(frames.begin(), frames.end(),
                   [](const CapturedFrame& a, const CapturedFrame& b) { return a.recv_ns < b.recv_ns; });
  return frames;
}

}  // namespace enigma::feed
