#!/bin/bash
# 33_api_sync: the sync routes of onebox-api, forwarded over sync.sock,
# through nginx.
#   Part 1, a scripted sync.sock peer (socat + a shell script) that records
#     each request line and answers as told: a peer that never answers and
#     one that answers garbage both give 503 (never a hang); syncd's
#     not_found/bad_request/internal map to 404/400/500; ok replies give the
#     seed 001 shapes ({status, isArray}, the clients object); start and stop
#     publish durable sync_status events on events.sock.
#   Part 2, the real onebox-syncd (when built): start, status, clients, stop
#     against an account whose IMAP server is down, then syncd gone -> 503.
. "$ONEBOX_SRC/tests/lib/common.sh"
. "$ONEBOX_SRC/tests/lib/nginx.sh"
t_init api_sync

TOOLS=$ONEBOX_TOOLS
DATA=$T/data
SOCK=$DATA/run/sync.sock
export ONEBOX_DATA_DIR=$DATA ONEBOX_ADMIN_EMAIL=admin@example.com ONEBOX_API_THREADS=3
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
mkdir -p "$DATA/run"

t_bg evtap "$TOOLS/ev_tap" "$DATA/run/events.sock"
t_wait_file "$DATA/run/events.sock" || t_bail "ev_tap did not listen"
t_bg api "$ONEBOX_BIN/onebox-api"
t_wait_file "$DATA/run/api.sock" || t_bail "onebox-api did not listen"
nginx_start "unix:$DATA/run/api.sock" || t_bail "nginx did not start"
B="http://127.0.0.1:$NGINX_PORT"

req() { # METHOD PATH [TOKEN] [BODY]
    set -- -s --max-time 20 -o "$T/r.json" -D "$T/r.h" -w '%{http_code}' -X "$1" "$B$2" \
        ${3:+-H "Authorization: Bearer $3"} ${4:+-H "Content-Type: application/json" --data-binary "$4"}
    S=$(curl "$@")
}
J() { "$TOOLS/api_json" get "$T/r.json" "$1" 2>/dev/null; }
ENV() { "$TOOLS/api_json" envelope "$T/r.json" 2>&1; }
login() {
    curl -s -X POST -H 'Content-Type: application/json' \
        --data-binary "{\"email\":\"$1\",\"password\":\"TestPassword123\"}" "$B/api/user/$2" >"$T/l.json"
}
for u in a@example.com b@example.com admin@example.com; do login "$u" register; done
login a@example.com login; TA=$("$TOOLS/api_json" get "$T/l.json" .data.token); A=$("$TOOLS/api_json" get "$T/l.json" .data.user.id)
login b@example.com login; TB=$("$TOOLS/api_json" get "$T/l.json" .data.token)
login admin@example.com login; TADM=$("$TOOLS/api_json" get "$T/l.json" .data.token)
t_ok "three users logged in" test -n "$TA" -a -n "$TB" -a -n "$TADM"
req POST /api/accounts "$TA" '{"email":"a1@example.com","imapHost":"127.0.0.1","imapPort":'"$(t_free_port)"',"security":"plain","password":"pw-1"}'
t_eq "account a1" 201 "$S"
req POST /api/accounts "$TA" '{"email":"a2@example.com","imapHost":"127.0.0.1","imapPort":'"$(t_free_port)"',"security":"plain","password":"pw-2"}'
t_eq "account a2" 201 "$S"

# --- part 1: a scripted sync.sock peer -------------------------------------------------
# $T/mode picks the answer: hang | garbage | not_found | bad_request | internal | ok
cat >"$T/fake_syncd.sh" <<'EOF'
#!/bin/bash
IFS= read -r line || exit 0
printf '%s\n' "$line" >>"$FAKE_DIR/ctl.log"
mode=$(cat "$FAKE_DIR/mode")
op=$(printf '%s' "$line" | sed -n 's/.*"op":"\([a-z]*\)".*/\1/p')
user=$(printf '%s' "$line" | sed -n 's/.*"user":"\([^"]*\)".*/\1/p')
case $mode in
hang) sleep 30 ;;
garbage) echo 'this is not json' ;;
not_found|bad_request|internal)
    printf '{"ok":false,"error":{"code":"%s","message":"scripted %s"}}\n' "$mode" "$mode" ;;
ok)
    case $op in
    clients) echo '{"ok":true,"data":{"activeClients":["u_1"],"activeEmailAccounts":[{"userId":"u_1","email":"x@example.com"}],"clientCount":1,"emailAccountCount":1}}' ;;
    stop) st=stopped ;;
    *) st=syncing ;;
    esac
    [ "$op" = clients ] || printf '{"ok":true,"data":{"status":[{"userId":"%s","email":"a1@example.com","status":"%s","lastSync":null},{"userId":"%s","email":"a2@example.com","status":"idle","lastSync":"2026-01-01T00:00:00.000Z"}]}}\n' "$user" "$st" "$user" ;;
esac
EOF
export FAKE_DIR=$T
echo hang >"$T/mode"
t_bg fakesyncd socat "UNIX-LISTEN:$SOCK,fork,mode=600" EXEC:"bash $T/fake_syncd.sh"
t_wait_file "$SOCK" || t_bail "fake syncd did not listen"

req GET "/api/sync/status/$A" "$TA"
t_eq "a peer that never answers: 503, not a hang" "503 error unavailable" "$S $(ENV)"
echo garbage >"$T/mode"
req GET "/api/sync/status/$A" "$TA"
t_eq "a peer that answers garbage: 503" "503 error unavailable" "$S $(ENV)"
echo not_found >"$T/mode"
req GET "/api/sync/status/$A?email=a1%40example.com" "$TA"
t_eq "syncd not_found -> 404" "404 error not_found" "$S $(ENV)"
echo bad_request >"$T/mode"
req GET "/api/sync/status/$A" "$TA"
t_eq "syncd bad_request -> 400" "400 error bad_request" "$S $(ENV)"
echo internal >"$T/mode"
req GET "/api/sync/status/$A" "$TA"
t_eq "syncd internal -> 500" "500 error internal_error" "$S $(ENV)"

echo ok >"$T/mode"
: >"$T/ctl.log"
req GET "/api/sync/status/$A" "$TA"
t_eq "status all" "200 ok" "$S $(ENV)"
t_eq "status all: isArray" true "$(J .data.isArray)"
t_eq "status all: two accounts" 2 "$("$TOOLS/api_json" len "$T/r.json" .data.status)"
t_eq "status entry fields" "email lastSync status userId" "$("$TOOLS/api_json" keys "$T/r.json" '.data.status[0]')"
t_contains "request line: status op with the user" "$(tail -n 1 "$T/ctl.log")" "\"op\":\"status\""
t_contains "request line: user" "$(tail -n 1 "$T/ctl.log")" "\"user\":\"$A\""
req GET "/api/sync/status/$A?email=a2%40example.com" "$TA"
t_eq "status one" "200 ok" "$S $(ENV)"
t_eq "status one: isArray false" false "$(J .data.isArray)"
t_eq "status one: the object" "a2@example.com idle" "$(J .data.status.email) $(J .data.status.status)"
t_contains "request line carries the email" "$(tail -n 1 "$T/ctl.log")" '"email":"a2@example.com"'
req GET "/api/sync/status/$A?email=zz%40example.com" "$TA"
t_eq "status of an account syncd does not report: 404" "404 error not_found" "$S $(ENV)"
req GET "/api/sync/status/$A" "$TADM"
t_eq "admin reads A's status" "200 ok" "$S $(ENV)"
req GET "/api/sync/status/$A" "$TB"
t_eq "B reads A's status" "403 error forbidden" "$S $(ENV)"

n0=$(wc -l <"$T/evtap.log")
req POST "/api/sync/start/$A/a1%40example.com" "$TA"
t_eq "start" "200 ok" "$S $(ENV)"
t_eq "start: isArray false" false "$(J .data.isArray)"
t_eq "start: the account's status" "a1@example.com syncing" "$(J .data.status.email) $(J .data.status.status)"
t_contains "start request line" "$(tail -n 1 "$T/ctl.log")" '"op":"start"'
t_wait_for 10 sh -c "tail -n +$((n0 + 1)) '$T/evtap.log' | grep -q sync_status"
EV=$(tail -n +$((n0 + 1)) "$T/evtap.log" | grep sync_status | head -n 1)
t_contains "start published sync_status" "$EV" '"type":"sync_status"'
t_contains "sync_status: syncing" "$EV" '"status":"syncing"'
t_contains "sync_status: the account" "$EV" '"email":"a1@example.com"'
t_contains "sync_status: durable (id)" "$EV" '"id":'
t_contains "sync_status: to user A" "$EV" "\"user\":\"$A\""
t_contains "sync_status: timestamp" "$EV" '"timestamp":'
req POST "/api/sync/start/$A/a1%40example.com" "$TB"
t_eq "B starts A's account" "403 error forbidden" "$S $(ENV)"
req POST "/api/sync/start/$A/a1%40example.com" "$TADM"
t_eq "admin starts A's account" "200 ok" "$S $(ENV)"

n0=$(wc -l <"$T/evtap.log")
req POST "/api/sync/stop/$A" "$TA" '{"email":"a1@example.com"}'
t_eq "stop one" "200 ok" "$S $(ENV)"
t_eq "stop one: object" "false stopped" "$(J .data.isArray) $(J .data.status.status)"
t_contains "stop request line" "$(tail -n 1 "$T/ctl.log")" '"op":"stop"'
t_wait_for 10 sh -c "tail -n +$((n0 + 1)) '$T/evtap.log' | grep -q stopped"
t_contains "stop published sync_status stopped" "$(tail -n +$((n0 + 1)) "$T/evtap.log")" '"status":"stopped"'
req POST "/api/sync/stop/$A" "$TA"
t_eq "stop all (no body)" "200 ok" "$S $(ENV)"
t_eq "stop all: isArray" true "$(J .data.isArray)"
t_not_contains "stop all sends no email" "$(tail -n 1 "$T/ctl.log")" '"email"'
req POST "/api/sync/stop/$A" "$TA" '{}'
t_eq "stop all ({} body)" "200 ok" "$S $(ENV)"
req POST "/api/sync/stop/$A" "$TA" '{"email":"zz@example.com"}'
t_eq "stop an account A does not have" "404 error not_found" "$S $(ENV)"

req GET /api/sync/clients "$TADM"
t_eq "clients" "200 ok" "$S $(ENV)"
t_eq "clients fields" "activeClients activeEmailAccounts clientCount emailAccountCount" "$("$TOOLS/api_json" keys "$T/r.json" .data)"
req GET /api/sync/clients "$TA"
t_eq "clients as a user" "403 error forbidden" "$S $(ENV)"
req GET /api/health
t_eq "health sees syncd up" "ok up" "$(J .data.status) $(J .data.syncd)"
t_stop fakesyncd
rm -f "$SOCK"

# --- part 2: the real onebox-syncd ----------------------------------------------------------
if [ -x "$ONEBOX_BIN/onebox-syncd" ]; then
    t_bg syncd "$ONEBOX_BIN/onebox-syncd"
    if t_wait_file "$SOCK" 30; then
        req GET "/api/sync/status/$A" "$TA"
        t_eq "real syncd: status all" "200 ok" "$S $(ENV)"
        t_eq "real syncd: both accounts" 2 "$("$TOOLS/api_json" len "$T/r.json" .data.status)"
        req POST "/api/sync/start/$A/a1%40example.com" "$TA"
        t_eq "real syncd: start" "200 ok" "$S $(ENV)"
        t_eq "real syncd: start answers for a1" a1@example.com "$(J .data.status.email)"
        st=$(J .data.status.status)
        case $st in idle|syncing|error) t_ok "real syncd: state after start ($st)" ;; *) t_fail "real syncd: state after start ($st)" ;; esac
        req GET "/api/sync/status/$A?email=a1%40example.com" "$TA"
        t_eq "real syncd: status one" "200 false" "$S $(J .data.isArray)"
        req GET /api/sync/clients "$TADM"
        t_eq "real syncd: clients" "200 ok" "$S $(ENV)"
        t_eq "real syncd: clients fields" "activeClients activeEmailAccounts clientCount emailAccountCount" \
            "$("$TOOLS/api_json" keys "$T/r.json" .data)"
        req POST "/api/sync/stop/$A" "$TA" '{"email":"a1@example.com"}'
        t_eq "real syncd: stop" "200 ok" "$S $(ENV)"
        t_eq "real syncd: stopped" stopped "$(J .data.status.status)"
        req POST "/api/sync/start/$A/zz%40example.com" "$TA"
        t_eq "real syncd: start an unknown account" "404 error not_found" "$S $(ENV)"
        # the API keeps sync.sock connections open: a restarted syncd must
        # not cost a failed request (the stale one is replaced and retried)
        t_stop syncd
        t_bg syncd2 "$ONEBOX_BIN/onebox-syncd"
        t_wait_file "$SOCK" 30
        t_wait_log syncd2 "listening on" 30
        req GET "/api/sync/status/$A" "$TA"
        t_eq "real syncd restarted: kept connections replaced" "200 ok" "$S $(ENV)"
        t_stop syncd2
        t_not_contains "real syncd: no sanitizer report" "$(cat "$T/syncd.log" "$T/syncd2.log")" "Sanitizer"
        req GET "/api/sync/status/$A" "$TA"
        t_eq "syncd gone again: 503" "503 error unavailable" "$S $(ENV)"
    else
        t_fail "onebox-syncd did not open $SOCK"
    fi
else
    t_log "onebox-syncd not built: part 2 skipped"
fi

t_stop api
t_contains "clean stop" "$(cat "$T/api.log")" "stopped"
t_not_contains "no sanitizer report" "$(cat "$T/api.log")" "Sanitizer"
t_not_contains "no IMAP password in the log" "$(cat "$T/api.log")" "pw-1"
t_done
