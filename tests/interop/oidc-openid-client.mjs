// A stock OpenID Connect relying party (openid-client v6) runs the whole code flow against a live Authify.
// What it proves, each check done by the library itself:
// - discovery: the metadata's issuer is the one we asked for;
// - authorization code + PKCE S256 + state + nonce: the redirect's state and iss (RFC 9207) match;
// - the ID token: JWS signature with a key from jwks_uri (enableNonRepudiationChecks), an alg from
//   id_token_signing_alg_values_supported, iss, aud, exp, iat, sub, nonce;
// - userinfo: answers for the same sub;
// - refresh: rotates; the old refresh token is refused (400 invalid_grant) and that revokes the new one too;
// - RFC 7662 introspection (active right after the exchange) and RFC 7009 revocation of the current
//   access token (inactive after; done before the reuse check, which may end the family's tokens).
// npm install openid-client
// usage: node oidc-openid-client.mjs ISSUER CLIENT_ID CLIENT_SECRET|- REDIRECT_URI COOKIE
// ("-" for a public client, token_endpoint_auth_method none; COOKIE is a signed-in user's Cookie header)
// Prints one JSON line on success; on failure, the reason on stderr and a non-zero exit.
import * as client from "openid-client";

const SCOPE = "openid profile email offline_access organizations";

function fail(message) {
  throw new Error(message);
}

function jwtHeader(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString());
}

// True when the token endpoint refuses this refresh token with 400 invalid_grant.
async function refreshRefused(config, refreshToken) {
  try {
    await client.refreshTokenGrant(config, refreshToken);
  } catch (err) {
    if (err instanceof client.ResponseBodyError && err.status === 400 && err.error === "invalid_grant") return true;
    throw err;
  }
  return false;
}

async function main(args) {
  if (args.length !== 5) fail("usage: oidc-openid-client.mjs ISSUER CLIENT_ID CLIENT_SECRET|- REDIRECT_URI COOKIE");
  const [issuer, clientId, secret, redirectUri, cookie] = args;
  const auth = secret === "-" ? client.None() : client.ClientSecretBasic(secret);
  const config = await client.discovery(new URL(issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks], // plain http on loopback
  });
  const meta = config.serverMetadata();

  // The authorization request, sent as the signed-in user's browser would (first-party app: no consent).
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizeUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  const res = await fetch(authorizeUrl, { headers: { cookie }, redirect: "manual" });
  const location = res.headers.get("location");
  if (![302, 303].includes(res.status) || !location) {
    fail(`authorize: expected a 302/303 redirect, got ${res.status}: ${(await res.text()).slice(0, 500)}`);
  }
  const callback = new URL(location, authorizeUrl);
  if (callback.origin + callback.pathname !== new URL(redirectUri).origin + new URL(redirectUri).pathname) {
    fail(`authorize: redirected to ${callback.href}, not to the redirect_uri (is the cookie signed in?)`);
  }

  // The library checks the callback (state, iss), exchanges the code and validates the ID token.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!tokens.refresh_token) fail(`no refresh_token for offline_access: ${JSON.stringify(tokens)}`);

  const introspected = await client.tokenIntrospection(config, tokens.access_token, { token_type_hint: "access_token" });
  if (introspected.active !== true) fail(`fresh access token not active: ${JSON.stringify(introspected)}`);

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

  // Refresh rotation.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  if (!refreshed.refresh_token || refreshed.refresh_token === tokens.refresh_token) {
    fail("refresh did not rotate the refresh token");
  }

  // Revoke the current access token. Done before reuse detection, which may end every token of the
  // family: then "inactive" would prove nothing about revocation.
  const hint = { token_type_hint: "access_token" };
  await client.tokenRevocation(config, refreshed.access_token, hint);
  const revoked = await client.tokenIntrospection(config, refreshed.access_token, hint);
  if (revoked.active !== false) fail(`revoked access token still active: ${JSON.stringify(revoked)}`);
  const sibling = await client.tokenIntrospection(config, tokens.access_token, hint);

  // Reuse detection: the old refresh token is refused, and that revokes the new one too.
  if (!(await refreshRefused(config, tokens.refresh_token))) fail("the old refresh token was accepted again");
  if (!(await refreshRefused(config, refreshed.refresh_token))) fail("reusing the old refresh token did not revoke the new one");
  const afterReuse = await client.tokenIntrospection(config, tokens.access_token, hint);

  return {
    issuer: meta.issuer,
    sub: claims.sub,
    email: claims.email,
    alg: jwtHeader(tokens.id_token).alg,
    at_typ: jwtHeader(tokens.access_token).typ,
    claims: Object.keys(claims).sort(),
    userinfo_email: userinfo.email,
    userinfo_organizations: userinfo.organizations,
    refresh_rotated: true,
    reuse_refused: true,
    family_revoked: true,
    introspected_active: true,
    revoked_inactive: true,
    // Reported, not checked: the first access token after revoking the second (expected true: one
    // token revoked), and after reuse detection (true if the family's access tokens died with it).
    sibling_active_after_revoke: sibling.active,
    family_access_revoked: afterReuse.active === false,
  };
}

// One line naming the failure and its causes (openid-client wraps the specific reason in err.cause).
function describe(err) {
  const parts = [];
  for (let e = err, depth = 0; e && depth < 4; e = e.cause, depth++) {
    if (!(e instanceof Error)) {
      parts.push(JSON.stringify(e).slice(0, 500));
      break;
    }
    const http = e.error ? ` [HTTP ${e.status} ${e.error}: ${e.error_description ?? ""}]` : "";
    parts.push(`${e.name}: ${e.message}${e.code ? ` (${e.code})` : ""}${http}`);
  }
  return parts.join(" <- ");
}

try {
  console.log(JSON.stringify(await main(process.argv.slice(2))));
} catch (err) {
  console.error(`openid-client: ${describe(err)}`);
  process.exit(1);
}
