#!/bin/sh
# tests/integration/45_sync_multi.sh: many accounts in one onebox-syncd.
# Several users, one with two accounts, all idling at once on a two-worker
# pool; each new message is announced exactly once to its own user, also
# under concurrent bulk delivery; an account whose server accepts TCP and
# never answers neither blocks the control socket nor the other accounts,
# and can be stopped while a worker is blocked on it; stopping one account
# leaves the others running; SIGTERM with a hung connection exits 0.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

export ONEBOX_SYNC_WORKERS=2
export ONEBOX_IMAP_TIMEOUT=120
sync_setup sync_multi
for u in m1 m2 m3 m4; do
    dovecot_add_user "$u" "pw-$u" || t_bail "cannot add $u"
done
BLACKHOLE=$(t_free_port)
# Accepts and never greets (cat echoes nothing until the client speaks).
t_bg blackhole socat "TCP-LISTEN:$BLACKHOLE,bind=127.0.0.1,reuseaddr,fork" EXEC:cat ||
    t_bail "cannot start the silent server"
t_wait_port 127.0.0.1 "$BLACKHOLE" || t_bail "the silent server is not listening"

{ sync_add u_m1 m1@example.com m1 pw-m1 && sync_add u_m1 m2@example.com m2 pw-m2 &&
    sync_add u_m3 m3@example.com m3 pw-m3 && sync_add u_m4 m4@example.com m4 pw-m4 &&
    sync_add u_m4 blackhole@example.com m4 pw-m4 plain "$BLACKHOLE"; } >/dev/null ||
    t_bail "cannot add the accounts"
sync_daemon_start || t_bail "onebox-syncd did not start"

reply=$(sync_ctl '{"op":"start","user":"u_m4","email":"blackhole@example.com"}')
t_contains "starting an account on a silent server answers at once" "$reply" '"status":"syncing"'
t_contains "start without email starts all the user's accounts" \
    "$(sync_ctl '{"op":"start","user":"u_m1"}')" '"email":"m2@example.com"'
sync_ctl '{"op":"start","user":"u_m3"}' >/dev/null
sync_ctl '{"op":"start","user":"u_m4","email":"m4@example.com"}' >/dev/null
for a in "u_m1 m1" "u_m1 m2" "u_m3 m3" "u_m4 m4"; do
    set -- $a
    t_ok "$2 is idle while another account hangs" sync_wait_status "$1" "$2@example.com" idle 60
done
t_eq "the silent server's account is still connecting" syncing \
    "$(sync_status u_m4 blackhole@example.com)"
clients=$(sync_ctl '{"op":"clients"}')
t_contains "clients counts three users" "$clients" '"clientCount":3'
t_contains "...and five accounts" "$clients" '"emailAccountCount":5'

pids=
for u in m1 m2 m3 m4; do
    (for k in 1 2 3; do sync_deliver "$u" "to $u $k" || exit 1; done) &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || t_log "a delivery failed"; done
for a in "u_m1 m1" "u_m1 m2" "u_m3 m3" "u_m4 m4"; do
    set -- $a
    t_ok "mail for $2 is announced to $1" sync_wait_count sync_announced "$1" "to $2 3" 1
done
sleep 1
for a in "u_m1 m1" "u_m1 m2" "u_m3 m3" "u_m4 m4"; do
    set -- $a
    for k in 1 2 3; do
        t_eq "'to $2 $k' announced once" 1 "$(sync_announced "$1" "to $2 $k")"
    done
done
t_eq "u_m3 got only its own mail" 3 \
    "$(sync_db "SELECT count(*) FROM events WHERE type = 'new_email' AND user_id = 'u_m3'")"
t_eq "u_m1 got the mail of its two accounts" 6 \
    "$(sync_db "SELECT count(*) FROM events WHERE type = 'new_email' AND user_id = 'u_m1'")"

# Concurrent bulk delivery to three accounts.
pids=
for u in m1 m3 m4; do
    "$ONEBOX_TOOLS/imap_inject" "$DOVECOT_IMAP_PORT" "$u" "pw-$u" 60 "bulk $u" &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || t_log "an injection failed"; done
bulk_done() {
    [ "$(sync_db "SELECT count(*) FROM events WHERE type = 'new_email' AND
                  json_extract(payload, '$.email.subject') LIKE 'bulk %'")" = 180 ]
}
t_ok "180 concurrently delivered messages are all announced" t_wait_for 60 bulk_done
t_eq "...each once" 0 "$(sync_db "SELECT count(*) FROM (SELECT 1 FROM events WHERE type = 'new_email'
                                  GROUP BY user_id, json_extract(payload, '$.email.subject')
                                  HAVING count(*) > 1)")"
t_eq "...to the right users" 60 "$(sync_db "SELECT count(*) FROM events WHERE type = 'new_email'
                                  AND user_id = 'u_m3' AND json_extract(payload, '$.email.subject') LIKE 'bulk m3 %'")"

# Stopping one account leaves the others running.
sync_ctl '{"op":"stop","user":"u_m1","email":"m2@example.com"}' >/dev/null
t_ok "m2 stops" sync_wait_status u_m1 m2@example.com stopped
t_eq "m1 keeps running" idle "$(sync_status u_m1 m1@example.com)"
sync_deliver m1 "m1 after m2 stopped" || t_bail "cannot deliver"
sync_deliver m2 "m2 while stopped" || t_bail "cannot deliver"
t_ok "m1 still gets mail" sync_wait_count sync_announced u_m1 "m1 after m2 stopped" 1
t_eq "the stopped account does not" 0 "$(sync_announced u_m1 'm2 while stopped')"
sync_ctl '{"op":"start","user":"u_m1","email":"m2@example.com"}' >/dev/null
t_ok "restarted, m2 catches up" sync_wait_count sync_announced u_m1 "m2 while stopped" 1

# Stop an account while a worker is blocked reading from the silent server.
sync_ctl '{"op":"stop","user":"u_m4","email":"blackhole@example.com"}' >/dev/null
hung_stopped() {
    grep '"type":"sync_status"' "$T/evtap.log" | grep '"email":"blackhole@example.com"' |
        grep -q '"status":"stopped"'
}
t_ok "the hung account stops (its blocked read is cut, not waited out)" t_wait_for 30 hung_stopped
t_eq "m4 keeps running" idle "$(sync_status u_m4 m4@example.com)"
sync_ctl '{"op":"start","user":"u_m4","email":"blackhole@example.com"}' >/dev/null
sleep 1
t_ok "SIGTERM with a hung connection: exit 0" sync_daemon_stop
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_done
