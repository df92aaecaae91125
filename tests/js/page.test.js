/*
 * Drives contrib/www/websocket-test.html in headless Chromium (over the
 * DevTools protocol, with the `ws` package) against a small local stand-in
 * for nginx + onebox: an HTTP server that serves contrib/www as its root and
 * onebox.js at /onebox.js, answers POST /api/user/login, and speaks the /ws
 * protocol subset the page shows. It checks the stable element ids other
 * tests rely on. Skipped when no chromium binary is installed.
 * ONEBOX_SCREENSHOT=/path.png saves a picture of the page mid-test.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { spawn, execFileSync } = require('node:child_process');
const WebSocket = require('ws');

const ROOT = path.resolve(__dirname, '../../contrib');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function findChromium() {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try { return execFileSync('sh', ['-c', `command -v ${name}`]).toString().trim(); } catch (e) { /* next */ }
  }
  return null;
}

async function startSite() {
  const conns = [];
  const waiting = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/api/user/login') {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        const creds = JSON.parse(body);
        const ok = creds.email === 'a@example.com' && creds.password === 'pw-123456';
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(ok
          ? { success: true, data: { token: 'jwt-from-login', expiresIn: 3600,
              user: { id: 'u_1', email: 'a@example.com', role: 'user', createdAt: '2026-01-01T00:00:00Z' } } }
          : { success: false, error: { code: 'unauthorized', message: 'bad credentials' } }));
      });
      return;
    }
    const files = { '/websocket-test.html': 'www/websocket-test.html', '/onebox.js': 'onebox.js' };
    const file = files[url.pathname];
    if (!file) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': file.endsWith('.js') ? 'text/javascript' : 'text/html' });
    res.end(fs.readFileSync(path.join(ROOT, file)));
  });
  const wss = new WebSocket.WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws, req) => {
    const c = { ws, url: new URL(req.url, 'ws://x'), msgs: [], wake: null };
    ws.on('message', (b) => { c.msgs.push(JSON.parse(b.toString())); if (c.wake) c.wake(); });
    c.send = (o) => ws.send(JSON.stringify(o));
    c.nextMsg = async (type) => {
      for (;;) {
        const i = c.msgs.findIndex((m) => m.type === type);
        if (i >= 0) return c.msgs.splice(i, 1)[0];
        await new Promise((r) => { c.wake = r; });
      }
    };
    conns.push(c);
    if (waiting.length) waiting.shift()(c);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  let taken = 0;
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    conns,
    nextConn() {
      const i = taken++;
      return i < conns.length ? Promise.resolve(conns[i]) : new Promise((r) => waiting.push(r));
    },
    close() {
      for (const c of conns) c.ws.terminate();
      wss.close();
      return new Promise((r) => server.close(r));
    },
  };
}

async function launch(bin, url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'onebox-chromium-'));
  const proc = spawn(bin, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-dev-shm-usage', '--window-size=1300,1000', '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, url], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const browserWs = await new Promise((resolve, reject) => {
    let err = '';
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`chromium exited ${code}: ${err.slice(-500)}`)));
  });
  const port = new URL(browserWs).port;
  let page;
  while (!page) {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    page = list.find((t) => t.type === 'page' && t.url.startsWith(url.split('?')[0]));
    if (!page) await sleep(50);
  }
  const ws = new WebSocket(page.webSocketDebuggerUrl, { perMessageDeflate: false });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  let seq = 0;
  const pending = new Map();
  ws.on('message', (b) => {
    const m = JSON.parse(b.toString());
    if (m.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
  });
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const id = ++seq;
    pending.set(id, (m) => (m.error ? reject(new Error(m.error.message)) : resolve(m.result)));
    ws.send(JSON.stringify({ id, method, params }));
  });
  const evaluate = async (expression) => {
    const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description || r.exceptionDetails.text);
    return r.result.value;
  };
  return {
    evaluate,
    async until(expression) {
      while (!(await evaluate(expression))) await sleep(50);
    },
    async screenshot(file) {
      const shot = await send('Page.captureScreenshot', { format: 'png' });
      fs.writeFileSync(file, Buffer.from(shot.data, 'base64'));
    },
    async close() {
      ws.close();
      try { process.kill(-proc.pid, 'SIGTERM'); } catch (e) { /* already gone */ }
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

const chromium = findChromium();

test('websocket-test.html: auto-connect, live messages, controls, resume, 4401, login',
  { skip: !chromium && 'no chromium installed', timeout: 90000 }, async () => {
    const site = await startSite();
    const page = await launch(chromium, `${site.base}/websocket-test.html?token=t1`);
    try {
      const text = (sel) => page.evaluate(`document.querySelector(${JSON.stringify(sel)}).textContent`);

      const c1 = await site.nextConn();
      assert.equal(c1.url.searchParams.get('token'), 't1', 'default URL is this host /ws, token in query');
      assert.equal(await page.evaluate('location.search'), '', 'token removed from the address bar');
      c1.send({ type: 'connected', data: { userId: 'u_1', connectionId: 'c1' } });
      await page.until(`document.getElementById('state').textContent === 'connected'`);
      assert.equal(await text('#user-id'), 'u_1');

      c1.send({ type: 'new_email', id: 1, timestamp: '2026-01-01T00:00:01.000Z', data: { userId: 'u_1',
        email: { id: 1, subject: 'Meeting Tomorrow', from: 'boss@example.com', category: 'Meeting Booked',
          categoryConfidence: 0.9, folder: 'INBOX', email: 'a@example.com', body: '<b>not html</b>' } } });
      c1.send({ type: 'sync_status', id: 2, data: { userId: 'u_1', status: 'error', email: 'a@example.com',
        error: 'LOGIN failed' } });
      c1.send({ type: 'new_email', id: 1, data: { email: { subject: 'dup' } } });
      c1.send({ type: 'metrics', data: { activeConnections: 3 } });
      await page.until(`document.getElementById('count-metrics')?.textContent === '1'`);
      assert.equal(await text('#count-new_email'), '1');
      assert.equal(await text('#count-sync_status'), '1');
      assert.equal(await text('#count-duplicates'), '1');
      assert.equal(await text('#last-event-id'), '#2');
      const mail = await text('#messages .msg[data-type="new_email"]');
      for (const want of ['Meeting Tomorrow', 'boss@example.com', 'Meeting Booked', '90%', '<b>not html</b>'])
        assert.ok(mail.includes(want), `new_email shows ${want}`);
      assert.equal(await page.evaluate(`document.querySelectorAll('#messages b').length`), 0, 'no HTML injection');
      const status = await text('#messages .msg[data-type="sync_status"]');
      assert.ok(status.includes('error') && status.includes('a@example.com') && status.includes('LOGIN failed'));

      await page.evaluate(`document.getElementById('ping').click()`);
      await c1.nextMsg('ping');
      c1.send({ type: 'pong', data: {} });
      await page.until(`document.getElementById('count-pong').textContent === '1'`);
      if (process.env.ONEBOX_SCREENSHOT) await page.screenshot(process.env.ONEBOX_SCREENSHOT);

      assert.deepEqual((await c1.nextMsg('subscribe')).topics, ['emails', 'sync'], 'default topics on connect');
      await page.evaluate(`document.getElementById('topic').value = 'metrics';
        document.getElementById('subscribe').click()`);
      assert.deepEqual((await c1.nextMsg('subscribe')).topics, ['metrics']);

      await page.evaluate(`const f = document.getElementById('filter'); f.value = 'sync_status';
        f.dispatchEvent(new Event('change'))`);
      assert.deepEqual(await page.evaluate(`[...document.querySelectorAll('#messages .msg')]
        .filter((m) => !m.hidden).map((m) => m.dataset.type)`), ['sync_status']);

      c1.ws.close(1001, 'going away');
      const c2 = await site.nextConn();
      assert.equal(c2.url.searchParams.get('lastEventId'), '2', 'reconnect resumes after the last id');
      c2.send({ type: 'connected', data: {} });
      await page.until(`document.getElementById('state').textContent === 'connected'`);

      await page.evaluate(`document.getElementById('disconnect').click()`);
      await page.until(`document.getElementById('state').textContent === 'disconnected'`);

      await page.evaluate(`document.getElementById('token').value = 'bad';
        document.getElementById('connect').click()`);
      const c3 = await site.nextConn();
      assert.equal(c3.url.searchParams.get('token'), 'bad');
      assert.equal(c3.url.searchParams.get('lastEventId'), null, 'a new token does not inherit the last id');
      c3.send({ type: 'auth_error', data: { message: 'invalid token' } });
      c3.ws.close(4401, 'unauthorized');
      await page.until(`document.getElementById('state').textContent === 'disconnected'`);
      await sleep(300);
      assert.equal(site.conns.length, 3, '4401 is not retried');

      await page.evaluate(`document.getElementById('login-email').value = 'a@example.com';
        document.getElementById('login-password').value = 'wrong';
        document.getElementById('login').click()`);
      await page.until(`document.getElementById('login-status').textContent.includes('unauthorized')`);
      await page.evaluate(`document.getElementById('login-password').value = 'pw-123456';
        document.getElementById('login').click()`);
      await page.until(`document.getElementById('token').value === 'jwt-from-login'`);
    } finally {
      await page.close();
      await site.close();
    }
  });
