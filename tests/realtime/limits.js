/*
 * onebox-realtime limits with real clients: connections per user (4429),
 * rooms per connection, messages per minute (error, then 4429), frame size
 * (1009, also across fragments), a slow reader closed (1008) while the
 * others keep receiving everything, the heartbeat dropping a peer that
 * never answers pings, connection attempts per address (4429) and the fd
 * ceiling (503, the sidecar stays responsive).
 * Run by tests/integration/51_realtime_limits.sh with ws_rate_per_min=20,
 * ws_send_queue_max=262144, ws_heartbeat=2; the per-address and fd
 * scenarios run against their own sidecars (see the script).
 */
'use strict';
const assert = require('node:assert/strict');
const net = require('node:net');
const crypto = require('node:crypto');
const L = require('./lib');
const { Client, connectUser, Publisher, newUser, token, url, sleep } = L;

async function stats() {
  return JSON.parse((await L.httpGet('/stats')).body);
}

const scenarios = {
  async connections_per_user() {
    const u = newUser();
    const cs = [];
    for (let i = 0; i < 5; i++) cs.push(await connectUser(u));
    const sixth = new Client(url('/ws', { token: token(u) }));
    assert.equal((await sixth.next('error')).data.code, 'too_many_connections');
    assert.equal((await sixth.waitClose()).code, 4429);
    for (const c of cs) assert.equal((await c.ask({ type: 'ping' }, 'pong')).type, 'pong');
    cs[0].close();
    await cs[0].waitClose();
    await sleep(200);
    cs[0] = await connectUser(u);
    for (const c of cs) c.close();
  },

  async rooms_per_connection() {
    const c = await connectUser(newUser());
    for (let i = 0; i < 10; i++) await c.ask({ type: 'subscribe', room: `r${i}-${process.pid}` }, 'subscribed');
    assert.equal((await c.ask({ type: 'subscribe', room: `r10-${process.pid}` }, ['error', 'subscribed'])).data.code, 'too_many_rooms');
    // joining one it already has is not a new room
    assert.equal((await c.ask({ type: 'subscribe', room: `r3-${process.pid}` }, ['error', 'subscribed'])).type, 'subscribed');
    await c.ask({ type: 'unsubscribe', room: `r0-${process.pid}` }, 'unsubscribed');
    assert.equal((await c.ask({ type: 'subscribe', room: `r10-${process.pid}` }, ['error', 'subscribed'])).type, 'subscribed');
    c.close();
  },

  async messages_per_minute() {
    // A fresh window: never straddle a minute boundary.
    const s = new Date().getSeconds();
    if (s > 45) await sleep((61 - s) * 1000);
    const c = await connectUser(newUser());
    for (let i = 0; i < 20; i++) c.send({ type: 'ping' });
    await c.collect((m) => m.type === 'pong', 20);
    const e = await c.ask({ type: 'ping' }, ['error', 'pong']);
    assert.equal(e.type, 'error');
    assert.equal(e.data.code, 'rate_limited');
    assert.equal(c.closed, null, 'still open after the first excess');
    // messages 22..41: the 41st is past twice the rate and closes (sending
    // more after it would race the close with a TCP reset)
    for (let i = 0; i < 20; i++) c.send({ type: 'ping' });
    assert.equal((await c.waitClose()).code, 4429, `after ${c.msgs.length} messages: ${c.summary()}`);
  },

  async frame_size_limit() {
    const c = await connectUser(newUser());
    const ok = JSON.stringify({ type: 'ping', pad: 'x'.repeat(60000) });
    assert.equal((await c.ask(ok, 'pong')).type, 'pong', 'a 60 KB message is fine');
    const from = c.msgs.length;
    c.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(65536) }));
    assert.equal((await c.next('error', L.WAIT_MS, from)).data.code, 'frame_too_large');
    assert.equal((await c.waitClose()).code, 1009);
    // the same, in fragments of 30 KB each
    const f = await connectUser(newUser());
    const part = 'x'.repeat(30000);
    f.ws.send('{"type":"ping","pad":"' + part, { fin: false });
    f.ws.send(part, { fin: false });
    f.ws.send(part + '"}', { fin: true });
    assert.equal((await f.next('error')).data.code, 'frame_too_large');
    assert.equal((await f.waitClose()).code, 1009);
  },

  async slow_reader_closed_others_keep_receiving() {
    const u = newUser();
    const fast1 = await connectUser(u);
    const fast2 = await connectUser(u);
    const slow = await connectUser(u);
    const other = newUser('o');
    const fast3 = await connectUser(other);
    slow.ws._socket.pause();
    const before = (await stats()).closed.slowReaders;
    const pub = new Publisher();
    const N = 400;
    const pad = 'p'.repeat(40000);
    const ids = [];
    // The fast readers keep pace (each batch of 5, about 200 KB, below the
    // 256 KiB queue ceiling, is read before the next is published); the
    // slow one reads nothing.
    for (let i = 1; i <= N; i++) {
      ids.push(await pub.publish(L.email(u, i, { body: pad })));
      if (i % 4 === 0) await pub.publish(L.email(other, i));
      if (i % 5 === 0)
        for (const f of [fast1, fast2]) await f.collect((m) => m.type === 'new_email', i, 60000);
    }
    await pub.close();
    for (const f of [fast1, fast2]) {
      const got = await f.collect((m) => m.type === 'new_email', N, 60000);
      assert.deepEqual(got.map((m) => m.id), ids, 'every event, in order, once');
    }
    await fast3.collect((m) => m.type === 'new_email', N / 4, 60000);
    const after = (await stats()).closed.slowReaders;
    assert.ok(after > before, `slow reader counted (${before} -> ${after})`);
    slow.ws._socket.resume();
    const closed = await slow.waitClose(30000);
    assert.ok([1008, 1006].includes(closed.code), `slow reader closed (${closed.code})`);
    assert.ok(slow.of('new_email').length < N, 'the slow reader did not get everything');
    for (const f of [fast1, fast2, fast3]) assert.equal(f.closed, null);
    for (const f of [fast1, fast2, fast3]) f.close();
  },

  async heartbeat_drops_silent_peer() {
    const u = newUser();
    const alive = await connectUser(u);
    // A raw client that completes the handshake, reads, and never answers pings.
    const sock = net.connect(Number(L.env('RT_PORT')), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const key = crypto.randomBytes(16).toString('base64');
    sock.write(`GET /ws?token=${token(u)} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let bytes = Buffer.alloc(0);
    let pings = 0;
    sock.on('data', (d) => {
      bytes = Buffer.concat([bytes, d]);
      for (let i = 0; i < d.length; i++) if (d[i] === 0x89) pings++;
    });
    const ended = new Promise((r) => sock.once('close', r));
    const t0 = Date.now();
    await Promise.race([ended, sleep(40000)]);
    assert.ok(sock.destroyed || sock.readableEnded, 'silent peer dropped');
    assert.match(bytes.toString('latin1'), /101 Switching Protocols/);
    assert.ok(pings >= 1, 'it was pinged first');
    assert.ok(Date.now() - t0 > 2000, 'not before a ping went unanswered');
    assert.equal((await alive.ask({ type: 'ping' }, 'pong')).type, 'pong', 'a ponging client stays');
    assert.equal(alive.closed, null);
    alive.close();
  },

  async connection_attempts_per_address() {
    const s = new Date().getSeconds();
    if (s > 45) await sleep((61 - s) * 1000);
    const cs = [];
    for (let i = 0; i < 5; i++) cs.push(await connectUser(newUser()));
    const over = new Client(url('/ws', { token: token(newUser()) }));
    assert.equal((await over.next('error')).data.code, 'rate_limited');
    assert.equal((await over.waitClose()).code, 4429);
    // behind a local reverse proxy, X-Forwarded-For names the client
    const xff = (a) => ({ headers: { 'X-Forwarded-For': `192.0.2.77, ${a}` } });
    const proxied = [];
    for (let i = 0; i < 5; i++) {
      const p = new Client(url('/ws', { token: token(newUser()) }), xff('203.0.113.9'));
      await p.next('connected');
      proxied.push(p);
    }
    const p6 = new Client(url('/ws', { token: token(newUser()) }), xff('203.0.113.9'));
    assert.equal((await p6.next('error')).data.code, 'rate_limited');
    const other = new Client(url('/ws', { token: token(newUser()) }), xff('198.51.100.1'));
    await other.next('connected');
    for (const c of [...cs, ...proxied, other]) c.close();
  },

  async fd_ceiling() {
    const s0 = await stats();
    const max = s0.maxConnections;
    assert.ok(max > 0 && max < 100, `small ceiling for this test (${max})`);
    const open = [];
    let refused = 0;
    for (let i = 0; i < max + 10; i++) {
      const c = new Client(url('/ws', { token: token(newUser()) }));
      try {
        await c.opened;
        await c.next('connected');
        open.push(c);
      } catch (e) {
        if (e.status === 503) refused++;
        else throw e;
      }
    }
    assert.ok(open.length <= max, `at most ${max} open (${open.length})`);
    assert.ok(refused >= 10, `refused past the ceiling (${refused})`);
    assert.equal((await L.httpGet('/health')).status, 200, 'still serving');
    for (let i = 0; i < 5; i++) { open[i].close(); await open[i].waitClose(); }
    await sleep(300);
    const again = await connectUser(newUser());
    assert.equal(again.closed, null, 'accepts again below the ceiling');
    again.close();
    for (const c of open) c.close();
  },
};

L.main(scenarios);
