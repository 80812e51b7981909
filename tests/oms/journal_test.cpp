// Order journal: CRC-protected records, torn-tail handling, fsync policies, and a crash test: a child
// process journals orders, fills and positions and is SIGKILLed mid-run; the parent rebuilds state from
// the journal and compares it with what the child reported through a pipe.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "oms/journal.hpp"

namespace enigma::oms {
namespace {

std::string temp_path(const char* name) {
  std::string p = ::testing::TempDir() + name + std::to_string(::getpid()) + ".journal";
  std::remove(p.c_str());
  return p;
}

OrderSpec spec(ClientIdGenerator& ids, Side side, std::int64_t qty, std::uint32_t position_id) {
  OrderSpec o{};
  o.req.client_id = ids.next();
  o.req.instrument = 0;
  o.req.venue = Venue::kucoin_futures;
  o.req.side = side;
  o.req.qty = Qty::from_units(qty);
  o.req.price = Price::from_units(100);
  o.position_id = position_id;
  return o;
}

ExecReport report_for(const OrderState& o, ExecKind kind, Qty cum, Qty last) {
  ExecReport r{};
  r.client_id = o.client_id();
  r.kind = kind;
  r.cum_qty = cum;
  r.last_qty = last;
  r.last_px = Price::from_units(100);
  r.fee = Notional::from_raw(last.raw() / 100);
  return r;
}

TEST(OmsJournal, Crc32cKnownValueAndPortableFallbackAgree) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the standard CRC-32C check value (RFC 3720)
  EXPECT_EQ(crc32c_portable("123456789", 9), 0xE3069283u);
  unsigned char buf[kJournalRecordSize];
  for (std::size_t i = 0; i < sizeof buf; ++i) buf[i] = static_cast<unsigned char>(i * 37 + 11);
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 256u}) EXPECT_EQ(crc32c(buf, n), crc32c_portable(buf, n)) << n;
}

TEST(OmsJournal, RoundTripAndTornTailIsSkippedThenOverwritten) {
  const std::string path = temp_path("oms_torn_");
  ClientIdGenerator ids("t", 1);
  std::vector<OrderState> orders;
  {
    Journal j(path, {1024, FsyncPolicy::every_record, 0});
    for (int i = 0; i < 5; ++i) {
      OrderState o{};
      o.spec = spec(ids, Side::buy, 10, 0);
      ASSERT_EQ(j.append_order(o.spec, ids.next_counter(), i), Errc::ok);
      orders.push_back(o);
    }
    ASSERT_EQ(j.append_report(report_for(orders[0], ExecKind::fill, Qty::from_units(4), Qty::from_units(4)), 10), Errc::ok);
    ASSERT_EQ(j.append_report(report_for(orders[1], ExecKind::accepted, {}, {}), 11), Errc::ok);
    ASSERT_EQ(j.append_cancel(orders[2].client_id(), 12), Errc::ok);
    ASSERT_EQ(j.records(), 8u);
  }
  JournalReplay r = Journal::replay(path);
  EXPECT_EQ(r.records, 8u);
  EXPECT_FALSE(r.torn_tail);
  ASSERT_EQ(r.orders.size(), 5u);
  EXPECT_EQ(r.orders[0].status, OrderStatus::partially_filled);
  EXPECT_EQ(r.orders[0].filled, Qty::from_units(4));
  EXPECT_EQ(r.orders[1].status, OrderStatus::accepted);
  EXPECT_EQ(r.orders[2].status, OrderStatus::unknown);  // cancel sent, no answer: must be queried
  EXPECT_EQ(r.orders[3].status, OrderStatus::unknown);  // sent, no answer
  EXPECT_EQ(r.next_client_counter, 6u);
  EXPECT_EQ(r.open_orders().size(), 5u);

  // Tear the last record: flip one payload byte, as a crash mid-write would leave it.
  {
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const off_t at = static_cast<off_t>(8 * kJournalRecordSize + 100);  // record 8 (slot 0 is the header)
    unsigned char b = 0;
    ASSERT_EQ(::pread(fd, &b, 1, at), 1);
    b ^= 0x5A;
    ASSERT_EQ(::pwrite(fd, &b, 1, at), 1);
    ::close(fd);
  }
  r = Journal::replay(path);
  EXPECT_EQ(r.records, 7u);
  EXPECT_TRUE(r.torn_tail);
  EXPECT_EQ(r.orders[2].status, OrderStatus::unknown);  // it was only sent
  {
    Journal j(path, {1024, FsyncPolicy::none, 0});
    EXPECT_TRUE(j.opened_with_torn_tail());
    EXPECT_EQ(j.records(), 7u);
    ASSERT_EQ(j.append_report(report_for(orders[2], ExecKind::canceled, {}, {}), 20), Errc::ok);
  }
  r = Journal::replay(path);
  EXPECT_EQ(r.records, 8u);
  EXPECT_FALSE(r.torn_tail);
  EXPECT_EQ(r.orders[2].status, OrderStatus::canceled);
  std::remove(path.c_str());
}

TEST(OmsJournal, HeaderNotYetWrittenIsTorn) {
  const std::string path = temp_path("oms_hdr_");
  ClientIdGenerator ids("h", 1);
  {
    Journal j(path, {16, FsyncPolicy::interval, 1'000'000});
    ASSERT_EQ(j.append_order(spec(ids, Side::buy, 1, 0), 2, 0), Errc::ok);
    ASSERT_EQ(j.append_order(spec(ids, Side::buy, 1, 0), 3, 1), Errc::ok);
  }
  // Zero the header of record 2 but leave its body: the body-first write order's crash window.
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const unsigned char zeros[40] = {};
  ASSERT_EQ(::pwrite(fd, zeros, sizeof zeros, 2 * kJournalRecordSize), 40);
  ::close(fd);
  const JournalReplay r = Journal::replay(path);
  EXPECT_EQ(r.records, 1u);
  EXPECT_TRUE(r.torn_tail);
  std::remove(path.c_str());
}

// A full segment whose successor cannot be created (here: a directory squats on its temporary name, as a
// full disk would refuse it) refuses appends with Errc::capacity and counts them; nothing crashes.
TEST(OmsJournal, FullSegmentWithoutSuccessorReportsCapacity) {
  const std::string path = temp_path("oms_cap_");
  const std::string blocker = journal_segment_path(path, 1) + ".tmp";
  ASSERT_EQ(::mkdir(blocker.c_str(), 0700), 0);
  ClientIdGenerator ids("c", 1);
  {
    Journal j(path, {2, FsyncPolicy::none, 0});
    EXPECT_EQ(j.append_order(spec(ids, Side::buy, 1, 0), 1, 0), Errc::ok);
    EXPECT_EQ(j.append_order(spec(ids, Side::buy, 1, 0), 1, 0), Errc::ok);
    EXPECT_DOUBLE_EQ(j.fill_ratio(), 1.0);
    EXPECT_EQ(j.append_order(spec(ids, Side::buy, 1, 0), 1, 0), Errc::capacity);
    EXPECT_TRUE(j.rollover_failed());
    EXPECT_EQ(j.append_errors(), 1u);
    EXPECT_EQ(j.records(), 2u);
  }
  EXPECT_EQ(Journal::replay(path).records, 2u);
  EXPECT_THROW(Journal("/nonexistent-dir/x.journal", {}), Error);
  ::rmdir(blocker.c_str());
  std::remove(path.c_str());
}

// ---- crash test --------------------------------------------------------------------------------------

// The child's trading loop: opens positions with entry orders, feeds them random venue reports, exits
// them, journaling everything; after each step it reports the touched orders/positions through the pipe
// as text lines ending with "R <journal records>".
[[noreturn]] void child_main(const std::string& path, int out_fd) {
  Journal j(path, {1 << 16, FsyncPolicy::interval, 5'000'000});
  ClientIdGenerator ids("crash", 1);
  std::mt19937_64 rng(7);
  std::vector<OrderState> orders;
  std::vector<Position> positions;
  std::int64_t now = 0;
  auto send = [&](const std::string& s) {
    if (::write(out_fd, s.data(), s.size()) != static_cast<ssize_t>(s.size())) ::_exit(3);
  };
  auto order_line = [](const OrderState& o) {
    return "O " + std::string(o.client_id().view()) + " " + std::to_string(static_cast<int>(o.status)) + " " +
           std::to_string(o.filled.raw()) + " " + std::to_string(o.fees.raw()) + "\n";
  };
  auto position_line = [](const Position& p) {
    return "P " + std::to_string(p.id) + " " + std::to_string(static_cast<int>(p.state)) + " " +
           std::to_string(p.qty.raw()) + " " + std::to_string(p.stop_price.raw()) + "\n";
  };
  for (int step = 0; step < 60000; ++step) {
    now += 1'000'000;
    std::string msg;
    std::vector<std::size_t> live;
    for (std::size_t i = 0; i < orders.size(); ++i) {
      if (!is_terminal(orders[i].status)) live.push_back(i);
    }
    if (live.size() < 6 || rng() % 5 == 0) {
      // New position with an entry order, journaled before "sending".
      const auto pid = static_cast<std::uint32_t>(positions.size() + 1);
      Position p = open_signal(pid, 0, Side::buy, Price::from_units(100), Price::from_units(95)).value;
      OrderState o{};
      o.spec = spec(ids, Side::buy, 1 + static_cast<std::int64_t>(rng() % 10), pid);
      if (j.append_order(o.spec, ids.next_counter(), now) != Errc::ok) break;
      mark_sent(o);
      (void)mark_entry_sent(p);
      if (j.append_position(p, now) != Errc::ok) break;
      orders.push_back(o);
      positions.push_back(p);
      msg += order_line(o) + position_line(p);
    } else {
      OrderState& o = orders[live[rng() % live.size()]];
      Position& p = positions[o.spec.position_id - 1];
      const bool is_entry = o.spec.req.side == Side::buy;
      ExecReport r{};
      const int what = static_cast<int>(rng() % 10);
      if (what < 2) {
        r = report_for(o, ExecKind::accepted, o.filled, {});
      } else if (what < 8) {
        const Qty left = o.remaining();
        const Qty step_qty = Qty::from_units(1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(left.raw() / Qty::kScale)));
        r = report_for(o, ExecKind::fill, o.filled + step_qty, step_qty);
      } else {
        r = report_for(o, ExecKind::canceled, o.filled, {});
      }
      if (j.append_report(r, now) != Errc::ok) break;
      const ApplyResult a = apply(o, r);
      if (a.fill_qty.raw() > 0) {
        if (is_entry) (void)on_entry_fill(p, a.fill_qty, a.fill_px);
        else (void)on_exit_fill(p, a.fill_qty, a.fill_px);
      }
      if (is_entry && is_terminal(o.status)) on_entry_done(p);
      if (j.append_position(p, now) != Errc::ok) break;
      msg += order_line(o) + position_line(p);
      // A finished entry with a position gets its exit order.
      if (is_entry && is_terminal(o.status) && p.is_open()) {
        if (rng() % 2 == 0) (void)trail_stop(p, Price::from_units(97));
        OrderState x{};
        x.spec = spec(ids, Side::sell, p.qty.raw() / Qty::kScale, p.id);
        if (j.append_order(x.spec, ids.next_counter(), now) != Errc::ok) break;
        mark_sent(x);
        if (j.append_position(p, now) != Errc::ok) break;
        orders.push_back(x);
        msg += order_line(x) + position_line(p);
      }
    }
    msg += "R " + std::to_string(j.records()) + "\n";
    send(msg);
  }
  ::pause();  // wait for the kill
  ::_exit(0);
}

TEST(OmsJournal, SigkillMidRunThenRestartRebuildsOrdersAndPositions) {
  const std::string path = temp_path("oms_crash_");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    child_main(path, fds[1]);
  }
  ::close(fds[1]);

  // Read until the child is well into its run, then kill it without warning.
  std::string text;
  char buf[65536];
  std::size_t steps = 0;
  while (steps < 2000) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    ASSERT_GT(n, 0) << "child ended early";
    for (ssize_t i = 0; i < n; ++i) steps += buf[i] == 'R' ? 1 : 0;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);

  // The child's state as of its last complete step.
  struct OrderSeen { int status; std::int64_t filled; std::int64_t fees; };
  struct PositionSeen { int state; std::int64_t qty; std::int64_t stop; };
  std::map<std::string, OrderSeen> orders;
  std::map<std::uint32_t, PositionSeen> positions;
  std::map<std::string, OrderSeen> step_orders;
  std::map<std::uint32_t, PositionSeen> step_positions;
  std::size_t records = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line cut by the kill has no newline
    std::istringstream ls(line);
    char tag = 0;
    ls >> tag;
    if (tag == 'O') {
      std::string id;
      OrderSeen o{};
      ls >> id >> o.status >> o.filled >> o.fees;
      step_orders[id] = o;
    } else if (tag == 'P') {
      std::uint32_t id = 0;
      PositionSeen p{};
      ls >> id >> p.state >> p.qty >> p.stop;
      step_positions[id] = p;
    } else if (tag == 'R') {
      ls >> records;
      for (auto& [k, v] : step_orders) orders[k] = v;
      for (auto& [k, v] : step_positions) positions[k] = v;
      step_orders.clear();
      step_positions.clear();
    }
  }
  ASSERT_GT(orders.size(), 100u);
  ASSERT_GT(records, 0u);

  // Restart: the journal holds at least everything the child reported; rebuilding from exactly those
  // records gives the child's state.
  const JournalReplay full = Journal::replay(path);
  ASSERT_GE(full.records, records);
  const JournalReplay r = Journal::replay(path, records);
  ASSERT_EQ(r.records, records);
  std::map<std::string, const OrderState*> by_id;
  for (const OrderState& o : r.orders) by_id[std::string(o.client_id().view())] = &o;
  ASSERT_EQ(by_id.size(), orders.size());
  for (const auto& [id, seen] : orders) {
    ASSERT_TRUE(by_id.count(id)) << id;
    const OrderState& o = *by_id[id];
    const auto child_status = static_cast<OrderStatus>(seen.status);
    // Sent-but-unanswered orders come back UNKNOWN: only a venue query can say whether they exist.
    const OrderStatus expected = child_status == OrderStatus::pending_new ? OrderStatus::unknown : child_status;
    EXPECT_EQ(o.status, expected) << id;
    EXPECT_EQ(o.filled.raw(), seen.filled) << id;
    EXPECT_EQ(o.fees.raw(), seen.fees) << id;
  }
  ASSERT_EQ(r.positions.size(), positions.size());
  for (const Position& p : r.positions) {
    ASSERT_TRUE(positions.count(p.id)) << p.id;
    const PositionSeen& seen = positions[p.id];
    EXPECT_EQ(static_cast<int>(p.state), seen.state) << p.id;
    EXPECT_EQ(p.qty.raw(), seen.qty) << p.id;
    EXPECT_EQ(p.stop_price.raw(), seen.stop) << p.id;
    EXPECT_TRUE(stop_invariant_holds(p));
  }
  for (const Position& p : full.positions) EXPECT_TRUE(stop_invariant_holds(p));
  EXPECT_EQ(r.next_client_counter, orders.size() + 1);

  // The OMS reopens the same file for appending where the valid records end.
  Journal reopened(path, {1 << 16, FsyncPolicy::none, 0});
  EXPECT_EQ(reopened.records(), full.records);
  std::remove(path.c_str());
}

// The interval policy syncs on the journal's own flusher thread: the appending thread makes no msync, and
// the flusher catches up within a few intervals.
TEST(OmsJournal, IntervalPolicyFlushesInBackground) {
  const std::string path = temp_path("oms_flusher_");
  ClientIdGenerator ids("f", 1);
  {
    Journal j(path, {1024, FsyncPolicy::interval, 2'000'000});
    for (int i = 0; i < 50; ++i) ASSERT_EQ(j.append_order(spec(ids, Side::buy, 1, 0), 2, i), Errc::ok);
    EXPECT_LE(j.synced_records(), 50u);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (j.synced_records() < 50 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(j.synced_records(), 50u);
  }
  EXPECT_EQ(Journal::replay(path).records, 50u);
  std::remove(path.c_str());
}


// ---- rollover -----------------------------------------------------------------------------------------

std::string temp_dir(const char* name) {
  const std::string d = ::testing::TempDir() + name + std::to_string(::getpid());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

// 200,000 records through 1,000-record segments: every append succeeds (the appender never waits on a
// missing segment for long and never fails), and replaying the directory rebuilds the open orders,
// open positions and client-id counter that the writer's own model holds (an independent bookkeeping
// of the same steps, kept with the order/position state machines directly).
TEST(OmsJournal, RollsOverThroughSmallSegmentsAndReplayRebuildsTheOpenState) {
  const std::string dir = temp_dir("oms_roll_");
  const std::string path = dir + "/journal.bin";
  ClientIdGenerator ids("roll", 1);
  std::mt19937_64 rng(11);
  std::map<std::string, OrderState> orders;
  std::map<std::uint32_t, Position> positions;
  std::vector<std::string> live;
  std::uint32_t next_pid = 1;
  std::int64_t now = 0;
  {
    Journal j(path, {1000, FsyncPolicy::none, 0});
    while (j.records() < 200'000) {
      now += 1000;
      if (live.size() < 20) {
        const std::uint32_t pid = next_pid++;
        Position p = open_signal(pid, 0, Side::buy, Price::from_units(100), Price::from_units(95)).value;
        OrderState o{};
        o.spec = spec(ids, Side::buy, 1 + static_cast<std::int64_t>(rng() % 5), pid);
        ASSERT_EQ(j.append_order(o.spec, ids.next_counter(), now), Errc::ok) << j.records();
        mark_sent(o);
        (void)mark_entry_sent(p);
        ASSERT_EQ(j.append_position(p, now), Errc::ok) << j.records();
        live.emplace_back(o.client_id().view());
        orders[live.back()] = o;
        positions[pid] = p;
        continue;
      }
      const std::size_t k = rng() % live.size();
      OrderState& o = orders[live[k]];
      Position& p = positions[o.spec.position_id];
      const bool is_entry = o.spec.req.side == Side::buy;
      const int what = static_cast<int>(rng() % 10);
      ExecReport r{};
      if (what < 2) {
        r = report_for(o, ExecKind::accepted, o.filled, {});
      } else if (what < 9 || !is_entry) {  // exits are never canceled: every position ends closed
        const Qty left = o.remaining();
        const Qty q = Qty::from_units(1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(left.raw() / Qty::kScale)));
        r = report_for(o, ExecKind::fill, o.filled + q, q);
      } else {
        r = report_for(o, ExecKind::canceled, o.filled, {});
      }
      ASSERT_EQ(j.append_report(r, now), Errc::ok) << j.records();
      const ApplyResult a = apply(o, r);
      if (a.fill_qty.raw() > 0) {
        if (is_entry) (void)on_entry_fill(p, a.fill_qty, a.fill_px);
        else (void)on_exit_fill(p, a.fill_qty, a.fill_px);
      }
      if (is_entry && is_terminal(o.status)) on_entry_done(p);
      ASSERT_EQ(j.append_position(p, now), Errc::ok) << j.records();
      if (is_terminal(o.status)) {
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
        if (is_entry && p.is_open()) {
          OrderState x{};
          x.spec = spec(ids, Side::sell, p.qty.raw() / Qty::kScale, p.id);
          ASSERT_EQ(j.append_order(x.spec, ids.next_counter(), now), Errc::ok) << j.records();
          mark_sent(x);
          live.emplace_back(x.client_id().view());
          orders[live.back()] = x;
        }
      }
    }
    EXPECT_EQ(j.append_errors(), 0u);
    EXPECT_GE(j.segment_index(), 200u);  // 200,000 records / ~1,000 per segment
  }
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.path().extension() == ".bin" ? 1 : 0;

  const JournalReplay r = Journal::replay(path);
  EXPECT_GE(r.records, 200'000u);
  EXPECT_EQ(r.segments, files);          // old segments are kept
  EXPECT_LE(r.segments_read, 2u);        // but replay needs only the last one or two
  EXPECT_EQ(r.next_client_counter, ids.next_counter());
  EXPECT_EQ(r.max_position_id, next_pid - 1);
  std::map<std::string, const OrderState*> open;
  for (const OrderState* o : r.open_orders()) open[std::string(o->client_id().view())] = o;
  std::size_t expected_open = 0;
  for (const auto& [id, o] : orders) {
    if (!is_working(o.status)) continue;
    ++expected_open;
    ASSERT_TRUE(open.count(id)) << id;
    const OrderStatus want = o.status == OrderStatus::pending_new ? OrderStatus::unknown : o.status;
    EXPECT_EQ(open[id]->status, want) << id;
    EXPECT_EQ(open[id]->filled, o.filled) << id;
    EXPECT_EQ(open[id]->fees, o.fees) << id;
  }
  EXPECT_EQ(open.size(), expected_open);
  std::size_t expected_positions = 0;
  std::map<std::uint32_t, const Position*> got_positions;
  for (const Position& p : r.positions) {
    if (p.state != PositionState::closed) got_positions[p.id] = &p;
  }
  for (const auto& [id, p] : positions) {
    if (p.state == PositionState::closed) continue;
    ++expected_positions;
    ASSERT_TRUE(got_positions.count(id)) << id;
    EXPECT_EQ(got_positions[id]->state, p.state) << id;
    EXPECT_EQ(got_positions[id]->qty, p.qty) << id;
    EXPECT_EQ(got_positions[id]->stop_price, p.stop_price) << id;
  }
  EXPECT_EQ(got_positions.size(), expected_positions);

  // Reopening appends to the last segment and continues the sequence.
  {
    Journal j(path, {1000, FsyncPolicy::none, 0});
    EXPECT_EQ(j.records(), r.records);
    ASSERT_EQ(j.append_cancel(orders[live.front()].client_id(), now + 1), Errc::ok);
  }
  const JournalReplay again = Journal::replay(path);
  EXPECT_EQ(again.records, r.records + 1);
  const auto inspected = inspect_journal(dir + "/journal.bin");
  EXPECT_FALSE(inspected.damage.has_value()) << inspected.damage->message();
  EXPECT_EQ(inspected.segments.size(), files);
  std::filesystem::remove_all(dir);
}

// ---- damage -------------------------------------------------------------------------------------------

void write_orders(const std::string& path, int n) {
  ClientIdGenerator ids("d", 1);
  Journal j(path, {1024, FsyncPolicy::none, 0});
  for (int i = 0; i < n; ++i) ASSERT_EQ(j.append_order(spec(ids, Side::buy, 1, 0), ids.next_counter(), i), Errc::ok);
}

void expect_refused(const std::string& path, const std::string& offset_text) {
  const std::string before = file_bytes(path);
  try {
    Journal j(path, {1024, FsyncPolicy::none, 0});
    ADD_FAILURE() << "a damaged journal was opened: " << path;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(offset_text), std::string::npos) << what;
  }
  EXPECT_THROW((void)Journal::replay(path), Error);
  EXPECT_TRUE(file_bytes(path) == before) << "refusing must not modify " << path;
}

TEST(OmsJournal, CorruptRecordFollowedByValidOnesIsRefusedNotTakenForATornTail) {
  const std::string path = temp_path("oms_corrupt_");
  write_orders(path, 100);
  const std::size_t at = 50 * kJournalRecordSize + 100;  // inside record 50 (slot 0 is the header)
  {
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    unsigned char b = 0;
    ASSERT_EQ(::pread(fd, &b, 1, static_cast<off_t>(at)), 1);
    b ^= 0x01;
    ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(at)), 1);
    ::close(fd);
  }
  expect_refused(path, "offset " + std::to_string(50 * kJournalRecordSize) + ": record CRC mismatch");
  const JournalInspection in = inspect_journal(path);
  ASSERT_TRUE(in.damage.has_value());
  EXPECT_EQ(in.damage->offset, 50 * kJournalRecordSize);
  EXPECT_EQ(in.segments.at(0).live_records, 49u);
  std::remove(path.c_str());
}

TEST(OmsJournal, ZeroedRecordInTheMiddleIsRefused) {
  const std::string path = temp_path("oms_hole_");
  write_orders(path, 20);
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const std::string zeros(kJournalRecordSize, '\0');
  ASSERT_EQ(::pwrite(fd, zeros.data(), zeros.size(), 5 * kJournalRecordSize), static_cast<ssize_t>(zeros.size()));
  ::close(fd);
  expect_refused(path, "offset " + std::to_string(6 * kJournalRecordSize) + ": data after the end");
  std::remove(path.c_str());
}

TEST(OmsJournal, ZeroedMagicAndForeignFilesAreRefused) {
  const std::string path = temp_path("oms_magic_");
  write_orders(path, 3);
  {
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const char zeros[8] = {};
    ASSERT_EQ(::pwrite(fd, zeros, sizeof zeros, 0), 8);
    ::close(fd);
  }
  expect_refused(path, "offset 0: not an enigma journal");
  std::remove(path.c_str());

  // 16 MiB of random bytes where the journal should be.
  {
    std::mt19937_64 rng(3);
    std::string junk(16u << 20, '\0');
    for (std::size_t i = 0; i < junk.size(); i += 8) {
      const std::uint64_t v = rng();
      std::memcpy(junk.data() + i, &v, 8);
    }
    std::ofstream(path, std::ios::binary) << junk;
  }
  expect_refused(path, "offset 0: not an enigma journal");
  std::remove(path.c_str());

  // A journal whose header is intact but whose file was cut short.
  write_orders(path, 3);
  ASSERT_EQ(::truncate(path.c_str(), 10 * kJournalRecordSize), 0);
  expect_refused(path, "offset 24: file is 2560 bytes");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace enigma::oms

namespace enigma::oms {
namespace {

// A journal written before OrderSpec::display_qty (format version 1) is resumed, not refused. The test writes
// a journal, then turns it into version 1 by hand from the on-disk format (header slot: version at byte 8,
// CRC-32C of the slot with its crc field (byte 52) zero; each record: 40-byte header with crc at byte 4, type
// at 32, payload_size at 34, the payload after it, CRC-32C of the 256-byte slot with crc zero): order
// records lose the spec's last 8 bytes. Replay rebuilds the same orders with no display size; an engine that
// opens it appends a version-2 order (an iceberg) to the same segment and both read back.
TEST(OmsJournal, VersionOneJournalIsResumedAndExtended) {
  const std::string path = temp_path("oms_v1_");
  ClientIdGenerator ids("v", 1);
  std::vector<OrderSpec> specs;
  {
    Journal j(path, {1024, FsyncPolicy::none, 0});
    for (int i = 0; i < 3; ++i) {
      specs.push_back(spec(ids, i % 2 ? Side::sell : Side::buy, 10 + i, static_cast<std::uint32_t>(i + 1)));
      ASSERT_EQ(j.append_order(specs.back(), ids.next_counter(), i), Errc::ok);
    }
    OrderState first{};
    first.spec = specs[0];
    ASSERT_EQ(j.append_report(report_for(first, ExecKind::fill, Qty::from_units(4), Qty::from_units(4)), 10), Errc::ok);
  }
  constexpr std::size_t kV1Spec = sizeof(OrderSpec) - sizeof(Qty);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<unsigned char> slot(kJournalRecordSize);
    const auto read_slot = [&](std::size_t k) { f.seekg(static_cast<std::streamoff>(k * kJournalRecordSize)); f.read(reinterpret_cast<char*>(slot.data()), kJournalRecordSize); };
    const auto write_slot = [&](std::size_t k, std::size_t crc_at) {
      std::memset(slot.data() + crc_at, 0, 4);
      const std::uint32_t crc = crc32c(slot.data(), slot.size());
      std::memcpy(slot.data() + crc_at, &crc, 4);
      f.seekp(static_cast<std::streamoff>(k * kJournalRecordSize));
      f.write(reinterpret_cast<const char*>(slot.data()), kJournalRecordSize);
    };
    read_slot(0);
    const std::uint32_t v1 = 1;
    std::memcpy(slot.data() + 8, &v1, 4);
    write_slot(0, 52);
    for (std::size_t k = 1; k <= 4; ++k) {
      read_slot(k);
      std::uint16_t type = 0, size = 0;
      std::memcpy(&type, slot.data() + 32, 2);
      std::memcpy(&size, slot.data() + 34, 2);
      if (type != static_cast<std::uint16_t>(RecordType::order)) continue;
      ASSERT_EQ(size, sizeof(OrderSpec));
      size = static_cast<std::uint16_t>(kV1Spec);
      std::memcpy(slot.data() + 34, &size, 2);
      std::memset(slot.data() + 40 + kV1Spec, 0, sizeof(Qty));
      write_slot(k, 4);
    }
  }
  JournalReplay r = Journal::replay(path);
  ASSERT_EQ(r.orders.size(), 3u);
  EXPECT_FALSE(r.torn_tail);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.orders[i].spec.req.client_id, specs[i].req.client_id) << i;
    EXPECT_EQ(r.orders[i].spec.req.qty, specs[i].req.qty) << i;
    EXPECT_EQ(r.orders[i].spec.position_id, specs[i].position_id) << i;
    EXPECT_EQ(r.orders[i].spec.display_qty, Qty{}) << i;
  }
  EXPECT_EQ(r.orders[0].filled, Qty::from_units(4));
  OrderSpec ice = spec(ids, Side::buy, 40, 9);
  ice.display_qty = Qty::from_units(2);
  {
    Journal j(path, {1024, FsyncPolicy::none, 0});
    EXPECT_EQ(j.records(), 4u);
    ASSERT_EQ(j.append_order(ice, ids.next_counter(), 20), Errc::ok);
  }
  r = Journal::replay(path);
  ASSERT_EQ(r.orders.size(), 4u);
  EXPECT_EQ(r.orders[0].filled, Qty::from_units(4));
  EXPECT_EQ(r.orders[3].spec.req.client_id, ice.req.client_id);
  EXPECT_EQ(r.orders[3].spec.display_qty, Qty::from_units(2));
  EXPECT_FALSE(inspect_journal(path).damage.has_value());

  // An unknown version is still refused, by name.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<unsigned char> slot(kJournalRecordSize);
    f.read(reinterpret_cast<char*>(slot.data()), kJournalRecordSize);
    const std::uint32_t v9 = 9;
    std::memcpy(slot.data() + 8, &v9, 4);
    std::memset(slot.data() + 52, 0, 4);
    const std::uint32_t crc = crc32c(slot.data(), slot.size());
    std::memcpy(slot.data() + 52, &crc, 4);
    f.seekp(0);
    f.write(reinterpret_cast<const char*>(slot.data()), kJournalRecordSize);
  }
  const JournalInspection bad = inspect_journal(path);
  ASSERT_TRUE(bad.damage.has_value());
  EXPECT_NE(bad.damage->reason.find("unsupported journal version 9"), std::string::npos) << bad.damage->reason;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace enigma::oms
