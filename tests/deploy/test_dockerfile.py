"""The Dockerfile's properties, checked statically (issue 15 item 1): multi-stage on a pinned base
taken as ARG BASE, an unprivileged user, `ledger` as the entry point, no build tools in the final
stage, configuration by environment only; and every role runs from that entry point."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
ROLES = ["serve", "relay", "intake", "consume", "witness", "checkpoint", "kafka init"]
BUILD_TOOLS = {"gcc", "g++", "cc", "c++", "clang", "make", "build-essential", "python3-dev", "libpq-dev", "cargo"}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for word, rest in instructions():
        if word == "FROM":
            out.append([])
        if out:
            out[-1].append((word, rest))
    return out


def test_multi_stage_on_the_pinned_base_argument():
    before_from = []
    for word, rest in instructions():
        if word == "FROM":
            break
        before_from.append((word, rest))
    assert ("ARG", "BASE=python:3.11-slim-bookworm") in before_from
    froms = [rest for word, rest in instructions() if word == "FROM"]
    assert len(froms) >= 2, froms
    assert all(f.split()[0] == "${BASE}" for f in froms), froms
    names = [f.split()[-1] for f in froms if " AS " in f.upper()]
    assert names[:1] == ["build"] and names[-1] == "runtime", froms


def test_final_stage_runs_as_an_unprivileged_user():
    final = stages()[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0", ""), users
    # The user exists: it is made in the final stage with the same uid.
    runs = " ".join(rest for word, rest in final if word == "RUN")
    assert re.search(rf"useradd\b.*--uid {re.escape(user)}\b", runs) or f"useradd {user}" in runs, runs


def test_entrypoint_is_ledger_in_exec_form():
    final = stages()[-1]
    entry = [rest for word, rest in final if word == "ENTRYPOINT"]
    assert entry and json.loads(entry[-1]) == ["ledger"], entry
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert "PATH=/opt/ledger/bin:" in env, env  # `ledger` is the venv's console script


def test_no_build_tools_in_the_final_stage():
    final = stages()[-1]
    runs = [rest for word, rest in final if word == "RUN"]
    words = {w for run in runs for w in shlex.split(run.replace(";", " ").replace("&&", " "))}
    assert not words & BUILD_TOOLS, words & BUILD_TOOLS
    assert not any(re.search(r"\b(apt-get|apt|pip|pip3)\s+install\b", run) for run in runs), runs
    # From the build stage only the virtual environment comes over.
    copies = [rest for word, rest in final if word in ("COPY", "ADD")]
    assert copies == ["--from=build /opt/ledger /opt/ledger"], copies
    # The build stage installs from the wheelhouse only: no index, no compiler.
    build_runs = " ".join(rest for word, rest in stages()[0] if word == "RUN")
    assert "--no-index" in build_runs and "--find-links /wheels" in build_runs, build_runs
    assert not {w for w in shlex.split(build_runs.replace("&&", " "))} & BUILD_TOOLS


def test_configuration_by_environment_only():
    """No configuration file, key or secret is baked in: the build copies only the wheelhouse
    (.dockerignore excludes everything else), and no ENV or ARG carries a secret."""
    ignore = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*" and all(line.startswith("!.cache/wheelhouse") for line in ignore[1:]), ignore
    copies = [rest for word, rest in stages()[0] if word in ("COPY", "ADD")]
    assert copies == [".cache/wheelhouse /wheels"], copies
    for word, rest in instructions():
        if word in ("ENV", "ARG"):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|_KEY)\b", rest), rest
    env = " ".join(rest for word, rest in stages()[-1] if word == "ENV")
    assert "LEDGER_OPS_HOST=0.0.0.0" in env  # the operators' port reachable from outside the container
    assert "LEDGER_HOME=/var/lib/ledger" in env


def test_the_entry_point_is_the_projects_console_script():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["ledger"] == "ledger.cli:main"
    assert project["project"]["name"] == "groningen-ledger"  # what the Dockerfile installs


@pytest.mark.parametrize("role", ROLES)
def test_every_role_runs_from_the_entry_point(role):
    """The entry point (the same console script the image installs) knows every role."""
    ledger = Path(sys.executable).with_name("ledger")
    assert ledger.exists(), ledger
    done = subprocess.run(
        [str(ledger), *role.split(), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: ledger " + role in done.stdout
