#!/usr/bin/env bash
# Compiles the plugin against the server headers of the PostgreSQL majors that make test
# does not run (14, 16, 17: test/pg_versions.sh compiled), so the version guards in
# plugin/pg.h stay right. Syntax and types only: nothing is linked or run.
#   test/check_versions.sh [MAJOR...]   (make check-versions)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

read -r -a majors <<<"${*:-$(test/pg_versions.sh compiled)}"
# The flags of the Makefile's PG_CXXFLAGS that decide what compiles.
CXXFLAGS=(-std=c++17 -fno-exceptions -fno-rtti -fPIC -Wall -Wextra -Wno-unused-parameter
    -Wno-register -Wno-missing-field-initializers -Wno-sign-compare)

failed=()
for major in "${majors[@]}"; do
    inc=$(test/pg_versions.sh includedir "$major")
    [ -f "$inc/pg_config.h" ] || { echo "PostgreSQL $major: no headers in $inc (bash test/pg_versions.sh install)" >&2; exit 1; }
    version=$(sed -n 's/^#define PG_VERSION "\(.*\)"$/\1/p' "$inc/pg_config.h")
    log=$(mktemp)
    status=0
    for src in plugin/*.cpp; do
        g++ "${CXXFLAGS[@]}" -fsyntax-only -Iplugin -I"$inc" "$src" >>"$log" 2>&1 || status=1
    done
    warnings=$(grep -c 'warning:' "$log" || true)
    if [ $status -eq 0 ]; then
        echo "PostgreSQL $version: plugin compiles ($warnings warnings)"
    else
        echo "PostgreSQL $version: plugin does not compile"
        failed+=("$major")
    fi
    [ "$warnings" = 0 ] && [ $status -eq 0 ] || head -60 "$log"
    rm -f "$log"
done
[ ${#failed[@]} -eq 0 ]
