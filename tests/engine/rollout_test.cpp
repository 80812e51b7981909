// Staged rollout through the `enigma` binary (issue 16 item 4): an account's stage lives in its state
// directory; `paper` at 10 % sends a tenth of each order (rounded down to the lot); `enigma rollout promote`
// names each failing gate and refuses, or moves the account on when every gate passes; `live` refuses an
// account that is still at the paper stage before it touches the venue.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

std::size_t journal_orders(const std::string& state_dir) {
  std::error_code ec;
  if (!fs::exists(state_dir + "/journal.bin", ec)) return 0;
  return enigma::oms::inspect_journal(state_dir + "/journal.bin").state.orders.size();
}


// The qty column (5th) of every row of trades.csv.
std::vector<std::string> traded_qtys(const fs::path& run) {
  std::istringstream in(slurp(run / "trades.csv"));
  std::vector<std::string> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string field;
    for (int i = 0; i < 5 && std::getline(row, field, ','); ++i) {}
    out.push_back(field);
  }
  return out;
}

}  // namespace

TEST(EngineRollout, TenPercentStageGatesAndPromotion) {
  const enigma::testing::RecordedSession rec = enigma::testing::load_binance_session(20000);
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = rec.snapshot;
  enigma::testing::WsTestServer server(rec.frames, so);
  const std::string root = ::testing::TempDir() + "/enigma-rollout-" + std::to_string(::getpid());
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string state = root + "/state";
  auto config = [&](const std::string& name, const std::string& rollout) {
    const std::string path = root + "/" + name + ".toml";
    std::ofstream f(path);
    f << slurp(kSrc + "/config/replay.toml") << "\n[feed]\nurl = \""
      << server.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade") << "\"\nca_file = \"" << server.ca_file()
      << "\"\nsnapshot_url = \"https://127.0.0.1:" << server.port() << "/fapi/v1/depth?symbol=BTCUSDT&limit=1000\"\n\n[state]\ndir = \""
      << state << "\"\n\n[rollout]\n" << rollout;
    return path;
  };
  auto run = [&](const std::vector<std::string>& args) {
    Child c(args, root + "/cmd.out");
    const int code = c.wait();
    return std::make_pair(code, c.output());
  };

  // Stage 10 %: the strategy's order_qty is 0.01 (config/replay.toml), so every fill is 0.001.
  {
    // With the admin endpoint on (port 0: the kernel picks one; the log says which).
    const std::string ten = config("ten", "stage = \"10%\"\n");
    {
      std::string text = slurp(ten);
      text.replace(text.find("[admin]\nenabled = false"), 23, "[admin]\nenabled = true");
      text.replace(text.find("port = 8686"), 11, "port = 0");
      std::ofstream(ten, std::ios::trunc) << text;
    }
    Child paper({"paper", "--config", ten, "--runs-dir", root + "/runs-one"}, root + "/one.out");
    ASSERT_TRUE(wait_for([&] { return server.connections() >= 1 && server.live(); }, 30000)) << paper.output();
    server.send_next(1);
    ASSERT_TRUE(wait_for([&] { return server.rest_requests() >= 1; }, 30000));
    // The engine holds the snapshot before the rest of the diffs come. On a loaded machine it could take the
    // answer after its diff buffer overflowed, and the server's one recorded snapshot never lines up again.
    ASSERT_TRUE(wait_for([&] {
      const fs::path d = first_run_dir(root + "/runs-one");
      return !d.empty() && slurp(d / "logs" / "enigma.log").find("snapshot_received") != std::string::npos;
    }, 30000)) << paper.output();
    server.send_next(19999);
    // An entry and its bracket (stop, take-profit) journaled: the entry has filled.
    ASSERT_TRUE(wait_for([&] { return journal_orders(state) >= 3; }, 30000)) << paper.output();
    const std::string log = slurp(first_run_dir(root + "/runs-one") / "logs" / "enigma.log");
    const auto at = log.find("listening on 127.0.0.1:");
    ASSERT_NE(at, std::string::npos) << log;
    const auto port = static_cast<std::uint16_t>(std::atoi(log.c_str() + at + 23));
    EXPECT_NE(enigma::testing::http_get_or_empty(port, "/status").find("\"rollout_stage\":\"10%\""), std::string::npos);
    ASSERT_EQ(::kill(paper.pid, SIGTERM), 0);
    EXPECT_EQ(paper.wait(), 128 + SIGTERM) << paper.output();
    EXPECT_NE(paper.output().find("rollout stage 10%: orders at 10% of their size"), std::string::npos) << paper.output();
  }
  const fs::path one = first_run_dir(root + "/runs-one");
  const auto qtys = traded_qtys(one);
  ASSERT_FALSE(qtys.empty()) << slurp(one / "trades.csv");
  for (const auto& q : qtys) EXPECT_EQ(q, "0.001");
  const std::string ro = slurp(state + "/rollout.json");
  EXPECT_NE(ro.find("\"stage\": \"10%\""), std::string::npos) << ro;
  EXPECT_NE(ro.find("\"runs\": 1,"), std::string::npos) << ro;
  EXPECT_NE(slurp(one / "logs" / "enigma.log").find("rollout_stage stage=10%"), std::string::npos);

  // The default gates: a stage of minutes cannot pass "7 days"; promote names that gate and changes nothing.
  {
    const auto [code, out] = run({"rollout", "promote", state});
    EXPECT_EQ(code, 1) << out;
    EXPECT_NE(out.find("rollout promote refused:"), std::string::npos) << out;
    EXPECT_NE(out.find("days at 10%: 0 < 7"), std::string::npos) << out;
    EXPECT_EQ(slurp(state + "/rollout.json"), ro);
    const auto [scode, sout] = run({"rollout", "status", state});
    EXPECT_EQ(scode, 0) << sout;
    EXPECT_NE(sout.find("at stage 10% for 0 day(s): 1 run(s)"), std::string::npos) << sout;
  }

  // A second run configured with gates this account meets: promote moves it to 50 % and starts the stage afresh.
  {
    const std::string open_gates =
        "stage = \"10%\"\nmin_days = 0\nmin_trades = 0\nmin_pnl = \"-1000000\"\nmax_drawdown = \"1\"\nmin_win_rate = \"0\"\nno_emergency = false\n";
    Child paper({"paper", "--config", config("open", open_gates), "--runs-dir", root + "/runs-two"}, root + "/two.out");
    // Set up (state locked, rollout loaded, resume report written): then stop it.
    ASSERT_TRUE(wait_for([&] {
      const fs::path d = first_run_dir(root + "/runs-two");
      return !d.empty() && fs::exists(d / "reconciliation.json");
    }, 30000)) << paper.output();
    ASSERT_EQ(::kill(paper.pid, SIGTERM), 0);
    EXPECT_EQ(paper.wait(), 128 + SIGTERM) << paper.output();
  }
  EXPECT_NE(slurp(state + "/rollout.json").find("\"runs\": 2,"), std::string::npos) << slurp(state + "/rollout.json");
  {
    const auto [code, out] = run({"rollout", "promote", state});
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("promoted 10% -> 50%"), std::string::npos) << out;
    const std::string after = slurp(state + "/rollout.json");
    EXPECT_NE(after.find("\"stage\": \"50%\""), std::string::npos) << after;
    EXPECT_NE(after.find("\"runs\": 0,"), std::string::npos) << after;
  }

  // `live` on an account at the paper stage: refused (exit 3) before anything reaches a venue.
  {
    const std::string path = root + "/live.toml";
    std::ofstream(path) << slurp(config("paper-stage", "stage = \"paper\"\n")) << "\n";
    std::string text = slurp(path);
    const auto at = text.find("[state]\ndir = \"" + state + "\"");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("[state]\ndir = \"" + state + "\"").size(), "[state]\ndir = \"" + root + "/state-new\"");
    std::ofstream(path, std::ios::trunc) << text;
    ::setenv("ENIGMA_API_KEY", "test-key-abc", 1);
    ::setenv("ENIGMA_API_SECRET", "test-secret-abc", 1);
    const int connections = server.connections();
    const auto [code, out] = run({"live", "--confirm", "--config", path, "--runs-dir", root + "/runs-live"});
    EXPECT_EQ(code, 3) << out;
    EXPECT_NE(out.find("is at stage paper: trade it with `enigma paper`"), std::string::npos) << out;
    EXPECT_EQ(server.connections(), connections);
  }
}
