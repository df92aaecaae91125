# tests/realtime/rt_lib.sh: shared steps of tests/integration/5x_realtime_*.sh.
# Sourced after tests/lib/common.sh (t_init done).
#
#   rt_npm                 installs tests/realtime's node modules (npm ci)
#   rt_start NAME [K=V..]  starts the ASan onebox-realtime as NAME with its
#                          own data dir $T/NAME and config overrides
#                          (ONEBOX_* variables); exports RT_PORT RT_KEY RT_DB
#                          RT_EVSOCK RT_DATA RT_SYNCSOCK for the Node scenarios
#   rt_restart NAME        stops NAME and starts it again, same port and data
#   rt_scenarios FILE [NAME..]  one t_ok per scenario of a Node suite
#   rt_sanitizer_clean NAME     t_ok: no ASan/UBSan/LSan report in NAME's log
# Public names start with `rt_`.

RT_DIR=${ONEBOX_SRC:-.}/tests/realtime
export RT_DIR
export EV_PUBLISH="${ONEBOX_TOOLS:-build/asan/tools}/ev_publish"

rt_npm() {
    if [ -f "$RT_DIR/node_modules/.package-lock.json" ] &&
        [ "$RT_DIR/node_modules/.package-lock.json" -nt "$RT_DIR/package-lock.json" ]; then
        return 0
    fi
    (cd "$RT_DIR" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) || {
        tail -n 20 "$T/npm.log" >&2
        return 1
    }
}

rt_start() {
    local name port
    name=$1
    shift
    port=${RT_PORT_FIXED:-}
    [ -n "$port" ] || port=$(t_free_port) || return 1
    RT_DATA="$T/$name"
    mkdir -p "$RT_DATA"
    RT_PORT=$port
    RT_KEY="$RT_DATA/jwt.key"
    RT_DB="$RT_DATA/onebox.db"
    RT_EVSOCK="$RT_DATA/run/events.sock"
    RT_SYNCSOCK="$RT_DATA/run/sync.sock"
    export RT_PORT RT_KEY RT_DB RT_EVSOCK RT_DATA RT_SYNCSOCK
    echo "$*" >"$T/.$name.env"
    t_bg "$name" env ONEBOX_DATA_DIR="$RT_DATA" ONEBOX_WS_PORT="$port" \
        ONEBOX_LOG_LEVEL="${RT_LOG_LEVEL:-info}" "$@" \
        ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}" \
        "$ONEBOX_BIN/onebox-realtime" || return 1
    t_wait_log "$name" "listening on ws://" || {
        tail -n 20 "$T/$name.log" >&2
        return 1
    }
    t_wait_port 127.0.0.1 "$port"
}

rt_restart() {
    local name
    name=$1
    t_stop "$name"
    mv "$T/$name.log" "$T/$name.$(date +%s%N).log"
    RT_PORT_FIXED=$RT_PORT rt_start "$name" $(cat "$T/.$name.env")
}

rt_scenarios() {
    local file s list
    file=$1
    shift
    if [ $# -gt 0 ]; then
        list="$*"
    else
        list=$(node "$RT_DIR/$file" --list)
    fi
    for s in $list; do
        t_ok "$file $s" node "$RT_DIR/$file" "$s"
    done
}

_rt_clean_log() {
    ! grep -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$@"
}

rt_sanitizer_clean() {
    t_ok "$1: no sanitizer report" _rt_clean_log "$T/$1".*log
}
