// The parsers of `enigma download` (research/download.hpp): venue answers and the CSVs it reads back, pure
// (bytes in, rows out) so that tests/fuzz/download_parse.cpp fuzzes the very code the download runs; kept
// apart from download.cpp's network client, which the fuzz build leaves out.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <utility>

#include "core/error.hpp"
#include "research/download.hpp"

namespace enigma::research {
namespace {

namespace od = simdjson::ondemand;
using Row = SeriesRow;

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

// A JSON value that is a number or a string holding one, as its decimal text (verbatim: no double round trip).
std::string number_text(od::value v, const std::string& what) {
  od::json_type type;
  if (v.type().get(type)) throw Error(what + ": malformed JSON");
  if (type == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) throw Error(what + ": malformed string");
    return std::string(s);
  }
  if (type == od::json_type::number) return trim(v.raw_json_token());
  throw Error(what + ": expected a number");
}

std::int64_t integer_of(od::value v, const std::string& what) {
  od::json_type type;
  if (v.type().get(type)) throw Error(what + ": malformed JSON");
  if (type == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) throw Error(what + ": malformed string");
    std::int64_t x = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size())
      throw Error(what + ": '" + std::string(s) + "' is not an integer");
    return x;
  }
  std::int64_t x = 0;
  if (v.get_int64().get(x)) {
    double d = 0;  // some venues write times as 1.7e12
    if (v.get_double().get(d) || d != std::floor(d) || !(std::fabs(d) < 9.2e18))
      throw Error(what + ": expected an integer time");
    x = static_cast<std::int64_t>(d);
  }
  return x;
}

// A decimal as written into the CSVs: digits with an optional sign, point and exponent, nothing else (strtod
// alone would also take leading whitespace, a newline included, hex and "infinity", which the files and
// the backtest's reader cannot hold).
double parse_double(const std::string& s, bool& ok) {
  ok = !s.empty() && s.find_first_not_of("0123456789+-.eE") == std::string::npos;
  if (!ok) return 0;
  char* end = nullptr;
  const double x = std::strtod(s.c_str(), &end);
  ok = end != s.c_str() && *end == '\0' && std::isfinite(x);
  return x;
}

// Refuses a candle a backtest could not use (the same rules strategy/csv's reader applies).
void check_candle(std::int64_t t, const std::string (&c)[5], const std::string& what) {
  double v[5];
  for (int i = 0; i < 5; ++i) {
    bool ok = false;
    v[i] = parse_double(c[i], ok);
    if (!ok) throw Error(what + ": candle " + utc_datetime(t) + ": '" + c[i] + "' is not a number");
  }
  const double o = v[0], h = v[1], l = v[2], cl = v[3], vol = v[4];
  if (o <= 0 || h <= 0 || l <= 0 || cl <= 0 || vol < 0 || h < l || o < l || o > h || cl < l || cl > h)
    throw Error(what + ": candle " + utc_datetime(t) + " is inconsistent (open " + c[0] + ", high " + c[1] + ", low " +
                c[2] + ", close " + c[3] + ", volume " + c[4] + ")");
}

// A page must be sorted one way: ascending, or descending (reversed here). Equal neighbours are duplicates
// (dropped, counted); anything else is refused.
std::vector<Row> ordered_page(std::vector<Row> rows, std::uint64_t& duplicates, const std::string& what) {
  if (rows.size() > 1 && rows.front().t > rows.back().t) std::reverse(rows.begin(), rows.end());
  std::vector<Row> out;
  out.reserve(rows.size());
  for (Row& r : rows) {
    if (!out.empty() && r.t == out.back().t) {
      ++duplicates;
      continue;
    }
    if (!out.empty() && r.t < out.back().t)
      throw Error(what + ": rows out of order (" + utc_datetime(r.t) + " after " + utc_datetime(out.back().t) + ")");
    out.push_back(std::move(r));
  }
  return out;
}

// The array an answer carries: Binance's answer is the array; KuCoin wraps every answer as
// {"code":"200000","data":[...]} ("200" on the funding-rates page's example).
od::array answer_array(od::document& doc, DownloadVenue venue, std::string_view body, const std::string& what) {
  const auto head = [&](std::size_t n) { return std::string(body.substr(0, n)); };
  od::array arr;
  if (venue == DownloadVenue::binance_usdm) {
    if (doc.get_array().get(arr)) throw Error(what + ": expected a JSON array: " + head(200));
    return arr;
  }
  od::object root;
  if (doc.get_object().get(root)) throw Error(what + ": expected a JSON object: " + head(200));
  std::string_view code;
  if (root["code"].get_string().get(code) || (code != "200000" && code != "200"))
    throw Error(what + ": venue error: " + head(300));
  if (root["data"].get_array().get(arr)) throw Error(what + ": no data array: " + head(200));
  return arr;
}

// Calls fn(item) for every item of the answer's array (answer_array), parsed once here.
template <class Fn>
void for_each_answer_item(DownloadVenue venue, std::string_view body, const std::string& what, Fn&& fn) {
  const simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) throw Error(what + ": answer is not JSON");
  for (auto item : answer_array(doc, venue, body, what)) {
    od::value v;
    if (item.get(v)) throw Error(what + ": malformed answer item");
    fn(v);
  }
}

}  // namespace

std::vector<SeriesRow> parse_klines_answer(DownloadVenue venue, std::string_view body, const std::string& what,
                                           std::uint64_t& duplicates) {
  std::vector<Row> rows;
  for_each_answer_item(venue, body, what, [&](od::value item) {
    od::array k;
    if (item.get_array().get(k)) throw Error(what + ": a kline is not an array");
    std::int64_t t = 0;
    std::string c[5];
    int i = 0;
    for (auto field : k) {
      od::value v;
      if (field.get(v)) throw Error(what + ": malformed kline");
      if (i == 0)
        t = integer_of(v, what + " kline time");
      else if (i <= 5)
        c[i - 1] = number_text(v, what + " kline field " + std::to_string(i));
      if (++i > 5 && venue == DownloadVenue::kucoin_futures) break;
    }
    if (i < 6) throw Error(what + ": a kline has " + std::to_string(i) + " fields, expected at least 6");
    check_candle(t, c, what);
    rows.push_back({t, c[0] + "," + c[1] + "," + c[2] + "," + c[3] + "," + c[4]});
  });
  return ordered_page(std::move(rows), duplicates, what);
}

std::vector<SeriesRow> parse_funding_answer(DownloadVenue venue, std::string_view body, const std::string& what,
                                            std::uint64_t& duplicates) {
  std::vector<Row> rows;
  for_each_answer_item(venue, body, what, [&](od::value item) {
    od::object o;
    if (item.get_object().get(o)) throw Error(what + ": a funding entry is not an object");
    std::optional<std::int64_t> t;
    std::string rate;
    for (auto field : o) {
      std::string_view key;
      od::value v;
      if (field.unescaped_key().get(key) || field.value().get(v)) throw Error(what + ": malformed entry");
      // Binance: fundingTime; KuCoin: timepoint (its field table spells it timePoint).
      if (key == "fundingTime" || key == "timepoint" || key == "timePoint")
        t = integer_of(v, what + " " + std::string(key));
      else if (key == "fundingRate")
        rate = number_text(v, what + " fundingRate");
    }
    bool ok = false;
    parse_double(rate, ok);
    if (!t || !ok) throw Error(what + ": a funding entry lacks its time or a numeric fundingRate");
    rows.push_back({*t, rate});
  });
  return ordered_page(std::move(rows), duplicates, what);
}

std::vector<SeriesRow> parse_series_csv(std::string_view text, bool funding, const std::string& source) {
  std::vector<Row> rows;
  const std::string want = funding ? "datetime,time_ms,funding_rate" : "datetime,open,high,low,close,volume";
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = text.substr(pos, e - pos);
    pos = e + 1;
    ++n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = source + ":" + std::to_string(n);
    if (n == 1) {
      if (line != want)
        throw Error(where + ": header '" + std::string(line.substr(0, 200)) + "' is not '" + want +
                    "' (not a file `enigma download` wrote)");
      continue;
    }
    if (line.empty()) continue;
    const std::size_t comma = line.find(',');
    if (comma == std::string_view::npos) throw Error(where + ": expected " + want);
    Row r;
    if (funding) {
      const std::size_t c2 = line.find(',', comma + 1);
      if (c2 == std::string_view::npos) throw Error(where + ": expected " + want);
      const std::string_view ms = line.substr(comma + 1, c2 - comma - 1);
      const auto [p, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), r.t);
      if (ms.empty() || ec != std::errc{} || p != ms.data() + ms.size())
        throw Error(where + ": time_ms '" + std::string(ms.substr(0, 40)) + "' is not an integer");
      r.cells = std::string(line.substr(c2 + 1));
      bool ok = false;
      parse_double(r.cells, ok);
      if (!ok) throw Error(where + ": funding_rate '" + r.cells.substr(0, 40) + "' is not a number");
    } else {
      const auto t = parse_utc_ms(line.substr(0, comma));
      if (!t)
        throw Error(where + ": datetime '" + std::string(line.substr(0, std::min<std::size_t>(comma, 40))) +
                    "' is not YYYY-MM-DD HH:MM:SS");
      r.t = *t;
      r.cells = std::string(line.substr(comma + 1));
      std::string c[5];
      std::size_t k = 0, from = 0;
      for (; k < 5; ++k) {
        const std::size_t to = k < 4 ? r.cells.find(',', from) : r.cells.size();
        if (to == std::string::npos) break;
        c[k] = r.cells.substr(from, to - from);
        from = to + 1;
      }
      if (k != 5 || c[4].find(',') != std::string::npos) throw Error(where + ": expected " + want);
      check_candle(r.t, c, where);
    }
    if (!rows.empty() && r.t <= rows.back().t)
      throw Error(where + ": time " + utc_datetime(r.t) + " is not after the previous row's " +
                  utc_datetime(rows.back().t) + " (unsorted or duplicate rows)");
    rows.push_back(std::move(r));
  }
  return rows;
}

std::optional<std::int64_t> parse_utc_ms(std::string_view s) noexcept {
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
  int f[6] = {0, 0, 0, 0, 0, 0};
  // Fields: YYYY-MM-DD, then optional [ T]HH:MM, then optional :SS.
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int x = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      x = x * 10 + (c - '0');
    }
    out = x;
    return true;
  };
  if (!digits(0, 4, f[0]) || s.size() < 10 || s[4] != '-' || !digits(5, 2, f[1]) || s[7] != '-' || !digits(8, 2, f[2]))
    return std::nullopt;
  if (s.size() > 10) {
    if ((s[10] != ' ' && s[10] != 'T') || s.size() < 16 || !digits(11, 2, f[3]) || s[13] != ':' || !digits(14, 2, f[4]))
      return std::nullopt;
    if (s.size() > 16 && (s.size() != 19 || s[16] != ':' || !digits(17, 2, f[5]))) return std::nullopt;
  }
  if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = f[0] - 1900;
  tm.tm_mon = f[1] - 1;
  tm.tm_mday = f[2];
  tm.tm_hour = f[3];
  tm.tm_min = f[4];
  tm.tm_sec = f[5];
  const std::time_t t = ::timegm(&tm);
  if (tm.tm_mday != f[2]) return std::nullopt;  // 2025-02-30 normalised to March
  return static_cast<std::int64_t>(t) * 1000;
}

std::string utc_datetime(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(floor_div(ms, 1000));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace enigma::research
