#!/bin/sh
# tests/integration/50_realtime_protocol.sh: onebox-realtime's WebSocket
# protocol with real clients (Node `ws`, tests/realtime/protocol.js): every
# auth path (?token=, Authorization, cookie, auth message, bad/expired/none
# tokens -> auth_error + 4401, auth timeout), every message type, topics,
# rooms and their role rule, isolation, "*" events to admins, /ws/imap-logs,
# metrics, /health /stats /metrics; the listener is on 127.0.0.1 only;
# publishers' garbage lines are dropped with a reason while they stay
# connected; SIGTERM closes clients with 1001 and the sidecar exits cleanly.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$ONEBOX_SRC/tests/realtime/rt_lib.sh"

t_init rt_protocol
command -v node >/dev/null 2>&1 || t_skip "node is not installed"
rt_npm || t_bail "npm ci in tests/realtime failed"

rt_start rt ONEBOX_WS_AUTH_TIMEOUT=2 || t_bail "onebox-realtime did not start"
t_ok "listens on 127.0.0.1 only (ss -ltn)" t_loopback_only "$RT_PORT"
t_ok "events.sock is mode 0660" test "$(stat -c %a "$RT_EVSOCK")" = 660

rt_scenarios protocol.js

# A publisher's garbage is dropped, logged, and the publisher stays on.
t_ok "publisher garbage dropped, publisher kept" node -e '
const L = require(process.env.RT_DIR + "/lib.js");
(async () => {
  const u = L.newUser();
  const c = await L.connectUser(u);
  const pub = new L.Publisher();
  await pub.raw("this is not json");
  await pub.raw("{\"v\":1,\"type\":\"new_email\",\"user\":\"u_x\",\"data\":{}}");
  await pub.raw("{\"v\":9,\"type\":\"imap_log\",\"user\":\"u_x\",\"data\":{}}");
  const id = await pub.publish(L.email(u, 7));
  const m = await c.next((x) => x.type === "new_email" && x.id === id);
  await pub.close();
  c.close();
  process.exit(m ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });'
t_ok "bad lines logged with a reason" grep -q "dropped a line of .*durable event 'new_email' needs its outbox id" "$T/rt.log"
t_ok "bad JSON logged" grep -q "events.sock (pid .*): dropped a line" "$T/rt.log"

# A publisher running as another user is refused (SO_PEERCRED).
if command -v setpriv >/dev/null 2>&1 && command -v socat >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    chmod 0666 "$RT_EVSOCK"
    chmod o+x "$T" "$RT_DATA" "$RT_DATA/run"
    printf '{"v":1,"type":"imap_log","user":"u_x","data":{}}\n' |
        setpriv --reuid=65534 --regid=65534 --clear-groups socat -t1 - "UNIX-CONNECT:$RT_EVSOCK" >/dev/null 2>&1
    t_ok "publisher of another uid refused by peer credentials" t_wait_log rt "refusing a publisher (pid"
    chmod 0660 "$RT_EVSOCK"
    chmod o-x "$T" "$RT_DATA" "$RT_DATA/run"
fi

# SIGTERM: every client gets 1001, the sidecar exits 0 with nothing leaked.
node -e '
const L = require(process.env.RT_DIR + "/lib.js");
const fs = require("fs");
(async () => {
  const cs = [];
  for (let i = 0; i < 3; i++) cs.push(await L.connectUser(L.newUser()));
  fs.writeFileSync(process.env.T + "/clients.ready", "");
  const codes = await Promise.all(cs.map((c) => c.waitClose(60000)));
  fs.writeFileSync(process.env.T + "/clients.codes", codes.map((x) => x.code).join(" "));
})().catch((e) => { console.error(e); process.exit(1); });' >"$T/watch.log" 2>&1 &
watcher=$!
t_wait_file "$T/clients.ready"
pid=$(t_pid rt)
kill -TERM "$pid"
wait "$pid"
rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
wait "$watcher"
t_eq "SIGTERM: every client closed with 1001" "1001 1001 1001" "$(cat "$T/clients.codes" 2>/dev/null)"
t_ok "SIGTERM: logged the clean stop" grep -q "info: stopped" "$T/rt.log"
t_fail "SIGTERM: events.sock removed" test -e "$RT_EVSOCK"
rt_sanitizer_clean rt
t_done
