// A person in headless Chromium signs in to a relying app with an upstream OpenID provider
// (the loopback `oidc-provider` of tests/interop/upstream-op.mjs): Authify's sign-in page shows
// the provider's button; pressing it goes to the provider, where the person types their e-mail;
// the provider sends the browser back to Authify, which sends it on to the app's callback with a
// token. Then the account page lists the provider as linked. Authify's pages pass axe-core
// (WCAG 2.2 AA); the provider's own page is not ours and is not checked.
//
// Usage: node upstream-flow.mjs <authify_base_url> <callback_b64> <screenshots_dir> <email>
//
// Prints one line of JSON on success: {"final_url": "...", "provider_page": "...", ...}.
// Any failure prints the error to stderr and exits 1.
//
// Uses Debian's Chromium (CHROMIUM_PATH or /usr/bin/chromium); it never downloads a browser.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AxeViolations, axeChecked, axeFindings, checkAxe } from './axe.mjs';

const STEP_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 900 };

function fail(message) {
  process.stderr.write(`upstream-flow: ${message}\n`);
  process.exit(1);
}

const [baseArg, callbackB64, shotsDir, email] = process.argv.slice(2);
if (!baseArg || !callbackB64 || !shotsDir || !email) {
  fail('usage: node upstream-flow.mjs <authify_base_url> <callback_b64> <screenshots_dir> <email>');
}
const base = baseArg.replace(/\/+$/, '');
const callback = Buffer.from(callbackB64, 'base64').toString('utf8');

function check(ok, message) {
  if (!ok) throw new Error(message);
}

async function shot(page, name) {
  await checkAxe(page, name.replace(/\.png$/, ''));
  await page.screenshot({ path: path.join(shotsDir, name), fullPage: true });
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
      `--explicitly-allowed-ports=${new URL(callback).port || 80}`,
    ],
  });
  const csp = [];
  try {
    const context = await browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
        csp.push(`${page.url()}: ${msg.text()}`);
      }
    });

    // 1. The sign-in page of the app's link offers the provider.
    const response = await page.goto(`${base}/login?callback=${encodeURIComponent(callbackB64)}`);
    check(response?.ok(), `GET /login answered ${response?.status()}`);
    const button = page.getByRole('button', { name: /^Sign in with / });
    check((await button.count()) === 1, 'the sign-in page shows no provider button');
    const buttonText = (await button.textContent()).trim();
    await shot(page, 'login-providers.png');

    // 2. Off to the provider: its own sign-in page.
    await Promise.all([page.waitForURL((u) => !u.href.startsWith(base)), button.click()]);
    const providerPage = page.url();
    await page.getByLabel('E-mail').fill(email);

    // 3. Back through Authify to the app's callback, with a token. The app is not there: the
    // request the browser makes is what counts.
    const toApp = (r) => r.isNavigationRequest() && r.url().startsWith(callback);
    const [request] = await Promise.all([
      page.waitForRequest(toApp),
      page.getByRole('button', { name: 'Continue' }).click(),
    ]);
    const hops = [];
    for (let r = request.redirectedFrom(); r; r = r.redirectedFrom()) hops.unshift(r.url());
    await page.waitForLoadState('load').catch(() => {});
    const finalUrl = request.url();
    check(new URL(finalUrl).searchParams.get('jwt'), `the app was reached without a token: ${finalUrl}`);
    check(
      hops.some((h) => h.startsWith(`${base}/login/upstream/`)),
      `the browser did not come back through Authify: ${hops.join(' -> ')}`,
    );

    // 4. The account page lists the provider as linked.
    const acct = await context.newPage();
    const res = await acct.goto(`${base}/account`);
    check(res?.ok(), `GET /account answered ${res?.status()}`);
    const section = acct.locator('section[aria-labelledby="providers-heading"]');
    const linkedText = (await section.textContent()).replace(/\s+/g, ' ').trim();
    check(/: linked/.test(linkedText), `the account page does not list the provider: ${linkedText}`);
    check(
      (await section.getByRole('button', { name: /^Unlink / }).count()) === 1,
      'no Unlink button for the linked provider',
    );
    await shot(acct, 'account-providers.png');

    for (const line of csp) process.stderr.write(`upstream-flow: CSP violation: ${line}\n`);
    if (axeFindings.length) throw new AxeViolations();
    check(csp.length === 0, 'Content-Security-Policy violations (listed above)');
    process.stdout.write(
      `${JSON.stringify({
        final_url: finalUrl,
        provider_page: providerPage,
        button: buttonText,
        hops,
        account_providers: linkedText,
        pages_checked: axeChecked,
        violations: axeFindings.length,
      })}\n`,
    );
  } finally {
    await browser.close();
  }
}

run().then(
  () => process.exit(0),
  (err) => fail(err instanceof AxeViolations ? err.message : (err?.stack ?? String(err))),
);
