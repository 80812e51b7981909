#!/usr/bin/env bash
# Builds the enigma command line for the systemd unit (tuning/enigma.service) from its environment and
# execs it, so the service is paper trading unless the operator explicitly asked for live orders.
#
#   ENIGMA_MODE           paper (default) | live
#   ENIGMA_LIVE_CONFIRM   must be "yes" for ENIGMA_MODE=live (passes --confirm); otherwise live refuses
#   ENIGMA_CONFIG         TOML config with [feed] (and [live] for live) (default /etc/enigma/enigma.toml)
#   ENIGMA_RUNS_DIR       where run directories go (default /opt/enigma/runs)
#   ENIGMA_BIN            the binary (default /opt/enigma/build/release/enigma)
#
#   tuning/enigma-service.sh [--dry-run]   --dry-run prints the command line instead of running it
# Exit status 2 (a configuration error: the unit does not restart on it) for an unknown mode or live
# without ENIGMA_LIVE_CONFIRM=yes; otherwise enigma's own.
set -euo pipefail
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1

MODE="${ENIGMA_MODE:-paper}"
CONFIG="${ENIGMA_CONFIG:-/etc/enigma/enigma.toml}"
RUNS="${ENIGMA_RUNS_DIR:-/opt/enigma/runs}"
BIN="${ENIGMA_BIN:-/opt/enigma/build/release/enigma}"

case "$MODE" in
  paper) cmd=("$BIN" paper --config "$CONFIG" --runs-dir "$RUNS") ;;
  live)
    if [ "${ENIGMA_LIVE_CONFIRM:-}" != "yes" ]; then
      echo "enigma-service: ENIGMA_MODE=live sends real orders; set ENIGMA_LIVE_CONFIRM=yes in the unit's environment to allow it" >&2
      exit 2
    fi
    cmd=("$BIN" live --config "$CONFIG" --runs-dir "$RUNS" --confirm) ;;
  *) echo "enigma-service: ENIGMA_MODE must be paper or live, not '$MODE'" >&2; exit 2 ;;
esac

if [ "$DRY" = 1 ]; then
  echo "${cmd[*]}"
  exit 0
fi
exec "${cmd[@]}"
