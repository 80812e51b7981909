#include "research/download.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "core/error.hpp"
#include "core/files.hpp"
#include "feed/https_client.hpp"
#include "oms/request_budget.hpp"

namespace enigma::research {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
double mono_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

using Row = SeriesRow;

// What each venue documents, in one place.
struct VenueSpec {
  std::string candle_path, funding_path;
  std::uint32_t candle_page{0};   // rows per klines request
  std::uint32_t funding_page{0};  // rows per funding request
  oms::RequestBudgetConfig candle_budget, funding_budget;
  bool shared_budget{false};  // candles and funding draw from one pool
};

VenueSpec spec_of(DownloadVenue v) {
  VenueSpec s;
  if (v == DownloadVenue::binance_usdm) {
    // GET /fapi/v1/klines: limit up to 1500, weight by limit; REQUEST_WEIGHT 2400 per minute per IP.
    // GET /fapi/v1/fundingRate: limit up to 1000, its own pool of 500 requests per 5 minutes per IP.
    s.candle_path = "/fapi/v1/klines";
    s.funding_path = "/fapi/v1/fundingRate";
    s.candle_page = 1500;
    s.funding_page = 1000;
    s.candle_budget = {{60'000'000'000, 2400}, {}, {}, 0};
    s.funding_budget = {{300'000'000'000, 500}, {}, {}, 0};
  } else {
    // KuCoin Futures GET /api/v1/kline/query: at most 200 candles per request (public weight 3);
    // GET /api/v1/contract/funding-rates (public weight 5); the public pool is 2000 per 30 s.
    s.candle_path = "/api/v1/kline/query";
    s.funding_path = "/api/v1/contract/funding-rates";
    s.candle_page = 200;
    s.funding_page = 100;
    s.candle_budget = {{30'000'000'000, 2000}, {}, {}, 0};
    s.funding_budget = s.candle_budget;
    s.shared_budget = true;
  }
  return s;
}

// Binance's klines weight by the requested limit.
std::uint32_t binance_klines_weight(std::uint32_t limit) {
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

// Download progress with ETA on stderr over the part of the time range that had to be fetched, at most about once a
// second (and at the end).
class DownloadProgress {
 public:
  DownloadProgress(bool on, std::int64_t total_ms) : on_(on), total_(std::max<std::int64_t>(total_ms, 1)), t0_(mono_s()) {}
  void add(std::int64_t covered_ms, std::uint64_t rows, std::uint64_t requests, bool force = false) {
    done_ = std::min(total_, done_ + std::max<std::int64_t>(covered_ms, 0));
    rows_ = rows;
    requests_ = requests;
    const double now = mono_s();
    if (!on_ || (!force && now - last_ < 1.0)) return;
    last_ = now;
    const double el = now - t0_;
    const double f = static_cast<double>(done_) / static_cast<double>(total_);
    const double eta = f > 0 ? el / f * (1.0 - f) : 0.0;
    std::fprintf(
        stderr, "download: %.0f%% of the missing range, %llu rows in %llu requests, %.1f s elapsed, ETA %.1f s\n",
        100.0 * f, static_cast<unsigned long long>(rows_), static_cast<unsigned long long>(requests_), el, eta);
  }

 private:
  bool on_;
  std::int64_t total_;
  std::int64_t done_{0};
  double t0_;
  double last_{0};
  std::uint64_t rows_{0}, requests_{0};
};

class VenueClient {
 public:
  VenueClient(const DownloadOptions& opt, DownloadReport& report)
      : opt_(opt),
        spec_(spec_of(opt.venue)),
        base_(opt.base_url.empty() ? default_base_url(opt.venue) : opt.base_url),
        http_(make_options(opt)),
        candle_budget_(spec_.candle_budget),
        funding_budget_(spec_.funding_budget),
        report_(report) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  const VenueSpec& spec() const { return spec_; }
  std::uint64_t requests() const { return requests_; }

  // Candles with open times in [from, to] (inclusive, both on the grid), as the venue answered them.
  std::vector<Row> candles(std::int64_t from, std::int64_t to, std::int64_t step, std::uint64_t& duplicates) {
    const std::uint32_t n = static_cast<std::uint32_t>((to - from) / step + 1);
    std::string url = base_ + spec_.candle_path + "?symbol=" + opt_.symbol;
    std::uint32_t weight = 3;
    if (opt_.venue == DownloadVenue::binance_usdm) {
      url += "&interval=" + opt_.interval + "&startTime=" + std::to_string(from) + "&endTime=" + std::to_string(to) +
             "&limit=" + std::to_string(n);
      weight = binance_klines_weight(n);
    } else {
      url += "&granularity=" + std::to_string(step / 60'000) + "&from=" + std::to_string(from) +
             "&to=" + std::to_string(to);
    }
    return parse_klines_answer(opt_.venue, get(url, weight, candle_budget_), "GET " + url, duplicates);
  }

  // Funding settlements in [from, to] (inclusive).
  std::vector<Row> funding(std::int64_t from, std::int64_t to, std::uint64_t& duplicates) {
    std::string url = base_ + spec_.funding_path + "?symbol=" + opt_.symbol;
    std::uint32_t weight = 5;
    if (opt_.venue == DownloadVenue::binance_usdm) {
      url += "&startTime=" + std::to_string(from) + "&endTime=" + std::to_string(to) +
             "&limit=" + std::to_string(spec_.funding_page);
      weight = 1;
    } else {
      url += "&from=" + std::to_string(from) + "&to=" + std::to_string(to);
    }
    return parse_funding_answer(opt_.venue, get(url, weight, spec_.shared_budget ? candle_budget_ : funding_budget_),
                                "GET " + url, duplicates);
  }

 private:
  static feed::HttpsOptions make_options(const DownloadOptions& opt) {
    feed::HttpsOptions h;
    h.tls.ca_file = opt.ca_file;
    h.timeout_ns = 30'000'000'000;
    return h;
  }

  // One GET with the budget, 429 waits and bounded retries; returns the body of a 200 answer.
  std::string get(const std::string& url, std::uint32_t weight, oms::RequestBudget& budget) {
    int retries = 0;
    int waits = 0;
    for (;;) {
      for (std::int64_t now = wall_ns();
           budget.try_take(oms::RequestPriority::other, {weight, 0}, now) != oms::BudgetVerdict::ok; now = wall_ns())
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::max<std::int64_t>(budget.next_window_ns(now) - now, 1'000'000)));
      feed::HttpsResponse r;
      try {
        r = http_.get(url);
      } catch (const Error& e) {
        if (retries >= opt_.max_retries) throw;
        ++retries;
        ++report_.retried;
        std::fprintf(stderr, "download: %s; retry %d of %d\n", e.what(), retries, opt_.max_retries);
        std::this_thread::sleep_for(std::chrono::milliseconds(125 << std::min(retries, 6)));  // 250 ms, doubling
        continue;
      }
      ++requests_;
      if (opt_.venue == DownloadVenue::binance_usdm) {
        const std::string used(r.header("X-MBX-USED-WEIGHT-1M"));
        if (!used.empty() && &budget == &candle_budget_)
          budget.observe_used_weight(static_cast<std::uint32_t>(std::strtoul(used.c_str(), nullptr, 10)), wall_ns());
      }
      if (r.status == 200) return std::move(r.body);
      if (r.status == 429) {
        // Retry-After in seconds; KuCoin instead says when its window resets (gw-ratelimit-reset, ms).
        double wait_s = 1.0;
        if (const std::string ra(r.header("Retry-After")); !ra.empty()) {
          wait_s = std::strtod(ra.c_str(), nullptr);
        } else if (const std::string reset(r.header("gw-ratelimit-reset")); !reset.empty()) {
          wait_s = std::strtod(reset.c_str(), nullptr) / 1000.0;
        }
        wait_s = std::clamp(wait_s, 0.0, 600.0);
        if (++waits > 20) throw Error("GET " + url + ": still rate-limited (429) after 20 waits");
        ++report_.rate_limited;
        std::fprintf(stderr, "download: rate-limited (429); waiting %.1f s as the venue asks\n", wait_s);
        std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
        continue;
      }
      if (r.status == 418)
        throw Error("GET " + url + ": the venue banned this IP (418, Retry-After " +
                    std::string(r.header("Retry-After")) + " s): " + r.body.substr(0, 200));
      if (r.status >= 500 && retries < opt_.max_retries) {
        ++retries;
        ++report_.retried;
        std::fprintf(stderr, "download: HTTP %d from the venue; retry %d of %d\n", r.status, retries, opt_.max_retries);
        std::this_thread::sleep_for(std::chrono::milliseconds(125 << std::min(retries, 6)));  // 250 ms, doubling
        continue;
      }
      throw Error("GET " + url + ": HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
    }
  }

  const DownloadOptions& opt_;
  VenueSpec spec_;
  std::string base_;
  feed::HttpsClient http_;
  oms::RequestBudget candle_budget_, funding_budget_;
  DownloadReport& report_;
  std::uint64_t requests_{0};
};

// ---- files ----

// Reads a file this command wrote (candles: datetime,open,high,low,close,volume; funding:
// datetime,time_ms,funding_rate). Missing file: empty. Rows must be strictly increasing in time.
std::vector<Row> read_series(const std::string& path, bool funding) {
  if (!std::filesystem::exists(path)) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(path + ": read error");
  return parse_series_csv(text.str(), funding, path);
}

void write_series(const std::string& path, const std::vector<Row>& rows, bool funding) {
  std::string text = funding ? "datetime,time_ms,funding_rate\n" : "datetime,open,high,low,close,volume\n";
  text.reserve(rows.size() * 64 + 64);
  for (const Row& r : rows) {
    text += utc_datetime(r.t);
    text += ',';
    if (funding) {
      text += std::to_string(r.t);
      text += ',';
    }
    text += r.cells;
    text += '\n';
  }
  write_file_atomic(path, text);
}

// Runs of grid times in [from, to) (step apart, from on the grid) absent from `rows` (sorted).
std::vector<DownloadGap> missing_runs(const std::vector<Row>& rows, std::int64_t from, std::int64_t to,
                                      std::int64_t step) {
  std::vector<DownloadGap> out;
  auto it = std::lower_bound(rows.begin(), rows.end(), from, [](const Row& r, std::int64_t t) { return r.t < t; });
  for (std::int64_t t = from; t < to; t += step) {
    while (it != rows.end() && it->t < t) ++it;
    if (it != rows.end() && it->t == t) continue;
    if (!out.empty() && out.back().last_ms + step == t) {
      out.back().last_ms = t;
      ++out.back().missing;
    } else {
      out.push_back({t, t, 1});
    }
  }
  return out;
}

// Merges `add` (sorted) into `rows` (sorted); a time already present keeps the file's row and counts as a
// duplicate.
std::vector<Row> merge_rows(std::vector<Row> rows, std::vector<Row> add, std::uint64_t& duplicates) {
  std::vector<Row> out;
  out.reserve(rows.size() + add.size());
  std::size_t i = 0, j = 0;
  while (i < rows.size() || j < add.size()) {
    if (j == add.size() || (i < rows.size() && rows[i].t < add[j].t)) {
      out.push_back(std::move(rows[i++]));
    } else if (i == rows.size() || add[j].t < rows[i].t) {
      out.push_back(std::move(add[j++]));
    } else {
      out.push_back(std::move(rows[i++]));
      ++j;
      ++duplicates;
    }
  }
  return out;
}

std::string series_path(const DownloadOptions& opt, const std::string& tail) {
  return opt.out_dir + "/" + std::string(to_string(opt.venue)) + "_" + opt.symbol + "_" + tail + ".csv";
}

SeriesReport download_candles(const DownloadOptions& opt, VenueClient& venue, std::int64_t step) {
  SeriesReport rep;
  rep.path = series_path(opt, opt.interval);
  std::vector<Row> rows = read_series(rep.path, false);
  rep.had = rows.size();
  for (const Row& r : rows)
    if (r.t % step != 0)
      throw Error(rep.path + ": candle " + utc_datetime(r.t) + " is not on the " + opt.interval + " grid");
  // Candles whose open time lies in [from, to): the grid from the first open time at or after `from`.
  const std::int64_t from = floor_div(opt.from_ms + step - 1, step) * step;
  const std::vector<DownloadGap> missing = missing_runs(rows, from, opt.to_ms, step);
  std::int64_t total = 0;
  for (const DownloadGap& g : missing) total += g.last_ms + step - g.first_ms;
  DownloadProgress progress(opt.progress, total);
  const std::uint64_t requests0 = venue.requests();
  std::vector<Row> fetched;
  try {
    for (const DownloadGap& g : missing) {
      const std::int64_t end = g.last_ms + step;  // exclusive
      for (std::int64_t cursor = g.first_ms; cursor < end;) {
        const std::int64_t wend = std::min(end, cursor + static_cast<std::int64_t>(venue.spec().candle_page) * step);
        std::vector<Row> page = venue.candles(cursor, wend - step, step, rep.duplicates);
        std::int64_t last = -1;
        for (Row& r : page) {
          if (r.t < cursor || r.t >= wend) continue;  // outside what was asked: the next request gets it
          if (r.t % step != 0)
            throw Error("venue answered candle " + utc_datetime(r.t) + " off the " + opt.interval + " grid");
          last = r.t;
          fetched.push_back(std::move(r));
        }
        // A page shorter than the window (the venue's own cap, or a hole at its end): ask again from after
        // its last row; an empty page means nothing more in this window.
        const std::int64_t next = last < 0 || last + step >= wend ? wend : last + step;
        progress.add(next - cursor, fetched.size(), venue.requests() - requests0);
        cursor = next;
      }
    }
  } catch (const Error& e) {
    // Keep what arrived: the file stays valid (sorted, checked rows) and the next run asks only for the rest.
    if (fetched.empty()) throw;
    const std::size_t n = fetched.size();
    std::filesystem::create_directories(opt.out_dir);
    write_series(rep.path, merge_rows(std::move(rows), std::move(fetched), rep.duplicates), false);
    throw Error(std::string(e.what()) + " (the " + std::to_string(n) + " candles fetched before it are saved in " +
                rep.path + "; run again to fetch the rest)");
  }
  progress.add(0, fetched.size(), venue.requests() - requests0, true);
  rep.fetched = fetched.size();
  rep.requests = venue.requests() - requests0;
  rows = merge_rows(std::move(rows), std::move(fetched), rep.duplicates);
  rep.rows = rows.size();
  if (!rows.empty()) {
    rep.first_ms = rows.front().t;
    rep.last_ms = rows.back().t;
    // Holes: inside the file and anywhere in the requested range.
    const std::int64_t lo = std::min(from, rows.front().t);
    const std::int64_t hi = std::max(opt.to_ms, rows.back().t + step);
    rep.gaps = missing_runs(rows, lo, hi, step);
    std::filesystem::create_directories(opt.out_dir);
    if (rep.fetched > 0 || rep.had == 0) write_series(rep.path, rows, false);
  } else {
    rep.gaps = missing_runs(rows, from, opt.to_ms, step);
  }
  return rep;
}

SeriesReport download_funding(const DownloadOptions& opt, VenueClient& venue) {
  SeriesReport rep;
  rep.path = series_path(opt, "funding");
  std::vector<Row> rows = read_series(rep.path, true);
  rep.had = rows.size();
  // Funding times follow no fixed grid (intervals differ per symbol and change): fetch before the file's
  // first settlement and after its last.
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;  // [from, to)
  if (rows.empty()) {
    ranges.emplace_back(opt.from_ms, opt.to_ms);
  } else {
    if (opt.from_ms < rows.front().t) ranges.emplace_back(opt.from_ms, std::min(opt.to_ms, rows.front().t));
    if (opt.to_ms > rows.back().t + 1) ranges.emplace_back(std::max(opt.from_ms, rows.back().t + 1), opt.to_ms);
  }
  std::int64_t total = 0;
  for (const auto& [a, b] : ranges) total += b - a;
  DownloadProgress progress(opt.progress, total);
  const std::uint64_t requests0 = venue.requests();
  std::vector<Row> fetched;
  // Windows of page-size hours hold at most a page of settlements (none is more frequent than hourly).
  const std::int64_t window = static_cast<std::int64_t>(venue.spec().funding_page) * kHourMs;
  for (const auto& [a, b] : ranges) {
    for (std::int64_t cursor = a; cursor < b;) {
      const std::int64_t wend = std::min(b, cursor + window);
      std::vector<Row> page = venue.funding(cursor, wend - 1, rep.duplicates);
      std::int64_t last = -1;
      for (Row& r : page) {
        if (r.t < cursor || r.t >= wend) continue;
        last = r.t;
        fetched.push_back(std::move(r));
      }
      // Rows came back: the venue may have capped the page, so ask again after the last one; an empty page
      // closes the window.
      const std::int64_t next = last < 0 ? wend : last + 1;
      progress.add(next - cursor, fetched.size(), venue.requests() - requests0);
      cursor = next;
    }
  }
  progress.add(0, fetched.size(), venue.requests() - requests0, true);
  rep.fetched = fetched.size();
  rep.requests = venue.requests() - requests0;
  rows = merge_rows(std::move(rows), std::move(fetched), rep.duplicates);
  rep.rows = rows.size();
  if (!rows.empty()) {
    rep.first_ms = rows.front().t;
    rep.last_ms = rows.back().t;
    std::filesystem::create_directories(opt.out_dir);
    if (rep.fetched > 0 || rep.had == 0) write_series(rep.path, rows, true);
  }
  return rep;
}

}  // namespace
std::string_view to_string(DownloadVenue v) noexcept {
  return v == DownloadVenue::binance_usdm ? "binance-usdm" : "kucoin-futures";
}

std::string default_base_url(DownloadVenue v) {
  return v == DownloadVenue::binance_usdm ? "https://fapi.binance.com" : "https://api-futures.kucoin.com";
}

std::optional<std::int64_t> interval_ms(std::string_view interval) noexcept {
  constexpr std::int64_t m = 60'000;
  if (interval == "1m") return m;
  if (interval == "5m") return 5 * m;
  if (interval == "15m") return 15 * m;
  if (interval == "1h") return 60 * m;
  if (interval == "4h") return 240 * m;
  if (interval == "1d") return 1440 * m;
  return std::nullopt;
}

DownloadReport run_download(const DownloadOptions& opt) {
  const auto step = interval_ms(opt.interval);
  if (!step) throw Error("interval '" + opt.interval + "' is not one of 1m, 5m, 15m, 1h, 4h, 1d");
  if (opt.symbol.empty()) throw Error("no symbol");
  if (opt.to_ms <= opt.from_ms) throw Error("the range is empty (--to must be after --from)");
  DownloadReport report;
  VenueClient venue(opt, report);
  if (opt.what != DownloadWhat::funding) report.candles = download_candles(opt, venue, *step);
  if (opt.what != DownloadWhat::candles) report.funding = download_funding(opt, venue);
  return report;
}

}  // namespace enigma::research
