// Bayesian optimisation over a ParamSpace (`enigma optimize --method bayes`): a Gaussian-process surrogate of
// the objective with expected improvement, maximised over a seeded random set of untried grid points.
//
// Surrogate: zero-mean GP on the parameters scaled to [0, 1] ((value - min) / (max - min) per parameter; a
// single-valued parameter is 0), RBF kernel k(a, b) = s^2 exp(-|a - b|^2 / (2 l^2)) plus noise variance on the
// diagonal, fitted by a Cholesky factorisation (Eigen). The observations are the trials' train objective,
// standardised (mean 0, sd 1); an infeasible trial (constraints) is observed as the worst objective seen so
// far, and non-finite values (a profit factor without losses) are clamped to the finite ones seen.
// Loop: `initial` random distinct points, then one point at a time, the candidate with the largest EI over
// the best feasible observation (lowest grid index on ties), until `trials` points were evaluated or the grid
// is exhausted. Same seed, same trials.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <Eigen/Dense>

#include "research/optimizer.hpp"

namespace enigma::research {

struct BayesConfig {
  std::uint32_t trials = 200;       // evaluation budget
  std::uint32_t initial = 20;       // random points before the surrogate takes over
  std::uint32_t candidates = 2000;  // random untried points scored by EI per step
  double length_scale = 0.25;       // l, in scaled units
  double noise = 1e-2;              // noise variance, in units of the standardised objective's variance
  std::uint64_t seed = 1;
};

class GaussianProcess {
 public:
  GaussianProcess(double length_scale, double signal_variance, double noise_variance) noexcept
      : l_(length_scale), s2_(signal_variance), noise_(noise_variance) {}
  // Rows of `x` are points; `y` their observations. Throws enigma::Error when the kernel matrix is not
  // positive definite (noise_variance 0 and repeated points).
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  struct Prediction {
    double mean = 0;
    double variance = 0;  // of the latent function (without the noise term)
  };
  [[nodiscard]] Prediction predict(const Eigen::VectorXd& point) const;
  // The same for every column of `points` (one point per column), with a triangular solve per fixed block of
  // 128 columns, the blocks in parallel on oneTBB (the result does not depend on the thread count): what
  // run_bayes scores its candidates with.
  void predict_many(const Eigen::MatrixXd& points, Eigen::VectorXd& mean, Eigen::VectorXd& variance) const;
  [[nodiscard]] double kernel(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const noexcept;

 private:
  double l_, s2_, noise_;
  Eigen::MatrixXd x_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;  // K^-1 y
};

// Expected improvement of a maximisation over `best`: (mu - best) Phi(z) + sd phi(z), z = (mu - best) / sd;
// max(0, mu - best) when sd is 0.
[[nodiscard]] double expected_improvement(double mean, double sd, double best) noexcept;

// Every point evaluated, in order of evaluation (generation: 0 for the initial random points, then the step
// number). Throws enigma::Error on an invalid config.
[[nodiscard]] std::vector<Trial> run_bayes(const CandleBacktest& bt, Span train, std::optional<Span> test,
                                           const Selection& sel, const BayesConfig& cfg, const Progress& progress = {});

}  // namespace enigma::research
