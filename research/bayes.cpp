#include "research/bayes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <unordered_set>

#include <tbb/parallel_for.h>

#include "core/error.hpp"
#include "research/rng.hpp"

namespace enigma::research {
namespace {

Eigen::VectorXd scaled(const ParamSpace& space, std::uint64_t grid_index) {
  const ParamIndex idx = space.index_of(grid_index);
  Eigen::VectorXd x(static_cast<Eigen::Index>(kParamCount));
  for (std::size_t d = 0; d < kParamCount; ++d) {
    const std::vector<double>& v = space.values[d];
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    x[static_cast<Eigen::Index>(d)] = *hi > *lo ? (v[idx[d]] - *lo) / (*hi - *lo) : 0.0;
  }
  return x;
}

}  // namespace

double GaussianProcess::kernel(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const noexcept {
  return s2_ * std::exp(-(a - b).squaredNorm() / (2.0 * l_ * l_));
}

void GaussianProcess::fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  x_ = x;
  const Eigen::Index n = x.rows();
  Eigen::MatrixXd k(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j <= i; ++j) k(i, j) = k(j, i) = kernel(x.row(i).transpose(), x.row(j).transpose());
  k.diagonal().array() += noise_;
  llt_.compute(k);
  if (llt_.info() != Eigen::Success) throw Error("bayes: the GP kernel matrix is not positive definite");
  alpha_ = llt_.solve(y);
}

GaussianProcess::Prediction GaussianProcess::predict(const Eigen::VectorXd& point) const {
  const Eigen::Index n = x_.rows();
  Eigen::VectorXd ks(n);
  for (Eigen::Index i = 0; i < n; ++i) ks[i] = kernel(x_.row(i).transpose(), point);
  Prediction p;
  p.mean = ks.dot(alpha_);
  const Eigen::VectorXd v = llt_.matrixL().solve(ks);
  p.variance = std::max(0.0, kernel(point, point) - v.squaredNorm());
  return p;
}

void GaussianProcess::predict_many(const Eigen::MatrixXd& points, Eigen::VectorXd& mean,
                                   Eigen::VectorXd& variance) const {
  const Eigen::Index n = x_.rows(), m = points.cols();
  mean.resize(m);
  variance.resize(m);
  const double scale = 1.0 / (2.0 * l_ * l_);
  // Fixed blocks of columns, each solved on its own: the blocking, hence every rounding, is the same for any
  // thread count, so run_bayes picks the same points whatever --threads is.
  constexpr Eigen::Index kBlock = 128;
  const Eigen::Index blocks = (m + kBlock - 1) / kBlock;
  tbb::parallel_for(Eigen::Index{0}, blocks, [&](Eigen::Index b) {
    const Eigen::Index first = b * kBlock, cols = std::min(kBlock, m - first);
    Eigen::MatrixXd ks(n, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
      for (Eigen::Index i = 0; i < n; ++i)
        ks(i, j) = s2_ * std::exp(-(x_.row(i).transpose() - points.col(first + j)).squaredNorm() * scale);
    mean.segment(first, cols).noalias() = ks.transpose() * alpha_;
    llt_.matrixL().solveInPlace(ks);
    variance.segment(first, cols) = (s2_ - ks.colwise().squaredNorm().transpose().array()).cwiseMax(0.0).matrix();
  });
}

double expected_improvement(double mean, double sd, double best) noexcept {
  const double gain = mean - best;
  if (!(sd > 0.0)) return std::max(0.0, gain);
  const double z = gain / sd;
  const double cdf = 0.5 * std::erfc(-z / std::numbers::sqrt2);
  const double pdf = std::exp(-0.5 * z * z) * std::numbers::inv_sqrtpi / std::numbers::sqrt2;
  return gain * cdf + sd * pdf;
}

std::vector<Trial> run_bayes(const CandleBacktest& bt, Span train, std::optional<Span> test, const Selection& sel,
                             const BayesConfig& cfg, const Progress& progress) {
  if (cfg.trials < 1) throw Error("bayes: trials must be >= 1");
  if (cfg.candidates < 1) throw Error("bayes: candidates must be >= 1");
  if (!(cfg.length_scale > 0.0)) throw Error("bayes: length_scale must be > 0");
  if (!(cfg.noise > 0.0)) throw Error("bayes: noise must be > 0");
  const ParamSpace& space = bt.space();
  const std::uint64_t grid = space.grid_size();
  const std::uint64_t budget = std::min<std::uint64_t>(cfg.trials, grid);
  SplitMix64 rng{cfg.seed};
  std::vector<Trial> trials;
  std::unordered_set<std::uint64_t> seen;
  auto evaluate = [&](std::uint64_t g, std::uint32_t step) {
    seen.insert(g);
    Trial t{space.index_of(g), g, step, {}, std::nullopt};
    t.train = bt.run(t.idx, train);
    if (test) t.test = bt.run(t.idx, *test);
    trials.push_back(t);
    if (progress) progress(trials.size(), budget);
  };

  const std::uint64_t initial = std::min<std::uint64_t>(std::max<std::uint32_t>(cfg.initial, 1), budget);
  while (trials.size() < initial) {
    const std::uint64_t g = rng.below(grid);
    if (!seen.count(g)) evaluate(g, 0);
  }

  std::vector<Eigen::VectorXd> points;
  for (const Trial& t : trials) points.push_back(scaled(space, t.grid_index));
  GaussianProcess gp(cfg.length_scale, 1.0, cfg.noise);
  for (std::uint32_t step = 1; trials.size() < budget; ++step) {
    // Observations: the objective, infeasible ones as the worst seen, clamped finite, standardised.
    const std::size_t n = trials.size();
    std::vector<double> raw(n);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t i = 0; i < n; ++i) {
      raw[i] = objective_value(sel.objective, trials[i].train);
      if (std::isfinite(raw[i])) lo = std::min(lo, raw[i]), hi = std::max(hi, raw[i]);
    }
    if (!std::isfinite(lo)) lo = hi = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(raw[i])) raw[i] = raw[i] > 0 ? hi : lo;
      if (!sel.feasible(trials[i].train)) raw[i] = lo;
    }
    double mean = 0.0;
    for (double v : raw) mean += v / static_cast<double>(n);
    double var = 0.0;
    for (double v : raw) var += (v - mean) * (v - mean) / static_cast<double>(n);
    const double sd = var > 0.0 ? std::sqrt(var) : 1.0;
    Eigen::MatrixXd x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(kParamCount));
    Eigen::VectorXd y(static_cast<Eigen::Index>(n));
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
      x.row(static_cast<Eigen::Index>(i)) = points[i].transpose();
      y[static_cast<Eigen::Index>(i)] = (raw[i] - mean) / sd;
      if (sel.feasible(trials[i].train)) best = std::max(best, y[static_cast<Eigen::Index>(i)]);
    }
    if (!std::isfinite(best)) best = y.maxCoeff();
    gp.fit(x, y);

    // Candidates: every untried point when the grid is small, else a seeded random draw of untried points.
    std::vector<std::uint64_t> cand;
    if (grid - seen.size() <= cfg.candidates) {
      for (std::uint64_t g = 0; g < grid; ++g)
        if (!seen.count(g)) cand.push_back(g);
    } else {
      std::unordered_set<std::uint64_t> drawn;
      while (cand.size() < cfg.candidates) {
        const std::uint64_t g = rng.below(grid);
        if (!seen.count(g) && drawn.insert(g).second) cand.push_back(g);
      }
    }
    Eigen::MatrixXd c(static_cast<Eigen::Index>(kParamCount), static_cast<Eigen::Index>(cand.size()));
    for (std::size_t j = 0; j < cand.size(); ++j) c.col(static_cast<Eigen::Index>(j)) = scaled(space, cand[j]);
    Eigen::VectorXd mu, var_c;
    gp.predict_many(c, mu, var_c);
    std::uint64_t pick = cand.front();
    double pick_ei = -1.0;
    for (std::size_t j = 0; j < cand.size(); ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      const double ei = expected_improvement(mu[jj], std::sqrt(var_c[jj]), best);
      if (ei > pick_ei || (ei == pick_ei && cand[j] < pick)) pick = cand[j], pick_ei = ei;
    }
    evaluate(pick, step);
    points.push_back(scaled(space, pick));
  }
  return trials;
}

}  // namespace enigma::research
