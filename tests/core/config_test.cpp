// Config schema reader and secrets: valid files, and every error naming file, line and key.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/config.hpp"

using namespace enigma;
using config::Document;
using config::TableReader;

namespace {

std::string write_temp(const std::string& name, const std::string& text, mode_t mode = 0644) {
  const std::string p = ::testing::TempDir() + "/enigma_cfg_" + std::to_string(::getpid()) + "_" + name;
  std::remove(p.c_str());
  std::ofstream(p) << text;
  ::chmod(p.c_str(), mode);
  return p;
}

// Runs `f`, expects an enigma::Error, returns its message.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no enigma::Error thrown";
  return "";
}

EngineConfig engine_from(const std::string& text, const std::string& name = "engine.toml") {
  const auto doc = Document::parse(text, name);
  auto root = doc.root();
  EngineConfig e = EngineConfig::read(root.table("engine"));
  root.finish();
  return e;
}

}  // namespace

TEST(Config, ValidEngineFileFromDisk) {
  const std::string path = write_temp("valid.toml", R"(# live box
[engine]
topology = "pipelined"
idle = "spin"
cores = [2, 3, 5]
log_level = "debug"
log_rotate_size = "128MiB"
log_keep_files = 9
log_json = true
)");
  const auto doc = Document::load_file(path);
  auto root = doc.root();
  const EngineConfig e = EngineConfig::read(root.table("engine"));
  root.finish();
  EXPECT_EQ(e.topology, Topology::pipelined);
  EXPECT_EQ(e.idle, IdlePolicy::spin);
  EXPECT_EQ(e.cores, (std::vector<int>{2, 3, 5}));
  EXPECT_EQ(e.log_level, LogLevel::debug);
  EXPECT_EQ(e.log_rotate_bytes, 128ull << 20);
  EXPECT_EQ(e.log_keep_files, 9);
  EXPECT_TRUE(e.log_json);
}

TEST(Config, DefaultsWhenKeysAreAbsent) {
  const EngineConfig e = engine_from("[engine]\n");
  EXPECT_EQ(e.topology, Topology::fused);
  EXPECT_EQ(e.idle, IdlePolicy::backoff);
  EXPECT_TRUE(e.cores.empty());
  EXPECT_EQ(e.log_level, LogLevel::info);
  EXPECT_EQ(e.log_rotate_bytes, 64ull << 20);
  EXPECT_EQ(to_string(Topology::pipelined), "pipelined");
}

TEST(Config, UnknownKeyNamesFileLineAndKey) {
  const std::string msg = error_of([] { engine_from("[engine]\nidle = \"backoff\"\n\nlog_levle = \"info\"\n", "a.toml"); });
  EXPECT_EQ(msg, "a.toml:4:1: key 'engine.log_levle': unknown key");
}

TEST(Config, UnknownSectionAtTopLevel) {
  const std::string msg = error_of([] { engine_from("[engine]\n\n[engien]\nx = 1\n", "b.toml"); });
  EXPECT_NE(msg.find("b.toml:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("key 'engien': unknown key"), std::string::npos) << msg;
}

TEST(Config, WrongTypeNamesFileLineAndKey) {
  EXPECT_EQ(error_of([] { engine_from("[engine]\nlog_keep_files = \"five\"\n", "c.toml"); }),
            "c.toml:2:18: key 'engine.log_keep_files': expected integer, got string");
  EXPECT_EQ(error_of([] { engine_from("[engine]\ncores = 3\n", "c.toml"); }),
            "c.toml:2:9: key 'engine.cores': expected array of integers, got integer");
  EXPECT_EQ(error_of([] { engine_from("[engine]\ncores = [1, \"2\"]\n", "c.toml"); }),
            "c.toml:2:13: key 'engine.cores[1]': expected integer, got string");
  EXPECT_EQ(error_of([] { engine_from("[engine]\nlog_json = 1\n", "c.toml"); }),
            "c.toml:2:12: key 'engine.log_json': expected boolean, got integer");
  EXPECT_EQ(error_of([] { engine_from("engine = 5\n", "c.toml"); }),
            "c.toml:1:10: key 'engine': expected table, got integer");
}

TEST(Config, OutOfRangeAndBadChoices) {
  EXPECT_EQ(error_of([] { engine_from("[engine]\nlog_keep_files = 0\n", "d.toml"); }),
            "d.toml:2:18: key 'engine.log_keep_files': 0 is outside [1, 1000]");
  EXPECT_EQ(error_of([] { engine_from("[engine]\ncores = [0, 1024]\n", "d.toml"); }),
            "d.toml:2:13: key 'engine.cores[1]': 1024 is outside [0, 1023]");
  EXPECT_EQ(error_of([] { engine_from("[engine]\ncores = [1, 2, 1]\n", "d.toml"); }),
            "d.toml:2:16: key 'engine.cores[2]': 1 appears more than once");
  EXPECT_EQ(error_of([] { engine_from("[engine]\nidle = \"fast\"\n", "d.toml"); }),
            "d.toml:2:8: key 'engine.idle': expected one of spin|backoff, got \"fast\"");
  EXPECT_EQ(error_of([] { engine_from("[engine]\nlog_rotate_size = \"12XB\"\n", "d.toml"); }),
            "d.toml:2:19: key 'engine.log_rotate_size': \"12XB\" is not a size (examples: 4096, \"64KiB\", "
            "\"64MiB\", \"1GiB\")");
  EXPECT_EQ(error_of([] { engine_from("[engine]\nlog_rotate_size = 100\n", "d.toml"); }),
            "d.toml:2:19: key 'engine.log_rotate_size': 100 bytes is outside [4096, 1099511627776]");
  const std::string spin = error_of([] { engine_from("[engine]\nidle = \"spin\"\n", "d.toml"); });
  EXPECT_NE(spin.find("d.toml:2:8: key 'engine.idle': \"spin\" needs dedicated cores"), std::string::npos) << spin;
}

// Keys that used to parse and do nothing are refused, saying what to do instead.
TEST(Config, KeysWithoutEffectAreRefused) {
  const std::string mode = error_of([] { engine_from("[engine]\nmode = \"live\"\n", "m.toml"); });
  EXPECT_EQ(mode.rfind("m.toml:2:8: key 'engine.mode': is not a setting: the command chooses the mode", 0), 0u) << mode;
  const std::string dir = error_of([] { engine_from("[engine]\nlog_dir = \"/var/log/enigma\"\n", "m.toml"); });
  EXPECT_EQ(dir.rfind("m.toml:2:11: key 'engine.log_dir': is not a setting: each run logs to <run directory>/logs/enigma.log", 0), 0u)
      << dir;
}

// 999999999999 GiB is about 1.07e21 bytes: more than 2^64, so it must not wrap into an accepted small size.
TEST(Config, SizeThatOverflows64BitsIsRefused) {
  EXPECT_EQ(error_of([] { engine_from("[engine]\nlog_rotate_size = \"999999999999GiB\"\n", "s.toml"); }),
            "s.toml:2:19: key 'engine.log_rotate_size': \"999999999999GiB\" is more bytes than fit in 64 bits");
  // 17179869184 GiB = 2^64 exactly: one past the largest value, also refused rather than read as 0.
  EXPECT_EQ(error_of([] { engine_from("[engine]\nlog_rotate_size = \"17179869184GiB\"\n", "s.toml"); }),
            "s.toml:2:19: key 'engine.log_rotate_size': \"17179869184GiB\" is more bytes than fit in 64 bits");
}

TEST(Config, SyntaxErrorNamesFileLineAndColumn) {
  const std::string msg = error_of([] { (void)Document::parse("[engine]\nmode = \"live\nx=1\n", "e.toml"); });
  EXPECT_EQ(msg.rfind("e.toml:2:", 0), 0u) << msg;
  const std::string missing = error_of([] { (void)Document::load_file("/nonexistent/enigma.toml"); });
  EXPECT_NE(missing.find("/nonexistent/enigma.toml"), std::string::npos) << missing;
}

// The mechanism other modules use for their own sections.
TEST(Config, SchemaReaderForModuleSections) {
  const auto doc = Document::parse(R"(
[risk]
max_position = "2.5"
tick = 0.1
max_orders = 10
ratio = 1
kill_pct = 0.25
symbols = ["XBTUSDTM", "ETHUSDTM"]

[[instruments]]
symbol = "XBTUSDTM"
[[instruments]]
symbol = "ETHUSDTM"
lot = "1e-3"
)",
                                   "risk.toml");
  auto root = doc.root();
  auto risk = root.table("risk");
  EXPECT_EQ(risk.decimal<Qty>("max_position", std::nullopt).to_string(), "2.5");
  EXPECT_EQ(risk.decimal<Price>("tick", std::nullopt).raw(), Price::parse("0.1").value.raw()) << "float read exactly";
  EXPECT_EQ(risk.decimal<Price>("missing_with_default", Price::from_units(3)).to_string(), "3");
  EXPECT_EQ(risk.integer("max_orders", std::nullopt, 1, 100), 10);
  EXPECT_DOUBLE_EQ(risk.real("ratio", std::nullopt), 1.0);
  EXPECT_DOUBLE_EQ(risk.real("kill_pct", std::nullopt, 0.0, 1.0), 0.25);
  EXPECT_EQ(risk.string_list("symbols", std::nullopt), (std::vector<std::string>{"XBTUSDTM", "ETHUSDTM"}));
  EXPECT_FALSE(risk.optional_table("limits").has_value());
  EXPECT_EQ(error_of([&] { (void)risk.integer("required_key", std::nullopt); }),
            "risk.toml:2:1: key 'risk.required_key': is required");
  EXPECT_EQ(error_of([&] { (void)risk.decimal<Qty>("max_position", std::nullopt, std::nullopt, Qty::from_units(2)); }),
            "risk.toml:3:16: key 'risk.max_position': 2.5 is outside [-inf, 2]");
  EXPECT_EQ(error_of([&] { risk.fail("max_orders", "must be below the venue limit"); }),
            "risk.toml:5:14: key 'risk.max_orders': must be below the venue limit");
  risk.finish();

  auto instruments = root.table_array("instruments");
  ASSERT_EQ(instruments.size(), 2u);
  EXPECT_EQ(instruments[0].string("symbol", std::nullopt), "XBTUSDTM");
  EXPECT_EQ(instruments[0].decimal<Qty>("lot", Qty::from_units(1)).to_string(), "1");
  instruments[0].finish();
  EXPECT_EQ(error_of([&] { (void)instruments[1].decimal<Qty>("lot", std::nullopt); }),
            "risk.toml:14:7: key 'instruments[1].lot': \"1e-3\" is not a decimal this field can hold exactly");
  root.finish();
}

TEST(Secrets, FromEnvironmentFirst) {
  ::setenv("ENIGMA_TEST_SECRET", "env-secret-value", 1);
  const auto s = config::load_secret("ENIGMA_TEST_SECRET", "/nonexistent/never-read");
  EXPECT_EQ(s.reveal(), "env-secret-value");
  ::unsetenv("ENIGMA_TEST_SECRET");
}

TEST(Secrets, FromOwnerOnlyFile) {
  const std::string p600 = write_temp("secret600", "file-secret-value\n", 0600);
  EXPECT_EQ(config::load_secret("ENIGMA_TEST_UNSET_VAR", p600).reveal(), "file-secret-value");
  const std::string p400 = write_temp("secret400", "ro-secret", 0400);
  EXPECT_EQ(config::load_secret("", p400).reveal(), "ro-secret");
  config::Secret moved = config::load_secret("", p400);
  config::Secret target = std::move(moved);
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(target.reveal(), "ro-secret");
}

TEST(Secrets, GroupOrWorldReadableFileIsRejectedWithoutPrintingIt) {
  const std::string p = write_temp("secret644", "do-not-print-me", 0644);
  const std::string msg = error_of([&] { (void)config::load_secret("ENIGMA_TEST_UNSET_VAR", p); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("mode 0644"), std::string::npos) << msg;
  EXPECT_NE(msg.find("must be 0600 or 0400"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("do-not-print-me"), std::string::npos) << "the secret leaked into the message";
  const std::string p640 = write_temp("secret640", "x", 0640);
  EXPECT_NE(error_of([&] { (void)config::load_secret("", p640); }).find("mode 0640"), std::string::npos);
}

TEST(Secrets, MissingSourcesAreClearErrors) {
  EXPECT_NE(error_of([] { (void)config::load_secret("ENIGMA_TEST_UNSET_VAR", ""); })
                .find("environment variable 'ENIGMA_TEST_UNSET_VAR' is not set"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)config::load_secret("", "/nonexistent/key"); }).find("/nonexistent/key"),
            std::string::npos);
  const std::string empty = write_temp("secret_empty", "\n", 0600);
  EXPECT_NE(error_of([&] { (void)config::load_secret("", empty); }).find("is empty"), std::string::npos);
}

// A FIFO is refused at once, not waited on (open would block until a writer came); values that are not
// printable ASCII without spaces are refused naming their origin, never printing them.
TEST(Secrets, FifoAndNonPrintableValuesAreRefused) {
  const std::string fifo = ::testing::TempDir() + "/secret_fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { (void)config::load_secret("", fifo); }), "secret file '" + fifo + "': not a regular file");
  const std::string two_lines = write_temp("secret_two_lines", "first-line\nsecond-line\n", 0600);
  const std::string msg = error_of([&] { (void)config::load_secret("", two_lines); });
  EXPECT_EQ(msg.rfind("secret file '" + two_lines + "': contains a space, a line break", 0), 0u) << msg;
  EXPECT_EQ(msg.find("first-line"), std::string::npos) << msg;
  ::setenv("ENIGMA_TEST_SECRET", "has\ttab", 1);
  const std::string env = error_of([] { (void)config::load_secret("ENIGMA_TEST_SECRET", ""); });
  EXPECT_EQ(env.rfind("secret: environment variable 'ENIGMA_TEST_SECRET' contains a space", 0), 0u) << env;
  ::unsetenv("ENIGMA_TEST_SECRET");
  const std::string good = write_temp("secret_good", "abcDEF123-_\r\n", 0600);
  const config::Secret s = config::load_secret("ENIGMA_TEST_UNSET_VAR", good);
  EXPECT_EQ(s.reveal(), "abcDEF123-_");
  EXPECT_EQ(s.origin(), "file '" + good + "'");
}

// table_or_empty: an absent sub-table reads as its defaults and still lists its keys (as "<table>.<key>",
// nested tables too); a present one reads its values, and its unknown keys and wrong type name the dotted key.
TEST(Config, TableOrEmptyReadsDefaultsAndListsNestedKeys) {
  auto read = [](const std::string& text, std::vector<config::KeyDoc>* schema) {
    const auto doc = Document::parse(text, "t.toml");
    TableReader root = doc.root();
    if (schema != nullptr) root.document_into(schema);
    TableReader a = root.table_or_empty("a");
    const double x = a.real("x", 1.5);
    TableReader b = a.table_or_empty("b");
    const auto y = b.integer("y", 7, 0, 9);
    b.finish();
    a.finish();
    root.finish();
    return std::pair{x, y};
  };
  std::vector<config::KeyDoc> schema;
  EXPECT_EQ(read("", &schema), (std::pair{1.5, std::int64_t{7}}));
  ASSERT_EQ(schema.size(), 2u);
  EXPECT_EQ(schema[0].key, "a.x");
  EXPECT_EQ(schema[1].key, "a.b.y");
  EXPECT_EQ(schema[1].range, "[0, 9]");
  EXPECT_EQ(read("[a]\nx = 2\n[a.b]\ny = 3\n", nullptr), (std::pair{2.0, std::int64_t{3}}));
  EXPECT_NE(error_of([&] { read("[a.b]\nz = 1\n", nullptr); }).find("a.b.z"), std::string::npos);
  EXPECT_NE(error_of([&] { read("a = 3\n", nullptr); }).find("'a'"), std::string::npos);
  EXPECT_NE(error_of([&] { read("[a.b]\ny = 10\n", nullptr); }).find("a.b.y"), std::string::npos);
}
