#!/bin/sh
# Runs onebox's tests: every CUnit binary given on the command line, then every
# tests/integration/*.sh in name order (unless --unit-only).  Each suite's own
# summary is printed; the last line is the plain total
# "N passed, N failed" and the exit status is non-zero on any failure.
#
#   ONLY=pattern   run only integration scripts whose name matches (grep -E)
#   KEEP=1         keep integration temp dirs
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
unit_only=0
[ "${1:-}" = "--unit-only" ] && { unit_only=1; shift; }

export ONEBOX_SRC="$top"
export ONEBOX_BIN="$top/build/asan/bin"
export ONEBOX_TOOLS="$top/build/asan/tools"
export ONEBOX_RELEASE_BIN="$top/build/bin"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
skipped=0
failures=""
logdir="$top/build/test-logs"
mkdir -p "$logdir"

for t in "$@"; do
    name=$(echo "$t" | sed "s|^build/asan/test/||")
    log="$logdir/$(echo "$name" | tr '/' '_').log"
    printf '== unit %s\n' "$name"
    if "$t" >"$log" 2>&1; then
        passed=$((passed + 1))
        grep -E '^ *(suites|tests|asserts) ' "$log" | sed 's/^/   /'
    else
        failed=$((failed + 1))
        failures="$failures unit:$name"
        cat "$log"
        printf '   FAILED (log: %s)\n' "$log"
    fi
done

if [ "$unit_only" -eq 0 ]; then
    for t in tests/integration/*.sh; do
        [ -e "$t" ] || continue
        if [ -n "${ONLY:-}" ] && ! echo "$t" | grep -qE "$ONLY"; then continue; fi
        name=$(basename "$t" .sh)
        log="$logdir/$name.log"
        printf '== integration %s\n' "$name"
        start=$(date +%s)
        timeout 900 bash "$t" >"$log" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then
            passed=$((passed + 1))
            tail -n 1 "$log" | sed 's/^/   /'
        elif [ $rc -eq 77 ]; then
            skipped=$((skipped + 1))
            grep '^skip:' "$log" | sed 's/^/   /'
        else
            failed=$((failed + 1))
            failures="$failures integration:$name"
            tail -n 60 "$log"
            printf '   FAILED (log: %s)\n' "$log"
        fi
        printf '   (%ss)\n' $(( $(date +%s) - start ))
    done
fi

echo
[ -n "$failures" ] && echo "failed suites:$failures"
echo "suites: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
