// Asynchronous logger: the hot path enqueues a fixed-size binary record; a logger thread formats and writes.
//
// Call site (README "Log format": an event name, then key=value pairs):
//     ENIGMA_LOG_INFO("feed", "book_resync instrument={} seq={}", symbol, seq);
// produces, in the log file,
//     2026-11-21T10:00:00.123456789Z INFO feed book_resync instrument=XBTUSDTM seq=42
// A message that is not `event key=value...` (free text) is written as event `message` with the text quoted
// (`message text="..."`), so every line of the file parses with the one schema. Values with spaces go through
// LogQuoted (hot path) or log_quote() (cold path); LogLiteral passes a string that lives forever (to_string()
// of an enum) by pointer instead of copying it.
//
// Hot path (per call): one relaxed load of the level, rdtsc, a thread-local lookup of this thread's own
// SPSC ring, and a 128-byte record copied in: TSC, a pointer to the call site's static descriptor (level,
// category, format string), a pointer to the decoder instantiated for the argument types, and the
// arguments by value. No allocation, no lock, no syscall, never blocks: when the ring is full the record is
// dropped and counted, and the logger thread writes the drop count later. Arguments may be integers, bool,
// char, floating point, Price/Qty/Notional/Rate (stored raw), Symbol and short strings (string_view,
// const char*, std::string: copied, truncated to kMaxStringChars). The format string is checked against the
// argument types at compile time (fmt::format_string).
//
// Two ways into the logger thread: a thread that called register_hot_thread() (the trading and stage
// threads, cold: one allocation and a mutex) owns an SPSC ring; the logger owns the rings, so records survive
// the producing thread's exit. Every other thread (admin, gateway, recorder, journal helper, main) shares one
// multi-producer queue (moodycamel::ConcurrentQueue, lock-free, capacity fixed at start: a full queue drops
// and counts like a full ring; a thread's first record there allocates its producer slot once).
//
// File output: lines are appended with write(2) in whole lines after each drain pass (no user-space buffer
// outlives a pass), so `tail -F` sees complete lines; rotation by size renames file -> file.1 -> file.2 ...
// keeping `keep_files` and opens a new file under the original name (what `tail -F` follows). Optional JSON
// lines: {"ts":"...","level":"INFO","component":"feed","event":"book_resync","instrument":"XBTUSDTM","seq":42}.
// shutdown() and the fatal-signal handlers (SIGSEGV, SIGABRT, SIGTERM, SIGBUS, SIGFPE, SIGILL) write
// everything enqueued before them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <array>
#include <tuple>
#include <type_traits>
#include <vector>

#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__)
// GCC warns that TSan does not model the queue's fences; the logger orders that queue itself under TSan.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#include <concurrentqueue/concurrentqueue.h>
#pragma GCC diagnostic pop
#else
#include <concurrentqueue/concurrentqueue.h>
#endif
#include <fmt/format.h>

#include "core/attributes.hpp"
#include "core/clock.hpp"
#include "core/fixed_point.hpp"
#include "core/instrument.hpp"
#include "core/prefault.hpp"
#include "core/spsc_ring.hpp"

// Set in ThreadSanitizer builds (GCC defines __SANITIZE_THREAD__, clang answers __has_feature).
#if defined(__SANITIZE_THREAD__)
#define ENIGMA_LOGGER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ENIGMA_LOGGER_TSAN 1
#endif
#endif
#ifndef ENIGMA_LOGGER_TSAN
#define ENIGMA_LOGGER_TSAN 0
#endif

namespace enigma {

enum class LogLevel : std::uint8_t { trace = 0, debug, info, warn, error, off };

[[nodiscard]] std::string_view to_string(LogLevel l) noexcept;  // "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"
// Accepts the lower-case config spelling: trace, debug, info, warn, error, off.
[[nodiscard]] std::optional<LogLevel> log_level_from_string(std::string_view s) noexcept;

// One per call site, static: what does not change between calls stays out of the record.
struct LogSite {
  LogLevel level;
  const char* category;
  const char* format;
};

// A string argument written as one quoted value (`reason="margin is insufficient"`), escaped on the logger
// thread: for values that may hold spaces or quotes. Copied like any string (kMaxStringChars).
struct LogQuoted {
  std::string_view text;
};
// A string that outlives the logger (a literal, an enum's to_string()): stored as a pointer and a length
// (16 bytes instead of 32), never copied.
struct LogLiteral {
  std::string_view text;
};

// `text` as one log value: bare when it is a non-empty run of printable characters without space, quote or
// backslash, else double-quoted with \" \\ \n \r \t and \u00XX escapes. For cold-path callers that build a
// message (write_text); the hot path uses LogQuoted.
[[nodiscard]] std::string log_quote(std::string_view text);

namespace logdetail {

inline constexpr std::size_t kRecordBytes = 128;
inline constexpr std::size_t kHeaderBytes = 24;
inline constexpr std::size_t kPayloadBytes = kRecordBytes - kHeaderBytes;
inline constexpr std::size_t kMaxStringChars = 31;  // a string argument takes 32 bytes: length + text

using FormatFn = void (*)(const LogSite& site, const std::byte* payload, fmt::memory_buffer& out);

struct alignas(64) Record {
  std::uint64_t tsc;
  const LogSite* site;
  FormatFn format;
  std::byte payload[kPayloadBytes];
};
static_assert(sizeof(Record) == kRecordBytes, "two cache lines per record");
static_assert(std::is_trivially_copyable_v<Record>, "records travel through SpscRing");

// Stored form of an argument: what the decoder reconstructs and fmt formats.
struct StoredString {
  std::uint8_t len;
  char text[kMaxStringChars];
};

template <class T, class = void>
struct Stored;  // unsupported argument types fail here at compile time

template <class T>
struct Stored<T, std::enable_if_t<std::is_same_v<T, bool> || std::is_same_v<T, char>>> {
  using type = T;
  using decoded = T;
};
template <class T>
struct Stored<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>>> {
  using type = std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>;
  using decoded = type;
};
template <class T>
struct Stored<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  using type = double;
  using decoded = double;
};
template <class Tag, int D>
struct Stored<Fixed<Tag, D>> {
  using type = Fixed<Tag, D>;
  using decoded = Fixed<Tag, D>;
};
template <class T>
struct Stored<T, std::enable_if_t<std::is_same_v<T, Symbol> || std::is_convertible_v<const T&, std::string_view>>> {
  using type = StoredString;
  using decoded = std::string_view;
};

struct QuotedText {  // what a LogQuoted argument decodes to (its formatter quotes it)
  std::string_view text;
};
struct StoredQuoted {  // a StoredString that decodes to QuotedText
  StoredString s;
};
template <>
struct Stored<LogQuoted> {
  using type = StoredQuoted;
  using decoded = QuotedText;
};
template <>
struct Stored<LogLiteral> {
  using type = LogLiteral;
  using decoded = std::string_view;
};
// Appends `text` as one value (see log_quote).
void append_value(fmt::memory_buffer& out, std::string_view text);

template <class T>
using stored_t = typename Stored<std::remove_cvref_t<std::decay_t<T>>>::type;
template <class T>
using decoded_t = typename Stored<std::remove_cvref_t<std::decay_t<T>>>::decoded;

// Each argument occupies a multiple of 8 bytes, so offsets are compile-time constants.
template <class S>
inline constexpr std::size_t slot_bytes = (sizeof(S) + 7) / 8 * 8;

template <class... S>
inline constexpr std::size_t payload_bytes = (std::size_t{0} + ... + slot_bytes<S>);

template <class... S>
constexpr auto offsets() {
  std::array<std::size_t, sizeof...(S) + 1> o{};
  std::size_t i = 0, at = 0;
  ((o[i++] = at, at += slot_bytes<S>), ...);
  o[i] = at;
  return o;
}

template <class A>
ENIGMA_ALWAYS_INLINE void encode_one(std::byte* at, const A& a) noexcept {
  using S = stored_t<A>;
  if constexpr (std::is_same_v<S, StoredString> || std::is_same_v<S, StoredQuoted>) {
    std::string_view v;
    if constexpr (std::is_same_v<std::remove_cvref_t<A>, Symbol>) {
      v = a.view();
    } else if constexpr (std::is_same_v<std::remove_cvref_t<A>, LogQuoted>) {
      v = a.text;
    } else {
      v = std::string_view(a);
    }
    const std::size_t n = v.size() < kMaxStringChars ? v.size() : kMaxStringChars;
    auto* s = reinterpret_cast<StoredString*>(at);
    s->len = static_cast<std::uint8_t>(n);
    std::memcpy(s->text, v.data(), n);
  } else {
    const S v = static_cast<S>(a);
    std::memcpy(at, &v, sizeof v);
  }
}

template <class S>
ENIGMA_ALWAYS_INLINE auto decode_one(const std::byte* at) noexcept {
  if constexpr (std::is_same_v<S, StoredString>) {
    const auto* s = reinterpret_cast<const StoredString*>(at);
    return std::string_view(s->text, s->len);
  } else if constexpr (std::is_same_v<S, StoredQuoted>) {
    const auto* s = reinterpret_cast<const StoredString*>(at);
    return QuotedText{std::string_view(s->text, s->len)};
  } else if constexpr (std::is_same_v<S, LogLiteral>) {
    LogLiteral v;
    std::memcpy(&v, at, sizeof v);
    return v.text;
  } else {
    S v;
    std::memcpy(&v, at, sizeof v);
    return v;
  }
}

template <class... S, std::size_t... I>
void format_impl(const LogSite& site, [[maybe_unused]] const std::byte* payload, fmt::memory_buffer& out,
                 std::index_sequence<I...>) {
  [[maybe_unused]] static constexpr auto kOff = offsets<S...>();
  [[maybe_unused]] const auto values = std::make_tuple(decode_one<S>(payload + kOff[I])...);
  fmt::vformat_to(std::back_inserter(out), fmt::string_view(site.format),
                  fmt::make_format_args(std::get<I>(values)...));
}

// Instantiated once per distinct argument-type list; the record stores a pointer to it.
template <class... S>
void format_record(const LogSite& site, const std::byte* payload, fmt::memory_buffer& out) {
  format_impl<S...>(site, payload, out, std::index_sequence_for<S...>{});
}

// Compile-time format check against the types the decoder will hand to fmt (never called).
template <class... A>
constexpr void check_format(fmt::format_string<decoded_t<A>...>, const A&...) noexcept {}

}  // namespace logdetail

struct LoggerOptions {
  std::string path;                        // log file; its directory must exist
  LogLevel level = LogLevel::info;
  std::size_t queue_capacity = 16384;      // records per producer thread (power of two), 2 MiB
  std::uint64_t rotate_bytes = 64ull << 20;  // rotate when the file would exceed this; 0 = never
  int keep_files = 5;                      // rotated files kept: path.1 .. path.N
  bool json = false;                       // JSON lines instead of text lines
  bool install_signal_handlers = true;     // flush on SIGSEGV/SIGABRT/SIGTERM/SIGBUS/SIGFPE/SIGILL
  int poll_interval_us = 500;              // logger thread sleep when every queue is empty
};

class Logger {
 public:
  // Opens (appends to) the file and starts the logger thread; throws Error on a bad option or path.
  explicit Logger(LoggerOptions options);
  // shutdown() if not done yet.
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // The logger the ENIGMA_LOG_* macros write to (nullptr: calls are ignored). Also the one the fatal
  // signal handlers flush. Set it before producer threads start, clear it before destroying the logger.
  static void set_global(Logger* logger) noexcept;
  [[nodiscard]] static Logger* global() noexcept { return global_.load(std::memory_order_acquire); }

  // Gives the calling thread its own SPSC ring (cold: allocates, takes a mutex). For the threads that log
  // from the hot path (trading, stage threads); call before their first log call. Any other thread's
  // records go through the shared multi-producer queue. Idempotent per thread and logger.
  void register_hot_thread() noexcept { (void)register_producer(); }

  [[nodiscard]] ENIGMA_ALWAYS_INLINE bool enabled(LogLevel level) const noexcept {
    return level >= level_.load(std::memory_order_relaxed);
  }
  void set_level(LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }

  // Hot path: enqueue one record. Returns false when the record was dropped (ring full, or the logger
  // is shut down). Requires the total stored argument size to fit the record (checked at compile time).
  template <class... A>
  ENIGMA_ALWAYS_INLINE bool write(const LogSite& site, const A&... args) noexcept {
    constexpr auto kOff = logdetail::offsets<logdetail::stored_t<A>...>();
    static_assert(kOff.back() <= logdetail::kPayloadBytes,
                  "too many or too large log arguments for one record (104 bytes; strings take 32)");
    logdetail::Record rec;
    rec.tsc = rdtsc();
    rec.site = &site;
    rec.format = &logdetail::format_record<logdetail::stored_t<A>...>;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (logdetail::encode_one(rec.payload + kOff[I], args), ...);
    }(std::index_sequence_for<A...>{});
    return push(rec);
  }

  // Writes everything enqueued so far (by threads that have returned from their log calls) and
  // returns once it is on the file. Cold path, for tests and orderly checkpoints.
  void flush();
  // Closes the file and opens `path` again (after logrotate moved it away: SIGHUP), on the logger thread
  // after writing everything enqueued before the call; returns once done. Cold path. An open failure is
  // reported on stderr and lines are dropped until the next successful reopen or rotation.
  void reopen();
  // Writes one message of any length (an error with its full context, which the hot-path record would
  // truncate), in order after everything enqueued before the call; returns once it is on the file. Cold path.
  void write_text(LogLevel level, std::string_view category, std::string_view text);
  // Drains every queue, writes the drop summary, closes the file and stops the thread. Idempotent.
  void shutdown();

  // Records dropped because a ring was full (all threads, since start).
  [[nodiscard]] std::uint64_t dropped() const noexcept;
  [[nodiscard]] const LoggerOptions& options() const noexcept { return options_; }

  // Used by the fatal-signal handler: ask the logger thread to write everything and wait up to
  // `timeout_ms` for it. Async-signal-safe (atomics and nanosleep only).
  void flush_from_signal(int timeout_ms) noexcept;

 private:
  struct Producer;
  struct ThreadSlot {
    std::uint64_t logger_id;
    Producer* producer;
  };

  ENIGMA_ALWAYS_INLINE bool push(const logdetail::Record& rec) noexcept;
  ENIGMA_COLD Producer* register_producer() noexcept;
  void run();
  bool drain_once();
  void write_line(const logdetail::Record& rec);
  void write_drop_summary();
  void emit(std::string_view line_body, LogLevel level, std::string_view category, std::int64_t wall_ns);
  void flush_buffer();
  void rotate();
  void open_file();

  static std::atomic<Logger*> global_;
  // Constant-initialized so the hot path reads it with a plain %fs-relative load (no TLS init wrapper).
  static inline constinit thread_local ThreadSlot tls_{0, nullptr};

  LoggerOptions options_;
  std::uint64_t id_;
  std::atomic<LogLevel> level_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> flush_requested_{0};
  std::atomic<std::uint64_t> flush_done_{0};
  std::atomic<bool> writing_{false};
  std::atomic<std::uint64_t> reopen_requested_{0};
  std::uint64_t reopen_done_{0};  // logger thread only

  struct Text {
    LogLevel level;
    std::string category, text;
    std::int64_t wall_ns;
  };
  // The shared multi-producer queue of every thread without its own ring. Blocks of 32 records are taken
  // from a pool sized at construction; an implicit (per-thread) producer may index up to kSharedIndex blocks,
  // so try_enqueue never allocates after a thread's first record.
  struct SharedQueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
    static constexpr std::size_t IMPLICIT_INITIAL_INDEX_SIZE = 1024;
    // The queue's preallocated blocks (2 MiB at the default capacity) are mapped in one call instead of a
    // page fault per block as the constructor initialises them (~7 ms of every start-up on the shared VM).
    static void* malloc(std::size_t size) {
      void* p = std::malloc(size);
      prefault_writable(p, size);
      return p;
    }
    static void free(void* p) { std::free(p); }
  };
  moodycamel::ConcurrentQueue<logdetail::Record, SharedQueueTraits> shared_;
  std::atomic<std::uint64_t> shared_drops_{0};
  // ThreadSanitizer does not model the standalone fences the queue synchronizes with and reports false
  // races in it (cameron314/concurrentqueue#254); in TSan builds only, this mutex around the shared queue
  // gives its accesses an order TSan sees. Other builds never take it.
  std::mutex shared_tsan_mu_;
  struct SharedQueueTsanLock {
#if ENIGMA_LOGGER_TSAN
    explicit SharedQueueTsanLock(std::mutex& m) : lock(m) {}
    std::lock_guard<std::mutex> lock;
#else
    explicit SharedQueueTsanLock(std::mutex&) noexcept {}
#endif
  };

  std::mutex texts_mu_;       // write_text (cold) vs the logger thread
  std::vector<Text> texts_;

  mutable std::mutex producers_mu_;  // registration (cold) vs the logger thread's scan
  std::vector<std::shared_ptr<Producer>> producers_;
  std::uint64_t dropped_retired_{0};   // drops of producers already freed
  std::uint64_t dropped_reported_{0};
  std::uint64_t lost_write_bytes_{0};  // logger thread: bytes a failing write(2) lost since it last worked

  int fd_{-1};
  std::uint64_t file_bytes_{0};
  fmt::memory_buffer out_;
  fmt::memory_buffer msg_;
  std::int64_t cached_second_{-1};
  char cached_prefix_[32]{};  // "YYYY-MM-DDTHH:MM:SS." for cached_second_
  std::thread thread_;
  std::thread::id thread_id_;
};

struct Logger::Producer {
  explicit Producer(std::size_t capacity) : ring(capacity) {}
  SpscRing<logdetail::Record> ring;
  // Single writer (the producer thread); the logger thread reads it.
  alignas(kCacheLine) std::atomic<std::uint64_t> drops{0};
  std::atomic<bool> retired{false};  // the producer thread exited; free once drained
};

ENIGMA_ALWAYS_INLINE bool Logger::push(const logdetail::Record& rec) noexcept {
  Producer* p = tls_.producer;
  if (tls_.logger_id != id_) [[unlikely]] {
    // Not a hot thread of this logger: the shared queue (lock-free; never allocates after this thread's
    // first record there).
    if (stopped_.load(std::memory_order_acquire)) return false;
    const SharedQueueTsanLock tsan_only(shared_tsan_mu_);
    if (shared_.try_enqueue(rec)) return true;
    shared_drops_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (p->ring.try_push(rec)) [[likely]] return true;
  // Only this thread writes `drops`, so a load+store is enough (no locked instruction).
  p->drops.store(p->drops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return false;
}

}  // namespace enigma

// Price/Qty/Notional/Rate print as exact decimals in log lines and anywhere else fmt is used.
template <class Tag, int D>
struct fmt::formatter<enigma::Fixed<Tag, D>> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const enigma::Fixed<Tag, D>& v, Ctx& ctx) const -> decltype(ctx.out()) {
    char buf[enigma::Fixed<Tag, D>::kMaxChars];
    const std::size_t n = v.format(buf);
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(buf, n), ctx);
  }
};

template <>
struct fmt::formatter<enigma::logdetail::QuotedText> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const enigma::logdetail::QuotedText& v, Ctx& ctx) const -> decltype(ctx.out()) {
    fmt::memory_buffer b;
    enigma::logdetail::append_value(b, v.text);
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(b.data(), b.size()), ctx);
  }
};

// Logs through Logger::global() when it is set and the level is enabled. `category` and `format` must
// be string literals (they are stored by pointer).
#define ENIGMA_LOG(level_, category_, format_, ...)                                                     \
  do {                                                                                                  \
    if (false) ::enigma::logdetail::check_format(format_ __VA_OPT__(, ) __VA_ARGS__);                   \
    static constexpr ::enigma::LogSite enigma_log_site_{(level_), category_ "", format_ ""};            \
    ::enigma::Logger* const enigma_logger_ = ::enigma::Logger::global();                                \
    if (enigma_logger_ != nullptr && enigma_logger_->enabled(level_))                                   \
      (void)enigma_logger_->write(enigma_log_site_ __VA_OPT__(, ) __VA_ARGS__);                         \
  } while (0)

#define ENIGMA_LOG_TRACE(category_, ...) ENIGMA_LOG(::enigma::LogLevel::trace, category_, __VA_ARGS__)
#define ENIGMA_LOG_DEBUG(category_, ...) ENIGMA_LOG(::enigma::LogLevel::debug, category_, __VA_ARGS__)
#define ENIGMA_LOG_INFO(category_, ...) ENIGMA_LOG(::enigma::LogLevel::info, category_, __VA_ARGS__)
#define ENIGMA_LOG_WARN(category_, ...) ENIGMA_LOG(::enigma::LogLevel::warn, category_, __VA_ARGS__)
#define ENIGMA_LOG_ERROR(category_, ...) ENIGMA_LOG(::enigma::LogLevel::error, category_, __VA_ARGS__)
