// A local market-data venue for paper tests: one deterministic order book, evolved by `updates` random
// changes, spoken in each venue's own dialect (Binance USD-M, COIN-M and spot, KuCoin spot and Futures, OKX, Bybit, Coinbase
// Advanced Trade, Kraken spot WebSocket v2, Kraken Futures WebSocket v1) through the local TLS WebSocket +
// HTTPS server (ws_test_server.hpp).
//
// The server's recorded frames are the book's diffs, in order; the server's cursor says how many of them the
// venue has "published". Whatever the engine asks for is answered at that cursor, as a venue would: the REST
// snapshot (Binance, KuCoin), or the snapshot that follows a (re)subscription on the stream (OKX, Bybit,
// Coinbase, Kraken), so a test injects faults with the server's own commands (skip = a lost message, fault = a
// dropped connection, silence = nothing sent) plus corrupt_checksum() for OKX and Kraken, and then compares the
// engine's book with book_after(cursor): the venue's own book, computed here independently of the engine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/book_side.hpp"
#include "core/instrument.hpp"
#include "feed/ws_client.hpp"
#include "tests/support/ws_test_server.hpp"

namespace enigma::testing {

enum class Dialect { binance_usdm, kucoin_spot, okx, bybit, coinbase, kraken_spot, kucoin_futures, kraken_futures, binance_coinm, binance_spot };

class MarketDataVenue {
 public:
  // Levels are integer ticks of 0.1 and sizes integer thousandths; bids live in [49995.0, 49999.9], asks in
  // [50000.1, 50005.0], so the book never crosses whatever the changes do.
  // The history is built once per (dialect, updates, seed) in a process and shared by every venue made with
  // them: a suite's cases each make the same venue, and under the sanitizers building 20 000 books and
  // checksums took more of a live case's CPU than the engine did.
  MarketDataVenue(Dialect d, std::size_t updates, std::uint32_t seed = 7) : d_(d), h_(shared_history(d, updates, seed)) {
    static std::mutex building;
    const std::lock_guard<std::mutex> lock(building);
    if (!books_.empty()) return;  // built by an earlier venue
    std::mt19937 rng(seed);
    Book b;
    for (int i = 0; i < 30; ++i) {
      b.bids[kBidHigh - i] = 1000 + 37 * i;
      b.asks[kAskLow + i] = 1200 + 41 * i;
    }
    books_.push_back(b);
    for (std::size_t i = 1; i <= updates; ++i) {
      Change ch;
      int n = 1 + static_cast<int>(rng() % 3);
      // KuCoin Futures' level2 and Kraken Futures' book message carry exactly one change.
      if (d == Dialect::kucoin_futures || d == Dialect::kraken_futures) n = 1;
      for (int j = 0; j < n; ++j) {
        const bool bid = rng() % 2 == 0;
        const int off = static_cast<int>(rng() % 50);
        const std::int64_t px = bid ? kBidHigh - off : kAskLow + off;
        const std::int64_t qty = rng() % 4 == 0 ? 0 : 1 + static_cast<std::int64_t>(rng() % 5000);
        auto& side = bid ? b.bids : b.asks;
        if (qty == 0 && !side.count(px)) continue;  // deleting a level that is not there: skip
        if (qty == 0) side.erase(px);
        else side[px] = qty;
        (bid ? ch.bids : ch.asks).push_back({px, qty});
      }
      if (ch.bids.empty() && ch.asks.empty()) {  // every change was a no-op delete: change the touch instead
        b.bids[kBidHigh] = 777 + static_cast<std::int64_t>(i);
        ch.bids.push_back({kBidHigh, b.bids[kBidHigh]});
      }
      changes_.push_back(ch);
      books_.push_back(b);
      frames_.push_back(diff_frame(i));
    }
  }

  // ---- what the engine is configured with ----
  [[nodiscard]] Venue venue() const {
    switch (d_) {
      case Dialect::binance_usdm: return Venue::binance_usdm;
      case Dialect::binance_coinm: return Venue::binance_coinm;
      case Dialect::binance_spot: return Venue::binance_spot;
      case Dialect::kucoin_spot: return Venue::kucoin_spot;
      case Dialect::okx: return Venue::okx;
      case Dialect::bybit: return Venue::bybit;
      case Dialect::coinbase: return Venue::coinbase;
      case Dialect::kraken_spot: return Venue::kraken_spot;
      case Dialect::kucoin_futures: return Venue::kucoin_futures;
      case Dialect::kraken_futures: return Venue::kraken_futures;
    }
    return Venue::unknown;
  }
  [[nodiscard]] std::string symbol() const {
    switch (d_) {
      case Dialect::binance_usdm: return "BTCUSDT";
      case Dialect::binance_coinm: return "BTCUSD_PERP";
      case Dialect::binance_spot: return "BTCUSDT";
      case Dialect::kucoin_spot: return "BTC-USDT";
      case Dialect::okx: return "BTC-USDT-SWAP";
      case Dialect::bybit: return "BTCUSDT";
      case Dialect::coinbase: return "BTC-USD";
      case Dialect::kraken_spot: return "BTC/USD";
      case Dialect::kucoin_futures: return "XBTUSDTM";
      case Dialect::kraken_futures: return "PF_XBTUSD";
    }
    return {};
  }
  [[nodiscard]] InstrumentSpec spec() const {
    InstrumentSpec s;
    s.venue = venue();
    s.symbol = Symbol(symbol());
    s.kind = d_ == Dialect::kucoin_spot || d_ == Dialect::coinbase || d_ == Dialect::kraken_spot || d_ == Dialect::binance_spot
                 ? InstrumentKind::spot
             : d_ == Dialect::binance_coinm ? InstrumentKind::inverse_perpetual
                                            : InstrumentKind::linear_perpetual;
    s.tick = Price::parse("0.1").value;
    s.lot = Qty::parse("0.001").value;
    return s;
  }
  [[nodiscard]] feed::PingPolicy ping() const {
    switch (d_) {
      case Dialect::binance_usdm:
      case Dialect::binance_coinm:
      case Dialect::binance_spot: return feed::PingPolicy::binance;
      case Dialect::kucoin_spot: return feed::PingPolicy::kucoin;
      case Dialect::okx: return feed::PingPolicy::okx;
      case Dialect::bybit: return feed::PingPolicy::bybit;
      case Dialect::coinbase: return feed::PingPolicy::none;  // its heartbeats channel keeps the stream alive
      case Dialect::kraken_spot: return feed::PingPolicy::none;  // heartbeats come with any subscription
      case Dialect::kucoin_futures: return feed::PingPolicy::kucoin;
      case Dialect::kraken_futures: return feed::PingPolicy::kraken_futures;  // ping control frames; Beast pongs
    }
    return feed::PingPolicy::none;
  }
  // The WebSocket path (empty for KuCoin: the bullet response names the server).
  [[nodiscard]] std::string ws_path() const {
    switch (d_) {
      case Dialect::binance_usdm: return "/stream?streams=btcusdt@depth@0ms";
      case Dialect::binance_coinm: return "/stream?streams=btcusd_perp@depth@100ms";
      case Dialect::binance_spot: return "/stream?streams=btcusdt@depth@100ms";
      case Dialect::okx: return "/ws/v5/public";
      case Dialect::bybit: return "/v5/public/linear";
      case Dialect::coinbase: return "/ws";
      case Dialect::kraken_spot: return "/v2";
      case Dialect::kraken_futures: return "/ws/v1";
      case Dialect::kucoin_spot:
      case Dialect::kucoin_futures: return {};
    }
    return {};
  }
  [[nodiscard]] std::vector<std::string> subscriptions() const {
    switch (d_) {
      case Dialect::binance_usdm:
      case Dialect::binance_coinm:
      case Dialect::binance_spot: return {};
      case Dialect::kucoin_spot: return {R"({"id":"1","type":"subscribe","topic":"/market/level2:BTC-USDT","response":true})"};
      case Dialect::okx: return {R"({"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT-SWAP"}]})"};
      case Dialect::bybit: return {R"({"op":"subscribe","args":["orderbook.50.BTCUSDT"]})"};
      case Dialect::coinbase:
        return {R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})",
                R"({"type":"subscribe","channel":"heartbeats"})"};
      // Depth 100 holds the whole book (at most 50 levels a side), so no level ever falls out of scope.
      case Dialect::kraken_spot: return {R"({"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":100}})"};
      case Dialect::kucoin_futures:
        return {R"({"id":"1","type":"subscribe","topic":"/contractMarket/level2:XBTUSDTM","response":true})"};
      case Dialect::kraken_futures:
        return {R"({"event":"subscribe","feed":"book","product_ids":["PF_XBTUSD"]})", R"({"event":"subscribe","feed":"heartbeat"})"};
    }
    return {};
  }
  // REST snapshot path (Binance, KuCoin); empty where the stream carries the snapshot.
  [[nodiscard]] std::string snapshot_path() const {
    if (d_ == Dialect::binance_usdm) return "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
    if (d_ == Dialect::binance_coinm) return "/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000";
    if (d_ == Dialect::binance_spot) return "/api/v3/depth?symbol=BTCUSDT&limit=1000";
    if (d_ == Dialect::kucoin_spot) return "/api/v1/market/orderbook/level2_100?symbol=BTC-USDT";
    if (d_ == Dialect::kucoin_futures) return "/api/v1/level2/snapshot?symbol=XBTUSDTM";
    return {};
  }
  [[nodiscard]] bool kucoin() const { return d_ == Dialect::kucoin_spot || d_ == Dialect::kucoin_futures; }
  [[nodiscard]] std::string bullet_path() const { return kucoin() ? "/api/v1/bullet-public" : ""; }

  // ---- the server side ----
  [[nodiscard]] const std::vector<std::string>& frames() const { return frames_; }
  [[nodiscard]] WsTestServerOptions server_options() const {
    WsTestServerOptions o;
    o.kucoin_welcome = kucoin();
    o.stamp_sequence = d_ == Dialect::coinbase;
    o.bullet_body =
        R"({"code":"200000","data":{"token":"test-token","instanceServers":[{"endpoint":"{ENDPOINT}","encrypt":true,)"
        R"("protocol":"websocket","pingInterval":18000,"pingTimeout":10000}]}})";
    o.snapshot_at = [this](std::size_t cursor) { return rest_snapshot(cursor); };
    o.on_client_text = [this](const std::string& text, std::size_t cursor) { return answer(text, cursor); };
    return o;
  }
  // Diff `index` (0-based into frames()) with a checksum that does not match the book (OKX, Kraken).
  [[nodiscard]] std::string corrupt_checksum(std::size_t index) const { return diff_frame(index + 1, /*bad_checksum=*/true); }

  // Kraken: whether losing diff `index` (0-based into frames()) shows in the checksum of the diff after it.
  // Kraken spot has no sequence numbers and its checksum covers the best 10 levels only: a lost change deeper
  // in the book (or one the next diff overwrites) is invisible there, as on the real venue.
  [[nodiscard]] bool loss_shows_in_checksum(std::size_t index) const {
    Book b = books_.at(index);  // before the lost diff
    const Change& next = changes_.at(index + 1);
    const auto apply = [](std::map<std::int64_t, std::int64_t>& side, const std::vector<Level>& ls) {
      for (const Level& l : ls) {
        if (l.qty == 0) side.erase(l.px);
        else side[l.px] = l.qty;
      }
    };
    apply(b.bids, next.bids);
    apply(b.asks, next.asks);
    return kraken_checksum(b) != kraken_checksum(books_.at(index + 2));
  }

  // The venue's book after the first `k` diffs: up to `n` levels per side, best first.
  [[nodiscard]] std::vector<PriceLevel> bids_after(std::size_t k, std::size_t n) const { return top(books_.at(k).bids, n, true); }
  [[nodiscard]] std::vector<PriceLevel> asks_after(std::size_t k, std::size_t n) const { return top(books_.at(k).asks, n, false); }

 private:
  static constexpr std::int64_t kBidHigh = 499'999;  // 49999.9
  static constexpr std::int64_t kAskLow = 500'001;   // 50000.1
  struct Book {
    std::map<std::int64_t, std::int64_t> bids, asks;  // price ticks -> size in thousandths
  };
  struct Level {
    std::int64_t px, qty;
  };
  struct Change {
    std::vector<Level> bids, asks;
  };

  static std::vector<PriceLevel> top(const std::map<std::int64_t, std::int64_t>& side, std::size_t n, bool bids) {
    std::vector<PriceLevel> out;
    auto add = [&](const auto& kv) {
      if (out.size() < n) out.push_back(PriceLevel{Price::parse(px_text(kv.first)).value, Qty::parse(qty_text(kv.second)).value});
    };
    if (bids) for (auto it = side.rbegin(); it != side.rend(); ++it) add(*it);
    else for (const auto& kv : side) add(kv);
    return out;
  }
  // Venue decimal text without trailing zeros ("49999.9", "50000", "1.25").
  static std::string decimal(std::int64_t v, int digits) {
    std::int64_t scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    std::string s = std::to_string(v / scale);
    std::int64_t frac = v % scale;
    if (frac == 0) return s;
    std::string f = std::to_string(frac);
    f.insert(0, static_cast<std::size_t>(digits) - f.size(), '0');
    while (!f.empty() && f.back() == '0') f.pop_back();
    return s + "." + f;
  }
  static std::string px_text(std::int64_t ticks) { return decimal(ticks, 1); }
  static std::string qty_text(std::int64_t milli) { return decimal(milli, 3); }

  // [["p","q"<extra>],...]
  static std::string levels(const std::vector<Level>& ls, const char* extra = "") {
    std::string s = "[";
    for (const Level& l : ls) {
      if (s.size() > 1) s += ',';
      s += "[\"" + px_text(l.px) + "\",\"" + qty_text(l.qty) + "\"" + extra + "]";
    }
    return s + "]";
  }
  static std::vector<Level> all(const std::map<std::int64_t, std::int64_t>& side, bool bids) {
    std::vector<Level> out;
    if (bids) for (auto it = side.rbegin(); it != side.rend(); ++it) out.push_back({it->first, it->second});
    else for (const auto& [p, q] : side) out.push_back({p, q});
    return out;
  }

  // OKX: CRC-32 of "bid1px:bid1sz:ask1px:ask1sz:..." over the top 25 levels, as a signed 32-bit integer.
  static std::int32_t okx_checksum(const Book& b) {
    const auto bids = all(b.bids, true), asks = all(b.asks, false);
    std::string text;
    for (std::size_t i = 0; i < 25; ++i) {
      auto put = [&](const Level& l) {
        if (!text.empty()) text += ':';
        text += px_text(l.px) + ":" + qty_text(l.qty);
      };
      if (i < bids.size()) put(bids[i]);
      if (i < asks.size()) put(asks[i]);
    }
    return static_cast<std::int32_t>(crc32(text));
  }

  // CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit.
  static std::uint32_t crc32(const std::string& text) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : text) {
      crc ^= c;
      for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
  }

  // Kraken spot v2 prints every price and size with the pair's full precision (BTC/USD: 1 and 8 decimals),
  // as JSON numbers.
  static std::string kraken_px(std::int64_t ticks) { return std::to_string(ticks / 10) + "." + std::to_string(ticks % 10); }
  static std::string kraken_qty(std::int64_t milli) {
    std::string f = std::to_string(milli % 1000);
    f.insert(0, 3 - f.size(), '0');
    return std::to_string(milli / 1000) + "." + f + "00000";
  }
  static std::string kraken_levels(const std::vector<Level>& ls) {
    std::string s = "[";
    for (const Level& l : ls) {
      if (s.size() > 1) s += ',';
      s += R"({"price":)" + kraken_px(l.px) + R"(,"qty":)" + kraken_qty(l.qty) + "}";
    }
    return s + "]";
  }
  // Kraken spot v2 checksum (docs.kraken.com, "Book checksum (WebSocket v2)"): CRC-32 of the best 10 asks
  // (low to high) then the best 10 bids (high to low), each level as its price then its qty text with the
  // '.' removed and leading zeros stripped; unsigned.
  static std::uint32_t kraken_checksum(const Book& b) {
    const auto digits = [](std::string t) {
      t.erase(std::remove(t.begin(), t.end(), '.'), t.end());
      const std::size_t nz = t.find_first_not_of('0');
      return nz == std::string::npos ? std::string() : t.substr(nz);
    };
    std::string text;
    const auto bids = all(b.bids, true), asks = all(b.asks, false);
    for (std::size_t i = 0; i < 10 && i < asks.size(); ++i) text += digits(kraken_px(asks[i].px)) + digits(kraken_qty(asks[i].qty));
    for (std::size_t i = 0; i < 10 && i < bids.size(); ++i) text += digits(kraken_px(bids[i].px)) + digits(kraken_qty(bids[i].qty));
    return crc32(text);
  }
  static std::string kraken_book(const char* type, const std::vector<Level>& bids, const std::vector<Level>& asks,
                                 std::uint32_t checksum, const std::string& ts) {
    return std::string(R"({"channel":"book","type":")") + type + R"(","data":[{"symbol":"BTC/USD","bids":)" +
           kraken_levels(bids) + R"(,"asks":)" + kraken_levels(asks) + R"(,"checksum":)" + std::to_string(checksum) +
           R"(,"timestamp":")" + ts + R"("}]})";
  }

  // Diff i (1-based): the change that turns books_[i-1] into books_[i].
  std::string diff_frame(std::size_t i, bool bad_checksum = false) const {
    const Change& c = changes_.at(i - 1);
    const std::string ts = std::to_string(1'760'000'000'000 + static_cast<std::int64_t>(i));
    switch (d_) {
      case Dialect::binance_usdm:
        // Diff i covers update ids [10i+1, 10i+10]; pu = the previous diff's last id.
        return R"({"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":)" + ts + R"(,"T":)" + ts +
               R"(,"s":"BTCUSDT","U":)" + std::to_string(10 * i + 1) + R"(,"u":)" + std::to_string(10 * i + 10) +
               R"(,"pu":)" + std::to_string(10 * i) + R"(,"b":)" + levels(c.bids) + R"(,"a":)" + levels(c.asks) + "}}";
      case Dialect::binance_coinm:
        // COIN-M's depthUpdate: USD-M's fields plus the pair "ps" (Binance COIN-M "Diff. Book Depth Streams").
        return R"({"stream":"btcusd_perp@depth@100ms","data":{"e":"depthUpdate","E":)" + ts + R"(,"T":)" + ts +
               R"(,"s":"BTCUSD_PERP","ps":"BTCUSD","U":)" + std::to_string(10 * i + 1) + R"(,"u":)" + std::to_string(10 * i + 10) +
               R"(,"pu":)" + std::to_string(10 * i) + R"(,"b":)" + levels(c.bids) + R"(,"a":)" + levels(c.asks) + "}}";
      case Dialect::binance_spot:
        // Spot's depthUpdate has no "pu" and no "T": a gap shows as U != the previous u + 1.
        return R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":)" + ts +
               R"(,"s":"BTCUSDT","U":)" + std::to_string(10 * i + 1) + R"(,"u":)" + std::to_string(10 * i + 10) +
               R"(,"b":)" + levels(c.bids) + R"(,"a":)" + levels(c.asks) + "}}";
      case Dialect::kucoin_spot: {
        // One sequence number per change, numbered on from the previous diff's last.
        std::uint64_t seq = kucoin_seq_before(i);
        auto with_seq = [&](const std::vector<Level>& ls) {
          std::string s = "[";
          for (const Level& l : ls) {
            if (s.size() > 1) s += ',';
            s += "[\"" + px_text(l.px) + "\",\"" + qty_text(l.qty) + "\",\"" + std::to_string(++seq) + "\"]";
          }
          return s + "]";
        };
        const std::uint64_t start = kucoin_seq_before(i) + 1;
        const std::string asks = with_seq(c.asks);  // numbered in the order they appear: asks, then bids
        const std::string bids = with_seq(c.bids);
        return R"({"topic":"/market/level2:BTC-USDT","type":"message","subject":"trade.l2update","data":{"changes":{"asks":)" +
               asks + R"(,"bids":)" + bids + R"(},"sequenceEnd":)" + std::to_string(seq) + R"(,"sequenceStart":)" +
               std::to_string(start) + R"(,"symbol":"BTC-USDT","time":)" + ts + "}}";
      }
      case Dialect::okx: {
        const std::int32_t sum = okx_checksum(books_.at(i)) + (bad_checksum ? 1 : 0);
        return R"({"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"update","data":[{"asks":)" +
               levels(c.asks, R"(,"0","1")") + R"(,"bids":)" + levels(c.bids, R"(,"0","1")") + R"(,"ts":")" + ts +
               R"(","checksum":)" + std::to_string(sum) + R"(,"prevSeqId":)" + std::to_string(1000 + i - 1) +
               R"(,"seqId":)" + std::to_string(1000 + i) + "}]}";
      }
      case Dialect::bybit:
        return R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":)" + ts + R"(,"data":{"s":"BTCUSDT","b":)" +
               levels(c.bids) + R"(,"a":)" + levels(c.asks) + R"(,"u":)" + std::to_string(1000 + i) + R"(,"seq":)" +
               std::to_string(5000 + i) + R"(},"cts":)" + ts + "}";
      case Dialect::coinbase:
        return coinbase_l2("update", c.bids, c.asks);
      case Dialect::kraken_spot:
        return kraken_book("update", c.bids, c.asks, kraken_checksum(books_.at(i)) + (bad_checksum ? 1u : 0u),
                           "2026-04-07T14:30:01.456789Z");
      case Dialect::kraken_futures: {
        // One change per message, seq +1 each (diff i: 1000 + i; the snapshot after k diffs: 1000 + k).
        const Level& l = c.bids.empty() ? c.asks.front() : c.bids.front();
        return R"({"feed":"book","product_id":"PF_XBTUSD","side":")" + std::string(c.bids.empty() ? "sell" : "buy") +
               R"(","seq":)" + std::to_string(1000 + i) + R"(,"price":)" + px_text(l.px) + R"(,"qty":)" + qty_text(l.qty) +
               R"(,"timestamp":)" + ts + "}";
      }
      case Dialect::kucoin_futures: {
        // {"sequence":N,"change":"price,side,size","timestamp":ms}: one change per message, sequence +1 each.
        const Level& l = c.bids.empty() ? c.asks.front() : c.bids.front();
        const std::string seq = std::to_string(1000 + i);
        return R"({"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2","sn":)" + seq +
               R"(,"data":{"sequence":)" + seq + R"(,"change":")" + px_text(l.px) + (c.bids.empty() ? ",sell," : ",buy,") +
               qty_text(l.qty) + R"(","timestamp":)" + ts + "}}";
      }
    }
    return {};
  }

  std::uint64_t kucoin_seq_before(std::size_t i) const {
    std::uint64_t seq = 100;
    for (std::size_t j = 0; j + 1 < i; ++j) seq += changes_[j].bids.size() + changes_[j].asks.size();
    return seq;
  }

  static std::string coinbase_l2(const char* type, const std::vector<Level>& bids, const std::vector<Level>& asks) {
    std::string u;
    auto put = [&](const char* side, const Level& l) {
      if (!u.empty()) u += ',';
      u += std::string(R"({"side":")") + side + R"(","event_time":"2026-04-07T14:30:01.456789Z","price_level":")" + px_text(l.px) +
           R"(","new_quantity":")" + qty_text(l.qty) + "\"}";
    };
    for (const Level& l : bids) put("bid", l);
    for (const Level& l : asks) put("offer", l);
    return std::string(R"({"channel":"l2_data","client_id":"","timestamp":"2026-04-07T14:30:01.456789Z","sequence_num":{SEQ},)") +
           R"("events":[{"type":")" + type + R"(","product_id":"BTC-USD","updates":[)" + u + "]}]}";
  }

  // The book after `k` diffs as the stream's snapshot message (OKX, Bybit, Coinbase, Kraken).
  std::string stream_snapshot(std::size_t k) const {
    const Book& b = books_.at(k);
    switch (d_) {
      case Dialect::okx:
        return R"({"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"snapshot","data":[{"asks":)" +
               levels(all(b.asks, false), R"(,"0","1")") + R"(,"bids":)" + levels(all(b.bids, true), R"(,"0","1")") +
               R"(,"ts":"1760000000000","checksum":)" + std::to_string(okx_checksum(b)) + R"(,"prevSeqId":-1,"seqId":)" +
               std::to_string(1000 + k) + "}]}";
      case Dialect::bybit:
        return R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1760000000000,"data":{"s":"BTCUSDT","b":)" +
               levels(all(b.bids, true)) + R"(,"a":)" + levels(all(b.asks, false)) + R"(,"u":)" + std::to_string(1000 + k) +
               R"(,"seq":)" + std::to_string(5000 + k) + R"(},"cts":1760000000000})";
      case Dialect::coinbase:
        return coinbase_l2("snapshot", all(b.bids, true), all(b.asks, false));
      case Dialect::kraken_spot:
        return kraken_book("snapshot", all(b.bids, true), all(b.asks, false), kraken_checksum(b), "2026-04-07T14:30:01.456789Z");
      case Dialect::kraken_futures: {  // levels as {"price":p,"qty":q} JSON numbers
        const auto objects = [](const std::vector<Level>& ls) {
          std::string s = "[";
          for (const Level& l : ls) s += (s.size() > 1 ? "," : "") + std::string(R"({"price":)") + px_text(l.px) + R"(,"qty":)" + qty_text(l.qty) + "}";
          return s + "]";
        };
        return R"({"feed":"book_snapshot","product_id":"PF_XBTUSD","timestamp":1760000000000,"seq":)" + std::to_string(1000 + k) +
               R"(,"tickSize":null,"bids":)" + objects(all(b.bids, true)) + R"(,"asks":)" + objects(all(b.asks, false)) + "}";
      }
      default:
        return {};
    }
  }

  // The REST depth body after `k` diffs (Binance, KuCoin).
  std::string rest_snapshot(std::size_t k) const {
    const Book& b = books_.at(k);
    if (d_ == Dialect::binance_usdm)  // lastUpdateId inside the next diff's range [10k+11, 10k+20]
      return R"({"lastUpdateId":)" + std::to_string(10 * k + 11) + R"(,"E":1760000000000,"T":1760000000000,"bids":)" +
             levels(all(b.bids, true)) + R"(,"asks":)" + levels(all(b.asks, false)) + "}";
    if (d_ == Dialect::binance_coinm)  // COIN-M's body names its symbol and pair
      return R"({"lastUpdateId":)" + std::to_string(10 * k + 11) +
             R"(,"symbol":"BTCUSD_PERP","pair":"BTCUSD","E":1760000000000,"T":1760000000000,"bids":)" +
             levels(all(b.bids, true)) + R"(,"asks":)" + levels(all(b.asks, false)) + "}";
    if (d_ == Dialect::binance_spot)  // spot: lastUpdateId and the levels only
      return R"({"lastUpdateId":)" + std::to_string(10 * k + 11) + R"(,"bids":)" + levels(all(b.bids, true)) +
             R"(,"asks":)" + levels(all(b.asks, false)) + "}";
    if (d_ == Dialect::kucoin_spot)
      return R"({"code":"200000","data":{"time":1760000000000,"sequence":")" + std::to_string(kucoin_seq_before(k + 1)) +
             R"(","bids":)" + levels(all(b.bids, true)) + R"(,"asks":)" + levels(all(b.asks, false)) + "}}";
    if (d_ == Dialect::kucoin_futures) {  // numbers, not strings; sequence = the last change in the book
      const auto numbers = [](const std::vector<Level>& ls) {
        std::string s = "[";
        for (const Level& l : ls) s += (s.size() > 1 ? ",[" : "[") + px_text(l.px) + "," + qty_text(l.qty) + "]";
        return s + "]";
      };
      return R"({"code":"200000","data":{"sequence":)" + std::to_string(1000 + k) + R"(,"symbol":"XBTUSDTM","bids":)" +
             numbers(all(b.bids, true)) + R"(,"asks":)" + numbers(all(b.asks, false)) + R"(,"ts":1760000000000000000}})";
    }
    return R"({"code":"404"})";
  }

  // The venue's answers to a client frame, at the cursor when it arrived.
  std::vector<std::string> answer(const std::string& text, std::size_t k) const {
    const bool unsub = text.find("\"unsubscribe\"") != std::string::npos;
    const bool sub = !unsub && text.find("\"subscribe\"") != std::string::npos;
    switch (d_) {
      case Dialect::okx:
        if (unsub) return {R"({"event":"unsubscribe","arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"connId":"t1"})"};
        if (sub) return {R"({"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"connId":"t1"})", stream_snapshot(k)};
        return {};
      case Dialect::bybit:
        if (text.find(R"("op":"ping")") != std::string::npos)
          return {R"({"success":true,"ret_msg":"pong","conn_id":"t1","op":"ping"})"};
        if (unsub) return {R"({"success":true,"ret_msg":"","conn_id":"t1","op":"unsubscribe"})"};
        if (sub) return {R"({"success":true,"ret_msg":"","conn_id":"t1","op":"subscribe"})", stream_snapshot(k)};
        return {};
      case Dialect::coinbase:
        if (sub && text.find("level2") != std::string::npos)
          return {R"({"channel":"subscriptions","client_id":"","timestamp":"2026-04-07T14:30:01.456789Z","sequence_num":{SEQ},"events":[{"subscriptions":{"level2":["BTC-USD"]}}]})",
                  stream_snapshot(k)};
        if (sub)
          return {R"({"channel":"heartbeats","client_id":"","timestamp":"2026-04-07T14:30:01.456789Z","sequence_num":{SEQ},"events":[{"current_time":"2026-04-07 14:30:01.4 +0000 UTC","heartbeat_counter":1}]})"};
        return {};
      case Dialect::kucoin_spot:
      case Dialect::kucoin_futures:
        if (sub) return {R"({"id":"1","type":"ack"})"};
        return {};
      case Dialect::kraken_spot:
        if (unsub)
          return {R"({"method":"unsubscribe","result":{"channel":"book","depth":100,"symbol":"BTC/USD"},"success":true,)"
                  R"("time_in":"2026-04-07T14:30:01.456789Z","time_out":"2026-04-07T14:30:01.456800Z"})"};
        if (sub)  // the answer, the snapshot at the cursor, and the heartbeat that every subscription starts
          return {R"({"method":"subscribe","result":{"channel":"book","depth":100,"snapshot":true,"symbol":"BTC/USD"},)"
                  R"("success":true,"time_in":"2026-04-07T14:30:01.456789Z","time_out":"2026-04-07T14:30:01.456800Z"})",
                  stream_snapshot(k), R"({"channel":"heartbeat"})"};
        return {};
      case Dialect::kraken_futures:  // pings are control frames: the server's WebSocket layer answers them
        if (text.find(R"("feed":"heartbeat")") != std::string::npos) {
          if (sub) return {R"({"event":"subscribed","feed":"heartbeat"})", R"({"feed":"heartbeat","time":1760000000000})"};
          return {};
        }
        if (unsub) return {R"({"event":"unsubscribed","feed":"book","product_ids":["PF_XBTUSD"]})"};
        if (sub) return {R"({"event":"subscribed","feed":"book","product_ids":["PF_XBTUSD"]})", stream_snapshot(k)};
        return {};
      case Dialect::binance_usdm:
      case Dialect::binance_coinm:
      case Dialect::binance_spot:
        return {};
    }
    return {};
  }

  struct History {
    std::vector<Book> books;     // books[k]: after k diffs
    std::vector<Change> changes; // changes[i-1]: diff i
    std::vector<std::string> frames;
  };
  static std::shared_ptr<History> shared_history(Dialect d, std::size_t updates, std::uint32_t seed) {
    static std::mutex m;
    static std::map<std::tuple<Dialect, std::size_t, std::uint32_t>, std::shared_ptr<History>> made;
    const std::lock_guard<std::mutex> lock(m);
    auto& h = made[{d, updates, seed}];
    if (!h) h = std::make_shared<History>();
    return h;
  }

  Dialect d_;
  std::shared_ptr<History> h_;
  std::vector<Book>& books_ = h_->books;
  std::vector<Change>& changes_ = h_->changes;
  std::vector<std::string>& frames_ = h_->frames;
};

}  // namespace enigma::testing
