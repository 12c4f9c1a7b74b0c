"""Reading the deployment files, and what the tests compare them with."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
COMPOSE = REPO / "deploy" / "compose" / "docker-compose.yml"

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


def ledger_env_names() -> set[str]:
    """Every LEDGER_* setting the ledger reads: ledger/config.py (Settings.from_env and its helpers),
    the one reader of the environment."""
    names: set[str] = set()
    for source in ("ledger/config.py",):
        text = (REPO / source).read_text(encoding="utf-8")
        names |= set(re.findall(r"[\"'](LEDGER_[A-Z0-9_]+)[\"']", text))
    return names
