#include "research/mpi_world.hpp"

#include <mpi.h>

#include <cstdlib>
#include <string>
#include <type_traits>

#include "core/error.hpp"

namespace enigma::research::mpi {
namespace {

int g_rank = 0, g_size = 1;
bool g_initialised = false;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI: ") + what + " failed (code " + std::to_string(rc) + ")");
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

static_assert(std::is_trivially_copyable_v<TrialMetrics>, "metrics travel between ranks as bytes");

}  // namespace

bool init_if_launched() {
  if (g_initialised) return g_size > 1;
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr && std::getenv("PMI_SIZE") == nullptr) return false;
  check(MPI_Init(nullptr, nullptr), "MPI_Init");
  g_initialised = true;
  std::atexit(finalize_at_exit);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &g_rank), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &g_size), "MPI_Comm_size");
  return g_size > 1;
}

int rank() noexcept { return g_rank; }
int size() noexcept { return g_size; }

Share share_of(std::size_t from, std::size_t to) noexcept {
  const std::size_t n = to - from, r = static_cast<std::size_t>(g_rank), s = static_cast<std::size_t>(g_size);
  return {from + n * r / s, from + n * (r + 1) / s};
}

void allgather(std::vector<Trial>& trials, std::size_t from, std::size_t to, bool with_test) {
  if (g_size <= 1) return;
  const std::size_t n = to - from, s = static_cast<std::size_t>(g_size);
  const int per = with_test ? 2 : 1;  // metrics per trial
  std::vector<int> counts(s), displs(s);
  for (std::size_t r = 0; r < s; ++r) {
    const std::size_t a = n * r / s, b = n * (r + 1) / s;
    counts[r] = static_cast<int>((b - a) * per * sizeof(TrialMetrics));
    displs[r] = static_cast<int>(a * per * sizeof(TrialMetrics));
  }
  std::vector<TrialMetrics> all(n * per);
  const Share mine = share_of(from, to);
  std::vector<TrialMetrics> own;
  for (std::size_t k = mine.from; k < mine.to; ++k) {
    own.push_back(trials[k].train);
    if (with_test) own.push_back(*trials[k].test);
  }
  check(MPI_Allgatherv(own.data(), static_cast<int>(own.size() * sizeof(TrialMetrics)), MPI_BYTE, all.data(),
                       counts.data(), displs.data(), MPI_BYTE, MPI_COMM_WORLD),
        "MPI_Allgatherv");
  for (std::size_t k = 0; k < n; ++k) {
    trials[from + k].train = all[k * per];
    if (with_test) trials[from + k].test = all[k * per + 1];
  }
}

}  // namespace enigma::research::mpi
