// OpenID Connect sign-ins of signed-in users against Authify on loopback, as a browser that is
// already signed in and a confidential client would do them (issue 10, "Performance"):
//   GET /oauth/authorize?response_type=code&...&code_challenge=S256 (session cookie)
//     -> 303 Location: redirect_uri?code=..&state=..&iss=..   (state and iss checked)
//   POST /oauth/token (client_secret_basic, code, redirect_uri, code_verifier) -> JSON
//   -> the id_token's ES256 signature verified with node:crypto against the JWKS fetched once at
//      start, and its iss, aud, nonce and exp checked.
// A sign-in is counted only when every check passes; anything else counts as an error.
// Each in-flight worker owns one session cookie (one signed-in user) and loops with a fresh PKCE
// verifier, state and nonce each time. No npm dependencies: node:http (keep-alive) + node:crypto.
//
// Usage: node oidc-flow.mjs --base http://127.0.0.1:PORT --client-id ID --client-secret SECRET
//          --redirect-uri URL (--cookies c1,c2,... | --cookies-file FILE)
//          [--concurrency 8] [--duration 20] [--warmup 2] [--count N] [--scope 'openid email profile']
// --cookies are `name=value` pairs, one per worker (reused round-robin when fewer than workers);
// --cookies-file has one per line. --count N stops after N counted sign-ins instead of --duration.
// Before the timed loop, one sign-in per cookie must pass every check, or the script exits 1.
// Prints one JSON line: logins_per_s, login_ms_p50, login_ms_p99, errors, http_req_per_s, logins
// (in the timed window), logins_total (every completed sign-in, warm-up and checks included).
import http from 'node:http';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://127.0.0.1:3000' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', default: 'http://127.0.0.1:5999/cb' },
    cookies: { type: 'string' },
    'cookies-file': { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    count: { type: 'string' },
    scope: { type: 'string', default: 'openid email profile' },
  },
});

function usage(msg) {
  process.stderr.write(`oidc-flow: ${msg}\n`);
  process.exit(2);
}

const BASE = new URL(opt.base);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(BASE.hostname)) usage('refusing to drive load at a non-loopback host');
const CLIENT_ID = opt['client-id'] ?? usage('--client-id is required');
const CLIENT_SECRET = opt['client-secret'] ?? usage('--client-secret is required');
const REDIRECT = opt['redirect-uri'];
const CONC = Number(opt.concurrency);
const DURATION = Number(opt.duration) * 1000;
const WARMUP = Number(opt.warmup) * 1000;
const COUNT = opt.count === undefined ? undefined : Number(opt.count);
let cookies = [];
if (opt.cookies) cookies = opt.cookies.split(',');
if (opt['cookies-file']) cookies = readFileSync(opt['cookies-file'], 'utf8').split('\n');
cookies = cookies.map((c) => c.trim()).filter(Boolean);
if (!cookies.length) usage('--cookies or --cookies-file is required');
if (!(CONC >= 1)) usage('--concurrency must be at least 1');

// RFC 6749 §2.3.1: id and secret are form-urlencoded before the Basic encoding.
const formEncode = (s) => new URLSearchParams({ s }).toString().slice(2);
const BASIC = `Basic ${Buffer.from(`${formEncode(CLIENT_ID)}:${formEncode(CLIENT_SECRET)}`).toString('base64')}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: CONC * 2 });
const b64u = (buf) => buf.toString('base64url');

let responses = 0; // every HTTP response received (for http_req_per_s)

function request(method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: BASE.hostname, port: BASE.port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        responses += 1;
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.end(body); else req.end();
  });
}

function fail(msg) { throw new Error(msg); }

// Discovery and the JWKS, once.
const disco = JSON.parse((await request('GET', '/.well-known/openid-configuration')).body);
const ISSUER = disco.issuer;
const jwksRes = await request('GET', new URL(disco.jwks_uri).pathname);
if (jwksRes.status !== 200) usage(`JWKS answered ${jwksRes.status}`);
const keys = new Map();
for (const jwk of JSON.parse(jwksRes.body).keys) {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && (!jwk.alg || jwk.alg === 'ES256')) {
    keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
  }
}
if (!keys.size) usage('the JWKS has no ES256 (P-256) key');
const AUTHORIZE_PATH = new URL(disco.authorization_endpoint).pathname;
const TOKEN_PATH = new URL(disco.token_endpoint).pathname;

function verifyIdToken(jwt, nonce) {
  const parts = jwt.split('.');
  if (parts.length !== 3) fail('id_token is not a compact JWS');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
  if (header.alg !== 'ES256') fail(`id_token alg ${header.alg}, expected ES256`);
  const key = keys.get(header.kid) ?? fail(`id_token kid ${header.kid} is not in the JWKS`);
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(parts[2], 'base64url'));
  if (!ok) fail('id_token signature does not verify');
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
  if (claims.iss !== ISSUER) fail(`id_token iss ${claims.iss}, expected ${ISSUER}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(CLIENT_ID)) fail(`id_token aud ${claims.aud} does not include ${CLIENT_ID}`);
  if (aud.length > 1 && claims.azp !== CLIENT_ID) fail('id_token has several audiences and azp is not the client');
  if (claims.nonce !== nonce) fail('id_token nonce mismatch');
  if (!(typeof claims.exp === 'number' && claims.exp > Date.now() / 1000)) fail('id_token expired or without exp');
  return { header, claims };
}

async function signIn(cookie) {
  const verifier = b64u(randomBytes(32));
  const challenge = b64u(createHash('sha256').update(verifier).digest());
  const state = b64u(randomBytes(16));
  const nonce = b64u(randomBytes(16));
  const q = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT, scope: opt.scope,
    state, nonce, code_challenge: challenge, code_challenge_method: 'S256',
  });
  const a = await request('GET', `${AUTHORIZE_PATH}?${q}`, { headers: { cookie } });
  if (a.status !== 303) fail(`authorize answered ${a.status}, expected 303 (Location: ${a.headers.location ?? '-'})`);
  const loc = a.headers.location ?? fail('authorize: 303 without Location');
  if (!loc.startsWith(`${REDIRECT}?`)) fail(`authorize redirected to ${loc}, not to the redirect_uri`);
  const cb = new URL(loc).searchParams;
  if (cb.get('error')) fail(`authorize error ${cb.get('error')}: ${cb.get('error_description')}`);
  if (cb.get('state') !== state) fail('state mismatch');
  if (cb.get('iss') !== ISSUER) fail(`iss ${cb.get('iss')}, expected ${ISSUER}`);
  const code = cb.get('code') || fail('no code in the redirect');
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier,
  }).toString();
  const t = await request('POST', TOKEN_PATH, {
    headers: {
      authorization: BASIC,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
    },
    body,
  });
  if (t.status !== 200) fail(`token answered ${t.status} ${t.body.slice(0, 300)}`);
  const tokens = JSON.parse(t.body);
  if (!tokens.access_token) fail('no access_token');
  const idToken = tokens.id_token ?? fail('no id_token');
  const { header, claims } = verifyIdToken(idToken, nonce);
  return { tokens, header, claims };
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// 1. every session must sign in once and pass every check
let total = 0;
let first;
for (const c of new Set(cookies)) {
  try {
    first = await signIn(c);
    total += 1;
  } catch (e) {
    process.stderr.write(`oidc-flow: the check sign-in failed for cookie ${c.split('=')[0]}=...: ${e.message}\n`);
    process.exit(1);
  }
}
const check = {
  issuer: ISSUER,
  sessions: new Set(cookies).size,
  id_token_alg: first.header.alg,
  id_token_bytes: first.tokens.id_token.length,
  id_token_claims: Object.keys(first.claims),
  access_token_kind: first.tokens.access_token.split('.').length === 3 ? 'jwt' : 'opaque',
  http_requests_per_login: 2,
};

// 2. timed loop: CONC workers, each with its own session, sign-ins back to back
let stopAt = Infinity;
let measuring = false;
const lat = [];
let ok = 0;
let errors = 0;
let firstError;
const done = () => Date.now() >= stopAt || (COUNT !== undefined && ok >= COUNT);
async function worker(i) {
  const cookie = cookies[i % cookies.length];
  while (!done()) {
    const t0 = process.hrtime.bigint();
    try {
      await signIn(cookie);
      total += 1;
      if (measuring) { ok += 1; lat.push(Number(process.hrtime.bigint() - t0) / 1e6); }
    } catch (e) {
      if (measuring) errors += 1;
      firstError ??= String(e.message || e);
    }
  }
}
stopAt = COUNT === undefined ? Date.now() + WARMUP + DURATION : Infinity;
const workers = Array.from({ length: CONC }, (_, i) => worker(i));
if (WARMUP > 0) await new Promise((r) => { setTimeout(r, WARMUP); });
measuring = true;
const resp0 = responses;
const t0 = Date.now();
await Promise.all(workers);
const elapsed = (Date.now() - t0) / 1000;
lat.sort((x, y) => x - y);
agent.destroy();
console.log(JSON.stringify({
  base: opt.base,
  concurrency: CONC,
  seconds: Number(elapsed.toFixed(2)),
  logins: ok,
  logins_total: total,
  errors,
  logins_per_s: Number((ok / elapsed).toFixed(1)),
  http_req_per_s: Number(((responses - resp0) / elapsed).toFixed(1)),
  login_ms_p50: Number(pct(lat, 50)?.toFixed(2)),
  login_ms_p99: Number(pct(lat, 99)?.toFixed(2)),
  first_error: firstError,
  check,
}));
if (errors > 0 && ok === 0) process.exit(1);
