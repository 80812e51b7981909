// The low-level SHA256_* API is deprecated in OpenSSL 3 but is the only allocation-free way to keep an
// HMAC key schedule (see signing.hpp).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "oms/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <array>
#include <charconv>
#include <cstdlib>
#if defined(__SSSE3__)
#include <immintrin.h>
#endif
#include <cstring>
#include <ostream>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace enigma::oms {

static_assert(sizeof(SHA256_CTX) <= 128, "HmacSha256 reserves 128 bytes per SHA-256 state");

Secret::Secret(std::string_view bytes) : data_(new char[bytes.size() + 1]), size_(bytes.size()) {
  if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
  data_[size_] = '\0';
}
Secret::Secret(Secret&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}
Secret::~Secret() { wipe(); }
void Secret::wipe() noexcept {
  if (data_ != nullptr) {
    OPENSSL_cleanse(data_, size_ + 1);
    delete[] data_;
    data_ = nullptr;
    size_ = 0;
  }
}
std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "<redacted>"; }

ApiCredentials ApiCredentials::from_env(std::string_view prefix) {
  auto get = [&](const char* suffix, bool required) -> const char* {
    const std::string name = std::string(prefix) + suffix;
    const char* v = std::getenv(name.c_str());
    if ((v == nullptr || *v == '\0') && required) {
      throw Error("loading API credentials: environment variable " + name + " is not set");
    }
    return v;
  };
  ApiCredentials c;
  c.key = get("API_KEY", true);
  c.secret = Secret(get("API_SECRET", true));
  if (const char* p = get("API_PASSPHRASE", false); p != nullptr) c.passphrase = Secret(p);
  return c;
}
std::ostream& operator<<(std::ostream& os, const ApiCredentials&) {
  return os << "ApiCredentials{key=<redacted>, secret=<redacted>}";
}

HmacSha256::HmacSha256(std::string_view key) noexcept {
  // RFC 2104: keys longer than the block are hashed first; shorter ones are zero-padded.
  unsigned char k[SHA256_CBLOCK] = {};
  if (key.size() > SHA256_CBLOCK) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k);
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[SHA256_CBLOCK];
  auto* inner = reinterpret_cast<SHA256_CTX*>(inner_);
  auto* outer = reinterpret_cast<SHA256_CTX*>(outer_);
  for (int i = 0; i < SHA256_CBLOCK; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
  SHA256_Init(inner);
  SHA256_Update(inner, pad, sizeof pad);
  for (int i = 0; i < SHA256_CBLOCK; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  SHA256_Init(outer);
  SHA256_Update(outer, pad, sizeof pad);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
}

HmacSha256::~HmacSha256() {
  OPENSSL_cleanse(inner_, sizeof inner_);
  OPENSSL_cleanse(outer_, sizeof outer_);
}

void HmacSha256::sign(std::initializer_list<std::string_view> parts, unsigned char out[kSha256Size]) const noexcept {
  SHA256_CTX ctx;
  std::memcpy(&ctx, inner_, sizeof ctx);
  for (const std::string_view p : parts) SHA256_Update(&ctx, p.data(), p.size());
  unsigned char inner_digest[kSha256Size];
  SHA256_Final(inner_digest, &ctx);
  std::memcpy(&ctx, outer_, sizeof ctx);
  SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
  SHA256_Final(out, &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
}

std::ostream& operator<<(std::ostream& os, const HmacSha256&) { return os << "HmacSha256{key=<redacted>}"; }

namespace {

// Standard base64 (padding required, no whitespace) -> bytes; false when malformed.
bool base64_decode(std::string_view in, std::vector<unsigned char>& out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  out.assign(in.size() / 4 * 3, 0);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  std::size_t len = static_cast<std::size_t>(n);
  if (in.back() == '=') --len;  // EVP_DecodeBlock counts the padding as zero bytes
  if (in.size() >= 2 && in[in.size() - 2] == '=') --len;
  out.resize(len);
  return true;
}

}  // namespace

Ed25519Signer::Ed25519Signer(const Secret& pkcs8_base64) {
  std::vector<unsigned char> der;
  if (!base64_decode(pkcs8_base64.reveal(), der)) throw Error("Ed25519 private key: not base64 (expected the body line of the PEM)");
  const unsigned char* p = der.data();
  EVP_PKEY* k = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()));
  OPENSSL_cleanse(der.data(), der.size());
  if (k == nullptr || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(k);
    throw Error("Ed25519 private key: not a PKCS#8 Ed25519 private key");
  }
  pkey_ = k;
}

Ed25519Signer::~Ed25519Signer() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }

void Ed25519Signer::sign_base64(std::string_view msg, char out[kBase64Size]) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[kSignatureSize];
  std::size_t len = sizeof sig;
  const bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, static_cast<EVP_PKEY*>(pkey_)) == 1 &&
                  EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1 &&
                  len == kSignatureSize;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw Error("Ed25519 signing failed in OpenSSL");
  (void)base64_encode(sig, sizeof sig, out);
}

std::string Ed25519Signer::public_key_base64() const {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(static_cast<EVP_PKEY*>(pkey_), &der);
  if (n <= 0) throw Error("Ed25519 public key: OpenSSL could not encode it");
  std::string b64(4 * ((static_cast<std::size_t>(n) + 2) / 3), '\0');
  (void)base64_encode(der, static_cast<std::size_t>(n), b64.data());
  OPENSSL_free(der);
  return b64;
}

std::ostream& operator<<(std::ostream& os, const Ed25519Signer&) { return os << "Ed25519Signer{key=<redacted>}"; }

bool ed25519_verify(std::string_view public_key_base64, std::string_view msg, std::string_view signature_base64) noexcept {
  try {
    std::vector<unsigned char> der, sig;
    if (!base64_decode(public_key_base64, der) || !base64_decode(signature_base64, sig)) return false;
    const unsigned char* p = der.data();
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    if (k == nullptr) return false;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr && EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 &&
                    EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, k) == 1 &&
                    EVP_DigestVerify(ctx, sig.data(), sig.size(), reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok;
  } catch (...) {
    return false;
  }
}

void hex_encode(const unsigned char* in, std::size_t n, char* out) noexcept {
  // Two characters per byte from one table row (a signature is 32 bytes: 64 lookups become 32).
  static constexpr auto kHexPairs = [] {
    constexpr char kHex[] = "0123456789abcdef";
    std::array<char, 512> t{};
    for (std::size_t b = 0; b < 256; ++b) {
      t[2 * b] = kHex[b >> 4];
      t[2 * b + 1] = kHex[b & 0xF];
    }
    return t;
  }();
  std::size_t i = 0;
#if defined(__SSSE3__)
  // 16 bytes at a time: split into nibbles, look each up in a 16-entry table (pshufb), interleave high/low.
  const __m128i digits = _mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f');
  const __m128i low_mask = _mm_set1_epi8(0x0F);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i hi = _mm_shuffle_epi8(digits, _mm_and_si128(_mm_srli_epi16(v, 4), low_mask));
    const __m128i lo = _mm_shuffle_epi8(digits, _mm_and_si128(v, low_mask));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), _mm_unpacklo_epi8(hi, lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i + 16), _mm_unpackhi_epi8(hi, lo));
  }
#endif
  for (; i < n; ++i) std::memcpy(out + 2 * i, kHexPairs.data() + 2 * std::size_t{in[i]}, 2);
}

std::size_t base64_encode(const unsigned char* in, std::size_t n, char* out) noexcept {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[o++] = kB64[(v >> 18) & 63];
    out[o++] = kB64[(v >> 12) & 63];
    out[o++] = kB64[(v >> 6) & 63];
    out[o++] = kB64[v & 63];
  }
  if (i < n) {
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (i + 1 < n) v |= std::uint32_t{in[i + 1]} << 8;
    out[o++] = kB64[(v >> 18) & 63];
    out[o++] = kB64[(v >> 12) & 63];
    out[o++] = i + 1 < n ? kB64[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

namespace {

// "00" "01" ... "99": two digits per division (a millisecond timestamp is 13 digits).
constexpr auto kDigitPairs = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
    t[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

}  // namespace

void BufWriter::put_uint(std::uint64_t v) noexcept {
  char digits[20];
  char* p = digits + sizeof digits;  // filled from the end
  while (v >= 100) {
    const std::size_t pair = static_cast<std::size_t>(v % 100) * 2;
    v /= 100;
    p -= 2;
    std::memcpy(p, kDigitPairs.data() + pair, 2);
  }
  if (v >= 10) {
    p -= 2;
    std::memcpy(p, kDigitPairs.data() + v * 2, 2);
  } else {
    *--p = static_cast<char>('0' + v);
  }
  put(std::string_view(p, static_cast<std::size_t>(digits + sizeof digits - p)));
}

void BufWriter::put_int(std::int64_t v) noexcept {
  if (v < 0) {
    put('-');
    put_uint(static_cast<std::uint64_t>(-(v + 1)) + 1);
  } else {
    put_uint(static_cast<std::uint64_t>(v));
  }
}

bool overwrite_decimal(char* at, std::size_t len, std::int64_t value) noexcept {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  if (ec != std::errc{} || static_cast<std::size_t>(end - digits) != len) return false;
  std::memcpy(at, digits, len);
  return true;
}

}  // namespace enigma::oms
