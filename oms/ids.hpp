// Client and venue order ids: fixed-size, trivially copyable text so they travel inside ExecReport,
// journal records and order tables without allocation.
//
// Client order ids are generated deterministically (prefix + decimal counter) so a restart that resumes
// the counter from the journal never reuses an id, and an UNKNOWN outcome can be resolved by querying
// the venue with the same id (RELIABILITY.md, "Client order ids for idempotency").
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "risk/order_request.hpp"

namespace enigma::oms {

// KuCoin clientOid: at most 40 chars of [A-Za-z0-9_-]. Binance newClientOrderId: at most 36 chars of
// [.A-Z:/a-z0-9_-]; we generate from the common subset so one id is valid on both.
inline constexpr std::size_t kKucoinMaxClientIdLen = 40;
inline constexpr std::size_t kBinanceMaxClientIdLen = 36;
// OKX clOrdId / algoClOrdId: up to 32 of [A-Za-z0-9] (oms/venues/okx_swap.hpp).
inline constexpr std::size_t kOkxMaxClientIdLen = 32;

// True when `s` is 1..max_len characters of [A-Za-z0-9_-].
[[nodiscard]] constexpr bool is_valid_client_id(std::string_view s, std::size_t max_len) noexcept {
  if (s.empty() || s.size() > max_len) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-';
    if (!ok) return false;
  }
  return true;
}

// Fixed-capacity text id (<= 40 chars), NUL-padded, compared by content.
template <class Tag>
struct FixedId {
  static constexpr std::size_t kCapacity = 40;
  char text[kCapacity + 1]{};
  std::uint8_t len{0};

  // Copies `s`; fails with Errc::out_of_range when it does not fit (never truncates: ids must not alias).
  [[nodiscard]] static Result<FixedId> from(std::string_view s) noexcept {
    if (s.size() > kCapacity) return Result<FixedId>::failure(Errc::out_of_range);
    FixedId id;
    if (!s.empty()) std::memcpy(id.text, s.data(), s.size());
    id.len = static_cast<std::uint8_t>(s.size());
    return Result<FixedId>::success(id);
  }
  [[nodiscard]] std::string_view view() const noexcept { return {text, len}; }
  [[nodiscard]] bool empty() const noexcept { return len == 0; }
  friend bool operator==(const FixedId& a, const FixedId& b) noexcept { return a.view() == b.view(); }
};

// One client id type across risk and oms (risk's is NUL-padded for word-wise hashing; so is FixedId).
using ClientOrderId = risk::ClientOrderId;
struct VenueIdTag;
using VenueOrderId = FixedId<VenueIdTag>;

// FNV-1a over the id text, for open-addressing tables.
[[nodiscard]] constexpr std::uint64_t hash_id(std::string_view s) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// The prefix of a paper/live session's ids: `<prefix><start time in base 36>-`, e.g. `entpg9fn-` for a
// session started at Unix time 1796268227, so a session's ids differ from every earlier session's even
// if the journal that carries the counter were lost (the journaled counter alone already prevents reuse). Replays keep the
// bare prefix: their ids must be byte-identical across runs. Throws enigma::Error as ClientIdGenerator when
// the result cannot carry a 20-digit counter within `max_len`.
// `separator` ends the prefix ('-'; 'X' for venues whose ids are alphanumeric only, OKX).
[[nodiscard]] std::string session_client_id_prefix(std::string_view prefix, std::uint64_t epoch_s,
                                                   std::size_t max_len = kBinanceMaxClientIdLen, char separator = '-');

// Deterministic client order ids: `<prefix><counter>`, counter in decimal starting at `next_counter`.
// The constructor validates that prefix + the longest counter (20 digits) stays within `max_len` and the
// id alphabet, so next() can never produce an invalid id.
class ClientIdGenerator {
 public:
  // Throws enigma::Error when the prefix is empty, has characters outside [A-Za-z0-9_-], or is too long.
  explicit ClientIdGenerator(std::string_view prefix, std::uint64_t next_counter = 1,
                             std::size_t max_len = kBinanceMaxClientIdLen);

  // The next id; noexcept and allocation-free.
  [[nodiscard]] ClientOrderId next() noexcept;
  // The counter the next call will use (journal it to resume after a restart).
  [[nodiscard]] std::uint64_t next_counter() const noexcept { return counter_; }
  // Resume after a restart: the next id uses max(current, counter).
  void resume_from(std::uint64_t counter) noexcept {
    if (counter > counter_) counter_ = counter;
  }

 private:
  char prefix_[ClientOrderId::kCapacity + 1]{};
  std::size_t prefix_len_{0};
  std::uint64_t counter_;
};

}  // namespace enigma::oms
