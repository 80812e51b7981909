// The text the local test venues read and write (fake_bybit.hpp, fake_okx.hpp, fake_kucoin_futures.hpp): exact
// decimals as the venues print them, and the flat JSON objects their requests and client frames are. One copy,
// so a fix to how a venue reads a body reaches every venue. Header-only.
#pragma once

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.hpp"

namespace enigma::testing::venue_text {

// ---- Exact decimals ---------------------------------------------------------------------------------------
// An exact decimal as value * 1e10 (enigma::Price's scale) in 128 bits, so products stay exact.
using Dec = enigma::int128;
inline constexpr Dec kOne = 10'000'000'000;

// A decimal string, signed ("-0.0001") or not; nothing for anything else.
inline std::optional<Dec> parse_signed_dec(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const auto r = Price::parse(s);
  if (!r.ok()) return std::nullopt;
  return static_cast<Dec>(r.value.raw());
}
// A positive or zero decimal string ("0.001", "60000"); nothing for anything else.
inline std::optional<Dec> parse_dec(std::string_view s) {
  if (s.empty() || s.front() == '-') return std::nullopt;
  return parse_signed_dec(s);
}
// Shortest exact text ("0.066", "60000", "-1.5").
inline std::string dec(Dec v) {
  const bool neg = v < 0;
  if (neg) v = -v;
  const Dec ip = v / kOne, fp = v % kOne;
  std::string i;
  Dec t = ip;
  do {
    i.insert(i.begin(), static_cast<char>('0' + static_cast<int>(t % 10)));
    t /= 10;
  } while (t > 0);
  std::string f;
  if (fp != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(fp));
    f = buf;
    while (!f.empty() && f.back() == '0') f.pop_back();
  }
  return (neg ? "-" : "") + i + (f.empty() ? "" : "." + f);
}
inline Dec mul(Dec a, Dec b) { return div_round(a * b, kOne, Rounding::nearest); }
inline Dec div(Dec a, Dec b) { return b == 0 ? 0 : div_round(a * kOne, b, Rounding::nearest); }
inline Dec abs(Dec v) { return v < 0 ? -v : v; }

// ---- Flat JSON ----------------------------------------------------------------------------------------------
// A flat JSON object (string, number, true/false/null values; a nested object or array is kept raw).
struct JsonValue {
  std::string text;
  bool is_string{false};
};
using JsonObject = std::map<std::string, JsonValue>;

// What a \uXXXX escape in a string becomes; neither reader decodes it (no venue request here needs one).
// KuCoin's venue keeps it as written; Bybit's and OKX's keep its letters without the backslash ("u0041").
enum class UnicodeEscape { kept, backslash_dropped };

// One JSON string at s[i] ('"' expected); the other escapes decoded. False when malformed.
inline bool json_string(std::string_view s, std::size_t& i, std::string& out,
                        UnicodeEscape u = UnicodeEscape::backslash_dropped) {
  if (i >= s.size() || s[i] != '"') return false;
  for (++i; i < s.size() && s[i] != '"'; ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i >= s.size()) return false;
    const char e = s[i];
    if (e == 'u' && u == UnicodeEscape::kept) out += '\\';
    out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
  }
  if (i >= s.size()) return false;
  ++i;
  return true;
}
inline void json_ws(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
}
// One value at s[i]: a string, a nested object/array (kept raw), or a literal/number.
inline bool json_value(std::string_view s, std::size_t& i, JsonValue& v,
                       UnicodeEscape u = UnicodeEscape::backslash_dropped) {
  if (i >= s.size()) return false;
  if (s[i] == '"') {
    v.is_string = true;
    return json_string(s, i, v.text, u);
  }
  const std::size_t from = i;
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    bool in_str = false;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (in_str) {
        if (c == '\\')
          ++i;
        else if (c == '"')
          in_str = false;
      } else if (c == '"') {
        in_str = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        ++i;
        break;
      }
    }
    if (depth != 0) return false;
    v.text = std::string(s.substr(from, i - from));
    return true;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\r' && s[i] != '\n' &&
         s[i] != '\t')
    ++i;
  v.text = std::string(s.substr(from, i - from));
  const std::string& t = v.text;
  double d = 0;
  return t == "true" || t == "false" || t == "null" ||
         (!t.empty() && std::from_chars(t.data(), t.data() + t.size(), d).ptr == t.data() + t.size());
}
// Nothing unless the whole text is one object; a duplicate key is refused as malformed.
inline std::optional<JsonObject> parse_flat_json(std::string_view s, UnicodeEscape u = UnicodeEscape::backslash_dropped) {
  std::size_t i = 0;
  JsonObject obj;
  json_ws(s, i);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  ++i;
  json_ws(s, i);
  if (i < s.size() && s[i] == '}') {
    ++i;
    json_ws(s, i);
    return i == s.size() ? std::optional<JsonObject>(obj) : std::nullopt;
  }
  while (true) {
    json_ws(s, i);
    std::string key;
    if (!json_string(s, i, key, u)) return std::nullopt;
    json_ws(s, i);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    json_ws(s, i);
    JsonValue v;
    if (!json_value(s, i, v, u)) return std::nullopt;
    if (obj.count(key) != 0) return std::nullopt;
    obj[key] = std::move(v);
    json_ws(s, i);
    if (i >= s.size()) return std::nullopt;
    if (s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] != '}') return std::nullopt;
    ++i;
    json_ws(s, i);
    return i == s.size() ? std::optional<JsonObject>(std::move(obj)) : std::nullopt;
  }
}
// The elements of a JSON array (objects kept raw, strings unquoted, numbers as written); nothing unless the
// whole text is one array.
inline std::optional<std::vector<JsonValue>> parse_flat_array(std::string_view s) {
  std::size_t i = 0;
  std::vector<JsonValue> out;
  json_ws(s, i);
  if (i >= s.size() || s[i] != '[') return std::nullopt;
  ++i;
  json_ws(s, i);
  if (i < s.size() && s[i] == ']') {
    ++i;
    json_ws(s, i);
    return i == s.size() ? std::optional<std::vector<JsonValue>>(out) : std::nullopt;
  }
  while (true) {
    json_ws(s, i);
    JsonValue v;
    if (!json_value(s, i, v)) return std::nullopt;
    out.push_back(std::move(v));
    json_ws(s, i);
    if (i >= s.size()) return std::nullopt;
    if (s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] != ']') return std::nullopt;
    ++i;
    json_ws(s, i);
    return i == s.size() ? std::optional<std::vector<JsonValue>>(std::move(out)) : std::nullopt;
  }
}
// A member's text ("" when absent or null).
inline std::string get(const JsonObject& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || (!it->second.is_string && it->second.text == "null") ? std::string() : it->second.text;
}

inline std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// ---- Queries and clocks -------------------------------------------------------------------------------------
// %XX escapes decoded ("%5B%22a%22%5D" -> ["a"]); a bad escape is kept as is.
inline std::string url_decode(std::string_view s) {
  const auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Whether a query's names and values have their %XX escapes decoded: Bybit and OKX sign the query string as
// sent and read it so; KuCoin decodes it.
enum class QueryEscapes { kept, decoded };

// `a=1&b=2` as a map (a name without '=' has the value "").
inline std::map<std::string, std::string> parse_query(std::string_view s, QueryEscapes escapes = QueryEscapes::kept) {
  const auto text = [escapes](std::string_view t) {
    return escapes == QueryEscapes::decoded ? url_decode(t) : std::string(t);
  };
  std::map<std::string, std::string> m;
  while (!s.empty()) {
    const std::size_t amp = s.find('&');
    const std::string_view kv = s.substr(0, amp);
    const std::size_t eq = kv.find('=');
    if (eq != std::string_view::npos)
      m[text(kv.substr(0, eq))] = text(kv.substr(eq + 1));
    else if (!kv.empty())
      m[text(kv)] = "";
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
  return m;
}

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace enigma::testing::venue_text
