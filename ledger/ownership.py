"""The ledger's five top-level packages must be its own (checked at start-up, before any is imported).

`domain`, `projections`, `consumers`, `replay` and `ledger` are also the names of unrelated
distributions on the package index. Installed into one shared environment, one would shadow
or overwrite the other; the ledger then fails in confusing ways far from the cause. So the
command line first checks, cheaply (no package is imported: `find_spec` of a top-level name only
locates it, and one `importlib.metadata` look-up per name), that each package sits next to this
one and that no other distribution by that name is installed. The ledger belongs in its own
environment (README).
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

PACKAGES = ("domain", "projections", "consumers", "replay", "ledger")
DISTRIBUTION = "groningen-ledger"


def _location(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("namespace", "built-in", "frozen"):
        return Path(spec.origin).resolve().parent
    locations = list(spec.submodule_search_locations or [])
    return Path(locations[0]).resolve() if locations else None


def _other_distribution(name: str) -> str | None:
    """An installed distribution named like the package (other than the ledger's): 'name version'."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    found = dist.metadata["Name"] or name
    if found.lower().replace("_", "-") == DISTRIBUTION:
        return None
    return f"{found} {dist.version}"


def foreign_packages() -> list[str]:
    """One sentence per top-level package that is not the ledger's own; empty when all are."""
    root = Path(__file__).resolve().parent.parent
    problems = []
    for name in PACKAGES:
        where = _location(name)
        other = _other_distribution(name)
        if where is None:
            problems.append(f"the package {name!r} is missing")
        elif where != root / name:
            by = f" (distribution {other})" if other else ""
            problems.append(f"the package {name!r} is imported from {where}{by}, not the ledger's {root / name}")
        elif other:
            problems.append(f"the distribution {other} is installed too and overwrites the ledger's package {name!r}")
    return problems
