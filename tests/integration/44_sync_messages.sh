#!/bin/sh
# tests/integration/44_sync_messages.sh: hostile messages never stop an
# account.  Malformed MIME, raw 8-bit headers and bodies, NUL bytes, a
# 100 KB header line, deep nesting and a message larger than
# imap_max_message (fetched partially) are stored safely as valid UTF-8; a
# message with no header section is stored with what it has (or skipped
# with a logged reason); mail after them is still announced, and every event
# is valid JSON.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/pki.sh"
. "$LIB/dovecot.sh"
. "$(dirname "$0")/40_sync_lib.inc"

export ONEBOX_IMAP_MAX_MESSAGE=1048576
sync_setup sync_msgs
dovecot_add_user frank frankpw || t_bail "cannot add frank"
sync_add u_frank frank@example.com frank frankpw >/dev/null || t_bail "cannot add the account"
sync_daemon_start || t_bail "onebox-syncd did not start"
sync_ctl '{"op":"start","user":"u_frank"}' >/dev/null
t_ok "frank is idle" sync_wait_status u_frank frank@example.com idle

M="$T/msgs"
mkdir -p "$M"
# Malformed: a broken header line, a boundary that never appears, bad base64.
printf 'Subject: malformed mime\r\nFrom: broken <b@example.org\r\nThis line is not a header\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="never-there"\r\n\r\n--wrong\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@!!!aGVsbG8=\r\n' >"$M/1"
# Raw 8-bit Latin-1 in headers and body, no charset anywhere.
printf 'From: Fran\347ois <f@example.org>\r\nSubject: 8bit caf\351 r\351union\r\n\r\nCh\350re coll\350gue, \340 bient\364t.\r\n' >"$M/2"
# NUL bytes and control characters in the body.
printf 'From: nul@example.org\r\nSubject: nul bytes\r\n\r\nbefore\000after\001\002\033[31m red\r\n' >"$M/3"
# A 100 KB Subject line.
{ printf 'From: long@example.org\r\nSubject: long header '; head -c 100000 /dev/zero | tr '\0' 'x'; printf '\r\n\r\nbody\r\n'; } >"$M/4"
# Multipart nested 60 levels deep.
{
    printf 'From: deep@example.org\r\nSubject: deep nesting\r\nMIME-Version: 1.0\r\n'
    i=0
    while [ $i -lt 60 ]; do
        printf 'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' $i $i
        i=$((i + 1))
    done
    printf 'Content-Type: text/plain\r\n\r\ndeep inside\r\n'
} >"$M/5"
# Larger than imap_max_message: fetched partially.
{
    printf 'From: huge@example.org\r\nSubject: huge message\r\nContent-Type: text/plain\r\n\r\n'
    i=0
    while [ $i -lt 40000 ]; do
        printf 'line %06d of a message that is much larger than the configured maximum\r\n' $i
        i=$((i + 1))
    done
} >"$M/6"
# No header section at all.
printf '\r\n\r\njust a body with no headers\r\n' >"$M/7"

for f in 1 2 3 4 5 6 7; do
    dovecot_append frank INBOX "$M/$f" || t_bail "Dovecot refused message $f"
done
sync_deliver frank "after the junk" || t_bail "cannot deliver"
t_ok "mail after the hostile messages is announced" sync_wait_count sync_announced u_frank "after the junk" 1 60
t_eq "the account is still idle" idle "$(sync_status u_frank frank@example.com)"
t_eq "the malformed message is stored" 1 "$(sync_stored u_frank 'malformed mime')"
t_eq "the 8-bit message is stored" 1 \
    "$(sync_db "SELECT count(*) FROM emails WHERE subject LIKE '8bit caf%'")"
t_eq "...as valid UTF-8 (Latin-1 guessed)" 1 \
    "$(sync_db "SELECT count(*) FROM emails WHERE subject = '8bit café réunion'")"
t_eq "the NUL-byte message is stored" 1 "$(sync_stored u_frank 'nul bytes')"
t_eq "the long header is stored (capped)" 1 \
    "$(sync_db "SELECT count(*) FROM emails WHERE subject LIKE 'long header xxx%' AND length(subject) <= 100000")"
t_eq "the deeply nested message is stored" 1 "$(sync_stored u_frank 'deep nesting')"
t_eq "the huge message is stored" 1 "$(sync_stored u_frank 'huge message')"
t_eq "...with its size from RFC822.SIZE" 1 \
    "$(sync_db "SELECT count(*) FROM emails WHERE subject = 'huge message' AND size > 1048576")"
t_ok "...fetched partially, and logged" grep -q "stored its first" "$T/syncd.log"
headless() {
    [ "$(sync_db "SELECT count(*) FROM emails WHERE body LIKE 'just a body%'")" = 1 ] ||
        grep -q "skipping UID 7" "$T/syncd.log"
}
t_ok "the message without headers is stored, or skipped with a logged reason" headless
t_eq "every stored event is valid JSON" 0 "$(sync_db "SELECT count(*) FROM events WHERE NOT json_valid(payload)")"
stored=$(sync_db "SELECT count(*) FROM emails WHERE user_id = 'u_frank'")
t_eq "every stored message was announced once" "$stored" \
    "$(sync_db "SELECT count(*) FROM events WHERE type = 'new_email' AND user_id = 'u_frank'")"
tap_json_ok() {
    grep -v '^$' "$T/evtap.log" | while IFS= read -r l; do
        printf '%s' "$l" >"$T/line.json"
        [ "$("$ONEBOX_TOOLS/sync_sql" :memory: "SELECT json_valid(?1)" "$T/line.json")" = 1 ] || exit 1
    done
}
t_ok "every events.sock line is valid JSON" tap_json_ok
t_ok "SIGTERM: exit 0" sync_daemon_stop
t_ok "no sanitizer report" sync_no_sanitizer_report syncd
t_done
