// Request signing primitives: HMAC-SHA256 with the key schedule precomputed, hex/base64 output, and a
// Secret type that never prints its bytes and wipes them on destruction (RELIABILITY.md, Credentials).
//
// Why not EVP_MAC / HMAC_CTX: in OpenSSL 3.0 re-initialising either with the same key (init with a NULL
// key) allocates 1-2 blocks per message (measured with CRYPTO_set_mem_functions), which breaks the
// no-allocation rule of the order path. HMAC is H((K^opad) || H((K^ipad) || m)); the two SHA-256 states
// after absorbing K^ipad and K^opad are the whole key schedule, so we keep them and copy them per message
// (OpenSSL's SHA-256, SHA-NI/AVX2 accelerated). The signing test pins the result to the venues' examples.
#pragma once

#include <cstddef>
#include <cstring>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace enigma::oms {

// Owns secret bytes (API secret, passphrase). Not copyable; moving transfers ownership. The bytes are
// wiped with OPENSSL_cleanse when the object dies. Formatting it (ostream or fmt) prints "<redacted>".
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view bytes);
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  // The only way to read the bytes; named so every use stands out in review.
  [[nodiscard]] std::string_view reveal() const noexcept { return {data_, size_}; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  void wipe() noexcept;
  char* data_{nullptr};
  std::size_t size_{0};
};
std::ostream& operator<<(std::ostream& os, const Secret&);

// API key + secret (+ passphrase for KuCoin). The key is not secret but is redacted in output too
// (it identifies the account).
struct ApiCredentials {
  std::string key;
  Secret secret;
  Secret passphrase;

  // Reads <prefix>API_KEY, <prefix>API_SECRET and <prefix>API_PASSPHRASE (optional) from the environment.
  // Throws enigma::Error naming the missing variable (never its value).
  [[nodiscard]] static ApiCredentials from_env(std::string_view prefix);
};
std::ostream& operator<<(std::ostream& os, const ApiCredentials&);

// Writes `value` in decimal over the `len` characters at `at` when it has exactly `len` digits (a millisecond
// timestamp re-signed in place keeps its 13 digits until the year 2286); false, nothing written, otherwise.
[[nodiscard]] bool overwrite_decimal(char* at, std::size_t len, std::int64_t value) noexcept;

inline constexpr std::size_t kSha256Size = 32;
inline constexpr std::size_t kSha256HexSize = 64;
inline constexpr std::size_t kSha256Base64Size = 44;

// HMAC-SHA256 with a precomputed key schedule. sign() is noexcept, allocation-free, and const (the
// per-message state lives on the stack), so one signer may be shared by threads that only read it.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key) noexcept;
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  ~HmacSha256();

  // MAC of the concatenation of `parts` (signing "timestamp + method + endpoint + body" without copying).
  void sign(std::initializer_list<std::string_view> parts, unsigned char out[kSha256Size]) const noexcept;
  void sign(std::string_view msg, unsigned char out[kSha256Size]) const noexcept { sign({msg}, out); }

 private:
  // Opaque SHA256_CTX storage (112 bytes in OpenSSL 3; checked in the .cpp) so this header does not pull
  // in the deprecated low-level API.
  alignas(8) unsigned char inner_[128];
  alignas(8) unsigned char outer_[128];
};
std::ostream& operator<<(std::ostream& os, const HmacSha256&);

// Ed25519 request signing (Binance WebSocket API `session.logon`, and any Ed25519-keyed request): the
// private key is the base64 of its PKCS#8 DER, i.e. the one body line of the PEM that
// `openssl genpkey -algorithm ed25519` writes. Cold path: OpenSSL's one-shot EVP_DigestSign allocates a
// context per signature, which is why the order path signs with HMAC or not at all (after session.logon).
class Ed25519Signer {
 public:
  static constexpr std::size_t kSignatureSize = 64;
  static constexpr std::size_t kBase64Size = 88;
  // Throws enigma::Error ("not base64", "not a PKCS#8 Ed25519 private key") without the key bytes.
  explicit Ed25519Signer(const Secret& pkcs8_base64);
  ~Ed25519Signer();
  Ed25519Signer(const Ed25519Signer&) = delete;
  Ed25519Signer& operator=(const Ed25519Signer&) = delete;

  // Standard base64 of the 64-byte signature of `msg` into `out` (88 chars). Throws enigma::Error when
  // OpenSSL fails (out of memory).
  void sign_base64(std::string_view msg, char out[kBase64Size]) const;
  // The public key as the base64 of its SubjectPublicKeyInfo DER (what the venue registers; tests verify with it).
  [[nodiscard]] std::string public_key_base64() const;

 private:
  void* pkey_{nullptr};  // EVP_PKEY*, kept opaque so this header does not include OpenSSL
};
std::ostream& operator<<(std::ostream& os, const Ed25519Signer&);

// Verifies a base64 Ed25519 signature of `msg` with a base64 SubjectPublicKeyInfo DER public key (the local
// test venue; cold path). False for any malformed input.
[[nodiscard]] bool ed25519_verify(std::string_view public_key_base64, std::string_view msg,
                                  std::string_view signature_base64) noexcept;

// Lower-case hex of `n` bytes into `out` (2n chars, no NUL).
void hex_encode(const unsigned char* in, std::size_t n, char* out) noexcept;
// Standard base64 with padding into `out` (4*ceil(n/3) chars, no NUL).
std::size_t base64_encode(const unsigned char* in, std::size_t n, char* out) noexcept;

// Bounded append-only writer over a caller buffer; `overflow` latches when anything did not fit.
struct BufWriter {
  char* begin;
  char* cur;
  char* end;
  bool overflow{false};

  BufWriter(char* b, std::size_t n) noexcept : begin(b), cur(b), end(b + n) {}
  // Inline: a literal's length is then a constant and its copy a few moves (the order path writes ~10 per
  // request).
  void put(std::string_view s) noexcept {
    if (static_cast<std::size_t>(end - cur) < s.size()) {
      overflow = true;
      return;
    }
    if (!s.empty()) std::memcpy(cur, s.data(), s.size());  // memcpy from a null view is undefined even for 0 bytes
    cur += s.size();
  }
  void put(char c) noexcept {
    if (cur == end) {
      overflow = true;
      return;
    }
    *cur++ = c;
  }
  void put_uint(std::uint64_t v) noexcept;
  void put_int(std::int64_t v) noexcept;
  // Exact shortest decimal of a fixed-point value (Price/Qty/...): uses T::format.
  template <class T>
  void put_fixed(T v) noexcept {
    if (static_cast<std::size_t>(end - cur) < T::kMaxChars) {
      overflow = true;
      return;
    }
    cur += v.format(cur);
  }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(cur - begin); }
  [[nodiscard]] std::string_view view() const noexcept { return {begin, size()}; }
};

}  // namespace enigma::oms

template <>
struct fmt::formatter<enigma::oms::Secret> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const enigma::oms::Secret&, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format("<redacted>", ctx);
  }
};
template <>
struct fmt::formatter<enigma::oms::ApiCredentials> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const enigma::oms::ApiCredentials&, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format("ApiCredentials{key=<redacted>, secret=<redacted>}", ctx);
  }
};
template <>
struct fmt::formatter<enigma::oms::Ed25519Signer> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const enigma::oms::Ed25519Signer&, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format("Ed25519Signer{key=<redacted>}", ctx);
  }
};
template <>
struct fmt::formatter<enigma::oms::HmacSha256> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const enigma::oms::HmacSha256&, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format("HmacSha256{key=<redacted>}", ctx);
  }
};
