// Alerts: the supervisor's rules page a person over webhooks (Telegram Bot API sendMessage, a
// Slack-compatible incoming webhook, a generic JSON POST) without ever delaying trading.
//
// Two halves joined by a bounded SPSC ring:
//  * AlertMonitor lives with the TradingCore on the OMS thread. raise() checks the rule's switch and
//    cool-down and copies a 64-byte POD event into the ring: no allocation, lock, syscall or exception.
//    A full ring drops the event and counts it.
//  * AlertDispatcher owns a thread that polls the ring, formats each event per channel and POSTs it over
//    HTTPS (feed::HttpsClient), retrying with exponential backoff (base, doubling, capped) under a
//    per-channel rate limit (token bucket). Failures are logged (never the URL or token) and counted.
// Beast stays out of this header (TradingCore includes it).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/spsc_ring.hpp"

namespace enigma::engine {

// The plan's triggers ([alerts.<rule>] in the config).
enum class AlertRule : std::uint8_t {
  daily_drawdown,       // equity this fraction below the day's start
  consecutive_losses,   // this many losing round trips in a row (any strategy)
  component_unhealthy,  // feed stale (no frame this many seconds), journal trouble
  api_errors,           // venue rejects + unknown outcomes + refused cancels within one minute
  near_liquidation,     // the mark this fraction (of the mark) or closer to a position's estimated liquidation price
  emergency_stop,       // every emergency stop
};
inline constexpr std::size_t kAlertRuleCount = 6;
[[nodiscard]] std::string_view to_string(AlertRule r) noexcept;

enum class AlertSeverity : std::uint8_t { warning, critical };
[[nodiscard]] std::string_view to_string(AlertSeverity s) noexcept;

// One alert as the OMS thread hands it over: trivially copyable, one cache line.
struct AlertEvent {
  std::int64_t time_ns;   // data time in a replay, wall time in paper/live
  double value;           // what was measured (fraction, count)
  double threshold;       // the rule's threshold it crossed
  AlertRule rule;
  AlertSeverity severity;
  std::uint16_t instrument;  // near_liquidation; 0 otherwise
  char detail[36];           // e.g. "feed", "journal", the emergency cause; NUL-terminated, truncated
};
static_assert(sizeof(AlertEvent) == 64, "an alert event is one cache line copied through the ring");

struct AlertRuleConfig {
  bool enabled{true};
  double threshold{0};
  std::int64_t cooldown_ns{0};  // after firing, the rule stays silent this long (event time)
};

// [alerts] rule thresholds and cool-downs; defaults are the plan's triggers.
struct AlertRulesConfig {
  std::array<AlertRuleConfig, kAlertRuleCount> rule{{
      {true, 0.03, 3'600'000'000'000},  // daily_drawdown: > 3 %, then silent 1 h
      {true, 3, 3'600'000'000'000},     // consecutive_losses: 3 in a row
      {true, 10, 600'000'000'000},      // component_unhealthy: feed without a frame 10 s; journal trouble
      {true, 5, 600'000'000'000},       // api_errors: 5 per minute
      {true, 0.02, 600'000'000'000},    // near_liquidation: mark within 2 % of the estimated liquidation price
      {true, 0, 0},                     // emergency_stop: every one
  }};
  [[nodiscard]] const AlertRuleConfig& operator[](AlertRule r) const noexcept { return rule[static_cast<std::size_t>(r)]; }
  [[nodiscard]] AlertRuleConfig& operator[](AlertRule r) noexcept { return rule[static_cast<std::size_t>(r)]; }
};

// The OMS-thread side. Single producer: only the thread that owns the TradingCore calls raise().
class AlertMonitor {
 public:
  AlertMonitor(const AlertRulesConfig& rules, SpscRing<AlertEvent>& ring) noexcept : rules_(rules), ring_(ring) {}

  [[nodiscard]] const AlertRuleConfig& rule(AlertRule r) const noexcept { return rules_[r]; }
  // The rule is on and out of its cool-down at `now_ns` (callers skip measuring otherwise).
  [[nodiscard]] bool armed(AlertRule r, std::int64_t now_ns) const noexcept {
    const auto i = static_cast<std::size_t>(r);
    return rules_.rule[i].enabled && (last_ns_[i] == kNever || now_ns - last_ns_[i] >= rules_.rule[i].cooldown_ns);
  }
  // Enqueues one alert when armed; starts the cool-down. Never blocks: a full ring drops it (counted).
  // Returns true when the event was enqueued.
  bool raise(AlertRule r, AlertSeverity s, std::int64_t now_ns, double value, std::string_view detail,
             std::uint16_t instrument = 0) noexcept;

  // Alerts fired (enqueued or dropped), and those a full ring dropped.
  [[nodiscard]] std::uint64_t raised() const noexcept { return raised_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t raised(AlertRule r) const noexcept {
    return by_rule_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
  }

 private:
  static constexpr std::int64_t kNever = INT64_MIN;
  AlertRulesConfig rules_;
  SpscRing<AlertEvent>& ring_;
  std::array<std::int64_t, kAlertRuleCount> last_ns_{kNever, kNever, kNever, kNever, kNever, kNever};
  // Read by the summary and other threads; relaxed stores are plain moves on x86.
  std::atomic<std::uint64_t> raised_{0}, dropped_{0};
  std::array<std::atomic<std::uint64_t>, kAlertRuleCount> by_rule_{};
};

enum class AlertChannelKind : std::uint8_t { telegram, slack, webhook };
[[nodiscard]] std::string_view to_string(AlertChannelKind k) noexcept;

// Where one channel posts. The secret part (bot token, webhook URL) is read at start-up from the
// environment or an owner-only file (config::load_secret), never from the TOML, and never logged.
struct AlertChannelSettings {
  bool enabled{false};
  std::string secret_env;   // telegram: bot token; slack/webhook: the full https URL
  std::string secret_file;  // used when the variable is unset; must be 0600/0400
  std::string api_base{"https://api.telegram.org"};  // telegram only: POST <api_base>/bot<token>/sendMessage
  std::string chat_id;                                // telegram only
};

// [alerts.telegram] control = true: two-way control from Telegram by polling getUpdates. Commands from an
// allowed chat go to the engine's own admin endpoint (loopback, with its bearer token), so they carry
// exactly the admin endpoint's authority; other chats are ignored (logged, counted).
struct TelegramControlSettings {
  bool enabled{false};
  std::vector<std::int64_t> allowed_chat_ids;
  std::int64_t poll_timeout_s{2};  // getUpdates long-poll timeout; the end of a run waits up to this long
};

// [alerts]
struct AlertSettings {
  bool enabled{false};
  AlertRulesConfig rules{};
  AlertChannelSettings telegram{false, "ENIGMA_TELEGRAM_BOT_TOKEN", {}, "https://api.telegram.org", {}};
  AlertChannelSettings slack{false, "ENIGMA_SLACK_WEBHOOK_URL", {}, {}, {}};
  AlertChannelSettings webhook{false, "ENIGMA_ALERT_WEBHOOK_URL", {}, {}, {}};
  std::int64_t retry_base_ms{1000};   // first retry after this, doubling ...
  std::int64_t retry_max_ms{30'000};  // ... up to this
  std::uint32_t max_attempts{8};      // then the alert is counted as failed
  double rate_per_minute{20};         // per channel; bursts up to this many
  std::int64_t timeout_ms{5000};      // one HTTPS request
  std::int64_t flush_ms{10'000};      // at the end of a run: how long undelivered alerts may still be tried
  std::string ca_file;                // extra trusted CA (tests: the self-signed local server)
  std::uint32_t queue{1024};          // OMS thread -> alert thread ring (power of two)
  std::string mode{"replay"};         // names the run in the message text
  TelegramControlSettings control{};
};

struct AlertChannelStats {
  std::atomic<std::uint64_t> delivered{0}, failed{0}, retries{0}, dropped{0};
};

// The alert thread. Construct with the channels' secrets resolved (throws enigma::Error naming the
// variable or file, never the value, when one is missing or a URL is malformed), start(), hand
// monitor() to the TradingCore, and stop() at the end of the run (before the summary is written).
class AlertDispatcher {
 public:
  explicit AlertDispatcher(AlertSettings settings);
  ~AlertDispatcher();
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  void start();
  // Stops taking new events once the ring is drained, keeps trying what is pending for up to
  // [alerts] flush_ms, then counts whatever is left as failed and joins. Idempotent.
  void stop();

  [[nodiscard]] AlertMonitor& monitor() noexcept { return monitor_; }
  [[nodiscard]] const AlertMonitor& monitor() const noexcept { return monitor_; }
  [[nodiscard]] const AlertSettings& settings() const noexcept { return settings_; }
  // Per channel (indexed by AlertChannelKind); counts of disabled channels stay 0.
  [[nodiscard]] const AlertChannelStats& stats(AlertChannelKind k) const noexcept {
    return stats_[static_cast<std::size_t>(k)];
  }
  [[nodiscard]] bool channel_enabled(AlertChannelKind k) const noexcept;
  // [alerts.telegram] control: starts the thread that polls getUpdates and forwards commands of allowed
  // chats to the admin endpoint at 127.0.0.1:`admin_port` with `admin_token`. Throws enigma::Error when
  // Telegram is not configured.
  void start_telegram_control(std::uint16_t admin_port, std::string admin_token);
  [[nodiscard]] std::uint64_t control_commands() const noexcept { return control_commands_.load(); }
  [[nodiscard]] std::uint64_t control_refused() const noexcept { return control_refused_.load(); }
  // summary.json's "alerts" object (one line of JSON).
  [[nodiscard]] std::string summary_json() const;

  // The message texts, exposed for tests: what Telegram/Slack show, and the generic JSON body.
  [[nodiscard]] static std::string message_text(const AlertEvent& e, std::string_view mode);
  [[nodiscard]] static std::string generic_json(const AlertEvent& e, std::string_view mode);

 private:
  struct Impl;
  void run();
  void run_control(std::uint16_t admin_port, std::string admin_token);

  AlertSettings settings_;
  SpscRing<AlertEvent> ring_;
  AlertMonitor monitor_;
  std::array<AlertChannelStats, 3> stats_{};
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::atomic<std::uint64_t> control_commands_{0}, control_refused_{0};
  std::thread control_thread_;
};

}  // namespace enigma::engine
