"""The ledger's five top-level packages must be its own (checked at start-up, before any is imported).

`domain`, `projections`, `consumers`, `replay` and `ledger` are also the names of unrelated
distributions on the package index. Installed into one shared environment, one would shadow
or overwrite the other; the ledger then fails in confusing ways far from the cause. So the
command line first checks, cheaply (no package is imported: `find_spec` of a top-level name only
locates it, and the `*.dist-info`/`*.egg-info` folders on `sys.path` are listed once, without
`importlib.metadata` and the e-mail parser it imports: start-up), that each package sits next
to this one and that no other distribution by that name is installed. The ledger belongs in its own
environment (README).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
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


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed() -> dict[str, Path]:
    """Each distribution's metadata folder on `sys.path` by normalised name (the first one wins,
    as for `importlib.metadata.distribution`)."""
    found: dict[str, Path] = {}
    for entry in sys.path:
        folder = Path(entry or ".")
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for item in names:
            stem, dot, kind = item.rpartition(".")
            if dot and kind in ("dist-info", "egg-info"):
                found.setdefault(_normal(stem.split("-")[0]), folder / item)
    return found


def _name_and_version(info: Path) -> tuple[str | None, str | None]:
    """The `Name` and `Version` headers of a metadata folder's METADATA (or PKG-INFO)."""
    fields: dict[str, str] = {}
    for file in ("METADATA", "PKG-INFO"):
        try:
            text = (info / file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.split("\n\n", 1)[0].splitlines():
            key, sep, value = line.partition(":")
            if sep and key in ("Name", "Version"):
                fields.setdefault(key, value.strip())
        break
    return fields.get("Name"), fields.get("Version")


def _other_distribution(name: str, installed: dict[str, Path]) -> str | None:
    """An installed distribution named like the package (other than the ledger's): 'name version'."""
    info = installed.get(_normal(name))
    if info is None:
        return None
    found, version = _name_and_version(info)
    found = found or name
    if _normal(found) == DISTRIBUTION:
        return None
    return f"{found} {version}"


def foreign_packages() -> list[str]:
    """One sentence per top-level package that is not the ledger's own; empty when all are."""
    root = Path(__file__).resolve().parent.parent
    problems = []
    installed = _installed()
    for name in PACKAGES:
        where = _location(name)
        other = _other_distribution(name, installed)
        if where is None:
            problems.append(f"the package {name!r} is missing")
        elif where != root / name:
            by = f" (distribution {other})" if other else ""
            problems.append(f"the package {name!r} is imported from {where}{by}, not the ledger's {root / name}")
        elif other:
            problems.append(f"the distribution {other} is installed too and overwrites the ledger's package {name!r}")
    return problems
