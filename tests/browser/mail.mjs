// The links Authify mails, read from the .eml files it writes when no SMTP server is set.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The first link matching `pattern` in the mails of `mailDir` (delivery takes a moment). */
export async function mailedLink(mailDir, pattern) {
  for (let i = 0; i < 50; i++) {
    const names = (await readdir(mailDir).catch(() => [])).filter((n) => n.endsWith('.eml'));
    for (const name of names) {
      // Quoted-printable, as mail clients decode it: soft line breaks, then =XX escapes.
      const text = (await readFile(path.join(mailDir, name), 'utf8'))
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      const m = text.match(pattern);
      if (m) return m[0];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail with ${pattern} in ${mailDir}`);
}
