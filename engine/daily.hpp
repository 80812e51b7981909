// Daily reports (README "Daily reports"): one UTC trading day's figures, collected on the OMS thread as
// plain counters (no allocation, no syscall), handed over at the day roll through a preallocated ring and
// written as `<run dir>/daily/<YYYY-MM-DD>.md` and `.html` by the reporter thread. Days are data days in a
// replay and wall-clock days in paper/live; the day still open at the end of a run is written too (marked
// partial).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/fixed_point.hpp"
#include "core/spsc_ring.hpp"
#include "risk/reject_reason.hpp"

namespace enigma::engine {

struct DailyStats {
  static constexpr int kLatencyBuckets = 256;  // quarter-octaves of TSC ticks: frame -> order bytes
  std::int64_t day{-1};                        // days since the Unix epoch (UTC)
  bool partial{false};                         // the run ended before the day did
  double start_equity{0}, end_equity{0}, peak_equity{0}, max_drawdown{0};
  double gross_profit{0}, gross_loss{0}, best_trip{0}, worst_trip{0}, fees{0};
  std::uint64_t orders{0}, fills{0}, trips{0}, losing_trips{0}, emergency_stops{0}, kills{0};
  std::array<std::uint64_t, risk::kRejectReasonCount> rejects{};  // risk rejects of the day, by reason
  std::array<double, 25> hourly_equity{};       // equity at each whole hour seen (NaN-free: 0 = not seen)
  std::array<std::uint32_t, kLatencyBuckets> order_latency{};
  double ns_per_tick{1};

  // Hot path: one order's frame -> order bytes time in TSC ticks.
  void record_order_latency(std::uint64_t ticks) noexcept;
  // Cold: the latency (ns) under which `frac` of the day's orders were placed (bucket upper bound).
  [[nodiscard]] double order_latency_ns(double frac) const noexcept;
};

// Markdown and HTML of one day (pure: tested on hand-made stats).
[[nodiscard]] std::string daily_markdown(const DailyStats& d);
[[nodiscard]] std::string daily_html(const DailyStats& d);
// "YYYY-MM-DD" of a day number.
[[nodiscard]] std::string day_name(std::int64_t day);

// The reporter thread: takes closed days from the OMS thread and writes their files (errors are logged,
// never thrown into trading).
class DailyReporter {
 public:
  explicit DailyReporter(std::string run_dir, std::size_t capacity = 256);
  ~DailyReporter();  // stops, after writing every day handed over
  DailyReporter(const DailyReporter&) = delete;
  DailyReporter& operator=(const DailyReporter&) = delete;

  // OMS thread: hands a closed day over; false (counted) when the ring is full.
  bool submit(const DailyStats& d) noexcept;
  // Writes what is queued now and stops the thread (idempotent). Call after the last submit.
  void flush();
  [[nodiscard]] std::uint64_t written() const noexcept { return written_.load(); }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(); }

 private:
  void drain();
  std::string dir_;
  SpscRing<DailyStats> ring_;
  // The thread polls the ring every 200 ms; stop wakes it at once (a sleep made every run's exit wait for
  // the rest of it, 100 ms on average).
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_{false};
  std::atomic<std::uint64_t> written_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace enigma::engine
