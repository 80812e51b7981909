#include "core/error.hpp"

namespace enigma {

std::string_view to_string(Errc e) noexcept {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::empty: return "empty input";
    case Errc::invalid_char: return "invalid character";
    case Errc::bad_format: return "malformed number";
    case Errc::too_many_digits: return "more fractional digits than the fixed-point scale";
    case Errc::overflow: return "value out of representable range";
    case Errc::out_of_range: return "value out of allowed range";
    case Errc::missing_field: return "missing field";
    case Errc::wrong_type: return "wrong field type";
    case Errc::unknown_message: return "unknown message";
    case Errc::sequence_gap: return "sequence gap";
    case Errc::stale: return "stale message";
    case Errc::crossed_book: return "crossed book";
    case Errc::checksum_mismatch: return "checksum mismatch";
    case Errc::capacity: return "capacity exceeded";
    case Errc::io: return "I/O error";
    case Errc::not_found: return "not found";
  }
  return "unknown error";
}

std::string_view to_string(ErrorAction a) noexcept {
  switch (a) {
    case ErrorAction::none: return "none";
    case ErrorAction::skip: return "skip";
    case ErrorAction::resync: return "resync";
    case ErrorAction::fatal: return "fatal";
  }
  return "unknown";
}

}  // namespace enigma
