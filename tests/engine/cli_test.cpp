// The `enigma` binary as a user meets it: --help, exit codes, clear errors, book-check's closing line,
// the indicators command, and a replay that leaves the run directory promised in the README.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct Out {
  int code;
  std::string text;
};

Out run(const std::string& args) {
  const std::string cmd = std::string(ENIGMA_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string text;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, text};
}

const std::string kSrc = ENIGMA_SOURCE_DIR;

}  // namespace

TEST(EngineCli, HelpListsEveryCommand) {
  const Out o = run("--help");
  EXPECT_EQ(o.code, 0);
  for (const char* c : {"replay", "bench", "book-check", "indicators", "report", "check-host", "convert"})
    EXPECT_NE(o.text.find(c), std::string::npos) << c;
  EXPECT_EQ(run("replay --help").code, 0);
}

TEST(EngineCli, UsageAndRuntimeErrorsHaveDistinctCodes) {
  EXPECT_EQ(run("no-such-command").code, 2);
  const Out missing = run("book-check --venue binance-usdm /no/such/file");
  EXPECT_EQ(missing.code, 2);  // CLI validation of the path
  const std::string bad = ::testing::TempDir() + "/bad.toml";
  std::ofstream(bad) << "[replay]\nvenue = \"binance-usdm\"\nspeeed = \"max\"\n";
  const Out o = run("replay --config " + bad);
  EXPECT_EQ(o.code, 3);
  EXPECT_NE(o.text.find("speeed"), std::string::npos) << o.text;  // names the unknown key
  EXPECT_NE(o.text.find("bad.toml:3"), std::string::npos) << o.text;  // and where it is
}

TEST(EngineCli, BookCheckPrintsTheClosingLine) {
  const Out o = run("book-check --venue binance-usdm " + kSrc +
                    "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz");
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("book-check: checked=629 mismatched=0 gaps=0"), std::string::npos) << o.text;
}

TEST(EngineCli, IndicatorsWritesOracleColumns) {
  const std::string out = ::testing::TempDir() + "/ind.csv";
  const Out o = run("indicators --csv " + kSrc + "/data/indicators/talib_0.4.0_oracle_regtest_daily_ref_252bars.csv.gz --out " + out);
  ASSERT_EQ(o.code, 0) << o.text;
  std::ifstream in(out);
  std::string header;
  std::getline(in, header);
  for (const char* c : {"SMA_20", "RSI_14", "MACD_12_26_9_macd", "SAR_0.02_0.2", "AO_5_34", "KDJ_9_3_3_j"})
    EXPECT_NE(header.find(c), std::string::npos) << c;
}

TEST(EngineCli, ReplayWritesTheRunDirectory) {
  const std::string runs = ::testing::TempDir() + "/runs-cli";
  std::filesystem::remove_all(runs);
  const Out o = run("replay --quiet --config " + kSrc + "/config/replay.toml --data " + kSrc +
                    "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz --runs-dir " + runs);
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("P&L net of fees and funding"), std::string::npos) << o.text;
  const std::filesystem::path dir = std::filesystem::canonical(runs + "/latest");
  for (const char* f : {"summary.json", "trades.csv", "equity.csv", "report.md", "report.html", "decode.hgrm", "frame.hgrm",
                        "logs/enigma.log"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  std::ifstream html(dir / "report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<svg"), std::string::npos);  // plots are there
  // Same input, same config: byte-identical trades.csv.
  const Out again = run("replay --quiet --config " + kSrc + "/config/replay.toml --runs-dir " + runs);
  ASSERT_EQ(again.code, 0) << again.text;
  const std::filesystem::path dir2 = std::filesystem::canonical(runs + "/latest");
  ASSERT_NE(dir, dir2);
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream f(p);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(slurp(dir / "trades.csv"), slurp(dir2 / "trades.csv"));
  EXPECT_GT(slurp(dir / "trades.csv").size(), 100u);
}
