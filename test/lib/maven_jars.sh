# Sourced by test/{kafka,connect,debezium}/*.sh: fills a jar cache from Maven Central once,
# atomically (temp dir, then one rename) and under a lock, so parallel tests share it.
#
# The sourcing script sources test/lib/script_log.sh (log, die) and sets MVN (the maven
# command, may carry options).
#
#   maven_jars_stamp <file>...        the cache's validity stamp: a checksum of <file>s
#   maven_jars_fetch <lib> <what> <stamp_fn> <ready_fn> <fill_fn>
#       if "<ready_fn> <lib>" fails: take <lib>.lock, run "<fill_fn> <tmpdir> <mvnlog>" (which
#       fills <tmpdir>, using maven_copy_dependencies), write <stamp_fn>'s output to
#       <tmpdir>/.complete, check "<ready_fn> <tmpdir>", then move <tmpdir> to <lib>.
#       <ready_fn> must check <dir>/.complete against the stamp as well as the jars it needs.
#   maven_jars_stamped <dir> <stamp_fn>   <dir>/.complete holds the current stamp
#   maven_copy_dependencies <pom> <outdir> <mvnlog> <what> [maven args...]
#       copy <pom>'s dependencies into <outdir>; on failure print the log's tail, return 1

maven_jars_stamp() { cat "$@" | cksum | awk '{print $1 "-" $2}'; }

# <dir>/.complete holds the current stamp (a helper for ready functions)
maven_jars_stamped() { [ -f "$1/.complete" ] && [ "$(cat "$1/.complete")" = "$("$2")" ]; }

maven_copy_dependencies() {
    local pom=$1 out=$2 mvnlog=$3 what=$4
    shift 4
    # shellcheck disable=SC2086  # MVN may carry options
    if ! $MVN -B -q -Dstyle.color=never -f "$pom" "$@" \
            org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
            -DoutputDirectory="$out" >>"$mvnlog" 2>&1; then
        log "error: maven failed to fetch $what (full log: $mvnlog):"
        tail -n 30 "$mvnlog" | sed 's/\x1b\[[0-9;]*m//g' >&2
        return 1
    fi
}

maven_jars_fetch() {
    local lib=$1 what=$2 stamp_fn=$3 ready_fn=$4 fill_fn=$5
    "$ready_fn" "$lib" && return 0
    command -v "${MVN%% *}" >/dev/null 2>&1 ||
        die "maven ('$MVN') not found; install it (apt-get install -y maven, see test/install-deps.sh)"
    mkdir -p "$(dirname "$lib")"
    # Serialise concurrent fetches (parallel tests) on one lock; fd 9 is closed before any
    # long-lived child starts (they are started with 9>&-).
    exec 9>"$lib.lock"
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    if "$ready_fn" "$lib"; then exec 9>&-; return 0; fi

    local tmp="$lib.tmp.$$" mvnlog="$lib.mvn.log"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    : >"$mvnlog"
    log "fetching $what from Maven Central into $lib"
    if ! "$fill_fn" "$tmp" "$mvnlog"; then
        rm -rf "$tmp"; exec 9>&-; exit 1
    fi
    "$stamp_fn" >"$tmp/.complete"
    "$ready_fn" "$tmp" || {
        rm -rf "$tmp"; exec 9>&-; die "maven succeeded but $tmp lacks the expected jars"; }
    rm -rf "$lib"
    mv "$tmp" "$lib"
    exec 9>&-
    log "fetched $(find "$lib" -name '*.jar' | wc -l) jars ($(du -sh "$lib" | cut -f1))"
}
