"""The code version behind a replay: package version and, where available, the git commit."""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE = "groningen-ledger"
_ROOT = Path(__file__).resolve().parents[1]


@cache
def code_version() -> dict[str, str | bool | None]:
    """`{"package", "version", "git_commit", "git_dirty"}`; git fields None outside a checkout."""
    try:
        version: str | None = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = None
    commit: str | None = None
    dirty: bool | None = None
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no", "--", "domain", "projections", "replay"))
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {"package": PACKAGE, "version": version, "git_commit": commit, "git_dirty": dirty}


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(_ROOT), *args], capture_output=True, text=True, timeout=5, check=True)
    return done.stdout.strip()
