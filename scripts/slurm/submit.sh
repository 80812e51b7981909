#!/usr/bin/env bash
# Submits a sharded grid sweep to Slurm: a job array of SHARDS tasks (optimize.sbatch, one `--shard K/N`
# each) and the merge job (merge.sbatch) that starts only when every task succeeded (afterok).
#
#   scripts/slurm/submit.sh SHARDS optimize|walkforward CONFIG [RUNS_DIR [enigma flags...]]
#
# Run it from the repository root (or set ENIGMA to the binary). RUNS_DIR defaults to runs; the shards go to
# RUNS_DIR/slurm-<array job id>/, the merged run to RUNS_DIR/<UTC>-<command>/. Partition, account, time
# limit, ...: sbatch's own SBATCH_* environment variables (SBATCH_PARTITION=..., SBATCH_TIMELIMIT=...).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 SHARDS optimize|walkforward CONFIG [RUNS_DIR [enigma flags...]]" >&2
  exit 2
fi
shards=$1 command=$2 config=$3 runs_dir=${4:-runs}
shift $(($# < 4 ? $# : 4))
case "$shards" in '' | *[!0-9]* | 0) echo "submit.sh: SHARDS must be a positive integer, not '$shards'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable --array="0-$((shards - 1))" "$here/optimize.sbatch" "$command" "$config" "$runs_dir" "$@")
array=${array%%;*}  # "id;cluster" on multi-cluster setups
merge=$(sbatch --parsable --dependency="afterok:$array" "$here/merge.sbatch" "$command" "$config" "$runs_dir" "$array" "$@")
merge=${merge%%;*}
echo "submitted: array job $array ($shards shards -> $runs_dir/slurm-$array/), merge job $merge (after every shard succeeded)"
echo "  watch: squeue -j $array,$merge; the run folder appears in $runs_dir/ when job $merge ends"
