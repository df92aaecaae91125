#!/bin/sh
# tests/integration/48_sync_fd_limit.sh: libetpan waits on its sockets with
# select(2), and glibc aborts the process for a descriptor >= FD_SETSIZE
# (1024) — the crash bench/ hit at 1,000 accounts.  onebox-syncd started
# with ~1,000 descriptors already open must not crash when an account
# connects: the account ends in `error` with a clear reason, the daemon
# keeps serving sync.sock, and it still stops cleanly.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

sync_setup sync_fdlimit
[ "$(ulimit -n)" -gt 1200 ] 2>/dev/null || ulimit -n 4096 2>/dev/null ||
    t_skip "cannot raise the descriptor limit above 1200"
PW='Fay-pw-5e0c7d21'
dovecot_add_user fay "$PW" || t_bail "cannot add fay"
sync_add u_fay fay@example.com fay "$PW" >/dev/null || t_bail "cannot add fay's account"

# The daemon inherits 1,000 open descriptors, as if it held ~330 sessions.
rm -f "$SYNC_SOCK"
t_bg syncd bash -c 'for i in $(seq 1 1000); do exec {fd}</dev/null; done
    exec env ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}" "$0"' \
    "$ONEBOX_BIN/onebox-syncd" || t_bail "cannot start onebox-syncd"
t_wait_file "$SYNC_SOCK" || t_bail "onebox-syncd did not create $SYNC_SOCK"

sync_ctl '{"op":"start","user":"u_fay"}' >/dev/null
t_ok "the account ends in error with the reason" \
    sync_wait_error u_fay fay@example.com "no file descriptor below" 30
t_ok "onebox-syncd is still running" t_alive syncd
t_contains "sync.sock still answers" "$(sync_ctl '{"op":"clients"}')" '"ok":true'
t_not_contains "no abort from FD_SET" "$(cat "$T/syncd.log")" "FD_SETSIZE"
t_ok "SIGTERM stops it cleanly" sync_daemon_stop
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_done
