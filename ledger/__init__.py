"""Entry points of the Groningen coordination ledger: configuration, wiring, CLI and HTTP."""
