#!/usr/bin/env bash
# The `make run` demo: a private Dovecot (127.0.0.1, temp dir, its own uid)
# holding a demo mailbox, and a demo onebox user whose account points at it,
# so a new user sees onebox work within a minute:
#
#   open http://127.0.0.1:8080/ and log in as demo@onebox.local / onebox-demo-1
#   onebox login --email demo@onebox.local        (password: onebox-demo-1)
#   onebox demo send                              -> appears live, categorized
#
# contrib/run.sh starts this after the daemons and nginx; SIGTERM stops the
# Dovecot it started (by PID) and removes its temp dir.  It reuses the test
# harness's Dovecot launcher (tests/lib) rather than a second copy of it.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tests/lib/common.sh"
. "$src/tests/lib/pki.sh"
. "$src/tests/lib/dovecot.sh"

api=${ONEBOX_DEMO_API:-http://${ONEBOX_HTTP_LISTEN:-127.0.0.1:8080}}
data=${ONEBOX_DATA_DIR:-$src/var}
user=demo@onebox.local
pass=onebox-demo-1
mailpass=demo-mailbox-password

say() { echo "demo: $*"; }

# POST/GET/DELETE against the API; prints the body, returns curl's status.
call() {
    local method=$1 path=$2 body=${3:-}
    curl -sS --max-time 20 -X "$method" -H 'Content-Type: application/json' \
        ${token:+-H "Authorization: Bearer $token"} \
        ${body:+--data "$body"} "$api$path"
}

t_init demo
# A demo is not a test: stop quietly on SIGTERM (no test summary).
stop_demo() {
    t_stop dovecot 5
    trap - EXIT
    rm -rf "$T"
    exit 0
}
trap stop_demo TERM INT
dovecot_start || { say "could not start Dovecot"; exit 1; }
dovecot_add_user "$user" "$mailpass"

# A few messages already waiting, so the first sync has something to show.
seed() {
    local f="$T/seed.eml"
    printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <seed.%s@onebox.local>\r\n\r\n%s\r\n' \
        "$1" "$user" "$2" "$(date -R)" "$RANDOM$RANDOM" "$3" >"$f"
    dovecot_append "$user" INBOX "$f"
}
seed "Ana Costa <ana@example.org>" "Welcome to onebox" \
    "This message was in the demo mailbox before onebox started."
seed "Team Calendar <calendar@example.org>" "Meeting confirmed: Friday 15:00" \
    "Your meeting is booked for Friday at 15:00. The invite is attached."

for _ in $(seq 1 100); do
    call GET /api/health >/dev/null 2>&1 && break
    sleep 0.2
done
reg=$(call POST /api/user/register "{\"email\":\"$user\",\"password\":\"$pass\"}")
case $reg in
*'"success":true'*|*'"code":"conflict"'*) ;;
*) say "registering $user failed: $reg" ;;
esac
token=$(call POST /api/user/login "{\"email\":\"$user\",\"password\":\"$pass\"}" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
    say "could not log in as $user through $api; the demo mailbox is still there"
else
    # The mailbox port changes every run: replace last run's account.
    call DELETE "/api/accounts/demo%40onebox.local" >/dev/null
    call POST /api/accounts "{\"email\":\"$user\",\"imapHost\":\"127.0.0.1\",\"imapPort\":$DOVECOT_IMAP_PORT,\"security\":\"plain\",\"username\":\"$user\",\"password\":\"$mailpass\"}" >/dev/null
    uid=$(call GET /api/user/me | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
    [ -n "$uid" ] && call POST "/api/sync/start/$uid/demo%40onebox.local" >/dev/null
fi

mkdir -p "$data/demo"
umask 077
cat >"$data/demo/demo.json" <<JSON
{"imapUrl":"imap://127.0.0.1:$DOVECOT_IMAP_PORT","username":"$user","password":"$mailpass","email":"$user"}
JSON
say "demo mailbox $user on imap://127.0.0.1:$DOVECOT_IMAP_PORT (plain IMAP, loopback only)"
say "log in at $api/ as $user / $pass, then run: onebox login --email $user; onebox demo send"

while t_alive dovecot; do sleep 1; done
say "Dovecot exited"
exit 1
