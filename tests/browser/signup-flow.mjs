// Walks a person's path through Authify's pages in headless Chromium and saves a
// screenshot of each: sign up through a relying app's link (ending on the app's
// callback with ?jwt=), the account page, sign out, the invalid-callback error
// page, the sign-in page at phone size, a password reset through the mailed
// link and the address confirmation mailed at sign-up (links read from the
// server's .eml files in <mail_dir>).
//
// Usage: node signup-flow.mjs <authify_base_url> <callback_b64> <screenshots_dir> <mail_dir>
//
// Prints one line of JSON on success: {"final_url": "...", "email": "..."}.
// Any failure prints the error to stderr and exits 1; so does any axe-core (WCAG 2.2 AA)
// violation on an Authify page it visits, listed on stderr.
//
// Uses Debian's Chromium (CHROMIUM_PATH or /usr/bin/chromium); it never downloads a browser.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AxeViolations, axeFindings, checkAxe } from './axe.mjs';
import { mailedLink as mailed } from './mail.mjs';

const STEP_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 900 };
const MOBILE = { width: 390, height: 844 };
const NAME = 'Browser Tester';
const PASSWORD = 'correct horse battery staple';

function fail(message) {
  process.stderr.write(`signup-flow: ${message}\n`);
  process.exit(1);
}

const [baseArg, callbackB64, shotsDir, mailDir] = process.argv.slice(2);
if (!baseArg || !callbackB64 || !shotsDir || !mailDir) {
  fail('usage: node signup-flow.mjs <authify_base_url> <callback_b64> <screenshots_dir> <mail_dir>');
}
const base = baseArg.replace(/\/+$/, '');

/** Navigates and fails on a missing or non-2xx response unless `anyStatus` is set. */
async function open(page, url, { anyStatus = false } = {}) {
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${url}`);
  if (!anyStatus && !response.ok()) {
    throw new Error(`GET ${url} answered ${response.status()}, expected 2xx`);
  }
  return response;
}

/** Checks the page with axe-core (labelled by the screenshot's name), then screenshots it. */
async function shot(page, name) {
  await checkAxe(page, name.replace(/\.png$/, ''));
  await page.screenshot({ path: path.join(shotsDir, name), fullPage: true });
}

/** A Content-Security-Policy violation means a template broke the no-inline rule. */
function watchCsp(page, violations) {
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
      violations.push(`${page.url()}: ${msg.text()}`);
    }
  });
}

async function newPage(browser, viewport, extra = {}) {
  const context = await browser.newContext({ viewport, ...extra });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  return context.newPage();
}

async function run() {
  await mkdir(shotsDir, { recursive: true });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  const cspViolations = [];
  try {
    const page = await newPage(browser, DESKTOP);
    watchCsp(page, cspViolations);

    // 1. The sign-up page, reached through a relying app's link.
    const signupUrl =
      `${base}/signup?callback=${encodeURIComponent(callbackB64)}&state=browser-test`;
    await open(page, signupUrl);
    await shot(page, 'signup.png');

    // 2. Create the account; Authify redirects to the app's callback with the token.
    const email = `browser-${Date.now()}@example.com`;
    const form = page.locator('form[action="/signup"]');
    await form.locator('input[name="name"]').fill(NAME);
    await form.locator('input[name="email"]').fill(email);
    await form.locator('input[name="password"]').fill(PASSWORD);
    // The callback may answer 404 (or nothing): only the URL it was sent to matters,
    // so wait for the navigation to commit, not for the page to load.
    await Promise.all([
      page.waitForURL((url) => url.href.includes('jwt='), { waitUntil: 'commit' }),
      form.locator('button[type="submit"]').click(),
    ]);

    // 3. Where the browser ended up.
    const finalUrl = page.url();

    // 4. The account page shows the new user.
    await open(page, `${base}/account`);
    await page.getByText(NAME).first().waitFor({ state: 'visible' });
    await shot(page, 'account.png');

    // 5. Sign out through the confirmation page.
    await open(page, `${base}/logout`);
    await shot(page, 'logout.png');
    await Promise.all([
      page.waitForURL((url) => url.href.includes('/login')),
      page.locator('form[action="/logout"]').getByRole('button', { name: 'Sign out' }).click(),
    ]);
    await shot(page, 'login.png');

    // 6. An invalid callback: the error page (answers 400, which is expected here).
    await open(page, `${base}/login?callback=not-base64!!`, { anyStatus: true });
    await shot(page, 'error.png');

    // 7. The sign-in page at phone size.
    const mobile = await newPage(browser, MOBILE, { isMobile: true, hasTouch: true });
    watchCsp(mobile, cspViolations);
    await open(mobile, `${base}/login`);
    await shot(mobile, 'login-mobile.png');

    // 8. Forgotten password: ask, follow the mailed link, set a new one; the link then expires.
    await open(page, `${base}/password/forgot`);
    await shot(page, 'password-forgot.png');
    await page.locator('form[action="/password/forgot"] input[name="email"]').fill(email);
    await Promise.all([
      page.waitForURL((url) => url.href.endsWith('/password/forgot')),
      page.locator('form[action="/password/forgot"] button[type="submit"]').click(),
    ]);
    await page.getByText('is on its way').waitFor({ state: 'visible' });
    await shot(page, 'password-sent.png');
    const link = await mailed(mailDir, /\/password\/reset\?token=[A-Za-z0-9_-]+/);
    await open(page, `${base}${link}`);
    await shot(page, 'password-reset.png');
    await page.locator('form[action="/password/reset"] input[name="password"]').fill(`${PASSWORD} 2`);
    await Promise.all([
      page.waitForURL((url) => url.href.endsWith('/password/reset')),
      page.locator('form[action="/password/reset"] button[type="submit"]').click(),
    ]);
    await page.getByText('Your new password is set').waitFor({ state: 'visible' });
    await shot(page, 'password-changed.png');
    await open(page, `${base}${link}`, { anyStatus: true });
    await page.getByText('no longer works').first().waitFor({ state: 'visible' });
    await shot(page, 'password-expired.png');

    // 9. The confirmation link mailed at sign-up: its page, then the confirmation.
    const verify = await mailed(mailDir, /\/email\/verify\?token=[A-Za-z0-9_-]+/);
    await open(page, `${base}${verify}`);
    await shot(page, 'email-verify.png');
    await Promise.all([
      page.waitForURL((url) => url.href.endsWith('/email/verify')),
      page.locator('form[action="/email/verify"] button[type="submit"]').click(),
    ]);
    await page.getByText('is confirmed as yours').waitFor({ state: 'visible' });
    await shot(page, 'email-verified.png');

    for (const v of cspViolations) process.stderr.write(`signup-flow: warning: ${v}\n`);
    if (axeFindings.length) throw new AxeViolations();
    process.stdout.write(`${JSON.stringify({ final_url: finalUrl, email })}\n`);
  } finally {
    await browser.close();
  }
}

run().then(
  () => process.exit(0),
  (err) => fail(err instanceof AxeViolations ? err.message : (err?.stack ?? String(err))),
);
