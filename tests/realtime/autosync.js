/*
 * onebox-realtime auto start/stop (seed 001): a user's first connection
 * sends sync.sock `start {user}`; their last one closing sends `stop {user}`
 * cfg.sync_grace seconds later unless they come back; a down or hung
 * sync service never affects the WebSocket side.
 * Run by tests/integration/53_realtime_autosync.sh with sync_grace=2, with
 * socat on the sync.sock path recording each request line in RT_CTL_LINES
 * (and, for the end-to-end scenario, the real onebox-syncd instead).
 */
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const L = require('./lib');
const { connectUser, newUser, sleep } = L;

function requests(user) {
  let text = '';
  try { text = fs.readFileSync(L.env('RT_CTL_LINES'), 'utf8'); } catch (e) { /* none yet */ }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.user === user);
}

async function waitRequests(user, n, timeout = 20000) {
  const end = Date.now() + timeout;
  for (;;) {
    const r = requests(user);
    if (r.length >= n) return r;
    if (Date.now() > end) throw new Error(`${user}: ${r.length} requests, wanted ${n}: ${JSON.stringify(r)}`);
    await sleep(100);
  }
}

const scenarios = {
  async first_connection_starts_last_stops_after_grace() {
    const u = newUser();
    const a = await connectUser(u);
    const b = await connectUser(u, 'user', { path: '/ws/imap-logs' });
    const r = await waitRequests(u, 1);
    assert.equal(r[0].op, 'start');
    assert.equal(r[0].email, undefined, 'all the user\'s accounts');
    a.close();
    await a.waitClose();
    await sleep(3500);
    assert.equal(requests(u).length, 1, 'no stop while a connection is open');
    b.close();
    const r2 = await waitRequests(u, 2);
    assert.equal(r2[1].op, 'stop');
    await sleep(2500);
    assert.equal(requests(u).length, 2, 'exactly one start and one stop');
  },

  async back_within_the_grace_keeps_syncing() {
    const u = newUser();
    const a = await connectUser(u);
    await waitRequests(u, 1);
    a.close();
    await a.waitClose();
    await sleep(500);
    const b = await connectUser(u);
    await sleep(3500);
    assert.deepEqual(requests(u).map((x) => x.op), ['start'], 'no stop, no second start');
    b.close();
    assert.deepEqual((await waitRequests(u, 2)).map((x) => x.op), ['start', 'stop']);
  },

  /* With sync.sock down or hung, connections, pings and events still flow. */
  async websocket_unaffected_by_sync_service() {
    const u = newUser();
    const t0 = Date.now();
    const c = await connectUser(u);
    assert.equal((await c.ask({ type: 'ping' }, 'pong')).type, 'pong');
    const pub = new L.Publisher();
    const id = await pub.publish(L.email(u, 1));
    await c.next((m) => m.id === id);
    await pub.close();
    const others = [];
    for (let i = 0; i < 5; i++) others.push(await connectUser(newUser()));
    assert.ok(Date.now() - t0 < 2500, 'not waiting on sync.sock calls');
    for (const o of others) o.close();
    c.close();
  },

  /* End to end with the real onebox-syncd and Dovecot: connecting starts the
   * account, its sync_status and a delivered message arrive live. */
  async e2e_with_real_syncd() {
    const u = L.env('RT_E2E_USER');
    const c = await connectUser(u);
    const st = await c.next((m) => m.type === 'sync_status' && m.data.status === 'idle', 30000);
    assert.equal(st.data.email, L.env('RT_E2E_EMAIL'));
    assert.ok(st.id > 0, 'durable');
    fs.writeFileSync(L.env('RT_E2E_READY'), '');
    const subject = L.env('RT_E2E_SUBJECT');
    const ne = await c.next((m) => m.type === 'new_email' && m.data.email.subject === subject, 30000);
    assert.equal(ne.data.userId, u);
    assert.equal(ne.data.email.folder, 'INBOX');
    assert.ok(ne.id > st.id);
    c.close();
    await c.waitClose();
  },
};

L.main(scenarios);
