"""Deterministic generator of a realistic ledger history (publisher-form CloudEvents).

Usage: `generate(addresses, seed, until, out)`; see `docs/generator.md` for the model and the
public figures it is calibrated against.
"""

from ledger.generator.core import generate

__all__ = ["generate"]
