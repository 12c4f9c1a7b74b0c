"""The AsyncAPI document: generated from the models, committed, and valid for the official parser."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from consumers.asyncapi import FILE_NAME, asyncapi_document
from consumers.topics import ALL_TOPICS
from domain.catalogue import CATALOGUE
from domain.schemas import SCHEMA_DIR, render

REPO = Path(__file__).resolve().parents[2]
PARSER_DIR = REPO / "deploy" / "asyncapi"  # package.json pins @asyncapi/parser; node_modules is git-ignored


@pytest.fixture(scope="session")
def asyncapi_parser() -> Path:
    """The pinned official parser, installed with npm on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are needed to validate the AsyncAPI document (scripts/install.sh --test)"
    if not (PARSER_DIR / "node_modules" / "@asyncapi" / "parser").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=PARSER_DIR, check=True, timeout=600)
    return PARSER_DIR / "validate.mjs"


def test_the_committed_document_is_what_the_models_generate() -> None:
    committed = (SCHEMA_DIR / FILE_NAME).read_bytes()
    assert committed == render(asyncapi_document()), "run `ledger schema` and commit domain/schemas/asyncapi.json"


def test_every_topic_and_every_type_is_described() -> None:
    doc = asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"
    assert sorted(c["address"] for c in doc["channels"].values()) == sorted(ALL_TOPICS)
    events = next(c for c in doc["channels"].values() if c["address"] == "ledger.events")
    assert len(events["messages"]) == len(CATALOGUE)
    img = next(c for c in doc["channels"].values() if c["address"] == "ledger.inbound.img")
    assert "InboundDamageClaimFiled" in img["messages"] and "InboundAssessmentCompleted" not in img["messages"]


def test_the_official_parser_accepts_the_document(asyncapi_parser: Path) -> None:
    proc = subprocess.run(
        ["node", str(asyncapi_parser), str(SCHEMA_DIR / FILE_NAME)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["valid"] and summary["version"] == "3.0.0" and summary["errors"] == []
    assert sorted(summary["channels"]) == sorted(ALL_TOPICS)
    assert summary["messages"] == 2 * len(CATALOGUE) + 2
    assert orjson.loads((SCHEMA_DIR / FILE_NAME).read_bytes())["info"]["version"] == "1.0.0"
