#!/usr/bin/env bash
# scripts/install-deps.sh - install what flowmimic needs on Debian 12, and nothing already there.
# Usage: scripts/install-deps.sh [--test] [--bench] [--mpi]
#   (none)   build and run: compiler, CMake, libpcap, libnet, GSL, libcurl, cJSON, gnuplot
#   --test   also what the tests and CI checks need: cmocka, clang, clang-format, clang-tidy,
#            cppcheck, tshark and tcpdump (cross-checks), iproute2 (network namespaces),
#            python3 (the stub LLM server), python3-numpy (the time-structure test), man-db and
#            groff-base (the installed man pages), and what --mpi installs
#   --mpi    Open MPI (openmpi-bin, libopenmpi-dev): replay and receive across mpirun's ranks;
#            without it flowmimic builds as one rank and integration.mpi is not built
#   --bench  also the peer tools the benchmarks compare against: tcpdump, tshark, tcpreplay,
#            python3-sklearn, hyperfine
set -euo pipefail

pkgs=(build-essential cmake pkg-config libpcap-dev libnet1-dev libgsl-dev
      libcurl4-openssl-dev libcjson-dev gnuplot-nox jq iproute2)
for a in "$@"; do
    case "$a" in
    --test) pkgs+=(libcmocka-dev clang clang-format clang-tidy cppcheck iproute2 tshark tcpdump
                   python3 python3-numpy man-db groff-base openmpi-bin libopenmpi-dev) ;;
    --mpi) pkgs+=(openmpi-bin libopenmpi-dev) ;;
    --bench) pkgs+=(tcpdump tshark tcpreplay python3-sklearn python3-numpy hyperfine iproute2) ;;
    *) echo "install-deps.sh: unknown option '$a' (use --test, --bench and/or --mpi)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-deps.sh: missing packages (${missing[*]}); run as root or install them" >&2
        exit 1
    fi
else
    SUDO=
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
