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
    assert summary["messages"] == 2 * len(CATALOGUE) + 3
    assert orjson.loads((SCHEMA_DIR / FILE_NAME).read_bytes())["info"]["version"] == "1.0.0"


def test_the_channels_state_the_bounded_retention_and_the_withheld_rejection() -> None:
    doc = asyncapi_document()
    channels = {c["address"]: c for c in doc["channels"].values()}
    for name, channel in channels.items():
        retention = channel["bindings"]["kafka"]["topicConfiguration"]["retention.ms"]
        assert retention == (-1 if name == "ledger.events" else 30 * 86_400_000), name
    assert set(channels["ledger.rejections"]["messages"]) == {"Rejection", "PersonalDataRejection"}


def test_a_withheld_rejection_matches_its_asyncapi_message() -> None:
    import hashlib

    import jsonschema

    from consumers.intake import rejection_record
    from domain.results import PERSONAL_DATA, REJECTED, AppendResult
    from tests.consumers.fakes import Record

    message = asyncapi_document()["components"]["messages"]["PersonalDataRejection"]
    record = Record("ledger.inbound.img", 1, 9, b"0014200000000041", b'{"party_ref":"111222333"}', [("ce_actor", b"x")])
    result = AppendResult(1, "0b6d2c1e-8f0a-4c7e-9a55-3d2f1e0c9b8a", REJECTED, PERSONAL_DATA, "party_ref is a BSN", "$")
    key, value, headers = rejection_record(record, "IMG", result)
    jsonschema.Draft7Validator(message["headers"]).validate({k: v.decode() for k, v in headers})
    jsonschema.Draft7Validator(message["payload"]).validate(value.decode())
    jsonschema.Draft7Validator(message["bindings"]["kafka"]["key"]).validate(key.decode())
    assert dict(headers)["ledger_sha256"] == hashlib.sha256(record.value).hexdigest().encode()
