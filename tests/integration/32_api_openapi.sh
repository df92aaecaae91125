#!/bin/bash
# 32_api_openapi: contrib/openapi.yaml against the implementation, both ways.
#   - every implemented route (onebox-api --routes, printed from the route
#     table itself) is documented, with the same method and path;
#   - every documented route is implemented, and answers through nginx with
#     real parameter values — anything but 404 (no such route) or 405.
. "$ONEBOX_SRC/tests/lib/common.sh"
. "$ONEBOX_SRC/tests/lib/nginx.sh"
t_init api_openapi

TOOLS=$ONEBOX_TOOLS
DOC=$ONEBOX_SRC/contrib/openapi.yaml
[ -r "$DOC" ] || t_bail "no $DOC"

# "METHOD /path/:param" per operation under `paths:` (2-space path keys,
# 4-space method keys), {param} written as :param like the route table.
awk '
    /^[^ #]/ { inpaths = ($0 ~ /^paths:/) ; next }
    !inpaths { next }
    /^  \/[^ ]*:[ ]*$/ { p = $1; sub(/:$/, "", p); gsub(/\{/, ":", p); gsub(/\}/, "", p); next }
    /^    (get|put|post|delete|patch|head|options):/ { m = $1; sub(/:$/, "", m); print toupper(m) " " p }
' "$DOC" | sort >"$T/documented"
"$ONEBOX_BIN/onebox-api" --routes | awk '{ print $1 " " $2 }' | sort >"$T/implemented"

t_ok "the document lists routes" test -s "$T/documented"
t_ok "the binary lists routes" test -s "$T/implemented"
t_eq "every implemented route is documented" "" "$(comm -13 "$T/documented" "$T/implemented" | tr '\n' ';')"
t_eq "every documented route is implemented" "" "$(comm -23 "$T/documented" "$T/implemented" | tr '\n' ';')"

# Admin-only routes in the table are marked admin-only in the document.
for r in $("$ONEBOX_BIN/onebox-api" --routes | awk '$3 == "admin" { print $2 }'); do
    doc_path=$(printf '%s' "$r" | sed -E 's/:([A-Za-z]+)/{\1}/g')
    t_ok "$r is described as admin only" sh -c "awk '/^  \\// { p = \$1 } p == \"$doc_path:\"' '$DOC' | grep -qi 'admin'"
done

# Every documented route answers with real values.
DATA=$T/data
export ONEBOX_DATA_DIR=$DATA ONEBOX_ADMIN_EMAIL=admin@example.com
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
t_bg api "$ONEBOX_BIN/onebox-api"
t_wait_file "$DATA/run/api.sock" || t_bail "onebox-api did not listen"
nginx_start "unix:$DATA/run/api.sock" || t_bail "nginx did not start"
B="http://127.0.0.1:$NGINX_PORT"
post() { curl -s -X POST -H 'Content-Type: application/json' --data-binary "$2" ${3:+-H "Authorization: Bearer $3"} "$B$1"; }
post /api/user/register '{"email":"admin@example.com","password":"TestPassword123"}' >"$T/reg.json"
post /api/user/login '{"email":"admin@example.com","password":"TestPassword123"}' >"$T/login.json"
TOK=$("$TOOLS/api_json" get "$T/login.json" .data.token)
ADM=$("$TOOLS/api_json" get "$T/login.json" .data.user.id)
post /api/accounts '{"email":"a@example.com","imapHost":"imap.example.com","imapPort":993,"security":"tls","password":"x"}' "$TOK" >/dev/null
EID=$("$TOOLS/api_seed" email "$DATA/onebox.db" "$ADM" a@example.com INBOX 2026-01-01T00:00:00.000Z Interested hi me body)
t_ok "fixtures ready" test -n "$TOK" -a -n "$EID"

# DELETE last: it removes the account the other routes use.
sort -r "$T/documented" >"$T/ops"
while read -r m p; do
    url=$(printf '%s' "$p" | sed -e "s/:userId/$ADM/" -e "s/:email/a%40example.com/" -e "s/:id/$EID/")
    case $p in /api/emails/search) url="$url?q=hi" ;; esac
    s=$(curl -s -o "$T/r.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOK" "$B$url")
    if [ "$s" != 404 ] && [ "$s" != 405 ]; then
        t_ok "$m $p answers ($s)"
    else
        t_fail "$m $p answers (got $s: $(head -c 200 "$T/r.out"))"
    fi
done <"$T/ops"
t_stop api
t_not_contains "no sanitizer report" "$(cat "$T/api.log")" "Sanitizer"
t_done
