// JSON helpers every venue's "what comes back" decoder shares (oms/venues/<venue>_user.cpp).
//  * hot path (simdjson On-Demand; no allocation, no throw): a field's text, a number sent as a string or a
//    JSON number, an unsigned decimal;
//  * cold path (simdjson DOM; allocates, throws enigma::Error naming the request): start-up readers.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace enigma::oms::venue_json {

namespace od = simdjson::ondemand;
namespace dom = simdjson::dom;

// ---- hot path ----

inline Errc get_text(od::value v, std::string_view& out) noexcept {
  return v.get_string().get(out) ? Errc::wrong_type : Errc::ok;
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A number sent as "2" or 2: its text (null reads as absent). The fixed-point parsers take it from here.
inline Errc get_num_text(od::value v, std::string_view& out) noexcept {
  od::json_type t;
  if (v.type().get(t)) return Errc::bad_format;
  switch (t) {
    case od::json_type::string: return get_text(v, out);
    case od::json_type::number: out = trim(v.raw_json_token()); return Errc::ok;
    case od::json_type::null: out = {}; return Errc::ok;
    default: return Errc::wrong_type;
  }
}

// Unsigned decimal text (no sign, no fraction) -> u64; false on anything else or overflow.
inline bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, static_cast<unsigned>(c - '0'), &v)) return false;
  }
  out = v;
  return true;
}

// Optional decimal field: absent (or "") stays zero.
// One simdjson On-Demand parser allocated once for messages up to `max` bytes, and the padded copy used for a
// message read where simdjson's padding cannot be assumed: decoding never allocates.
class PaddedParser {
 public:
  // Throws enigma::Error ("<who>: cannot allocate simdjson buffers").
  PaddedParser(std::size_t max, const char* who) : max_(max), parser_(max) {
    if (parser_.allocate(max)) throw Error(std::string(who) + ": cannot allocate simdjson buffers");
    padded_.resize(max + simdjson::SIMDJSON_PADDING);
  }
  // Iterates `msg` in place when `padded_capacity` (readable bytes at msg.data()) covers the padding, else from
  // the internal copy. Errc::capacity above `max` bytes, Errc::bad_format when simdjson refuses it.
  Errc open(std::string_view msg, std::size_t padded_capacity, od::document& doc) noexcept {
    if (msg.size() > max_) return Errc::capacity;
    if (padded_capacity < msg.size() + simdjson::SIMDJSON_PADDING) {
      if (!msg.empty()) std::memcpy(padded_.data(), msg.data(), msg.size());
      std::memset(padded_.data() + msg.size(), 0, simdjson::SIMDJSON_PADDING);
      msg = std::string_view(padded_.data(), msg.size());
      padded_capacity = padded_.size();
    }
    if (parser_.iterate(simdjson::padded_string_view(msg.data(), msg.size(), padded_capacity)).get(doc))
      return Errc::bad_format;
    return Errc::ok;
  }

 private:
  std::size_t max_;
  od::parser parser_;
  std::vector<char> padded_;
};

// A non-negative integer as a JSON number or a decimal string (times, codes); null or "" reads as absent.
inline Errc get_u64_any(od::value v, std::uint64_t& out) noexcept {
  std::string_view s;
  if (const Errc e = get_num_text(v, s); e != Errc::ok) return e;
  if (s.empty()) return Errc::ok;
  return parse_u64(s, out) ? Errc::ok : Errc::wrong_type;
}

// The document's top-level object: wrong_type for another JSON value ([..], "..", 1), bad_format for what is
// not JSON at all ("<html>", a truncated "{").
inline Errc top_object(od::document& doc, od::object& obj) noexcept {
  od::json_type t;
  if (doc.type().get(t)) return Errc::bad_format;
  if (t != od::json_type::object) return Errc::wrong_type;
  return doc.get_object().get(obj) ? Errc::bad_format : Errc::ok;
}

// Venue milliseconds into signed nanoseconds; past year 2262 does not fit.
inline Errc ms_to_ns(std::uint64_t ms, std::int64_t& out) noexcept {
  if (ms > static_cast<std::uint64_t>(INT64_MAX / 1'000'000)) return Errc::out_of_range;
  out = static_cast<std::int64_t>(ms) * 1'000'000;
  return Errc::ok;
}

// Walks element `index` of `arr` with walk(object, f) (skipping the others unread) and counts them all: one
// element of a batched private-stream message (Bybit, OKX) without allocation.
template <class Element, class Walk>
Errc walk_array(od::array arr, std::size_t index, Element& f, std::size_t& count, bool& found, Errc& elem_err,
                Walk walk) noexcept {
  std::size_t i = 0;
  for (auto item : arr) {
    od::value v;
    if (item.get(v)) return Errc::bad_format;
    if (i == index) {
      found = true;
      od::object o;
      elem_err = v.get_object().get(o) ? Errc::wrong_type : walk(o, f);
    }
    ++i;
  }
  count = i;
  return Errc::ok;
}

template <class F>
Errc parse_opt(std::string_view s, F& out) noexcept {
  if (s.empty()) return Errc::ok;
  const auto r = F::parse(s);
  if (!r.ok()) return r.error;
  out = r.value;
  return Errc::ok;
}

// ---- cold path ----

// The first 200 characters of an answer, for an error message.
inline std::string quote(std::string_view body) { return std::string(body.substr(0, 200)); }

// The text of a field written as a string or a number; "" when absent or null.
inline std::string num_text(dom::object o, std::string_view key, std::string_view where) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return {};
  if (e.is_string()) return std::string(e.get_string().value());
  if (e.is_int64()) return std::to_string(e.get_int64().value());
  if (e.is_uint64()) return std::to_string(e.get_uint64().value());
  if (e.is_double()) return std::string(trim(simdjson::to_string(e)));  // "3600.5" as written (minified)
  throw Error(std::string(where) + ": " + std::string(key) + " is not a number or a string");
}

inline std::string text(dom::object o, std::string_view key) {
  std::string_view s;
  if (o[key].get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

inline bool flag(dom::object o, std::string_view key) {
  bool b = false;
  if (o[key].get(b) != simdjson::SUCCESS) return false;
  return b;
}

// Fixed-point from a field ("" -> zero unless `required`); `what` prefixes the error.
template <class F>
F fixed(dom::object o, std::string_view key, bool required, const std::string& what) {
  const std::string s = num_text(o, key, what);
  if (s.empty()) {
    if (required) throw Error(what + ": no " + std::string(key));
    return F{};
  }
  const auto r = F::parse(s);
  if (!r.ok()) throw Error(what + ": bad " + std::string(key) + " '" + s + "': " + std::string(to_string(r.error)));
  return r.value;
}

}  // namespace enigma::oms::venue_json
