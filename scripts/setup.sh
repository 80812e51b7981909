#!/usr/bin/env bash
# Installs enigma's build and test dependencies from Debian packages. Idempotent: only what is missing
# is installed; works as root or through sudo; names what could not be installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev          # Beast + Asio (replaces the 1.74 headers)
  libssl-dev                # OpenSSL 3
  libsimdjson-dev
  libconcurrentqueue-dev    # moodycamel ConcurrentQueue
  libreaderwriterqueue-dev  # moodycamel ReaderWriterQueue (benchmark baseline)
  libtbb-dev                # oneTBB
  libeigen3-dev             # Eigen: the Gaussian process behind `enigma optimize --method bayes`
  libsqlite3-dev            # runs.db: every optimize / walkforward run and trial (`enigma runs`)
  libopenmpi-dev openmpi-bin  # `mpirun -np N enigma optimize`: trials spread over MPI ranks
  libbenchmark-dev libgtest-dev libgmock-dev
  libfmt-dev libtomlplusplus-dev libcli11-dev
  libspdlog-dev             # benchmark baseline for the logger
  zlib1g-dev
  libzstd-dev               # recordings: zstd-compressed segments
  libisal-dev               # ISA-L igzip: fast .gz inflate for streaming replay (zlib fallback)
  liburing-dev              # the io_uring transport ([feed] transport = "io_uring")
  clang libclang-rt-14-dev  # libFuzzer + sanitizer runtimes
  openssl                   # CLI used by signing tests as an independent reference
  python3
  ccache                    # rebuilds of unchanged files come from the cache
  prometheus                # promtool: engine_admin_test checks /metrics with `promtool check metrics`
  chromium chromium-driver  # engine_dashboard_test drives the admin dashboard in headless Chromium (WebDriver)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "setup: apt-get update failed" >&2; exit 1; }
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/enigma-setup.log 2>&1; then
  failed=()
  for p in "${missing[@]}"; do
    $SUDO apt-get install -y -qq --no-install-recommends "$p" >>/tmp/enigma-setup.log 2>&1 || failed+=("$p")
  done
  if [ ${#failed[@]} -ne 0 ]; then
    echo "setup: could not install: ${failed[*]} (see /tmp/enigma-setup.log)" >&2
    exit 1
  fi
fi
echo "setup: done"
