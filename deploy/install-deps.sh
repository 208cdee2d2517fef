#!/usr/bin/env bash
# Installs the Debian (bookworm) packages that Backline's build and tests need, and only those
# that are missing. A no-op in about a second when everything is present.
#
#   deploy/install-deps.sh            # build + test dependencies
#   deploy/install-deps.sh --check    # list what is missing, install nothing (exit 1 if any)
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config git
  libcaf-dev librdkafka-dev libflatbuffers-dev flatbuffers-compiler
  librocksdb-dev rocksdb-tools
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev nlohmann-json3-dev libssl-dev libcli11-dev libspdlog-dev libfmt-dev
  libtomlplusplus-dev libsndfile1-dev
  kcat wrk procps
)

missing=()
installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)"
for p in "${packages[@]}"; do
  if ! grep -qx "$p installed" <<<"$installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  printf 'missing: %s\n' "${missing[*]}"
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then sudo_cmd=(sudo); else
    echo "install-deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
