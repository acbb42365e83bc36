// Walks the second-factor pages in headless Chromium, one mode per run.
//
// The first two run in turn (between them the test moves the server's fixed clock on by one
// 30-second step: a TOTP step is accepted once per user):
//
//   enrol:    ann@example.com signs in, follows "Set up an authenticator app" from her account
//             page, checks the QR image loaded, reads the otpauth:// URI from "Show the setup
//             link", types the code for the server's time and is shown her 10 recovery codes.
//   sign-in:  in a fresh browser ann signs in to an app, is asked for the second step on
//             /login/factor, types the code for the server's (moved) time and lands on the app's
//             callback with ?jwt=. Then bob@example.com makes one browser an approver device on
//             /account/approvals; in another he signs in to the app, sends a request to his
//             device, and the waiting page shows a number; his device picks it and approves, and
//             the waiting page moves on to the app's callback with ?jwt=.
//
// The other two need a server whose policy and settings set their pages up:
//
//   required: carol@example.com, a member without a factor of an organization that requires
//             one, signs in to an app and is led to /login/enrol; she types the code for the
//             server's time from the URI that page shows, is shown her recovery codes, and "I
//             saved them, continue" takes her on to the app's callback with ?jwt=.
//   phone:    dan@example.com signs in on a server with an SMS gateway; the "Codes by text
//             message" form of his account page sends a code to +44 20 7946 0958 and shows
//             "Confirm your phone".
//
// The codes are computed here (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) from the URI the
// page shows, for the server's unix time given on the command line, not for this machine's clock.
// Every new page is checked with axe-core (WCAG 2.2 AA) and saved as docs/screenshots/mfa-*.png.
//
// The server must already have the mode's users with the password below (for required, carol
// in her organization), and an app with the callback given, if the mode takes one.
//
// Usage: node mfa-flow.mjs enrol    <authify_base_url> <screenshots_dir> <server_unix_time>
//        node mfa-flow.mjs sign-in  <authify_base_url> <screenshots_dir> <server_unix_time>
//                                   <callback_b64> <otpauth_uri>
//        node mfa-flow.mjs required <authify_base_url> <screenshots_dir> <server_unix_time>
//                                   <callback_b64>
//        node mfa-flow.mjs phone    <authify_base_url> <screenshots_dir>
//
// Prints one line of JSON on success. Any failure prints the error to stderr and exits 1; so
// does any axe-core violation, listed on stderr.
//
// Uses Debian's Chromium (CHROMIUM_PATH or /usr/bin/chromium); it never downloads a browser.

import { createHmac } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AxeViolations, axeChecked, axeFindings, checkAxe } from './axe.mjs';

const STEP_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 900 };
const ANN = 'ann@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const DAN = 'dan@example.com';
const PHONE = '+44 20 7946 0958';
const PASSWORD = 'correct horse battery staple';

function fail(message) {
  process.stderr.write(`mfa-flow: ${message}\n`);
  process.exit(1);
}

const [mode, baseArg, shotsDir, ...rest] = process.argv.slice(2);
const usage =
  'usage: node mfa-flow.mjs enrol <base_url> <screenshots_dir> <server_unix_time>\n' +
  '       node mfa-flow.mjs sign-in <base_url> <screenshots_dir> <server_unix_time> ' +
  '<callback_b64> <otpauth_uri>\n' +
  '       node mfa-flow.mjs required <base_url> <screenshots_dir> <server_unix_time> ' +
  '<callback_b64>\n' +
  '       node mfa-flow.mjs phone <base_url> <screenshots_dir>';
// How many arguments each mode takes after the screenshots directory (the first is the time).
const ARITY = { enrol: 1, 'sign-in': 3, required: 2, phone: 0 };
if (!baseArg || !shotsDir || !Object.hasOwn(ARITY, mode) || rest.length !== ARITY[mode]) {
  fail(usage);
}
if (ARITY[mode] > 0 && !/^\d+$/.test(rest[0])) fail(usage);
if (rest.some((arg) => !arg)) fail(usage);
const [timeArg, callbackB64, otpauthArg] = rest;
const base = baseArg.replace(/\/+$/, '');
const serverTime = Number(timeArg);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// ---- RFC 6238 (TOTP) over RFC 4226 (HOTP), from node's crypto. ----

/** RFC 4648 base32, as in the `secret` of an otpauth URI (unpadded, any case). */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out = [];
  let bits = 0;
  let value = 0;
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${text}`);
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The `digits`-digit TOTP code of `key` at `unixTime` (HMAC-SHA1, `period`-second steps). */
function totp(key, unixTime, { period = 30, digits = 6 } = {}) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixTime / period)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

// RFC 6238 appendix B (SHA-1 seed), so a broken implementation fails here and not at the server.
check(
  totp(Buffer.from('12345678901234567890'), 59, { digits: 8 }) === '94287082' &&
    totp(Buffer.from('12345678901234567890'), 1111111109, { digits: 8 }) === '07081804' &&
    totp(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), 59) === '287082',
  'the TOTP implementation fails the RFC 6238 test vectors',
);

/** The key of an otpauth://totp/ URI, after checking it asks for what `totp` computes. */
function otpauthKey(uri) {
  const parsed = new URL(uri);
  check(parsed.protocol === 'otpauth:' && parsed.host === 'totp', `not a TOTP URI: ${uri}`);
  const p = parsed.searchParams;
  check((p.get('algorithm') ?? 'SHA1').toUpperCase() === 'SHA1', `algorithm in ${uri}`);
  check((p.get('digits') ?? '6') === '6', `digits in ${uri}`);
  check((p.get('period') ?? '30') === '30', `period in ${uri}`);
  const secret = p.get('secret');
  check(secret, `no secret in ${uri}`);
  return { secret, key: base32Decode(secret) };
}

// ---- The browser. ----

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
  check(arrived(new URL(page.url())), `${what}: ended on ${page.url()}`);
  return last;
}

/**
 * Runs `click` and waits for the browser to be sent to the app's callback; only the URL counts
 * (the callback need not answer), so the wait ends when the navigation commits. A page of Authify
 * that is not a redirect and that `expected` does not allow ends the wait at once, with its text.
 */
async function toCallback(page, click, what, expected = () => false) {
  const stray = page
    .waitForResponse(
      (r) =>
        r.request().isNavigationRequest() &&
        r.frame() === page.mainFrame() &&
        r.url().startsWith(`${base}/`) &&
        !r.url().startsWith(`${base}/app/`) &&
        !(r.status() >= 300 && r.status() < 400) &&
        !expected(new URL(r.url())),
      { timeout: 0 },
    )
    .then(async (r) => {
      await page.waitForLoadState('load').catch(() => {});
      const shown = (await page.locator('main').innerText().catch(() => '')).trim();
      throw new Error(`${r.request().method()} ${r.url()} answered ${r.status()}: ${shown}`);
    });
  try {
    await Promise.race([
      Promise.all([
        page.waitForURL((url) => url.searchParams.has('jwt'), { waitUntil: 'commit' }),
        click(),
      ]),
      stray,
    ]);
  } catch (err) {
    throw new Error(`${what}: ${err.message} (now at ${page.url()})`);
  } finally {
    // The race is decided; a later page must not count against this step.
    stray.catch(() => {});
  }
  return page.url();
}

/** Saves a screenshot of the part of `page` around `element`, with a margin. */
async function shootAround(page, element, file, margin = 24) {
  await element.scrollIntoViewIfNeeded();
  const box = await element.boundingBox();
  check(box, `${file}: the element is not shown`);
  const scroll = await page.evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
  const x = Math.max(0, box.x + scroll.x - margin);
  const y = Math.max(0, box.y + scroll.y - margin);
  await page.screenshot({
    path: file,
    fullPage: true,
    clip: { x, y, width: box.width + 2 * margin, height: box.height + 2 * margin },
  });
}

/**
 * Checks the page with axe-core and saves a screenshot (if `name` is given) of the whole page, or
 * of the part around the `element` located. A page that reloads itself (the push waiting page
 * sends `Refresh: 5`) may do so mid-check: then it is checked again.
 */
async function inspect(page, label, name, element) {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.waitForLoadState('load');
      await checkAxe(page, label);
      const file = name && path.join(shotsDir, name);
      if (file && element) await shootAround(page, element, file);
      else if (file) await page.screenshot({ path: file, fullPage: true });
      return;
    } catch (err) {
      const reloaded = /context was destroyed|navigat/i.test(err.message);
      if (!reloaded || attempt >= 3) throw new Error(`checking ${label}: ${err.message}`);
    }
  }
}

/** Collects console errors and warnings; CSP violations are kept apart. */
function watchConsole(page, log) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    // The app's callback is not Authify's page (in the test it answers 404).
    if (!page.url().startsWith(base)) return;
    if (page.url().startsWith(`${base}/app/`)) return;
    const line = `${page.url()}: [${msg.type()}] ${msg.text()}`;
    if (/Content[- ]Security[- ]Policy/i.test(msg.text())) log.csp.push(line);
    else log.other.push(line);
  });
  page.on('pageerror', (err) => log.other.push(`${page.url()}: [pageerror] ${err.message}`));
}

/** A page in a new browser context (its own cookies). */
async function freshPage(browser, log) {
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  watchConsole(page, log);
  return page;
}

/** Opens `/login<query>` and submits the email and password form; returns the click. */
async function fillSignIn(page, query, email) {
  await open(page, `${base}/login${query}`);
  const form = page.locator('form[action="/login"]');
  await form.locator('input[name="email"]').fill(email);
  await form.locator('input[name="password"]').fill(PASSWORD);
  return () => form.getByRole('button', { name: 'Sign in', exact: true }).click();
}

const h1 = async (page) => (await page.locator('h1').first().textContent()).trim();

// ---- Run 1: Ann sets up an authenticator app. ----

async function enrol(browser, log) {
  const page = await freshPage(browser, log);
  await follow(
    page,
    await fillSignIn(page, '', ANN),
    (url) => url.pathname === '/account',
    'sign in to the account page',
  );
  const mfa = page.locator('section[aria-labelledby="mfa-heading"]');
  check(
    (await mfa.getByRole('heading', { level: 2 }).textContent()).trim() === 'Two-step verification',
    '/account has no "Two-step verification" section',
  );

  // The QR page, from the account page's link.
  let qrResponse;
  const onResponse = (r) => {
    if (new URL(r.url()).pathname === '/account/totp/qr.svg') qrResponse = r;
  };
  page.on('response', onResponse);
  await follow(
    page,
    () => mfa.getByRole('link', { name: 'Set up an authenticator app', exact: true }).click(),
    (url) => url.pathname === '/account/totp',
    'follow "Set up an authenticator app"',
  );
  page.off('response', onResponse);
  const setupHeading = await h1(page);
  const qr = page.locator('img.qr');
  const qrLoaded = await qr.evaluate((img) => ({
    complete: img.complete,
    width: img.naturalWidth,
    height: img.naturalHeight,
  }));
  check(
    qrLoaded.complete && qrLoaded.width > 0,
    `the QR image did not load: ${JSON.stringify(qrLoaded)}`,
  );
  check(qrResponse?.status() === 200, `GET /account/totp/qr.svg answered ${qrResponse?.status()}`);
  const qrType = qrResponse.headers()['content-type'];

  // The key by hand, and the setup link behind "Show the setup link".
  const shownKey = (await page.locator('code.totp-secret').textContent()).trim();
  const uriCode = page.locator('details.otpauth code.otpauth-uri');
  const uriHiddenAtFirst = !(await uriCode.isVisible());
  await page.locator('details.otpauth summary', { hasText: 'Show the setup link' }).click();
  await uriCode.waitFor({ state: 'visible' });
  const uri = (await uriCode.textContent()).trim();
  const { secret, key } = otpauthKey(uri);
  check(
    shownKey.replace(/\s/g, '').toUpperCase() === secret.toUpperCase(),
    `the key shown (${shownKey}) is not the URI's secret (${secret})`,
  );
  await inspect(page, 'account/totp', 'mfa-totp-setup.png');

  // The code for the server's time turns it on and shows the recovery codes.
  const code = totp(key, serverTime);
  await page.locator('#code').fill(code);
  // Adding a factor from the account page needs the current password.
  await page.locator('#current-password').fill(PASSWORD);
  await follow(
    page,
    () => page.getByRole('button', { name: 'Turn on', exact: true }).click(),
    (url) => url.pathname === '/account/totp',
    'turn on the authenticator app',
  );
  const doneHeading = await h1(page);
  const recoveryCodes = (await page.locator('li.recovery-code').allTextContents()).map((t) =>
    t.trim(),
  );
  await inspect(page, 'recovery codes', 'mfa-recovery-codes.png');

  // Back on the account page, the factor is listed and the set-up link is gone.
  await follow(
    page,
    () => page.getByRole('link', { name: 'Back to your account', exact: true }).click(),
    (url) => url.pathname === '/account',
    'follow "Back to your account"',
  );
  const factorsListed = await mfa.locator('tbody tr').count();
  const setupLinkLeft = await mfa
    .getByRole('link', { name: 'Set up an authenticator app' })
    .count();

  return {
    setup_heading: setupHeading,
    qr_width: qrLoaded.width,
    qr_type: qrType,
    uri_hidden_at_first: uriHiddenAtFirst,
    uri,
    code,
    done_heading: doneHeading,
    recovery_codes: recoveryCodes,
    factors_listed: factorsListed,
    setup_link_left: setupLinkLeft,
  };
}

// ---- Run 2: Ann signs in with a code; Bob signs in by approving on his device. ----

async function signIn(browser, log) {
  const query = `?callback=${encodeURIComponent(callbackB64)}`;

  // Ann, in a fresh browser: the password leads to the second step.
  const page = await freshPage(browser, log);
  await follow(
    page,
    await fillSignIn(page, query, ANN),
    (url) => url.pathname === '/login/factor',
    'sign in to the app with the password',
  );
  const factorHeading = await h1(page);
  const otherWays = await page
    .locator('ul.method-list')
    .getByRole('link')
    .evaluateAll((links) => links.map((a) => new URL(a.href).search));
  await inspect(page, 'login/factor', 'mfa-factor-step.png');
  const { key } = otpauthKey(otpauthArg);
  const code = totp(key, serverTime);
  await page.locator('#code').fill(code);
  const finalUrl = await toCallback(
    page,
    () => page.getByRole('button', { name: 'Verify', exact: true }).click(),
    'verify the code',
  );

  // Bob makes this browser an approver device.
  const device = await freshPage(browser, log);
  await follow(
    device,
    await fillSignIn(device, '', BOB),
    (url) => url.pathname === '/account',
    'Bob signs in to his account',
  );
  await follow(
    device,
    () => device.getByRole('link', { name: 'Sign-in approvals', exact: true }).click(),
    (url) => url.pathname === '/account/approvals',
    'follow "Sign-in approvals"',
  );
  await inspect(device, 'account/approvals', 'mfa-approvals.png');
  await device.locator('#device-password').fill(PASSWORD);
  await follow(
    device,
    () =>
      device
        .getByRole('button', { name: 'Approve sign-ins from this device', exact: true })
        .click(),
    (url) => url.pathname === '/account/approvals',
    'make this browser an approver device',
  );
  // The device is Bob's first factor: it comes with his recovery codes.
  const deviceHeading = await h1(device);
  const deviceRecoveryCodes = await device.locator('li.recovery-code').count();
  await inspect(device, 'recovery codes (approver device)');

  // In another browser Bob signs in to the app: his only factor is the device.
  const waiting = await freshPage(browser, log);
  await follow(
    waiting,
    await fillSignIn(waiting, query, BOB),
    (url) => url.pathname === '/login/factor',
    'Bob signs in to the app with the password',
  );
  await inspect(waiting, 'login/factor (push)');
  await follow(
    waiting,
    () => waiting.getByRole('button', { name: 'Send a request to my device', exact: true }).click(),
    (url) => url.pathname === '/login/approval',
    'send a request to the device',
  );
  const number = (await waiting.locator('.approval-number').textContent()).trim();
  check(/^\d\d$/.test(number), `the waiting page shows no two-digit number: "${number}"`);
  await inspect(waiting, 'login/approval', 'mfa-approval-wait.png');

  // The device sees the request, offers the number among others, and approves with it.
  await open(device, `${base}/account/approvals`);
  const request = device.locator('li.approval-request');
  check((await request.count()) === 1, `${await request.count()} requests wait on the device`);
  const choices = await request
    .locator('input[name="number"]')
    .evaluateAll((inputs) => inputs.map((i) => i.value));
  check(choices.includes(number), `the device offers ${choices}, not ${number}`);
  await inspect(device, 'account/approvals (request waiting)', 'mfa-approval-request.png');
  await request.getByLabel(number, { exact: true }).check();
  await follow(
    device,
    () => request.getByRole('button', { name: 'Approve', exact: true }).click(),
    (url) => url.pathname === '/account/approvals' && url.searchParams.get('done') === 'approved',
    'approve on the device',
  );

  // The waiting page notices by itself (it polls, or reloads) and goes on to the app.
  const pushUrl = await toCallback(
    waiting,
    async () => {},
    'the waiting page moves on',
    (url) => url.pathname === '/login/approval',
  );

  return {
    factor_heading: factorHeading,
    other_ways: otherWays,
    code,
    final_url: finalUrl,
    device_heading: deviceHeading,
    device_recovery_codes: deviceRecoveryCodes,
    approval_number: number,
    approval_choices: choices,
    push_final_url: pushUrl,
  };
}

// ---- Carol sets up a factor her organization requires, inside the sign-in. ----

async function required(browser, log) {
  const page = await freshPage(browser, log);
  let qrResponse;
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/login/enrol/qr.svg') qrResponse = r;
  });
  await follow(
    page,
    await fillSignIn(page, `?callback=${encodeURIComponent(callbackB64)}`, CAROL),
    (url) => url.pathname === '/login/enrol',
    'sign in to the app with the password',
  );
  const enrolHeading = await h1(page);
  const why = (await page.locator('.card-subtitle').first().innerText()).trim();
  const qrLoaded = await page
    .locator('img.qr')
    .evaluate((img) => img.complete && img.naturalWidth > 0);
  check(qrLoaded, 'the QR image on /login/enrol did not load');
  check(qrResponse?.status() === 200, `GET /login/enrol/qr.svg answered ${qrResponse?.status()}`);
  const backLink = await page.locator('.card-footer a').getAttribute('href');

  const uriCode = page.locator('details.otpauth code.otpauth-uri');
  await page.locator('details.otpauth summary', { hasText: 'Show the setup link' }).click();
  await uriCode.waitFor({ state: 'visible' });
  const uri = (await uriCode.textContent()).trim();
  const { key } = otpauthKey(uri);
  await inspect(page, 'login/enrol', 'mfa-enrol-required.png');

  const code = totp(key, serverTime);
  await page.locator('#code').fill(code);
  await follow(
    page,
    () => page.getByRole('button', { name: 'Turn on', exact: true }).click(),
    (url) => url.pathname === '/login/enrol',
    'turn on the authenticator app inside the sign-in',
  );
  const codesHeading = await h1(page);
  const recoveryCodes = await page.locator('li.recovery-code').count();
  const saved = page.getByRole('button', { name: 'I saved them, continue', exact: true });
  check((await saved.count()) === 1, 'the recovery codes page has no "I saved them, continue"');
  await inspect(page, 'recovery codes (inside the sign-in)', 'mfa-enrol-recovery-codes.png');
  const finalUrl = await toCallback(page, () => saved.click(), 'continue to the app');

  return {
    enrol_heading: enrolHeading,
    enrol_why: why,
    enrol_back_link: backLink,
    uri,
    code,
    codes_heading: codesHeading,
    recovery_codes: recoveryCodes,
    final_url: finalUrl,
  };
}

// ---- Dan adds a phone from his account page (the server has an SMS gateway). ----

async function phone(browser, log) {
  const page = await freshPage(browser, log);
  await follow(
    page,
    await fillSignIn(page, '', DAN),
    (url) => url.pathname === '/account',
    'sign in to the account page',
  );
  const mfa = page.locator('section[aria-labelledby="mfa-heading"]');
  const form = mfa.locator('form[action="/account/phone"]');
  check((await form.count()) === 1, '/account has no "Codes by text message" form');
  const formHeading = (await form.getByRole('heading', { level: 3 }).textContent()).trim();
  const phoneLabel = (await page.locator('label[for="phone"]').textContent()).trim();
  check(await page.locator('#phone').isVisible(), 'the phone number field is not visible');
  await inspect(page, 'account (SMS gateway)', 'mfa-account-section.png', mfa);

  await page.locator('#phone').fill(PHONE);
  await page.locator('#phone-password').fill(PASSWORD);
  await follow(
    page,
    () => form.getByRole('button', { name: 'Send a code', exact: true }).click(),
    (url) => url.pathname === '/account/phone',
    'send a code to the phone',
  );
  const confirmHeading = await h1(page);
  const destination = (await page.locator('.card-subtitle strong').textContent()).trim();
  const codeLabel = (await page.locator('label[for="code"]').textContent()).trim();
  await inspect(page, 'account/phone', 'mfa-phone-confirm.png');

  return {
    phone_form_heading: formHeading,
    phone_label: phoneLabel,
    confirm_heading: confirmHeading,
    destination,
    code_label: codeLabel,
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
    ],
  });

  const log = { csp: [], other: [] };
  try {
    const walks = { enrol, 'sign-in': signIn, required, phone };
    const seen = await walks[mode](browser, log);
    for (const line of log.csp) process.stderr.write(`mfa-flow: CSP violation: ${line}\n`);
    for (const line of log.other) process.stderr.write(`mfa-flow: console: ${line}\n`);
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
