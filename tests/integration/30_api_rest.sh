#!/bin/bash
# 30_api_rest: onebox-api through a real nginx (FastCGI over a Unix socket):
# the success and error shape of every route, the authorization matrix
# (user A, user B, admin, no token, expired, tampered, alg none, wrong key),
# hostile input (Content-Type, JSON, missing/mistyped fields, 413, 404, 405
# with Allow, traversal/SQL/FTS metacharacters), sealed secrets, the
# account events on events.sock, /metrics, and login throttling per account
# and per client address (429 + Retry-After).  onebox-syncd is not running
# here: sync routes answer 503 (tests/integration/33_api_sync.sh covers
# the forwarding).
. "$ONEBOX_SRC/tests/lib/common.sh"
. "$ONEBOX_SRC/tests/lib/nginx.sh"
t_init api_rest

TOOLS=$ONEBOX_TOOLS
DATA=$T/data
export ONEBOX_DATA_DIR=$DATA ONEBOX_ADMIN_EMAIL=admin@example.com
export ONEBOX_LOGIN_MAX_FAILURES=3 ONEBOX_LOGIN_WINDOW=600
export ONEBOX_API_BODY_MAX=4096 ONEBOX_API_THREADS=3
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
mkdir -p "$DATA/run"

t_bg evtap "$TOOLS/ev_tap" "$DATA/run/events.sock"
t_wait_file "$DATA/run/events.sock" || t_bail "ev_tap did not listen"
t_bg api "$ONEBOX_BIN/onebox-api"
t_wait_file "$DATA/run/api.sock" || t_bail "onebox-api did not listen"
nginx_start "unix:$DATA/run/api.sock" || t_bail "nginx did not start"
B="http://127.0.0.1:$NGINX_PORT"

# req METHOD PATH [TOKEN] [BODY] [CONTENT_TYPE] [SOURCE_ADDR]: one request;
# status in $S, body in $T/r.json, headers in $T/r.h.
req() {
    local tok=${3:-} body=${4-} ct=${5-application/json} src=${6:-}
    set -- -s -o "$T/r.json" -D "$T/r.h" -w '%{http_code}' -X "$1" "$B$2"
    [ -n "$tok" ] && set -- "$@" -H "Authorization: Bearer $tok"
    [ -n "$body" ] && set -- "$@" --data-binary "$body"
    [ -n "$body" ] && [ -n "$ct" ] && set -- "$@" -H "Content-Type: $ct"
    [ -n "$src" ] && set -- "$@" --interface "$src"
    S=$(curl "$@")
}
J() { "$TOOLS/api_json" get "$T/r.json" "$1" 2>/dev/null; }
K() { "$TOOLS/api_json" keys "$T/r.json" "$1" 2>/dev/null; }
JT() { "$TOOLS/api_json" type "$T/r.json" "$1" 2>/dev/null; }
H() { grep -i "^$1:" "$T/r.h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
# expect DESC STATUS ENVELOPE: ENVELOPE is "ok" or "error <code>"
expect() {
    t_eq "$1 -> $2" "$2" "$S"
    t_eq "$1: envelope" "$3" "$("$TOOLS/api_json" envelope "$T/r.json" 2>&1)"
}
msg() { J .error.message; }

# --- health, unknown routes, methods ---------------------------------------
req GET /api/health
expect "health" 200 ok
t_eq "health: db" ok "$(J .data.db)"
t_eq "health: syncd down" down "$(J .data.syncd)"
t_eq "health: degraded without syncd" degraded "$(J .data.status)"
t_eq "health: JSON content type" "application/json" "$(H Content-Type)"

req GET /api/nope
expect "unknown route" 404 "error not_found"
req GET /api/user/me/extra
expect "route with an extra segment" 404 "error not_found"
req GET /api/user//me
expect "empty segment" 404 "error not_found"
req PUT /api/accounts
expect "PUT /api/accounts" 405 "error method_not_allowed"
t_eq "405 Allow lists both methods" "POST, GET" "$(H Allow)"
req DELETE /api/user/login
expect "DELETE login" 405 "error method_not_allowed"
t_eq "405 Allow on login" "POST" "$(H Allow)"
req POST /metrics
t_eq "POST /metrics -> 405" 405 "$S"
t_eq "Allow on /metrics" "GET" "$(H Allow)"

# --- register ----------------------------------------------------------------
PW=TestPassword123
req POST /api/user/register "" '{"phoneNumber":"+1234567890","password":"'$PW'"}'
expect "register A (phone)" 201 ok
t_eq "register: user fields" "createdAt id phoneNumber role" "$(K .data.user)"
t_eq "register: role user" user "$(J .data.user.role)"
A_ID=$(J .data.user.id)
t_not_contains "register: no password in the answer" "$(cat "$T/r.json")" "$PW"
req POST /api/user/register "" '{"email":"b@example.com","password":"'$PW'"}'
expect "register B (email)" 201 ok
t_eq "register B: user fields" "createdAt email id role" "$(K .data.user)"
B_ID=$(J .data.user.id)
req POST /api/user/register "" '{"email":"admin@example.com","password":"'$PW'"}'
expect "register admin_email" 201 ok
t_eq "admin_email gets role admin" admin "$(J .data.user.role)"
ADM_ID=$(J .data.user.id)
req POST /api/user/register "" '{"phoneNumber":"1234567890","password":"'$PW'"}'
expect "duplicate phone (other spelling)" 409 "error conflict"
req POST /api/user/register "" '{"email":"B@Example.COM","password":"'$PW'"}'
expect "duplicate email (other case)" 409 "error conflict"
req POST /api/user/register "" '{"email":"c@example.com","password":"short1"}'
expect "password too short" 400 "error bad_request"
t_contains "names the password field" "$(msg)" "'password'"
req POST /api/user/register "" '{"email":"c@example.com","password":"onlyletters"}'
expect "password without a digit" 400 "error bad_request"
req POST /api/user/register "" '{"email":"c@example.com"}'
expect "missing password" 400 "error bad_request"
t_eq "missing field named" "field 'password' is required" "$(msg)"
req POST /api/user/register "" '{"email":"c@example.com","password":12345678}'
expect "password of the wrong type" 400 "error bad_request"
t_eq "wrong type named" "field 'password' must be a string" "$(msg)"
req POST /api/user/register "" '{"password":"'$PW'"}'
expect "neither phone nor email" 400 "error bad_request"
t_contains "names phoneNumber/email" "$(msg)" "'phoneNumber' or 'email'"
req POST /api/user/register "" '{"email":"not-an-address","password":"'$PW'"}'
expect "invalid email" 400 "error bad_request"
t_contains "names email" "$(msg)" "'email'"
req POST /api/user/register "" '{"phoneNumber":"12ab","password":"'$PW'"}'
expect "invalid phone" 400 "error bad_request"
req POST /api/user/register "" '{"email":"c@example.com","password":"'$PW'"}' text/plain
expect "wrong Content-Type" 400 "error bad_request"
t_contains "says Content-Type" "$(msg)" "Content-Type"
req POST /api/user/register "" '{"email":"c@example.com",'
expect "invalid JSON" 400 "error bad_request"
t_contains "says invalid JSON" "$(msg)" "invalid JSON"
req POST /api/user/register "" '["c@example.com"]'
expect "JSON array instead of an object" 400 "error bad_request"
req POST /api/user/register "" '{"email":"c@example.com","email":"d@example.com","password":"'$PW'"}'
expect "duplicate JSON keys" 400 "error bad_request"
req POST /api/user/register "" "{\"email\":\"c@example.com\",\"password\":\"$PW\",\"pad\":\"$(head -c 5000 /dev/zero | tr '\0' x)\"}"
expect "body over api_body_max" 413 "error payload_too_large"
req POST /api/user/register
expect "no body" 400 "error bad_request"

# --- login ---------------------------------------------------------------------
req POST /api/user/login "" '{"phoneNumber":"+1234567890","password":"'$PW'"}'
expect "login A" 200 ok
t_eq "login: data fields" "expiresIn token user" "$(K .data)"
t_eq "login: expiresIn" 86400 "$(J .data.expiresIn)"
t_eq "login: expiresIn is an integer" integer "$(JT .data.expiresIn)"
t_eq "login: user is A" "$A_ID" "$(J .data.user.id)"
TA=$(J .data.token)
req POST /api/user/login "" '{"email":"b@example.com","password":"'$PW'"}'
expect "login B" 200 ok
TB=$(J .data.token)
req POST /api/user/login "" '{"email":"ADMIN@example.com","password":"'$PW'"}'
expect "login admin (email case-insensitive)" 200 ok
t_eq "admin login: role" admin "$(J .data.user.role)"
TADM=$(J .data.token)
req POST /api/user/login "" '{"email":"b@example.com","phoneNumber":"+1234567890","password":"'$PW'"}'
expect "login with both phone and email" 400 "error bad_request"
req POST /api/user/login "" '{"email":"b@example.com"}'
expect "login without password" 400 "error bad_request"

# --- me and the token matrix ------------------------------------------------------
req GET /api/user/me "$TA"
expect "me A" 200 ok
t_eq "me: A" "$A_ID" "$(J .data.user.id)"
req GET /api/user/me "$TB"
t_eq "me: B" "$B_ID" "$(J .data.user.id)"
req GET /api/user/me
expect "me without a token" 401 "error unauthorized"
t_contains "401 carries a Bearer challenge" "$(H WWW-Authenticate)" "Bearer"
req GET /api/user/me "garbage"
expect "garbage token" 401 "error unauthorized"
t_contains "bad token challenge says invalid_token" "$(H WWW-Authenticate)" 'error="invalid_token"'
last=${TA: -1}; [ "$last" = A ] && repl=B || repl=A
req GET /api/user/me "${TA%?}$repl"
expect "tampered signature" 401 "error unauthorized"
hdr=$(printf '{"alg":"HS256","typ":"JWT"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
pl=$(printf '{"sub":"%s","role":"admin","iat":%d,"exp":%d}' "$A_ID" "$(date +%s)" $(( $(date +%s) + 3600 )) | base64 -w0 | tr '+/' '-_' | tr -d '=')
sig=${TA##*.}
req GET /api/user/me "$hdr.$pl.$sig"
expect "payload swapped under A's signature (role admin)" 401 "error unauthorized"
none=$(printf '{"alg":"none","typ":"JWT"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
req GET /api/user/me "$none.$pl."
expect "alg none" 401 "error unauthorized"
EXP=$("$TOOLS/api_mint" "$DATA/jwt.key" "$A_ID" user 60 -7200)
req GET /api/user/me "$EXP"
expect "expired token" 401 "error unauthorized"
t_contains "expired is said" "$(msg)" "expired"
head -c 32 /dev/urandom >"$T/other.key"; chmod 600 "$T/other.key"
OTHER=$("$TOOLS/api_mint" "$T/other.key" "$A_ID" user 3600)
req GET /api/user/me "$OTHER"
expect "token signed with another key" 401 "error unauthorized"
GHOST=$("$TOOLS/api_mint" "$DATA/jwt.key" u_00000000000000ff user 3600)
req GET /api/user/me "$GHOST"
expect "valid token of a user who does not exist" 401 "error unauthorized"
ROLE=$("$TOOLS/api_mint" "$DATA/jwt.key" "$A_ID" root 3600)
req GET /api/user/me "$ROLE"
expect "token with an unknown role" 401 "error unauthorized"
S=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Basic YTpi" "$B/api/user/me")
expect "Basic instead of Bearer" 401 "error unauthorized"

# --- accounts ----------------------------------------------------------------------
APW='imap-Secret-9f3b'
req POST /api/accounts "$TA" '{"email":"a@example.com","imapHost":"imap.example.com","imapPort":993,"security":"tls","password":"'$APW'"}'
expect "create password account" 201 ok
t_eq "account fields" "auth createdAt email imapHost imapPort security username" "$(K .data.account)"
t_eq "username defaults to email" a@example.com "$(J .data.account.username)"
t_eq "auth password" password "$(J .data.account.auth)"
t_not_contains "no secret in the answer" "$(cat "$T/r.json")" "$APW"
RT='refresh-Tok-77aa'; CS='client-Sec-88bb'
req POST /api/accounts "$TB" '{"email":"b@example.com","imapHost":"10.0.0.7","imapPort":143,"security":"starttls","username":"bee","oauth2":{"tokenUrl":"https://oauth.example.com/token","clientId":"cid-1","clientSecret":"'$CS'","refreshToken":"'$RT'"}}'
expect "create xoauth2 account" 201 ok
t_eq "xoauth2 fields" "auth createdAt email imapHost imapPort oauth2 security username" "$(K .data.account)"
t_eq "oauth2 public half only" "clientId tokenUrl" "$(K .data.account.oauth2)"
t_not_contains "no refresh token" "$(cat "$T/r.json")" "$RT"
t_not_contains "no client secret" "$(cat "$T/r.json")" "$CS"
req POST /api/accounts "$TA" '{"email":"A@example.com","imapHost":"imap.example.com","imapPort":993,"security":"tls","password":"x"}'
expect "duplicate account" 409 "error conflict"
req POST /api/accounts "" '{"email":"z@example.com","imapHost":"h","imapPort":993,"security":"tls","password":"x"}'
expect "create without a token" 401 "error unauthorized"

bad_account() { # DESC BODY FIELD-IN-MESSAGE
    req POST /api/accounts "$TA" "$2"
    expect "account: $1" 400 "error bad_request"
    t_contains "account: $1 names $3" "$(msg)" "$3"
}
bad_account "bad host" '{"email":"z@example.com","imapHost":"bad host!","imapPort":993,"security":"tls","password":"x"}' "'imapHost'"
bad_account "host with a path" '{"email":"z@example.com","imapHost":"../../etc/passwd","imapPort":993,"security":"tls","password":"x"}' "'imapHost'"
bad_account "port as a string" '{"email":"z@example.com","imapHost":"h.example","imapPort":"993","security":"tls","password":"x"}' "'imapPort'"
bad_account "port out of range" '{"email":"z@example.com","imapHost":"h.example","imapPort":70000,"security":"tls","password":"x"}' "'imapPort'"
bad_account "unknown security" '{"email":"z@example.com","imapHost":"h.example","imapPort":993,"security":"ssl","password":"x"}' "'security'"
bad_account "missing security" '{"email":"z@example.com","imapHost":"h.example","imapPort":993,"password":"x"}' "'security'"
bad_account "bad email" "{\"email\":\"z'; DROP TABLE users;--\",\"imapHost\":\"h.example\",\"imapPort\":993,\"security\":\"tls\",\"password\":\"x\"}" "'email'"
bad_account "password and oauth2" '{"email":"z@example.com","imapHost":"h.example","imapPort":993,"security":"tls","password":"x","oauth2":{"tokenUrl":"https://t.example/x","clientId":"c","clientSecret":"s","refreshToken":"r"}}' "'oauth2'"
bad_account "no credentials" '{"email":"z@example.com","imapHost":"h.example","imapPort":993,"security":"tls"}' "'password'"
bad_account "oauth2 not an object" '{"email":"z@example.com","imapHost":"h.example","imapPort":993,"security":"tls","oauth2":"x"}' "'oauth2'"
bad_account "oauth2 missing refreshToken" '{"email":"z@example.com","imapHost":"h.example","imapPort":993,"security":"tls","oauth2":{"tokenUrl":"https://t.example/x","clientId":"c","clientSecret":"s"}}' "'oauth2.refreshToken'"
bad_account "oauth2 tokenUrl not https" '{"email":"z@example.com","imapHost":"h.example","imapPort":993,"security":"tls","oauth2":{"tokenUrl":"ftp://t.example/x","clientId":"c","clientSecret":"s","refreshToken":"r"}}' "'oauth2.tokenUrl'"

req GET /api/accounts "$TA"
expect "list A's accounts" 200 ok
t_eq "A sees one account" 1 "$("$TOOLS/api_json" len "$T/r.json" .data.accounts)"
t_eq "A sees only a@" a@example.com "$(J '.data.accounts[0].email')"
t_not_contains "list carries no secret" "$(cat "$T/r.json")" "$APW"
req GET /api/accounts "$TB"
t_eq "B sees only b@" b@example.com "$(J '.data.accounts[0].email')"
req GET /api/accounts "$TADM"
t_eq "admin has no accounts of its own" 0 "$("$TOOLS/api_json" len "$T/r.json" .data.accounts)"

t_eq "the password is sealed and opens with the seal key" "$APW" \
    "$("$TOOLS/api_seed" unseal "$DATA/onebox.db" "$DATA/seal.key" "$A_ID" a@example.com)"
t_contains "the oauth secret is sealed JSON" \
    "$("$TOOLS/api_seed" unseal "$DATA/onebox.db" "$DATA/seal.key" "$B_ID" b@example.com)" "\"refreshToken\":\"$RT\""
t_fail "no plaintext password in the database files" grep -aqF "$APW" "$DATA"/onebox.db*
t_fail "no plaintext refresh token in the database files" grep -aqF "$RT" "$DATA"/onebox.db*

t_wait_for 10 grep -q "account_added.*$A_ID" "$T/evtap.log"
t_contains "account_added published for A" "$(cat "$T/evtap.log")" "\"type\":\"account_added\""
t_contains "account_added is durable (has an id)" "$(grep account_added "$T/evtap.log" | head -n 1)" '"id":'

# --- emails ------------------------------------------------------------------------
seed() { "$TOOLS/api_seed" email "$DATA/onebox.db" "$@"; }
E1=$(seed "$A_ID" a@example.com INBOX 2026-01-01T10:00:00.000Z Interested "Invoice for March" "Ann <ann@example.com>" "please pay the invoice")
E2=$(seed "$A_ID" a@example.com INBOX 2026-01-02T10:00:00.000Z "Meeting Booked" "Meeting tomorrow" "bob@example.com" "see you at the e-mail meeting")
E3=$(seed "$A_ID" a@example.com Archive 2026-01-03T10:00:00.000Z Spam "Cheap pills" "spam@example.com" "buy now")
EB=$(seed "$B_ID" b@example.com INBOX 2026-01-04T10:00:00.000Z Interested "B's invoice" "carl@example.com" "invoice for B")

req GET /api/emails "$TA"
expect "list emails" 200 ok
t_eq "page fields" "emails limit nextOffset offset" "$(K .data)"
t_eq "A has three emails" 3 "$("$TOOLS/api_json" len "$T/r.json" .data.emails)"
t_eq "newest first" "$E3" "$(J '.data.emails[0].id')"
t_eq "email fields (seed 001)" "body categorizedAt category categoryConfidence date email folder from id subject to uid userId" "$(K '.data.emails[0]')"
t_eq "nextOffset null on the last page" null "$(J .data.nextOffset)"
req GET "/api/emails?limit=2" "$TA"
t_eq "limit 2" 2 "$("$TOOLS/api_json" len "$T/r.json" .data.emails)"
t_eq "nextOffset 2" 2 "$(J .data.nextOffset)"
req GET "/api/emails?limit=2&offset=2" "$TA"
t_eq "second page" "$E1" "$(J '.data.emails[0].id')"
req GET "/api/emails?folder=inbox" "$TA"
t_eq "folder INBOX (case-insensitive)" 2 "$("$TOOLS/api_json" len "$T/r.json" .data.emails)"
req GET "/api/emails?category=Meeting+Booked" "$TA"
t_eq "category filter" "$E2" "$(J '.data.emails[0].id')"
req GET "/api/emails?since=2026-01-02T00:00:00Z" "$TA"
t_eq "since filter" 2 "$("$TOOLS/api_json" len "$T/r.json" .data.emails)"
req GET "/api/emails?account=b%40example.com" "$TA"
t_eq "another user's account filter shows nothing" 0 "$("$TOOLS/api_json" len "$T/r.json" .data.emails)"
req GET "/api/emails?folder=INBOX%27%20OR%20%271%27%3D%271" "$TA"
expect "SQL in a filter is just text" 200 ok
t_eq "SQL in a filter matches nothing" 0 "$("$TOOLS/api_json" len "$T/r.json" .data.emails)"
for q in "limit=0" "limit=201" "limit=abc" "offset=-1" "category=Junk" "since=yesterday" "account=nope" "folder=%00x" "account=%zz"; do
    req GET "/api/emails?$q" "$TA"
    expect "list with $q" 400 "error bad_request"
done
req GET /api/emails
expect "list without a token" 401 "error unauthorized"

req GET "/api/emails/$E1" "$TA"
expect "get own email" 200 ok
t_eq "get: subject" "Invoice for March" "$(J .data.email.subject)"
t_eq "get: folder" INBOX "$(J .data.email.folder)"
t_eq "get: account address" a@example.com "$(J .data.email.email)"
req GET "/api/emails/$EB" "$TA"
expect "another user's email is not revealed" 404 "error not_found"
req GET "/api/emails/$EB" "$TADM"
expect "admin reads any email" 200 ok
for id in 0 abc -1 "1%20OR%201%3D1" "..%2F1" 99999999999999999999; do
    req GET "/api/emails/$id" "$TA"
    expect "email id '$id'" 400 "error bad_request"
done

req GET "/api/emails/search?q=invoice" "$TA"
expect "search" 200 ok
t_eq "search finds A's invoice only" "$E1" "$(J '.data.emails[0].id')"
t_eq "search: one hit" 1 "$("$TOOLS/api_json" len "$T/r.json" .data.emails)"
req GET "/api/emails/search?q=e-mail+meeting" "$TA"
t_eq "punctuation in plain words is text" "$E2" "$(J '.data.emails[0].id')"
req GET "/api/emails/search?q=re%3A+meeting" "$TA"
expect "a colon in plain words is text" 200 ok
req GET "/api/emails/search?q=%22pay+the%22" "$TA"
t_eq "explicit phrase" "$E1" "$(J '.data.emails[0].id')"
req GET "/api/emails/search?q=invoice+OR+pills" "$TA"
t_eq "explicit OR" 2 "$("$TOOLS/api_json" len "$T/r.json" .data.emails)"
req GET "/api/emails/search?q=invo*" "$TA"
t_eq "explicit prefix" "$E1" "$(J '.data.emails[0].id')"
for q in "%22unterminated" "(invoice" "invoice+AND" "%22x%22+OR" "NEAR(a" "nosuchcol%3Ax+AND+y"; do
    req GET "/api/emails/search?q=$q" "$TA"
    expect "FTS syntax error in '$q'" 400 "error bad_request"
done
req GET "/api/emails/search?q=%27%3B+DROP+TABLE+emails%3B--" "$TA"
expect "SQL in a search is just words" 200 ok
req GET "/api/emails/search" "$TA"
expect "search without q" 400 "error bad_request"
req GET "/api/emails/search?q=$(head -c 300 /dev/zero | tr '\0' a)" "$TA"
expect "search q too long" 400 "error bad_request"
req GET "/api/emails/search?q=invoice" "$TB"
t_eq "B's search sees B's invoice only" "$EB" "$(J '.data.emails[0].id')"

# --- sync routes without onebox-syncd --------------------------------------------------
req GET "/api/sync/status/$A_ID" "$TA"
expect "status with syncd down" 503 "error unavailable"
t_eq "503 has Retry-After" 5 "$(H Retry-After)"
req GET "/api/sync/status/$A_ID" "$TB"
expect "B asks for A's status" 403 "error forbidden"
req GET "/api/sync/status/$A_ID" "$TADM"
expect "admin asks for A's status (authorized; syncd down)" 503 "error unavailable"
req GET "/api/sync/status/$A_ID"
expect "status without a token" 401 "error unauthorized"
req GET "/api/sync/status/$A_ID" "$EXP"
expect "status with an expired token" 401 "error unauthorized"
req GET "/api/sync/status/..%2F..%2Fetc" "$TA"
expect "traversal in userId" 400 "error bad_request"
req GET "/api/sync/status/$A_ID?email=bad" "$TA"
expect "status with a bad email" 400 "error bad_request"
req POST "/api/sync/start/$A_ID/nobody%40example.com" "$TA"
expect "start an unknown account" 404 "error not_found"
req POST "/api/sync/start/$A_ID/a%40example.com" "$TA"
expect "start with syncd down" 503 "error unavailable"
req POST "/api/sync/start/$B_ID/b%40example.com" "$TA"
expect "A starts B's sync" 403 "error forbidden"
req POST "/api/sync/start/$A_ID/a%40example.com%2F.." "$TA"
expect "traversal in email" 400 "error bad_request"
req POST "/api/sync/stop/$A_ID" "$TA" '{"email":"not an email"}'
expect "stop with a bad email" 400 "error bad_request"
req POST "/api/sync/stop/$A_ID" "$TA" '{"email":42}'
expect "stop with email of the wrong type" 400 "error bad_request"
t_eq "stop: wrong type named" "field 'email' must be a string" "$(msg)"
req POST "/api/sync/stop/$A_ID" "$TA"
expect "stop all with syncd down" 503 "error unavailable"
req GET /api/sync/clients "$TA"
expect "clients as a user" 403 "error forbidden"
req GET /api/sync/clients "$TADM"
expect "clients as admin (syncd down)" 503 "error unavailable"

# --- delete accounts -------------------------------------------------------------------
req DELETE "/api/accounts/b%40example.com" "$TA"
expect "A deletes B's account (not A's)" 404 "error not_found"
# nginx resolves "%2F.." itself before choosing a location; this one stays
# under /api/ and so reaches the API's own check on the raw REQUEST_URI.
req DELETE "/api/accounts/..%2Fa%40example.com" "$TA"
expect "traversal in the account path" 400 "error bad_request"
req DELETE "/api/accounts/a%00b%40example.com" "$TA"
t_eq "NUL in the account path is refused (by nginx)" 400 "$S"
req DELETE "/api/accounts/a%40example.com" "$TA"
expect "delete A's account" 200 ok
t_eq "delete: fields" "deleted email" "$(K .data)"
req DELETE "/api/accounts/a%40example.com" "$TA"
expect "delete again" 404 "error not_found"
req GET "/api/emails/$E1" "$TA"
expect "the account's mail went with it" 404 "error not_found"
t_wait_for 10 grep -q account_removed "$T/evtap.log"
t_contains "account_removed published" "$(cat "$T/evtap.log")" "\"type\":\"account_removed\""

# --- metrics -----------------------------------------------------------------------------
req GET /metrics
expect "metrics without a token" 401 "error unauthorized"
req GET /metrics "$TA"
expect "metrics as a user" 403 "error forbidden"
S=$(curl -s -o "$T/m.txt" -D "$T/r.h" -w '%{http_code}' -H "Authorization: Bearer $TADM" "$B/metrics")
t_eq "metrics as admin" 200 "$S"
t_contains "metrics content type" "$(H Content-Type)" "text/plain; version=0.0.4"
M=$(cat "$T/m.txt")
t_contains "requests by route and status" "$M" 'onebox_api_requests_total{method="POST",route="/api/user/register",status="201"} 3'
t_contains "409 counted" "$M" 'onebox_api_requests_total{method="POST",route="/api/user/register",status="409"} 2'
t_contains "unmatched routes in one series" "$M" 'route="unmatched",status="404"'
t_contains "latency histogram" "$M" 'onebox_api_request_duration_seconds_bucket{method="GET",route="/api/user/me",le="+Inf"}'
t_contains "histogram count" "$M" 'onebox_api_request_duration_seconds_count{method="GET",route="/api/health"} 1'

# --- login throttling (ONEBOX_LOGIN_MAX_FAILURES=3) ------------------------------------------
# Every address in 127.0.0.0/8 is local: --interface gives each attempt the
# client address the throttle sees (nginx's REMOTE_ADDR).
for i in 11 12 13; do
    req POST /api/user/login "" '{"email":"b@example.com","password":"wrong-Pass1"}' application/json "127.0.0.$i"
    expect "B wrong password from .$i" 401 "error unauthorized"
done
req POST /api/user/login "" '{"email":"b@example.com","password":"'$PW'"}' application/json 127.0.0.14
expect "B throttled per account, even with the right password" 429 "error rate_limited"
RA=$(H Retry-After)
t_ok "Retry-After is 1..600 seconds ($RA)" test "$RA" -ge 1 -a "$RA" -le 600
req POST /api/user/login "" '{"phoneNumber":"+1234567890","password":"'$PW'"}' application/json 127.0.0.14
expect "A from the same address still logs in" 200 ok
for u in x1 x2 x3; do
    req POST /api/user/login "" '{"email":"'$u'@example.com","password":"wrong-Pass1"}' application/json 127.0.0.21
    expect "unknown user $u from .21" 401 "error unauthorized"
done
t_eq "unknown and wrong password answer alike" "wrong phone number, email or password" "$(msg)"
req POST /api/user/login "" '{"phoneNumber":"+1234567890","password":"'$PW'"}' application/json 127.0.0.21
expect "address .21 throttled" 429 "error rate_limited"
t_ok "Retry-After on the address throttle" test -n "$(H Retry-After)"
req POST /api/user/login "" '{"phoneNumber":"+1234567890","password":"'$PW'"}' application/json 127.0.0.22
expect "A from another address" 200 ok

# --- secrets never logged; clean shutdown -----------------------------------------------------
LOG=$(cat "$T/api.log")
t_not_contains "no user password in the log" "$LOG" "$PW"
t_not_contains "no IMAP password in the log" "$LOG" "$APW"
t_not_contains "no refresh token in the log" "$LOG" "$RT"
t_not_contains "no token in the log" "$LOG" "$TA"
t_stop api
t_contains "SIGTERM: clean stop" "$(cat "$T/api.log")" "stopped"
t_not_contains "no sanitizer report" "$(cat "$T/api.log")" "Sanitizer"
t_not_contains "no leak report" "$(cat "$T/api.log")" "LeakSanitizer"
t_done
