#!/bin/sh
# tests/integration/47_sync_edge.sh: the libetpan 1.9.4 edge cases of
# notes/clibs.md §1.12, against a scripted server (tests/tools/imap_fake.c)
# since Dovecot cannot be made to misbehave on demand:
#   - "+ idling" and "* 1 EXISTS" in one segment: the data sits in
#     libetpan's buffer and epoll never fires; the mail is still fetched at
#     once (not at the next IDLE restart, set to 10 minutes here);
#   - "* FLAGS" before "+ idling" (libetpan waits for its timeout): the
#     account falls back to NOOP polling and still gets mail;
#   - a server without IDLE: NOOP polling;
#   - a STARTTLS account on a server without STARTTLS: refused, no LOGIN;
#   - an unparsable FETCH response: one message skipped with a logged reason,
#     the others stored, the account goes on;
#   - "* STATUS INBOX ()" (CVE-2022-4121): no crash.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

SYNC_NO_DOVECOT=1
export ONEBOX_IMAP_TIMEOUT=3
export ONEBOX_IMAP_IDLE_RESTART=600
sync_setup sync_edge
[ -x "$ONEBOX_TOOLS/imap_fake" ] || t_bail "no $ONEBOX_TOOLS/imap_fake"

fake() {
    local s port
    s=$1
    port=$(t_free_port) || return 1
    mkdir -p "$T/fake_$s/new"
    eval "PORT_$s=$port"
    t_bg "fake_$s" "$ONEBOX_TOOLS/imap_fake" "$port" "$T/fake_$s" "$s" || return 1
    t_wait_log "fake_$s" listening
}
drop() {
    sync_msg "$T/fake_$1/new.tmp" "$2" && mv "$T/fake_$1/new.tmp" "$T/fake_$1/new/$(date +%s%N)"
}
account() {
    local port
    eval "port=\$PORT_$1"
    sync_add "u_$1" "$1@example.com" "$1" "pw-$1" "${2:-plain}" "$port" >/dev/null
}

for s in plain idle_buffered nostarttls badfetch status_empty noidle flags_idle; do
    fake "$s" || t_bail "cannot start the fake server ($s)"
done
for i in 1 2 3; do
    drop badfetch "badfetch $i" || t_bail "cannot drop a message"
    sleep 0.01
done
for s in plain idle_buffered badfetch status_empty; do account "$s" || t_bail "cannot add $s"; done
account nostarttls starttls || t_bail "cannot add nostarttls"

# --- IDLE restart far away: only a correct wake-up gets mail in time ------
sync_daemon_start || t_bail "onebox-syncd did not start"
for s in plain idle_buffered nostarttls badfetch status_empty; do
    sync_ctl "{\"op\":\"start\",\"user\":\"u_$s\"}" >/dev/null
done
t_ok "the scripted server works (plain)" sync_wait_status u_plain plain@example.com idle
drop plain "plain new" || t_bail "cannot drop"
t_ok "...and IDLE delivers" sync_wait_count sync_announced u_plain "plain new" 1

t_ok "EXISTS buffered with '+ idling' is fetched at once" \
    sync_wait_count sync_announced u_idle_buffered "buffered exists" 1 30
t_eq "...and the account is idle" idle "$(sync_status u_idle_buffered idle_buffered@example.com)"

t_ok "a STARTTLS account refuses a server without STARTTLS" \
    sync_wait_error u_nostarttls nostarttls@example.com "does not offer STARTTLS"
t_fail "...without sending LOGIN" grep -q "LOGIN" "$T/fake_nostarttls.log"

t_ok "the account with an unparsable message reaches idle" \
    sync_wait_status u_badfetch badfetch@example.com idle 60
t_eq "the two good messages are stored" 2 \
    "$(sync_db "SELECT count(*) FROM emails WHERE user_id = 'u_badfetch' AND subject IN ('badfetch 1', 'badfetch 3')")"
t_eq "the bad one is not" 0 "$(sync_stored u_badfetch 'badfetch 2')"
t_ok "...and the skip is logged with its reason" grep -q "skipping UID 2: the server's FETCH response cannot be parsed" "$T/syncd.log"
drop badfetch "badfetch after" || t_bail "cannot drop"
t_ok "the account goes on" sync_wait_count sync_announced u_badfetch "badfetch after" 1

t_ok "'* STATUS INBOX ()' does not crash anything" sync_wait_status u_status_empty status_empty@example.com idle
drop status_empty "status empty new" || t_bail "cannot drop"
t_ok "...and mail flows" sync_wait_count sync_announced u_status_empty "status empty new" 1
t_ok "SIGTERM: exit 0" sync_daemon_stop

# --- polling: NOOP every imap_idle_restart (shortened) ---------------------
export ONEBOX_IMAP_IDLE_RESTART=10
for s in noidle flags_idle; do account "$s" || t_bail "cannot add $s"; done
sync_daemon_start syncd2 || t_bail "onebox-syncd did not restart"
sync_ctl '{"op":"start","user":"u_noidle"}' >/dev/null
sync_ctl '{"op":"start","user":"u_flags_idle"}' >/dev/null
t_ok "a server without IDLE: the account is idle (polling)" sync_wait_status u_noidle noidle@example.com idle
drop noidle "polled mail" || t_bail "cannot drop"
t_ok "...and NOOP polling finds new mail" sync_wait_count sync_announced u_noidle "polled mail" 1 60
t_ok "...with NOOP, never IDLE" sh -c "grep -q 'NOOP' '$T/fake_noidle.log' && ! grep -q ' IDLE' '$T/fake_noidle.log'"
t_ok "'* FLAGS' before '+ idling': the account falls back to polling" \
    t_wait_for 60 grep -q "u_flags_idle/flags_idle@example.com: IDLE failed" "$T/syncd2.log"
t_ok "...and is idle again" sync_wait_status u_flags_idle flags_idle@example.com idle 60
drop flags_idle "flags idle mail" || t_bail "cannot drop"
t_ok "...and gets mail by polling" sync_wait_count sync_announced u_flags_idle "flags idle mail" 1 60
t_ok "SIGTERM: exit 0" sync_daemon_stop syncd2
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_ok "no sanitizer report (restart)" sync_no_sanitizer_report syncd2
t_done
