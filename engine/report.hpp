// Run reports: `report.md` and `report.html` (with inline SVG plots) generated from the files a run
// directory already holds — `summary.json`, one `<stage>.hgrm` per stage, `equity.csv`, and optionally
// `host-check.txt` — so `enigma report RUN_DIR` and the end of a replay/bench run produce the same thing.
#pragma once

#include <string>
#include <vector>

namespace enigma::engine {

// One percentile row of an .hgrm file (value in the file's unit, microseconds by our convention).
struct HgrmPoint {
  double value;
  double percentile;  // fraction in [0, 1]
};

struct Hgrm {
  std::vector<HgrmPoint> points;
  unsigned long long total{0};  // from the "#[Max = ..., Total count = N]" footer
  double max{0};
};

// Parses HdrHistogram percentile-distribution text; throws enigma::Error naming the file and line.
[[nodiscard]] Hgrm read_hgrm(const std::string& path);

// Writes report.md and report.html into run_dir; throws enigma::Error when summary.json is missing or
// unreadable. Returns the path of report.html.
std::string write_report(const std::string& run_dir);

// SVG line chart helpers (exposed for tests): x/y in data units, log-scaled axes optional.
struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};
// `log_x`: x is 1/(1-percentile) on a log axis (latency by percentile). `log_y`: y on a log10 axis (values
// <= 0 are drawn at the axis floor). `x_utc`: x is Unix time in seconds, labelled as UTC date and time.
[[nodiscard]] std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                                         const std::vector<Series>& series, bool log_x, int width = 760, int height = 360,
                                         bool log_y = false, bool x_utc = false);

}  // namespace enigma::engine
