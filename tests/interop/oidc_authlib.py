"""A stock OpenID Connect relying party (Authlib) runs the whole code flow against a live Authify.

What it proves:
- discovery: the metadata's issuer is the one we asked for;
- authorization code + PKCE S256 + state + nonce through Authlib's OAuth2Session, which checks the
  redirect's state; the redirect's iss (RFC 9207) is checked here, as Authlib's client does not;
- the ID token, checked as Authlib's own OpenID client integration does it: the JWS signature with a key
  from jwks_uri and an alg from id_token_signing_alg_values_supported (joserfc, Authlib's JOSE library),
  then authlib.oidc.core.CodeIDToken: iss, aud, exp, iat, sub, nonce and at_hash (against the access token);
- userinfo: answers for the same sub;
- refresh: rotates; the old refresh token is refused (400 invalid_grant) and that revokes the new one too;
- RFC 7662 introspection (active right after the exchange) and RFC 7009 revocation of the current
  access token (inactive after; done before the reuse check, which may end the family's tokens).

pip install Authlib requests
usage: python oidc_authlib.py ISSUER CLIENT_ID CLIENT_SECRET|- REDIRECT_URI COOKIE
("-" for a public client, token_endpoint_auth_method none; COOKIE is a signed-in user's Cookie header)
Prints one JSON line on success; on failure, the reason on stderr and a non-zero exit.
"""
import base64
import json
import sys
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

SCOPE = "openid profile email offline_access organizations"
TIMEOUT = 10


class Failure(Exception):
    pass


def jwt_header(token):
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def json_ok(res, what):
    if res.status_code != 200:
        raise Failure(f"{what}: HTTP {res.status_code}: {res.text[:500]}")
    return res.json()


def main(issuer, client_id, secret, redirect_uri, cookie):
    public = secret == "-"
    session = OAuth2Session(
        client_id,
        None if public else secret,
        token_endpoint_auth_method="none" if public else "client_secret_basic",
        revocation_endpoint_auth_method="none" if public else "client_secret_basic",
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        leeway=0,  # never refresh behind our back
        default_timeout=TIMEOUT,
    )
    meta = json_ok(session.get(f"{issuer}/.well-known/openid-configuration", withhold_token=True), "discovery")
    if meta["issuer"] != issuer:
        raise Failure(f"discovery: issuer {meta['issuer']!r}, expected {issuer!r}")

    # The authorization request, sent as the signed-in user's browser would (first-party app: no consent).
    verifier, nonce = generate_token(48), generate_token(24)
    url, state = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    res = requests.get(url, headers={"Cookie": cookie}, allow_redirects=False, timeout=TIMEOUT)
    if res.status_code not in (302, 303) or "Location" not in res.headers:
        raise Failure(f"authorize: expected a 302/303 redirect, got {res.status_code}: {res.text[:500]}")
    callback = urljoin(url, res.headers["Location"])
    if urlsplit(callback)[:3] != urlsplit(redirect_uri)[:3]:
        raise Failure(f"authorize: redirected to {callback}, not to the redirect_uri (is the cookie signed in?)")
    if meta.get("authorization_response_iss_parameter_supported"):
        iss = parse_qs(urlsplit(callback).query).get("iss")
        if iss != [issuer]:
            raise Failure(f"authorization response iss {iss!r}, expected {issuer!r}")

    # Authlib checks state and exchanges the code (PKCE verifier, client authentication).
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
    )
    first = dict(token)
    if not first.get("refresh_token"):
        raise Failure(f"no refresh_token for offline_access: {first}")

    # The ID token, as Authlib's OpenIDMixin.parse_id_token checks it, with every claim we rely on required.
    jwks = json_ok(session.get(meta["jwks_uri"], withhold_token=True), "jwks")
    decoded = jwt.decode(
        first["id_token"], KeySet.import_key_set(jwks), algorithms=meta["id_token_signing_alg_values_supported"]
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},
            "nonce": {"essential": True},
            "at_hash": {"essential": True},
        },
        {"nonce": nonce, "client_id": client_id, "access_token": first["access_token"]},
    )
    claims.validate(leeway=30)

    hint = {"token_type_hint": "access_token"}

    def introspect(token):
        return json_ok(session.introspect_token(meta["introspection_endpoint"], token, **hint), "introspection")

    introspected = introspect(first["access_token"])
    if introspected.get("active") is not True:
        raise Failure(f"fresh access token not active: {introspected}")

    userinfo = json_ok(session.get(meta["userinfo_endpoint"]), "userinfo")
    if userinfo.get("sub") != claims["sub"]:
        raise Failure(f"userinfo sub {userinfo.get('sub')!r}, expected {claims['sub']!r}")

    # Refresh rotation.
    statuses = []
    session.register_compliance_hook("refresh_token_response", lambda r: statuses.append(r.status_code) or r)
    current = dict(session.refresh_token(meta["token_endpoint"], refresh_token=first["refresh_token"]))
    if current["refresh_token"] == first["refresh_token"]:
        raise Failure("refresh did not rotate the refresh token")

    # Revoke the current access token. Done before reuse detection, which may end every token of the
    # family: then "inactive" would prove nothing about revocation.
    res = session.revoke_token(meta["revocation_endpoint"], current["access_token"], **hint)
    if res.status_code != 200:
        raise Failure(f"revocation: HTTP {res.status_code}: {res.text[:500]}")
    revoked = introspect(current["access_token"])
    if revoked.get("active") is not False:
        raise Failure(f"revoked access token still active: {revoked}")
    sibling = introspect(first["access_token"])

    # Reuse detection: the old refresh token is refused, and that revokes the new one too.
    def refused(refresh_token):
        try:
            session.refresh_token(meta["token_endpoint"], refresh_token=refresh_token)
        except OAuthError as err:
            if err.error == "invalid_grant" and statuses[-1] == 400:
                return True
            raise
        return False

    if not refused(first["refresh_token"]):
        raise Failure("the old refresh token was accepted again")
    if not refused(current["refresh_token"]):
        raise Failure("reusing the old refresh token did not revoke the new one")
    after_reuse = introspect(first["access_token"])

    return {
        "issuer": meta["issuer"],
        "sub": claims["sub"],
        "email": claims.get("email"),
        "alg": decoded.header["alg"],
        "at_typ": jwt_header(first["access_token"]).get("typ"),
        "claims": sorted(claims),
        "userinfo_email": userinfo.get("email"),
        "userinfo_organizations": userinfo.get("organizations"),
        "refresh_rotated": True,
        "reuse_refused": True,
        "family_revoked": True,
        "introspected_active": True,
        "revoked_inactive": True,
        # Reported, not checked: the first access token after revoking the second (expected true: one
        # token revoked), and after reuse detection (true if the family's access tokens died with it).
        "sibling_active_after_revoke": sibling.get("active"),
        "family_access_revoked": after_reuse.get("active") is False,
    }


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit("usage: oidc_authlib.py ISSUER CLIENT_ID CLIENT_SECRET|- REDIRECT_URI COOKIE")
    try:
        print(json.dumps(main(*sys.argv[1:6])))
    except Exception as err:  # noqa: BLE001 - any failure is the answer
        print(f"authlib: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
