// A restart is not blind (issue 11 item 1), through the `enigma paper` binary against the local TLS
// WebSocket venue: the journal lives in a locked state directory, a second engine on it is refused (exit 3,
// naming the directory and the pid holding it), and after a SIGKILL mid-run the restart resumes the
// journal's orders, reports them, and never reuses a client id.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "oms/ids.hpp"
#include "oms/journal.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/ws_test_server.hpp"

namespace fs = std::filesystem;
using enigma::testing::Child;
using enigma::testing::first_run_dir;
using enigma::testing::slurp;
using enigma::testing::wait_for;

namespace {

const std::string kSrc = ENIGMA_SOURCE_DIR;


// The journal as a restart would rebuild it (read-only; safe while an engine appends to it).
enigma::oms::JournalReplay journal_state(const std::string& state_dir) {
  const std::string path = state_dir + "/journal.bin";
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  return enigma::oms::inspect_journal(path).state;
}

std::set<std::string> client_ids(const enigma::oms::JournalReplay& j) {
  std::set<std::string> ids;
  for (const auto& o : j.orders) ids.insert(std::string(o.client_id().view()));
  return ids;
}

// "en<base 36 epoch>-<n>" -> epoch (0 when the id has another shape).
std::uint64_t epoch_of(const std::string& id) {
  const auto dash = id.find('-');
  if (id.rfind("en", 0) != 0 || dash == std::string::npos || dash <= 2) return 0;
  return std::stoull(id.substr(2, dash - 2), nullptr, 36);
}


// One paper session: the server plays the recorded frames on a fresh connection from the start.
// `runs`: the engine's --runs-dir. The burst waits until the engine logged that it holds the snapshot: on a
// loaded machine it could take the answer after its diff buffer overflowed, and the server's one recorded
// snapshot never lines up again (the book never syncs, no order is ever placed).
void play_session(enigma::testing::WsTestServer& server, int connection, int snapshot, const std::string& runs) {
  ASSERT_TRUE(wait_for([&] { return server.connections() >= connection && server.live(); }, 30000));
  server.seek(0);
  server.send_next(1);
  ASSERT_TRUE(wait_for([&] { return server.rest_requests() >= snapshot; }, 30000));
  ASSERT_TRUE(wait_for([&] {
    const fs::path d = first_run_dir(runs);
    return !d.empty() && slurp(d / "logs" / "enigma.log").find("snapshot_received") != std::string::npos;
  }, 30000));
  server.send_next(19999);
}

}  // namespace

TEST(EngineState, SecondEngineRefusedAndRestartAfterSigkillResumesWithNewIds) {
  const enigma::testing::RecordedSession rec = enigma::testing::load_binance_session(20000);
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = rec.snapshot;
  enigma::testing::WsTestServer server(rec.frames, so);

  const std::string root = ::testing::TempDir() + "/enigma-state-" + std::to_string(::getpid());
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string state = root + "/state/paper-binance-usdm";
  const std::string config = root + "/paper.toml";
  {
    std::ofstream f(config);
    f << slurp(kSrc + "/config/replay.toml") << "\n[feed]\nurl = \""
      << server.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade") << "\"\nca_file = \""
      << server.ca_file() << "\"\nsnapshot_url = \"https://127.0.0.1:" << server.port()
      << "/fapi/v1/depth?symbol=BTCUSDT&limit=1000\"\n\n[state]\ndir = \"" << state << "\"\n";
  }
  auto paper = [&](const std::string& name) {
    return std::vector<std::string>{"paper", "--config", config, "--runs-dir", root + "/runs-" + name};
  };

  // First engine: trades until its journal holds an entry and its working exits.
  const std::time_t first_start = std::time(nullptr);
  Child first(paper("first"), root + "/first.out");
  play_session(server, 1, 1, root + "/runs-first");
  ASSERT_TRUE(wait_for([&] { return journal_state(state).open_orders().size() >= 2; }, 30000)) << first.output();

  // Second engine on the same state: refused while the first runs.
  {
    Child second(paper("second"), root + "/second.out");
    EXPECT_EQ(second.wait(), 3);
    const std::string out = second.output();
    EXPECT_NE(out.find("state directory '" + state + "' is in use by another enigma (pid " + std::to_string(first.pid) + ")"),
              std::string::npos)
        << out;
  }

  // SIGKILL mid-run: no shutdown sequence, the journal is whatever reached the page cache.
  ASSERT_EQ(::kill(first.pid, SIGKILL), 0);
  EXPECT_EQ(first.wait(), 128 + SIGKILL);
  const enigma::oms::JournalReplay before = journal_state(state);
  const std::set<std::string> before_ids = client_ids(before);
  ASSERT_GE(before.orders.size(), 3u);
  ASSERT_EQ(before_ids.size(), before.orders.size()) << "an id repeated within one session";
  // The first session's ids carry its start time (base 36) as their epoch.
  const std::uint64_t first_epoch = epoch_of(*before_ids.begin());
  EXPECT_GE(first_epoch, static_cast<std::uint64_t>(first_start));
  EXPECT_LE(first_epoch, static_cast<std::uint64_t>(std::time(nullptr)));
  for (const auto& id : before_ids) EXPECT_EQ(epoch_of(id), first_epoch) << id;
  const std::size_t working_before = before.open_orders().size();
  ASSERT_GE(working_before, 2u);

  // The restart starts in a later second than the first session did, so its epoch differs.
  ASSERT_TRUE(wait_for([&] { return static_cast<std::uint64_t>(std::time(nullptr)) > first_epoch; }, 3000));
  Child third(paper("third"), root + "/third.out");
  // The engine connects to the venue only after its set-up wrote reconciliation.json.
  play_session(server, 2, 2, root + "/runs-third");
  const fs::path run = first_run_dir(root + "/runs-third");
  ASSERT_FALSE(run.empty()) << third.output();
  const std::string rj = slurp(run / "reconciliation.json");
  EXPECT_NE(rj.find("\"next_client_counter\": " + std::to_string(before.next_client_counter) + ","), std::string::npos) << rj;
  EXPECT_NE(rj.find("\"orders_canceled_at_start\": " + std::to_string(working_before) + ","), std::string::npos) << rj;
  for (const auto* o : before.open_orders())
    EXPECT_NE(rj.find("\"client_id\": \"" + std::string(o->client_id().view()) + "\""), std::string::npos) << rj;
  const auto next_pos = rj.find("\"next_client_id\": \"");
  ASSERT_NE(next_pos, std::string::npos);
  const std::string next_id = rj.substr(next_pos + 19, rj.find('"', next_pos + 19) - next_pos - 19);
  EXPECT_EQ(before_ids.count(next_id), 0u) << next_id;
  EXPECT_GT(epoch_of(next_id), first_epoch) << next_id;
  EXPECT_EQ(next_id.substr(next_id.find('-') + 1), std::to_string(before.next_client_counter));

  // The restarted engine trades on: new ids only, the old orders still known, none duplicated.
  ASSERT_TRUE(wait_for([&] { return journal_state(state).orders.size() >= before.orders.size() + 3; }, 30000))
      << third.output();
  ASSERT_EQ(::kill(third.pid, SIGTERM), 0);
  EXPECT_EQ(third.wait(), 128 + SIGTERM) << third.output();
  const std::string log = slurp(run / "logs" / "enigma.log");
  EXPECT_NE(log.find("next_client_id=" + next_id), std::string::npos);
  for (const auto* o : before.open_orders())
    EXPECT_NE(log.find("open order " + std::string(o->client_id().view()) + " BTCUSDT"), std::string::npos) << log;

  const enigma::oms::JournalReplay after = journal_state(state);
  const std::set<std::string> after_ids = client_ids(after);
  EXPECT_EQ(after_ids.size(), after.orders.size()) << "a client id was reused";
  std::size_t new_orders = 0;
  for (const auto& o : after.orders) {
    const std::string id(o.client_id().view());
    if (before_ids.count(id) != 0) {
      // A working order of the killed session could not be resting at the restarted simulator.
      EXPECT_FALSE(enigma::oms::is_working(o.status)) << id;
      continue;
    }
    ++new_orders;
    EXPECT_EQ(epoch_of(id), epoch_of(next_id)) << id;
  }
  for (const auto& id : before_ids) EXPECT_EQ(after_ids.count(id), 1u) << id << " lost from the journal";
  EXPECT_GE(new_orders, 3u);
  EXPECT_GE(after.next_client_counter, before.next_client_counter + new_orders);

  // One byte flipped in a record in the middle of the journal: the next start-up refuses it (exit 3,
  // naming the file and the record's offset), before trading, and leaves the file exactly as it was.
  const std::string journal = state + "/journal.bin";
  const std::uint64_t offset = (after.records / 2) * enigma::oms::kJournalRecordSize;
  {
    std::fstream f(journal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset + 77));
    const char c = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(offset + 77));
    f.put(static_cast<char>(c ^ 0x5a));
  }
  const std::string damaged = slurp(journal);
  Child fourth(paper("fourth"), root + "/fourth.out");
  EXPECT_EQ(fourth.wait(), 3);
  const std::string out = fourth.output();
  EXPECT_NE(out.find(journal), std::string::npos) << out;
  EXPECT_NE(out.find("offset " + std::to_string(offset) + ": record CRC mismatch"), std::string::npos) << out;
  EXPECT_TRUE(slurp(journal) == damaged) << "the damaged journal was modified";
  EXPECT_EQ(server.connections(), 2) << "a refused start-up never connects to the venue";
}

// The session prefix: the start time in base 36 (hand-computed: 1796268227 = "tpg9fn" in base 36), and ids
// that stay within Binance's 36 characters of its alphabet even with the largest counter.
TEST(EngineState, SessionClientIdsCarryTheStartTimeAndFitTheVenues) {
  EXPECT_EQ(enigma::oms::session_client_id_prefix("en", 1796268227), "entpg9fn-");
  EXPECT_EQ(enigma::oms::session_client_id_prefix("en", 35), "enz-");
  enigma::oms::ClientIdGenerator gen(enigma::oms::session_client_id_prefix("en", 1796268227), UINT64_MAX);
  const auto id = gen.next();
  EXPECT_EQ(id.view(), "entpg9fn-18446744073709551615");
  EXPECT_TRUE(enigma::oms::is_valid_client_id(id.view(), enigma::oms::kBinanceMaxClientIdLen));
  // A prefix that leaves no room for a 20-digit counter is refused at start-up, never truncated.
  EXPECT_THROW((void)enigma::oms::session_client_id_prefix("enigma_strat", 1796268227), enigma::Error);
  // OKX: letters and digits only, 32 at most: 'X' ends the prefix (base 36 digits are lower case), and the
  // largest counter still fits (2 + 6 + 1 + 20 = 29).
  enigma::oms::ClientIdGenerator okx(enigma::oms::session_client_id_prefix("en", 1796268227, enigma::oms::kOkxMaxClientIdLen, 'X'),
                                     UINT64_MAX, enigma::oms::kOkxMaxClientIdLen);
  EXPECT_EQ(okx.next().view(), "entpg9fnX18446744073709551615");
  EXPECT_THROW((void)enigma::oms::session_client_id_prefix("enigmastrat", 1796268227, enigma::oms::kOkxMaxClientIdLen, 'X'),
               enigma::Error);
}
