#!/bin/sh
# tests/integration/00_harness.sh: self-test of the integration harness
# (tests/lib). It runs first so that a broken harness is reported as such,
# not as a failure of whatever test happened to use it.
#
# Proves, against the real servers: the process registry and its cleanup
# (also when a test dies early or is killed); Dovecot over imap://,
# STARTTLS and imaps:// with the test CA (and refusal with other CAs),
# PLAIN and XOAUTH2 logins, wrong passwords refused, delivery (doveadm
# save and Maildir drop), IDLE
# notification, kick, SIGSTOP of a session, password change, UIDVALIDITY
# change; nginx and lighttpd serving static files, FastCGI (with the
# Authorization header) and the WebSocket upgrade, on 127.0.0.1 only; and
# that every server stops by its PID.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$LIB/nginx.sh"
. "$LIB/lighttpd.sh"

t_init harness
if [ "$(id -u)" -eq 0 ]; then
    t_log "running as root: Dovecot drops to $DOVECOT_RUN_USER"
else
    t_log "running as $(id -un)"
fi

# --- common.sh ---------------------------------------------------------------

p1=$(t_free_port)
p2=$(t_free_port)
distinct() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]; }
t_ok "t_free_port gives distinct ports" distinct "$p1" "$p2"

t_bg stubborn sh -c 'trap "" TERM; sleep 300 & echo ready; wait'
t_wait_log stubborn ready
stubborn=$(t_pid stubborn)
t_ok "t_stop kills a process that ignores SIGTERM" t_stop stubborn 1
t_fail "...and everything in its process group" t_group_running "$stubborn"

# A test that starts a server and then dies must not leave it running.
cat >"$T/child.sh" <<EOF
. "$LIB/common.sh"
t_init child
t_bg sleeper sleep 300
t_pid sleeper >"\$1"
echo "\$T" >"\$1.dir"
[ "\${2:-}" = wait ] || exit 3
while :; do sleep 0.1; done
EOF
KEEP=0 TMPDIR=$T sh "$T/child.sh" "$T/child1.pid" >"$T/child1.out" 2>&1
rc=$?
t_eq "a test that exits before t_done fails" 3 "$rc"
t_contains "...and still prints the summary" "$(cat "$T/child1.out")" "0 passed, 1 failed"
t_fail "...and its background process was stopped" kill -0 "$(cat "$T/child1.pid")"
t_fail "...and its temp dir removed" test -d "$(cat "$T/child1.pid.dir")"

KEEP=0 TMPDIR=$T sh "$T/child.sh" "$T/child2.pid" wait >"$T/child2.out" 2>&1 &
child=$!
t_wait_for "$T_TIMEOUT" test -s "$T/child2.pid.dir"
kill -TERM "$child"
wait "$child"
rc=$?
t_eq "a test killed with SIGTERM exits 143" 143 "$rc"
t_fail "...after stopping its background process" kill -0 "$(cat "$T/child2.pid")"

# --- Dovecot -----------------------------------------------------------------

t_ok "dovecot_start" dovecot_start || t_bail "Dovecot did not start"
pki_make_ca "$T/pki" other-ca
IMAP="imap://127.0.0.1:$DOVECOT_IMAP_PORT"
IMAPS="imaps://127.0.0.1:$DOVECOT_IMAPS_PORT"
t_ok "IMAP port bound to 127.0.0.1 only" t_loopback_only "$DOVECOT_IMAP_PORT"
t_ok "IMAPS port bound to 127.0.0.1 only" t_loopback_only "$DOVECOT_IMAPS_PORT"
t_eq "Dovecot runs as the unprivileged uid" "$DOVECOT_UID" \
    "$(stat -c %u "/proc/$(t_pid dovecot)")"

t_ok "dovecot_add_user alice" dovecot_add_user alice alice-pw-1
t_ok "dovecot_add_user bob (OAuth token as password)" \
    dovecot_add_user bob tok-bob-42

# curl_imap USER:PASS URL [curl options...]
curl_imap() {
    local cred url
    cred=$1
    url=$2
    shift 2
    curl -sS --max-time 30 --user "$cred" "$@" "$url"
}

out=$(curl_imap alice:alice-pw-1 "$IMAP/")
t_contains "LOGIN over imap:// lists INBOX" "$out" 'INBOX'
out=$(curl_imap alice:alice-pw-1 "$IMAP/" --ssl-reqd --cacert "$DOVECOT_CA")
t_contains "STARTTLS with the test CA" "$out" 'INBOX'
out=$(curl_imap alice:alice-pw-1 "$IMAPS/" --cacert "$DOVECOT_CA")
t_contains "imaps:// with the test CA" "$out" 'INBOX'
out=$(curl_imap alice:alice-pw-1 "imaps://localhost:$DOVECOT_IMAPS_PORT/" \
    --cacert "$DOVECOT_CA")
t_contains "imaps:// by name (SAN DNS:localhost)" "$out" 'INBOX'
t_fail "imaps:// refused with the system CAs" curl_imap alice:alice-pw-1 "$IMAPS/"
t_fail "imaps:// refused with an unrelated CA" \
    curl_imap alice:alice-pw-1 "$IMAPS/" --cacert "$T/pki/other-ca.crt"

curl_imap alice:wrong "$IMAP/" >/dev/null 2>&1
t_eq "wrong password refused (curl: login denied)" 67 "$?"

xoauth2=$(printf 'user=bob\001auth=Bearer tok-bob-42\001\001' | base64 | tr -d '\n')
out=$(printf 'a AUTHENTICATE XOAUTH2 %s\r\nb LOGOUT\r\n' "$xoauth2" |
    socat -t 10 - "TCP:127.0.0.1:$DOVECOT_IMAP_PORT,shut-none" 2>&1)
t_contains "XOAUTH2 with the token as password" "$out" 'a OK'
curl_imap bob: "$IMAP/" --oauth2-bearer wrong-token >/dev/null 2>&1
t_eq "a wrong bearer token is refused" 67 "$?"

printf 'From: Harness <h@example.com>\r\nTo: alice@example.com\r\nSubject: harness one\r\nDate: Mon, 1 Jan 2026 10:00:00 +0000\r\nMessage-ID: <h1@example.com>\r\n\r\nFirst body.\r\n' >"$T/m1.eml"
sed 's/harness one/harness two/; s/<h1@/<h2@/' "$T/m1.eml" >"$T/m2.eml"

t_ok "dovecot_append to INBOX" dovecot_append alice INBOX "$T/m1.eml"
out=$(curl_imap alice:alice-pw-1 "$IMAP/INBOX" -X 'SEARCH ALL')
t_contains "the message is listed" "$out" '* SEARCH 1'
out=$(curl_imap alice:alice-pw-1 "$IMAP/INBOX" -X 'FETCH 1 (FLAGS)')
t_not_contains "doveadm save leaves it unseen" "$out" 'Seen'
out=$(curl_imap alice:alice-pw-1 "$IMAP/INBOX;UID=1")
t_contains "its content is served" "$out" 'Subject: harness one'
t_ok "dovecot_append creates a missing mailbox" \
    dovecot_append alice Work "$T/m2.eml"
out=$(curl_imap alice:alice-pw-1 "$IMAP/")
t_contains "...which is listed" "$out" 'Work'

for i in 1 2 3; do
    sed "s/harness one/bulk $i/; s/<h1@/<b$i@/" "$T/m1.eml" >"$T/bulk$i.eml"
done
t_ok "dovecot_drop writes into a new mailbox" \
    dovecot_drop alice Bulk.Sub "$T/bulk1.eml" "$T/bulk2.eml" "$T/bulk3.eml"
out=$(curl_imap alice:alice-pw-1 "$IMAP/" -X 'STATUS Bulk.Sub (MESSAGES UNSEEN)')
t_contains "...and Dovecot serves the messages, unseen" "$out" 'MESSAGES 3 UNSEEN 3'

# An IDLE session kept open by a pipe that never ends.
idle_session() {
    t_bg "$1" sh -c "(printf 'a LOGIN alice $2\r\nb SELECT INBOX\r\nc IDLE\r\n'; exec sleep 600) | socat - TCP:127.0.0.1:$DOVECOT_IMAP_PORT"
}
idle_session idle1 alice-pw-1
t_ok "an IDLE session is established" t_wait_log idle1 '+ idling'
t_ok "dovecot_append notifies IDLE clients" dovecot_append alice INBOX "$T/m2.eml"
t_ok "...the session sees EXISTS" t_wait_log idle1 '* 2 EXISTS'

spid=$(dovecot_session_pids alice)
t_eq "dovecot_session_pids finds one imap process" imap \
    "$(cat "/proc/$spid/comm" 2>/dev/null)"
kill -STOP "$spid"
t_eq "SIGSTOP freezes it" T "$(sed 's/.*) //' "/proc/$spid/stat" | cut -c1)"
kill -CONT "$spid"
t_ok "dovecot_kick" dovecot_kick alice
t_ok "...the session gets BYE" t_wait_log idle1 '* BYE'
no_session() { [ -z "$(dovecot_session_pids "$1")" ]; }
t_ok "...and no session is left" t_wait_for 10 no_session alice

t_ok "dovecot_set_password" dovecot_set_password alice alice-pw-2
curl_imap alice:alice-pw-1 "$IMAP/" >/dev/null 2>&1
t_eq "the old password is refused" 67 "$?"
out=$(curl_imap alice:alice-pw-2 "$IMAP/")
t_contains "the new password works" "$out" 'INBOX'

uidvalidity() {
    curl_imap alice:alice-pw-2 "$IMAP/" -X 'EXAMINE INBOX' |
        sed -n 's/.*\[UIDVALIDITY \([0-9]*\)\].*/\1/p'
}
before=$(uidvalidity)
t_ok "UIDVALIDITY is readable over IMAP" [ -n "$before" ]
new=4242
[ "$before" != "$new" ] || new=4243
t_ok "dovecot_set_uidvalidity" dovecot_set_uidvalidity alice INBOX "$new"
t_eq "IMAP clients see the new UIDVALIDITY" "$new" "$(uidvalidity)"
t_eq "dovecot_uidvalidity agrees" "$new" "$(dovecot_uidvalidity alice INBOX)"

log=$(cat "$DOVECOT_LOG")
t_not_contains "passwords stay out of Dovecot's log" "$log" 'alice-pw-2'
t_not_contains "tokens stay out of Dovecot's log" "$log" 'tok-bob-42'

dpid=$(t_pid dovecot)
t_ok "dovecot_stop" dovecot_stop
t_fail "...no Dovecot process is left" t_group_running "$dpid"
t_eq "...and its ports are closed" "" \
    "$(t_listen_addrs "$DOVECOT_IMAP_PORT")$(t_listen_addrs "$DOVECOT_IMAPS_PORT")"

# --- fake back ends for the web servers ----------------------------------------

# A FastCGI "responder" that answers every request with a fixed
# FCGI_STDOUT + FCGI_END_REQUEST (request id 1, as nginx and lighttpd use)
# and records the request bytes. socat -T 1 closes each connection after a
# second of silence, because nginx waits for the close.
printf 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nfake-fcgi-ok\n' >"$T/fcgi.body"
len=$(wc -c <"$T/fcgi.body")
{
    printf '\001\006\000\001\000'
    printf "\\$(printf %03o "$len")"
    printf '\000\000'
    cat "$T/fcgi.body"
    printf '\001\006\000\001\000\000\000\000'
    printf '\001\003\000\001\000\010\000\000\000\000\000\000\000\000\000\000'
} >"$T/fcgi.resp"
FCGI_SOCK="$T/fcgi.sock"
t_bg fcgi socat -T 1 "UNIX-LISTEN:$FCGI_SOCK,fork" \
    SYSTEM:"cat $T/fcgi.resp; cat >$T/fcgi.req"
t_ok "fake FastCGI responder is up" t_wait_file "$FCGI_SOCK"

# A WebSocket "upstream" that records the handshake and answers 101.
cat >"$T/ws_upstream.sh" <<'EOF'
cr=$(printf '\r')
while IFS= read -r line; do
    printf '%s\n' "$line" >>"$1"
    [ "$line" = "$cr" ] && break
done
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n'
EOF
WS_PORT=$(t_free_port)
t_bg ws socat "TCP-LISTEN:$WS_PORT,bind=127.0.0.1,reuseaddr,fork" \
    SYSTEM:"sh $T/ws_upstream.sh $T/ws.req"
t_ok "fake WebSocket upstream is up" t_wait_port 127.0.0.1 "$WS_PORT"

mkdir "$T/www"
echo 'hello from onebox static' >"$T/www/index.html"

fcgi_req_has() {
    tr '\000-\037' ' ' <"$T/fcgi.req" 2>/dev/null | grep -qF -- "$1"
}

# web_checks NAME PORT: the same checks against nginx and lighttpd.
web_checks() {
    local name port base ip
    name=$1
    port=$2
    base="http://127.0.0.1:$port"
    t_ok "$name bound to 127.0.0.1 only" t_loopback_only "$port"
    ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
    if [ -n "$ip" ]; then
        t_fail "$name is not reachable on $ip" \
            curl -sS --max-time 5 "http://$ip:$port/"
    fi
    t_eq "$name serves the static root" 'hello from onebox static' \
        "$(curl -sS --max-time 30 "$base/")"
    out=$(curl -sS --max-time 30 -H 'Authorization: Bearer abc.def' \
        -H 'Content-Type: application/json' -d '{"probe":1}' \
        "$base/api/health?via=$name")
    t_eq "$name: /api/ goes to FastCGI" 'fake-fcgi-ok' "$out"
    t_ok "$name: FastCGI gets REQUEST_URI" \
        t_wait_for 10 fcgi_req_has "REQUEST_URI/api/health?via=$name"
    t_ok "$name: FastCGI gets the method" fcgi_req_has 'REQUEST_METHODPOST'
    t_ok "$name: FastCGI gets HTTP_AUTHORIZATION" \
        fcgi_req_has 'HTTP_AUTHORIZATIONBearer abc.def'
    t_ok "$name: FastCGI gets the body" fcgi_req_has '{"probe":1}'
    t_eq "$name: /metrics goes to FastCGI" 'fake-fcgi-ok' \
        "$(curl -sS --max-time 30 "$base/metrics")"
    t_eq "$name: an oversized body is refused" 413 \
        "$(head -c 2000000 /dev/zero | curl -sS --max-time 30 -o /dev/null \
            -w '%{http_code}' --data-binary @- "$base/api/upload")"
    rm -f "$T/ws.req"
    out=$(curl -sS -i --max-time 30 -H 'Connection: Upgrade' \
        -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
        -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
        "$base/ws?token=t0k" 2>/dev/null)
    t_contains "$name: /ws upgrades" "$out" '101 Switching Protocols'
    req=$(cat "$T/ws.req" 2>/dev/null)
    t_contains "$name: upstream gets the URI and query" "$req" 'GET /ws?token=t0k '
    t_contains "$name: upstream gets Upgrade" "$req" 'Upgrade: websocket'
}

# --- nginx ---------------------------------------------------------------------

t_ok "nginx_start" nginx_start "unix:$FCGI_SOCK" "127.0.0.1:$WS_PORT" "$T/www" ||
    t_bail "nginx did not start"
web_checks nginx "$NGINX_PORT"
npid=$(t_pid nginx)
t_ok "nginx_stop" nginx_stop
t_fail "...no nginx process is left" t_group_running "$npid"
t_eq "...and its port is closed" "" "$(t_listen_addrs "$NGINX_PORT")"

# --- lighttpd ------------------------------------------------------------------

t_ok "lighttpd_start" lighttpd_start "unix:$FCGI_SOCK" "127.0.0.1:$WS_PORT" \
    "$T/www" || t_bail "lighttpd did not start"
web_checks lighttpd "$LIGHTTPD_PORT"
t_ok "lighttpd_stop" lighttpd_stop
t_eq "...and its port is closed" "" "$(t_listen_addrs "$LIGHTTPD_PORT")"

t_done
