#!/usr/bin/env bash
# `make run`: starts the whole onebox stack in the foreground on its embedded
# defaults — onebox-syncd, onebox-realtime, onebox-api (FastCGI on a Unix
# socket) and a private nginx in front — prints where each part listens, and
# stops all of them (by PID) on Ctrl-C or SIGTERM, or when any one dies.
#
# Everything lives under ./var (ONEBOX_DATA_DIR to move it); every setting
# can be overridden by a config file (ONEBOX_CONFIG) or ONEBOX_* variables.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src" || exit 1
bin=${ONEBOX_RUN_BIN:-$src/build/bin}

export ONEBOX_DATA_DIR=${ONEBOX_DATA_DIR:-$src/var}
export ONEBOX_CATEGORIES_FILE=${ONEBOX_CATEGORIES_FILE:-$src/contrib/categories.rules}
run=${ONEBOX_RUN_DIR:-$ONEBOX_DATA_DIR/run}
export ONEBOX_RUN_DIR=$run
http=${ONEBOX_HTTP_LISTEN:-127.0.0.1:8080}
ws_host=${ONEBOX_WS_HOST:-127.0.0.1}
ws_port=${ONEBOX_WS_PORT:-5001}
mkdir -p "$run/nginx-tmp" "$ONEBOX_DATA_DIR/log"
chmod 0750 "$ONEBOX_DATA_DIR" "$run"

pids=()
names=()
stopping=0

stop_all() {
    stopping=1
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[$i]}" 2>/dev/null
    done
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        local n=0
        while kill -0 "${pids[$i]}" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            echo "run: ${names[$i]} did not stop; killing it" >&2
            kill -KILL "${pids[$i]}" 2>/dev/null
        fi
        wait "${pids[$i]}" 2>/dev/null
    done
}
trap 'echo; echo "run: stopping"; stop_all; exit 0' INT TERM

start() {   # start NAME CMD...: output to the terminal (every log line names its process)
    local name=$1; shift
    "$@" &
    pids+=($!)
    names+=("$name")
}

wait_for() {   # wait_for DESCRIPTION TEST...
    local what=$1; shift
    for _ in $(seq 1 100); do "$@" && return 0; sleep 0.1; done
    echo "run: $what did not come up; see the log above" >&2
    stop_all
    exit 1
}

for b in onebox-syncd onebox-realtime onebox-api; do
    [ -x "$bin/$b" ] || { echo "run: $bin/$b is missing: run 'make' first" >&2; exit 1; }
done

start syncd "$bin/onebox-syncd"
wait_for "onebox-syncd (sync.sock)" test -S "$run/sync.sock"
start realtime "$bin/onebox-realtime"
wait_for "onebox-realtime (events.sock)" test -S "$run/events.sock"
start api "$bin/onebox-api"
wait_for "onebox-api (api.sock)" test -S "$run/api.sock"

# As root, nginx workers would drop to nobody and lose access to the 0660
# FastCGI socket; this private instance keeps the invoking user instead.
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
sed -e "s|@USER_LINE@|$user_line|" -e "s|@RUN@|$run|g" -e "s|@SRC@|$src|g" -e "s|@HTTP_LISTEN@|$http|g" \
    -e "s|@API_SOCK@|$run/api.sock|g" -e "s|@WS_ADDR@|$ws_host:$ws_port|g" \
    contrib/run/nginx.conf.in > "$run/nginx.conf"
start nginx /usr/sbin/nginx -p "$run" -c "$run/nginx.conf" -e "$run/nginx-error.log"
wait_for "nginx on $http" test -s "$run/nginx.pid"

if [ -x contrib/demo.sh ] && [ "${ONEBOX_DEMO:-1}" = 1 ]; then
    start demo contrib/demo.sh
fi

cat <<MSG

onebox is running:
  web page + REST API   http://$http/            (nginx -> FastCGI $run/api.sock)
  WebSocket             ws://$ws_host:$ws_port/ws  (also ws://$http/ws through nginx)
  sync control          $run/sync.sock
  event socket          $run/events.sock
  data                  $ONEBOX_DATA_DIR
Press Ctrl-C to stop.

MSG

# Stay in the foreground until a part exits; then take the rest down.
while :; do
    wait -n "${pids[@]}" 2>/dev/null
    [ $stopping -eq 1 ] && exit 0
    for i in "${!pids[@]}"; do
        if ! kill -0 "${pids[$i]}" 2>/dev/null; then
            echo "run: ${names[$i]} exited; stopping the others" >&2
            stop_all
            exit 1
        fi
    done
done
