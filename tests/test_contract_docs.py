"""The contract documents the project publishes (`docs/contract/`) are the ones it implements.

A clone carries them, so nothing points outside the repository; they name exactly the event
types the ledger serves at `/contract`; and, where the shared contract is checked out beside
the repository (`../shared/contract/`, not in a clean clone such as CI's), they equal it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from domain.schemas import SCHEMA_DIR
from ledger.http import create_app
from tests.ledger.identity_support import Client, client_for, open_test_ledger

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "docs" / "contract"
DOCUMENTS = ("events.md", "projections.md", "trust.md", "domain-notes.md")
SHARED = REPO.parent / "shared" / "contract"
# A row of the event tables of events.md §3: "| `EventName` | ...".
EVENT_ROW = re.compile(r"^\| `([A-Z][A-Za-z]+)` \|", re.MULTILINE)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    yield from client_for(create_app(open_test_ledger(tmp_path / "home"), limit=1, verifier=None))


def test_the_contract_documents_are_in_the_repository() -> None:
    missing = [name for name in DOCUMENTS if not (PUBLISHED / name).is_file()]
    assert not missing, f"docs/contract/ lacks {missing}"
    for name in DOCUMENTS:
        assert re.match(r"# .+", (PUBLISHED / name).read_text(encoding="utf-8")), name


def test_nothing_points_outside_the_repository_for_the_contract() -> None:
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    outside = [
        str(page.relative_to(REPO))
        for page in pages
        if "../shared/" in page.read_text(encoding="utf-8") and page.parent != PUBLISHED
    ]
    assert not outside, f"these point to ../shared/, which a clone does not have: {outside}"
    assert "docs/contract/" in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_published_event_contract_names_the_types_the_ledger_serves(client: Client) -> None:
    documented = sorted(EVENT_ROW.findall((PUBLISHED / "events.md").read_text(encoding="utf-8")))
    index = client.get("/contract")
    assert index.status_code == 200
    served = sorted(t["name"] for t in index.json()["types"])
    assert documented == served
    for entry in index.json()["types"]:
        schema = client.get(f"/contract/{entry['schema']}")
        assert schema.status_code == 200
        assert schema.content == (SCHEMA_DIR / entry["schema"]).read_bytes()
        assert orjson.loads(schema.content)["title"]


def _recorded() -> dict[str, str]:
    """docs/contract/SHA256SUMS: the digest of each published document as it was copied."""
    lines = (PUBLISHED / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def test_the_published_documents_are_the_recorded_contract_and_equal_the_shared_one() -> None:
    """The published copies match the digests recorded when they were copied (an edit of a copy is
    caught; taking in a new contract version means copying it and recording its digests), and where
    the shared contract sits beside the repository (a working copy, not a clean clone), it is that."""
    import hashlib

    recorded = _recorded()
    assert sorted(recorded) == sorted(DOCUMENTS)
    sources = [PUBLISHED, *([SHARED] if SHARED.is_dir() else [])]
    for source in sources:
        for name in DOCUMENTS:
            digest = hashlib.sha256((source / name).read_bytes()).hexdigest()
            assert digest == recorded[name], (
                f"{source / name} is not the recorded contract: copy the contract's change into docs/contract/, "
                "record its digest in SHA256SUMS (sha256sum) and implement it"
            )
