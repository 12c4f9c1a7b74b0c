"""Reading the deployment files, and what the tests compare them with."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
COMPOSE = REPO / "deploy" / "compose" / "docker-compose.yml"
TOPOLOGY = REPO / "deploy" / "topology"
ENV_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=([A-Za-z0-9_.,:/@-]*)$")

ENV_NAME = re.compile(r"\bLEDGER_[A-Z0-9_]+\b")


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    """(file name, document) for every YAML document under deploy/k8s/."""
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                out.append((path.name, doc))
    return out


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def env_file(path: Path) -> dict[str, str]:
    """A deploy/topology/*.env file: KEY=VALUE lines (values without quotes or spaces, so that compose's
    env_file and bash's `source` read them alike) and comments; anything else fails."""
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = ENV_LINE.match(line)
        assert match, f"{path.name}:{number}: not KEY=VALUE with a plain value: {line!r}"
        out[match[1]] = match[2]
    return out


def service_env(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's environment as its container gets it: the env_files of deploy/topology/ in
    order (secrets/ is made by secrets.sh, not in the repository), then `environment`, which wins."""
    out: dict[str, str] = {}
    for name in service.get("env_file", []):
        path = (COMPOSE.parent / name).resolve()
        if path.parent == TOPOLOGY:
            out.update(env_file(path))
    out.update({key: str(value) for key, value in (service.get("environment") or {}).items()})
    return out


def ledger_env_names() -> set[str]:
    """Every LEDGER_* setting the ledger reads: ledger/config.py (Settings.from_env and its helpers),
    the one reader of the environment."""
    names: set[str] = set()
    for source in ("ledger/config.py",):
        text = (REPO / source).read_text(encoding="utf-8")
        names |= set(re.findall(r"[\"'](LEDGER_[A-Z0-9_]+)[\"']", text))
    return names
