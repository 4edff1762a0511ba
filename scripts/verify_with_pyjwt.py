#!/usr/bin/env python3
"""Verifies a Taskgate access token with PyJWT, a JWT library independent of ours.

Usage: verify_with_pyjwt.py JWKS_URL ISSUER AUDIENCE < token
Fetches the JWKS over HTTP, picks the key by `kid`, checks the EdDSA signature, `iss`, `aud`,
`exp`, `nbf`, `iat` and the RFC 9068 `typ`, then prints the claims as JSON.

Exit codes tell a refusal from a failure to check: 0 the token is valid; 3 PyJWT refused it (the
reason, e.g. `InvalidSignatureError: …`, on stderr); anything else means the check itself did
not run (PyJWT missing, the JWKS unreachable, bad arguments).
"""
import json
import sys

import jwt


REFUSED = 3


def main() -> int:
    jwks_url, issuer, audience = sys.argv[1:4]
    token = sys.stdin.read().strip()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != "at+jwt":
            raise jwt.InvalidTokenError(f"unexpected typ {header.get('typ')!r}")
        signing_key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["EdDSA"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
        )
    except jwt.PyJWKClientConnectionError:
        raise  # the keys could not be fetched: not a verdict on the token
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as refusal:
        print(f"{type(refusal).__name__}: {refusal}", file=sys.stderr)
        return REFUSED
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
