#!/usr/bin/env bash
# `make run` as a new user meets it: contrib/run.sh starts onebox-syncd,
# onebox-realtime, onebox-api and a private nginx on their defaults (moved
# to free ports and a temp data dir here), says where each listens, serves
# the test page and the API through nginx, binds only 127.0.0.1, and on
# SIGTERM stops every part with no orphan left and no sanitizer report.
set -u
. "$ONEBOX_SRC/tests/lib/common.sh"
t_init make_run

http_port=$(t_free_port)
ws_port=$(t_free_port)
export ONEBOX_DATA_DIR="$T/var"
export ONEBOX_HTTP_LISTEN="127.0.0.1:$http_port"
export ONEBOX_WS_PORT=$ws_port
export ONEBOX_RUN_BIN="$ONEBOX_BIN"
export ONEBOX_DEMO=0

t_bg run bash "$ONEBOX_SRC/contrib/run.sh"
t_ok "the stack says it is running" t_wait_log run "onebox is running" 60
t_ok "nginx listens on 127.0.0.1:$http_port only" t_loopback_only "$http_port"
t_ok "onebox-realtime listens on 127.0.0.1:$ws_port only" t_loopback_only "$ws_port"
for s in api.sock sync.sock events.sock; do
    t_ok "$s exists" test -S "$T/var/run/$s"
done
t_ok "the data dir is private (0750)" test "$(stat -c %a "$T/var")" = 750
t_ok "keys were made 0600" test "$(stat -c %a "$T/var/jwt.key" 2>/dev/null)" = 600

health=$(curl -sS --max-time 10 "http://127.0.0.1:$http_port/api/health")
t_contains "GET /api/health through nginx answers the success envelope" "$health" '"success":true'
page=$(curl -sS --max-time 10 "http://127.0.0.1:$http_port/")
t_contains "nginx serves the test page" "$page" 'id="connect"'
js=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/onebox.js")
t_eq "nginx serves /onebox.js" 200 "$js"
ws=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ws_port/health")
t_eq "onebox-realtime answers GET /health" 200 "$ws"

# Every process the launcher started, before the stop.
kids=$(ps -o pid= --ppid "$(t_pid run)" | tr -d ' ')
all=$kids
for k in $kids; do all="$all $(ps -o pid= --ppid "$k" | tr -d ' ')"; done
t_ok "SIGTERM stops the stack" t_stop run 30
left=""
for p in $all; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
t_eq "no process of the stack is left" "" "$left"
t_ok "sockets are gone or dead" sh -c "! socat -u OPEN:/dev/null UNIX-CONNECT:$T/var/run/sync.sock 2>/dev/null"
log=$(cat "$T/run.log")
t_not_contains "no AddressSanitizer report" "$log" "AddressSanitizer"
t_not_contains "no UndefinedBehaviorSanitizer report" "$log" "runtime error:"
t_not_contains "no leak report" "$log" "LeakSanitizer"
t_done
