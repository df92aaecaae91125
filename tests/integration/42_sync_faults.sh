#!/bin/sh
# tests/integration/42_sync_faults.sh: onebox-syncd under server-side faults:
#   - a UIDVALIDITY change gives exactly one sync_status reset event, the
#     stored mail is re-matched by Message-ID and nothing is re-announced;
#     after IMAP_FETCH_MAX_RESETS (3) resets in a row the account stops
#     with an error;
#   - a wrong password gives an `error` status with the reason and no retry
#     storm; a password changed on the server does the same on reconnect;
#   - a frozen server (SIGSTOP on the session's imap process) is detected by
#     the IDLE watchdog and the account reconnects; mail is announced after
#     SIGCONT;
#   - no password appears in the daemon log, the published events or the
#     outbox.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

export ONEBOX_SYNC_ANNOUNCE_WINDOW=10
export ONEBOX_IMAP_IDLE_RESTART=10
export ONEBOX_IMAP_TIMEOUT=4
sync_setup sync_faults
PW_DAVE='Dave-pw-7c1e95f0d2'
PW_ERIN='Erin-pw-4ab2f9e3c8'
PW_WRONG='Wrong-pw-e5d39a7710'
PW_NEW='Erin-new-pw-90c3b1aa'
dovecot_add_user dave "$PW_DAVE" || t_bail "cannot add dave"
dovecot_add_user erin "$PW_ERIN" || t_bail "cannot add erin"
for i in 1 2 3; do sync_deliver dave "dave old $i" || t_bail "cannot deliver"; done
sync_add u_dave dave@example.com dave "$PW_DAVE" >/dev/null || t_bail "cannot add dave's account"
sync_add u_erin erin@example.com erin "$PW_WRONG" >/dev/null || t_bail "cannot add erin's account"
sync_daemon_start || t_bail "onebox-syncd did not start"

resets() {
    sync_db "SELECT count(*) FROM events WHERE type = 'sync_status' AND user_id = 'u_dave'
             AND json_extract(payload, '$.reset.newUidValidity') IS NOT NULL"
}
dave_announced() { sync_db "SELECT count(*) FROM events WHERE type = 'new_email' AND user_id = 'u_dave'"; }
max_announced() {
    sync_db "SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c FROM events
             WHERE type = 'new_email' AND user_id = 'u_dave'
             GROUP BY json_extract(payload, '$.email.subject'))"
}
_resets_is() { [ "$(resets)" = "$1" ]; }
new_uidv() { dovecot_set_uidvalidity dave INBOX "$1" && dovecot_kick dave; }

# --- UIDVALIDITY ---------------------------------------------------------------
sync_ctl '{"op":"start","user":"u_dave"}' >/dev/null
t_ok "dave is idle" sync_wait_status u_dave dave@example.com idle
t_eq "the first sync announced the three messages" 3 "$(dave_announced)"
old=$(dovecot_uidvalidity dave INBOX)
new=$((old + 1000))
new_uidv "$new" || t_bail "cannot change UIDVALIDITY"
t_ok "the change gives a reset event" t_wait_for 30 _resets_is 1
t_ok "dave is idle again" sync_wait_status u_dave dave@example.com idle 30
ev=$(sync_db "SELECT payload FROM events WHERE type = 'sync_status' AND user_id = 'u_dave'
              AND json_extract(payload, '$.reset.newUidValidity') IS NOT NULL")
t_contains "the reset names the mailbox" "$ev" '"mailbox":"INBOX"'
t_contains "...the old UIDVALIDITY" "$ev" "\"oldUidValidity\":$old"
t_contains "...and the new one" "$ev" "\"newUidValidity\":$new"
t_eq "nothing was re-announced" 3 "$(dave_announced)"
t_eq "no mail was duplicated" 3 "$(sync_db "SELECT count(*) FROM emails WHERE user_id = 'u_dave'")"
t_eq "stored mail was re-matched to the new UIDVALIDITY" 3 \
    "$(sync_db "SELECT count(*) FROM emails WHERE user_id = 'u_dave' AND uidvalidity = $new")"
sync_deliver dave "dave after reset" || t_bail "cannot deliver"
t_ok "new mail after the reset is announced" sync_wait_count sync_announced u_dave "dave after reset" 1
sleep 1
t_eq "exactly one reset event" 1 "$(resets)"
t_eq "nothing announced twice" 1 "$(max_announced)"

new_uidv $((new + 1)) && t_wait_for 30 _resets_is 2 && sync_wait_status u_dave dave@example.com idle 30
new_uidv $((new + 2)) && t_wait_for 30 _resets_is 3 && sync_wait_status u_dave dave@example.com idle 30
t_eq "three resets in a row, three events" 3 "$(resets)"
new_uidv $((new + 3)) || t_bail "cannot change UIDVALIDITY"
t_ok "a fourth reset in a row stops the account with an error naming the reason" \
    sync_wait_error u_dave dave@example.com "UIDVALIDITY of INBOX changed" 30
t_eq "...without a fourth reset event" 3 "$(resets)"
t_eq "...and still nothing re-announced" 1 "$(max_announced)"

# --- authentication failures -------------------------------------------------------
logins() {
    grep '"type":"imap_log"' "$T/evtap.log" | grep '"userId":"u_erin"' | grep -c '"command":"LOGIN"'
}
sync_ctl '{"op":"start","user":"u_erin","email":"erin@example.com"}' >/dev/null
t_ok "a wrong password ends in error" sync_wait_status u_erin erin@example.com error 30
st=$(sync_ctl '{"op":"status","user":"u_erin","email":"erin@example.com"}')
t_contains "...with the reason" "$st" '"error":"authentication failed'
sleep 6
t_eq "...and no retry storm (one LOGIN)" 1 "$(logins)"
t_contains "the LOGIN log event is redacted" \
    "$(grep '"type":"imap_log"' "$T/evtap.log" | grep '"userId":"u_erin"' | grep '"command":"LOGIN"')" '<redacted'
sync_add u_erin erin@example.com erin "$PW_ERIN" >/dev/null
sync_ctl '{"op":"start","user":"u_erin","email":"erin@example.com"}' >/dev/null
t_ok "with the right password a new start works" sync_wait_status u_erin erin@example.com idle 30
dovecot_set_password erin "$PW_NEW" || t_bail "cannot change erin's password"
dovecot_kick erin || t_bail "cannot kick erin"
t_ok "a password changed on the server ends in an authentication error on reconnect" \
    sync_wait_error u_erin erin@example.com '"error":"authentication failed' 60

# --- frozen server --------------------------------------------------------------
dovecot_set_password erin "$PW_ERIN" || t_bail "cannot restore erin's password"
sync_ctl '{"op":"start","user":"u_erin","email":"erin@example.com"}' >/dev/null
t_ok "erin is idle again" sync_wait_status u_erin erin@example.com idle 30
pids=$(dovecot_session_pids erin)
[ -n "$pids" ] || t_bail "no imap session for erin"
errors_before=$(grep '"type":"sync_status"' "$T/evtap.log" | grep '"userId":"u_erin"' | grep -c '"status":"error"')
for p in $pids; do kill -STOP "$p"; done
errors_now() { grep '"type":"sync_status"' "$T/evtap.log" | grep '"userId":"u_erin"' | grep -c '"status":"error"'; }
more_errors() { [ "$(errors_now)" -gt "$errors_before" ]; }
t_ok "the frozen connection is detected" t_wait_for 90 more_errors
for p in $pids; do kill -CONT "$p"; done
t_ok "the account reconnects" sync_wait_status u_erin erin@example.com idle 60
sync_deliver erin "erin after thaw" || t_bail "cannot deliver"
t_ok "mail after the thaw is announced" sync_wait_count sync_announced u_erin "erin after thaw" 1
sleep 1
t_eq "...once" 1 "$(sync_announced u_erin 'erin after thaw')"

# --- secrets ---------------------------------------------------------------------
t_ok "SIGTERM: exit 0" sync_daemon_stop
all="$(cat "$T/syncd.log" "$T/evtap.log")$(sync_db "SELECT payload FROM events")"
for pw in "$PW_DAVE" "$PW_ERIN" "$PW_WRONG" "$PW_NEW"; do
    t_not_contains "no password in logs or events ($pw)" "$all" "$pw"
done
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_done
