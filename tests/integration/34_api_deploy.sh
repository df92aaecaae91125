#!/bin/bash
# 34_api_deploy: how onebox-api is run, and its threads.
#   - under spawn-fcgi on a Unix socket (fd 0 detected as the FastCGI
#     listening socket) and on TCP 127.0.0.1 with api_listen "-";
#   - refusing to steal a socket path another live responder holds;
#   - many concurrent requests over cfg.api_threads workers, all answered;
#   - SIGTERM with a request in flight: that request is answered, then the
#     process exits 0 with nothing leaked (ASan) and its socket file gone.
. "$ONEBOX_SRC/tests/lib/common.sh"
. "$ONEBOX_SRC/tests/lib/nginx.sh"
t_init api_deploy

TOOLS=$ONEBOX_TOOLS
DATA=$T/data
export ONEBOX_DATA_DIR=$DATA ONEBOX_API_THREADS=4
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
mkdir -p "$DATA/run"
ENV() { "$TOOLS/api_json" envelope "$T/r.json" 2>&1; }
get() { S=$(curl -s --max-time 20 -o "$T/r.json" -w '%{http_code}' "$@"); }

# --- spawn-fcgi, Unix socket, fd 0 -----------------------------------------------------
t_bg spawn spawn-fcgi -n -s "$T/sp.sock" -M 0660 -- "$ONEBOX_BIN/onebox-api"
t_wait_log spawn "listening on the FastCGI socket passed as fd 0" || t_bail "onebox-api under spawn-fcgi did not start"
t_ok "spawn-fcgi socket is 0660" test "$(stat -c %a "$T/sp.sock")" = 660
nginx_start "unix:$T/sp.sock" || t_bail "nginx did not start"
get "http://127.0.0.1:$NGINX_PORT/api/health"
t_eq "health under spawn-fcgi" "200 ok" "$S $(ENV)"
nginx_stop
t_stop spawn
t_contains "spawn-fcgi run stopped cleanly" "$(cat "$T/spawn.log")" "stopped"
t_not_contains "spawn-fcgi run: no sanitizer report" "$(cat "$T/spawn.log")" "Sanitizer"

# --- spawn-fcgi on TCP, api_listen "-" ----------------------------------------------------
P=$(t_free_port)
ONEBOX_API_LISTEN=- t_bg spawntcp spawn-fcgi -n -a 127.0.0.1 -p "$P" -- "$ONEBOX_BIN/onebox-api"
t_wait_port 127.0.0.1 "$P" || t_bail "spawn-fcgi did not listen on $P"
t_wait_log spawntcp "passed as fd 0" || t_bail "onebox-api did not take fd 0"
nginx_start "127.0.0.1:$P" || t_bail "nginx did not start"
get "http://127.0.0.1:$NGINX_PORT/api/health"
t_eq "health over TCP from spawn-fcgi" "200 ok" "$S $(ENV)"
nginx_stop
t_stop spawntcp
t_not_contains "TCP run: no sanitizer report" "$(cat "$T/spawntcp.log")" "Sanitizer"

# api_listen "-" without a socket on fd 0 is a start-up error, not a hang.
ONEBOX_API_LISTEN=- t_fail "api_listen '-' without a listening fd 0 fails" \
    timeout 20 "$ONEBOX_BIN/onebox-api"

# --- own Unix socket; a second instance must not steal it ------------------------------------
t_bg api "$ONEBOX_BIN/onebox-api"
t_wait_file "$DATA/run/api.sock" || t_bail "onebox-api did not listen"
t_ok "api.sock is 0660" test "$(stat -c %a "$DATA/run/api.sock")" = 660
t_fail "a second instance refuses the live socket" timeout 20 "$ONEBOX_BIN/onebox-api"
t_ok "the first instance still runs" t_alive api
nginx_start "unix:$DATA/run/api.sock" || t_bail "nginx did not start"
B="http://127.0.0.1:$NGINX_PORT"

# --- concurrency over the worker threads ---------------------------------------------------------
pids=
for i in $(seq 1 8); do
    curl -s --max-time 60 -o "$T/reg$i.json" -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
        --data-binary "{\"email\":\"u$i@example.com\",\"password\":\"TestPassword123\"}" "$B/api/user/register" >"$T/reg$i.code" &
    pids="$pids $!"
done
for i in $(seq 1 40); do
    curl -s --max-time 60 -o /dev/null -w '%{http_code}\n' "$B/api/health" >"$T/h$i.code" &
    pids="$pids $!"
done
# only the curls: a bare `wait` would also wait for the daemons
for p in $pids; do wait "$p"; done
t_eq "8 concurrent registrations all created" "201 201 201 201 201 201 201 201" "$(cat "$T"/reg*.code | tr '\n' ' ' | sed 's/ $//')"
t_eq "40 concurrent health checks all answered" 40 "$(cat "$T"/h*.code | grep -c '^200$')"
ids=$(for i in $(seq 1 8); do "$TOOLS/api_json" get "$T/reg$i.json" .data.user.id; done | sort -u | wc -l)
t_eq "8 distinct user ids" 8 "$ids"

# --- SIGTERM with a request in flight -----------------------------------------------------------
# A sync.sock peer that never answers holds a request for the 2 s sync timeout.
curl -s -X POST -H 'Content-Type: application/json' \
    --data-binary '{"email":"u1@example.com","password":"TestPassword123"}' "$B/api/user/login" >"$T/l.json"
TOK=$("$TOOLS/api_json" get "$T/l.json" .data.token)
U1=$("$TOOLS/api_json" get "$T/l.json" .data.user.id)
t_bg hang socat "UNIX-LISTEN:$DATA/run/sync.sock,fork,mode=600" SYSTEM:"echo connected >>$T/peer.log; sleep 30"
t_wait_file "$DATA/run/sync.sock" || t_bail "hanging peer did not listen"
curl -s --max-time 30 -o "$T/inflight.json" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    "$B/api/sync/status/$U1" >"$T/inflight.code" &
CURL=$!
t_wait_file "$T/peer.log" 10 || t_fail "the request did not reach the sync.sock peer"
kill -TERM "$(t_pid api)"
wait "$CURL"
t_eq "the in-flight request was answered (503 from the timeout)" 503 "$(cat "$T/inflight.code")"
t_eq "with the error envelope" "error unavailable" "$("$TOOLS/api_json" envelope "$T/inflight.json" 2>&1)"
t_wait_for 20 sh -c "! kill -0 $(t_pid api) 2>/dev/null"
t_ok "onebox-api exited after SIGTERM" sh -c "! kill -0 $(t_pid api) 2>/dev/null"
wait "$(t_pid api)" 2>/dev/null
t_contains "clean stop logged" "$(cat "$T/api.log")" "stopped"
t_not_contains "no sanitizer or leak report" "$(cat "$T/api.log")" "Sanitizer"
t_fail "its socket file is removed" test -e "$DATA/run/api.sock"
t_stop hang
t_done
