#!/bin/sh
# tests/integration/48_sync_fd_limit.sh: libetpan waits on its sockets with
# select(2), and glibc aborts the process for a descriptor >= FD_SETSIZE
# (1024) — the crash bench/ hit at 1,000 accounts.  onebox-syncd keeps the
# descriptors below 1024 for IMAP sockets, one per session (fd_reserve.c,
# etpan_cancel.c).  Started with all but three of them already taken, it
# runs the sessions that fit, refuses the next one with a clear reason
# instead of crashing, keeps serving sync.sock, gives a stopped session's
# descriptor to the next one, and still stops cleanly.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

sync_setup sync_fdlimit
[ "$(ulimit -n)" -gt 2100 ] 2>/dev/null || ulimit -n 4096 2>/dev/null ||
    t_skip "cannot raise the descriptor limit above 2100"
PW='Fay-pw-5e0c7d21'
dovecot_add_user fay "$PW" || t_bail "cannot add fay"

# The daemon inherits descriptors 3..1020: only 1021..1023 are free below
# FD_SETSIZE.  It reports how many of those it keeps for sessions.
rm -f "$SYNC_SOCK"
t_bg syncd bash -c 'for i in $(seq 3 1020); do eval "exec $i</dev/null"; done
    exec env ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}" "$0"' \
    "$ONEBOX_BIN/onebox-syncd" || t_bail "cannot start onebox-syncd"
t_wait_file "$SYNC_SOCK" || t_bail "onebox-syncd did not create $SYNC_SOCK"
KEPT=$(sed -n 's/.* \([0-9]*\) descriptors below 1024 kept for IMAP sessions.*/\1/p' "$T/syncd.log" | head -1)
t_ok "a few descriptors below 1024 are kept for sessions" test "${KEPT:-0}" -ge 1 -a "${KEPT:-0}" -le 3

# One account more than fits: the same Dovecot login, one onebox user each.
N=$((KEPT + 1))
i=1
while [ "$i" -le "$N" ]; do
    sync_add "u_fd$i" "fd$i@example.com" fay "$PW" >/dev/null || t_bail "cannot add account $i"
    i=$((i + 1))
done
i=1
while [ "$i" -le "$N" ]; do
    sync_ctl "{\"op\":\"start\",\"user\":\"u_fd$i\"}" >/dev/null
    i=$((i + 1))
done

# Counts the accounts in status $1.
count_status() {
    local k=1 c=0
    while [ "$k" -le "$N" ]; do
        [ "$(sync_status "u_fd$k" "fd$k@example.com")" = "$1" ] && c=$((c + 1))
        k=$((k + 1))
    done
    echo "$c"
}
settled() {
    [ "$(count_status idle)" -eq "$KEPT" ] && [ "$(count_status error)" -eq 1 ]
}
t_ok "$KEPT accounts idle, one in error" t_wait_for 60 settled
REFUSED=
i=1
while [ "$i" -le "$N" ]; do
    [ "$(sync_status "u_fd$i" "fd$i@example.com")" = error ] && REFUSED=$i
    i=$((i + 1))
done
t_ok "the refused account says why" \
    _sync_error_has "u_fd$REFUSED" "fd$REFUSED@example.com" "no file descriptor below 1024"
t_ok "onebox-syncd is still running" t_alive syncd
t_contains "sync.sock still answers" "$(sync_ctl '{"op":"clients"}')" '"ok":true'

# A stopped session gives its descriptor back: the refused account fits now.
OTHER=1
[ "$REFUSED" = 1 ] && OTHER=2
sync_ctl "{\"op\":\"stop\",\"user\":\"u_fd$OTHER\"}" >/dev/null
t_ok "the stopped account is stopped" sync_wait_status "u_fd$OTHER" "fd$OTHER@example.com" stopped 30
sync_ctl "{\"op\":\"start\",\"user\":\"u_fd$REFUSED\"}" >/dev/null
t_ok "the refused account reaches idle once a descriptor is free" \
    sync_wait_status "u_fd$REFUSED" "fd$REFUSED@example.com" idle 30

t_not_contains "no abort from FD_SET" "$(cat "$T/syncd.log")" "FD_SETSIZE"
t_ok "SIGTERM stops it cleanly" sync_daemon_stop
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_done
