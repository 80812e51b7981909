// `enigma download` through the binary against a local TLS venue (Beast HTTPS, self-signed certificate made
// at test time, loopback only) that serves klines cut from the bundled BTCUSDT 5 m candles in Binance USD-M's
// and KuCoin Futures' dialects, with a small page cap of its own, a scripted 429 with Retry-After, a hole in
// its data, and a funding history generated here. The expectations come from the source CSV, parsed here,
// and from the venue's own request log.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "strategy/csv.hpp"
#include "tests/support/enigma_process.hpp"
#include "tests/support/ws_test_server.hpp"

namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using enigma::testing::Out;
using enigma::testing::run_enigma;

constexpr std::int64_t kStep = 300'000;  // 5 m in ms

// One candle as the source file spells it.
struct Candle {
  std::int64_t t{0};
  std::string datetime, o, h, l, c, v;
  bool operator==(const Candle&) const = default;
};

std::int64_t parse_dt(const std::string& s) {
  std::tm tm{};
  std::istringstream in(s);
  in >> std::get_time(&tm, "%Y-%m-%d %H:%M:%S");
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000;
}
std::string dt_text(std::int64_t ms) {
  const std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
  return b;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
  return f;
}

// A candle CSV (datetime,open,high,low,close,volume), gzip or plain.
std::vector<Candle> read_candles(const std::string& path) {
  std::vector<Candle> out;
  auto in = enigma::strategy::open_maybe_gzip(path);
  std::string line;
  std::getline(*in, line);
  EXPECT_EQ(line, "datetime,open,high,low,close,volume") << path;
  while (std::getline(*in, line)) {
    const auto f = split(line);
    if (f.size() != 6) {
      ADD_FAILURE() << path << ": " << line;
      continue;
    }
    out.push_back({parse_dt(f[0]), f[0], f[1], f[2], f[3], f[4], f[5]});
  }
  return out;
}

const std::vector<Candle>& source() {
  static const std::vector<Candle> rows =
      read_candles(std::string(ENIGMA_SOURCE_DIR) + "/data/candles/kheus_spot_BTCUSDT_5m_20250602_20250807.csv.gz");
  return rows;
}

// Funding every 8 h from 2025-06-02 00:00 UTC, with a rate that depends on the settlement's number.
struct Funding {
  std::int64_t t;
  std::string rate;
};
std::vector<Funding> funding_history() {
  std::vector<Funding> f;
  const std::int64_t t0 = parse_dt("2025-06-02 00:00:00");
  for (int i = 0; i < 200; ++i) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6f", (i % 7 - 3) * 0.00005 + 0.0001);
    f.push_back({t0 + i * 8 * 3'600'000LL, b});
  }
  return f;
}

std::map<std::string, std::string> query_of(std::string_view target) {
  std::map<std::string, std::string> m;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return m;
  std::string_view s = target.substr(q + 1);
  while (!s.empty()) {
    const auto amp = s.find('&');
    const std::string_view kv = s.substr(0, amp);
    const auto eq = kv.find('=');
    m[std::string(kv.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
  return m;
}

// The venue in miniature: Binance's /fapi/v1/klines and /fapi/v1/fundingRate, KuCoin's /api/v1/kline/query
// and /api/v1/contract/funding-rates, over the source candles and funding_history().
class FakeVenue {
 public:
  struct Request {
    std::string path;
    std::int64_t from{0}, to{0};  // the time range asked (inclusive)
    int status{200};
    std::size_t rows{0};  // rows answered
  };

  explicit FakeVenue(std::size_t page_cap) : cap_(page_cap), funding_(funding_history()) {
    const auto cert = enigma::testing::make_self_signed_cert();
    ctx_.use_certificate_chain(net::buffer(cert.cert_pem));
    ctx_.use_private_key(net::buffer(cert.key_pem), ssl::context::pem);
    ca_file_ = (fs::temp_directory_path() / ("enigma_download_ca_" + std::to_string(::getpid()) + ".pem")).string();
    std::ofstream(ca_file_) << cert.cert_pem;
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeVenue() {
    net::post(io_, [this] {
      error_code ec;
      acceptor_.close(ec);
      io_.stop();
    });
    thread_.join();
    fs::remove(ca_file_);
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::string& ca_file() const { return ca_file_; }
  // The next n requests are answered 429 with Retry-After: 1.
  void rate_limit_next(int n) {
    std::lock_guard lk(mu_);
    limit_next_ = n;
  }
  // Candles with open times in [from, to] are missing from the venue's data.
  void set_hole(std::int64_t from, std::int64_t to) {
    std::lock_guard lk(mu_);
    hole_ = {from, to};
  }
  // Every klines answer repeats its first candle (duplicate) or swaps its 2nd and 3rd (unordered).
  enum class Quirk { none, duplicate, unordered };
  void set_quirk(Quirk q) {
    std::lock_guard lk(mu_);
    quirk_ = q;
  }
  // The next n requests are answered 503; after `ok` more answers, every request is (-1: never).
  void fail_next(int n) {
    std::lock_guard lk(mu_);
    fail_next_ = n;
  }
  void fail_after(int ok) {
    std::lock_guard lk(mu_);
    fail_after_ = ok;
  }
  std::vector<Request> requests() const {
    std::lock_guard lk(mu_);
    return log_;
  }
  void clear() {
    std::lock_guard lk(mu_);
    log_.clear();
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    FakeVenue& v;
    beast::ssl_stream<beast::tcp_stream> tls;
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    Session(FakeVenue& venue, tcp::socket s) : v(venue), tls(std::move(s), venue.ctx_) {}
    void start() {
      auto self = shared_from_this();
      tls.async_handshake(ssl::stream_base::server, [self](const error_code& ec) {
        if (!ec) self->read();
      });
    }
    void read() {
      req = {};
      auto self = shared_from_this();
      http::async_read(tls, buf, req, [self](const error_code& ec, std::size_t) {
        if (ec) return;
        self->res = self->v.serve(self->req);
        self->res.keep_alive(self->req.keep_alive());
        self->res.prepare_payload();
        http::async_write(self->tls, self->res, [self](const error_code& ec2, std::size_t) {
          if (!ec2 && self->res.keep_alive()) self->read();
        });
      });
    }
  };

  void accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket s) {
      if (ec) return;
      std::make_shared<Session>(*this, std::move(s))->start();
      accept();
    });
  }

  http::response<http::string_body> serve(const http::request<http::string_body>& req) {
    std::lock_guard lk(mu_);
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    auto q = query_of(target);
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    Request r{path};
    const bool binance = path.rfind("/fapi/", 0) == 0;
    r.from = std::stoll(q[binance ? "startTime" : "from"]);
    r.to = std::stoll(q[binance ? "endTime" : "to"]);
    if (fail_next_ > 0 || fail_after_ == 0) {
      fail_next_ -= fail_next_ > 0 ? 1 : 0;
      res.result(http::status::service_unavailable);
      res.body() = R"({"code":-1001,"msg":"test 503"})";
      r.status = 503;
      log_.push_back(r);
      return res;
    }
    if (fail_after_ > 0) --fail_after_;
    if (limit_next_ > 0) {
      --limit_next_;
      res.result(http::status::too_many_requests);
      res.set(http::field::retry_after, "1");
      res.body() = R"({"code":-1003,"msg":"Too many requests"})";
      r.status = 429;
      log_.push_back(r);
      return res;
    }
    std::size_t cap = cap_;
    if (binance && q.count("limit")) cap = std::min<std::size_t>(cap, std::stoul(q["limit"]));
    std::string body = binance ? "[" : R"({"code":"200000","data":[)";
    if (path == "/fapi/v1/klines" || path == "/api/v1/kline/query") {
      EXPECT_EQ(binance ? q["interval"] : q["granularity"], binance ? "5m" : "5") << target;
      std::vector<std::string> items;
      for (const Candle& c : source()) {
        if (c.t < r.from || c.t > r.to || (c.t >= hole_.first && c.t <= hole_.second)) continue;
        if (items.size() == cap) break;
        if (binance)  // open time, O, H, L, C, V as strings, close time, quote volume, trades, taker volumes
          items.push_back("[" + std::to_string(c.t) + ",\"" + c.o + "\",\"" + c.h + "\",\"" + c.l + "\",\"" + c.c +
                          "\",\"" + c.v + "\"," + std::to_string(c.t + kStep - 1) + ",\"0\",0,\"0\",\"0\",\"0\"]");
        else  // time, O, H, L, C, V, turnover as numbers
          items.push_back("[" + std::to_string(c.t) + "," + c.o + "," + c.h + "," + c.l + "," + c.c + "," + c.v +
                          ",0]");
      }
      r.rows = items.size();
      if (quirk_ == Quirk::duplicate && !items.empty()) items.insert(items.begin() + 1, items.front());
      if (quirk_ == Quirk::unordered && items.size() >= 3) std::swap(items[1], items[2]);
      for (std::size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
    } else if (path == "/fapi/v1/fundingRate" || path == "/api/v1/contract/funding-rates") {
      for (const Funding& f : funding_) {
        if (f.t < r.from || f.t > r.to) continue;
        if (r.rows == cap) break;
        if (r.rows++ > 0) body += ",";
        body += binance ? R"({"symbol":")" + q["symbol"] + R"(","fundingTime":)" + std::to_string(f.t) +
                              R"(,"fundingRate":")" + f.rate + R"(","markPrice":"100000.0"})"
                        : R"({"symbol":")" + q["symbol"] + R"(","fundingRate":)" + f.rate + R"(,"timepoint":)" +
                              std::to_string(f.t) + "}";
      }
    } else {
      res.result(http::status::not_found);
      r.status = 404;
      log_.push_back(r);
      res.body() = R"({"msg":"no such endpoint"})";
      return res;
    }
    body += binance ? "]" : "]}";
    res.body() = body;
    log_.push_back(r);
    return res;
  }

  std::size_t cap_;
  std::vector<Funding> funding_;
  net::io_context io_;
  ssl::context ctx_{ssl::context::tls_server};
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::string ca_file_;
  std::uint16_t port_{0};
  mutable std::mutex mu_;
  int limit_next_{0};
  int fail_next_{0};
  int fail_after_{-1};
  Quirk quirk_{Quirk::none};
  std::pair<std::int64_t, std::int64_t> hole_{-1, -1};
  std::vector<Request> log_;
};

class Download : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("enigma_download_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const auto& s = source();
    ASSERT_GT(s.size(), 3000u);
    // The slices used below hold no hole of their own: every candle 5 m after the previous one.
    for (std::size_t i = 800; i < 2400; ++i) ASSERT_EQ(s[i].t - s[i - 1].t, kStep) << s[i].datetime;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Out download(const FakeVenue& v, const std::string& args, bool quiet = true) {
    return run_enigma("download --base-url " + v.url() + " --ca-file " + v.ca_file() + " --out " +
                      (dir_ / "data").string() + (quiet ? " --quiet " : " ") + args);
  }
  static std::string range(std::size_t a, std::size_t b) {  // candles [a, b) of the source, as --from/--to
    return "--from '" + source()[a].datetime + "' --to '" + dt_text(source()[a].t + (b - a) * kStep) + "'";
  }
  static std::vector<Candle> slice(std::size_t a, std::size_t b) {
    return {source().begin() + static_cast<std::ptrdiff_t>(a), source().begin() + static_cast<std::ptrdiff_t>(b)};
  }
  fs::path dir_;
};

// Paging under the venue's own cap of 100 rows, one 429 waited out, the file equal to the source rows; a
// second run over a longer range asks only for what is missing; `enigma optimize` runs on the result.
TEST_F(Download, BinanceCandlesPageWaitOutA429AndFetchOnlyWhatIsMissing) {
  FakeVenue v(100);
  v.rate_limit_next(1);
  const auto t0 = std::chrono::steady_clock::now();
  const Out a = download(v, "--venue binance-usdm --symbol BTCUSDT --interval 5m " + range(1000, 1600));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(a.code, 0) << a.text;
  const fs::path file = dir_ / "data" / "binance-usdm_BTCUSDT_5m.csv";
  EXPECT_EQ(read_candles(file.string()), slice(1000, 1600));
  // 429 first (Retry-After: 1 s waited), then the same range again, and six pages of 100.
  const auto r1 = v.requests();
  ASSERT_EQ(r1.size(), 7u) << a.text;
  EXPECT_EQ(r1[0].status, 429);
  EXPECT_EQ(r1[1].from, r1[0].from);
  EXPECT_EQ(r1[1].to, r1[0].to);
  EXPECT_GE(took, 1.0);
  for (std::size_t i = 1; i < r1.size(); ++i) EXPECT_EQ(r1[i].rows, 100u) << i;
  EXPECT_NE(a.text.find("600 rows"), std::string::npos) << a.text;
  EXPECT_NE(a.text.find("0 gaps"), std::string::npos) << a.text;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "data"), fs::directory_iterator{}), 1) << "temp file left";

  // 200 candles before and 300 after: only those are asked for and served.
  v.clear();
  const Out b = download(v, "--venue binance-usdm --symbol BTCUSDT --interval 5m " + range(800, 1900));
  ASSERT_EQ(b.code, 0) << b.text;
  EXPECT_EQ(read_candles(file.string()), slice(800, 1900));
  std::size_t served = 0;
  for (const auto& r : v.requests()) {
    served += r.rows;
    EXPECT_TRUE(r.to < source()[1000].t || r.from > source()[1599].t)
        << "asked again for held candles: " << dt_text(r.from) << " .. " << dt_text(r.to);
  }
  EXPECT_EQ(served, 500u);
  EXPECT_NE(b.text.find("had 600; fetched 500"), std::string::npos) << b.text;

  // A third run over the same range asks for nothing.
  v.clear();
  const Out c = download(v, "--venue binance-usdm --symbol BTCUSDT --interval 5m " + range(800, 1900));
  ASSERT_EQ(c.code, 0) << c.text;
  EXPECT_TRUE(v.requests().empty());

  // The downloaded file is what optimize reads.
  const fs::path cfg = dir_ / "opt.toml";
  std::ofstream(cfg) << "[optimize]\ndata = \"" << file.string() << "\"\nmin_trades = 0\nmax_drawdown = 1.0\n"
                     << "train_fraction = 0.7\nruns_dir = \"" << (dir_ / "runs").string() << "\"\n[optimize.params]\n"
                     << "rsi_period = [14]\nrsi_oversold = [30]\nrsi_overbought = [70]\nmin_score = [40]\n"
                     << "stop_loss_roi = [0.5]\ntake_profit_roi = [1.0, 2.0]\nleverage = [25]\n";
  const Out o = run_enigma("optimize --quiet --threads 1 --config " + cfg.string());
  ASSERT_EQ(o.code, 0) << o.text;
  fs::path best;
  for (const auto& e : fs::directory_iterator(dir_ / "runs"))
    if (e.is_directory()) best = e.path() / "best.toml";
  EXPECT_NE(enigma::testing::slurp(best).find(file.string() + ", 1100 candles " + "2025"), std::string::npos)
      << enigma::testing::slurp(best);
}

// The whole bundled file (66 days of 5 m candles) in pages of 1500: equal to its source, no gap, 13
// requests; `enigma indicators` reads the result.
TEST_F(Download, WholeBundledFileInDocumentedPages) {
  FakeVenue v(100'000);
  const auto& s = source();
  const auto t0 = std::chrono::steady_clock::now();
  const Out a = download(v, "--symbol BTCUSDT " + range(0, s.size()));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(a.code, 0) << a.text;
  std::printf("download of %zu candles in %zu requests: %.3f s\n", s.size(), v.requests().size(), took);
  const fs::path file = dir_ / "data" / "binance-usdm_BTCUSDT_5m.csv";
  EXPECT_EQ(read_candles(file.string()), s);
  EXPECT_EQ(v.requests().size(), (s.size() + 1499) / 1500);
  for (const auto& r : v.requests()) EXPECT_LE(r.rows, 1500u);
  EXPECT_NE(a.text.find("0 gaps"), std::string::npos) << a.text;
  const fs::path ind = dir_ / "ind.csv";
  const Out i = run_enigma("indicators --csv " + file.string() + " --out " + ind.string());
  ASSERT_EQ(i.code, 0) << i.text;
  std::ifstream in(ind);
  std::size_t lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_EQ(lines, s.size() + 1);
}

// A hole in the venue's data is reported with the open times of its first and last missing candle.
TEST_F(Download, HoleInTheVenueDataIsReportedAsAGap) {
  FakeVenue v(1000);
  v.set_hole(source()[1100].t, source()[1111].t);
  v.fail_next(2);  // two 503s: retried
  const Out a = download(v, "--symbol BTCUSDT " + range(1000, 1200));
  ASSERT_EQ(a.code, 0) << a.text;
  EXPECT_NE(a.text.find("0 rate-limit waits (429), 2 retries"), std::string::npos) << a.text;
  EXPECT_NE(a.text.find("1 gap)"), std::string::npos) << a.text;
  EXPECT_NE(a.text.find("gap: " + source()[1100].datetime + " .. " + source()[1111].datetime + " (12 candles missing)"),
            std::string::npos)
      << a.text;
  std::vector<Candle> want = slice(1000, 1100);
  for (const Candle& c : slice(1112, 1200)) want.push_back(c);
  EXPECT_EQ(read_candles((dir_ / "data" / "binance-usdm_BTCUSDT_5m.csv").string()), want);
}

// The venue fails for good after two pages: exit 3 naming the request, the two pages kept in the file,
// and the next run asks only for the third.
TEST_F(Download, FailureKeepsWhatArrivedAndTheNextRunResumes) {
  FakeVenue v(100);
  v.fail_after(2);
  const Out a = download(v, "--symbol BTCUSDT --retries 1 " + range(1000, 1300));
  EXPECT_EQ(a.code, 3) << a.text;
  EXPECT_NE(a.text.find("HTTP 503"), std::string::npos) << a.text;
  EXPECT_EQ(v.requests().size(), 4u);  // two pages, a 503 and its one retry
  const fs::path file = dir_ / "data" / "binance-usdm_BTCUSDT_5m.csv";
  EXPECT_EQ(read_candles(file.string()), slice(1000, 1200));
  v.fail_after(-1);
  v.clear();
  const Out b = download(v, "--symbol BTCUSDT " + range(1000, 1300));
  ASSERT_EQ(b.code, 0) << b.text;
  EXPECT_EQ(read_candles(file.string()), slice(1000, 1300));
  const auto reqs = v.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].from, source()[1200].t);
}

// KuCoin Futures' dialect: granularity in minutes, from/to, numbers as JSON numbers, {"code","data"}.
TEST_F(Download, KucoinFuturesCandles) {
  FakeVenue v(50);
  const Out a = download(v, "--venue kucoin-futures --symbol XBTUSDTM --interval 5m " + range(2000, 2300), false);
  ASSERT_EQ(a.code, 0) << a.text;
  EXPECT_NE(a.text.find("download: 100% of the missing range, 300 rows in 6 requests"), std::string::npos) << a.text;
  EXPECT_NE(a.text.find("ETA"), std::string::npos) << a.text;
  EXPECT_EQ(read_candles((dir_ / "data" / "kucoin-futures_XBTUSDTM_5m.csv").string()), slice(2000, 2300));
  const auto reqs = v.requests();
  ASSERT_FALSE(reqs.empty());
  for (const auto& r : reqs) {
    EXPECT_EQ(r.path, "/api/v1/kline/query");
    EXPECT_LE((r.to - r.from) / kStep + 1, 200) << "more than KuCoin's 200 candles per request";
  }
  EXPECT_EQ(reqs.size(), 6u);  // windows of 200 and 100 candles, 50 per answer

  // A venue repeating a candle: dropped and counted, the file unchanged in content.
  v.set_quirk(FakeVenue::Quirk::duplicate);
  const Out b = download(v, "--venue kucoin-futures --symbol XBTUSDTM --interval 5m " + range(1900, 2300));
  ASSERT_EQ(b.code, 0) << b.text;
  EXPECT_NE(b.text.find("had 300; fetched 100 in 2 requests; 2 duplicates dropped"), std::string::npos) << b.text;
  EXPECT_EQ(read_candles((dir_ / "data" / "kucoin-futures_XBTUSDTM_5m.csv").string()), slice(1900, 2300));

  // Rows out of order: refused (exit 3 naming the request), nothing written.
  v.set_quirk(FakeVenue::Quirk::unordered);
  const Out c = download(v, "--venue kucoin-futures --symbol ETHUSDTM --interval 5m " + range(2000, 2100));
  EXPECT_EQ(c.code, 3) << c.text;
  EXPECT_NE(c.text.find("/api/v1/kline/query?symbol=ETHUSDTM"), std::string::npos) << c.text;
  EXPECT_NE(c.text.find("rows out of order"), std::string::npos) << c.text;
  EXPECT_FALSE(fs::exists(dir_ / "data" / "kucoin-futures_ETHUSDTM_5m.csv"));
}

// Binance funding history with the venue capping pages at 10: every settlement in the range, in order.
TEST_F(Download, BinanceFundingHistory) {
  FakeVenue v(10);
  const Out a = download(v, "--symbol BTCUSDT --what funding --from 2025-06-03 --to 2025-06-13");
  ASSERT_EQ(a.code, 0) << a.text;
  std::ifstream in(dir_ / "data" / "binance-usdm_BTCUSDT_funding.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "datetime,time_ms,funding_rate");
  std::vector<std::string> got, want;
  while (std::getline(in, line)) got.push_back(line);
  for (const Funding& f : funding_history())
    if (f.t >= parse_dt("2025-06-03 00:00:00") && f.t < parse_dt("2025-06-13 00:00:00"))
      want.push_back(dt_text(f.t) + "," + std::to_string(f.t) + "," + f.rate);
  EXPECT_EQ(want.size(), 30u);
  EXPECT_EQ(got, want);
  const auto reqs = v.requests();
  EXPECT_EQ(reqs.size(), 4u);  // three capped pages of 10, then an empty answer after the last settlement
  for (const auto& r : reqs) EXPECT_EQ(r.path, "/fapi/v1/fundingRate");

  // A longer range: only before the first settlement held and after the last one are asked for.
  v.clear();
  const Out b = download(v, "--symbol BTCUSDT --what funding --from 2025-06-02 --to 2025-06-15");
  ASSERT_EQ(b.code, 0) << b.text;
  for (const auto& r : v.requests())
    EXPECT_TRUE(r.to < parse_dt("2025-06-03 00:00:00") || r.from > parse_dt("2025-06-12 16:00:00"))
        << dt_text(r.from) << " .. " << dt_text(r.to);
  EXPECT_NE(b.text.find("39 rows, 2025-06-02 00:00:00 .. 2025-06-14 16:00:00 (had 30; fetched 9"), std::string::npos)
      << b.text;
}

// Usage errors exit 2 (http base URL, bad date); a file that is not ours, or unsorted, exits 3 naming it.
TEST_F(Download, RefusesBadArgumentsAndBadFiles) {
  EXPECT_EQ(run_enigma("download --symbol BTCUSDT --from 2025-06-03 --base-url http://127.0.0.1:1").code, 2);
  EXPECT_EQ(run_enigma("download --symbol BTCUSDT --from 2025-13-03").code, 2);
  EXPECT_EQ(run_enigma("download --help").code, 0);
  FakeVenue v(100);
  fs::create_directories(dir_ / "data");
  const fs::path file = dir_ / "data" / "binance-usdm_BTCUSDT_5m.csv";
  std::ofstream(file) << "datetime,open,high,low,close,volume\n"
                      << source()[1001].datetime << ",1,1,1,1,1\n"
                      << source()[1000].datetime << ",1,1,1,1,1\n";
  const Out a = download(v, "--symbol BTCUSDT " + range(1000, 1100));
  EXPECT_EQ(a.code, 3) << a.text;
  EXPECT_NE(a.text.find(file.string() + ":3:"), std::string::npos) << a.text;
  EXPECT_TRUE(v.requests().empty());
  // A row read back is checked as a fetched one is: low above high, or a number with a leading space, is
  // refused (it would otherwise be written back into the file as it is).
  for (const std::string row : {",1,1,2,1,1", ", 1,1,1,1,1"}) {
    std::ofstream(file) << "datetime,open,high,low,close,volume\n" << source()[1000].datetime << row << "\n";
    const Out b = download(v, "--symbol BTCUSDT " + range(1000, 1100));
    EXPECT_EQ(b.code, 3) << b.text;
    EXPECT_NE(b.text.find(file.string() + ":2:"), std::string::npos) << b.text;
    EXPECT_TRUE(v.requests().empty());
  }
}

}  // namespace
