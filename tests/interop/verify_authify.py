"""Verify an Authify token in a Python app with PyJWT.

pip install "PyJWT[crypto]"
usage: python verify_authify.py AUTHIFY_URL APP_ID TOKEN
"""
import json
import sys
import urllib.request

import jwt

ALLOWED = {"ES256", "ES384", "ES512"}


class AuthifyVerifier:
    def __init__(self, authify_url, app_id):
        with urllib.request.urlopen(f"{authify_url}/jwt/meta", timeout=10) as res:
            self.issuer = json.load(res)["issuer"]
        self.app_id = app_id
        self.jwks = jwt.PyJWKClient(f"{authify_url}/.well-known/jwks.json", cache_keys=True)

    def verify(self, token):
        key = self.jwks.get_signing_key_from_jwt(token)  # by kid; refetches unknown kids
        if key.algorithm_name not in ALLOWED:
            raise jwt.InvalidAlgorithmError(key.algorithm_name)
        return jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],  # the key's own algorithm, never the header's choice
            audience=self.app_id,
            issuer=self.issuer,
            leeway=30,
            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]},
        )


if __name__ == "__main__":
    authify_url, app_id, token = sys.argv[1:4]
    claims = AuthifyVerifier(authify_url, app_id).verify(token)
    print(json.dumps({"sub": claims["sub"], "username": claims["user"]["username"], "scopes": claims["scopes"]}))
