// Walks passkeys (WebAuthn) in headless Chromium. The device is Chromium's virtual authenticator
// (the DevTools protocol's WebAuthn domain: CTAP 2.1, built in, resident keys, user verification
// and presence that always succeed), added once to the one page the walk uses, so it keeps its
// credentials across sign-ins and sign-outs.
//
// That authenticator answers every request at once, the background request of /login's passkey
// autofill (conditional mediation) too: /login would sign Ann in by itself as it loads, before
// any click. The walk is about the buttons, so the pages are told the autofill is not available.
//
//   passkeys: ann@example.com signs in with her password and adds "Laptop passkey" from her
//             account page; as her first factor it comes with recovery codes, and the account page
//             lists it; the authenticator holds one resident (discoverable) credential.
//             Signed out, she signs in to an app with "Sign in with a passkey" alone (no e-mail:
//             the credential names her) and lands on the app's callback with ?jwt=.
//             Signed out again, she signs in to the app with her password, is asked for the second
//             step on /login/factor, uses her passkey there and lands on the callback with ?jwt=.
//             Then she removes the passkey from her account page (with her password). The
//             authenticator still holds the credential: "Sign in with a passkey" makes an
//             assertion with it, the server refuses it, and /login says why.
//             Last, "Sign in with my phone" asks for an address and shows the waiting page with
//             its two-digit number.
//
// Every new page is checked with axe-core (WCAG 2.2 AA) and saved as
// docs/screenshots/passkey-*.png.
//
// WebAuthn refuses IP-address origins ("This is an invalid domain"): the base URL must name the
// host, e.g. http://localhost:<port>, and the server's public URL (its WebAuthn origin and
// relying party id) must be the same. The app's callback need not answer (e.g.
// http://127.0.0.1:1/cb): what counts is the request the browser makes to it.
//
// The server must already have ann@example.com with the password below and no factor, and an app
// with the callback given.
//
// Usage: node passkey-flow.mjs passkeys <authify_base_url> <screenshots_dir> <callback_b64>
//
// Prints one line of JSON on success. Any failure prints the error to stderr and exits 1; so
// does any axe-core violation, listed on stderr.
//
// Uses Debian's Chromium (CHROMIUM_PATH or /usr/bin/chromium); it never downloads a browser.

import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AxeViolations, axeChecked, axeFindings, checkAxe } from './axe.mjs';

const STEP_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 900 };
const ANN = 'ann@example.com';
const PASSWORD = 'correct horse battery staple';
const PASSKEY_NAME = 'Laptop passkey';

function fail(message) {
  process.stderr.write(`passkey-flow: ${message}\n`);
  process.exit(1);
}

const usage = 'usage: node passkey-flow.mjs passkeys <base_url> <screenshots_dir> <callback_b64>';
const [mode, baseArg, shotsDir, callbackB64, ...extra] = process.argv.slice(2);
if (mode !== 'passkeys' || !baseArg || !shotsDir || !callbackB64 || extra.length) fail(usage);
const base = baseArg.replace(/\/+$/, '');
let callbackUrl;
try {
  callbackUrl = new URL(Buffer.from(callbackB64, 'base64').toString('utf8')).href;
} catch {
  fail(`the callback is not the base64 of a URL: ${callbackB64}`);
}
const baseHost = new URL(base).hostname.replace(/^\[|\]$/g, '');
if (isIP(baseHost)) {
  fail(`WebAuthn refuses IP-address origins: give the base URL with a host name, not ${base}`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// ---- The browser. ----

/**
 * Navigates and fails on a missing or non-2xx response. After a visit to an app that did not
 * answer, Chromium reloads its error page by itself, which interrupts a navigation begun then:
 * that one is tried again.
 */
async function open(page, url) {
  let response;
  for (let attempt = 1; ; attempt++) {
    try {
      response = await page.goto(url, { waitUntil: 'load' });
      break;
    } catch (err) {
      if (!/interrupted by another navigation/i.test(err.message) || attempt >= 3) throw err;
      await page.waitForLoadState('load').catch(() => {});
    }
  }
  if (!response) throw new Error(`no response for ${url}`);
  if (!response.ok()) {
    throw new Error(`GET ${url} answered ${response.status()}, expected 2xx (now at ${page.url()})`);
  }
  return response;
}

/**
 * Runs `click` (which submits a form or follows a link) and waits for the page the browser ends on
 * after any redirect; fails unless that document is 2xx and its URL passes `arrived`.
 */
async function follow(page, click, arrived, what) {
  const settled = page.waitForResponse(
    (r) =>
      r.request().isNavigationRequest() &&
      r.frame() === page.mainFrame() &&
      !(r.status() >= 300 && r.status() < 400),
  );
  let last;
  try {
    [last] = await Promise.all([settled, click()]);
    await page.waitForLoadState('load');
  } catch (err) {
    throw new Error(`${what}: ${err.message} (now at ${page.url()})`);
  }
  if (!last.ok()) {
    const shown = (await page.locator('main').innerText().catch(() => '')).trim();
    throw new Error(
      `${what}: ${last.request().method()} ${last.url()} answered ${last.status()}: ${shown}`,
    );
  }
  check(arrived(new URL(page.url())), `${what}: ended at ${page.url()}`);
  return last;
}

/**
 * Resolves to the text of #passkey-status once a ceremony started with the button `buttonId` is
 * over without leaving the page: the status says something and the button works again.
 */
async function statusAfter(page, buttonId, timeout = STEP_TIMEOUT_MS) {
  await page.waitForFunction(
    (id) => {
      const status = document.getElementById('passkey-status');
      const button = document.getElementById(id);
      return Boolean(status && status.textContent.trim() && button && !button.disabled);
    },
    buttonId,
    { timeout, polling: 100 },
  );
  return (await page.locator('#passkey-status').textContent()).trim();
}

/**
 * Clicks the passkey button `buttonId` and waits for the navigation the ceremony leads to: the
 * request the browser makes to a URL that passes `target` (the app's callback need not answer).
 * Fails at once if the page shows a message in #passkey-status instead, or if Authify shows
 * another page.
 */
async function passkeyTo(page, buttonId, target, what) {
  const arrival = page.waitForRequest(
    (r) => r.isNavigationRequest() && r.frame() === page.mainFrame() && target(new URL(r.url())),
  );
  const stray = page
    .waitForResponse(
      (r) =>
        r.request().isNavigationRequest() &&
        r.frame() === page.mainFrame() &&
        r.url().startsWith(`${base}/`) &&
        !target(new URL(r.url())) &&
        !(r.status() >= 300 && r.status() < 400),
      { timeout: 0 },
    )
    .then(async (r) => {
      await page.waitForLoadState('load').catch(() => {});
      const shown = (await page.locator('main').innerText().catch(() => '')).trim();
      throw new Error(`${r.request().method()} ${r.url()} answered ${r.status()}: ${shown}`);
    });
  const refused = statusAfter(page, buttonId).then((text) => {
    throw new Error(`the page says "${text}"`);
  });
  const before = page.url();
  let request;
  try {
    [request] = await Promise.race([
      Promise.all([arrival, page.locator(`#${buttonId}`).click()]),
      stray,
      refused,
    ]);
  } catch (err) {
    throw new Error(`${what}: ${err.message} (now at ${page.url()})`);
  } finally {
    // The race is decided; a later page must not count against this step.
    stray.catch(() => {});
    refused.catch(() => {});
  }
  // The browser's attempt to load the target ends (on an error page, if the app does not answer);
  // let it, or it would interrupt the next navigation.
  await page.waitForURL((url) => url.href !== before, { waitUntil: 'commit' }).catch(() => {});
  await page.waitForLoadState('load').catch(() => {});
  return request;
}

/** Checks the page with axe-core and saves a screenshot of the whole page as `name`. */
async function inspect(page, label, name, shots) {
  try {
    await page.waitForLoadState('load');
    await checkAxe(page, label);
    await page.screenshot({ path: path.join(shotsDir, name), fullPage: true });
    shots.push(name);
  } catch (err) {
    throw new Error(`checking ${label}: ${err.message}`);
  }
}

/**
 * Collects console errors and warnings; CSP violations are kept apart. While `log.refusal` is
 * set, the browser's own line for the refused POST /webauthn/login/finish (a 4xx) is expected.
 */
function watchConsole(page, log) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    // The app's callback is not Authify's page (in the test it may not answer at all).
    if (!page.url().startsWith(base)) return;
    const refusal =
      log.refusal &&
      msg.text().startsWith('Failed to load resource') &&
      (msg.location().url ?? '').endsWith('/webauthn/login/finish');
    if (refusal) return;
    const line = `${page.url()}: [${msg.type()}] ${msg.text()}`;
    if (/Content[- ]Security[- ]Policy/i.test(msg.text())) log.csp.push(line);
    else log.other.push(line);
  });
  page.on('pageerror', (err) => log.other.push(`${page.url()}: [pageerror] ${err.message}`));
}

/** Opens `/login<query>` and submits the email and password form; returns the click. */
async function fillSignIn(page, query) {
  await open(page, `${base}/login${query}`);
  const form = page.locator('form[action="/login"]');
  await form.locator('input[name="email"]').fill(ANN);
  await form.locator('input[name="password"]').fill(PASSWORD);
  return () => form.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Signs out with the account page's sign-out form (the session cookie is Authify's). */
async function signOut(page) {
  await open(page, `${base}/account`);
  await follow(
    page,
    () => page.locator('form[action="/logout"]').first().locator('button[type="submit"]').click(),
    (url) => url.origin === new URL(base).origin && url.pathname !== '/account',
    'sign out',
  );
}

/** Signs in with the password and then the passkey on /login/factor; returns the request. */
async function passwordThenPasskey(page, query, target, what, shots) {
  await follow(
    page,
    await fillSignIn(page, query),
    (url) => url.pathname === '/login/factor',
    `${what}: sign in with the password`,
  );
  if ((await page.locator('#passkey-verify').count()) === 0) {
    await follow(
      page,
      () => page.locator('a[href*="method=passkey"]').first().click(),
      (url) => url.pathname === '/login/factor',
      `${what}: choose the passkey on /login/factor`,
    );
  }
  check(
    await page.locator('#passkey-verify').isVisible(),
    `${what}: /login/factor has no visible #passkey-verify`,
  );
  if (shots) await inspect(page, 'login/factor (passkey)', 'passkey-factor.png', shots);
  return passkeyTo(page, 'passkey-verify', target, `${what}: use the passkey`);
}

/** The `jwt` query parameter of a URL that must have one. */
function jwtOf(url) {
  const jwt = new URL(url).searchParams.get('jwt');
  check(jwt, `the app was reached without ?jwt=: ${url}`);
  return jwt;
}

// ---- The walk. ----

async function passkeys(page, cdp, log) {
  const shots = [];
  const query = `?callback=${encodeURIComponent(callbackB64)}`;
  const toApp = (url) => url.href.startsWith(callbackUrl);
  const toAccount = (url) =>
    url.origin === new URL(base).origin && url.pathname === '/account';

  // a. The device: a virtual authenticator on this page.
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  // b. Ann adds a passkey from her account page; as her first factor it brings recovery codes.
  await follow(page, await fillSignIn(page, ''), toAccount, 'sign in to the account page');
  const form = page.locator('form#passkey-register');
  check((await form.count()) === 1, '/account has no form#passkey-register');
  await inspect(page, 'account (passkeys)', 'passkey-account.png', shots);
  await page.locator('#passkey-name').fill(PASSKEY_NAME);
  await page.locator('#passkey-password').fill(PASSWORD);
  const submit = form.locator('button[type="submit"], button:not([type])').first();
  const recovery = page.locator('#passkey-recovery');
  try {
    await Promise.all([
      page.waitForFunction(
        (button) => {
          const section = document.getElementById('passkey-recovery');
          const status = document.getElementById('passkey-status');
          return (
            (section && !section.hidden) ||
            (status && status.textContent.trim() && !button.disabled)
          );
        },
        await submit.elementHandle(),
        { polling: 100 },
      ),
      submit.click(),
    ]);
  } catch (err) {
    throw new Error(`add a passkey: ${err.message} (now at ${page.url()})`);
  }
  if (!(await recovery.isVisible())) {
    const said = (await page.locator('#passkey-status').textContent()).trim();
    throw new Error(`add a passkey: no recovery codes shown; the page says "${said}"`);
  }
  const recoveryCodes = await page.locator('#passkey-recovery-codes li').count();
  check(recoveryCodes > 0, 'add a passkey: #passkey-recovery is shown without codes');
  check(
    await recovery.evaluate((section) => document.activeElement === section),
    'add a passkey: the recovery codes section does not have the focus',
  );
  await inspect(page, 'account (passkey added)', 'passkey-added.png', shots);

  await open(page, `${base}/account`);
  check(
    (await page.locator('main').innerText()).includes(PASSKEY_NAME),
    `the account page does not list "${PASSKEY_NAME}"`,
  );
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  check(credentials.length === 1, `the authenticator holds ${credentials.length} credentials`);
  const resident = credentials[0].isResidentCredential;
  check(
    resident === true,
    'the passkey is not a resident (discoverable) credential: the creation options must ask ' +
      'for authenticatorSelection.residentKey "required"',
  );

  // c. Signed out, Ann signs in to the app with the passkey alone.
  await signOut(page);
  await open(page, `${base}/login${query}`);
  check(
    await page.locator('#passkey-signin').isVisible(),
    '/login shows no "Sign in with a passkey" (#passkey-signin)',
  );
  const autocomplete = (await page.locator('#email').getAttribute('autocomplete')) ?? '';
  check(
    autocomplete.split(/\s+/).includes('webauthn'),
    `#email has autocomplete="${autocomplete}", without "webauthn"`,
  );
  await inspect(page, 'login (passkey)', 'passkey-login.png', shots);
  const passkeyRequest = await passkeyTo(page, 'passkey-signin', toApp, 'sign in with a passkey');
  const passkeyJwt = jwtOf(passkeyRequest.url());

  // d. Signed out again: the password, then the passkey as the second step.
  await signOut(page);
  const factorRequest = await passwordThenPasskey(
    page,
    query,
    toApp,
    'the passkey as second step',
    shots,
  );
  const factorJwt = jwtOf(factorRequest.url());

  // e. Ann removes the passkey; the authenticator keeps it, the server no longer takes it.
  await signOut(page);
  const accountRequest = await passwordThenPasskey(
    page,
    '',
    toAccount,
    'sign in to the account page with the passkey',
  );
  const accountResponse = await accountRequest.response();
  check(
    accountResponse?.ok(),
    `GET ${accountRequest.url()} answered ${accountResponse?.status()} after the passkey`,
  );
  const row = page
    .locator('section[aria-labelledby="mfa-heading"] tbody tr')
    .filter({ hasText: PASSKEY_NAME });
  check((await row.count()) === 1, `/account lists ${await row.count()} rows for the passkey`);
  const remove = row.locator('form[action$="/remove"]');
  await remove.locator('input[type="password"]').fill(PASSWORD);
  await follow(
    page,
    () => remove.locator('button[type="submit"]').click(),
    toAccount,
    'remove the passkey',
  );
  check(
    (await page
      .locator('section[aria-labelledby="mfa-heading"] tbody tr')
      .filter({ hasText: PASSKEY_NAME })
      .count()) === 0,
    'the account page still lists the passkey after removing it',
  );

  await signOut(page);
  await open(page, `${base}/login`);
  let removedMessage;
  log.refusal = true;
  try {
    await page.locator('#passkey-signin').click();
    removedMessage = await statusAfter(page, 'passkey-signin').catch((err) => {
      throw new Error(`sign in with the removed passkey: ${err.message} (now at ${page.url()})`);
    });
    check(
      new URL(page.url()).pathname === '/login',
      `sign in with the removed passkey: the browser went to ${page.url()}`,
    );
    const { credentials: kept } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    check(kept.length === 1, `the authenticator holds ${kept.length} credentials after removal`);
  } finally {
    log.refusal = false;
  }

  // f. "Sign in with my phone": the e-mail address only, then the waiting page with its number
  // (the address has no approver device: the page looks the same all the same).
  await open(page, `${base}/login/phone`);
  await inspect(page, 'sign in with my phone', 'passkey-phone.png', shots);
  await page.locator('#email').fill('nobody@example.com');
  await follow(
    page,
    () => page.locator('form[action="/login/phone"] button[type="submit"]').click(),
    (url) => url.pathname === '/login/approval',
    'ask for a passwordless sign-in',
  );
  const number = (await page.locator('.approval-number').innerText()).trim();
  check(/^\d\d$/.test(number), `the waiting page shows "${number}", not a two-digit number`);
  await inspect(page, 'passwordless wait', 'passkey-phone-wait.png', shots);

  return {
    approval_number: number,
    recovery_codes: recoveryCodes,
    passkey_jwt: passkeyJwt,
    factor_jwt: factorJwt,
    removed_message: removedMessage,
    resident,
    shots,
  };
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
      // The app's callback may name a port Chromium refuses by default (1 is one of them)
      // without even making the request; on the loopback the refused connection is harmless.
      `--explicitly-allowed-ports=${new URL(callbackUrl).port || 80}`,
    ],
  });

  const log = { csp: [], other: [], refusal: false };
  try {
    const context = await browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    watchConsole(page, log);
    // The app's callback answers with a blank page (when the browser goes there straight; a
    // redirect's hop to it is not routed), so that no error page of Chromium's reloads itself.
    await page.route(
      (url) => url.href.startsWith(callbackUrl),
      (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: '<title>App</title>' }),
    );
    // See the top: no passkey autofill on /login.
    await context.addInitScript(() => {
      if (window.PublicKeyCredential) {
        window.PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
      }
    });
    const cdp = await context.newCDPSession(page);
    const seen = await passkeys(page, cdp, log);
    for (const line of log.csp) process.stderr.write(`passkey-flow: CSP violation: ${line}\n`);
    for (const line of log.other) process.stderr.write(`passkey-flow: console: ${line}\n`);
    if (axeFindings.length) throw new AxeViolations();
    const result = {
      ...seen,
      violations: axeFindings.length,
      pages_checked: axeChecked,
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
