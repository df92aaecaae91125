# tests/lib/common.sh: the core of the onebox integration-test harness.
#
# Sourced by every tests/integration/*.sh (POSIX sh; works under dash and
# bash, with or without `set -eu`). It gives each test a private temp dir, a
# registry of the background processes it started (stopped by PID, never by
# name), race-safe free ports on 127.0.0.1, polling waits, and counting
# assertions that end in the one summary line `N passed, N failed`.
#
# Public names start with `t_`; file-local helpers with `_t_`.
#
# Environment:
#   KEEP=1       keep $T after the run (its path is printed)
#   T_TIMEOUT    default seconds for the waits (20); a wait is a hang guard,
#                never a timing assertion, so it is generous
#   T_PORT_LOCKDIR  where port reservations live (/tmp/onebox-test-ports)
#
# Exit status: 0 all passed, 1 something failed, 77 skipped (t_skip).

T_TIMEOUT=${T_TIMEOUT:-20}
_T_PASS=0
_T_FAIL=0
_T_NUM=0
_T_DONE=0
_T_CLEANED=0

# t_init NAME: create $T, install the cleanup trap. Call once, first.
t_init() {
    _t_name=$(printf '%s' "${1:-test}" | tr -c 'A-Za-z0-9_-' '_' | cut -c1-16)
    # Short parent path on purpose: Unix socket paths under $T (Dovecot's
    # base_dir, FastCGI sockets) must stay below the 108-byte sun_path limit.
    T=$(mktemp -d "${TMPDIR:-/tmp}/ob-$_t_name.XXXXXX") || {
        echo "t_init: cannot create a temp dir" >&2
        exit 1
    }
    export T
    mkdir "$T/.bg"
    : >"$T/.bg/order"
    : >"$T/.ports"
    trap '_t_on_exit' EXIT
    trap '_t_on_signal 130' INT
    trap '_t_on_signal 143' TERM
    trap '_t_on_signal 129' HUP
    _t_port_prune
}

# t_log MSG...: a diagnostic line on stderr, TAP-style `# ` prefix.
t_log() {
    printf '# %s\n' "$*" >&2
}

# --- background processes ---------------------------------------------------

# t_bg NAME CMD [ARG...]: start CMD in the background, stdout+stderr to
# $T/NAME.log, and register it for t_stop / the exit trap. CMD must be a
# program (not a shell function) so that the recorded PID is CMD's own.
# It gets its own process group so that the stop can also reach anything it
# forked. Returns 1 when NAME is already running.
t_bg() {
    local name pid
    name=$1
    shift
    if t_alive "$name"; then
        echo "t_bg: $name is already running" >&2
        return 1
    fi
    case $- in
    *m*)
        # Job control already gives each background job its own group
        # (PGID = PID); setsid would fork and hide the real PID.
        "$@" >>"$T/$name.log" 2>&1 </dev/null &
        ;;
    *)
        setsid "$@" >>"$T/$name.log" 2>&1 </dev/null &
        ;;
    esac
    pid=$!
    echo "$pid" >"$T/.bg/$name.pid"
    echo "$name" >>"$T/.bg/order"
    return 0
}

# t_pid NAME: print the PID of a process started by t_bg.
t_pid() {
    cat "$T/.bg/$1.pid" 2>/dev/null
}

# t_pid_running PID: true while PID runs. Zombies still answer `kill -0`,
# so this reads the state from /proc.
t_pid_running() {
    local st
    [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# The earlier, private name of t_pid_running; some tests still use it.
_t_pid_running() {
    t_pid_running "$@"
}

# t_alive NAME: true while the process started as NAME is running.
t_alive() {
    local pid
    pid=$(t_pid "$1") || return 1
    [ -n "$pid" ] && t_pid_running "$pid"
}

# t_group_running PGID: true while a process of group PGID is running
# (zombies waiting to be reaped do not count).
t_group_running() {
    # cat, not awk FILES: processes exit while we read, and awk gives up
    # at the first file that has vanished.
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v g="$1" '{ sub(/.*\) /, "") }
            $3 == g && $1 != "Z" && $1 != "X" { f = 1 }
            END { exit !f }'
}

# t_stop NAME [TIMEOUT]: SIGTERM to NAME's PID, wait for it to exit, then
# SIGKILL if it has not after TIMEOUT seconds (default 10). What it leaves
# in its process group gets a moment to exit on its own, then SIGKILL.
# Returns 0 when all of it is gone (or was never started).
t_stop() {
    local name pid left grace
    name=$1
    pid=$(t_pid "$name") || return 0
    [ -n "$pid" ] || return 0
    grace=20
    if t_pid_running "$pid"; then
        kill -TERM "$pid" 2>/dev/null || :
        left=$(( ${2:-10} * 10 ))
        while t_pid_running "$pid" && [ "$left" -gt 0 ]; do
            sleep 0.1
            left=$((left - 1))
        done
        if t_pid_running "$pid"; then
            t_log "t_stop: $name (pid $pid) ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || :
            grace=0
        fi
    fi
    wait "$pid" 2>/dev/null || :
    # Children that outlive their parent (a master's workers) normally
    # notice and exit; whatever does not is killed.
    left=$grace
    while t_group_running "$pid" && [ "$left" -gt 0 ]; do
        sleep 0.1
        left=$((left - 1))
    done
    if t_group_running "$pid"; then
        kill -KILL -"$pid" 2>/dev/null || :
    fi
    left=50
    while { t_pid_running "$pid" || t_group_running "$pid"; } &&
        [ "$left" -gt 0 ]; do
        sleep 0.1
        left=$((left - 1))
    done
    rm -f "$T/.bg/$name.pid"
    ! t_pid_running "$pid" && ! t_group_running "$pid"
}

# --- waiting ----------------------------------------------------------------

# t_wait_for TIMEOUT CMD [ARG...]: run CMD every 0.1 s until it succeeds.
# CMD may be a shell function. Returns 1 after TIMEOUT seconds.
t_wait_for() {
    local left
    left=$(( $1 * 10 ))
    shift
    while :; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        [ "$left" -gt 0 ] || return 1
        sleep 0.1
        left=$((left - 1))
    done
}

# t_listen_addrs PORT: print the local address of every TCP listener on
# PORT, one a line (e.g. 127.0.0.1:8080, [::]:8080).
t_listen_addrs() {
    ss -Hltn "sport = :$1" 2>/dev/null | awk '{ print $4 }'
}

# t_loopback_only PORT: true when something listens on PORT and every
# listener is bound to 127.0.0.1.
t_loopback_only() {
    local addrs
    addrs=$(t_listen_addrs "$1")
    [ -n "$addrs" ] || return 1
    [ -z "$(printf '%s\n' "$addrs" | grep -v "^127\.0\.0\.1:$1\$")" ]
}

_t_listening() {
    t_listen_addrs "$2" | grep -qx "$1:$2"
}

# t_wait_port HOST PORT [TIMEOUT]: wait until a TCP listener is bound to
# exactly HOST:PORT (an IPv4 address; a wildcard bind does not count).
t_wait_port() {
    t_wait_for "${3:-$T_TIMEOUT}" _t_listening "$1" "$2"
}

# t_wait_file PATH [TIMEOUT]: wait until PATH exists (file, dir or socket).
t_wait_file() {
    t_wait_for "${2:-$T_TIMEOUT}" test -e "$1"
}

# t_wait_log NAME TEXT [TIMEOUT]: wait until $T/NAME.log contains TEXT.
t_wait_log() {
    t_wait_for "${3:-$T_TIMEOUT}" grep -qF -- "$2" "$T/$1.log"
}

# --- ports ------------------------------------------------------------------
#
# A free port is only free until someone binds it, and other test runs share
# this machine. So a port is (1) drawn at random outside the kernel's
# ephemeral range, where outgoing connections never land; (2) reserved by
# hard-linking a file holding our PID into a shared lock dir (link(2) is
# atomic and fails if the name exists), so concurrent runs never pick the
# same one; (3) checked unused with ss. Reservations are released at exit;
# ones left by dead runs are pruned at t_init.

_t_port_lockdir() {
    local d
    d=${T_PORT_LOCKDIR:-/tmp/onebox-test-ports}
    [ -d "$d" ] || mkdir -m 1777 "$d" 2>/dev/null || :
    if [ ! -w "$d" ]; then
        d="$d-$(id -u)"
        [ -d "$d" ] || mkdir -m 0700 "$d" 2>/dev/null || :
    fi
    printf '%s\n' "$d"
}

_t_port_prune() {
    local d f pid
    d=$(_t_port_lockdir)
    for f in $(find "$d" -maxdepth 1 -type f -mmin +10 2>/dev/null); do
        pid=$(cat "$f" 2>/dev/null)
        case $pid in
        '' | *[!0-9]*) ;;
        *) [ -d "/proc/$pid" ] || rm -f "$f" ;;
        esac
    done
}

_t_port_lock() {
    local tmp
    tmp="$1/.$$.$2"
    echo "$$" >"$tmp" || return 1
    if ln "$tmp" "$1/$2" 2>/dev/null; then
        rm -f "$tmp"
        return 0
    fi
    rm -f "$tmp"
    return 1
}

# t_free_port: print a TCP port free on 127.0.0.1 and reserved for this test
# until it exits. Use as: port=$(t_free_port).
t_free_port() {
    local r lo hi a b d n p tries
    # Not `read <file`: dash reads a byte at a time, and this /proc file
    # answers a read at a non-zero offset with EOF.
    r=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    set -- $r
    lo=${1:-32768}
    hi=${2:-60999}
    if [ "$lo" -gt 12000 ]; then
        a=10000
        b=$((lo - 1))
    else
        a=$((hi + 1))
        b=65000
    fi
    d=$(_t_port_lockdir)
    tries=0
    while [ "$tries" -lt 500 ]; do
        tries=$((tries + 1))
        n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        p=$((a + n % (b - a + 1)))
        _t_port_lock "$d" "$p" || continue
        if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
            echo "$p" >>"$T/.ports"
            echo "$p"
            return 0
        fi
        rm -f "$d/$p"
    done
    echo "t_free_port: no free port found" >&2
    return 1
}

_t_port_release() {
    local d p
    d=$(_t_port_lockdir)
    while read -r p; do
        [ -n "$p" ] || continue
        if [ "$(cat "$d/$p" 2>/dev/null)" = "$$" ]; then
            rm -f "$d/$p"
        fi
    done <"$T/.ports"
}

# --- assertions -------------------------------------------------------------

_t_pass() {
    _T_NUM=$((_T_NUM + 1))
    _T_PASS=$((_T_PASS + 1))
    printf 'ok %d - %s\n' "$_T_NUM" "$1"
}

_t_fail() {
    _T_NUM=$((_T_NUM + 1))
    _T_FAIL=$((_T_FAIL + 1))
    printf 'not ok %d - %s\n' "$_T_NUM" "$1"
}

# Show the tail of a failed command's output, indented as TAP diagnostics.
_t_show_output() {
    [ -s "$T/.out" ] || return 0
    tail -n 15 "$T/.out" | sed 's/^/#   /' >&2
}

# t_ok DESC [CMD ARG...]: passes when CMD exits 0. Without CMD, records a
# pass (after a check the test did itself).
t_ok() {
    local desc
    desc=$1
    shift
    if [ $# -eq 0 ]; then
        _t_pass "$desc"
        return 0
    fi
    if "$@" >"$T/.out" 2>&1; then
        _t_pass "$desc"
        return 0
    fi
    _t_fail "$desc"
    t_log "  command failed: $*"
    _t_show_output
    return 1
}

# t_fail DESC [CMD ARG...]: passes when CMD exits non-zero (a refusal the
# test expects). Without CMD, records a failure.
t_fail() {
    local desc
    desc=$1
    shift
    if [ $# -eq 0 ]; then
        _t_fail "$desc"
        return 1
    fi
    if "$@" >"$T/.out" 2>&1; then
        _t_fail "$desc"
        t_log "  command succeeded but should have failed: $*"
        _t_show_output
        return 1
    fi
    _t_pass "$desc"
    return 0
}

# t_eq DESC EXPECTED ACTUAL
t_eq() {
    if [ "$2" = "$3" ]; then
        _t_pass "$1"
        return 0
    fi
    _t_fail "$1"
    t_log "  expected: $2"
    t_log "  got:      $3"
    return 1
}

# t_contains DESC HAYSTACK NEEDLE: NEEDLE is a fixed string.
t_contains() {
    case $2 in
    *"$3"*)
        _t_pass "$1"
        return 0
        ;;
    esac
    _t_fail "$1"
    t_log "  missing: $3"
    printf '%s\n' "$2" | tail -n 15 | sed 's/^/#   /' >&2
    return 1
}

# t_not_contains DESC HAYSTACK NEEDLE (e.g. a secret must not be in a log).
t_not_contains() {
    case $2 in
    *"$3"*)
        _t_fail "$1"
        t_log "  unexpectedly present: $3"
        return 1
        ;;
    esac
    _t_pass "$1"
    return 0
}

_t_summary() {
    printf '%d passed, %d failed\n' "$_T_PASS" "$_T_FAIL"
}

# t_done: stop everything, print `N passed, N failed` as the very last line
# and exit (1 if anything failed).
t_done() {
    _T_DONE=1
    _t_cleanup
    _t_summary
    [ "$_T_FAIL" -eq 0 ] || exit 1
    exit 0
}

# t_skip REASON: the test cannot run here (say why); exits 77, which
# tests/run.sh counts as skipped.
t_skip() {
    _T_DONE=1
    _t_cleanup
    printf 'skip: %s\n' "$*"
    _t_summary
    exit 77
}

# t_bail REASON: setup failed and nothing more can be checked: record a
# failure and end as t_done does.
t_bail() {
    _t_fail "$*"
    t_done
}

# --- cleanup ----------------------------------------------------------------

# On failure, the logs CI would otherwise lose: the background processes'
# output and the servers' own logs (not access logs or openssl chatter).
_t_dump_logs() {
    local f
    for f in "$T"/*.log "$T"/*/*.log; do
        case $f in
        */access.log | *.openssl.log) continue ;;
        esac
        [ -s "$f" ] || continue
        t_log "---- tail of $f"
        tail -n 20 "$f" | sed 's/^/#   /' >&2
    done
}

# Runs once, on the way out: the script is ending, so `set -e` is dropped.
_t_cleanup() {
    local name
    [ "$_T_CLEANED" -eq 0 ] || return 0
    _T_CLEANED=1
    set +eu
    [ -n "${T:-}" ] && [ -d "$T" ] || return 0
    # Stop in reverse start order: front ends before the back ends they use.
    for name in $(tac "$T/.bg/order" 2>/dev/null); do
        t_stop "$name" 5 || t_log "could not stop $name"
    done
    _t_port_release
    [ "$_T_FAIL" -eq 0 ] || _t_dump_logs
    if [ "${KEEP:-0}" = 1 ]; then
        t_log "kept $T"
    else
        rm -rf "$T"
    fi
}

# No `local` before reading $?: `local` itself resets it.
_t_on_exit() {
    _t_rc=$?
    set +eu
    if [ "$_T_DONE" -eq 0 ]; then
        _t_fail "test script ended before t_done (status $_t_rc)"
        [ "$_t_rc" -ne 0 ] || _t_rc=1
        _t_cleanup
        _t_summary
    fi
    _t_cleanup
    exit "$_t_rc"
}

_t_on_signal() {
    set +eu
    t_log "interrupted"
    exit "$1"
}
