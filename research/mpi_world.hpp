// Trials spread over MPI ranks when `enigma optimize` / `enigma walkforward` runs under `mpirun -np N`
// (Open MPI from Debian; detected by the launcher's OMPI_COMM_WORLD_SIZE or PMI_SIZE, so a plain run never
// initialises MPI). Every batch of trials (a grid batch, a genetic generation) is split into N contiguous
// shares, each rank evaluates its share on its own oneTBB threads, and MPI_Allgatherv gives every rank the
// whole batch: all ranks then hold the same trials and make the same next choice (genetic selection, the
// walk-forward's next window), and rank 0 alone writes the outputs, which are byte-identical to a
// single-process run. The ranks must run the same binary on the same architecture (the metrics travel as
// raw bytes). `--method bayes` is sequential: every rank repeats it. Cold path only.
#pragma once

#include <cstddef>
#include <vector>

#include "research/optimizer.hpp"

namespace enigma::research::mpi {

// MPI_Init when launched by an MPI launcher (idempotent); MPI_Finalize at process exit. Returns true when
// this process is one of several ranks.
bool init_if_launched();
[[nodiscard]] int rank() noexcept;  // 0 without MPI
[[nodiscard]] int size() noexcept;  // 1 without MPI

// The share of [from, to) that this rank evaluates.
struct Share {
  std::size_t from, to;
};
[[nodiscard]] Share share_of(std::size_t from, std::size_t to) noexcept;
// After each rank filled its share of trials[from, to): every rank gets every trial's train (and test) metrics.
void allgather(std::vector<Trial>& trials, std::size_t from, std::size_t to, bool with_test);

}  // namespace enigma::research::mpi
