/*
 * The seed 001 test page (contrib/www/websocket-test.html with
 * contrib/onebox.js) in headless Chromium, through nginx to the real
 * onebox-realtime: opened with ?token=, it connects by itself; a new_email
 * published the real way (outbox + events.sock) appears in #messages and
 * is counted; the ping button gets a pong; the type filter hides others; a
 * sync_status is counted.  Run by tests/integration/54_realtime_page.sh:
 *   RT_PAGE_BASE=http://127.0.0.1:<nginx port>  (serves the page and /ws)
 */
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const L = require('./lib');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const scenarios = {
  async page_shows_published_new_email() {
    const u = L.newUser('page');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ob-chromium-'));
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = ctx.pages()[0] || await ctx.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      const jwt = L.token(u);
      await page.goto(`${L.env('RT_PAGE_BASE')}/websocket-test.html?token=${encodeURIComponent(jwt)}`);
      await page.waitForSelector('#state[data-state="connected"]', { timeout: L.WAIT_MS });
      assert.equal(await page.inputValue('#token'), jwt, 'the token was prefilled');

      const pub = new L.Publisher();
      const subject = `Hello from headless Chromium ${process.pid}`;
      const id = await pub.publish(L.email(u, 1, { subject, category: 'Meeting Booked' }));
      const sel = `#messages .msg[data-type="new_email"][data-id="${id}"]`;
      await page.waitForSelector(sel, { timeout: L.WAIT_MS });
      assert.match(await page.textContent(sel), new RegExp(subject));
      assert.match(await page.textContent(sel), /Meeting Booked/);
      assert.equal((await page.textContent('#count-new_email')).trim(), '1');

      await pub.publish({ type: 'sync_status', user: u, data: { userId: u, status: 'idle', email: 'box@example.com' } });
      await page.waitForSelector('#messages .msg[data-type="sync_status"]', { timeout: L.WAIT_MS });
      assert.equal((await page.textContent('#count-sync_status')).trim(), '1');

      await page.click('#ping');
      await page.waitForSelector('#messages .msg[data-type="pong"]', { timeout: L.WAIT_MS });

      await page.selectOption('#filter', 'new_email');
      assert.equal(await page.isVisible('#messages .msg[data-type="pong"]'), false, 'filtered out');
      assert.equal(await page.isVisible(sel), true);
      assert.deepEqual(problems, [], 'no page errors');
      await pub.close();
    } finally {
      await ctx.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  },
};

L.main(scenarios);
