#!/bin/sh
# tests/integration/54_realtime_page.sh: the seed 001 test page in headless
# Chromium (playwright-core, Debian's /usr/bin/chromium) served by nginx
# (tests/lib/nginx.sh) with /ws proxied to onebox-realtime: opened with
# ?token= it connects and shows a published new_email (tests/realtime/page.js).
# Also the Origin allow-list (cfg.ws_origins) with a Node client.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$LIB/nginx.sh"
. "$ONEBOX_SRC/tests/realtime/rt_lib.sh"

t_init rt_page
command -v node >/dev/null 2>&1 || t_skip "node is not installed"
rt_npm || t_bail "npm ci in tests/realtime failed"

rt_start rt || t_bail "onebox-realtime did not start"
mkdir -p "$T/www"
cp "$ONEBOX_SRC/contrib/www/"* "$T/www/"
cp "$ONEBOX_SRC/contrib/onebox.js" "$T/www/onebox.js"
nginx_start "unix:$T/no-api.sock" "127.0.0.1:$RT_PORT" "$T/www" || t_bail "nginx did not start"
export RT_PAGE_BASE="http://127.0.0.1:$NGINX_PORT"

if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    # Chromium keeps its own scratch dirs in TMPDIR: inside $T they go with it.
    export TMPDIR="$T"
    rt_scenarios page.js page_shows_published_new_email
else
    t_log "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: page scenario skipped"
fi
t_ok "the page's WebSocket went through nginx" grep -q "GET /ws?" "$NGINX_DIR/access.log"
t_stop nginx
t_stop rt
rt_sanitizer_clean rt

# Origin allow-list: a browser page from elsewhere is refused before the upgrade.
rt_start rt_origin "ONEBOX_WS_ORIGINS=https://mail.example.com, http://127.0.0.1:8080" ||
    t_bail "second sidecar did not start"
t_ok "origins: allowed, absent and other origins" node -e '
const L = require(process.env.RT_DIR + "/lib.js");
(async () => {
  const ok = new L.Client(L.url("/ws", { token: L.token(L.newUser()) }), { headers: { Origin: "https://mail.example.com" } });
  await ok.next("connected");
  const ok2 = new L.Client(L.url("/ws", { token: L.token(L.newUser()) }), { headers: { Origin: "http://127.0.0.1:8080" } });
  await ok2.next("connected");
  const none = new L.Client(L.url("/ws", { token: L.token(L.newUser()) }));
  await none.next("connected");
  const bad = new L.Client(L.url("/ws", { token: L.token(L.newUser()) }), { headers: { Origin: "https://evil.example" } });
  let status = 0;
  try { await bad.opened; } catch (e) { status = e.status; }
  if (status !== 403) throw new Error("evil origin: " + status);
  for (const c of [ok, ok2, none]) c.close();
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });'
t_stop rt_origin
rt_sanitizer_clean rt_origin
t_done
