#!/usr/bin/env bash
# The whole path, as a user meets it (issue 6): a real Dovecot; the stack as
# `make run` starts it (onebox-syncd, onebox-realtime, onebox-api behind
# nginx); the `onebox` CLI; the test page in headless Chromium.
#   - the first WebSocket connection auto-starts sync of the user's account;
#   - a message APPENDed to Dovecot reaches both the page and `onebox watch`,
#     categorized, within Dovecot's IDLE floor plus a generous margin;
#   - the sync_status transitions are visible in `onebox watch`;
#   - `onebox sync stop` stops the events; `onebox sync start --wait` shows
#     an initial sync's progress;
#   - closing the last WebSocket connection stops sync after the grace period.
set -u
. "$ONEBOX_SRC/tests/lib/common.sh"
. "$ONEBOX_SRC/tests/lib/pki.sh"
. "$ONEBOX_SRC/tests/lib/dovecot.sh"
t_init e2e

ob() { "$ONEBOX_BIN/onebox" "$@"; }
msg() {   # msg FILE SUBJECT BODY
    printf 'From: Priya Natarajan <priya@partner.example>\r\nTo: alice@example.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s.%s@partner.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' \
        "$2" "$(date -R)" "$RANDOM" "$$" "$3" >"$1"
}

if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ]; then
    t_skip "node and /usr/bin/chromium are needed for the browser half"
fi
(cd "$ONEBOX_SRC/tests/e2e" && npm install --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1 ||
    t_bail "npm install in tests/e2e failed: $(tail -n 5 "$T/npm.log")"

dovecot_start || t_bail "Dovecot did not start"
dovecot_add_user alice@example.test 'alice-imap-pw'

http_port=$(t_free_port)
export ONEBOX_DATA_DIR="$T/var" ONEBOX_HTTP_LISTEN="127.0.0.1:$http_port"
export ONEBOX_WS_PORT=$(t_free_port) ONEBOX_RUN_BIN="$ONEBOX_BIN" ONEBOX_DEMO=0
export ONEBOX_SYNC_GRACE=2
export ONEBOX_URL="http://127.0.0.1:$http_port" XDG_CONFIG_HOME="$T/cli"
t_bg stack bash "$ONEBOX_SRC/contrib/run.sh"
t_wait_log stack "onebox is running" 60 || t_bail "the stack did not start"

t_ok "onebox register" sh -c "echo 'alice-onebox-1' | '$ONEBOX_BIN/onebox' register --email alice@example.test"
t_ok "onebox login" sh -c "echo 'alice-onebox-1' | '$ONEBOX_BIN/onebox' login --email alice@example.test"
t_ok "onebox accounts add (password from stdin)" sh -c "echo 'alice-imap-pw' | '$ONEBOX_BIN/onebox' accounts add alice@example.test --host 127.0.0.1 --port $DOVECOT_IMAP_PORT --security plain"
token=$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' "$T/cli/onebox/cli.json")
t_ok "the CLI keeps its token 0600" test "$(stat -c %a "$T/cli/onebox/cli.json")" = 600

# 1. `onebox watch` connects first: the first connection auto-starts sync,
#    and watch sees the sync_status transitions; then the browser joins.
subject="Meeting confirmed for Thursday 10:00"
t_bg watch "$ONEBOX_BIN/onebox" watch
t_ok "onebox watch connects" t_wait_log watch "connected" 30
t_ok "the first connection auto-started sync (status idle)" \
    t_wait_for 30 sh -c "'$ONEBOX_BIN/onebox' sync status | grep -q ' idle '"
# Chromium keeps its own scratch dirs in TMPDIR: inside $T they go with it.
t_bg browser env TMPDIR="$T" node "$ONEBOX_SRC/tests/e2e/page.js" "http://127.0.0.1:$http_port/websocket-test.html" \
    "$token" "$subject" 60
t_ok "the test page connects with the token" t_wait_log browser READY 60

# 2. New mail reaches both, categorized.
msg "$T/m1.eml" "$subject" "Hi Alice, your meeting has been booked for Thursday at 10:00. I sent the calendar invite; the video link is in it. See you then!"
dovecot_append alice@example.test INBOX "$T/m1.eml"
t_ok "onebox watch shows the new mail" t_wait_log watch "$subject" 15
t_ok "the page shows the new mail" t_wait_log browser "FOUND" 15
line=$(grep "new_email" "$T/watch.log" | grep -F "$subject" | head -n 1)
t_contains "onebox watch shows it categorized Meeting Booked" "$line" "[Meeting Booked"
t_contains "the page shows it categorized Meeting Booked" "$(grep FOUND "$T/browser.log")" "Meeting Booked"
t_eq "it is announced exactly once" 1 "$(grep -c -F "$subject" "$T/watch.log")"
t_contains "sync_status syncing was visible" "$(cat "$T/watch.log")" "sync_status  alice@example.test syncing"
t_contains "sync_status idle was visible" "$(cat "$T/watch.log")" "sync_status  alice@example.test idle"
found=$(ob emails search "Thursday" --json)
t_contains "the mail is stored and searchable" "$found" "$subject"

# 3. `onebox sync stop` stops the events.
t_ok "onebox sync stop" ob sync stop alice@example.test
t_ok "sync_status stopped is visible" t_wait_log watch "alice@example.test stopped" 15
msg "$T/m2.eml" "After the stop" "This one must not be announced while sync is stopped."
dovecot_append alice@example.test INBOX "$T/m2.eml"
sleep 4   # Dovecot's ~0.5 s IDLE floor, eight times over: a would-be event has had time
t_fail "no new_email after the stop" grep -q "After the stop" "$T/watch.log"

# 4. `onebox sync start --wait` shows an initial sync's progress: a second
#    account with mail already waiting.
dovecot_add_user carol@example.test 'carol-imap-pw'
for i in 1 2 3 4 5; do
    msg "$T/c$i.eml" "Carol's message $i" "Quarterly numbers, part $i."
    dovecot_append carol@example.test INBOX "$T/c$i.eml"
done
t_ok "a second account" sh -c "echo 'carol-imap-pw' | '$ONEBOX_BIN/onebox' accounts add carol@example.test --host 127.0.0.1 --port $DOVECOT_IMAP_PORT --security plain"
t_ok "onebox sync start --wait returns when the first sync is done" \
    sh -c "timeout 60 '$ONEBOX_BIN/onebox' sync start carol@example.test --wait 2>'$T/wait.err'"
t_contains "it shows messages fetched of total" "$(cat "$T/wait.err")" "of 5 messages fetched"
t_contains "it shows the account reaching idle" "$(cat "$T/wait.err")" "carol@example.test: idle"
t_ok "onebox sync stop carol" ob sync stop carol@example.test

# 5. The last connection closing stops sync after the grace period.
t_ok "onebox sync start" ob sync start alice@example.test
t_ok "the account syncs again and catches up on the missed mail" t_wait_log watch "After the stop" 20
t_stop browser 10
t_stop watch 10
t_ok "with no connection left, sync stops after the grace period" \
    t_wait_for 30 sh -c "'$ONEBOX_BIN/onebox' sync status | grep -q ' stopped '"

t_ok "SIGTERM stops the stack" t_stop stack 30
log=$(cat "$T/stack.log")
t_not_contains "no sanitizer report in the stack" "$log" "Sanitizer"
t_not_contains "the IMAP password never reaches a log" "$log" "alice-imap-pw"
t_not_contains "the onebox password never reaches a log" "$log" "alice-onebox-1"
t_done
