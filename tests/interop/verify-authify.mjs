// Verify an Authify token in a Node app with jose.
// npm install jose
// usage: node verify-authify.mjs AUTHIFY_URL APP_ID TOKEN
import { createRemoteJWKSet, jwtVerify } from "jose";

export async function authifyVerifier(authifyUrl, appId) {
  const meta = await (await fetch(`${authifyUrl}/jwt/meta`)).json();
  // Cached; refetched (rate-limited) when a token names an unknown kid.
  const jwks = createRemoteJWKSet(new URL(`${authifyUrl}/.well-known/jwks.json`));
  return async (token) => {
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ["ES256", "ES384", "ES512"],
      issuer: meta.issuer,
      audience: appId,
      clockTolerance: 30,
      requiredClaims: ["sub", "exp", "nbf", "iat"],
    });
    return payload;
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [authifyUrl, appId, token] = process.argv.slice(2);
  const verify = await authifyVerifier(authifyUrl, appId);
  const claims = await verify(token);
  console.log(JSON.stringify({ sub: claims.sub, username: claims.user.username, scopes: claims.scopes }));
}
