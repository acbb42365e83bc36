// Walks an OpenID Connect sign-in in headless Chromium: a person opens an app's authorize URL
// (an app that is not first-party), signs in on the form shown there, allows the app on the
// consent page and is sent back to the app's redirect_uri with a code. Then the account page,
// with its sessions ("Where you are signed in") and the apps allowed ("Apps you allowed").
// Every Authify page on the way is checked with axe-core (WCAG 2.2 AA); the consent page and
// the account page are saved as consent.png and account-sessions.png.
//
// The app's redirect_uri need not be reachable (e.g. http://127.0.0.1:1/cb): what counts is
// the request the browser makes to it when Authify redirects there (playwright's routes do not
// see the hops of a redirect, so the request is caught rather than answered).
//
// The server must already have ann@example.com with the password below.
//
// Usage: node oidc-flow.mjs <authify_base_url> <authorize_url> <screenshots_dir>
//
// Prints one line of JSON on success: {"final_url": "...", "violations": 0, ...}. Any failure
// prints the error to stderr and exits 1; so does any axe-core violation, listed on stderr.
//
// Uses Debian's Chromium (CHROMIUM_PATH or /usr/bin/chromium); it never downloads a browser.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AxeViolations, axeChecked, axeFindings, checkAxe } from './axe.mjs';

const STEP_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 900 };
const EMAIL = 'ann@example.com';
const PASSWORD = 'correct horse battery staple';
const SECTIONS = ['Where you are signed in', 'Apps you allowed'];

function fail(message) {
  process.stderr.write(`oidc-flow: ${message}\n`);
  process.exit(1);
}

const [baseArg, authorizeUrl, shotsDir] = process.argv.slice(2);
if (!baseArg || !authorizeUrl || !shotsDir) {
  fail('usage: node oidc-flow.mjs <authify_base_url> <authorize_url> <screenshots_dir>');
}
const base = baseArg.replace(/\/+$/, '');
const redirectUri = new URL(authorizeUrl).searchParams.get('redirect_uri');
if (!redirectUri) fail(`the authorize URL has no redirect_uri: ${authorizeUrl}`);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Navigates and fails on a missing or non-2xx response. */
async function open(page, url) {
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${url}`);
  if (!response.ok()) {
    throw new Error(`GET ${url} answered ${response.status()}, expected 2xx (now at ${page.url()})`);
  }
  return response;
}

/**
 * Runs `click` and waits until the page has loaded a URL that passes `arrived`; fails unless the
 * last document the browser received (after any redirect) is 2xx.
 */
async function follow(page, click, arrived, what) {
  const documents = [];
  const record = (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) documents.push(r);
  };
  page.on('response', record);
  try {
    await Promise.all([page.waitForURL(arrived, { waitUntil: 'load' }), click()]);
  } catch (err) {
    throw new Error(`${what}: ${err.message} (now at ${page.url()})`);
  } finally {
    page.off('response', record);
  }
  const last = documents.at(-1);
  check(last, `${what}: the browser received no page`);
  if (!last.ok()) {
    const shown = (await page.locator('main').innerText().catch(() => '')).trim();
    throw new Error(
      `${what}: ${last.request().method()} ${last.url()} answered ${last.status()}: ${shown}`,
    );
  }
  return last;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shotsDir, name), fullPage: true });
}

/** Collects console errors and warnings; CSP violations are kept apart. */
function watchConsole(page, log) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const line = `${page.url()}: [${msg.type()}] ${msg.text()}`;
    if (/Content[- ]Security[- ]Policy/i.test(msg.text())) log.csp.push(line);
    else log.other.push(line);
  });
  page.on('pageerror', (err) => log.other.push(`${page.url()}: [pageerror] ${err.message}`));
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
      // The app's redirect_uri may name a port Chromium refuses by default (1 is one of them)
      // without even making the request; on the loopback the refused connection is harmless.
      `--explicitly-allowed-ports=${new URL(redirectUri).port || 80}`,
    ],
  });

  const log = { csp: [], other: [] };
  try {
    const context = await browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    watchConsole(page, log);

    // 1. The authorize URL shows the sign-in form (no session yet).
    await open(page, authorizeUrl);
    await checkAxe(page, 'authorize (sign in)');
    const form = page.locator('form[action="/login"]');
    await form.locator('input[name="email"]').fill(EMAIL);
    await form.locator('input[name="password"]').fill(PASSWORD);

    // 2. Signing in leads to the consent page.
    await follow(
      page,
      () => form.getByRole('button', { name: 'Sign in', exact: true }).click(),
      (url) => url.href.startsWith(`${base}/oauth/consent`),
      'sign in at the authorize URL',
    );
    const consentHeading = (await page.locator('h1').textContent()).trim();
    await checkAxe(page, 'consent');
    await shot(page, 'consent.png');

    // 3. Allow: Authify redirects the browser to the app's redirect_uri with a code and the
    // state. The app is not there: the request the browser makes is what counts.
    const consent = page.locator('form[action="/oauth/consent"]');
    const toApp = (r) => r.isNavigationRequest() && r.url().startsWith(redirectUri);
    let request;
    try {
      [request] = await Promise.all([
        page.waitForRequest(toApp),
        consent.getByRole('button', { name: 'Allow', exact: true }).click(),
      ]);
    } catch (err) {
      throw new Error(`allow the app: ${err.message} (now at ${page.url()})`);
    }
    const hop = request.redirectedFrom();
    check(
      hop?.method() === 'POST' && hop.url() === `${base}/oauth/consent`,
      `the browser reached the app from ${hop ? `${hop.method()} ${hop.url()}` : 'no redirect'}`,
    );
    const redirect = await hop.response();
    check(redirect?.status() === 303, `POST /oauth/consent answered ${redirect?.status()}`);
    // The browser's attempt to load the app ends (on an error page); let it, before going on.
    await page.waitForLoadState('load').catch(() => {});
    const finalUrl = request.url();
    const back = new URL(finalUrl);
    check(back.searchParams.get('code'), `the app was reached without a code: ${finalUrl}`);
    check(back.searchParams.get('state'), `the app was reached without the state: ${finalUrl}`);

    // 4. The account page: sessions and allowed apps.
    // A new tab of the same browser (same cookies): the first tab may still be settling on the
    // error page of the unreachable app, which would interrupt a navigation there.
    const acct = await page.context().newPage();
    watchConsole(acct, log);
    await open(acct, `${base}/account`);
    const sections = {};
    for (const name of SECTIONS) {
      const heading = acct.getByRole('heading', { level: 2, name, exact: true });
      sections[name] = (await heading.count()) === 1 && (await heading.isVisible());
      check(sections[name], `/account has no visible section "${name}"`);
    }
    const sessions = acct.locator('section[aria-labelledby="sessions-heading"]');
    const endButtons = await sessions.locator('tbody').getByRole('button', { name: /^End/ }).count();
    check(endButtons >= 1, '"Where you are signed in" lists no session with an End button');
    const everywhere = sessions.getByRole('button', { name: 'Log out everywhere', exact: true });
    check((await everywhere.count()) === 1, '"Log out everywhere" is missing');
    const grants = acct.locator('section[aria-labelledby="grants-heading"]');
    const appsAllowed = (await grants.locator('tbody tr td:first-child').allTextContents()).map(
      (t) => t.trim(),
    );
    const revokeButtons = await grants.getByRole('button', { name: /^Revoke/ }).count();
    check(appsAllowed.length >= 1, '"Apps you allowed" lists no app after consenting');
    check(revokeButtons === appsAllowed.length, '"Apps you allowed" lacks a Revoke button');
    await checkAxe(acct, 'account');
    await shot(acct, 'account-sessions.png');

    for (const line of log.csp) process.stderr.write(`oidc-flow: CSP violation: ${line}\n`);
    for (const line of log.other) process.stderr.write(`oidc-flow: console: ${line}\n`);
    if (axeFindings.length) throw new AxeViolations();
    const result = {
      final_url: finalUrl,
      violations: axeFindings.length,
      pages_checked: axeChecked,
      consent_heading: consentHeading,
      sections,
      sessions_with_end: endButtons,
      apps_allowed: appsAllowed,
      consent_status: redirect.status(),
      csp_violations: log.csp.length,
      console_errors: log.other.length,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await browser.close();
  }
}

run().then(
  () => process.exit(0),
  (err) => fail(err instanceof AxeViolations ? err.message : (err?.stack ?? String(err))),
);
