// The journal and the recorder as a user meets them through the `enigma` binary: a disk too small for the
// journal is a clean start-up error (exit 3, path and bytes named; never SIGBUS), `journal-check` reports
// contents and damage with its exit codes, and a recording made by `enigma convert` replays and
// book-checks exactly like the capture it came from.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "oms/journal.hpp"
#include "tests/support/enigma_process.hpp"

namespace {

using enigma::testing::Out;
using enigma::testing::run_enigma;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

// The `"feed": {...}` line of a run's summary.json: frames, book updates, book checks and mismatches.
std::string feed_section(const std::string& run_dir) {
  std::istringstream in(slurp(run_dir + "/summary.json"));
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"feed\":") != std::string::npos) return line;
  }
  return "";
}

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

const std::string kSrc = ENIGMA_SOURCE_DIR;
const std::string kUsdm = kSrc + "/data/binance/hftbacktest_usdm_BTCUSDT_ws_depth_trade_bookTicker_raw_20240808.gz";
const std::string kReplay = "replay --quiet --config " + kSrc + "/config/replay.toml";

}  // namespace

// A 512 KiB tmpfs cannot hold the 1 MiB journal a replay reserves at start: the run must stop at once
// with exit 3 and a message naming the journal file and the bytes it needs, not die of SIGBUS later.
TEST(EngineJournalCli, DiskTooSmallForTheJournalIsAStartupErrorNotSigbus) {
  const std::string mnt = fresh_dir("journal-tmpfs");
  if (std::system(("mount -t tmpfs -o size=512k tmpfs " + mnt + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs at " << mnt << " (needs root / CAP_SYS_ADMIN); skipping the disk-full test";
  }
  const Out o = run_enigma(kReplay + " --data " + kUsdm + " --runs-dir " + mnt, "2>&1 >/dev/null");
  std::string journal;
  for (const auto& e : std::filesystem::recursive_directory_iterator(mnt)) {
    if (e.path().filename() == "logs") journal = e.path().parent_path().string() + "/journal.bin";
  }
  (void)std::system(("umount " + mnt).c_str());
  EXPECT_EQ(o.code, 3) << "exit " << o.code << " (above 128: killed by signal code - 128)\n" << o.text;
  ASSERT_FALSE(journal.empty()) << o.text;
  EXPECT_NE(o.text.find(journal), std::string::npos) << o.text;
  // A replay's segment: 4,096 records of 256 bytes plus the header slot (the config leaves
  // [oms] journal_segment_records at its default).
  EXPECT_NE(o.text.find("cannot reserve 1048832 bytes"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("bytes missing"), std::string::npos) << o.text;
}

// Disk full mid-run: a 500 KiB tmpfs holds the first journal segment (1024 records, 262,400 bytes) and the
// log (heartbeats off) but not the next segment, which the journal prepares at 75 %. At 90 % the engine runs its
// emergency sequence (cancels, closes: the rest of the segment is theirs), ends the run and exits 3 naming the segment
// file and the bytes missing; the summary says why, or stderr says why it could not be written. Never a signal exit.
TEST(EngineJournalCli, DiskFullMidRunEndsTheRunWithExit3NamingPathAndBytes) {
  const std::string mnt = fresh_dir("journal-tmpfs-midrun");
  if (std::system(("mount -t tmpfs -o size=500k tmpfs " + mnt + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs at " << mnt << " (needs root / CAP_SYS_ADMIN); skipping the disk-full test";
  }
  const std::string cfg = mnt + "/../journal-midrun.toml";
  std::ofstream(cfg) << slurp(kSrc + "/config/replay.toml") << "\n";
  // The bundled replay journals 1,026 records: past 90 % of a 1,024-record segment.
  std::string text = slurp(cfg);
  const auto at = text.find("[oms]\n");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 6, "journal_segment_records = 1024\n");
  text += "\n[log]\nheartbeat_s = 0\n";
  std::ofstream(cfg, std::ios::trunc) << text;
  const Out o = run_enigma("replay --quiet --config " + cfg + " --data " + kUsdm + " --runs-dir " + mnt, "2>&1");
  std::string dir;
  for (const auto& e : std::filesystem::directory_iterator(mnt))
    if (e.is_directory() && e.path().filename() != "latest") dir = e.path().string();
  const std::string summary = dir.empty() ? "" : slurp(dir + "/summary.json");
  const std::string log = dir.empty() ? "" : slurp(dir + "/logs/enigma.log");
  const bool journal_clean = !dir.empty() && run_enigma("journal-check " + dir + "/journal.bin").code == 0;
  (void)std::system(("umount " + mnt).c_str());

  EXPECT_EQ(o.code, 3) << "exit " << o.code << " (above 128: killed by signal code - 128)\n" << o.text;
  ASSERT_FALSE(dir.empty()) << o.text;
  const std::string next_segment = dir + "/journal.000001.bin";
  EXPECT_NE(o.text.find("stopped: journal " + next_segment + ": cannot reserve 262400 bytes"), std::string::npos)
      << o.text;
  EXPECT_NE(o.text.find("bytes missing"), std::string::npos) << o.text;
  if (summary.empty()) {
    EXPECT_NE(o.text.find("the summary could not be written: cannot write '" + dir), std::string::npos) << o.text;
  } else {
    EXPECT_NE(summary.find("\"fatal_error\": \"journal " + next_segment + ": cannot reserve 262400 bytes"),
              std::string::npos)
        << summary;
    EXPECT_NE(summary.find("\"emergency_stops\": 1"), std::string::npos) << summary;
  }
  EXPECT_NE(log.find("emergency_stop cause=journal"), std::string::npos) << log;
  EXPECT_TRUE(journal_clean) << "the journal written up to the stop is intact";
  EXPECT_FALSE(std::filesystem::exists(next_segment + ".tmp")) << "no half-prepared segment is left behind";
}

TEST(EngineJournalCli, JournalCheckReportsContentsAndDamageWithItsExitCodes) {
  const std::string runs = fresh_dir("journal-check-runs");
  ASSERT_EQ(run_enigma(kReplay + " --data " + kUsdm + " --runs-dir " + runs).code, 0);
  const std::string dir = std::filesystem::canonical(runs + "/latest").string();
  const std::string journal = dir + "/journal.bin";
  const enigma::oms::JournalReplay expected = enigma::oms::Journal::replay(journal);
  ASSERT_GT(expected.records, 10u);

  const Out clean = run_enigma("journal-check " + dir);  // a directory: finds its one journal
  EXPECT_EQ(clean.code, 0) << clean.text;
  EXPECT_NE(clean.text.find("journal-check: clean"), std::string::npos) << clean.text;
  EXPECT_NE(clean.text.find("order=" + std::to_string(expected.counts[1]) + " "), std::string::npos) << clean.text;
  EXPECT_NE(clean.text.find("next client counter: " + std::to_string(expected.next_client_counter)), std::string::npos)
      << clean.text;
  EXPECT_NE(clean.text.find("orders: " + std::to_string(expected.orders.size()) + " (open " +
                            std::to_string(expected.open_orders().size()) + ")"),
            std::string::npos)
      << clean.text;
  EXPECT_EQ(run_enigma("journal-check " + journal).code, 0);

  // One flipped byte in record 5 (slot 0 is the header): damaged, at that record's offset, file untouched.
  const std::string damaged = runs + "/damaged.bin";
  std::filesystem::copy_file(journal, damaged);
  {
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5 * 256 + 77);
    f.put('\x7f');
  }
  const std::string before = slurp(damaged);
  const Out bad = run_enigma("journal-check " + damaged);
  EXPECT_EQ(bad.code, 1) << bad.text;
  EXPECT_NE(bad.text.find("DAMAGED: " + damaged + ": offset 1280: record CRC mismatch"), std::string::npos) << bad.text;
  EXPECT_TRUE(slurp(damaged) == before);

  EXPECT_EQ(run_enigma("journal-check " + runs + "/no-such-journal.bin").code, 3);
  const std::string two = runs + "/two";
  std::filesystem::create_directories(two);
  std::filesystem::copy_file(journal, two + "/a.bin");
  std::filesystem::copy_file(journal, two + "/b.bin");
  EXPECT_EQ(run_enigma("journal-check " + two).code, 2) << "a directory with several journals is ambiguous";
  EXPECT_EQ(run_enigma("journal-check").code, 2);
}

// `enigma convert` output replays like its source: same book checks and feed counters in summary.json,
// byte-identical trades.csv, and the same book-check result.
TEST(EngineJournalCli, ConvertedRecordingReplaysAndBookChecksLikeItsSource) {
  const std::string dir = fresh_dir("recording-replay");
  const std::string rec = dir + "/out.rec";
  const Out conv = run_enigma("convert " + kUsdm + " " + rec);
  ASSERT_EQ(conv.code, 0) << conv.text;

  ASSERT_EQ(run_enigma(kReplay + " --data " + kUsdm + " --runs-dir " + dir + "/src").code, 0);
  const Out replayed = run_enigma(kReplay + " --data " + rec + " --runs-dir " + dir + "/rec");
  ASSERT_EQ(replayed.code, 0) << replayed.text;
  const std::string src_run = std::filesystem::canonical(dir + "/src/latest").string();
  const std::string rec_run = std::filesystem::canonical(dir + "/rec/latest").string();
  const std::string feed = feed_section(src_run);
  ASSERT_NE(feed.find("\"book_checks\": "), std::string::npos) << feed;
  ASSERT_EQ(feed.find("\"book_checks\": 0,"), std::string::npos) << feed;
  EXPECT_EQ(feed_section(rec_run), feed);
  const std::string trades = slurp(src_run + "/trades.csv");
  EXPECT_GT(std::count(trades.begin(), trades.end(), '\n'), 5);
  EXPECT_TRUE(slurp(rec_run + "/trades.csv") == trades);

  const Out bc_src = run_enigma("book-check --venue binance-usdm " + kUsdm);
  const Out bc_rec = run_enigma("book-check --venue binance-usdm " + rec);
  EXPECT_EQ(bc_rec.code, 0) << bc_rec.text;
  EXPECT_EQ(bc_rec.text, bc_src.text);

  // A recorder that crashed mid-write leaves a torn last record: the valid prefix replays, with a warning.
  std::filesystem::resize_file(rec, std::filesystem::file_size(rec) - 10);
  const Out torn = run_enigma("book-check --venue binance-usdm " + rec);
  EXPECT_EQ(torn.code, 0) << torn.text;
  EXPECT_NE(torn.text.find("torn last record"), std::string::npos) << torn.text;
  EXPECT_NE(torn.text.find("checked=629 mismatched=0"), std::string::npos) << torn.text;
}
