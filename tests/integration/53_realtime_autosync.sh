#!/bin/sh
# tests/integration/53_realtime_autosync.sh: onebox-realtime's automatic
# sync start/stop over sync.sock (tests/realtime/autosync.js).
#   1. socat listens on the sync.sock path and records every request line:
#      the first connection of a user sends start, the last one closing sends
#      stop after sync_grace (2 s), a return within the grace sends nothing;
#   2. with sync.sock absent, and with a sync service that never answers,
#      WebSocket service goes on unaffected;
#   3. end to end with the real onebox-syncd and Dovecot: connecting starts
#      the user's account, sync_status and a delivered message arrive live,
#      and the account is stopped after the last connection closes.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$ONEBOX_SRC/tests/realtime/rt_lib.sh"

t_init rt_autosync
command -v node >/dev/null 2>&1 || t_skip "node is not installed"
command -v socat >/dev/null 2>&1 || t_skip "socat is not installed"
rt_npm || t_bail "npm ci in tests/realtime failed"

rt_start rt ONEBOX_SYNC_GRACE=2 || t_bail "onebox-realtime did not start"
export RT_CTL_LINES="$T/ctl.lines"
: >"$RT_CTL_LINES"
# One request line in, recorded, one reply line out (a script file: socat
# address syntax splits on commas).
cat >"$T/ctl.sh" <<'CTL'
#!/bin/sh
read -r l
printf '%s\n' "$l" >>"$RT_CTL_LINES"
printf '{"ok":true,"data":{"status":[]}}\n'
CTL
chmod +x "$T/ctl.sh"
t_bg ctl socat "UNIX-LISTEN:$RT_SYNCSOCK,fork,mode=600" "EXEC:$T/ctl.sh" || t_bail "socat did not start"
t_wait_file "$RT_SYNCSOCK" || t_bail "socat is not listening"
rt_scenarios autosync.js first_connection_starts_last_stops_after_grace back_within_the_grace_keeps_syncing
t_ok "start/stop results logged" grep -q "autosync u_.*: stop: ok" "$T/rt.log"

t_stop ctl
rm -f "$RT_SYNCSOCK"
rt_scenarios autosync.js websocket_unaffected_by_sync_service
t_ok "an unreachable sync service is logged" grep -q "start failed: sync service unreachable" "$T/rt.log"

# A sync service that accepts and never answers: the worker waits, the loop does not.
t_bg hung socat "UNIX-LISTEN:$RT_SYNCSOCK,fork,mode=600" "SYSTEM:sleep 30" || t_bail "socat did not start"
t_wait_file "$RT_SYNCSOCK" || t_bail "socat is not listening"
rt_scenarios autosync.js websocket_unaffected_by_sync_service
t_stop hung
t_stop rt
rt_sanitizer_clean rt

# --- end to end with the real onebox-syncd ------------------------------------
if [ -x "$ONEBOX_BIN/onebox-syncd" ] && [ -x "$ONEBOX_TOOLS/sync_add_account" ] &&
    command -v sqlite3 >/dev/null 2>&1; then
    . "$ONEBOX_SRC/tests/integration/40_sync_lib.inc"
    dovecot_start || t_bail "Dovecot did not start"
    dovecot_add_user alice alicepw || t_bail "cannot add alice"
    rt_start e2e ONEBOX_SYNC_GRACE=2 || t_bail "onebox-realtime (e2e) did not start"
    export ONEBOX_DATA_DIR="$RT_DATA" ONEBOX_IMAP_CA_FILE="$DOVECOT_CA" ONEBOX_SYNC_WORKERS=2 \
        ONEBOX_IMAP_TIMEOUT=10 ONEBOX_CATEGORIES_FILE="$ONEBOX_SRC/contrib/categories.rules"
    SYNC_DB="$RT_DB" SYNC_KEY="$RT_DATA/seal.key" SYNC_SOCK="$RT_SYNCSOCK" SYNC_EVSOCK="$RT_EVSOCK"
    _sync_n=0
    user=u_alice$$
    sync_add "$user" alice@example.com alice alicepw >/dev/null || t_bail "cannot add the account"
    sync_daemon_start || t_bail "onebox-syncd did not start"
    export RT_E2E_USER=$user RT_E2E_EMAIL=alice@example.com RT_E2E_READY="$T/e2e.ready" \
        RT_E2E_SUBJECT="realtime e2e $$"
    node "$RT_DIR/autosync.js" e2e_with_real_syncd >"$T/e2e.log" 2>&1 &
    e2e=$!
    if t_wait_file "$RT_E2E_READY" 40; then
        sync_deliver alice "$RT_E2E_SUBJECT" || t_log "delivery failed"
    fi
    wait "$e2e"
    rc=$?
    [ $rc -eq 0 ] || cat "$T/e2e.log" >&2
    t_eq "real syncd: connecting started sync; sync_status and new_email arrived live" 0 $rc
    t_ok "real syncd: the account stops after the grace" sync_wait_status "$user" alice@example.com stopped 30
    t_eq "real syncd: sync_wanted cleared" 0 \
        "$(sync_db "SELECT sync_wanted FROM accounts WHERE email = 'alice@example.com'")"
    t_ok "onebox-syncd exits 0" sync_daemon_stop
    t_stop e2e
    rt_sanitizer_clean e2e
else
    t_log "onebox-syncd, sync_add_account or sqlite3 missing: end-to-end part skipped"
fi
t_done
