// TOML configuration read into typed structs, with validation that names file, line and key.
//
// The product here is the schema mechanism: each module declares the keys of its own section with a
// TableReader (type, default or required, allowed range or choices) and ends with finish(), which rejects
// any key nobody declared. Every failure is an enigma::Error like
//     config/live.toml:12:9: key 'engine.idle': expected one of spin|backoff, got "fast"
// Example (see EngineConfig::read for a complete one):
//     auto doc = config::Document::load_file(path);
//     auto root = doc.root();
//     EngineConfig engine = EngineConfig::read(root.table("engine"));
//     RiskConfig risk = RiskConfig::read(root.table("risk"));   // declared by the risk module
//     root.finish();                                             // unknown top-level sections fail here
// Secrets never come from the TOML: load_secret() reads an environment variable or an owner-only file.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "core/error.hpp"
#include "core/fixed_point.hpp"
#include "core/logger.hpp"
#include "core/stage_runner.hpp"

namespace enigma::config {

// Reads one TOML table. Not thread-safe; cold path only. All getters throw Error on a wrong type, a value
// out of range, or a missing key without default (`std::nullopt` default = required).
// One key a reader asked for, as `enigma strategies` lists a config schema (TableReader::document_into).
struct KeyDoc {
  std::string key;
  std::string dflt;   // "" when required
  std::string range;  // "" when unbounded
};

class TableReader {
 public:
  // `source` names the file in messages; `prefix` is the dotted path of this table ("" for the root).
  TableReader(const toml::table& table, std::string source, std::string prefix);

  [[nodiscard]] bool has(std::string_view key) const;

  [[nodiscard]] bool boolean(std::string_view key, std::optional<bool> dflt);
  [[nodiscard]] std::int64_t integer(std::string_view key, std::optional<std::int64_t> dflt,
                                     std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                     std::int64_t max = std::numeric_limits<std::int64_t>::max());
  // Accepts integers and floats.
  [[nodiscard]] double real(std::string_view key, std::optional<double> dflt,
                            double min = -std::numeric_limits<double>::infinity(),
                            double max = std::numeric_limits<double>::infinity());
  // `allow_empty = false` rejects "".
  [[nodiscard]] std::string string(std::string_view key, std::optional<std::string> dflt, bool allow_empty = false);
  // Integer bytes, or a string with a unit: "512", "64KiB", "64MiB", "1GiB" (also KB/MB/GB = powers of 10).
  [[nodiscard]] std::uint64_t size_bytes(std::string_view key, std::optional<std::uint64_t> dflt,
                                         std::uint64_t min = 0,
                                         std::uint64_t max = std::numeric_limits<std::uint64_t>::max());
  // Exact decimal (Price, Qty, Notional, Rate): a string "0.001" (preferred: exact), an integer, or a
  // float (converted through its shortest round-trip text, so 0.1 reads as 0.1).
  template <class F>
  [[nodiscard]] F decimal(std::string_view key, std::optional<F> dflt, std::optional<F> min = std::nullopt,
                          std::optional<F> max = std::nullopt) {
    const auto raw = decimal_raw(key, dflt ? std::optional<std::int64_t>(dflt->raw()) : std::nullopt,
                                 min ? std::optional<std::int64_t>(min->raw()) : std::nullopt,
                                 max ? std::optional<std::int64_t>(max->raw()) : std::nullopt, &parse_as<F>,
                                 &format_as<F>);
    return F::from_raw(raw);
  }
  // One of a fixed set of strings, mapped to an enum (or any value type).
  template <class E>
  [[nodiscard]] E choice(std::string_view key, std::optional<E> dflt,
                         std::initializer_list<std::pair<std::string_view, E>> options) {
    std::vector<std::string_view> names;
    std::string_view dflt_name;
    for (const auto& o : options) {
      names.push_back(o.first);
      if (dflt && dflt_name.empty() && o.second == *dflt) dflt_name = o.first;
    }
    const std::optional<std::size_t> i = choice_index(key, dflt.has_value(), names, dflt_name);
    if (!i) return *dflt;
    return (options.begin() + *i)->second;
  }
  [[nodiscard]] std::vector<std::int64_t> integer_list(std::string_view key,
                                                       std::optional<std::vector<std::int64_t>> dflt,
                                                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                                       std::int64_t max = std::numeric_limits<std::int64_t>::max(),
                                                       bool unique = false);
  [[nodiscard]] std::vector<std::string> string_list(std::string_view key,
                                                     std::optional<std::vector<std::string>> dflt);

  // Sub-tables. table() requires it; optional_table() returns nullopt when absent.
  [[nodiscard]] TableReader table(std::string_view key);
  [[nodiscard]] std::optional<TableReader> optional_table(std::string_view key);
  // An optional sub-table read as empty when absent (every getter returns its default); its keys go into
  // this reader's schema listing (document_into) as "<key>.<name>".
  [[nodiscard]] TableReader table_or_empty(std::string_view key);
  // [[key]] arrays of tables (e.g. instruments); empty when absent.
  [[nodiscard]] std::vector<TableReader> table_array(std::string_view key);
  // Marks a key as handled by someone else (e.g. a section read by another module later).
  void ignore(std::string_view key);

  // Fails on the first key of this table that no getter declared (call after every getter).
  void finish() const;

  // For callers' own cross-field checks: an Error naming file, line and key (the key's own line when
  // present, else the table's).
  [[noreturn]] void fail(std::string_view key, std::string_view why) const;
  [[nodiscard]] std::string dotted(std::string_view key) const;
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  // From now on every getter also appends its key, default and range to `out` (a schema listing).
  void document_into(std::vector<KeyDoc>* out) noexcept { schema_ = out; }

 private:
  using ParseFn = bool (*)(std::string_view, std::int64_t&);
  using FormatFn = std::string (*)(std::int64_t);
  template <class F>
  static bool parse_as(std::string_view s, std::int64_t& raw) {
    const auto r = F::parse(s);
    raw = r.value.raw();
    return r.ok();
  }
  template <class F>
  static std::string format_as(std::int64_t raw) {
    return F::from_raw(raw).to_string();
  }
  std::int64_t decimal_raw(std::string_view key, std::optional<std::int64_t> dflt, std::optional<std::int64_t> min,
                           std::optional<std::int64_t> max, ParseFn parse, FormatFn format);
  std::optional<std::size_t> choice_index(std::string_view key, bool has_default,
                                          const std::vector<std::string_view>& names, std::string_view dflt_name = {});
  // The node for `key` (marked as declared), or nullptr when absent.
  const toml::node* lookup(std::string_view key);
  [[noreturn]] void fail_at(const toml::source_region& where, std::string_view key, std::string_view why) const;
  [[noreturn]] void fail_type(const toml::node& node, std::string_view key, std::string_view expected) const;
  [[noreturn]] void fail_missing(std::string_view key) const;

  const toml::table* table_;
  std::string source_;
  std::string prefix_;
  std::set<std::string, std::less<>> declared_;
  std::vector<KeyDoc>* schema_ = nullptr;
  std::string schema_prefix_;  // prepended to the keys noted into schema_ (table_or_empty readers)
  void note(std::string_view key, std::string dflt, std::string range) const;
};

// A parsed TOML file (owns the tree the readers point into).
class Document {
 public:
  // Throws Error("path:line:col: <parser message>") on I/O or syntax errors.
  [[nodiscard]] static Document load_file(const std::string& path);
  [[nodiscard]] static Document parse(std::string_view text, std::string source_name);
  [[nodiscard]] TableReader root() const { return TableReader(*table_, source_, ""); }
  [[nodiscard]] const toml::table& table() const noexcept { return *table_; }
  [[nodiscard]] const std::string& source() const noexcept { return source_; }

 private:
  Document(std::shared_ptr<toml::table> t, std::string source) : table_(std::move(t)), source_(std::move(source)) {}
  std::shared_ptr<toml::table> table_;
  std::string source_;
};

// A credential held in memory: never formatted, wiped on destruction.
class Secret {
 public:
  Secret() = default;
  // `origin` says where the value came from, for messages ("environment variable 'X'", "file 'F'").
  explicit Secret(std::string value, std::string origin = {}) noexcept
      : value_(std::move(value)), origin_(std::move(origin)) {}
  Secret(Secret&& o) noexcept : value_(std::move(o.value_)), origin_(std::move(o.origin_)) { o.wipe(); }
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) {
      wipe();
      value_ = std::move(o.value_);
      origin_ = std::move(o.origin_);
      o.wipe();
    }
    return *this;
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { wipe(); }
  [[nodiscard]] std::string_view reveal() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
  [[nodiscard]] const std::string& origin() const noexcept { return origin_; }

 private:
  void wipe() noexcept;
  std::string value_;
  std::string origin_;
};

// Reads a secret from the environment variable `env_var` when it is set and non-empty, else from
// `file_path`, which must be a regular file owned by this user with no group/other permission bits
// (mode 0600 or 0400), opened without following a link or blocking (a FIFO is refused, never waited on).
// Trailing newlines are stripped; the value must then be printable ASCII without spaces (no embedded
// newline, tab or other control byte), as every venue's keys and secrets are. Errors name the variable or
// file and the reason, never the value.
[[nodiscard]] Secret load_secret(std::string_view env_var, const std::string& file_path);

}  // namespace enigma::config

namespace enigma {

enum class Topology : std::uint8_t { fused, pipelined };
[[nodiscard]] std::string_view to_string(Topology t) noexcept;

// The [engine] section:
//   topology = "fused" | "pipelined"            (default fused)
//   idle = "spin" | "backoff"                   (default backoff)
//   cores = [2, 3, 4]                           (distinct CPU numbers; empty = unpinned; the engine checks
//                                                them against the host and the topology at start-up)
//   log_level = "info"   log_rotate_size = "64MiB"   log_keep_files = 5   log_json = false
// `mode` and `log_dir` are refused with a message (the command chooses the mode; logs live in the run dir).
struct EngineConfig {
  Topology topology = Topology::fused;
  IdlePolicy idle = IdlePolicy::backoff;
  std::vector<int> cores;
  LogLevel log_level = LogLevel::info;
  std::uint64_t log_rotate_bytes = 64ull << 20;
  int log_keep_files = 5;
  bool log_json = false;
  // mlockall(MCL_CURRENT | MCL_FUTURE) at start-up: no page of the engine is ever paged out (a refused
  // lock, e.g. RLIMIT_MEMLOCK too low, is an error at start-up naming the limit).
  bool mlockall = false;
  // The order path's warm-up dry run (risk check, journal-shaped record, encode + sign into scratch; sends
  // and counts nothing) at most this often on the thread that owns the trading core; 0 = off.
  std::int64_t warm_interval_us = 100;

  // Reads and validates every key of the table, then finish()es it.
  [[nodiscard]] static EngineConfig read(config::TableReader table);
};

}  // namespace enigma
