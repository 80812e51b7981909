// [alerts], proven by driving the `enigma replay` binary over the bundled real session against a local HTTPS
// webhook server (self-signed certificate made here) that records every POST:
//  * with thresholds the session crosses, each default trigger (daily drawdown, consecutive losses, near
//    liquidation, the emergency stop; API errors in a run whose orders the venue refuses) fires once, its
//    cool-down holding it back afterwards, and reaches all three channels (Telegram sendMessage, Slack
//    {text}, generic JSON) with the expected payloads; secrets never appear in the log;
//  * a webhook server that is down: alerts are retried and delivered once it comes back, or counted as
//    failed; either way the trades are identical to a run with the server up (trading unaffected);
//  * the feed-stale rule (paper/live only: a replay has no wall-clock feed) on the TradingCore, and through
//    run_paper against the local TLS venue when the feed goes quiet;
//  * two-way Telegram control against a local fake of the Bot API.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "engine/alerts.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_config.hpp"
#include "engine/trading_core.hpp"
#include "tests/support/engine_test_support.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/ws_test_server.hpp"

using namespace enigma;
using namespace enigma::engine;
using enigma::testing::Child;
using enigma::testing::fresh_path;
using enigma::testing::json_number;
using enigma::testing::slurp;
using enigma::testing::wait_for;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr const char* kBotToken = "123456:test-bot-token-never-logged";
constexpr const char* kSlackPath = "/slack/T000/B000/secret-slack-path";

// A loopback HTTPS server that answers every request 200 {"ok":true} and records (target, body). One
// connection at a time, one request per connection (the alert client closes after each answer).
class WebhookServer {
 public:
  struct Request {
    std::string target, body;
  };
  // `port` 0: an ephemeral one. A given port lets a test bring the server "back" where it was.
  explicit WebhookServer(std::uint16_t port = 0,
                         const enigma::testing::SelfSignedCert& cert = enigma::testing::make_self_signed_cert()) {
    ctx_.use_certificate_chain(net::buffer(cert.cert_pem));
    ctx_.use_private_key(net::buffer(cert.key_pem), ssl::context::pem);
    ca_file_ = fresh_path("alerts-ca") + ".pem";
    std::ofstream(ca_file_) << cert.cert_pem;
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~WebhookServer() {
    // A blocking accept() does not return when another thread closes the acceptor: wake it with a connection.
    stop_ = true;
    boost::system::error_code ec;
    {
      net::io_context io;
      tcp::socket poke(io);
      poke.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    }
    thread_.join();
    acceptor_.close(ec);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(port_) + path; }
  [[nodiscard]] const std::string& ca_file() const { return ca_file_; }
  [[nodiscard]] std::vector<Request> requests() const {
    std::lock_guard lk(mu_);
    return requests_;
  }
  // A fake of the Bot API's getUpdates: `update` (one JSON object with "update_id": id) is returned by
  // every GET .../getUpdates whose offset does not yet acknowledge it.
  void add_update(std::int64_t id, const std::string& update) {
    std::lock_guard lk(mu_);
    updates_.emplace_back(id, update);
  }

 private:
  void serve() {
    while (!stop_) {
      tcp::socket sock(io_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      try {
        beast::ssl_stream<tcp::socket> stream(std::move(sock), ctx_);
        stream.handshake(ssl::stream_base::server);
        beast::flat_buffer buf;
        http::request<http::string_body> req;
        http::read(stream, buf, req);
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = "{\"ok\":true}";
        const std::string target(req.target());
        if (target.find("/getUpdates") != std::string::npos) {
          std::smatch m;
          const long long offset = std::regex_search(target, m, std::regex("offset=([0-9]+)")) ? std::stoll(m[1]) : 0;
          std::string result;
          std::lock_guard lk(mu_);
          for (const auto& [id, u] : updates_)
            if (id >= offset) result += (result.empty() ? "" : ",") + u;
          res.body() = "{\"ok\":true,\"result\":[" + result + "]}";
        } else {
          std::lock_guard lk(mu_);
          requests_.push_back({target, req.body()});
        }
        res.prepare_payload();
        http::write(stream, res);
        stream.next_layer().shutdown(tcp::socket::shutdown_both, ec);
      } catch (const std::exception&) {
        // A client that went away mid-request: the next connection is served.
      }
    }
  }

  net::io_context io_;
  ssl::context ctx_{ssl::context::tls_server};
  tcp::acceptor acceptor_{io_};
  std::uint16_t port_{0};
  std::string ca_file_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::vector<std::pair<std::int64_t, std::string>> updates_;
  std::thread thread_;
};

// A loopback port with nothing listening on it (connections are refused).
std::uint16_t closed_port() {
  net::io_context io;
  tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

std::string replay_toml() {
  std::ifstream f(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Data path absolute: the binary runs from the test's working directory.
  s = std::regex_replace(s, std::regex("data = \\[\"data/"), "data = [\"" + std::string(ENIGMA_SOURCE_DIR) + "/data/");
  return s;
}

pid_t g_last_child_pid = -1;
pid_t last_child_pid() { return g_last_child_pid; }

struct ReplayRun {
  int exit_code;
  std::string dir;  // the run directory
  std::string summary, log, trades, output;
};

// `enigma replay` with `extra` appended to the sample config (and the sample's own keys replaced by `subs`).
ReplayRun replay(const std::string& extra, const std::vector<std::pair<std::string, std::string>>& subs = {},
           const std::function<void(const std::string& runs)>& while_running = {}) {
  std::string toml = replay_toml();
  for (const auto& [from, to] : subs) toml = std::regex_replace(toml, std::regex(from), to);
  const std::string cfg = fresh_path("alerts-cfg") + ".toml";
  std::ofstream(cfg) << toml << "\n" << extra;
  const std::string runs = fresh_path("alerts-runs");
  Child c({"replay", "--config", cfg, "--runs-dir", runs, "--quiet"}, fresh_path("alerts-out"));
  g_last_child_pid = c.pid;
  if (while_running) while_running(runs);
  ReplayRun r;
  r.exit_code = c.wait();
  r.output = c.output();
  std::filesystem::path dir;
  for (const auto& e : std::filesystem::directory_iterator(runs))
    if (e.is_directory() && !e.is_symlink()) dir = e.path();
  r.dir = dir.string();
  r.summary = slurp(dir / "summary.json");
  r.log = slurp(dir / "logs" / "enigma.log");
  r.trades = slurp(dir / "trades.csv");
  return r;
}

// Thresholds the bundled 6-minute session crosses: any dip, two losing trips in a row, any open position
// (5x leverage puts the liquidation estimate ~19.5 % away); the engine's own loss limit stops it at three.
const std::string kTrippingRules = R"(
[alerts.daily_drawdown]
threshold = 0.00001
[alerts.consecutive_losses]
threshold = 2
[alerts.near_liquidation]
threshold = 0.5
[alerts.api_errors]
threshold = 3
)";
const std::vector<std::pair<std::string, std::string>> kStopAtThreeLosses = {
    {"max_consecutive_losses = 5 ", "max_consecutive_losses = 3 "}};

std::string alerts_table(const std::string& ca_file, const std::string& tuning = "") {
  return "[alerts]\nenabled = true\nca_file = \"" + ca_file + "\"\n" + tuning + "\n";
}

std::string summary_alerts(const std::string& summary) {
  const auto p = summary.find("\"alerts\":");
  return p == std::string::npos ? std::string() : summary.substr(p, summary.find('\n', p) - p);
}

// The generic channel's bodies by rule (the server's /hook requests).
std::map<std::string, std::vector<std::string>> generic_by_rule(const std::vector<WebhookServer::Request>& reqs) {
  std::map<std::string, std::vector<std::string>> m;
  std::smatch g;
  for (const auto& r : reqs)
    if (r.target == "/hook" && std::regex_search(r.body, g, std::regex("\"rule\":\"([a-z_]+)\""))) m[g[1]].push_back(r.body);
  return m;
}

// Equity samples of equity.csv below `fraction` under the first sample (the day's start in this session).
int samples_below_start(const std::string& run_dir, double fraction) {
  std::ifstream f(run_dir + "/equity.csv");
  std::string line;
  std::getline(f, line);
  double start = -1;
  int n = 0;
  while (std::getline(f, line)) {
    const auto c1 = line.find(',');
    const double eq = std::stod(line.substr(c1 + 1));
    if (start < 0) start = eq;
    n += (start - eq) / start > fraction;
  }
  return n;
}

TEST(EngineAlerts, EachDefaultTriggerFiresOnceAndReachesEveryChannel) {
  WebhookServer server;
  ::setenv("ENIGMA_TEST_TG_TOKEN", kBotToken, 1);
  ::setenv("ENIGMA_TEST_SLACK_URL", server.url(kSlackPath).c_str(), 1);
  ::setenv("ENIGMA_TEST_HOOK_URL", server.url("/hook").c_str(), 1);
  const std::string channels = "[alerts.telegram]\ntoken_env = \"ENIGMA_TEST_TG_TOKEN\"\napi_base = \"" +
                               server.url("") + "\"\nchat_id = \"-100123\"\n[alerts.slack]\nurl_env = \"ENIGMA_TEST_SLACK_URL\"\n"
                               "[alerts.webhook]\nurl_env = \"ENIGMA_TEST_HOOK_URL\"\n";
  const ReplayRun r = replay(alerts_table(server.ca_file()) + kTrippingRules + channels, kStopAtThreeLosses);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The engine's own view: one emergency stop, by the loss limit.
  EXPECT_NE(r.summary.find("\"emergency_causes\": {\"consecutive_losses\": 1}"), std::string::npos) << r.summary;
  // The drawdown stays over the alert threshold for many samples; the cool-down (1 h) lets one alert out.
  EXPECT_GT(samples_below_start(r.dir, 0.00001), 1);

  const auto reqs = server.requests();
  const auto by_rule = generic_by_rule(reqs);
  const std::vector<std::string> fired = {"daily_drawdown", "consecutive_losses", "near_liquidation", "emergency_stop"};
  ASSERT_EQ(by_rule.size(), fired.size()) << summary_alerts(r.summary);
  for (const auto& rule : fired) {
    ASSERT_EQ(by_rule.count(rule), 1u) << rule;
    ASSERT_EQ(by_rule.at(rule).size(), 1u) << rule << " fired more than once (cool-down)";
    const std::string& body = by_rule.at(rule)[0];
    EXPECT_NE(body.find("\"mode\":\"replay\""), std::string::npos) << body;
    EXPECT_TRUE(std::regex_search(body, std::regex("\"time\":\"2024-08-08T[0-9:]{8}Z\""))) << body << " (data time)";
    EXPECT_NE(body.find("\"text\":\"[enigma replay] "), std::string::npos) << body;
  }
  EXPECT_NE(by_rule.at("emergency_stop")[0].find("\"severity\":\"critical\""), std::string::npos);
  EXPECT_NE(by_rule.at("emergency_stop")[0].find("\"detail\":\"consecutive_losses\""), std::string::npos);
  // Two losing trips in a row when the alert fired (its threshold), before the engine's stop at three.
  EXPECT_NE(by_rule.at("consecutive_losses")[0].find("\"value\":2,"), std::string::npos) << by_rule.at("consecutive_losses")[0];
  // The liquidation estimate at 5x, mmr 0.5 %: about 19.5 % from the mark.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(by_rule.at("near_liquidation")[0], m, std::regex("\"value\":([0-9.e-]+)")));
  EXPECT_NEAR(std::stod(m[1]), 0.195, 0.01);

  // Telegram: POST /bot<token>/sendMessage {chat_id, text}; Slack: {text}; four of each, in the same order.
  std::vector<std::string> tg, slack, hook_rules;
  for (const auto& q : reqs) {
    if (q.target == std::string("/bot") + kBotToken + "/sendMessage") tg.push_back(q.body);
    else if (q.target == kSlackPath) slack.push_back(q.body);
  }
  ASSERT_EQ(tg.size(), 4u);
  ASSERT_EQ(slack.size(), 4u);
  EXPECT_EQ(reqs.size(), 12u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(tg[i].rfind("{\"chat_id\":\"-100123\",\"text\":\"[enigma replay] ", 0), 0u) << tg[i];
    EXPECT_EQ(slack[i].rfind("{\"text\":\"[enigma replay] ", 0), 0u) << slack[i];
    // The same text on both.
    EXPECT_EQ(tg[i].substr(tg[i].find("\"text\"")), slack[i].substr(1)) << i;
  }
  EXPECT_NE(tg.back().find("EMERGENCY STOP (consecutive_losses)"), std::string::npos) << tg.back();

  EXPECT_EQ(json_number(r.summary, "raised"), 4);
  EXPECT_EQ(json_number(r.summary, "delivered"), 4) << summary_alerts(r.summary);
  EXPECT_NE(summary_alerts(r.summary).find("\"telegram\": {\"delivered\": 4, \"failed\": 0"), std::string::npos);
  EXPECT_NE(summary_alerts(r.summary).find("\"slack\": {\"delivered\": 4, \"failed\": 0"), std::string::npos);
  EXPECT_NE(summary_alerts(r.summary).find("\"webhook\": {\"delivered\": 4, \"failed\": 0"), std::string::npos);
  EXPECT_EQ(json_number(r.summary, "hot_path_allocations_after_warmup"), 0) << "raising an alert allocates nothing";
  // Secrets never reach the log or the terminal.
  for (const std::string& text : {r.log, r.output, r.summary}) {
    EXPECT_EQ(text.find("test-bot-token"), std::string::npos);
    EXPECT_EQ(text.find("secret-slack-path"), std::string::npos);
  }
}

TEST(EngineAlerts, ApiErrorsFireWhenTheVenueRefusesOrders) {
  WebhookServer server;
  ::setenv("ENIGMA_TEST_HOOK_URL", server.url("/hook").c_str(), 1);
  // 50 USDT cannot margin a 0.01 BTC entry at 5x: the simulated venue refuses each one (insufficient margin).
  const ReplayRun r = replay(alerts_table(server.ca_file()) + kTrippingRules + "[alerts.webhook]\nurl_env = \"ENIGMA_TEST_HOOK_URL\"\n",
                       {{"initial_balance = \"10000\"", "initial_balance = \"50\""}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const long long rejects = json_number(r.summary, "venue_rejects");
  ASSERT_GE(rejects, 3) << r.summary;
  const auto by_rule = generic_by_rule(server.requests());
  ASSERT_EQ(by_rule.count("api_errors"), 1u) << summary_alerts(r.summary);
  ASSERT_EQ(by_rule.at("api_errors").size(), 1u) << "cool-down: 10 min, the session is 6";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(by_rule.at("api_errors")[0], m, std::regex("\"value\":([0-9]+)")));
  EXPECT_GE(std::stoll(m[1]), 3);
  EXPECT_LE(std::stoll(m[1]), rejects);
}

// The p99 of the frame stage (frame in -> all stages done) from summary.json.
long long frame_p99(const std::string& summary) {
  std::smatch m;
  if (std::regex_search(summary, m, std::regex("\"frame\": \\{[^}]*\"p99\": ([0-9]+)"))) return std::stoll(m[1]);
  return -1;
}

TEST(EngineAlerts, ADownWebhookServerIsRetriedUntilItComesBackAndTradingIsUnaffected) {
  // Baseline: the server up.
  std::string baseline_trades;
  long long p99_up = 0;
  {
    WebhookServer up;
    ::setenv("ENIGMA_TEST_HOOK_URL", up.url("/hook").c_str(), 1);
    const ReplayRun r = replay(alerts_table(up.ca_file()) + kTrippingRules + "[alerts.webhook]\nurl_env = \"ENIGMA_TEST_HOOK_URL\"\n",
                         kStopAtThreeLosses);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_EQ(up.requests().size(), 4u);
    baseline_trades = r.trades;
    p99_up = frame_p99(r.summary);
  }
  ASSERT_FALSE(baseline_trades.empty());

  // Down for good: every alert is tried max_attempts times, then counted as failed.
  {
    const std::string ca = fresh_path("alerts-unused-ca") + ".pem";
    std::ofstream(ca) << enigma::testing::make_self_signed_cert().cert_pem;
    ::setenv("ENIGMA_TEST_HOOK_URL", ("https://127.0.0.1:" + std::to_string(closed_port()) + "/hook").c_str(), 1);
    const ReplayRun r = replay(alerts_table(ca, "retry_base_ms = 20\nmax_attempts = 3\n") + kTrippingRules +
                             "[alerts.webhook]\nurl_env = \"ENIGMA_TEST_HOOK_URL\"\n",
                         kStopAtThreeLosses);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.trades, baseline_trades) << "a down webhook server changes no trade";
    EXPECT_NE(summary_alerts(r.summary).find("\"webhook\": {\"delivered\": 0, \"failed\": 4, \"retries\": 8"), std::string::npos)
        << summary_alerts(r.summary);
    EXPECT_NE(r.log.find("giving up: POST <webhook URL from ENIGMA_TEST_HOOK_URL>: connecting failed"), std::string::npos);
    const long long p99_down = frame_p99(r.summary);
    // Reported, not asserted tightly (a shared 2-core machine): the frame p99 with the server down vs up.
    std::printf("frame p99: server up %lld ns, server down %lld ns\n", p99_up, p99_down);
    RecordProperty("frame_p99_up_ns", std::to_string(p99_up));
    RecordProperty("frame_p99_down_ns", std::to_string(p99_down));
    EXPECT_GT(p99_down, 0);
  }

  // Down at first, back while the engine is still retrying (the end-of-run flush keeps trying for up to
  // flush_ms): every alert is delivered, none lost, after at least one failed attempt.
  {
    const auto cert = enigma::testing::make_self_signed_cert();  // the engine trusts it from the start
    const std::string ca = fresh_path("alerts-late-ca") + ".pem";
    std::ofstream(ca) << cert.cert_pem;
    const std::uint16_t port = closed_port();
    ::setenv("ENIGMA_TEST_HOOK_URL", ("https://127.0.0.1:" + std::to_string(port) + "/hook").c_str(), 1);
    std::unique_ptr<WebhookServer> late;
    const ReplayRun r = replay(
        alerts_table(ca, "retry_base_ms = 100\nretry_max_ms = 400\nmax_attempts = 100\nflush_ms = 30000\n") + kTrippingRules +
            "[alerts.webhook]\nurl_env = \"ENIGMA_TEST_HOOK_URL\"\n",
        kStopAtThreeLosses, [&](const std::string& runs) {
          // Back once the engine has seen it down.
          EXPECT_TRUE(wait_for([&] {
            std::error_code ec;
            for (const auto& e : std::filesystem::directory_iterator(runs, ec))
              if (slurp(e.path() / "logs" / "enigma.log").find("delivery failed channel=webhook") != std::string::npos) return true;
            return false;
          }, 30000));
          late = std::make_unique<WebhookServer>(port, cert);
        });
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.trades, baseline_trades);
    ASSERT_TRUE(late);
    EXPECT_EQ(late->requests().size(), 4u);
    EXPECT_EQ(generic_by_rule(late->requests()).size(), 4u);
    EXPECT_NE(summary_alerts(r.summary).find("\"webhook\": {\"delivered\": 4, \"failed\": 0"), std::string::npos)
        << summary_alerts(r.summary);
    EXPECT_GE(json_number(summary_alerts(r.summary), "retries"), 1);
  }
}

// The feed-stale rule, on the TradingCore as paper/live drive it (on_feed_health between frames).
TEST(EngineAlerts, AStaleFeedRaisesComponentUnhealthyOncePerCooldown) {
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("alerts-journal");
  trading.supervisor.feed_down_ns = 0;  // only the alert, not the emergency stop
  TradingCore core(registry, trading);
  AlertRulesConfig rules;  // defaults: 10 s without a frame, cool-down 10 min
  SpscRing<AlertEvent> ring(16);
  AlertMonitor monitor(rules, ring);
  core.set_alerts(&monitor);
  constexpr std::int64_t s = 1'000'000'000;
  const std::int64_t last = 1'000 * s;
  AlertEvent e{};
  core.on_feed_health(true, last, last + 9 * s);
  EXPECT_FALSE(ring.try_pop(e)) << "9 s without a frame is under the threshold";
  core.on_feed_health(true, last, last + 12 * s);
  ASSERT_TRUE(ring.try_pop(e));
  EXPECT_EQ(e.rule, AlertRule::component_unhealthy);
  EXPECT_EQ(std::string(e.detail), "feed");
  EXPECT_DOUBLE_EQ(e.value, 12.0);
  EXPECT_NE(AlertDispatcher::message_text(e, "paper").find("feed stale: no market data for 12 s (alert at 10 s)"), std::string::npos)
      << AlertDispatcher::message_text(e, "paper");
  core.on_feed_health(false, last, last + 300 * s);
  EXPECT_FALSE(ring.try_pop(e)) << "within the cool-down";
  core.on_feed_health(false, last, last + 12 * s + 600 * s);
  ASSERT_TRUE(ring.try_pop(e)) << "after the cool-down";
  EXPECT_EQ(monitor.raised(AlertRule::component_unhealthy), 2u);
}

// The same rule through the paper engine (run_paper against the local TLS venue): the feed goes quiet while
// connected; after the threshold the alert fires once, and the cool-down holds it back while the silence lasts.
TEST(EngineAlerts, APaperFeedThatGoesQuietRaisesComponentUnhealthyOnce) {
  const enigma::testing::RecordedSession rec = enigma::testing::load_binance_session(1000);
  enigma::testing::WsTestServerOptions so;
  so.snapshot_body = rec.snapshot;
  enigma::testing::WsTestServer server(rec.frames, so);
  RunConfig rc = RunConfig::load(std::string(ENIGMA_SOURCE_DIR) + "/config/replay.toml");
  InstrumentRegistry registry;
  rc.fill_registry(registry);
  strategy::StrategyStage strategies(rc.make_strategies());
  TradingCoreConfig trading = rc.trading;
  trading.journal_path = fresh_path("alerts-paper-journal");
  trading.supervisor.feed_down_ns = 0;  // the alert alone, no emergency stop
  TradingCore core(registry, trading);
  AlertRulesConfig rules;
  rules[AlertRule::component_unhealthy].threshold = 0.5;  // seconds without a frame
  SpscRing<AlertEvent> ring(16);
  AlertMonitor monitor(rules, ring);
  core.set_alerts(&monitor);
  PaperOptions pp;
  pp.ws.url = server.url("/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade");
  pp.ws.tls.ca_file = server.ca_file();
  pp.ws.stale_after_ns = 0;  // no reconnect: the alert is under test
  pp.snapshot_url = "https://127.0.0.1:" + std::to_string(server.port()) + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
  pp.run_seconds = 30;  // bound
  PipelineOptions po;
  po.venue = Venue::binance_usdm;
  po.progress = false;
  std::atomic<bool> stop{false};
  po.stop = &stop;
  PipelineResult r;
  std::thread engine([&] { r = run_paper(pp, registry, strategies, core, po); });
  ASSERT_TRUE(wait_for([&] { return server.live(); }));
  server.send_next(1);
  ASSERT_TRUE(wait_for([&] { return server.rest_requests() >= 1; }));
  server.send_next(999);
  ASSERT_TRUE(wait_for([&] { return server.cursor() == 1000; }));
  const bool fired = wait_for([&] { return monitor.raised(AlertRule::component_unhealthy) >= 1; }, 10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // still silent: the cool-down (600 s) holds
  stop.store(true);
  engine.join();
  ASSERT_TRUE(fired);
  EXPECT_EQ(monitor.raised(AlertRule::component_unhealthy), 1u);
  EXPECT_EQ(monitor.raised(), 1u) << "no other rule fired";
  AlertEvent e{};
  ASSERT_TRUE(ring.try_pop(e));
  EXPECT_EQ(e.rule, AlertRule::component_unhealthy);
  EXPECT_EQ(std::string(e.detail), "feed");
  EXPECT_GE(e.value, 0.5);
  EXPECT_EQ(r.frames, 1000u);
}

// Two-way Telegram control against a local fake of the Bot API, during a recorded-pace replay: commands of
// an allowed chat reach the engine through its admin endpoint and are answered; another chat is ignored.
TEST(EngineAlerts, TelegramCommandsFromAllowedChatsControlTheEngine) {
  WebhookServer bot;
  ::setenv("ENIGMA_TEST_TG_TOKEN", kBotToken, 1);
  ::setenv("ENIGMA_TEST_ADMIN_TOKEN", "admin-secret", 1);
  const auto update = [](int id, long long chat, const std::string& text) {
    return "{\"update_id\":" + std::to_string(id) + ",\"message\":{\"message_id\":" + std::to_string(id) +
           ",\"chat\":{\"id\":" + std::to_string(chat) + ",\"type\":\"private\"},\"date\":1,\"text\":\"" + text + "\"}}";
  };
  const std::string extra = alerts_table(bot.ca_file()) + "[alerts.telegram]\ntoken_env = \"ENIGMA_TEST_TG_TOKEN\"\napi_base = \"" +
                            bot.url("") + "\"\nchat_id = \"42\"\ncontrol = true\nallowed_chat_ids = [42]\npoll_timeout_s = 1\n";
  const std::string send_message = std::string("/bot") + kBotToken + "/sendMessage";
  const auto replies_to = [&](const std::string& chat) {
    std::vector<std::string> out;
    for (const auto& q : bot.requests())
      if (q.target == send_message && q.body.rfind("{\"chat_id\":" + chat + ",", 0) == 0) out.push_back(q.body);
    return out;
  };
  pid_t engine_pid = -1;
  const ReplayRun r = replay(extra, {{"speed = \"max\"", "speed = \"recorded\""},
                                                {"enabled = false( +# loopback HTTP admin)", "enabled = true$1"},
                                                {"port = 8686", "port = 0"},
                                                {"token_env = \"ENIGMA_ADMIN_TOKEN\"", "token_env = \"ENIGMA_TEST_ADMIN_TOKEN\""}}, [&](const std::string& runs) {
    // Another chat's /kill first (ignored), then the allowed chat's /status, /pnl, /stop and /kill.
    bot.add_update(1, update(1, 999, "/kill"));
    bot.add_update(2, update(2, 42, "/status"));
    bot.add_update(3, update(3, 42, "/pnl"));
    bot.add_update(4, update(4, 42, "/stop"));
    bot.add_update(5, update(5, 42, "/kill"));
    EXPECT_TRUE(wait_for([&] { return replies_to("42").size() >= 4; }, 30000));
    // Accepted (202) means queued for the OMS loop: stop once it has acted on the kill.
    EXPECT_TRUE(wait_for([&] {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(runs, ec))
        if (slurp(e.path() / "logs" / "enigma.log").find("kill_latched") != std::string::npos) return true;
      return false;
    }, 30000));
    engine_pid = last_child_pid();
    ::kill(engine_pid, SIGINT);
  });
  EXPECT_EQ(r.exit_code, 130) << r.output;
  const auto replies = replies_to("42");
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_NE(replies[0].find("lifecycle"), std::string::npos) << replies[0];
  EXPECT_NE(replies[1].find("pnl"), std::string::npos) << replies[1];
  EXPECT_NE(replies[2].find("POST /trading/stop: HTTP 202"), std::string::npos) << replies[2];
  EXPECT_NE(replies[3].find("POST /kill: HTTP 202"), std::string::npos) << replies[3];
  EXPECT_TRUE(replies_to("999").empty()) << "a chat outside allowed_chat_ids gets nothing";
  EXPECT_NE(r.log.find("telegram control: ignored a message from chat 999"), std::string::npos);
  EXPECT_NE(r.summary.find("\"kill_latched\": true"), std::string::npos) << r.summary;
  EXPECT_EQ(r.log.find("test-bot-token"), std::string::npos);
}

TEST(EngineAlerts, AMissingSecretIsExit3NamingTheVariable) {
  ::unsetenv("ENIGMA_TEST_UNSET_HOOK");
  const ReplayRun r = replay("[alerts]\nenabled = true\n[alerts.webhook]\nurl_env = \"ENIGMA_TEST_UNSET_HOOK\"\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("ENIGMA_TEST_UNSET_HOOK"), std::string::npos) << r.output;
}

}  // namespace
