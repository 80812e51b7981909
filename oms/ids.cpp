#include "oms/ids.hpp"

#include <string>

namespace enigma::oms {

ClientIdGenerator::ClientIdGenerator(std::string_view prefix, std::uint64_t next_counter, std::size_t max_len)
    : counter_(next_counter) {
  constexpr std::size_t kMaxCounterDigits = 20;  // UINT64_MAX has 20 decimal digits
  if (max_len > ClientOrderId::kCapacity) {
    throw Error("client id generator: max_len " + std::to_string(max_len) + " exceeds capacity 40");
  }
  if (!is_valid_client_id(prefix, max_len) || prefix.size() + kMaxCounterDigits > max_len) {
    throw Error("client id generator: prefix '" + std::string(prefix) +
                "' must be 1.." + std::to_string(max_len - kMaxCounterDigits) + " chars of [A-Za-z0-9_-]");
  }
  std::memcpy(prefix_, prefix.data(), prefix.size());
  prefix_len_ = prefix.size();
}

std::string session_client_id_prefix(std::string_view prefix, std::uint64_t epoch_s, std::size_t max_len, char separator) {
  char digits[16];
  int n = 0;
  do {
    const auto d = static_cast<int>(epoch_s % 36);
    digits[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + (d - 10));
    epoch_s /= 36;
  } while (epoch_s != 0);
  std::string out(prefix);
  while (n > 0) out.push_back(digits[--n]);
  out.push_back(separator);
  (void)ClientIdGenerator(out, 1, max_len);  // the same length and alphabet checks, with the full prefix
  return out;
}

ClientOrderId ClientIdGenerator::next() noexcept {
  ClientOrderId id;
  std::memcpy(id.text, prefix_, prefix_len_);
  char digits[20];
  int n = 0;
  std::uint64_t v = counter_++;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  std::size_t pos = prefix_len_;
  while (n > 0) id.text[pos++] = digits[--n];
  id.text[pos] = '\0';
  id.len = static_cast<std::uint8_t>(pos);
  return id;
}

}  // namespace enigma::oms
