// A loopback OpenID Connect provider (node-oidc-provider, an independent implementation) for the
// integration tests of Authify's "sign in with an upstream OpenID provider".
// - One confidential client from the environment: OP_CLIENT_ID, OP_CLIENT_SECRET, OP_REDIRECT_URIS
//   (comma-separated); code flow only, client_secret_basic at the token endpoint, PKCE S256 required.
// - Scopes openid, email (email, email_verified), profile (name). Default conformIdTokenClaims: the
//   ID token carries only sub (and the protocol claims); e-mail and name come from userinfo.
// - Any e-mail typed at the login form signs in: sub = "op-" + first 16 hex of sha256(lower-cased
//   e-mail), email_verified is false only when the local part starts with "unverified", name = local part.
//   Consent is granted automatically, so one form post leads back to the redirect_uri with code and state.
//   The OP then keeps a session (cookie _session): a later authorization from the same cookie jar goes
//   straight back to the redirect_uri as the same user, with no form; use a fresh jar for another user.
// - The token endpoint takes client_secret_basic only (oidc-provider alone would take client_secret_post too).
// - Listens on 127.0.0.1, an ephemeral port; the issuer is exactly http://127.0.0.1:<port>. Prints one
//   line "READY http://127.0.0.1:<port>" on stdout once listening; notices and warnings go to stderr.
// - Exits when its standard input ends (keep it piped; drop it to stop the server) or on SIGTERM.
// npm install oidc-provider
// usage: OP_CLIENT_ID=rp OP_CLIENT_SECRET=s OP_REDIRECT_URIS=http://127.0.0.1:8080/cb node upstream-op.mjs
import { createHash, generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";

// oidc-provider prints notices with console.info: keep stdout for the READY line alone.
console.log = console.info = (...args) => console.error(...args);
const { default: Provider } = await import("oidc-provider");

const env = (name) => process.env[name] || (console.error(`upstream-op: ${name} is not set`), process.exit(2));
const clientId = env("OP_CLIENT_ID");
const clientSecret = env("OP_CLIENT_SECRET");
const redirectUris = env("OP_REDIRECT_URIS").split(",").map((uri) => uri.trim()).filter(Boolean);
const SCOPE = "openid email profile";

const emails = new Map(); // accountId -> e-mail, filled at login
function accountIdFor(email) {
  return "op-" + createHash("sha256").update(email).digest("hex").slice(0, 16);
}

const server = createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  scopes: ["openid", "email", "profile"],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ["authify-loopback-op-test-only-cookie-key"] },
  jwks: { keys: [generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" })] },
  async findAccount(ctx, accountId) {
    const email = emails.get(accountId);
    if (!email) return undefined;
    const local = email.split("@")[0];
    return {
      accountId,
      claims: async () => ({ sub: accountId, email, email_verified: !local.startsWith("unverified"), name: local }),
    };
  },
});

// Grants what the request asked for (the OP's scopes only), reusing an existing grant when there is one.
async function grantFor(details, accountId) {
  const existing = details.grantId && (await provider.Grant.find(details.grantId));
  const grant = existing?.accountId === accountId
    ? existing : new provider.Grant({ accountId, clientId: details.params.client_id });
  const requested = String(details.params.scope || "").split(" ").filter((s) => SCOPE.split(" ").includes(s));
  grant.addOIDCScope(requested.join(" "));
  const missingClaims = details.prompt.details.missingOIDCClaims;
  if (missingClaims) grant.addOIDCClaims(missingClaims);
  return grant.save();
}

function loginPage(uid) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loopback OpenID provider</title></head>
<body>
<main>
<h1>Sign in to the loopback OpenID provider</h1>
<form method="post" action="/interaction/${uid}/login">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="email" required>
<button type="submit">Continue</button>
</form>
</main>
</body>
</html>
`;
}

async function readForm(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  if (req.method === "GET" && !action && details.prompt.name === "consent") {
    const grantId = await grantFor(details, details.session.accountId);
    return provider.interactionFinished(req, res, { consent: { grantId } });
  }
  if (req.method === "GET" && !action) {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    return res.end(loginPage(uid));
  }
  if (req.method === "POST" && action === "login") {
    const email = (await readForm(req)).get("email")?.trim().toLowerCase();
    if (!email || !email.includes("@")) {
      res.writeHead(400, { "Content-Type": "text/plain" });
      return res.end("an e-mail is required");
    }
    const accountId = accountIdFor(email);
    emails.set(accountId, email);
    const grantId = await grantFor(details, accountId);
    return provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } });
  }
  res.writeHead(405, { "Content-Type": "text/plain" });
  res.end("method not allowed");
}

const callback = provider.callback();
server.on("request", (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  // oidc-provider takes client_secret_post for a client_secret_basic client too: hold the RP to basic.
  if (path === "/token" && !/^basic /i.test(req.headers.authorization || "")) {
    res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="token"' });
    return res.end(JSON.stringify({ error: "invalid_client", error_description: "use client_secret_basic" }));
  }
  const match = /^\/interaction\/([\w-]+)(?:\/(\w+))?$/.exec(path);
  if (!match) return callback(req, res);
  interaction(req, res, match[1], match[2]).catch((err) => {
    console.error("upstream-op: interaction failed:", err);
    if (res.headersSent) return res.end();
    res.writeHead(400, { "Content-Type": "text/plain" });
    res.end(`interaction failed: ${err.message}`);
  });
});

process.stdout.write(`READY ${issuer}\n`);
const stop = () => process.exit(0);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
