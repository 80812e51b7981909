// Two events equal field by field (the fields of their type): struct padding copied from temporaries is
// indeterminate, so memcmp would not do. Used where two decode paths must give the same events.
#pragma once

#include "core/events.hpp"

namespace enigma::test {

inline bool same_event(const Event& x, const Event& y) {

  const auto& a = x.h;
  const auto& b = y.h;
  if (a.recv_tsc != b.recv_tsc || a.venue_time_ns != b.venue_time_ns || a.instrument != b.instrument ||
      a.venue != b.venue || a.type != b.type || a.aux != b.aux)
    return false;
  switch (a.type) {
    case EventType::book_batch: {
      const auto& p = x.batch;
      const auto& q = y.batch;
      return p.seq == q.seq && p.first_seq == q.first_seq && p.prev_seq == q.prev_seq && p.level_count == q.level_count &&
             p.checksum == q.checksum && p.kind == q.kind && p.has_prev_seq == q.has_prev_seq &&
             p.has_checksum == q.has_checksum;
    }
    case EventType::book_level:
      return x.level.price == y.level.price && x.level.qty == y.level.qty && x.level.side == y.level.side;
    case EventType::trade:
      return x.trade.price == y.trade.price && x.trade.qty == y.trade.qty && x.trade.trade_id == y.trade.trade_id &&
             x.trade.aggressor == y.trade.aggressor;
    case EventType::bbo:
      return x.bbo.seq == y.bbo.seq && x.bbo.bid_price == y.bbo.bid_price && x.bbo.bid_qty == y.bbo.bid_qty &&
             x.bbo.ask_price == y.bbo.ask_price && x.bbo.ask_qty == y.bbo.ask_qty;
    case EventType::candle:
      return x.candle.open == y.candle.open && x.candle.high == y.candle.high && x.candle.low == y.candle.low &&
             x.candle.close == y.candle.close && x.candle.volume == y.candle.volume;
    case EventType::mark:
      return x.mark.mark_price == y.mark.mark_price && x.mark.index_price == y.mark.index_price &&
             x.mark.funding_rate == y.mark.funding_rate && x.mark.next_funding_time_ns == y.mark.next_funding_time_ns;
    case EventType::status:
      return x.status.expected == y.status.expected && x.status.got == y.status.got && x.status.code == y.status.code;
    default: return false;  // no decoder makes another type
  }
}

}  // namespace enigma::test
