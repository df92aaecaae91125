#!/bin/sh
# tests/integration/43_sync_tls.sh: onebox-syncd verifies IMAP servers with
# OpenSSL before sending any credential (the Debian libetpan verifies
# nothing): IMAPS and STARTTLS with the test CA work; a host name that is
# not in the certificate and a certificate from an unknown CA are refused
# with an `error` status naming the reason, and the server never sees a
# login attempt for those accounts.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

# The certificate names only "localhost": 127.0.0.1 is the wrong host name.
SYNC_SERVER_SAN="DNS:localhost"
sync_setup sync_tls
for u in tlsuser stlsuser wronguser wrongstls unknownca; do
    dovecot_add_user "$u" "pw-$u-5f2c" || t_bail "cannot add $u"
done
sync_add u_tls tls@example.com tlsuser pw-tlsuser-5f2c tls "$DOVECOT_IMAPS_PORT" localhost >/dev/null &&
    sync_add u_stls stls@example.com stlsuser pw-stlsuser-5f2c starttls "$DOVECOT_IMAP_PORT" localhost >/dev/null &&
    sync_add u_wrong wrong@example.com wronguser pw-wronguser-5f2c tls "$DOVECOT_IMAPS_PORT" 127.0.0.1 >/dev/null &&
    sync_add u_wrongstls wrongstls@example.com wrongstls pw-wrongstls-5f2c starttls "$DOVECOT_IMAP_PORT" 127.0.0.1 >/dev/null ||
    t_bail "cannot add the accounts"

no_login_for() {
    ! grep -q "user=<$1>" "$DOVECOT_LOG" && ! grep -q "($1," "$DOVECOT_LOG" &&
        ! grep '"type":"imap_log"' "$T/evtap.log" | grep "\"userId\":\"$2\"" | grep -q '"command":"LOGIN"'
}

sync_daemon_start || t_bail "onebox-syncd did not start"
for u in u_tls u_stls u_wrong u_wrongstls; do
    sync_ctl "{\"op\":\"start\",\"user\":\"$u\"}" >/dev/null
done
t_ok "IMAPS with the test CA works" sync_wait_status u_tls tls@example.com idle
t_ok "STARTTLS with the test CA works" sync_wait_status u_stls stls@example.com idle
sync_deliver tlsuser "over imaps" || t_bail "cannot deliver"
sync_deliver stlsuser "over starttls" || t_bail "cannot deliver"
t_ok "mail arrives over IMAPS" sync_wait_count sync_announced u_tls "over imaps" 1
t_ok "mail arrives over STARTTLS" sync_wait_count sync_announced u_stls "over starttls" 1

t_ok "IMAPS to a name not in the certificate is refused" \
    sync_wait_error u_wrong wrong@example.com "mismatch"
t_ok "STARTTLS to a name not in the certificate is refused" \
    sync_wait_error u_wrongstls wrongstls@example.com "mismatch"
t_ok "...before any credential was sent (IMAPS)" no_login_for wronguser u_wrong
t_ok "...before any credential was sent (STARTTLS)" no_login_for wrongstls u_wrongstls
t_eq "nothing stored for the refused accounts" 0 \
    "$(sync_db "SELECT count(*) FROM emails WHERE user_id IN ('u_wrong', 'u_wrongstls')")"
t_ok "SIGTERM: exit 0" sync_daemon_stop

# A CA file that does not know the server's CA.
pki_make_ca "$T/pki" other-ca || t_bail "cannot make another CA"
export ONEBOX_IMAP_CA_FILE="$T/pki/other-ca.crt"
sync_add u_unknown unknown@example.com unknownca pw-unknownca-5f2c tls "$DOVECOT_IMAPS_PORT" localhost >/dev/null ||
    t_bail "cannot add the account"
sync_daemon_start syncd2 || t_bail "onebox-syncd did not restart"
sync_ctl '{"op":"start","user":"u_unknown"}' >/dev/null
t_ok "an unknown CA is refused" sync_wait_error u_unknown unknown@example.com "certificate verify failed"
t_contains "...naming the reason" \
    "$(sync_ctl '{"op":"status","user":"u_unknown"}')" "unable to get local issuer certificate"
t_ok "...before any credential was sent" no_login_for unknownca u_unknown
t_ok "a resumed account is refused too" sync_wait_error u_tls tls@example.com "certificate verify failed"
t_ok "SIGTERM: exit 0" sync_daemon_stop syncd2

all="$(cat "$T/syncd.log" "$T/syncd2.log" "$T/evtap.log")$(sync_db "SELECT payload FROM events")"
for u in tlsuser stlsuser wronguser wrongstls unknownca; do
    t_not_contains "no password in logs or events ($u)" "$all" "pw-$u-5f2c"
done
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_ok "no sanitizer report (restart)" sync_no_sanitizer_report syncd2
t_done
