# research/: parameter spaces, the candle backtest behind the optimizer, grid / genetic search and walk-forward
# windows, on a slice of the bundled BTCUSDT 5 m candles (a few seconds in release).
enigma_add_test(research_optimizer_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/optimizer_test.cpp
  DEPS enigma::research
  LABELS unit TIMEOUT 300)
# `enigma optimize` / `enigma walkforward` through the binary: byte-identical trials.csv for 1 and 2 threads,
# genetic reproducible per seed, walk-forward boundaries, bad TOML -> exit 3 naming the key.
# runs.db is read back with SQLite's own API.
find_package(SQLite3 REQUIRED)
enigma_add_test(engine_optimize_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/optimize_cli_test.cpp
  DEPS SQLite::SQLite3
  LABELS integration TIMEOUT 300)
add_dependencies(engine_optimize_test enigma)
target_compile_definitions(engine_optimize_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
# research/bayes.hpp: expected improvement and the Gaussian process by hand; `--method bayes` reproducible per
# seed, distinct points within its budget, and its best against seeded random points and the exhaustive grid.
enigma_add_test(research_bayes_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bayes_test.cpp
  DEPS enigma::research
  LABELS unit TIMEOUT 300)
# `mpirun --oversubscribe -np 2 enigma optimize|walkforward` against the single-process run: byte-identical
# trials.csv (research/mpi_world.hpp). Open MPI's mpirun from Debian (scripts/setup.sh).
enigma_add_test(engine_optimize_mpi_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/optimize_mpi_test.cpp
  LABELS integration TIMEOUT 600)
add_dependencies(engine_optimize_mpi_test enigma)
target_compile_definitions(engine_optimize_mpi_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
# A sweep as a Slurm job array without Slurm: scripts/slurm/optimize.sbatch under bash once per array task
# (SLURM_ARRAY_* set, N = 3), then merge.sbatch; byte-identical to the single-process run (optimize and
# walkforward); missing / duplicated / foreign shards exit 3 naming the shard (research/shards.hpp).
enigma_add_test(engine_optimize_slurm_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/optimize_slurm_test.cpp
  LABELS integration TIMEOUT 300)
add_dependencies(engine_optimize_slurm_test enigma)
target_compile_definitions(engine_optimize_slurm_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")

# `enigma download` through the binary against a local TLS venue (Binance USD-M and KuCoin Futures dialects)
# serving a slice of the bundled candles: paging under a page cap, a 429 with Retry-After, incremental runs
# asking only for missing candles, a hole reported as a gap, funding history, optimize on the result.
enigma_add_test(research_download_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/download_test.cpp
  DEPS enigma::strategy enigma_ws_test_server
  LABELS integration TIMEOUT 120)
add_dependencies(research_download_test enigma)
target_compile_definitions(research_download_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
