// Walks the admin console in headless Chromium as a global admin and then as an
// organization admin, and saves a screenshot of each console page:
//
// - root@example.com (global admin) signs in, creates the organization "Acme Corp",
//   adds olivia@example.com as its admin and max@example.com as a member (by exact
//   e-mail), creates the group "Engineering" and puts max in it, starts deleting the
//   group and cancels on the confirmation page, and signs out;
// - olivia@example.com signs in in a fresh browser context: /admin takes her to the
//   organizations she administers (Acme Corp, not Globex), the navigation has no
//   global sections and /admin/users answers 403.
//
// The server must already have root (global admin), olivia and max with the password
// below, and an organization "Globex" olivia does not belong to.
//
// Usage: node admin-flow.mjs <authify_base_url> <screenshots_dir> <mail_dir>
// (mail_dir: where the server writes its mails as .eml files; the invitation link comes from one)
//
// Prints one line of JSON on success with what it observed. Any failure prints the error
// to stderr and exits 1; so does any axe-core (WCAG 2.2 AA) violation on a page it visits,
// listed on stderr. Console errors (CSP violations in particular) go to stderr.
//
// Uses Debian's Chromium (CHROMIUM_PATH or /usr/bin/chromium); it never downloads a browser.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { AxeViolations, axeFindings, checkAxe } from './axe.mjs';
import { mailedLink } from './mail.mjs';

const STEP_TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 900 };
const PASSWORD = 'correct horse battery staple';
const ROOT = 'root@example.com';
const OLIVIA = 'olivia@example.com';
const MAX = 'max@example.com';
const ORG = 'Acme Corp';
const OTHER_ORG = 'Globex';
const GROUP = 'Engineering';
/** Console sections only global admins see. */
const GLOBAL_SECTIONS = ['Users', 'Applications', 'Signing keys'];

function fail(message) {
  process.stderr.write(`admin-flow: ${message}\n`);
  process.exit(1);
}

const [baseArg, shotsDir, mailDir] = process.argv.slice(2);
if (!baseArg || !shotsDir || !mailDir) {
  fail('usage: node admin-flow.mjs <authify_base_url> <screenshots_dir> <mail_dir>');
}
const base = baseArg.replace(/\/+$/, '');

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Navigates and fails on a missing response or a status other than `status` (2xx by default). */
async function open(page, url, { status } = {}) {
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${url}`);
  const ok = status === undefined ? response.ok() : response.status() === status;
  if (!ok) {
    const expected = status ?? '2xx';
    throw new Error(
      `GET ${url} answered ${response.status()}, expected ${expected} (now at ${page.url()})`,
    );
  }
  return response;
}

/**
 * Runs `click` (a link or a form's button) and waits until the page has loaded a URL that passes
 * `arrived`; fails unless the last document the browser received (after any redirect) is 2xx.
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
  check(last.ok(), `${what}: ${last.request().method()} ${last.url()} answered ${last.status()}`);
  return last;
}

/** Submits `form` with its button `name`, as `follow` does. */
function submit(page, form, name, arrived, what) {
  const button = form.getByRole('button', { name, exact: true });
  return follow(page, () => button.click(), arrived, what);
}

/** A URL predicate: this path, and `done=<flag>` when given. */
function at(pathname, done) {
  return (url) =>
    url.pathname === pathname && (done === undefined || url.searchParams.get('done') === done);
}

/** Checks the page with axe-core (labelled by the screenshot's name), then screenshots it. */
async function shot(page, name) {
  await checkAxe(page, name.replace(/\.png$/, ''));
  await page.screenshot({ path: path.join(shotsDir, name), fullPage: true });
}

/** Texts of the cells of one column of the first table on the page. */
async function column(page, index) {
  const cells = page.locator(`table.table tbody tr td:nth-child(${index})`);
  return (await cells.allTextContents()).map((t) => t.trim());
}

/**
 * Collects console errors and warnings; CSP violations are kept apart. Chromium logs every
 * non-2xx document as an error, so the URLs in `log.expected` (refusals the flow checks for)
 * are left out.
 */
function watchConsole(page, log) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const refused = /^Failed to load resource/.test(msg.text());
    if (refused && log.expected.has(msg.location().url)) return;
    const line = `${page.url()}: [${msg.type()}] ${msg.text()}`;
    if (/Content[- ]Security[- ]Policy/i.test(msg.text())) log.csp.push(line);
    else log.other.push(line);
  });
  page.on('pageerror', (err) => log.other.push(`${page.url()}: [pageerror] ${err.message}`));
}

async function newPage(browser, log) {
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  watchConsole(page, log);
  return page;
}

async function signIn(page, email) {
  await open(page, `${base}/login`);
  await checkAxe(page, `login (${email})`);
  const form = page.locator('form[action="/login"]');
  await form.locator('input[name="email"]').fill(email);
  await form.locator('input[name="password"]').fill(PASSWORD);
  await submit(page, form, 'Sign in', at('/account'), `sign in as ${email}`);
  await checkAxe(page, `account (${email})`);
}

async function signOut(page) {
  await open(page, `${base}/logout`);
  await checkAxe(page, 'logout');
  const form = page.locator('form[action="/logout"]');
  await submit(page, form, 'Sign out', at('/login'), 'sign out');
}

/** Adds a member to the organization at `orgPath` through its add-member form. */
async function addOrgMember(page, orgPath, email, admin) {
  await open(page, `${base}${orgPath}`);
  const form = page.locator(`form[action="${orgPath}/members"]`);
  await form.locator('input[name="email"]').fill(email);
  await form.locator('input[name="admin"]').setChecked(admin);
  await submit(page, form, 'Add member', at(orgPath, 'member_added'), `add ${email}`);
}

/** The members table of the organization page: `[{email, role}]`. */
async function orgMembers(page) {
  const emails = await column(page, 2);
  const roles = await column(page, 3);
  return emails.map((email, i) => ({ email, role: roles[i] }));
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

  const log = { csp: [], other: [], expected: new Set() };
  try {
    // a. The global admin signs in.
    const page = await newPage(browser, log);
    await signIn(page, ROOT);

    // b. Create the organization through the form; the browser lands on its page.
    await open(page, `${base}/admin/orgs`);
    const create = page.locator('form[action="/admin/orgs"][method="post"]');
    await create.locator('input[name="name"]').fill(ORG);
    await submit(
      page,
      create,
      'Create',
      (url) =>
        /^\/admin\/orgs\/[^/]+$/.test(url.pathname) &&
        url.searchParams.get('done') === 'org_created',
      `create ${ORG}`,
    );
    const orgPath = new URL(page.url()).pathname;
    const oid = decodeURIComponent(orgPath.split('/').at(-1));
    const heading = (await page.locator('h1').textContent()).trim();
    check(heading === ORG, `the new organization's page is titled "${heading}"`);

    // The list links to it; open it from there as a person would.
    await open(page, `${base}/admin/orgs`);
    const listed = page.locator('table.table tbody a', { hasText: ORG });
    check((await listed.count()) === 1, `/admin/orgs does not list ${ORG} once`);
    await follow(page, () => listed.click(), at(orgPath), `open ${ORG} from the list`);

    // c. Members by exact e-mail: olivia as admin, max as a plain member.
    await addOrgMember(page, orgPath, OLIVIA, true);
    await addOrgMember(page, orgPath, MAX, false);
    const members = await orgMembers(page);
    const roleOf = (email) => members.find((m) => m.email === email)?.role;
    check(roleOf(OLIVIA) === 'Admin', `${OLIVIA} is listed as "${roleOf(OLIVIA)}", not Admin`);
    check(roleOf(MAX) === 'Member', `${MAX} is listed as "${roleOf(MAX)}", not Member`);

    // d. The group, created from the organization's page, and max in it.
    await open(page, `${base}${orgPath}`);
    const newGroup = page.locator(`form[action="${orgPath}/groups"]`);
    await newGroup.locator('input[name="name"]').fill(GROUP);
    await submit(
      page,
      newGroup,
      'Create group',
      (url) =>
        url.pathname.startsWith(`${orgPath}/groups/`) &&
        url.searchParams.get('done') === 'group_created',
      `create the group ${GROUP}`,
    );
    const groupPath = new URL(page.url()).pathname;
    const gid = decodeURIComponent(groupPath.split('/').at(-1));
    const addToGroup = page.locator(`form[action="${groupPath}/members"]`);
    const option = addToGroup.locator('select[name="uid"] option', { hasText: `(${MAX})` });
    check((await option.count()) === 1, `the group's member selector does not offer ${MAX}`);
    const maxUid = await option.getAttribute('value');
    await addToGroup.locator('select[name="uid"]').selectOption(maxUid);
    const added = at(groupPath, 'member_added');
    await submit(page, addToGroup, 'Add to group', added, `add ${MAX} to ${GROUP}`);
    const groupMembers = await column(page, 2);
    check(
      groupMembers.length === 1 && groupMembers[0] === MAX,
      `${GROUP} lists ${JSON.stringify(groupMembers)}, expected only ${MAX}`,
    );

    // e. Screenshots of every console page.
    await open(page, `${base}${groupPath}`);
    await shot(page, 'admin-group.png');
    // Invite by e-mail from the organization page: listed there, and its mailed link opens
    // the invitation page.
    await open(page, `${base}${orgPath}`);
    const inviteForm = page.locator(`form[action="${orgPath}/invitations"]`);
    await inviteForm.locator('input[name="email"]').fill('new.hire@example.com');
    await follow(
      page,
      () => inviteForm.getByRole('button', { name: 'Send invitation' }).click(),
      at(orgPath, 'invited'),
      'send an invitation',
    );
    const inviteLink = await mailedLink(mailDir, /\/invite\?token=[A-Za-z0-9_-]+/);
    await open(page, `${base}${orgPath}`);
    const groupsListed = (await page.locator('.link-list a').allTextContents()).map((t) =>
      t.trim(),
    );
    check(
      groupsListed.includes(GROUP),
      `the organization page lists the groups ${JSON.stringify(groupsListed)}`,
    );
    await shot(page, 'admin-org.png');
    await open(page, `${base}${inviteLink}`);
    await page.getByRole('button', { name: `Join ${ORG}` }).waitFor({ state: 'visible' });
    await shot(page, 'invite.png');

    // Starting to delete the group shows a confirmation page; cancelling keeps the group.
    await open(page, `${base}${groupPath}`);
    const del = page.locator(`form[action="${groupPath}/delete"]`);
    await submit(page, del, 'Delete group', at(`${groupPath}/delete`), 'start deleting the group');
    const confirmHeading = (await page.locator('h1').textContent()).trim();
    check(
      confirmHeading === `Delete the group ${GROUP}?`,
      `the confirmation page asks "${confirmHeading}"`,
    );
    const confirmed = page.locator(`form[action="${groupPath}/delete"] input[name="confirmed"]`);
    check(
      (await confirmed.getAttribute('value')) === 'yes',
      'the confirming form lacks confirmed=yes',
    );
    await shot(page, 'admin-confirm.png');
    const cancel = page.getByRole('link', { name: 'Cancel', exact: true });
    await follow(page, () => cancel.click(), at(groupPath), 'cancel deleting the group');
    const afterCancel = (await page.locator('h1').textContent()).trim();
    check(afterCancel === GROUP, `after cancelling the page shows "${afterCancel}"`);

    for (const [section, name] of [
      ['users', 'admin-users.png'],
      ['orgs', 'admin-orgs.png'],
      ['apps', 'admin-apps.png'],
      ['keys', 'admin-keys.png'],
      ['audit', 'admin-audit.png'],
    ]) {
      await open(page, `${base}/admin/${section}`);
      await shot(page, name);
    }

    // f. Sign out, then the organization admin in a fresh browser context.
    await signOut(page);
    await page.context().close();

    const olivia = await newPage(browser, log);
    await signIn(olivia, OLIVIA);
    await open(olivia, `${base}/admin`);
    const landing = new URL(olivia.url()).pathname;
    check(landing === '/admin/orgs', `/admin took ${OLIVIA} to ${landing}, not /admin/orgs`);
    const orgNames = await column(olivia, 1);
    check(orgNames.includes(ORG), `${OLIVIA} sees ${JSON.stringify(orgNames)}, without ${ORG}`);
    check(!orgNames.includes(OTHER_ORG), `${OLIVIA} sees ${OTHER_ORG}`);
    const pageText = await olivia.locator('main').innerText();
    check(!pageText.includes(OTHER_ORG), `${OTHER_ORG} appears on ${OLIVIA}'s page`);
    const navLinks = olivia.locator('nav.console-nav .console-nav-link');
    const nav = (await navLinks.allTextContents()).map((t) => t.trim());
    const leaked = nav.filter((n) => GLOBAL_SECTIONS.includes(n));
    check(leaked.length === 0, `${OLIVIA}'s navigation shows ${JSON.stringify(leaked)}`);
    await shot(olivia, 'admin-org-admin.png');
    log.expected.add(`${base}/admin/users`);
    const users = await open(olivia, `${base}/admin/users`, { status: 403 });
    await checkAxe(olivia, 'admin-users (403)');

    for (const line of log.csp) process.stderr.write(`admin-flow: CSP violation: ${line}\n`);
    for (const line of log.other) process.stderr.write(`admin-flow: console: ${line}\n`);
    const result = {
      oid,
      gid,
      org_members: members,
      group_members: groupMembers,
      org_groups: groupsListed,
      confirm_heading: confirmHeading,
      group_kept_after_cancel: afterCancel === GROUP,
      org_admin_landing: landing,
      org_admin_orgs: orgNames,
      org_admin_nav: nav,
      users_status: users.status(),
      csp_violations: log.csp.length,
      console_errors: log.other.length,
    };
    if (axeFindings.length) throw new AxeViolations();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await browser.close();
  }
}

run().then(
  () => process.exit(0),
  (err) => fail(err instanceof AxeViolations ? err.message : (err?.stack ?? String(err))),
);
