#!/usr/bin/env python3
"""Verifies a Taskgate access token with PyJWT, a JWT library independent of ours.

Usage: verify_with_pyjwt.py JWKS_URL ISSUER AUDIENCE < token
Fetches the JWKS over HTTP, picks the key by `kid`, checks the EdDSA signature, `iss`, `aud`,
`exp`, `nbf`, `iat` and the RFC 9068 `typ`, then prints the claims as JSON. Exits non-zero on
any failure.
"""
import json
import sys

import jwt


def main() -> int:
    jwks_url, issuer, audience = sys.argv[1:4]
    token = sys.stdin.read().strip()
    header = jwt.get_unverified_header(token)
    if header.get("typ") != "at+jwt":
        print(f"unexpected typ {header.get('typ')!r}", file=sys.stderr)
        return 1
    signing_key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["EdDSA"],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    )
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
