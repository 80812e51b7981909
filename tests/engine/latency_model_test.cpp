// [sim] order latency models and feed_latency = "capture" through the engine (issue 14 item 6): `enigma replay` on
// the bundled Binance USD-M BTCUSDT capture. Every expectation comes from the config (bounds, the file's values,
// the FIFO rule written out below) or from the raw capture itself (receive - exchange time per frame), never
// from a previous run's output.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/enigma_process.hpp"

namespace {

namespace fs = std::filesystem;
using enigma::testing::slurp;

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kCapture = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";

// config/replay.toml with its [sim] order_latency_us line replaced by `sim_keys`.
std::string write_config(const std::string& name, const std::string& sim_keys) {
  std::string text = slurp(kSrc + "/config/replay.toml");
  const std::string line = "order_latency_us = 500";
  const auto at = text.find(line);
  EXPECT_NE(at, std::string::npos);
  const auto eol = text.find('\n', at);
  text.replace(at, eol - at, sim_keys);
  const std::string path = ::testing::TempDir() + "/" + name + ".toml";
  std::ofstream(path) << text;
  return path;
}

struct Replayed {
  enigma::testing::Out out;
  fs::path dir;
};

Replayed replay(const std::string& name, const std::string& sim_keys) {
  const std::string runs = ::testing::TempDir() + "/runs-" + name;
  fs::remove_all(runs);
  Replayed r;
  r.out = enigma::testing::run_enigma("replay --quiet --config " + write_config(name, sim_keys) + " --data " +
                                      kCapture + " --runs-dir " + runs);
  if (fs::exists(runs + "/latest")) r.dir = fs::canonical(runs + "/latest");
  return r;
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(slurp(p));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(std::move(cells));
  }
  return rows;
}

// order_latency.csv: kind,client_order_id,send_ns,venue_ns,ack_ns,latency_ns
struct Msg {
  std::string kind, id;
  std::int64_t send, venue, latency;
};
std::vector<Msg> messages(const fs::path& dir) {
  std::vector<Msg> out;
  for (const auto& c : read_csv(dir / "order_latency.csv")) {
    EXPECT_EQ(c.size(), 6u);
    if (c.size() != 6) break;
    out.push_back({c[0], c[1], std::stoll(c[2]), std::stoll(c[3]), std::stoll(c[5])});
  }
  return out;
}

simdjson::dom::element summary(simdjson::dom::parser& p, const fs::path& dir, std::string& keep) {
  keep = slurp(dir / "summary.json");
  simdjson::dom::element e;
  EXPECT_EQ(p.parse(keep).get(e), simdjson::SUCCESS) << keep;
  return e;
}

double number(simdjson::dom::element e) {
  if (e.is_double()) return double(e.get_double());
  if (e.is_int64()) return static_cast<double>(int64_t(e.get_int64()));
  return static_cast<double>(uint64_t(e.get_uint64()));
}

TEST(EngineLatencyModel, UniformLatenciesLieInTheirBoundsWithTheirMean) {
  const Replayed r =
      replay("uniform", "order_latency = { dist = \"uniform\", min_us = 200, max_us = 1800 }\nlatency_seed = 7");
  ASSERT_EQ(r.out.code, 0) << r.out.text;
  const auto msgs = messages(r.dir);
  ASSERT_GE(msgs.size(), 30u) << "the capture trades: a meaningful check needs orders";
  double sum = 0;
  std::int64_t prev_venue = INT64_MIN;
  for (const Msg& m : msgs) {
    EXPECT_EQ(m.latency, m.venue - m.send) << m.id;
    EXPECT_GE(m.latency, 200'000) << m.id;
    EXPECT_LE(m.latency, 1'800'000) << m.id;
    EXPECT_GE(m.venue, prev_venue) << "one ordered connection: no message overtakes an earlier one";
    prev_venue = m.venue;
    sum += static_cast<double>(m.latency);
  }
  // Uniform on [200, 1800] us: mean 1000 us, standard deviation 1600 / sqrt(12) = 462 us; 5 standard errors.
  const double n = static_cast<double>(msgs.size());
  EXPECT_NEAR(sum / n, 1'000'000.0, 5 * 461'880.0 / std::sqrt(n));

  // A taker fill happens when its order reaches the matching engine: never before the order's arrival.
  std::map<std::string, std::int64_t> arrival;
  for (const Msg& m : msgs)
    if (m.kind == "new") arrival[m.id] = m.venue;
  std::size_t takers = 0;
  for (const auto& f : read_csv(r.dir / "trades.csv")) {
    ASSERT_TRUE(arrival.count(f[7])) << "fill of an order the latency log does not list: " << f[7];
    EXPECT_GE(std::stoll(f[0]), arrival[f[7]]) << f[7];
    takers += f[6] == "taker";
  }
  EXPECT_GT(takers, 0u);

  // The summary names the model and counts every message (orders and cancels sent).
  simdjson::dom::parser p;
  std::string keep;
  const auto s = summary(p, r.dir, keep);
  EXPECT_EQ(std::string_view(s["latency_model"]["order"]["model"].get_string()), "uniform");
  EXPECT_EQ(number(s["latency_model"]["order"]["messages"]), n);
  EXPECT_EQ(number(s["orders"]["orders"]) + number(s["orders"]["cancels"]), n);
  // Its percentiles are of the draws: inside the bounds, the median near 1000 us (5 standard errors of a
  // sample median: 1.2533 x 462 / sqrt(n)); messages held back by an earlier one are those that arrived in
  // the same nanosecond as the one before (a uniform draw in ns hardly ever lands exactly there).
  const auto order = s["latency_model"]["order"];
  EXPECT_GE(number(order["max_us"]), 200.0);
  EXPECT_LE(number(order["max_us"]), 1800.0);
  EXPECT_NEAR(number(order["p50_us"]), 1000.0, 5 * 1.2533 * 461.88 / std::sqrt(n) + 10);
  double same_instant = 0;
  for (std::size_t i = 1; i < msgs.size(); ++i) same_instant += msgs[i].venue == msgs[i - 1].venue;
  EXPECT_EQ(number(order["held_back"]), same_instant);
}

TEST(EngineLatencyModel, NormalAndLognormalDrawTheirDistributions) {
  // Normal (mean 800, sd 300, truncated at 0): no negative latency; the drawn median near 800 us.
  const Replayed nr = replay("normal", "order_latency = { dist = \"normal\", mean_us = 800, stddev_us = 300 }");
  ASSERT_EQ(nr.out.code, 0) << nr.out.text;
  const auto nm = messages(nr.dir);
  ASSERT_GE(nm.size(), 30u);
  for (const Msg& m : nm) EXPECT_GE(m.latency, 0) << m.id;
  simdjson::dom::parser p;
  std::string keep;
  const auto ns = summary(p, nr.dir, keep);
  const double n = static_cast<double>(nm.size());
  EXPECT_EQ(std::string_view(ns["latency_model"]["order"]["model"].get_string()), "normal");
  EXPECT_NEAR(number(ns["latency_model"]["order"]["p50_us"]), 800.0, 5 * 1.2533 * 300 / std::sqrt(n) + 10) << keep;
  // Lognormal (median 600 us, sigma 0.5): the drawn median near 600 us (5 standard errors in log space), and
  // its p99 near 600 x e^(2.326 x 0.5) = 1920 us.
  const Replayed lr = replay("lognormal", "order_latency = { dist = \"lognormal\", median_us = 600, sigma = 0.5 }");
  ASSERT_EQ(lr.out.code, 0) << lr.out.text;
  simdjson::dom::parser p2;
  const auto ls = summary(p2, lr.dir, keep);
  const double med = number(ls["latency_model"]["order"]["p50_us"]);
  EXPECT_NEAR(std::log(med / 600.0), 0.0, 5 * 1.2533 * 0.5 / std::sqrt(n)) << keep;
  EXPECT_GT(number(ls["latency_model"]["order"]["p99_us"]), 1000.0) << keep;
}

TEST(EngineLatencyModel, SameSeedSameTradesAnotherSeedOthers) {
  const std::string keys = "order_latency = { dist = \"lognormal\", median_us = 20000, sigma = 1.0 }\nlatency_seed = ";
  const Replayed a = replay("seed-a", keys + "11");
  const Replayed b = replay("seed-b", keys + "11");
  const Replayed c = replay("seed-c", keys + "12");
  ASSERT_EQ(a.out.code, 0) << a.out.text;
  ASSERT_EQ(b.out.code, 0) << b.out.text;
  ASSERT_EQ(c.out.code, 0) << c.out.text;
  const std::string ta = slurp(a.dir / "trades.csv");
  ASSERT_GT(std::count(ta.begin(), ta.end(), '\n'), 10);
  EXPECT_EQ(ta, slurp(b.dir / "trades.csv"));
  EXPECT_EQ(slurp(a.dir / "order_latency.csv"), slurp(b.dir / "order_latency.csv"));
  EXPECT_NE(ta, slurp(c.dir / "trades.csv"));
  EXPECT_NE(slurp(a.dir / "order_latency.csv"), slurp(c.dir / "order_latency.csv"));
}

TEST(EngineLatencyModel, RecordedFileIsReplayedInOrder) {
  const std::vector<std::int64_t> file = {730'000, 2'150'000, 415'000, 1'000'000, 3'333'000};
  const std::string path = ::testing::TempDir() + "/latencies.csv";
  {
    std::ofstream f(path);
    f << "# recorded on a test venue\nsend_ns,latency_ns\n";
    for (std::size_t i = 0; i < file.size(); ++i) f << 1000 + i << ',' << file[i] << '\n';
  }
  const Replayed r = replay("file", "order_latency_file = \"" + path + "\"");
  ASSERT_EQ(r.out.code, 0) << r.out.text;
  const auto msgs = messages(r.dir);
  ASSERT_GE(msgs.size(), 2 * file.size());
  // The first message takes the first latency exactly; then each takes the next one, starting over after the
  // last, unless that would overtake the previous message (one ordered connection: it arrives right after it).
  EXPECT_EQ(msgs[0].latency, file[0]);
  std::size_t exact = 0;
  std::int64_t prev_arrival = INT64_MIN;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const std::int64_t want = std::max(msgs[i].send + file[i % file.size()], prev_arrival);
    EXPECT_EQ(msgs[i].venue, want) << "message " << i;
    exact += msgs[i].latency == file[i % file.size()];
    prev_arrival = msgs[i].venue;
  }
  EXPECT_GT(exact, msgs.size() / 2);

  simdjson::dom::parser p;
  std::string keep;
  const auto s = summary(p, r.dir, keep);
  EXPECT_EQ(std::string_view(s["latency_model"]["order"]["model"].get_string()), "file");

  // The run's own order_latency.csv is itself a latency file: replayed, it gives the same latencies.
  const Replayed again =
      replay("file-again", "order_latency_file = \"" + (r.dir / "order_latency.csv").string() + "\"");
  ASSERT_EQ(again.out.code, 0) << again.out.text;
  EXPECT_EQ(slurp(again.dir / "order_latency.csv"), slurp(r.dir / "order_latency.csv"));
}

TEST(EngineLatencyModel, MalformedLatencyFileExits3NamingFileAndLine) {
  const std::string bad = ::testing::TempDir() + "/bad-latencies.csv";
  std::ofstream(bad) << "latency_ns\n1000\n\n-5\n";
  const Replayed r = replay("bad-file", "order_latency_file = \"" + bad + "\"");
  EXPECT_EQ(r.out.code, 3) << r.out.text;
  EXPECT_NE(r.out.text.find(bad + ":4:"), std::string::npos) << r.out.text;

  const std::string no_column = ::testing::TempDir() + "/no-column.csv";
  std::ofstream(no_column) << "send_ns,ack_ns\n1,2\n";
  const Replayed n = replay("no-column", "order_latency_file = \"" + no_column + "\"");
  EXPECT_EQ(n.out.code, 3) << n.out.text;
  EXPECT_NE(n.out.text.find(no_column + ":1:"), std::string::npos) << n.out.text;

  // A key that does not belong to the chosen distribution is refused, naming it.
  const Replayed k = replay("bad-key", "order_latency = { dist = \"uniform\", min_us = 1, max_us = 2, mean_us = 3 }");
  EXPECT_NE(k.out.code, 0);
  EXPECT_NE(k.out.text.find("mean_us"), std::string::npos) << k.out.text;
}

TEST(EngineLatencyModel, CaptureFeedLatencyIsTheCapturesOwnReceiveMinusExchangeTime) {
  const Replayed r = replay("capture", "order_latency_us = 500\nfeed_latency = \"capture\"");
  ASSERT_EQ(r.out.code, 0) << r.out.text;

  // By hand from the raw capture: per frame "<receive ns> <json>", the venue's time is the trade time T for a
  // trade and the event time E otherwise (ms). Latency = receive - venue time - the smallest such difference
  // seen so far (the two clocks' offset; the fastest frame counts as 0).
  const enigma::testing::Out raw = enigma::testing::shell("gzip -dc " + kCapture, "2>/dev/null");
  ASSERT_EQ(raw.code, 0);
  std::istringstream in(raw.text);
  std::string line;
  std::vector<std::int64_t> lat;
  std::int64_t offset = INT64_MAX;
  const auto field = [](const std::string& l, const char* key) -> std::int64_t {
    const auto at = l.find(key);
    return at == std::string::npos ? -1 : std::stoll(l.substr(at + std::string(key).size()));
  };
  while (std::getline(in, line)) {
    // Stream frames, and the REST depth snapshot (it carries E too).
    if (line.find("\"stream\"") == std::string::npos && line.find("\"E\":") == std::string::npos) continue;
    const std::int64_t recv = std::stoll(line.substr(0, line.find(' ')));
    const bool trade = line.find("@trade\"") != std::string::npos;
    const std::int64_t ms = field(line, trade ? "\"T\":" : "\"E\":");
    ASSERT_GT(ms, 0) << line.substr(0, 200);
    const std::int64_t d = recv - ms * 1'000'000;
    offset = std::min(offset, d);
    lat.push_back(d - offset);
  }
  ASSERT_GT(lat.size(), 1000u);
  const std::int64_t max = *std::max_element(lat.begin(), lat.end());
  std::vector<std::int64_t> sorted = lat;
  std::sort(sorted.begin(), sorted.end());
  const auto pct = [&](double q) {
    return static_cast<double>(sorted[static_cast<std::size_t>(q * (sorted.size() - 1))]);
  };

  simdjson::dom::parser p;
  std::string keep;
  const auto s = summary(p, r.dir, keep);
  const auto f = s["latency_model"]["feed"];
  EXPECT_EQ(std::string_view(f["model"].get_string()), "capture");
  EXPECT_EQ(number(f["clock_offset_ns"]), static_cast<double>(offset));
  EXPECT_EQ(number(f["frames"]), static_cast<double>(lat.size()));
  EXPECT_EQ(number(f["frames_without_time"]), 0.0);
  EXPECT_DOUBLE_EQ(number(f["max_us"]), static_cast<double>(max) / 1000.0);
  // The histogram keeps two significant digits (256 sub-buckets): within 1 % (+1 us).
  EXPECT_NEAR(number(f["p50_us"]), pct(0.5) / 1000.0, 0.01 * pct(0.5) / 1000.0 + 1) << keep;
  EXPECT_NEAR(number(f["p99_us"]), pct(0.99) / 1000.0, 0.01 * pct(0.99) / 1000.0 + 1) << keep;
  EXPECT_NE(r.out.text.find("feed latency: capture"), std::string::npos) << r.out.text;

  // It changes what the run does: the matching engine sees the data before the strategy does, so an order
  // that reaches it at once meets a book the strategy has not seen yet (with feed_latency_us the same order
  // meets exactly the book it was decided on).
  const Replayed now_capture = replay("capture-0", "order_latency_us = 0\nfeed_latency = \"capture\"");
  const Replayed now_constant = replay("constant-0", "order_latency_us = 0");
  ASSERT_EQ(now_capture.out.code, 0) << now_capture.out.text;
  ASSERT_EQ(now_constant.out.code, 0) << now_constant.out.text;
  EXPECT_NE(slurp(now_constant.dir / "trades.csv"), slurp(now_capture.dir / "trades.csv"));
}

}  // namespace
