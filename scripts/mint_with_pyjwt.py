#!/usr/bin/env python3
"""Mints a JWT with PyJWT, a JWT library independent of ours, for interoperability tests.

Usage: mint_with_pyjwt.py ALG CLAIMS_JSON [HEADERS_JSON] < key
The key material comes on stdin, as bytes, so it never shows in a process listing:
  HS256/HS384/HS512  the shared secret, byte for byte (no trailing newline is stripped);
  EdDSA/ES*/RS*/PS*  a PEM private key.
HEADERS_JSON adds header members (e.g. {"kid": "k1"}); PyJWT itself sets `alg` and `typ: JWT`,
as Better Auth-style issuers do. Prints the compact token on stdout; exits non-zero on error.
"""
import json
import sys

import jwt


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    alg, claims = sys.argv[1], json.loads(sys.argv[2])
    headers = json.loads(sys.argv[3]) if len(sys.argv) == 4 else None
    key = sys.stdin.buffer.read()
    if not alg.startswith("HS"):
        key = key.decode("ascii")
    print(jwt.encode(claims, key, algorithm=alg, headers=headers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
