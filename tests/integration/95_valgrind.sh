#!/usr/bin/env bash
# The long-running daemons are valgrind-clean: the release builds of
# onebox-syncd, onebox-realtime and onebox-api run the real path under
# memcheck (stack started by contrib/run.sh behind nginx, a real Dovecot,
# a WebSocket client, new mail synced and announced), are stopped with
# SIGTERM, and must report no memory error and no definite or indirect leak.
set -u
. "$ONEBOX_SRC/tests/lib/common.sh"
. "$ONEBOX_SRC/tests/lib/pki.sh"
. "$ONEBOX_SRC/tests/lib/dovecot.sh"
t_init valgrind
command -v valgrind >/dev/null || t_skip "valgrind is not installed"
T_TIMEOUT=120

# Wrappers with the daemons' names, so contrib/run.sh starts them under memcheck.
mkdir -p "$T/vg"
for b in onebox-syncd onebox-realtime onebox-api; do
    cat >"$T/vg/$b" <<SH
#!/bin/sh
exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \\
    --errors-for-leak-kinds=definite,indirect --track-fds=no --log-file="$T/vg-$b.%p.log" \\
    "$ONEBOX_RELEASE_BIN/$b" "\$@"
SH
    chmod +x "$T/vg/$b"
done

dovecot_start || t_bail "Dovecot did not start"
dovecot_add_user bob@example.test 'bob-imap-pw'
http_port=$(t_free_port)
export ONEBOX_DATA_DIR="$T/var" ONEBOX_HTTP_LISTEN="127.0.0.1:$http_port"
export ONEBOX_WS_PORT=$(t_free_port) ONEBOX_RUN_BIN="$T/vg" ONEBOX_DEMO=0
export ONEBOX_URL="http://127.0.0.1:$http_port" XDG_CONFIG_HOME="$T/cli"
ob() { "$ONEBOX_RELEASE_BIN/onebox" "$@"; }

t_bg stack bash "$ONEBOX_SRC/contrib/run.sh"
t_ok "the stack starts under valgrind" t_wait_log stack "onebox is running" 180
t_ok "register" sh -c "echo 'bob-onebox-1' | '$ONEBOX_RELEASE_BIN/onebox' register --email bob@example.test"
t_ok "login" sh -c "echo 'bob-onebox-1' | '$ONEBOX_RELEASE_BIN/onebox' login --email bob@example.test"
t_ok "add the account" sh -c "echo 'bob-imap-pw' | '$ONEBOX_RELEASE_BIN/onebox' accounts add bob@example.test --host 127.0.0.1 --port $DOVECOT_IMAP_PORT --security plain"
t_bg watch "$ONEBOX_RELEASE_BIN/onebox" watch
t_ok "watch connects (and auto-starts sync)" t_wait_log watch connected 60
t_ok "sync goes idle" t_wait_for 60 sh -c "'$ONEBOX_RELEASE_BIN/onebox' sync status | grep -q ' idle '"
printf 'From: a@example.org\r\nSubject: valgrind probe\r\nMessage-ID: <vg.%s@example.org>\r\n\r\nInterested, please send pricing.\r\n' "$$" >"$T/m.eml"
dovecot_append bob@example.test INBOX "$T/m.eml"
t_ok "the new mail is announced" t_wait_log watch "valgrind probe" 60
t_ok "emails search" sh -c "'$ONEBOX_RELEASE_BIN/onebox' emails search probe | grep -q 'valgrind probe'"
t_ok "sync stop" ob sync stop
t_stop watch 10

# Shutdown while realtime holds a pushed event for a missing outbox id (its
# 100 ms gap timer armed): a publisher stores one event without pushing it,
# then pushes the next, every 20 ms.  The timer once outlived the lws
# context it was scheduled on.
data='"data":{"email":{"id":1,"subject":"gap","from":"a@example.org"},"userId":"u_vggap","timestamp":"2026-01-01T00:00:00.000Z"}'
printf '{"type":"new_email","user":"u_vggap","_push":false,%s}\n{"type":"new_email","user":"u_vggap",%s}\n' \
    "$data" "$data" >"$T/gap.pair"
cat >"$T/gaps.sh" <<SH
while :; do cat '$T/gap.pair'; sleep 0.02; done |
    '$ONEBOX_TOOLS/ev_publish' --db '$ONEBOX_DATA_DIR/onebox.db' --sock '$ONEBOX_DATA_DIR/run/events.sock'
SH
t_bg gaps sh "$T/gaps.sh"
t_ok "a gapped stream reaches realtime" t_wait_for 60 sh -c "grep -c '^[0-9]' '$T/gaps.log' | grep -q '^[1-9][0-9]'"
t_ok "SIGTERM stops the stack" t_stop stack 120
t_stop gaps 10

for b in onebox-syncd onebox-realtime onebox-api; do
    logs=$(cat "$T"/vg-$b.*.log 2>/dev/null)
    t_ok "$b ran under valgrind" test -n "$(ls "$T"/vg-$b.*.log 2>/dev/null)"
    if ! t_not_contains "$b: no memory error or leak" "$logs" "=="; then
        # the report is the diagnosis: CI keeps only this output
        printf '%s\n' "$logs" | head -n 120 | sed 's/^/#   /' >&2
    fi
done
t_done
