/*
 * Helpers for the onebox-realtime scenario tests: real WebSocket clients
 * (the `ws` package), JWTs signed with the sidecar's own key file (HS256,
 * RFC 7519), and the real publisher path (tests/tools/ev_publish: outbox
 * insert + events.sock push through ob_pub).
 *
 * Environment (set by tests/integration/5x_*.sh):
 *   RT_PORT     the sidecar's WebSocket/HTTP port on 127.0.0.1
 *   RT_KEY      its jwt.key file          RT_DB    its SQLite database
 *   RT_EVSOCK   its events.sock           EV_PUBLISH  the ev_publish tool
 */
'use strict';
const fs = require('node:fs');
const crypto = require('node:crypto');
const http = require('node:http');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const WebSocket = require('ws');

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set`);
  return v;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const WAIT_MS = Number(process.env.RT_WAIT_MS || 15000);

function b64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/* A token the sidecar accepts (or, with a past exp / wrong key, refuses). */
function token(sub, role = 'user', ttl = 3600, opts = {}) {
  const key = opts.key || fs.readFileSync(env('RT_KEY'));
  const now = Math.floor(Date.now() / 1000) + (opts.iatOffset || 0);
  const head = b64url(JSON.stringify({ alg: opts.alg || 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub, role, iat: now, exp: now + ttl }));
  const sig = opts.alg === 'none' ? '' : b64url(crypto.createHmac('sha256', key).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

let userSeq = 0;
/* A user id no other scenario uses. */
function newUser(tag = 'u') {
  return `u_${tag}${process.pid.toString(16)}${(++userSeq).toString(16)}${crypto.randomBytes(3).toString('hex')}`;
}

function url(path = '/ws', query = {}) {
  const q = new URLSearchParams(query).toString();
  return `ws://127.0.0.1:${env('RT_PORT')}${path}${q ? '?' + q : ''}`;
}

/* A WebSocket that records every message and its close. */
class Client {
  constructor(target, opts = {}) {
    this.msgs = [];
    this.waiters = [];
    this.closed = null;
    this.ws = new WebSocket(target, opts.protocols || [], {
      headers: opts.headers || {}, handshakeTimeout: WAIT_MS, maxPayload: 64 * 1024 * 1024,
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('unexpected-response', (req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {});
    this.closing = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        this._wake();
        resolve(this.closed);
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      let m;
      try { m = JSON.parse(data.toString()); } catch (e) { m = { type: '__not_json__', raw: data.toString() }; }
      this.msgs.push(m);
      this._wake();
    });
  }

  _wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  /* The first message (from index `from`) matching pred or of that type. */
  async next(pred, timeout = WAIT_MS, from = 0) {
    const match = typeof pred === 'function' ? pred : (m) => m.type === pred;
    const end = Date.now() + timeout;
    for (;;) {
      for (let i = from; i < this.msgs.length; i++) if (match(this.msgs[i])) return this.msgs[i];
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) while waiting; got: ${this.summary()}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting; got: ${this.summary()}`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, Math.min(left, 200)); });
    }
  }

  /* Sends msg and returns the first reply of one of `types` after it. */
  async ask(msg, types, timeout = WAIT_MS) {
    const from = this.msgs.length;
    const ts = Array.isArray(types) ? types : [types];
    this.send(msg);
    return this.next((m) => ts.includes(m.type), timeout, from);
  }

  async waitClose(timeout = WAIT_MS) {
    const t = sleep(timeout).then(() => { throw new Error(`not closed after ${timeout} ms; got: ${this.summary()}`); });
    return Promise.race([this.closing, t]);
  }

  /* Waits until n messages satisfy pred; returns them. */
  async collect(pred, n, timeout = WAIT_MS) {
    const end = Date.now() + timeout;
    for (;;) {
      const got = this.msgs.filter(pred);
      if (got.length >= n) return got;
      if (this.closed) throw new Error(`closed (${this.closed.code}) after ${got.length}/${n}`);
      if (Date.now() > end) throw new Error(`only ${got.length}/${n} after ${timeout} ms`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 200); });
    }
  }

  of(type) { return this.msgs.filter((m) => m.type === type); }

  summary() {
    return this.msgs.slice(-8).map((m) => m.type + (m.data && m.data.code ? `(${m.data.code})` : '')).join(',') || '(nothing)';
  }

  close(code = 1000) { try { this.ws.close(code); } catch (e) { /* already */ } }
}

/* Connects with ?token= and waits for `connected` (or initial-logs). */
async function connectUser(sub, role = 'user', opts = {}) {
  const path = opts.path || '/ws';
  const c = new Client(url(path, Object.assign({ token: token(sub, role) }, opts.query || {})));
  await c.opened;
  await c.next(path === '/ws' ? 'connected' : 'initial-logs');
  return c;
}

/* The real publisher: ev_publish reading requests on stdin. */
class Publisher {
  constructor(extra = []) {
    this.proc = spawn(env('EV_PUBLISH'), ['--db', env('RT_DB'), '--sock', env('RT_EVSOCK'), ...extra],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    this.replies = [];
    this.waiters = [];
    readline.createInterface({ input: this.proc.stdout }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w(l); else this.replies.push(l);
    });
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  _reply() {
    if (this.replies.length) return Promise.resolve(this.replies.shift());
    return new Promise((r) => this.waiters.push(r));
  }

  /* Publishes one event; resolves with its outbox id (0: ephemeral). */
  async publish(ev) {
    this.proc.stdin.write(JSON.stringify(ev) + '\n');
    const l = await this._reply();
    if (l.startsWith('error')) throw new Error(`ev_publish: ${l}`);
    return Number(l);
  }

  async raw(line) {
    this.proc.stdin.write('!' + line + '\n');
    return this._reply();
  }

  async release() { this.proc.stdin.write('{"_release":true}\n'); return this._reply(); }
  async sync() { this.proc.stdin.write('{"_sync":true}\n'); return this._reply(); }

  async close() {
    this.proc.stdin.end();
    const code = await this.exited;
    if (code !== 0) throw new Error(`ev_publish exited ${code}`);
  }
}

function email(user, seq, extra = {}) {
  return {
    type: 'new_email', user,
    data: {
      email: Object.assign({ id: seq, userId: user, uid: String(seq), subject: `Subject ${seq}`, from: 'a@example.com',
        to: 'b@example.com', date: '2026-01-01T00:00:00.000Z', body: 'hello', folder: 'INBOX',
        email: 'box@example.com', category: 'Interested', categoryConfidence: 0.9,
        categorizedAt: '2026-01-01T00:00:00.000Z' }, extra),
      userId: user, timestamp: '2026-01-01T00:00:00.000Z',
    },
  };
}

function httpGet(path, port = env('RT_PORT')) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

/* Runs one named scenario of a suite, or lists them (--list). */
async function main(scenarios) {
  const name = process.argv[2];
  if (!name || name === '--list') {
    console.log(Object.keys(scenarios).join('\n'));
    return;
  }
  const fn = scenarios[name];
  if (!fn) {
    console.error(`no scenario ${name}`);
    process.exit(2);
  }
  const guard = setTimeout(() => { console.error(`${name}: scenario timed out`); process.exit(1); }, Number(process.env.RT_SCENARIO_MS || 120000));
  try {
    await fn();
    clearTimeout(guard);
    process.exit(0);
  } catch (e) {
    console.error(`${name}: ${e && e.stack || e}`);
    process.exit(1);
  }
}

module.exports = { token, newUser, url, Client, connectUser, Publisher, email, httpGet, main, sleep, WAIT_MS, env };
