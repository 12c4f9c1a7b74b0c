"""Identity (trust.md §1): bearer JWTs, the role table, the local development issuer, the access log.

- `issuer`: `ledger keys init --issuer` and `ledger token issue` (a local Ed25519 issuer for
  development and the demo; production tokens come from the organisations' own issuers).
- `tokens`: verifying bearer tokens against the configured issuer keys (JWKS file or URL).
- `access`: the role table and the guard every HTTP route passes before its endpoint runs.
- `accesslog`: the append-only, hash-chained record of who read which address's data.
"""
