// JSON helpers every venue's "what comes back" decoder shares (oms/venues/<venue>_user.cpp).
//  * hot path (simdjson On-Demand; no allocation, no throw): a field's text, a number sent as a string or a
//    JSON number, an unsigned decimal;
//  * cold path (simdjson DOM; allocates, throws enigma::Error naming the request): start-up readers.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

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
