// The two error models of STYLE.md item 7.
//  * Hot path: functions return an `Errc` (or `Result<T>`), never throw; decoders also say what to do
//    about a failure (`ErrorAction`: skip the message, resync the book, or treat it as fatal).
//  * Cold path (config, connect, files): `Error` carries a human-readable context chain — what, where,
//    why — and is thrown or returned up to the command line, which prints it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace enigma {

enum class Errc : std::uint8_t {
  ok = 0,
  empty,             // nothing to parse
  invalid_char,      // a character that is not part of a decimal number
  bad_format,        // shape is wrong: "1.2.3", "--1", "1e5", a lone "-" or "."
  too_many_digits,   // more fractional digits than the fixed-point scale holds (and not all zero)
  overflow,          // magnitude does not fit in the representation
  out_of_range,      // syntactically fine, semantically outside allowed bounds
  missing_field,     // a required JSON field is absent
  wrong_type,        // a JSON field has the wrong type
  unknown_message,   // a well-formed message of a kind we do not handle
  sequence_gap,      // a venue sequence number skipped
  stale,             // message older than the state it would apply to
  crossed_book,      // best bid >= best ask after an update
  checksum_mismatch, // venue checksum differs from ours
  capacity,          // a fixed-capacity structure is full
  io,                // file or socket failure
  not_found,
};

// What a consumer should do about a failed message (decoders classify, STYLE.md item 7).
enum class ErrorAction : std::uint8_t { none, skip, resync, fatal };

[[nodiscard]] std::string_view to_string(Errc e) noexcept;
[[nodiscard]] std::string_view to_string(ErrorAction a) noexcept;

// Minimal expected-like result for the hot path: trivially copyable when T is.
template <class T>
struct Result {
  T value{};
  Errc error{Errc::ok};

  [[nodiscard]] constexpr bool ok() const noexcept { return error == Errc::ok; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  static constexpr Result success(T v) noexcept { return Result{v, Errc::ok}; }
  static constexpr Result failure(Errc e) noexcept { return Result{T{}, e}; }
};

// Cold-path error with a context chain: "loading config.toml: line 3: key 'risk.max_qty': must be > 0".
class Error : public std::runtime_error {
 public:
  explicit Error(std::string what) : std::runtime_error(std::move(what)) {}
  // Prepend one layer of context ("while doing X").
  [[nodiscard]] Error with_context(std::string_view ctx) const {
    return Error(std::string(ctx) + ": " + what());
  }
};

}  // namespace enigma
