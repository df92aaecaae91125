/*
 * onebox-realtime resume and ordering: ?lastEventId= and `resume` replay the
 * user's durable events from the outbox in order before live ones, with a
 * `resumed {complete}` flag; none lost, none duplicated across a
 * disconnect with events published meanwhile (also while publishing goes
 * on, and with contrib/onebox.js reconnecting by itself); duplicate,
 * out-of-order and never-pushed events on events.sock still reach clients
 * exactly once and in id order.
 * Run by tests/integration/52_realtime_resume.sh with ws_replay_max=50.
 */
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');
const WebSocket = require('ws');
const L = require('./lib');
const { Client, connectUser, Publisher, email, newUser, token, url, sleep } = L;

const durable = (m) => typeof m.id === 'number';

function assertStrictlyIncreasing(ids, what) {
  for (let i = 1; i < ids.length; i++)
    assert.ok(ids[i] > ids[i - 1], `${what}: ${ids[i - 1]} then ${ids[i]} (duplicate or out of order)`);
}

const scenarios = {
  async resume_by_query_then_live() {
    const u = newUser();
    const pub = new Publisher();
    const ids = [];
    for (let i = 1; i <= 10; i++) ids.push(await pub.publish(email(u, i)));
    await pub.sync();
    const c = new Client(url('/ws', { token: token(u), lastEventId: String(ids[2]) }));
    const done = await c.next('resumed');
    assert.equal(done.data.complete, true);
    assert.equal(done.data.count, 7);
    assert.equal(done.data.lastEventId, ids[9]);
    const got = c.msgs.filter(durable).map((m) => m.id);
    assert.deepEqual(got, ids.slice(3), 'events after lastEventId, in order');
    const types = c.msgs.map((m) => m.type);
    assert.ok(types.indexOf('connected') < types.indexOf('new_email'), 'connected first');
    const live = await pub.publish(email(u, 11));
    assert.equal((await c.next((m) => m.id === live)).type, 'new_email');
    assert.equal(c.msgs.findIndex((m) => m.id === live), c.msgs.length - 1, 'live after the replay');
    await pub.close();
    c.close();
  },

  async resume_by_message() {
    const u = newUser();
    const pub = new Publisher();
    const ids = [];
    for (let i = 1; i <= 5; i++) ids.push(await pub.publish(email(u, i)));
    await pub.sync();
    const c = await connectUser(u);
    const done = await c.ask({ type: 'resume', data: { lastEventId: ids[0] } }, 'resumed');
    assert.equal(done.data.complete, true);
    assert.deepEqual(c.msgs.filter(durable).map((m) => m.id), ids.slice(1));
    // a second resume cannot give anything twice
    const again = await c.ask({ type: 'resume', lastEventId: ids[0] }, 'resumed');
    assert.equal(again.data.count, 0);
    assert.deepEqual(c.msgs.filter(durable).map((m) => m.id), ids.slice(1), 'nothing twice');
    await pub.close();
    c.close();
  },

  async resume_with_auth_message() {
    const u = newUser();
    const pub = new Publisher();
    const ids = [];
    for (let i = 1; i <= 4; i++) ids.push(await pub.publish(email(u, i)));
    await pub.sync();
    const c = new Client(url('/ws'));
    await c.opened;
    c.send({ type: 'auth', token: token(u), lastEventId: ids[1] });
    const done = await c.next('resumed');
    assert.equal(done.data.complete, true);
    assert.deepEqual(c.msgs.filter(durable).map((m) => m.id), ids.slice(2));
    await pub.close();
    c.close();
  },

  async replay_past_the_maximum_is_incomplete() {
    const u = newUser();
    const pub = new Publisher();
    const ids = [];
    for (let i = 1; i <= 60; i++) ids.push(await pub.publish(email(u, i)));
    await pub.sync();
    const c = new Client(url('/ws', { token: token(u), lastEventId: '0' }));
    const done = await c.next('resumed');
    assert.equal(done.data.complete, false, 'more than ws_replay_max: incomplete');
    assert.equal(done.data.count, 50);
    const got = c.msgs.filter(durable).map((m) => m.id);
    assert.equal(got.length, 50);
    assertStrictlyIncreasing(got, 'replay');
    const live = await pub.publish(email(u, 61));
    await c.next((m) => m.id === live);
    assertStrictlyIncreasing(c.msgs.filter(durable).map((m) => m.id), 'replay then live');
    await pub.close();
    c.close();
  },

  async disconnect_publish_reconnect_none_lost_none_twice() {
    const u = newUser();
    const pub = new Publisher();
    let c = await connectUser(u);
    const all = [];
    for (let i = 1; i <= 10; i++) all.push(await pub.publish(email(u, i)));
    await c.collect((m) => m.type === 'new_email', 10);
    const seen = c.msgs.filter(durable).map((m) => m.id);
    c.close();
    await c.waitClose();
    for (let i = 11; i <= 40; i++) all.push(await pub.publish(email(u, i)));
    await pub.sync();
    c = new Client(url('/ws', { token: token(u), lastEventId: String(seen[seen.length - 1]) }));
    // more keep coming while the replay runs
    const more = (async () => { for (let i = 41; i <= 70; i++) all.push(await pub.publish(email(u, i))); })();
    await more;
    await c.collect((m) => m.type === 'new_email', 60, 30000);
    await sleep(300);
    const after = c.msgs.filter(durable).map((m) => m.id);
    assert.deepEqual(seen.concat(after), all, 'every event once, in order');
    const resumed = c.of('resumed');
    assert.equal(resumed.length, 1);
    assert.equal(resumed[0].data.complete, true);
    await pub.close();
    c.close();
  },

  async duplicate_pushes_delivered_once() {
    const u = newUser();
    const c = await connectUser(u);
    const pub = new Publisher();
    const a = await pub.publish(Object.assign(email(u, 1), { _times: 3 }));
    const b = await pub.publish(Object.assign(email(u, 2), { _times: 2 }));
    await c.next((m) => m.id === b);
    await c.ask({ type: 'ping' }, 'pong');
    assert.deepEqual(c.msgs.filter(durable).map((m) => m.id), [a, b]);
    await pub.close();
    c.close();
  },

  async out_of_order_pushes_delivered_in_order() {
    const u = newUser();
    const c = await connectUser(u);
    const pub = new Publisher();
    const ids = [];
    for (let i = 1; i <= 5; i++) ids.push(await pub.publish(Object.assign(email(u, i), { _hold: true })));
    await pub.release();     // pushed newest first
    await c.collect((m) => m.type === 'new_email', 5);
    assert.deepEqual(c.msgs.filter(durable).map((m) => m.id), ids);
    await pub.close();
    c.close();
  },

  async pushes_that_never_come_are_read_from_the_outbox() {
    const u = newUser();
    const c = await connectUser(u);
    const pub = new Publisher();
    const lost = await pub.publish(Object.assign(email(u, 1), { _push: false }));
    const next = await pub.publish(email(u, 2));
    await c.next((m) => m.id === next);
    assert.deepEqual(c.msgs.filter(durable).map((m) => m.id), [lost, next], 'the gap is filled, in order');
    // and with nothing after it, the 1 s poll finds it
    const alone = await pub.publish(Object.assign(email(u, 3), { _push: false }));
    assert.equal((await c.next((m) => m.id === alone, 15000)).type, 'new_email');
    await pub.close();
    c.close();
  },

  async admins_replay_star_events() {
    const adm = newUser('adm');
    const pub = new Publisher();
    const a = await pub.publish({ type: 'sync_status', user: '*', data: { status: 'error' } });
    const b = await pub.publish(email(adm, 1));
    const x = await pub.publish(email(newUser('x'), 1));
    await pub.sync();
    const c = new Client(url('/ws', { token: token(adm, 'admin'), lastEventId: String(a - 1) }));
    await c.next('resumed');
    assert.deepEqual(c.msgs.filter(durable).map((m) => m.id), [a, b]);
    assert.ok(!c.msgs.some((m) => m.id === x), 'not other users\' events');
    await pub.close();
    c.close();
  },

  async onebox_js_reconnects_and_resumes() {
    const Onebox = require(path.join(L.env('ONEBOX_SRC'), 'contrib', 'onebox.js'));
    const u = newUser();
    const pub = new Publisher();
    const got = [];
    let dups = 0;
    const client = new Onebox({ url: url('/ws'), token: token(u), WebSocket, minDelay: 50, maxDelay: 200 });
    client.on('new_email', (d, env) => got.push(env.id));
    client.on('duplicate', () => dups++);
    let connects = 0;
    client.on('connected', () => connects++);
    client.connect();
    while (!connects) await sleep(50);
    const all = [];
    for (let i = 1; i <= 10; i++) all.push(await pub.publish(email(u, i)));
    while (got.length < 10) await sleep(50);
    client._ws.terminate();            // the link drops
    for (let i = 11; i <= 30; i++) all.push(await pub.publish(email(u, i)));
    const end = Date.now() + 20000;
    while (got.length < 30 && Date.now() < end) await sleep(50);
    assert.ok(connects >= 2, 'reconnected');
    assert.deepEqual(got, all, 'all events once, in order');
    assert.equal(dups, 0, 'the server sent nothing twice');
    client.close();
    await pub.close();
  },

  /* Not a standalone scenario: 52_realtime_resume.sh runs it in the
   * background while it restarts the sidecar and ev_publish --gen keeps
   * publishing RT_COLLECT_N events for RT_COLLECT_USER. */
  async collect_across_restart() {
    const Onebox = require(path.join(L.env('ONEBOX_SRC'), 'contrib', 'onebox.js'));
    const fs = require('node:fs');
    const n = Number(L.env('RT_COLLECT_N'));
    const u = L.env('RT_COLLECT_USER');
    const progress = L.env('RT_COLLECT_FILE');
    const ids = [];
    const seqs = [];
    let dups = 0;
    let connects = 0;
    const client = new Onebox({ url: url('/ws'), token: token(u), WebSocket, minDelay: 100, maxDelay: 500 });
    client.on('new_email', (d, env) => { ids.push(env.id); seqs.push(d.seq); fs.writeFileSync(progress, String(ids.length)); });
    client.on('duplicate', () => dups++);
    client.on('connected', () => { connects++; fs.writeFileSync(progress + '.connects', String(connects)); });
    client.connect();
    const end = Date.now() + 100000;
    while (ids.length < n && Date.now() < end) await sleep(100);
    client.close();
    assert.equal(ids.length, n, `got ${ids.length} of ${n}`);
    assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => i + 1), 'every event once, in order');
    assertStrictlyIncreasing(ids, 'ids');
    assert.ok(connects >= 2, 'reconnected after the restart');
    assert.equal(dups, 0, 'nothing sent twice');
  },
};

L.main(scenarios);
