#include "core/logger.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

namespace enigma {

std::string_view to_string(LogLevel l) noexcept {
  switch (l) {
    case LogLevel::trace: return "TRACE";
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warn: return "WARN";
    case LogLevel::error: return "ERROR";
    case LogLevel::off: return "OFF";
  }
  return "?";
}

std::optional<LogLevel> log_level_from_string(std::string_view s) noexcept {
  if (s == "trace") return LogLevel::trace;
  if (s == "debug") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "warn") return LogLevel::warn;
  if (s == "error") return LogLevel::error;
  if (s == "off") return LogLevel::off;
  return std::nullopt;
}

std::atomic<Logger*> Logger::global_{nullptr};

namespace {

std::atomic<std::uint64_t> g_next_logger_id{1};
// The logger the fatal-signal handlers flush: the most recent one started with handlers enabled.
std::atomic<Logger*> g_signal_logger{nullptr};
std::once_flag g_handlers_once;

constexpr int kFatalSignals[] = {SIGSEGV, SIGABRT, SIGTERM, SIGBUS, SIGFPE, SIGILL};
constexpr int kSignalFlushTimeoutMs = 2000;

void fatal_signal_handler(int sig) {
  if (Logger* lg = g_signal_logger.load(std::memory_order_acquire)) lg->flush_from_signal(kSignalFlushTimeoutMs);
  // SA_RESETHAND restored the default action and SA_NODEFER leaves the signal unblocked, so this ends the
  // process with the original signal (exit status and core dump as if we had never caught it).
  raise(sig);
}

void install_fatal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &fatal_signal_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int sig : kFatalSignals) sigaction(sig, &sa, nullptr);
}

// Holds this thread's producer alive past the logger and marks it retired when the thread exits, so
// the logger thread can drain and free it.
struct ProducerHolder {
  std::shared_ptr<void> current;
  std::atomic<bool>* retired{nullptr};
  void reset() {
    if (retired != nullptr) retired->store(true, std::memory_order_release);
    retired = nullptr;
    current.reset();
  }
  ~ProducerHolder() { reset(); }
};

void append_escaped_json(fmt::memory_buffer& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
}

// ---- the line schema (README "Log format") ----
// message := event (' ' key '=' value)*     event, key := [a-z][a-z0-9_.]*
// value   := bare | '"' (char | '\\' ["\\nrt] | '\\u00' hex hex)* '"'
// bare    := one or more printable characters other than space, '"' and '\\'
bool is_name_start(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool is_name_char(char c) noexcept { return is_name_start(c) || (c >= '0' && c <= '9') || c == '_' || c == '.'; }
bool is_bare_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f && c != '"' && c != '\\';
}

struct Field {
  std::string_view key, value;  // value without its quotes (escapes kept as written)
  bool quoted;
};
struct ParsedMessage {
  static constexpr std::size_t kMaxFields = 32;
  std::string_view event;
  Field fields[kMaxFields];
  std::size_t nfields{0};
};

// Reads a name at `s[i]`; returns its end (i when there is none).
std::size_t name_end(std::string_view s, std::size_t i) noexcept {
  if (i >= s.size() || !is_name_start(s[i])) return i;
  while (i < s.size() && is_name_char(s[i])) ++i;
  return i;
}

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// True when `body` follows the schema; fills `m` (views into body).
bool parse_message(std::string_view body, ParsedMessage& m) noexcept {
  std::size_t i = name_end(body, 0);
  if (i == 0) return false;
  m.event = body.substr(0, i);
  while (i < body.size()) {
    if (body[i] != ' ' || m.nfields == ParsedMessage::kMaxFields) return false;
    const std::size_t k0 = i + 1;
    const std::size_t k1 = name_end(body, k0);
    if (k1 == k0 || k1 >= body.size() || body[k1] != '=') return false;
    Field& f = m.fields[m.nfields++];
    f.key = body.substr(k0, k1 - k0);
    std::size_t v = k1 + 1;
    if (v < body.size() && body[v] == '"') {
      const std::size_t v0 = ++v;
      for (;; ++v) {
        if (v >= body.size()) return false;
        const char c = body[v];
        if (c == '"') break;
        if (static_cast<unsigned char>(c) < 0x20) return false;
        if (c != '\\') continue;
        if (++v >= body.size()) return false;
        const char e = body[v];
        if (e == 'u') {
          if (v + 4 >= body.size() || !is_hex(body[v + 1]) || !is_hex(body[v + 2]) || !is_hex(body[v + 3]) || !is_hex(body[v + 4]))
            return false;
          v += 4;
        } else if (e != '"' && e != '\\' && e != 'n' && e != 'r' && e != 't') {
          return false;
        }
      }
      f.value = body.substr(v0, v - v0);
      f.quoted = true;
      i = v + 1;
    } else {
      const std::size_t v0 = v;
      while (v < body.size() && is_bare_char(body[v])) ++v;
      if (v == v0) return false;
      f.value = body.substr(v0, v - v0);
      f.quoted = false;
      i = v;
    }
  }
  return true;
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) noexcept {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// The component is a name too ([a-z][a-z0-9_]*): other characters of a category become '_', and one that
// does not start with a letter gets a "c_" prefix.
void append_component(fmt::memory_buffer& out, std::string_view category) {
  if (category.empty() || !is_name_start(category[0])) out.append(std::string_view("c_"));
  for (char c : category) out.push_back(is_name_char(c) && c != '.' ? c : '_');
}

}  // namespace

namespace logdetail {

void append_value(fmt::memory_buffer& out, std::string_view text) {
  bool bare = !text.empty();
  for (char c : text) bare = bare && is_bare_char(c);
  if (bare) {
    out.append(text);
    return;
  }
  out.push_back('"');
  append_escaped_json(out, text);  // the quoted form's escapes are JSON's
  out.push_back('"');
}

}  // namespace logdetail

std::string log_quote(std::string_view text) {
  fmt::memory_buffer b;
  logdetail::append_value(b, text);
  return std::string(b.data(), b.size());
}

Logger::Logger(LoggerOptions options)
    : options_(std::move(options)),
      id_(g_next_logger_id.fetch_add(1)),
      level_(options_.level),
      shared_(options_.queue_capacity) {
  if (options_.path.empty()) throw Error("logger: no log file path");
  const std::size_t cap = options_.queue_capacity;
  if (cap < 2 || (cap & (cap - 1)) != 0)
    throw Error(fmt::format("logger: queue_capacity {} must be a power of two >= 2", cap));
  if (options_.keep_files < 1) throw Error(fmt::format("logger: keep_files {} must be >= 1", options_.keep_files));
  if (options_.poll_interval_us < 1) throw Error("logger: poll_interval_us must be >= 1");
  // The TSC calibration starts here, beside the rest of the start-up (the hot path only ever reads the
  // TSC); the first timestamp conversion, on the logger thread, waits for what is left of its 50 ms.
  TscClock::start_calibration();
  open_file();
  if (options_.install_signal_handlers) {
    std::call_once(g_handlers_once, install_fatal_handlers);
    g_signal_logger.store(this, std::memory_order_release);
  }
  thread_ = std::thread([this] { run(); });
  thread_id_ = thread_.get_id();
}

Logger::~Logger() { shutdown(); }

void Logger::set_global(Logger* logger) noexcept { global_.store(logger, std::memory_order_release); }

Logger::Producer* Logger::register_producer() noexcept {
  if (stopped_.load(std::memory_order_acquire)) return nullptr;
  thread_local ProducerHolder holder;
  try {
    auto p = std::make_shared<Producer>(options_.queue_capacity);
    {
      std::lock_guard lock(producers_mu_);
      producers_.push_back(p);
    }
    holder.reset();  // retire this thread's producer of a previous logger, if any
    holder.retired = &p->retired;
    holder.current = p;
    tls_ = ThreadSlot{id_, p.get()};
    return p.get();
  } catch (...) {
    return nullptr;  // out of memory on a cold path: the record is lost, never the process
  }
}

std::uint64_t Logger::dropped() const noexcept {
  std::lock_guard lock(producers_mu_);
  std::uint64_t total = dropped_retired_ + shared_drops_.load(std::memory_order_relaxed);
  for (const auto& p : producers_) total += p->drops.load(std::memory_order_relaxed);
  return total;
}

void Logger::run() {
  const timespec nap{0, static_cast<long>(options_.poll_interval_us) * 1000};
  for (;;) {
    // Read both requests before draining: everything enqueued before them is in the rings now.
    const bool stopping = stop_.load(std::memory_order_acquire);
    const std::uint64_t flush_req = flush_requested_.load(std::memory_order_acquire);
    // After flush_req: a reopen() asked before its flush is seen here.
    const std::uint64_t reopen_req = reopen_requested_.load(std::memory_order_acquire);
    bool wrote = drain_once();
    {
      std::lock_guard lock(texts_mu_);
      for (const Text& t : texts_) emit(t.text, t.level, t.category, t.wall_ns);
      wrote = wrote || !texts_.empty();
      texts_.clear();
    }
    write_drop_summary();
    flush_buffer();
    if (reopen_req != reopen_done_) {
      reopen_done_ = reopen_req;
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      try {
        open_file();
      } catch (const Error& e) {
        std::fprintf(stderr, "enigma logger: reopen: %s\n", e.what());
      }
    }
    if (flush_req > flush_done_.load(std::memory_order_relaxed))
      flush_done_.store(flush_req, std::memory_order_release);
    if (stopping) break;
    if (!wrote && flush_requested_.load(std::memory_order_relaxed) == flush_req) nanosleep(&nap, nullptr);
  }
}

bool Logger::drain_once() {
  bool any = false;
  std::lock_guard lock(producers_mu_);
  for (std::size_t i = 0; i < producers_.size();) {
    Producer& p = *producers_[i];
    // Observe retirement before draining: the producer's last records precede its release store.
    const bool retired = p.retired.load(std::memory_order_acquire);
    // Bounded by what is there now, so a busy producer cannot keep this pass (and a flush) going forever.
    for (std::size_t n = p.ring.size_approx(); n > 0; --n) {
      const logdetail::Record* rec = p.ring.front();
      if (rec == nullptr) break;
      write_line(*rec);
      p.ring.pop_front();
      any = true;
    }
    if (retired && p.ring.empty_approx()) {
      dropped_retired_ += p.drops.load(std::memory_order_relaxed);
      producers_.erase(producers_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    ++i;
  }
  // The shared queue, bounded like the rings by what is there now.
  logdetail::Record batch[32];
  for (std::size_t left = shared_.size_approx(); left > 0;) {
    std::size_t n;
    {
      const SharedQueueTsanLock tsan_only(shared_tsan_mu_);
      n = shared_.try_dequeue_bulk(batch, left < 32 ? left : 32);
    }
    if (n == 0) break;
    for (std::size_t k = 0; k < n; ++k) write_line(batch[k]);
    left -= n < left ? n : left;
    any = true;
  }
  return any;
}

void Logger::write_line(const logdetail::Record& rec) {
  msg_.clear();
  try {
    rec.format(*rec.site, rec.payload, msg_);
  } catch (const std::exception& e) {
    msg_.clear();
    fmt::format_to(std::back_inserter(msg_), "<log format error in \"{}\": {}>", rec.site->format, e.what());
  }
  emit(std::string_view(msg_.data(), msg_.size()), rec.site->level, rec.site->category,
       TscClock::instance().tsc_to_wall_ns(rec.tsc));
}

void Logger::write_drop_summary() {
  const std::uint64_t total = dropped();
  if (total == dropped_reported_) return;
  msg_.clear();
  fmt::format_to(std::back_inserter(msg_), "log_dropped records={} total={} cause=queue_full",
                 total - dropped_reported_, total);
  dropped_reported_ = total;
  emit(std::string_view(msg_.data(), msg_.size()), LogLevel::warn, "log", wall_ns());
}

void Logger::emit(std::string_view body, LogLevel level, std::string_view category, std::int64_t ns) {
  const std::int64_t sec = ns >= 0 ? ns / 1'000'000'000 : (ns - 999'999'999) / 1'000'000'000;
  const std::int64_t frac = ns - sec * 1'000'000'000;
  if (sec != cached_second_) {
    const time_t t = static_cast<time_t>(sec);
    tm parts{};
    gmtime_r(&t, &parts);
    std::strftime(cached_prefix_, sizeof cached_prefix_, "%Y-%m-%dT%H:%M:%S.", &parts);
    cached_second_ = sec;
  }
  ParsedMessage m;
  const bool structured = parse_message(body, m);
  fmt::memory_buffer line;
  if (options_.json) {
    fmt::format_to(std::back_inserter(line), "{{\"ts\":\"{}{:09d}Z\",\"level\":\"{}\",\"component\":\"", cached_prefix_,
                   frac, to_string(level));
    append_component(line, category);
    line.append(std::string_view("\",\"event\":\""));
    if (structured) {
      line.append(m.event);
      line.append(std::string_view("\""));
      for (std::size_t i = 0; i < m.nfields; ++i) {
        const Field& f = m.fields[i];
        line.append(std::string_view(",\""));
        line.append(f.key);
        line.append(std::string_view("\":"));
        if (f.quoted) {  // the quoted form's escapes are JSON's
          line.push_back('"');
          line.append(f.value);
          line.push_back('"');
        } else if (is_json_number(f.value) || f.value == "true" || f.value == "false") {
          line.append(f.value);
        } else {
          line.push_back('"');
          append_escaped_json(line, f.value);
          line.push_back('"');
        }
      }
    } else {
      line.append(std::string_view("message\",\"text\":\""));
      append_escaped_json(line, body);
      line.push_back('"');
    }
    line.append(std::string_view("}\n"));
  } else {
    fmt::format_to(std::back_inserter(line), "{}{:09d}Z {} ", cached_prefix_, frac, to_string(level));
    append_component(line, category);
    line.push_back(' ');
    if (structured) {
      line.append(m.event);
      for (std::size_t i = 0; i < m.nfields; ++i) {
        const Field& f = m.fields[i];
        line.push_back(' ');
        line.append(f.key);
        line.push_back('=');
        if (f.quoted) line.push_back('"');
        line.append(f.value);
        if (f.quoted) line.push_back('"');
      }
    } else {
      // Free text: one quoted value, so the line still parses (and stays one line for `tail -F` readers).
      line.append(std::string_view("message text=\""));
      append_escaped_json(line, body);
      line.push_back('"');
    }
    line.push_back('\n');
  }
  if (options_.rotate_bytes != 0 && file_bytes_ + out_.size() + line.size() > options_.rotate_bytes &&
      file_bytes_ + out_.size() > 0) {
    flush_buffer();
    rotate();
  }
  out_.append(line);
  if (out_.size() >= (64u << 10)) flush_buffer();
}

void Logger::flush_buffer() {
  const char* p = out_.data();
  std::size_t left = out_.size();
  while (left > 0 && fd_ >= 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Said once per failing stretch (a full disk would otherwise print a line per flush); the lines
      // lost meanwhile are counted and reported when writing works again.
      if (lost_write_bytes_ == 0)
        std::fprintf(stderr, "enigma logger: write to %s failed: %s (log lines are lost until it works again)\n",
                     options_.path.c_str(), std::strerror(errno));
      lost_write_bytes_ += left;
      break;
    }
    if (lost_write_bytes_ != 0) {
      std::fprintf(stderr, "enigma logger: writing to %s works again; %llu bytes of log lines were lost\n", options_.path.c_str(),
                   static_cast<unsigned long long>(lost_write_bytes_));
      lost_write_bytes_ = 0;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
    file_bytes_ += static_cast<std::uint64_t>(n);
  }
  out_.clear();
}

void Logger::rotate() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  // file.(N-1) -> file.N ... file -> file.1; rename replaces the oldest, so at most N are kept.
  for (int i = options_.keep_files - 1; i >= 1; --i) {
    const std::string from = fmt::format("{}.{}", options_.path, i);
    const std::string to = fmt::format("{}.{}", options_.path, i + 1);
    ::rename(from.c_str(), to.c_str());  // a missing file.i is normal while the set fills up
  }
  ::rename(options_.path.c_str(), (options_.path + ".1").c_str());
  try {
    open_file();
  } catch (const Error& e) {
    std::fprintf(stderr, "enigma logger: %s\n", e.what());
  }
}

void Logger::open_file() {
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(fmt::format("logger: cannot open '{}': {}", options_.path, std::strerror(errno)));
  struct stat st {};
  file_bytes_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void Logger::flush() {
  if (stopped_.load(std::memory_order_acquire)) return;
  const std::uint64_t seq = flush_requested_.fetch_add(1, std::memory_order_acq_rel) + 1;
  while (flush_done_.load(std::memory_order_acquire) < seq) {
    const timespec ts{0, 50'000};
    nanosleep(&ts, nullptr);
  }
}

void Logger::reopen() {
  if (stopped_.load(std::memory_order_acquire)) return;
  reopen_requested_.fetch_add(1, std::memory_order_acq_rel);
  flush();
}

void Logger::write_text(LogLevel level, std::string_view category, std::string_view text) {
  if (stopped_.load(std::memory_order_acquire) || !enabled(level)) return;
  // Everything enqueued before this call goes first: flush() drains the rings before the texts are seen.
  flush();
  {
    std::lock_guard lock(texts_mu_);
    texts_.push_back(Text{level, std::string(category), std::string(text), wall_ns()});
  }
  flush();
}

void Logger::flush_from_signal(int timeout_ms) noexcept {
  // A fault on the logger thread itself cannot wait for that thread.
  if (stopped_.load(std::memory_order_acquire) || std::this_thread::get_id() == thread_id_) return;
  const std::uint64_t seq = flush_requested_.fetch_add(1, std::memory_order_acq_rel) + 1;
  const timespec ts{0, 100'000};
  for (int waited_us = 0; waited_us < timeout_ms * 1000; waited_us += 100) {
    if (flush_done_.load(std::memory_order_acquire) >= seq) return;
    nanosleep(&ts, nullptr);
  }
}

void Logger::shutdown() {
  if (stopped_.exchange(true, std::memory_order_acq_rel)) return;
  Logger* self = this;
  g_signal_logger.compare_exchange_strong(self, nullptr);
  self = this;
  global_.compare_exchange_strong(self, nullptr);
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace enigma
