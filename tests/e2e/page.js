/*
 * page.js: the browser of the end-to-end test.  Opens the onebox test page
 * (served by nginx) in Debian's headless Chromium with ?token=, waits until
 * it shows "connected", prints READY, then waits for a new_email message
 * whose text contains SUBJECT and prints that message's text (subject,
 * sender, category) as FOUND <text>.  Exits 0 when found, 1 otherwise.
 *
 *   node page.js PAGE_URL TOKEN SUBJECT [TIMEOUT_S]
 *
 * The page stays connected until it exits, so the shell can count it as one
 * of the user's WebSocket connections.
 */
'use strict';
const { chromium } = require('playwright-core');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

async function main() {
  const [url, token, subject, timeoutS] = process.argv.slice(2);
  const timeout = (Number(timeoutS) || 30) * 1000;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ob-e2e-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let ok = false;
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
    await page.goto(`${url}?token=${encodeURIComponent(token)}`);
    await page.waitForFunction(() => document.querySelector('#state')?.textContent.trim() === 'connected',
                               null, { timeout });
    console.log('READY');
    const handle = await page.waitForFunction((s) => {
      for (const m of document.querySelectorAll('#messages .msg[data-type="new_email"]'))
        if (m.textContent.includes(s)) return m.textContent.replace(/\s+/g, ' ').trim();
      return null;
    }, subject, { timeout, polling: 100 });
    console.log('FOUND ' + (await handle.jsonValue()));
    ok = true;
  } catch (e) {
    console.error('page.js:', e.message);
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(ok ? 0 : 1);
}
main();
