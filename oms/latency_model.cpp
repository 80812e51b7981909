#include "oms/latency_model.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"

namespace enigma::oms {

std::string_view to_string(LatencyDist d) noexcept {
  switch (d) {
    case LatencyDist::constant:
      return "constant";
    case LatencyDist::uniform:
      return "uniform";
    case LatencyDist::normal:
      return "normal";
    case LatencyDist::lognormal:
      return "lognormal";
    case LatencyDist::file:
      return "file";
  }
  return "?";
}

LatencyModel::LatencyModel(LatencyModelConfig cfg) : cfg_(std::move(cfg)), rng_{cfg_.seed} {
  if (cfg_.a_ns < 0 || cfg_.b_ns < 0 || cfg_.sigma < 0 || !std::isfinite(cfg_.sigma))
    throw Error("sim order latency: parameters must be >= 0");
  if (cfg_.dist == LatencyDist::uniform && cfg_.a_ns > cfg_.b_ns)
    throw Error(fmt::format("sim order latency: uniform min {} ns > max {} ns", cfg_.a_ns, cfg_.b_ns));
  if (cfg_.dist == LatencyDist::file && cfg_.recorded_ns.empty())
    throw Error("sim order latency: the recorded latency file '" + cfg_.file + "' has no rows");
}

std::int64_t LatencyModel::next() noexcept {
  switch (cfg_.dist) {
    case LatencyDist::constant:
      return cfg_.a_ns;
    case LatencyDist::uniform:
      return cfg_.a_ns + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(cfg_.b_ns - cfg_.a_ns) + 1));
    case LatencyDist::normal: {
      // Box-Muller; a negative draw is drawn again (truncation at 0). With mean >= 0 at least half the draws
      // are kept, so 64 tries fail with probability < 2^-64; then 0.
      for (int k = 0; k < 64; ++k) {
        const double u1 = 1.0 - rng_.unit();  // (0, 1]: log is finite
        const double u2 = rng_.unit();
        const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
        const double v = static_cast<double>(cfg_.a_ns) + z * static_cast<double>(cfg_.b_ns);
        if (v >= 0) return std::llround(v);
      }
      return 0;
    }
    case LatencyDist::lognormal: {
      const double u1 = 1.0 - rng_.unit();
      const double u2 = rng_.unit();
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
      const double v = static_cast<double>(cfg_.a_ns) * std::exp(cfg_.sigma * z);
      return v < 1e15 ? std::llround(v) : std::int64_t{1'000'000'000'000'000};  // capped at ~11.6 days
    }
    case LatencyDist::file: {
      const std::int64_t v = cfg_.recorded_ns[next_recorded_];
      if (++next_recorded_ == cfg_.recorded_ns.size()) next_recorded_ = 0;
      return v;
    }
  }
  return 0;
}

std::string LatencyModel::describe() const {
  const auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  switch (cfg_.dist) {
    case LatencyDist::constant:
      return fmt::format("constant us={}", us(cfg_.a_ns));
    case LatencyDist::uniform:
      return fmt::format("uniform min_us={} max_us={} seed={}", us(cfg_.a_ns), us(cfg_.b_ns), cfg_.seed);
    case LatencyDist::normal:
      return fmt::format("normal mean_us={} stddev_us={} seed={}", us(cfg_.a_ns), us(cfg_.b_ns), cfg_.seed);
    case LatencyDist::lognormal:
      return fmt::format("lognormal median_us={} sigma={} seed={}", us(cfg_.a_ns), cfg_.sigma, cfg_.seed);
    case LatencyDist::file:
      return fmt::format("file {} ({} latencies)", cfg_.file, cfg_.recorded_ns.size());
  }
  return "?";
}

namespace {

// Splits one CSV line (no quoting: the file holds numbers and ids) into its fields.
std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = line.find(',', from);
    std::string_view f = line.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r')) f.remove_suffix(1);
    out.push_back(f);
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  return out;
}

}  // namespace

std::vector<std::int64_t> load_latency_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the recorded latency file ([sim] order_latency_file)", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(fmt::format("{}: read error", path));
  return parse_latency_csv(text.str(), path);
}

std::vector<std::int64_t> parse_latency_csv(std::string_view text, const std::string& path) {
  std::vector<std::int64_t> out;
  std::size_t lineno = 0;
  std::size_t column = 0;
  bool have_header = false;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    std::string_view l = text.substr(pos, e - pos);
    pos = e + 1;
    ++lineno;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty() || l.front() == '#') continue;
    const auto fields = split_csv(l);
    if (!have_header) {
      std::size_t i = 0;
      while (i < fields.size() && fields[i] != "latency_ns") ++i;
      if (i == fields.size())
        throw Error(
            fmt::format("{}:{}: the header names no latency_ns column (want e.g. 'latency_ns' or "
                        "'kind,client_order_id,send_ns,venue_ns,ack_ns,latency_ns')",
                        path, lineno));
      column = i;
      have_header = true;
      continue;
    }
    if (column >= fields.size())
      throw Error(fmt::format("{}:{}: {} field(s), latency_ns is field {}", path, lineno, fields.size(), column + 1));
    const std::string_view f = fields[column];
    std::int64_t v = -1;
    const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc{} || p != f.data() + f.size() || f.empty() || v < 0)
      throw Error(fmt::format("{}:{}: latency_ns '{}' is not a non-negative integer (nanoseconds)", path, lineno,
                              f.substr(0, 40)));
    out.push_back(v);
  }
  if (out.empty()) throw Error(fmt::format("{}:{}: no latencies (a header and at least one row)", path, lineno));
  return out;
}

}  // namespace enigma::oms
