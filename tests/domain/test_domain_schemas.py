"""The committed JSON Schemas match the models, and each one accepts and refuses what the ledger does."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from domain.catalogue import BY_NAME, CATALOGUE
from domain.schemas import SCHEMA_DIR, all_schemas, write_schemas
from ledger.bootstrap import Ledger
from tests.domain.support import accept, reject
from tests.factories import EXAMPLE_DATA, example, subject

A = subject(1)
NAMES = sorted(BY_NAME)


def schema_of(name: str) -> dict[str, Any]:
    return orjson.loads((SCHEMA_DIR / f"{BY_NAME[name].type}.json").read_bytes())


def full_example(name: str) -> dict[str, Any]:
    """An example event with every optional envelope attribute set."""
    event = example(name, A)
    event.update(
        actor="img-medewerker-17",
        correlationid="0b5c8a62-3d4e-4f5a-8b6c-7d8e9f0a1b2c",
        causationid="1c6d9b73-4e5f-4a6b-9c7d-8e9f0a1b2c3d",
        datacontenttype="application/json",
    )
    return event


def test_the_committed_schemas_match_the_models(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert len(written) == len(CATALOGUE) + 2  # every type, the stored event, the index
    drifted = [p.name for p in written if not (SCHEMA_DIR / p.name).is_file()]
    drifted += [p.name for p in written if (SCHEMA_DIR / p.name).read_bytes() != p.read_bytes()]
    assert drifted == [], "regenerate with `ledger schema` and commit domain/schemas/"
    committed_types = {p.name for p in SCHEMA_DIR.glob("nl.groningen.*.json")}
    assert committed_types == {f"{t}.json" for t in CATALOGUE}


def test_the_schema_set_is_one_per_type_plus_index_and_stored_event() -> None:
    names = set(all_schemas())
    assert names == {f"{t}.json" for t in CATALOGUE} | {"index.json", "stored-event.v1.json"}
    assert len(CATALOGUE) == 43


def test_every_type_has_a_valid_example() -> None:
    assert sorted(EXAMPLE_DATA) == NAMES
    for name in NAMES:
        BY_NAME[name].model.model_validate(EXAMPLE_DATA[name])


@pytest.mark.parametrize("name", NAMES)
def test_the_schema_validates_an_example_and_refuses_an_unknown_data_field(name: str) -> None:
    schema = schema_of(name)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    event = full_example(name)
    assert list(validator.iter_errors(event)) == []
    assert list(validator.iter_errors(example(name, A))) == []  # only the required attributes
    unknown = copy.deepcopy(event)
    unknown["data"]["unexpected"] = 1
    assert [list(e.absolute_path) for e in validator.iter_errors(unknown)] == [["data"]]


@pytest.mark.parametrize("name", NAMES)
def test_the_schema_refuses_what_the_ledger_refuses(name: str) -> None:
    validator = Draft202012Validator(schema_of(name))
    event = example(name, A)
    others = sorted({"IMG", "NCG", "PORTAL"} - BY_NAME[name].emitters)
    wrong = [
        {**event, "type": BY_NAME[name].type.replace(".v1", ".v2")},
        {**event, "subject": "0014100000000001"},
        {**event, "hash": "0" * 64},
        {**event, "unknown": True},
        {k: v for k, v in event.items() if k != "id"},
        *({**event, "org": org} for org in others),
    ]
    for bad in wrong:
        assert not validator.is_valid(bad), bad


def test_a_required_data_field_is_required_by_the_schema() -> None:
    validator = Draft202012Validator(schema_of("ClaimDecided"))
    event = example("ClaimDecided", A)
    del event["data"]["claim_ids"]
    assert [list(e.absolute_path) for e in validator.iter_errors(event)] == [["data"]]


def test_the_stored_event_schema_validates_what_the_ledger_stores(ledger: Ledger) -> None:
    validator = Draft202012Validator(orjson.loads((SCHEMA_DIR / "stored-event.v1.json").read_bytes()))
    accept(ledger, full_example("DamageClaimFiled"), example("ContactMade", A, org="PORTAL"))
    for stored in ledger.log.read_stream(A):
        assert list(validator.iter_errors(stored)) == []
        assert not validator.is_valid({k: v for k, v in stored.items() if k != "hash"})


@pytest.mark.parametrize("name", NAMES)
def test_the_ledger_accepts_the_example_as_far_as_the_schema_goes(ledger: Ledger, name: str) -> None:
    # The example passes the envelope, payload and authorisation checks; what remains is at most a
    # rule of §4 (an example in isolation may lack its history).
    result = ledger.service.append([full_example(name)], full_example(name)["org"])[0]
    if result.result == "rejected":
        assert result.code == "rule_violated", result
    unknown = full_example(name)
    unknown["data"]["unexpected"] = 1
    refused = reject(ledger, unknown)
    assert (refused.code, refused.path) == ("schema_invalid", "$.data.unexpected")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("time", "2021-03-04 09:00", "$.time: must be an RFC 3339 timestamp with an offset, e.g. 2021-03-04T09:00:00Z"),
        ("time", "2021-03-04T09:00:00", "$.time: must be an RFC 3339 timestamp with an offset"),
        ("subject", "12345", "$.subject: must be a BAG nummeraanduiding id"),
        ("id", "not-a-uuid", "$.id: must be a UUID"),
    ],
)
def test_a_pattern_mismatch_explains_the_expected_form(ledger: Ledger, field: str, value: str, expected: str) -> None:
    bad = example("ContactMade", A, org="PORTAL")
    bad[field] = value
    refused = reject(ledger, bad)
    assert (refused.code, refused.path) == ("schema_invalid", f"$.{field}")
    assert refused.message.startswith(expected), refused.message
    assert "^" not in refused.message and "\\d" not in refused.message
