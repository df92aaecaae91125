#!/bin/bash
# 31_api_lighttpd: the same onebox-api behind lighttpd (mod_fastcgi) instead
# of nginx — register, login, an authorized route, a refused one — proving
# any FastCGI server works and passes Authorization through.  onebox-api
# listens on TCP 127.0.0.1 here (":PORT"), checked to bind loopback only.
. "$ONEBOX_SRC/tests/lib/common.sh"
. "$ONEBOX_SRC/tests/lib/lighttpd.sh"
t_init api_lighttpd

TOOLS=$ONEBOX_TOOLS
DATA=$T/data
FPORT=$(t_free_port)
export ONEBOX_DATA_DIR=$DATA ONEBOX_API_LISTEN=":$FPORT" ONEBOX_API_THREADS=2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

t_bg api "$ONEBOX_BIN/onebox-api"
t_wait_port 127.0.0.1 "$FPORT" || t_bail "onebox-api did not listen on 127.0.0.1:$FPORT"
t_ok "\":PORT\" binds 127.0.0.1 only" t_loopback_only "$FPORT"
lighttpd_start "127.0.0.1:$FPORT" || t_bail "lighttpd did not start"
B="http://127.0.0.1:$LIGHTTPD_PORT"

req() { # METHOD PATH [TOKEN] [BODY]
    set -- -s -o "$T/r.json" -D "$T/r.h" -w '%{http_code}' -X "$1" "$B$2" ${3:+-H "Authorization: Bearer $3"} \
        ${4:+-H "Content-Type: application/json" --data-binary "$4"}
    S=$(curl "$@")
}
J() { "$TOOLS/api_json" get "$T/r.json" "$1" 2>/dev/null; }
ENV() { "$TOOLS/api_json" envelope "$T/r.json" 2>&1; }

req POST /api/user/register "" '{"phoneNumber":"+15550001111","password":"TestPassword123"}'
t_eq "register via lighttpd" "201 ok" "$S $(ENV)"
UID1=$(J .data.user.id)
req POST /api/user/register "" '{"phoneNumber":"+15550001111","password":"TestPassword123"}'
t_eq "duplicate via lighttpd" "409 error conflict" "$S $(ENV)"
req POST /api/user/login "" '{"phoneNumber":"+15550001111","password":"TestPassword123"}'
t_eq "login via lighttpd" "200 ok" "$S $(ENV)"
TOK=$(J .data.token)
t_ok "login gave a token" test -n "$TOK"
req GET /api/user/me "$TOK"
t_eq "me via lighttpd (Authorization passed through)" "200 ok" "$S $(ENV)"
t_eq "me is the registered user" "$UID1" "$(J .data.user.id)"
req GET /api/accounts "$TOK"
t_eq "accounts via lighttpd" "200 ok" "$S $(ENV)"
req GET /api/user/me
t_eq "no token via lighttpd" "401 error unauthorized" "$S $(ENV)"
req GET "/api/sync/status/$UID1" "$TOK"
t_eq "sync status with syncd down via lighttpd" "503 error unavailable" "$S $(ENV)"
req PUT /api/accounts "$TOK"
t_eq "405 via lighttpd" "405 error method_not_allowed" "$S $(ENV)"
t_contains "Allow via lighttpd" "$(grep -i '^Allow:' "$T/r.h")" "POST, GET"

t_stop lighttpd
t_stop api
t_contains "clean stop" "$(cat "$T/api.log")" "stopped"
t_not_contains "no sanitizer report" "$(cat "$T/api.log")" "Sanitizer"
t_done
