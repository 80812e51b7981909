#include "engine/daily.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <sys/stat.h>

#include "core/files.hpp"
#include "core/logger.hpp"
#include "engine/report.hpp"

namespace enigma::engine {

namespace {

// Bucket of a tick count: 4 per octave (upper bounds 2^(b/4)), 0 for 0 and 1.
int bucket_of(std::uint64_t ticks) noexcept {
  if (ticks <= 1) return 0;
  const int octave = 63 - __builtin_clzll(ticks);
  const int quarter = octave >= 2 ? static_cast<int>((ticks >> (octave - 2)) & 3) : 0;
  const int b = octave * 4 + quarter + 1;
  return b < DailyStats::kLatencyBuckets ? b : DailyStats::kLatencyBuckets - 1;
}

double bucket_upper_ticks(int b) noexcept {
  if (b == 0) return 1;
  const int octave = (b - 1) / 4, quarter = (b - 1) % 4;
  return std::ldexp(1.0 + (quarter + 1) / 4.0, octave);
}

std::string money(double v) {
  char b[48];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

struct Figures {
  double pnl, win_rate, profit_factor, p50_us, p99_us;
  std::uint64_t rejects;
};

Figures figures(const DailyStats& d) {
  Figures f{};
  f.pnl = d.end_equity - d.start_equity;
  f.win_rate = d.trips == 0 ? NAN : 100.0 * static_cast<double>(d.trips - d.losing_trips) / static_cast<double>(d.trips);
  f.profit_factor = d.gross_loss > 0 ? d.gross_profit / d.gross_loss : (d.gross_profit > 0 ? INFINITY : NAN);
  f.p50_us = d.order_latency_ns(0.5) / 1000.0;
  f.p99_us = d.order_latency_ns(0.99) / 1000.0;
  for (const auto n : d.rejects) f.rejects += n;
  return f;
}

std::string num(double v, const char* fmt = "%.2f") {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return "inf";
  char b[48];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

std::vector<std::pair<std::string, std::string>> rows_of(const DailyStats& d) {
  const Figures f = figures(d);
  std::vector<std::pair<std::string, std::string>> r = {
      {"net P&L (after fees and funding)", money(f.pnl)},
      {"equity start / end", money(d.start_equity) + " / " + money(d.end_equity)},
      {"round trips (losing)", std::to_string(d.trips) + " (" + std::to_string(d.losing_trips) + ")"},
      {"win rate (before fees)", num(f.win_rate, "%.1f") + " %"},
      {"profit factor (before fees)", num(f.profit_factor)},
      {"best / worst round trip", money(d.best_trip) + " / " + money(d.worst_trip)},
      {"max drawdown (from the day's peak)", money(d.max_drawdown)},
      {"fees", money(d.fees)},
      {"orders / fills", std::to_string(d.orders) + " / " + std::to_string(d.fills)},
      {"frame -> order p50 / p99 (us)", num(f.p50_us) + " / " + num(f.p99_us)},
      {"risk rejects", std::to_string(f.rejects)},
      {"incidents: emergency stops / kills", std::to_string(d.emergency_stops) + " / " + std::to_string(d.kills)},
  };
  return r;
}

}  // namespace

void DailyStats::record_order_latency(std::uint64_t ticks) noexcept { ++order_latency[bucket_of(ticks)]; }

double DailyStats::order_latency_ns(double frac) const noexcept {
  std::uint64_t total = 0;
  for (const auto n : order_latency) total += n;
  if (total == 0) return NAN;
  const double want = frac * static_cast<double>(total);
  std::uint64_t seen = 0;
  for (int b = 0; b < kLatencyBuckets; ++b) {
    seen += order_latency[b];
    if (static_cast<double>(seen) >= want) return bucket_upper_ticks(b) * ns_per_tick;
  }
  return bucket_upper_ticks(kLatencyBuckets - 1) * ns_per_tick;
}

std::string day_name(std::int64_t day) {
  const std::time_t t = static_cast<std::time_t>(day * 86400);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[16];
  std::strftime(b, sizeof b, "%Y-%m-%d", &tm);
  return b;
}

std::string daily_markdown(const DailyStats& d) {
  std::ostringstream o;
  o << "# enigma daily report " << day_name(d.day) << (d.partial ? " (partial: the run ended before the day did)" : "") << "\n\n";
  o << "| figure | value |\n|---|---|\n";
  for (const auto& [k, v] : rows_of(d)) o << "| " << k << " | " << v << " |\n";
  o << "\n## Risk rejects by reason\n\n";
  bool any = false;
  for (int r = 1; r < risk::kRejectReasonCount; ++r) {
    if (d.rejects[r] == 0) continue;
    o << "* " << risk::to_string(static_cast<risk::RejectReason>(r)) << ": " << d.rejects[r] << "\n";
    any = true;
  }
  if (!any) o << "none\n";
  o << "\nPlots: `" << day_name(d.day) << ".html`.\n";
  return o.str();
}

std::string daily_html(const DailyStats& d) {
  std::ostringstream o;
  o << "<!doctype html><html><head><meta charset='utf-8'><title>enigma daily " << day_name(d.day)
    << "</title><style>body{font-family:sans-serif;max-width:900px;margin:24px auto}td{border:1px solid #ccc;padding:3px 8px}"
       "table{border-collapse:collapse}</style></head><body>\n<h1>enigma daily report "
    << day_name(d.day) << (d.partial ? " (partial)" : "") << "</h1>\n<table>\n";
  for (const auto& [k, v] : rows_of(d)) o << "<tr><td>" << k << "</td><td>" << v << "</td></tr>\n";
  o << "</table>\n";
  Series eq{"equity at the hour", {}, {}};
  for (int h = 0; h < 25; ++h) {
    if (d.hourly_equity[h] == 0) continue;
    eq.x.push_back(static_cast<double>(d.day * 86400 + h * 3600));
    eq.y.push_back(d.hourly_equity[h]);
  }
  eq.x.push_back(static_cast<double>(d.day * 86400 + 86400));
  eq.y.push_back(d.end_equity);
  if (eq.x.size() >= 2) o << "<h2>Equity</h2>\n" << svg_line_chart("Equity through the day", "time (UTC)", "equity", {eq}, false, 760, 300, false, true);
  Series lat{"orders", {}, {}};
  for (int b = 0; b < DailyStats::kLatencyBuckets; ++b) {
    if (d.order_latency[b] == 0) continue;
    lat.x.push_back(bucket_upper_ticks(b) * d.ns_per_tick / 1000.0);
    lat.y.push_back(d.order_latency[b]);
  }
  if (!lat.x.empty()) o << "<h2>Frame -> order latency</h2>\n" << svg_line_chart("Orders by frame -> order time", "us", "orders", {lat}, false);
  o << "</body></html>\n";
  return o.str();
}

DailyReporter::DailyReporter(std::string run_dir, std::size_t capacity) : dir_(std::move(run_dir) + "/daily"), ring_(capacity) {
  thread_ = std::thread([this] {
    std::unique_lock lock(stop_mu_);
    while (!stop_) {
      lock.unlock();
      drain();
      lock.lock();
      stop_cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; });
    }
    lock.unlock();
    drain();
  });
}

DailyReporter::~DailyReporter() { flush(); }

bool DailyReporter::submit(const DailyStats& d) noexcept {
  if (ring_.try_push(d)) return true;
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void DailyReporter::flush() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_one();
  thread_.join();
}

void DailyReporter::drain() {
  while (const DailyStats* d = ring_.front()) {
    try {
      ::mkdir(dir_.c_str(), 0755);
      const std::string base = dir_ + "/" + day_name(d->day);
      write_file_atomic(base + ".md", daily_markdown(*d));
      write_file_atomic(base + ".html", daily_html(*d));
      written_.fetch_add(1, std::memory_order_relaxed);
      if (Logger* l = Logger::global())
        l->write_text(LogLevel::info, "report", "daily_report path=" + log_quote(base + ".md") + " partial=" + (d->partial ? "true" : "false"));
    } catch (const std::exception& e) {
      if (Logger* l = Logger::global()) l->write_text(LogLevel::error, "report", "daily_report_failed error=" + log_quote(e.what()));
    }
    ring_.pop_front();
  }
}

}  // namespace enigma::engine
