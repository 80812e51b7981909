// Live-suite cases written once and run against every venue's `run_live` rig (tests/engine/live_*_test.cpp):
// the rig drives the engine as `enigma live` would against that venue's local TLS test venue (FakeBybit,
// FakeOkx, ...), and a small traits struct names what each venue's test venue calls differently.
//
// A rig `Run` has: `venue` (the test venue), `market` (the market-data WsTestServer), `core`
// (unique_ptr<TradingCore>), `admin` (the admin ring) and `finish()`; its LiveGateway is passed beside it.
// The test venue has: lose_next_order_answer, reject_next_orders, drop_streams, fill_resting, bodies(),
// fills(), bad_signatures(), set_key_can_withdraw. `Traits` has:
//   static std::string resting_entry(const V&)   an open, untriggered, not reduce-only limit order's client id
//   static bool flat(const V&)                   no position and no working order at the venue
//   static long double fee_paid(const Fill&)     a fill's fee as the engine books it (positive = paid)
//   static std::vector<std::string> client_ids(const V&)   the client ids of the orders the venue booked
//   static constexpr std::string_view kIdKey     what precedes the client id in an order request's body (a
//                                                 JSON key, or a form field for Binance); bodies() without it,
//                                                 e.g. the dead-man's, are not order requests
//   static int order_posts(const V&)             new-order requests that reached the venue, refused ones too
//   static void rate_limit_next(V&)              the venue answers the next request with its rate-limit refusal
//   static constexpr bool kResumesWithinSeconds  whether that refusal's back-off ends within seconds (not, e.g.,
//                                                 at the end of KuCoin's 30 s window)
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/logger.hpp"
#include "engine/admin.hpp"
#include "engine/live_gateway.hpp"
#include "engine/trading_core.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/ws_test_server.hpp"

namespace enigma::testing {

// The reconciliation.json of the run under `runs` once the start-up read the venue (it has the venue's
// balance and is complete), else empty.
inline std::string venue_reconciliation(const std::string& runs) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(runs, ec)) {
    if (!e.is_directory() || e.is_symlink()) continue;
    const std::string j = slurp(e.path() / "reconciliation.json");
    if (j.find("\"balance\"") != std::string::npos && j.size() > 2 && j.substr(j.size() - 2) == "}\n") return j;
  }
  return {};
}

// The engine's log for one case, in the test's scratch directory (kept when the run fails), installed as the
// global logger while it lives; a failed check prints its tail, so a failure seen only on CI can be read there.
class CaseLog {
 public:
  CaseLog() : path_(fresh_path("engine") + ".log"), logger_(options(path_)) { Logger::set_global(&logger_); }
  ~CaseLog() { Logger::set_global(nullptr); }
  CaseLog(const CaseLog&) = delete;
  CaseLog& operator=(const CaseLog&) = delete;
  // True once a line written so far contains `text`.
  bool contains(std::string_view text) {
    logger_.flush();
    return slurp(path_).find(text) != std::string::npos;
  }
  // The lines written so far that contain `text`.
  std::vector<std::string> lines_with(std::string_view text) {
    logger_.flush();
    std::istringstream in(slurp(path_));
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      if (line.find(text) != std::string::npos) out.push_back(std::move(line));
    return out;
  }
  // The last `n` lines written so far (but the kill switch's refusals of new entries, one per frame).
  std::string tail(std::size_t n) {
    logger_.flush();
    std::istringstream in(slurp(path_));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
      if (line.find("reason=kill_switch") == std::string::npos) lines.push_back(std::move(line));  // the latch's refusals
    std::string out = "last lines of " + path_ + ":\n";
    for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += lines[i] + "\n";
    return out;
  }

 private:
  static LoggerOptions options(const std::string& path) {
    LoggerOptions o;
    o.path = path;
    o.install_signal_handlers = false;
    return o;
  }
  std::string path_;
  Logger logger_;
};

// The engine's working orders, one per line (client id, status, type, reduce-only, filled / qty).
inline std::string working_orders_text(engine::TradingCore& core) {
  std::ostringstream out;
  for (const oms::OrderState& o : core.order_manager().orders())
    if (oms::is_working(o.status))
      out << "working: " << o.client_id().view() << ' ' << oms::to_string(o.status) << " type="
          << risk::to_string(o.spec.req.type) << " reduce_only=" << o.spec.req.reduce_only << " filled="
          << o.filled.to_string() << '/' << o.spec.req.qty.to_string() << '\n';
  return out.str();
}

// Sends `n` more market-data frames and waits until the market server has written them.
template <class Run>
void feed_frames(Run& t, std::size_t& sent, std::size_t n) {
  t.market.send_next(n);
  sent += n;
  wait_for([&] { return t.market.cursor() == sent; });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// The client ids of the order requests the venue received, in order (other requests, e.g. the dead-man's, have
// none).
template <class Traits, class V>
std::vector<std::string> order_ids(const V& venue) {
  std::vector<std::string> ids;
  for (const std::string& b : venue.bodies())
    if (const std::size_t at = b.find(Traits::kIdKey); at != std::string::npos) {
      const std::size_t from = at + Traits::kIdKey.size();
      ids.push_back(b.substr(from, b.find_first_of("\"&", from) - from));  // a JSON string or a form value
    }
  return ids;
}

// The engine's fees and the venue's for every fill, summed (positive = paid).
template <class Traits, class V>
std::pair<long double, long double> fee_totals(const V& venue, const engine::TradingCore& core) {
  long double venue_fees = 0, our_fees = 0;
  for (const auto& f : venue.fills()) venue_fees += Traits::fee_paid(f);
  for (const auto& tr : core.trades()) our_fees += std::stold(tr.fee.to_string());
  return {venue_fees, our_fees};
}

// The kill (admin command) and the rest of the market data; true once the venue is flat with no working order.
template <class Traits, class Run>
bool kill_until_flat(Run& t, std::size_t sent, std::size_t updates) {
  if (!t.admin.try_push(engine::AdminCommand{engine::AdminCommandKind::kill, 1})) return false;
  t.market.send_next(updates - sent);
  return wait_for([&] { return Traits::flat(t.venue); }, 10000);
}

// `pred()` now, and again after 300 ms without a frame: what the engine was still working on when it first
// held (it decides only on frames) has not changed it.
template <class Pred>
bool still_true_after_a_pause(Pred pred) {
  if (!pred()) return false;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return pred();
}

// A case's engine threads end before its log does, however the case ends (an ASSERT returns early).
template <class Run>
struct FinishAtExit {
  Run& t;
  ~FinishAtExit() { t.finish(); }
};

// Once the engine has stopped after the kill: its trades are the venue's fills, with the venue's fees to the
// digit, and it is flat with nothing working.
template <class Traits, class V>
void expect_the_venues_record(const V& venue, engine::TradingCore& core, CaseLog& log) {
  ASSERT_EQ(core.trades().size(), venue.fills().size());
  const auto [venue_fees, our_fees] = fee_totals<Traits>(venue, core);
  EXPECT_NEAR(static_cast<double>(our_fees), static_cast<double>(venue_fees), 1e-9);
  EXPECT_EQ(core.position(0).qty, Qty{});
  EXPECT_EQ(core.working_orders(), 0u) << working_orders_text(core) << log.tail(60);
}

// The first half of a restart case through the binary: `enigma live` with `args` (output to `out`) trades on
// market data sent in bursts of 10 frames until `bracket()` names both protective legs resting at the venue
// ({stop-loss, take-profit}) while `position_open()`, then is SIGKILLed: no shutdown sequence, so the bracket
// stays at the venue for what the test does while the engine is down. The legs' ids go to `legs`.
template <class Bracket, class Open>
void trade_until_bracket_then_kill(const std::vector<std::string>& args, const std::string& out, WsTestServer& market,
                                   std::size_t updates, Bracket bracket, Open position_open,
                                   std::pair<std::string, std::string>& legs) {
  Child first(args, out);
  ASSERT_TRUE(wait_for([&] { return market.live(); }, 30000)) << first.output();
  // Small bursts, and none once the bracket rests with the position open: the strategy's exits are decided
  // on frames, so the position stays open until the kill.
  const auto protected_position = [&] { return !bracket().first.empty() && !bracket().second.empty() && position_open(); };
  // Protected, and still so once the engine has worked through the burst it was given: a frame of that burst
  // may yet decide an exit (seen under ASan, where the engine lags the test), and without frames nothing more is
  // decided.
  const auto settled = [&] { return still_true_after_a_pause(protected_position); };
  std::size_t sent = 0;
  while (sent + 100 < updates && !settled()) {
    market.send_next(10);
    sent += 10;
    wait_for([&] { return market.cursor() == sent; });
    wait_for(protected_position, 20);
  }
  legs = bracket();
  ASSERT_FALSE(legs.first.empty()) << first.output();
  ASSERT_FALSE(legs.second.empty()) << first.output();
  ASSERT_EQ(::kill(first.pid, SIGKILL), 0);
  EXPECT_EQ(first.wait(), 128 + SIGKILL);
}

// Continuity, through run_live with resting entries (the rig built with EntryMode::level):
//  1. the first order is refused by the venue (its default margin code): a venue reject for margin;
//  2. the next order's answer is lost (HTTP 500; the venue booked it): UNKNOWN until the engine's query by
//     client id resolves it;
//  3. a resting entry fills while the private stream is down (its push goes to nobody): found after the
//     reconnect, when the engine queries its working orders, and booked with the venue's fee.
// After the kill, the engine's trades, fees and position equal the venue's own record, the venue is flat,
// and no order the venue booked is UNKNOWN to the engine.
template <class Traits, class Run>
void reject_lost_answer_and_missed_fill(Run& t, engine::LiveGateway& gateway, std::size_t updates, const char* name) {
  CaseLog log;
  const FinishAtExit<Run> finish{t};
  auto& venue = t.venue;
  std::size_t sent = 1;
  const auto order_ids = [&] { return enigma::testing::order_ids<Traits>(venue); };
  const std::size_t before = order_ids().size();  // orders sent with the first frames, before the fault
  venue.reject_next_orders(1);
  while (sent + 200 < updates && order_ids().size() <= before) feed_frames(t, sent, 50);
  ASSERT_GT(order_ids().size(), before) << "no order in " << sent << " frames";
  const std::string rejected = order_ids()[before];
  venue.lose_next_order_answer(500);
  const std::size_t asked = order_ids().size();
  while (sent + 200 < updates && order_ids().size() <= asked) feed_frames(t, sent, 20);
  std::string entry;
  while (sent + 200 < updates && (entry = Traits::resting_entry(venue)).empty()) feed_frames(t, sent, 20);
  ASSERT_FALSE(entry.empty()) << "no resting entry in " << sent << " frames";
  const std::size_t fills_before = venue.fills().size();
  const std::uint64_t connects = gateway.stats().stream_connects.load();
  venue.drop_streams();
  ASSERT_TRUE(wait_for([&] { return !gateway.stream_connected(); }));
  ASSERT_TRUE(venue.fill_resting(entry));  // pushed to nobody
  ASSERT_TRUE(wait_for([&] { return gateway.stream_connected() && gateway.stats().stream_connects.load() > connects; }, 10000));
  ASSERT_GT(venue.fills().size(), fills_before);
  feed_frames(t, sent, 100);
  ASSERT_TRUE(kill_until_flat<Traits>(t, sent, updates)) << "the venue still holds a position or a working order after the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  t.finish();

  EXPECT_EQ(venue.bad_signatures(), 0);
  engine::TradingCore& core = *t.core;
  const auto& c = core.counters();
  std::printf("%s: %zu order requests, %zu fills, venue rejects %llu, unknown outcomes %llu, queries %llu, "
              "reconnect reconciliations %llu\n",
              name, order_ids().size(), venue.fills().size(), static_cast<unsigned long long>(c.venue_rejects),
              static_cast<unsigned long long>(c.unknown_outcomes), static_cast<unsigned long long>(c.queries),
              static_cast<unsigned long long>(c.reconnect_reconciliations));
  const oms::OrderState* r = core.order(risk::ClientOrderId::from(rejected).value);
  ASSERT_NE(r, nullptr) << rejected;
  EXPECT_EQ(r->status, oms::OrderStatus::rejected);
  EXPECT_EQ(r->reason, oms::Reason::insufficient_margin);
  EXPECT_GE(c.unknown_outcomes, 1u);
  EXPECT_GE(c.reconnect_reconciliations, 1u);
  // The missed fill and every other one are the engine's trades, with the venue's fees to the digit.
  expect_the_venues_record<Traits>(venue, core, log);
  bool entry_booked = false;
  for (const auto& tr : core.trades()) entry_booked = entry_booked || tr.client_id.view() == entry;
  EXPECT_TRUE(entry_booked) << entry;
  EXPECT_EQ(core.risk().kill_switch().orders().size(), 0u) << "orders still reserved in the risk gate";
  for (const std::string& id : Traits::client_ids(venue)) {
    const oms::OrderState* s = core.order(risk::ClientOrderId::from(id).value);
    ASSERT_NE(s, nullptr) << id;
    EXPECT_NE(s->status, oms::OrderStatus::unknown) << id;
  }
}

// A fill pushed after a reconnect but before the venue has taken the order channel's subscription again
// reaches no one: through run_live with resting entries, the test venue holds the new connection's
// subscription while a resting entry fills, then takes it. The engine queries its working orders once the
// subscription is answered (not at the connect, which would ask before the fill), and books the fill there,
// with the venue's fee, before any kill or cancel could turn it up. Needs the test venue's
// hold_subscriptions / release_subscriptions / held_subscriptions.
template <class Traits, class Run>
void a_fill_before_the_resubscription_is_found_by_query(Run& t, engine::LiveGateway& gateway, std::size_t updates) {
  CaseLog log;
  const FinishAtExit<Run> finish{t};
  auto& venue = t.venue;
  std::size_t sent = 1;
  std::string entry;
  while (sent + 200 < updates && (entry = Traits::resting_entry(venue)).empty()) feed_frames(t, sent, 20);
  ASSERT_FALSE(entry.empty()) << "no resting entry in " << sent << " frames";
  const std::uint64_t connects = gateway.stats().stream_connects.load();
  venue.hold_subscriptions();
  venue.drop_streams();
  ASSERT_TRUE(wait_for([&] { return gateway.stats().stream_connects.load() > connects && venue.held_subscriptions() > 0; }, 10000))
      << "no new private connection asked for its subscription";
  // Whatever the engine asks at the connect is answered before the fill.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::size_t fills_before = venue.fills().size();
  ASSERT_TRUE(venue.fill_resting(entry));  // pushed to nobody: no subscription is in force
  ASSERT_GT(venue.fills().size(), fills_before);
  venue.release_subscriptions();
  const std::string booked = "order_status id=" + entry + " status=FILLED";
  EXPECT_TRUE(wait_for([&] { return log.contains(booked); }, 10000))
      << "the entry's fill was not found after the subscription was answered\n" << log.tail(40);
  // Found by that query, not later when a cancel of the entry is refused as "already gone" (that settles an
  // order too, seconds on, once the entry's time is up).
  EXPECT_FALSE(log.contains("cancel_rejected id=" + entry)) << "the fill was found only after a refused cancel\n" << log.tail(40);
  feed_frames(t, sent, 50);
  ASSERT_TRUE(kill_until_flat<Traits>(t, sent, updates)) << "the venue still holds a position or a working order after the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  t.finish();
  expect_the_venues_record<Traits>(venue, *t.core, log);
}

// The venue's rate-limit refusal, through run_live (Binance: 429 with Retry-After; KuCoin: 429000 with
// gw-ratelimit-reset; Bybit: retCode 10006 with X-Bapi-Limit-Reset-Timestamp; OKX: 429, 50011, until the window
// rolls): new orders are then refused here (counted, logged with cause=backing_off) and none of them reaches
// the venue; once the venue's window has passed, orders reach it again (where it passes within seconds). The
// kill leaves the venue flat, and the engine's trades and fees are the venue's.
template <class Traits, class Run>
void a_rate_limit_answer_backs_off_new_orders(Run& t, engine::LiveGateway& gateway, std::size_t updates) {
  CaseLog log;
  const FinishAtExit<Run> finish{t};
  auto& venue = t.venue;
  std::size_t sent = 1;
  // The limit meets an entry made while flat, so the strategy keeps signalling through the back-off: armed once
  // the venue is flat with nothing of ours working and the engine has had no frame for a moment (nothing of
  // ours in flight: it decides only on frames), not while an entry is on its way (its bracket would meet it).
  const auto settled_flat = [&] { return still_true_after_a_pause([&] { return Traits::flat(venue); }); };
  while (sent + 300 < updates && !settled_flat()) feed_frames(t, sent, 20);
  ASSERT_TRUE(Traits::flat(venue)) << "the venue never was flat in " << sent << " frames";
  Traits::rate_limit_next(venue);
  while (sent + 300 < updates && gateway.stats().http_429.load() == 0) feed_frames(t, sent, 20);
  ASSERT_EQ(gateway.stats().http_429.load(), 1u) << "no request met the venue's limit in " << sent << " frames ("
                                                 << Traits::order_posts(venue) << " orders)\n" << log.tail(20);
  const auto limited_at = std::chrono::steady_clock::now();
  // Market data through the back-off: the strategy keeps signalling, the gateway refuses its entries.
  while (sent + 300 < updates && gateway.stats().backoff_refusals.load() == 0) feed_frames(t, sent, 20);
  ASSERT_GE(gateway.stats().backoff_refusals.load(), 1u) << "no entry was held back in " << sent << " frames";
  const std::vector<std::string> limited = log.lines_with("venue_rate_limited ");
  ASSERT_EQ(limited.size(), 1u) << log.tail(30);
  const std::size_t ms_at = limited[0].find("backoff_ms=");
  ASSERT_NE(ms_at, std::string::npos) << limited[0];
  const long backoff_ms = std::stol(limited[0].substr(ms_at + 11));
  EXPECT_GT(backoff_ms, 0) << limited[0];
  if constexpr (Traits::kResumesWithinSeconds) {
    EXPECT_LE(backoff_ms, 10000) << limited[0];
    // Orders only once the venue's window has passed.
    std::this_thread::sleep_until(limited_at + std::chrono::milliseconds(std::min<long>(backoff_ms, 10000) + 100));
    const int before_resume = Traits::order_posts(venue);
    while (sent + 200 < updates && Traits::order_posts(venue) == before_resume) feed_frames(t, sent, 20);
    ASSERT_GT(Traits::order_posts(venue), before_resume) << "no order reached the venue after the back-off";
  }
  ASSERT_TRUE(kill_until_flat<Traits>(t, sent, updates)) << "the venue still holds a position or a working order after the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Each entry refused while backing off never reached the venue.
  const std::vector<std::string> sent_ids = order_ids<Traits>(venue);
  std::size_t refused = 0;
  for (const std::string& line : log.lines_with("request_refused_locally id=")) {
    if (line.find("cause=backing_off") == std::string::npos) continue;
    const std::size_t from = line.find("id=") + 3;
    const std::string id = line.substr(from, line.find(' ', from) - from);
    ++refused;
    EXPECT_EQ(std::find(sent_ids.begin(), sent_ids.end(), id), sent_ids.end()) << id << " reached the venue inside the back-off";
  }
  EXPECT_GE(refused, 1u) << log.tail(30);
  t.finish();
  EXPECT_EQ(venue.bad_signatures(), 0);
  engine::TradingCore& core = *t.core;
  EXPECT_EQ(core.counters().venue_http_429, 1u);
  EXPECT_GE(core.counters().venue_rate_refusals, 1u);
  EXPECT_EQ(core.counters().venue_http_418, 0u);
  expect_the_venues_record<Traits>(venue, core, log);
}

// The plan's hard limit "no withdrawal API permissions", through the binary: `enigma live` (`args`, output to
// `out`) with a key the venue says can withdraw exits 3 before any order, saying why; the permission request
// is signed like the others. The venue's key can no longer withdraw afterwards. Needs the test venue's
// set_key_can_withdraw.
template <class Traits, class V>
void a_key_that_can_withdraw_is_refused(V& venue, const std::vector<std::string>& args, const std::string& out) {
  venue.set_key_can_withdraw(true);
  Child engine(args, out);
  const int code = engine.wait();
  venue.set_key_can_withdraw(false);
  const std::string said = engine.output();
  EXPECT_EQ(code, 3) << said;
  EXPECT_NE(said.find("refusing to trade with an API key that can move funds out of the account"), std::string::npos) << said;
  EXPECT_EQ(Traits::order_posts(venue), 0) << "an order reached the venue with a key that can withdraw";
  EXPECT_EQ(venue.bad_signatures(), 0) << "the permission request is signed like the others";
}

// Credentials the venue refuses, through run_live (the rig started with a secret the venue does not know, so
// every signed request fails its signature check): the first refusal raises the engine's emergency stop for
// credentials; the gate halts, and however much market data follows, no new order reaches the venue and none
// was carried out.
template <class Traits, class Run>
void refused_credentials_raise_the_emergency_stop(Run& t, std::size_t updates) {
  CaseLog log;
  const FinishAtExit<Run> finish{t};
  auto& venue = t.venue;
  std::size_t sent = 1;
  while (sent + 100 < updates && venue.bad_signatures() == 0) feed_frames(t, sent, 50);
  ASSERT_GE(venue.bad_signatures(), 1) << "no order reached the venue in " << sent << " frames";
  // The refusal reaches the engine, and the answers of requests already in flight come back (an order may
  // leave while the refusal is on its way; none after it).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int orders = Traits::order_posts(venue);
  t.market.send_next(updates - sent);  // more market data: the strategy keeps signalling
  EXPECT_TRUE(wait_for([&] { return t.market.cursor() == updates; }, 20000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Counted before the stop, whose own requests (the dead-man's disarm) are refused too.
  EXPECT_EQ(Traits::order_posts(venue), orders) << "orders went out after the venue refused the credentials";
  t.finish();
  EXPECT_EQ(t.core->emergency_count(engine::EmergencyCause::credentials), 1u);
  EXPECT_EQ(t.core->risk().state(), risk::TradingState::halted);
  EXPECT_GT(t.core->counters().risk_rejects, 0u) << "the strategy kept signalling and the halted gate refused it";
  EXPECT_TRUE(Traits::client_ids(venue).empty()) << "an order was carried out";
  EXPECT_EQ(t.core->position(0).qty, Qty{}) << log.tail(30);
}

}  // namespace enigma::testing
