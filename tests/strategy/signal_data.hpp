// Test-only readers for the real data in data/candles/ (see its ATTRIBUTION.md). Deliberately simple
// string searches, independent of feed/ and of the code under test.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.hpp"

namespace enigma::test {

inline std::string data_path(const char* rel) { return std::string(ENIGMA_SOURCE_DIR) + "/data/candles/" + rel; }

inline std::vector<std::string> read_gz_lines(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> lines;
  std::string cur;
  char buf[1 << 16];
  while (gzgets(f, buf, sizeof buf) != nullptr) {
    cur += buf;
    if (!cur.empty() && cur.back() == '\n') {
      cur.pop_back();
      lines.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  gzclose(f);
  return lines;
}

// The text of a JSON string field ("key":"value") or bare value ("key":123 / true) after `"key":`.
inline std::string_view json_field(std::string_view line, std::string_view key) {
  const std::string pat = "\"" + std::string(key) + "\":";
  const std::size_t at = line.find(pat);
  if (at == std::string_view::npos) return {};
  std::size_t b = at + pat.size();
  if (line[b] == '"') {
    const std::size_t e = line.find('"', b + 1);
    return line.substr(b + 1, e - b - 1);
  }
  std::size_t e = b;
  while (e < line.size() && line[e] != ',' && line[e] != '}') ++e;
  return line.substr(b, e - b);
}

struct RawTrade {
  std::uint64_t recv_ns;
  std::int64_t time_ns;  // Binance trade time T (ms) in ns
  Price price;
  Qty qty;
  bool buyer_is_maker;   // "m": true -> the taker sold
  std::uint64_t id;
};

struct RawTicker {
  std::uint64_t recv_ns;
  std::int64_t time_ns;
  Price bid, ask;
  Qty bid_qty, ask_qty;
};

inline std::int64_t to_i64(std::string_view s) { return std::strtoll(std::string(s).c_str(), nullptr, 10); }

inline Price px(std::string_view s) {
  auto r = Price::parse(s);
  if (!r.ok()) throw std::runtime_error("bad price " + std::string(s));
  return r.value;
}
inline Qty qx(std::string_view s) {
  auto r = Qty::parse(s);
  if (!r.ok()) throw std::runtime_error("bad qty " + std::string(s));
  return r.value;
}

inline bool is_trade_line(std::string_view l) { return l.find("@trade\"") != std::string_view::npos; }
inline bool is_ticker_line(std::string_view l) { return l.find("@bookTicker\"") != std::string_view::npos; }

inline RawTrade parse_trade(std::string_view l) {
  RawTrade t{};
  t.recv_ns = static_cast<std::uint64_t>(to_i64(l.substr(0, l.find(' '))));
  t.time_ns = to_i64(json_field(l, "T")) * 1'000'000;
  t.price = px(json_field(l, "p"));
  t.qty = qx(json_field(l, "q"));
  t.buyer_is_maker = json_field(l, "m") == "true";
  t.id = static_cast<std::uint64_t>(to_i64(json_field(l, "t")));
  return t;
}

inline RawTicker parse_ticker(std::string_view l) {
  RawTicker t{};
  t.recv_ns = static_cast<std::uint64_t>(to_i64(l.substr(0, l.find(' '))));
  t.time_ns = to_i64(json_field(l, "T")) * 1'000'000;
  t.bid = px(json_field(l, "b"));
  t.bid_qty = qx(json_field(l, "B"));
  t.ask = px(json_field(l, "a"));
  t.ask_qty = qx(json_field(l, "A"));
  return t;
}

struct CsvCandle {
  std::int64_t time_s;
  std::string open, high, low, close, volume;  // verbatim decimal strings
};

// data/candles/coinbase_BTC-USD_4h_...csv.gz: timestamp_s,open,high,low,close,volume
inline std::vector<CsvCandle> read_coinbase_4h() {
  auto lines = read_gz_lines(data_path("coinbase_BTC-USD_4h_ohlcv_20160518_20251028.csv.gz"));
  std::vector<CsvCandle> out;
  out.reserve(lines.size());
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    std::string f[6];
    std::size_t b = 0;
    for (int k = 0; k < 6; ++k) {
      std::size_t e = l.find(',', b);
      f[k] = std::string(l.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
      b = e + 1;
    }
    out.push_back(CsvCandle{to_i64(f[0]), f[1], f[2], f[3], f[4], f[5]});
  }
  return out;
}

}  // namespace enigma::test
