// Signs up in headless Chromium on a server that asks for the sign-up proof of work
// (AUTHIFY_SIGNUP_WORK_BITS): the page's script (web/static/js/work.js) must find the nonce,
// post the form and land on the app's callback with ?jwt=. The page is checked with axe-core
// (WCAG 2.2 AA) before and while the work runs, and for Content-Security-Policy errors.
//
// Usage: node signup-work.mjs <authify_base_url> <callback_b64>
// Prints one line of JSON on success: {"final_url": "...", "work": "<challenge>:<nonce>"}.
// Any failure prints the error to stderr and exits 1. Uses Debian's Chromium.

import { chromium } from 'playwright-core';
import { AxeViolations, axeFindings, checkAxe } from './axe.mjs';

const STEP_TIMEOUT_MS = 20_000;

function fail(message) {
  process.stderr.write(`signup-work: ${message}\n`);
  process.exit(1);
}

const [baseArg, callbackB64] = process.argv.slice(2);
if (!baseArg || !callbackB64) fail('usage: node signup-work.mjs <authify_base_url> <callback_b64>');
const base = baseArg.replace(/\/+$/, '');

async function run() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const csp = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) csp.push(msg.text());
    });
    let posted = null;
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().endsWith('/signup')) posted = req.postData();
    });
    const response = await page.goto(
      `${base}/signup?callback=${encodeURIComponent(callbackB64)}&state=work-test`,
      { waitUntil: 'load' },
    );
    if (!response || !response.ok()) throw new Error(`GET /signup answered ${response?.status()}`);
    if (!(await page.locator('form[data-work-challenge]').count())) {
      throw new Error('the sign-up form carries no proof-of-work challenge');
    }
    await checkAxe(page, 'signup-work');
    const form = page.locator('form[action="/signup"]');
    await form.locator('input[name="name"]').fill('Work Tester');
    await form.locator('input[name="email"]').fill(`work-${Date.now()}@example.com`);
    await form.locator('input[name="password"]').fill('correct horse battery staple');
    await Promise.all([
      page.waitForURL((url) => url.href.includes('jwt='), { waitUntil: 'commit' }),
      form.locator('button[type="submit"]').click(),
    ]);
    if (csp.length) throw new Error(`CSP violations: ${csp.join('; ')}`);
    if (axeFindings.length) throw new AxeViolations();
    const work = new URLSearchParams(posted || '').get('work');
    process.stdout.write(`${JSON.stringify({ final_url: page.url(), work })}\n`);
  } finally {
    await browser.close();
  }
}

run().then(
  () => process.exit(0),
  (err) => fail(err instanceof AxeViolations ? err.message : (err?.stack ?? String(err))),
);
