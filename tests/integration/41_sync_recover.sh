#!/bin/sh
# tests/integration/41_sync_recover.sh: no lost and no duplicated mail when
# onebox-syncd or the connection goes away: kill -9 in the middle of a first
# sync, mail arriving while syncd is down, a clean restart (accounts with
# sync_wanted=1 resume by themselves), and a server-side disconnect
# (`doveadm kick`) followed by reconnect and catch-up from UIDNEXT.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

BULK=${SYNC_TEST_BULK:-3000}
export ONEBOX_SYNC_INITIAL_WINDOW=0
export ONEBOX_SYNC_ANNOUNCE_WINDOW=3
sync_setup sync_recover
dovecot_add_user bob bobpw || t_bail "cannot add bob"
"$ONEBOX_TOOLS/imap_inject" "$DOVECOT_IMAP_PORT" bob bobpw "$BULK" bulk 1500 ||
    t_bail "cannot fill the mailbox"
sync_add u_bob bob@example.com bob bobpw >/dev/null || t_bail "cannot add the account"

stored() { sync_db "SELECT count(*) FROM emails WHERE user_id = 'u_bob'"; }
some_stored() { [ "$(stored)" -gt 0 ]; }
dup_rows() { sync_db "SELECT count(*) - count(DISTINCT uid) FROM emails WHERE user_id = 'u_bob'"; }
max_announced() {
    sync_db "SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c FROM events
             WHERE type = 'new_email' AND user_id = 'u_bob'
             GROUP BY json_extract(payload, '$.email.subject'))"
}
announced_total() {
    sync_db "SELECT count(*) FROM events WHERE type = 'new_email' AND user_id = 'u_bob'"
}
all_stored() { [ "$(stored)" -eq "$1" ]; }

# --- kill -9 in the middle of the first sync --------------------------------
sync_daemon_start || t_bail "onebox-syncd did not start"
sync_ctl '{"op":"start","user":"u_bob","email":"bob@example.com"}' >/dev/null
t_ok "the first sync starts storing" t_wait_for 60 some_stored
kill -KILL "$(t_pid syncd)"
t_stop syncd 2
at_kill=$(stored)
t_log "killed onebox-syncd with $at_kill of $BULK messages stored"
[ "$at_kill" -lt "$BULK" ] || t_log "(the first sync had already finished: the kill was not mid-fetch)"
t_eq "no duplicate rows after kill -9" 0 "$(dup_rows)"

sync_deliver bob "while down 1" || t_bail "cannot deliver"
sync_daemon_start syncd2 || t_bail "onebox-syncd did not restart"
t_ok "the account resumes by itself (sync_wanted)" sync_wait_status u_bob bob@example.com idle 120
t_ok "every message is stored after the restart" t_wait_for 30 all_stored $((BULK + 1))
t_eq "no duplicate rows" 0 "$(dup_rows)"
t_eq "mail that arrived while down is announced once" 1 "$(sync_announced u_bob 'while down 1')"
t_eq "no message is announced twice" 1 "$(max_announced)"
t_ok "the first sync announced at most its window (+1 arrived while down)" \
    test "$(announced_total)" -le 4
t_eq "old bulk mail is not announced" 0 \
    "$(sync_db "SELECT count(*) FROM events WHERE type = 'new_email' AND
                json_extract(payload, '$.email.subject') IN ('bulk 1', 'bulk 2', 'bulk 1000')")"

# --- clean restart, mail arriving while down ----------------------------------
t_ok "SIGTERM: exit 0" sync_daemon_stop syncd2
sync_deliver bob "while down 2" || t_bail "cannot deliver"
sync_deliver bob "while down 3" || t_bail "cannot deliver"
sync_daemon_start syncd3 || t_bail "onebox-syncd did not restart"
t_ok "the account resumes after a clean restart" sync_wait_status u_bob bob@example.com idle 60
t_ok "mail that arrived while down is announced" sync_wait_count sync_announced u_bob "while down 3" 1
t_eq "...once" 1 "$(sync_announced u_bob 'while down 2')"
t_eq "...and on events.sock" 1 "$(sync_tapped u_bob 'while down 2')"
t_eq "nothing announced twice" 1 "$(max_announced)"
t_eq "every message stored once" $((BULK + 3)) "$(stored)"

# --- server-side disconnect -----------------------------------------------------
before=$(sync_db "SELECT count(*) FROM events WHERE type = 'sync_status' AND user_id = 'u_bob'")
dovecot_kick bob || t_bail "doveadm kick failed"
sync_deliver bob "after kick" || t_bail "cannot deliver"
t_ok "mail delivered around the kick is announced" sync_wait_count sync_announced u_bob "after kick" 1 60
t_ok "the account is idle again" sync_wait_status u_bob bob@example.com idle 60
after=$(sync_db "SELECT count(*) FROM events WHERE type = 'sync_status' AND user_id = 'u_bob'")
t_ok "the disconnect was reported (sync_status events)" test "$after" -gt "$before"
t_ok "the error status named the reason" \
    sh -c "grep '\"type\":\"sync_status\"' '$T/evtap.log' | grep '\"status\":\"error\"' | grep -q reconnecting"
sync_deliver bob "after reconnect" || t_bail "cannot deliver"
t_ok "IDLE works on the new connection" sync_wait_count sync_announced u_bob "after reconnect" 1
sleep 2
t_eq "nothing announced twice" 1 "$(max_announced)"
t_eq "every message stored once" $((BULK + 5)) "$(stored)"
t_eq "no duplicate rows" 0 "$(dup_rows)"
uidnext=$(sync_db "SELECT uidnext FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE a.user_id = 'u_bob'")
t_eq "mailboxes.uidnext follows the stored mail" $((BULK + 6)) "$uidnext"

t_ok "SIGTERM: exit 0" sync_daemon_stop syncd3
for n in syncd syncd2 syncd3; do
    t_ok "no sanitizer report ($n)" sync_no_sanitizer_report "$n"
done
t_done
