/*
 * onebox-realtime protocol scenarios (DESIGN.md "WebSocket protocol"):
 * every auth path, every client and server message type, topics, rooms and
 * their role rule, isolation between users, "*" events to admins,
 * /ws/imap-logs (seed 000), metrics (seed 003), and the HTTP endpoints.
 * Run by tests/integration/50_realtime_protocol.sh, one scenario per call:
 *   node protocol.js --list | node protocol.js NAME
 * The sidecar runs with ws_auth_timeout=2.
 */
'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const L = require('./lib');
const { Client, connectUser, Publisher, email, newUser, token, url } = L;

async function expectAuthError(c, why) {
  const e = await c.next('auth_error');
  assert.equal(typeof e.data.message, 'string', why);
  const closed = await c.waitClose();
  assert.equal(closed.code, 4401, `${why}: close code`);
}

/* Publishes `events`, then a marker new_email; returns the messages the
 * client got up to the marker (everything published before it has been
 * fanned out by then: one publisher, one ordered stream). */
async function through(c, pub, user, events) {
  for (const ev of events) await pub.publish(ev);
  const marker = `marker-${crypto.randomBytes(4).toString('hex')}`;
  await pub.publish(email(user, 0, { subject: marker }));
  const from = 0;
  await c.next((m) => m.type === 'new_email' && m.data.email.subject === marker, L.WAIT_MS, from);
  return c.msgs;
}

const scenarios = {
  async auth_query_token() {
    const u = newUser();
    const c = new Client(url('/ws', { token: token(u) }));
    const m = await c.next('connected');
    assert.equal(m.data.userId, u);
    assert.match(m.data.connectionId, /^c\d+$/);
    assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    c.close();
  },

  async auth_bearer_header() {
    const u = newUser();
    const c = new Client(url('/ws'), { headers: { Authorization: `Bearer ${token(u)}` } });
    assert.equal((await c.next('connected')).data.userId, u);
    c.close();
  },

  async auth_cookie() {
    const u = newUser();
    const c = new Client(url('/ws'), { headers: { Cookie: `theme=dark; onebox_token=${token(u)}; x=1` } });
    assert.equal((await c.next('connected')).data.userId, u);
    c.close();
  },

  async auth_message() {
    const u = newUser();
    const c = new Client(url('/ws'));
    await c.opened;
    const ok = await c.ask({ type: 'auth', token: token(u) }, 'auth_success');
    assert.equal(ok.data.userId, u);
    assert.equal((await c.next('connected')).data.userId, u);
    // the same user may present a fresh token later
    const again = await c.ask({ type: 'auth', data: { token: token(u, 'user', 7200) } }, ['auth_success', 'error']);
    assert.equal(again.type, 'auth_success');
    c.close();
  },

  async auth_bad_tokens_get_4401() {
    const u = newUser();
    const cases = {
      garbage: 'not.a.token',
      expired: token(u, 'user', -120),
      wrong_key: token(u, 'user', 3600, { key: crypto.randomBytes(32) }),
      alg_none: token(u, 'user', 3600, { alg: 'none' }),
      bad_role: token(u, 'root'),
    };
    for (const [why, t] of Object.entries(cases)) {
      await expectAuthError(new Client(url('/ws', { token: t })), why);
      await expectAuthError(new Client(url('/ws'), { headers: { Authorization: `Bearer ${t}` } }), `${why} (header)`);
      const c = new Client(url('/ws'));
      await c.opened;
      c.send({ type: 'auth', token: t });
      await expectAuthError(c, `${why} (message)`);
    }
  },

  async auth_timeout_gets_4401() {
    const c = new Client(url('/ws'));
    await c.opened;
    const e = await c.next('auth_error');
    assert.match(e.data.message, /timeout/);
    assert.equal((await c.waitClose()).code, 4401);
  },

  async token_expiring_while_connected_gets_4401() {
    // exp 28 s ago: still inside ob_jwt's 30 s leeway at connect, past it soon
    const c = new Client(url('/ws', { token: token(newUser(), 'user', 2, { iatOffset: -30 }) }));
    await c.next('connected');
    const e = await c.next('auth_error', 20000);
    assert.match(e.data.message, /expired/);
    assert.equal((await c.waitClose()).code, 4401);
  },

  async unauthenticated_may_only_ping_or_auth() {
    // no subprotocol and no token: lands on our protocol, not an open bypass
    const c = new Client(url('/ws'));
    await c.opened;
    assert.equal((await c.ask({ type: 'subscribe', topics: ['emails'] }, 'error')).data.code, 'not_authenticated');
    assert.equal((await c.ask({ type: 'ping' }, 'pong')).type, 'pong');
    assert.equal(c.of('connected').length, 0);
    const u = newUser();
    await c.ask({ type: 'auth', token: token(u) }, 'auth_success');
    assert.equal((await c.ask({ type: 'subscribe', topics: ['emails'] }, 'subscribed')).data.topics[0], 'emails');
    c.close();
  },

  async unknown_subprotocol_and_path_refused() {
    const u = newUser();
    const bad = new Client(url('/ws', { token: token(u) }), { protocols: ['not-ours'] });
    await assert.rejects(bad.opened);
    const other = new Client(url('/elsewhere', { token: token(u) }));
    await assert.rejects(other.opened, /404/);
    const named = new Client(url('/ws', { token: token(u) }), { protocols: ['onebox'] });
    await named.next('connected');
    named.close();
  },

  async ping_pong() {
    const c = await connectUser(newUser());
    const p = await c.ask({ type: 'ping', data: { message: 'hello' } }, 'pong');
    assert.match(p.data.timestamp, /Z$/);
    c.close();
  },

  async default_topics_without_subscribe() {
    const u = newUser();
    const c = await connectUser(u);
    const pub = new Publisher();
    const ids = [];
    ids.push(await pub.publish(email(u, 1)));
    ids.push(await pub.publish({ type: 'sync_status', user: u, data: { userId: u, status: 'idle', email: 'box@example.com', timestamp: '2026-01-01T00:00:00.000Z' } }));
    ids.push(await pub.publish({ type: 'account_added', user: u, data: { userId: u, email: 'box@example.com' } }));
    await pub.publish({ type: 'sync_progress', user: u, data: { userId: u, email: 'box@example.com', fetched: 1, total: 2 } });
    await pub.publish({ type: 'imap_log', user: u, data: { id: 'l1', level: 'info', command: 'NOOP' } });
    const msgs = await through(c, pub, u, []);
    await pub.close();
    const ne = msgs.find((m) => m.type === 'new_email' && m.id === ids[0]);
    assert.ok(ne, 'new_email arrives without subscribing');
    assert.equal(ne.data.email.subject, 'Subject 1');
    assert.equal(ne.data.userId, u);
    assert.equal(msgs.find((m) => m.type === 'sync_status').id, ids[1]);
    assert.equal(msgs.find((m) => m.type === 'sync_status').data.status, 'idle');
    assert.equal(msgs.find((m) => m.type === 'account_added').id, ids[2]);
    const prog = msgs.find((m) => m.type === 'sync_progress');
    assert.ok(prog && prog.id === undefined, 'sync_progress is ephemeral: no id');
    assert.equal(msgs.filter((m) => m.type === 'imap_log').length, 0, 'imap-logs is not a default topic');
    c.close();
  },

  async subscribe_and_unsubscribe_topics() {
    const u = newUser();
    const c = await connectUser(u);
    const s = await c.ask({ type: 'subscribe', data: { topics: ['emails'] } }, 'subscribed');
    assert.deepEqual(s.data.topics, ['emails']);
    const pub = new Publisher();
    let msgs = await through(c, pub, u, [{ type: 'sync_status', user: u, data: { userId: u, status: 'syncing' } }]);
    assert.equal(msgs.filter((m) => m.type === 'sync_status').length, 0, 'sync not subscribed');
    const s2 = await c.ask({ type: 'subscribe', topics: ['sync', 'imap-logs'] }, 'subscribed');
    assert.deepEqual(s2.data.topics, ['emails', 'sync', 'imap-logs']);
    const un = await c.ask({ type: 'unsubscribe', topics: ['sync'] }, 'unsubscribed');
    assert.deepEqual(un.data.topics, ['emails', 'imap-logs']);
    msgs = await through(c, pub, u, [
      { type: 'sync_status', user: u, data: { userId: u, status: 'error', error: 'x' } },
      { type: 'imap_log', user: u, data: { id: 'l2', command: 'FETCH' } },
    ]);
    assert.equal(msgs.filter((m) => m.type === 'sync_status').length, 0, 'unsubscribed from sync');
    assert.equal(msgs.filter((m) => m.type === 'imap_log').length, 1, 'imap_log on the imap-logs topic');
    await pub.close();
    c.close();
  },

  async topic_errors_keep_connection() {
    const c = await connectUser(newUser());
    assert.equal((await c.ask({ type: 'subscribe', topics: ['nope'] }, 'error')).data.code, 'unknown_topic');
    assert.equal((await c.ask({ type: 'subscribe', topics: ['metrics'] }, 'error')).data.code, 'forbidden');
    assert.equal((await c.ask({ type: 'subscribe', topics: [] }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'subscribe', topics: [1] }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'subscribe' }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'ping' }, 'pong')).type, 'pong');
    c.close();
  },

  async malformed_messages_get_error_and_stay_open() {
    const c = await connectUser(newUser());
    const e1 = await c.ask('this is not json', 'error');
    assert.equal(e1.data.code, 'bad_json');
    assert.equal(typeof e1.error, 'string', 'seed 000 error string');
    assert.equal((await c.ask('[1,2]', 'error')).data.code, 'bad_json');
    assert.equal((await c.ask({ type: 5 }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ data: {} }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'bogus' }, 'error')).data.code, 'unknown_type');
    assert.equal((await c.ask({ type: 'get-logs' }, 'error')).data.code, 'unknown_type');
    assert.equal((await c.ask({ type: 'resume', lastEventId: 'abc' }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'resume', lastEventId: -1 }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'message', room: 'x y', content: 1 }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'subscribe', room: 5 }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask('{"type":"ping","type":"ping"}', 'error')).data.code, 'bad_json');
    const from = c.msgs.length;
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await c.next('error', L.WAIT_MS, from)).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'ping' }, 'pong')).type, 'pong');
    assert.equal(c.closed, null);
    c.close();
  },

  async isolation_between_users() {
    const a = newUser('a');
    const b = newUser('b');
    const ca = await connectUser(a);
    const cb = await connectUser(b);
    const pub = new Publisher();
    for (let i = 1; i <= 5; i++) {
      await pub.publish(email(a, i));
      await pub.publish(email(b, 100 + i));
      await pub.publish({ type: 'imap_log', user: a, data: { id: `a${i}` } });
    }
    await through(ca, pub, a, []);
    await through(cb, pub, b, []);
    await pub.close();
    for (const [c, me] of [[ca, a], [cb, b]])
      for (const m of c.msgs.filter((x) => x.type === 'new_email'))
        assert.equal(m.data.email.userId, me, 'only my own events');
    assert.equal(ca.of('new_email').length, 6);
    assert.equal(cb.of('new_email').length, 6);
    ca.close();
    cb.close();
  },

  async star_events_go_to_admins() {
    const admin = await connectUser(newUser('adm'), 'admin');
    const u = newUser();
    const user = await connectUser(u);
    const pub = new Publisher();
    const id = await pub.publish({ type: 'sync_status', user: '*', data: { status: 'error', error: 'all accounts' } });
    assert.ok(id > 0);
    const m = await admin.next((x) => x.type === 'sync_status' && x.id === id);
    assert.equal(m.data.error, 'all accounts');
    const msgs = await through(user, pub, u, []);
    assert.equal(msgs.filter((x) => x.type === 'sync_status').length, 0, 'users do not get "*" events');
    await pub.close();
    admin.close();
    user.close();
  },

  async rooms_join_message_leave() {
    const ua = newUser('a');
    const ub = newUser('b');
    const a = await connectUser(ua);
    const b = await connectUser(ub);
    const c = await connectUser(newUser('c'));
    const room = `support-${crypto.randomBytes(3).toString('hex')}`;
    assert.equal((await a.ask({ type: 'subscribe', room }, 'subscribed')).data.room, room);
    assert.equal((await b.ask({ type: 'subscribe', data: { room } }, 'subscribed')).data.members, 2);
    const from = b.msgs.length;
    a.send({ type: 'message', room, content: { text: 'hello' } });
    const got = await b.next('message', L.WAIT_MS, from);
    assert.deepEqual(got.data.content, { text: 'hello' });
    assert.equal(got.data.room, room);
    assert.equal(got.data.from.userId, ua);
    assert.equal((await a.next('message')).data.content.text, 'hello', 'the sender gets it too');
    assert.equal((await c.ask({ type: 'message', room, content: 'x' }, 'error')).data.code, 'not_member');
    assert.equal((await c.ask({ type: 'message', room }, 'error')).data.code, 'bad_message');
    assert.equal((await a.ask({ type: 'unsubscribe', room }, 'unsubscribed')).data.room, room);
    const before = a.of('message').length;
    b.send({ type: 'message', room, content: 'after' });
    await b.next((m) => m.type === 'message' && m.data.content === 'after');
    await b.ask({ type: 'ping' }, 'pong');
    await a.ask({ type: 'ping' }, 'pong');
    assert.equal(a.of('message').length, before, 'left the room');
    for (const x of [a, b, c]) x.close();
  },

  async rooms_role_rule() {
    const u = newUser();
    const user = await connectUser(u);
    const admin = await connectUser(newUser('adm'), 'admin');
    assert.equal((await user.ask({ type: 'subscribe', room: 'admin:notifications' }, ['error', 'subscribed'])).data.code, 'forbidden');
    assert.equal((await user.ask({ type: 'subscribe', room: 'system:broadcast' }, ['error', 'subscribed'])).data.code, 'forbidden');
    assert.equal((await user.ask({ type: 'subscribe', room: 'user:u_someoneelse' }, ['error', 'subscribed'])).data.code, 'forbidden');
    assert.equal((await user.ask({ type: 'subscribe', room: `user:${u}` }, ['error', 'subscribed'])).type, 'subscribed');
    assert.equal((await admin.ask({ type: 'subscribe', room: 'admin:notifications' }, ['error', 'subscribed'])).type, 'subscribed');
    assert.equal((await admin.ask({ type: 'subscribe', room: `user:${u}` }, ['error', 'subscribed'])).type, 'subscribed');
    user.close();
    admin.close();
  },

  async room_events_from_publishers() {
    const a = await connectUser(newUser());
    const room = `project:${crypto.randomBytes(3).toString('hex')}`;
    await a.ask({ type: 'subscribe', room }, 'subscribed');
    const pub = new Publisher();
    await pub.publish({ type: 'message', room, data: { content: { action: 'update' } } });
    const m = await a.next('message');
    assert.equal(m.data.room, room);
    assert.deepEqual(m.data.content, { action: 'update' });
    await pub.close();
    a.close();
  },

  async imap_logs_endpoint() {
    const u = newUser();
    const pub = new Publisher();
    for (let i = 1; i <= 3; i++)
      await pub.publish({ type: 'imap_log', user: u, data: { id: `e${i}`, userId: u, level: 'info', command: 'FETCH', data: { raw: `A${i} FETCH`, parsed: {}, response: 'OK', duration: i, error: null } } });
    await pub.publish({ type: 'imap_log', user: newUser('other'), data: { id: 'not-mine' } });
    await pub.sync();
    await L.sleep(300);
    const c = new Client(url('/ws/imap-logs', { token: token(u) }));
    const init = await c.next('initial-logs');
    assert.deepEqual(init.data.map((e) => e.id), ['e1', 'e2', 'e3']);
    assert.equal(init.data[0].data.raw, 'A1 FETCH');
    await pub.publish({ type: 'imap_log', user: u, data: { id: 'e4', command: 'IDLE' } });
    assert.equal((await c.next('log')).data.id, 'e4');
    assert.deepEqual((await c.ask({ type: 'get-logs', limit: 2 }, 'logs')).data.map((e) => e.id), ['e3', 'e4']);
    assert.equal((await c.ask({ type: 'get-logs' }, 'logs')).data.length, 4);
    assert.equal((await c.ask({ type: 'get-logs', limit: 0 }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'get-logs', limit: 'x' }, 'error')).data.code, 'bad_message');
    assert.equal((await c.ask({ type: 'ping' }, 'pong')).type, 'pong');
    assert.equal((await c.ask({ type: 'subscribe', topics: ['emails'] }, 'error')).data.code, 'unknown_type');
    assert.equal((await c.ask('nope', 'error')).data.code, 'bad_json');
    await c.ask({ type: 'clear-logs' }, 'logs-cleared');
    assert.equal((await c.ask({ type: 'get-logs' }, 'logs')).data.length, 0);
    await pub.close();
    c.close();
  },

  async imap_logs_keep_the_last_100() {
    const u = newUser();
    const pub = new Publisher();
    for (let i = 1; i <= 105; i++) await pub.publish({ type: 'imap_log', user: u, data: { id: `e${i}` } });
    await pub.sync();
    await L.sleep(300);
    const c = new Client(url('/ws/imap-logs'), { headers: { Cookie: `onebox_token=${token(u)}` } });
    const init = await c.next('initial-logs');
    assert.equal(init.data.length, 100);
    assert.equal(init.data[0].id, 'e6');
    assert.equal(init.data[99].id, 'e105');
    await pub.close();
    c.close();
  },

  async imap_logs_auth_message() {
    const u = newUser();
    const c = new Client(url('/ws/imap-logs'));
    await c.opened;
    assert.equal((await c.ask({ type: 'get-logs' }, 'error')).data.code, 'not_authenticated');
    await c.ask({ type: 'auth', token: token(u) }, 'auth_success');
    assert.deepEqual((await c.next('initial-logs')).data, []);
    c.close();
    const bad = new Client(url('/ws/imap-logs', { token: 'x.y.z' }));
    await expectAuthError(bad, 'imap-logs bad token');
  },

  async metrics_for_subscribed_admins() {
    const admin = await connectUser(newUser('adm'), 'admin');
    assert.deepEqual((await admin.ask({ type: 'subscribe', topics: ['metrics'] }, 'subscribed')).data.topics.includes('metrics'), true);
    const m = await admin.next('metrics', 15000);
    for (const k of ['cpu', 'memory', 'disk', 'network']) assert.equal(typeof m.data[k], 'object', k);
    assert.equal(typeof m.data.cpu.usage, 'number');
    assert.ok(m.data.cpu.cores >= 1);
    assert.ok(m.data.memory.total > 0);
    assert.ok(m.data.activeConnections >= 1);
    assert.equal(typeof m.data.messageRate, 'number');
    assert.equal(typeof m.data.errorRate, 'number');
    assert.equal(typeof m.data.timestamp, 'number');
    admin.close();
  },

  async http_health_stats_metrics() {
    const c = await connectUser(newUser());
    const h = await L.httpGet('/health');
    assert.equal(h.status, 200);
    assert.equal(JSON.parse(h.body).status, 'ok');
    const s = JSON.parse((await L.httpGet('/stats')).body);
    assert.ok(s.connections >= 1 && s.users >= 1);
    assert.equal(typeof s.byType.new_email, 'number');
    const p = await L.httpGet('/metrics');
    assert.equal(p.status, 200);
    assert.match(p.headers['content-type'], /text\/plain/);
    assert.match(p.body, /^onebox_realtime_connections \d+$/m);
    assert.match(p.body, /^onebox_realtime_deliveries_total\{type="new_email"\} \d+$/m);
    assert.equal((await L.httpGet('/nope')).status, 404);
    assert.notEqual((await L.httpGet('/ws')).status, 101);
    c.close();
  },
};

L.main(scenarios);
