/*
 * Unit tests for contrib/onebox.js. A small `ws` server on 127.0.0.1:0
 * stands in for onebox-realtime, speaking just the part of the protocol the
 * client library reacts to (connected, auth, durable ids, close codes), so
 * each test can script exactly the failure it checks. Nothing here measures
 * time: waits are on events, and backoff is checked through the delays the
 * client reports, with a fixed jitter source.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const Onebox = require('../../contrib/onebox.js');

const T = { timeout: 10000 };

/* A scripted server: every connection is queued with its request URL,
 * headers and a queue of parsed client messages. */
async function startServer() {
  const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const conns = [];
  const waiting = [];
  wss.on('connection', (ws, req) => {
    const c = { ws, url: new URL(req.url, 'ws://x'), headers: req.headers, msgs: [], wake: null };
    ws.on('message', (buf) => {
      c.msgs.push(JSON.parse(buf.toString()));
      if (c.wake) { const w = c.wake; c.wake = null; w(); }
    });
    c.send = (obj) => ws.send(JSON.stringify(obj));
    c.nextMsg = async () => {
      while (!c.msgs.length) await new Promise((r) => { c.wake = r; });
      return c.msgs.shift();
    };
    conns.push(c);
    if (waiting.length) waiting.shift()(c);
  });
  let taken = 0;
  return {
    url: `ws://127.0.0.1:${wss.address().port}/ws`,
    conns,
    nextConn() {
      const i = taken++;
      if (i < conns.length) return Promise.resolve(conns[i]);
      return new Promise((r) => waiting.push(r));
    },
    close() {
      for (const c of conns) c.ws.terminate();
      return new Promise((r) => wss.close(r));
    },
  };
}

function nextEvent(client, type, pred = () => true) {
  return new Promise((resolve) => {
    const off = client.on(type, (data, env) => {
      if (!pred(data, env)) return;
      off();
      resolve(data);
    });
  });
}

function collect(client, type) {
  const seen = [];
  client.on(type, (data, env) => seen.push(env === undefined ? data : env));
  return seen;
}

function client(server, extra) {
  return new Onebox({ url: server.url, token: 'tok.en', WebSocket, minDelay: 2, maxDelay: 20,
    rateLimitDelay: 40, random: () => 0.5, ...extra });
}

const mail = (id, subject) => ({ type: 'new_email', id, timestamp: '2026-01-01T00:00:00.000Z',
  data: { userId: 'u_1', timestamp: '2026-01-01T00:00:00.000Z', email: { id, subject } } });

test('backoffDelay grows exponentially, is capped and jittered', () => {
  assert.equal(Onebox.backoffDelay(0, 100, 1000, () => 0), 50);
  assert.equal(Onebox.backoffDelay(0, 100, 1000, () => 0.999999), 100);
  assert.equal(Onebox.backoffDelay(2, 100, 1000, () => 0.5), 300);
  assert.equal(Onebox.backoffDelay(10, 100, 1000, () => 0), 500);
  assert.equal(Onebox.backoffDelay(1e6, 100, 1000, () => 0.999999), 1000);
});

test('reconnects after a lost connection and resumes after the last durable id', T, async () => {
  const srv = await startServer();
  const c = client(srv);
  const mails = collect(c, 'new_email');
  const dups = collect(c, 'duplicate');
  const reconnecting = collect(c, 'reconnecting');
  c.connect();

  const first = await srv.nextConn();
  assert.equal(first.url.searchParams.get('token'), 'tok.en');
  assert.equal(first.url.searchParams.get('lastEventId'), null);
  first.send({ type: 'connected', data: { userId: 'u_1', connectionId: 'c1' } });
  await nextEvent(c, 'state', (s) => s === 'connected');
  first.send(mail(1, 'one'));
  first.send(mail(2, 'two'));
  await nextEvent(c, 'new_email', (d) => d.email.id === 2);
  const closed = nextEvent(c, 'close');
  first.ws.close(1001, 'going away');
  const info = await closed;
  assert.equal(info.code, 1001);
  assert.equal(info.willReconnect, true);
  assert.equal(c.lastEventId, 2);

  const second = await srv.nextConn();
  assert.equal(second.url.searchParams.get('lastEventId'), '2');
  assert.equal(second.url.searchParams.get('token'), 'tok.en');
  second.send({ type: 'connected', data: { userId: 'u_1', connectionId: 'c2' } });
  second.send(mail(2, 'two again'));
  second.send(mail(3, 'three'));
  await nextEvent(c, 'new_email', (d) => d.email.id === 3);

  assert.deepEqual(mails.map((m) => m.id), [1, 2, 3]);
  assert.deepEqual(dups.map((m) => m.id), [2]);
  assert.equal(c.lastEventId, 3);
  assert.deepEqual(reconnecting, [{ attempt: 1, delay: 2 }]);

  /* A confirmed connection resets the backoff: the next loss starts over. */
  const again = nextEvent(c, 'reconnecting');
  second.ws.terminate();
  assert.deepEqual(await again, { attempt: 1, delay: 2 });
  (await srv.nextConn()).send({ type: 'connected', data: {} });
  await nextEvent(c, 'state', (s) => s === 'connected');
  assert.equal(srv.conns[2].url.searchParams.get('lastEventId'), '3');
  c.close();
  await srv.close();
});

test('backoff doubles on each failed attempt up to the cap', T, async () => {
  const srv = await startServer();
  const c = client(srv, { minDelay: 4, maxDelay: 20 });
  const delays = [];
  const done = new Promise((resolve) => {
    c.on('reconnecting', (r) => { delays.push(r.delay); if (delays.length === 5) resolve(); });
  });
  srv.nextConn().then(function refuse(conn) {
    conn.ws.close(1011, 'not ready');
    srv.nextConn().then(refuse);
  });
  c.connect();
  await done;
  c.close();
  assert.deepEqual(delays, [3, 6, 12, 15, 15]);
  await srv.close();
});

test('close code 4401 is final: no reconnect', T, async () => {
  const srv = await startServer();
  const c = client(srv);
  const authErrors = collect(c, 'auth_error');
  c.connect();
  const conn = await srv.nextConn();
  conn.send({ type: 'auth_error', data: { message: 'token expired' } });
  conn.ws.close(4401, 'unauthorized');
  const info = await nextEvent(c, 'close');
  assert.equal(info.code, 4401);
  assert.equal(info.willReconnect, false);
  assert.equal(c.state, 'disconnected');
  assert.equal(c._timer, null);
  assert.deepEqual(authErrors.map((e) => e.data), [{ message: 'token expired' }]);
  /* Room for several backoff periods: a retry would have shown up. */
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(srv.conns.length, 1);
  await srv.close();
});

test('auth_error then an ordinary close is not retried either', T, async () => {
  const srv = await startServer();
  const c = client(srv);
  c.connect();
  const conn = await srv.nextConn();
  conn.send({ type: 'auth_error', data: { message: 'bad token' } });
  conn.ws.close(1000, 'bye');
  const info = await nextEvent(c, 'close');
  assert.equal(info.willReconnect, false);
  assert.equal(c.state, 'disconnected');
  await srv.close();
});

test('close code 4429 waits at least rateLimitDelay, then reconnects', T, async () => {
  const srv = await startServer();
  const c = client(srv, { rateLimitDelay: 40 });
  c.connect();
  const conn = await srv.nextConn();
  conn.send({ type: 'error', data: { code: 'rate_limited', message: 'slow down' } });
  const r = nextEvent(c, 'reconnecting');
  conn.ws.close(4429, 'rate limited');
  assert.deepEqual(await r, { attempt: 1, delay: 40 });
  const back = await srv.nextConn();
  back.send({ type: 'connected', data: {} });
  await nextEvent(c, 'state', (s) => s === 'connected');
  c.close();
  await srv.close();
});

test('auth and resume as first messages; subscriptions come back after reconnect', T, async () => {
  const srv = await startServer();
  const c = client(srv, { auth: 'message', resume: 'message', lastEventId: 7 });
  c.subscribe(['emails', 'sync']);
  c.joinRoom('support');
  c.connect();

  for (let round = 0; round < 2; round++) {
    const conn = await srv.nextConn();
    assert.equal(conn.url.search, '', 'no token or id in the URL');
    const auth = await conn.nextMsg();
    assert.equal(auth.type, 'auth');
    assert.equal(auth.token, 'tok.en');
    assert.equal(auth.data.token, 'tok.en');
    conn.send({ type: 'auth_success', data: { userId: 'u_1' } });
    const resume = await conn.nextMsg();
    assert.equal(resume.type, 'resume');
    assert.equal(resume.lastEventId, round === 0 ? 7 : 9);
    const sub = await conn.nextMsg();
    assert.deepEqual([sub.type, sub.topics, sub.data.topics], ['subscribe', ['emails', 'sync'], ['emails', 'sync']]);
    const room = await conn.nextMsg();
    assert.deepEqual([room.type, room.room], ['subscribe', 'support']);
    if (round === 0) {
      conn.send(mail(9, 'nine'));
      await nextEvent(c, 'new_email');
      conn.ws.terminate();
    }
  }
  assert.equal(c.state, 'connected');
  c.close();
  await srv.close();
});

test('ping, topics and room messages go out in the documented shape', T, async () => {
  const srv = await startServer();
  const c = client(srv);
  assert.equal(c.ping(), false, 'nothing is sent before the socket is open');
  c.connect();
  const conn = await srv.nextConn();
  conn.send({ type: 'connected', data: {} });
  await nextEvent(c, 'state', (s) => s === 'connected');
  assert.equal(c.ping(), true);
  assert.equal((await conn.nextMsg()).type, 'ping');
  conn.send({ type: 'pong', data: { timestamp: 'now' } });
  assert.deepEqual(await nextEvent(c, 'pong'), { timestamp: 'now' });

  c.subscribe('metrics');
  assert.deepEqual(await conn.nextMsg(), { type: 'subscribe', topics: ['metrics'], data: { topics: ['metrics'] } });
  c.unsubscribe(['metrics']);
  assert.deepEqual(await conn.nextMsg(), { type: 'unsubscribe', topics: ['metrics'], data: { topics: ['metrics'] } });
  assert.deepEqual(c.topics, []);
  c.joinRoom('r1');
  assert.deepEqual(await conn.nextMsg(), { type: 'subscribe', room: 'r1', data: { room: 'r1' } });
  c.sendToRoom('r1', { text: 'hi' });
  assert.deepEqual(await conn.nextMsg(),
    { type: 'message', room: 'r1', content: { text: 'hi' }, data: { room: 'r1', content: { text: 'hi' } } });
  c.leaveRoom('r1');
  assert.deepEqual(await conn.nextMsg(), { type: 'unsubscribe', room: 'r1', data: { room: 'r1' } });
  c.close();
  await srv.close();
});

test('hostile frames are reported and skipped; the connection goes on', T, async () => {
  const srv = await startServer();
  const c = client(srv, { maxMessageBytes: 200 });
  const invalid = collect(c, 'invalid');
  const all = collect(c, '*');
  c.connect();
  const conn = await srv.nextConn();
  conn.send({ type: 'connected', data: {} });
  await nextEvent(c, 'state', (s) => s === 'connected');
  conn.ws.send('{not json');
  conn.ws.send('[1,2]');
  conn.ws.send('null');
  conn.ws.send('{"data":{}}');
  conn.ws.send(JSON.stringify({ type: 'x', pad: 'y'.repeat(300) }));
  conn.send({ type: 'sync_status', id: 'NaN', data: { status: 'idle' } });
  conn.send({ type: 'sync_status', id: 1.5, data: { status: 'syncing' } });
  conn.ws.send('{"type":"constructor"}');
  conn.ws.send('{"type":"__proto__","data":{"polluted":1}}');
  conn.ws.send('{"type":"toString"}');
  conn.send(mail(5, 'ok'));
  await nextEvent(c, 'new_email');
  assert.deepEqual(invalid.map((i) => i.reason), ['not JSON', 'no type', 'no type', 'no type', 'frame too large']);
  assert.deepEqual(all.map((e) => e.type),
    ['connected', 'sync_status', 'sync_status', 'constructor', '__proto__', 'toString', 'new_email']);
  assert.equal({}.polluted, undefined);
  assert.equal(c.lastEventId, 5, 'only integer ids count as event ids');
  assert.equal(c.state, 'connected');
  c.close();
  await srv.close();
});

test('a throwing listener does not stop delivery to the others', T, async () => {
  const srv = await startServer();
  const c = client(srv);
  const thrown = [];
  c.on('listener_error', (err, where) => thrown.push([err.message, where.type]));
  c.on('new_email', () => { throw new Error('listener bug'); });
  const got = nextEvent(c, 'new_email');
  c.on('new_email', () => { throw new Error('second bug'); });
  c.connect();
  const conn = await srv.nextConn();
  conn.send(mail(1, 'x'));
  assert.equal((await got).email.id, 1);
  assert.deepEqual(thrown, [['listener bug', 'new_email'], ['second bug', 'new_email']]);
  c.close();
  await srv.close();
});

test('close() stops for good, connect() starts again and keeps the last id', T, async () => {
  const srv = await startServer();
  const c = client(srv);
  c.connect();
  const conn = await srv.nextConn();
  conn.send({ type: 'connected', data: {} });
  conn.send(mail(4, 'four'));
  await nextEvent(c, 'new_email');
  const closedBySrv = new Promise((r) => conn.ws.once('close', (code) => r(code)));
  c.close();
  assert.equal(c.state, 'disconnected');
  assert.equal(await closedBySrv, 1000);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(srv.conns.length, 1);

  c.connect();
  const back = await srv.nextConn();
  assert.equal(back.url.searchParams.get('lastEventId'), '4');
  c.close();
  await srv.close();
});

test('header auth sends Authorization: Bearer (Node only)', T, async () => {
  const srv = await startServer();
  const c = client(srv, { auth: 'header', token: () => 'fresh' });
  c.connect();
  const conn = await srv.nextConn();
  assert.equal(conn.headers.authorization, 'Bearer fresh');
  assert.equal(conn.url.searchParams.get('token'), null);
  c.close();
  await srv.close();
});

test('a silent link is dropped by the client heartbeat and reconnected', T, async () => {
  const srv = await startServer();
  const c = client(srv, { pingInterval: 20 });
  c.connect();
  const conn = await srv.nextConn();
  conn.send({ type: 'connected', data: {} });
  const info = await nextEvent(c, 'close');
  assert.equal(info.code, 4000);
  assert.equal(info.willReconnect, true);
  assert.ok(conn.msgs.some((m) => m.type === 'ping'), 'it pinged before giving up');
  await srv.nextConn();
  c.close();
  await srv.close();
});

test('the constructor rejects a bad URL and a missing WebSocket', () => {
  assert.throws(() => new Onebox({ url: 'http://x/ws', WebSocket }), /ws:\/\//);
  assert.throws(() => new Onebox({ url: 'ws://x/ws', WebSocket: 42 }), /WebSocket/);
});
