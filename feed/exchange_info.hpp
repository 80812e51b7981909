// The venue's instrument list (cold path, start-up): the answer of its exchange-info REST endpoint saved as a
// file (plain, .gz, .zip or .zst), read into instrument specs (tick, lot, minimum and maximum size, kind, and
// for linear contracts the base amount per contract). They fill in what `[[instrument]]` leaves out, are
// checked against what it gives, and give the symbols a capture introduces their tick and lot.
//
//   binance-usdm / -coinm / -spot   GET /fapi/v1/exchangeInfo, /dapi/v1/exchangeInfo, /api/v3/exchangeInfo:
//                                   symbols[]: PRICE_FILTER tickSize, LOT_SIZE stepSize / minQty / maxQty
//   kucoin-futures                  GET /api/v1/contracts/active: data[]: tickSize, lotSize, multiplier
//   kucoin-spot                     GET /api/v1/symbols (or /api/v2/symbols): data[]: priceIncrement,
//                                   baseIncrement, baseMinSize, baseMaxSize
//   okx                             GET /api/v5/public/instruments?instType=...: data[]: tickSz, lotSz, minSz, ctVal
//   bybit                           GET /v5/market/instruments-info?category=...: result.list[]: priceFilter
//                                   tickSize, lotSizeFilter qtyStep (spot: basePrecision), minOrderQty, maxOrderQty
//
// Coinbase and Kraken have no reader yet (refused). Options (OKX, Bybit) are skipped and counted: enigma
// trades no option. The base amount per contract is read for linear contracts only (KuCoin `multiplier`,
// OKX `ctVal`); an inverse contract's is in the quote currency and stays the config's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/instrument.hpp"

namespace enigma::feed {

struct ExchangeInfo {
  std::vector<InstrumentSpec> specs;  // source = SpecSource::exchange_info
  std::size_t skipped_options{0};
  // Listed with a tick, lot or minimum size enigma's fixed point (10 decimals, 64 bits) cannot hold exactly
  // (OKX BABYDOGE-USDT-SWAP: tickSz 1e-11): skipped, named here. A maximum size above the range is no limit.
  std::vector<std::string> unrepresentable;
};

// Parses one answer body. Throws enigma::Error "WHERE: why" naming the entry (index and symbol) and the field
// for anything malformed: no silent drop. `where` names the file in messages.
[[nodiscard]] ExchangeInfo parse_exchange_info(Venue venue, std::string_view body, const std::string& where);

// Reads `path` (decompressed by its magic) and parses it; errors name the path.
[[nodiscard]] ExchangeInfo load_exchange_info(Venue venue, const std::string& path);

}  // namespace enigma::feed
