#!/bin/sh
# tests/integration/40_sync_basic.sh: onebox-syncd end to end against a real
# Dovecot: sync.sock control (start/stop/status/clients, garbage answered
# with an error), the first sync (stores the window, announces only the
# newest sync_announce_window), new mail through IDLE announced exactly once
# (in the outbox and on events.sock), sync_status events, CONDSTORE's
# HIGHESTMODSEQ stored, a clean SIGTERM.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

export ONEBOX_SYNC_ANNOUNCE_WINDOW=2
sync_setup sync_basic
dovecot_add_user alice alicepw || t_bail "cannot add alice"
for i in 1 2 3 4; do
    sync_deliver alice "before $i" || t_bail "cannot deliver"
done

sync_daemon_start || t_bail "onebox-syncd did not start"
t_contains "status of an unknown user is an empty list" \
    "$(sync_ctl '{"op":"status","user":"u_nobody"}')" '{"ok":true,"data":{"status":[]}}'
t_contains "garbage gets a bad_request reply" "$(sync_ctl 'this is not json')" '"code":"bad_request"'
t_contains "a start without user is refused" "$(sync_ctl '{"op":"start"}')" '"code":"bad_request"'
t_contains "an unknown account is not_found" \
    "$(sync_ctl '{"op":"start","user":"u_alice","email":"nobody@example.com"}')" '"code":"not_found"'
head -c 300000 /dev/urandom | socat -t 5 - "UNIX-CONNECT:$SYNC_SOCK" >/dev/null 2>&1
# The daemon answers an over-long line and closes while we may still be
# writing it: the writer must survive EPIPE/ECONNRESET and then read the reply
# (socat gives up on the broken pipe without reading). Perl is in every Debian.
perl -MIO::Socket::UNIX -e '
    $SIG{PIPE} = "IGNORE";
    alarm 10;
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $ARGV[0]) or die "connect: $!\n";
    my $line = "x" x 100000;
    for (my $off = 0; $off < length $line; ) {
        my $n = syswrite($s, $line, 4096, $off);
        last unless defined $n;
        $off += $n;
    }
    shutdown($s, 1);
    my $buf;
    print $buf while sysread($s, $buf, 4096);
' "$SYNC_SOCK" >"$T/long.out" 2>&1
t_contains "an over-long request line is refused" "$(cat "$T/long.out")" '"code":"bad_request"'
t_ok "the daemon survived the garbage" t_alive syncd
t_contains "...and still answers" "$(sync_ctl '{"op":"clients"}')" '"ok":true' 

sync_add u_alice alice@example.com alice alicepw >/dev/null || t_bail "cannot add the account"
t_eq "a new account is stopped" stopped "$(sync_status u_alice alice@example.com)"
reply=$(sync_ctl '{"op":"start","user":"u_alice","email":"alice@example.com"}')
t_contains "start answers with the status list" "$reply" '"userId":"u_alice","email":"alice@example.com","status":"'
t_ok "the account becomes idle" sync_wait_status u_alice alice@example.com idle
t_eq "sync_wanted is set" 1 "$(sync_db "SELECT sync_wanted FROM accounts WHERE email = 'alice@example.com'")"
t_eq "the first sync stored all four messages" 4 \
    "$(sync_db "SELECT count(*) FROM emails WHERE user_id = 'u_alice'")"
t_eq "...and announced only the newest two" 2 \
    "$(sync_db "SELECT count(*) FROM events WHERE type = 'new_email' AND user_id = 'u_alice'")"
t_eq "...which are 'before 3'" 1 "$(sync_announced u_alice 'before 3')"
t_eq "...and 'before 4'" 1 "$(sync_announced u_alice 'before 4')"
t_ok "CONDSTORE: HIGHESTMODSEQ is stored" test "$(sync_db "SELECT coalesce(highestmodseq, 0) FROM mailboxes")" -gt 0
t_contains "status has lastSync" "$(sync_ctl '{"op":"status","user":"u_alice"}')" '"lastSync":"20'
clients=$(sync_ctl '{"op":"clients"}')
t_contains "clients lists the user" "$clients" '"activeClients":["u_alice"]'
t_contains "...and the account" "$clients" '"emailAccountCount":1'

sync_deliver alice "hello idle" "A new message while idling." || t_bail "cannot deliver"
t_ok "new mail is announced" sync_wait_count sync_announced u_alice "hello idle" 1
t_ok "...and pushed on events.sock" sync_wait_count sync_tapped u_alice "hello idle" 1
sleep 2
t_eq "...exactly once (outbox)" 1 "$(sync_announced u_alice 'hello idle')"
t_eq "...exactly once (events.sock)" 1 "$(sync_tapped u_alice 'hello idle')"
t_eq "...and stored once" 1 "$(sync_stored u_alice 'hello idle')"
line=$(grep '"type":"new_email"' "$T/evtap.log" | grep -F '"subject":"hello idle"' | head -n 1)
for f in '"id":' '"userId":"u_alice"' '"uid":' '"from":"Sender' '"to":"someone@example.com"' \
    '"date":"20' '"body":"A new message while idling.' '"folder":"INBOX"' \
    '"email":"alice@example.com"' '"category":"' '"categoryConfidence":' '"categorizedAt":"20' \
    '"timestamp":"20'; do
    t_contains "new_email carries $f" "$line" "$f"
done
t_ok "sync_status events were stored" test "$(sync_db "SELECT count(*) FROM events WHERE type = 'sync_status'")" -ge 2
t_contains "a sync_status idle was published" "$(grep '"type":"sync_status"' "$T/evtap.log")" '"status":"idle"'
t_ok "imap_log events are published" grep -q '"type":"imap_log"' "$T/evtap.log"

reply=$(sync_ctl '{"op":"stop","user":"u_alice"}')
t_contains "stop answers stopped" "$reply" '"status":"stopped"'
t_ok "the account stops" sync_wait_status u_alice alice@example.com stopped
t_eq "sync_wanted is cleared" 0 "$(sync_db "SELECT sync_wanted FROM accounts WHERE email = 'alice@example.com'")"
t_ok "a stopped status event was published" sh -c "grep '\"type\":\"sync_status\"' '$T/evtap.log' | grep -q '\"status\":\"stopped\"'"
t_contains "clients is empty after stop" "$(sync_ctl '{"op":"clients"}')" '"clientCount":0'

t_ok "onebox-syncd exits 0 on SIGTERM" sync_daemon_stop
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_done
