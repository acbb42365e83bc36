// "E-mail me a sign-in link" in headless Chromium: from an app's sign-in page, ask for a link,
// read it from the server's .eml files, open it in another browser (refused, nothing signed in),
// then in this one (a confirm button; opening spends nothing), confirm and land on the app's
// callback with ?jwt=; the used link then says it expired. Every page passes axe-core
// (WCAG 2.2 AA, light and dark); screenshots are saved as magic-link-*.png.
//
// Usage: node magic-link-flow.mjs <authify_base_url> <callback_b64> <email> <screenshots_dir> <mail_dir>
//
// Prints one line of JSON on success: {"final_url": "..."}. Any failure prints the error to
// stderr and exits 1; so does any axe-core violation.

import path from 'node:path';
import { chromium } from 'playwright-core';
import { AxeViolations, axeFindings, checkAxe } from './axe.mjs';
import { mailedLink } from './mail.mjs';

const STEP_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 900 };

function fail(message) {
  process.stderr.write(`magic-link-flow: ${message}\n`);
  process.exit(1);
}

const [baseArg, callbackB64, email, shotsDir, mailDir] = process.argv.slice(2);
if (!baseArg || !callbackB64 || !email || !shotsDir || !mailDir) {
  fail('usage: node magic-link-flow.mjs <base_url> <callback_b64> <email> <screenshots_dir> <mail_dir>');
}
const base = baseArg.replace(/\/+$/, '');

async function shot(page, name) {
  await checkAxe(page, name);
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
}

async function newPage(browser) {
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  return context.newPage();
}

async function expectStatus(page, url, status) {
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res || res.status() !== status) {
    throw new Error(`GET ${url} answered ${res && res.status()}, expected ${status}`);
  }
}

async function run() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await newPage(browser);
    await expectStatus(page, `${base}/login?callback=${encodeURIComponent(callbackB64)}`, 200);
    await page.getByRole('link', { name: 'E-mail me a sign-in link' }).click();
    await page.waitForURL(/\/login\/email-link/);
    await shot(page, 'magic-link-ask');

    await page.locator('input[name="email"]').fill(email);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByText('is on its way').waitFor({ state: 'visible' });
    await shot(page, 'magic-link-sent');

    const link = await mailedLink(mailDir, /https?:\/\/[^\s]+\/login\/email-link\/confirm\?token=[A-Za-z0-9_-]+/);

    const elsewhere = await newPage(browser);
    await expectStatus(elsewhere, link, 403);
    await elsewhere.getByText('works only in the browser where you asked').waitFor();
    await shot(elsewhere, 'magic-link-other-browser');

    await expectStatus(page, link, 200);
    await shot(page, 'magic-link-confirm');
    await Promise.all([
      page.waitForURL((url) => url.href.includes('jwt='), { waitUntil: 'commit' }),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    const finalUrl = page.url();

    await expectStatus(page, link, 410);
    await shot(page, 'magic-link-expired');

    if (axeFindings.length) throw new AxeViolations();
    process.stdout.write(`${JSON.stringify({ final_url: finalUrl })}\n`);
  } finally {
    await browser.close();
  }
}

run().catch((err) => fail(err instanceof AxeViolations ? err.message : err.stack));
