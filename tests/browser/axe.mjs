// axe-core (WCAG 2.2 AA) on the page a browser walk is looking at.
//
// The pages send a strict Content-Security-Policy (no inline script), so axe is not added as a
// <script> element: its source is evaluated through the DevTools protocol (`page.evaluate`),
// which the page's policy does not govern. The context keeps its CSP, so the walks still see
// any violation of it by the pages themselves.
//
// Each page is checked twice, in the light and in the dark colour scheme (the stylesheet has
// both), and the colour scheme the page had is restored afterwards.
//
//   import { AxeViolations, axeFindings, checkAxe } from './axe.mjs';
//   await checkAxe(page, 'signup');            // after each page has loaded
//   ...
//   if (axeFindings.length) throw new AxeViolations();   // at the end of the walk
// and where the walk reports its error: `err instanceof AxeViolations ? err.message : err.stack`.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

/** The rule sets every Authify page must pass. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const SCHEMES = ['light', 'dark'];

let source;

/** Every violation found so far by `checkAxe`, in this process: `{label, url, scheme, ...}`. */
export const axeFindings = [];
/** Labels of the pages checked so far, in order. */
export const axeChecked = [];

/**
 * Runs axe-core on `page` as it is now, once per colour scheme, and records what it finds under
 * `label` in `axeFindings`. Returns this page's violations (an empty array when it passes).
 */
export async function checkAxe(page, label) {
  source ??= await readFile(AXE_PATH, 'utf8');
  const url = page.url();
  const found = [];
  const initial = await page.evaluate(() =>
    matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
  );
  try {
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      await settle(page);
      if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
        await page.evaluate(source);
      }
      const violations = await page.evaluate(async (tags) => {
        const result = await window.axe.run(document, {
          runOnly: { type: 'tag', values: tags },
          resultTypes: ['violations'],
        });
        return result.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          helpUrl: v.helpUrl,
          nodes: v.nodes.map((n) => ({
            target: n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)),
            html: n.html,
            summary: n.failureSummary,
          })),
        }));
      }, AXE_TAGS);
      for (const v of violations) {
        // A rule failing the same way in both schemes (most do) is listed once.
        const same = found.find(
          (f) => f.id === v.id && JSON.stringify(f.nodes) === JSON.stringify(v.nodes),
        );
        if (same) same.scheme += `+${scheme}`;
        else found.push({ label, url, scheme, ...v });
      }
    }
  } finally {
    await page.emulateMedia({ colorScheme: initial });
    // So that a screenshot taken next shows the page as it is, not fading back.
    await settle(page);
  }
  axeChecked.push(label);
  axeFindings.push(...found);
  return found;
}

/**
 * Waits for the page's CSS transitions and animations to end: after a change of colour scheme the
 * buttons fade to their new colours (0.12 s), and axe must see where they end, not a mix.
 */
async function settle(page) {
  await page.evaluate(async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    await Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {})));
  });
}

/** The walk finished but some page had violations; the message is `axeReport`'s listing. */
export class AxeViolations extends Error {
  constructor(findings = axeFindings) {
    super(axeReport(findings).trimEnd());
    this.name = 'AxeViolations';
  }
}

/** A readable listing of `axeFindings`, one block per violation, for stderr. */
export function axeReport(findings = axeFindings) {
  const lines = [
    `axe-core found ${findings.length} WCAG 2.2 AA violation(s) ` +
      `(pages checked: ${axeChecked.join(', ')}):`,
  ];
  for (const f of findings) {
    lines.push(`  [${f.label}, ${f.scheme}] ${f.id} (${f.impact}): ${f.help}  ${f.url}`);
    lines.push(`      ${f.helpUrl}`);
    for (const n of f.nodes) {
      lines.push(`      at ${n.target.join(', ')}: ${n.html}`);
      if (n.summary) {
        for (const s of n.summary.split('\n')) lines.push(`        ${s}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
