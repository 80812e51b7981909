#include "research/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace enigma::research {
namespace {

// As trials.csv and best.toml print numbers, so a test can match them.
std::string num(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (std::isnan(x)) return "nan";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

std::string esc(std::string_view in) {
  std::string o;
  for (char c : in) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '\'')
      o += "&#39;";
    else
      o += c;
  }
  return o;
}

constexpr int kW = 760, kH = 300, kL = 60, kR = 20, kT = 30, kB = 40;  // chart box and margins (px)

// Histogram of the trials' train Sharpe (finite values), 30 equal bins, with vertical marks.
std::string sharpe_histogram(const ResearchReport& r) {
  std::vector<double> v;
  for (const Trial& t : *r.trials)
    if (std::isfinite(t.train.sharpe)) v.push_back(t.train.sharpe);
  std::ostringstream s;
  if (v.empty()) return "<p>No trial has a finite Sharpe ratio.</p>\n";
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  const double chosen = r.chosen->train.sharpe;
  for (double m : {chosen, r.deflated_threshold})
    if (std::isfinite(m)) lo = std::min(lo, m), hi = std::max(hi, m);
  if (!(hi > lo)) hi = lo + 1;
  constexpr int kBins = 30;
  std::vector<std::size_t> counts(kBins, 0);
  for (double x : v) counts[std::min(kBins - 1, static_cast<int>((x - lo) / (hi - lo) * kBins))]++;
  const std::size_t top = *std::max_element(counts.begin(), counts.end());
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  auto px = [&](double x) { return kL + (x - lo) / (hi - lo) * pw; };
  s << "<svg width='" << kW << "' height='" << kH << "' xmlns='http://www.w3.org/2000/svg' font-size='11'>\n";
  s << "<text x='" << kL << "' y='16' font-size='13'>Train Sharpe of " << v.size()
    << " trials (annualised; bars: trials per bin)</text>\n";
  for (int b = 0; b < kBins; ++b) {
    const double h = top ? ph * static_cast<double>(counts[b]) / static_cast<double>(top) : 0;
    s << "<rect class='bin' data-count='" << counts[b] << "' x='" << px(lo + (hi - lo) * b / kBins) << "' y='"
      << kT + ph - h << "' width='" << pw / kBins - 1 << "' height='" << h << "' fill='#7a9cc6'/>\n";
  }
  s << "<line x1='" << kL << "' y1='" << kT + ph << "' x2='" << kW - kR << "' y2='" << kT + ph << "' stroke='#444'/>\n";
  s << "<text x='" << kL << "' y='" << kH - 22 << "'>" << num(lo) << "</text><text x='" << kW - kR - 60 << "' y='"
    << kH - 22 << "'>" << num(hi) << "</text>\n";
  auto mark = [&](double x, const char* cls, const char* color, const std::string& label, int row) {
    if (!std::isfinite(x)) return;
    s << "<line class='" << cls << "' data-value='" << num(x) << "' x1='" << px(x) << "' y1='" << kT << "' x2='"
      << px(x) << "' y2='" << kT + ph << "' stroke='" << color << "' stroke-width='2'/>\n";
    s << "<text x='" << std::min(px(x) + 4, kW - 200.0) << "' y='" << kT + 12 + 14 * row << "' fill='" << color << "'>"
      << esc(label) << "</text>\n";
  };
  mark(chosen, "chosen", "#c0392b", "chosen " + num(chosen), 0);
  mark(r.deflated_threshold, "deflated-threshold", "#27ae60", "deflated threshold " + num(r.deflated_threshold), 1);
  s << "<text x='" << kW / 2 - 60 << "' y='" << kH - 6 << "'>Sharpe (train span)</text>\n</svg>\n";
  return s.str();
}

// The objective over parameters a (rows) and b (columns), the others at the chosen point's values.
std::string objective_slice(const ResearchReport& r, std::size_t a, std::size_t b) {
  const ParamSpace& sp = *r.space;
  std::map<std::pair<std::uint32_t, std::uint32_t>, double> cell;
  for (const Trial& t : *r.trials) {
    bool on_slice = true;
    for (std::size_t d = 0; d < kParamCount && on_slice; ++d)
      if (d != a && d != b && t.idx[d] != r.chosen->idx[d]) on_slice = false;
    if (on_slice) cell[{t.idx[a], t.idx[b]}] = objective_value(r.selection.objective, t.train);
  }
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& [k, v] : cell)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  const std::size_t rows = sp.values[a].size(), cols = sp.values[b].size();
  const double cw = std::min(60.0, 560.0 / static_cast<double>(cols)),
               ch = std::min(26.0, 320.0 / static_cast<double>(rows));
  const int left = 80, top = 20;
  const int w = std::max(480, left + static_cast<int>(cw * static_cast<double>(cols)) + 20);
  const int h = top + static_cast<int>(ch * static_cast<double>(rows)) + 40;
  std::ostringstream s;
  s << "<p style='margin:16px 0 2px'><b>" << kParamNames[a] << "</b> (rows) x <b>" << kParamNames[b]
    << "</b> (columns): " << to_string(r.selection.objective) << " on the train span, the chosen point outlined</p>\n";
  s << "<svg style='display:block' width='" << w << "' height='" << h
    << "' xmlns='http://www.w3.org/2000/svg' font-size='10'>\n";
  for (std::size_t j = 0; j < cols; ++j)
    s << "<text x='" << left + cw * static_cast<double>(j) + 2 << "' y='" << top - 4 << "'>" << num(sp.values[b][j])
      << "</text>\n";
  for (std::size_t i = 0; i < rows; ++i) {
    const double y = top + ch * static_cast<double>(i);
    s << "<text x='0' y='" << y + ch * 0.7 << "'>" << num(sp.values[a][i]) << "</text>\n";
    for (std::size_t j = 0; j < cols; ++j) {
      const auto it = cell.find({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j)});
      std::string fill = "#eeeeee", value;
      if (it != cell.end()) {
        value = num(it->second);
        if (std::isfinite(it->second)) {
          // Blue (low) to red (high).
          const double f = hi > lo ? (it->second - lo) / (hi - lo) : 0.5;
          char c[8];
          std::snprintf(c, sizeof c, "#%02x%02x%02x", static_cast<int>(60 + 195 * f), 80,
                        static_cast<int>(255 - 195 * f));
          fill = c;
        }
      }
      const bool is_chosen = i == r.chosen->idx[a] && j == r.chosen->idx[b];
      s << "<rect class='cell" << (is_chosen ? " chosen" : "") << "' data-value='" << value << "' x='"
        << left + cw * static_cast<double>(j) << "' y='" << y << "' width='" << cw - 1 << "' height='" << ch - 1
        << "' fill='" << fill << "'" << (is_chosen ? " stroke='#000' stroke-width='2'" : "") << "><title>"
        << kParamNames[a] << " " << num(sp.values[a][i]) << ", " << kParamNames[b] << " " << num(sp.values[b][j])
        << ": " << (value.empty() ? "not tried" : value) << "</title></rect>\n";
    }
  }
  s << "<text x='0' y='" << h - 8 << "'>range " << num(lo) << " .. " << num(hi)
    << " (blue low, red high; grey: not tried)</text>\n</svg>\n";
  return s.str();
}

// The out-of-sample equity, and below it its drawdown from the running peak (starting at 1); window
// boundaries marked on both.
std::string equity_chart(const ResearchReport& r) {
  const std::vector<double>& eq = r.equity;
  const double lo = *std::min_element(eq.begin(), eq.end()), hi0 = *std::max_element(eq.begin(), eq.end());
  const double hi = hi0 > lo ? hi0 : lo + 1;
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  const std::size_t n = eq.size();
  std::vector<double> dd(n);
  double peak = 1.0, max_dd = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    peak = std::max(peak, eq[i]);
    dd[i] = 1.0 - eq[i] / peak;
    max_dd = std::max(max_dd, dd[i]);
  }
  auto px = [&](std::size_t i) {
    return kL + pw * static_cast<double>(i) / static_cast<double>(std::max<std::size_t>(1, n - 1));
  };
  const std::size_t step = std::max<std::size_t>(1, n / 1500);  // at most ~1500 points drawn
  auto window_marks = [&](std::ostringstream& s, bool with_values) {
    for (std::size_t w = 0; w < r.window_starts.size(); ++w) {
      const std::size_t first = r.window_starts[w] - r.equity_first_candle;
      const std::size_t last =
          w + 1 < r.window_starts.size() ? r.window_starts[w + 1] - r.equity_first_candle : n;  // exclusive
      double wdd = 0.0;
      for (std::size_t i = first; i < last && i < n; ++i) wdd = std::max(wdd, dd[i]);
      s << "<line"
        << (with_values ? " class='window-mark' data-window='" + std::to_string(w) + "' data-candle='" +
                              std::to_string(r.window_starts[w]) + "' data-max-drawdown='" + num(wdd) + "'"
                        : std::string())
        << " x1='" << px(first) << "' y1='" << kT << "' x2='" << px(first) << "' y2='" << kT + ph
        << "' stroke='#999' stroke-dasharray='4 3'/>\n";
      s << "<text x='" << px(first) + 3 << "' y='" << kT + 10 << "' fill='#777'>window " << w
        << (with_values ? " (max drawdown " + num(wdd) + ")" : std::string()) << "</text>\n";
    }
  };
  std::ostringstream s;
  s << "<svg width='" << kW << "' height='" << kH << "' xmlns='http://www.w3.org/2000/svg' font-size='11'>\n";
  s << "<text x='" << kL << "' y='16' font-size='13'>Out-of-sample equity (test spans chained, start 1)</text>\n";
  window_marks(s, false);
  s << "<polyline class='equity' fill='none' stroke='#2c3e50' stroke-width='1.5' points='";
  for (std::size_t i = 0; i < n; i += step) s << px(i) << "," << kT + ph - (eq[i] - lo) / (hi - lo) * ph << " ";
  s << "'/>\n<text x='4' y='" << kT + 10 << "'>" << num(hi0) << "</text><text x='4' y='" << kT + ph << "'>" << num(lo)
    << "</text>\n</svg>\n";
  // Drawdown: 0 at the top, the largest at the bottom.
  const double dmax = max_dd > 0 ? max_dd : 1.0;
  s << "<svg width='" << kW << "' height='" << kH << "' xmlns='http://www.w3.org/2000/svg' font-size='11'>\n";
  s << "<text x='" << kL << "' y='16' font-size='13'>Out-of-sample drawdown from the running peak (max " << num(max_dd)
    << ")</text>\n";
  window_marks(s, true);
  s << "<polyline class='drawdown' data-max='" << num(max_dd) << "' fill='none' stroke='#c0392b' stroke-width='1.5' "
    << "points='";
  for (std::size_t i = 0; i < n; i += step) s << px(i) << "," << kT + dd[i] / dmax * ph << " ";
  s << "'/>\n<text x='4' y='" << kT + 10 << "'>0</text><text x='4' y='" << kT + ph << "'>" << num(-max_dd)
    << "</text>\n</svg>\n";
  return s.str();
}

// The closes over the span (at most ~1500 points), entries as triangles (up: long, down: short) and exits as
// crosses, at their candles and prices.
std::string price_chart(const ResearchReport& r) {
  const std::vector<strategy::Bar>& B = *r.bars;
  const Span sp = r.price_span;
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t i = sp.begin; i < sp.end; ++i) lo = std::min(lo, B[i].low), hi = std::max(hi, B[i].high);
  if (!(hi > lo)) hi = lo + 1;
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  auto px = [&](std::size_t i) {
    return kL + pw * static_cast<double>(i - sp.begin) / static_cast<double>(std::max<std::size_t>(1, sp.size() - 1));
  };
  auto py = [&](double p) { return kT + ph - (p - lo) / (hi - lo) * ph; };
  std::ostringstream s;
  s << "<svg width='" << kW << "' height='" << kH << "' xmlns='http://www.w3.org/2000/svg' font-size='11'>\n";
  s << "<text x='" << kL << "' y='16' font-size='13'>" << esc(r.price_caption) << "</text>\n";
  s << "<polyline class='price' data-first='" << sp.begin << "' data-last='" << sp.end - 1
    << "' fill='none' stroke='#555' stroke-width='1' points='";
  const std::size_t step = std::max<std::size_t>(1, sp.size() / 1500);
  for (std::size_t i = sp.begin; i < sp.end; i += step) s << px(i) << "," << py(B[i].close) << " ";
  s << "'/>\n";
  for (const TradeFill& f : r.fills) {
    const double x = px(f.entry_index), y = py(f.entry_price), d = f.side > 0 ? 6.0 : -6.0;
    s << "<path class='entry' data-candle='" << f.entry_index << "' data-price='" << num(f.entry_price)
      << "' data-side='" << f.side << "' d='M" << x << "," << y << " l-4," << d << " l8,0 z' fill='"
      << (f.side > 0 ? "#27ae60" : "#c0392b") << "'/>\n";
    const double ex = px(f.exit_index), ey = py(f.exit_price);
    s << "<path class='exit' data-candle='" << f.exit_index << "' data-price='" << num(f.exit_price) << "' d='M"
      << ex - 3 << "," << ey - 3 << " l6,6 m0,-6 l-6,6' stroke='#2c3e50' stroke-width='1.5'/>\n";
  }
  s << "<text x='4' y='" << kT + 10 << "'>" << num(hi) << "</text><text x='4' y='" << kT + ph << "'>" << num(lo)
    << "</text>\n<text x='" << kL << "' y='" << kH - 6 << "'>" << r.fills.size()
    << " round trips: triangles entries (up long, down short), crosses exits</text>\n</svg>\n";
  return s.str();
}

}  // namespace

std::string research_report_html(const ResearchReport& r) {
  std::ostringstream h;
  h << "<!doctype html><html><head><meta charset='utf-8'><title>" << esc(r.title) << "</title>"
    << "<style>body{font-family:sans-serif;max-width:980px;margin:24px auto;color:#222}"
    << "td{border:1px solid #ccc;padding:3px 8px}</style></head><body>\n";
  h << "<h1>" << esc(r.title) << "</h1>\n<table>\n";
  for (const auto& [k, v] : r.headline) h << "<tr><td>" << esc(k) << "</td><td>" << esc(v) << "</td></tr>\n";
  h << "</table>\n<h2>Plan gates</h2><ul>\n";
  for (const std::string& g : r.gate_lines) h << "<li><code>" << esc(g) << "</code></li>\n";
  h << "</ul>\n<h2>Trial Sharpe ratios</h2>\n"
    << "<p>A chosen Sharpe near or below the deflated threshold is what picking the best of this many trials of no "
       "skill would give.</p>\n"
    << sharpe_histogram(r);
  if (!r.equity.empty()) h << "<h2>Out-of-sample equity and drawdown</h2>\n" << equity_chart(r);
  if (r.bars != nullptr && r.price_span.size() > 0) h << "<h2>Price and trades</h2>\n" << price_chart(r);
  h << "<h2>Objective around the chosen parameters</h2>\n";
  std::vector<std::size_t> varying;
  for (std::size_t d = 0; d < kParamCount; ++d)
    if (r.space->values[d].size() > 1) varying.push_back(d);
  if (varying.size() < 2) h << "<p>Fewer than two parameters vary: no slice to draw.</p>\n";
  for (std::size_t k = 0; k + 1 < varying.size(); k += 2) h << objective_slice(r, varying[k], varying[k + 1]);
  if (varying.size() >= 3 && varying.size() % 2 == 1)
    h << objective_slice(r, varying[varying.size() - 2], varying.back());
  h << "</body></html>\n";
  return h.str();
}

}  // namespace enigma::research
