#!/usr/bin/env bash
# Runs enigma on a kernel-bypass socket stack that takes over ordinary sockets through LD_PRELOAD:
#   scripts/run-bypass.sh onload|vma|xlio [--dry-run] -- <enigma arguments>
# e.g. scripts/run-bypass.sh onload -- live --config config/live.toml --confirm
# The profile (environment) comes from tuning/bypass/<stack>-latency.env. The engine logs at start-up which
# stack carries its sockets (log line `socket_stack=...`), and `enigma check-host` shows it too. Exits with
# an error naming what is missing when the stack is not installed on this host.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
stack="${1:-}"
shift || true
dry=0
if [[ "${1:-}" == "--dry-run" ]]; then dry=1; shift; fi
[[ "${1:-}" == "--" ]] && shift
bin="${ENIGMA_BIN:-$here/build/release/enigma}"
[[ -x "$bin" ]] || bin="$(command -v enigma || true)"
[[ -n "$bin" ]] || { echo "run-bypass: enigma binary not found (build it or set ENIGMA_BIN)" >&2; exit 2; }

lib_path() { ldconfig -p 2>/dev/null | awk -v l="$1" '$1 ~ "^"l {print $NF; exit}'; }
load_env() {
  local f="$here/tuning/bypass/$1-latency.env"
  [[ -f "$f" ]] || { echo "run-bypass: profile $f missing" >&2; exit 2; }
  grep -Ev '^\s*(#|$)' "$f"
}

case "$stack" in
  onload)
    command -v onload >/dev/null || { echo "run-bypass: 'onload' not found: install OpenOnload (needs a Solarflare/Xilinx/AMD NIC)" >&2; exit 3; }
    mapfile -t envs < <(load_env onload)
    cmd=(env "${envs[@]}" onload --profile=latency "$bin" "$@")
    ;;
  vma|xlio)
    lib="$(lib_path "lib$stack.so")"
    [[ -n "$lib" ]] || { echo "run-bypass: lib$stack.so not found by ldconfig: install NVIDIA ${stack^^} (needs a ConnectX NIC)" >&2; exit 3; }
    mapfile -t envs < <(load_env "$stack")
    cmd=(env "${envs[@]}" LD_PRELOAD="$lib" "$bin" "$@")
    ;;
  *)
    echo "usage: scripts/run-bypass.sh onload|vma|xlio [--dry-run] -- <enigma arguments>" >&2
    exit 2
    ;;
esac
if (( dry )); then printf '%q ' "${cmd[@]}"; echo; exit 0; fi
exec "${cmd[@]}"
