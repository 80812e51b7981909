#include "engine/report.hpp"

#include <dirent.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"

namespace enigma::engine {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> files_with_suffix(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string fmt_num(double v) {
  char b[64];
  if (std::fabs(v) >= 1e6 || (std::fabs(v) < 1e-3 && v != 0))
    std::snprintf(b, sizeof b, "%.3g", v);
  else
    std::snprintf(b, sizeof b, "%.3f", v);
  std::string s = b;
  if (s.find('.') != std::string::npos && s.find('e') == std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// Unix seconds as "YYYY-MM-DD HH:MM:SS" UTC (chart axes: times a person reads, not nanoseconds).
std::string utc_label(double unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
  return b;
}

// Value at a percentile fraction from the parsed rows (first row whose percentile reaches it).
double value_at(const std::vector<HgrmPoint>& pts, double frac) {
  for (const auto& p : pts)
    if (p.percentile >= frac) return p.value;
  return pts.empty() ? 0.0 : pts.back().value;
}

struct EquityPoint {
  double t;
  double equity;
};

std::vector<EquityPoint> read_equity(const std::string& path) {
  std::vector<EquityPoint> out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  std::getline(in, line);  // header: time_ns,equity,...
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string t, e;
    if (!std::getline(ss, t, ',') || !std::getline(ss, e, ',')) continue;
    try {
      out.push_back({std::stod(t) / 1e9, std::stod(e)});
    } catch (const std::exception&) {
      throw Error("'" + path + "': bad row '" + line + "'");
    }
  }
  return out;
}

// equity.csv's per-instrument columns (`pnl_<symbol>`, net P&L so far) as one chart series each.
std::vector<Series> read_instrument_pnl(const std::string& path) {
  std::vector<Series> out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  if (!std::getline(in, line)) return out;
  std::vector<std::size_t> cols;  // column index of each series
  {
    std::istringstream ss(line);
    std::string h;
    for (std::size_t c = 0; std::getline(ss, h, ','); ++c)
      if (h.rfind("pnl_", 0) == 0) {
        cols.push_back(c);
        out.push_back({h.substr(4), {}, {}});
      }
  }
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (cols[k] >= cells.size()) continue;
      try {
        out[k].x.push_back(std::stod(cells[0]) / 1e9);
        out[k].y.push_back(std::stod(cells[cols[k]]));
      } catch (const std::exception&) {
        throw Error("'" + path + "': bad row '" + line + "'");
      }
    }
  }
  return out;
}

}  // namespace

Hgrm read_hgrm(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read '" + path + "'");
  Hgrm h;
  auto& out = h.points;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("#[Max", 0) == 0) {
      if (std::sscanf(line.c_str(), "#[Max = %lf, Total count = %llu]", &h.max, &h.total) != 2)
        throw Error("'" + path + "': line " + std::to_string(n) + ": malformed footer '" + line + "'");
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string v, p;
    if (!(ss >> v >> p)) continue;
    if (v == "Value") continue;
    try {
      out.push_back({std::stod(v), std::stod(p)});
    } catch (const std::exception&) {
      throw Error("'" + path + "': line " + std::to_string(n) + ": not an .hgrm row: '" + line + "'");
    }
  }
  return h;
}

std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                           const std::vector<Series>& series, bool log_x, int width, int height, bool log_y,
                           bool x_utc) {
  static const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                  "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  const double ml = 70, mr = 160, mt = 30, mb = 45;
  const double pw = width - ml - mr, ph = height - mt - mb;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  auto tx = [&](double x) { return log_x ? std::log10(std::max(x, 1.0)) : x; };
  // On a log y axis values are drawn as log10 (a latency of 0 sits at the floor of 1).
  auto ty = [&](double y) { return log_y ? std::log10(std::max(y, 1.0)) : y; };
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      x0 = std::min(x0, tx(s.x[i]));
      x1 = std::max(x1, tx(s.x[i]));
      y0 = std::min(y0, ty(s.y[i]));
      y1 = std::max(y1, ty(s.y[i]));
    }
  if (!std::isfinite(x0)) {
    x0 = 0;
    x1 = 1;
    y0 = 0;
    y1 = 1;
  }
  if (x1 == x0) x1 = x0 + 1;
  if (log_y) {  // whole decades
    y0 = std::floor(y0);
    y1 = std::ceil(y1);
  } else if (log_x) {
    y0 = 0;
  }
  if (y1 == y0) y1 = y0 + 1;
  const double pad = log_y ? 0 : (y1 - y0) * 0.05;
  if (!log_x && !log_y) y0 -= pad;
  y1 += pad;
  auto px = [&](double x) { return ml + (tx(x) - x0) / (x1 - x0) * pw; };
  auto py_axis = [&](double y) { return mt + ph - (y - y0) / (y1 - y0) * ph; };  // y already on the axis scale
  auto py = [&](double y) { return py_axis(ty(y)); };
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
    << "' font-family='sans-serif' font-size='11'>\n";
  o << "<rect x='0' y='0' width='" << width << "' height='" << height << "' fill='white'/>\n";
  o << "<text x='" << ml << "' y='18' font-size='13' font-weight='bold'>" << html_escape(title) << "</text>\n";
  o << "<rect x='" << ml << "' y='" << mt << "' width='" << pw << "' height='" << ph
    << "' fill='none' stroke='#999'/>\n";
  if (log_y) {  // one grid line per decade
    for (double d = y0; d <= y1 + 1e-9; d += 1) {
      o << "<line x1='" << ml << "' x2='" << ml + pw << "' y1='" << py_axis(d) << "' y2='" << py_axis(d)
        << "' stroke='#eee'/>"
        << "<text x='" << ml - 6 << "' y='" << py_axis(d) + 4 << "' text-anchor='end'>" << fmt_num(std::pow(10.0, d))
        << "</text>\n";
    }
  } else {
    for (int i = 0; i <= 5; ++i) {  // y grid
      const double yv = y0 + (y1 - y0) * i / 5.0;
      o << "<line x1='" << ml << "' x2='" << ml + pw << "' y1='" << py_axis(yv) << "' y2='" << py_axis(yv)
        << "' stroke='#eee'/>"
        << "<text x='" << ml - 6 << "' y='" << py_axis(yv) + 4 << "' text-anchor='end'>" << fmt_num(yv) << "</text>\n";
    }
  }
  if (log_x) {  // percentile ticks: 50, 90, 99, 99.9, ...
    const char* labels[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"};
    for (int k = 0; k <= 6; ++k) {
      const double xv = std::pow(10.0, k);
      if (std::log10(xv) > x1 + 1e-9) break;
      o << "<line x1='" << px(xv) << "' x2='" << px(xv) << "' y1='" << mt << "' y2='" << mt + ph << "' stroke='#eee'/>"
        << "<text x='" << px(xv) << "' y='" << mt + ph + 14 << "' text-anchor='middle'>" << labels[k] << "</text>\n";
    }
  } else {
    for (int i = 0; i <= 4; ++i) {
      const double xv = x0 + (x1 - x0) * i / 4.0;
      o << "<text x='" << px(xv) << "' y='" << mt + ph + 14 << "' text-anchor='middle'>"
        << (x_utc ? utc_label(xv) : fmt_num(xv)) << "</text>\n";
    }
  }
  o << "<text x='" << ml + pw / 2 << "' y='" << height - 8 << "' text-anchor='middle'>" << html_escape(x_label)
    << "</text>\n";
  o << "<text x='14' y='" << mt + ph / 2 << "' text-anchor='middle' transform='rotate(-90 14 " << mt + ph / 2 << ")'>"
    << html_escape(y_label) << "</text>\n";
  for (std::size_t si = 0; si < series.size(); ++si) {
    const auto& s = series[si];
    const char* c = kColors[si % 8];
    o << "<polyline fill='none' stroke='" << c << "' stroke-width='1.6' points='";
    for (std::size_t i = 0; i < s.x.size(); ++i) o << px(s.x[i]) << ',' << py(s.y[i]) << ' ';
    o << "'/>\n";
    o << "<rect x='" << ml + pw + 12 << "' y='" << mt + 6 + si * 16 << "' width='10' height='10' fill='" << c << "'/>"
      << "<text x='" << ml + pw + 26 << "' y='" << mt + 15 + si * 16 << "'>" << html_escape(s.name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string write_report(const std::string& run_dir) {
  const std::string summary_path = run_dir + "/summary.json";
  const std::string summary_text = slurp(summary_path);
  simdjson::dom::parser parser;
  simdjson::dom::element summary;
  if (parser.parse(summary_text).get(summary)) throw Error("'" + summary_path + "': not valid JSON");
  // A run that failed has only its error to show (engine/commands.cpp writes it): say that, not an empty report.
  if (bool failed = false; !summary["failed"].get(failed) && failed) {
    std::string_view why = "(no error recorded)";
    if (summary["error"].get(why)) why = "(no error recorded)";
    throw Error("run '" + run_dir + "' failed, nothing to report: " + std::string(why));
  }

  // Latency table and percentile chart, one series per stage histogram.
  struct StageRow {
    std::string name;
    std::vector<HgrmPoint> pts;
    unsigned long long total;
    double max;
  };
  std::vector<StageRow> stages;
  for (const auto& f : files_with_suffix(run_dir, ".hgrm")) {
    Hgrm h = read_hgrm(run_dir + "/" + f);
    stages.push_back({f.substr(0, f.size() - 5), std::move(h.points), h.total, h.max});
  }
  std::vector<Series> lat_series;
  for (const auto& s : stages) {
    Series se{s.name, {}, {}};
    for (const auto& p : s.pts) {
      if (p.percentile >= 1.0) continue;
      se.x.push_back(1.0 / (1.0 - p.percentile));
      se.y.push_back(p.value);
    }
    lat_series.push_back(std::move(se));
  }
  const auto equity = read_equity(run_dir + "/equity.csv");
  Series eq{"equity (quote ccy)", {}, {}};
  for (const auto& p : equity) {
    eq.x.push_back(p.t);
    eq.y.push_back(p.equity);
  }

  const std::vector<Series> instrument_pnl = read_instrument_pnl(run_dir + "/equity.csv");
  // Flatten top-level scalar fields of summary.json into a table (objects one level deep).
  std::vector<std::pair<std::string, std::string>> rows;
  auto scalar = [](simdjson::dom::element v) -> std::string {
    switch (v.type()) {
      case simdjson::dom::element_type::STRING:
        return std::string(std::string_view(v.get_string()));
      case simdjson::dom::element_type::INT64:
        return std::to_string(int64_t(v.get_int64()));
      case simdjson::dom::element_type::UINT64:
        return std::to_string(uint64_t(v.get_uint64()));
      case simdjson::dom::element_type::DOUBLE:
        return fmt_num(double(v.get_double()));
      case simdjson::dom::element_type::BOOL:
        return bool(v.get_bool()) ? "true" : "false";
      default:
        return "";
    }
  };
  // summary.json "instruments": one row per instrument (and the strategy instance trading it).
  const std::vector<std::string> inst_header = {"instrument", "strategy", "orders", "fills", "round trips", "fees",
                                                "net P&L"};
  std::vector<std::vector<std::string>> inst_rows;
  if (simdjson::dom::array arr; !summary["instruments"].get(arr)) {
    std::map<std::int64_t, std::string> kind_of;  // strategy id -> kind, from "strategies"
    if (simdjson::dom::array st; !summary["strategies"].get(st))
      for (simdjson::dom::element e : st) {
        std::int64_t id = 0;
        std::string_view kind;
        if (!e["id"].get(id) && !e["kind"].get(kind)) kind_of[id] = std::string(kind);
      }
    auto text = [&](simdjson::dom::element e, const char* k) {
      simdjson::dom::element v;
      return e[k].get(v) ? std::string("n/a") : scalar(v);
    };
    for (simdjson::dom::element e : arr) {
      std::int64_t id = -1;
      const bool has_strategy = !e["strategy_id"].get(id);
      inst_rows.push_back({text(e, "symbol"),
                           has_strategy ? std::to_string(id) + " " + kind_of[id] : std::string("none"),
                           text(e, "orders"), text(e, "fills"), text(e, "round_trips"), text(e, "fees"),
                           text(e, "net_pnl")});
    }
  }

  for (auto [k, v] : summary.get_object()) {
    if (v.type() == simdjson::dom::element_type::OBJECT) {
      if (std::string_view(k) == "latency_ns") continue;
      for (auto [k2, v2] : v.get_object())
        if (v2.type() != simdjson::dom::element_type::OBJECT && v2.type() != simdjson::dom::element_type::ARRAY)
          rows.emplace_back(std::string(k) + "." + std::string(k2), scalar(v2));
    } else if (v.type() != simdjson::dom::element_type::ARRAY) {
      rows.emplace_back(std::string(k), scalar(v));
    }
  }

  // metrics.json (strategy/metrics): a table of the backtest metrics and the plan's gates as PASS/FAIL lines.
  std::vector<std::pair<std::string, std::string>> metric_rows;
  std::vector<std::string> gate_lines;
  simdjson::dom::parser metrics_parser;
  if (const std::string metrics_text =
          std::filesystem::exists(run_dir + "/metrics.json") ? slurp(run_dir + "/metrics.json") : "";
      !metrics_text.empty()) {
    simdjson::dom::element metrics;
    if (metrics_parser.parse(metrics_text).get(metrics)) throw Error("'" + run_dir + "/metrics.json': not valid JSON");
    auto value = [&](simdjson::dom::element v) { return v.is_null() ? std::string("n/a") : scalar(v); };
    for (const char* k : {"trades", "win_rate", "profit_factor", "expectancy", "sharpe", "sortino", "calmar",
                          "max_drawdown", "max_drawdown_duration_s", "exposure", "avg_trade_duration_s",
                          "fees_share_of_gross", "funding_share_of_gross"})
      if (simdjson::dom::element v; !metrics[k].get(v)) metric_rows.emplace_back(k, value(v));
    for (const char* group : {"win_rate_7d", "win_rate_30d", "fill_quality", "buy_and_hold"})
      if (simdjson::dom::object o; !metrics[group].get(o))
        for (auto [k, v] : o) metric_rows.emplace_back(std::string(group) + "." + std::string(k), value(v));
    if (simdjson::dom::element period; !metrics["returns"]["period_s"].get(period))
      metric_rows.emplace_back("returns.period_s (Sharpe sampling)", value(period));
    // Per-indicator accuracy (confluence runs): one row per component, "accuracy (agreed / votes)".
    if (simdjson::dom::object components; !metrics["indicator_accuracy"]["components"].get(components))
      for (auto [k, c] : components) {
        std::uint64_t votes = 0, agreed = 0;
        if (c["votes"].get(votes) || c["agreed"].get(agreed)) continue;
        simdjson::dom::element acc;
        const std::string shown = c["accuracy"].get(acc) ? std::string("n/a") : value(acc);
        metric_rows.emplace_back("indicator_accuracy." + std::string(k),
                                 shown + " (" + std::to_string(agreed) + " / " + std::to_string(votes) + ")");
      }
    if (simdjson::dom::array gates; !metrics["gates"].get(gates))
      for (simdjson::dom::element g : gates) {
        std::string_view name = "?", rule = "";
        bool pass = false;
        simdjson::dom::element v;
        if (g["name"].get(name)) name = "?";
        if (g["rule"].get(rule)) rule = "";
        if (g["pass"].get(pass)) pass = false;
        const std::string shown_value = g["value"].get(v) ? std::string("n/a") : value(v);
        gate_lines.push_back(std::string(pass ? "PASS" : "FAIL") + "  " + std::string(name) + " " + std::string(rule) +
                             " (value: " + shown_value + ")");
      }
  }

  // The multi-timeframe heatmap (summary.json "alignment"): per confluence instance, each timeframe's last
  // score (colour: its sign and size out of 130), the combined score and alignment, and the run's counts.
  struct MtfCell {
    std::string text;
    double norm;  // [-1, 1]; NaN: not a score
  };
  std::vector<std::vector<MtfCell>> mtf_rows;
  std::vector<std::string> mtf_timeframes;
  if (simdjson::dom::array al; !summary["alignment"].get(al))
    for (simdjson::dom::element a : al) {
      simdjson::dom::array tfs;
      if (a["timeframes"].get(tfs) || tfs.size() < 2) continue;  // one timeframe: nothing to align
      std::string_view sym = "?", alignment = "?";
      double score = 0;
      std::uint64_t id = 0, full = 0, partial = 0, divergent = 0, changes = 0;
      (void)a["symbol"].get(sym), (void)a["alignment"].get(alignment), (void)a["score"].get(score), (void)a["strategy_id"].get(id);
      (void)a["decisions"]["full"].get(full), (void)a["decisions"]["partial"].get(partial);
      (void)a["decisions"]["divergent"].get(divergent), (void)a["changes"].get(changes);
      std::vector<MtfCell> row{{std::string(sym) + " (strategy " + std::to_string(id) + ")", NAN}};
      std::vector<std::string> names;
      for (simdjson::dom::element t : tfs) {
        std::uint64_t secs = 0;
        double sc = 0;
        (void)t["timeframe_s"].get(secs), (void)t["score"].get(sc);
        names.push_back(secs % 3600 == 0 ? std::to_string(secs / 3600) + " h" : secs % 60 == 0 ? std::to_string(secs / 60) + " m" : std::to_string(secs) + " s");
        row.push_back({fmt_num(sc), std::clamp(sc / 130.0, -1.0, 1.0)});
      }
      if (mtf_timeframes.empty() || names.size() > mtf_timeframes.size()) mtf_timeframes = names;
      row.push_back({fmt_num(score), std::clamp(score / 130.0, -1.0, 1.0)});
      row.push_back({std::string(alignment), NAN});
      row.push_back({std::to_string(full) + " / " + std::to_string(partial) + " / " + std::to_string(divergent) + " (" +
                         std::to_string(changes) + " changes)",
                     NAN});
      mtf_rows.push_back(std::move(row));
    }

  std::string host_check;
  {
    std::ifstream hc(run_dir + "/host-check.txt");
    if (hc) {
      std::stringstream ss;
      ss << hc.rdbuf();
      host_check = ss.str();
    }
  }

  // Markdown.
  // The headline a person looks for first: P&L, trades, win rate, drawdown, throughput, order latency.
  auto num_at = [&](std::initializer_list<const char*> path) -> double {
    simdjson::dom::element e = summary;
    for (const char* k : path)
      if (e[k].get(e) != simdjson::SUCCESS) return NAN;
    double d = NAN;
    if (e.is_double())
      d = double(e.get_double());
    else if (e.is_int64())
      d = static_cast<double>(int64_t(e.get_int64()));
    else if (e.is_uint64())
      d = static_cast<double>(uint64_t(e.get_uint64()));
    return d;
  };
  const double trips = num_at({"supervisor", "round_trips"});
  const double losing = num_at({"supervisor", "losing_trips"});
  const double win_rate = trips > 0 ? 100.0 * (trips - losing) / trips : NAN;
  auto shown = [](double v, const char* unit = "") { return std::isnan(v) ? std::string("n/a") : fmt_num(v) + unit; };
  const std::vector<std::pair<std::string, std::string>> headline = {
      {"net P&L", shown(num_at({"pnl", "net_pnl"}))},
      {"round trips", shown(trips)},
      {"win rate (before fees)", shown(win_rate, " %")},
      {"max drawdown", shown(num_at({"pnl", "max_drawdown"}))},
      {"frames/s", shown(num_at({"timing", "frames_per_second"}))},
      {"frame→order p50", shown(num_at({"latency_ns", "frame_to_order", "p50"}) / 1000.0, " µs")},
      {"frame→order p99", shown(num_at({"latency_ns", "frame_to_order", "p99"}) / 1000.0, " µs")},
  };
  std::ostringstream md;
  md << "# enigma run report\n\nRun directory: `" << run_dir << "`\n\n";
  for (const auto& [k, v] : headline) md << "**" << k << "** " << v << " · ";
  if (!inst_rows.empty()) {
    md << "\n\n## Per instrument and strategy\n\n|";
    for (const auto& h : inst_header) md << " " << h << " |";
    md << "\n|---|---|---:|---:|---:|---:|---:|\n";
    for (const auto& r : inst_rows) {
      md << "|";
      for (const auto& c : r) md << " " << c << " |";
      md << "\n";
    }
  }
  if (!mtf_rows.empty()) {
    md << "\n\n## Multi-timeframe signals (confluence, last decision)\n\n| instrument |";
    for (const auto& t : mtf_timeframes) md << " " << t << " |";
    md << " combined | alignment | full / partial / divergent decisions |\n|---|";
    for (std::size_t i = 0; i < mtf_timeframes.size() + 3; ++i) md << "---:|";
    md << "\n";
    for (const auto& r : mtf_rows) {
      md << "|";
      for (const auto& c : r) md << " " << c.text << " |";
      md << "\n";
    }
  }
  md << "\n\n## Summary\n\n| field | value |\n|---|---|\n";
  for (const auto& [k, v] : rows) md << "| " << k << " | " << v << " |\n";
  if (!metric_rows.empty()) {
    md << "\n## Backtest metrics (metrics.json)\n\n| metric | value |\n|---|---|\n";
    for (const auto& [k, v] : metric_rows) md << "| " << k << " | " << v << " |\n";
    md << "\n## Plan gates\n\n";
    for (const auto& g : gate_lines) md << "- " << g << "\n";
  }
  md << "\n## Latency per stage (microseconds)\n\n| stage | count | p50 | p90 | p99 | p99.9 | p99.99 | max "
        "|\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& s : stages) {
    md << "| " << s.name << " | " << s.total;
    md << " | " << fmt_num(value_at(s.pts, 0.5)) << " | " << fmt_num(value_at(s.pts, 0.9)) << " | "
       << fmt_num(value_at(s.pts, 0.99)) << " | " << fmt_num(value_at(s.pts, 0.999)) << " | "
       << fmt_num(value_at(s.pts, 0.9999)) << " | " << fmt_num(s.max) << " |\n";
  }
  md << "\nFull distributions: the `.hgrm` files in this directory (HdrHistogram percentile format; plot with its "
        "plotter).\n";
  md << "Plots: see `report.html`.\n";
  if (!host_check.empty()) md << "\n## Host tuning (`enigma check-host`)\n\n```\n" << host_check << "```\n";
  write_file_atomic(run_dir + "/report.md", md.str());

  // HTML: the same tables plus two charts.
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset='utf-8'><title>enigma run report</title>"
       << "<style>body{font-family:sans-serif;max-width:980px;margin:24px "
          "auto;color:#222}table{border-collapse:collapse}"
       << "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
       << "pre{background:#f6f6f6;padding:8px;overflow-x:auto}</style></head><body>\n";
  html << "<h1>enigma run report</h1><p>Run directory: <code>" << html_escape(run_dir) << "</code></p>\n";
  html << "<div style='display:flex;flex-wrap:wrap;gap:10px;margin:12px 0'>";
  for (const auto& [k, v] : headline)
    html << "<div style='border:1px solid #ccc;border-radius:6px;padding:8px 14px'><div "
            "style='font-size:12px;color:#666'>"
         << html_escape(k) << "</div><div style='font-size:20px;font-weight:bold'>" << html_escape(v) << "</div></div>";
  html << "</div>\n";
  if (!inst_rows.empty()) {
    html << "<h2>Per instrument and strategy</h2><table><tr>";
    for (const auto& h : inst_header) html << "<th>" << html_escape(h) << "</th>";
    html << "</tr>\n";
    for (const auto& r : inst_rows) {
      html << "<tr>";
      for (const auto& c : r) html << "<td>" << html_escape(c) << "</td>";
      html << "</tr>\n";
    }
    html << "</table>\n";
  }
  if (!mtf_rows.empty()) {  // a heatmap: green long, red short, by the score's size out of 130
    html << "<h2>Multi-timeframe signals (confluence, last decision)</h2><table><tr><th>instrument</th>";
    for (const auto& t : mtf_timeframes) html << "<th>" << html_escape(t) << "</th>";
    html << "<th>combined</th><th>alignment</th><th>full / partial / divergent decisions</th></tr>\n";
    for (const auto& r : mtf_rows) {
      html << "<tr>";
      for (const auto& c : r) {
        if (std::isnan(c.norm)) {
          html << "<td>" << html_escape(c.text) << "</td>";
          continue;
        }
        char style[96];
        std::snprintf(style, sizeof style, "background:rgba(%s,%.2f)", c.norm >= 0 ? "0,160,0" : "200,0,0", std::fabs(c.norm));
        html << "<td style='" << style << "'>" << html_escape(c.text) << "</td>";
      }
      html << "</tr>\n";
    }
    html << "</table>\n";
  }
  html << "<h2>Summary</h2><table>\n";
  for (const auto& [k, v] : rows)
    html << "<tr><td>" << html_escape(k) << "</td><td>" << html_escape(v) << "</td></tr>\n";
  html << "</table>\n";
  if (!metric_rows.empty()) {
    html << "<h2>Backtest metrics</h2><table>\n";
    for (const auto& [k, v] : metric_rows)
      html << "<tr><td>" << html_escape(k) << "</td><td>" << html_escape(v) << "</td></tr>\n";
    html << "</table>\n<h2>Plan gates</h2><ul>\n";
    for (const auto& g : gate_lines) html << "<li><code>" << html_escape(g) << "</code></li>\n";
    html << "</ul>\n";
  }
  html << "<h2>Latency per stage</h2>\n";
  html << svg_line_chart("Latency by percentile (both axes log scale)", "percentile", "latency (us, log)", lat_series,
                         true, 760, 360, /*log_y=*/true);
  html << "<table><tr><th>stage</th><th>count</th><th>p50 "
          "us</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th></tr>\n";
  for (const auto& s : stages)
    html << "<tr><td>" << html_escape(s.name) << "</td><td>" << s.total << "</td><td>" << fmt_num(value_at(s.pts, 0.5))
         << "</td><td>" << fmt_num(value_at(s.pts, 0.9)) << "</td><td>" << fmt_num(value_at(s.pts, 0.99)) << "</td><td>"
         << fmt_num(value_at(s.pts, 0.999)) << "</td><td>" << fmt_num(value_at(s.pts, 0.9999)) << "</td><td>"
         << fmt_num(s.max) << "</td></tr>\n";
  html << "</table>\n";
  if (!eq.x.empty()) {
    html << "<h2>Equity</h2>\n"
         << svg_line_chart("Equity curve (net of fees and funding)", "time (UTC; data time in a replay)", "equity",
                           {eq}, false, 760, 360, false, /*x_utc=*/true);
  }
  if (instrument_pnl.size() > 1 && !instrument_pnl[0].x.empty()) {
    html << svg_line_chart("Net P&L per instrument (sums to equity - initial balance)",
                           "time (UTC; data time in a replay)", "net P&L", instrument_pnl, false, 760, 360, false,
                           /*x_utc=*/true);
  }
  if (!host_check.empty()) html << "<h2>Host tuning</h2><pre>" << html_escape(host_check) << "</pre>\n";
  html << "</body></html>\n";
  const std::string html_path = run_dir + "/report.html";
  write_file_atomic(html_path, html.str());
  return html_path;
}

}  // namespace enigma::engine
