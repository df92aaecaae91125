#!/usr/bin/env bash
# The `make run` demo a new user meets (README "Try it in a minute"): the
# launcher starts a private Dovecot with a seeded demo mailbox and registers
# the demo user and account; logging in as that user shows the seeded mail
# synced, and `onebox demo send` delivers a message that `onebox watch`
# shows live, categorized.  SIGTERM stops the demo's Dovecot too.
set -u
. "$ONEBOX_SRC/tests/lib/common.sh"
t_init demo_run

http_port=$(t_free_port)
export ONEBOX_DATA_DIR="$T/var" ONEBOX_HTTP_LISTEN="127.0.0.1:$http_port"
export ONEBOX_WS_PORT=$(t_free_port) ONEBOX_RUN_BIN="$ONEBOX_BIN"
export ONEBOX_URL="http://127.0.0.1:$http_port" XDG_CONFIG_HOME="$T/cli"
ob() { "$ONEBOX_BIN/onebox" "$@"; }

t_bg run bash "$ONEBOX_SRC/contrib/run.sh"
t_ok "the stack starts" t_wait_log run "onebox is running" 60
t_ok "the demo mailbox is announced" t_wait_log run "demo: log in at" 60
t_not_contains "the demo user registered and logged in" "$(cat "$T/run.log")" "could not log in"
t_ok "onebox login as the demo user" sh -c "echo onebox-demo-1 | '$ONEBOX_BIN/onebox' login --email demo@onebox.local"
t_ok "the demo account syncs" t_wait_for 30 sh -c "'$ONEBOX_BIN/onebox' sync status | grep -q ' idle '"
t_ok "the seeded messages are stored" t_wait_for 30 sh -c "'$ONEBOX_BIN/onebox' emails list | grep -q 'Welcome to onebox'"
t_bg watch "$ONEBOX_BIN/onebox" watch
t_ok "onebox watch connects" t_wait_log watch connected 30
t_ok "onebox demo send" ob demo send --subject "Can we book a demo call on Tuesday?" \
    --body "We are interested in onebox and would like to book a meeting on Tuesday at 10:00."
t_ok "the sent message appears live" t_wait_log watch "Can we book a demo call on Tuesday?" 15
line=$(grep new_email "$T/watch.log" | grep -F "demo call" | head -n 1)
t_ok "it is categorized" sh -c "echo '$line' | grep -qE '\\[(Interested|Meeting Booked) '"
t_stop watch 10
dovecot_pid=$(pgrep -f "dovecot -F -c .*/ob-demo\." | head -n 1)
t_ok "the demo Dovecot runs" test -n "$dovecot_pid"
t_ok "SIGTERM stops the stack" t_stop run 30
t_ok "...and the demo's Dovecot" sh -c "[ -z '$dovecot_pid' ] || ! kill -0 $dovecot_pid 2>/dev/null"
t_not_contains "no sanitizer report" "$(cat "$T/run.log")" "Sanitizer"
t_done
