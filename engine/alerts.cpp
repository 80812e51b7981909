#include "engine/alerts.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <deque>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/logger.hpp"
#include "feed/https_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <simdjson.h>

namespace enigma::engine {

std::string_view to_string(AlertRule r) noexcept {
  switch (r) {
    case AlertRule::daily_drawdown: return "daily_drawdown";
    case AlertRule::consecutive_losses: return "consecutive_losses";
    case AlertRule::component_unhealthy: return "component_unhealthy";
    case AlertRule::api_errors: return "api_errors";
    case AlertRule::near_liquidation: return "near_liquidation";
    case AlertRule::emergency_stop: return "emergency_stop";
  }
  return "?";
}

std::string_view to_string(AlertSeverity s) noexcept { return s == AlertSeverity::critical ? "critical" : "warning"; }

std::string_view to_string(AlertChannelKind k) noexcept {
  switch (k) {
    case AlertChannelKind::telegram: return "telegram";
    case AlertChannelKind::slack: return "slack";
    case AlertChannelKind::webhook: return "webhook";
  }
  return "?";
}

bool AlertMonitor::raise(AlertRule r, AlertSeverity s, std::int64_t now_ns, double value, std::string_view detail,
                         std::uint16_t instrument) noexcept {
  if (!armed(r, now_ns)) return false;
  const auto i = static_cast<std::size_t>(r);
  last_ns_[i] = now_ns;
  AlertEvent e{};
  e.time_ns = now_ns;
  e.value = value;
  e.threshold = rules_.rule[i].threshold;
  e.rule = r;
  e.severity = s;
  e.instrument = instrument;
  const std::size_t n = std::min(detail.size(), sizeof e.detail - 1);
  std::copy_n(detail.data(), n, e.detail);
  e.detail[n] = '\0';
  by_rule_[i].fetch_add(1, std::memory_order_relaxed);
  raised_.fetch_add(1, std::memory_order_relaxed);
  if (!ring_.try_push(e)) [[unlikely]] {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

namespace {

std::string json_string(std::string_view s) {
  std::string o = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

std::string utc_time(std::int64_t ns) {
  const std::time_t s = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

std::string fmt(const char* f, double a, double b = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

using Clock = std::chrono::steady_clock;

// A failure with its full cause (the hot-path log record would truncate it); the alert thread is cold.
void log_text(LogLevel level, const std::string& text) {
  if (Logger* l = Logger::global()) l->write_text(level, "alert", text);
}

struct Pending {
  std::string body;
  AlertRule rule;
  std::uint32_t attempts{0};
  Clock::time_point next_at{};
};

// A channel's queue is bounded so a long outage cannot grow memory without limit.
constexpr std::size_t kMaxPendingPerChannel = 256;

}  // namespace

std::string AlertDispatcher::message_text(const AlertEvent& e, std::string_view mode) {
  std::string what;
  const std::string_view detail(e.detail);
  switch (e.rule) {
    case AlertRule::daily_drawdown:
      what = fmt("equity %.2f %% below the day's start (alert above %.2f %%)", e.value * 100, e.threshold * 100);
      break;
    case AlertRule::consecutive_losses:
      what = fmt("%.0f losing round trips in a row (alert at %.0f)", e.value, e.threshold);
      break;
    case AlertRule::component_unhealthy:
      if (detail == "feed") what = fmt("feed stale: no market data for %.0f s (alert at %.0f s)", e.value, e.threshold);
      else what = std::string(detail) + fmt(" trouble: %.0f error(s); check the disk and the journal", e.value);
      break;
    case AlertRule::api_errors:
      what = fmt("%.0f API errors (venue rejects, unknown outcomes, refused requests) within a minute (alert at %.0f)", e.value,
                 e.threshold);
      break;
    case AlertRule::near_liquidation:
      what = "instrument " + std::to_string(e.instrument) +
             fmt(": mark %.2f %% from the estimated liquidation price (alert within %.2f %%)", e.value * 100, e.threshold * 100);
      break;
    case AlertRule::emergency_stop:
      what = "EMERGENCY STOP (" + std::string(detail) +
             "): trading halted until a person resets it (POST /kill/reset, then POST /trading/start)";
      break;
  }
  return "[enigma " + std::string(mode) + "] " + std::string(to_string(e.severity)) + " " + std::string(to_string(e.rule)) +
         ": " + what + " at " + utc_time(e.time_ns);
}

std::string AlertDispatcher::generic_json(const AlertEvent& e, std::string_view mode) {
  std::string j = "{\"rule\":" + json_string(to_string(e.rule)) + ",\"severity\":" + json_string(to_string(e.severity)) +
                  ",\"text\":" + json_string(message_text(e, mode)) + ",\"time\":" + json_string(utc_time(e.time_ns)) +
                  ",\"time_ns\":" + std::to_string(e.time_ns) + ",\"mode\":" + json_string(mode);
  char num[64];
  std::snprintf(num, sizeof num, "%.10g", e.value);
  j += std::string(",\"value\":") + num;
  std::snprintf(num, sizeof num, "%.10g", e.threshold);
  j += std::string(",\"threshold\":") + num;
  j += ",\"detail\":" + json_string(e.detail) + ",\"instrument\":" + std::to_string(e.instrument) + "}";
  return j;
}

struct AlertDispatcher::Impl {
  struct Channel {
    AlertChannelKind kind;
    std::string url;    // secret (contains the token or is the webhook URL): never logged
    std::string label;  // what logs say instead
    std::string chat_id;
    std::deque<Pending> queue;
    double tokens{0};
    Clock::time_point refilled{};
  };
  std::vector<Channel> channels;
  feed::HttpsClient client;
  std::string telegram_bot_url;  // <api_base>/bot<token> (secret)

  explicit Impl(feed::HttpsOptions o) : client(std::move(o)) {}
};

namespace {

// A failure text from the HTTPS client names the URL; the URL carries the secret, so it is replaced.
std::string redact(std::string msg, const std::string& secret_url, const std::string& label) {
  for (std::size_t p; !secret_url.empty() && (p = msg.find(secret_url)) != std::string::npos;)
    msg.replace(p, secret_url.size(), label);
  return msg;
}

}  // namespace

AlertDispatcher::AlertDispatcher(AlertSettings settings)
    : settings_(std::move(settings)), ring_(settings_.queue), monitor_(settings_.rules, ring_) {
  feed::HttpsOptions ho;
  ho.tls.ca_file = settings_.ca_file;
  ho.timeout_ns = settings_.timeout_ms * 1'000'000;
  ho.max_body_bytes = 1u << 20;
  impl_ = std::make_unique<Impl>(std::move(ho));
  const auto add = [&](AlertChannelKind kind, const AlertChannelSettings& c) {
    if (!c.enabled) return;
    const std::string name(to_string(kind));
    const config::Secret secret = config::load_secret(c.secret_env, c.secret_file);
    Impl::Channel ch;
    ch.kind = kind;
    if (kind == AlertChannelKind::telegram) {
      if (c.chat_id.empty()) throw Error("[alerts.telegram] chat_id is required");
      ch.url = c.api_base + "/bot" + std::string(secret.reveal()) + "/sendMessage";
      ch.label = "<telegram " + c.api_base + "/bot***/sendMessage>";
      ch.chat_id = c.chat_id;
    } else {
      ch.url = std::string(secret.reveal());
      ch.label = "<" + name + " URL from " + (c.secret_file.empty() || std::getenv(c.secret_env.c_str()) ? c.secret_env : c.secret_file) + ">";
    }
    try {
      const feed::ParsedUrl u = feed::parse_url(ch.url);
      if (u.scheme != "https") throw Error("not an https URL");
    } catch (const std::exception& e) {
      // The message of parse_url quotes the URL: name only where it came from.
      throw Error("[alerts." + name + "]: the URL from " + ch.label + " is not a valid https URL");
    }
    if (kind == AlertChannelKind::telegram) impl_->telegram_bot_url = c.api_base + "/bot" + std::string(secret.reveal());
    ch.tokens = settings_.rate_per_minute;
    ch.refilled = Clock::now();
    impl_->channels.push_back(std::move(ch));
  };
  add(AlertChannelKind::telegram, settings_.telegram);
  add(AlertChannelKind::slack, settings_.slack);
  add(AlertChannelKind::webhook, settings_.webhook);
}

AlertDispatcher::~AlertDispatcher() { stop(); }

bool AlertDispatcher::channel_enabled(AlertChannelKind k) const noexcept {
  return std::any_of(impl_->channels.begin(), impl_->channels.end(), [&](const Impl::Channel& c) { return c.kind == k; });
}

void AlertDispatcher::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void AlertDispatcher::stop() {
  stopping_.store(true, std::memory_order_release);
  if (control_thread_.joinable()) control_thread_.join();
  if (thread_.joinable()) thread_.join();
}

void AlertDispatcher::run() {
  const auto backoff = [&](std::uint32_t attempts) {
    std::int64_t ms = settings_.retry_base_ms;
    for (std::uint32_t i = 1; i < attempts && ms < settings_.retry_max_ms; ++i) ms *= 2;
    return std::chrono::milliseconds(std::min(ms, settings_.retry_max_ms));
  };
  std::optional<Clock::time_point> flush_deadline;
  for (;;) {
    // Read the flag before draining: every event pushed before stop() is in the ring by now.
    const bool stopping = stopping_.load(std::memory_order_acquire);
    AlertEvent e;
    while (ring_.try_pop(e)) {
      ENIGMA_LOG_WARN("alert", "rule={} severity={} value={} detail={}", to_string(e.rule), to_string(e.severity), e.value,
                      std::string_view(e.detail));
      for (Impl::Channel& ch : impl_->channels) {
        AlertChannelStats& st = stats_[static_cast<std::size_t>(ch.kind)];
        if (ch.queue.size() >= kMaxPendingPerChannel) {
          st.dropped.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        std::string body;
        if (ch.kind == AlertChannelKind::telegram)
          body = "{\"chat_id\":" + json_string(ch.chat_id) + ",\"text\":" + json_string(message_text(e, settings_.mode)) + "}";
        else if (ch.kind == AlertChannelKind::slack)
          body = "{\"text\":" + json_string(message_text(e, settings_.mode)) + "}";
        else
          body = generic_json(e, settings_.mode);
        ch.queue.push_back(Pending{std::move(body), e.rule});
      }
    }
    Clock::time_point now = Clock::now();
    if (stopping && !flush_deadline) flush_deadline = now + std::chrono::milliseconds(settings_.flush_ms);
    bool pending = false;
    bool sent = false;
    for (Impl::Channel& ch : impl_->channels) {
      AlertChannelStats& st = stats_[static_cast<std::size_t>(ch.kind)];
      // Token bucket: bursts up to rate_per_minute, refilled continuously at that rate.
      const double elapsed_s = std::chrono::duration<double>(now - ch.refilled).count();
      ch.tokens = std::min(settings_.rate_per_minute, ch.tokens + elapsed_s * settings_.rate_per_minute / 60.0);
      ch.refilled = now;
      if (ch.queue.empty()) continue;
      pending = true;
      Pending& p = ch.queue.front();
      if (p.next_at > now || ch.tokens < 1) continue;
      ch.tokens -= 1;
      ++p.attempts;
      std::string failure;
      try {
        const feed::HttpsResponse r = impl_->client.post(ch.url, p.body, "application/json");
        if (r.status < 200 || r.status >= 300)
          failure = "HTTP " + std::to_string(r.status) + " " + redact(r.body.substr(0, 200), ch.url, ch.label);
      } catch (const std::exception& ex) {
        failure = redact(ex.what(), ch.url, ch.label);
      }
      sent = true;
      now = Clock::now();
      if (failure.empty()) {
        st.delivered.fetch_add(1, std::memory_order_relaxed);
        ENIGMA_LOG_INFO("alert", "delivered channel={} rule={} attempts={}", to_string(ch.kind), to_string(p.rule), p.attempts);
        ch.queue.pop_front();
      } else if (p.attempts >= settings_.max_attempts) {
        st.failed.fetch_add(1, std::memory_order_relaxed);
        log_text(LogLevel::error, "delivery failed channel=" + std::string(to_string(ch.kind)) + " rule=" +
                                      std::string(to_string(p.rule)) + " attempts=" + std::to_string(p.attempts) +
                                      " giving up: " + failure);
        ch.queue.pop_front();
      } else {
        st.retries.fetch_add(1, std::memory_order_relaxed);
        const auto wait = backoff(p.attempts);
        log_text(LogLevel::warn, "delivery failed channel=" + std::string(to_string(ch.kind)) + " rule=" +
                                     std::string(to_string(p.rule)) + " attempt=" + std::to_string(p.attempts) +
                                     " retry_in_ms=" + std::to_string(wait.count()) + ": " + failure);
        p.next_at = now + wait;
      }
    }
    if (stopping && (!pending || now >= *flush_deadline)) {
      for (Impl::Channel& ch : impl_->channels) {
        if (ch.queue.empty()) continue;
        stats_[static_cast<std::size_t>(ch.kind)].failed.fetch_add(ch.queue.size(), std::memory_order_relaxed);
        ENIGMA_LOG_ERROR("alert", "run ended with {} alert(s) undelivered channel={} (counted as failed)", ch.queue.size(),
                         to_string(ch.kind));
        ch.queue.clear();
      }
      return;
    }
    // The OMS thread never signals (that would be a syscall on its path): poll the ring.
    if (!sent) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

namespace {

// One plain-HTTP request to the engine's own admin endpoint (loopback); {status, body}, status 0 on failure.
std::pair<int, std::string> admin_request(std::uint16_t port, const std::string& token, bool post, const std::string& target) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{post ? http::verb::post : http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (post) req.set(http::field::authorization, "Bearer " + token);
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    return {static_cast<int>(res.result_int()), res.body()};
  } catch (const std::exception& e) {
    return {0, std::string("admin endpoint unreachable: ") + e.what()};
  }
}

}  // namespace

void AlertDispatcher::start_telegram_control(std::uint16_t admin_port, std::string admin_token) {
  if (impl_->telegram_bot_url.empty()) throw Error("[alerts.telegram] control needs [alerts.telegram] enabled");
  if (control_thread_.joinable()) return;
  control_thread_ = std::thread([this, admin_port, token = std::move(admin_token)]() mutable { run_control(admin_port, std::move(token)); });
}

void AlertDispatcher::run_control(std::uint16_t admin_port, std::string admin_token) {
  const TelegramControlSettings& cs = settings_.control;
  feed::HttpsOptions ho;
  ho.tls.ca_file = settings_.ca_file;
  ho.timeout_ns = (cs.poll_timeout_s + 10) * 1'000'000'000;  // the long poll itself plus the round trip
  ho.max_body_bytes = 1u << 20;
  feed::HttpsClient client(ho);
  const std::string& bot = impl_->telegram_bot_url;
  const std::string label = "<telegram " + settings_.telegram.api_base + "/bot***>";
  simdjson::ondemand::parser parser;
  std::int64_t offset = 0;
  // Sleeps in short steps so that stop() is never kept waiting.
  const auto pause = [&](int ms) {
    for (int i = 0; i < ms / 20 && !stopping_.load(std::memory_order_acquire); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  const auto reply = [&](std::int64_t chat, const std::string& text) {
    try {
      const auto r = client.post(bot + "/sendMessage", "{\"chat_id\":" + std::to_string(chat) + ",\"text\":" + json_string(text.substr(0, 3500)) + "}");
      if (r.status < 200 || r.status >= 300) log_text(LogLevel::warn, "telegram control: reply refused HTTP " + std::to_string(r.status));
    } catch (const std::exception& e) {
      log_text(LogLevel::warn, "telegram control: reply failed: " + redact(e.what(), bot, label));
    }
  };
  ENIGMA_LOG_INFO("alert", "telegram control on allowed_chats={}", cs.allowed_chat_ids.size());
  while (!stopping_.load(std::memory_order_acquire)) {
    const auto t0 = Clock::now();
    std::string body;
    try {
      const auto r = client.get(bot + "/getUpdates?timeout=" + std::to_string(cs.poll_timeout_s) + "&offset=" + std::to_string(offset));
      if (r.status != 200) throw Error("HTTP " + std::to_string(r.status));
      body = r.body;
    } catch (const std::exception& e) {
      log_text(LogLevel::warn, "telegram control: getUpdates failed: " + redact(e.what(), bot, label));
      pause(1000);
      continue;
    }
    struct Update {
      std::int64_t chat;
      std::string text;
    };
    std::vector<Update> updates;
    try {
      simdjson::padded_string ps(body);
      simdjson::ondemand::document doc = parser.iterate(ps);
      for (auto u : doc["result"].get_array()) {
        simdjson::ondemand::object o = u.get_object();
        std::int64_t id = 0;
        std::int64_t chat = 0;
        std::string_view text;
        bool has_text = false;
        for (auto field : o) {
          const std::string_view key = field.unescaped_key();
          if (key == "update_id") {
            id = field.value().get_int64();
          } else if (key == "message") {
            simdjson::ondemand::object m = field.value().get_object();
            for (auto mf : m) {
              const std::string_view mk = mf.unescaped_key();
              if (mk == "chat") chat = mf.value()["id"].get_int64();
              else if (mk == "text") has_text = !mf.value().get_string().get(text);
            }
          }
        }
        offset = std::max(offset, id + 1);  // acknowledged: the next poll does not return it again
        if (has_text) updates.push_back({chat, std::string(text)});
      }
    } catch (const std::exception& e) {
      log_text(LogLevel::warn, std::string("telegram control: getUpdates answer not understood: ") + e.what());
      pause(1000);
      continue;
    }
    for (const Update& u : updates) {
      const bool allowed = std::find(cs.allowed_chat_ids.begin(), cs.allowed_chat_ids.end(), u.chat) != cs.allowed_chat_ids.end();
      std::string cmd = u.text.substr(0, u.text.find_first_of(" @"));
      if (!allowed) {
        control_refused_.fetch_add(1, std::memory_order_relaxed);
        log_text(LogLevel::warn, "telegram control: ignored a message from chat " + std::to_string(u.chat) + " (not in allowed_chat_ids)");
        continue;
      }
      control_commands_.fetch_add(1, std::memory_order_relaxed);
      log_text(LogLevel::info, "telegram control: chat " + std::to_string(u.chat) + " sent " + cmd.substr(0, 32));
      std::pair<int, std::string> r;
      std::string text;
      if (cmd == "/status" || cmd == "/positions" || cmd == "/pnl") {
        r = admin_request(admin_port, admin_token, false, cmd == "/positions" ? "/positions" : "/status");
        text = r.second;
        if (cmd == "/pnl" && r.first == 200) {
          const auto p = text.find("\"pnl\"");
          text = p == std::string::npos ? text : text.substr(p, text.find('}', p) - p + 1);
        }
      } else if (cmd == "/stop" || cmd == "/start" || cmd == "/kill") {
        r = admin_request(admin_port, admin_token, true, cmd == "/kill" ? "/kill" : cmd == "/stop" ? "/trading/stop" : "/trading/start");
        text = "POST " + std::string(cmd == "/kill" ? "/kill" : cmd == "/stop" ? "/trading/stop" : "/trading/start") + ": HTTP " +
               std::to_string(r.first) + " " + r.second;
      } else {
        text = "commands: /status /positions /pnl /stop /start /kill";
      }
      reply(u.chat, text);
    }
    // A server that answers at once (no long poll) is not polled in a tight loop.
    if (updates.empty() && Clock::now() - t0 < std::chrono::milliseconds(200)) pause(200);
  }
}

std::string AlertDispatcher::summary_json() const {
  std::string j = "{\"raised\": " + std::to_string(monitor_.raised()) + ", \"dropped\": " + std::to_string(monitor_.dropped()) +
                  ", \"by_rule\": {";
  for (std::size_t i = 0; i < kAlertRuleCount; ++i) {
    const auto r = static_cast<AlertRule>(i);
    j += (i ? ", \"" : "\"") + std::string(to_string(r)) + "\": " + std::to_string(monitor_.raised(r));
  }
  j += "}, \"channels\": {";
  bool first = true;
  for (const AlertChannelKind k : {AlertChannelKind::telegram, AlertChannelKind::slack, AlertChannelKind::webhook}) {
    if (!channel_enabled(k)) continue;
    const AlertChannelStats& s = stats(k);
    j += (first ? "\"" : ", \"") + std::string(to_string(k)) + "\": {\"delivered\": " + std::to_string(s.delivered.load()) +
         ", \"failed\": " + std::to_string(s.failed.load()) + ", \"retries\": " + std::to_string(s.retries.load()) +
         ", \"dropped\": " + std::to_string(s.dropped.load()) + "}";
    first = false;
  }
  return j + "}}";
}

}  // namespace enigma::engine
