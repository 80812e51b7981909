// The account and matching core every loopback test venue shares (issue 17, "one venue kit"): an account with
// a balance, the fees it paid, realised PnL and one net position per symbol (signed size, average entry); the
// mark price each symbol matches against; the matching rules of an order on arrival (a market order and a
// limit that crosses the mark fill at the mark as taker unless post-only; IOC / FOK cancel what does not
// fill at once; the rest rests); reduce-only (only ever closes); fill splitting (set_fill_parts) and fee
// rates (maker / taker). Exact decimals (venue_text::Dec, tests/support/venue_decimal_json.hpp) by default; the
// templates also take KuCoin's integer lots and double prices (lots are KuCoin's unit, and its answers print
// doubles), so that fake shares the rules without a digit of its output changing. Header-only. Users: the
// Bybit, OKX and KuCoin fakes (all of it); the Binance fake only its fee rates (that venue has no mark or
// matching rule: an order fills whole at its own price).
//
// What stays in each fake is its venue's dialect: request parsing, signature check, the JSON of its answers
// and pushes, its statuses, cancel types and reject reasons, the order its pushes go out in, and the faults it
// injects. So the kit decides (what an arrival does, how a fill splits, what it books) and the fake says it
// (updates its own Order, pushes in its own shape) -- the fakes' orders stay their own structs because their
// fields are the venue's names, which the suites read.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/venue_decimal_json.hpp"

namespace enigma::testing::venue_kit {

using venue_text::Dec;
using venue_text::kOne;

// ---- Arithmetic ---------------------------------------------------------------------------------------------
// The products and quotients the rules need, in both representations: exact decimals (rounded to the 10th
// decimal, venue_text::mul / div) and KuCoin's integer lots with double prices (plain double arithmetic, in
// the order that fake always computed it).
inline Dec times(Dec a, Dec b) { return venue_text::mul(a, b); }
inline double times(double a, double b) { return a * b; }
inline double times(long long a, double b) { return static_cast<double>(a) * b; }
inline Dec over(Dec a, Dec b) { return venue_text::div(a, b); }
inline double over(double a, long long b) { return a / static_cast<double>(b); }
template <class T>
T magnitude(T v) {
  return v < 0 ? -v : v;
}

// ---- Matching rules ---------------------------------------------------------------------------------------
// Time in force as the kit knows it; each fake maps its own names (Bybit "PostOnly", OKX ord_type "post_only").
enum class Tif { gtc, ioc, fok, post_only };

// What an order does when it arrives (or when a conditional order triggers) against the mark.
enum class Arrival {
  fill,              // all of it at the mark, as taker (market, or a limit that crosses)
  rest,              // a limit that does not cross rests, maker-side
  cancel_post_only,  // a post-only limit that would cross (would take liquidity)
  cancel_ioc,        // IOC that does not cross: nothing fills at once
  cancel_fok,        // FOK that does not cross: it cannot fill in full at once
};

// The rule itself: a buy crosses at price >= mark, a sell at price <= mark.
template <class P>
Arrival on_arrival(bool buy, bool market, P price, Tif tif, P mark) {
  if (market) return Arrival::fill;
  const bool crosses = buy ? price >= mark : price <= mark;
  if (crosses) return tif == Tif::post_only ? Arrival::cancel_post_only : Arrival::fill;
  if (tif == Tif::ioc) return Arrival::cancel_ioc;
  if (tif == Tif::fok) return Arrival::cancel_fok;
  return Arrival::rest;
}

// How much of a reduce-only fill of `q` may go through against the net `position`: only what closes it
// (0: the order must be cancelled, it could only open or add).
template <class Q>
Q reduce_only_qty(bool buy, Q q, Q position) {
  const Q closable = buy ? -position : position;
  return std::min(q, std::max<Q>(0, closable));
}

// A fill of `q` split into at most `parts` executions on the `lot` grid, the larger parts first
// (5 lots in 2: 3 + 2); never more executions than lots, always at least one.
template <class Q>
std::vector<Q> split_fill(Q q, Q lot, int parts) {
  const Q lots = q / lot;
  const Q n = std::min<Q>(parts, std::max<Q>(1, lots));
  std::vector<Q> out;
  for (Q i = 0; i < n; ++i) out.push_back((lots / n + (i < lots % n ? 1 : 0)) * lot);
  return out;
}

// Fee rates, charged on an execution's value (qty * contract value * price). `R` std::string keeps the rates
// as the venue prints them (KuCoin), and the fake computes the charge its own way.
template <class R = Dec>
struct BasicFees {
  R taker{}, maker{};
  [[nodiscard]] const R& rate(bool is_maker) const { return is_maker ? maker : taker; }
  // The charge of one execution, positive (a fake that prints fees negative, as OKX, negates it).
  [[nodiscard]] R on(R value, bool is_maker) const { return times(value, rate(is_maker)); }
};
using Fees = BasicFees<>;

// The mark price per symbol: one default for every symbol until a symbol has its own. `P` std::string keeps
// the text as set (KuCoin prints it back verbatim as a match price).
template <class P = Dec>
struct BasicMarks {
  P fallback{};
  std::map<std::string, P> by_symbol;
  [[nodiscard]] P of(const std::string& symbol) const {
    const auto it = by_symbol.find(symbol);
    return it == by_symbol.end() ? fallback : it->second;
  }
  void set(const std::string& symbol, P px) { by_symbol[symbol] = std::move(px); }
  void set_all(P px) {  // a new default, and no symbol keeps its own
    fallback = std::move(px);
    by_symbol.clear();
  }
};
struct Marks : BasicMarks<> {
  Marks() { fallback = 60000 * kOne; }
};

// ---- Account ------------------------------------------------------------------------------------------------
// One net position: signed size (negative short; contracts or base coin, as the venue counts), its average
// entry price and the PnL its closes realised.
template <class Q = Dec, class P = Dec>
struct BasicPosition {
  Q qty{0};
  P entry{0};
  P realised{0};
};
using Position = BasicPosition<>;

// What booking one fill did: how much of the position it closed and the PnL that realised.
template <class Q = Dec, class P = Dec>
struct Booked {
  Q closed{0};
  P pnl{0};
};

// Books a signed fill at `px` into `p`; `multiplier` is the base coin per unit of qty (a contract value or
// multiplier; kOne when qty is already in base coin). Opening or adding averages the entry; closing realises
// closed * multiplier * (px - entry) (sign of the position); a fill past zero flips, the rest opened at px.
template <class Q, class P>
Booked<Q, P> book(BasicPosition<Q, P>& p, Q signed_qty, P px, P multiplier) {
  if (p.qty == 0 || (p.qty > 0) == (signed_qty > 0)) {  // opens or adds
    const P cost = times(magnitude(p.qty), p.entry) + times(magnitude(signed_qty), px);
    p.qty += signed_qty;
    p.entry = over(cost, magnitude(p.qty));
    return {};
  }
  const Q closed = std::min(magnitude(p.qty), magnitude(signed_qty));
  const P pnl = times(times(closed, multiplier), px - p.entry) * (p.qty > 0 ? 1 : -1);
  p.realised += pnl;
  p.qty += signed_qty;
  if (p.qty == 0)
    p.entry = 0;
  else if ((p.qty > 0) == (signed_qty > 0))
    p.entry = px;  // flipped: the rest opened at px
  return {closed, pnl};
}

// A single-currency (USDT) margin account in exact decimals. `Pos` is kit::Position or a fake's struct
// derived from it with the venue's own position fields (ids, times).
template <class Pos = Position>
struct Account {
  Dec balance{10000 * kOne};
  Dec fees_paid{0};  // positive: what the fees took
  Dec realised{0};   // every position's realised PnL together
  std::map<std::string, Pos> positions;

  // Books one execution: the position, the realised PnL and the fee.
  Booked<> book_fill(const std::string& symbol, Dec signed_qty, Dec px, Dec fee, Dec multiplier = kOne) {
    const Booked<> b = book<Dec, Dec>(positions[symbol], signed_qty, px, multiplier);
    realised += b.pnl;
    fees_paid += fee;
    return b;
  }
  [[nodiscard]] Dec position(const std::string& symbol) const {
    const auto it = positions.find(symbol);
    return it == positions.end() ? 0 : it->second.qty;
  }
  // The cash a wallet shows: start balance less fees plus realised PnL (no unrealised).
  [[nodiscard]] Dec cash() const { return balance - fees_paid + realised; }
};

}  // namespace enigma::testing::venue_kit
