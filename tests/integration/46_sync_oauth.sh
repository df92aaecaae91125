#!/bin/sh
# tests/integration/46_sync_oauth.sh: XOAUTH2 accounts.  onebox-syncd gets
# an access token from the account's token URL (refresh_token grant,
# form-encoded, libcurl) before logging in with AUTHENTICATE XOAUTH2, and
# again whenever the cached one is about to expire; a token the IMAP server
# refuses is refreshed once and retried once; a revoked refresh token ends in
# an `error` status naming the provider's error, without a retry storm; no
# token or client secret reaches the log, the events or the outbox.
# (Dovecot checks a bearer token against the passdb as if it were the
# password, so the access token is the IMAP user's password.)
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

sync_setup sync_oauth
ACCESS1='ya29.access-one-3b5f1c7e9d'
ACCESS2='ya29.access-two-8e2a6d4b0f'
REFRESH='1//refresh-token-6f0c2a9e41'
SECRET='client-secret-d7e3b1a5c9'
CLIENT='onebox-test-client'
dovecot_add_user oa "$ACCESS1" || t_bail "cannot add the OAuth user"
printf '%s\n' "$REFRESH" >"$T/refresh"
printf '%s\n' "$ACCESS1" >"$T/access"
TOKPORT=$(t_free_port)
# expires_in 60 s: always inside onebox-syncd's refresh margin, so every
# (re)connect refreshes the token.
t_bg tokens "$ONEBOX_TOOLS/sync_token_server" "$TOKPORT" "$CLIENT" "$SECRET" \
    "$T/refresh" "$T/access" 60 || t_bail "cannot start the token server"
t_wait_log tokens listening || t_bail "the token server did not start"
"$ONEBOX_TOOLS/sync_add_account" "$SYNC_DB" "$SYNC_KEY" u_oa oa@example.com localhost \
    "$DOVECOT_IMAPS_PORT" tls oa xoauth2 "http://127.0.0.1:$TOKPORT/token" "$CLIENT" \
    "$SECRET" "$REFRESH" >/dev/null || t_bail "cannot add the account"

requests() { grep -c '^request' "$T/tokens.log"; }
ok_requests() { grep -c '^request [0-9]*: ok' "$T/tokens.log"; }
_more_than() { [ "$($1)" -gt "$2" ]; }

sync_daemon_start || t_bail "onebox-syncd did not start"
sync_ctl '{"op":"start","user":"u_oa"}' >/dev/null
t_ok "an XOAUTH2 account becomes idle" sync_wait_status u_oa oa@example.com idle
t_eq "...after one token refresh" 1 "$(ok_requests)"
t_ok "...and logged in with AUTHENTICATE XOAUTH2" \
    sh -c "grep '\"type\":\"imap_log\"' '$T/evtap.log' | grep -q '\"command\":\"AUTHENTICATE XOAUTH2\"'"
sync_deliver oa "oauth mail" || t_bail "cannot deliver"
t_ok "mail is announced" sync_wait_count sync_announced u_oa "oauth mail" 1

# Rotation: the provider now hands out another token, the old one dies.
printf '%s\n' "$ACCESS2" >"$T/access"
dovecot_set_password oa "$ACCESS2" || t_bail "cannot rotate the token"
dovecot_kick oa || t_bail "cannot kick"
t_ok "after a reconnect the refreshed token is used" t_wait_for 60 _more_than ok_requests 1
t_ok "the account is idle again" sync_wait_status u_oa oa@example.com idle 60
sync_deliver oa "after rotation" || t_bail "cannot deliver"
t_ok "mail is announced after the rotation" sync_wait_count sync_announced u_oa "after rotation" 1

# The IMAP server refuses the token the provider gives: refresh once, retry
# once, then stop with an authentication error.
dovecot_set_password oa "not-the-token-91a7" || t_bail "cannot change the password"
before=$(requests)
dovecot_kick oa || t_bail "cannot kick"
t_ok "a refused token ends in an authentication error" \
    sync_wait_error u_oa oa@example.com "authentication failed" 60
sleep 3
t_eq "...after exactly one forced refresh and retry" $((before + 2)) "$(requests)"

# Revoked refresh token: the provider says invalid_grant.
dovecot_set_password oa "$ACCESS2" || t_bail "cannot restore the password"
printf '%s\n' 'revoked' >"$T/refresh"
before=$(requests)
sync_ctl '{"op":"start","user":"u_oa"}' >/dev/null
t_ok "a revoked refresh token ends in error" \
    sync_wait_error u_oa oa@example.com "invalid_grant" 30
sleep 3
t_eq "...after one request, no retry storm" $((before + 1)) "$(requests)"
printf '%s\n' "$REFRESH" >"$T/refresh"
sync_ctl '{"op":"start","user":"u_oa"}' >/dev/null
t_ok "with the grant restored, start works again" sync_wait_status u_oa oa@example.com idle 30

t_ok "SIGTERM: exit 0" sync_daemon_stop
all="$(cat "$T/syncd.log" "$T/evtap.log")$(sync_db "SELECT payload FROM events")"
for s in "$ACCESS1" "$ACCESS2" "$REFRESH" "$SECRET"; do
    t_not_contains "no token or secret in logs or events ($s)" "$all" "$s"
done
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_done
