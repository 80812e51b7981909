#!/usr/bin/env bash
# Applies the host-tuning fixes that `enigma check-host` suggests. Dry-run by default: prints each
# command; pass --apply (as root) to run them. Boot-time settings (isolcpus, nohz_full, rcu_nocbs,
# C-state limits) are printed as GRUB instructions and never edited automatically.
#
#   tuning/apply.sh [--apply] [--cores 2-3]
set -euo pipefail
APPLY=0
CORES="2-3"
while [ $# -gt 0 ]; do
  case "$1" in
    --apply) APPLY=1 ;;
    --cores) CORES="$2"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "apply.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$APPLY" = 1 ] && [ "$(id -u)" -ne 0 ]; then echo "apply.sh: --apply needs root" >&2; exit 1; fi

run() {
  if [ "$APPLY" = 1 ]; then echo "+ $*"; bash -c "$*" || echo "  (failed: $*)" >&2
  else echo "would run: $*"; fi
}

# Runtime settings.
for g in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do
  [ -e "$g" ] && run "echo performance > $g"
done
[ -e /sys/kernel/mm/transparent_hugepage/enabled ] && run "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled"
run "sysctl -w vm.nr_hugepages=512"
run "sysctl -w net.core.busy_poll=50 net.core.busy_read=50"
if [ -e /sys/devices/system/clocksource/clocksource0/available_clocksource ] &&
   grep -qw tsc /sys/devices/system/clocksource/clocksource0/available_clocksource; then
  run "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource"
fi
if pgrep -x irqbalance >/dev/null 2>&1; then run "systemctl disable --now irqbalance"; fi
# Keep NIC interrupts on core 0 (housekeeping), away from the trading cores.
for irq in $(grep -E 'eth|ens|enp|mlx' /proc/interrupts 2>/dev/null | cut -d: -f1 | tr -d ' '); do
  run "echo 0 > /proc/irq/$irq/smp_affinity_list"
done

# Boot-time settings: instructions only.
echo
echo "Boot-time (edit GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub && reboot):"
echo "  isolcpus=$CORES nohz_full=$CORES rcu_nocbs=$CORES intel_idle.max_cstate=1 processor.max_cstate=1"
[ "$APPLY" = 1 ] || echo "(dry run: pass --apply as root to run the commands above)"
