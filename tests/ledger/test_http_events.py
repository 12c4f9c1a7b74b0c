"""POST /events: the three CloudEvents HTTP binding modes on exactly the append path of `ledger append`.

Each comparison runs the same input through the CLI's own code (`ledger append`'s line reader
and batches) into one store and over HTTP into another, both with the same deterministic clock,
and requires the same result objects and the same stored bytes.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.results import MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from ledger.bootstrap import Ledger
from ledger.commands.write import _append_lines
from ledger.http import create_app
from tests.factories import added_to_programme, claim_filed, receipt, subject
from tests.ledger.identity_support import Client, Keys, batch, client_for, fixed_clock, open_test_ledger, structured

BATCH = "application/cloudevents-batch+json"
STRUCTURED = "application/cloudevents+json"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


def pair(tmp: Path, keys: Keys, **create: Any) -> tuple[Ledger, Ledger, Client]:
    """(a store the CLI path writes, a store the HTTP app writes, the app's client)."""
    cli_ledger = open_test_ledger(tmp / "cli", fixed_clock())
    http_ledger = open_test_ledger(tmp / "http", fixed_clock())
    client = Client(create_app(http_ledger, limit=1, verifier=keys.verifier(), **create))
    return cli_ledger, http_ledger, client


@pytest.fixture
def stores(tmp_path: Path, keys: Keys) -> Iterator[tuple[Ledger, Ledger, Client]]:
    cli_ledger, http_ledger, client = pair(tmp_path, keys)
    yield cli_ledger, http_ledger, client
    client.close()
    cli_ledger.close()
    http_ledger.close()


def cli_append(ledger: Ledger, lines: list[bytes], principal: str) -> list[dict[str, Any]]:
    out = io.BytesIO()
    _append_lines(ledger, io.BytesIO(b"\n".join(lines) + b"\n"), principal, False, 1000, out, only_problems=False)
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def stored(ledger: Ledger) -> list[bytes]:
    return [bytes(body) for _, body in ledger.log.read_raw(0, 100_000)]


def mixed_lines() -> list[bytes]:
    """Accepted, duplicate, and every kind of rejection the append path gives, as JSON Lines."""
    a, b, c = subject(1), subject(2), subject(3)
    first = claim_filed(a, "k1")
    big = claim_filed(subject(4), "k-big")
    big["actor"] = "x" * 10
    big_line = orjson.dumps(big).replace(b'"actor":"xxxxxxxxxx"', b'"actor":"' + b"y" * (MAX_EVENT_BYTES + 10) + b'"')
    lines = [
        orjson.dumps(first),
        orjson.dumps(receipt(a, "k1")),
        orjson.dumps(first),  # duplicate
        orjson.dumps({**claim_filed(b, "k2"), "id": first["id"]}),  # id_conflict
        orjson.dumps(claim_filed(c, "k3", org="NCG")),  # not_authorized (org differs from the principal)
        orjson.dumps(added_to_programme(c)),  # not_authorized (an NCG type)
        orjson.dumps({**claim_filed(c, "k4"), "type": "nl.groningen.img.NoSuchThing.v1"}),  # unknown_type
        orjson.dumps({**claim_filed(c, "k5"), "subject": "12345"}),  # schema_invalid
        orjson.dumps({**claim_filed(c, "k6"), "streamposition": 1}),  # a ledger attribute
        orjson.dumps(claim_filed(c, "k7"))[:-1] + b',"org":"NCG"}',  # a repeated key
        b'{"specversion":"1.0","id":"' + str(uuid.uuid4()).encode() + b'","n":123456789012345678901234567890}',
        b"[1, 2]",  # not an object
        b"17",
        big_line,  # too_large
        orjson.dumps(receipt(b, "no-such-claim")),  # rule_violated (or accepted: the rules decide, the same way)
        orjson.dumps(claim_filed(b, "k8")),
    ]
    return lines


def test_a_batch_gets_the_results_and_bytes_of_ledger_append(stores: tuple[Ledger, Ledger, Client], keys: Keys) -> None:
    cli_ledger, http_ledger, client = stores
    lines = mixed_lines()
    expected = cli_append(cli_ledger, lines, "IMG")
    response = client.post(
        "/events", keys.token("IMG"), content=b"[" + b",\n ".join(lines) + b"]", headers={"content-type": BATCH}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == expected
    codes = {r["code"] for r in expected if r["result"] == "rejected"}
    assert {"id_conflict", "not_authorized", "unknown_type", "schema_invalid", "too_large"} <= codes
    assert {r["result"] for r in expected} == {"accepted", "duplicate", "rejected"}
    assert stored(http_ledger) == stored(cli_ledger) and stored(cli_ledger)


def test_structured_mode_one_event_at_a_time(stores: tuple[Ledger, Ledger, Client], keys: Keys) -> None:
    cli_ledger, http_ledger, client = stores
    token = keys.token("IMG")
    for line in mixed_lines():
        if len(line) > MAX_EVENT_BYTES:
            continue  # over the limit: 413 over HTTP (test_size_limits)
        expected = cli_append(cli_ledger, [line], "IMG")
        response = client.post("/events", token, content=line, headers={"content-type": STRUCTURED})
        assert response.status_code == 200, response.text
        assert response.json() == expected, line[:200]
    assert stored(http_ledger) == stored(cli_ledger)


def test_idempotent_on_id(stores: tuple[Ledger, Ledger, Client], keys: Keys) -> None:
    _, http_ledger, client = stores
    event = claim_filed(subject(20), "idem")
    first = client.post("/events", keys.token("IMG"), **structured(event)).json()[0]
    again = client.post("/events", keys.token("IMG"), **batch([event, event])).json()
    assert first["result"] == "accepted"
    assert [r["result"] for r in again] == ["duplicate", "duplicate"]
    assert {r["hash"] for r in again} == {first["hash"]}
    assert len(stored(http_ledger)) == 1


def sdk_event(event: dict[str, Any], *, with_content_type: bool) -> Any:
    from datetime import datetime

    from cloudevents.core.v1.event import CloudEvent

    attributes = {k: v for k, v in event.items() if k != "data"}
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    if with_content_type:
        attributes["datacontenttype"] = "application/json"
    return CloudEvent(attributes=attributes, data=event["data"])


@pytest.mark.parametrize("with_content_type", [False, True], ids=["no-datacontenttype", "datacontenttype"])
def test_the_official_sdk_structured_and_binary_are_the_cli_event(
    tmp_path: Path, keys: Keys, with_content_type: bool
) -> None:
    """The cloudevents SDK's HTTP binding, both modes: the same stored bytes and hash as `ledger append`."""
    from cloudevents.core.bindings import http as binding

    event = claim_filed(subject(30), "sdk", time="2021-03-01T10:00:00+01:00")
    event["actor"] = "team-west-3"
    event["correlationid"] = str(uuid.uuid4())
    if with_content_type:
        event["datacontenttype"] = "application/json"
    cli_ledger = open_test_ledger(tmp_path / "cli", fixed_clock())
    expected = cli_append(cli_ledger, [orjson.dumps(event)], "IMG")
    assert expected[0]["result"] == "accepted"
    for mode in ("structured", "binary"):
        message = (binding.to_structured_event if mode == "structured" else binding.to_binary_event)(
            sdk_event(event, with_content_type=with_content_type)
        )
        if mode == "binary":
            assert any(k.startswith("ce-") for k in message.headers) and "ce-data" not in message.headers
        http_ledger = open_test_ledger(tmp_path / mode, fixed_clock())
        for client in client_for(create_app(http_ledger, limit=1, verifier=keys.verifier())):
            response = client.post("/events", keys.token("IMG"), content=message.body, headers=message.headers)
            assert response.status_code == 200, response.text
            assert response.json() == expected, mode
            # and the other mode of the same event is a duplicate of it
            other = (binding.to_binary_event if mode == "structured" else binding.to_structured_event)(
                sdk_event(event, with_content_type=with_content_type)
            )
            again = client.post("/events", keys.token("IMG"), content=other.body, headers=other.headers).json()
            assert again[0]["result"] == "duplicate" and again[0]["hash"] == expected[0]["hash"]
        assert stored(http_ledger) == stored(cli_ledger)
        http_ledger.close()
    cli_ledger.close()


def test_binary_mode_headers(stores: tuple[Ledger, Ledger, Client], keys: Keys) -> None:
    _, _, client = stores
    token = keys.token("IMG")
    event = claim_filed(subject(40), "bin")
    headers = {f"ce-{k}": v for k, v in event.items() if k != "data"}
    # percent-encoded attribute values are decoded (the binding's §3.1.3.2)
    headers["ce-actor"] = "team%2Dnorth"
    ok = client.post("/events", token, content=orjson.dumps(event["data"]), headers=headers).json()
    assert ok[0]["result"] == "accepted", ok
    cases = [
        ({**headers, "ce-actor": "t%FF"}, "percent-encoding is not UTF-8"),
        ({**headers, "ce-actor": "tëam".encode()}, "must be percent-encoded"),
        ({**headers, "content-type": "text/plain"}, "content type"),
    ]
    for bad, words in cases:
        response = client.post(
            "/events", token, content=orjson.dumps(event["data"]), headers={k: v for k, v in bad.items()}
        )
        assert response.status_code in (400, 415), response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert words in response.json()["detail"]
    # data that is not JSON: a rejected result, never spliced into the event
    fresh = {**headers, "ce-id": str(uuid.uuid4())}
    spliced = client.post("/events", token, content=b'{"claim_id":"x"}, "subject": "0014200000000099"', headers=fresh)
    assert spliced.status_code == 200
    assert spliced.json()[0]["code"] == "schema_invalid" and spliced.json()[0]["path"] == "$.data"
    # no data at all: the event has no data attribute, like a line without one
    empty = client.post("/events", token, content=b"", headers={**headers, "ce-id": str(uuid.uuid4())}).json()
    assert empty[0]["result"] == "rejected" and empty[0]["code"] == "schema_invalid"


def test_content_types(stores: tuple[Ledger, Ledger, Client], keys: Keys) -> None:
    _, http_ledger, client = stores
    token = keys.token("IMG")
    body = orjson.dumps(claim_filed(subject(50), "ct"))
    for content_type in (None, "application/json", "text/plain", "application/xml", "multipart/form-data; boundary=x"):
        headers = {"content-type": content_type} if content_type else {}
        response = client.post("/events", token, content=body, headers=headers)
        assert response.status_code == 415, (content_type, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert "application/cloudevents+json" in response.json()["detail"]
    latin = client.post("/events", token, content=body, headers={"content-type": f"{STRUCTURED}; charset=latin-1"})
    assert latin.status_code == 415 and "UTF-8" in latin.json()["detail"]
    utf8 = client.post("/events", token, content=body, headers={"content-type": f"{STRUCTURED}; charset=UTF-8"})
    assert utf8.status_code == 200 and utf8.json()[0]["result"] == "accepted"
    assert len(stored(http_ledger)) == 1


def test_size_limits(tmp_path: Path, keys: Keys) -> None:
    ledger = open_test_ledger(tmp_path / "s")
    app = create_app(ledger, limit=1, verifier=keys.verifier())
    app.state.max_body = 1 << 20
    token = keys.token("IMG")
    try:
        for client in client_for(app):
            event = claim_filed(subject(60), "big")
            event["actor"] = "a"
            over = orjson.dumps(event).replace(b'"actor":"a"', b'"actor":"' + b"a" * MAX_EVENT_BYTES + b'"')
            response = client.post("/events", token, content=over, headers={"content-type": STRUCTURED})
            assert response.status_code == 413 and "65,536" in response.json()["detail"]
            headers = {f"ce-{k}": v for k, v in event.items() if k != "data"}
            binary = client.post("/events", token, content=b'"' + b"d" * MAX_EVENT_BYTES + b'"', headers=headers)
            assert binary.status_code == 413
            too_many = b"[" + b",".join([b"{}"] * (MAX_BATCH_EVENTS + 1)) + b"]"
            response = client.post("/events", token, content=too_many, headers={"content-type": BATCH})
            assert response.status_code == 413 and "10,000" in response.json()["detail"]
            huge = b"[" + b" " * (2 << 20) + b"]"
            response = client.post("/events", token, content=huge, headers={"content-type": BATCH})
            assert response.status_code == 413 and "1,048,576" in response.json()["detail"]
            # a body without Content-Length is read only up to the limit, never further
            sent = 0

            async def endless() -> Any:
                nonlocal sent
                for _ in range(64):
                    sent += 1
                    yield b" " * 65_536

            response = client.post("/events", token, content=endless(), headers={"content-type": BATCH})
            assert response.status_code == 413
            assert sent < 64
            assert ledger.log.max_position() == 0
    finally:
        ledger.close()


def test_malformed_batches(stores: tuple[Ledger, Ledger, Client], keys: Keys) -> None:
    _, http_ledger, client = stores
    token = keys.token("IMG")
    for body, words in (
        (b'{"specversion":"1.0"}', "JSON array"),
        (b"[{]", "not a JSON array"),
        (b"", "not a JSON array"),
        (b"\xff\xfe", "not a JSON array"),
        (b"[" * 100_000, "not a JSON array"),
    ):
        response = client.post("/events", token, content=body, headers={"content-type": BATCH})
        assert response.status_code == 400, (body[:20], response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert words in response.json()["detail"]
    assert client.post("/events", token, **batch([])).json() == []
    assert len(stored(http_ledger)) == 0
