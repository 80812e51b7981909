// OMS micro-benchmarks (issue 5 item 10), each side by side with its baseline in the same binary:
//  * encode + sign one new order for KuCoin Futures and Binance USD-M: our encoders (preallocated buffer,
//    precomputed HMAC key schedule) vs a naive client (std::string building + one-shot HMAC() per call);
//  * HMAC-SHA256 alone: precomputed key schedule vs one-shot HMAC() vs EVP_MAC re-init with the same key;
//  * kill switch: from trigger to every cancel request encoded and signed, for 100 working orders, vs a
//    naive std::unordered_map<std::string, ...> + std::string + one-shot HMAC version;
//  * journal append of one execution report (mmap + CRC-32C, no fsync) vs a pwrite() syscall per record.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "oms/ids.hpp"
#include "oms/journal.hpp"
#include "oms/signing.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/kucoin_futures.hpp"
#include "risk/kill_switch.hpp"

namespace {

using namespace enigma;
using namespace enigma::oms;

constexpr std::string_view kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::string_view kPassphrase = "enigma-passphrase";
constexpr std::string_view kQuery =
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";

struct Setup {
  InstrumentRegistry registry{8};
  InstrumentId binance{};
  InstrumentId kucoin{};
  Setup() {
    InstrumentSpec s{};
    s.venue = Venue::binance_usdm;
    s.symbol = Symbol("BTCUSDT");
    s.kind = InstrumentKind::linear_perpetual;
    binance = registry.add(s).value;
    s.venue = Venue::kucoin_futures;
    s.symbol = Symbol("XBTUSDTM");
    kucoin = registry.add(s).value;
  }
  OrderSpec order(InstrumentId id) const {
    OrderSpec o{};
    o.req.client_id = ClientOrderId::from("enigma-1700000000123").value;
    o.req.instrument = id;
    o.req.side = Side::buy;
    o.req.type = OrderType::limit;
    o.req.tif = TimeInForce::gtc;
    o.req.qty = Qty::from_units(3);
    o.req.price = Price::parse("43210.5").value;
    o.req.leverage = 10;
    return o;
  }
};
const Setup& setup() {
  static const Setup s;
  return s;
}

// ---- naive baselines -------------------------------------------------------------------------------

std::string naive_hex_hmac(std::string_view key, const std::string& msg) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  std::string hex;
  char two[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(two, sizeof two, "%02x", mac[i]);
    hex += two;
  }
  return hex;
}

std::string naive_b64_hmac(std::string_view key, const std::string& msg) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  std::string out(48, '\0');
  out.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(len))));
  return out;
}

std::string naive_binance_new(const OrderSpec& o, const std::string& symbol, std::int64_t ts) {
  std::string q = "symbol=" + symbol + "&side=" + (o.req.side == Side::buy ? "BUY" : "SELL") +
                  "&type=LIMIT&timeInForce=GTC&quantity=" + o.req.qty.to_string() + "&price=" +
                  o.req.price.to_string() + "&newClientOrderId=" + std::string(o.req.client_id.view()) +
                  "&recvWindow=5000&timestamp=" + std::to_string(ts);
  q += "&signature=" + naive_hex_hmac(kSecret, q);
  return "POST /fapi/v1/order HTTP/1.1\r\nHost: fapi.binance.com\r\nX-MBX-APIKEY: key\r\n"
         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
         std::to_string(q.size()) + "\r\n\r\n" + q;
}

std::string naive_kucoin_new(const OrderSpec& o, const std::string& symbol, const std::string& signed_pass,
                             std::int64_t ts) {
  const std::string body = "{\"clientOid\":\"" + std::string(o.req.client_id.view()) + "\",\"side\":\"" +
                           (o.req.side == Side::buy ? "buy" : "sell") + "\",\"symbol\":\"" + symbol +
                           "\",\"type\":\"limit\",\"leverage\":" + std::to_string(o.req.leverage) + ",\"price\":\"" +
                           o.req.price.to_string() + "\",\"size\":" + std::to_string(o.req.qty.raw() / Qty::kScale) +
                           ",\"timeInForce\":\"GTC\"}";
  const std::string tss = std::to_string(ts);
  const std::string sign = naive_b64_hmac(kSecret, tss + "POST" + "/api/v1/orders" + body);
  return "POST /api/v1/orders HTTP/1.1\r\nHost: api-futures.kucoin.com\r\nKC-API-KEY: key\r\nKC-API-SIGN: " + sign +
         "\r\nKC-API-TIMESTAMP: " + tss + "\r\nKC-API-PASSPHRASE: " + signed_pass +
         "\r\nKC-API-KEY-VERSION: 2\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// ---- encode + sign -----------------------------------------------------------------------------------

void BM_EncodeSign_Binance_Enigma(benchmark::State& st) {
  binance_futures::Encoder enc(setup().registry, "key", Secret(kSecret));
  const OrderSpec o = setup().order(setup().binance);
  char buf[1024];
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    auto n = enc.encode_new(o, ts++, buf, sizeof buf);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_EncodeSign_Binance_Enigma);

void BM_EncodeSign_Binance_Naive(benchmark::State& st) {
  const OrderSpec o = setup().order(setup().binance);
  const std::string symbol = "BTCUSDT";
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    std::string req = naive_binance_new(o, symbol, ts++);
    benchmark::DoNotOptimize(req.data());
  }
}
BENCHMARK(BM_EncodeSign_Binance_Naive);

void BM_EncodeSign_Kucoin_Enigma(benchmark::State& st) {
  kucoin_futures::Encoder enc(setup().registry, "key", Secret(kSecret), Secret(kPassphrase));
  const OrderSpec o = setup().order(setup().kucoin);
  char buf[1024];
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    auto n = enc.encode_new(o, ts++, buf, sizeof buf);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_EncodeSign_Kucoin_Enigma);

void BM_EncodeSign_Kucoin_Naive(benchmark::State& st) {
  const OrderSpec o = setup().order(setup().kucoin);
  const std::string symbol = "XBTUSDTM";
  const std::string signed_pass = naive_b64_hmac(kSecret, std::string(kPassphrase));
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    std::string req = naive_kucoin_new(o, symbol, signed_pass, ts++);
    benchmark::DoNotOptimize(req.data());
  }
}
BENCHMARK(BM_EncodeSign_Kucoin_Naive);

// One cancel request (the unit of the kill switch's per-order path).
void BM_EncodeCancel_Binance_Enigma(benchmark::State& st) {
  binance_futures::Encoder enc(setup().registry, "key", Secret(kSecret));
  const ClientOrderId id = ClientOrderId::from("enigma-1700000000123").value;
  char buf[1024];
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    auto n = enc.encode_cancel(setup().binance, id, ts++, buf, sizeof buf);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_EncodeCancel_Binance_Enigma);

void BM_EncodeCancel_Kucoin_Enigma(benchmark::State& st) {
  kucoin_futures::Encoder enc(setup().registry, "key", Secret(kSecret), Secret(kPassphrase));
  const ClientOrderId id = ClientOrderId::from("enigma-1700000000123").value;
  char buf[1024];
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    auto n = enc.encode_cancel(setup().kucoin, id, ts++, buf, sizeof buf);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_EncodeCancel_Kucoin_Enigma);

// ---- HMAC alone (the 113-byte Binance documentation query) ------------------------------------------

void BM_Hmac_Precomputed_Enigma(benchmark::State& st) {
  const HmacSha256 h(kSecret);
  unsigned char mac[32];
  for (auto _ : st) {
    h.sign(kQuery, mac);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_Hmac_Precomputed_Enigma);

void BM_Hmac_OneShot_Baseline(benchmark::State& st) {
  unsigned char mac[32];
  unsigned int len = 0;
  for (auto _ : st) {
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(kQuery.data()), kQuery.size(), mac, &len);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_Hmac_OneShot_Baseline);

void BM_Hmac_EvpMacReinit_Baseline(benchmark::State& st) {
  EVP_MAC* mac_alg = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac_alg);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(kSecret.data()), kSecret.size(), params);
  unsigned char mac[32];
  std::size_t len = 0;
  for (auto _ : st) {
    EVP_MAC_init(ctx, nullptr, 0, nullptr);  // same key: reuses the schedule but allocates in OpenSSL 3.0
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(kQuery.data()), kQuery.size());
    EVP_MAC_final(ctx, mac, &len, sizeof mac);
    benchmark::DoNotOptimize(mac);
  }
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac_alg);
}
BENCHMARK(BM_Hmac_EvpMacReinit_Baseline);

// ---- kill switch: trigger -> 100 cancel requests encoded and signed ----------------------------------

constexpr int kWorking = 100;

template <class Encode>
void kill_switch_bench(benchmark::State& st, InstrumentId instrument, Encode&& encode) {
  risk::KillSwitch ks(256);
  ClientIdGenerator ids("ks", 1, kKucoinMaxClientIdLen);
  for (int i = 0; i < kWorking; ++i) {
    risk::WorkingOrder w{};
    w.id = ids.next();
    w.hash = w.id.hash();
    w.instrument = instrument;
    w.venue = setup().registry.get(instrument).venue;
    w.remaining = Qty::from_units(1);
    if (!ks.orders().add(w)) st.SkipWithError("registry full");
  }
  std::vector<ClientOrderId> out(ks.orders().capacity());
  std::vector<char> wire(kWorking * 512);
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    const std::size_t n = ks.trigger(risk::KillScope::everything(), out);
    std::size_t used = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const risk::WorkingOrder* w = ks.orders().find(out[i]);
      const auto r = encode(w->instrument, out[i], ts, wire.data() + used, wire.size() - used);
      used += r.value;
    }
    benchmark::DoNotOptimize(used);
    ks.reset();
    ++ts;
  }
  st.counters["cancels"] = kWorking;
}

void BM_KillSwitch100_Binance_Enigma(benchmark::State& st) {
  binance_futures::Encoder enc(setup().registry, "key", Secret(kSecret));
  kill_switch_bench(st, setup().binance, [&](InstrumentId i, const ClientOrderId& id, std::int64_t ts, char* b, std::size_t n) {
    return enc.encode_cancel(i, id, ts, b, n);
  });
}
BENCHMARK(BM_KillSwitch100_Binance_Enigma)->Unit(benchmark::kMicrosecond);

void BM_KillSwitch100_Kucoin_Enigma(benchmark::State& st) {
  kucoin_futures::Encoder enc(setup().registry, "key", Secret(kSecret), Secret(kPassphrase));
  kill_switch_bench(st, setup().kucoin, [&](InstrumentId i, const ClientOrderId& id, std::int64_t ts, char* b, std::size_t n) {
    return enc.encode_cancel(i, id, ts, b, n);
  });
}
BENCHMARK(BM_KillSwitch100_Kucoin_Enigma)->Unit(benchmark::kMicrosecond);

// Same 100 per-order cancels, sent as Binance batch cancels of 10 (one signature per 10 orders).
void BM_KillSwitch100_Batch10_Binance_Enigma(benchmark::State& st) {
  binance_futures::Encoder enc(setup().registry, "key", Secret(kSecret));
  risk::KillSwitch ks(256);
  ClientIdGenerator ids("ks", 1);
  for (int i = 0; i < kWorking; ++i) {
    risk::WorkingOrder w{};
    w.id = ids.next();
    w.hash = w.id.hash();
    w.instrument = setup().binance;
    w.venue = Venue::binance_usdm;
    if (!ks.orders().add(w)) st.SkipWithError("registry full");
  }
  std::vector<ClientOrderId> out(ks.orders().capacity());
  std::vector<char> wire(16 * 1024);
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    const std::size_t n = ks.trigger(risk::KillScope::of_strategy(0), out);
    std::size_t used = 0;
    for (std::size_t i = 0; i < n; i += binance_futures::Encoder::kMaxBatchCancel) {
      const std::size_t k = std::min(binance_futures::Encoder::kMaxBatchCancel, n - i);
      const auto r = enc.encode_cancel_batch(setup().binance, {out.data() + i, k}, ts, wire.data() + used,
                                             wire.size() - used);
      used += r.value;
    }
    benchmark::DoNotOptimize(used);
    ks.reset();
    ++ts;
  }
  st.counters["cancels"] = kWorking;
}
BENCHMARK(BM_KillSwitch100_Batch10_Binance_Enigma)->Unit(benchmark::kMicrosecond);

// Same trigger, but the scope covers the whole instrument, so one venue cancel-all replaces 100 cancels
// (KuCoin needs two: limit orders and untriggered stop orders).
void BM_KillSwitch100_CancelAll_Binance_Enigma(benchmark::State& st) {
  binance_futures::Encoder enc(setup().registry, "key", Secret(kSecret));
  std::array<char, 1024> wire{};
  risk::KillSwitch ks(256);
  ClientIdGenerator ids("ks", 1);
  for (int i = 0; i < kWorking; ++i) {
    risk::WorkingOrder w{};
    w.id = ids.next();
    w.hash = w.id.hash();
    w.instrument = setup().binance;
    w.venue = Venue::binance_usdm;
    if (!ks.orders().add(w)) st.SkipWithError("registry full");
  }
  std::vector<ClientOrderId> out(ks.orders().capacity());
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    const std::size_t n = ks.trigger(risk::KillScope::of_instrument(setup().binance), out);
    const auto r = enc.encode_cancel_all(setup().binance, ts++, wire.data(), wire.size());
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(r);
    ks.reset();
  }
  st.counters["cancels"] = kWorking;
}
BENCHMARK(BM_KillSwitch100_CancelAll_Binance_Enigma)->Unit(benchmark::kMicrosecond);

void BM_KillSwitch100_Binance_Naive(benchmark::State& st) {
  struct Working {
    std::string symbol;
  };
  std::unordered_map<std::string, Working> working;
  for (int i = 0; i < kWorking; ++i) working["ks" + std::to_string(i + 1)] = Working{"BTCUSDT"};
  std::int64_t ts = 1700000000000;
  for (auto _ : st) {
    std::vector<std::string> requests;
    for (const auto& [id, w] : working) {
      std::string q = "symbol=" + w.symbol + "&origClientOrderId=" + id + "&recvWindow=5000&timestamp=" + std::to_string(ts);
      q += "&signature=" + naive_hex_hmac(kSecret, q);
      requests.push_back("DELETE /fapi/v1/order?" + q + " HTTP/1.1\r\nHost: fapi.binance.com\r\nX-MBX-APIKEY: key\r\n\r\n");
    }
    benchmark::DoNotOptimize(requests.data());
    ++ts;
  }
  st.counters["cancels"] = kWorking;
}
BENCHMARK(BM_KillSwitch100_Binance_Naive)->Unit(benchmark::kMicrosecond);

// ---- journal append --------------------------------------------------------------------------------

void BM_JournalAppend_Enigma(benchmark::State& st) {
  const std::string path = "/tmp/enigma_bench_oms_" + std::to_string(::getpid()) + ".journal";
  std::remove(path.c_str());
  ExecReport r{};
  r.client_id = ClientOrderId::from("enigma-1700000000123").value;
  r.kind = ExecKind::fill;
  {
    Journal j(path, {1 << 22, FsyncPolicy::none, 0});
    std::int64_t now = 0;
    for (auto _ : st) {
      if (j.append_report(r, ++now) != Errc::ok) {
        st.SkipWithError("journal full");
        break;
      }
    }
  }
  std::remove(path.c_str());
}
BENCHMARK(BM_JournalAppend_Enigma)->Iterations(1 << 21);

void BM_JournalAppend_PwriteBaseline(benchmark::State& st) {
  const std::string path = "/tmp/enigma_bench_oms_pw_" + std::to_string(::getpid()) + ".journal";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  unsigned char rec[kJournalRecordSize] = {};
  off_t off = 0;
  for (auto _ : st) {
    if (::pwrite(fd, rec, sizeof rec, off) != static_cast<ssize_t>(sizeof rec)) st.SkipWithError("pwrite failed");
    off += static_cast<off_t>(sizeof rec);
  }
  ::close(fd);
  std::remove(path.c_str());
}
BENCHMARK(BM_JournalAppend_PwriteBaseline)->Iterations(1 << 21);

}  // namespace

BENCHMARK_MAIN();
