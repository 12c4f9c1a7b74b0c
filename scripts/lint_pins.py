"""The linters' pins from pyproject.toml's test extra (for `make lint`), or, with --installed,
exit 0 when exactly those versions are installed (1 otherwise)."""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

LINTERS = ("ruff", "mypy")


def pins() -> list[str]:
    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    test = project["optional-dependencies"]["test"]
    found = [p.split(";")[0].strip() for p in test if p.split("==")[0].strip().lower() in LINTERS]
    assert len(found) == len(LINTERS) and all("==" in p for p in found), f"linters not pinned: {found}"
    return found


def installed(pinned: list[str]) -> bool:
    for pin in pinned:
        name, version = pin.split("==")
        try:
            if metadata.version(name) != version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["--installed"]:
        sys.exit(0 if installed(pins()) else 1)
    print(" ".join(pins()))
