"""The ledger's domain: the event contract, its rules and the append service (no I/O)."""
