#include "core/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

namespace enigma::config {

namespace {

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

// Quoted, shortened value text for messages (config values are not secrets: secrets never live here).
std::string quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  out += '"';
  return out;
}

}  // namespace

TableReader::TableReader(const toml::table& table, std::string source, std::string prefix)
    : table_(&table), source_(std::move(source)), prefix_(std::move(prefix)) {}

std::string TableReader::dotted(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

void TableReader::fail_at(const toml::source_region& where, std::string_view key, std::string_view why) const {
  // The root table has no position of its own; line 1 is where a reader would look for it.
  const auto line = where.begin.line ? where.begin.line : 1;
  const auto col = where.begin.column ? where.begin.column : 1;
  throw Error(fmt::format("{}:{}:{}: key '{}': {}", source_, line, col, dotted(key), why));
}

void TableReader::fail(std::string_view key, std::string_view why) const {
  const toml::node* n = table_->get(key);
  fail_at(n ? n->source() : table_->source(), key, why);
}

void TableReader::fail_type(const toml::node& node, std::string_view key, std::string_view expected) const {
  fail_at(node.source(), key, fmt::format("expected {}, got {}", expected, type_name(node)));
}

void TableReader::fail_missing(std::string_view key) const { fail_at(table_->source(), key, "is required"); }

bool TableReader::has(std::string_view key) const { return table_->contains(key); }

const toml::node* TableReader::lookup(std::string_view key) {
  declared_.emplace(key);
  return table_->get(key);
}

void TableReader::ignore(std::string_view key) { declared_.emplace(key); }

void TableReader::note(std::string_view key, std::string dflt, std::string range) const {
  if (schema_ != nullptr) schema_->push_back({schema_prefix_ + std::string(key), std::move(dflt), std::move(range)});
}

namespace {
std::string range_text(std::int64_t min, std::int64_t max) {
  if (min == std::numeric_limits<std::int64_t>::min() && max == std::numeric_limits<std::int64_t>::max()) return {};
  return fmt::format("[{}, {}]", min, max);
}
std::string range_text(double min, double max) {
  if (!std::isfinite(min) && !std::isfinite(max)) return {};
  return fmt::format("[{}, {}]", min, max);
}
}  // namespace

bool TableReader::boolean(std::string_view key, std::optional<bool> dflt) {
  note(key, dflt ? (*dflt ? "true" : "false") : "", "");
  const toml::node* n = lookup(key);
  if (!n) {
    if (!dflt) fail_missing(key);
    return *dflt;
  }
  if (!n->is_boolean()) fail_type(*n, key, "boolean");
  return n->as_boolean()->get();
}

std::int64_t TableReader::integer(std::string_view key, std::optional<std::int64_t> dflt, std::int64_t min,
                                  std::int64_t max) {
  note(key, dflt ? std::to_string(*dflt) : "", range_text(min, max));
  const toml::node* n = lookup(key);
  if (!n) {
    if (!dflt) fail_missing(key);
    return *dflt;
  }
  if (!n->is_integer()) fail_type(*n, key, "integer");
  const std::int64_t v = n->as_integer()->get();
  if (v < min || v > max) fail_at(n->source(), key, fmt::format("{} is outside [{}, {}]", v, min, max));
  return v;
}

double TableReader::real(std::string_view key, std::optional<double> dflt, double min, double max) {
  note(key, dflt ? fmt::format("{}", *dflt) : "", range_text(min, max));
  const toml::node* n = lookup(key);
  if (!n) {
    if (!dflt) fail_missing(key);
    return *dflt;
  }
  double v = 0;
  if (n->is_floating_point()) {
    v = n->as_floating_point()->get();
  } else if (n->is_integer()) {
    v = static_cast<double>(n->as_integer()->get());
  } else {
    fail_type(*n, key, "number");
  }
  if (!(v >= min && v <= max)) fail_at(n->source(), key, fmt::format("{} is outside [{}, {}]", v, min, max));
  return v;
}

std::string TableReader::string(std::string_view key, std::optional<std::string> dflt, bool allow_empty) {
  note(key, dflt ? quoted(*dflt) : "", "");
  const toml::node* n = lookup(key);
  if (!n) {
    if (!dflt) fail_missing(key);
    return *dflt;
  }
  if (!n->is_string()) fail_type(*n, key, "string");
  std::string v = n->as_string()->get();
  if (v.empty() && !allow_empty) fail_at(n->source(), key, "must not be empty");
  return v;
}

std::uint64_t TableReader::size_bytes(std::string_view key, std::optional<std::uint64_t> dflt, std::uint64_t min,
                                      std::uint64_t max) {
  const toml::node* n = lookup(key);
  if (!n) {
    if (!dflt) fail_missing(key);
    return *dflt;
  }
  std::uint64_t v = 0;
  if (n->is_integer()) {
    const std::int64_t i = n->as_integer()->get();
    if (i < 0) fail_at(n->source(), key, fmt::format("{} is negative", i));
    v = static_cast<std::uint64_t>(i);
  } else if (n->is_string()) {
    const std::string& s = n->as_string()->get();
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    const std::string_view unit = std::string_view(s).substr(digits);
    static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
        {"", 1},          {"B", 1},          {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},
        {"KB", 1000ull}, {"MB", 1000000ull}, {"GB", 1000000000ull}};
    std::uint64_t mult = 0;
    for (const auto& [name, m] : kUnits) {
      if (unit == name) mult = m;
    }
    if (digits == 0 || digits > 12 || mult == 0)
      fail_at(n->source(), key, fmt::format("{} is not a size (examples: 4096, \"64KiB\", \"64MiB\", \"1GiB\")", quoted(s)));
    // 12 digits times GiB can pass 2^64: an overflow is refused, never wrapped into a small size.
    if (__builtin_mul_overflow(std::strtoull(s.substr(0, digits).c_str(), nullptr, 10), mult, &v))
      fail_at(n->source(), key, fmt::format("{} is more bytes than fit in 64 bits", quoted(s)));
  } else {
    fail_type(*n, key, "size (integer bytes or a string like \"64MiB\")");
  }
  if (v < min || v > max) fail_at(n->source(), key, fmt::format("{} bytes is outside [{}, {}]", v, min, max));
  return v;
}

std::int64_t TableReader::decimal_raw(std::string_view key, std::optional<std::int64_t> dflt,
                                      std::optional<std::int64_t> min, std::optional<std::int64_t> max,
                                      ParseFn parse, FormatFn format) {
  note(key, dflt ? quoted(format(*dflt)) : "",
       min || max ? fmt::format("[{}, {}]", min ? format(*min) : std::string("-inf"), max ? format(*max) : std::string("inf"))
                  : "");
  const toml::node* n = lookup(key);
  if (!n) {
    if (!dflt) fail_missing(key);
    return *dflt;
  }
  std::string text;
  if (n->is_string()) {
    text = n->as_string()->get();
  } else if (n->is_integer()) {
    text = std::to_string(n->as_integer()->get());
  } else if (n->is_floating_point()) {
    const double d = n->as_floating_point()->get();
    if (!std::isfinite(d)) fail_at(n->source(), key, "must be a finite decimal");
    // fmt prints the shortest text that reads back as the same double: what the user wrote, for any
    // decimal with up to 15 significant digits. Exponent forms are then rejected by the parser.
    text = fmt::format("{}", d);
  } else {
    fail_type(*n, key, "decimal (a string like \"0.001\" or a number)");
  }
  std::int64_t raw = 0;
  if (!parse(text, raw)) fail_at(n->source(), key, fmt::format("{} is not a decimal this field can hold exactly", quoted(text)));
  if ((min && raw < *min) || (max && raw > *max)) {
    fail_at(n->source(), key,
            fmt::format("{} is outside [{}, {}]", format(raw), min ? format(*min) : std::string("-inf"),
                        max ? format(*max) : std::string("inf")));
  }
  return raw;
}

std::optional<std::size_t> TableReader::choice_index(std::string_view key, bool has_default,
                                                     const std::vector<std::string_view>& names,
                                                     std::string_view dflt_name) {
  std::string joined;
  for (std::string_view name : names) joined += (joined.empty() ? "" : "|") + std::string(name);
  note(key, dflt_name.empty() ? std::string() : quoted(dflt_name), joined);
  const toml::node* n = lookup(key);
  if (!n) {
    if (!has_default) fail_missing(key);
    return std::nullopt;
  }
  if (!n->is_string()) fail_type(*n, key, fmt::format("one of {}", joined));
  const std::string& v = n->as_string()->get();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == v) return i;
  }
  fail_at(n->source(), key, fmt::format("expected one of {}, got {}", joined, quoted(v)));
}

std::vector<std::int64_t> TableReader::integer_list(std::string_view key, std::optional<std::vector<std::int64_t>> dflt,
                                                    std::int64_t min, std::int64_t max, bool unique) {
  if (schema_ != nullptr) {
    std::string d;
    if (dflt)
      for (std::int64_t v : *dflt) d += (d.empty() ? "" : ", ") + std::to_string(v);
    note(key, dflt ? "[" + d + "]" : "", range_text(min, max));
  }
  const toml::node* n = lookup(key);
  if (!n) {
    if (!dflt) fail_missing(key);
    return *dflt;
  }
  const toml::array* arr = n->as_array();
  if (!arr) fail_type(*n, key, "array of integers");
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    const std::string elem_key = fmt::format("{}[{}]", key, i);
    if (!e.is_integer()) fail_type(e, elem_key, "integer");
    const std::int64_t v = e.as_integer()->get();
    if (v < min || v > max) fail_at(e.source(), elem_key, fmt::format("{} is outside [{}, {}]", v, min, max));
    for (std::int64_t seen : out) {
      if (unique && seen == v) fail_at(e.source(), elem_key, fmt::format("{} appears more than once", v));
    }
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> TableReader::string_list(std::string_view key, std::optional<std::vector<std::string>> dflt) {
  const toml::node* n = lookup(key);
  if (!n) {
    if (!dflt) fail_missing(key);
    return *dflt;
  }
  const toml::array* arr = n->as_array();
  if (!arr) fail_type(*n, key, "array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    if (!e.is_string()) fail_type(e, fmt::format("{}[{}]", key, i), "string");
    out.push_back(e.as_string()->get());
  }
  return out;
}

TableReader TableReader::table(std::string_view key) {
  const toml::node* n = lookup(key);
  if (!n) fail_missing(key);
  if (!n->is_table()) fail_type(*n, key, "table");
  return TableReader(*n->as_table(), source_, dotted(key));
}

std::optional<TableReader> TableReader::optional_table(std::string_view key) {
  const toml::node* n = lookup(key);
  if (!n) return std::nullopt;
  if (!n->is_table()) fail_type(*n, key, "table");
  return TableReader(*n->as_table(), source_, dotted(key));
}

TableReader TableReader::table_or_empty(std::string_view key) {
  static const toml::table kEmpty;
  const toml::node* n = lookup(key);
  if (n && !n->is_table()) fail_type(*n, key, "table");
  TableReader r(n ? *n->as_table() : kEmpty, source_, dotted(key));
  r.schema_ = schema_;
  r.schema_prefix_ = schema_prefix_ + std::string(key) + ".";
  return r;
}

std::vector<TableReader> TableReader::table_array(std::string_view key) {
  const toml::node* n = lookup(key);
  std::vector<TableReader> out;
  if (!n) return out;
  const toml::array* arr = n->as_array();
  if (!arr) fail_type(*n, key, "array of tables");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    const std::string elem_key = fmt::format("{}[{}]", key, i);
    if (!e.is_table()) fail_type(e, elem_key, "table");
    out.emplace_back(*e.as_table(), source_, dotted(elem_key));
  }
  return out;
}

void TableReader::finish() const {
  for (const auto& [k, v] : *table_) {
    if (declared_.find(k.str()) == declared_.end()) {
      // The key's own position, so the message points at the typo rather than at the table.
      const toml::source_region& where = k.source().begin.line ? k.source() : v.source();
      fail_at(where, k.str(), "unknown key");
    }
  }
}

Document Document::load_file(const std::string& path) {
  try {
    return Document(std::make_shared<toml::table>(toml::parse_file(path)), path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    if (b.line == 0) throw Error(fmt::format("{}: {}", path, e.description()));
    throw Error(fmt::format("{}:{}:{}: {}", path, b.line, b.column, e.description()));
  }
}

Document Document::parse(std::string_view text, std::string source_name) {
  try {
    return Document(std::make_shared<toml::table>(toml::parse(text, source_name)), source_name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw Error(fmt::format("{}:{}:{}: {}", source_name, b.line, b.column, e.description()));
  }
}

void Secret::wipe() noexcept {
  // volatile writes: the compiler may not elide a clear of memory about to be freed.
  volatile char* p = value_.data();
  for (std::size_t i = 0; i < value_.size(); ++i) p[i] = 0;
  value_.clear();
}

namespace {

// Keys and secrets of every venue are printable ASCII without spaces; anything else (a pasted space, a
// second line, a terminal escape) is a mistake that would only surface as a signature the venue rejects.
bool is_printable_token(std::string_view v) noexcept {
  for (const char c : v)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  return true;
}

constexpr std::string_view kNotPrintable =
    "contains a space, a line break or another non-printable byte (keys and secrets are printable ASCII without spaces)";

}  // namespace

Secret load_secret(std::string_view env_var, const std::string& file_path) {
  if (!env_var.empty()) {
    const std::string name(env_var);
    if (const char* v = std::getenv(name.c_str()); v != nullptr && *v != '\0') {
      std::string origin = fmt::format("environment variable '{}'", env_var);
      Secret s(std::string(v), origin);  // wiped on every path out
      if (!is_printable_token(s.reveal())) throw Error(fmt::format("secret: {} {}", origin, kNotPrintable));
      return s;
    }
  }
  if (file_path.empty()) {
    throw Error(fmt::format("secret: environment variable '{}' is not set and no secret file is configured", env_var));
  }
  const auto fail = [&](const std::string& why) { return Error(fmt::format("secret file '{}': {}", file_path, why)); };
  // O_NOFOLLOW + fstat on the open descriptor: the checks apply to the file actually read. O_NONBLOCK:
  // opening a FIFO would otherwise wait for a writer forever; it is refused below as not a regular file.
  const int fd = ::open(file_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) throw fail(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw fail(std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw fail("not a regular file");
  }
  if (st.st_uid != ::geteuid()) {
    ::close(fd);
    throw fail(fmt::format("owned by uid {}, not by this user (uid {})", st.st_uid, ::geteuid()));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    throw fail(fmt::format("mode {:04o} lets other users read it; must be 0600 or 0400 (chmod 600 '{}')",
                           st.st_mode & 07777, file_path));
  }
  std::string value;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw fail(std::strerror(err));
    }
    if (n == 0) break;
    value.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  volatile char* b = buf;
  for (std::size_t i = 0; i < sizeof buf; ++i) b[i] = 0;
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  Secret s(std::move(value), fmt::format("file '{}'", file_path));  // wiped on every path out
  if (s.empty()) throw fail("is empty");
  if (!is_printable_token(s.reveal())) throw fail(std::string(kNotPrintable));
  return s;
}

}  // namespace enigma::config

namespace enigma {

std::string_view to_string(Topology t) noexcept { return t == Topology::fused ? "fused" : "pipelined"; }

EngineConfig EngineConfig::read(config::TableReader t) {
  EngineConfig c;
  // Keys that once parsed but never acted are refused with what to do instead.
  if (t.has("mode")) t.fail("mode", "is not a setting: the command chooses the mode (enigma replay | paper | live); remove it");
  if (t.has("log_dir"))
    t.fail("log_dir", "is not a setting: each run logs to <run directory>/logs/enigma.log ([replay] runs_dir or --runs-dir); remove it");
  c.topology = t.choice<Topology>("topology", Topology::fused,
                                  {{"fused", Topology::fused}, {"pipelined", Topology::pipelined}});
  c.idle = t.choice<IdlePolicy>("idle", IdlePolicy::backoff, {{"spin", IdlePolicy::spin}, {"backoff", IdlePolicy::backoff}});
  for (std::int64_t core : t.integer_list("cores", std::vector<std::int64_t>{}, 0, 1023, /*unique=*/true))
    c.cores.push_back(static_cast<int>(core));
  c.log_level = t.choice<LogLevel>("log_level", LogLevel::info,
                                   {{"trace", LogLevel::trace}, {"debug", LogLevel::debug}, {"info", LogLevel::info},
                                    {"warn", LogLevel::warn}, {"error", LogLevel::error}, {"off", LogLevel::off}});
  c.log_rotate_bytes = t.size_bytes("log_rotate_size", 64ull << 20, 4096, 1ull << 40);
  c.log_keep_files = static_cast<int>(t.integer("log_keep_files", 5, 1, 1000));
  c.log_json = t.boolean("log_json", false);
  c.mlockall = t.boolean("mlockall", false);
  c.warm_interval_us = t.integer("warm_interval_us", 100, 0, 60'000'000);
  // Spinning on a shared core starves whatever else runs there; pinning is what makes spin safe.
  if (c.idle == IdlePolicy::spin && c.cores.empty())
    t.fail("idle", "\"spin\" needs dedicated cores: set engine.cores or use \"backoff\"");
  t.finish();
  return c;
}

}  // namespace enigma
